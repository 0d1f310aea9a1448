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
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .. import _geo, settings
from .._errors import InputError
from .._geo import edge_geometry, street_table
from .._validation import Constraints, Rule, check_params, integer, optional, real
from ..i18n import N_, format_number, translation
from .orienteering import OrienteeringProblem, OrienteeringSolution, SolverParams, solve_orienteering
from .targets import no_targets, targets_from_hot_streets, targets_from_hotspots

if TYPE_CHECKING:
    from ..hotspots import TimeWindow

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
    """Extra cost factor on street edges walked in recent patrols (0.5: they count 1.5×) when
    choosing the way between two stops; the budget counts real walking time."""
    iterations: int | None = 200
    """Search iterations (of each of the solver's two parallel searches); a count (not seconds)
    keeps the plan the same on every machine for a seed. ``None`` lets the solver choose (more
    iterations, often cut by ``time_limit``)."""

    _constraints: ClassVar[Constraints] = {
        # A round longer than a day is a typo (1e308 minutes overflowed the solver's budget).
        "minutes": real(low=0, low_open=True, high=24 * 60, allowed="> 0 and at most 1440 (a day)"),
        "teams": integer(low=1, high=settings.MAX_TEAMS),
        "dwell_min": real(low=0, high=24 * 60, allowed="≥ 0 and at most 1440 (a day)"),
        "speed_kmh": Rule(optional(real(low=0, low_open=True, finite=False)).test,
                          "> 0 (or left out: the street graph's own speed)"),
        "time_limit": real(low=0, low_open=True, finite=False),
        "pass_by_m": real(low=0, finite=False),
        "max_snap_m": real(low=0, low_open=True, finite=False),
        "variety_penalty": real(low=0, finite=False,
                                allowed="≥ 0 (the extra cost of recently walked streets: 0.5 counts them 1.5×)"),
        "iterations": optional(integer(low=0)),
    }

    def __post_init__(self) -> None:
        # Named as the user sets them (flags, fields), not as Python fields.
        check_params(self, labels={"dwell_min": "the minutes at each stop (dwell)",
                                   "speed_kmh": "the walking speed in km/h"})


WARD_CENTRE, MEETING_POINT = "centrum van de wijk", "ontmoetingspunt"
START_NAMES_EN = {WARD_CENTRE: "ward centre", MEETING_POINT: "meeting point"}
"""The start names the planner gives itself (Dutch, stored with plans) and how English exports say them."""


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
    at: int | None = None
    """Where on the team's walk the stop is: its index in ``Team.nodes``."""
    name_en: str = ""
    """The name in English (``name`` is Dutch, the plan's data); empty: ``name`` in both."""

    def label(self, language: str) -> str:
        """The stop's name as exports in ``language`` show it."""
        return self.name_en if language == "en" and self.name_en else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number, "name": self.name, "name_en": self.label("en"),
            "lat": round(self.lat, 6), "lon": round(self.lon, 6),
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
    nodes: tuple[int, ...] = ()
    """The street corners (graph nodes) of the walk in order, so that a part of it can be told
    from the whole: a round ended after some stops walked the path up to the last of them."""
    vertices: tuple[int, ...] = ()
    """For each of ``nodes``, its index in ``path_lonlat``."""

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
    """Where the teams start, as the plan's data (Dutch for the names the planner gives itself)."""
    end_lonlat: tuple[float, float] | None = None
    """Where the walks end when not back at the start (``--end``); ``None`` for a round."""
    streets_lonlat: tuple[tuple[tuple[float, float], ...], ...] = ()
    """The streets around the routes (WGS84 lines), drawn under the routes on the printed map."""
    extra: dict = field(default_factory=dict)
    ward: str | None = None
    """The stored name of the ward planned (``plan_for_ward``; a code given resolves to it)."""
    attribution: str = _geo.OSM_ATTRIBUTION
    """Whom the plan's streets credit (``_geo.street_attribution`` of its graph), on every export."""

    names_en: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Each target's English name by its Dutch one, for the names a plan lists (passed, unreachable)."""

    def target_label(self, name: str, language: str) -> str:
        """A target named in the plan (``Team.passed``, ``unreachable``) as ``language`` says it."""
        return self.names_en.get(name, name) if language == "en" else name

    def start_label(self, language: str) -> str:
        """The start's name as exports in ``language`` show it: the planner's own names translated,
        a meeting point's or coordinates as given."""
        if language == "en":
            return START_NAMES_EN.get(self.start_name, self.start_name)
        return self.start_name
    hotspots: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    """The hotspots the targets were numbered from (``plan_for_ward``: the ward's hotspots of
    tonight), so a map drawn from them shows the same "Hotspot N" as the stops."""
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
        """For the CLI, in English like the rest of its output (stops, start and notes alike)."""
        head = (
            f"{len(self.teams)} team(s), budget {self.budget_min:g} min; score {self.total_score:.2f} "
            f"({self.covered_share:.0%} of the targets' score); start {self.start_label('en')} "
            f"(snapped {self.start_snap_m:.0f} m to the nearest street)"
            + ("" if self.end_lonlat is None else f"; end {self.end_lonlat[1]:.5f},{self.end_lonlat[0]:.5f}")
        )
        lines = [head]
        for i, team in enumerate(self.teams, 1):
            stops = " → ".join(f"{s.number}. {s.label('en')}" for s in team.stops) or "no stops"
            lines.append(
                f"team {i}: {len(team.stops)} stop(s), {team.length_m / 1000:.2f} km, "
                f"{team.duration_min:.0f} min (walk {team.walk_min:.0f} + dwell {team.dwell_min:.0f}), "
                f"score {team.score:.2f}: {stops}"
            )
            if team.passed:
                lines.append(f"  passed within reach (counted): "
                             f"{', '.join(self.target_label(n, 'en') for n in team.passed)}")
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
                      else np.full(len(frame), "", dtype=object))
             for column in ("explanation", "explanation_en", "name_en")}
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
    to_metric = _geo.transformer(settings.WGS84, graph.graph["crs"])
    nodes, dists = _nearest(graph, *(np.array([c]) for c in to_metric.transform(lon, lat)))
    node, dist = nodes[0], dists[0]
    if dist > max_snap_m:
        msg = (
            f"{what} {lat:.5f},{lon:.5f} is {dist:,.0f} m from the nearest walkable street of this ward "
            f"(limit {max_snap_m:g} m): choose a point in or near the ward"
            + _swap_hint(graph, to_metric, lat, lon, max_snap_m)
        )
        raise InputError(msg)
    return int(node), float(dist)


def _swap_hint(graph: nx.MultiDiGraph, to_metric: Transformer, lat: float, lon: float, max_snap_m: float) -> str:
    """A hint when the point read the other way round (a longitude given first) is on the ward's streets."""
    if abs(lon) > 90:
        return ""
    dist = _nearest(graph, *(np.array([c]) for c in to_metric.transform(lat, lon)))[1][0]
    return f"; {lon:.5f},{lat:.5f} is {dist:,.0f} m from one: give the latitude first" if dist <= max_snap_m else ""


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
    for u, v, data in graph.edges(data=True):
        key = (index[u], index[v])
        seconds = float(data["walk_time"])
        if seconds < best.get(key, math.inf):
            best[key] = seconds
    pairs = np.array(list(best), dtype=np.int64).reshape(-1, 2)
    geometry = np.asarray(street_table(graph)[0].geometry.to_list(), dtype=object)
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


@dataclass(frozen=True)
class _Network:
    """The walking network a plan is solved on: the graph at the plan's speed (``factor`` × its
    walking times), its node index and plain walking-time matrix, and the recent streets that
    ``RouteParams.variety_penalty`` makes dearer."""

    graph: nx.MultiDiGraph
    factor: float
    recent_edges: frozenset
    index: dict
    nodes: list
    plain: csr_matrix

    def matrix(self, penalty: float) -> csr_matrix:
        return self.plain if penalty == 0 else _weights(self.graph, self.factor, self.recent_edges, penalty)[2]


class _Solved(NamedTuple):
    """A solved orienteering problem and what turns its routes back into street paths."""

    solution: OrienteeringSolution
    problem: OrienteeringProblem
    points: list[int]
    """Node index of each problem point: start, end, then the usable targets."""
    pred: np.ndarray
    """Dijkstra predecessors from each distinct point (row ``row[point]``)."""
    row: dict[int, int]


def _check_prepared(graph: nx.MultiDiGraph) -> None:
    if "walk_time" not in next(iter(graph.edges(data=True)), (0, 0, {}))[2]:
        msg = "the graph has no walking times: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)


def _snap_ends(graph: nx.MultiDiGraph, start: tuple[float, float] | None, end: tuple[float, float] | None,
               start_name: str | None, params: RouteParams, notes: list[str]) -> tuple[Any, Any, float, str | None]:
    """The start and end nodes, the start's distance to them and its name (notes say what was assumed)."""
    if start is None:
        start_node, snap_m = central_node(graph), 0.0
        start_name = start_name or WARD_CENTRE
        notes.append("no start given: starting at the most central street node")
    else:
        start_node, snap_m = snap_start(graph, *start, max_snap_m=params.max_snap_m)
        if snap_m > 25:
            notes.append(f"the start lies {snap_m:.0f} m from the nearest walkable street; the route starts there")
    end_node = start_node if end is None else snap_start(graph, *end, max_snap_m=params.max_snap_m, what="end")[0]
    return start_node, end_node, snap_m, start_name


def _empty_walk(round_trip: bool) -> str:
    return "an empty round trip is planned" if round_trip else "the walk goes straight to the end"


def _skipped(table: pd.DataFrame, network: _Network, start_node: Any, end_node: Any, params: RouteParams,
             notes: list[str]) -> np.ndarray:
    """Which targets are skipped: over ``params.max_snap_m`` from the streets, or with no walking
    path from the start and back to the end on this graph (notes name them)."""
    if table.empty:
        notes.append("there are no targets (no hotspots or hot streets): "
                     + _empty_walk(start_node == end_node))
    too_far = (table["snap_m"] > params.max_snap_m).to_numpy()
    off_network = list(table.loc[too_far, "name"])
    if off_network:
        notes.append(f"{len(off_network)} target(s) lie over {params.max_snap_m:g} m from the streets and are "
                     "skipped: " + ", ".join(off_network))
    index = network.index
    depot_rows = dijkstra(network.plain, directed=True, indices=[index[start_node]])[0]
    back = dijkstra(network.plain.T.tocsr(), directed=True, indices=[index[end_node]])[0]
    target_idx = np.array([index[n] for n in table["node"]], dtype=np.int64)
    no_path = ~too_far & ~(np.isfinite(depot_rows[target_idx]) & np.isfinite(back[target_idx])
                           if len(table) else np.zeros(0, bool))
    if no_path.any():
        names = list(table.loc[no_path, "name"])
        notes.append(f"{len(names)} target(s) have no walking path from the start and back and are skipped: "
                     + ", ".join(names))
    return too_far | no_path


def _real_times(plain: csr_matrix, pred: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Walking seconds (``plain``) from each source along its tree of paths ``pred`` (one row each).

    Each node's time is its own step plus its predecessor's time, summed by pointer doubling: as
    many vectorised passes as the log of the deepest path.
    """
    times = np.full(pred.shape, np.inf)
    for i, source in enumerate(sources):
        up = pred[i]
        has = up >= 0
        total = np.zeros(len(up))
        total[has] = np.asarray(plain[up[has], np.flatnonzero(has)]).ravel()
        up = np.where(has, up, -1)
        while (ahead := up >= 0).any():
            total[ahead] = total[ahead] + total[up[ahead]]
            up[ahead] = up[up[ahead]]
        times[i, has] = total[has]
        times[i, source] = 0.0
    return times


def _solve(network: _Network, points: list[int], usable: pd.DataFrame, params: RouteParams,
           penalty: float) -> _Solved:
    """The orienteering problem over ``points``, solved.

    Each leg follows the quickest path with ``penalty`` on recent streets, but costs its real
    walking time: the budget is in minutes the teams walk, so variety may lengthen a leg but never
    leaves real minutes unused (counting penalised minutes against the budget once dropped a top
    hotspot that fitted).
    """
    sources = np.unique(points)
    dist, pred = dijkstra(network.matrix(penalty), directed=True, indices=sources, return_predecessors=True)
    if penalty:
        dist = _real_times(network.plain, pred, sources)
    row = {int(p): i for i, p in enumerate(sources)}
    cost = dist[[row[p] for p in points]][:, points]
    problem = OrienteeringProblem(
        cost=cost, scores=np.r_[0.0, 0.0, usable["score"].to_numpy(float)],
        budget=params.minutes * 60, start=0, end=1, n_routes=params.teams,
        service=np.r_[0.0, 0.0, usable["dwell_min"].to_numpy(float) * 60],
    )
    solver = SolverParams(time_limit=params.time_limit, seed=params.seed, max_iterations=params.iterations)
    return _Solved(solve_orienteering(problem, params=solver), problem, points, pred, row)


def _budget_notes(usable: pd.DataFrame, problem: OrienteeringProblem, teams: list[Team], visited: set,
                  params: RouteParams, notes: list[str], *, round_trip: bool) -> None:
    """Notes on targets the budget cannot reach, and on teams left without stops."""
    if len(usable):
        visit = problem.cost[0, 2:] + problem.service[2:] + problem.cost[2:, 1]
        out_of_reach = [str(usable["name"].iloc[i]) for i in np.flatnonzero(visit > problem.budget)
                        if i not in visited]
        if not any(t.stops for t in teams):
            notes.append(
                f"the budget of {params.minutes:g} min is too short to reach any target: the cheapest visit "
                f"takes {math.ceil(visit.min() / 60)} min (walk there, stay, walk "
                f"{'back' if round_trip else 'to the end'}); " + _empty_walk(round_trip)
            )
        elif out_of_reach:
            notes.append(f"{len(out_of_reach)} target(s) are too far to visit within {params.minutes:g} min: "
                         + ", ".join(out_of_reach))
    idle = [i for i, t in enumerate(teams, 1) if not t.stops]
    if idle and len(idle) < len(teams):
        notes.append(f"team(s) {', '.join(map(str, idle))} have no stops: every reachable target fits in the "
                     "other teams' walks (plan fewer teams, or add targets)")


def _variety(network: _Network, teams: list[Team], solved: _Solved, usable: pd.DataFrame,
             params: RouteParams) -> tuple[float | None, float | None]:
    """``Plan.overlap_share`` and ``Plan.score_given_up``: how much of the walk repeats recent
    streets, and the score the variety penalty cost (``None`` when they do not apply)."""
    overlap = given_up = None
    if network.recent_edges:
        walked = frozenset().union(*(t.edges for t in teams))
        overlap = len(walked & _both_ways(network.recent_edges)) / len(walked) if walked else 0.0
        given_up = 0.0  # without a penalty (`--variety 0`) the search gives nothing up for variety
        if params.variety_penalty > 0:
            plain = _solve(network, solved.points, usable, params, 0.0).solution
            given_up = max(0.0, plain.score - solved.solution.score)
    return overlap, given_up


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
    _check_prepared(graph)
    factor = 1.0 if params.speed_kmh is None else float(graph.graph.get("speed_kmh", 4.5)) / params.speed_kmh
    notes: list[str] = []
    start_node, end_node, snap_m, start_name = _snap_ends(graph, start, end, start_name, params, notes)
    table = _targets_in(graph, targets, params)
    index, nodes, plain_matrix = _weights(graph, factor, recent_edges, 0.0)
    network = _Network(graph, factor, recent_edges, index, nodes, plain_matrix)
    # Targets the start cannot reach (or not return from) on this graph are skipped too.
    skipped = _skipped(table, network, start_node, end_node, params, notes)
    unreachable = tuple(table.loc[skipped, "name"])
    usable = table[~skipped].reset_index(drop=True)
    points = [index[start_node], index[end_node]] + [index[n] for n in usable["node"]]
    solved = _solve(network, points, usable, params, params.variety_penalty)
    solution, problem = solved.solution, solved.problem
    if solution.timed_out:
        notes.append(f"the search stopped at the {params.time_limit:g} s time limit: the plan may differ "
                     "between machines")
    # Every chosen stop counts as visited before any pass-by is credited, so no target counts twice.
    visited = {i - 2 for route in solution.routes for i in route[1:-1]}
    transformer = _geo.transformer(graph.graph["crs"], settings.WGS84)
    teams = [_expand(network, route, solved, usable, transformer, visited, params) for route in solution.routes]
    total = math.fsum(t.score for t in teams)
    teams = [replace(t, stops=tuple(_explained(stop, total) for stop in t.stops)) for t in teams]
    left_out = _left_out(table, usable, skipped, visited, problem, solution.routes, params)
    all_score = float(table["score"].sum())
    _budget_notes(usable, problem, teams, visited, params, notes, round_trip=start_node == end_node)
    overlap, given_up = _variety(network, teams, solved, usable, params)
    start_xy, end_xy = (transformer.transform(graph.nodes[node]["x"], graph.nodes[node]["y"])
                        for node in (start_node, end_node))
    log.info("planned %d team(s): score %.2f of %.2f, %d stops", len(teams), total, all_score,
             sum(len(t.stops) for t in teams))
    return Plan(
        teams=tuple(teams), total_score=total, covered_share=total / all_score if all_score > 0 else 0.0,
        budget_min=params.minutes, start_lonlat=(float(start_xy[0]), float(start_xy[1])), start_snap_m=snap_m,
        unreachable=unreachable, notes=tuple(notes), overlap_share=overlap, score_given_up=given_up,
        start_name=start_name or "start",
        end_lonlat=None if end_node == start_node else (float(end_xy[0]), float(end_xy[1])),
        streets_lonlat=_context_streets(graph, teams, transformer),
        left_out=left_out, attribution=_geo.street_attribution(graph),
        names_en={str(nl): str(en) for nl, en in zip(table["name"], table["name_en"], strict=True) if en},
    )


def _explained(stop: Stop, total: float) -> Stop:
    """The stop with its share of the collected score and why it is on the route."""
    share = stop.score / total if total > 0 else 0.0
    percent = round(share * 100)
    nl, en = (translation(language).gettext("{share_percent} of the collected score ({score} of {total})").format(
        share_percent=f"{percent} %", score=format_number(stop.score, 1, language=language),
        total=format_number(total, 1, language=language))
        for language in ("nl", "en"))
    return replace(stop, share=share, explanation=f"{nl}. {stop.explanation}".strip(),
                   explanation_en=f"{en}. {stop.explanation_en}".strip())


def _left_out(table: pd.DataFrame, usable: pd.DataFrame, skipped: np.ndarray, visited: set, problem,
              routes: list, params: RouteParams) -> dict[str, Any] | None:
    """The highest-scoring target on no route, and why (see ``Plan.left_out``)."""
    candidates = [(float(row.score), str(row.name), str(row.name_en or row.name), "unreachable", -1)
                  for row in table[skipped].itertuples(index=False)]
    candidates += [(float(usable["score"].iloc[i]), str(usable["name"].iloc[i]),
                    str(usable["name_en"].iloc[i] or usable["name"].iloc[i]), "", i)
                   for i in range(len(usable)) if i not in visited]
    if not candidates:
        return None
    score, name, name_en, reason, index = max(candidates, key=lambda c: (c[0], c[1]))
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
        name=shown, need=_said_minutes(need, language), left=_said_minutes(left, language),
        minutes=format_number(params.minutes, language=language))
        for language, shown in (("nl", name), ("en", name_en)))
    return {"name": name, "score": round(score, 3), "reason": reason, "needed_min": need, "spare_min": left,
            "explanation": nl, "explanation_en": en}


def _said_minutes(value: float | None, language: str) -> str:
    # English has always said these as Python prints a float (12.0), Dutch with as few digits as needed.
    if value is None:  # unreachable: its text names no minutes
        return ""
    return format_number(value, language=language) if language == "nl" else f"{value}"


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


def _context_streets(graph: nx.MultiDiGraph, teams: list[Team], transformer: Transformer,
                     *, margin_m: float = 150.0, max_streets: int = 4000) -> tuple:
    """The streets inside the routes' bounding box (+ margin), simplified, for the printed map."""
    paths = [np.asarray(t.path_lonlat) for t in teams if len(t.path_lonlat) > 1]
    if not paths:
        return ()
    to_metric = _geo.transformer(settings.WGS84, graph.graph["crs"])
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


def _expand(network: _Network, route: tuple[int, ...], solved: _Solved, usable: pd.DataFrame, transformer: Transformer,
            visited: set, params: RouteParams) -> Team:
    """Turn a solver route (indices into ``solved.points``) into stops and a street path."""
    graph, factor, nodes = network.graph, network.factor, network.nodes
    points, pred, row = solved.points, solved.pred, solved.row
    path: list[int] = []
    for a, b in itertools.pairwise(route):
        leg = _path(pred[row[points[a]]], points[a], points[b])
        path.extend(leg if not path else leg[1:])
    node_path = [nodes[i] for i in path] if path else [nodes[points[route[0]]]]
    coords: list[tuple[float, float]] = []
    vertices = [0]
    names: list[str] = []
    length = walk = 0.0
    edges = set()
    for u, v in itertools.pairwise(node_path):
        data = min(graph.get_edge_data(u, v).values(), key=lambda d: d["walk_time"])
        line = edge_geometry(graph, u, v, data)
        part = list(line.coords)
        coords.extend(part if not coords else part[1:])
        vertices.append(len(coords) - 1)
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
                          explanation=str(target["explanation"]), explanation_en=str(target["explanation_en"]),
                          at=position, name_en=str(target["name_en"])))
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
        edges=frozenset(edges), nodes=tuple(int(n) for n in node_path), vertices=tuple(vertices),
    )


def _arrivals(graph: nx.MultiDiGraph, node_path: list, factor: float) -> list[float]:
    times = [0.0]
    for u, v in itertools.pairwise(node_path):
        times.append(times[-1] + min(d["walk_time"] for d in graph.get_edge_data(u, v).values()) * factor)
    return times


# --- the start and recent routes from the rest of the planner ---------------------------------


def ward_start(store, ward_name: str, graph: nx.MultiDiGraph) -> tuple[float, float, str]:
    """Where a stored ward's patrol starts (``start_of`` its row)."""
    from ..signals.wards import find_ward

    wards = store.wards()
    return start_of(wards[wards["name"] == find_ward(ward_name, wards)].iloc[0], graph)


def start_of(ward: pd.Series, graph: nx.MultiDiGraph) -> tuple[float, float, str]:
    """Where the patrol of ``ward`` (a row of ``Store.wards``) starts: ``(lat, lon, name)`` of its
    meeting point, or else of the most central walkable node of ``graph`` (named ``WARD_CENTRE``)."""
    lat, lon = ward.get("meeting_point_lat"), ward.get("meeting_point_lon")
    if lat is not None and lon is not None and pd.notna(lat) and pd.notna(lon):
        name = ward.get("meeting_point_name")
        return float(lat), float(lon), str(name) if isinstance(name, str) and name else MEETING_POINT
    node = central_node(graph)
    lon, lat = _geo.transformer(graph.graph["crs"], settings.WGS84).transform(
        graph.nodes[node]["x"], graph.nodes[node]["y"])
    return float(lat), float(lon), WARD_CENTRE


def edges_along(graph: nx.MultiDiGraph, lines: list[shapely.LineString], *, tolerance_m: float = 15.0) -> frozenset:
    """The ``(u, v)`` street edges of ``graph`` that lie along any of ``lines`` (WGS84): the
    edge's points at a quarter, half and three quarters all within ``tolerance_m``."""
    if not lines:
        return frozenset()
    to_metric = _geo.transformer(settings.WGS84, graph.graph["crs"])
    walked = shapely.union_all([shapely.transform(line, lambda xy: np.column_stack(
        to_metric.transform(xy[:, 0], xy[:, 1]))) for line in lines]).buffer(tolerance_m)
    shapely.prepare(walked)
    found = set()
    for u, v, data in graph.edges(data=True):
        line = edge_geometry(graph, u, v, data)
        probes = shapely.line_interpolate_point(line, [0.25, 0.5, 0.75], normalized=True)
        if shapely.contains(walked, probes).all():
            found.add((u, v))
    return frozenset(found)


@dataclass(frozen=True)
class WardPlanParams:
    """What a ward's plan draws on beside its route options: up to ``hot_street_targets`` hot
    streets away from the hotspots as targets, and as streets to vary from those of the ward's
    ``vary_last`` logged patrols plus those along ``recent_routes`` (WGS84 lines of previous
    routes, e.g. from ``export.read_route_lines``)."""

    hot_street_targets: int = 5
    vary_last: int = 0
    recent_routes: tuple[shapely.LineString, ...] = ()

    _constraints: ClassVar[Constraints] = {"hot_street_targets": integer(low=0), "vary_last": integer(low=0)}

    def __post_init__(self) -> None:
        check_params(self)


def plan_for_ward(
    store,
    ward_name: str,
    *,
    params: RouteParams = RouteParams(),
    window: TimeWindow | None = None,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
    ward_params: WardPlanParams = WardPlanParams(),
    data_dir: str | Path | None = None,
) -> Plan:
    """Tonight's patrol of a stored ward, end to end: its cached street graph
    (``streets.ward_graph``), its hotspots of tonight plus up to ``ward_params.hot_street_targets`` hot
    streets away from them as targets, the meeting point (or ``start``) as start, and as the
    streets to vary from (with ``params.variety_penalty``) those of ``ward_params``.

    The hotspots of tonight are the one rule the route, its map and ``was-planner hotspots``
    share: the public rendering (significant areas with enough signals) of all the ward's
    signals, weighted for ``window``, as of its latest signal. The plan carries them
    (``Plan.hotspots``) and the resolved ward name (``Plan.ward``), so a front-end reads neither
    again.
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
    tonight = None
    if len(incidents):
        result = find_hotspots(incidents, wards[wards["name"] == name], params=weights)
        targets, tonight = targets_from_hotspots(result), result.hotspots
    else:
        targets = no_targets()
    if ward_params.hot_street_targets and len(incidents):
        hot = hot_streets(graph, incidents, params=hot_street_params(store, weights, data_dir=data_dir))
        streets_ = targets_from_hot_streets(hot, incidents, top=ward_params.hot_street_targets, avoid=targets)
        if len(streets_):
            targets = gpd.GeoDataFrame(
                pd.concat([targets, streets_.to_crs(settings.WGS84)], ignore_index=True),
                geometry="geometry", crs=settings.WGS84,
            )
    if start is None:
        lat, lon, start_name = start_of(wards[wards["name"] == name].iloc[0], graph)
        start = (lat, lon)
    else:
        start_name = f"{start[0]:.5f}, {start[1]:.5f}"
    recent = edges_along(graph, list(ward_params.recent_routes)) if ward_params.recent_routes else frozenset()
    if ward_params.vary_last > 0:
        logged = store.recent_patrol_edges(name, last=ward_params.vary_last)
        recent |= frozenset(e for e in logged if graph.has_edge(*e))
    log.info("%s: %d targets (%d signals), start %s", name, len(targets), len(incidents), start_name)
    plan = plan_patrol(graph, targets, start=start, end=end, params=params, recent_edges=recent,
                       start_name=start_name)
    return replace(plan, ward=name, hotspots=tonight)
