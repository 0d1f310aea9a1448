"""Schema version 6: a tamper-evident audit log (issue 14).

- ``audit_log.format``: the file format of an export (``csv``, ``geojson``, ``gpkg``), or NULL
  for entries that wrote no file (a view, an account change, a refusal).
- ``audit_log.via``: where the action came from: ``cli (os user NAME)``, ``dashboard`` or
  ``dashboard (oidc)``.
- ``audit_log.prev_hash`` / ``entry_hash``: each entry stores the previous entry's hash and the
  sha256 of its own canonical serialisation (``accounts.audit_entry_hash``); ``was-planner audit
  verify`` walks the chain. Entries written before this version are chained here, in id order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from planner.storage.accounts import AUDIT_GENESIS, audit_entry_hash

    op.add_column("audit_log", sa.Column("format", sa.String(20)))
    op.add_column("audit_log", sa.Column("via", sa.String(120)))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64)))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, at, user_name, role, action, what, n_rows FROM audit_log ORDER BY id"
    )).mappings().all()
    previous = AUDIT_GENESIS
    for row in rows:
        entry = {**row, "at": _naive(row["at"]), "format": None, "via": None, "prev_hash": previous}
        digest = audit_entry_hash(entry)
        bind.execute(sa.text("UPDATE audit_log SET prev_hash = :prev, entry_hash = :hash WHERE id = :id"),
                     {"prev": previous, "hash": digest, "id": row["id"]})
        previous = digest
    op.execute(sa.text("UPDATE schema_version SET version = 6"))


def _naive(value):
    # SQLite hands a text timestamp to a raw SELECT; the chain hashes the datetime the store reads.
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def downgrade() -> None:
    for column in ("entry_hash", "prev_hash", "via", "format"):
        op.drop_column("audit_log", column)
    op.execute(sa.text("UPDATE schema_version SET version = 5"))
