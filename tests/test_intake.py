"""Tests for planner/signals/intake.py: whole imports into the store."""

from __future__ import annotations

import json
from datetime import datetime

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from planner.signals.intake import import_file
from planner.signals.wards import store_wards
from planner.storage.schema import incidents_table

NOW = datetime(2026, 11, 25, 23, 0)

# Points in the two test wards (RD New ~ 91-93 km east, 452-453 km north) as WGS84.
CSV = (
    "id;datum;tijd;categorie;x;y;omschrijving;melder\n"
    "A1;20-11-2026;21:00;inbraak;91500;452500;deur open;J. Jansen\n"
    "A2;21-11-2026;22:00-06:00;vandalisme;92500;452500;;\n"
    "A3;21-11-2026;22:00;graffiti;92500;452500;;\n"
    "A4;21-11-2026;22:00;drugs;95500;452500;;\n"
)


@pytest.fixture
def signals_csv(tmp_path):
    path = tmp_path / "signalen.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_import_assigns_wards_and_rejects_outside_points(store, two_wards, signals_csv, tmp_path):
    """Rows land in their ward; a point outside every ward and an unknown category are rejected."""
    store_wards(store, two_wards)
    report = import_file(store, signals_csv, rejects_dir=tmp_path / "rejects", now=NOW)
    assert report.to_json() == {
        "read": 4, "imported": 2, "duplicates": 0, "rejected": 2, "rejects_file": report.rejects_file,
    }
    assert {w["name"]: w["incidents"] for w in store.ward_summary()} == {"Oost": 1, "West": 1}
    rejects = pd.read_csv(report.rejects_file, sep=";", dtype=str, encoding="utf-8-sig")
    assert list(rejects["id"]) == ["A3", "A4"]
    assert rejects["reason"].iloc[0].startswith("category: unknown 'graffiti'")
    assert "outside every loaded ward" in rejects["reason"].iloc[1]
    assert len(store.rejected(report.batch_id)) == 2


def test_reimport_adds_nothing(store, two_wards, signals_csv, tmp_path):
    """Importing the same file twice adds no row the second time."""
    store_wards(store, two_wards)
    first = import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    second = import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    assert (first.imported, second.imported, second.duplicates) == (2, 0, 2)
    assert store.incident_count() == 2


def test_reporter_is_stored_but_not_returned_by_default(store, two_wards, signals_csv, tmp_path):
    """Reporter identity is kept for those who need it and left out of ordinary reads."""
    store_wards(store, two_wards)
    import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    assert "reporter" not in store.incidents().columns
    assert "J. Jansen" in set(store.incidents(include_personal=True)["reporter"])


def test_import_is_atomic(store, two_wards, signals_csv, tmp_path, monkeypatch):
    """A failure while storing leaves the store exactly as it was: no batch, no rows."""
    store_wards(store, two_wards)
    original = store.known_keys

    def failing(keys, conn=None):
        conn.execute(incidents_table.insert().values(
            content_key="x", occurred_from=NOW, occurred_to=NOW, category="other", source="resident",
            on_patrol=False, lat=0.0, lon=0.0, status="open", created_at=NOW,
        ))
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "known_keys", failing)
    with pytest.raises(RuntimeError):
        import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    monkeypatch.setattr(store, "known_keys", original)
    assert store.incident_count() == 0
    assert store.batches().empty


def test_geojson_import(store, two_wards, tmp_path):
    """Point GeoJSON imports with its CRS; non-point geometries are rejected with a reason."""
    store_wards(store, two_wards)
    gdf = gpd.GeoDataFrame(
        {"datum": ["20-11-2026", "20-11-2026"], "categorie": ["inbraak", "inbraak"]},
        geometry=[Point(91500, 452500), Point(91500, 452500).buffer(10)],
        crs="EPSG:28992",
    )
    path = tmp_path / "signals.geojson"
    gdf.to_file(path, driver="GeoJSON")
    report = import_file(store, path, rejects_dir=tmp_path, now=NOW)
    assert (report.imported, report.rejected) == (1, 1)
    assert "not a point" in report.reasons[0][1]
    assert store.incidents().iloc[0]["ward"] == "West"


def test_without_wards_signals_are_kept_and_assigned_later(store, two_wards, signals_csv, tmp_path):
    """With no wards loaded nothing is lost; loading wards later assigns the stored signals."""
    report = import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    assert report.imported == 3 and report.warnings
    assert store_wards(store, two_wards) == 2
    assert sorted(store.incidents()["ward"].dropna()) == ["Oost", "West"]


def test_rejected_rows_keep_original_cells(store, signals_csv, tmp_path):
    """The stored reject keeps every original cell as JSON."""
    report = import_file(store, signals_csv, rejects_dir=tmp_path, now=NOW)
    kept = store.rejected(report.batch_id)
    assert kept.iloc[0]["id"] == "A3" and kept.iloc[0]["categorie"] == "graffiti"
    assert json.loads(json.dumps(kept.iloc[0].to_dict()))["row_number"] == 3


def test_identical_rows_are_separate_incidents_yet_reimport_adds_nothing(store, tmp_path):
    """Two identical rows (snapped place, month-only date) are two incidents; re-import adds 0,
    and a later file with one more copy adds exactly that one."""
    header = "datum;categorie;Latitude;Longitude\n"
    row = "2016-01;other;51.5150;-0.0900\n"
    first = tmp_path / "two.csv"
    first.write_text(header + row * 2)
    assert import_file(store, first, rejects_dir=tmp_path, now=NOW).imported == 2
    assert import_file(store, first, rejects_dir=tmp_path, now=NOW).imported == 0
    more = tmp_path / "three.csv"
    more.write_text(header + row * 3)
    report = import_file(store, more, rejects_dir=tmp_path, now=NOW)
    assert (report.imported, report.duplicates) == (1, 2)
    assert store.incident_count() == 3
