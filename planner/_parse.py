"""What people type for days, months and places, read by one rule for every front-end.

Each parser takes ``what``, the name the user knows the value by (the CLI passes its flag, e.g.
``--from``), so its one-line error says which value to fix and how it should look. A day must
also lie in the years the store handles (``check_day``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from . import settings
from ._errors import InputError

_MONTH = re.compile(r"\d{4}-\d{2}")


def check_day(day: date, *, what: str) -> date:
    """``day`` itself if it lies from ``settings.EARLIEST_DAY`` to ``settings.LATEST_DAY``: the
    years signals and periods may have (year 1 or 9999 overflow the store's timestamps).

    Raises
    ------
    InputError
        Naming ``what`` (e.g. ``--from 0001-01-01``) and the range.
    """
    if not settings.EARLIEST_DAY <= day <= settings.LATEST_DAY:
        msg = (f"{what} lies outside the years WAS Planner handles "
               f"({settings.EARLIEST_DAY:%Y} to {settings.LATEST_DAY:%Y}); check the year")
        raise InputError(msg)
    return day


def parse_day(text: str | None, *, what: str) -> date | None:
    """``YYYY-MM-DD`` → that day (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        msg = f"{what} {text!r} is not a date like 2026-11-25"
        raise InputError(msg) from None
    return check_day(day, what=f"{what} {text}")


def parse_month_or_day(text: str | None, *, what: str, month_end: bool = False) -> date | None:
    """``YYYY-MM-DD``, or ``YYYY-MM`` → its first day (its last with ``month_end``: a month that
    closes a period includes the whole month)."""
    if text is None:
        return None
    value = text.strip()
    month = _MONTH.fullmatch(value) is not None
    try:
        day = date.fromisoformat(value + "-01" if month else value)
    except ValueError:
        msg = f"{what} {text!r} is not a month or day like 2026-09 or 2026-09-15"
        raise InputError(msg) from None
    if month and month_end:
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return check_day(day, what=f"{what} {text}")


def parse_lat_lon(text: str | None, *, what: str) -> tuple[float, float] | None:
    """``"52.06,4.49"`` (or ``;`` between them) → ``(lat, lon)`` in degrees (``None`` stays ``None``)."""
    if text is None:
        return None
    try:
        lat, lon = (float(part) for part in text.replace(";", ",").split(","))
    except ValueError:
        msg = f"{what} must be LAT,LON in degrees (e.g. 52.0607,4.4940), got {text!r}"
        raise InputError(msg) from None
    return lat, lon
