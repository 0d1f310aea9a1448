"""Patrol routes: the orienteering plan over a street graph, its budget, snapping and seeds."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
from pyproj import Transformer
from shapely.geometry import Point

pytest.importorskip("planner.orienteering")

from planner import streets
from planner._errors import InputError
from planner.routes import RouteParams, plan_patrol

TO_WGS84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


@pytest.fixture
def grid() -> nx.MultiDiGraph:
    """A prepared 5 × 5 street grid in RD New with 100 m blocks (walking 80 s per block at 4.5 km/h)."""
    raw = nx.MultiDiGraph(crs="EPSG:28992")
    for i in range(5):
        for j in range(5):
            raw.add_node(i * 5 + j, x=92_000.0 + 100 * i, y=452_000.0 + 100 * j)
    for i in range(5):
        for j in range(5):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 5 and j + dj < 5:
                    u, v = i * 5 + j, (i + di) * 5 + j + dj
                    raw.add_edge(u, v, length=100.0, name=f"straat {min(u, v)}")
                    raw.add_edge(v, u, length=100.0, name=f"straat {min(u, v)}")
    return streets.prepare_graph(raw)


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
    assert set(first) == {"teams", "total_score", "covered_share"}
    assert set(first["teams"][0]) == {"stops", "length_m", "duration_min", "score"}


def test_params_are_validated():
    """A negative dwell time is refused with a message naming the field."""
    with pytest.raises(InputError, match="dwell_min must be ≥ 0, got -5"):
        RouteParams(dwell_min=-5)
