"""Tests for planner/signals/incidents.py: vocabularies, table reading and row validation."""

from __future__ import annotations

import codecs
import gzip
import re
import warnings
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner._errors import DataNotFoundError, InputError
from planner.cli._common import flag
from planner.signals.incidents import (
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


def test_everyday_dutch_names_and_the_dutch_police_crime_types_are_categories():
    """What a Dutch team or the police's open data (data.politie.nl) call them, not only our names."""
    named = {"Jeugdoverlast": "youth_nuisance", "Vernieling": "vandalism", "Auto-inbraak": "vehicle_crime",
             "Vernieling cq. zaakbeschadiging": "vandalism", "Diefstal uit/vanaf motorvoertuigen": "vehicle_crime",
             "Drugs/drankoverlast": "drugs", "Mishandeling": "violence", "Openlijk geweld (persoon)": "violence",
             "Openbare verlichting": "street_light", "Poging tot inbraak": "burglary"}
    assert {name: canonical_category(name) for name in named} == named


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


# -- bad input never crashes and never loses valid rows (issue 14 §4) ----------------------------------
def _points(tmp_path, name, features):
    """A GeoJSON file of point features ``(properties, [lon, lat])``."""
    import json

    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": coords}}
        for props, coords in features]}).replace("1e+308", "Infinity"))
    return path


def test_null_text_properties_of_a_geojson_are_empty_text(tmp_path):
    """A NULL description (QGIS exports) is an empty text, not a crash in content_keys."""
    path = _points(tmp_path, "null.geojson", [
        ({"datum": "01-11-2026", "categorie": "inbraak", "omschrijving": None}, [4.49, 52.06]),
        ({"datum": "14-11-2026", "categorie": "inbraak", "omschrijving": "deur"}, [4.49, 52.06]),
    ])
    valid = parse_incidents(read_table(path), now=NOW).valid
    assert list(valid["description"]) == ["", "deur"]
    assert valid["content_key"].str.len().eq(32).all()


def test_infinite_or_huge_geometry_coordinates_are_rejected(tmp_path):
    """Infinity and 1e308 from GeoJSON geometry are range-checked like CSV coordinates."""
    path = _points(tmp_path, "far.geojson", [
        ({"datum": "01-11-2026", "categorie": "inbraak"}, [1e308, 52.5]),
        ({"datum": "01-11-2026", "categorie": "inbraak"}, [4.49, 1e308]),
        ({"datum": "14-11-2026", "categorie": "inbraak"}, [4.49, 52.06]),
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning on the way
        parsed = parse_incidents(read_table(path), now=NOW)
    assert len(parsed.valid) == 1
    assert parsed.rejects["reason"].str.startswith("geometry: out of range").all()


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_common_delimiter_is_read(tmp_path, delimiter):
    """Comma, semicolon, tab and the pipe some police and portal exports use."""
    path = tmp_path / "signals.csv"
    path.write_text("\n".join(delimiter.join(row) for row in (
        ("datum", "categorie", "lat", "lon", "omschrijving"), ("01-11-2026", "inbraak", "52.06", "4.49", "deur open"),
        ("02-11-2026", "vernieling", "52.07", "4.48", "bank"))) + "\n")
    table = read_table(path)
    parsed = parse_incidents(table, now=NOW)
    assert table.delimiter == delimiter and len(parsed.valid) == 2, parsed.rejects
    assert parsed.valid["category"].tolist() == ["burglary", "vandalism"]


def test_a_ragged_row_is_rejected_and_the_rest_imported(tmp_path):
    """One row with an unquoted delimiter is rejected with the reason; the others are read."""
    path = tmp_path / "ragged.csv"
    path.write_text("datum;categorie;lat;lon;omschrijving\n"
                    "01-11-2026;inbraak;52.06;4.49;deur\n"
                    "02-11-2026;inbraak;52.06;4.49;deur; raam; schuur\n"
                    "03-11-2026;inbraak;52.06;4.49\n")
    parsed = parse_incidents(read_table(path), now=NOW)
    assert len(parsed.valid) == 2 and list(parsed.valid["row_number"]) == [1, 3]
    (reason,) = parsed.rejects["reason"]
    assert reason.startswith("row has 7 cells, the header 5") and "double quotes" in reason
    # Nothing of the row is lost: the surplus stays in its last cell.
    assert parsed.rejects["omschrijving"].iloc[0] == "deur; raam; schuur"


def _dates(*values):
    return RawTable(rows=pd.DataFrame({"date": list(values), "category": "burglary", "lat": "52.06",
                                       "lon": "4.49"}))


def test_a_column_of_month_first_dates_is_read_month_first():
    """'1/13/06' only parses month-first, so '1/2/06' in the same column is 2 January."""
    parsed = parse_incidents(_dates("1/2/06", "1/13/06"), now=NOW)
    assert parsed.valid["occurred_from"].dt.tz_convert("Europe/Amsterdam").dt.strftime("%Y-%m-%d").tolist() == [
        "2006-01-02", "2006-01-13"]
    assert parsed.warnings == ()


def test_twelve_hour_clocks_of_us_open_data_portals_are_read():
    """Chicago's and other US portals' '01/13/2016 10:05:00 PM' needs no date format: the column's
    month-first order and the 12-hour clock are both recognised."""
    parsed = parse_incidents(_dates("01/13/2016 10:05:00 PM", "02/01/2016 12:30 AM", "02/01/2016 12:30 PM"),
                             now=NOW)
    local = parsed.valid["occurred_from"].dt.tz_convert("Europe/Amsterdam").dt.strftime("%Y-%m-%d %H:%M")
    assert local.tolist() == ["2016-01-13 22:05", "2016-02-01 00:30", "2016-02-01 12:30"]
    unreadable = parse_incidents(_dates("01/13/2016 25:05 PM"), now=NOW)
    (reason,) = unreadable.rejects["reason"]
    assert "cannot read '01/13/2016 25:05 PM'" in reason and "date format" in reason


def test_us_portal_crime_types_map_to_the_categories():
    """Chicago's 'Primary Type' column is the category, and its offence names map where they mean
    one of ours; the rest (THEFT) need a default category, as any unknown one does."""
    rows = pd.DataFrame({"Date": "01/13/2016 10:05:00 PM", "Latitude": "41.89", "Longitude": "-87.73",
                         "Primary Type": ["BURGLARY", "MOTOR VEHICLE THEFT", "NARCOTICS", "CRIMINAL DAMAGE",
                                          "ASSAULT", "BATTERY", "THEFT"]})
    parsed = parse_incidents(RawTable(rows=rows), now=NOW)
    assert parsed.valid["category"].tolist() == ["burglary", "vehicle_crime", "drugs", "vandalism", "violence",
                                                 "violence"]
    assert len(parsed.rejects) == 1 and "category" in parsed.rejects["reason"].iloc[0]


def test_day_first_only_dates_are_day_first_and_ambiguous_ones_warn():
    """'13/1/06' proves day-first (no warning); a column of '1/2/06' alone is day-first with a warning."""
    proven = parse_incidents(_dates("1/2/06", "13/1/06"), now=NOW)
    assert proven.valid["occurred_from"].dt.tz_convert("Europe/Amsterdam").dt.month.tolist() == [2, 1]
    assert proven.warnings == ()
    ambiguous = parse_incidents(_dates("1/2/06", "3/4/06"), now=NOW)
    assert ambiguous.valid["occurred_from"].dt.tz_convert("Europe/Amsterdam").dt.month.tolist() == [2, 4]
    (warning,) = ambiguous.warnings
    assert "'1/2/06'" in warning and "day-first" in warning and "--date-format" in warning.phrased(flag)


@pytest.mark.parametrize(("dates", "months"), [
    (("02-11-2017 21:00", "03-04-2017 09:30"), [2, 3]), (("1/2/06", "3/4/06"), [1, 3]),
    (("02.11.2017 09:30 PM", "03.04.2017 10:15 AM"), [2, 3])])
def test_the_month_first_format_an_ambiguous_warning_suggests_reads_the_dates(dates, months):
    """The format the warning suggests, given as the date format, reads those very dates month-first."""
    import re

    (warning,) = parse_incidents(_dates(*dates), now=NOW).warnings
    suggested = re.search(r"'(%m[^']*)'", warning).group(1)
    month_first = parse_incidents(_dates(*dates), options=ParseOptions(date_format=suggested), now=NOW)
    assert month_first.rejects.empty
    assert month_first.valid["occurred_from"].dt.tz_convert("Europe/Amsterdam").dt.month.tolist() == months


def test_a_column_needing_both_orders_asks_for_the_date_format():
    """Day-first-only and month-first-only dates in one file stop with a message naming both rows."""
    with pytest.raises(InputError) as refused:
        parse_incidents(_dates("13/1/06", "1/13/06"), now=NOW)
    assert re.search(r"'13/1/06' \(row 1\).*'1/13/06' \(row 2\).*--date-format", refused.value.phrased(flag))


def test_years_before_1970_are_too_far_in_the_past():
    """1677, 1900 and 1000 are refused as too far in the past, not accepted or called unreadable."""
    parsed = parse_incidents(_dates("01-01-1677", "01-01-1900", "01-01-1000", "1000-01-01T10:00+01:00",
                                    "14-11-2026"), now=NOW)
    assert len(parsed.valid) == 1
    assert parsed.rejects["reason"].str.contains("lies too far in the past").all()
    far = parse_incidents(_dates("01-01-9999", "14-11-2026"), now=NOW)
    assert far.rejects["reason"].iloc[0] == "date: lies in the future; check the year"


def test_utf16_csv_is_read(tmp_path):
    """A UTF-16 CSV (Excel's "Unicode text", with or without BOM) is read, not called binary."""
    text = "datum\tcategorie\tlat\tlon\n14-11-2026\tinbraak\t52.06\t4.49\n"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert len(parse_incidents(read_table(path), now=NOW).valid) == 1, encoding
    broken = tmp_path / "broken.csv"
    broken.write_bytes(codecs.BOM_UTF16_LE + "datum\n".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(InputError, match=r"UTF-16.*CSV UTF-8"):
        read_table(broken)


def test_a_gzipped_csv_is_read_and_a_bad_one_named(tmp_path):
    """``.csv.gz`` (as open-data portals export) reads like the CSV; a broken or other gzipped file gets one line."""
    text = "datum;categorie;lat;lon\n14-11-2026;inbraak;52.06;4.49\n15-11-2026;vandalisme;52.07;4.50\n"
    packed = tmp_path / "meldingen.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    plain = tmp_path / "meldingen.csv"
    plain.write_text(text)
    assert read_table(packed).rows.equals(read_table(plain).rows)
    assert len(parse_incidents(read_table(packed), now=NOW).valid) == 2
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(text.encode())[:30])
    with pytest.raises(InputError, match=r"broken.csv.gz: not a readable gzip file .*gzip it again"):
        read_table(broken)
    not_gzip = tmp_path / "plain.csv.gz"
    not_gzip.write_text(text)
    with pytest.raises(InputError, match="not a readable gzip file"):
        read_table(not_gzip)
    geo = tmp_path / "signals.geojson.gz"
    geo.write_bytes(gzip.compress(b"{}"))
    with pytest.raises(InputError, match="unpack it first"):
        read_table(geo)


def test_duplicate_header_names_are_an_error(tmp_path):
    """Two columns called 'lat' are refused, naming both positions."""
    path = tmp_path / "dup.csv"
    path.write_text("datum;categorie;lat;lon;lat\n14-11-2026;inbraak;52.06;4.49;1\n")
    with pytest.raises(InputError, match=r"column 'lat' appears twice \(columns 3 and 5\)"):
        read_table(path)


def test_a_bad_date_format_is_refused_up_front():
    """--date-format '%Q' is an InputError naming the format, not a pandas ValueError later."""
    with pytest.raises(InputError, match="date format '%Q' is not a strptime format"):
        ParseOptions(date_format="%Q")


def test_gdal_warnings_become_import_warnings_not_stderr(tmp_path):
    """A GeoPackage with two layers: the first is read, and the summary (not stderr) says so."""
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "two.gpkg"
    layer = gpd.GeoDataFrame({"datum": ["14-11-2026"], "categorie": ["inbraak"]}, geometry=[Point(4.49, 52.06)],
                             crs="EPSG:4326")
    layer.to_file(path, layer="signalen", driver="GPKG")
    layer.to_file(path, layer="oud", driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_incidents(read_table(path), now=NOW)
    assert len(parsed.valid) == 1
    assert parsed.warnings == ("two.gpkg has 2 layers (signalen, oud); read the first, 'signalen': save the signals "
                               "as a file of their own to read another",)


def test_date_order_is_judged_over_every_date_column():
    """occurred_from proves month-first for occurred_to too; a conflict across columns names both rows."""
    rows = pd.DataFrame({"van": ["1/2/06 22:00", "1/3/06 22:00"], "tot": ["1/3/06 06:00", "1/14/06 06:00"],
                         "category": "burglary", "lat": "52.06", "lon": "4.49"})
    valid = parse_incidents(RawTable(rows=rows), now=NOW).valid
    local = valid["occurred_to"].dt.tz_convert("Europe/Amsterdam").dt.strftime("%Y-%m-%d")
    assert local.tolist() == ["2006-01-03", "2006-01-14"]
    rows["tot"] = ["13/2/06 06:00", "1/14/06 06:00"]
    with pytest.raises(InputError, match=r"'13/2/06 06:00' \(row 1\) reads only day-first and '1/14/06 06:00' "
                                         r"\(row 2\) only month-first"):
        parse_incidents(RawTable(rows=rows), now=NOW)


def test_a_date_format_that_reads_no_row_is_refused_naming_it():
    """A given date format that matches none of the file's dates stops the file (no batch of rejects),
    naming the option and a date as the file writes it; one that reads some rows rejects only the rest."""
    with pytest.raises(InputError, match=r"date_format` '%d/%m/%Y' reads none of the file's dates \(e.g. '2010-01-01"):
        parse_incidents(_dates("2010-01-01 05:40", "2010-01-03 02:29"), options=ParseOptions(date_format="%d/%m/%Y"),
                        now=NOW)
    some = parse_incidents(_dates("01/02/2010", "2010-01-03"), options=ParseOptions(date_format="%d/%m/%Y"), now=NOW)
    assert len(some.valid) == 1 and len(some.rejects) == 1
