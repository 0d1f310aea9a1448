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
a visited target by a better unvisited one).  The move evaluations are compiled with numba
(the ``_k_*`` kernels; the driver stays in Python), so a ~100-node instance runs about 1,800
iterations a second.

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

import numba
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
# so that the default result is reproducible across machines; the time limit is a safety net.
# 1,500 / 750 (was 400 / 200) since the move evaluations are compiled (about 1,800 iterations/s on a 100-node
# TOP instance, against about 475 with numpy): a 100-node instance then ends in roughly 0.5-0.9 s
# on a 2-core VM, so the clock binds only on the slowest ones.  Going higher buys little
# (3,000 / 1,500 reaches the reference on 7 instead of 6 of 12 hard TOP instances, but with the
# clock cutting nearly every 100-node run).
_AUTO_ITERATIONS = 1500
_AUTO_STALL = 750
# On stagnation the walk restarts from a random member of an elite pool of the _ELITE best
# solutions with distinct target sets, not always from the single best one.
_ACCEPT_DROP = 0.02
_ELITE = 5
_RESET_EVERY = 50
_RESTART_EVERY = 100
_SEGMENT_SHARE = 0.5
_PERTURB_KINDS = 4
_STRENGTH_MIN = 0.1  # share of targets a perturbation may remove, growing with stagnation
_STRENGTH_MAX = 0.5
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
        machine-independent budget (1,500 iterations, stopping earlier when the best
        solution has not improved for 750), which normally ends within the default time
        limit (the slowest ~100-node instances may reach it); ``0`` returns the
        construction followed by one local search.
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
        self.Pc = P[self.cand]
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
        ins, best, pos = _k_route_tables(self.D, self.S, np.asarray(route, dtype=np.int64), self.cand)
        entry = [ins, best, pos, None]
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
        entry[3] = _k_replace_tables(
            self.D, self.S, np.asarray(route, dtype=np.int64), self.cand, entry[0]
        )
        return entry[3]

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
        lens = np.array([len(r) for r in st.routes], dtype=np.int64)
        R = np.zeros((self.m, int(lens.max()) + nodes.size), dtype=np.int64)
        for ri, r in enumerate(st.routes):
            R[ri, : len(r)] = r
        costs = np.array(st.costs)
        order = _k_insert(
            self.D, self.S, R, lens, costs, nodes, np.ascontiguousarray(weight, dtype=float),
            self.budget, self.eps,
        )
        if order.size == 0:
            return False
        kept = set()
        for ri, r in enumerate(st.routes):
            if lens[ri] == len(r):
                continue
            route = R[ri, : lens[ri]].tolist()
            cost = self.route_cost(route)
            if cost > self.budget:  # cannot happen (the kernel sums exactly), but never trust it
                continue
            st.routes[ri] = route
            st.costs[ri] = cost
            kept.update(route[1:-1])
        for node in order.tolist():
            if node in kept:
                st.visited[node] = True
                st.score += self.Pl[node]
        return bool(kept)

    # -- intra-route shortening -----------------------------------------------------------------

    def two_opt(self, route: list[int]) -> bool:
        """Best-improvement 2-opt (segment reversal) until no reversal shortens ``route``."""
        if len(route) < 4:
            return False
        r = np.asarray(route, dtype=np.int64)
        if not _k_two_opt(self.D, r, self.eps, self.symmetric):
            return False
        route[:] = r.tolist()
        return True

    def or_opt(self, route: list[int]) -> bool:
        """Apply the best move of a segment of 1-3 targets elsewhere in ``route``, if any.

        Segments are reversed on the way only when the matrix is symmetric (then free)."""
        if len(route) < 4:
            return False
        i, k, reverse, p = _k_or_opt(self.D, np.asarray(route, dtype=np.int64), self.eps, self.symmetric)
        if i < 0:
            return False
        segment = route[i : i + k]
        if reverse:
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
        changed: set[int] = set()
        for _ in range(100):  # each move strictly lowers the cost; the bound is a safety net
            lens = np.array([len(r) for r in st.routes], dtype=np.int64)
            if int(lens.sum()) == 2 * self.m:
                break
            R = np.zeros((self.m, int(lens.max())), dtype=np.int64)
            for ri, r in enumerate(st.routes):
                R[ri, : len(r)] = r
            code, a, b, i, j = _k_exchange_best(
                self.D, self.S, R, lens, np.array(st.costs), self.budget, self.eps
            )
            move = None if code < 0 else ("move" if code == 0 else "swap", a, b, i, j)
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
            found, top_gain, added, k, u = _k_replace_best(
                alt, saving, rel_min, free_mask, Pc, P[route[1:-1]], st.costs[ri], self.budget,
                self.eps, self.score_eps,
            )
            if not found:
                continue
            key = (float(top_gain), -float(added))
            if best_key is None or key > best_key:
                best_key = key
                move = (ri, k + 1, int(self.cand[u]))
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

    def _add_elite(self, elite: list[_State], st: _State) -> None:
        """Keep the ``_ELITE`` best solutions with distinct target sets."""
        for i, e in enumerate(elite):
            if np.array_equal(e.visited, st.visited):
                if self.better(st, e):
                    elite[i] = st.copy()
                return
        if len(elite) < _ELITE:
            elite.append(st.copy())
        else:
            worst = min(range(len(elite)), key=lambda i: (elite[i].score, -elite[i].total_cost))
            if self.better(st, elite[worst]):
                elite[worst] = st.copy()
            else:
                return
        elite.sort(key=lambda e: (-e.score, e.total_cost))

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
        elite: list[_State] = [best.copy()]
        while iterations < limit:
            if time.perf_counter() > deadline:
                timed_out = True
                break
            iterations += 1
            # Small kicks first; bigger ones the longer nothing improves.
            strength = _STRENGTH_MIN + (_STRENGTH_MAX - _STRENGTH_MIN) * min(1.0, stall / 100)
            trial = current.copy()
            self.perturb(trial, strength)
            changed = {ri for ri in range(self.m) if trial.routes[ri] != current.routes[ri]}
            self.local_search(trial, changed)
            if self.better(trial, best):
                best = trial.copy()
                stall = 0
            else:
                stall += 1
            self._add_elite(elite, trial)
            # Accepting slightly worse solutions lets the walk cross between basins.
            if trial.score >= current.score * (1.0 - _ACCEPT_DROP) - self.score_eps:
                current = trial
            if stall and stall % _RESTART_EVERY == 0:
                # A fresh randomised construction reaches regions the walk would not.
                current = self.empty_state()
                self.insert(current, noise=0.5)
                self.local_search(current)
            elif stall and stall % _RESET_EVERY == 0:
                current = elite[int(self.rng.integers(len(elite)))].copy()
            if auto and stall >= _AUTO_STALL:
                break
        return best, iterations, timed_out


# --------------------------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------------------------
# The innermost move evaluations, compiled with numba: on ~100-node instances the arrays are so
# small that numpy's per-call overhead, not arithmetic, dominated.  They take plain arrays (``D``
# the travel matrix with a zero diagonal, ``S`` the dwell times, routes as int64 node arrays),
# keep the floating-point operations in the same order as the vectorised versions they replace
# and break ties by the first index, so the search is deterministic.  ``cache=True`` stores the
# machine code on disk after the first call.


@numba.njit(cache=True)
def _k_route_tables(D, S, route, cand):  # pragma: no cover - compiled
    """``ins[e, c]``: added cost of candidate ``c`` on edge ``e``; its column min and argmin."""
    E = route.size - 1
    nc = cand.size
    ins = np.empty((E, nc))
    best = np.full(nc, np.inf)
    pos = np.zeros(nc, dtype=np.int64)
    for e in range(E):
        a = route[e]
        b = route[e + 1]
        dab = D[a, b]
        for c in range(nc):
            x = cand[c]
            v = D[a, x] + D[x, b] - dab + S[x]
            ins[e, c] = v
            if v < best[c]:
                best[c] = v
                pos[c] = e
    return ins, best, pos


@numba.njit(cache=True)
def _k_replace_tables(D, S, route, cand, ins):  # pragma: no cover - compiled
    """``(alt, saving, rel_min)``; see :meth:`_Search._replace_tables`."""
    K = route.size - 2
    E = route.size - 1
    nc = cand.size
    alt = np.empty((K, nc))
    saving = np.empty(K)
    rel = np.full(nc, np.inf)
    for k in range(K):
        pv = route[k]
        v = route[k + 1]
        nv = route[k + 2]
        saving[k] = D[pv, v] + D[v, nv] - D[pv, nv] + S[v]
    after = np.empty(E + 1)
    for c in range(nc):
        x = cand[c]
        after[E] = np.inf
        for e in range(E - 1, -1, -1):
            after[e] = min(after[e + 1], ins[e, c])
        before = np.inf
        for k in range(K):
            if k > 0:
                before = min(before, ins[k - 1, c])
            pv = route[k]
            nv = route[k + 2]
            shortcut = D[pv, nv]
            bridge = D[pv, x] + D[x, nv] - shortcut + S[x] if np.isfinite(shortcut) else np.inf
            best = min(min(before, after[k + 2]), bridge)
            alt[k, c] = best
            r = best - saving[k]
            if r < rel[c]:
                rel[c] = r
    return alt, saving, rel


@numba.njit(cache=True)
def _k_two_opt(D, route, eps, symmetric):  # pragma: no cover - compiled
    """Best-improvement 2-opt on ``route`` (in place) until nothing shortens it."""
    L = route.size
    improved = False
    fwd = np.empty(L)
    back = np.empty(L)
    blocked = np.empty(L, dtype=np.int64)
    while L >= 4:
        if not symmetric:
            fwd[0] = 0.0
            back[0] = 0.0
            blocked[0] = 0
            for i in range(L - 1):
                fwd[i + 1] = fwd[i] + D[route[i], route[i + 1]]
                bc = D[route[i + 1], route[i]]
                if np.isfinite(bc):
                    back[i + 1] = back[i] + bc
                    blocked[i + 1] = blocked[i]
                else:
                    back[i + 1] = back[i]
                    blocked[i + 1] = blocked[i] + 1
        best = np.inf
        ba = -1
        bb = -1
        for a in range(L - 2):
            p = route[a]
            u = route[a + 1]
            dpu = D[p, u]
            for b in range(a + 1, L - 2):
                w = route[b + 1]
                q = route[b + 2]
                d = D[p, w] + D[u, q] - dpu - D[w, q]
                if not symmetric:
                    if blocked[b + 1] - blocked[a + 1] > 0:
                        d = np.inf
                    else:
                        d = d + ((back[b + 1] - back[a + 1]) - (fwd[b + 1] - fwd[a + 1]))
                if d < best:
                    best = d
                    ba = a
                    bb = b
        if not best < -eps:
            break
        i = ba + 1
        j = bb + 1
        while i < j:
            t = route[i]
            route[i] = route[j]
            route[j] = t
            i += 1
            j -= 1
        improved = True
    return improved


@numba.njit(cache=True)
def _k_or_opt(D, route, eps, symmetric):  # pragma: no cover - compiled
    """The best move of a segment of 1-3 targets elsewhere in ``route``, or ``None``-like -1.

    Returns ``(start, length, reverse, edge)`` with ``start == -1`` when no move shortens it.
    """
    L = route.size
    best = np.inf
    bi = -1
    bk = 0
    brev = False
    bp = -1
    if L < 4:
        return bi, bk, brev, bp
    for rev_pass in range(2 if symmetric else 1):
        rev = rev_pass == 1
        for k in range(1, min(3, L - 3) + 1):
            if rev and k == 1:
                continue
            for i in range(1, L - k):
                last = i + k - 1
                first_n = route[i]
                last_n = route[last]
                bef = route[i - 1]
                aft = route[last + 1]
                saving = D[bef, first_n] + D[last_n, aft] - D[bef, aft]
                head = last_n if rev else first_n
                tail = first_n if rev else last_n
                for p in range(L - 1):
                    if p > i - 2 and p < i + k:
                        continue
                    ea = route[p]
                    eb = route[p + 1]
                    d = D[ea, head] + D[tail, eb] - D[ea, eb] - saving
                    if d < best:
                        best = d
                        bi = i
                        bk = k
                        brev = rev
                        bp = p
    if not best < -eps:
        return -1, 0, False, -1
    return bi, bk, brev, bp


@numba.njit(cache=True)
def _k_replace_best(alt, saving, rel, free, Pc, Pv, cost, budget, eps, score_eps):  # pragma: no cover
    """Best replacement of a target of one route by a free candidate.

    Returns ``(found, top_gain, added_cost, k, c)``: the highest score gain, then the least
    added cost among gains within ``score_eps`` of it (first index on ties).
    """
    K = saving.size
    nc = Pc.size
    pmin = np.inf
    for k in range(K):
        pmin = min(pmin, Pv[k])
    top = -np.inf
    found = False
    for c in range(nc):
        if not free[c] or not rel[c] <= budget - cost + eps or not Pc[c] >= pmin - score_eps:
            continue
        for k in range(K):
            new_cost = cost - saving[k] + alt[k, c]
            gain = Pc[c] - Pv[k]
            if new_cost <= budget and (
                gain > score_eps or (gain >= -score_eps and new_cost < cost - eps)
            ):
                found = True
                if gain > top:
                    top = gain
    if not found:
        return False, 0.0, 0.0, -1, -1
    bestc = np.inf
    bk = -1
    bc = -1
    for k in range(K):
        for c in range(nc):
            if not free[c] or not rel[c] <= budget - cost + eps or not Pc[c] >= pmin - score_eps:
                continue
            new_cost = cost - saving[k] + alt[k, c]
            gain = Pc[c] - Pv[k]
            if new_cost <= budget and (
                gain > score_eps or (gain >= -score_eps and new_cost < cost - eps)
            ) and gain >= top - score_eps:
                added = new_cost - cost
                if added < bestc:
                    bestc = added
                    bk = k
                    bc = c
    return True, top, bestc, bk, bc


@numba.njit(cache=True)
def _k_exchange_best(D, S, R, lens, costs, budget, eps):  # pragma: no cover - compiled
    """Best move (kind 0) or swap (kind 1) of targets between routes that lowers the total cost.

    ``R`` holds the routes row by row (``lens`` their lengths).  Returns ``(kind, a, b, i, j)``
    with ``kind == -1`` when nothing lowers the cost by more than ``eps``; for a move, target
    ``i`` of route ``a`` goes after position ``j`` of route ``b``; for a swap, position ``i`` of
    route ``a`` and ``j`` of route ``b`` trade places.
    """
    m = lens.size
    best = -eps
    kind = -1
    ra_ = -1
    rb_ = -1
    bi = -1
    bj = -1
    # Moves: every target against every other route's cheapest insertion.
    for b in range(m):
        Lb = lens[b]
        gbest = -np.inf
        ga = -1
        gi = -1
        gp = -1
        for a in range(m):
            La = lens[a]
            for i in range(1, La - 1):
                p = R[a, i - 1]
                v = R[a, i]
                n = R[a, i + 1]
                out = D[p, v] + D[v, n] - D[p, n] + S[v]
                ins = np.inf
                pos = 0
                for e in range(Lb - 1):
                    x = R[b, e]
                    y = R[b, e + 1]
                    c = D[x, v] + D[v, y] - D[x, y] + S[v]
                    if c < ins:
                        ins = c
                        pos = e
                fits = a != b and costs[a] - out <= budget and costs[b] + ins <= budget
                g = out - ins if fits else -np.inf
                if gi == -1 or g > gbest:
                    gbest = g
                    ga = a
                    gi = i
                    gp = pos
        if gi != -1 and -gbest < best:
            best = -gbest
            kind = 0
            ra_ = ga
            rb_ = b
            bi = gi
            bj = gp
    # Swaps: one target of route a for one of route b.
    for a in range(m):
        La = lens[a]
        if La < 3:
            continue
        for b in range(a + 1, m):
            Lb = lens[b]
            if Lb < 3:
                continue
            tbest = np.inf
            ti = -1
            tj = -1
            for i in range(1, La - 1):
                pa = R[a, i - 1]
                va = R[a, i]
                na = R[a, i + 1]
                base_a = D[pa, va] + D[va, na] + S[va]
                for j in range(1, Lb - 1):
                    pb = R[b, j - 1]
                    vb = R[b, j]
                    nb = R[b, j + 1]
                    out_b = D[pb, vb] + D[vb, nb] + S[vb]
                    d_a = D[pa, vb] + D[vb, na] + S[vb] - base_a
                    d_b = D[pb, va] + D[va, nb] + S[va] - out_b
                    fits = costs[a] + d_a <= budget and costs[b] + d_b <= budget
                    t = d_a + d_b if fits else np.inf
                    if ti == -1 or t < tbest:
                        tbest = t
                        ti = i
                        tj = j
            if tbest < best:
                best = tbest
                kind = 1
                ra_ = a
                rb_ = b
                bi = ti
                bj = tj
    return kind, ra_, rb_, bi, bj


@numba.njit(cache=True)
def _k_insert_pick(costs, delta, weight, budget, tiny):  # pragma: no cover - compiled
    """Route and column of the best score / added-cost ratio among insertions that fit."""
    m, F = delta.shape
    best = -np.inf
    bri = -1
    bk = -1
    for ri in range(m):
        for k in range(F):
            d = delta[ri, k]
            if costs[ri] + d <= budget:
                r = weight[k] / max(d, tiny)
                if bri == -1 or r > best:
                    best = r
                    bri = ri
                    bk = k
    return bri, bk


@numba.njit(cache=True)
def _k_fsum(terms, count):  # pragma: no cover - compiled
    """Correctly rounded sum of ``terms[:count]`` (finite values): CPython's ``math.fsum``
    algorithm (Shewchuk's exact partials, then round-half-even), so it returns the same value."""
    partials = np.empty(count + 1)
    n = 0
    for t in range(count):
        x = terms[t]
        i = 0
        for j in range(n):
            y = partials[j]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            x = hi
        partials[i] = x
        n = i + 1
    hi = 0.0
    if n > 0:
        n -= 1
        hi = partials[n]
        lo = 0.0
        while n > 0:
            x = hi
            n -= 1
            y = partials[n]
            hi = x + y
            yr = hi - x
            lo = y - yr
            if lo != 0.0:
                break
        if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
            y = lo * 2.0
            x = hi + y
            yr = x - hi
            if y == yr:
                hi = x
    return hi


@numba.njit(cache=True)
def _k_route_cost(D, S, route, length, terms):  # pragma: no cover - compiled
    """Exact travel plus dwell cost of ``route[:length]``, as :meth:`_Search.route_cost`."""
    count = 0
    for t in range(length - 1):
        terms[count] = D[route[t], route[t + 1]]
        count += 1
    for t in range(length):
        terms[count] = S[route[t]]
        count += 1
    return _k_fsum(terms, count)


@numba.njit(cache=True)
def _k_fill_row(D, S, route, length, nodes, taken, delta, where):  # pragma: no cover - compiled
    """Cheapest insertion cost (``inf`` once taken) and edge of each node into one route."""
    for c in range(nodes.size):
        x = nodes[c]
        best = np.inf
        pos = 0
        for e in range(length - 1):
            a = route[e]
            b = route[e + 1]
            v = D[a, x] + D[x, b] - D[a, b] + S[x]
            if v < best:
                best = v
                pos = e
        delta[c] = np.inf if taken[c] else best
        where[c] = pos


@numba.njit(cache=True)
def _k_insert(D, S, R, lens, costs, nodes, weight, budget, tiny):  # pragma: no cover - compiled
    """Greedy ratio insertion of ``nodes`` into the routes ``R[ri, :lens[ri]]`` (in place).

    Repeatedly inserts the node with the best ``weight`` / added-cost ratio among those that
    fit (first route, then first node, on ties) at its cheapest edge, checking each new route
    cost with the exact sum; a node that the exact sum puts over the budget is never tried on
    that route again until the route changes.  Returns the inserted nodes in order.
    """
    m = lens.size
    F = nodes.size
    taken = np.zeros(F, dtype=np.bool_)
    delta = np.empty((m, F))
    where = np.empty((m, F), dtype=np.int64)
    for ri in range(m):
        _k_fill_row(D, S, R[ri], lens[ri], nodes, taken, delta[ri], where[ri])
    terms = np.empty(2 * R.shape[1] + 2)
    order = np.empty(F, dtype=np.int64)
    count = 0
    while True:
        ri, k = _k_insert_pick(costs, delta, weight, budget, tiny)
        if ri < 0:
            break
        p = where[ri, k]
        L = lens[ri]
        route = R[ri]
        for t in range(L, p + 1, -1):
            route[t] = route[t - 1]
        route[p + 1] = nodes[k]
        cost = _k_route_cost(D, S, route, L + 1, terms)
        if cost > budget:  # rounding put it a hair over: undo, never try it there again
            for t in range(p + 1, L):
                route[t] = route[t + 1]
            delta[ri, k] = np.inf
            continue
        lens[ri] = L + 1
        costs[ri] = cost
        taken[k] = True
        order[count] = nodes[k]
        count += 1
        _k_fill_row(D, S, route, L + 1, nodes, taken, delta[ri], where[ri])
        for r2 in range(m):
            delta[r2, k] = np.inf
    return order[:count]


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
