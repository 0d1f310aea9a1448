"""Schema version 2: accounts, audit log, retention, and PostGIS geometry columns.

On PostgreSQL the PostGIS extension is enabled and ``wards.geom`` / ``incidents.geom`` are
generated from the portable WKT and lat/lon columns (so every writer stays portable), each with
a GiST index; incidents also get a geography index for metre-based distance queries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02
"""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("wards", sa.Column("rep_lat", sa.Float))
    op.add_column("wards", sa.Column("rep_lon", sa.Float))
    wards = bind.execute(sa.text("SELECT id, geometry_wkt FROM wards")).all()
    for ward_id, wkt in wards:
        point = shapely.from_wkt(wkt).representative_point()
        bind.execute(
            sa.text("UPDATE wards SET rep_lat = :lat, rep_lon = :lon WHERE id = :id"),
            {"lat": round(point.y, 7), "lon": round(point.x, 7), "id": ward_id},
        )
    op.add_column("incidents", sa.Column("anonymised_at", sa.DateTime))
    op.create_index("ix_incidents_lat_lon", "incidents", ["lat", "lon"])
    op.create_index("ix_incidents_occurred_to", "incidents", ["occurred_to"])
    op.create_index("ix_import_batches_imported_at", "import_batches", ["imported_at"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("user_name", sa.String(100), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
    )
    if bind.dialect.name == "postgresql":
        _postgis()
    op.execute(sa.text("UPDATE schema_version SET version = 2"))


def _postgis() -> None:
    op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    op.execute(sa.text(
        "ALTER TABLE wards ADD COLUMN geom geometry(Geometry, 4326) "
        "GENERATED ALWAYS AS (ST_GeomFromText(geometry_wkt, 4326)) STORED"
    ))
    op.execute(sa.text("CREATE INDEX ix_wards_geom ON wards USING gist (geom)"))
    op.execute(sa.text(
        "ALTER TABLE incidents ADD COLUMN geom geometry(Point, 4326) "
        "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
    ))
    op.execute(sa.text("CREATE INDEX ix_incidents_geom ON incidents USING gist (geom)"))
    op.execute(sa.text("CREATE INDEX ix_incidents_geog ON incidents USING gist ((geom::geography))"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE incidents DROP COLUMN geom"))
        op.execute(sa.text("ALTER TABLE wards DROP COLUMN geom"))
    op.drop_table("audit_log")
    op.drop_table("users")
    op.drop_index("ix_import_batches_imported_at", "import_batches")
    op.drop_index("ix_incidents_occurred_to", "incidents")
    op.drop_index("ix_incidents_lat_lon", "incidents")
    op.drop_column("incidents", "anonymised_at")
    op.drop_column("wards", "rep_lon")
    op.drop_column("wards", "rep_lat")
    op.execute(sa.text("UPDATE schema_version SET version = 1"))
