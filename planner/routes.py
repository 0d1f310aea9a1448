"""Patrol routes: tonight's walk over the real streets, as a (team) orienteering problem.

``plan_patrol(G, targets, *, start=..., params=RouteParams())`` snaps the start and the targets
to a prepared street graph (``streets.prepare_graph``), builds the walking-time metric closure
of start and targets (Dijkstra from each), hands it to ``orienteering.solve_orienteering``, and
expands each tour into its street path: ordered stops, street names, length, walking plus dwell
time and score. A target the path passes within ``pass_by_m`` counts as visited. Targets are
any scored places: hotspots, hot street edges or plain points, as a GeoDataFrame with a
``score`` column (optional ``dwell_min``, ``name``, ``categories``), so routes do not depend on
how the targets were found.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from . import settings
from ._errors import InputError
from .orienteering import OrienteeringProblem, SolverParams, solve_orienteering

log = logging.getLogger(__name__)

MAX_SNAP_M = 500.0
"""A start point further than this from the nearest walkable street is refused."""


@dataclass(frozen=True)
class RouteParams:
    """Options of ``plan_patrol``; validated on creation, usable as a cache key."""

    minutes: float = 90.0
    teams: int = 1
    dwell_min: float = settings.DWELL_MINUTES
    speed_kmh: float | None = None
    """Walking speed; ``None`` keeps the speed the graph was prepared with."""
    seed: int = 0
    time_limit: float = 1.0
    pass_by_m: float = 50.0
    max_snap_m: float = MAX_SNAP_M
    variety_penalty: float = 0.0
    """Extra cost factor on street edges walked in recent patrols (0.5: they count 1.5×)."""

    def __post_init__(self) -> None:
        checks = {
            "minutes": self.minutes > 0,
            "teams": isinstance(self.teams, int) and self.teams >= 1,
            "dwell_min": self.dwell_min >= 0,
            "speed_kmh": self.speed_kmh is None or self.speed_kmh > 0,
            "time_limit": self.time_limit > 0,
            "pass_by_m": self.pass_by_m >= 0,
            "max_snap_m": self.max_snap_m > 0,
            "variety_penalty": self.variety_penalty >= 0,
        }
        limits = {
            "minutes": "> 0", "teams": "an integer ≥ 1", "dwell_min": "≥ 0", "speed_kmh": "> 0",
            "time_limit": "> 0", "pass_by_m": "≥ 0", "max_snap_m": "> 0", "variety_penalty": "≥ 0",
        }
        for name, ok in checks.items():
            if not ok:
                msg = f"{name} must be {limits[name]}, got {getattr(self, name)!r}"
                raise InputError(msg)


@dataclass(frozen=True)
class Stop:
    """A numbered stop of a team: a target, where it is and what to look for."""

    number: int
    name: str
    lon: float
    lat: float
    score: float
    dwell_min: float
    arrive_min: float
    categories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number, "name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6),
            "score": round(self.score, 3), "dwell_min": round(self.dwell_min, 1),
            "arrive_min": round(self.arrive_min, 1), "categories": list(self.categories),
        }


@dataclass(frozen=True)
class Team:
    """One team's walk: its stops, the street path, and the totals."""

    stops: tuple[Stop, ...]
    path_lonlat: tuple[tuple[float, float], ...]
    streets: tuple[str, ...]
    length_m: float
    walk_min: float
    dwell_min: float
    score: float
    passed: tuple[str, ...] = ()
    edges: frozenset = frozenset()

    @property
    def duration_min(self) -> float:
        return self.walk_min + self.dwell_min

    def to_json(self) -> dict[str, Any]:
        return {
            "stops": [stop.to_json() for stop in self.stops],
            "length_m": round(self.length_m, 1),
            "duration_min": round(self.duration_min, 1),
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class Plan:
    """The planned patrol of all teams, with the notes a user needs to trust it."""

    teams: tuple[Team, ...]
    total_score: float
    covered_share: float
    budget_min: float
    start_lonlat: tuple[float, float]
    start_snap_m: float
    unreachable: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    overlap_share: float | None = None
    score_given_up: float | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` contract: teams with stops, length, duration and score; totals."""
        return {
            "teams": [team.to_json() for team in self.teams],
            "total_score": round(self.total_score, 3),
            "covered_share": round(self.covered_share, 4),
        }

    def summary(self) -> str:
        head = (
            f"{len(self.teams)} team(s), budget {self.budget_min:g} min; score {self.total_score:.2f} "
            f"({self.covered_share:.0%} of the targets' score); start snapped {self.start_snap_m:.0f} m"
        )
        lines = [head]
        for i, team in enumerate(self.teams, 1):
            stops = " → ".join(f"{s.number}. {s.name}" for s in team.stops) or "no stops"
            lines.append(
                f"team {i}: {len(team.stops)} stops, {team.length_m / 1000:.2f} km, "
                f"{team.duration_min:.0f} min (walk {team.walk_min:.0f} + dwell {team.dwell_min:.0f}), "
                f"score {team.score:.2f}: {stops}"
            )
            if team.passed:
                lines.append(f"  passed within reach (counted): {', '.join(team.passed)}")
        if self.overlap_share is not None:
            lines.append(
                f"overlap with recent patrols: {self.overlap_share:.0%}; score given up for variety: "
                f"{self.score_given_up:.2f}"
            )
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


# --- targets and snapping -----------------------------------------------------------------------


def _targets_in(graph: nx.MultiDiGraph, targets: gpd.GeoDataFrame, params: RouteParams) -> pd.DataFrame:
    if not isinstance(targets, gpd.GeoDataFrame) or "score" not in targets.columns:
        msg = "targets must be a GeoDataFrame with a score column (and optionally dwell_min, name)"
        raise InputError(msg)
    if targets.crs is None:
        msg = "targets have no CRS: set it, e.g. targets.set_crs('EPSG:4326')"
        raise InputError(msg)
    frame = targets.to_crs(graph.graph["crs"])
    # Lines (hot street edges) and polygons (hotspot areas) are visited at a representative point.
    points = [g if g.geom_type == "Point" else (g.interpolate(0.5, normalized=True) if g.geom_type.endswith(
        "LineString") else g.representative_point()) for g in frame.geometry]
    scores = pd.to_numeric(frame["score"], errors="coerce").to_numpy(float)
    if not np.isfinite(scores).all() or (scores < 0).any():
        msg = "every target needs a finite score ≥ 0"
        raise InputError(msg)
    dwell = (pd.to_numeric(frame["dwell_min"], errors="coerce").fillna(params.dwell_min).to_numpy(float)
             if "dwell_min" in frame.columns else np.full(len(frame), params.dwell_min))
    names = (frame["name"].astype(str).to_numpy() if "name" in frame.columns
             else np.array([f"target {i + 1}" for i in range(len(frame))]))
    if "categories" in frame.columns:
        categories = [tuple(c) if isinstance(c, list | tuple) else (str(c),) if isinstance(c, str) else ()
                      for c in frame["categories"]]
    else:
        categories = [()] * len(frame)
    x = np.array([p.x for p in points])
    y = np.array([p.y for p in points])
    nodes, dist = ox.distance.nearest_nodes(graph, x, y, return_dist=True) if len(frame) else ([], [])
    return pd.DataFrame({
        "name": names, "score": scores, "dwell_min": dwell, "categories": categories, "x": x, "y": y,
        "node": list(nodes), "snap_m": np.asarray(dist, float),
    })


def snap_start(graph: nx.MultiDiGraph, lat: float, lon: float, *, max_snap_m: float = MAX_SNAP_M) -> tuple[int, float]:
    """The walkable node nearest to a WGS84 point and its distance (m); refused beyond ``max_snap_m``."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"start {lat},{lon} is not a latitude,longitude pair"
        raise InputError(msg)
    x, y = Transformer.from_crs(settings.WGS84, graph.graph["crs"], always_xy=True).transform(lon, lat)
    node, dist = ox.distance.nearest_nodes(graph, x, y, return_dist=True)
    if dist > max_snap_m:
        msg = (
            f"start {lat:.5f},{lon:.5f} is {dist:,.0f} m from the nearest walkable street of this ward "
            f"(limit {max_snap_m:g} m): choose a start in or near the ward"
        )
        raise InputError(msg)
    return int(node), float(dist)


def central_node(graph: nx.MultiDiGraph) -> int:
    """The node nearest to the middle of the graph's nodes (a start when no meeting point is known)."""
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    return int(ox.distance.nearest_nodes(graph, float(np.median(xs)), float(np.median(ys))))


# --- the plan -----------------------------------------------------------------------------------


def _weights(graph: nx.MultiDiGraph, factor: float, recent: frozenset, penalty: float) -> tuple[dict, list, csr_matrix]:
    index = {node: i for i, node in enumerate(graph.nodes)}
    best: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        cost = float(data["walk_time"]) * factor
        if penalty and ((u, v) in recent or (v, u) in recent):
            cost *= 1 + penalty
        key = (index[u], index[v])
        if cost < best.get(key, math.inf):
            best[key] = cost
    rows, cols = zip(*best, strict=True) if best else ((), ())
    matrix = csr_matrix((list(best.values()), (rows, cols)), shape=(len(index),) * 2)
    return index, list(graph.nodes), matrix


def _path(pred: np.ndarray, source: int, target: int) -> list[int]:
    path = [target]
    while path[-1] != source:
        step = pred[path[-1]]
        if step < 0:
            msg = "no street path between two points of the route"
            raise InputError(msg)
        path.append(int(step))
    return path[::-1]


def plan_patrol(
    graph: nx.MultiDiGraph,
    targets: gpd.GeoDataFrame,
    *,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
    params: RouteParams = RouteParams(),
    recent_edges: frozenset = frozenset(),
) -> Plan:
    """Plan ``params.teams`` walks from ``start`` (lat, lon; default the most central node) back
    to it (or to ``end``) collecting the most target score within ``params.minutes`` each.

    ``recent_edges`` holds ``(u, v)`` street edges of recent patrols; with
    ``params.variety_penalty`` > 0 they cost more, so consecutive nights differ.
    """
    if "walk_time" not in next(iter(graph.edges(data=True)), (0, 0, {}))[2]:
        msg = "the graph has no walking times: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)
    factor = 1.0 if params.speed_kmh is None else float(graph.graph.get("speed_kmh", 4.5)) / params.speed_kmh
    notes: list[str] = []
    if start is None:
        start_node, snap_m = central_node(graph), 0.0
        notes.append("no start given: starting at the most central street node")
    else:
        start_node, snap_m = snap_start(graph, *start, max_snap_m=params.max_snap_m)
    end_node = start_node if end is None else snap_start(graph, *end, max_snap_m=params.max_snap_m)[0]
    table = _targets_in(graph, targets, params)
    too_far = table["snap_m"] > params.max_snap_m
    unreachable = tuple(table.loc[too_far, "name"])
    if unreachable:
        notes.append(f"{len(unreachable)} target(s) lie over {params.max_snap_m:g} m from the streets and are skipped: "
                     + ", ".join(unreachable))
    usable = table[~too_far].reset_index(drop=True)

    def solve(penalty: float) -> tuple[Any, list, np.ndarray, dict, list]:
        index, nodes, matrix = _weights(graph, factor, recent_edges, penalty)
        depots = [index[start_node], index[end_node]]
        points = depots + [index[n] for n in usable["node"]]
        dist, pred = dijkstra(matrix, directed=True, indices=np.unique(points), return_predecessors=True)
        row = {p: i for i, p in enumerate(np.unique(points))}
        cost = np.array([[dist[row[a], b] for b in points] for a in points])
        problem = OrienteeringProblem(
            cost=cost, scores=np.r_[0.0, 0.0, usable["score"].to_numpy(float)],
            budget=params.minutes * 60, start=0, end=1, n_routes=params.teams,
            service=np.r_[0.0, 0.0, usable["dwell_min"].to_numpy(float) * 60],
        )
        solution = solve_orienteering(problem, params=SolverParams(time_limit=params.time_limit, seed=params.seed))
        return solution, points, pred, row, nodes, problem

    solution, points, pred, row, nodes, problem = solve(params.variety_penalty)
    teams = []
    # Every chosen stop counts as visited before any pass-by is credited, so no target counts twice.
    visited = {i - 2 for route in solution.routes for i in route[1:-1]}
    transformer = Transformer.from_crs(graph.graph["crs"], settings.WGS84, always_xy=True)
    for route in solution.routes:
        team = _expand(graph, route, points, pred, row, nodes, usable, factor, transformer, visited, params)
        teams.append(team)
    total = math.fsum(t.score for t in teams)
    all_score = float(table["score"].sum())
    if not any(t.stops for t in teams) and len(usable):
        cheapest = min(
            problem.cost[0, t] + problem.service[t] + problem.cost[t, 1] for t in range(2, problem.n)
        )
        notes.append(
            f"the budget of {params.minutes:g} min is too short to reach any target: the cheapest visit "
            f"takes {cheapest / 60:.0f} min (walk there, stay, walk back); an empty round trip is planned"
        )
    overlap = given_up = None
    if recent_edges:
        walked = frozenset().union(*(t.edges for t in teams))
        overlap = len(walked & _both_ways(recent_edges)) / len(walked) if walked else 0.0
        if params.variety_penalty > 0:
            plain = solve(0.0)[0]
            given_up = max(0.0, plain.score - solution.score)
    start_xy = transformer.transform(graph.nodes[start_node]["x"], graph.nodes[start_node]["y"])
    return Plan(
        teams=tuple(teams), total_score=total, covered_share=total / all_score if all_score > 0 else 0.0,
        budget_min=params.minutes, start_lonlat=(float(start_xy[0]), float(start_xy[1])), start_snap_m=snap_m,
        unreachable=unreachable, notes=tuple(notes), overlap_share=overlap, score_given_up=given_up,
    )


def _both_ways(edges: frozenset) -> frozenset:
    return frozenset(edges) | frozenset((v, u) for u, v in edges)


def _expand(graph, route, points, pred, row, nodes, usable, factor, transformer, visited, params) -> Team:
    """Turn a solver route (indices into ``points``) into stops and a street path."""
    path: list[int] = []
    for a, b in itertools.pairwise(route):
        leg = _path(pred[row[points[a]]], points[a], points[b])
        path.extend(leg if not path else leg[1:])
    node_path = [nodes[i] for i in path] if path else [nodes[points[route[0]]]]
    coords: list[tuple[float, float]] = []
    names: list[str] = []
    length = walk = 0.0
    edges = set()
    for u, v in itertools.pairwise(node_path):
        data = min(graph.get_edge_data(u, v).values(), key=lambda d: d["walk_time"])
        line = data.get("geometry") or shapely.LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        part = list(line.coords)
        coords.extend(part if not coords else part[1:])
        length += float(data["length"])
        walk += float(data["walk_time"]) * factor
        edges.add((u, v))
        name = data.get("name")
        for street in name if isinstance(name, list) else [name]:
            if street and (not names or names[-1] != street):
                names.append(str(street))
    if not coords:
        coords = [(graph.nodes[node_path[0]]["x"], graph.nodes[node_path[0]]["y"])] * 2
    stops, dwell, score, clock = [], 0.0, 0.0, 0.0
    target_ids = [i - 2 for i in route[1:-1]]
    # arrival times along the path: walk time up to each stop's node
    arrive = _arrivals(graph, node_path, factor)
    position = 0
    for tid in target_ids:
        node = usable["node"].iloc[tid]
        while position < len(node_path) - 1 and node_path[position] != node:
            position += 1
        clock = arrive[position] + dwell
        target = usable.iloc[tid]
        lon, lat = transformer.transform(target["x"], target["y"])
        stops.append(Stop(len(stops) + 1, str(target["name"]), float(lon), float(lat), float(target["score"]),
                          float(target["dwell_min"]), clock / 60, tuple(target["categories"])))
        dwell += float(target["dwell_min"]) * 60
        score += float(target["score"])
    passed = []
    line = shapely.LineString(coords)
    for tid, target in usable.iterrows():
        if tid not in visited and line.distance(shapely.Point(target["x"], target["y"])) <= params.pass_by_m:
            visited.add(tid)
            passed.append(str(target["name"]))
            score += float(target["score"])
    lonlat = tuple(transformer.transform(x, y) for x, y in coords)
    return Team(
        stops=tuple(stops), path_lonlat=tuple((float(a), float(b)) for a, b in lonlat), streets=tuple(names),
        length_m=length, walk_min=walk / 60, dwell_min=dwell / 60, score=score, passed=tuple(passed),
        edges=frozenset(edges),
    )


def _arrivals(graph: nx.MultiDiGraph, node_path: list, factor: float) -> list[float]:
    times = [0.0]
    for u, v in itertools.pairwise(node_path):
        times.append(times[-1] + min(d["walk_time"] for d in graph.get_edge_data(u, v).values()) * factor)
    return times
