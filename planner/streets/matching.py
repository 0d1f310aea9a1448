"""Map matching: a walked GPS track onto a prepared street graph, as a hidden Markov model
(Newson & Krumm 2009) solved with Viterbi.

``match_track`` runs five steps, each a function of the previous one's records:

1. ``_track_xy``: the fixes in metres, wild fixes removed (running median), thinned;
2. ``_candidates``: for each fix the nearby street positions (``_Candidate``);
3. ``_viterbi``: the most likely position per fix, in segments that break where no street path
   fits a step;
4. ``_walk``: each segment as stays on streets (``_Run``) joined by node paths (``_Bridge``),
   without the short dips GPS jitter makes at junctions (``_drop_jitter``);
5. ``_cover``: the covered stretch of each street, its length, and the streets walked enough.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, NamedTuple

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from .. import settings
from .._errors import InputError
from .._geo import graph_crs, street_table, transformer
from .._validation import Constraints, Rule, check_params, integer, real

log = logging.getLogger(__name__)

_MAX_CANDIDATES = 8
"""Nearest street positions kept per fix (more only slow Viterbi down)."""


_ODD = "an odd integer ≥ 1"


@dataclass(frozen=True)
class MatchParams:
    """How a GPS track is matched onto the street graph (a hidden Markov model, Newson & Krumm 2009).

    Parameters
    ----------
    sigma_m
        GPS noise (standard deviation, m) of the distance between a fix and its street.
    search_m
        Streets farther than this from a fix are not candidates; a fix with none is off the graph.
    spacing_m
        Fixes closer than this to the last kept one are skipped (noise dominates such steps).
    beta_m
        Tolerance (m) for the difference between the walked distance along the streets and the
        straight distance between two fixes.
    max_gap_m
        The longest street distance bridged between two kept fixes; farther, the track breaks.
    min_covered
        A street counts as walked when at least this share of its length was covered.
    median_window
        Fixes in the running median that removes wild fixes first, where the fixes around
        lie closer than twice ``sigma_m`` (1: off).
    """

    sigma_m: float = 15.0
    search_m: float = 60.0
    spacing_m: float = 25.0
    beta_m: float = 40.0
    max_gap_m: float = 1500.0
    min_covered: float = 0.5
    median_window: int = 5

    _constraints: ClassVar[Constraints] = {
        **dict.fromkeys(("sigma_m", "search_m", "beta_m", "max_gap_m"), real(low=0, low_open=True)),
        "spacing_m": real(low=0),
        "median_window": (integer(low=1, allowed=_ODD), Rule(lambda value: value % 2 == 1, _ODD)),
        "min_covered": real(low=0, high=1, low_open=True),
    }

    def __post_init__(self) -> None:
        check_params(self)


@dataclass(frozen=True)
class MatchedTrack:
    """A GPS track matched onto a street graph."""

    edges: frozenset
    """``(u, v)`` street edges walked (each street once, in the graph's own direction)."""
    length_m: float
    """Distance walked along the streets (repeats counted)."""
    path_lonlat: tuple[tuple[float, float], ...]
    n_points: int
    n_used: int
    """Fixes kept after thinning to ``spacing_m``."""
    n_off_graph: int
    """Kept fixes farther than ``search_m`` from every street (ignored)."""
    breaks: int
    """Places where the track could not be joined along the streets (e.g. a long GPS gap)."""

    @property
    def matched_share(self) -> float:
        return 1.0 - self.n_off_graph / self.n_used if self.n_used else 0.0

    def to_json(self) -> dict:
        return {
            "edges": len(self.edges), "km": round(self.length_m / 1000, 3), "points": self.n_points,
            "used": self.n_used, "off_graph": self.n_off_graph, "breaks": self.breaks,
            "matched_share": round(self.matched_share, 4),
        }


class _Candidate(NamedTuple):
    """A street position a fix may stand for."""

    edge: int
    offset: float
    """Metres along the street from its ``u`` end."""
    distance: float
    """Metres from the fix."""


class _Route(NamedTuple):
    """The street way from one candidate to the next."""

    length: float
    exit_node: int
    """The end of the first candidate's street the way leaves by (-1: both on one street)."""
    entry_node: int
    """The end of the second candidate's street the way enters by (-1: both on one street)."""


@dataclass(frozen=True)
class _Run:
    """A stay on one street: entered at node ``entry``, left at ``exit`` (None: the segment
    began / ended on it), reaching offsets ``lo``–``hi``."""

    edge: int
    entry: int | None
    exit: int | None
    lo: float
    hi: float


@dataclass(frozen=True)
class _Bridge:
    """Node indices walked from one street to the next (one node: a corner)."""

    nodes: tuple[int, ...]


class _Streets:
    """The undirected streets of a graph for matching: one geometry per node pair (the shortest)."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        table, _ = street_table(graph, shortest=True)
        self.nodes = list(graph.nodes)
        self.position = {node: i for i, node in enumerate(self.nodes)}
        self.u = np.array([self.position[u] for u in table["u"]], dtype=np.int64)
        self.v = np.array([self.position[v] for v in table["v"]], dtype=np.int64)
        self.length = table["length"].to_numpy(dtype=float)
        self.geometry = np.array(list(table.geometry), dtype=object)
        self.edge_of = {}
        for i, (a, b) in enumerate(zip(self.u, self.v, strict=True)):
            self.edge_of[(a, b)] = self.edge_of[(b, a)] = i
        n = len(self.nodes)
        self.matrix = csr_matrix(
            (np.r_[self.length, self.length], (np.r_[self.u, self.v], np.r_[self.v, self.u])), shape=(n, n))
        self.tree = shapely.STRtree(self.geometry)
        self.xy = np.array([(graph.nodes[node]["x"], graph.nodes[node]["y"]) for node in self.nodes])
        self._rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def distances(self, node: int, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """Street distances and predecessors from node index ``node`` (up to ``limit`` m)."""
        if node not in self._rows:
            dist, pred = dijkstra(self.matrix, directed=False, indices=[node], limit=limit,
                                  return_predecessors=True)
            self._rows[node] = (dist[0], pred[0])
        return self._rows[node]

    def node_path(self, a: int, b: int, limit: float) -> list[int]:
        _, pred = self.distances(a, limit)
        path = [b]
        while path[-1] != a:
            path.append(int(pred[path[-1]]))
        return path[::-1]

    def route(self, a: _Candidate, b: _Candidate, limit: float) -> _Route:
        """The shortest street way from ``a`` to ``b`` (length ∞ when none is within ``limit``)."""
        if a.edge == b.edge:
            return _Route(abs(b.offset - a.offset), -1, -1)
        best = _Route(math.inf, -1, -1)
        for end_a, cost_a in ((self.u[a.edge], a.offset), (self.v[a.edge], self.length[a.edge] - a.offset)):
            dist = self.distances(int(end_a), limit)[0]
            for end_b, cost_b in ((self.u[b.edge], b.offset), (self.v[b.edge], self.length[b.edge] - b.offset)):
                total = cost_a + dist[end_b] + cost_b
                if total < best.length:
                    best = _Route(total, int(end_a), int(end_b))
        return best

    def point(self, c: _Candidate) -> tuple[float, float]:
        """Where candidate ``c`` lies (metric x, y)."""
        line = self.geometry[c.edge]
        full = self.length[c.edge]
        spot = line.interpolate(c.offset / full * line.length if full > 0 else 0)
        return (spot.x, spot.y)

    def reach(self, run: _Run) -> float:
        """How far into its street a run went from the end it entered by."""
        return run.hi if run.entry == self.u[run.edge] else self.length[run.edge] - run.lo


def _despike(xy: np.ndarray, window: int, dense_m: float) -> np.ndarray:
    """A running median over ``window`` fixes where the track is dense: single wild fixes
    (multipath) disappear.

    Only fixes are replaced where the track around the window moves in steps shorter than
    ``dense_m``. A sparse track (an app that records turns only, a planned route's GPX) has
    real corners and out-and-back detours, which a median would cut off.
    """
    if window <= 1 or len(xy) < window:
        return xy
    half = window // 2
    padded = np.pad(xy, ((half, half), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    # Judged on the steps just outside the window: up to ``half`` wild fixes in a row, which
    # the median removes, make the steps inside it long.
    steps = np.hypot(*np.diff(np.pad(xy, ((half + 1, half + 1), (0, 0)), mode="edge"), axis=0).T)
    dense = (steps[: len(xy)] < dense_m) & (steps[2 * half + 1:] < dense_m)
    return np.where(dense[:, None], np.median(windows, axis=-1), xy)


def _thin(xy: np.ndarray, spacing: float) -> np.ndarray:
    kept = [0]
    for i in range(1, len(xy)):
        if np.hypot(*(xy[i] - xy[kept[-1]])) >= spacing:
            kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def _track_xy(lonlat: np.ndarray, crs, params: MatchParams) -> np.ndarray:
    """The fixes used: in metres, finite, despiked and thinned to ``params.spacing_m``."""
    xy = np.column_stack(transformer(settings.WGS84, crs).transform(lonlat[:, 0], lonlat[:, 1]))
    xy = _despike(xy[np.isfinite(xy).all(axis=1)], params.median_window, 2 * params.sigma_m)
    return xy[_thin(xy, params.spacing_m)]


def _candidates(streets: _Streets, xy: np.ndarray, search_m: float) -> list[tuple[_Candidate, ...]]:
    """Per fix, the nearest street positions within ``search_m`` (none: the fix is off the graph)."""
    points = shapely.points(xy)
    point_idx, edge_idx = streets.tree.query(points, predicate="dwithin", distance=search_m)
    geometry = streets.geometry[edge_idx]
    distance = shapely.distance(points[point_idx], geometry)
    geom_len = shapely.length(geometry)
    along = shapely.line_locate_point(geometry, points[point_idx])
    offset = np.where(geom_len > 0, along / np.maximum(geom_len, 1e-9), 0.0) * streets.length[edge_idx]
    found: list[list[_Candidate]] = [[] for _ in range(len(xy))]
    for p, e, d, s in zip(point_idx, edge_idx, distance, offset, strict=True):
        found[p].append(_Candidate(int(e), float(s), float(d)))
    return [tuple(sorted(c, key=lambda c: c.distance)[:_MAX_CANDIDATES]) for c in found]


def _transitions(streets: _Streets, before: Sequence[_Candidate], after: Sequence[_Candidate], straight: float,
                 params: MatchParams) -> np.ndarray:
    """Log-probabilities of stepping from each of ``before`` to each of ``after``: the street way
    should be about as long as the ``straight`` distance between the fixes (-∞: no way)."""
    transition = np.full((len(before), len(after)), -math.inf)
    for a, ca in enumerate(before):
        for b, cb in enumerate(after):
            walked = streets.route(ca, cb, params.max_gap_m).length
            if walked <= params.max_gap_m:
                transition[a, b] = -abs(walked - straight) / params.beta_m
    return transition


def _best_states(chain: Sequence[int], back: Sequence[np.ndarray], score: np.ndarray,
                 candidates: Sequence[tuple[_Candidate, ...]]) -> tuple[_Candidate, ...]:
    """The most likely candidate of each fix of ``chain``, traced back from the best final score."""
    state = int(np.argmax(score))
    states = [state]
    for pointers in reversed(back):
        state = int(pointers[state])
        states.append(state)
    states.reverse()
    return tuple(candidates[i][k] for i, k in zip(chain, states, strict=True))


def _viterbi(streets: _Streets, xy: np.ndarray, candidates: Sequence[tuple[_Candidate, ...]],
             params: MatchParams) -> list[tuple[_Candidate, ...]]:
    """The most likely street positions of the fixes with candidates, segment by segment: a
    segment breaks where no street way fits the step to the next fix."""
    segments: list[tuple[_Candidate, ...]] = []
    chain: list[int] = []
    back: list[np.ndarray] = []
    score = np.empty(0)
    for i in (i for i, c in enumerate(candidates) if c):
        emission = np.array([-0.5 * (c.distance / params.sigma_m) ** 2 for c in candidates[i]])
        total = None
        if chain:
            previous = chain[-1]
            straight = float(np.hypot(*(xy[i] - xy[previous])))
            total = score[:, None] + _transitions(streets, candidates[previous], candidates[i], straight, params)
        if total is None or not np.isfinite(total).any():
            if chain:
                segments.append(_best_states(chain, back, score, candidates))
            score, back, chain = emission, [], [i]
        else:
            back.append(np.argmax(total, axis=0))
            score = total.max(axis=0) + emission
            chain.append(i)
    if chain:
        segments.append(_best_states(chain, back, score, candidates))
    return segments


def _walk(streets: _Streets, states: Sequence[_Candidate], limit: float
          ) -> tuple[list[_Run | _Bridge], list[tuple[float, float]]]:
    """A segment's positions as stays on streets joined by bridges, and the path through them."""
    first = states[0]
    steps: list[_Run | _Bridge] = [_Run(first.edge, None, None, first.offset, first.offset)]
    path = [streets.point(first)]
    for a, b in itertools.pairwise(states):
        way = streets.route(a, b, limit)
        if way.exit_node < 0:
            run = steps[-1]
            steps[-1] = replace(run, lo=min(run.lo, b.offset), hi=max(run.hi, b.offset))
            path.append(streets.point(b))
            continue
        steps[-1] = replace(steps[-1], exit=way.exit_node)
        nodes = streets.node_path(way.exit_node, way.entry_node, limit)
        steps += [_Bridge(tuple(nodes)), _Run(b.edge, way.entry_node, None, b.offset, b.offset)]
        path.extend(tuple(streets.xy[n]) for n in nodes)
        path.append(streets.point(b))
    return steps, path


def _drop_jitter(streets: _Streets, steps: list[_Run | _Bridge], jitter: float) -> list[_Run | _Bridge]:
    """GPS jitter at a junction: a short dip into a side street and straight back through the
    same node (A → B → A, or A → B → C) is not walked."""
    steps = list(steps)
    changed = True
    while changed:
        changed = False
        for i in range(0, len(steps) - 4, 2):
            first, dip, last = steps[i], steps[i + 2], steps[i + 4]
            if not (len(steps[i + 1].nodes) == 1 and len(steps[i + 3].nodes) == 1 and dip.entry == dip.exit
                    and streets.reach(dip) < jitter):
                continue
            if last.edge == first.edge:
                steps[i:i + 5] = [_Run(first.edge, first.entry, last.exit, min(first.lo, last.lo),
                                       max(first.hi, last.hi))]
            else:  # a dip at a corner: A → (B and back) → C is just A → C
                del steps[i + 2:i + 4]
            changed = True
            break
    return steps


def _span(streets: _Streets, run: _Run) -> tuple[tuple[float, float], int]:
    """The offsets of its street a run covered, and how often it walked them (2: in and back out)."""
    full, u = streets.length[run.edge], streets.u[run.edge]
    if run.entry is None and run.exit is None:
        span = (run.lo, run.hi)
    elif run.entry is None or run.exit is None or run.entry == run.exit:
        end = run.exit if run.entry is None else run.entry
        span = (0.0, run.hi) if end == u else (run.lo, full)
    else:
        span = (0.0, full)
    return span, (2 if run.entry is not None and run.entry == run.exit else 1)


def _cover(streets: _Streets, steps: Sequence[_Run | _Bridge], covered: dict[int, list[tuple[float, float]]]
           ) -> list[float]:
    """Add the stretches ``steps`` covered to ``covered`` (per street); the length each step walked."""
    lengths = []
    for step in steps:
        if isinstance(step, _Run):
            span, times = _span(streets, step)
            covered.setdefault(step.edge, []).append(span)
            lengths.append(times * (span[1] - span[0]))
        else:
            for n1, n2 in itertools.pairwise(step.nodes):
                e = streets.edge_of[(n1, n2)]
                covered.setdefault(e, []).append((0.0, streets.length[e]))
                lengths.append(streets.length[e])
    return lengths


def _walked_edges(streets: _Streets, covered: dict[int, list[tuple[float, float]]], min_covered: float) -> set:
    """The ``(u, v)`` edges of the streets whose covered stretches add up to ``min_covered`` of them."""
    edges = set()
    for e, spans in covered.items():
        spans.sort()
        total, reach = 0.0, -math.inf
        for lo, hi in spans:
            lo = max(lo, reach)
            if hi > lo:
                total += hi - lo
            reach = max(reach, hi)
        if streets.length[e] == 0 or total >= min_covered * streets.length[e]:
            edges.add((streets.nodes[streets.u[e]], streets.nodes[streets.v[e]]))
    return edges


def match_track(graph: nx.MultiDiGraph, lonlat: np.ndarray, *, params: MatchParams = MatchParams()) -> MatchedTrack:
    """Match a walked GPS track (WGS84 ``(lon, lat)`` rows, in walking order) onto a prepared
    street graph: the most likely sequence of street positions (Viterbi over the streets near
    each fix), joined by shortest street paths. Fixes off the graph are ignored; the graph is
    not changed.
    """
    crs = graph_crs(graph)
    lonlat = np.asarray(lonlat, float).reshape(-1, 2)
    if len(lonlat) < 2:
        msg = f"a track needs at least 2 points, got {len(lonlat)}"
        raise InputError(msg)
    streets = _Streets(graph)
    kept = _track_xy(lonlat, crs, params)
    candidates = _candidates(streets, kept, params.search_m)
    segments = _viterbi(streets, kept, candidates, params)
    covered: dict[int, list[tuple[float, float]]] = {}
    length = 0.0
    path: list[tuple[float, float]] = []
    for states in segments:
        steps, segment_path = _walk(streets, states, params.max_gap_m)
        path += segment_path
        # One step at a time, in walking order: a float sum depends on its order.
        for walked in _cover(streets, _drop_jitter(streets, steps, 2 * params.sigma_m), covered):
            length += walked
    edges = _walked_edges(streets, covered, params.min_covered)
    lon, lat = transformer(crs, settings.WGS84).transform(*np.asarray(path).T) if path else ((), ())
    result = MatchedTrack(
        edges=frozenset(edges), length_m=float(length),
        path_lonlat=tuple((float(a), float(b)) for a, b in zip(lon, lat, strict=True)),
        n_points=len(lonlat), n_used=len(kept), n_off_graph=sum(1 for c in candidates if not c),
        breaks=max(0, len(segments) - 1),
    )
    log.info("matched a track of %d fixes (%d used, %d off the streets) to %d streets, %.2f km",
             result.n_points, result.n_used, result.n_off_graph, len(edges), length / 1000)
    return result
