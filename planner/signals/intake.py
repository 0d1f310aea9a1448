"""Importing signals: file → validated rows → ward assignment → one store transaction.

The CLI's ``import``, the dashboard's upload and its "report a signal" form all end here, so a
row is judged the same way whichever door it came through.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .._errors import Notice
from ..output import write_csv
from ..storage.store import Store
from .incidents import ParseOptions, RawTable, parse_incidents, read_table
from .wards import assign_wards

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    """What an import did; ``to_json()`` is the contract of ``was-planner import --json``."""

    read: int
    imported: int
    duplicates: int
    rejected: int
    rejects_file: str | None
    batch_id: int
    reasons: tuple[tuple[int, str], ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
        }

    def summary(self, say: Callable[[str], str] = str) -> str:
        """A few lines for people: the counts, then the first rejected rows with their reasons;
        ``say`` words the warnings (each a ``Notice`` or text) for the front-end."""
        head = (f"read {self.read} rows: {self.imported} imported, {self.duplicates} already known, "
                f"{self.rejected} rejected")
        return "\n".join([head, *rejected_lines(self.reasons, self.rejected, self.rejects_file, self.warnings, say)])


def rejected_lines(reasons: tuple[tuple[int, str], ...], rejected: int, rejects_file: str | None,
                   warnings: tuple[str, ...], say: Callable[[str], str] = str) -> list[str]:
    """The lines an import summary ends with: the first rejected rows with their reasons, where
    the rest are, and the warnings."""
    lines = [f"  row {row}: {reason}" for row, reason in reasons[:10]]
    if rejected > 10:
        lines.append(f"  … and {rejected - 10} more")
    if rejects_file:
        lines.append(f"rejected rows with their reasons: {rejects_file}")
    return lines + [f"warning: {say(w)}" for w in warnings]


def import_file(
    store: Store,
    path: str | Path,
    *,
    options: ParseOptions = ParseOptions(),
    rejects_dir: Path | None = None,
    now: datetime | None = None,
    file_name: str | None = None,
) -> ImportReport:
    """Import a CSV/GeoJSON/GeoPackage of signals into ``store``.

    Rejected rows are written, with a ``reason`` column, to a CSV in ``rejects_dir`` (default:
    next to the input) that uses the input's delimiter, and kept in the store. The batch is
    recorded under ``file_name`` (default: the file's name).
    """
    path = Path(path)
    table = read_table(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return import_table(
        store, table, file_name=file_name or path.name, content_hash=digest, options=options,
        rejects_dir=rejects_dir if rejects_dir is not None else path.parent, now=now,
    )


def import_table(
    store: Store,
    table: RawTable,
    *,
    file_name: str,
    content_hash: str,
    options: ParseOptions = ParseOptions(),
    rejects_dir: Path | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Validate ``table`` and store it as one batch (see ``import_file``)."""
    parsed = parse_incidents(table, options=options, now=now)
    valid, rejects = parsed.valid, parsed.rejects
    wards = store.wards()
    warnings = list(parsed.warnings)
    if wards.empty:
        valid = valid.assign(ward=None)
        if len(valid):
            warnings.append(Notice("no wards loaded: signals are stored without a ward", commands=("wards load FILE",)))
    else:
        valid = valid.assign(ward=assign_wards(valid["lon"], valid["lat"], wards))
        outside = valid["ward"].isna()
        if outside.any():
            moved = table.rows.loc[valid.loc[outside, "row_number"] - 1].copy()
            moved["row_number"] = valid.loc[outside, "row_number"].to_numpy()
            moved["reason"] = _outside_reasons(valid[outside], wards)
            rejects = pd.concat([rejects, moved], ignore_index=True).sort_values("row_number")
            valid = valid[~outside]
    rejects_file = None
    if len(rejects) and rejects_dir is not None:
        rejects_file = str(write_rejects(rejects, Path(rejects_dir), file_name, table.delimiter))
    counts = store.add_batch(
        valid, rejects, file_name=file_name, content_hash=content_hash, rejects_file=rejects_file
    )
    report = ImportReport(
        read=len(table.rows),
        imported=counts.imported,
        duplicates=counts.duplicates,
        rejected=len(rejects),
        rejects_file=rejects_file,
        batch_id=counts.batch_id,
        reasons=tuple(zip(rejects["row_number"].astype(int), rejects["reason"], strict=False)),
        warnings=tuple(warnings),
    )
    log.info("import %s: %s", file_name, report.to_json())
    return report


def _outside_reasons(rows: pd.DataFrame, wards) -> list[str]:
    """Say which ward is nearest, and whether swapping lat and lon would have fit one."""
    swapped = assign_wards(rows["lat"], rows["lon"], wards)
    reasons = []
    for (_, row), swap in zip(rows.iterrows(), swapped, strict=False):
        if isinstance(swap, str):
            reasons.append(f"location: outside every ward; lat and lon look swapped (swapped it falls in {swap})")
        else:
            reasons.append(
                f"location: {row['lat']:.5f}, {row['lon']:.5f} lies outside every loaded ward; "
                "check the coordinates or load the ward first"
            )
    return reasons


def write_rejects(rejects: pd.DataFrame, directory: Path, file_name: str, delimiter: str) -> Path:
    """Write the rejects CSV (atomically, spreadsheet-safe) in the input's delimiter."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return write_csv(rejects, directory / f"{Path(file_name).stem}.rejects-{stamp}.csv", sep=delimiter)
