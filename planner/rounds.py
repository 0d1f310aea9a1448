"""A planned patrol as a team walks it with a phone: each team's numbered stops from the saved
route, the stops marked visited (time stamped) on the way, and finishing the round, which
records the patrol as walked without a GPS upload.

The stops and their numbers are those of the route GeoJSON stored with the plan
(``routing.export.plan_to_geojson``), so the briefing, the GPX and the phone show the same ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pyproj import Geod
from sqlalchemy.exc import IntegrityError

from ._errors import DataNotFoundError, InputError
from ._time import from_utc_naive, now_utc_naive, utc_naive
from .patrols import CANCELLED, WalkedPart, WalkedStop, get_patrol, mark_walked
from .routing.export import what_to_look_for
from .storage import patrols as patrol_store
from .storage.store import Store

_GEOD = Geod(ellps="WGS84")

PAGE = "ronde"
"""The dashboard page of the patrol view (``app.py``): the briefing's links open it."""

ARRIVED_M = 40.0
"""Within this many metres (straight line) of a stop a team counts as there: the phone's
position is seldom better than 10–30 m between buildings."""


@dataclass(frozen=True)
class RoundStop:
    """A stop of the plan: its number within its team's route, where, and what to do there."""

    team: int
    number: int
    name: str
    lon: float
    lat: float
    arrive_min: float
    dwell_min: float
    look_for: str
    visited_at: datetime | None = None
    """When the team marked it visited (timezone-aware UTC), None while it is not."""
    at: int | None = None
    """Its index in the team's ``RoundTeam.nodes`` (None in rounds saved before they were kept)."""
    name_en: str = ""
    """The name in English (empty in rounds saved before names had one: ``name`` then)."""
    categories: tuple[str, ...] = ()
    """The target's signal categories (codes), most frequent first."""

    def label(self, language: str) -> str:
        """The stop's name in ``language``."""
        return self.name_en if language == "en" and self.name_en else self.name

    def look_for_in(self, language: str) -> str:
        """What to look for, as one sentence in ``language`` ("Let op: …" / "Look for: …"); a
        round saved without categories keeps the sentence stored with it."""
        return what_to_look_for(self.categories, language=language) if self.categories else self.look_for

    @property
    def visited(self) -> bool:
        return self.visited_at is not None

    def distance_m(self, lat: float, lon: float) -> float:
        """Straight-line metres from ``(lat, lon)`` to the stop."""
        return float(_GEOD.inv(lon, lat, self.lon, self.lat)[2])

    def to_json(self) -> dict:
        return {"team": self.team, "number": self.number, "name": self.name, "lon": round(self.lon, 6),
                "lat": round(self.lat, 6), "arrive_min": self.arrive_min, "dwell_min": self.dwell_min,
                "look_for": self.look_for,
                "visited_at": None if self.visited_at is None else self.visited_at.isoformat()}


@dataclass(frozen=True)
class RoundTeam:
    """One team's part of the round: its path (WGS84 ``(lon, lat)``) and stops in walking order."""

    team: int
    path_lonlat: tuple[tuple[float, float], ...]
    stops: tuple[RoundStop, ...]
    nodes: tuple[int, ...] = ()
    """The path's street corners in walking order and each one's index in ``path_lonlat``
    (``routing.routes.Team``); empty in rounds saved before they were kept."""
    vertices: tuple[int, ...] = ()

    def walked(self) -> tuple[tuple[tuple[float, float], ...], frozenset] | None:
        """The path and street edges ``(u, v)`` walked so far, as far as the visits tell: the whole
        route once its last stop is visited, up to the furthest visited stop before that, nothing
        before the first visit. None when the round does not say where its stops lie on the path."""
        if not self.nodes or any(stop.at is None for stop in self.stops):
            return None
        reached = [stop.at for stop in self.stops if stop.visited]
        if not reached:
            return (), frozenset()
        last = len(self.nodes) - 1 if self.stops[-1].visited else max(reached)
        edges = frozenset(zip(self.nodes[:last], self.nodes[1:last + 1], strict=True))
        return self.path_lonlat[:self.vertices[last] + 1], edges

    @property
    def next_stop(self) -> RoundStop | None:
        """The first stop in walking order not yet visited (a skipped one stays next until it is)."""
        return next((stop for stop in self.stops if not stop.visited), None)

    @property
    def n_visited(self) -> int:
        return sum(stop.visited for stop in self.stops)


@dataclass(frozen=True)
class PatrolRound:
    """A planned (or walked) patrol with its teams' stops and visits, as the patrol view shows it."""

    id: int
    ward: str
    status: str
    planned_start: datetime
    planned_end: datetime
    team_size: int
    teams: tuple[RoundTeam, ...] = field(default=())
    actual_start: datetime | None = None
    """Once walked (``finish_round``): when it began and ended, timezone-aware UTC."""
    actual_end: datetime | None = None

    def team(self, number: int) -> RoundTeam:
        """Team ``number`` (1-based); ``InputError`` naming the teams there are otherwise."""
        for team in self.teams:
            if team.team == number:
                return team
        msg = f"team must be one of {', '.join(str(t.team) for t in self.teams) or '(none)'}, got {number}"
        raise InputError(msg, options=("team",))

    def summary(self) -> str:
        visited = sum(team.n_visited for team in self.teams)
        stops = sum(len(team.stops) for team in self.teams)
        return (f"patrol {self.id} ({self.ward}, {self.status}): {len(self.teams)} team(s), "
                f"{visited} of {stops} stops visited")

    def to_json(self) -> dict:
        return {
            "id": self.id, "ward": self.ward, "status": self.status,
            "planned_start": self.planned_start.isoformat(), "planned_end": self.planned_end.isoformat(),
            "team_size": self.team_size,
            "actual_start": None if self.actual_start is None else self.actual_start.isoformat(),
            "actual_end": None if self.actual_end is None else self.actual_end.isoformat(),
            "teams": [{"team": t.team, "stops": [s.to_json() for s in t.stops]} for t in self.teams],
        }


def round_link(base_url: str, patrol_id: int, team: int) -> str:
    """The address that opens team ``team``'s part of patrol ``patrol_id`` on a phone."""
    return f"{base_url.rstrip('/')}/{PAGE}?{urlencode({'patrol': int(patrol_id), 'team': int(team)})}"


def _teams(document: dict, visits: dict[tuple[int, int], datetime]) -> tuple[RoundTeam, ...]:
    paths: dict[int, list[tuple[float, float]]] = {}
    walks: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    stops: dict[int, list[RoundStop]] = {}
    for feature in document.get("features", []):
        geometry = feature.get("geometry") or {}
        properties = feature.get("properties") or {}
        team = int(properties.get("team", 1))
        if properties.get("kind") == "route" and geometry.get("type") == "LineString":
            paths.setdefault(team, []).extend(tuple(map(float, c[:2])) for c in geometry["coordinates"])
            nodes, vertices = properties.get("nodes") or [], properties.get("vertices") or []
            if len(nodes) == len(vertices):
                walks[team] = (tuple(map(int, nodes)), tuple(map(int, vertices)))
        elif properties.get("kind") == "stop" and geometry.get("type") == "Point":
            lon, lat = map(float, geometry["coordinates"][:2])
            number = int(properties["number"])
            stops.setdefault(team, []).append(RoundStop(
                team=team, number=number, name=str(properties.get("name", "")), lon=lon, lat=lat,
                arrive_min=float(properties.get("arrive_min", 0.0)), dwell_min=float(properties.get("dwell_min", 0.0)),
                look_for=str(properties.get("look_for", "")), visited_at=visits.get((team, number)),
                at=None if properties.get("at") is None else int(properties["at"]),
                name_en=str(properties.get("name_en") or ""),
                categories=tuple(str(c) for c in properties.get("categories") or ()),
            ))
    return tuple(
        RoundTeam(team=t, path_lonlat=tuple(paths.get(t, ())),
                  stops=tuple(sorted(stops.get(t, ()), key=lambda s: s.number)),
                  nodes=walks.get(t, ((), ()))[0], vertices=walks.get(t, ((), ()))[1])
        for t in sorted(set(paths) | set(stops))
    )


def patrol_round(store: Store, patrol_id: int) -> PatrolRound:
    """The round of a saved patrol: its teams' stops as planned, with the visits marked so far.

    Raises
    ------
    DataNotFoundError
        No patrol with this id.
    InputError
        The patrol has no planned route (it was recorded from a GPS track only).
    """
    row = patrol_store.patrol_row(store, patrol_id)
    if row is None:
        msg = f"no patrol with id {patrol_id}; open the round from the briefing's link or pick it from tonight's list"
        raise DataNotFoundError(msg, commands=("patrols list",))
    if not row.route_geojson:
        msg = f"patrol {patrol_id} has no planned route (it was recorded from a GPS track)"
        raise InputError(msg)
    visits = {(int(v.team), int(v.stop)): from_utc_naive(v.visited_at)
              for v in patrol_store.visit_rows(store, patrol_id)}
    return PatrolRound(
        id=int(row.id), ward=row.ward, status=row.status, planned_start=from_utc_naive(row.planned_start),
        planned_end=from_utc_naive(row.planned_end), team_size=int(row.team_size),
        teams=_teams(json.loads(row.route_geojson), visits), actual_start=from_utc_naive(row.actual_start),
        actual_end=from_utc_naive(row.actual_end),
    )


def _stop_of(round_: PatrolRound, team: int, stop: int) -> RoundStop:
    found = next((s for s in round_.team(team).stops if s.number == stop), None)
    if found is None:
        numbers = ", ".join(str(s.number) for s in round_.team(team).stops) or "(none)"
        msg = f"stop must be one of {numbers} for team {team} of patrol {round_.id}, got {stop}"
        raise InputError(msg, options=("stop",))
    return found


def _open_round(store: Store, patrol_id: int) -> PatrolRound:
    round_ = patrol_round(store, patrol_id)
    if round_.status == CANCELLED:
        msg = f"patrol {patrol_id} was cancelled: plan a new round to walk tonight"
        raise InputError(msg)
    return round_


def visit_stop(store: Store, patrol_id: int, *, team: int, stop: int, at: datetime | None = None) -> PatrolRound:
    """Mark stop ``stop`` of team ``team`` visited at ``at`` (timezone-aware; default now).

    A stop marked again keeps the first time, so a double tap or two phones of one team record
    one visit. Returns the round as it now stands.
    """
    _stop_of(_open_round(store, patrol_id), team, stop)
    moment = now_utc_naive() if at is None else utc_naive(at)
    if moment > now_utc_naive() + timedelta(minutes=5):
        msg = f"the visit's time {at.isoformat()} lies in the future; mark a stop when the team is there"
        raise InputError(msg)
    for attempt in range(2):
        try:
            with store.transaction() as conn:
                patrol_store.add_visit(conn, patrol_id, team, stop, moment)
            break
        except IntegrityError:
            if attempt:  # the other phone's visit is there now: the look above finds it
                raise
    return patrol_round(store, patrol_id)


def unvisit_stop(store: Store, patrol_id: int, *, team: int, stop: int) -> PatrolRound:
    """Take back a stop marked visited by mistake. Returns the round as it now stands."""
    _stop_of(_open_round(store, patrol_id), team, stop)
    with store.transaction() as conn:
        patrol_store.delete_visit(conn, patrol_id, team, stop)
    return patrol_round(store, patrol_id)


def _walked_since(round_: PatrolRound) -> datetime:
    """When the round began: the planned start, or earlier if a stop was reached earlier than
    planned, or later when the first visit shows the team set off late."""
    visited = [s for team in round_.teams for s in team.stops if s.visited]
    if not visited:
        return round_.planned_start
    first = min(visited, key=lambda s: s.visited_at)
    return first.visited_at - timedelta(minutes=first.arrive_min)


def finish_round(store: Store, patrol_id: int, *, at: datetime | None = None, team_size: int | None = None,
                 notes: str | None = None) -> PatrolRound:
    """Record the round as walked until ``at`` (default now): its stops are those marked visited,
    ``team_size`` (people, default as planned) gives the person-hours.

    The streets walked are each team's route up to its furthest visited stop (all of it once its
    last stop is visited; ``RoundTeam.walked``): a round ended half-way does not count the
    streets it never reached in the coverage review. With no stop marked at all, or in a round
    saved before the routes kept their street corners, the planned route is recorded, as when a
    patrol is marked walked by hand.

    The start is estimated from the first visit and its planned arrival (the planned start when
    no stop was marked). A second team finishing later moves the end and adds its stops and streets.
    """
    round_ = _open_round(store, patrol_id)
    end = datetime.now(round_.planned_start.tzinfo) if at is None else at
    start = min(_walked_since(round_), end - timedelta(minutes=1))
    earlier = get_patrol(store, patrol_id)
    if earlier.walked and earlier.actual_end is not None:
        end = max(end, earlier.actual_end)
        start = min(start, earlier.actual_start or start)
    visited = tuple(WalkedStop(s.lon, s.lat, s.name) for team in round_.teams for s in team.stops if s.visited)
    parts = [team.walked() for team in round_.teams]
    walked = WalkedPart(visited)
    if visited and None not in parts:
        walked = WalkedPart(visited, parts=tuple(path for path, _ in parts if path),
                            edges=frozenset().union(*(edges for _, edges in parts)))
    mark_walked(store, patrol_id, actual_start=start, actual_end=end, notes=notes, team_size=team_size,
                walked=walked)
    return patrol_round(store, patrol_id)
