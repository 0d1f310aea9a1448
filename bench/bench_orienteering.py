"""Benchmark of ``planner.routing.orienteering.solve_orienteering`` on the classic OP and TOP instances.

Usage::

    .venv/bin/python bench/bench_orienteering.py [--quick] [--exact-limit 60] [--shared DIR]
        [--no-top | --top-only] [--no-ortools] [--no-oplib | --oplib-only] [--oplib-max-n N]

For every OP instance (Tsiligirides 1 and 3, Chao 64 and 66) it reports our score and time at
the default parameters, the optimum from a CP-SAT model (when proved within ``--exact-limit``
seconds; otherwise "not proven" with the bound) and OR-Tools routing with disjunction
penalties (guided local search) at the same time limit as ours.  For the Chao TOP instances it
compares our score with the 1996 reference score and with OR-Tools routing with several
vehicles.  For the OPLib instances (``.oplib``, TSPLIB-rounded distances, closed tours, the
depot's score counted) it compares ours at ``--time-limit 1`` (2 s above 400 points) with the
library's best known score (proved optimal for most) and OR-Tools routing at the same time.
All ratios are measured in this run.

Distances are unrounded Euclidean.  The OR-Tools models need integers: routing rounds scaled
distances *up* (so each route it returns is feasible in floating point as well) and CP-SAT
rounds them *down* (a relaxation, so its optimum is an upper bound that becomes the proved
optimum once the route it found is checked feasible in floating point).  Final scores and
lengths are recomputed in floating point.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.sat.python import cp_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner._errors import NoRouteError
from planner.routing.oplib import read_oplib
from planner.routing.orienteering import OrienteeringProblem, SolverParams, read_instance, solve_orienteering

EXACT_SCALE = 10_000  # CP-SAT: distances floored at 1e-4
ROUTING_SCALE = 1_000  # routing: distances ceiled at 1e-3


@dataclass
class Exact:
    score: float  # best float-feasible score found
    bound: float  # proved upper bound on the optimum
    proven: bool  # score == bound and the route is float-feasible
    seconds: float


def _floored(problem: OrienteeringProblem) -> tuple[np.ndarray, np.ndarray, int, list[int]]:
    """Integer distances rounded down (a relaxation), scores without depots, the budget and
    the nodes that can lie on some route within it."""
    s, e = problem.start, problem.end
    scores = problem.scores.copy()
    scores[[s, e]] = 0
    cap = math.floor(problem.budget * EXACT_SCALE)
    dint = np.floor(problem.cost * EXACT_SCALE).astype(np.int64)  # benchmarks have no dwell
    reach = dint[s, :] + dint[:, e]
    nodes = [i for i in range(problem.n) if i in (s, e) or (scores[i] > 0 and reach[i] <= cap)]
    return dint, scores, cap, nodes


def _add_route(model: cp_model.CpModel, problem: OrienteeringProblem, dint: np.ndarray, cap: int,
               nodes: list[int], tag: str) -> tuple[dict[int, Any], list[tuple[int, int, Any]]]:
    """One route as a circuit over ``nodes`` with optional visits (self-loops) and the budget;
    returns its visit literals and arcs."""
    s, e = problem.start, problem.end
    arcs = []
    terms = []
    visit = {}
    for i in nodes:
        if i not in (s, e):
            visit[i] = model.NewBoolVar(f"{tag}v{i}")
            arcs.append((i, i, ~visit[i]))
    for i in nodes:
        for j in nodes:
            if i in (j, e) or j == s:
                continue
            if dint[s, i] + dint[i, j] + dint[j, e] > cap:
                continue  # an arc that cannot lie on any route within the budget
            x = model.NewBoolVar(f"{tag}x{i}_{j}")
            arcs.append((i, j, x))
            terms.append((int(dint[i, j]), x))
    if s != e:
        arcs.append((e, s, model.NewConstant(1)))
    model.AddCircuit(arcs)
    model.Add(sum(c * x for c, x in terms) <= cap)
    return visit, arcs


def exact_op(
    problem: OrienteeringProblem,
    time_limit: float,
    workers: int = 2,
    hint: tuple[int, ...] | None = None,
) -> Exact:
    """Single-route OP optimum with CP-SAT (circuit constraint with optional nodes).

    ``hint`` (a feasible route, e.g. ours) only speeds the search up; the proof is CP-SAT's.
    """
    s, e, budget = problem.start, problem.end, problem.budget
    assert problem.n_routes == 1 and s != e, "the model is for single open routes"
    dint, scores, cap, nodes = _floored(problem)
    model = cp_model.CpModel()
    visit, arcs = _add_route(model, problem, dint, cap, nodes, "")
    model.Maximize(sum(int(scores[i]) * v for i, v in visit.items()))
    if hint is not None:
        used = set(itertools.pairwise(hint))
        for i, j, x in arcs:
            if i != j and (i, j) != (e, s):
                model.AddHint(x, (i, j) in used)
        for i, v in visit.items():
            model.AddHint(v, i in hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    started = time.perf_counter()
    status = solver.Solve(model)
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Exact(math.nan, solver.BestObjectiveBound(), False, seconds)
    succ = {i: j for i, j, x in arcs if i != j and solver.BooleanValue(x)}
    route = [s]
    while route[-1] != e or len(route) == 1:
        route.append(succ[route[-1]])
        if route[-1] == s:  # round trip closed
            break
    score = float(sum(scores[i] for i in route[1:-1]))
    feasible = problem.route_cost(route) <= budget
    bound = float(solver.BestObjectiveBound())
    proven = status == cp_model.OPTIMAL and feasible
    return Exact(score if feasible else math.nan, bound, proven, seconds)


def top_bound(problem: OrienteeringProblem, time_limit: float, workers: int = 2) -> tuple[float, bool]:
    """Upper bound on the TOP optimum with CP-SAT (one circuit per team, each target visited by
    at most one); returns (bound, proved optimal).  Distances are rounded down, so the bound
    holds for the unrounded instance too: a reference above it cannot be reached."""
    dint, scores, cap, nodes = _floored(problem)
    model = cp_model.CpModel()
    visits = [_add_route(model, problem, dint, cap, nodes, f"r{k}")[0] for k in range(problem.n_routes)]
    for i in visits[0]:
        model.AddAtMostOne(v[i] for v in visits)
    model.Maximize(sum(int(scores[i]) * v[i] for v in visits for i in v))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    return float(solver.BestObjectiveBound()), status == cp_model.OPTIMAL


def ortools_routing(problem: OrienteeringProblem, time_limit: float) -> tuple[float, float]:
    """OR-Tools routing (drop penalties = score, guided local search); returns (score, length)."""
    n, m = problem.n, problem.n_routes
    cap = math.floor(problem.budget * ROUTING_SCALE)
    with np.errstate(invalid="ignore"):
        step = problem.cost + problem.service[:, None]
    step[problem.start, :] = problem.cost[problem.start, :]
    step = np.where(np.isfinite(step), np.ceil(step * ROUTING_SCALE), cap + 1).astype(np.int64)
    np.fill_diagonal(step, 0)
    manager = pywrapcp.RoutingIndexManager(n, m, [problem.start] * m, [problem.end] * m)
    routing = pywrapcp.RoutingModel(manager)
    matrix = step.tolist()

    def transit(a: int, b: int) -> int:
        return matrix[manager.IndexToNode(a)][manager.IndexToNode(b)]

    callback = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(callback)
    routing.AddDimension(callback, 0, cap, True, "time")
    # Dropping a target must always cost more than any walking saved by dropping it.
    weight = m * cap + 1
    for node in range(n):
        if node in (problem.start, problem.end):
            continue
        routing.AddDisjunction([manager.NodeToIndex(node)], int(problem.scores[node] * weight))
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(int(time_limit * 1000))
    assignment = routing.SolveWithParameters(search)
    if assignment is None:
        return 0.0, 0.0
    score = 0.0
    length = 0.0
    for vehicle in range(m):
        index = routing.Start(vehicle)
        route = []
        while True:
            route.append(manager.IndexToNode(index))
            if routing.IsEnd(index):
                break
            index = assignment.Value(routing.NextVar(index))
        assert problem.route_cost(route) <= problem.budget
        score += float(sum(problem.scores[i] for i in route[1:-1]))
        length += problem.route_travel(route)
    return score, length


def ours(
    problem: OrienteeringProblem, params: SolverParams = SolverParams()
) -> tuple[float, float, float, tuple[int, ...] | None]:
    """Our solver (default parameters); returns (score, length, seconds, first route)."""
    started = time.perf_counter()
    try:
        solution = solve_orienteering(problem, params=params)
    except NoRouteError:  # even start -> end is over budget: nothing can be collected
        return 0.0, 0.0, time.perf_counter() - started, None
    seconds = time.perf_counter() - started
    for route, cost in zip(solution.routes, solution.costs, strict=True):
        assert cost <= problem.budget, (route, cost)
    return solution.score, sum(solution.travel), seconds, solution.routes[0]


def load_reference(path: Path) -> dict[str, float]:
    reference = {}
    for line in path.read_text().splitlines():
        if line.strip():
            name, score = line.split()
            reference[name.removesuffix(".txt")] = float(score)
    return reference


def main() -> None:
    default_shared = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 4th instance, exact limit 10 s")
    parser.add_argument("--exact-limit", type=float, default=60.0, help="CP-SAT seconds per OP instance")
    parser.add_argument("--shared", type=Path, default=default_shared, help="the shared folder")
    parser.add_argument("--no-top", action="store_true", help="skip the TOP instances")
    parser.add_argument("--top-only", action="store_true", help="skip the OP instances")
    parser.add_argument(
        "--no-ortools", action="store_true", help="skip the OR-Tools routing baseline (TOP)"
    )
    parser.add_argument(
        "--prove", default="", help="comma-separated TOP instances below the reference: bound "
        "their optimum with CP-SAT to tell whether the reference can be reached at all",
    )
    parser.add_argument("--prove-limit", type=float, default=900.0, help="CP-SAT seconds per --prove instance")
    parser.add_argument("--no-oplib", action="store_true", help="skip the OPLib instances")
    parser.add_argument("--oplib-only", action="store_true", help="only the OPLib instances")
    parser.add_argument("--oplib-max-n", type=int, default=None, help="OPLib instances up to N points only")
    args = parser.parse_args()
    root = args.shared / "data" / "benchmarks"
    step = 4 if args.quick else 1
    exact_limit = min(args.exact_limit, 10.0) if args.quick else args.exact_limit
    limit = SolverParams().time_limit
    # Load (or, after an edit of the solver, compile) the numba code before anything is timed.
    solve_orienteering(OrienteeringProblem(cost=np.ones((3, 3)), scores=np.ones(3), budget=2.0))

    if not args.oplib_only:
        if not args.top_only:
            run_op(root, step, exact_limit, limit)
        if not args.no_top:
            prove = [name for name in args.prove.split(",") if name]
            run_top(root, step, limit, ortools=not args.no_ortools, prove=prove, prove_limit=args.prove_limit)
    if not args.no_oplib and not args.top_only:
        run_oplib(root / "oplib", step, args.oplib_max_n, ortools=not args.no_ortools)


def run_op(root: Path, step: int, exact_limit: float, limit: float) -> None:
    print(f"# OP instances (exact: CP-SAT {exact_limit:g} s; OR-Tools routing GLS {limit:g} s)")
    print(f"{'instance':36} {'n':>3} {'Tmax':>5} {'ours':>6} {'time':>6} {'optimum':>8} "
          f"{'exact s':>7} {'ortools':>7} {'ours/opt':>8} {'ours/ort':>8}")
    op_files = sorted(root.glob("op/*/*.txt"))
    op_files = [f for f in op_files if f.name != "OP_format.txt"][::step]
    ratios, at_opt, times, vs_ort, unproven = [], 0, [], [], []
    for path in op_files:
        inst = read_instance(path)
        p = inst.problem
        score, _, seconds, route = ours(p)
        ex = exact_op(p, exact_limit, hint=route)
        ort, _ = ortools_routing(p, limit)
        times.append(seconds)
        vs_ort.append(score / ort if ort > 0 else 1.0)
        if ex.proven:
            ratios.append(score / ex.bound if ex.bound > 0 else 1.0)
            at_opt += score >= ex.bound - 1e-9
            opt_text = f"{ex.bound:8g}"
        else:
            unproven.append(inst.name)
            opt_text = f"<={ex.bound:g}"
        print(f"{inst.name:36} {p.n:3d} {p.budget:5g} {score:6g} {seconds:6.3f} {opt_text:>8} "
              f"{ex.seconds:7.1f} {ort:7g} {ratios[-1] if ex.proven else math.nan:8.4f} "
              f"{vs_ort[-1]:8.4f}", flush=True)
    proven = len(ratios)
    print()
    print(f"OP instances: {len(op_files)}; optimum proved for {proven}"
          + (f" (not proven: {', '.join(unproven)})" if unproven else ""))
    if proven:
        print(f"ours / optimum: mean {100 * statistics.fmean(ratios):.3f} %, min "
              f"{100 * min(ratios):.2f} %; at optimum: {at_opt}/{proven} "
              f"({100 * at_opt / proven:.1f} %)")
    print(f"ours time: mean {statistics.fmean(times):.3f} s, max {max(times):.3f} s")
    print(f"ours / OR-Tools routing: mean {100 * statistics.fmean(vs_ort):.2f} %, "
          f"ours better on {sum(r > 1 + 1e-9 for r in vs_ort)}, worse on "
          f"{sum(r < 1 - 1e-9 for r in vs_ort)}")


def run_top(
    root: Path, step: int, limit: float, *, ortools: bool, prove: list[str], prove_limit: float
) -> None:
    reference = load_reference(root / "top" / "chao_reference_scores.txt")
    print()
    print(f"# TOP instances (Chao 1996 reference; OR-Tools routing GLS {limit:g} s)")
    print(f"{'instance':12} {'n':>3} {'m':>2} {'Tmax':>5} {'ours':>6} {'time':>6} {'chao':>6} "
          f"{'ortools':>7} {'ours-chao':>9}")
    top_files = sorted(root.glob("top/Set_*/*.txt"))[::step]
    ge_ref, diffs, ttimes, tvs_ort, scores = 0, [], [], [], {}
    for path in top_files:
        inst = read_instance(path)
        p = inst.problem
        score, _, seconds, _ = ours(p)
        ort = ortools_routing(p, limit)[0] if ortools else math.nan
        ref = reference[inst.name]
        ttimes.append(seconds)
        scores[inst.name] = score
        diffs.append(score - ref)
        ge_ref += score >= ref
        tvs_ort.append(score / ort if ort > 0 else (1.0 if score == 0 else math.inf))
        print(f"{inst.name:12} {p.n:3d} {p.n_routes:2d} {p.budget:5g} {score:6g} {seconds:6.3f} "
              f"{ref:6g} {ort:7g} {score - ref:9g}", flush=True)
    print()
    below = [f.stem for f, d in zip(top_files, diffs, strict=True) if d < 0]
    print(f"TOP instances: {len(top_files)}; ours >= Chao reference on {ge_ref} "
          f"({100 * ge_ref / len(top_files):.1f} %), above it on {sum(d > 0 for d in diffs)}"
          + (f"; below on {', '.join(below)}" if below else ""))
    print(f"ours time: mean {statistics.fmean(ttimes):.3f} s, max {max(ttimes):.3f} s")
    unreachable = 0
    for name in prove:
        problem = read_instance(next(root.glob(f"top/Set_*/{name}.txt"))).problem
        started = time.perf_counter()
        bound, optimal = top_bound(problem, prove_limit)
        verdict = "reference unreachable" if bound < reference[name] - 1e-9 else "reference reachable or open"
        unreachable += bound < reference[name] - 1e-9 and scores.get(name, math.inf) < reference[name]
        print(f"{name}: CP-SAT bound {bound:g} ({'optimal' if optimal else 'not proved'}, "
              f"{time.perf_counter() - started:.0f} s), ours {scores.get(name, math.nan):g}, "
              f"reference {reference[name]:g}: {verdict}")
    if unreachable:
        print(f"ours >= reference on {ge_ref} of the {len(top_files) - unreachable} instances whose "
              f"reference can be reached ({100 * ge_ref / (len(top_files) - unreachable):.1f} %)")
    if not ortools:
        return
    finite = [r for r in tvs_ort if math.isfinite(r)]
    print(f"ours / OR-Tools routing: mean {100 * statistics.fmean(finite):.2f} %, ours better on "
          f"{sum(r > 1 + 1e-9 for r in tvs_ort)}, worse on {sum(r < 1 - 1e-9 for r in tvs_ort)}")


OPLIB_LARGE = 400  # points above which an OPLib instance gets the longer time limit
OPLIB_LIMITS = (1.0, 2.0)  # seconds up to / above OPLIB_LARGE points


def _gap(score: float, best: float) -> float:
    return 100 * (best - score) / best if best > 0 else 0.0


def run_oplib(folder: Path, step: int, max_n: int | None, *, ortools: bool) -> None:
    with (folder / "best_known.csv").open() as table:
        known = {row["instance"]: row for row in csv.DictReader(table)}
    rows = sorted(known.values(), key=lambda row: (int(row["n"]), row["instance"]))
    rows = [row for row in rows if max_n is None or int(row["n"]) <= max_n][::step]
    print()
    print(f"# OPLib instances (ours and OR-Tools routing GLS: {OPLIB_LIMITS[0]:g} s up to {OPLIB_LARGE} "
          f"points, {OPLIB_LIMITS[1]:g} s above; gap to the best known, * = proved optimal)")
    print(f"{'instance':18} {'n':>4} {'best':>7} {'ours':>7} {'time':>6} {'gap %':>6} {'ortools':>7} {'ort gap %':>9}")
    gaps: dict[bool, list[float]] = {True: [], False: []}
    ort_gaps: dict[bool, list[float]] = {True: [], False: []}
    for row in rows:
        inst = read_oplib(folder / f"{row['instance']}.oplib")
        p = inst.problem
        limit = OPLIB_LIMITS[p.n > OPLIB_LARGE]
        score, _, seconds, _ = ours(p, SolverParams(time_limit=limit))
        score += inst.depot_score
        ort = ortools_routing(p, limit)[0] + inst.depot_score if ortools else math.nan
        best = float(row["best_known"])
        small = p.n <= OPLIB_LARGE
        gaps[small].append(_gap(score, best))
        ort_gaps[small].append(_gap(ort, best))
        mark = "*" if row["optimal_proved"] == "yes" else " "
        print(f"{row['instance']:18} {p.n:4d} {best:6g}{mark} {score:7g} {seconds:6.3f} {gaps[small][-1]:6.2f} "
              f"{ort:7g} {ort_gaps[small][-1]:9.2f}", flush=True)
    print()
    for label, groups in ((f"up to {OPLIB_LARGE} points", (True,)), ("all", (True, False))):
        ours_all = [g for k in groups for g in gaps[k]]
        ort_all = [g for k in groups for g in ort_gaps[k]]
        if not ours_all:
            continue
        print(f"OPLib {label}: {len(ours_all)} instances; ours gap mean {statistics.fmean(ours_all):.2f} %, "
              f"worst {max(ours_all):.2f} %, at best known {sum(g <= 0 for g in ours_all)}"
              + (f"; OR-Tools gap mean {statistics.fmean(ort_all):.2f} %, worst {max(ort_all):.2f} %"
                 if ortools else ""))
    if gaps[False]:
        print(f"OPLib above {OPLIB_LARGE} points: ours gap mean {statistics.fmean(gaps[False]):.2f} %, "
              f"worst {max(gaps[False]):.2f} %")


if __name__ == "__main__":
    main()
