"""Tests for planner/_time.py: the installation's clock and its WAS_TODAY shift."""

from datetime import date

import pytest

from planner import _time
from planner._errors import InputError


def test_was_today_moves_the_day_and_keeps_the_clock(monkeypatch):
    monkeypatch.delenv("WAS_TODAY")
    real = _time.now()
    monkeypatch.setenv("WAS_TODAY", "2024-02-29")
    shifted = _time.now()
    assert shifted.date() == _time.today() == date(2024, 2, 29)
    same_day = shifted.replace(year=real.year, month=real.month, day=real.day)
    assert shifted.tzinfo == real.tzinfo and 0 <= (same_day - real).total_seconds() < 60


def test_a_bad_was_today_names_the_setting_and_the_form(monkeypatch):
    monkeypatch.setenv("WAS_TODAY", "25-11-2026")
    with pytest.raises(InputError, match=r"WAS_TODAY must be a day as YYYY-MM-DD, got '25-11-2026'"):
        _time.today()


@pytest.mark.parametrize(("local", "utc"), [
    ("2026-10-25 02:30", "2026-10-25 00:30"),  # the clocks go back: the first 02:30, summer time
    ("2026-03-29 02:30", "2026-03-29 01:00"),  # the clocks skip 02:00-03:00: moved to 03:00 local
    ("2026-11-25 20:00", "2026-11-25 19:00"),
])
def test_naive_local_times_have_one_rule_at_the_dst_changes(local, utc):
    """A reference time and a column of signal times read the same wall clock the same way."""
    import pandas as pd

    expected = pd.Timestamp(utc, tz="UTC")
    assert _time.utc_timestamp(pd.Timestamp(local)) == expected
    assert _time.local_to_utc(pd.Series([pd.Timestamp(local)])).iloc[0] == expected
