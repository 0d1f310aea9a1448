"""Tests for planner/signals/wards.py: reading, validating, finding and assigning wards."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Polygon

from planner._errors import DataNotFoundError, InputError
from planner.cli._common import flag
from planner.signals.wards import assign_wards, find_ward, read_wards, validate_wards


def test_real_zoetermeer_wards_load(shared_data):
    """The 9 CBS wards of Zoetermeer load with names and WK codes."""
    wards = read_wards(shared_data / "wards" / "zoetermeer_wijken_2015.geojson")
    assert len(wards) == 9
    assert wards["code"].str.startswith("WK0637").all()
    assert "Wijk 05 Rokkeveen" in set(wards["name"])


def test_police_offices_fall_in_centrum(shared_data):
    """Zoetermeer's police offices (Burgemeester Wegstapelplein, Europaweg) lie in Centrum."""
    wards = read_wards(shared_data / "wards" / "zoetermeer_wijken_2015.geojson")
    offices = gpd.read_file(shared_data / "wards" / "zoetermeer_politiebureaus_2016.geojson")
    names = assign_wards(offices.geometry.x, offices.geometry.y, wards)
    assert list(names) == ["Wijk 00 Centrum", "Wijk 00 Centrum"]


def test_shared_border_goes_to_one_ward_deterministically(two_wards):
    """A point on the border of West and Oost goes to the same ward whatever the row order."""
    border = two_wards.to_crs(4326).geometry.iloc[0].intersection(two_wards.to_crs(4326).geometry.iloc[1])
    point = border.interpolate(0.5, normalized=True)
    lon, lat = pd.Series([point.x, 4.0]), pd.Series([point.y, 40.0])
    forward = assign_wards(lon, lat, two_wards)
    backward = assign_wards(lon, lat, two_wards.iloc[::-1])
    assert forward[0] == backward[0] == "Oost"
    assert forward[1] is None


def test_invalid_ward_files_are_refused(two_wards):
    """No CRS, duplicate names and non-polygons are refused with a message naming the fix."""
    with pytest.raises(InputError, match="set_crs"):
        validate_wards(two_wards.set_crs(None, allow_override=True))
    twice = two_wards.assign(name=["A", "A"])
    with pytest.raises(InputError, match="unique; repeated: A"):
        validate_wards(twice)
    lines = two_wards.set_geometry([LineString([(0, 0), (1, 1)])] * 2, crs=two_wards.crs)
    with pytest.raises(InputError, match="not a polygon"):
        validate_wards(lines)


def test_a_ward_file_with_latitude_and_longitude_swapped_is_refused(tmp_path):
    """Chicago written as (lat, lon) lands near the South Pole: refused, naming the ward and the
    likely swap, instead of loading and then rejecting every signal as outside every ward."""
    chicago = [(-87.72, 41.93), (-87.70, 41.93), (-87.70, 41.95), (-87.72, 41.95)]
    right = gpd.GeoDataFrame({"name": ["Logan Square"]}, geometry=[Polygon(chicago)], crs="EPSG:4326")
    assert len(validate_wards(right)) == 1
    swapped = right.set_geometry([Polygon([(lat, lon) for lon, lat in chicago])], crs="EPSG:4326")
    swapped.to_file(tmp_path / "wijken.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match=r"wijken.geojson: ward 'Logan Square' lies at latitude -87.71, longitude "
                                         r"41.94, where no town is: are longitude and latitude swapped\?"):
        read_wards(tmp_path / "wijken.geojson")


def test_bow_tie_polygon_is_repaired(two_wards):
    """A self-intersecting ring (as generalisation produces) is repaired, not refused."""
    bow = Polygon([(91000, 452000), (92000, 453000), (92000, 452000), (91000, 453000)])
    repaired = validate_wards(two_wards.set_geometry([bow, two_wards.geometry.iloc[1]], crs=two_wards.crs))
    assert repaired.geometry.is_valid.all()


def test_find_ward_by_name_code_or_short_name():
    """Users may name a ward by its name, code or name without the CBS 'Wijk 05' prefix."""
    wards = pd.DataFrame({"name": ["Wijk 05 Rokkeveen", "Wijk 00 Centrum"], "code": ["WK063705", "WK063700"]})
    assert find_ward("rokkeveen", wards) == "Wijk 05 Rokkeveen"
    assert find_ward("WK063700", wards) == "Wijk 00 Centrum"
    with pytest.raises(DataNotFoundError, match="known wards: Wijk 05 Rokkeveen, Wijk 00 Centrum"):
        find_ward("Meerzicht", wards)


def test_missing_name_column_is_explained(tmp_path, two_wards):
    """A ward file without a recognisable name column asks for --name-col."""
    path = tmp_path / "w.geojson"
    two_wards.rename(columns={"name": "label"}).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError) as refused:
        read_wards(path)
    assert "--name-col" in refused.value.phrased(flag)
    assert list(read_wards(path, name_col="label")["name"]) == ["West", "Oost"]


def test_buurten_keep_their_own_codes_beside_wijken(shared_data, store):
    """Zoetermeer's buurten load with their BU codes (not their wijk's WK code), so with the
    wijken loaded too every code names one area and finds it."""
    from planner.signals.wards import store_wards

    wijken = read_wards(shared_data / "wards" / "zoetermeer_wijken_2015.geojson")
    buurten = read_wards(shared_data / "wards" / "zoetermeer_buurten_2015.geojson")
    assert buurten["code"].str.match(r"^BU0637\d{4}$").all() and buurten["code"].is_unique
    store_wards(store, wijken)
    store_wards(store, buurten)
    stored = store.wards()
    assert len(stored) == len(wijken) + len(buurten) and stored["code"].is_unique
    for row in stored.itertuples():
        assert find_ward(row.code, stored) == row.name
