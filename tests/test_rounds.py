"""Tests for planner/rounds.py: a saved round's stops per team, visits marked on a phone and
finishing the round as walked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from planner import access, rounds
from planner._errors import AccessDeniedError, DataNotFoundError, InputError
from planner.patrols import cancel_patrol, get_patrol, save_planned_patrol
from planner.signals.wards import store_wards
from planner.users import User

RESIDENT = User(name="bewoner", role="resident")
MUNICIPALITY = User(name="gemeente", role="municipality")


def _stop(team: int, number: int, lon: float, lat: float, arrive: float) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"kind": "stop", "team": team, "number": number, "name": f"Stop {team}.{number}",
                           "arrive_min": arrive, "dwell_min": 10.0, "look_for": "open ramen"}}


ROUTE = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[4.50, 52.00], [4.51, 52.00]]},
     "properties": {"kind": "route", "team": 1}},
    # Stops listed out of order: the round shows them by number, the walking order.
    _stop(1, 2, 4.508, 52.0, 30.0), _stop(1, 1, 4.504, 52.0, 12.0), _stop(1, 3, 4.51, 52.0, 50.0),
    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[4.50, 52.00], [4.50, 52.01]]},
     "properties": {"kind": "route", "team": 2}},
    _stop(2, 1, 4.50, 52.005, 15.0),
]}


@pytest.fixture
def planned(store, two_wards):
    """A two-team round in West that started 40 minutes ago; yields (store, patrol id, start)."""
    store_wards(store, two_wards)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    saved = save_planned_patrol(store, ward="West", start=start, minutes=90, team_size=4, route_geojson=ROUTE)
    return store, saved.id, start


def test_the_round_lists_each_teams_stops_in_walking_order(planned):
    store, patrol_id, start = planned
    round_ = rounds.patrol_round(store, patrol_id)
    assert [t.team for t in round_.teams] == [1, 2]
    team = round_.team(1)
    assert [s.number for s in team.stops] == [1, 2, 3]
    assert team.next_stop.number == 1 and team.n_visited == 0
    assert len(team.path_lonlat) == 2 and team.stops[0].look_for == "open ramen"
    assert round_.planned_start == start and round_.to_json()["teams"][1]["stops"][0]["name"] == "Stop 2.1"
    # About 0.004° of longitude at 52° N is 274 m.
    assert team.stops[0].distance_m(52.0, 4.50) == pytest.approx(274, abs=3)
    with pytest.raises(InputError, match="team must be one of 1, 2, got 3"):
        round_.team(3)


def test_a_visit_is_time_stamped_once_and_moves_the_next_stop_on(planned):
    store, patrol_id, start = planned
    first = start + timedelta(minutes=14)
    rounds.visit_stop(store, patrol_id, team=1, stop=1, at=first)
    again = rounds.visit_stop(store, patrol_id, team=1, stop=1, at=first + timedelta(minutes=3))
    team = again.team(1)
    assert team.stops[0].visited_at == first  # the double tap keeps the first time
    assert team.next_stop.number == 2 and team.n_visited == 1
    assert again.team(2).n_visited == 0  # the other team's stop 1 is another stop
    # A skipped stop stays next until it is visited.
    skipped = rounds.visit_stop(store, patrol_id, team=1, stop=3, at=first + timedelta(minutes=20))
    assert skipped.team(1).next_stop.number == 2
    undone = rounds.unvisit_stop(store, patrol_id, team=1, stop=3)
    assert [s.visited for s in undone.team(1).stops] == [True, False, False]


def test_bad_visits_are_refused_naming_what_to_change(planned):
    store, patrol_id, _start = planned
    with pytest.raises(InputError, match="stop must be one of 1, 2, 3 for team 1"):
        rounds.visit_stop(store, patrol_id, team=1, stop=9)
    with pytest.raises(InputError, match="team must be one of 1, 2"):
        rounds.visit_stop(store, patrol_id, team=5, stop=1)
    with pytest.raises(InputError, match="future"):
        rounds.visit_stop(store, patrol_id, team=1, stop=1, at=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(DataNotFoundError, match="no patrol with id 999"):
        rounds.patrol_round(store, 999)
    cancel_patrol(store, patrol_id)
    with pytest.raises(InputError, match="cancelled"):
        rounds.visit_stop(store, patrol_id, team=1, stop=1)


def test_finishing_records_the_walk_with_the_visited_stops(planned):
    """The walk starts when the first visit says the team set off, ends now, holds only the
    stops marked visited and counts the people who walked; a later team moves the end."""
    store, patrol_id, start = planned
    late = start + timedelta(minutes=10)  # set off 10 minutes late: stop 1 (planned +12) at +22
    rounds.visit_stop(store, patrol_id, team=1, stop=1, at=late + timedelta(minutes=12))
    rounds.visit_stop(store, patrol_id, team=1, stop=2, at=late + timedelta(minutes=30))
    end = start + timedelta(minutes=35)
    planned_path = get_patrol(store, patrol_id).path_lonlat
    done = rounds.finish_round(store, patrol_id, at=end, team_size=3)
    record = get_patrol(store, patrol_id)
    assert record.status == "walked" and done.status == "walked"
    assert record.actual_start == late and record.actual_end == end == done.actual_end
    assert [s.name for s in record.stops] == ["Stop 1.1", "Stop 1.2"]
    assert record.team_size == 3 and record.person_hours == pytest.approx(3 * 25 / 60)
    # ROUTE does not say where its stops lie on the path (saved before it did): the planned path is kept.
    assert record.path_lonlat == planned_path and len(planned_path) == 4
    # Team 2 finishes later: the end moves, its stop joins, the start stays.
    rounds.visit_stop(store, patrol_id, team=2, stop=1, at=end)
    rounds.finish_round(store, patrol_id, at=end + timedelta(minutes=3))
    again = get_patrol(store, patrol_id)
    assert again.actual_start == late and again.actual_end == end + timedelta(minutes=3)
    assert len(again.stops) == 3


def test_finishing_without_visits_uses_the_planned_start(planned):
    store, patrol_id, start = planned
    rounds.finish_round(store, patrol_id, at=start + timedelta(minutes=30))
    record = get_patrol(store, patrol_id)
    assert record.actual_start == start and record.stops == ()


def test_a_round_being_walked_is_not_replaced_by_a_new_plan_of_the_night(planned):
    store, _patrol_id, start = planned
    night = date(2026, 12, 2)
    saved = save_planned_patrol(store, ward="West", start=start, minutes=60, team_size=2, route_geojson=ROUTE,
                                night=night)
    rounds.visit_stop(store, saved.id, team=1, stop=1, at=start + timedelta(minutes=5))
    with pytest.raises(InputError, match=r"being walked \(1 stops marked visited\)"):
        save_planned_patrol(store, ward="West", start=start, minutes=60, team_size=2, route_geojson=ROUTE,
                            night=night)
    assert rounds.patrol_round(store, saved.id).team(1).n_visited == 1


def test_rounds_are_for_those_who_walk_them(planned):
    """Residents open, mark and finish rounds; the municipality (no route planning) may not."""
    store, patrol_id, start = planned
    assert access.patrol_round(store, RESIDENT, patrol_id).id == patrol_id
    marked = access.visit_stop(store, RESIDENT, patrol_id, team=1, stop=1)
    assert marked.team(1).n_visited == 1
    assert access.visit_stop(store, RESIDENT, patrol_id, team=1, stop=1, visited=False).team(1).n_visited == 0
    for call in (lambda: access.patrol_round(store, MUNICIPALITY, patrol_id),
                 lambda: access.visit_stop(store, MUNICIPALITY, patrol_id, team=1, stop=1),
                 lambda: access.finish_round(store, MUNICIPALITY, patrol_id)):
        with pytest.raises(AccessDeniedError, match="plan routes"):
            call()
    assert access.finish_round(store, RESIDENT, patrol_id, at=start + timedelta(minutes=30)).status == "walked"


def test_a_round_link_opens_the_patrol_view():
    assert rounds.round_link("https://was.example.nl/wijk/", 12, 2) == "https://was.example.nl/wijk/ronde?patrol=12&team=2"


@pytest.mark.parametrize(("value", "expected"), [("", None), ("https://was.example.nl/", "https://was.example.nl"),
                                                 ("http://10.0.0.5:8501/was", "http://10.0.0.5:8501/was")])
def test_the_public_address_is_read_from_the_environment(monkeypatch, value, expected):
    from planner import settings

    monkeypatch.setenv("WAS_PUBLIC_URL", value)
    assert settings.public_url() == expected


@pytest.mark.parametrize("value", ["was.example.nl", "ftp://was.example.nl", "https://"])
def test_a_bad_public_address_is_refused_with_the_fix(monkeypatch, value):
    from planner import settings

    monkeypatch.setenv("WAS_PUBLIC_URL", value)
    with pytest.raises(InputError, match="WAS_PUBLIC_URL must be the dashboard's address as https://host"):
        settings.public_url()


def test_a_round_ended_half_way_records_the_streets_up_to_its_furthest_visited_stop(store, two_wards, street_grid):
    """A real route's GeoJSON says where each stop lies on the path, so a round ended after its
    first stop records the path and streets up to that stop only (the coverage review must not
    count streets never reached); once its last stop is visited, the whole route."""
    import geopandas as gpd
    from pyproj import Transformer
    from shapely.geometry import Point

    from planner.routing.export import plan_to_geojson
    from planner.routing.routes import RouteParams, plan_patrol

    to_wgs84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    targets = gpd.GeoDataFrame({"score": [5.0, 4.0, 3.0], "name": ["A", "B", "C"], "categories": [[], [], []]},
                               geometry=[Point(92_400, 452_000), Point(92_400, 452_400), Point(92_000, 452_400)],
                               crs="EPSG:28992")
    lon, lat = to_wgs84.transform(92_000, 452_000)
    plan = plan_patrol(street_grid, targets, start=(lat, lon), params=RouteParams(minutes=90, pass_by_m=0))
    (team,) = plan.teams
    assert len(team.stops) == 3 and len(team.nodes) == len(team.vertices)
    for stop in team.stops:  # the stop's corner is where the path is at its index
        node = street_grid.nodes[team.nodes[stop.at]]
        assert to_wgs84.transform(node["x"], node["y"]) == pytest.approx((stop.lon, stop.lat), abs=1e-6)
        assert team.path_lonlat[team.vertices[stop.at]] == pytest.approx((stop.lon, stop.lat), abs=1e-6)

    store_wards(store, two_wards)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=60)
    saved = save_planned_patrol(store, ward="Oost", start=start, minutes=90, team_size=2,
                                route_geojson=plan_to_geojson(plan), edges=team.edges)
    planned = get_patrol(store, saved.id)
    rounds.visit_stop(store, saved.id, team=1, stop=1, at=start + timedelta(minutes=10))
    rounds.finish_round(store, saved.id, at=start + timedelta(minutes=15))
    half = get_patrol(store, saved.id)
    first = team.stops[0]
    expected = set(zip(team.nodes[:first.at], team.nodes[1:first.at + 1], strict=True))
    assert half.edges == expected and 0 < len(half.edges) < len(planned.edges)
    assert half.path_lonlat[-1] == pytest.approx((first.lon, first.lat), abs=1e-6)
    assert 0 < half.length_m < planned.length_m

    for number in (2, 3):
        rounds.visit_stop(store, saved.id, team=1, stop=number, at=start + timedelta(minutes=20 + number))
    rounds.finish_round(store, saved.id, at=start + timedelta(minutes=50))
    whole = get_patrol(store, saved.id)
    assert whole.edges == planned.edges and whole.length_m == pytest.approx(planned.length_m, rel=0.01)


def test_a_round_names_its_stops_and_what_to_look_for_in_the_reader_s_language(store, two_wards):
    """A round saved from a plan's GeoJSON shows each stop in Dutch or English, and what to look for
    as one sentence in that language; a round saved before names had an English one keeps its own."""
    store_wards(store, two_wards)
    stop = _stop(1, 1, 4.504, 52.0, 12.0)
    stop["properties"].update(name="Hotspot 1 (inbraak)", name_en="Hotspot 1 (burglary)", categories=["burglary"],
                              look_for="Let op: open ramen en deuren")
    route = {"type": "FeatureCollection", "features": [ROUTE["features"][0], stop, _stop(1, 2, 4.508, 52.0, 30.0)]}
    saved = save_planned_patrol(store, ward="West", start=datetime.now(UTC), minutes=60, team_size=2,
                                route_geojson=route)
    first, older = rounds.patrol_round(store, saved.id).team(1).stops
    assert (first.label("nl"), first.label("en")) == ("Hotspot 1 (inbraak)", "Hotspot 1 (burglary)")
    assert first.look_for_in("nl").startswith("Let op: open ramen")
    assert first.look_for_in("en").startswith("Look for: open windows") and "Let op" not in first.look_for_in("en")
    assert (older.label("en"), older.look_for_in("en")) == ("Stop 1.2", "open ramen")
