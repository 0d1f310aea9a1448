"""Schema version 1: wards, import batches, incidents, rejected rows, patrols.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.create_table(
        "wards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("code", sa.String(50)),
        sa.Column("geometry_wkt", sa.Text, nullable=False),
        sa.Column("meeting_point_name", sa.String(200)),
        sa.Column("meeting_point_lat", sa.Float),
        sa.Column("meeting_point_lon", sa.Float),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("rejects_file", sa.String(1000)),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("content_key", sa.String(64), nullable=False, unique=True),
        sa.Column("external_id", sa.String(200)),
        sa.Column("occurred_from", sa.DateTime, nullable=False, index=True),
        sa.Column("occurred_to", sa.DateTime, nullable=False),
        sa.Column("category", sa.String(40), nullable=False, index=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("on_patrol", sa.Boolean, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("reporter", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reported_at", sa.DateTime),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("wards.id"), index=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id"), nullable=False, index=True),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("row_json", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("wards.id"), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("planned_start", sa.DateTime),
        sa.Column("planned_end", sa.DateTime),
        sa.Column("actual_start", sa.DateTime),
        sa.Column("actual_end", sa.DateTime),
        sa.Column("team_size", sa.Integer, nullable=False),
        sa.Column("route_geojson", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.execute(sa.text("INSERT INTO schema_version (version) VALUES (1)"))


def downgrade() -> None:
    for table in ("patrols", "rejected_rows", "incidents", "import_batches", "wards", "schema_version"):
        op.drop_table(table)
