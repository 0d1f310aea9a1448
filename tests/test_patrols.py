"""Tests for planner/patrols.py: saving planned patrols and reading their edges back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from planner._errors import DataNotFoundError, InputError
from planner.cli._common import flag
from planner.patrols import save_planned_patrol
from planner.signals.wards import store_wards

EVENING = datetime(2026, 11, 20, 20, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
ROUTE = {"type": "FeatureCollection", "features": []}


def test_saved_patrol_round_trips_its_edges(store, two_wards):
    """A saved plan's edges come back for variety; only the last N patrols of that ward count."""
    store_wards(store, two_wards)
    save_planned_patrol(store, ward="West", start=EVENING, minutes=90, team_size=3, route_geojson=ROUTE,
                        edges=frozenset({(1, 2), (2, 3)}))
    later = EVENING.replace(day=21)
    saved = save_planned_patrol(store, ward="West", start=later, minutes=60, team_size=2, route_geojson=ROUTE,
                                edges=frozenset({(7, 8)}))
    assert saved.planned_end.hour == 21 and saved.status == "planned"
    assert store.recent_patrol_edges("West", last=1) == frozenset({(7, 8)})
    assert store.recent_patrol_edges("West") == frozenset({(1, 2), (2, 3), (7, 8)})
    assert store.recent_patrol_edges("Oost") == frozenset()


def test_bad_patrols_are_refused(store, two_wards):
    """Unknown wards, naive times and empty teams are refused with the field named."""
    store_wards(store, two_wards)
    with pytest.raises(DataNotFoundError, match="Noord"):
        save_planned_patrol(store, ward="Noord", start=EVENING, minutes=90, team_size=2, route_geojson=ROUTE)
    with pytest.raises(InputError, match="timezone"):
        save_planned_patrol(store, ward="West", start=EVENING.replace(tzinfo=None), minutes=90, team_size=2,
                            route_geojson=ROUTE)
    with pytest.raises(InputError, match="team_size"):
        save_planned_patrol(store, ward="West", start=EVENING, minutes=90, team_size=0, route_geojson=ROUTE)


# --- walked patrols, members, GPS tracks (issue 6) --------------------------------------------------
import json  # noqa: E402
from datetime import UTC, timedelta  # noqa: E402

import numpy as np  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from planner.patrols import (  # noqa: E402
    get_patrol,
    list_patrols,
    mark_walked,
    patrol_members,
    write_gpx_track,
)
from planner.streets.matching import MatchParams  # noqa: E402

LINE_ROUTE = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[4.49, 52.06], [4.492, 52.06]]},
     "properties": {"kind": "route", "length_m": 137.0}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.491, 52.06]},
     "properties": {"kind": "stop", "name": "Hotspot 1"}},
]}


def test_marking_walked_keeps_times_stops_and_private_members(store, two_wards):
    """A walked patrol has its actual times, the planned route's length and stops, and member names
    that only patrol_members returns (never the record or its JSON)."""
    store_wards(store, two_wards)
    saved = save_planned_patrol(store, ward="West", start=EVENING, minutes=90, team_size=3, route_geojson=LINE_ROUTE,
                                edges=frozenset({(1, 2)}), members=["Piet Privé"])
    record = mark_walked(store, saved.id, actual_start=EVENING + timedelta(minutes=10),
                         actual_end=EVENING + timedelta(minutes=100), notes="rustig", members=["Anna Anoniem"])
    assert record.status == "walked" and record.person_hours == pytest.approx(4.5)
    assert record.length_m == pytest.approx(137.0) and [s.name for s in record.stops] == ["Hotspot 1"]
    assert record.edges == frozenset({(1, 2)})
    assert patrol_members(store, saved.id) == ("Anna Anoniem",)
    assert "Anoniem" not in json.dumps(record.to_json()) and "Anoniem" not in repr(record)
    assert [p.id for p in list_patrols(store, ward="West", status="walked")] == [saved.id]
    with pytest.raises(InputError, match="the end of the walk must lie after its start"):
        mark_walked(store, saved.id, actual_start=EVENING, actual_end=EVENING - timedelta(minutes=5))


@pytest.fixture(scope="module")
def demo_route(demo_season):
    """A planned demo patrol with a long route: its graph, edges and path."""
    from planner.streets import ward_graph

    store, directory = demo_season
    patrol = max((p for p in list_patrols(store, ward="Schildersbuurt") if p.source == "plan"),
                 key=lambda p: p.length_m)
    return ward_graph(store, "Schildersbuurt", data_dir=directory), patrol


def _noisy_fixes(path_lonlat, crs, *, sigma_m: float, seed: int) -> np.ndarray:
    """A phone's fixes every 1.3 m along a path: drifting noise of ``sigma_m``, 6 wild fixes, a gap."""
    import shapely

    from planner._geo import transformer

    rng = np.random.default_rng(seed)
    line = shapely.LineString(np.column_stack(transformer("EPSG:4326", crs).transform(*np.asarray(path_lonlat).T)))
    xy = shapely.get_coordinates(line.interpolate(np.arange(0, line.length, 1.3)))
    noise = np.zeros_like(xy)
    for i in range(1, len(xy)):
        noise[i] = 0.95 * noise[i - 1] + rng.normal(0, sigma_m * np.sqrt(1 - 0.95**2), 2)
    xy = xy + noise + rng.normal(0, 3, xy.shape)
    wild = rng.choice(len(xy), 6, replace=False)
    xy[wild] += rng.normal(0, 150, (6, 2))
    gap = len(xy) // 2
    xy = np.delete(xy, slice(gap, gap + 40), axis=0)  # 50 m without fixes (a tunnel, a pocket)
    return np.column_stack(transformer(crs, "EPSG:4326").transform(xy[:, 0], xy[:, 1]))


def _street_length(graph, pairs) -> float:
    total = 0.0
    for u, v in pairs:
        data = graph.get_edge_data(u, v) or graph.get_edge_data(v, u)
        total += min(d["length"] for d in data.values())
    return total


@pytest.mark.parametrize("sigma_m", [10.0, 20.0])
def test_noisy_gps_track_matches_the_route_it_followed(demo_route, sigma_m, tmp_path):
    """A seeded noisy track (drifting noise, wild fixes, a gap) along a planned route matches ≥ 90 % of
    the route's street length, and ≥ 80 % of what it matched lies on the route."""
    from planner.streets.matching import match_track

    graph, patrol = demo_route
    fixes = _noisy_fixes(patrol.path_lonlat, graph.graph["crs"], sigma_m=sigma_m, seed=int(sigma_m))
    match = match_track(graph, fixes)
    route = {(min(u, v), max(u, v)) for u, v in patrol.edges}
    found = {(min(u, v), max(u, v)) for u, v in match.edges}
    shared = _street_length(graph, route & found)
    assert shared >= 0.9 * _street_length(graph, route)
    assert shared >= 0.8 * _street_length(graph, found)
    assert match.breaks == 0 and 0.7 * patrol.length_m < match.length_m < 1.5 * patrol.length_m


def test_a_sparse_track_keeps_its_corners_and_detours_to_the_stops(demo_route):
    """A track of turns only (as some phone apps record, or a planned route's GPX) is not smoothed
    like a dense one: the matched path still reaches every stop of the route it followed."""
    import shapely

    from planner._geo import transformer
    from planner.streets.matching import match_track

    graph, patrol = demo_route
    match = match_track(graph, np.asarray(patrol.path_lonlat))
    to_metric = transformer("EPSG:4326", graph.graph["crs"])
    path = shapely.LineString(np.column_stack(to_metric.transform(*np.asarray(match.path_lonlat).T)))
    assert patrol.stops
    assert max(path.distance(shapely.Point(to_metric.transform(s.lon, s.lat))) for s in patrol.stops) < 5
    assert match.length_m > 0.95 * patrol.length_m


def test_a_real_phone_walk_matches_its_streets_whole(shared_data):
    """The real 1 Hz smartphone walk in Heidelberg's old town (CBS smart survey) on the real OSM
    extract: every fix near a street, no break, the walked length as long as the track's, and
    the matched path close to the fixes."""
    import gpxpy
    import shapely

    from planner._geo import transformer
    from planner.streets.build import graph_from_osm_file, prepare_graph
    from planner.streets.matching import match_track

    with (shared_data / "gps" / "heidelberg_walk_2024-06-19.gpx").open() as handle:
        fixes = np.array([(p.longitude, p.latitude) for track in gpxpy.parse(handle).tracks
                          for segment in track.segments for p in segment.points])
    area = shapely.box(*fixes.min(axis=0), *fixes.max(axis=0)).buffer(0.003)
    graph = prepare_graph(graph_from_osm_file(shared_data / "osm" / "heidelberg.osm.pbf", polygon=area))
    match = match_track(graph, fixes)
    to_metric = transformer("EPSG:4326", graph.graph["crs"])
    xy = np.column_stack(to_metric.transform(*fixes.T))
    walked = np.hypot(*np.diff(xy, axis=0).T).sum()
    path = shapely.LineString(np.column_stack(to_metric.transform(*np.asarray(match.path_lonlat).T)))
    assert (match.n_points, match.n_off_graph, match.breaks) == (len(fixes), 0, 0)
    assert 0.9 * walked < match.length_m < 1.1 * walked
    assert np.median(shapely.distance(shapely.points(xy), path)) < 10


def test_import_track_cli_records_a_walked_patrol(demo_season, demo_route, tmp_path):
    """`patrols import-track` stores a walked patrol with the track's times and team size; the
    patrol list shows it and never member names."""
    store, directory = demo_season
    graph, patrol = demo_route
    fixes = _noisy_fixes(patrol.path_lonlat, graph.graph["crs"], sigma_m=12.0, seed=7)
    begin = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    times = [begin + timedelta(seconds=i) for i in range(len(fixes))]
    gpx = write_gpx_track(fixes, tmp_path / "walk.gpx", times=times)
    runner = CliRunner()
    from planner.cli import app

    result = runner.invoke(app, ["--data-dir", str(directory), "patrols", "import-track", str(gpx), "--ward",
                                 "Schildersbuurt", "--team-size", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    record = get_patrol(store, payload["patrol"]["id"])
    assert record.source == "gpx" and record.team_size == 3 and record.status == "walked"
    assert record.person_hours == pytest.approx(3 * (len(fixes) - 1) / 3600)
    assert payload["match"]["edges"] >= 0.9 * len(patrol.edges) / 2
    listed = runner.invoke(app, ["--data-dir", str(directory), "patrols", "list", "--ward", "Schildersbuurt",
                                 "--json"])
    assert listed.exit_code == 0 and record.id in [p["id"] for p in json.loads(listed.stdout)["patrols"]]


def test_tracks_without_times_or_off_the_streets_are_refused(demo_route, store, two_wards, tmp_path):
    """A track without times needs a day; a track far from every street is refused with a reason."""
    from planner.patrols import import_track

    graph, patrol = demo_route
    store_wards(store, two_wards)
    gpx = write_gpx_track(patrol.path_lonlat[:50], tmp_path / "no_times.gpx")
    with pytest.raises(InputError) as refused:
        import_track(store, graph, gpx, ward="West")
    assert "(--date YYYY-MM-DD)" in refused.value.phrased(flag)
    far = write_gpx_track([(4.0, 51.0), (4.001, 51.001)], tmp_path / "far.gpx")
    with pytest.raises(InputError, match="within"):
        import_track(store, graph, far, ward="West", day=EVENING.date())
    with pytest.raises(InputError, match="median_window"):
        MatchParams(median_window=4)


def test_a_clock_time_end_before_the_start_is_the_next_day(store, two_wards):
    """`patrols walked --start '… 23:30' --end 00:40` ends the next day (the rule the dashboard
    uses too: patrols.walk_end); an end after the start stays on the day."""
    from planner.cli import app
    from planner.patrols import walk_end

    local = ZoneInfo("Europe/Amsterdam")
    start = datetime(2026, 10, 24, 23, 30, tzinfo=local)
    assert walk_end(start, datetime(2026, 1, 1, 0, 40).time()) == datetime(2026, 10, 25, 0, 40, tzinfo=local)
    assert walk_end(start, datetime(2026, 1, 1, 23, 50).time()) == datetime(2026, 10, 24, 23, 50, tzinfo=local)
    store_wards(store, two_wards)
    saved = save_planned_patrol(store, ward="West", start=start, minutes=60, team_size=2, route_geojson=LINE_ROUTE)
    result = CliRunner().invoke(app, ["--db", store.url, "patrols", "walked", str(saved.id),
                                      "--start", "2026-10-24 23:30", "--end", "00:40", "--json"])
    assert result.exit_code == 0, result.output
    record = get_patrol(store, saved.id)
    # 25 October 2026 is the end of summer time: 23:30 CEST to 00:40 CEST is 70 minutes.
    assert record.actual_end - record.actual_start == timedelta(minutes=70)


def test_walked_patrols_in_the_future_are_refused(store, two_wards):
    """A patrol cannot be marked walked (nor a track stored) before it ends; from the CLI that is
    `error: …` and exit code 2."""
    from planner.cli import app

    store_wards(store, two_wards)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    saved = save_planned_patrol(store, ward="West", start=tomorrow, minutes=60, team_size=2, route_geojson=LINE_ROUTE)
    with pytest.raises(InputError, match=r"the end of the walk \(\d{4}-\d\d-\d\d \d\d:\d\d\) lies in the future"):
        mark_walked(store, saved.id, actual_start=tomorrow, actual_end=tomorrow + timedelta(hours=1))
    local = tomorrow.astimezone(ZoneInfo("Europe/Amsterdam"))
    later = local + timedelta(hours=1)
    result = CliRunner().invoke(app, ["--db", store.url, "patrols", "walked", str(saved.id),
                                      "--start", f"{local:%Y-%m-%d %H:%M}", "--end", f"{later:%H:%M}"])
    assert result.exit_code == 2 and "future" in result.output and "Traceback" not in result.output
    assert get_patrol(store, saved.id).status == "planned"


def test_the_same_gpx_twice_is_one_patrol(demo_route, store, two_wards, tmp_path):
    """Importing one GPS track twice (with or without times) stores one walked patrol; the second
    import says it is a duplicate and changes nothing."""
    from planner.patrols import WalkDetails, import_track

    graph, patrol = demo_route
    store_wards(store, two_wards)
    begin = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    fixes = patrol.path_lonlat[:80]
    timed = write_gpx_track(fixes, tmp_path / "timed.gpx", times=[begin + timedelta(seconds=5 * i)
                                                                  for i in range(len(fixes))])
    untimed = write_gpx_track(fixes, tmp_path / "untimed.gpx")
    first = import_track(store, graph, timed, ward="West", details=WalkDetails(notes="eerste keer"))
    again = import_track(store, graph, timed.read_bytes(), ward="West", details=WalkDetails(notes="tweede keer"))
    assert not first.duplicate and again.duplicate and again.patrol.id == first.patrol.id
    assert again.to_json()["duplicate"] is True and get_patrol(store, first.patrol.id).notes == "eerste keer"
    day = EVENING.date()
    assert not import_track(store, graph, untimed, ward="West", day=day).duplicate
    assert import_track(store, graph, untimed, ward="West", day=day).duplicate
    assert len(list_patrols(store, ward="West", status="walked")) == 2
