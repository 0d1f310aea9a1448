"""Patrol routes: the orienteering plan over a street graph, its budget, snapping and seeds."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from planner import streets
from planner._errors import DataNotFoundError, InputError
from planner.cli import app
from planner.hotspots import HotspotResult, HotStreetParams, hot_streets
from planner.routing.export import plan_to_geojson, plan_to_gpx, read_route_lines
from planner.routing.routes import RouteParams, edges_along, plan_patrol, ward_start
from planner.routing.targets import targets_from_hot_streets, targets_from_hotspots

TO_WGS84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@pytest.fixture
def grid(street_grid) -> nx.MultiDiGraph:
    """The shared 5 × 5 street grid (conftest), 100 m blocks."""
    return street_grid


def _start(x: float = 92_000, y: float = 452_000) -> tuple[float, float]:
    lon, lat = TO_WGS84.transform(x, y)
    return lat, lon


def _targets(points: list[tuple[float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"score": [s for *_, s in points], "name": [f"t{i}" for i in range(len(points))]},
        geometry=[Point(x, y) for x, y, _ in points], crs="EPSG:28992",
    )


def test_known_optimum_on_a_grid(grid):
    """With time for only one of two far targets, the plan takes the higher-scoring one."""
    targets = _targets([(92_400, 452_000, 5.0), (92_000, 452_400, 8.0)])
    # Each target: 4 blocks there and back (2 × 320 s) + 10 min dwell ≈ 20.7 min; 25 min fits one.
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=25, pass_by_m=0))
    assert [s.name for s in plan.teams[0].stops] == ["t1"]
    assert plan.total_score == pytest.approx(8.0)
    assert plan.teams[0].length_m == pytest.approx(800.0)


def test_duration_never_exceeds_budget(grid):
    """Every team's walking plus dwell time stays within the budget."""
    targets = _targets([(92_000 + 100 * i, 452_000 + 100 * j, 1.0 + i + j) for i in range(5) for j in range(5)])
    for minutes in (15, 45, 90):
        plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=minutes, teams=2, dwell_min=5))
        assert all(team.duration_min <= minutes + 1e-6 for team in plan.teams)


def test_budget_too_short_gives_empty_round_trip_and_says_why(grid):
    """A budget shorter than any visit gives no stops and a note naming the cheapest visit."""
    plan = plan_patrol(grid, _targets([(92_400, 452_400, 3.0)]), start=_start(), params=RouteParams(minutes=5))
    assert plan.teams[0].stops == () and plan.total_score == 0
    assert any("too short" in note for note in plan.notes)


def test_start_far_off_the_network_is_refused(grid):
    """A start over 500 m from the streets is refused; a nearby one is snapped with its distance."""
    with pytest.raises(InputError, match="500 m"):
        plan_patrol(grid, _targets([(92_200, 452_200, 1.0)]), start=_start(91_000, 451_000))
    plan = plan_patrol(grid, _targets([(92_200, 452_200, 1.0)]), start=_start(91_990, 452_000))
    assert plan.start_snap_m == pytest.approx(10.0, abs=0.5)


def test_passing_within_50_m_counts_as_visited(grid):
    """A target 30 m beside the street walked to another target counts without a stop."""
    targets = _targets([(92_400, 452_000, 5.0), (92_200, 452_030, 1.0)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=25))
    assert [s.name for s in plan.teams[0].stops] == ["t0"]
    assert plan.teams[0].passed == ("t1",) and plan.total_score == pytest.approx(6.0)


def test_same_seed_same_plan(grid):
    """Planning twice with the same seed gives the same JSON."""
    targets = _targets([(92_000 + 100 * i, 452_000 + 100 * j, 1.0 + (i * j) % 3) for i in range(5) for j in range(5)])
    params = RouteParams(minutes=60, teams=2, dwell_min=5, seed=3)
    first = plan_patrol(grid, targets, start=_start(), params=params).to_json()
    assert plan_patrol(grid, targets, start=_start(), params=params).to_json() == first
    assert set(first) == {"teams", "total_score", "covered_share", "left_out"}
    assert set(first["teams"][0]) == {"stops", "length_m", "duration_min", "score"}


def test_params_are_validated():
    """A negative dwell time is refused with a message naming the field."""
    with pytest.raises(InputError, match=r"minutes at each stop \(dwell\) must be ≥ 0 and at most 1440 \(a day\), got"):
        RouteParams(dwell_min=-5)


def test_iterations_are_validated():
    """A negative iteration budget is refused; None (solver's choice) is allowed."""
    with pytest.raises(InputError, match="iterations"):
        RouteParams(iterations=-1)
    assert RouteParams(iterations=None).iterations is None


def test_empty_round_trip_passes_nothing(grid):
    """A team that cannot leave the start walks 0 m, takes 0 min and credits no pass-by target."""
    targets = _targets([(92_000, 452_040, 2.0), (92_400, 452_400, 3.0)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=3))
    team = plan.teams[0]
    assert team.stops == () and team.passed == () and team.length_m == 0 and team.duration_min == 0
    assert plan.total_score == 0 and any("too short" in note for note in plan.notes)


def test_targets_far_off_the_network_are_reported_and_skipped(grid):
    """A target 2 km from the streets is named in unreachable and a note; the others are planned."""
    targets = _targets([(92_200, 452_200, 1.0), (94_500, 452_000, 9.0)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=60))
    assert plan.unreachable == ("t1",)
    assert any("t1" in note and "skipped" in note for note in plan.notes)
    assert [s.name for s in plan.teams[0].stops] == ["t0"]
    assert plan.covered_share == pytest.approx(1 / 10)


def test_target_without_a_path_back_is_reported(grid):
    """A target at a dead end reachable only one way (no path back to the start) is skipped."""
    graph = nx.MultiDiGraph(grid)
    graph.add_node(99, x=92_000.0, y=451_900.0)
    graph.add_edge(0, 99, length=100.0, walk_time=80.0, name="eenrichtingpad")
    targets = _targets([(92_000, 451_900, 5.0), (92_100, 452_000, 1.0)])
    plan = plan_patrol(nx.freeze(graph), targets, start=_start(), params=RouteParams(minutes=60, pass_by_m=0))
    assert plan.unreachable == ("t0",)
    assert any("no walking path" in note for note in plan.notes)
    assert [s.name for s in plan.teams[0].stops] == ["t1"]


def test_too_far_for_the_budget_is_named(grid):
    """With stops planned, targets no team could reach within the budget are named in a note."""
    targets = _targets([(92_100, 452_000, 1.0), (92_400, 452_400, 5.0)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=15, pass_by_m=0))
    assert [s.name for s in plan.teams[0].stops] == ["t0"]
    assert any("too far to visit within 15 min" in note and "t1" in note for note in plan.notes)


def test_end_elsewhere_ends_the_path_there(grid):
    """With an end point the walk finishes at the end's street corner, not back at the start."""
    targets = _targets([(92_200, 452_000, 1.0)])
    end_lat, end_lon = _start(92_400, 452_000)
    plan = plan_patrol(grid, targets, start=_start(), end=(end_lat, end_lon), params=RouteParams(minutes=30))
    last_lon, last_lat = plan.teams[0].path_lonlat[-1]
    assert (last_lat, last_lon) == pytest.approx((end_lat, end_lon), abs=1e-6)
    assert plan.teams[0].length_m == pytest.approx(400.0)
    # Without time for a stop the notes call it a walk to the end, not a round trip.
    short = plan_patrol(grid, targets, start=_start(), end=(end_lat, end_lon), params=RouteParams(minutes=8))
    assert not short.teams[0].stops and any("the walk goes straight to the end" in note for note in short.notes)
    assert not any("round trip" in note for note in short.notes)


def test_slower_walking_takes_longer(grid):
    """At half the graph's speed the same walk takes twice the walking minutes."""
    targets = _targets([(92_400, 452_000, 1.0)])
    fast = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=60, dwell_min=0))
    slow = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=60, dwell_min=0, speed_kmh=2.25))
    assert slow.teams[0].walk_min == pytest.approx(2 * fast.teams[0].walk_min)


def test_each_target_counts_once_across_teams(grid):
    """With several teams no target is a stop twice, and the total is the sum of distinct targets."""
    targets = _targets([(92_000 + 100 * i, 452_000 + 100 * j, 1.0 + i) for i in range(5) for j in range(5)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=40, teams=3, dwell_min=3))
    names = [s.name for t in plan.teams for s in t.stops] + [n for t in plan.teams for n in t.passed]
    assert len(names) == len(set(names))
    assert plan.total_score == pytest.approx(sum(float(n[1:]) // 5 + 1 for n in names))


def test_variety_moves_the_route_off_recent_streets(grid):
    """Penalising the streets of the last route makes the next one take other streets to the same
    target; the overlap and the score given up are reported."""
    targets = _targets([(92_400, 452_400, 5.0)])
    params = RouteParams(minutes=40, pass_by_m=0)
    first = plan_patrol(grid, targets, start=_start(), params=params)
    recent = first.teams[0].edges
    again = plan_patrol(grid, targets, start=_start(), params=params, recent_edges=recent)
    varied = plan_patrol(grid, targets, start=_start(), recent_edges=recent,
                         params=RouteParams(minutes=40, pass_by_m=0, variety_penalty=1.0))
    assert again.overlap_share == pytest.approx(1.0)
    # Recent streets with the penalty off (`route --variety 0`): reported, nothing given up, no crash.
    assert again.score_given_up == 0 and "score given up for variety: 0.00" in again.summary()
    assert varied.overlap_share < 0.5
    assert varied.score_given_up == 0 and varied.total_score == pytest.approx(5.0)
    assert all(t.duration_min <= 40 for t in varied.teams)


def test_variety_never_spends_the_budget_on_penalised_minutes(grid):
    """With every street recent there is nothing to vary: the plan keeps the target that fits in
    real minutes (20.7 of 25) though its penalised walk (2 × 10.7 min) would not, and says what
    is left in real minutes."""
    targets = _targets([(92_400, 452_000, 5.0), (92_000, 452_400, 8.0)])
    every_street = frozenset((u, v) for u, v, _ in grid.edges(keys=True))
    params = RouteParams(minutes=25, pass_by_m=0, variety_penalty=1.0)
    plan = plan_patrol(grid, targets, start=_start(), params=params, recent_edges=every_street)
    assert [s.name for s in plan.teams[0].stops] == ["t1"] and plan.score_given_up == 0
    assert plan.left_out["spare_min"] == pytest.approx(25 - plan.teams[0].duration_min, abs=0.05)


def test_route_files_give_back_the_walked_edges(grid, tmp_path):
    """The GPX and GeoJSON of a plan, read back, cover every street edge the plan walks."""
    targets = _targets([(92_400, 452_000, 1.0), (92_400, 452_400, 2.0)])
    plan = plan_patrol(grid, targets, start=_start(), params=RouteParams(minutes=60))
    (tmp_path / "r.gpx").write_text(plan_to_gpx(plan, name="r"), encoding="utf-8")
    (tmp_path / "r.geojson").write_text(json.dumps(plan_to_geojson(plan)), encoding="utf-8")
    walked = plan.teams[0].edges
    for name in ("r.gpx", "r.geojson"):
        found = edges_along(grid, read_route_lines(tmp_path / name))
        assert walked <= found
        assert len(found) <= 2 * len(walked) + 2


def test_bad_route_files_are_refused(tmp_path):
    """A missing file, a wrong suffix and a file without lines each give a clear error."""
    with pytest.raises(DataNotFoundError):
        read_route_lines(tmp_path / "missing.gpx")
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(InputError, match=r"\.gpx or \.geojson"):
        read_route_lines(tmp_path / "r.txt")
    (tmp_path / "p.geojson").write_text(json.dumps({"type": "Point", "coordinates": [4.5, 52.0]}))
    with pytest.raises(InputError, match="no route lines"):
        read_route_lines(tmp_path / "p.geojson")


def test_targets_from_hotspots_are_named_in_dutch_and_english():
    """Hotspots become points at their centroids, named by rank and top category in Dutch (the
    plan's data) and in English (for English exports)."""
    hotspots = gpd.GeoDataFrame(
        {"id": [1, 2], "score": [6.5, 2.0], "top_categories": [[["youth_nuisance", 17], ["drugs", 5]], []],
         "centroid_lon": [4.49, 4.50], "centroid_lat": [52.06, 52.07]},
        geometry=[Point(4.49, 52.06).buffer(0.001), Point(4.50, 52.07).buffer(0.001)], crs="EPSG:4326",
    )
    result = HotspotResult(hotspots=hotspots, signals=None, audience="public", now=pd.Timestamp("2026-11-01", tz="UTC"))
    targets = targets_from_hotspots(result, dwell_min=15)
    assert list(targets["name"]) == ["Hotspot 1 (jongerenoverlast)", "Hotspot 2"]
    assert list(targets["name_en"]) == ["Hotspot 1 (youth nuisance)", "Hotspot 2"]
    assert list(targets["categories"].iloc[0]) == ["youth_nuisance", "drugs"]
    assert list(targets["dwell_min"]) == [15.0, 15.0]
    assert targets.geometry.iloc[0].equals(Point(4.49, 52.06)) and targets.crs == "EPSG:4326"


def test_ward_without_meeting_point_starts_at_its_centre(store, two_wards, grid):
    """A stored ward with no meeting point starts at the graph's most central node."""
    from planner.signals.wards import store_wards

    store_wards(store, two_wards)
    lat, lon, name = ward_start(store, "Oost", grid)
    assert name == "centrum van de wijk"
    assert (lat, lon) == pytest.approx(_start(92_200, 452_200), abs=1e-6)


def _random_graph(draw) -> tuple[nx.MultiDiGraph, list]:
    """A small connected street grid with random block lengths (some streets missing)."""
    size = draw(st.integers(2, 4))
    raw = nx.MultiDiGraph(crs="EPSG:28992")
    for i in range(size):
        for j in range(size):
            raw.add_node(i * size + j, x=92_000.0 + 100 * i, y=452_000.0 + 100 * j)
    for i in range(size):
        for j in range(size):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < size and j + dj < size and (j == 0 or draw(st.booleans())):
                    u, v = i * size + j, (i + di) * size + j + dj
                    length = draw(st.floats(100, 400))
                    raw.add_edge(u, v, length=length)
                    raw.add_edge(v, u, length=length)
    return streets.prepare_graph(raw), list(range(size * size))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_budget_is_never_exceeded_on_random_graphs(data):
    """On random small street graphs and targets, every team stays within the budget, every target
    counts at most once, and the plan is the same for the same seed."""
    graph, _ = _random_graph(data.draw)
    n = data.draw(st.integers(0, 7))
    points = [(data.draw(st.floats(91_950, 92_350)), data.draw(st.floats(451_950, 452_350)),
               data.draw(st.floats(0, 10))) for _ in range(n)]
    params = RouteParams(
        minutes=data.draw(st.floats(1, 60)), teams=data.draw(st.integers(1, 3)),
        dwell_min=data.draw(st.floats(0, 15)), seed=data.draw(st.integers(0, 3)), iterations=10,
    )
    plan = plan_patrol(graph, _targets(points), start=_start(), params=params)
    assert all(team.duration_min <= params.minutes + 1e-6 for team in plan.teams)
    assert all(team.to_json()["duration_min"] <= params.minutes for team in plan.teams)
    names = [s.name for t in plan.teams for s in t.stops] + [p for t in plan.teams for p in t.passed]
    assert len(names) == len(set(names))
    assert plan.total_score <= sum(s for *_, s in points) + 1e-9
    assert plan_patrol(graph, _targets(points), start=_start(), params=params).to_json() == plan.to_json()


# -- on the demo town and a real extract ------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(demo_copy):
    """The demo town (4 wards, graphs, a year of signals) for this module."""
    return demo_copy


def _route(demo_dir, *args):
    return runner.invoke(app, ["--data-dir", str(demo_dir), "--db", f"sqlite:///{demo_dir / 'was.db'}",
                               "route", *args])


def test_cli_route_json_contract(demo_dir, tmp_path):
    """route --json prints exactly {teams: [{stops, length_m, duration_min, score}], total_score,
    covered_share, left_out} within the budget, and writes the three files it was asked for."""
    files = [tmp_path / "r.gpx", tmp_path / "r.geojson", tmp_path / "r.html"]
    result = _route(demo_dir, "--ward", "Vogelwijk", "--minutes", "90", "--json",
                    "--gpx", str(files[0]), "--geojson", str(files[1]), "--briefing", str(files[2]))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"teams", "total_score", "covered_share", "left_out"}
    assert len(payload["teams"]) == 1
    team = payload["teams"][0]
    assert set(team) == {"stops", "length_m", "duration_min", "score"}
    assert team["stops"] and team["duration_min"] <= 90 and 0 < payload["covered_share"] <= 1
    assert {"number", "name", "lat", "lon", "score", "arrive_min", "dwell_min", "categories"} <= set(team["stops"][0])
    assert any(s["name"].startswith("Hotspot 1") for s in team["stops"])
    assert all(path.stat().st_size > 0 for path in files)
    assert "Wijkpost Vogelwijk" in files[2].read_text(encoding="utf-8")


def test_cli_route_is_deterministic_and_respects_teams(demo_dir):
    """The same seed prints the same plan twice; two teams give two routes within the budget."""
    args = ["--ward", "Bomenwijk", "--minutes", "45", "--teams", "2", "--seed", "4", "--window", "20:00-23:00",
            "--day", "fri", "--json"]
    first, second = _route(demo_dir, *args), _route(demo_dir, *args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    teams = json.loads(first.stdout)["teams"]
    assert len(teams) == 2 and all(t["duration_min"] <= 45 for t in teams)


def test_cli_route_bad_input(demo_dir):
    """A far start is refused (exit 2, the 500 m limit named), with a hint when it was given the
    wrong way round; a near one is snapped and reported;
    a too-short budget gives an empty round trip saying why; a bad ward or start is refused."""
    far = _route(demo_dir, "--ward", "Vogelwijk", "--start", "52.60,5.30")
    assert far.exit_code == 2 and "500 m" in far.stderr and "Traceback" not in far.output
    assert "latitude first" not in far.stderr
    swapped = _route(demo_dir, "--ward", "Vogelwijk", "--start", "5.2380,52.5545")
    assert swapped.exit_code == 2 and "52.55450,5.23800 is " in swapped.stderr and "latitude first" in swapped.stderr
    near = _route(demo_dir, "--ward", "Vogelwijk", "--start", "52.5545,5.2380", "--minutes", "30")
    assert near.exit_code == 0 and "snapped" in near.stdout
    short = _route(demo_dir, "--ward", "Vogelwijk", "--minutes", "4")
    assert short.exit_code == 0 and "too short" in short.stdout and "0 stop(s)" in short.stdout
    assert _route(demo_dir, "--ward", "Nergenswijk").exit_code == 2
    bad = _route(demo_dir, "--ward", "Vogelwijk", "--start", "noord")
    assert bad.exit_code == 2 and "LAT,LON" in bad.stderr


def test_cli_route_varies_from_a_previous_route(demo_dir, tmp_path):
    """--avoid with the previous night's GPX reports the overlap with it."""
    gpx = tmp_path / "previous.gpx"
    assert _route(demo_dir, "--ward", "Schildersbuurt", "--minutes", "60", "--gpx", str(gpx)).exit_code == 0
    result = _route(demo_dir, "--ward", "Schildersbuurt", "--minutes", "60", "--avoid", str(gpx))
    assert result.exit_code == 0, result.output
    assert "overlap with recent patrols" in result.stdout


def test_hot_street_targets_keep_privacy_and_distance(demo_dir):
    """Hot-street targets have ≥ 5 signals within 100 m, lie ≥ 150 m apart and from the hotspots."""
    from planner.hotspots import find_hotspots
    from planner.storage.store import open_store

    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    graph = streets.ward_graph(store, "Vogelwijk", data_dir=demo_dir)
    incidents = store.incidents(ward="Vogelwijk")
    wards = store.wards()
    spots = targets_from_hotspots(find_hotspots(incidents, wards[wards["name"] == "Vogelwijk"]))
    hot = hot_streets(graph, incidents, params=HotStreetParams())
    targets = targets_from_hot_streets(hot, incidents, top=5, avoid=spots)
    assert 1 <= len(targets) <= 5
    middles = targets.geometry.interpolate(0.5, normalized=True)
    anchors = list(middles) + list(spots.to_crs(targets.crs).geometry)
    for i, point in enumerate(middles):
        assert all(point.distance(other) >= 150 for j, other in enumerate(anchors) if j != i)
    signals = gpd.GeoSeries(gpd.points_from_xy(incidents["lon"], incidents["lat"]), crs=4326).to_crs(targets.crs)
    assert all((signals.distance(point) <= 100).sum() >= 5 for point in middles)
    assert targets["score"].is_monotonic_decreasing
    assert ward_start(store, "Vogelwijk", graph)[2] == "Wijkpost Vogelwijk"


@pytest.mark.shared
def test_real_extract_west_oakland(shared_data):
    """On the West Oakland OSM extract a 60-minute walk to hand-placed targets stays in budget and
    follows named streets."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(shared_data / "osm" / "west-oakland.osm.bz2"))
    to_wgs = Transformer.from_crs(graph.graph["crs"], "EPSG:4326", always_xy=True)
    nodes = sorted(graph.nodes)
    picks = [graph.nodes[nodes[i]] for i in range(0, len(nodes), max(1, len(nodes) // 6))][:6]
    targets = gpd.GeoDataFrame(
        {"score": [1.0 + i for i in range(len(picks))], "name": [f"spot {i}" for i in range(len(picks))]},
        geometry=[Point(p["x"] + 15, p["y"]) for p in picks], crs=graph.graph["crs"],
    )
    lon, lat = to_wgs.transform(picks[0]["x"], picks[0]["y"])
    plan = plan_patrol(graph, targets, start=(lat, lon), params=RouteParams(minutes=60, dwell_min=5))
    team = plan.teams[0]
    assert team.stops and team.duration_min <= 60 and plan.start_snap_m < 1
    assert team.streets and all(isinstance(s, str) for s in team.streets)
    line = LineString(team.path_lonlat)
    assert line.bounds[0] > -122.4 and line.bounds[2] < -122.2


def test_teams_and_budgets_are_bounded():
    """--teams 100000 and --minutes 1e308 are refused up front, saying the bound."""
    with pytest.raises(InputError, match="teams must be an integer from 1 to 4, got 100000"):
        RouteParams(teams=100_000)
    with pytest.raises(InputError, match=r"minutes must be > 0 and at most 1440 \(a day\), got 1e\+308"):
        RouteParams(minutes=1e308)


def test_an_unusable_end_is_called_the_end(grid):
    """An end far from the streets is named 'end' in the message, not 'start'."""
    with pytest.raises(InputError, match=r"^end 0\.00000,0\.00000 is .* m from the nearest walkable street"):
        plan_patrol(grid, _targets([]), start=_start(), end=(0.0, 0.0))


def test_a_binary_file_named_gpx_is_an_input_error(tmp_path):
    """Binary bytes where a GPX is expected: a one-line InputError, not a UnicodeDecodeError."""
    path = tmp_path / "old.gpx"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"old\.gpx: not a GPX file"):
        read_route_lines(path)


def test_unnamed_hot_streets_and_second_stretches_are_named_in_both_languages():
    """A street without a name is an unnamed path ("naamloos pad"), a street's second stretch gets
    its own name, in Dutch and in English alike."""
    from planner.routing.targets import _street_names

    stretches: dict[str, int] = {}
    names = [_street_names(name, stretches) for name in (None, "Dorpsstraat", "", "Dorpsstraat, Oost", None)]
    assert names == [("naamloos pad", "unnamed path"), ("Dorpsstraat", "Dorpsstraat"),
                     ("naamloos pad, deel 2", "unnamed path, part 2"), ("Dorpsstraat, deel 2", "Dorpsstraat, part 2"),
                     ("naamloos pad, deel 3", "unnamed path, part 3")]
