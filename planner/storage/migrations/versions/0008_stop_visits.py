"""Schema version 8: stops marked visited on the phone's patrol view (issue 18).

- ``patrol_visits``: one row per stop of a patrol's plan a team marked as visited, with when.
  The key (patrol, team, stop) makes a second tap on the same stop keep the first time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_visits",
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("team", sa.Integer, primary_key=True),
        sa.Column("stop", sa.Integer, primary_key=True),
        sa.Column("visited_at", sa.DateTime, nullable=False),
    )
    op.execute(sa.text("UPDATE schema_version SET version = 8"))


def downgrade() -> None:
    op.drop_table("patrol_visits")
    op.execute(sa.text("UPDATE schema_version SET version = 7"))
