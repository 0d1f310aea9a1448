"""Tests of the (team) orienteering solver, the benchmark reader and ``was-planner op-solve``."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from planner._errors import DataNotFoundError, InputError, NoRouteError
from planner.cli import app
from planner.routing.orienteering import (
    OrienteeringProblem,
    OrienteeringSolution,
    SolverParams,
    _k_exchange_best,
    read_instance,
    solve_orienteering,
)

FAST = SolverParams(time_limit=5.0, max_iterations=60)


def euclidean(points: np.ndarray) -> np.ndarray:
    diff = points[:, None, :] - points[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def check_solution(problem: OrienteeringProblem, solution: OrienteeringSolution) -> None:
    """Every invariant a solution must keep, recomputed independently of the solver."""
    assert len(solution.routes) == problem.n_routes
    seen: list[int] = []
    for route, cost in zip(solution.routes, solution.costs, strict=True):
        assert route[0] == problem.start and route[-1] == problem.end
        assert len(route) >= 2
        travel = math.fsum(
            0.0 if a == b else float(problem.cost[a, b]) for a, b in itertools.pairwise(route)
        )
        dwell = math.fsum(float(problem.service[x]) for x in route[1:-1])
        assert math.isclose(cost, travel + dwell, rel_tol=1e-12, abs_tol=1e-12)
        assert cost <= problem.budget
        seen.extend(route[1:-1])
    assert len(seen) == len(set(seen))
    assert not {problem.start, problem.end} & set(seen)
    assert solution.score == pytest.approx(sum(float(problem.scores[x]) for x in seen))


def brute_force(problem: OrienteeringProblem) -> float:
    """Best single-route score by trying every ordered subset of the targets."""
    targets = [i for i in range(problem.n) if i not in (problem.start, problem.end)]
    best = 0.0
    for size in range(1, len(targets) + 1):
        for subset in itertools.combinations(targets, size):
            value = float(problem.scores[list(subset)].sum())
            if value <= best:
                continue
            for order in itertools.permutations(subset):
                route = (problem.start, *order, problem.end)
                if problem.route_cost(route) <= problem.budget:
                    best = value
                    break
    return best


# -- small hand-made instances -----------------------------------------------------------------


def test_matches_brute_force_on_small_instances() -> None:
    """The solver finds the brute-force optimum of small random instances."""
    rng = np.random.default_rng(7)
    for trial in range(6):
        points = rng.uniform(0, 10, size=(8, 2))
        scores = rng.integers(1, 10, size=8).astype(float)
        problem = OrienteeringProblem(
            cost=euclidean(points),
            scores=scores,
            budget=float(rng.uniform(12, 25)),
            start=0,
            end=1 if trial % 2 else 0,
        )
        solution = solve_orienteering(problem, params=FAST)
        check_solution(problem, solution)
        assert solution.score == brute_force(problem)


def test_known_optimal_tour() -> None:
    """On a square with a costly detour the optimum takes the corners, not the far point."""
    points = np.array([[0, 0], [0, 1], [1, 1], [1, 0], [5, 5]], dtype=float)
    problem = OrienteeringProblem(
        cost=euclidean(points), scores=[0, 1, 1, 1, 2.5], budget=4.0, start=0, end=0
    )
    solution = solve_orienteering(problem, params=FAST)
    check_solution(problem, solution)
    assert solution.score == 3
    assert solution.routes[0] in {(0, 1, 2, 3, 0), (0, 3, 2, 1, 0)}
    assert solution.costs[0] == pytest.approx(4.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 12),
    n_routes=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    budget=st.floats(0, 40),
    round_trip=st.booleans(),
    with_service=st.booleans(),
)
def test_random_instances_keep_invariants(
    n: int, n_routes: int, seed: int, budget: float, round_trip: bool, with_service: bool
) -> None:
    """Random instances: every route within budget, each target at most once, score adds up."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, size=(n, n))  # asymmetric, no triangle inequality
    cost[rng.random((n, n)) < 0.1] = np.inf
    service = rng.uniform(0, 3, size=n) if with_service else None
    end = 0 if round_trip or n == 1 else n - 1
    if cost[0, end] > budget and end != 0:
        cost[0, end] = budget  # keep the direct trip affordable
    problem = OrienteeringProblem(
        cost=cost,
        scores=rng.integers(0, 5, size=n),
        budget=budget,
        start=0,
        end=end,
        n_routes=n_routes,
        service=service,
    )
    solution = solve_orienteering(problem, params=SolverParams(max_iterations=15))
    check_solution(problem, solution)


def test_same_seed_same_routes() -> None:
    """Two runs with the same seed and iteration budget give identical solutions."""
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 10, size=(40, 2))
    problem = OrienteeringProblem(
        cost=euclidean(points),
        scores=rng.integers(1, 10, size=40),
        budget=25.0,
        n_routes=2,
    )
    first = solve_orienteering(problem, params=SolverParams(seed=5, max_iterations=80))
    second = solve_orienteering(problem, params=SolverParams(seed=5, max_iterations=80))
    assert first.routes == second.routes
    assert first.score == second.score
    assert first.iterations == 2 * 80  # two searches (the default workers), 80 each


def test_long_route_keeps_invariants_and_is_deterministic() -> None:
    """A route of well over 60 stops (the near-neighbour moves and the drop construction) stays
    feasible, beats the plain greedy start and repeats itself for a seed."""
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 100, size=(160, 2))
    problem = OrienteeringProblem(
        cost=np.floor(euclidean(points) + 0.5), scores=rng.integers(1, 100, size=160), budget=600.0
    )
    params = SolverParams(seed=2, max_iterations=20, time_limit=30.0)
    first = solve_orienteering(problem, params=params)
    check_solution(problem, first)
    assert len(first.routes[0]) > 60
    assert first.routes == solve_orienteering(problem, params=params).routes
    greedy = solve_orienteering(problem, params=SolverParams(seed=2, max_iterations=0, time_limit=30.0))
    assert first.score >= greedy.score


@pytest.mark.parametrize("workers", [1, 3])
def test_time_limit_returns_best_so_far(workers: int) -> None:
    """A time limit far too short for the automatic budget still gives feasible routes, and
    says the clock stopped the search."""
    rng = np.random.default_rng(4)
    points = rng.uniform(0, 10, size=(80, 2))
    problem = OrienteeringProblem(
        cost=euclidean(points), scores=rng.integers(1, 10, size=80), budget=30.0, n_routes=3
    )
    solution = solve_orienteering(problem, params=SolverParams(time_limit=0.001, workers=workers))
    check_solution(problem, solution)
    assert solution.timed_out
    assert solution.score > 0


def test_unreachable_targets_are_skipped() -> None:
    """A target that cannot be walked to (inf) is never visited, however valuable."""
    points = np.array([[0, 0], [1, 0], [2, 0], [1, 1]], dtype=float)
    cost = euclidean(points)
    cost[:, 3] = np.inf  # nobody can get to node 3
    problem = OrienteeringProblem(cost=cost, scores=[0, 1, 1, 100], budget=10.0)
    solution = solve_orienteering(problem, params=FAST)
    check_solution(problem, solution)
    assert 3 not in solution.visited
    assert solution.score == 2


def test_zero_budget_gives_empty_round_trip() -> None:
    """With no time to walk, each team's route is just (start, start)."""
    points = np.array([[0, 0], [1, 0], [0, 1]], dtype=float)
    problem = OrienteeringProblem(cost=euclidean(points), scores=[0, 5, 5], budget=0.0, n_routes=2)
    solution = solve_orienteering(problem, params=FAST)
    assert solution.routes == ((0, 0), (0, 0))
    assert solution.score == 0
    assert solution.costs == (0.0, 0.0)


def test_direct_trip_over_budget_raises() -> None:
    """When even start -> end exceeds the budget, the solver says so instead of cheating."""
    points = np.array([[0, 0], [10, 0], [1, 0]], dtype=float)
    problem = OrienteeringProblem(cost=euclidean(points), scores=[0, 0, 1], budget=5, end=1)
    with pytest.raises(NoRouteError, match="budget"):
        solve_orienteering(problem, params=FAST)


def test_teams_share_targets_once() -> None:
    """Several teams cover disjoint targets and together collect more than one team."""
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 10, size=(30, 2))
    scores = rng.integers(1, 10, size=30)
    one = OrienteeringProblem(cost=euclidean(points), scores=scores, budget=15.0)
    three = OrienteeringProblem(cost=euclidean(points), scores=scores, budget=15.0, n_routes=3)
    single = solve_orienteering(one, params=FAST)
    team = solve_orienteering(three, params=FAST)
    check_solution(three, team)
    assert all(len(route) > 2 for route in team.routes)
    assert team.score > single.score


def test_service_time_counts_against_budget() -> None:
    """Dwell time at targets is part of a route's cost."""
    points = np.array([[0, 0], [1, 0], [2, 0]], dtype=float)
    problem = OrienteeringProblem(
        cost=euclidean(points), scores=[0, 1, 1], budget=4.5, service=[0, 1, 1]
    )
    solution = solve_orienteering(problem, params=FAST)
    check_solution(problem, solution)
    assert solution.score == 1  # both would need 4 walking + 2 dwelling
    json.dumps(solution.to_json())


def test_crossing_routes_trade_tails() -> None:
    """Two routes that cross are uncrossed by exchanging their tails (2-opt*), the best single
    move between them: no relocation or swap of one target saves as much."""
    points = np.array(
        [(0, 0), (2, 3), (6, -3), (8, -3), (2, -3), (6, 3), (8, 3), (10, 0)], dtype=float
    )
    D = euclidean(points)
    S = np.zeros(len(points))
    routes = [[0, 1, 2, 3, 7], [0, 4, 5, 6, 7]]  # upper-left into lower-right and vice versa
    R = np.zeros((2, 8), dtype=np.int64)
    for ri, route in enumerate(routes):
        R[ri, : len(route)] = route
    lens = np.array([5, 5], dtype=np.int64)
    costs = np.array([math.fsum(D[a, b] for a, b in itertools.pairwise(r)) for r in routes])
    kind, a, b, i, j = _k_exchange_best(D, S, R, lens, costs, 100.0, 1e-9)
    assert (kind, a, b, i, j) == (2, 0, 1, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_limit": -1}, "time_limit must be > 0, got -1"),
        ({"time_limit": math.inf}, "time_limit must be a finite number"),
        ({"seed": -3}, "seed must be an integer >= 0, got -3"),
        ({"max_iterations": 2.5}, "max_iterations must be an integer >= 0, or left out, got 2.5"),
        ({"workers": 0}, "workers must be an integer >= 1, got 0"),
    ],
)
def test_params_validation(kwargs: dict, message: str) -> None:
    """Invalid solver options raise InputError naming the field and value."""
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        SolverParams(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cost": np.zeros((2, 3))}, "cost must be a non-empty square matrix"),
        ({"cost": -np.ones((2, 2))}, "cost must be >= 0"),
        ({"cost": np.full((2, 2), np.nan)}, "cost must not contain NaN"),
        ({"scores": [1, 2, 3]}, r"scores must have shape \(2,\)"),
        ({"scores": [1, -2]}, "scores must be finite and >= 0, got -2"),
        ({"budget": math.inf}, "budget must be a finite number >= 0, got inf"),
        ({"budget": -1}, "budget must be a finite number >= 0, got -1"),
        ({"start": 2}, r"start must be a node index in \[0, 1\], got 2"),
        ({"end": -1}, r"end must be a node index in \[0, 1\], got -1"),
        ({"n_routes": 0}, "n_routes must be an integer >= 1, got 0"),
        ({"service": [0, -1]}, "service must be finite and >= 0"),
    ],
)
def test_problem_validation(kwargs: dict, message: str) -> None:
    """Invalid instances raise InputError naming the field and value."""
    base = {"cost": np.ones((2, 2)), "scores": [0, 1], "budget": 3.0}
    with pytest.raises(InputError, match=message):
        OrienteeringProblem(**{**base, **kwargs})


# -- reader --------------------------------------------------------------------------------------


def test_reads_op_and_top_files(tmp_path: Path) -> None:
    """Both formats give unrounded Euclidean costs, the right depots and the team count."""
    op = tmp_path / "tiny_op.txt"
    op.write_text("10\t1\n0 0 0\n3 4 0\n1 1 5\n")
    top = tmp_path / "tiny_top.txt"
    top.write_text("n 4\nm 2\ntmax 7.5\n0 0 0\n1 0 3\n0 1 4\n2 2 0\n")
    a = read_instance(op)
    assert (a.kind, a.name, a.problem.start, a.problem.end) == ("op", "tiny_op", 0, 1)
    assert a.problem.cost[0, 1] == 5.0 and a.problem.cost[0, 2] == math.sqrt(2)
    b = read_instance(top)
    assert (b.kind, b.problem.start, b.problem.end, b.problem.n_routes) == ("top", 0, 3, 2)
    assert b.problem.budget == 7.5 and list(b.problem.scores) == [0, 3, 4, 0]
    assert b.coords.shape == (4, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("10 1\n0 0 0\n1 x 0\n", r"line 3: expected 'x y score', got '1 x 0'"),
        ("10 1\n0 0 0\n1 1\n", "line 3: expected 'x y score'"),
        ("10\n0 0 0\n1 1 0\n", "line 1: expected 'Tmax P'"),
        ("10 1\n0 0 0\n", "at least 2 points"),
        ("10 1.5\n0 0 0\n1 1 0\n", "line 1: P must be an integer >= 1, got 1.5"),
        ("5 1\n0 0 0\n1 1 -3\n", "scores must be finite and >= 0"),
        ("n 3\nm 2\ntmax 7\n0 0 0\n1 1 1\n", "header says n 3 points, found 2"),
        ("n 2\nteams 2\ntmax 7\n0 0 0\n1 1 1\n", "line 2: expected 'm <number>'"),
        ("n 2\nm 2\ntmax x\n0 0 0\n1 1 1\n", "line 3: expected 'tmax <number>'"),
    ],
)
def test_reader_rejects_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    """Malformed files raise InputError naming the file and the line."""
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_instance(path)
    assert str(path) in str(info.value)


def test_reader_missing_file(tmp_path: Path) -> None:
    """A missing file raises DataNotFoundError."""
    with pytest.raises(DataNotFoundError, match="not found"):
        read_instance(tmp_path / "nope.txt")


# -- real benchmark data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def benchmarks(shared_data) -> Path:
    """The shared benchmark folder (skipped when absent locally, a failure on CI)."""
    return shared_data / "benchmarks"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("relative", "optimum"),
    [
        ("op/Tsiligirides_1/tsiligirides_problem_1_budget_30.txt", 110),
        ("op/Tsiligirides_3/tsiligirides_problem_3_budget_050.txt", 520),
        ("op/ChaoSet_64/set_64_1_15.txt", 96),
    ],
)
def test_real_op_instances(benchmarks: Path, relative: str, optimum: float) -> None:
    """Real OP instances: feasible routes at the proved optimum (CP-SAT, see bench/)."""
    instance = read_instance(benchmarks / relative)
    assert instance.problem.n_routes == 1
    solution = solve_orienteering(instance.problem, params=SolverParams(max_iterations=300))
    check_solution(instance.problem, solution)
    assert solution.score == optimum


@pytest.mark.shared
def test_real_top_instance(benchmarks: Path) -> None:
    """A real TOP instance: feasible team routes close to the Chao 1996 reference score."""
    instance = read_instance(benchmarks / "top" / "Set_64_234" / "p6.3.k.txt")
    assert (instance.problem.n, instance.problem.n_routes) == (64, 3)
    reference = {
        line.split()[0]: float(line.split()[1])
        for line in (benchmarks / "top" / "chao_reference_scores.txt").read_text().splitlines()
        if line.strip()
    }["p6.3.k.txt"]
    solution = solve_orienteering(instance.problem, params=SolverParams(max_iterations=200))
    check_solution(instance.problem, solution)
    assert solution.score >= 0.97 * reference


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_op_solve_json(tmp_path: Path) -> None:
    """`op-solve --json` prints one object with score, length and 1-based routes."""
    path = tmp_path / "line.txt"
    path.write_text("n 4\nm 1\ntmax 10\n0 0 0\n1 0 2\n2 0 3\n3 0 0\n")
    result = CliRunner().invoke(app, ["op-solve", str(path), "--json", "--seed", "1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"score", "length", "routes"}
    assert payload["score"] == 5
    assert payload["length"] == pytest.approx(3.0)
    assert payload["routes"] == [[1, 2, 3, 4]]


def test_cli_op_solve_errors(tmp_path: Path) -> None:
    """`op-solve` on a missing or malformed file exits 2 with a one-line message."""
    runner = CliRunner()
    missing = runner.invoke(app, ["op-solve", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2
    assert "not found" in missing.output
    bad = tmp_path / "bad.txt"
    bad.write_text("10 1\n0 0 0\n1 1\n")
    malformed = runner.invoke(app, ["op-solve", str(bad)])
    assert malformed.exit_code == 2
    assert "line 3" in malformed.output


def test_warm_up_compiles_the_kernels_a_large_single_route_needs():
    """After warm_up every kernel Python calls has machine code, the large route's starts too."""
    from planner.routing import orienteering

    assert orienteering.warm_up() > 0
    for kernel in (orienteering._k_begin, orienteering._k_start, orienteering._k_steps):
        assert kernel.signatures, kernel.__name__
