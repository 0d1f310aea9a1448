"""Capacity planner: weekly person-hours against the hotspot score visited, with the real route
planner on the shared street grid and the demo town, the budget rule, the JSON contract and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point
from typer.testing import CliRunner

from planner._errors import DataNotFoundError, InputError
from planner.cli import app
from planner.review.capacity import (
    CapacityCurve,
    CapacityParams,
    CapacityPoint,
    capacity_for,
    parse_hours,
    plan_capacity,
    weekly_rounds,
)

TO_WGS84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
START = TO_WGS84.transform(92_000, 452_000)[::-1]
"""The south-west corner of the shared street grid, as (lat, lon)."""

SEASON_END = datetime(2026, 12, 1, tzinfo=UTC)
"""The end of the conftest ``demo_season`` (its ``DEMO_END``)."""

runner = CliRunner()


def _targets(points: list[tuple[float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"score": [s for *_, s in points], "name": [f"t{i}" for i in range(len(points))]},
        geometry=[Point(x, y) for x, y, _ in points], crs="EPSG:28992",
    )


FIVE_SPOTS = [(92_100, 452_100, 5.0), (92_300, 452_100, 3.0), (92_100, 452_400, 2.0), (92_400, 452_400, 4.0),
              (92_200, 452_300, 1.0)]


def _points(shares: list[float]) -> tuple[CapacityPoint, ...]:
    return tuple(CapacityPoint(person_hours_per_week=h, nights=1, minutes=90.0, plan_person_hours=h,
                               score_share=s, visited_share=s, visits_per_hotspot=s, km_per_week=1.0)
                 for h, s in zip((6.0, 12.0, 24.0, 40.0), shares, strict=False))


def test_curve_rises_with_budget_on_the_street_grid(street_grid):
    """On the 5 × 5 grid, more weekly hours never lower the score share, visits or km, and the largest
    budget reaches far more of the score than the smallest."""
    params = CapacityParams(hours=(1, 2, 3, 4, 5, 6, 7, 9, 12, 16), weeks=2, round_minutes=30, max_round_minutes=90)
    curve = plan_capacity(street_grid, _targets(FIVE_SPOTS), start=START, params=params)
    for field in ("score_share", "visited_share", "visits_per_hotspot", "km_per_week"):
        values = [getattr(p, field) for p in curve.points]
        assert values == sorted(values), field
    assert curve.points[0].score_share == 0 and curve.points[-1].score_share > 0.8


def test_curve_rises_with_budget_in_the_demo_town(demo_season):
    """In Vogelwijk of the demo town the share of the hotspot score visited twice a week does not fall
    as the budget grows, from nothing at 2 person-hours to the target at the largest budget."""
    store, directory = demo_season
    curve = capacity_for(store, "Vogelwijk", data_dir=directory, now=SEASON_END)
    shares = [p.score_share for p in curve.points]
    assert shares == sorted(shares)
    assert shares[0] == 0 and shares[-1] >= 0.8 and curve.hotspots > 0


def test_variety_makes_consecutive_nights_walk_different_streets(street_grid):
    """With variety on, the second night walks other streets than the first; without it, the same."""
    from planner.review.capacity import _round_sequence

    def streets(penalty: float) -> list[frozenset]:
        plans = _round_sequence(street_grid, _targets(FIVE_SPOTS), 2, 90.0, start=START, start_name=None,
                                params=CapacityParams(variety_penalty=penalty))
        return [frozenset().union(*(team.edges for team in plan.teams)) for plan in plans]

    varied, same = streets(0.5), streets(0.0)
    assert varied[0] == same[0] and varied[1] != varied[0]
    assert same[1] == same[0]


def test_visits_are_measured_against_the_hotspot_areas(street_grid):
    """A hotspot whose centre lies 60 m off the streets is visited by its stop only when measured, as
    coverage does, against its area rather than its centre point."""
    targets = _targets([(92_100, 451_940, 3.0)])
    area = targets.assign(geometry=targets.geometry.buffer(50, cap_style="square"))
    params = CapacityParams(hours=(3.0,), weeks=1, visits_per_week=1)
    by_point = plan_capacity(street_grid, targets, start=START, params=params)
    by_area = plan_capacity(street_grid, targets, areas=area, start=START, params=params)
    assert by_point.points[0].score_share == 0 and by_area.points[0].score_share == 1
    with pytest.raises(InputError, match="one row per target"):
        plan_capacity(street_grid, targets, areas=area.iloc[:0], start=START, params=params)


@given(hours=st.floats(0.1, 200), teams=st.integers(1, 3), team_size=st.integers(1, 6),
       round_minutes=st.sampled_from([30.0, 60.0, 75.0, 90.0, 120.0]))
def test_budget_rule_never_spends_more_than_the_budget(hours, teams, team_size, round_minutes):
    """The rounds a budget buys fit in it, on at most 7 nights, and a budget of exactly n rounds
    (n ≤ 7) buys n nights."""
    params = CapacityParams(teams=teams, team_size=team_size, round_minutes=round_minutes)
    nights, minutes = weekly_rounds(hours, params=params)
    assert 0 <= nights <= 7 and minutes <= params.max_round_minutes
    assert nights * teams * team_size * minutes / 60 <= hours + 1e-6
    per_round = teams * team_size * round_minutes / 60
    n = min(7, max(1, int(hours // per_round)))
    assert weekly_rounds(n * per_round, params=params) == (n, round_minutes)


def test_plan_never_spends_more_than_the_budget(street_grid):
    """The planned rounds of every budget, counted as coverage counts person-hours, fit in the
    budget, for one to three teams."""
    for teams in (1, 2, 3):
        params = CapacityParams(hours=(2, 5, 9, 20, 40), weeks=1, teams=teams, team_size=3)
        curve = plan_capacity(street_grid, _targets(FIVE_SPOTS), start=START, params=params)
        for point in curve.points:
            assert point.plan_person_hours <= point.person_hours_per_week + 1e-9
            assert point.plan_person_hours == pytest.approx(point.nights * teams * 3 * point.minutes / 60)


def test_needed_is_the_smallest_budget_reaching_the_target(street_grid):
    """One hotspot a block from the start is visited on every night with a round: twice a week takes
    two 90-minute rounds of two people (6 person-hours), once a week one round (3)."""
    targets = _targets([(92_100, 452_000, 4.0)])
    twice = plan_capacity(street_grid, targets, start=START, ward="Rasterwijk",
                          params=CapacityParams(hours=(2, 3, 4, 6, 8), weeks=2))
    assert [p.nights for p in twice.points] == [0, 1, 1, 2, 2]
    assert [p.score_share for p in twice.points] == [0, 0, 0, 1, 1]
    assert twice.needed == 6
    assert twice.sentence("en").startswith("To visit 80 % of the hotspot score at least twice a week Rasterwijk "
                                           "needs about 6 person-hours a week")
    once = plan_capacity(street_grid, targets, start=START,
                         params=CapacityParams(hours=(2, 3, 4, 6, 8), weeks=2, visits_per_week=1))
    assert once.needed == 3


def test_needed_takes_the_first_budget_reaching_the_target_or_none():
    """`needed` is the smallest budget at or over the target even when a larger one dips below it;
    when none reaches it the sentences say "more than" the largest budget."""
    params = CapacityParams(hours=(6, 12, 24, 40))
    curve = CapacityCurve(ward="Vogelwijk", points=_points([0.5, 0.85, 0.7, 0.9]), params=params, hotspots=3,
                          total_score=9.0, spent_per_week=4.25)
    assert curve.needed == 12
    short = CapacityCurve(ward="Vogelwijk", points=_points([0.1, 0.3, 0.5, 0.79]), params=params, hotspots=3,
                          total_score=9.0, spent_per_week=4.25)
    assert short.needed is None and short.to_json()["needed"]["person_hours_per_week"] is None
    assert "more than 40 person-hours a week; it spent 4.2" in short.sentence("en")
    assert short.sentence("nl") == ("Om 80 % van de hotspotscore minstens twee keer per week te bezoeken heeft "
                                    "Vogelwijk meer dan 40 persoonsuren per week nodig; er werd 4,2 besteed.")


def test_json_is_exactly_the_contract(street_grid):
    """`to_json()` has exactly ward, curve, needed and spent_per_week; each curve entry exactly its
    three keys (km stays in the result object)."""
    curve = plan_capacity(street_grid, _targets(FIVE_SPOTS), start=START, ward="Rasterwijk", spent_per_week=3.0,
                          params=CapacityParams(hours=(3, 6, 12), weeks=1))
    payload = json.loads(json.dumps(curve.to_json()))
    assert list(payload) == ["ward", "curve", "needed", "spent_per_week"]
    assert payload["ward"] == "Rasterwijk" and payload["spent_per_week"] == 3.0
    assert [list(entry) for entry in payload["curve"]] == [["person_hours_per_week", "score_share",
                                                            "visits_per_hotspot"]] * 3
    assert [entry["person_hours_per_week"] for entry in payload["curve"]] == [3, 6, 12]
    assert payload["needed"] == {"target_share": 0.8, "visits_per_week": 2,
                                 "person_hours_per_week": curve.needed}
    assert all(p.km_per_week > 0 for p in curve.points)


def test_same_seed_same_curve(street_grid):
    """Two runs with the same seed give the same curve."""
    params = CapacityParams(hours=(3, 9, 24), weeks=2, seed=7)
    first = plan_capacity(street_grid, _targets(FIVE_SPOTS), start=START, params=params)
    second = plan_capacity(street_grid, _targets(FIVE_SPOTS), start=START, params=params)
    assert first == second


@pytest.mark.parametrize(
    ("options", "field"),
    [({"weeks": 0}, "weeks"), ({"teams": 0}, "teams"), ({"teams": 4}, "teams"), ({"team_size": 0}, "team_size"),
     ({"hours": ()}, "hours"), ({"hours": (4, -1)}, "hours"), ({"hours": "4,8"}, "hours"),
     ({"target_share": 1.5}, "target_share"), ({"visits_per_week": 8}, "visits_per_week"),
     ({"round_minutes": 0}, "round_minutes"), ({"max_round_minutes": 60}, "max_round_minutes"),
     ({"variety_penalty": -0.5}, "variety_penalty"), ({"vary_last": -1}, "vary_last"), ({"seed": 1.5}, "seed")],
)
def test_bad_parameters_raise_with_the_field_named(options, field):
    """An unusable option raises InputError whose message starts with the field's name."""
    with pytest.raises(InputError, match=rf"^{field} \("):
        CapacityParams(**options)


def test_hours_are_parsed_sorted_and_bad_ones_named():
    """`parse_hours` reads "8,2,4" as sorted budgets and names the field for unreadable text."""
    assert parse_hours("8,2,4,4") == (2.0, 4.0, 8.0)
    with pytest.raises(InputError, match=r"^hours .*like 2,4,8"):
        parse_hours("x")


def test_ward_without_graph_or_hotspots_is_refused(store, data_dir, two_wards, street_grid):
    """A ward without a cached street graph, and one with a graph but no hotspots, raise
    DataNotFoundError saying which is missing."""
    from planner.signals.wards import store_wards
    from planner.streets import save_graph, ward_graph_path

    store_wards(store, two_wards)
    with pytest.raises(DataNotFoundError, match="no street graph"):
        capacity_for(store, "Oost", data_dir=data_dir)
    save_graph(street_grid, ward_graph_path("Oost", data_dir=data_dir))
    with pytest.raises(DataNotFoundError, match="no hotspots"):
        capacity_for(store, "Oost", data_dir=data_dir)


def test_capacity_for_reads_the_log_and_writes_nothing(demo_season):
    """`spent_per_week` is coverage's walked person-hours of the last weeks ÷ weeks, and planning the
    simulated weeks adds no patrols; two runs give the same curve."""
    from planner.patrols import list_patrols
    from planner.review.coverage import coverage_for

    store, directory = demo_season
    before = len(list_patrols(store))
    params = CapacityParams(hours=(3, 6, 24), weeks=3)
    first = capacity_for(store, "Bomenwijk", data_dir=directory, params=params, now=SEASON_END)
    assert capacity_for(store, "Bomenwijk", data_dir=directory, params=params, now=SEASON_END) == first
    assert len(list_patrols(store)) == before
    logged = coverage_for(store, "Bomenwijk", SEASON_END - timedelta(weeks=3), SEASON_END, data_dir=directory)
    assert first.spent_per_week == pytest.approx(logged.person_hours / 3) and first.spent_per_week > 0


def test_cli_capacity_json_shape(demo_season):
    """`capacity --json` prints exactly one object with the contract's keys and one curve entry per budget."""
    _, directory = demo_season
    result = runner.invoke(app, ["--data-dir", str(directory), "capacity", "--ward", "vogelwijk", "--weeks", "1",
                                 "--hours", "6,3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == ["ward", "curve", "needed", "spent_per_week"] and payload["ward"] == "Vogelwijk"
    assert [entry["person_hours_per_week"] for entry in payload["curve"]] == [3, 6]
    assert all(list(entry) == ["person_hours_per_week", "score_share", "visits_per_hotspot"]
               for entry in payload["curve"])
    assert list(payload["needed"]) == ["target_share", "visits_per_week", "person_hours_per_week"]
    assert isinstance(payload["spent_per_week"], float | int) and payload["spent_per_week"] >= 0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--weeks", "0"], "weeks to simulate"), (["--teams", "4"], "teams walking at the same time"),
     (["--teams", "0"], "teams walking at the same time"), (["--hours", "x"], "weekly budgets in person-hours"),
     (["--ward", "Nergenshuizen"], "no ward 'Nergenshuizen'")],
)
def test_cli_bad_input_exits_2_with_one_line(demo_season, args, message):
    """Bad capacity options or an unknown ward give exit code 2 and one line naming the problem."""
    _, directory = demo_season
    result = runner.invoke(app, ["--data-dir", str(directory), "capacity", "--ward", "Vogelwijk", *args])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
