"""(Team) orienteering: choose and order targets so that each team's walk fits its time budget.

The patrol router reduces its problem to a *team orienteering problem* (TOP): a cost matrix over
nodes (walking time between street-network targets), a score per node (how much a visit is
worth), a dwell time per node, a number of teams and a time budget per team.  Every team leaves
``start`` and arrives at ``end``; each target counts at most once, whichever team visits it.
The goal is the largest total score with no route over budget.

:func:`solve_orienteering` is an iterated local search in the spirit of the ILS and GRASP
heuristics of the orienteering literature: a ratio-greedy construction, then repeated
"ruin and recreate" perturbations, each followed by a local search (2-opt and or-opt to shorten
routes, moves and swaps between routes, ratio insertion of unvisited targets and replacement of
a visited target by a better unvisited one).  Move evaluation is vectorised with numpy, so a
~100-node instance takes well under a second.

:func:`read_instance` reads the classic benchmark files (Tsiligirides / Chao OP, Chao TOP).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import DataNotFoundError, InputError, NoRouteError

__all__ = [
    "BenchmarkInstance",
    "OrienteeringProblem",
    "OrienteeringSolution",
    "SolverParams",
    "read_instance",
    "solve_orienteering",
]

logger = logging.getLogger(__name__)

# Iterations of the automatic budget (``SolverParams.max_iterations=None``) and the number of
# iterations without a new best after which the search gives up.  Both are counts, not seconds,
# so that the default result is reproducible across machines; the time limit is only a safety
# net that a ~100-node instance does not reach on an ordinary laptop.
_AUTO_ITERATIONS = 400
_AUTO_STALL = 200
_ACCEPT_DROP = 0.02
_RESET_EVERY = 50
_RESTART_EVERY = 100
_SEGMENT_SHARE = 0.5
_PERTURB_KINDS = 4
_TABLE_CACHE = 4_000_000  # floats kept in the route-table cache (32 MB)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclass(frozen=True)
class SolverParams:
    """Options of :func:`solve_orienteering`.

    Parameters
    ----------
    time_limit
        Wall-clock limit in seconds.  The search is *anytime*: when the limit is hit it returns
        the best solution found so far.  Hitting it makes the result depend on machine speed.
    seed
        Seed of the random generator; the same problem, seed and iteration budget give the
        same solution.
    max_iterations
        Number of perturbation + local-search iterations.  ``None`` chooses an automatic,
        machine-independent budget (a few thousand iterations, stopping earlier when the best
        solution has not improved for a long while), which normally ends well within the
        default time limit; ``0`` returns the construction followed by one local search.
    """

    time_limit: float = 1.0
    seed: int = 0
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        if not _is_number(self.time_limit) or not math.isfinite(self.time_limit):
            raise InputError(f"time_limit must be a finite number of seconds, got {self.time_limit!r}")
        if self.time_limit <= 0:
            raise InputError(f"time_limit must be > 0, got {self.time_limit!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise InputError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.max_iterations is not None and (
            not _is_int(self.max_iterations) or self.max_iterations < 0
        ):
            raise InputError(
                f"max_iterations must be None or an integer >= 0, got {self.max_iterations!r}"
            )


def _frozen_array(value: Any, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric, got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise InputError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class OrienteeringProblem:
    """A (team) orienteering instance.

    Parameters
    ----------
    cost
        ``(n, n)`` travel cost (e.g. walking seconds) from row node to column node.  It need not
        be symmetric; ``inf`` marks a pair that cannot be travelled directly.  The diagonal is
        ignored.
    scores
        ``(n,)`` non-negative value of visiting each node.  The scores of ``start`` and ``end``
        are ignored: they are depots, not targets.
    budget
        Maximum cost of each route: travel plus the dwell time of its targets.
    start, end
        Depot indices; every route leaves ``start`` and arrives at ``end``.  They may be equal,
        which makes each route a round trip.
    n_routes
        Number of routes (teams), at least 1.
    service
        ``(n,)`` non-negative dwell time spent at each visited target; ``None`` means zeros.
        The dwell times of ``start`` and ``end`` are ignored.
    """

    cost: np.ndarray
    scores: np.ndarray
    budget: float
    start: int = 0
    end: int = 0
    n_routes: int = 1
    service: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        cost = _frozen_array(self.cost, "cost", 2)
        n = cost.shape[0]
        if n == 0 or cost.shape[1] != n:
            raise InputError(f"cost must be a non-empty square matrix, got shape {cost.shape}")
        if np.isnan(cost).any():
            i, j = np.argwhere(np.isnan(cost))[0]
            raise InputError(f"cost must not contain NaN, got NaN at [{i}, {j}]")
        if (cost < 0).any():
            i, j = np.argwhere(cost < 0)[0]
            raise InputError(f"cost must be >= 0 (inf = unreachable), got {cost[i, j]} at [{i}, {j}]")
        scores = _frozen_array(self.scores, "scores", 1)
        if scores.shape != (n,):
            raise InputError(f"scores must have shape ({n},) to match cost, got {scores.shape}")
        if not np.isfinite(scores).all() or (scores < 0).any():
            bad = int(np.flatnonzero(~np.isfinite(scores) | (scores < 0))[0])
            raise InputError(f"scores must be finite and >= 0, got {scores[bad]} at [{bad}]")
        if self.service is None:
            service = np.zeros(n)
            service.setflags(write=False)
        else:
            service = _frozen_array(self.service, "service", 1)
            if service.shape != (n,):
                raise InputError(
                    f"service must have shape ({n},) to match cost, got {service.shape}"
                )
            if not np.isfinite(service).all() or (service < 0).any():
                bad = int(np.flatnonzero(~np.isfinite(service) | (service < 0))[0])
                raise InputError(f"service must be finite and >= 0, got {service[bad]} at [{bad}]")
        if not _is_number(self.budget) or not math.isfinite(self.budget) or self.budget < 0:
            raise InputError(f"budget must be a finite number >= 0, got {self.budget!r}")
        for name in ("start", "end"):
            index = getattr(self, name)
            if not _is_int(index) or not 0 <= index < n:
                raise InputError(f"{name} must be a node index in [0, {n - 1}], got {index!r}")
        if not _is_int(self.n_routes) or self.n_routes < 1:
            raise InputError(f"n_routes must be an integer >= 1, got {self.n_routes!r}")
        object.__setattr__(self, "cost", cost)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "service", service)
        object.__setattr__(self, "budget", float(self.budget))
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "end", int(self.end))
        object.__setattr__(self, "n_routes", int(self.n_routes))

    @property
    def n(self) -> int:
        """Number of nodes, depots included."""
        return int(self.cost.shape[0])

    def route_cost(self, route: tuple[int, ...] | list[int]) -> float:
        """Travel plus dwell cost of ``route`` (depots' dwell excluded), summed exactly."""
        return math.fsum(self._route_terms(route, with_service=True))

    def route_travel(self, route: tuple[int, ...] | list[int]) -> float:
        """Travel cost of ``route`` alone, summed exactly."""
        return math.fsum(self._route_terms(route, with_service=False))

    def _route_terms(self, route: tuple[int, ...] | list[int], *, with_service: bool) -> list[float]:
        terms = [0.0 if a == b else float(self.cost[a, b]) for a, b in itertools.pairwise(route)]
        if with_service:
            terms += [float(self.service[x]) for x in route[1:-1]]
        return terms


@dataclass(frozen=True)
class OrienteeringSolution:
    """Routes chosen by :func:`solve_orienteering`.

    Attributes
    ----------
    routes
        One tuple of node indices per team, each beginning with ``start`` and ending with
        ``end``; a team with no stops has the route ``(start, end)`` (``(start, start)`` for a
        round trip).
    score
        Total score of the visited targets (each target counted once).
    costs
        Cost of each route: travel plus dwell time; never above the budget.
    travel
        Travel cost of each route alone.
    iterations
        Iterations the search ran.
    timed_out
        Whether the time limit stopped the search before its iteration budget (then the result
        may depend on machine speed).
    """

    routes: tuple[tuple[int, ...], ...]
    score: float
    costs: tuple[float, ...]
    travel: tuple[float, ...]
    iterations: int = 0
    timed_out: bool = False

    @property
    def visited(self) -> tuple[int, ...]:
        """Visited targets (depots excluded), in route order."""
        return tuple(node for route in self.routes for node in route[1:-1])

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: routes as lists of node indices, score, costs and travel."""
        return {
            "score": self.score,
            "routes": [list(route) for route in self.routes],
            "costs": list(self.costs),
            "travel": list(self.travel),
            "iterations": self.iterations,
            "timed_out": self.timed_out,
        }


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------


class _State:
    """A set of routes with their exact costs; cheap to copy."""

    __slots__ = ("costs", "routes", "score", "visited")

    def __init__(
        self, routes: list[list[int]], costs: list[float], visited: np.ndarray, score: float
    ) -> None:
        self.routes = routes
        self.costs = costs
        self.visited = visited
        self.score = score

    def copy(self) -> _State:
        return _State([list(r) for r in self.routes], list(self.costs), self.visited.copy(), self.score)

    @property
    def total_cost(self) -> float:
        return math.fsum(self.costs)


class _Search:
    """Working data of one :func:`solve_orienteering` call."""

    def __init__(self, problem: OrienteeringProblem, rng: np.random.Generator) -> None:
        n = problem.n
        self.rng = rng
        self.start = problem.start
        self.end = problem.end
        self.m = problem.n_routes
        self.budget = problem.budget
        D = np.array(problem.cost, dtype=float)
        np.fill_diagonal(D, 0.0)  # staying put costs nothing; also makes (start, start) free
        self.D = D
        S = np.array(problem.service, dtype=float)
        P = np.array(problem.scores, dtype=float)
        for depot in (self.start, self.end):
            S[depot] = 0.0
            P[depot] = 0.0
        self.S = S
        self.P = P
        self.Dl: list[list[float]] = D.tolist()
        self.Sl: list[float] = S.tolist()
        self.Pl: list[float] = P.tolist()
        self.symmetric = bool(np.array_equal(D, D.T))
        # Tolerances relative to the instance's scale, so that float noise never counts as an
        # improvement (which could make the local search cycle).
        finite = D[np.isfinite(D)]
        scale = max(1.0, float(finite.max()) if finite.size else 1.0, self.budget)
        self.eps = 1e-9 * scale
        self.score_eps = 1e-9 * max(1.0, float(P.sum()))

        # A target is worth considering only if some route can reach it at all.  Shortest paths
        # (rather than direct costs) keep this exact when the matrix breaks the triangle
        # inequality.
        sp = _shortest_paths(D)
        reach = sp[self.start] + S + sp[:, self.end]
        mask = (P > 0) & (reach <= self.budget)
        mask[[self.start, self.end]] = False
        self.cand = np.flatnonzero(mask)
        self.n = n
        self.col = np.full(n, -1)
        self.col[self.cand] = np.arange(self.cand.size)
        self.Pc = P[self.cand]
        self._masks: dict[tuple[str, int], Any] = {}
        # Insertion and replacement tables of each route over all candidates, keyed by the route.
        # A move changes one or two routes, so most routes are looked up, not recomputed.
        self._tables: dict[tuple[int, ...], list[Any]] = {}
        self._table_size = 0
        self._replaced = 0  # the route changed by the last successful replace()
        self.neighbours = None
        if self.cand.size:
            # Nearest candidates of each candidate, for cluster removal in the perturbation.
            sub = np.minimum(_block(D, self.cand, self.cand), _block(D, self.cand, self.cand).T)
            self.neighbours = self.cand[np.argsort(sub, axis=1, kind="stable")]

    # -- helpers --------------------------------------------------------------------------------

    def route_cost(self, route: list[int]) -> float:
        Dl, Sl = self.Dl, self.Sl
        return math.fsum([Dl[a][b] for a, b in itertools.pairwise(route)] + [Sl[x] for x in route])

    def empty_state(self) -> _State:
        routes = [[self.start, self.end] for _ in range(self.m)]
        costs = [self.route_cost(r) for r in routes]
        return _State(routes, costs, np.zeros(self.n, dtype=bool), 0.0)

    def better(self, a: _State, b: _State) -> bool:
        """Whether ``a`` beats ``b``: higher score, or the same score for less cost."""
        if a.score > b.score + self.score_eps:
            return True
        if a.score < b.score - self.score_eps:
            return False
        return a.total_cost < b.total_cost - self.eps

    def _route_tables(self, route: list[int]) -> list[Any]:
        """Insertion table of ``route`` over all candidates (columns in ``self.cand`` order).

        ``ins[e, c]``: added cost (dwell included) of putting candidate ``c`` on edge ``e``;
        ``best``/``pos``: its cheapest value and edge.  Cached per route, as a list
        ``[ins, best, pos, replacement tables or None]``; the values do not depend on the
        cache, so neither does the search.
        """
        key = tuple(route)
        entry = self._tables.get(key)
        if entry is not None:
            return entry
        D, nodes = self.D, self.cand
        r = np.asarray(route)
        a, b = r[:-1], r[1:]
        ins = _block(D, a, nodes) + _block(D, nodes, b).T - D[a, b][:, None] + self.S[nodes]
        pos = ins.argmin(axis=0)
        entry = [ins, ins[pos, np.arange(nodes.size)], pos, None]
        if self._table_size + 2 * ins.size > _TABLE_CACHE:
            self._tables.clear()
            self._table_size = 0
        self._tables[key] = entry
        self._table_size += 2 * ins.size
        return entry

    def _replace_tables(self, route: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(alt, saving, rel_min)`` of a route with at least one target, cached with its
        insertion table: ``alt[k, c]`` is the cheapest added cost of candidate ``c`` once the
        ``k``-th target is dropped (in its place or on another edge), ``saving[k]`` what
        dropping that target saves, ``rel_min`` the column minimum of ``alt - saving``, i.e.
        the cheapest replacement of any target of the route by ``c``."""
        entry = self._route_tables(route)
        if entry[3] is not None:
            return entry[3]
        D, S, nodes, ins = self.D, self.S, self.cand, entry[0]
        r = np.asarray(route)
        v, pv, nv = r[1:-1], r[:-2], r[2:]
        shortcut = D[pv, nv]
        with np.errstate(invalid="ignore"):  # inf - inf where v's neighbours are unlinked
            bridge = _block(D, pv, nodes) + _block(D, nodes, nv).T - shortcut[:, None] + S[nodes]
        bridge[~np.isfinite(shortcut)] = np.inf
        # Putting c in place of the k-th target (route position k + 1) cannot use that
        # target's two edges k and k + 1: the best other edge is the better of the cheapest
        # edge before them and the cheapest edge after them.
        inf_row = np.full((1, nodes.size), np.inf)
        before = np.concatenate((inf_row, np.minimum.accumulate(ins[:-2], axis=0)))
        after = np.concatenate((np.minimum.accumulate(ins[:1:-1], axis=0)[::-1], inf_row))
        alt = np.minimum(np.minimum(before, after), bridge)
        saving = D[pv, v] + D[v, nv] - D[pv, nv] + S[v]
        entry[3] = (alt, saving, (alt - saving[:, None]).min(axis=0))
        return entry[3]

    def _insertion_table(self, route: list[int], nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cheapest insertion cost of each node into ``route`` and the edge where it goes."""
        _, best, pos, _ = self._route_tables(route)
        cols = self.col[nodes]
        return best[cols], pos[cols]

    # -- insertion ------------------------------------------------------------------------------

    def insert(self, st: _State, *, noise: float = 0.0, banned: np.ndarray | None = None) -> bool:
        """Insert unvisited targets by best score / added-cost ratio while any fits."""
        free_mask = ~st.visited[self.cand]
        if banned is not None:
            free_mask &= ~banned[self.cand]
        nodes = self.cand[free_mask]
        if nodes.size == 0:
            return False
        weight = self.P[nodes]
        if noise > 0:
            weight = weight * self.rng.uniform(1.0 - noise, 1.0 + noise, nodes.size)
        # One row per route: cheapest insertion cost of each free node and the edge.
        entries = [self._route_tables(r) for r in st.routes]
        delta = np.stack([e[1] for e in entries])[:, free_mask]
        where = np.stack([e[2] for e in entries])[:, free_mask]
        costs = np.array(st.costs)[:, None]
        taken = np.zeros(nodes.size, dtype=bool)
        changed = False
        tiny = self.eps
        while True:
            fits = costs + delta <= self.budget
            if not fits.any():
                return changed
            ratio = np.where(fits, weight / np.maximum(delta, tiny), -np.inf)
            # First route, then first node, among the best ratios.
            ri, k = divmod(int(ratio.argmax()), nodes.size)
            p = int(where[ri, k])
            node = int(nodes[k])
            route = st.routes[ri]
            route.insert(p + 1, node)
            cost = self.route_cost(route)
            if cost > self.budget:  # rounding put it a hair over: undo, never try it there again
                del route[p + 1]
                delta[ri, k] = np.inf
                continue
            st.costs[ri] = cost
            costs[ri, 0] = cost
            st.visited[node] = True
            st.score += self.Pl[node]
            changed = True
            _, best, pos, _ = self._route_tables(route)
            taken[k] = True
            delta[ri] = np.where(taken, np.inf, best[free_mask])
            where[ri] = pos[free_mask]
            delta[:, k] = np.inf

    # -- intra-route shortening -----------------------------------------------------------------

    def _two_opt_mask(self, L: int) -> np.ndarray:
        """0 where reversing positions a+1..b+1 is a move (a < b), inf elsewhere; cached."""
        mask = self._masks.get(("2opt", L))
        if mask is None:
            mask = np.zeros((L - 2, L - 2))
            mask[np.tril_indices(L - 2)] = np.inf
            self._masks[("2opt", L)] = mask
        return mask

    def _or_opt_moves(self, L: int) -> tuple[np.ndarray, ...]:
        """Or-opt moves of a route with ``L`` nodes: one row per (segment start, length,
        direction) so that a single vectorised evaluation covers them all; cached per ``L``."""
        moves = self._masks.get(("oropt", L))
        if moves is None:
            lengths = range(1, min(3, L - 3) + 1)  # moving the whole interior changes nothing
            starts = np.concatenate([np.arange(1, L - k) for k in lengths])
            ks = np.concatenate([np.full(L - 1 - k, k) for k in lengths])
            reverse = np.zeros(starts.size, dtype=bool)
            if self.symmetric:  # reversing a segment is free only when the matrix is symmetric
                multi = ks > 1
                starts = np.concatenate([starts, starts[multi]])
                ks = np.concatenate([ks, ks[multi]])
                reverse = np.concatenate([reverse, np.ones(int(multi.sum()), dtype=bool)])
            edges = np.arange(L - 1)[None, :]
            mask = np.where(
                (edges > starts[:, None] - 2) & (edges < (starts + ks)[:, None]), np.inf, 0.0
            )
            last = starts + ks - 1
            head = np.where(reverse, last, starts)
            tail = np.where(reverse, starts, last)
            moves = (starts, ks, reverse, mask, last, head, tail)
            self._masks[("oropt", L)] = moves
        return moves

    def two_opt(self, route: list[int]) -> bool:
        """Best-improvement 2-opt (segment reversal) until no reversal shortens ``route``."""
        D = self.D
        improved = False
        while len(route) >= 4:
            r = np.asarray(route)
            L = r.size
            inner, prev, nxt = r[1 : L - 1], r[0 : L - 2], r[2:L]
            # delta[a, b]: reverse route positions a+1 .. b+1
            delta = (
                _block(D, prev, inner)
                + _block(D, inner, nxt)
                - D[prev, inner][:, None]
                - D[inner, nxt][None, :]
            )
            if not self.symmetric:
                # A reversed segment is walked the other way round, at its own cost.
                fwd = np.concatenate(([0.0], np.cumsum(D[r[:-1], r[1:]])))
                back = D[r[1:], r[:-1]]
                blocked = np.concatenate(([0], np.cumsum(~np.isfinite(back))))
                back = np.concatenate(([0.0], np.cumsum(np.where(np.isfinite(back), back, 0.0))))
                idx = np.arange(1, L - 1)
                seg_fwd = fwd[idx][None, :] - fwd[idx][:, None]
                seg_back = back[idx][None, :] - back[idx][:, None]
                seg_blocked = blocked[idx][None, :] - blocked[idx][:, None]
                delta = delta + np.where(seg_blocked > 0, np.inf, seg_back - seg_fwd)
            delta += self._two_opt_mask(L)
            flat = int(delta.argmin())
            a, b = divmod(flat, L - 2)
            if not delta[a, b] < -self.eps:
                break
            route[a + 1 : b + 2] = route[a + 1 : b + 2][::-1]
            improved = True
        return improved

    def or_opt(self, route: list[int]) -> bool:
        """Apply the best move of a segment of 1-3 targets elsewhere in ``route``, if any."""
        D = self.D
        L = len(route)
        if L < 4:
            return False
        r = np.asarray(route)
        ea, eb = r[:-1], r[1:]
        starts, ks, reverse, mask, last_i, head_i, tail_i = self._or_opt_moves(L)
        first, last = r[starts], r[last_i]
        before, after = r[starts - 1], r[last_i + 1]
        saving = D[before, first] + D[last, after] - D[before, after]
        delta = (
            _block(D, ea, r[head_i]).T
            + _block(D, r[tail_i], eb)
            - D[ea, eb][None, :]
            - saving[:, None]
        )
        delta += mask
        flat = int(delta.argmin())
        row, p = divmod(flat, L - 1)
        if not delta[row, p] < -self.eps:
            return False
        i, k = int(starts[row]), int(ks[row])
        segment = route[i : i + k]
        if reverse[row]:
            segment.reverse()
        if p <= i - 2:
            route[:] = route[: p + 1] + segment + route[p + 1 : i] + route[i + k :]
        else:
            route[:] = route[:i] + route[i + k : p + 1] + segment + route[p + 1 :]
        return True

    def shorten(self, st: _State, ri: int) -> None:
        """Shorten route ``ri`` with 2-opt and or-opt until neither helps."""
        route = st.routes[ri]
        before = list(route)
        changed = False
        while True:
            changed |= self.two_opt(route)
            if not self.or_opt(route):
                break
            changed = True
        if changed:
            cost = self.route_cost(route)
            if cost <= st.costs[ri]:
                st.costs[ri] = cost
            else:  # float noise only: keep the old order
                route[:] = before

    # -- between routes -------------------------------------------------------------------------

    def exchange(self, st: _State) -> set[int]:
        """Move or swap targets between routes while that lowers the total cost.

        Slack is what lets later insertions add score, so the teams trade stops to walk less.
        """
        D, S = self.D, self.S
        changed: set[int] = set()
        for _ in range(100):  # each move strictly lowers the cost; the bound is a safety net
            best = -self.eps
            move: tuple[Any, ...] | None = None
            arrays = [np.asarray(r) for r in st.routes]
            costs = np.array(st.costs)
            inner = [ra[1:-1] for ra in arrays]
            outs = [
                D[ra[:-2], ra[1:-1]] + D[ra[1:-1], ra[2:]] - D[ra[:-2], ra[2:]] + S[ra[1:-1]]
                for ra in arrays
            ]
            every = np.concatenate(inner)
            if every.size == 0:
                break
            owner = np.repeat(np.arange(self.m), [v.size for v in inner])
            where = np.concatenate([np.arange(1, v.size + 1) for v in inner])
            out_all = np.concatenate(outs)
            leaves_ok = costs[owner] - out_all <= self.budget
            for b in range(self.m):
                ins, pos = self._insertion_table(st.routes[b], every)
                ok = (owner != b) & leaves_ok & (costs[b] + ins <= self.budget)
                gain = np.where(ok, out_all - ins, -np.inf)
                i = int(gain.argmax())
                if -gain[i] < best:
                    best = -float(gain[i])
                    move = ("move", int(owner[i]), b, int(where[i]), int(pos[i]))
            for a, ra in enumerate(arrays):
                if ra.size < 3:
                    continue
                va, pa, na = ra[1:-1], ra[:-2], ra[2:]
                for b in range(a + 1, self.m):
                    rb = arrays[b]
                    if rb.size < 3:
                        continue
                    vb, pb, nb = rb[1:-1], rb[:-2], rb[2:]
                    out_b = D[pb, vb] + D[vb, nb] + S[vb]
                    in_a = _block(D, pa, vb) + _block(D, vb, na).T + S[vb][None, :]
                    in_b = _block(D, pb, va) + _block(D, va, nb).T + S[va][None, :]
                    base_a = D[pa, va] + D[va, na] + S[va]
                    d_a = in_a - base_a[:, None]
                    d_b = in_b.T - out_b[None, :]
                    ok = (st.costs[a] + d_a <= self.budget) & (st.costs[b] + d_b <= self.budget)
                    total = np.where(ok, d_a + d_b, np.inf)
                    flat = int(total.argmin())
                    i, j = divmod(flat, vb.size)
                    if total[i, j] < best:
                        best = float(total[i, j])
                        move = ("swap", a, b, i + 1, j + 1)
            if move is None:
                break
            kind, a, b, i, j = move
            old = [list(st.routes[a]), list(st.routes[b])]
            ra, rb = st.routes[a], st.routes[b]
            if kind == "move":
                node = ra.pop(i)
                rb.insert(j + 1, node)
            else:
                ra[i], rb[j] = rb[j], ra[i]
            cost_a, cost_b = self.route_cost(ra), self.route_cost(rb)
            if (
                max(cost_a, cost_b) > self.budget
                or cost_a + cost_b >= st.costs[a] + st.costs[b]
            ):  # float noise only
                st.routes[a], st.routes[b] = old
                break
            st.costs[a], st.costs[b] = cost_a, cost_b
            self.shorten(st, a)
            self.shorten(st, b)
            changed |= {a, b}
        return changed

    # -- replacement ----------------------------------------------------------------------------

    def replace(self, st: _State) -> bool:
        """Swap a visited target for an unvisited one that scores more (or as much, cheaper)."""
        P = self.P
        free_mask = ~st.visited[self.cand]
        if not free_mask.any():
            return False
        best_key: tuple[float, float] | None = None
        move: tuple[int, int, int] | None = None
        Pc = self.Pc
        for ri, route in enumerate(st.routes):
            L = len(route)
            if L < 3:
                continue
            alt, saving, rel_min = self._replace_tables(route)
            v = np.asarray(route[1:-1])
            # Cheap bound first: most unvisited targets cannot replace anything in this route.
            keep = (
                free_mask
                & (rel_min <= self.budget - st.costs[ri] + self.eps)
                & (Pc >= P[v].min() - self.score_eps)
            )
            if not keep.any():
                continue
            cols = np.flatnonzero(keep)
            nodes = self.cand[cols]
            new_cost = st.costs[ri] - saving[:, None] + alt[:, cols]
            gain = P[nodes][None, :] - P[v][:, None]
            ok = (new_cost <= self.budget) & (
                (gain > self.score_eps)
                | ((gain >= -self.score_eps) & (new_cost < st.costs[ri] - self.eps))
            )
            if not ok.any():
                continue
            g = np.where(ok, gain, -np.inf)
            top_gain = g.max()
            cands = ok & (g >= top_gain - self.score_eps)
            c = np.where(cands, new_cost - st.costs[ri], np.inf)
            flat = int(c.argmin())
            k, u = divmod(flat, nodes.size)
            key = (float(top_gain), -float(c[k, u]))
            if best_key is None or key > best_key:
                best_key = key
                move = (ri, k + 1, int(nodes[u]))
        if move is None:
            return False
        ri, k, node = move
        route = st.routes[ri]
        old = list(route)
        removed = route.pop(k)
        Dl = self.Dl
        p = min(
            range(len(route) - 1),
            key=lambda e: Dl[route[e]][node] + Dl[node][route[e + 1]] - Dl[route[e]][route[e + 1]],
        )
        route.insert(p + 1, node)
        cost = self.route_cost(route)
        if cost > self.budget:  # float noise only
            route[:] = old
            return False
        self._replaced = ri
        st.costs[ri] = cost
        st.visited[removed] = False
        st.visited[node] = True
        st.score += self.Pl[node] - self.Pl[removed]
        return True

    # -- local search and perturbation ----------------------------------------------------------

    def local_search(self, st: _State, changed: set[int] | None = None) -> None:
        """Alternate shortening, exchanges, insertion and replacement until none helps.

        ``changed`` names the routes that may not be shortened yet (all when ``None``); the
        others are left as they are, being already at a 2-opt / or-opt optimum.
        """
        for ri in range(self.m) if changed is None else sorted(changed):
            self.shorten(st, ri)
        exchanged = False
        while True:
            before = [len(r) for r in st.routes]
            if self.insert(st):
                for ri, r in enumerate(st.routes):
                    if len(r) != before[ri]:
                        self.shorten(st, ri)
                exchanged = False
                continue
            if self.replace(st):
                self.shorten(st, self._replaced)
                exchanged = False
                continue
            # Trading stops between teams only pays when it frees room for another target,
            # so it runs once the cheaper moves are exhausted.
            if self.m > 1 and not exchanged:
                exchanged = True
                if self.exchange(st):
                    continue
            return

    def perturb(self, st: _State, strength: float) -> None:
        """Remove some visited targets and greedily refill the routes without them."""
        rng = self.rng
        visited = [x for r in st.routes for x in r[1:-1]]
        if not visited:
            return
        remove: set[int] = set()
        kind = int(rng.integers(_PERTURB_KINDS if self.m > 1 else 3))
        if kind == 3:  # a whole route, so that its targets can be shared out afresh
            busy = [r for r in st.routes if len(r) > 2]
            remove.update(busy[int(rng.integers(len(busy)))][1:-1])
        elif kind == 0:  # a consecutive stretch of some routes
            picked = [r for r in st.routes if rng.random() < _SEGMENT_SHARE] or [
                st.routes[int(rng.integers(self.m))]
            ]
            for r in picked:
                nv = len(r) - 2
                if nv == 0:
                    continue
                k = int(rng.integers(1, max(3, math.ceil(strength * nv)) + 1))
                i = int(rng.integers(1, nv + 1))
                remove.update(r[i : min(i + k, len(r) - 1)])
        elif kind == 1:  # scattered targets
            k = int(rng.integers(1, max(3, math.ceil(strength * len(visited))) + 1))
            remove.update(rng.choice(visited, size=min(k, len(visited)), replace=False).tolist())
        else:  # a cluster around one target, whichever routes it spans
            k = int(rng.integers(1, max(3, math.ceil(strength * len(visited))) + 1))
            centre = int(rng.choice(visited))
            row = int(np.searchsorted(self.cand, centre))
            for node in self.neighbours[row]:
                if st.visited[node]:
                    remove.add(int(node))
                    if len(remove) >= k:
                        break
        for ri, r in enumerate(st.routes):
            kept = [x for x in r if x not in remove or x in (self.start, self.end)]
            if len(kept) == len(r):
                continue
            if kept[0] != self.start or kept[-1] != self.end:
                kept = [self.start, *kept[1:-1], self.end]
            cost = self.route_cost(kept)
            if cost > self.budget:  # only possible without the triangle inequality
                continue
            for x in r[1:-1]:
                if x in remove:
                    st.visited[x] = False
                    st.score -= self.Pl[x]
            st.routes[ri] = kept
            st.costs[ri] = cost
        banned = np.zeros(self.n, dtype=bool)
        banned[list(remove)] = True
        self.insert(st, noise=0.3, banned=banned)

    def run(self, params: SolverParams) -> tuple[_State, int, bool]:
        """Construction, then perturbation + local search; returns (best, iterations, timed_out)."""
        deadline = time.perf_counter() + params.time_limit
        st = self.empty_state()
        if self.cand.size == 0:
            return st, 0, False
        self.insert(st)
        self.local_search(st)
        best = st.copy()
        current = st
        auto = params.max_iterations is None
        limit = _AUTO_ITERATIONS if auto else int(params.max_iterations)
        stall = 0
        iterations = 0
        timed_out = False
        while iterations < limit:
            if time.perf_counter() > deadline:
                timed_out = True
                break
            iterations += 1
            # Small kicks first; bigger ones the longer nothing improves.
            strength = 0.1 + 0.4 * min(1.0, stall / 100)
            trial = current.copy()
            self.perturb(trial, strength)
            changed = {ri for ri in range(self.m) if trial.routes[ri] != current.routes[ri]}
            self.local_search(trial, changed)
            if self.better(trial, best):
                best = trial.copy()
                stall = 0
            else:
                stall += 1
            # Accepting slightly worse solutions lets the walk cross between basins.
            if trial.score >= current.score * (1.0 - _ACCEPT_DROP) - self.score_eps:
                current = trial
            if stall and stall % _RESTART_EVERY == 0:
                # A fresh randomised construction reaches regions the walk would not.
                current = self.empty_state()
                self.insert(current, noise=0.5)
                self.local_search(current)
            elif stall and stall % _RESET_EVERY == 0:
                current = best.copy()
            if auto and stall >= _AUTO_STALL:
                break
        return best, iterations, timed_out


def _block(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[np.ix_(rows, cols)]``, several times faster for the small blocks used here."""
    return matrix.take(rows, 0).take(cols, 1)


def _shortest_paths(cost: np.ndarray) -> np.ndarray:
    """All-pairs shortest path costs (Floyd-Warshall, vectorised per pivot)."""
    dist = np.array(cost, dtype=float)
    np.fill_diagonal(dist, 0.0)
    for k in range(dist.shape[0]):
        np.minimum(dist, dist[:, k : k + 1] + dist[k : k + 1, :], out=dist)
    return dist


def solve_orienteering(
    problem: OrienteeringProblem, *, params: SolverParams = SolverParams()
) -> OrienteeringSolution:
    """Choose and order targets for ``problem.n_routes`` teams to collect the most score.

    Parameters
    ----------
    problem
        The instance; see :class:`OrienteeringProblem`.
    params
        Time limit, seed and iteration budget; see :class:`SolverParams`.

    Returns
    -------
    OrienteeringSolution
        The best routes found.  Every route costs at most ``problem.budget``, each target is
        visited at most once, targets that cannot be reached within the budget are never
        visited, and a team with nothing affordable gets the empty route ``(start, end)``.

    Raises
    ------
    NoRouteError
        When even going straight from ``start`` to ``end`` exceeds the budget.

    Notes
    -----
    With the default ``max_iterations=None`` the search runs a fixed, machine-independent
    number of iterations, so the result depends only on the problem and the seed unless the
    time limit cuts it short (``timed_out`` in the solution, and a log message).
    """
    if not isinstance(params, SolverParams):
        raise InputError(f"params must be a SolverParams, got {type(params).__name__}")
    started = time.perf_counter()
    search = _Search(problem, np.random.default_rng(params.seed))
    direct = search.route_cost([problem.start, problem.end])
    if direct > problem.budget:
        raise NoRouteError(
            f"going straight from start {problem.start} to end {problem.end} costs {direct:g}, "
            f"more than the budget {problem.budget:g}"
        )
    best, iterations, timed_out = search.run(params)
    routes = tuple(tuple(int(x) for x in r) for r in best.routes)
    solution = OrienteeringSolution(
        routes=routes,
        score=math.fsum(float(search.P[x]) for r in routes for x in r[1:-1]),
        costs=tuple(problem.route_cost(r) for r in routes),
        travel=tuple(problem.route_travel(r) for r in routes),
        iterations=iterations,
        timed_out=timed_out,
    )
    elapsed = time.perf_counter() - started
    if timed_out:
        logger.info(
            "orienteering search stopped by the %.3g s time limit after %d iterations; "
            "the result may vary with machine speed",
            params.time_limit,
            iterations,
        )
    logger.debug(
        "orienteering: n=%d routes=%d score=%g iterations=%d %.3fs",
        problem.n,
        problem.n_routes,
        solution.score,
        iterations,
        elapsed,
    )
    return solution


# --------------------------------------------------------------------------------------------
# Benchmark instances
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BenchmarkInstance:
    """A benchmark file read by :func:`read_instance`.

    Attributes
    ----------
    name
        File name without extension, e.g. ``"p4.2.a"`` or ``"set_64_1_15"``.
    kind
        ``"op"`` (Tsiligirides / Chao single-route format) or ``"top"`` (Chao team format).
    coords
        ``(n, 2)`` point coordinates in file order; node ``i`` is point ``i + 1`` of the file.
    problem
        The instance with unrounded Euclidean distances.
    """

    name: str
    kind: str
    coords: np.ndarray
    problem: OrienteeringProblem


def _numbers(path: Path, lineno: int, line: str, count: int, what: str) -> list[float]:
    parts = line.split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise InputError(f"{path}: line {lineno}: expected '{what}', got {line.strip()!r}")
    return values


def _keyword(path: Path, lineno: int, line: str, key: str) -> float:
    parts = line.split()
    try:
        value = float(parts[1]) if len(parts) == 2 and parts[0] == key else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{path}: line {lineno}: expected '{key} <number>', got {line.strip()!r}")
    return value


def _count(path: Path, lineno: int, value: float, what: str, minimum: int) -> int:
    if value != int(value) or value < minimum:
        raise InputError(f"{path}: line {lineno}: {what} must be an integer >= {minimum}, got {value:g}")
    return int(value)


def read_instance(path: str | Path) -> BenchmarkInstance:
    """Read an OP (Tsiligirides / Chao) or TOP (Chao) benchmark file.

    The format is recognised from the first line: ``Tmax P`` for OP files (point 1 is the
    start, point 2 the end), ``n N`` for TOP files (followed by ``m M`` and ``tmax T``; the
    first point is the start, the last the end).  Points are ``x y score`` rows; distances are
    unrounded Euclidean.

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    InputError
        When the file is malformed; the message names the line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"instance file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    lines = [(no, line) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise InputError(f"{path}: the file is empty")
    first_no, first = lines[0]
    if first.split()[0] == "n":
        if len(lines) < 3:
            raise InputError(f"{path}: expected 'n', 'm' and 'tmax' header lines")
        n = _count(path, first_no, _keyword(path, first_no, first, "n"), "n", 1)
        m = _count(path, lines[1][0], _keyword(path, *lines[1], "m"), "m", 1)
        budget = _keyword(path, *lines[2], "tmax")
        rows = lines[3:]
        if len(rows) != n:
            raise InputError(f"{path}: header says n {n} points, found {len(rows)} point lines")
        kind, start, end = "top", 0, n - 1
    else:
        budget, paths = _numbers(path, first_no, first, 2, "Tmax P")
        m = _count(path, first_no, paths, "P", 1)
        rows = lines[1:]
        if len(rows) < 2:
            raise InputError(f"{path}: an OP file needs at least 2 points (start and end)")
        kind, start, end = "op", 0, 1
    data = np.array([_numbers(path, no, line, 3, "x y score") for no, line in rows])
    coords = data[:, :2]
    diff = coords[:, None, :] - coords[None, :, :]
    cost = np.hypot(diff[..., 0], diff[..., 1])
    try:
        problem = OrienteeringProblem(
            cost=cost, scores=data[:, 2], budget=budget, start=start, end=end, n_routes=m
        )
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    coords.setflags(write=False)
    return BenchmarkInstance(name=path.stem, kind=kind, coords=coords, problem=problem)
