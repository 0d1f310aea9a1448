"""Schema version 5: the calibrated risk surface of the installation (issue 13).

- ``calibrations``: one row per fit of ``tuning.installation_calibration``: when, the
  fingerprint of the signals it was fitted on (a fit is reused while the signals are unchanged
  and re-fitted when they change) and the choice as JSON (``Calibration.to_json``). Parameters
  only, no personal data.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fitted_at", sa.DateTime, nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False, index=True),
        sa.Column("choice_json", sa.Text, nullable=False),
    )
    op.execute(sa.text("UPDATE schema_version SET version = 5"))


def downgrade() -> None:
    op.drop_table("calibrations")
    op.execute(sa.text("UPDATE schema_version SET version = 4"))
