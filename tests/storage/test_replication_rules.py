"""What a Galera cluster (docs/deployment.md) needs from the schema and the SQL, checked everywhere.

Galera replicates row changes by primary key: a table without one cannot be applied safely
on the other nodes (the cluster of deploy/galera/cluster.sh refuses to create one, with
``wsrep_mode=REQUIRED_PRIMARY_KEY``), only InnoDB tables are replicated, and table locks,
named locks and temporary tables stay on the node that took them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from craton.storage.engine import create_engine
from tests.conftest import BACKENDS, throwaway_database

SERVER = Path(__file__).resolve().parents[2] / "server" / "src" / "craton"

# SQL that a multi-primary cluster does not replicate or does not coordinate between nodes.
NOT_REPLICATED = re.compile(
    r"\bLOCK\s+TABLES?\b|\bGET_LOCK\s*\(|\bRELEASE_LOCK\s*\(|\bFLUSH\s+TABLES\b|\bTEMPORARY\s+TABLE\b"
    r"|\bXA\s+(START|BEGIN)\b|(?-i:\bENGINE\s*=\s*(?!InnoDB)\w+)|\bmysql_engine\s*=\s*['\"](?!InnoDB)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_table_has_a_primary_key_and_replicates(backend: str, tmp_path: Path) -> None:
    with throwaway_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            inspector = sa.inspect(engine)
            tables = inspector.get_table_names()
            assert "alembic_version" in tables and "changes" in tables
            without = [t for t in tables if not inspector.get_pk_constraint(t)["constrained_columns"]]
            assert without == [], f"tables without a primary key: {without}"
            if backend == "mariadb":
                with engine.connect() as conn:
                    engines = dict(
                        conn.execute(
                            sa.text(
                                "SELECT table_name, engine FROM information_schema.tables "
                                "WHERE table_schema = DATABASE()"
                            )
                        ).all()
                    )
                assert {t: e for t, e in engines.items() if e != "InnoDB"} == {}
        finally:
            engine.dispose()


def test_the_server_uses_no_sql_that_a_cluster_keeps_on_one_node() -> None:
    offenders = []
    for path in sorted(SERVER.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if NOT_REPLICATED.search(line):
                offenders.append(f"{path.relative_to(SERVER)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    "sql",
    ["LOCK TABLES devices WRITE", "SELECT GET_LOCK('x', 1)", "CREATE TEMPORARY TABLE t (id int)", "ENGINE=MyISAM"],
)
def test_the_pattern_catches_what_it_is_for(sql: str) -> None:
    assert NOT_REPLICATED.search(sql)
