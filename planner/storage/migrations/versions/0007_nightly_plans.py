"""Schema version 7: the nightly plans of ``was-planner plan-all`` (issue 17).

- ``patrols.planned_night``: the night (local date) a plan of ``plan-all`` is for, NULL for
  patrols planned or logged otherwise. A unique index on (ward, night) keeps one such plan per
  ward and night, so a re-run replaces it and two workers writing at once cannot both add one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patrols", sa.Column("planned_night", sa.Date))
    op.create_index("ux_patrols_ward_night", "patrols", ["ward_id", "planned_night"], unique=True)
    op.execute(sa.text("UPDATE schema_version SET version = 7"))


def downgrade() -> None:
    op.drop_index("ux_patrols_ward_night", table_name="patrols")
    op.drop_column("patrols", "planned_night")
    op.execute(sa.text("UPDATE schema_version SET version = 6"))
