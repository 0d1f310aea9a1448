"""Registered-crime counts (``outcomes``): one import at a time with its batch record, and the
counts read back in the one shape files give them too (``outcome_frame``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd
from sqlalchemy import bindparam, insert, select, text, update

from .._time import now_utc_naive
from .schema import import_batches, outcomes_table, wards_table
from .store import CHUNK, ImportCounts, Store, add_rejected_rows, chunks

_OUTCOMES_LOCK = 0x57A5_0012
"""PostgreSQL advisory lock held by an outcomes import: two imports of overlapping counts run one
after another, so the second sees the first's rows and updates rather than collides."""

OUTCOME_COLUMNS = ("area", "ward", "period_start", "period", "category", "count", "source")
"""Columns of a table of registered-crime counts, read from a file or from the store."""


def outcome_frame(columns: Mapping[str, Iterable]) -> pd.DataFrame:
    """Registered-crime counts in their one shape, whether read from a file or from the store:
    ``OUTCOME_COLUMNS``, ``ward`` a name or None, ``period_start`` a ``datetime.date``, ``count`` int64."""
    frame = pd.DataFrame({name: pd.Series(list(columns[name]), dtype=object) for name in OUTCOME_COLUMNS})
    frame["ward"] = frame["ward"].where(frame["ward"].notna(), None)
    for name in ("area", "period", "category", "source"):
        frame[name] = frame[name].astype(str)
    frame["count"] = frame["count"].astype("int64")
    return frame


def add_outcomes(
    store: Store,
    counts: pd.DataFrame,
    rejects: pd.DataFrame,
    *,
    file_name: str,
    content_hash: str,
    read: int,
    rejects_file: str | None,
) -> ImportCounts:
    """Store one import of registered-crime counts atomically, with its batch record
    (``kind`` 'outcomes') and rejected rows.

    ``counts`` has the ``OUTCOME_COLUMNS``, one row per (area, period_start, period,
    category, source). A new key is inserted; a stored key with another count gets the new count
    (police revise their figures) and counts as updated; an equal count is a duplicate, which
    at most links the stored count to the ward it matches now (wards loaded since).
    """
    t = outcomes_table
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTCOMES_LOCK})
        batch_id = conn.execute(
            insert(import_batches).values(
                imported_at=now_utc_naive(), file_name=file_name, content_hash=content_hash, kind="outcomes",
                read=read, imported=0, updated=0, duplicates=0, rejected=len(rejects),
                rejects_file=rejects_file,
            )
        ).inserted_primary_key[0]
        ward_ids = store.ward_ids(conn)
        stored: dict[tuple, tuple[int, int, int | None]] = {}
        for chunk in chunks(sorted(set(counts["area"])), CHUNK):
            query = select(
                t.c.id, t.c.area, t.c.period_start, t.c.period, t.c.category, t.c.source, t.c["count"],
                t.c.ward_id,
            ).where(t.c.area.in_(chunk))
            for row in conn.execute(query):
                stored[(row[1], row[2], row[3], row[4], row[5])] = (row[0], row[6], row[7])
        fresh, changed, linked = [], [], []
        for record in counts.to_dict("records"):
            ward_id = ward_ids.get(record["ward"]) if isinstance(record["ward"], str) else None
            known = stored.get((record["area"], record["period_start"], record["period"], record["category"],
                                record["source"]))
            if known is None:
                fresh.append({
                    "area": record["area"], "ward_id": ward_id, "period_start": record["period_start"],
                    "period": record["period"], "category": record["category"], "count": int(record["count"]),
                    "source": record["source"], "batch_id": batch_id,
                })
            elif known[1] != record["count"]:
                changed.append({"key_id": known[0], "new_count": int(record["count"]), "new_ward_id": ward_id,
                                "new_source": record["source"], "new_batch_id": batch_id})
            elif ward_id is not None and known[2] != ward_id:
                linked.append({"key_id": known[0], "new_ward_id": ward_id})
        for chunk in chunks(fresh, 10_000):
            conn.execute(insert(t), chunk)
        by_id = t.c.id == bindparam("key_id")
        if changed:
            conn.execute(update(t).where(by_id).values({
                "count": bindparam("new_count"), "ward_id": bindparam("new_ward_id"),
                "source": bindparam("new_source"), "batch_id": bindparam("new_batch_id"),
            }), changed)
        if linked:
            conn.execute(update(t).where(by_id).values(ward_id=bindparam("new_ward_id")), linked)
        add_rejected_rows(conn, rejects, batch_id)
        result = ImportCounts(
            batch_id=batch_id, imported=len(fresh), updated=len(changed),
            duplicates=len(counts) - len(fresh) - len(changed),
        )
        conn.execute(
            update(import_batches).where(import_batches.c.id == batch_id)
            .values(imported=result.imported, updated=result.updated, duplicates=result.duplicates)
        )
    return result


def stored_outcomes(
    store: Store,
    *,
    category: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> pd.DataFrame:
    """Stored registered-crime counts (``OUTCOME_COLUMNS``, ``ward`` the ward's name or None),
    sorted by area, period and category.

    ``since``/``until`` keep periods that start on or after ``since`` and before ``until``.
    """
    t = outcomes_table
    query = select(
        t.c.area, wards_table.c.name, t.c.period_start, t.c.period, t.c.category, t.c["count"], t.c.source
    ).select_from(t.outerjoin(wards_table, t.c.ward_id == wards_table.c.id))
    if category is not None:
        query = query.where(t.c.category == category)
    if since is not None:
        query = query.where(t.c.period_start >= since)
    if until is not None:
        query = query.where(t.c.period_start < until)
    query = query.order_by(t.c.area, t.c.period_start, t.c.period, t.c.category)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    cells = list(zip(*rows, strict=True)) or [()] * len(OUTCOME_COLUMNS)
    return outcome_frame(dict(zip(OUTCOME_COLUMNS, cells, strict=True)))
