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

import functools
import itertools
import logging
import math
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .. import settings
from .._errors import DataNotFoundError, InputError
from ..i18n import N_, and_list, category_label, translation
from .orienteering import OrienteeringProblem, SolverParams, solve_orienteering

if TYPE_CHECKING:
    from ..hotspots import HotspotResult, HotStreets, TimeWindow

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
    iterations: int | None = 200
    """Search iterations (of each of the solver's two parallel searches); a count (not seconds)
    keeps the plan the same on every machine for a seed. ``None`` lets the solver choose (more
    iterations, often cut by ``time_limit``)."""

    def __post_init__(self) -> None:
        checks = {
            # A round longer than a day is a typo (1e308 minutes overflowed the solver's budget).
            "minutes": 0 < self.minutes <= 24 * 60,
            "teams": isinstance(self.teams, int) and 1 <= self.teams <= settings.MAX_TEAMS,
            "dwell_min": 0 <= self.dwell_min <= 24 * 60,
            "speed_kmh": self.speed_kmh is None or self.speed_kmh > 0,
            "time_limit": self.time_limit > 0,
            "pass_by_m": self.pass_by_m >= 0,
            "max_snap_m": self.max_snap_m > 0,
            "variety_penalty": self.variety_penalty >= 0,
            "iterations": self.iterations is None or (isinstance(self.iterations, int) and self.iterations >= 0),
        }
        limits = {
            "minutes": "> 0 and at most 1440 (a day)", "teams": f"an integer from 1 to {settings.MAX_TEAMS}",
            "dwell_min": "≥ 0 and at most 1440 (a day)", "speed_kmh": "> 0", "time_limit": "> 0",
            "pass_by_m": "≥ 0", "max_snap_m": "> 0",
            "variety_penalty": "≥ 0 (the extra cost of recently walked streets: 0.5 counts them 1.5×)",
            "iterations": "None or an integer ≥ 0",
        }
        for name, ok in checks.items():
            if not ok:
                msg = f"{name} must be {limits[name]}, got {getattr(self, name)!r}"
                raise InputError(msg)


@dataclass(frozen=True)
class Stop:
    """A numbered stop of a team: a target, where the team stands for it (the street corner
    nearest the target), when it arrives, how long it stays and the target's signal categories."""

    number: int
    name: str
    lon: float
    lat: float
    score: float
    dwell_min: float
    arrive_min: float
    categories: tuple[str, ...] = ()
    explanation: str = ""
    """Why the stop is on the route (Dutch): its share of the collected score and the target's
    own explanation (the hotspot's, or the hot street's counts)."""
    explanation_en: str = ""
    share: float = 0.0
    """This stop's score ÷ the plan's collected score."""

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number, "name": self.name, "lat": round(self.lat, 6), "lon": round(self.lon, 6),
            "score": round(self.score, 3), "dwell_min": round(self.dwell_min, 1),
            "arrive_min": round(self.arrive_min, 1), "categories": list(self.categories),
            "share": round(self.share, 4), "explanation": self.explanation, "explanation_en": self.explanation_en,
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
            # Rounded down, so a walk within the budget never reads as over it.
            "duration_min": math.floor(self.duration_min * 10 + 1e-6) / 10,
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
    start_name: str = "start"
    streets_lonlat: tuple[tuple[tuple[float, float], ...], ...] = ()
    """The streets around the routes (WGS84 lines), drawn under the routes on the printed map."""
    extra: dict = field(default_factory=dict)
    left_out: dict | None = None
    """The highest-scoring target that is not on any route and why: ``{"name", "score",
    "reason"`` (``"budget"``: it fits alone but not next to the chosen stops; ``"distance"``:
    walking there, staying and walking back alone exceeds the budget; ``"unreachable"``: off
    the street network or no path; ``"not_chosen"``: it would have fitted, the search chose
    other stops), ``"needed_min"`` (extra minutes its cheapest insertion needs, or the minutes
    of a visit on its own for ``distance``), ``"spare_min"`` (the least-used team's minutes
    left), ``"explanation"``, ``"explanation_en"``}``; ``None`` when every target is visited."""

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` contract: teams with stops, length, duration and score; totals; and
        ``left_out`` (``Plan.left_out``)."""
        return {
            "teams": [team.to_json() for team in self.teams],
            "total_score": round(self.total_score, 3),
            "covered_share": round(self.covered_share, 4),
            "left_out": self.left_out,
        }

    def summary(self) -> str:
        head = (
            f"{len(self.teams)} team(s), budget {self.budget_min:g} min; score {self.total_score:.2f} "
            f"({self.covered_share:.0%} of the targets' score); start {self.start_name} "
            f"(snapped {self.start_snap_m:.0f} m to the nearest street)"
        )
        lines = [head]
        for i, team in enumerate(self.teams, 1):
            stops = " → ".join(f"{s.number}. {s.name}" for s in team.stops) or "no stops"
            lines.append(
                f"team {i}: {len(team.stops)} stop(s), {team.length_m / 1000:.2f} km, "
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
        if self.left_out:
            lines.append(f"left out: {self.left_out['explanation_en']}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


# --- targets and snapping -----------------------------------------------------------------------


def _transformer(source: Any, target: Any, *, always_xy: bool = True) -> Transformer:
    """A cached pyproj transformer (building one takes ~50 ms; they are thread-safe)."""
    return _cached_transformer(str(source), str(target), always_xy)


@functools.lru_cache(maxsize=32)
def _cached_transformer(source: str, target: str, always_xy: bool) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=always_xy)



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
    nodes, dist = _nearest(graph, x, y) if len(frame) else ([], [])
    texts = {column: (frame[column].fillna("").astype(str).to_numpy() if column in frame.columns
                      else np.full(len(frame), "", dtype=object)) for column in ("explanation", "explanation_en")}
    return pd.DataFrame({
        "name": names, "score": scores, "dwell_min": dwell, "categories": categories, "x": x, "y": y,
        "node": list(nodes), "snap_m": np.asarray(dist, float), **texts,
    })


def snap_start(graph: nx.MultiDiGraph, lat: float, lon: float, *, max_snap_m: float = MAX_SNAP_M,
               what: str = "start") -> tuple[int, float]:
    """The walkable node nearest to a WGS84 point and its distance (m); refused beyond ``max_snap_m``
    with a message calling the point ``what`` (the start or the end)."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"{what} {lat},{lon} is not a latitude,longitude pair"
        raise InputError(msg)
    x, y = _transformer(settings.WGS84, graph.graph["crs"], always_xy=True).transform(lon, lat)
    nodes, dists = _nearest(graph, np.array([x]), np.array([y]))
    node, dist = nodes[0], dists[0]
    if dist > max_snap_m:
        msg = (
            f"{what} {lat:.5f},{lon:.5f} is {dist:,.0f} m from the nearest walkable street of this ward "
            f"(limit {max_snap_m:g} m): choose a point in or near the ward"
        )
        raise InputError(msg)
    return int(node), float(dist)


def central_node(graph: nx.MultiDiGraph) -> int:
    """The node nearest to the middle of the graph's nodes (a start when no meeting point is known)."""
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    return int(_nearest(graph, np.array([np.median(xs)]), np.array([np.median(ys)]))[0][0])


def _nearest(graph: nx.MultiDiGraph, x: np.ndarray, y: np.ndarray) -> tuple[list, np.ndarray]:
    """The nearest node of each metric point (x, y arrays) and its distance in metres."""
    edges = _edges(graph)
    dist, position = edges.node_tree.query(np.column_stack([x, y]))
    return [edges.nodes[i] for i in np.atleast_1d(position)], np.atleast_1d(dist).astype(float)


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edges:
    """Arrays of a prepared graph, computed once per (frozen, read-only) graph object."""

    index: dict
    nodes: list
    rows: np.ndarray
    cols: np.ndarray
    walk_time: np.ndarray
    """Per directed node pair: the fastest parallel edge's walking seconds."""
    lines: np.ndarray
    """One street geometry per node pair in either direction (for the printed map)."""
    tree: shapely.STRtree
    node_tree: cKDTree


_EDGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _edges(graph: nx.MultiDiGraph) -> _Edges:
    cached = _EDGES.get(graph)
    if cached is not None:
        return cached
    index = {node: i for i, node in enumerate(graph.nodes)}
    best: dict[tuple[int, int], float] = {}
    lines: dict[tuple[int, int], Any] = {}
    for u, v, data in graph.edges(data=True):
        key = (index[u], index[v])
        seconds = float(data["walk_time"])
        if seconds < best.get(key, math.inf):
            best[key] = seconds
        if (key[1], key[0]) not in lines and key not in lines:
            lines[key] = data.get("geometry") or shapely.LineString(
                [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])])
    pairs = np.array(list(best), dtype=np.int64).reshape(-1, 2)
    geometry = np.array(list(lines.values()), dtype=object)
    edges = _Edges(index=index, nodes=list(graph.nodes), rows=pairs[:, 0], cols=pairs[:, 1],
                   walk_time=np.fromiter(best.values(), float, len(best)), lines=geometry,
                   tree=shapely.STRtree(geometry),
                   node_tree=cKDTree([(d["x"], d["y"]) for _, d in graph.nodes(data=True)]))
    if nx.is_frozen(graph):
        _EDGES[graph] = edges  # only frozen graphs: a mutable one may change before the next call
    return edges


def _weights(graph: nx.MultiDiGraph, factor: float, recent: frozenset, penalty: float) -> tuple[dict, list, csr_matrix]:
    """Node index, node list and the sparse walking-time matrix (recent streets made dearer)."""
    edges = _edges(graph)
    cost = edges.walk_time * factor
    if penalty and recent:
        index = edges.index
        slow = {(index[u], index[v]) for u, v in _both_ways(recent) if u in index and v in index}
        mask = np.fromiter(((r, c) in slow for r, c in zip(edges.rows.tolist(), edges.cols.tolist(), strict=True)),
                           bool, len(cost))
        cost = np.where(mask, cost * (1 + penalty), cost)
    n = len(edges.nodes)
    return edges.index, edges.nodes, csr_matrix((cost, (edges.rows, edges.cols)), shape=(n, n))


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
    start_name: str | None = None,
) -> Plan:
    """Plan ``params.teams`` walks from ``start`` (lat, lon; default the most central node) back
    to it (or to ``end``) collecting the most target score within ``params.minutes`` each.

    ``recent_edges`` holds ``(u, v)`` street edges of recent patrols; with
    ``params.variety_penalty`` > 0 they cost more, so consecutive nights differ.
    Targets over ``params.max_snap_m`` from every street, or with no street path to and from the
    start, are reported in ``Plan.unreachable`` and skipped; those too far for the budget are
    named in ``Plan.notes``. No team's walking plus dwell time exceeds the budget.
    """
    if "walk_time" not in next(iter(graph.edges(data=True)), (0, 0, {}))[2]:
        msg = "the graph has no walking times: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)
    factor = 1.0 if params.speed_kmh is None else float(graph.graph.get("speed_kmh", 4.5)) / params.speed_kmh
    notes: list[str] = []
    if start is None:
        start_node, snap_m = central_node(graph), 0.0
        start_name = start_name or "centrum van de wijk"
        notes.append("no start given: starting at the most central street node")
    else:
        start_node, snap_m = snap_start(graph, *start, max_snap_m=params.max_snap_m)
        if snap_m > 25:
            notes.append(f"the start lies {snap_m:.0f} m from the nearest walkable street; the route starts there")
    end_node = start_node if end is None else snap_start(graph, *end, max_snap_m=params.max_snap_m, what="end")[0]
    table = _targets_in(graph, targets, params)
    if table.empty:
        notes.append("there are no targets (no hotspots or hot streets): an empty round trip is planned")
    too_far = (table["snap_m"] > params.max_snap_m).to_numpy()
    off_network = list(table.loc[too_far, "name"])
    if off_network:
        notes.append(f"{len(off_network)} target(s) lie over {params.max_snap_m:g} m from the streets and are "
                     "skipped: " + ", ".join(off_network))
    index, nodes, plain_matrix = _weights(graph, factor, recent_edges, 0.0)
    # Targets the start cannot reach (or not return from) on this graph are skipped too.
    depot_rows = dijkstra(plain_matrix, directed=True, indices=[index[start_node]])[0]
    back = dijkstra(plain_matrix.T.tocsr(), directed=True, indices=[index[end_node]])[0]
    target_idx = np.array([index[n] for n in table["node"]], dtype=np.int64)
    no_path = ~too_far & ~(np.isfinite(depot_rows[target_idx]) & np.isfinite(back[target_idx])
                           if len(table) else np.zeros(0, bool))
    if no_path.any():
        names = list(table.loc[no_path, "name"])
        notes.append(f"{len(names)} target(s) have no walking path from the start and back and are skipped: "
                     + ", ".join(names))
    unreachable = tuple(table.loc[too_far | no_path, "name"])
    usable = table[~too_far & ~no_path].reset_index(drop=True)

    def solve(penalty: float) -> tuple[Any, list, np.ndarray, dict, list, OrienteeringProblem]:
        matrix = plain_matrix if penalty == 0 else _weights(graph, factor, recent_edges, penalty)[2]
        points = [index[start_node], index[end_node]] + [index[n] for n in usable["node"]]
        sources = np.unique(points)
        dist, pred = dijkstra(matrix, directed=True, indices=sources, return_predecessors=True)
        row = {int(p): i for i, p in enumerate(sources)}
        cost = dist[[row[p] for p in points]][:, points]
        problem = OrienteeringProblem(
            cost=cost, scores=np.r_[0.0, 0.0, usable["score"].to_numpy(float)],
            budget=params.minutes * 60, start=0, end=1, n_routes=params.teams,
            service=np.r_[0.0, 0.0, usable["dwell_min"].to_numpy(float) * 60],
        )
        solver = SolverParams(time_limit=params.time_limit, seed=params.seed, max_iterations=params.iterations)
        return solve_orienteering(problem, params=solver), points, pred, row, nodes, problem

    solution, points, pred, row, nodes, problem = solve(params.variety_penalty)
    if solution.timed_out:
        notes.append(f"the search stopped at the {params.time_limit:g} s time limit: the plan may differ "
                     "between machines")
    teams = []
    # Every chosen stop counts as visited before any pass-by is credited, so no target counts twice.
    visited = {i - 2 for route in solution.routes for i in route[1:-1]}
    transformer = _transformer(graph.graph["crs"], settings.WGS84, always_xy=True)
    for route in solution.routes:
        team = _expand(graph, route, points, pred, row, nodes, usable, factor, transformer, visited, params)
        teams.append(team)
    total = math.fsum(t.score for t in teams)
    teams = [replace(t, stops=tuple(_explained(stop, total) for stop in t.stops)) for t in teams]
    left_out = _left_out(table, usable, too_far | no_path, visited, problem, solution.routes, params)
    all_score = float(table["score"].sum())
    if len(usable):
        visit = problem.cost[0, 2:] + problem.service[2:] + problem.cost[2:, 1]
        out_of_reach = [str(usable["name"].iloc[i]) for i in np.flatnonzero(visit > problem.budget)
                        if i not in visited]
        if not any(t.stops for t in teams):
            notes.append(
                f"the budget of {params.minutes:g} min is too short to reach any target: the cheapest visit "
                f"takes {math.ceil(visit.min() / 60)} min (walk there, stay, walk back); an empty round trip is "
                "planned"
            )
        elif out_of_reach:
            notes.append(f"{len(out_of_reach)} target(s) are too far to visit within {params.minutes:g} min: "
                         + ", ".join(out_of_reach))
    idle = [i for i, t in enumerate(teams, 1) if not t.stops]
    if idle and len(idle) < len(teams):
        notes.append(f"team(s) {', '.join(map(str, idle))} have no stops: every reachable target fits in the "
                     "other teams' walks (plan fewer teams, or add targets)")
    overlap = given_up = None
    if recent_edges:
        walked = frozenset().union(*(t.edges for t in teams))
        overlap = len(walked & _both_ways(recent_edges)) / len(walked) if walked else 0.0
        if params.variety_penalty > 0:
            plain = solve(0.0)[0]
            given_up = max(0.0, plain.score - solution.score)
    start_xy = transformer.transform(graph.nodes[start_node]["x"], graph.nodes[start_node]["y"])
    log.info("planned %d team(s): score %.2f of %.2f, %d stops", len(teams), total, all_score,
             sum(len(t.stops) for t in teams))
    return Plan(
        teams=tuple(teams), total_score=total, covered_share=total / all_score if all_score > 0 else 0.0,
        budget_min=params.minutes, start_lonlat=(float(start_xy[0]), float(start_xy[1])), start_snap_m=snap_m,
        unreachable=unreachable, notes=tuple(notes), overlap_share=overlap, score_given_up=given_up,
        start_name=start_name or "start", streets_lonlat=_context_streets(graph, teams, transformer),
        left_out=left_out,
    )


def _explained(stop: Stop, total: float) -> Stop:
    """The stop with its share of the collected score and why it is on the route."""
    share = stop.score / total if total > 0 else 0.0
    percent = round(share * 100)
    nl, en = (translation(language).gettext("{share_percent} of the collected score ({score} of {total})").format(
        share_percent=f"{percent} %", score=_number(stop.score, language), total=_number(total, language))
        for language in ("nl", "en"))
    return replace(stop, share=share, explanation=f"{nl}. {stop.explanation}".strip(),
                   explanation_en=f"{en}. {stop.explanation_en}".strip())


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "nl" else text


def _left_out(table: pd.DataFrame, usable: pd.DataFrame, skipped: np.ndarray, visited: set, problem,
              routes: list, params: RouteParams) -> dict[str, Any] | None:
    """The highest-scoring target on no route, and why (see ``Plan.left_out``)."""
    candidates = [(float(row.score), str(row.name), "unreachable", -1)
                  for row in table[skipped].itertuples(index=False)]
    candidates += [(float(usable["score"].iloc[i]), str(usable["name"].iloc[i]), "", i)
                   for i in range(len(usable)) if i not in visited]
    if not candidates:
        return None
    score, name, reason, index = max(candidates, key=lambda c: (c[0], c[1]))
    cost, service, budget = problem.cost, problem.service, problem.budget
    used = [sum(cost[a, b] for a, b in itertools.pairwise(route)) + sum(service[i] for i in route)
            for route in routes]
    spare = max((budget - u for u in used), default=budget)
    needed = None
    if reason != "unreachable":
        point = index + 2
        alone = cost[0, point] + service[point] + cost[point, 1]
        if alone > budget:
            reason, needed = "distance", alone
        else:
            # The cheapest place to insert it into any team's walk, and whether that team has the time.
            options = [(cost[a, point] + service[point] + cost[point, b] - cost[a, b], budget - u)
                       for route, u in zip(routes, used, strict=True) for a, b in itertools.pairwise(route)]
            needed = min(extra for extra, _ in options)
            reason = "not_chosen" if any(extra <= left for extra, left in options) else "budget"
    need = None if needed is None else round(needed / 60, 1)
    left = round(max(spare, 0.0) / 60, 1)
    nl, en = (translation(language).gettext(_LEFT_OUT[reason]).format(
        name=name, need=_nl(need) if language == "nl" else f"{need}",
        left=_nl(left) if language == "nl" else f"{left}",
        minutes=_nl(params.minutes) if language == "nl" else f"{params.minutes:g}") for language in ("nl", "en"))
    return {"name": name, "score": round(score, 3), "reason": reason, "needed_min": need, "spare_min": left,
            "explanation": nl, "explanation_en": en}


_LEFT_OUT = {
    "unreachable": N_("{name} lies too far from the walkable streets or cannot be walked to from the start."),
    "distance": N_("{name} is too far: walking there, staying and walking back alone takes {need} min, more than "
                   "the round's {minutes} min."),
    "budget": N_("{name} does not fit in the time left: the cheapest detour takes {need} min more, {left} min are "
                 "left."),
    "not_chosen": N_("{name} would have fitted ({need} min more), but the search chose other stops with more "
                     "score."),
}
"""Why the best target on no route was left out, per ``Plan.left_out["reason"]``."""


def _nl(value: float | None) -> str:
    """A number the Dutch way (decimal comma, no trailing ``,0``)."""
    return "" if value is None else f"{value:g}".replace(".", ",")


def _context_streets(graph: nx.MultiDiGraph, teams: list[Team], transformer: Transformer,
                     *, margin_m: float = 150.0, max_streets: int = 4000) -> tuple:
    """The streets inside the routes' bounding box (+ margin), simplified, for the printed map."""
    paths = [np.asarray(t.path_lonlat) for t in teams if len(t.path_lonlat) > 1]
    if not paths:
        return ()
    to_metric = _transformer(settings.WGS84, graph.graph["crs"], always_xy=True)
    xs, ys = to_metric.transform(*np.concatenate(paths).T)
    edges = _edges(graph)
    area = shapely.box(min(xs), min(ys), max(xs), max(ys)).buffer(margin_m)
    chosen = np.sort(edges.tree.query(area, predicate="intersects"))[:max_streets]
    if not len(chosen):
        return ()
    simple = shapely.simplify(edges.lines[chosen], 2.0)
    coords, which = shapely.get_coordinates(simple, return_index=True)
    lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
    lonlat = np.round(np.column_stack([lon, lat]), 6)
    cuts = np.flatnonzero(np.diff(which)) + 1
    return tuple(tuple(map(tuple, part.tolist())) for part in np.split(lonlat, cuts))


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
        # The stop is where the team stands: the street corner on its path nearest the target.
        lon, lat = transformer.transform(graph.nodes[node]["x"], graph.nodes[node]["y"])
        stops.append(Stop(len(stops) + 1, str(target["name"]), float(lon), float(lat), float(target["score"]),
                          float(target["dwell_min"]), clock / 60, tuple(target["categories"]),
                          explanation=str(target["explanation"]), explanation_en=str(target["explanation_en"])))
        dwell += float(target["dwell_min"]) * 60
        score += float(target["score"])
    passed = []
    line = shapely.LineString(coords)
    # A team that stays at the start passes nothing.
    for tid, target in usable.iterrows() if length > 0 else ():
        if tid not in visited and line.distance(shapely.Point(target["x"], target["y"])) <= params.pass_by_m:
            visited.add(tid)
            passed.append(str(target["name"]))
            score += float(target["score"])
    xy = np.asarray(coords, dtype=float)
    lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
    return Team(
        stops=tuple(stops), path_lonlat=tuple(zip(lon.tolist(), lat.tolist(), strict=True)), streets=tuple(names),
        length_m=length, walk_min=walk / 60, dwell_min=dwell / 60, score=score, passed=tuple(passed),
        edges=frozenset(edges),
    )


def _arrivals(graph: nx.MultiDiGraph, node_path: list, factor: float) -> list[float]:
    times = [0.0]
    for u, v in itertools.pairwise(node_path):
        times.append(times[-1] + min(d["walk_time"] for d in graph.get_edge_data(u, v).values()) * factor)
    return times


# --- targets, start and recent routes from the rest of the planner ---------------------------------


NAME_LANGUAGE = "nl"
"""Targets are named in Dutch ("Hotspot 3 (jongerenoverlast)") in either language: a name is the
plan's data, shared by the dashboard, the GPX, the briefing and the JSON."""


def targets_from_hotspots(result: HotspotResult, *, dwell_min: float | None = None) -> gpd.GeoDataFrame:
    """Route targets from hotspots: one point per hotspot at its centroid, with its score, a
    Dutch name like ``"Hotspot 3 (jongerenoverlast)"`` and its top signal categories (codes).

    ``dwell_min`` sets every target's stop; ``None`` leaves it to ``RouteParams.dwell_min``.
    """
    hotspots = result.hotspots
    rows = []
    for row in hotspots.itertuples(index=False):
        categories = [str(c) for c, _ in row.top_categories]
        label = f" ({category_label(categories[0], language=NAME_LANGUAGE)})" if categories else ""
        rows.append({"name": f"Hotspot {int(row.id)}{label}", "score": float(row.score),
                     "categories": categories, "kind": "hotspot",
                     "explanation": str(getattr(row, "explanation", "") or ""),
                     "explanation_en": str(getattr(row, "explanation_en", "") or ""),
                     "geometry": shapely.Point(float(row.centroid_lon), float(row.centroid_lat))})
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["name", "score", "categories", "kind", "explanation", "explanation_en",
                                    "geometry"]),
        geometry="geometry", crs=settings.WGS84,
    )
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


def targets_from_hot_streets(
    hot: HotStreets,
    incidents: pd.DataFrame,
    *,
    top: int = 5,
    min_signals: int = settings.PUBLIC_MIN_SIGNALS,
    radius_m: float = 100.0,
    min_gap_m: float = 150.0,
    max_length_m: float = 250.0,
    avoid: gpd.GeoDataFrame | None = None,
    dwell_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Route targets from hot streets: the ``top`` streets with the largest prize, each at least
    ``min_gap_m`` from the others and from ``avoid`` (e.g. the hotspot targets, already counted),
    and only where at least ``min_signals`` signals lie within ``radius_m`` of the street's middle
    (so a stop never points at one household's report), on streets of at most ``max_length_m``
    (the team stops at the corner nearest the middle). Lines in the graph's CRS, scored by their
    prize, named like ``"Merelstraat (inbraak)"``, with the nearby signals' categories.
    """
    if top < 0:
        msg = f"the number of hot streets to visit (top) must be ≥ 0, got {top}"
        raise InputError(msg)
    if min_signals < 1 or radius_m <= 0 or min_gap_m < 0:
        msg = f"min_signals ≥ 1, radius_m > 0 and min_gap_m ≥ 0 needed, got {min_signals}, {radius_m}, {min_gap_m}"
        raise InputError(msg)
    from pyproj import CRS

    from ..hotspots import metric_xy

    edges = hot.edges
    columns = ["name", "score", "categories", "kind", "explanation", "explanation_en", "geometry"]
    empty = gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry="geometry", crs=edges.crs)
    if top == 0 or edges.empty or incidents is None or len(incidents) == 0:
        return empty
    once = edges[edges["u"].astype(str) <= edges["v"].astype(str)]
    # A stop is made at a street corner: on a longer street its middle would be out of sight.
    once = once[(once["prize"] > 0) & (once["length"] <= max_length_m)]
    once = once.sort_values(["prize", "length"], ascending=[False, True], kind="stable")
    x, y, _ = metric_xy(incidents.reset_index(drop=True), CRS.from_user_input(edges.crs))
    tree = cKDTree(np.column_stack([x, y]))
    categories = incidents["category"].fillna("other").astype(str).to_numpy() \
        if "category" in incidents.columns else np.full(len(x), "other")
    taken: list[tuple[float, float]] = []
    if avoid is not None and len(avoid):
        taken += [(p.x, p.y) for p in avoid.to_crs(edges.crs).geometry.representative_point()]
    rows = []
    stretches: dict[str, int] = {}
    for edge in once.itertuples(index=False):
        middle = edge.geometry.interpolate(0.5, normalized=True)
        if any(math.hypot(middle.x - a, middle.y - b) < min_gap_m for a, b in taken):
            continue
        near = tree.query_ball_point([middle.x, middle.y], r=radius_m)
        if len(near) < min_signals:
            continue
        counts = pd.Series(categories[near]).value_counts()
        top_codes = sorted(counts.index, key=lambda c: (-counts[c], c))[:3]
        street = str(edge.name) if isinstance(edge.name, str) and edge.name else "naamloos pad"
        street = street.split(", ")[0]
        stretches[street] = stretches.get(street, 0) + 1
        if stretches[street] > 1:  # a second stretch of the same street gets a name of its own
            street = f"{street}, deel {stretches[street]}"
        nl, en = (translation(language).gettext("Busy street: {n} signals within {radius} m, mostly {names}.").format(
            n=len(near), radius=f"{radius_m:g}",
            names=and_list([category_label(c, language=language) for c in top_codes[:2]], language=language))
            for language in ("nl", "en"))
        rows.append({"name": f"{street} ({category_label(top_codes[0], language=NAME_LANGUAGE)})",
                     "score": float(edge.prize), "categories": top_codes, "kind": "street",
                     "explanation": nl, "explanation_en": en, "geometry": edge.geometry})
        taken.append((middle.x, middle.y))
        if len(rows) >= top:
            break
    if not rows:
        return empty
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=edges.crs)
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


def ward_start(store, ward_name: str, graph: nx.MultiDiGraph) -> tuple[float, float, str]:
    """Where a ward's patrol starts: ``(lat, lon, name)`` of its stored meeting point, or else of
    the most central walkable node of ``graph`` (named ``"centrum van de wijk"``)."""
    from ..signals.wards import find_ward

    wards = store.wards()
    row = wards[wards["name"] == find_ward(ward_name, wards)].iloc[0]
    lat, lon = row.get("meeting_point_lat"), row.get("meeting_point_lon")
    if lat is not None and lon is not None and pd.notna(lat) and pd.notna(lon):
        name = row.get("meeting_point_name")
        return float(lat), float(lon), str(name) if isinstance(name, str) and name else "ontmoetingspunt"
    node = central_node(graph)
    lon, lat = _transformer(graph.graph["crs"], settings.WGS84, always_xy=True).transform(
        graph.nodes[node]["x"], graph.nodes[node]["y"])
    return float(lat), float(lon), "centrum van de wijk"


def read_route_lines(path: str | Path) -> list[shapely.LineString]:
    """The walked lines (WGS84) in a previous route file: GPX tracks and routes, or the
    LineStrings of a GeoJSON file (such as ``export.plan_to_geojson`` writes)."""
    import json

    from .export import parse_gpx

    path = Path(path)
    if not path.is_file():
        msg = f"route file not found: {path}"
        raise DataNotFoundError(msg)
    data = path.read_bytes()
    lines: list[shapely.LineString] = []
    if path.suffix.lower() == ".gpx":
        gpx = parse_gpx(data, name=path.name)
        for track in gpx.tracks:
            for segment in track.segments:
                if len(segment.points) > 1:
                    lines.append(shapely.LineString([(p.longitude, p.latitude) for p in segment.points]))
        for route in gpx.routes:
            if len(route.points) > 1:
                lines.append(shapely.LineString([(p.longitude, p.latitude) for p in route.points]))
    elif path.suffix.lower() in {".geojson", ".json"}:
        try:
            data = json.loads(data)
        except ValueError as error:  # a JSONDecodeError, or a UnicodeDecodeError for binary content
            msg = f"{path.name}: not valid JSON ({error})"
            raise InputError(msg) from None
        features = data.get("features", [data]) if isinstance(data, dict) else []
        for feature in features:
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            if not geometry:
                continue
            try:
                shape = shapely.geometry.shape(geometry)
            except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError):
                msg = f"{path.name}: a feature has an unreadable geometry"
                raise InputError(msg) from None
            parts = shape.geoms if shape.geom_type == "MultiLineString" else [shape]
            lines += [part for part in parts if part.geom_type == "LineString" and len(part.coords) > 1]
    else:
        msg = f"{path.name}: use a .gpx or .geojson file of a previous route"
        raise InputError(msg)
    if not lines:
        msg = f"{path.name}: contains no route lines (tracks or LineStrings)"
        raise InputError(msg)
    return lines


def edges_along(graph: nx.MultiDiGraph, lines: list[shapely.LineString], *, tolerance_m: float = 15.0) -> frozenset:
    """The ``(u, v)`` street edges of ``graph`` that lie along any of ``lines`` (WGS84): the
    edge's points at a quarter, half and three quarters all within ``tolerance_m``."""
    if not lines:
        return frozenset()
    to_metric = _transformer(settings.WGS84, graph.graph["crs"], always_xy=True)
    walked = shapely.union_all([shapely.transform(line, lambda xy: np.column_stack(
        to_metric.transform(xy[:, 0], xy[:, 1]))) for line in lines]).buffer(tolerance_m)
    shapely.prepare(walked)
    found = set()
    for u, v, data in graph.edges(data=True):
        line = data.get("geometry") or shapely.LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        probes = shapely.line_interpolate_point(line, [0.25, 0.5, 0.75], normalized=True)
        if shapely.contains(walked, probes).all():
            found.add((u, v))
    return frozenset(found)


def plan_for_ward(
    store,
    ward_name: str,
    *,
    params: RouteParams = RouteParams(),
    window: TimeWindow | None = None,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
    hot_street_targets: int = 5,
    recent_routes: list[shapely.LineString] | tuple = (),
    vary_last: int = 0,
    data_dir: str | Path | None = None,
) -> Plan:
    """Tonight's patrol of a stored ward, end to end: its cached street graph
    (``streets.ward_graph``), its hotspots for ``window`` (the public rendering: significant areas
    with enough signals) plus up to ``hot_street_targets`` hot streets away from them as targets,
    the meeting point (or ``start``) as start, and as the streets to vary from (with
    ``params.variety_penalty``) those of the ward's ``vary_last`` patrols in the patrol log plus
    those along ``recent_routes`` (WGS84 lines of previous routes, e.g. from ``read_route_lines``).
    """
    from .. import streets
    from ..hotspots import find_hotspots, hot_streets
    from ..hotspots.tuning import hot_street_params, hotspot_params
    from ..signals.wards import find_ward

    wards = store.wards()
    name = find_ward(ward_name, wards)
    graph = streets.ward_graph(store, name, data_dir=data_dir)
    incidents = store.incidents(ward=name)
    weights = hotspot_params(store, window=window)
    if len(incidents):
        result = find_hotspots(incidents, wards[wards["name"] == name], params=weights)
        targets = targets_from_hotspots(result)
    else:
        targets = _no_targets()
    if hot_street_targets and len(incidents):
        hot = hot_streets(graph, incidents, params=hot_street_params(store, weights, data_dir=data_dir))
        streets_ = targets_from_hot_streets(hot, incidents, top=hot_street_targets, avoid=targets)
        if len(streets_):
            targets = gpd.GeoDataFrame(
                pd.concat([targets, streets_.to_crs(settings.WGS84)], ignore_index=True),
                geometry="geometry", crs=settings.WGS84,
            )
    if start is None:
        lat, lon, start_name = ward_start(store, name, graph)
        start = (lat, lon)
    else:
        start_name = f"{start[0]:.5f}, {start[1]:.5f}"
    recent = edges_along(graph, list(recent_routes)) if len(recent_routes) else frozenset()
    if vary_last > 0:
        recent |= frozenset(e for e in store.recent_patrol_edges(name, last=vary_last) if graph.has_edge(*e))
    log.info("%s: %d targets (%d signals), start %s", name, len(targets), len(incidents), start_name)
    return plan_patrol(graph, targets, start=start, end=end, params=params, recent_edges=recent,
                       start_name=start_name)


def _no_targets() -> gpd.GeoDataFrame:
    """An empty target table with the columns ``targets_from_hotspots`` gives."""
    return gpd.GeoDataFrame(pd.DataFrame(columns=["name", "score", "categories", "kind", "geometry"]),
                            geometry="geometry", crs=settings.WGS84)
