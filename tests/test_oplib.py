"""Tests of the OPLib reader (``planner.routing.oplib``) and ``was-planner op-solve`` on ``.oplib`` files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner._errors import DataNotFoundError, InputError
from planner.cli import app
from planner.routing.oplib import read_oplib
from planner.routing.orienteering import SolverParams, solve_orienteering

HEADER = (
    "NAME: tiny\nTYPE: OP\nCOMMENT: four corners: a test\nDIMENSION: 4\nCOST_LIMIT : 12\n"
    "EDGE_WEIGHT_TYPE: EUC_2D\n"
)
COORDS = "NODE_COORD_SECTION\n1 0 0\n2 3 0\n3 3 4.2\n4 0 4\n"
SCORES = "NODE_SCORE_SECTION\n1 2\n2 5\n3 1\n4 4\n"
DEPOT = "DEPOT_SECTION\n1\n-1\nEOF\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.oplib"
    path.write_text(text)
    return path


def test_reads_a_closed_tour_with_rounded_distances(tmp_path: Path) -> None:
    """Distances are TSPLIB-rounded, the tour is closed at the depot and its score is kept aside."""
    instance = read_oplib(write(tmp_path, HEADER + COORDS + SCORES + DEPOT))
    problem = instance.problem
    assert (instance.name, problem.n, problem.start, problem.end, problem.budget) == ("tiny", 4, 0, 0, 12.0)
    assert problem.cost[1, 2] == 4.0  # 4.2 rounds down
    assert problem.cost[0, 2] == 5.0  # 5.16 rounds down
    assert problem.cost[2, 3] == 3.0
    assert instance.depot_score == 2.0
    assert list(problem.scores) == [2, 5, 1, 4]


def test_nodes_may_come_in_any_order(tmp_path: Path) -> None:
    """Section rows are matched by node number, not by position."""
    coords = "NODE_COORD_SECTION\n3 3 4.2\n1 0 0\n4 0 4\n2 3 0\n"
    instance = read_oplib(write(tmp_path, HEADER + coords + SCORES + DEPOT))
    assert instance.coords[0].tolist() == [0, 0] and instance.coords[2].tolist() == [3, 4.2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER.replace("COST_LIMIT : 12\n", "") + COORDS + SCORES + DEPOT, "COST_LIMIT is missing: add"),
        (HEADER.replace("EUC_2D", "GEO") + COORDS + SCORES + DEPOT, r"line 6: EDGE_WEIGHT_TYPE GEO: only"),
        (HEADER.replace("DIMENSION: 4", "DIMENSION: four") + COORDS + SCORES + DEPOT, "line 4: DIMENSION must be"),
        (HEADER.replace("TYPE: OP", "TYPE: TSP") + COORDS + SCORES + DEPOT, "line 2: TYPE TSP is not"),
        (HEADER + COORDS.replace("2 3 0", "2 3") + SCORES + DEPOT, "line 9: NODE_COORD_SECTION expects '<node> <x>"),
        (HEADER + COORDS.replace("4 0 4", "5 0 4") + SCORES + DEPOT, "line 11: NODE_COORD_SECTION: node 5 is not"),
        (HEADER + COORDS.replace("4 0 4", "3 0 4") + SCORES + DEPOT, "line 11: NODE_COORD_SECTION: node 3 appears"),
        (HEADER + COORDS + SCORES.replace("4 4\n", "") + DEPOT, "NODE_SCORE_SECTION has 3 of the 4 nodes"),
        (HEADER + COORDS + SCORES.replace("3 1", "3 -1") + DEPOT, "scores must be finite and >= 0"),
        (HEADER + COORDS + SCORES, "DEPOT_SECTION is missing"),
        (HEADER + COORDS + SCORES + "DEPOT_SECTION\n1\n2\n-1\n", "lists 2 depots"),
        (HEADER + COORDS + "COST_LIMIT: 3\n" + SCORES + DEPOT, "line 12: header line 'COST_LIMIT: 3' after"),
        ("1 0 0\n" + HEADER, "line 1: numbers '1 0 0' before any section"),
    ],
)
def test_rejects_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    """A malformed file raises one InputError naming the file, the line or field, and the fix."""
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as info:
        read_oplib(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file raises DataNotFoundError."""
    with pytest.raises(DataNotFoundError, match="not found"):
        read_oplib(tmp_path / "nope.oplib")


def test_cli_counts_the_depot_score(tmp_path: Path) -> None:
    """`op-solve --json` on an .oplib file keeps today's shape and adds the depot's score."""
    path = write(tmp_path, HEADER + COORDS + SCORES + DEPOT)
    result = CliRunner().invoke(app, ["op-solve", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"score", "length", "routes"}
    # Length 12 allows depot, 2, 4 and back (3 + 5 + 4) but not all four (14).
    assert payload["score"] == 2 + 5 + 4
    assert payload["length"] <= 12
    assert payload["routes"][0][0] == payload["routes"][0][-1] == 1


def test_cli_bad_file_is_one_line(tmp_path: Path) -> None:
    """`op-solve` on a malformed .oplib file exits 2 with a one-line message, no traceback."""
    path = write(tmp_path, HEADER.replace("EUC_2D", "EXPLICIT") + COORDS + SCORES + DEPOT)
    result = CliRunner().invoke(app, ["op-solve", str(path)])
    assert result.exit_code == 2
    assert "EDGE_WEIGHT_TYPE EXPLICIT" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.shared
def test_small_instance_reaches_its_optimum(shared_data: Path) -> None:
    """A real 52-point OPLib instance: the solver reaches the proved optimum."""
    folder = shared_data / "benchmarks" / "oplib"
    with (folder / "best_known.csv").open() as table:
        best = {row["instance"]: row for row in csv.DictReader(table)}
    instance = read_oplib(folder / "berlin52-gen2-50.oplib")
    assert instance.problem.n == int(best["berlin52-gen2-50"]["n"])
    assert instance.problem.budget == float(best["berlin52-gen2-50"]["cost_limit"])
    assert instance.depot_score == float(best["berlin52-gen2-50"]["depot_score"])
    solution = solve_orienteering(instance.problem, params=SolverParams(max_iterations=300))
    assert solution.costs[0] <= instance.problem.budget
    assert solution.score + instance.depot_score == float(best["berlin52-gen2-50"]["best_known"])
