"""Tests for planner/signals/outcomes.py: reading and importing registered-crime counts."""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import select
from typer.testing import CliRunner

from planner._errors import DataNotFoundError, InputError
from planner.cli import app
from planner.signals.outcomes import import_outcomes, parse_period, read_outcomes
from planner.signals.wards import read_wards
from planner.storage.outcomes import OUTCOME_COLUMNS, stored_outcomes
from planner.storage.schema import import_batches

LONG = (
    "\ufeffwijk;periode;aantal;categorie\n"
    "West;2026-01;5;inbraak\n"
    "oost;2026-01;3;inbraak\n"
    "WK999902;2026-02;0;inbraak\n"
    "Noord;Mrt2026;4;Totaal\n"
    "West;2021XX01;2;inbraak\n"
    "West;2026-03;-3;inbraak\n"
    "West;2026-04;.;inbraak\n"
    ";2026-05;1;inbraak\n"
    "West;2026-06;1;\n"
)

POLITIE = (
    '"","SoortMisdrijf","WijkenEnBuurten","Perioden","GeregistreerdeMisdrijven_1"\n'
    '"1","0.0.0 ","BU99990101","2023JJ00",10\n'
    '"2","0.0.0 ","BU99990102","2023JJ00",7\n'
    '"3","0.0.0 ","WK999902  ","2023JJ00",20\n'
    '"4","0.0.0 ","BU99990201","2023JJ00",12\n'
    '"5","1.1.1 ","BU99990101","2023MM03",2\n'
    '"6","0.0.0 ","GM9999    ","2023JJ00",50\n'
    '"7","0.0.0 ","BU99990103","2023JJ00",.\n'
    '"8","0.0.0 ","BU99990104","2021XX01",1\n'
    '"9","0.0.0 ","BU99990105","2023KW01",1\n'
)


def rd_to_wgs(x: float, y: float) -> tuple[float, float]:
    """(lon, lat) of an RD New point."""
    point = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs=28992).to_crs(4326).iloc[0]
    return round(point.x, 6), round(point.y, 6)


@pytest.fixture
def long_csv(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text(LONG, encoding="utf-8")
    return path


@pytest.fixture
def politie_csv(tmp_path):
    path = tmp_path / "47018NED.csv"
    path.write_text(POLITIE, encoding="utf-8")
    return path


@pytest.fixture
def police_uk_csv(tmp_path):
    west, east = rd_to_wgs(91_500, 452_500), rd_to_wgs(92_500, 452_500)
    far = rd_to_wgs(99_000, 452_500)
    lines = [
        "Crime ID,Month,Longitude,Latitude,LSOA code,Crime type",
        f",2016-01,{west[0]},{west[1]},E01000001,Burglary",
        f",2016-01,{west[0]},{west[1]},E01000001,Burglary",
        f",2016-01,{east[0]},{east[1]},E01000002,Burglary",
        f",2016-02,{east[0]},{east[1]},E01000002,Anti-social behaviour",
        f",2016-01,{far[0]},{far[1]},E01000009,Burglary",
        ",2016-01,,,,Burglary",
        f",2016-01,{far[0]},{far[1]},,Burglary",
        f",2016-13,{west[0]},{west[1]},E01000001,Burglary",
        f",2016-01,{west[0]},{west[1]},E01000001,",
    ]
    path = tmp_path / "street.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_area(rows: pd.DataFrame) -> dict:
    """{(area, ward, period_start, category): count} of outcome rows."""
    return {
        (r.area, r.ward, r.period_start, r.category): r.count
        for r in rows.itertuples()
    }


def test_long_format_keeps_good_rows_and_rejects_bad_ones_with_the_field(store, two_wards, long_csv, tmp_path):
    """A long ;-file with a BOM: 4 counts stored (matched by name in any case or by code),
    5 bad rows rejected, each reason naming its field; rejects go to the CSV and the store."""
    store.save_wards(two_wards)
    report = import_outcomes(store, long_csv, rejects_dir=tmp_path / "rejects")
    assert report.to_json() == {
        "read": 9, "imported": 4, "updated": 0, "duplicates": 0, "rejected": 5,
        "rejects_file": report.rejects_file, "areas": 4, "matched_wards": 2, "periods": 3,
    }
    rejects = pd.read_csv(report.rejects_file, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(rejects["row_number"]) == ["5", "6", "7", "8", "9"]
    assert rejects["reason"].iloc[0].startswith("period: unreadable '2021XX01'")
    assert rejects["reason"].iloc[1] == "count: not a whole number ≥ 0: '-3'"
    assert rejects["reason"].iloc[2] == "count: not available ('.')"
    assert rejects["reason"].iloc[3] == "area: missing"
    assert rejects["reason"].iloc[4] == "category: missing"
    assert len(store.rejected(report.batch_id)) == 5
    assert by_area(stored_outcomes(store)) == {
        ("West", "West", date(2026, 1, 1), "inbraak"): 5,
        ("oost", "Oost", date(2026, 1, 1), "inbraak"): 3,
        ("WK999902", "Oost", date(2026, 2, 1), "inbraak"): 0,
        ("Noord", None, date(2026, 3, 1), "total"): 4,
    }


def test_politie_format_sums_buurten_into_a_wijk_without_a_row_of_its_own(store, two_wards, politie_csv, tmp_path):
    """West (no WK row) gets the sum of its buurten per period and category; Oost keeps its own
    WK row and its buurt stays an area of its own, so no count is used twice; bad rows are
    rejected naming the field; every valid count is stored exactly once."""
    store.save_wards(two_wards)
    report = import_outcomes(store, politie_csv, rejects_dir=tmp_path)
    assert (report.read, report.imported, report.rejected) == (9, 5, 3)
    assert (report.areas, report.matched_wards, report.periods) == (4, 2, 2)
    assert by_area(stored_outcomes(store)) == {
        ("WK999901", "West", date(2023, 1, 1), "total"): 17,
        ("WK999901", "West", date(2023, 3, 1), "1.1.1"): 2,
        ("WK999902", "Oost", date(2023, 1, 1), "total"): 20,
        ("BU99990201", None, date(2023, 1, 1), "total"): 12,
        ("GM9999", None, date(2023, 1, 1), "total"): 50,
    }
    assert stored_outcomes(store)["count"].sum() == 10 + 7 + 20 + 12 + 2 + 50
    reasons = [reason for _, reason in report.reasons]
    assert reasons[0] == "count: not available ('.')"
    assert reasons[1].startswith("period: unreadable '2021XX01'")
    assert reasons[2].startswith("period: quarter '2023KW01' is not supported")
    assert any("West" in w and "BU99990103" in w for w in report.warnings)


def test_politie_rows_without_loaded_wards_keep_their_codes(politie_csv):
    """Without wards nothing is summed: each buurt, wijk and gemeente code is its own area."""
    table = read_outcomes(politie_csv)
    assert table.format == "politie"
    assert sorted(table.rows["area"]) == ["BU99990101", "BU99990101", "BU99990102", "BU99990201", "GM9999",
                                          "WK999902"]
    assert table.rows["ward"].isna().all()


def test_police_uk_counts_crimes_per_ward_or_lsoa_and_month(store, two_wards, police_uk_csv, tmp_path):
    """One row per crime is counted per ward containing the point (else per LSOA code), month and
    crime type; a row with no location, or outside every ward without an LSOA, is rejected."""
    store.save_wards(two_wards)
    report = import_outcomes(store, police_uk_csv, rejects_dir=tmp_path)
    assert report.to_json() == {
        "read": 9, "imported": 4, "updated": 0, "duplicates": 0, "rejected": 4,
        "rejects_file": report.rejects_file, "areas": 3, "matched_wards": 2, "periods": 2,
    }
    assert by_area(stored_outcomes(store)) == {
        ("West", "West", date(2016, 1, 1), "Burglary"): 2,
        ("Oost", "Oost", date(2016, 1, 1), "Burglary"): 1,
        ("Oost", "Oost", date(2016, 2, 1), "Anti-social behaviour"): 1,
        ("E01000009", None, date(2016, 1, 1), "Burglary"): 1,
    }
    reasons = dict(report.reasons)
    assert reasons[6] == "location: no coordinates and no LSOA code"
    assert reasons[7].startswith("location: ") and "outside every loaded ward" in reasons[7]
    assert reasons[8].startswith("period: unreadable '2016-13'")
    assert reasons[9] == "category: missing (Crime type)"


def test_reimport_adds_nothing(store, two_wards, long_csv, tmp_path):
    """Importing the same file again stores no new count: every count is a duplicate."""
    store.save_wards(two_wards)
    first = import_outcomes(store, long_csv, rejects_dir=tmp_path)
    again = import_outcomes(store, long_csv, rejects_dir=tmp_path)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, first.imported)
    assert len(stored_outcomes(store)) == first.imported


def test_a_revised_count_replaces_the_stored_one(store, two_wards, long_csv, tmp_path):
    """A row with a stored key and another count updates that count, the rest are duplicates."""
    store.save_wards(two_wards)
    import_outcomes(store, long_csv, rejects_dir=tmp_path)
    revised = tmp_path / "revised.csv"
    revised.write_text(LONG.replace("West;2026-01;5;", "West;2026-01;6;"), encoding="utf-8")
    report = import_outcomes(store, revised, rejects_dir=tmp_path)
    assert (report.imported, report.updated, report.duplicates) == (0, 1, 3)
    stored = by_area(stored_outcomes(store))
    assert stored[("West", "West", date(2026, 1, 1), "inbraak")] == 6
    assert len(stored) == 4
    with store.engine.connect() as conn:
        query = select(import_batches.c.kind, import_batches.c.updated).order_by(import_batches.c.id)
        kinds = [tuple(row) for row in conn.execute(query)]
    assert kinds == [("outcomes", 0), ("outcomes", 1)]


def test_counts_imported_before_the_wards_are_linked_by_a_reimport(store, two_wards, long_csv, tmp_path):
    """Without wards counts are stored unlinked (with a warning); after loading the wards the
    same file links them, still without adding or updating any count."""
    first = import_outcomes(store, long_csv, rejects_dir=tmp_path)
    assert any("no wards loaded" in w for w in first.warnings)
    assert stored_outcomes(store)["ward"].isna().all()
    store.save_wards(two_wards)
    again = import_outcomes(store, long_csv, rejects_dir=tmp_path)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 4)
    assert stored_outcomes(store)["ward"].notna().sum() == 3


def test_stored_counts_read_back_like_the_file(store, two_wards, long_csv, tmp_path):
    """``Store.outcomes`` returns the same columns, types and values as ``read_outcomes``, and
    filters by category and by the period's start (since inclusive, until exclusive)."""
    store.save_wards(two_wards)
    import_outcomes(store, long_csv, rejects_dir=tmp_path)
    stored = stored_outcomes(store)
    table = read_outcomes(long_csv, wards=store.wards())
    assert list(stored.columns) == list(OUTCOME_COLUMNS)
    pd.testing.assert_frame_equal(stored, table.rows)
    assert isinstance(stored["period_start"].iloc[0], date)
    assert stored.set_index("area").loc["Noord", "ward"] is None
    assert list(stored_outcomes(store, category="total")["area"]) == ["Noord"]
    window = stored_outcomes(store, since=date(2026, 2, 1), until=date(2026, 3, 1))
    assert list(window["area"]) == ["WK999902"]
    none = stored_outcomes(store, category="none")
    assert none.empty and list(none.columns) == list(OUTCOME_COLUMNS)


def test_a_key_repeated_in_one_file_is_counted_once(tmp_path):
    """A second row with the same area, period and category is rejected: as a repeat when its
    count is equal, as a conflict naming the first row when it differs."""
    path = tmp_path / "repeat.csv"
    path.write_text("area,period,count\nA,2021-01,3\nA,2021-01,3\nA,2021-01,4\nB,2021-01,1\n", encoding="utf-8")
    table = read_outcomes(path)
    assert list(table.rows["count"]) == [3, 1]
    assert list(table.rejects["reason"]) == [
        "area/period/category: repeats row 1 (counted once)",
        "area/period/category: row 1 gives 3 for the same area, period and category; keep one of the two rows",
    ]


def test_a_ragged_row_is_rejected_and_the_other_counts_kept(tmp_path):
    """A row with a cell too many (an unquoted comma) is rejected with the reason; the rest count."""
    path = tmp_path / "ragged.csv"
    path.write_text("area,period,count\nA,2021-01,3\nB,2021-01,1,5\nC,2021-01,2\n", encoding="utf-8")
    table = read_outcomes(path)
    assert list(table.rows["count"]) == [3, 2]
    (reason,) = table.rejects["reason"]
    assert reason.startswith("row has 4 cells, the header 3")


def test_area_code_wins_over_area_name(tmp_path):
    """With both ``area`` and ``area_name`` columns the code is the area."""
    path = tmp_path / "london.csv"
    path.write_text("area,area_name,period,count\nE09000001,City of London,2020-04,12\n", encoding="utf-8")
    assert list(read_outcomes(path).rows["area"]) == ["E09000001"]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2021-03", (date(2021, 3, 1), "month")),
        ("2021-1", (date(2021, 1, 1), "month")),
        ("2021-W05", (date(2021, 2, 1), "week")),
        ("2021-03-15", (date(2021, 3, 15), "day")),
        ("2021", (date(2021, 1, 1), "year")),
        ("2021MM03", (date(2021, 3, 1), "month")),
        ("2021JJ00", (date(2021, 1, 1), "year")),
        ("Apr2021", (date(2021, 4, 1), "month")),
        ("Mrt2021", (date(2021, 3, 1), "month")),
        ("June021", (date(2021, 6, 1), "month")),
        ("Sept2021", (date(2021, 9, 1), "month")),
        ("jan2021", (date(2021, 1, 1), "month")),
        ("mei 2021", (date(2021, 5, 1), "month")),
        ("okt.2021", (date(2021, 10, 1), "month")),
        ("2021 juli", (date(2021, 7, 1), "month")),
    ],
)
def test_period_labels(label, expected):
    """Each accepted period label gives its start day and length."""
    assert parse_period(label) == expected


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("2021XX01", "unreadable '2021XX01'"),
        ("2021-13", "unreadable '2021-13'"),
        ("2021-W54", "no ISO week 54"),
        ("2021KW01", "quarter '2021KW01' is not supported"),
        ("Apr21", "year '21' in 'Apr21' is ambiguous"),
        ("June921", "year '921' in 'June921' is ambiguous"),
        ("Ma2021", "unreadable 'Ma2021'"),
    ],
)
def test_unreadable_period_labels(label, problem):
    """A label that is none of the accepted forms is an InputError saying what is wrong."""
    with pytest.raises(InputError, match=problem):
        parse_period(label)


def test_unusable_input_is_a_one_line_input_error(tmp_path):
    """A missing file, a binary file, unrecognisable columns, an unknown or mismatched format:
    each a one-line error naming the problem."""
    with pytest.raises(DataNotFoundError, match="file not found"):
        read_outcomes(tmp_path / "missing.csv")
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(InputError, match="not a text table"):
        read_outcomes(binary)
    other = tmp_path / "other.csv"
    other.write_text("naam,leeftijd\nAnna,30\n", encoding="utf-8")
    with pytest.raises(InputError, match="no recognisable columns") as error:
        read_outcomes(other)
    assert "\n" not in str(error.value) and "naam, leeftijd" in str(error.value)
    good = tmp_path / "good.csv"
    good.write_text("area,period,count\nA,2021-01,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="format 'cbs' is unknown; use one of long, politie, police-uk"):
        read_outcomes(good, format="cbs")
    with pytest.raises(InputError, match="not a politie table: no column WijkenEnBuurten"):
        read_outcomes(good, format="politie")


def test_cli_outcomes_import_json_contract(data_dir, long_csv):
    """``outcomes import --json`` prints exactly the nine documented keys; an unknown format is
    one line on stderr and exit code 2."""
    runner = CliRunner()
    result = runner.invoke(app, ["--data-dir", str(data_dir), "outcomes", "import", str(long_csv), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {
        "read": 9, "imported": 4, "updated": 0, "duplicates": 0, "rejected": 5,
        "rejects_file": payload["rejects_file"], "areas": 4, "matched_wards": 0, "periods": 3,
    }
    assert payload["rejects_file"].startswith(str(data_dir / "rejects"))
    bad = runner.invoke(app, ["--data-dir", str(data_dir), "outcomes", "import", str(long_csv), "--format", "x"])
    assert bad.exit_code == 2
    assert bad.stderr.strip().count("\n") == 0 and "format 'x' is unknown" in bad.stderr


@pytest.mark.shared
def test_real_47018ned_buurten_add_up_to_the_zoetermeer_wijken(store, shared_data, tmp_path):
    """The real 2023 buurt totals against the real 9 Zoetermeer wijken: 9 matched wards, the
    wijk Centrum is its four buurten (781 of them Stadscentrum), 5,544 in all."""
    store.save_wards(read_wards(shared_data / "wards" / "zoetermeer_wijken_2015.geojson"))
    path = shared_data / "outcomes" / "zoetermeer_buurt_misdrijven_2023_47018NED.csv"
    report = import_outcomes(store, path, rejects_dir=tmp_path)
    assert (report.read, report.rejected, report.matched_wards, report.periods) == (26, 0, 9, 1)
    stored = stored_outcomes(store)
    assert stored["count"].sum() == 5_544
    assert stored["ward"].notna().all() and len(stored) == 9
    centrum = stored.set_index("ward").loc["Wijk 00 Centrum"]
    assert (centrum["area"], centrum["period"], centrum["count"]) == ("WK063700", "year", 223 + 781 + 264 + 373)
    buurten = read_outcomes(path).rows.set_index("area")["count"]
    assert buurten["BU06370002"] == 781


@pytest.mark.shared
def test_real_amsterdam_panel_month_labels_parse_to_their_months(shared_data):
    """The Amsterdam panel's messy labels (Mrt2021, June021, Sept2021, ...) each become the right
    month of 2021: 21 areas × 12 months, 'Total' read as the 'total' category, no row lost."""
    path = shared_data / "panels" / "amsterdam_2021_monthly" / "police_dataset.csv"
    table = read_outcomes(path)
    rows = table.rows
    assert (table.format, table.read, len(table.rejects)) == ("long", 1764, 0)
    assert rows["area"].nunique() == 21
    assert sorted(set(rows["period_start"])) == [date(2021, m, 1) for m in range(1, 13)]
    assert set(rows["period"]) == {"month"}
    assert (rows["category"] == "total").sum() == 21 * 12
    raw = pd.read_csv(path)
    months = {"Jan": 1, "Feb": 2, "Mrt": 3, "Apr": 4, "May": 5, "June": 6, "July": 7, "Aug": 8, "Sept": 9,
              "Oct": 10, "Nov": 11, "Dec": 12}
    raw_month = raw["Periods"].str.extract(r"^([A-Za-z]+)")[0].map(months)
    expected = raw.groupby(raw_month)["total_crime_sum"].sum()
    got = rows.groupby(rows["period_start"].map(lambda d: d.month))["count"].sum()
    assert got.to_dict() == expected.to_dict()


@pytest.mark.shared
def test_real_police_uk_file_is_counted_per_lsoa_or_ward(shared_data):
    """The real City of London file: the 465 rows without a location are rejected, the other
    9,653 crimes counted once each, per LSOA, or per ward for the points inside a drawn ward."""
    path = shared_data / "incidents" / "city_of_london_street_2016-01_2017-06.csv"
    plain = read_outcomes(path)
    assert (plain.format, plain.read, len(plain.rejects)) == ("police-uk", 10_118, 465)
    assert plain.rows["count"].sum() == 9_653
    assert plain.rows["ward"].isna().all() and set(plain.rows["period"]) == {"month"}
    ward = gpd.GeoDataFrame({"name": ["Bank"], "code": [None]}, geometry=[box(-0.095, 51.510, -0.080, 51.520)],
                            crs=4326)
    placed = read_outcomes(path, wards=ward)
    inside = placed.rows["ward"] == "Bank"
    assert 0 < placed.rows.loc[inside, "count"].sum() < 9_653
    assert placed.rows["count"].sum() == 9_653
    assert np.all(placed.rows.loc[inside, "area"] == "Bank")


def test_two_areas_naming_one_ward_count_it_once(two_wards, tmp_path):
    """A ward named twice in one file (by name and by code) for one period is counted from the
    first row; the second is rejected naming both rows."""
    path = tmp_path / "twice.csv"
    path.write_text("area,period,count\nOost,2021-01,3\nWK999902,2021-01,3\nWK999902,2021-02,5\n", encoding="utf-8")
    table = read_outcomes(path, wards=two_wards)
    assert list(zip(table.rows["area"], table.rows["count"], strict=True)) == [("Oost", 3), ("WK999902", 5)]
    assert list(table.rejects["reason"]) == [
        "area: 'WK999902' is ward Oost, which row 1 ('Oost') counts already for this period and category"
    ]


@pytest.mark.parametrize("text", ["area,period,count\n", "area,period,count\nA,2021-01,-3\nB,2021-01,x\n"])
def test_a_file_without_one_valid_row_imports_nothing_and_says_why(store, tmp_path, text):
    """A header-only file, or one whose every row is rejected, imports nothing without a
    traceback; the rejected rows keep their reasons."""
    path = tmp_path / "counts.csv"
    path.write_text(text, encoding="utf-8")
    report = import_outcomes(store, path, rejects_dir=tmp_path)
    assert report.imported == 0 and report.rejected == text.count("\n") - 1
    assert stored_outcomes(store).empty
    if report.rejected:
        assert all("count" in reason for _, reason in report.reasons)


def test_police_uk_files_of_two_forces_add_up(store, tmp_path):
    """A second police.uk file for the same month from another force (British Transport Police
    beside the Met) adds its crimes instead of replacing the first force's count; re-importing
    either adds nothing."""
    header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type\n"
    met = tmp_path / "2021-01-metropolitan-street.csv"
    met.write_text(header + "".join(f"m{i},2021-01,Metropolitan Police Service,Metropolitan Police Service,,,"
                                    f"On or near X,E01000001,City 001A,Burglary\n" for i in range(2)), encoding="utf-8")
    btp = tmp_path / "2021-01-btp-street.csv"
    btp.write_text(header + "b1,2021-01,British Transport Police,British Transport Police,,,On or near Y,E01000001,"
                            "City 001A,Burglary\n", encoding="utf-8")
    assert import_outcomes(store, met, rejects_dir=tmp_path).imported == 1
    second = import_outcomes(store, btp, rejects_dir=tmp_path)
    assert second.imported == 1 and second.updated == 0
    stored = stored_outcomes(store)
    assert stored["count"].sum() == 3 and set(stored["source"]) == {
        "police-uk: Metropolitan Police Service", "police-uk: British Transport Police"}
    assert import_outcomes(store, met, rejects_dir=tmp_path).duplicates == 1
