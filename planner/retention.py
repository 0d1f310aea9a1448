"""Retention: after a configurable period (``settings.retention_period()``, default 2 years)
signals lose what could identify anyone — description, reporter, external id — and their
location is coarsened to ward level (the ward's representative point), keeping the ward, time,
category and source for the statistics. Old rejected rows (the raw cells) are deleted.
Idempotent: a second run finds nothing left to do.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from . import settings
from ._errors import InputError
from .store import Store

log = logging.getLogger(__name__)

_UNITS = {
    "y": "years", "yr": "years", "year": "years", "years": "years", "j": "years", "jaar": "years",
    "m": "months", "mo": "months", "month": "months", "months": "months", "mnd": "months",
    "maand": "months", "maanden": "months",
    "w": "weeks", "week": "weeks", "weeks": "weeks", "weken": "weeks",
    "d": "days", "day": "days", "days": "days", "dag": "days", "dagen": "days",
}
_AGE = re.compile(r"^\s*(\d+)\s*([a-z]+)\s*$")


def parse_age(text: str) -> pd.DateOffset:
    """``2y``, ``18m``, ``6w``, ``90d`` (also ``2 jaar``, ``18 maanden``) as a calendar offset.

    Raises
    ------
    InputError
        Not a number and a unit, shorter than one day or longer than 100 years.
    """
    match = _AGE.match(str(text).lower())
    unit = _UNITS.get(match.group(2)) if match else None
    if unit is None:
        msg = f"--older-than {text!r}: give a number and a unit, e.g. 2y, 18m, 6w or 90d"
        raise InputError(msg)
    amount = int(match.group(1))
    if amount < 1:
        msg = f"--older-than {text!r}: must be at least 1 day, or every signal would be anonymised"
        raise InputError(msg)
    # Longer ages reach back past the first year of the calendar (3000y crashed the cutoff).
    if amount * {"years": 366, "months": 31, "weeks": 7, "days": 1}[unit] > 100 * 366:
        msg = f"--older-than {text!r}: must be at most 100 years"
        raise InputError(msg)
    return pd.DateOffset(**{unit: amount})


@dataclass(frozen=True)
class RetentionReport:
    """What ``apply_retention`` did; ``to_json()`` is the contract of ``retention apply --json``."""

    older_than: str
    cutoff: datetime
    anonymised: int
    outside_wards: int
    already_anonymised: int
    rejected_rows_deleted: int

    def to_json(self) -> dict:
        return {
            "older_than": self.older_than,
            "cutoff": self.cutoff.isoformat(),
            "anonymised": self.anonymised,
            "outside_wards": self.outside_wards,
            "already_anonymised": self.already_anonymised,
            "rejected_rows_deleted": self.rejected_rows_deleted,
        }

    def summary(self) -> str:
        return (
            f"signals that ended before {self.cutoff:%Y-%m-%d} (older than {self.older_than}): "
            f"{self.anonymised} anonymised now ({self.outside_wards} outside every ward, location "
            f"rounded to ≈ 1 km), {self.already_anonymised} were anonymised before; "
            f"{self.rejected_rows_deleted} old rejected rows deleted"
        )


def retention_cutoff(older_than: str, *, now: datetime | None = None) -> datetime:
    """The moment before which signals are anonymised (timezone-aware UTC)."""
    offset = parse_age(older_than)
    moment = pd.Timestamp(now if now is not None else datetime.now(UTC))
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return (moment.tz_convert("UTC") - offset).to_pydatetime()


def apply_retention(store: Store, *, older_than: str | None = None, now: datetime | None = None) -> RetentionReport:
    """Anonymise signals that ended more than ``older_than`` ago (default: the configured
    ``settings.retention_period()``), in one transaction."""
    older_than = older_than or settings.retention_period()
    cutoff = retention_cutoff(older_than, now=now)
    counts = store.anonymise_before(cutoff)
    report = RetentionReport(older_than=older_than, cutoff=cutoff, **counts)
    log.info("retention: %s", report.to_json())
    return report
