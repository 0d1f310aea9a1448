"""The patrol log: planned patrols saved from the route planner (read back for variety), marked
as walked with their actual times, or recorded from a walked GPS track map-matched onto the
ward's street graph. Member names are optional and private: only ``patrol_members`` reads them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from pyproj import Geod
from sqlalchemy.exc import IntegrityError

from . import settings
from ._errors import DataNotFoundError, InputError
from ._geo import transformer
from ._time import aware, from_utc_naive, local_minute, local_zone, now_utc_naive, utc_naive
from .storage import patrols as patrol_store
from .storage.store import Store
from .streets.matching import MatchedTrack, MatchParams, match_track

log = logging.getLogger(__name__)
_GEOD = Geod(ellps="WGS84")

PLANNED = "planned"


@dataclass(frozen=True)
class SavedPatrol:
    """A patrol as stored: when, where, how many people, and the route it follows."""

    id: int
    ward: str
    status: str
    planned_start: datetime
    planned_end: datetime
    team_size: int

    def to_json(self) -> dict:
        return {
            "id": self.id, "ward": self.ward, "status": self.status,
            "planned_start": self.planned_start.isoformat(), "planned_end": self.planned_end.isoformat(),
            "team_size": self.team_size,
        }


def _check_team_size(team_size: int) -> None:
    if team_size < 1:
        msg = f"team_size must be ≥ 1, got {team_size}"
        raise InputError(msg)


def _stored(moment: datetime) -> datetime:
    """A patrol time as stored; a naive one is refused (whose evening would it be?)."""
    return utc_naive(aware(moment, what="patrol times"))


def save_planned_patrol(  # noqa: PLR0913 - one keyword per part of a planned patrol
    store: Store,
    *,
    ward: str,
    start: datetime,
    minutes: float,
    team_size: int,
    route_geojson: dict,
    edges: frozenset = frozenset(),
    members: Sequence[str] = (),
    night: date | None = None,
) -> SavedPatrol:
    """Store a planned patrol with its route (GeoJSON) and the street edges it walks.

    ``start`` must be timezone-aware; ``edges`` are ``(u, v)`` node pairs of the ward graph,
    kept so the next plans can vary from this one. ``members`` (names) are private.
    ``night`` makes it the ward's plan of that night (``was-planner plan-all``): it replaces the
    night's earlier plan in the same transaction, so re-running a night never adds a second one.

    Raises
    ------
    InputError
        The night's earlier plan is no longer planned (walked or cancelled): it is kept.
    """
    _check_team_size(team_size)
    if minutes <= 0:
        msg = f"minutes must be > 0, got {minutes}"
        raise InputError(msg)
    document = {**route_geojson, "edges": sorted([list(map(int, e[:2])) for e in edges])}
    try:
        patrol_id = _add_planned(store, ward, start, minutes, team_size, document, members, night)
    except IntegrityError:
        if night is None:
            raise
        # Another process stored this night's plan between our look and our insert (the unique
        # index stopped a second one): replace that one instead.
        patrol_id = _add_planned(store, ward, start, minutes, team_size, document, members, night)
    end = start + timedelta(minutes=minutes)
    return SavedPatrol(patrol_id, ward, PLANNED, start, end, int(team_size))


def _add_planned(store: Store, ward: str, start: datetime, minutes: float, team_size: int,
                 document: dict, members: Sequence[str], night: date | None) -> int:
    with store.transaction() as conn:
        ward_id = store.ward_ids(conn).get(ward)
        if ward_id is None:
            msg = f"no ward {ward!r} in the store"
            raise DataNotFoundError(msg)
        begin = _stored(start)
        if night is not None and (earlier := patrol_store.night_plan(conn, ward_id, night)) is not None:
            if earlier.status != PLANNED:
                msg = (f"the plan of {ward} for {night} (patrol {earlier.id}) is already {earlier.status}: "
                       "it is kept, not replaced")
                raise InputError(msg)
            if visited := patrol_store.visit_count(conn, earlier.id):
                msg = (f"the plan of {ward} for {night} (patrol {earlier.id}) is being walked ({visited} stops "
                       "marked visited): it is kept, not replaced")
                raise InputError(msg)
            patrol_store.delete_patrol(conn, earlier.id)
        patrol_id = patrol_store.add_patrol(conn, {
            "ward_id": ward_id, "status": PLANNED, "planned_start": begin,
            "planned_end": begin + timedelta(minutes=minutes), "team_size": int(team_size),
            "route_geojson": json.dumps(document), "created_at": now_utc_naive(), "planned_night": night,
        })
        if members:
            _set_members(conn, patrol_id, members)
    return patrol_id


# --------------------------------------------------------------------------------------------
# Walked patrols: the path actually walked, private member names, GPS tracks
# --------------------------------------------------------------------------------------------
WALKED = "walked"
CANCELLED = "cancelled"
PATROL_STATUSES = (PLANNED, WALKED, CANCELLED)

@dataclass(frozen=True)
class WalkedStop:
    """A place the team stopped at (WGS84)."""

    lon: float
    lat: float
    name: str = ""

    def to_json(self) -> dict:
        return {"lon": round(self.lon, 6), "lat": round(self.lat, 6), "name": self.name}


@dataclass(frozen=True)
class WalkedPart:
    """What a patrol walked of its plan when not all of it: the stops it reached and, when known,
    each team's part of its path (WGS84 ``(lon, lat)``) and the street edges ``(u, v)`` walked
    (``parts`` None: the planned path)."""

    stops: tuple[WalkedStop, ...]
    parts: tuple[tuple[tuple[float, float], ...], ...] | None = None
    edges: frozenset = frozenset()

    @property
    def path_lonlat(self) -> tuple[tuple[float, float], ...]:
        return tuple(point for part in self.parts or () for point in part)

    @property
    def length_m(self) -> float:
        return sum(_lonlat_length_m(part) for part in self.parts or ())


@dataclass(frozen=True)
class PatrolRecord:
    """One patrol of the log, as the coverage metrics and the patrol list read it.

    Times are timezone-aware UTC. ``edges`` are ``(u, v)`` node pairs of the ward graph the
    patrol walked (the planned ones until it is marked walked); ``path_lonlat`` the walked (or
    planned) path; member names are deliberately not part of it (see ``patrol_members``).
    """

    id: int
    ward: str
    status: str
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    team_size: int
    notes: str | None = None
    source: str | None = None
    """How the walk was recorded: ``plan`` (marked walked as planned) or ``gpx`` (a GPS track)."""
    length_m: float = 0.0
    edges: frozenset = frozenset()
    stops: tuple[WalkedStop, ...] = ()
    path_lonlat: tuple[tuple[float, float], ...] = ()
    matched_share: float | None = None

    @property
    def walked(self) -> bool:
        return self.status == WALKED

    @property
    def start(self) -> datetime | None:
        """When it began: the actual start once walked, else the planned one."""
        return self.actual_start or self.planned_start

    @property
    def hours(self) -> float:
        """Walked duration in hours (0 unless walked)."""
        if not self.walked or self.actual_start is None or self.actual_end is None:
            return 0.0
        return max(0.0, (self.actual_end - self.actual_start).total_seconds() / 3600)

    @property
    def person_hours(self) -> float:
        return self.team_size * self.hours

    def to_json(self) -> dict:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "id": self.id, "ward": self.ward, "status": self.status,
            "planned_start": iso(self.planned_start), "planned_end": iso(self.planned_end),
            "actual_start": iso(self.actual_start), "actual_end": iso(self.actual_end),
            "team_size": self.team_size, "person_hours": round(self.person_hours, 2),
            "km": round(self.length_m / 1000, 3), "source": self.source, "stops": len(self.stops),
            "notes": self.notes,
        }


def _lonlat_length_m(coords: Sequence[tuple[float, float]]) -> float:
    if len(coords) < 2:
        return 0.0
    lon, lat = np.asarray(coords, float).T
    return float(_GEOD.line_length(lon, lat))


def _route_parts(document: dict) -> tuple[list[tuple[float, float]], list[WalkedStop], float | None]:
    """The path, the stops and (if given) the length of a route GeoJSON FeatureCollection."""
    path: list[tuple[float, float]] = []
    stops: list[WalkedStop] = []
    length = 0.0
    has_length = False
    for feature in document.get("features", []):
        geometry = feature.get("geometry") or {}
        properties = feature.get("properties") or {}
        kind = geometry.get("type")
        if kind == "LineString":
            path.extend(tuple(map(float, c[:2])) for c in geometry["coordinates"])
        elif kind == "MultiLineString":
            for part in geometry["coordinates"]:
                path.extend(tuple(map(float, c[:2])) for c in part)
        elif kind == "Point":
            lon, lat = map(float, geometry["coordinates"][:2])
            if properties.get("kind", "stop") in {"stop", "hotspot"}:
                stops.append(WalkedStop(lon, lat, str(properties.get("name", ""))))
        if kind in {"LineString", "MultiLineString"} and "length_m" in properties:
            length += float(properties["length_m"])
            has_length = True
    return path, stops, (length if has_length else None)


def _record(row) -> PatrolRecord:
    if row.edges_json is not None:
        edges = frozenset(tuple(e) for e in json.loads(row.edges_json))
        stops = tuple(WalkedStop(**s) for s in json.loads(row.stops_json))
        path = tuple(shapely.from_wkt(row.path_wkt).coords) if row.path_wkt else ()
        length = float(row.length_m)
    else:
        document = json.loads(row.route_geojson or "{}")
        edges = frozenset(tuple(e) for e in document.get("edges", []))
        coords, stop_list, given = _route_parts(document)
        stops, path = tuple(stop_list), tuple(coords)
        length = given if given is not None else _lonlat_length_m(coords)
    return PatrolRecord(
        id=int(row.id), ward=row.ward, status=row.status, planned_start=from_utc_naive(row.planned_start),
        planned_end=from_utc_naive(row.planned_end), actual_start=from_utc_naive(row.actual_start),
        actual_end=from_utc_naive(row.actual_end), team_size=int(row.team_size), notes=row.notes, source=row.source,
        length_m=length, edges=edges, stops=stops, path_lonlat=path, matched_share=row.matched_share,
    )


def list_patrols(
    store: Store,
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
) -> list[PatrolRecord]:
    """The patrol log, oldest first: patrols starting (actually, else as planned) in
    ``[since, until)`` of one ward or all, optionally of one status."""
    if status is not None and status not in PATROL_STATUSES:
        msg = f"status must be one of {', '.join(PATROL_STATUSES)}, got {status!r}"
        raise InputError(msg)
    found = patrol_store.patrol_rows(store, ward=ward, status=status,
                                     since=None if since is None else _stored(since),
                                     until=None if until is None else _stored(until))
    return [_record(row) for row in found]


def get_patrol(store: Store, patrol_id: int) -> PatrolRecord:
    """One patrol of the log; ``DataNotFoundError`` if there is none with this id."""
    row = patrol_store.patrol_row(store, patrol_id)
    if row is None:
        msg = f"no patrol with id {patrol_id}"
        raise DataNotFoundError(msg, commands=("patrols list",))
    return _record(row)


def patrol_members(store: Store, patrol_id: int) -> tuple[str, ...]:
    """The names recorded for a patrol (private: for the team's own log, never for reports)."""
    return patrol_store.member_names(store, patrol_id)


def _set_members(conn, patrol_id: int, members: Sequence[str]) -> None:
    patrol_store.replace_members(conn, patrol_id, [str(m).strip() for m in members if str(m).strip()])


def _path_wkt(path: Sequence[tuple[float, float]]) -> str | None:
    return shapely.to_wkt(shapely.LineString(path), rounding_precision=7) if len(path) > 1 else None


@dataclass(frozen=True)
class _Walk:
    """Where a patrol walked, as ``_write_walk`` stores it: ``source`` is ``plan`` or ``gpx``;
    a GPS track also gives its number of fixes and the share of them matched to a street."""

    source: str
    path: Sequence[tuple[float, float]]
    edges: Iterable
    length_m: float
    stops: Sequence[WalkedStop]
    track_points: int | None = None
    matched_share: float | None = None


def _write_walk(conn, patrol_id: int, walk: _Walk) -> None:
    patrol_store.replace_walk(conn, patrol_id, {
        "source": walk.source, "path_wkt": _path_wkt(walk.path),
        "edges_json": json.dumps(sorted([int(u), int(v)] for u, v in walk.edges)), "length_m": float(walk.length_m),
        "stops_json": json.dumps([s.to_json() for s in walk.stops]), "track_points": walk.track_points,
        "matched_share": walk.matched_share, "recorded_at": now_utc_naive(),
    })


def walk_end(start: datetime, clock: time) -> datetime:
    """When a walk that began at ``start`` ended, given only the clock time it ended: on the day
    it began, or the next day when that is not after ``start`` (a round past midnight)."""
    end = datetime.combine(start.date(), clock, tzinfo=start.tzinfo)
    if end <= start:
        end = datetime.combine(start.date() + timedelta(days=1), clock, tzinfo=start.tzinfo)
    return end


_CLOCK_SLACK = timedelta(minutes=5)
"""A walk may end this much after the machine's clock (a phone's clock runs a little ahead)."""


def _check_times(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    # Named as the walk's start and end, as users set them (`--start`/`--end`, the form's times).
    begin, finish = _stored(start), _stored(end)
    walked = f"{local_minute(aware(start))} – {local_minute(aware(end))}"
    if finish <= begin:
        msg = f"the end of the walk must lie after its start, got {walked}"
        raise InputError(msg)
    if finish - begin > timedelta(hours=24):
        msg = f"a patrol lasts at most 24 hours, got {walked}"
        raise InputError(msg)
    if finish > now_utc_naive() + _CLOCK_SLACK:
        msg = (f"the end of the walk ({local_minute(aware(end))}) lies in the future; record a patrol once it "
               "has been walked")
        raise InputError(msg)
    return begin, finish


def mark_walked(
    store: Store,
    patrol_id: int,
    *,
    actual_start: datetime,
    actual_end: datetime,
    notes: str | None = None,
    members: Sequence[str] | None = None,
    team_size: int | None = None,
    walked: WalkedPart | None = None,
) -> PatrolRecord:
    """Mark a patrol as walked with its actual (timezone-aware) start and end, along its planned
    route and stops or the part of them ``walked``. ``members`` (names) are private."""
    begin, finish = _check_times(actual_start, actual_end)
    if team_size is not None:
        _check_team_size(team_size)
    planned = get_patrol(store, patrol_id)
    values = {"status": WALKED, "actual_start": begin, "actual_end": finish}
    if notes is not None:
        values["notes"] = notes
    if team_size is not None:
        values["team_size"] = int(team_size)
    with store.transaction() as conn:
        patrol_store.update_patrol(conn, planned.id, values)
        if planned.source != "gpx":  # a matched GPS track says better where they walked
            path, edges, length = ((planned.path_lonlat, planned.edges, planned.length_m)
                                   if walked is None or walked.parts is None
                                   else (walked.path_lonlat, walked.edges, walked.length_m))
            _write_walk(conn, planned.id, _Walk(source="plan", path=path, edges=edges, length_m=length,
                                                stops=planned.stops if walked is None else walked.stops))
        if members is not None:
            _set_members(conn, planned.id, members)
    return get_patrol(store, planned.id)


def cancel_patrol(store: Store, patrol_id: int, *, notes: str | None = None) -> PatrolRecord:
    """Mark a planned patrol as not walked (weather, illness); it then counts for nothing."""
    planned = get_patrol(store, patrol_id)
    values = {"status": CANCELLED} | ({"notes": notes} if notes is not None else {})
    with store.transaction() as conn:
        patrol_store.update_patrol(conn, planned.id, values)
        patrol_store.delete_walk(conn, planned.id)
    return get_patrol(store, planned.id)


# --- GPS tracks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Track:
    """A GPS track read from a GPX file: ``(lon, lat)`` fixes in order, and their times if known."""

    lonlat: np.ndarray
    times: tuple[datetime, ...] | None


def _read_track(source: str | Path | bytes) -> Track:
    """The fixes of a GPX file (path, or the file's bytes/text): track points, else route points."""
    from .routing.export import read_gpx

    name = "the track"
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("<")):
        path = Path(source)
        if not path.is_file():
            msg = f"no GPX file at {path}"
            raise DataNotFoundError(msg)
        source, name = path.read_bytes(), path.name
    lines = read_gpx(source, name=name)
    fixes = [fix for line in lines if line.kind == "track" for fix in zip(line.lonlat, line.times, strict=True)]
    if not fixes:
        fixes = [fix for line in lines if line.kind == "route" for fix in zip(line.lonlat, line.times, strict=True)]
    if len(fixes) < 2:
        msg = "the GPX file holds fewer than 2 track points"
        raise InputError(msg)
    times = [moment for _, moment in fixes]
    return Track(lonlat=np.array([lonlat for lonlat, _ in fixes], dtype=float),
                 times=tuple(times) if all(moment is not None for moment in times) else None)


@dataclass(frozen=True)
class TrackImport:
    """What ``import_track`` stored: the (new or updated) patrol and how the track matched."""

    patrol: PatrolRecord
    match: MatchedTrack
    times_estimated: bool
    duplicate: bool = False
    """The track was stored before (as ``patrol``), so nothing was added."""

    def to_json(self) -> dict:
        return {"patrol": self.patrol.to_json(), "match": self.match.to_json(),
                "times_estimated": self.times_estimated, "duplicate": self.duplicate}


@dataclass(frozen=True)
class WalkDetails:
    """What the log keeps of a walk besides where it went: how many walked it (``team_size`` ≥ 1),
    notes, and the members' names (private; ``None`` leaves them as they are)."""

    team_size: int = 2
    notes: str | None = None
    members: Sequence[str] | None = None

    def __post_init__(self) -> None:
        _check_team_size(self.team_size)


def _track_times(track: Track, match: MatchedTrack, graph: nx.MultiDiGraph, day: date | None
                 ) -> tuple[datetime, datetime, bool]:
    """Start and end of a walked track, and whether they are estimated: from the track's times,
    else on ``day`` at 19:00 for as long as its length takes at the graph's walking speed."""
    estimated = track.times is None
    if not estimated:
        start, end = min(track.times), max(track.times)
        if end <= start:
            estimated = True
    if estimated:
        if day is None:
            msg = "the track has no times: give the day it was walked ({day} YYYY-MM-DD)"
            raise InputError(msg, options=("day",))
        speed = float(graph.graph.get("speed_kmh", settings.WALKING_SPEED_KMH))
        start = datetime.combine(day, time(19, 0), tzinfo=local_zone())
        end = start + timedelta(hours=max(match.length_m / 1000 / speed, 0.05))
    return start, end, estimated


def _completed_stops(conn, patrol_id: int, *, ward: str, ward_id: int, values: dict, match: MatchedTrack,
                     graph: nx.MultiDiGraph, reach_m: float) -> tuple[WalkedStop, ...]:
    """Mark planned patrol ``patrol_id`` walked with ``values``; its planned stops made on the way."""
    existing = patrol_store.patrol_plan(conn, patrol_id)
    if existing is None:
        msg = f"no patrol with id {patrol_id}"
        raise DataNotFoundError(msg, commands=("patrols list",))
    if existing.ward_id != ward_id:
        msg = f"patrol {patrol_id} is not a patrol of {ward}"
        raise InputError(msg)
    patrol_store.update_patrol(conn, patrol_id, values)
    stops = tuple(_route_parts(json.loads(existing.route_geojson or "{}"))[1])
    # Planned stops count as made only where the walked path came within reach of them.
    return _stops_on_path(stops, match.path_lonlat, graph.graph["crs"], reach_m)


def import_track(
    store: Store,
    graph: nx.MultiDiGraph,
    track: Track | str | Path | bytes,
    *,
    ward: str,
    day: date | None = None,
    patrol_id: int | None = None,
    details: WalkDetails = WalkDetails(),
    params: MatchParams = MatchParams(),
) -> TrackImport:
    """Store a walked GPS track as a walked patrol of ``ward``, map-matched onto ``graph``.

    With ``patrol_id`` the track completes that (planned) patrol; otherwise a new walked patrol
    is added. Start and end come from the track's times; a track without times needs ``day``
    and gets a duration estimated from its length at the graph's walking speed. The same track
    imported again adds nothing: the result is the patrol stored before, ``duplicate`` set.
    ``details``: the team size, notes and members' names to record.
    """
    if not isinstance(track, Track):
        track = _read_track(track)
    match = match_track(graph, track.lonlat, params=params)
    if not match.edges:
        msg = (f"none of the track's {match.n_points} points lies within {params.search_m:g} m of a street of "
               f"{ward}: is it the right ward?")
        raise InputError(msg)
    start, end, estimated = _track_times(track, match, graph, day)
    begin, finish = _check_times(start, end)
    with store.transaction() as conn:
        ward_id = store.ward_ids(conn).get(ward)
        if ward_id is None:
            msg = f"no ward {ward!r} in the store"
            raise DataNotFoundError(msg)
        # The same file imported again is the patrol it was stored as: nothing is added or changed.
        known = _stored_track(conn, ward_id, begin, finish, match) if patrol_id is None else None
        if known is not None:
            patrol_id = known
        else:
            values = {"status": WALKED, "actual_start": begin, "actual_end": finish}
            if details.notes is not None:
                values["notes"] = details.notes
            if patrol_id is None:
                patrol_id = patrol_store.add_patrol(conn, {
                    **values, "ward_id": ward_id, "planned_start": begin, "planned_end": finish,
                    "team_size": int(details.team_size), "route_geojson": None, "created_at": now_utc_naive(),
                })
                stops: tuple[WalkedStop, ...] = ()
            else:
                stops = _completed_stops(conn, patrol_id, ward=ward, ward_id=ward_id,
                                         values=values | {"team_size": int(details.team_size)}, match=match,
                                         graph=graph, reach_m=params.search_m)
            _write_walk(conn, int(patrol_id), _Walk(source="gpx", path=match.path_lonlat, edges=match.edges,
                                                    length_m=match.length_m, stops=stops,
                                                    track_points=match.n_points, matched_share=match.matched_share))
            if details.members is not None:
                _set_members(conn, int(patrol_id), details.members)
    return TrackImport(patrol=get_patrol(store, int(patrol_id)), match=match, times_estimated=estimated,
                       duplicate=known is not None)


def _stored_track(conn, ward_id: int, begin: datetime, finish: datetime, match: MatchedTrack) -> int | None:
    """The walked patrol of the ward stored from this GPS track before, if any: the same times,
    number of fixes and matched path (which the same file on the same streets gives again)."""
    path = _path_wkt(match.path_lonlat)
    walks = patrol_store.track_walks(conn, ward_id=ward_id, status=WALKED, begin=begin, finish=finish,
                             track_points=match.n_points)
    return next((walk_id for walk_id, stored in walks if stored == path), None)


def _stops_on_path(stops: Sequence[WalkedStop], path: Sequence[tuple[float, float]], crs, reach_m: float
                   ) -> tuple[WalkedStop, ...]:
    if not stops or len(path) < 2:
        return ()
    to_metric = transformer(settings.WGS84, crs)
    line = shapely.LineString(np.column_stack(to_metric.transform(*np.asarray(path).T)))
    return tuple(s for s in stops if line.distance(shapely.Point(to_metric.transform(s.lon, s.lat))) <= reach_m)


def write_gpx_track(lonlat: Sequence[tuple[float, float]], path: str | Path, *,
                    times: Sequence[datetime] | None = None, name: str = "patrol") -> Path:
    """Write fixes as a GPX 1.1 track (the format phones record), e.g. a demo walk."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name=name)
    segment = gpxpy.gpx.GPXTrackSegment()
    for i, (lon, lat) in enumerate(lonlat):
        moment = times[i] if times is not None else None
        segment.points.append(gpxpy.gpx.GPXTrackPoint(round(float(lat), 7), round(float(lon), 7), time=moment))
    track.segments.append(segment)
    gpx.tracks.append(track)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(gpx.to_xml(version="1.1"), encoding="utf-8")
    return target
