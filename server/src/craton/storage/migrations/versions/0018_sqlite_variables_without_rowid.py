"""SQLite: ``variables`` becomes a WITHOUT ROWID table, its rows stored in primary-key order.

Every read of variables goes by owner: ``(owner_kind, owner_id)``, the primary key's
prefix. In a rowid table that is a scan of the primary key's index and then one lookup
of the row by rowid for each variable (the value is only in the row): measured on
1.5 million variables, the fleet export's aggregate over 105,000 owners spent about a
third of its SQLite CPU on those lookups. Stored in the primary key's order, an owner's
variables are read in one range scan, and a write changes one b-tree, not two.

PostgreSQL keeps its heap and MariaDB's InnoDB already stores rows in primary-key
order: nothing to do there. SQLite can only change this by rebuilding the table
(Alembic's batch mode: copy, drop, rename, indexes made anew; about half a minute
for 1.5 million variables).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("variables", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
