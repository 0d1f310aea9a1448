"""Tests for planner/incidents.py: vocabularies, table reading and row validation."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner._errors import DataNotFoundError, InputError
from planner.incidents import (
    CATEGORIES,
    ParseOptions,
    RawTable,
    canonical_category,
    parse_incidents,
    parse_mapping,
    parse_timestamps,
    read_table,
)

NOW = datetime(2026, 11, 25, 23, 0)

MESSY_CSV = (
    "\ufeffDatum;Tijd;Categorie;Breedtegraad;Lengtegraad;Omschrijving;Bron\n"
    "25-11-2026;22:30;Inbraak;52,0601;4,4940;achterdeur geforceerd;bewoner\n"
    "24/11/2026;22:00-07:00;jongeren overlast;52.061;4.49;;WAS-lid\n"
    "2026-11-20T21:15:00+01:00;;Straat_Verlichting;52.06;4.49;lamp kapot;gemeente\n"
    "2026-03;;vandalisme;52.06;4.49;;\n"
    ";;inbraak;52.06;4.49;;bewoner\n"
    "31-02-2026;10:00;inbraak;52.06;4.49;;bewoner\n"
    "25-11-2030;10:00;inbraak;52.06;4.49;;bewoner\n"
    "25-11-2026;10:00;fietsdiefstal;52.06;4.49;;bewoner\n"
    "25-11-2026;10:00;inbraak;95;4.49;;bewoner\n"
    "25-11-2026;10:00;inbraak;;;;bewoner\n"
    "25-11-2026;10:00;inbraak;52.06;4.49;;buurman\n"
    "25-11-2026;25:99;inbraak;52.06;4.49;;bewoner\n"
)


@pytest.fixture
def messy(tmp_path):
    path = tmp_path / "meldingen.csv"
    path.write_text(MESSY_CSV, encoding="utf-8")
    return path


def test_category_aliases_fold_case_spaces_and_separators():
    """Dutch and English category names match whatever their case, spaces or separators."""
    assert canonical_category("Inbraak") == "burglary"
    assert canonical_category("jongeren overlast") == "youth_nuisance"
    assert canonical_category("YOUTH-NUISANCE") == "youth_nuisance"
    assert canonical_category("verdachte situatie") == "suspicious_situation"
    assert canonical_category("fietsdiefstal") is None
    assert all(canonical_category(dutch) == code for code, dutch in CATEGORIES.items())


def test_messy_semicolon_csv_counts_and_reasons(messy):
    """Every row of a messy Dutch CSV ends valid or rejected with a reason naming its field."""
    parsed = parse_incidents(read_table(messy), now=NOW)
    assert len(parsed.valid) == 4
    reasons = dict(zip(parsed.rejects["row_number"], parsed.rejects["reason"], strict=False))
    assert sorted(reasons) == [5, 6, 7, 8, 9, 10, 11, 12]
    assert reasons[5].startswith("date: missing")
    assert reasons[6].startswith("date: cannot read '31-02-2026'")
    assert reasons[7].startswith("date: lies in the future")
    assert reasons[8].startswith("category: unknown 'fietsdiefstal'") and "inbraak" in reasons[8]
    assert reasons[9].startswith("lat/lon: out of range")
    assert reasons[10].startswith("location: missing")
    assert reasons[11].startswith("source: unknown 'buurman'") and "bewoner" in reasons[11]
    assert reasons[12].startswith("time: cannot read '25:99'")
    # The rejects keep the original cells, so a user can fix and re-import them.
    assert list(parsed.rejects.columns[:3]) == ["Datum", "Tijd", "Categorie"]


def test_dates_are_day_first_and_local(messy):
    """25-11-2026 22:30 is read day-first as Dutch local time (UTC+1 in November)."""
    valid = parse_incidents(read_table(messy), now=NOW).valid
    first = valid.iloc[0]
    assert first["occurred_from"] == pd.Timestamp("2026-11-25 21:30", tz="UTC")
    assert first["occurred_from"] == first["occurred_to"]
    assert (first["lat"], first["lon"], first["category"]) == (52.0601, 4.494, "burglary")


def test_time_window_crossing_midnight_is_kept_as_a_window(messy):
    """'22:00-07:00' becomes a window ending the next morning, not a midpoint."""
    second = parse_incidents(read_table(messy), now=NOW).valid.iloc[1]
    assert second["occurred_from"] == pd.Timestamp("2026-11-24 21:00", tz="UTC")
    assert second["occurred_to"] == pd.Timestamp("2026-11-25 06:00", tz="UTC")
    assert second["source"] == "was_member"


def test_month_only_dates_span_the_month():
    """A police.uk style '2016-01' covers the whole month in local time."""
    start, end = parse_timestamps(pd.Series(["2016-01", "2016-03-27 02:30"]))
    assert start[0] == pd.Timestamp("2016-01-01", tz="Europe/Amsterdam")
    assert end[0] == pd.Timestamp("2016-02-01", tz="Europe/Amsterdam")
    # 02:30 on the spring-forward night does not exist; it is moved on, not dropped.
    assert start[1].tz_convert("Europe/Amsterdam").hour == 3


def test_iso_offsets_are_respected():
    """An ISO 8601 timestamp with an offset keeps its instant."""
    start, _ = parse_timestamps(pd.Series(["2026-06-01T12:00:00Z", "2026-06-01T14:00:00+02:00"]))
    assert start[0] == start[1] == pd.Timestamp("2026-06-01 12:00", tz="UTC")


def test_explicit_date_format_and_mapping():
    """--date-format and --mapping read a US-style export (Sacramento's columns)."""
    rows = pd.DataFrame(
        {"cdatetime": ["1/3/06 22:15"], "crimedescr": ["x"], "latitude": ["38.55"], "longitude": ["-121.39"]}
    )
    options = ParseOptions(
        mapping=parse_mapping("cdatetime=occurred_at,latitude=lat,longitude=lon"),
        date_format="%m/%d/%y %H:%M",
        default_category="other",
    )
    valid = parse_incidents(RawTable(rows=rows), options=options, now=NOW).valid
    assert len(valid) == 1
    assert valid.iloc[0]["occurred_from"].tz_convert("Europe/Amsterdam") == pd.Timestamp(
        "2006-01-03 22:15", tz="Europe/Amsterdam"
    )
    assert valid.iloc[0]["category"] == "other"


def test_rd_new_coordinates_are_converted():
    """x/y in RD New become WGS84 latitude/longitude."""
    rows = pd.DataFrame({"datum": ["01-11-2026"], "categorie": ["drugs"], "x": ["93230"], "y": ["452996"]})
    valid = parse_incidents(RawTable(rows=rows), now=NOW).valid
    assert valid.iloc[0]["lat"] == pytest.approx(52.0618, abs=1e-3)
    assert valid.iloc[0]["lon"] == pytest.approx(4.4864, abs=1e-3)


def test_unusable_tables_raise_input_errors(tmp_path):
    """Missing files, binary files and tables without recognisable columns are refused whole."""
    with pytest.raises(DataNotFoundError):
        read_table(tmp_path / "nope.csv")
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(InputError, match="not a text table"):
        read_table(binary)
    odd = tmp_path / "odd.csv"
    odd.write_text("foo;bar\n1;2\n")
    with pytest.raises(InputError, match="no recognisable columns"):
        parse_incidents(read_table(odd), now=NOW)
    no_place = tmp_path / "noplace.csv"
    no_place.write_text("datum;categorie\n01-11-2026;inbraak\n")
    with pytest.raises(InputError, match="location"):
        parse_incidents(read_table(no_place), now=NOW)


def test_mapping_errors_name_the_problem():
    """A mapping to an unknown field or from a missing column says which and what exists."""
    with pytest.raises(InputError, match="unknown field 'when'"):
        ParseOptions(mapping=(("a", "when"),))
    with pytest.raises(InputError, match="not COLUMN=FIELD"):
        parse_mapping("cdatetime")
    rows = pd.DataFrame({"datum": ["01-11-2026"]})
    with pytest.raises(InputError, match="names column 'tijdstip'"):
        parse_incidents(RawTable(rows=rows), options=ParseOptions(mapping=(("tijdstip", "occurred_at"),)))


_valid_rows = st.fixed_dictionaries(
    {
        "datum": st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2026, 11, 1).date()).map(
            lambda d: d.strftime("%d-%m-%Y")
        ),
        "tijd": st.times().map(lambda t: t.strftime("%H:%M")),
        "categorie": st.sampled_from(list(CATEGORIES.values()) + list(CATEGORIES)),
        "lat": st.floats(50.8, 53.5).map(lambda v: f"{v:.6f}"),
        "lon": st.floats(3.4, 7.2).map(lambda v: f"{v:.6f}"),
    }
)
_junk = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_junk_rows = st.fixed_dictionaries({k: _junk for k in ("datum", "tijd", "categorie", "lat", "lon")})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.booleans(), _valid_rows, _junk_rows), min_size=1, max_size=25))
def test_arbitrary_rows_never_crash_and_never_lose_a_valid_row(rows):
    """Any mix of valid and junk rows: no crash, each row in one output, every valid row kept."""
    records = [valid if keep else junk for keep, valid, junk in rows]
    frame = pd.DataFrame(records, columns=["datum", "tijd", "categorie", "lat", "lon"])
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    parsed = parse_incidents(RawTable(rows=frame), now=NOW)
    assert len(parsed.valid) + len(parsed.rejects) == len(frame)
    assert parsed.rejects["reason"].str.contains(":").all()
    kept = set(parsed.valid["external_id"])
    assert {f"r{i}" for i, (keep, _, _) in enumerate(rows) if keep} <= kept
