"""Retention: after a configurable period (``settings.retention_period()``, default 2 years)
personal data goes, in the store and on disk. Signals lose what could identify anyone —
description, reporter, external id — and their location is coarsened to ward level (the ward's
representative point), keeping the ward, time, category and source for the statistics.
Rejected rows (the raw cells, names included) go by their event's date where it can be read,
and the rejects CSV files the imports wrote lose them too; patrols lose their member names and
notes; agreements on anonymised signals lose their text and place. The SQLite file is then
rebuilt so no removed value stays in its free pages. Idempotent: a second run finds nothing
left to do. Copies exported from WAS Planner are not ours to delete, but the audit log says
which exports may hold the signals anonymised, so the report lists them for their owners.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from . import settings
from ._time import parse_age
from .signals.incidents import event_ends, read_table
from .signals.intake import write_rejects
from .storage import retention as retention_store
from .storage.accounts import audit_entries
from .storage.agreements import forget_signal_agreements
from .storage.patrols import forget_patrol_people
from .storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    """What ``apply_retention`` did; ``to_json()`` is the contract of ``retention apply --json``."""

    older_than: str
    cutoff: datetime
    anonymised: int
    outside_wards: int
    already_anonymised: int
    rejected_rows_deleted: int
    rejects_files_deleted: int = 0
    rejects_files_rewritten: int = 0
    rejects_files_missing: int = 0
    """Rejects files the store lists that were not found (moved, or written relative to another folder)."""
    patrol_members_deleted: int = 0
    patrol_notes_cleared: int = 0
    agreements_cleared: int = 0
    exports_to_delete: tuple[dict, ...] = ()
    """The audited exports (``at``, ``user``, ``what``: the table and file) made after the first
    signal anonymised now was stored: copies outside WAS Planner that may still hold it."""

    def to_json(self) -> dict:
        return {
            "older_than": self.older_than,
            "cutoff": self.cutoff.isoformat(),
            "anonymised": self.anonymised,
            "outside_wards": self.outside_wards,
            "already_anonymised": self.already_anonymised,
            "rejected_rows_deleted": self.rejected_rows_deleted,
            "rejects_files_deleted": self.rejects_files_deleted,
            "rejects_files_rewritten": self.rejects_files_rewritten,
            "rejects_files_missing": self.rejects_files_missing,
            "patrol_members_deleted": self.patrol_members_deleted,
            "patrol_notes_cleared": self.patrol_notes_cleared,
            "agreements_cleared": self.agreements_cleared,
            "exports_to_delete": list(self.exports_to_delete),
        }

    def summary(self) -> str:
        missing = (f" ({self.rejects_files_missing} listed rejects files not found: see the log)"
                   if self.rejects_files_missing else "")
        return (
            f"signals that ended before {self.cutoff:%Y-%m-%d} (older than {self.older_than}): "
            f"{self.anonymised} anonymised now ({self.outside_wards} outside every ward, location "
            f"rounded to ≈ 1 km), {self.already_anonymised} were anonymised before; "
            f"{self.rejected_rows_deleted} old rejected rows deleted; rejects files: "
            f"{self.rejects_files_deleted} deleted, {self.rejects_files_rewritten} rewritten without them{missing}; "
            f"{self.patrol_members_deleted} patrol member names and {self.patrol_notes_cleared} patrol notes removed; "
            f"{self.agreements_cleared} agreements on anonymised signals cleared"
            + self._exports_line()
        )

    def _exports_line(self, shown: int = 5) -> str:
        if not self.exports_to_delete:
            return ""
        listed = "; ".join(f"{e['what']} by {e['user']} on {e['at'][:10]}" for e in self.exports_to_delete[:shown])
        more = f"; and {len(self.exports_to_delete) - shown} more (see `audit show`)" \
            if len(self.exports_to_delete) > shown else ""
        return (f"\n{len(self.exports_to_delete)} export(s) made since then may still hold these signals: ask their "
                f"owners to delete those copies: {listed}{more}")


def retention_cutoff(older_than: str, *, now: datetime | None = None) -> datetime:
    """The moment before which signals are anonymised (timezone-aware UTC)."""
    offset = parse_age(older_than)
    moment = pd.Timestamp(now if now is not None else datetime.now(UTC))
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return (moment.tz_convert("UTC") - offset).to_pydatetime()


def apply_retention(
    store: Store,
    *,
    older_than: str | None = None,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> RetentionReport:
    """Remove the personal data older than ``older_than`` (default: the configured
    ``settings.retention_period()``) from the store, in one transaction, and from the rejects
    files the imports wrote (found where the store says, else in ``data_dir``/rejects; default
    ``settings.data_dir()``).

    The files are rewritten first: should the transaction fail, the next run does both again.
    """
    older_than = older_than or settings.retention_period()
    cutoff = retention_cutoff(older_than, now=now)
    rejected = retention_store.rejected_records(store)
    old = rejected.loc[_old_rejected(rejected, cutoff), ["id", "batch_id", "row_number"]]
    files = _forget_in_rejects_files(store, rejected, old, data_dir=data_dir or settings.data_dir())
    with store.transaction() as conn:
        counts = retention_store.anonymise_signals(conn, cutoff)
        deleted = retention_store.forget_rejected(conn, old["id"], files_gone=files.pop("gone"))
        members, notes = forget_patrol_people(conn, cutoff)
        agreements = forget_signal_agreements(conn)
    retention_store.scrub(store)
    first_stored = counts.pop("first_stored")
    report = RetentionReport(
        older_than=older_than, cutoff=cutoff, **counts, rejected_rows_deleted=deleted, **files,
        patrol_members_deleted=members, patrol_notes_cleared=notes, agreements_cleared=agreements,
        exports_to_delete=_exports_since(store, first_stored),
    )
    log.info("retention: %s", report.to_json())
    return report


def _exports_since(store: Store, stored: datetime | None) -> tuple[dict, ...]:
    """The audited exports of rows (oldest first) made at or after ``stored`` (naive UTC)."""
    if stored is None:
        return ()
    entries = audit_entries(store)
    since = pd.Timestamp(stored).tz_localize("UTC")
    made = entries[(entries["action"] == "export") & (entries["n_rows"] > 0) & (entries["at"] >= since)].iloc[::-1]
    return tuple({"at": at.isoformat(), "user": user, "what": _export_label(what)}
                 for at, user, what in zip(made["at"], made["user_name"], made["what"], strict=True))


def _export_label(what: str) -> str:
    """``hotspot points (officer.geojson)`` of an audit entry's JSON, or the entry as it is."""
    try:
        detail = json.loads(what)
    except ValueError:
        return what
    if not isinstance(detail, dict):
        return what
    table, file = detail.get("table"), detail.get("file")
    return f"{table} ({file})" if table and file else str(table or what)


def _old_rejected(rejected: pd.DataFrame, cutoff: datetime) -> pd.Series:
    """Which rejected rows are past retention: by their event's end where a date can be read from
    the cells (signal imports), and never kept longer than their import's date allows."""
    moment = pd.Timestamp(cutoff)
    old = pd.to_datetime(rejected["imported_at"]).dt.tz_localize("UTC") < moment
    for _, group in rejected[rejected["kind"] == "signals"].groupby("batch_id"):
        cells = pd.DataFrame([json.loads(raw) for raw in group["row_json"]]).fillna("").astype(str)
        old.loc[group.index] = old.loc[group.index].to_numpy() | (event_ends(cells) < moment).to_numpy()
    return old


def _forget_in_rejects_files(store: Store, rejected: pd.DataFrame, old: pd.DataFrame, *, data_dir: Path) -> dict:
    """Delete the rejects file of each batch that keeps no rejected row, and rewrite (in place,
    atomically) the file of each batch losing some. Returns the counts and, as ``gone``, the
    batches whose file is gone."""
    counts = {"rejects_files_deleted": 0, "rejects_files_rewritten": 0, "rejects_files_missing": 0}
    gone = []
    rows = rejected.groupby("batch_id").size()
    leaving = old.groupby("batch_id")["row_number"].agg(set)
    batches = store.batches()
    for batch in batches[batches["rejects_file"].notna()].itertuples():
        dropped = leaving.get(batch.id, set())
        kept = int(rows.get(batch.id, 0)) - len(dropped)
        if kept and not dropped:
            continue
        path = _rejects_path(batch.rejects_file, data_dir)
        if path is None:
            log.warning("retention: rejects file %s of import %d not found; delete it by hand if it exists",
                        batch.rejects_file, batch.id)
            counts["rejects_files_missing"] += 1
            if not kept:
                gone.append(int(batch.id))
        elif not kept:
            path.unlink()
            counts["rejects_files_deleted"] += 1
            gone.append(int(batch.id))
        else:
            remaining = store.rejected(int(batch.id))
            remaining = remaining[~remaining["row_number"].isin(dropped)]
            fresh = write_rejects(remaining, path.parent, batch.file_name, read_table(path).delimiter)
            os.replace(fresh, path)
            counts["rejects_files_rewritten"] += 1
    return {**counts, "gone": gone}


def _rejects_path(stored: str, data_dir: Path) -> Path | None:
    """A rejects file where the store says, else in the data directory (a path stored relative
    to the folder the import ran in)."""
    for path in (Path(stored), Path(data_dir) / "rejects" / Path(stored).name):
        if path.is_file():
            return path
    return None
