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


def test_the_installation_s_time_zone_reads_naive_times_and_days(monkeypatch):
    """WAS_TIMEZONE sets local time, for a city outside the Netherlands: a Chicago file's 22:00 is
    03:00 UTC the next day in summer, and that signal's local day stays the day it happened."""
    import pandas as pd

    monkeypatch.setenv("WAS_TIMEZONE", "America/Chicago")
    utc = _time.local_to_utc(pd.Series([pd.Timestamp("2017-07-01 22:00")])).iloc[0]
    assert utc == pd.Timestamp("2017-07-02 03:00", tz="UTC")
    assert _time.local_day(utc.to_pydatetime()) == date(2017, 7, 1)
    monkeypatch.delenv("WAS_TIMEZONE")
    assert _time.local_to_utc(pd.Series([pd.Timestamp("2017-07-01 22:00")])).iloc[0] == pd.Timestamp(
        "2017-07-01 20:00", tz="UTC")


@pytest.mark.parametrize("name", ["Mars/Base", "america/chicago", "../../etc/passwd", "CET "])
def test_a_bad_time_zone_names_the_setting_and_examples(monkeypatch, name):
    monkeypatch.setenv("WAS_TIMEZONE", name)
    with pytest.raises(InputError, match="WAS_TIMEZONE must be a time zone name such as Europe/Amsterdam"):
        _time.local_zone()
