"""What retention removes from the signals and the rejected rows, and the scrub that leaves no
removed value in the database files (the policy is ``planner.retention``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import Float, Numeric, cast, delete, func, select, update
from sqlalchemy.engine import Connection

from .._time import now_utc_naive, utc_naive
from .schema import import_batches, incidents_table, rejected_rows, wards_table
from .store import CHUNK, Store, chunks

log = logging.getLogger(__name__)


def anonymise_signals(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Anonymise signals that ended before ``cutoff``, inside the caller's transaction:
    description, reporter and external id removed, the location moved to the ward's
    representative point (2-decimal rounding, ≈ 1 km, outside every ward). Rows anonymised
    before are left alone, so running it twice changes nothing the second time.
    ``first_stored``: when the earliest of the signals anonymised now was stored (naive UTC;
    ``None`` when there were none), since no export before it can hold any of them.
    """
    t, w = incidents_table, wards_table
    cutoff = utc_naive(cutoff)
    old = (t.c.occurred_to < cutoff) & t.c.anonymised_at.is_(None)
    stamp = now_utc_naive()
    rep = {
        column: select(getattr(w.c, f"rep_{column}")).where(w.c.id == t.c.ward_id).scalar_subquery()
        for column in ("lat", "lon")
    }
    coarse = {
        column: cast(func.round(cast(getattr(t.c, column), Numeric(12, 7)), 2), Float) for column in ("lat", "lon")
    }
    cleared = {"description": None, "reporter": None, "external_id": None, "anonymised_at": stamp}
    first_stored = conn.execute(select(func.min(t.c.created_at)).where(old)).scalar()
    in_ward = conn.execute(
        update(t).where(old, t.c.ward_id.is_not(None))
        .values(
            lat=func.coalesce(rep["lat"], coarse["lat"]),
            lon=func.coalesce(rep["lon"], coarse["lon"]),
            **cleared,
        )
    ).rowcount
    outside = conn.execute(update(t).where(old, t.c.ward_id.is_(None)).values(**coarse, **cleared)).rowcount
    before = conn.execute(
        select(func.count()).select_from(t).where(t.c.anonymised_at.is_not(None), t.c.anonymised_at < stamp)
    ).scalar_one()
    return {"anonymised": in_ward + outside, "outside_wards": outside, "already_anonymised": int(before),
            "first_stored": first_stored}


def rejected_records(store: Store) -> pd.DataFrame:
    """Every kept rejected row as stored (``id``, ``batch_id``, ``row_number``, ``row_json``)
    with its batch's ``kind`` and ``imported_at`` (naive UTC)."""
    r, b = rejected_rows, import_batches
    query = select(r.c.id, r.c.batch_id, r.c.row_number, r.c.row_json, b.c.kind, b.c.imported_at).select_from(
        r.join(b, r.c.batch_id == b.c.id)
    ).order_by(r.c.id)
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))


def forget_rejected(conn: Connection, ids: Iterable[int], *, files_gone: Iterable[int] = ()) -> int:
    """Delete the rejected rows ``ids`` and the rejects-file paths of the batches
    ``files_gone`` (their files were deleted), inside the caller's transaction; returns how
    many rows went."""
    deleted = 0
    for chunk in chunks(sorted(int(i) for i in ids), CHUNK):
        deleted += conn.execute(delete(rejected_rows).where(rejected_rows.c.id.in_(chunk))).rowcount
    for chunk in chunks(sorted(int(i) for i in files_gone), CHUNK):
        conn.execute(update(import_batches).where(import_batches.c.id.in_(chunk)).values(rejects_file=None))
    return deleted


def scrub(store: Store) -> None:
    """Leave no removed value in the database files: SQLite keeps deleted and overwritten
    cells in free pages and the write-ahead log until the file is rebuilt (VACUUM) and the
    log emptied. PostgreSQL reuses such space only as it goes (see the README)."""
    if store.engine.dialect.name != "sqlite":
        return
    connection = store.engine.raw_connection()
    try:
        # The pool's connections run in autocommit mode (see store._sqlite_pragmas), as VACUUM needs.
        cursor = connection.cursor()
        cursor.execute("VACUUM")
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cursor.close()
    finally:
        connection.close()
    if busy:
        log.warning("the write-ahead log of %s is in use by another process; it empties at its next checkpoint",
                    store.url)
