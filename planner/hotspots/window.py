"""The target time window of a patrol and the aoristic share of a signal's span inside it.

A signal is often known only as "between 22:00 and 07:00"; ``aoristic_share`` spreads it over that
span (Ratcliffe's aoristic method) instead of placing it at a midpoint. Times are local wall-clock
minutes since a Monday 00:00 (``local_minutes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import ndimage

from .. import settings
from .._errors import InputError
from .._validation import Constraints, Rule, check_params, integer, real

WEEK_MINUTES = 7 * 24 * 60
_EPOCH = pd.Timestamp("1969-12-29")  # a Monday: local minutes are counted from here
DAY_MINUTES = 24 * 60

_DAY_NAMES = (
    ("mon", "monday", "ma", "maandag"),
    ("tue", "tuesday", "di", "dinsdag"),
    ("wed", "wednesday", "wo", "woensdag"),
    ("thu", "thursday", "do", "donderdag"),
    ("fri", "friday", "vr", "vrijdag"),
    ("sat", "saturday", "za", "zaterdag"),
    ("sun", "sunday", "zo", "zondag"),
)
WEEKDAYS: tuple[str, ...] = tuple(names[0] for names in _DAY_NAMES)
WEEKDAYS_NL: tuple[str, ...] = tuple(names[2] for names in _DAY_NAMES)
_WEEKDAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(_DAY_NAMES):
    for _name in _names:
        _WEEKDAY_NAMES[_name] = _i
_HHMM = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
_WEEKDAY = integer(low=0, high=6)
_WEIGHTING: Constraints = {
    "smoothing_hours": real(low=0),
    **dict.fromkeys(("other_days", "other_hours"), real(low=0, high=1)),
}
"""The rules of a window's time-of-day weighting, in ``TimeWindow`` and ``TimeWeighting`` alike."""



def _minutes(text: str, what: str) -> int:
    match = _HHMM.match(str(text))
    if not match:
        msg = f"{what} must be HH:MM, got {text!r}"
        raise InputError(msg)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        msg = f"{what} must be a time of day 00:00-24:00, got {text!r}"
        raise InputError(msg)
    return hours * 60 + minutes


def parse_weekday(text: str) -> int:
    """Weekday number (0 = Monday) of an English or Dutch day name or abbreviation, or 0-6."""
    key = str(text).strip().lower()
    if key.isdigit() and 0 <= int(key) <= 6:
        return int(key)
    if key not in _WEEKDAY_NAMES:
        msg = f"unknown weekday {text!r}; use mon..sun, ma..zo (maandag..zondag) or 0-6 (0 = Monday)"
        raise InputError(msg)
    return _WEEKDAY_NAMES[key]


@dataclass(frozen=True)
class TimeWindow:
    """The time a patrol is planned for, e.g. Friday 20:00-23:00, in local (Dutch) time.

    Parameters
    ----------
    start, end
        ``HH:MM`` local time; ``end`` at or before ``start`` crosses midnight (``22:00``-``02:00``).
    weekdays
        Days the window *starts* on (0 = Monday); empty means every day.
    smoothing_hours
        Signals just outside the window still count a bit: their relevance falls off as a normal
        curve with this standard deviation (hours) with the distance to the window.
    other_days
        Relevance, 0 … 1, of the window's hours on the other weekdays (when ``weekdays`` names
        days): a Thursday evening says something about the Friday evening too.
    other_hours
        Relevance, 0 … 1, of a signal far from the window's hours: the place still draws
        signals at other times of day. 1 weighs every time alike.

    The last three are the time-of-day weighting an installation's calibration chooses
    (``TimeWeighting``); the defaults count the window's own hours and days only.
    """

    start: str = "00:00"
    end: str = "24:00"
    weekdays: tuple[int, ...] = ()
    smoothing_hours: float = 1.0
    other_days: float = 0.0
    other_hours: float = 0.0

    _constraints: ClassVar[Constraints] = {
        "weekdays": Rule(lambda days: len(set(days)) == len(days) and all(_WEEKDAY.test(d) for d in days),
                         "distinct numbers 0-6 (0 = Monday)"),
        **_WEIGHTING,
    }

    def __post_init__(self) -> None:
        # The times are parsed rather than ranged: their messages show the HH:MM form.
        _minutes(self.start, "window start")
        _minutes(self.end, "window end")
        check_params(self)

    @classmethod
    def parse(cls, text: str, *, day: str | None = None, smoothing_hours: float = 1.0) -> TimeWindow:
        """Read the CLI's ``HH:MM-HH:MM`` (and an optional day name such as ``fri``/``vrijdag``)."""
        start, sep, end = str(text).partition("-")
        if not sep:
            msg = f"window must be HH:MM-HH:MM (e.g. 20:00-23:00), got {text!r}"
            raise InputError(msg)
        weekdays = (parse_weekday(day),) if day else ()
        return cls(start=start.strip(), end=end.strip(), weekdays=weekdays, smoothing_hours=smoothing_hours)

    @property
    def is_all_day(self) -> bool:
        """Whether the window covers every minute of every day (no time weighting at all)."""
        start, end = _minutes(self.start, "window start"), _minutes(self.end, "window end")
        return not self.weekdays and (end - start) % DAY_MINUTES == 0

    def on_every_weekday(self) -> tuple[TimeWindow, ...]:
        """The same hours moved to each day of the week (days kept apart as given), or the window
        itself when it names no day: what a window's time-of-day weighting is chosen on."""
        if not self.weekdays:
            return (self,)
        return tuple(replace(self, weekdays=tuple((d + shift) % 7 for d in self.weekdays)) for shift in range(7))

    def label(self, language: str = "en") -> str:
        """Human form, e.g. ``fri 20:00-23:00`` (``language="nl"``: ``vr 20:00-23:00``)."""
        names = WEEKDAYS_NL if language == "nl" else WEEKDAYS
        days = ",".join(names[d] for d in self.weekdays)
        return f"{days} {self.start}-{self.end}".strip()

    def mask(self) -> np.ndarray:
        """Boolean per minute of the week (Monday 00:00 first): inside the window or not."""
        start, end = _minutes(self.start, "window start"), _minutes(self.end, "window end")
        length = (end - start) % DAY_MINUTES or DAY_MINUTES
        inside = np.zeros(WEEK_MINUTES, dtype=bool)
        for day in self.weekdays or range(7):
            first = day * DAY_MINUTES + start
            idx = (first + np.arange(length)) % WEEK_MINUTES
            inside[idx] = True
        return inside

    def profile(self) -> np.ndarray:
        """Relevance per minute of the week: 1 inside the window, a normal fall-off outside,
        ``other_days`` of the same on the window's hours of other weekdays, at least ``other_hours``."""
        inside = self.mask()
        if inside.all():
            return np.ones(WEEK_MINUTES)
        near = self._fall_off(inside)
        if self.weekdays and self.other_days > 0:
            near = self.other_days * self._fall_off(replace(self, weekdays=()).mask()) + (1 - self.other_days) * near
        return self.other_hours + (1 - self.other_hours) * near

    def _fall_off(self, inside: np.ndarray) -> np.ndarray:
        if self.smoothing_hours == 0:
            return inside.astype(float)
        tiled = np.tile(~inside, 3)
        distance = ndimage.distance_transform_edt(tiled)[WEEK_MINUTES : 2 * WEEK_MINUTES]
        sigma = self.smoothing_hours * 60.0
        return np.exp(-0.5 * (distance / sigma) ** 2)


@dataclass(frozen=True)
class TimeWeighting:
    """How much a target window's neighbouring hours, other weekdays and other times count
    (``TimeWindow``'s ``smoothing_hours``, ``other_days``, ``other_hours``): one candidate of the
    calibration. The defaults are the window as the user gives it."""

    smoothing_hours: float = 1.0
    other_days: float = 0.0
    other_hours: float = 0.0

    _constraints: ClassVar[Constraints] = _WEIGHTING

    def __post_init__(self) -> None:
        check_params(self)

    def apply(self, window: TimeWindow) -> TimeWindow:
        """``window`` with this weighting."""
        return replace(window, smoothing_hours=self.smoothing_hours, other_days=self.other_days,
                       other_hours=self.other_hours)

    def label(self) -> str:
        """E.g. ``"± 3 h, other days × 0.3, other hours × 0.1"``; ``"every time alike"`` at other hours × 1."""
        if self.other_hours == 1:
            return "every time alike"
        return (f"± {self.smoothing_hours:g} h, other days × {self.other_days:g}, "
                f"other hours × {self.other_hours:g}")


def local_minutes(times: pd.Series) -> np.ndarray:
    """Minutes since a Monday 00:00 in Dutch local (wall-clock) time, for aware UTC timestamps."""
    times = pd.to_datetime(times, utc=True)
    local = times.dt.tz_convert(settings.timezone()).dt.tz_localize(None)
    return ((local - _EPOCH) / pd.Timedelta(minutes=1)).to_numpy(dtype=float)


def aoristic_share(
    t0: np.ndarray, t1: np.ndarray, profile: np.ndarray, *, cumulative: np.ndarray | None = None
) -> np.ndarray:
    """Mean of a per-minute-of-week ``profile`` over each span ``[t0, t1]`` (local minutes).

    This is the aoristic method (Ratcliffe): a signal known only as "between 22:00 and 07:00"
    contributes the share of that span the profile covers, never the value at its midpoint.
    A span shorter than a minute takes the profile's value at its start. ``cumulative`` (the
    profile's running sum with a leading 0) may be passed when the same profile is reused.
    """
    t0 = np.asarray(t0, dtype=float)
    t1 = np.maximum(np.asarray(t1, dtype=float), t0)
    if cumulative is None:
        cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    total = cumulative[-1]

    def integral(t: np.ndarray) -> np.ndarray:
        weeks = np.floor(t / WEEK_MINUTES)
        rest = t - weeks * WEEK_MINUTES
        minute = np.clip(np.floor(rest).astype(np.int64), 0, WEEK_MINUTES - 1)
        return weeks * total + cumulative[minute] + (rest - minute) * profile[minute]

    span = t1 - t0
    point = span < 1.0
    out = np.empty(len(t0))
    out[point] = profile[np.floor(t0[point]).astype(np.int64) % WEEK_MINUTES]
    wide = ~point
    if wide.any():
        out[wide] = (integral(t1[wide]) - integral(t0[wide])) / span[wide]
    return out


def in_window(start: pd.Series, end: pd.Series, window: TimeWindow | None) -> np.ndarray:
    """Whether each signal more likely than not fell inside ``window`` (aoristic share ≥ 0.5): the
    signals a forecast for that window is judged on. Every signal without a window."""
    if window is None or window.is_all_day:
        return np.ones(len(start), dtype=bool)
    return aoristic_share(local_minutes(start), local_minutes(end), window.mask().astype(float)) >= 0.5
