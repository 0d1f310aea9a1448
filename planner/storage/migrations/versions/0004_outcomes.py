"""Schema version 4: registered crime counts ("outcomes") for the effect review.

- ``outcomes``: one count of police-registered crime per area, period and category, linked to
  the loaded ward it matched (if any) and to the import batch that last wrote it. The key
  (area, period_start, period, category, source) is unique: a re-import updates a revised count
  instead of adding a second one.
- ``import_batches`` gets ``kind`` ('signals' or 'outcomes': both imports keep their batches and
  rejected rows there) and ``updated`` (stored counts an outcomes import replaced).

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_batches", sa.Column("kind", sa.String(20), nullable=False, server_default="signals"))
    op.add_column("import_batches", sa.Column("updated", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("area", sa.String(200), nullable=False),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("wards.id"), index=True),
        sa.Column("period_start", sa.Date, nullable=False, index=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("category", sa.String(200), nullable=False, server_default="total"),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id"), nullable=False),
        sa.UniqueConstraint("area", "period_start", "period", "category", "source", name="uq_outcomes_key"),
        sa.CheckConstraint('"count" >= 0', name="ck_outcomes_count"),
        sa.CheckConstraint("period IN ('day', 'week', 'month', 'year')", name="ck_outcomes_period"),
    )
    op.execute(sa.text("UPDATE schema_version SET version = 4"))


def downgrade() -> None:
    op.drop_table("outcomes")
    op.drop_column("import_batches", "updated")
    op.drop_column("import_batches", "kind")
    op.execute(sa.text("UPDATE schema_version SET version = 3"))
