"""Schema version 3: the patrol log's walked paths and private member names, and agreements.

- ``patrol_walks``: what a walked patrol actually covered (one row per walked patrol): the
  walked path (WGS84 WKT), its street edges of the ward graph, length, the stops it made, and
  for an imported GPS track how many points it had and how much of it matched the streets.
- ``patrol_members``: names of the people on a patrol, optional and private (never in reports
  or exports).
- ``agreements``: follow-up actions ("afspraken") on a hotspot or a signal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_walks",
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("path_wkt", sa.Text),
        sa.Column("edges_json", sa.Text, nullable=False),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("stops_json", sa.Text, nullable=False),
        sa.Column("track_points", sa.Integer),
        sa.Column("matched_share", sa.Float),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "patrol_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("wards.id"), nullable=False, index=True),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hotspot", sa.String(50)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_patrols_planned_start", "patrols", ["planned_start"])
    op.execute(sa.text("UPDATE schema_version SET version = 3"))


def downgrade() -> None:
    op.drop_index("ix_patrols_planned_start", "patrols")
    op.drop_table("agreements")
    op.drop_table("patrol_members")
    op.drop_table("patrol_walks")
    op.execute(sa.text("UPDATE schema_version SET version = 2"))
