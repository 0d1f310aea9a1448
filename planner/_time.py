"""The installation's clock: what day it is for planning and reviewing.

Planning and reviewing ask "what day is it here": the local date in ``settings.TIMEZONE`` (the
server may run in UTC). ``WAS_TODAY`` shifts that day for a demonstration or a training evening
replaying a past season (and for tests, so none depends on the calendar). It never moves a
stored timestamp or a retention cut-off: those follow the real clock.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import settings


def now() -> datetime:
    """The local time now, on the day ``WAS_TODAY`` names when it is set."""
    moment = datetime.now(ZoneInfo(settings.TIMEZONE))
    frozen = settings.frozen_today()
    if frozen is None:
        return moment
    return moment.replace(year=frozen.year, month=frozen.month, day=frozen.day)


def today() -> date:
    """The local date today (``now().date()``)."""
    return now().date()
