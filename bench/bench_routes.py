"""Benchmark of the patrol router on a real ward-sized street graph (issue 4 §4).

Usage::

    .venv/bin/python bench/bench_routes.py [--repeat 5] [--targets 30] [--shared DIR]

Graph: the Amsterdam Osdorp-Midden municipal walking network
(``networks/amsterdam_osdorp_midden_walk.gpkg``: 8,671 nodes, 27,622 directed sidewalk edges,
≈ 100 km), prepared once and held in memory, as ``streets.ward_graph`` serves it after the first
call ("warm"). Targets: ``--targets`` points spread over the ward (seeded), scores 1–10, a
10-minute stop each; start at the most central node; budgets of 90 min for one team and 60 min
for two teams.

Measured in the same run, all on the same walking-time metric closure (start + targets):

- ours: ``routes.plan_patrol`` end to end (snapping, Dijkstra, the iterated local search with its
  default fixed iteration budget, street paths, pass-by check, map context) — best and median
  wall time of ``--repeat`` runs, and its score (stops only, no pass-by credit, to compare alike);
  the very first call on a graph object also builds its edge arrays and spatial indexes (cached
  per frozen graph, so the dashboard pays it once per ward and process);
- baseline 1: greedy nearest neighbour (walk to the nearest unvisited target that still lets the
  team get back in time; teams one after another);
- baseline 2: OR-Tools routing with disjunction penalties (the common practical baseline: path
  cheapest arc + guided local search) with the same wall-time limit as our whole plan took;
- for reference: our solver alone on the closure, and with the solver's automatic (longer) budget.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import numpy as np
import osmnx as ox
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point

from planner import streets
from planner.routing.orienteering import OrienteeringProblem, SolverParams, solve_orienteering
from planner.routing.routes import RouteParams, central_node, plan_patrol

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _targets(graph, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` targets at seeded random street nodes, nudged up to 20 m off the street."""
    rng = np.random.default_rng(seed)
    nodes = sorted(graph.nodes)
    picks = rng.choice(len(nodes), size=n, replace=False)
    points = [Point(graph.nodes[nodes[i]]["x"] + rng.uniform(-20, 20),
                    graph.nodes[nodes[i]]["y"] + rng.uniform(-20, 20)) for i in picks]
    return gpd.GeoDataFrame({"score": rng.integers(1, 11, size=n).astype(float),
                             "name": [f"target {i + 1}" for i in range(n)]},
                            geometry=points, crs=graph.graph["crs"])


def _closure(graph, targets, start_node) -> tuple[np.ndarray, np.ndarray]:
    """Walking seconds between start (index 0) and the targets' nearest nodes, and the scores."""
    index = {node: i for i, node in enumerate(graph.nodes)}
    best: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        key = (index[u], index[v])
        best[key] = min(best.get(key, math.inf), float(data["walk_time"]))
    rows, cols = zip(*best, strict=True)
    matrix = csr_matrix((list(best.values()), (rows, cols)), shape=(len(index),) * 2)
    nodes = ox.distance.nearest_nodes(graph, targets.geometry.x.to_numpy(), targets.geometry.y.to_numpy())
    points = [index[start_node]] + [index[n] for n in nodes]
    dist = dijkstra(matrix, indices=points)[:, points]
    return dist, np.r_[0.0, targets["score"].to_numpy(float)]


def greedy(cost: np.ndarray, scores: np.ndarray, service: np.ndarray, budget: float, teams: int) -> float:
    """Nearest feasible neighbour, team after team; returns the score collected."""
    unvisited = set(range(1, len(scores)))
    total = 0.0
    for _ in range(teams):
        here, used = 0, 0.0
        while True:
            options = [j for j in unvisited if used + cost[here, j] + service[j] + cost[j, 0] <= budget]
            if not options:
                break
            nxt = min(options, key=lambda j: (cost[here, j], j))
            used += cost[here, nxt] + service[nxt]
            unvisited.discard(nxt)
            total += scores[nxt]
            here = nxt
    return total


def ortools_routing(cost: np.ndarray, scores: np.ndarray, service: np.ndarray, budget: float, teams: int,
                    time_limit: float) -> float:
    """OR-Tools routing with a disjunction per target (penalty = its score, heavily weighted);
    returns the score of the feasible routes it finds (re-checked on the float costs)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(scores)
    scale = 10  # deciseconds
    manager = pywrapcp.RoutingIndexManager(n, teams, 0)
    routing = pywrapcp.RoutingModel(manager)
    ticks = np.ceil((cost + service[:, None]) * scale).astype(np.int64)  # leaving i: dwell at i + walk

    def transit(i: int, j: int) -> int:
        return int(ticks[manager.IndexToNode(i), manager.IndexToNode(j)])

    callback = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(callback)
    routing.AddDimension(callback, 0, int(budget * scale), True, "time")
    big = int(ticks.max()) * n + 1
    for node in range(1, n):
        routing.AddDisjunction([manager.NodeToIndex(node)], round(scores[node] * big))
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    search.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    solution = routing.SolveWithParameters(search)
    if solution is None:
        return 0.0
    total = 0.0
    for vehicle in range(teams):
        index, route = routing.Start(vehicle), [0]
        while not routing.IsEnd(index):
            index = solution.Value(routing.NextVar(index))
            route.append(manager.IndexToNode(index))
        used = sum(cost[a, b] for a, b in itertools.pairwise(route)) + sum(service[route[1:-1]])
        assert used <= budget + 1e-6, "OR-Tools route over budget"
        total += float(scores[route[1:-1]].sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", type=Path, default=None, help="shared data dir (default ../shared/data)")
    args = parser.parse_args()
    shared = args.shared or (Path(os.environ["WAS_SHARED_DIR"]) / "data" if "WAS_SHARED_DIR" in os.environ
                             else DEFAULT_SHARED)
    began = time.perf_counter()
    network = shared / "networks" / "amsterdam_osdorp_midden_walk.gpkg"
    graph = streets.prepare_graph(streets.graph_from_segments(network))
    print(f"graph: {len(graph):,} nodes, {graph.number_of_edges():,} edges, "
          f"{streets.graph_summary(graph)['km']:.0f} km (built in {time.perf_counter() - began:.1f} s, "
          "not timed below)")
    targets = _targets(graph, args.targets, args.seed)
    start_node = central_node(graph)
    lonlat = ox.projection.project_geometry(Point(graph.nodes[start_node]["x"], graph.nodes[start_node]["y"]),
                                            crs=graph.graph["crs"], to_latlong=True)[0]
    start = (lonlat.y, lonlat.x)
    cost, scores = _closure(graph, targets, start_node)
    service = np.r_[0.0, np.full(args.targets, 600.0)]
    rows = []
    for teams, minutes in ((1, 90), (2, 60)):
        params = RouteParams(minutes=minutes, teams=teams, dwell_min=10, pass_by_m=0, seed=args.seed)
        t0 = time.perf_counter()
        plan_patrol(graph, targets, start=start, params=params)  # the first plan also indexes the graph
        first_s = time.perf_counter() - t0
        times, plan = [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            plan = plan_patrol(graph, targets, start=start, params=params)
            times.append(time.perf_counter() - t0)
        assert all(team.duration_min <= minutes + 1e-6 for team in plan.teams)
        budget = minutes * 60.0
        problem = OrienteeringProblem(cost=cost, scores=scores, budget=budget, n_routes=teams, service=service)
        t0 = time.perf_counter()
        solver = solve_orienteering(problem, params=SolverParams(seed=args.seed, max_iterations=params.iterations))
        solver_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        auto = solve_orienteering(problem, params=SolverParams(seed=args.seed, time_limit=5.0))
        auto_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        nearest = greedy(cost, scores, service, budget, teams)
        greedy_s = time.perf_counter() - t0
        limit = statistics.median(times)
        t0 = time.perf_counter()
        tools = ortools_routing(cost, scores, service, budget, teams, limit)
        tools_s = time.perf_counter() - t0
        label = f"{teams} team(s), {minutes} min"
        rows += [
            (label, "ours: first plan_patrol on this graph (indexes it)", first_s, first_s, plan.total_score),
            (label, "ours: plan_patrol end to end (warm)", min(times), limit, plan.total_score),
            (label, "ours: solver alone on the closure", solver_s, solver_s, solver.score),
            (label, "ours: solver, automatic budget (≤ 5 s)", auto_s, auto_s, auto.score),
            (label, "baseline: greedy nearest neighbour", greedy_s, greedy_s, nearest),
            (label, "baseline: OR-Tools routing, same time", tools_s, tools_s, tools),
        ]
    total = float(scores.sum())
    print(f"\n{args.targets} targets, total score {total:g}; best and median of {args.repeat} runs for plan_patrol\n")
    print("| case | method | best (s) | median (s) | score |")
    print("|---|---|---:|---:|---:|")
    for case, method, best, median, score in rows:
        print(f"| {case} | {method} | {best:.3f} | {median:.3f} | {score:g} |")


if __name__ == "__main__":
    main()
