"""Initial schema: projects, users, the inventory tree, labels and variables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 23:07:09.837693
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from craton.storage.types import JSONText, UTCDateTime, name_type, text_type

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", name_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_projects_created_at_id", "projects", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_projects_name"), "projects", ["name"], unique=False)
    op.create_table(
        "variables",
        sa.Column("owner_kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("key", name_type(), nullable=False),
        sa.Column("value", JSONText(), nullable=True),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("owner_kind", "owner_id", "key", name=op.f("pk_variables")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_variables_key_owner_kind", "variables", ["key", "owner_kind"], unique=False)
    op.create_index(op.f("ix_variables_project_id"), "variables", ["project_id"], unique=False)
    op.create_table(
        "clouds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("note", text_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_clouds_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clouds")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_clouds_project_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_clouds_created_at_id", "clouds", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_clouds_project_id"), "clouds", ["project_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("username", name_type(), nullable=False),
        sa.Column("api_key_hash", sa.String(length=128), nullable=False),
        sa.Column("is_root", sa.Boolean(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_users_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("project_id", "username", name=op.f("uq_users_project_id_username")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_users_created_at_id", "users", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_users_project_id"), "users", ["project_id"], unique=False)
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("cloud_id", sa.Integer(), nullable=False),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("note", text_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["clouds.id"], name=op.f("fk_regions_cloud_id_clouds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_regions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("cloud_id", "name", name=op.f("uq_regions_cloud_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_regions_cloud_id"), "regions", ["cloud_id"], unique=False)
    op.create_index("ix_regions_created_at_id", "regions", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_regions_project_id"), "regions", ["project_id"], unique=False)
    op.create_table(
        "cells",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("cloud_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("note", text_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["cloud_id"], ["clouds.id"], name=op.f("fk_cells_cloud_id_clouds"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_cells_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_cells_region_id_regions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cells")),
        sa.UniqueConstraint("region_id", "name", name=op.f("uq_cells_region_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_cells_cloud_id"), "cells", ["cloud_id"], unique=False)
    op.create_index("ix_cells_created_at_id", "cells", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_cells_project_id"), "cells", ["project_id"], unique=False)
    op.create_index(op.f("ix_cells_region_id"), "cells", ["region_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("cloud_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("device_type", name_type(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", text_type(), nullable=True),
        sa.Column("model_name", name_type(), nullable=True),
        sa.Column("os_version", name_type(), nullable=True),
        sa.Column("vlans", text_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["cell_id"], ["cells.id"], name=op.f("fk_devices_cell_id_cells"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["clouds.id"], name=op.f("fk_devices_cloud_id_clouds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["devices.id"], name=op.f("fk_devices_parent_id_devices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_devices_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_devices_region_id_regions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("region_id", "name", name=op.f("uq_devices_region_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_devices_cell_id"), "devices", ["cell_id"], unique=False)
    op.create_index(op.f("ix_devices_cloud_id"), "devices", ["cloud_id"], unique=False)
    op.create_index("ix_devices_kind_created_at_id", "devices", ["kind", "created_at", "id"], unique=False)
    op.create_index(op.f("ix_devices_parent_id"), "devices", ["parent_id"], unique=False)
    op.create_index(op.f("ix_devices_project_id"), "devices", ["project_id"], unique=False)
    op.create_index("ix_devices_project_id_created_at_id", "devices", ["project_id", "created_at", "id"], unique=False)
    op.create_index(op.f("ix_devices_region_id"), "devices", ["region_id"], unique=False)
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("cloud_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("cidr", name_type(), nullable=True),
        sa.Column("gateway", name_type(), nullable=True),
        sa.Column("netmask", name_type(), nullable=True),
        sa.Column("ip_block_type", name_type(), nullable=True),
        sa.Column("nss", name_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["cell_id"], ["cells.id"], name=op.f("fk_networks_cell_id_cells"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["clouds.id"], name=op.f("fk_networks_cloud_id_clouds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_networks_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_networks_region_id_regions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        sa.UniqueConstraint("project_id", "region_id", "name", name=op.f("uq_networks_project_id_region_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_networks_cell_id"), "networks", ["cell_id"], unique=False)
    op.create_index(op.f("ix_networks_cloud_id"), "networks", ["cloud_id"], unique=False)
    op.create_index("ix_networks_created_at_id", "networks", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_networks_project_id"), "networks", ["project_id"], unique=False)
    op.create_index(op.f("ix_networks_region_id"), "networks", ["region_id"], unique=False)
    op.create_table(
        "labels",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("label", name_type(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_labels_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", "label", name=op.f("pk_labels")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_labels_label_device_id", "labels", ["label", "device_id"], unique=False)
    op.create_table(
        "network_interfaces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("name", name_type(), nullable=False),
        sa.Column("interface_type", name_type(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("vlan_id", sa.Integer(), nullable=True),
        sa.Column("vlan", name_type(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("duplex", name_type(), nullable=True),
        sa.Column("speed", sa.BigInteger(), nullable=True),
        sa.Column("link", name_type(), nullable=True),
        sa.Column("cdp", name_type(), nullable=True),
        sa.Column("security", name_type(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_network_interfaces_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_network_interfaces_network_id_networks"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_network_interfaces_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_interfaces")),
        sa.UniqueConstraint("device_id", "name", name=op.f("uq_network_interfaces_device_id_name")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mysql_engine="InnoDB",
    )
    op.create_index("ix_network_interfaces_created_at_id", "network_interfaces", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_network_interfaces_device_id"), "network_interfaces", ["device_id"], unique=False)
    op.create_index(op.f("ix_network_interfaces_network_id"), "network_interfaces", ["network_id"], unique=False)
    op.create_index(op.f("ix_network_interfaces_project_id"), "network_interfaces", ["project_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before their parents.
    for table in (
        "network_interfaces",
        "networks",
        "labels",
        "devices",
        "cells",
        "regions",
        "clouds",
        "users",
        "variables",
        "projects",
    ):
        op.drop_table(table)
