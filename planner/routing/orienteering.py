"""(Team) orienteering: choose and order targets so that each team's walk fits its time budget.

The patrol router reduces its problem to a *team orienteering problem* (TOP): a cost matrix over
nodes (walking time between street-network targets), a score per node (how much a visit is
worth), a dwell time per node, a number of teams and a time budget per team.  Every team leaves
``start`` and arrives at ``end``; each target counts at most once, whichever team visits it.
The goal is the largest total score with no route over budget.

:func:`solve_orienteering` is an iterated local search in the spirit of the ILS and GRASP
heuristics of the orienteering literature: a ratio-greedy construction (for a single route also
a tour through every target cut down to the budget, least score per saved cost first, keeping
the better), then repeated "ruin and recreate" perturbations, each followed by a local search
(2-opt and or-opt to shorten routes, moves, swaps and tail exchanges between routes, ratio
insertion of unvisited targets and replacement of a visited target by a better unvisited one).
On long routes with symmetric costs the moves look only next to each node's nearest
neighbours, with don't-look bits, so they cost O(k) rather than O(n) per node; short routes
keep the full scans.  A single route over more than 100 candidates (large OPLib instances)
also starts from the tour cut down by runs of consecutive targets (so that whole clusters go
or stay together) and from constructions seeded in rich far regions, and most of its
perturbations add a region of free targets and cut the route back by runs, which lets it
move to far clusters that a removal-and-refill never reaches.  The whole search is compiled
with numba (the ``_k_*`` kernels; Python only prepares the arrays and watches the clock), and
two independent searches run in parallel threads by default, the best one winning.

:func:`read_instance` reads the classic benchmark files (Tsiligirides / Chao OP, Chao TOP).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numba
import numpy as np

from .._errors import DataNotFoundError, InputError, NoRouteError
from .._validation import Constraints, check_params, integer, optional, real

__all__ = [
    "BenchmarkInstance",
    "OrienteeringProblem",
    "OrienteeringSolution",
    "SolverParams",
    "read_instance",
    "solve_orienteering",
]

logger = logging.getLogger(__name__)

# Iterations of the automatic budget (``SolverParams.max_iterations=None``), per search, and the
# number of iterations without a new best after which a search gives up.  With the whole search
# compiled a ~100-node TOP instance runs about 7,000 iterations a second per search on a 2-core
# VM, so at the default 1 s limit the clock ends the 100-node runs and the counts end the
# smaller ones.  Measured on the 240 Chao TOP instances (bench/RESULTS.md): 1,500 / 750 reaches
# the reference on far fewer of the hard ones than letting the clock decide.
_AUTO_ITERATIONS = 20_000
_AUTO_STALL = 10_000
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
_STEPS = 64  # at most this many iterations per compiled call; the clock is checked between calls
_CALL_SECONDS = 0.01  # and about this long a call
_FULL_SCAN = 60  # routes longer than this (symmetric costs) use near-neighbour 2-opt / or-opt
_NEAR = 12
_NEAR_FAR = 40  # a free target with none of its _NEAR nearest on the route looks this far
_FINISH_MARGIN = 0.005  # seconds kept for joining the searches and building the answer
# Instances of more than _LARGE candidates (OPLib's larger ones; not TOP, the small OP sets or
# the patrol planner, which search as before): a single route with symmetric costs also starts
# from the tour cut down by runs (plain and _RUN_STARTS times with noise) and from up to _SEEDS
# centres of rich regions, a region being the targets within _SEED_RADIUS of the budget, and
# its drop restarts cut by runs.
_LARGE = 100
_SEEDS = 8
_SEED_RADIUS = 0.05
_RUN_STARTS = 4
_REGION_SHARE = 0.75  # of their perturbations add a region and cut back by runs


@dataclass(frozen=True)
class SolverParams:
    """Options of :func:`solve_orienteering`.

    Parameters
    ----------
    time_limit
        Wall-clock limit in seconds for the whole call.  The search is *anytime*: when the
        limit is near it returns the best solution found so far.  Hitting it makes the result
        depend on machine speed.
    seed
        Seed of the random generator; the same problem, seed and iteration budget give the
        same solution.
    max_iterations
        Number of perturbation + local-search iterations of each search (see ``workers``).
        ``None`` chooses an automatic budget (20,000 iterations, stopping earlier when the
        best solution has not improved for 10,000): instances up to ~60 targets end by the
        count, larger ones by ``time_limit`` (then the result depends on machine speed); a
        fixed count gives the same result on every machine.  ``0`` returns the construction
        followed by one local search.
    workers
        Independent searches, each with its own seed drawn from ``seed``, run in parallel
        threads; the best result wins.  The result depends on ``workers``, not on how many
        cores the machine has (on one core the searches share it).
    """

    time_limit: float = 1.0
    seed: int = 0
    max_iterations: int | None = None
    workers: int = 2

    # The solver's messages keep the ASCII ">=" of the OP file format's own errors.
    _constraints: ClassVar[Constraints] = {
        "time_limit": (real(finite=True, allowed="a finite number of seconds"), real(low=0, low_open=True)),
        "seed": integer(low=0, allowed="an integer >= 0"),
        "max_iterations": optional(integer(low=0, allowed="an integer >= 0")),
        "workers": integer(low=1, allowed="an integer >= 1"),
    }

    def __post_init__(self) -> None:
        check_params(self)


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
        node = integer(low=0, high=n - 1, allowed=f"a node index in [0, {n - 1}]")
        check_params(self, {
            "budget": real(low=0, allowed="a finite number >= 0"),
            "start": node,
            "end": node,
            "n_routes": integer(low=1, allowed="an integer >= 1"),
        })
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


class _Search:
    """The instance as the compiled search sees it: plain arrays and tolerances."""

    def __init__(self, problem: OrienteeringProblem) -> None:
        self.start = problem.start
        self.end = problem.end
        self.m = problem.n_routes
        self.budget = problem.budget
        # Row-major whatever the caller's layout (the patrol planner's matrix comes column-major):
        # one layout is one set of compiled kernels, the one warm_up compiles.
        D = np.array(problem.cost, dtype=float, order="C")
        np.fill_diagonal(D, 0.0)  # staying put costs nothing; also makes (start, start) free
        self.D = D
        S = np.array(problem.service, dtype=float)
        P = np.array(problem.scores, dtype=float)
        for depot in (self.start, self.end):
            S[depot] = 0.0
            P[depot] = 0.0
        self.S = S
        self.P = P
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
        reach = _k_dijkstra(D, self.start) + S + _k_dijkstra(np.ascontiguousarray(D.T), self.end)
        mask = (P > 0) & (reach <= self.budget)
        mask[[self.start, self.end]] = False
        self.cand = np.flatnonzero(mask).astype(np.int64)
        # Nearest candidates of each candidate, for cluster removal in the perturbation.
        sub = np.minimum(_block(D, self.cand, self.cand), _block(D, self.cand, self.cand).T)
        self.neighbours = np.ascontiguousarray(self.cand[np.argsort(sub, axis=1, kind="stable")])
        # The _NEAR_FAR nearest route nodes (candidates and depots) of every node, nearest
        # first: the first _NEAR for the neighbour-list 2-opt, or-opt and insertion of long
        # routes, the others for the insertion of targets far from the route.
        nodes = np.unique(np.concatenate([self.cand, [self.start, self.end]]))
        n = D.shape[0]
        k = min(_NEAR_FAR, nodes.size - 1)
        block = _block(D, np.arange(n), nodes)
        block[nodes, np.arange(nodes.size)] = np.inf  # a node is not its own neighbour
        part = np.argpartition(block, k - 1, axis=1)[:, :k] if k < nodes.size else np.argsort(block, axis=1)
        rows = np.arange(n)[:, None]
        order = np.take_along_axis(part, np.argsort(block[rows, part], axis=1, kind="stable"), axis=1)
        self.near = np.ascontiguousarray(nodes[order[:, :k]])
        if self.m == 1 and self.symmetric and self.cand.size > _LARGE:
            self.seeds = _region_seeds(sub, P[self.cand], self.cand, self.budget)
            self.starts = 1 + _RUN_STARTS + self.seeds.size  # the extra starts of _k_start
        else:
            self.seeds = np.empty(0, dtype=np.int64)
            self.starts = 0

    def _walk(self, seed: int, limit: int, stall_limit: int, deadline: float) -> tuple[Any, ...]:
        """One search, in the calling thread: ``(R, lens, costs, score, iterations, timed_out)``."""
        n, m, cap = self.D.shape[0], self.m, self.cand.size + 2
        inst = (self.D, self.S, self.P, self.cand, self.neighbours, self.near, self.seeds)
        cfg = (self.start, self.end, self.budget, self.eps, self.score_eps, self.symmetric)

        def solution(pool: tuple[int, ...] = ()) -> tuple[np.ndarray, ...]:
            return (
                np.zeros((*pool, m, cap), dtype=np.int64),
                np.zeros((*pool, m), dtype=np.int64),
                np.zeros((*pool, m)),
                np.zeros((*pool, n), dtype=bool),
            )

        cur, best = solution(), solution()
        elite = (*solution((_ELITE,)), np.zeros(_ELITE))
        counts = np.zeros(3, dtype=np.int64)
        scores = np.zeros(2)
        _k_seed(seed)
        _k_begin(inst, cfg, cur, best, elite, counts, scores)
        timed_out = False
        # The extra starts of a large single route one call each, while two more would fit:
        # on 1,000 points they take ~0.2 s, too long for a short time limit.
        longest = 0.0
        for t in range(self.starts):
            now = time.perf_counter()
            if now + 2 * longest > deadline:
                return best[0], best[1], best[2], float(scores[1]), 0, True
            _k_start(inst, cfg, cur, best, elite, counts, scores, t)
            longest = max(longest, time.perf_counter() - now)
        steps = 1
        before = time.perf_counter()
        done = 0
        slowest = 0.0
        while not _k_steps(inst, cfg, cur, best, elite, counts, scores, steps, limit, stall_limit):
            now = time.perf_counter()
            # Seconds per iteration of the last call; the iterations themselves do not depend
            # on how they are grouped into calls, so this keeps the result deterministic.
            per = (now - before) / max(1, int(counts[1]) - done)
            slowest = max(slowest, per)
            # Stop while one more iteration and one as slow as the slowest call's (a restart
            # rebuilds the solution and costs several) would still fit, so that the whole solve
            # (the other search and the answer included) ends within the time limit.
            if now + per + slowest > deadline:
                timed_out = True
                break
            steps = int(min(_STEPS, max(1.0, min(_CALL_SECONDS, (deadline - now) / 4) / per)))
            before = now
            done = int(counts[1])
        return best[0], best[1], best[2], float(scores[1]), int(counts[1]), timed_out

    def run(self, params: SolverParams, deadline: float) -> tuple[list[list[int]], int, bool]:
        """``params.workers`` independent searches; returns (best routes, iterations, timed_out).

        Each search runs in its own thread (the compiled code releases the GIL), with its own
        seed drawn from ``params.seed``, so the result does not depend on how many cores run
        them.  The best wins: highest score, then least total cost, then the first search.
        """
        if self.cand.size == 0:
            return [[self.start, self.end] for _ in range(self.m)], 0, False
        auto = params.max_iterations is None
        limit = _AUTO_ITERATIONS if auto else int(params.max_iterations)
        stall_limit = _AUTO_STALL if auto else limit + 1
        seeds = np.random.SeedSequence(params.seed).generate_state(params.workers).tolist()
        if params.workers == 1:
            results = [self._walk(seeds[0], limit, stall_limit, deadline)]
        else:
            with ThreadPoolExecutor(max_workers=params.workers) as pool:
                results = list(pool.map(lambda s: self._walk(s, limit, stall_limit, deadline), seeds))

        best = results[0]
        for result in results[1:]:
            if _k_better(result[3], result[2], best[3], best[2], self.eps, self.score_eps):
                best = result
        R, lens = best[0], best[1]
        routes = [R[ri, : lens[ri]].tolist() for ri in range(self.m)]
        iterations = sum(int(r[4]) for r in results)
        timed_out = any(bool(r[5]) for r in results)
        return routes, iterations, timed_out


# --------------------------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------------------------
# The move evaluations, compiled with numba: on ~100-node instances the arrays are so small that
# numpy's per-call overhead, not arithmetic, would dominate.  They take plain arrays (``D`` the
# travel matrix with a zero diagonal, ``S`` the dwell times, routes as int64 node arrays) and
# break ties by the first index, so the search is deterministic for a seed.  ``cache=True``
# stores the machine code on disk after the first call (about 20 s to compile, 1 s to load).
# numba cannot take the objects that would group their arrays, so a kernel takes each array as a
# parameter, and one search step stays one compiled loop nest: the kernels with more than
# ruff's limits carry a "noqa" for C901 / PLR0913 with the reason "numba kernel" (pyproject.toml).


@numba.njit(cache=True)
def _k_replace_tables(D, S, route, cand, ins, alt, saving, rel):  # pragma: no cover - compiled
    """Fill the replacement tables of a route with at least one target (in place).

    ``ins[e, c]`` is the added cost (dwell included) of candidate ``c`` on edge ``e``;
    ``alt[k, c]`` the cheapest added cost of ``c`` once the ``k``-th target is dropped (in its
    place or on another edge), ``saving[k]`` what dropping that target saves, ``rel[c]`` the
    minimum of ``alt[:, c] - saving``, i.e. the cheapest replacement of any target by ``c``."""
    K = route.size - 2
    E = route.size - 1
    nc = cand.size
    for e in range(E):
        a = route[e]
        b = route[e + 1]
        dab = D[a, b]
        for c in range(nc):
            x = cand[c]
            ins[e, c] = D[a, x] + D[x, b] - dab + S[x]
    rel[:nc] = np.inf
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
def _k_replace_best(alt, saving, rel, Pc, Pv, cost, budget, eps, score_eps):  # noqa: C901, PLR0913 - numba kernel  # pragma: no cover
    """Best replacement of a target of one route by a free candidate (the columns of ``alt``).

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
        if not rel[c] <= budget - cost + eps or not Pc[c] >= pmin - score_eps:
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
            if not rel[c] <= budget - cost + eps or not Pc[c] >= pmin - score_eps:
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
def _k_exchange_best(D, S, R, lens, costs, budget, eps):  # noqa: C901 - numba kernel  # pragma: no cover - compiled
    """Best move (kind 0), swap (kind 1) or tail exchange (kind 2) between routes that lowers
    the total cost.

    ``R`` holds the routes row by row (``lens`` their lengths).  Returns ``(kind, a, b, i, j)``
    with ``kind == -1`` when nothing lowers the cost by more than ``eps``; for a move, target
    ``i`` of route ``a`` goes after position ``j`` of route ``b``; for a swap, position ``i`` of
    route ``a`` and ``j`` of route ``b`` trade places; for a tail exchange, route ``a`` continues
    after position ``i`` with what follows position ``j`` of route ``b``, and vice versa.
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
    # Tail exchanges (2-opt*): route a keeps a[:i + 1] and continues with b[j + 1:], route b
    # keeps b[:j + 1] and continues with a[i + 1:]; both end at the same depot.
    W = R.shape[1]
    pre = np.empty((m, W))
    suf = np.empty((m, W))
    for r in range(m):
        L = lens[r]
        pre[r, 0] = 0.0
        for q in range(1, L):
            pre[r, q] = pre[r, q - 1] + D[R[r, q - 1], R[r, q]] + (S[R[r, q]] if q < L - 1 else 0.0)
        suf[r, L - 1] = 0.0
        for q in range(L - 2, -1, -1):
            suf[r, q] = suf[r, q + 1] + D[R[r, q], R[r, q + 1]] + (S[R[r, q]] if q > 0 else 0.0)
    for a in range(m):
        La = lens[a]
        for b in range(a + 1, m):
            Lb = lens[b]
            base = costs[a] + costs[b]
            for i in range(La - 1):
                for j in range(Lb - 1):
                    if (i == 0 and j == 0) or (i == La - 2 and j == Lb - 2):
                        continue  # the same two routes
                    new_a = pre[a, i] + D[R[a, i], R[b, j + 1]] + suf[b, j + 1]
                    new_b = pre[b, j] + D[R[b, j], R[a, i + 1]] + suf[a, i + 1]
                    if new_a <= budget and new_b <= budget and new_a + new_b - base < best:
                        best = new_a + new_b - base
                        kind = 2
                        ra_ = a
                        rb_ = b
                        bi = i
                        bj = j
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
    """Exact travel plus dwell cost of ``route[:length]`` (``math.fsum`` of its terms)."""
    count = 0
    for t in range(length - 1):
        terms[count] = D[route[t], route[t + 1]]
        count += 1
    for t in range(length):
        terms[count] = S[route[t]]
        count += 1
    return _k_fsum(terms, count)


@numba.njit(cache=True, nogil=True)
def _k_fill_row(D, S, route, length, nodes, taken, delta, where):  # pragma: no cover - compiled
    """Cheapest insertion cost (``inf`` once taken) and edge of each node into one route."""
    for c in range(nodes.size):
        best, where[c] = _k_cheapest_edge(D, route, length, nodes[c], S[nodes[c]])
        delta[c] = np.inf if taken[c] else best


@numba.njit(cache=True, nogil=True)
def _k_cheapest_edge(D, route, L, x, dwell):  # pragma: no cover - compiled
    """The full scan: ``(added cost, edge)`` of inserting ``x`` (staying ``dwell``) on each
    edge of ``route[:L]``, the first edge on a tie."""
    best = np.inf
    where = 0
    for e in range(L - 1):
        a = route[e]
        b = route[e + 1]
        v = D[a, x] + D[x, b] - D[a, b] + dwell
        if v < best:
            best = v
            where = e
    return best, where


@numba.njit(cache=True, nogil=True)
def _k_best_edge(D, S, route, L, x, pos, near, edges, slack):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Cheapest insertion of ``x`` into ``route[:L]``: ``(added cost, edge)``.

    Only the edges next to ``x``'s ``_NEAR`` nearest neighbours on the route are tried, ``pos``
    giving their positions; when none of them is on it, those next to the farther ones of
    ``near``, and the full scan only when none of those is on it either (on a 1,000-point
    instance most free targets lie in regions the route left out, and scanning the route for
    each of them made every insertion pass O(n^2)).  No route node is then nearer than ``r``,
    the distance to the last of ``near``, so an edge shorter than ``2 r - slack`` (dwell
    included) cannot take ``x`` within the budget: with ``edges`` (the route's edges, longest
    first) only the longer ones are scanned, and ``(inf, -2)`` says that none can take it."""
    best = np.inf
    where = 0
    for lo, hi in ((0, _NEAR), (_NEAR, near.shape[1])):
        for u in near[x, lo:hi]:
            for forward in (True, False):
                j = _k_at(route, L, pos, u, forward)
                e = j if forward else j - 1
                if j < 0 or e < 0 or e > L - 2:
                    continue
                a = route[e]
                b = route[e + 1]
                v = D[a, x] + D[x, b] - D[a, b] + S[x]
                if v < best or (v == best and e < where):
                    best = v
                    where = e
        if best < np.inf:
            return best, where
    if edges.size > 0:
        shortest = 2.0 * D[x, near[x, near.shape[1] - 1]] + S[x] - slack
        for e in edges:
            a = route[e]
            b = route[e + 1]
            if D[a, b] < shortest:
                break
            v = D[a, x] + D[x, b] - D[a, b] + S[x]
            if v < best or (v == best and e < where):
                best = v
                where = e
        return (best, where) if best < np.inf else (best, -2)
    return _k_cheapest_edge(D, route, L, x, S[x])


@numba.njit(cache=True, nogil=True)
def _k_insert(D, S, R, lens, costs, nodes, weight, budget, tiny, near, symmetric):  # noqa: C901, PLR0913 - numba kernel  # pragma: no cover
    """Greedy ratio insertion of ``nodes`` into the routes ``R[ri, :lens[ri]]`` (in place).

    Repeatedly inserts the node with the best ``weight`` / added-cost ratio among those that
    fit (first route, then first node, on ties) at its cheapest edge, checking each new route
    cost with the exact sum; a node that the exact sum puts over the budget is tried on that
    route again only once the route changes.  On long routes with symmetric costs the scans
    look only next to each node's near neighbours, and after an insertion only the nodes whose
    cheapest edge it split are scanned again (the others compare the two new edges).  Returns
    the inserted nodes in order.
    """
    m = lens.size
    F = nodes.size
    n = D.shape[0]
    taken = np.zeros(F, dtype=np.bool_)
    delta = np.empty((m, F))
    where = np.empty((m, F), dtype=np.int64)
    pos = np.full((m, n), -1, dtype=np.int64)
    use = np.empty(m, dtype=np.bool_)
    for ri in range(m):
        L = lens[ri]
        use[ri] = symmetric and L > _FULL_SCAN
        if not use[ri]:
            _k_fill_row(D, S, R[ri], L, nodes, taken, delta[ri], where[ri])
            continue
        for q in range(1, L - 1):
            pos[ri, R[ri, q]] = q
        length = np.empty(L - 1)
        for e in range(L - 1):
            length[e] = -D[R[ri, e], R[ri, e + 1]]
        edges = np.argsort(length, kind="mergesort")
        for c in range(F):
            delta[ri, c], where[ri, c] = _k_best_edge(
                D, S, R[ri], L, nodes[c], pos[ri], near, edges, budget - costs[ri]
            )
    terms = np.empty(2 * R.shape[1] + 2)
    order = np.empty(F, dtype=np.int64)
    no_edges = np.empty(0, dtype=np.int64)
    count = 0
    while True:
        ri, k = _k_insert_pick(costs, delta, weight, budget, tiny)
        if ri < 0:
            break
        p = where[ri, k]
        L = lens[ri]
        route = R[ri]
        x = nodes[k]
        for t in range(L, p + 1, -1):
            route[t] = route[t - 1]
        route[p + 1] = x
        cost = _k_route_cost(D, S, route, L + 1, terms)
        if cost > budget:  # rounding put it a hair over: undo, not again until the route changes
            for t in range(p + 1, L):
                route[t] = route[t + 1]
            delta[ri, k] = np.inf
            continue
        L += 1
        lens[ri] = L
        costs[ri] = cost
        taken[k] = True
        order[count] = x
        count += 1
        for r2 in range(m):
            delta[r2, k] = np.inf
        if not use[ri]:
            if symmetric and L > _FULL_SCAN:
                use[ri] = True
                for q in range(1, L - 1):
                    pos[ri, route[q]] = q
            _k_fill_row(D, S, route, L, nodes, taken, delta[ri], where[ri])
            continue
        for q in range(p + 1, L - 1):
            pos[ri, route[q]] = q
        a = route[p]
        b = route[p + 2]
        for c in range(F):
            if taken[c]:
                continue
            y = nodes[c]
            # Rescan a target whose cheapest edge was split or that missed by a hair; one that
            # no old edge can take (-2; the slack only shrinks) needs only the new edges below.
            if where[ri, c] == p or (not np.isfinite(delta[ri, c]) and where[ri, c] != -2):
                delta[ri, c], where[ri, c] = _k_best_edge(D, S, route, L, y, pos[ri], near, no_edges, 0.0)
                continue
            if where[ri, c] > p:
                where[ri, c] += 1
            v = D[a, y] + D[y, x] - D[a, x] + S[y]
            if v < delta[ri, c]:
                delta[ri, c] = v
                where[ri, c] = p
            v = D[x, y] + D[y, b] - D[x, b] + S[y]
            if v < delta[ri, c]:
                delta[ri, c] = v
                where[ri, c] = p + 1
    return order[:count]


# --------------------------------------------------------------------------------------------
# Compiled search driver
# --------------------------------------------------------------------------------------------
# The whole iterated local search runs compiled, so that an iteration costs what its moves cost
# (about 0.1 ms on a ~100-node instance) rather than the Python bookkeeping around them.  A
# solution is ``R`` (one route per row, ``lens`` its lengths), ``costs`` (exact route costs),
# ``visited`` (per node) and its score.  ``nogil=True`` lets several searches run in threads.


@numba.njit(cache=True, nogil=True)
def _k_cost(D, S, route, length, terms):  # pragma: no cover - compiled
    """Exact cost of ``route[:length]``; ``inf`` when it uses a pair that cannot be travelled."""
    for t in range(length - 1):
        if not np.isfinite(D[route[t], route[t + 1]]):
            return np.inf
    return _k_route_cost(D, S, route, length, terms)


@numba.njit(cache=True, nogil=True)
def _k_better(score_a, costs_a, score_b, costs_b, eps, score_eps):  # pragma: no cover - compiled
    """Whether solution a beats b: higher score, or the same score for less total cost."""
    if score_a > score_b + score_eps:
        return True
    if score_a < score_b - score_eps:
        return False
    return _k_fsum(costs_a, costs_a.size) < _k_fsum(costs_b, costs_b.size) - eps


@numba.njit(cache=True, nogil=True)
def _k_copy(R, lens, costs, visited, R2, lens2, costs2, visited2):  # pragma: no cover - compiled
    """Copy solution (R, lens, costs, visited) into the second one's arrays."""
    for ri in range(lens.size):
        L = lens[ri]
        R2[ri, :L] = R[ri, :L]
        lens2[ri] = L
        costs2[ri] = costs[ri]
    visited2[:] = visited


@numba.njit(cache=True, nogil=True)
def _k_move_segment(route, L, i, k, rev, p, tmp):
    """Move ``route[i:i+k]`` (reversed if ``rev``) after position ``p`` (in place)."""
    t = 0
    if p <= i - 2:
        for q in range(p + 1):
            tmp[t] = route[q]
            t += 1
        for q in range(k):
            tmp[t] = route[i + k - 1 - q] if rev else route[i + q]
            t += 1
        for q in range(p + 1, i):
            tmp[t] = route[q]
            t += 1
        for q in range(i + k, L):
            tmp[t] = route[q]
            t += 1
    else:
        for q in range(i):
            tmp[t] = route[q]
            t += 1
        for q in range(i + k, p + 1):
            tmp[t] = route[q]
            t += 1
        for q in range(k):
            tmp[t] = route[i + k - 1 - q] if rev else route[i + q]
            t += 1
        for q in range(p + 1, L):
            tmp[t] = route[q]
            t += 1
    route[:L] = tmp[:L]


@numba.njit(cache=True, nogil=True)
def _k_at(route, L, pos, node, forward):  # pragma: no cover - compiled
    """Position of ``node`` in the route, or -1; a depot is at 0 going ``forward``, else at the end."""
    q = pos[node]
    if q >= 0:
        return q
    if forward and route[0] == node:
        return 0
    if not forward and route[L - 1] == node:
        return L - 1
    return -1


@numba.njit(cache=True, nogil=True)
def _k_two_opt_near(D, route, L, pos, near, a, eps):  # pragma: no cover - compiled
    """First improving 2-opt move that links node ``a`` to one of its ``near`` neighbours
    (symmetric costs); applies it and returns the four end nodes, or ``-1`` for none."""
    for forward in (True, False):
        i = _k_at(route, L, pos, a, forward)
        if i < 0 or (forward and i >= L - 1) or (not forward and i == 0):
            continue
        b = route[i + 1] if forward else route[i - 1]
        dab = D[a, b]
        for c in near[a, :_NEAR]:
            dac = D[a, c]
            if dac >= dab - eps:  # neighbours come nearest first: no later one can gain
                break
            j = _k_at(route, L, pos, c, forward)
            if j < 0 or (forward and j >= L - 1) or (not forward and j == 0):
                continue
            d = route[j + 1] if forward else route[j - 1]
            if dac + D[b, d] - dab - D[c, d] < -eps:
                if forward:
                    lo, hi = min(i, j) + 1, max(i, j)
                else:
                    lo, hi = min(i, j), max(i, j) - 1
                while lo < hi:
                    route[lo], route[hi] = route[hi], route[lo]
                    pos[route[lo]] = lo
                    pos[route[hi]] = hi
                    lo += 1
                    hi -= 1
                return a, b, c, d
    return -1, -1, -1, -1


@numba.njit(cache=True, nogil=True)
def _k_or_opt_near(D, route, L, pos, near, a, eps, tmp):
    """First improving move of a segment of 1-3 targets starting at ``a`` next to a ``near``
    neighbour of one of its ends, either way round (symmetric costs); applies it and returns
    the segment's old neighbours and the new ones, or ``-1`` for none."""
    i = pos[a]
    if i < 1:
        return -1, -1, -1, -1
    for k in range(1, 4):
        last_q = i + k - 1
        if last_q > L - 2:
            break
        first = route[i]
        last = route[last_q]
        prev = route[i - 1]
        nxt = route[last_q + 1]
        gain = D[prev, first] + D[last, nxt] - D[prev, nxt]
        if not gain > eps:
            continue
        for end in (first, last):
            for c in near[end, :_NEAR]:
                for forward in (True, False):
                    j = _k_at(route, L, pos, c, forward)
                    if j < 0 or (i <= j <= last_q):
                        continue
                    e = j if forward else j - 1  # the edge (route[e], route[e + 1]) to insert in
                    if e < 0 or e > L - 2 or (i - 1 <= e <= last_q):
                        continue
                    u = route[e]
                    v = route[e + 1]
                    duv = D[u, v]
                    keep_way = D[u, first] + D[last, v] - duv
                    turned = D[u, last] + D[first, v] - duv
                    rev = turned < keep_way
                    if min(keep_way, turned) - gain < -eps:
                        _k_move_segment(route, L, i, k, rev, e, tmp)
                        for q in range(1, L - 1):
                            pos[route[q]] = q
                        return prev, nxt, u, v
    return -1, -1, -1, -1


@numba.njit(cache=True, nogil=True)
def _k_shorten_near(D, route, L, near, eps, tmp, pos, queue, queued, succ):  # noqa: C901, PLR0913 - numba kernel  # pragma: no cover
    """2-opt and or-opt restricted to near neighbours, with don't-look bits: a node is looked
    at again only when a move changed one of its edges, so a pass costs O(L k), not O(L^2).

    ``succ`` (one entry per node; empty for none) holds each node's successor when the route
    was last shortened: then only the ends of edges that are new since are looked at first,
    and ``succ`` is brought up to date.  Returns whether the route changed."""
    for q in range(1, L - 1):
        pos[route[q]] = q
    size = queue.size
    head = 0
    count = 0
    memo = succ.size > 0
    for q in range(L - 1):
        x = route[q]
        y = route[q + 1]
        if memo and (succ[x] == y or succ[y] == x):
            continue  # an edge of the shortened route: its ends were done then
        for z in (x, y):
            if not queued[z]:
                queued[z] = True
                queue[(head + count) % size] = z
                count += 1
    changed = False
    while count > 0:
        a = queue[head]
        head = (head + 1) % size
        count -= 1
        queued[a] = False
        touched = _k_two_opt_near(D, route, L, pos, near, a, eps)
        if touched[0] < 0:
            touched = _k_or_opt_near(D, route, L, pos, near, a, eps, tmp)
        if touched[0] < 0:
            continue
        changed = True
        for x in (a, touched[0], touched[1], touched[2], touched[3]):
            if not queued[x]:
                queued[x] = True
                queue[(head + count) % size] = x
                count += 1
    for q in range(L):
        pos[route[q]] = -1
    if memo:
        for q in range(L - 1):
            succ[route[q]] = route[q + 1]
    return changed


@numba.njit(cache=True, nogil=True)
def _k_shorten(D, S, R, lens, costs, ri, eps, symmetric, near, memo, terms, keep, tmp):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Shorten route ``ri`` with 2-opt and or-opt until neither helps.

    Routes longer than ``_FULL_SCAN`` with symmetric costs use the near-neighbour moves, with
    ``memo[ri]`` as their successor memory (``memo`` may have no rows: no memory); the others
    the full scans, which find every improving move."""
    L = lens[ri]
    if L < 4:
        return
    route = R[ri, :L]
    keep[:L] = route
    changed = False
    if symmetric and L > _FULL_SCAN:
        n = D.shape[0]
        pos = np.full(n, -1, dtype=np.int64)
        succ = memo[ri] if memo.shape[0] > 0 else memo[0:0, 0]
        changed = _k_shorten_near(
            D, route, L, near, eps, tmp, pos, np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.bool_), succ
        )
    else:
        while True:
            if _k_two_opt(D, route, eps, symmetric):
                changed = True
            i, k, rev, p = _k_or_opt(D, route, eps, symmetric)
            if i < 0:
                break
            _k_move_segment(route, L, i, k, rev, p, tmp)
            changed = True
    if changed:
        cost = _k_cost(D, S, route, L, terms)
        if cost <= costs[ri]:
            costs[ri] = cost
        else:  # float noise only: keep the old order
            route[:] = keep[:L]


@numba.njit(cache=True, nogil=True)
def _k_fill(D, S, P, R, lens, costs, visited, cand, banned, noise, budget, eps, near, symmetric):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Ratio-greedy insertion of the free candidates (not ``banned``); returns the score added.

    ``noise > 0`` multiplies each score by a uniform factor in [1 - noise, 1 + noise] for the
    ranking, which randomises constructions and repairs."""
    count = 0
    for c in range(cand.size):
        if not visited[cand[c]] and not banned[cand[c]]:
            count += 1
    if count == 0:
        return 0.0
    nodes = np.empty(count, dtype=np.int64)
    weight = np.empty(count)
    count = 0
    for c in range(cand.size):
        x = cand[c]
        if not visited[x] and not banned[x]:
            nodes[count] = x
            weight[count] = P[x] * np.random.uniform(1.0 - noise, 1.0 + noise) if noise > 0 else P[x]
            count += 1
    order = _k_insert(D, S, R, lens, costs, nodes, weight, budget, eps, near, symmetric)
    added = 0.0
    for x in order:
        visited[x] = True
        added += P[x]
    return added


@numba.njit(cache=True, nogil=True)
def _k_replace_near(D, S, P, route, L, cost, free, near, budget, eps, score_eps):  # noqa: C901, PLR0913 - numba kernel  # pragma: no cover
    """:func:`_k_replace_best` for a long route with symmetric costs, each free candidate
    placed only next to its near neighbours on the route: its three cheapest such edges
    (one of them is not next to the dropped target) or the dropped target's own place.

    Returns ``(found, top_gain, added_cost, k, c)`` as :func:`_k_replace_best` does, ``k``
    counting targets from 0."""
    n = D.shape[0]
    pos = np.full(n, -1, dtype=np.int64)
    for q in range(1, L - 1):
        pos[route[q]] = q
    K = L - 2
    saving = np.empty(K)
    pmin = np.inf
    for k in range(K):
        v = route[k + 1]
        saving[k] = D[route[k], v] + D[v, route[k + 2]] - D[route[k], route[k + 2]] + S[v]
        pmin = min(pmin, P[v])
    top = -np.inf
    bestc = np.inf
    bk = -1
    bc = -1
    edge_cost = np.empty(3)
    edge = np.empty(3, dtype=np.int64)
    for c in range(free.size):
        x = free[c]
        if not P[x] >= pmin - score_eps:
            continue
        edge_cost[:] = np.inf
        edge[:] = -1
        for lo, hi in ((0, _NEAR), (_NEAR, near.shape[1])):
            for u in near[x, lo:hi]:
                for forward in (True, False):
                    j = _k_at(route, L, pos, u, forward)
                    e = j if forward else j - 1
                    if j < 0 or e < 0 or e > L - 2 or e == edge[0] or e == edge[1] or e == edge[2]:
                        continue
                    a = route[e]
                    b = route[e + 1]
                    d = D[a, x] + D[x, b] - D[a, b] + S[x]
                    for t in range(3):
                        if d < edge_cost[t]:
                            for t2 in range(2, t, -1):
                                edge_cost[t2] = edge_cost[t2 - 1]
                                edge[t2] = edge[t2 - 1]
                            edge_cost[t] = d
                            edge[t] = e
                            break
            if edge[0] >= 0:
                break
        if edge[0] < 0:
            # Far from the whole route: taking the place of a target it is not near is
            # hopeless, and trying every one made this pass O(n^2).
            continue
        for k in range(K):
            gain = P[x] - P[route[k + 1]]
            if gain < top - score_eps or gain < -score_eps:
                continue
            ins = np.inf
            for t in range(3):
                if edge[t] >= 0 and edge[t] != k and edge[t] != k + 1:
                    ins = edge_cost[t]
                    break
            a = route[k]
            b = route[k + 2]
            ins = min(ins, D[a, x] + D[x, b] - D[a, b] + S[x])
            new_cost = cost - saving[k] + ins
            if new_cost > budget or not (gain > score_eps or new_cost < cost - eps):
                continue
            added = new_cost - cost
            if gain > top + score_eps or added < bestc:
                if gain > top + score_eps:
                    top = gain
                bestc = added
                bk = k
                bc = c
    return bk >= 0, top, bestc, bk, bc


@numba.njit(cache=True, nogil=True)
def _k_replace(D, S, P, R, lens, costs, visited, cand, budget, eps, score_eps, terms, near, symmetric):  # noqa: C901, PLR0913 - numba kernel  # pragma: no cover
    """Swap a visited target for an unvisited one that scores more (or as much, cheaper).

    Returns ``(route changed or -1, score change)``."""
    nf = 0
    for c in range(cand.size):
        nf += not visited[cand[c]]
    if nf == 0:
        return -1, 0.0
    # Tables over the free candidates only: once most targets are visited they are few.
    free = np.empty(nf, dtype=np.int64)
    Pf = np.empty(nf)
    nf = 0
    for c in range(cand.size):
        if not visited[cand[c]]:
            free[nf] = cand[c]
            Pf[nf] = P[cand[c]]
            nf += 1
    cap = R.shape[1]
    ins = np.empty((cap, nf))
    alt = np.empty((cap, nf))
    saving = np.empty(cap)
    rel = np.empty(nf)
    Pv = np.empty(cap)
    best_gain = -np.inf
    best_added = np.inf
    mri = -1
    mk = -1
    mnode = -1
    for ri in range(lens.size):
        L = lens[ri]
        if L < 3:
            continue
        route = R[ri, :L]
        if symmetric and L > _FULL_SCAN:
            found, gain, added, k, u = _k_replace_near(D, S, P, route, L, costs[ri], free, near, budget, eps, score_eps)
        else:
            _k_replace_tables(D, S, route, free, ins, alt, saving, rel)
            for q in range(L - 2):
                Pv[q] = P[route[q + 1]]
            found, gain, added, k, u = _k_replace_best(
                alt[: L - 2], saving[: L - 2], rel, Pf, Pv[: L - 2], costs[ri], budget, eps, score_eps
            )
        if not found:
            continue
        if mri == -1 or gain > best_gain or (gain == best_gain and added < best_added):
            best_gain = gain
            best_added = added
            mri = ri
            mk = k + 1
            mnode = free[u]
    if mri == -1:
        return -1, 0.0
    L = lens[mri]
    route = R[mri]
    keep = route[:L].copy()
    removed = route[mk]
    for q in range(mk, L - 1):
        route[q] = route[q + 1]
    L -= 1
    L = _k_insert_cheapest(D, route, L, mnode)
    cost = _k_cost(D, S, route, L, terms)
    if cost > budget:  # float noise only
        route[:L] = keep
        return -1, 0.0
    costs[mri] = cost
    visited[removed] = False
    visited[mnode] = True
    return mri, P[mnode] - P[removed]


@numba.njit(cache=True, nogil=True)
def _k_insert_cheapest(D, route, L, x):  # pragma: no cover - compiled
    """Put ``x`` into ``route[:L]`` on the edge where it adds the least travel (the first such
    edge on a tie); returns the new length."""
    where = _k_cheapest_edge(D, route, L, x, 0.0)[1]
    for q in range(L, where + 1, -1):
        route[q] = route[q - 1]
    route[where + 1] = x
    return L + 1


@numba.njit(cache=True, nogil=True)
def _k_exchange(D, S, R, lens, costs, budget, eps, symmetric, near, memo, terms, keep, tmp):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Move or swap targets between routes while that lowers the total cost; returns whether
    it changed anything.

    Slack is what lets later insertions add score, so the teams trade stops to walk less."""
    any_change = False
    for _ in range(100):  # each move strictly lowers the cost; the bound is a safety net
        kind, a, b, i, j = _k_exchange_best(D, S, R, lens, costs, budget, eps)
        if kind < 0:
            break
        La = lens[a]
        Lb = lens[b]
        old_a = R[a, :La].copy()
        old_b = R[b, :Lb].copy()
        if kind == 0:
            node = R[a, i]
            for q in range(i, La - 1):
                R[a, q] = R[a, q + 1]
            La -= 1
            for q in range(Lb, j + 1, -1):
                R[b, q] = R[b, q - 1]
            R[b, j + 1] = node
            Lb += 1
        elif kind == 1:
            node = R[a, i]
            R[a, i] = R[b, j]
            R[b, j] = node
        else:
            tail_a = old_a[i + 1 :]
            tail_b = old_b[j + 1 :]
            La = i + 1 + tail_b.size
            Lb = j + 1 + tail_a.size
            R[a, i + 1 : La] = tail_b
            R[b, j + 1 : Lb] = tail_a
        cost_a = _k_cost(D, S, R[a], La, terms)
        cost_b = _k_cost(D, S, R[b], Lb, terms)
        if max(cost_a, cost_b) > budget or cost_a + cost_b >= costs[a] + costs[b]:  # float noise
            R[a, : old_a.size] = old_a
            R[b, : old_b.size] = old_b
            break
        lens[a] = La
        lens[b] = Lb
        costs[a] = cost_a
        costs[b] = cost_b
        _k_shorten(D, S, R, lens, costs, a, eps, symmetric, near, memo, terms, keep, tmp)
        _k_shorten(D, S, R, lens, costs, b, eps, symmetric, near, memo, terms, keep, tmp)
        any_change = True
    return any_change


@numba.njit(cache=True, nogil=True)
def _k_local_search(  # noqa: PLR0913 - numba kernel
    D, S, P, R, lens, costs, visited, score, cand, changed, budget, eps, score_eps, symmetric,
    near, terms, keep, tmp,
):  # pragma: no cover - compiled
    """Alternate shortening, insertion, replacement and exchanges until none helps.

    ``changed`` marks the routes that may not be shortened yet; the others are already at a
    2-opt / or-opt optimum.  Returns the new score."""
    m = lens.size
    # Successors at each route's last shortening, so that later ones look at new edges only.
    memo = np.full((m, D.shape[0]), -1, dtype=np.int64)
    for ri in range(m):
        if changed[ri]:
            _k_shorten(D, S, R, lens, costs, ri, eps, symmetric, near, memo, terms, keep, tmp)
    no_ban = np.zeros(visited.size, dtype=np.bool_)
    before = np.empty(m, dtype=np.int64)
    exchanged = False
    while True:
        before[:] = lens
        added = _k_fill(D, S, P, R, lens, costs, visited, cand, no_ban, 0.0, budget, eps, near, symmetric)
        if added > 0:  # candidates all score > 0
            score += added
            for ri in range(m):
                if lens[ri] != before[ri]:
                    _k_shorten(D, S, R, lens, costs, ri, eps, symmetric, near, memo, terms, keep, tmp)
            exchanged = False
            continue
        ri, gain = _k_replace(D, S, P, R, lens, costs, visited, cand, budget, eps, score_eps, terms, near, symmetric)
        if ri >= 0:
            score += gain
            _k_shorten(D, S, R, lens, costs, ri, eps, symmetric, near, memo, terms, keep, tmp)
            exchanged = False
            continue
        # Trading stops between teams only pays when it frees room for another target,
        # so it runs once the cheaper moves are exhausted.
        if m > 1 and not exchanged:
            exchanged = True
            if _k_exchange(D, S, R, lens, costs, budget, eps, symmetric, near, memo, terms, keep, tmp):
                continue
        return score


@numba.njit(cache=True, nogil=True)
def _k_perturb(  # noqa: C901, PLR0913 - numba kernel
    D, S, P, R, lens, costs, visited, score, cand, neighbours, strength, budget, eps,
    terms, near, symmetric,
):  # pragma: no cover - compiled
    """Remove some visited targets and greedily refill the routes without them.

    Four kinds of removal, drawn at random: a consecutive stretch of some routes, scattered
    targets, a cluster around one target whichever routes it spans, or (with several teams) a
    whole route, so that its targets can be shared out afresh.  Returns the new score."""
    m = lens.size
    nv = 0
    for ri in range(m):
        nv += lens[ri] - 2
    if nv == 0:
        return score
    vis = np.empty(nv, dtype=np.int64)
    t = 0
    for ri in range(m):
        for q in range(1, lens[ri] - 1):
            vis[t] = R[ri, q]
            t += 1
    remove = np.zeros(visited.size, dtype=np.bool_)
    kind = np.random.randint(0, _PERTURB_KINDS if m > 1 else 3)
    if kind == 3:
        busy = 0
        for ri in range(m):
            busy += lens[ri] > 2
        pick = np.random.randint(0, busy)
        for ri in range(m):
            if lens[ri] > 2:
                if pick == 0:
                    for q in range(1, lens[ri] - 1):
                        remove[R[ri, q]] = True
                    break
                pick -= 1
    elif kind == 0:
        picked = np.empty(m, dtype=np.bool_)
        some = False
        for ri in range(m):
            picked[ri] = np.random.random() < _SEGMENT_SHARE
            some = some or picked[ri]
        if not some:
            picked[np.random.randint(0, m)] = True
        for ri in range(m):
            count = lens[ri] - 2
            if not picked[ri] or count == 0:
                continue
            k = np.random.randint(1, max(3, math.ceil(strength * count)) + 1)
            i = np.random.randint(1, count + 1)
            for q in range(i, min(i + k, lens[ri] - 1)):
                remove[R[ri, q]] = True
    elif kind == 1:
        k = min(np.random.randint(1, max(3, math.ceil(strength * nv)) + 1), nv)
        for q in range(k):  # partial Fisher-Yates: k distinct targets
            r = np.random.randint(q, nv)
            vis[q], vis[r] = vis[r], vis[q]
            remove[vis[q]] = True
    else:
        k = np.random.randint(1, max(3, math.ceil(strength * nv)) + 1)
        centre = vis[np.random.randint(0, nv)]
        row = np.searchsorted(cand, centre)
        got = 0
        for node in neighbours[row]:
            if visited[node]:
                remove[node] = True
                got += 1
                if got >= k:
                    break
    for ri in range(m):
        L = lens[ri]
        kept = np.empty(L, dtype=np.int64)
        t = 0
        for q in range(L):
            x = R[ri, q]
            if not remove[x] or q == 0 or q == L - 1:  # depots stay
                kept[t] = x
                t += 1
        if t == L:
            continue
        cost = _k_cost(D, S, kept, t, terms)
        if cost > budget:  # only possible without the triangle inequality
            continue
        for q in range(1, L - 1):
            x = R[ri, q]
            if remove[x]:
                visited[x] = False
                score -= P[x]
        R[ri, :t] = kept[:t]
        lens[ri] = t
        costs[ri] = cost
    return score + _k_fill(D, S, P, R, lens, costs, visited, cand, remove, 0.3, budget, eps, near, symmetric)


@numba.njit(cache=True, nogil=True)
def _k_perturb_region(  # noqa: PLR0913 - numba kernel
    D, S, P, R, lens, costs, visited, score, cand, neighbours, strength, budget, eps, terms, near,
):  # pragma: no cover - compiled
    """Add a region of free targets to the single route regardless of the budget, then cut the
    route back by runs (:func:`_k_drop_runs`); returns the new score.

    The mirror of a removal: a removal frees budget that the greedy refill spends next to the
    route again, while a region added first competes with the whole route, and the route gives
    up whichever stretches are worth least for their walk (how the drop start finds far
    clusters, here around one free target)."""
    L = lens[0]
    nf = 0
    for c in range(cand.size):
        nf += not visited[cand[c]]
    if nf == 0:
        return score
    pick = np.random.randint(0, nf)
    centre = -1
    for c in range(cand.size):
        if not visited[cand[c]]:
            if pick == 0:
                centre = c
                break
            pick -= 1
    k = np.random.randint(1, max(3, math.ceil(strength * (L - 2))) + 1)
    route = R[0]
    got = 0
    for x in neighbours[centre]:
        if visited[x]:
            continue
        L = _k_insert_cheapest(D, route, L, x)
        visited[x] = True
        got += 1
        if got >= k:
            break
    cap = R.shape[1]
    keep = np.empty(cap, dtype=np.int64)
    tmp = np.empty(cap, dtype=np.int64)
    lens[0] = L
    costs[0] = _k_cost(D, S, route, L, terms)
    _k_shorten(D, S, R, lens, costs, 0, eps, True, near, np.empty((0, 0), dtype=np.int64), terms, keep, tmp)
    L = _k_drop_runs(D, S, P, route, L, 0.3, budget, eps, terms, tmp)
    lens[0] = L
    costs[0] = _k_cost(D, S, route, L, terms)
    visited[:] = False
    score = 0.0
    for q in range(1, L - 1):
        visited[route[q]] = True
        score += P[route[q]]
    return score


@numba.njit(cache=True, nogil=True)
def _k_add_elite(  # noqa: PLR0913 - numba kernel
    ER, Elens, Ecosts, Evisited, Escore, count, R, lens, costs, visited, score, eps, score_eps,
):  # pragma: no cover - compiled
    """Keep the best solutions with distinct target sets; returns how many are kept."""
    slot = -1
    for e in range(count):
        if np.array_equal(Evisited[e], visited):
            if not _k_better(score, costs, Escore[e], Ecosts[e], eps, score_eps):
                return count
            slot = e
            break
    if slot < 0:
        if count < Escore.size:
            slot = count
            count += 1
        else:
            slot = 0
            for e in range(1, count):
                if _k_better(Escore[slot], Ecosts[slot], Escore[e], Ecosts[e], eps, score_eps):
                    slot = e
            if not _k_better(score, costs, Escore[slot], Ecosts[slot], eps, score_eps):
                return count
    _k_copy(R, lens, costs, visited, ER[slot], Elens[slot], Ecosts[slot], Evisited[slot])
    Escore[slot] = score
    return count


@numba.njit(cache=True, nogil=True)
def _k_construct(inst, cfg, cur, noise, first, terms, keep, tmp):  # pragma: no cover - compiled
    """Replace ``cur`` by a ratio-greedy construction (scores randomised by ``noise``) and its
    local search; returns its score.  ``first >= 0`` puts that target on the first route
    before the greedy starts (a seed region, see :func:`_region_seeds`).  See :func:`_k_begin`
    for the other arguments."""
    D, S, P, cand, _, near, _ = inst
    start, end, budget, eps, score_eps, symmetric = cfg
    R, lens, costs, visited = cur
    for ri in range(lens.size):
        R[ri, 0] = start
        R[ri, 1] = end
        lens[ri] = 2
        costs[ri] = _k_cost(D, S, R[ri], 2, terms)
    visited[:] = False
    score = 0.0
    if first >= 0:
        R[0, 1] = first
        R[0, 2] = end
        cost = _k_cost(D, S, R[0], 3, terms)
        if cost <= budget:
            lens[0] = 3
            costs[0] = cost
            visited[first] = True
            score = P[first]
        else:  # only without the triangle inequality
            R[0, 1] = end
    score += _k_fill(
        D, S, P, R, lens, costs, visited, cand, np.zeros(D.shape[0], dtype=np.bool_), noise, budget, eps, near,
        symmetric,
    )
    return _k_local_search(
        D, S, P, R, lens, costs, visited, score, cand, np.ones(lens.size, dtype=np.bool_), budget,
        eps, score_eps, symmetric, near, terms, keep, tmp,
    )


@numba.njit(cache=True, nogil=True)
def _k_drop(D, S, P, route, L, noise, budget, eps, terms, tmp):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Drop targets from ``route[:L]`` (in place), least score per saved cost first, until it
    fits the budget; returns the new length.  ``noise`` randomises the scores as in
    :func:`_k_fill`."""
    prev = np.arange(-1, L - 1)
    nxt = np.arange(1, L + 1)
    alive = np.ones(L, dtype=np.bool_)
    saving = np.zeros(L)
    weight = np.zeros(L)
    cost = 0.0
    for q in range(L - 1):
        cost += D[route[q], route[q + 1]] + S[route[q]]
    for q in range(1, L - 1):
        x = route[q]
        saving[q] = D[route[q - 1], x] + D[x, route[q + 1]] - D[route[q - 1], route[q + 1]] + S[x]
        weight[q] = P[x] * np.random.uniform(1.0 - noise, 1.0 + noise) if noise > 0 else P[x]
    count = L
    while count > 2:
        if cost <= budget:
            t = 0
            q = 0
            while q < L:
                tmp[t] = route[q]
                t += 1
                q = nxt[q]
            exact = _k_cost(D, S, tmp, t, terms)
            if exact <= budget:
                route[:t] = tmp[:t]
                return t
            cost = exact  # the running sum was a hair low: drop one more
        pick = -1
        ratio = np.inf
        for q in range(1, L - 1):
            if alive[q]:
                r = weight[q] / max(saving[q], eps)
                if pick < 0 or r < ratio:
                    ratio = r
                    pick = q
        a = prev[pick]
        b = nxt[pick]
        cost -= saving[pick]
        alive[pick] = False
        nxt[a] = b
        prev[b] = a
        count -= 1
        for q in (a, b):
            if 0 < q < L - 1:
                x = route[q]
                saving[q] = D[route[prev[q]], x] + D[x, route[nxt[q]]] - D[route[prev[q]], route[nxt[q]]] + S[x]
    route[1] = route[L - 1]
    return 2


@numba.njit(cache=True, nogil=True)
def _k_drop_runs(D, S, P, route, L, noise, budget, eps, terms, tmp):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """:func:`_k_drop` by runs: drop the consecutive targets of ``route[:L]`` (1, 2, 4, ...
    of them) with the least score per saved cost until the route fits; returns the new length.

    One target of a dense cluster saves almost nothing, so dropping targets one at a time
    keeps every cluster the tour passes and cuts the sparse targets between them, whatever
    the trip to a cluster costs.  A run spanning a whole cluster saves its access edges too,
    so the clusters worth least for their walk go first."""
    weight = np.empty(L)
    for q in range(L):
        x = route[q]
        weight[q] = P[x] * np.random.uniform(1.0 - noise, 1.0 + noise) if noise > 0 else P[x]
    cum = np.empty(L)
    acc = np.empty(L)
    while L > 2:
        cum[0] = 0.0
        acc[0] = 0.0
        for q in range(1, L):
            cum[q] = cum[q - 1] + D[route[q - 1], route[q]] + S[route[q - 1]]
            acc[q] = acc[q - 1] + weight[q - 1]
        if cum[L - 1] <= budget:
            exact = _k_cost(D, S, route, L, terms)
            if exact <= budget:
                return L
        ratio = np.inf
        bi = -1
        bw = 0
        w = 1
        while w <= L - 2:
            for i in range(1, L - w):
                j = i + w  # the run is route[i:j]
                saving = cum[j] - cum[i - 1] - D[route[i - 1], route[j]] - S[route[i - 1]]
                r = (acc[j] - acc[i]) / max(saving, eps)
                if bi < 0 or r < ratio:
                    ratio = r
                    bi = i
                    bw = w
            w *= 2
        for q in range(bi, L - bw):
            route[q] = route[q + bw]
            weight[q] = weight[q + bw]
        L -= bw
    return L


@numba.njit(cache=True, nogil=True)
def _k_construct_drop(inst, cfg, cur, noise, runs, terms, keep, tmp):  # pragma: no cover - compiled
    """Replace the single route of ``cur`` by a tour through every candidate (nearest neighbour,
    then shortened), cut down to the budget by :func:`_k_drop` (by :func:`_k_drop_runs` when
    ``runs``), and its local search; returns its score.  When the budget lets a route visit
    much of the instance, starting from everything and dropping finds far better regions than
    growing a route from the depot."""
    D, S, P, cand, _, near, _ = inst
    start, end, budget, eps, score_eps, symmetric = cfg
    R, lens, costs, visited = cur
    route = R[0]
    nc = cand.size
    free = np.ones(nc, dtype=np.bool_)
    route[0] = start
    last = start
    for t in range(nc):
        pick = -1
        for c in range(nc):
            if free[c] and (pick < 0 or D[last, cand[c]] < D[last, cand[pick]]):
                pick = c
        free[pick] = False
        last = cand[pick]
        route[t + 1] = last
    route[nc + 1] = end
    lens[0] = nc + 2
    costs[0] = _k_cost(D, S, route, nc + 2, terms)
    _k_shorten(D, S, R, lens, costs, 0, eps, symmetric, near, np.empty((0, 0), dtype=np.int64), terms, keep, tmp)
    if runs:
        L = _k_drop_runs(D, S, P, route, nc + 2, noise, budget, eps, terms, tmp)
    else:
        L = _k_drop(D, S, P, route, nc + 2, noise, budget, eps, terms, tmp)
    lens[0] = L
    costs[0] = _k_cost(D, S, route, L, terms)
    visited[:] = False
    score = 0.0
    for q in range(1, L - 1):
        visited[route[q]] = True
        score += P[route[q]]
    return _k_local_search(
        D, S, P, R, lens, costs, visited, score, cand, np.ones(1, dtype=np.bool_), budget,
        eps, score_eps, symmetric, near, terms, keep, tmp,
    )


@numba.njit(cache=True, nogil=True)
def _k_seed(seed):  # pragma: no cover - compiled
    """Seed this thread's compiled random generator (numba keeps one per thread)."""
    np.random.seed(seed)


@numba.njit(cache=True, nogil=True)
def _k_begin(inst, cfg, cur, best, elite, counts, scores):  # pragma: no cover - compiled
    """The first current, best and elite: the ratio-greedy construction and its local search,
    for a single route with symmetric costs the better of that and the tour cut down target
    by target (:func:`_k_start` tries more on large instances).

    ``inst`` is ``(D, S, P, cand, neighbours, near, seeds)``, ``cfg`` ``(start, end, budget, eps, score_eps,
    symmetric)``; ``cur``/``best`` are ``(R, lens, costs, visited)``, ``elite`` the same with a
    leading pool axis plus the scores; ``counts`` holds (stall, iterations, elite size) and
    ``scores`` (current score, best score)."""
    eps, score_eps = cfg[3], cfg[4]
    R, lens, costs, visited = cur
    cap = R.shape[1]
    terms = np.empty(2 * cap + 2)
    keep = np.empty(cap, dtype=np.int64)
    tmp = np.empty(cap, dtype=np.int64)
    score = _k_construct(inst, cfg, cur, 0.0, -1, terms, keep, tmp)
    if lens.size == 1 and cfg[5]:
        grown = (R.copy(), lens.copy(), costs.copy(), visited.copy())
        dropped = _k_construct_drop(inst, cfg, cur, 0.0, False, terms, keep, tmp)
        if _k_better(score, grown[2], dropped, costs, eps, score_eps):
            _k_copy(grown[0], grown[1], grown[2], grown[3], R, lens, costs, visited)
        else:
            score = dropped
    _k_copy(R, lens, costs, visited, best[0], best[1], best[2], best[3])
    ER, Elens, Ecosts, Evisited, Escore = elite
    counts[0] = 0
    counts[1] = 0
    counts[2] = _k_add_elite(ER, Elens, Ecosts, Evisited, Escore, 0, R, lens, costs, visited, score, eps, score_eps)
    scores[0] = score
    scores[1] = score


@numba.njit(cache=True, nogil=True)
def _k_start(inst, cfg, cur, best, elite, counts, scores, t):  # pragma: no cover - compiled
    """Another start for a large single route, kept when it beats the current one (still the
    best before any iteration): ``t == 0`` the tour cut down by runs, ``1 <= t <= _RUN_STARTS``
    the same with noise, then the construction from region seed ``t - 1 - _RUN_STARTS``.  One
    call each, so that the caller can keep to the time limit between them."""
    eps, score_eps = cfg[3], cfg[4]
    R, lens, costs, visited = cur
    cap = R.shape[1]
    terms = np.empty(2 * cap + 2)
    keep = np.empty(cap, dtype=np.int64)
    tmp = np.empty(cap, dtype=np.int64)
    if t == 0:
        score = _k_construct_drop(inst, cfg, cur, 0.0, True, terms, keep, tmp)
    elif t <= _RUN_STARTS:
        score = _k_construct_drop(inst, cfg, cur, 0.5, True, terms, keep, tmp)
    else:
        score = _k_construct(inst, cfg, cur, 0.0, inst[6][t - 1 - _RUN_STARTS], terms, keep, tmp)
    bR, blens, bcosts, bvisited = best
    if not _k_better(score, costs, scores[1], bcosts, eps, score_eps):
        _k_copy(bR, blens, bcosts, bvisited, R, lens, costs, visited)
        return
    _k_copy(R, lens, costs, visited, bR, blens, bcosts, bvisited)
    ER, Elens, Ecosts, Evisited, Escore = elite
    counts[2] = _k_add_elite(
        ER, Elens, Ecosts, Evisited, Escore, counts[2], R, lens, costs, visited, score, eps, score_eps
    )
    scores[0] = score
    scores[1] = score


@numba.njit(cache=True, nogil=True)
def _k_steps(inst, cfg, cur, best, elite, counts, scores, steps, limit, stall_limit):  # noqa: PLR0913 - numba kernel  # pragma: no cover
    """Run up to ``steps`` perturbation + local-search iterations (see :func:`_k_begin` for the
    arguments); returns whether the search is over (iteration budget spent or stalled).

    The caller checks the clock between calls, so the time limit is kept to within a few
    iterations without leaving compiled code each iteration."""
    D, S, P, cand, neighbours, near, _ = inst
    _, _, budget, eps, score_eps, symmetric = cfg
    R, lens, costs, visited = cur
    bR, blens, bcosts, bvisited = best
    ER, Elens, Ecosts, Evisited, Escore = elite
    m = lens.size
    cap = R.shape[1]
    terms = np.empty(2 * cap + 2)
    keep = np.empty(cap, dtype=np.int64)
    tmp = np.empty(cap, dtype=np.int64)
    tR, tlens, tcosts, tvisited = R.copy(), lens.copy(), costs.copy(), visited.copy()
    changed = np.empty(m, dtype=np.bool_)
    stall, iterations, ecount = counts[0], counts[1], counts[2]
    score, bscore = scores[0], scores[1]
    for _ in range(steps):
        if iterations >= limit or stall >= stall_limit:
            break
        iterations += 1
        # Small kicks first; bigger ones the longer nothing improves.
        strength = _STRENGTH_MIN + (_STRENGTH_MAX - _STRENGTH_MIN) * min(1.0, stall / 100)
        _k_copy(R, lens, costs, visited, tR, tlens, tcosts, tvisited)
        # Drawn only on large single routes, so that other instances search as before.
        if m == 1 and symmetric and cand.size > _LARGE and np.random.random() < _REGION_SHARE:
            tscore = _k_perturb_region(
                D, S, P, tR, tlens, tcosts, tvisited, score, cand, neighbours, strength,
                budget, eps, terms, near,
            )
        else:
            tscore = _k_perturb(
                D, S, P, tR, tlens, tcosts, tvisited, score, cand, neighbours, strength,
                budget, eps, terms, near, symmetric,
            )
        for ri in range(m):
            changed[ri] = tlens[ri] != lens[ri] or not np.array_equal(tR[ri, : tlens[ri]], R[ri, : lens[ri]])
        tscore = _k_local_search(
            D, S, P, tR, tlens, tcosts, tvisited, tscore, cand, changed, budget, eps, score_eps,
            symmetric, near, terms, keep, tmp,
        )
        if _k_better(tscore, tcosts, bscore, bcosts, eps, score_eps):
            _k_copy(tR, tlens, tcosts, tvisited, bR, blens, bcosts, bvisited)
            bscore = tscore
            stall = 0
        else:
            stall += 1
        ecount = _k_add_elite(
            ER, Elens, Ecosts, Evisited, Escore, ecount, tR, tlens, tcosts, tvisited, tscore, eps,
            score_eps,
        )
        # Accepting slightly worse solutions lets the walk cross between basins.
        if tscore >= score * (1.0 - _ACCEPT_DROP) - score_eps:
            _k_copy(tR, tlens, tcosts, tvisited, R, lens, costs, visited)
            score = tscore
        if stall and stall % _RESTART_EVERY == 0:
            # A fresh randomised construction reaches regions the walk would not.
            seeds = inst[6]
            # Drawn only where it was before seeds, so that other instances search as before.
            u = np.random.random() if m == 1 and symmetric else 1.0
            if u < 0.5:
                score = _k_construct_drop(inst, cfg, cur, 0.5, cand.size > _LARGE, terms, keep, tmp)
            elif seeds.size > 0 and u < 0.75:
                first = seeds[np.random.randint(0, seeds.size)]
                score = _k_construct(inst, cfg, cur, 0.5, first, terms, keep, tmp)
            else:
                score = _k_construct(inst, cfg, cur, 0.5, -1, terms, keep, tmp)
        elif stall and stall % _RESET_EVERY == 0:
            e = np.random.randint(0, ecount)
            _k_copy(ER[e], Elens[e], Ecosts[e], Evisited[e], R, lens, costs, visited)
            score = Escore[e]
    counts[0], counts[1], counts[2] = stall, iterations, ecount
    scores[0], scores[1] = score, bscore
    return iterations >= limit or stall >= stall_limit


@numba.njit(cache=True)
def _k_dijkstra(D, source):  # pragma: no cover - compiled
    """Shortest path costs from ``source`` over the dense matrix ``D`` (O(n^2), no heap)."""
    n = D.shape[0]
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    dist[source] = 0.0
    for _ in range(n):
        u = -1
        for v in range(n):
            if not done[v] and (u < 0 or dist[v] < dist[u]):
                u = v
        if not np.isfinite(dist[u]):
            break
        done[u] = True
        for v in range(n):
            alt = dist[u] + D[u, v]
            if alt < dist[v]:
                dist[v] = alt
    return dist


def _region_seeds(sub: np.ndarray, scores: np.ndarray, cand: np.ndarray, budget: float) -> np.ndarray:
    """Targets at the centres of the richest regions, far apart: seeds for constructions.

    A ratio-greedy route grows from the depot, so on clustered instances it fills the near
    clusters and never pays the trip to a far, rich one (OPLib p654-gen3 ended 39 % below the
    best known).  A construction that starts with a target of such a region in the route does
    go there.  A region's value is the score within ``_SEED_RADIUS`` of the budget around a
    target (``sub`` the symmetric costs between the candidates); the seeds are the best
    centres, each more than two radii from those before, the richest first."""
    radius = _SEED_RADIUS * budget
    value = (sub <= radius).astype(float) @ scores
    picked: list[int] = []
    for i in np.argsort(-value, kind="stable"):
        if all(sub[i, j] > 2 * radius for j in picked):
            picked.append(int(i))
            if len(picked) == _SEEDS:
                break
    return np.ascontiguousarray(cand[picked], dtype=np.int64)


def _block(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[np.ix_(rows, cols)]``, several times faster for the small blocks used here."""
    return matrix.take(rows, 0).take(cols, 1)


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
    search = _Search(problem)
    direct = problem.route_cost((problem.start, problem.end))
    if direct > problem.budget:
        raise NoRouteError(
            f"going straight from start {problem.start} to end {problem.end} costs {direct:g}, "
            f"more than the budget {problem.budget:g}"
        )
    best, iterations, timed_out = search.run(params, started + params.time_limit - _FINISH_MARGIN)
    routes = tuple(tuple(int(x) for x in r) for r in best)
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


def warm_up() -> float:
    """Compile every kernel once, so that a later call's time limit goes to the search.

    numba keeps the machine code on disk (``cache=True``), but the first call after an install
    or an update compiles for tens of seconds inside its time limit; the large single route's
    starts compile only on an instance of more than ``_LARGE`` candidates.  This solves, for a
    few iterations, a small two-team instance and a single route over ``_LARGE + 20`` random
    points, every one reachable within the budget so that all count as candidates (``make``
    runs it after installing).  Returns the seconds it took.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    for n, routes in ((20, 2), (_LARGE + 20, 1)):
        xy = rng.uniform(0.0, 100.0, (n, 2))
        cost = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        problem = OrienteeringProblem(cost=cost, scores=rng.uniform(1.0, 10.0, n), budget=400.0, n_routes=routes)
        solve_orienteering(problem, params=SolverParams(time_limit=600.0, max_iterations=50, workers=1))
    return time.perf_counter() - started


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


def instance_text(path: Path) -> str:
    """The text of a benchmark instance file; a missing or binary file is refused by name."""
    if not path.is_file():
        raise DataNotFoundError(f"instance file not found: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None


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
    text = instance_text(path)
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
