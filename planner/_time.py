"""Time rules, in one place.

- The store holds naive UTC. ``utc_naive`` turns a moment into that form: an aware moment is
  converted, a naive one is taken to be in that form already (it came from the store or from a
  column the store wrote). ``from_utc_naive`` reads a stored value back as aware UTC.
- A moment handed to the patrol log or the review (a patrol's times, a report's period) must say
  its zone: ``aware`` refuses a naive one rather than guess whose evening it was. A date stands
  for its local midnight.
- A stamp read from data or typed as a reference time (a signal's date, the ``now`` a hotspot map
  is scored at, a backtest split) is local wall-clock time when it is naive: ``utc_timestamp``.
- A GPX time without a zone is UTC, as the format says: ``from_utc_naive``.
- Local means ``settings.timezone()``: ``local_zone``, ``local_day``.
- What day it is for planning and reviewing: ``now``/``today``, local, on the day ``WAS_TODAY``
  names when it is set (a demonstration, a training evening replaying a past season, the tests).
  It never moves a stored timestamp or a retention cut-off: those follow the real clock
  (``now_utc_naive``).
- A retention age (``2y``, ``18m``, ``6w``, ``90d``) is a calendar offset: ``parse_age``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from . import settings
from ._errors import InputError


def local_zone() -> ZoneInfo:
    """The installation's timezone (``settings.timezone()``)."""
    return ZoneInfo(settings.timezone())


def now() -> datetime:
    """The local time now, on the day ``WAS_TODAY`` names when it is set."""
    moment = datetime.now(local_zone())
    frozen = settings.frozen_today()
    if frozen is None:
        return moment
    return moment.replace(year=frozen.year, month=frozen.month, day=frozen.day)


def today() -> date:
    """The local date today (``now().date()``)."""
    return now().date()


def utc_naive(moment: datetime | pd.Timestamp | None) -> datetime | None:
    """``moment`` as the store holds it: naive UTC (None and NaT stay None)."""
    if moment is None or pd.isna(moment):
        return None
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def from_utc_naive(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) moment as timezone-aware UTC."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def now_utc_naive() -> datetime:
    """Now, as the store holds it."""
    return datetime.now(UTC).replace(tzinfo=None)


def aware(moment: datetime | date, *, what: str = "times") -> datetime:
    """``moment`` as timezone-aware UTC; a date is its local midnight.

    Raises
    ------
    InputError
        ``moment`` is a naive datetime (its zone would be a guess).
    """
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=local_zone())
    if moment.tzinfo is None:
        msg = f"{what} must carry a timezone, got {moment.isoformat()}"
        raise InputError(msg)
    return moment.astimezone(UTC)


def utc_timestamp(moment: datetime | pd.Timestamp) -> pd.Timestamp:
    """``moment`` as a UTC timestamp; a naive one is read as local time (``local_to_utc``)."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        return local_to_utc(pd.Series([stamp])).iloc[0]
    return stamp.tz_convert("UTC")


def local_to_utc(naive: pd.Series) -> pd.Series:
    """Naive local wall-clock times → UTC. The hour the clocks go back happens twice: it is read
    as summer time (the first); a time in the hour the clocks skip moves forward to its end."""
    ambiguous = np.ones(len(naive), dtype=bool)
    local = naive.dt.tz_localize(settings.timezone(), ambiguous=ambiguous, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def after_local_days(moment: pd.Timestamp, days: float) -> pd.Timestamp:
    """The UTC moment ``days`` later (earlier when negative) on the local wall clock: a week from
    Saturday 20:00 ends on Saturday 20:00 even when the clocks change in between (167 or 169 h).

    A wall time in the hour the clocks go back is its second pass, so that a period ending then
    holds all of that hour (the first pass would end it an hour before a signal in the second);
    one in the hour the clocks skip moves forward to its end.
    """
    wall = pd.Timestamp(moment).tz_convert(local_zone()).tz_localize(None) + pd.Timedelta(days=days)
    local = pd.Series([wall]).dt.tz_localize(settings.timezone(), ambiguous=np.zeros(1, dtype=bool),
                                               nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").iloc[0]


def local_day(moment: datetime) -> date:
    """The local calendar day of an aware ``moment``."""
    return moment.astimezone(local_zone()).date()


def local_minute(moment: datetime | pd.Timestamp) -> str:
    """An aware ``moment`` as people read it: ``2024-05-15 00:00``, local time."""
    return pd.Timestamp(moment).tz_convert(local_zone()).strftime("%Y-%m-%d %H:%M")


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
        msg = f"{{older_than}} {text!r}: give a number and a unit, e.g. 2y, 18m, 6w or 90d"
        raise InputError(msg, options=("older_than",))
    amount = int(match.group(1))
    if amount < 1:
        msg = f"{{older_than}} {text!r}: must be at least 1 day, or every signal would be anonymised"
        raise InputError(msg, options=("older_than",))
    # Longer ages reach back past the first year of the calendar (3000y crashed the cutoff).
    if amount * {"years": 366, "months": 31, "weeks": 7, "days": 1}[unit] > 100 * 366:
        msg = f"{{older_than}} {text!r}: must be at most 100 years"
        raise InputError(msg, options=("older_than",))
    return pd.DateOffset(**{unit: amount})
