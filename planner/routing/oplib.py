"""OPLib instances: the orienteering benchmark library of Kobeaga, Merino & Lozano in TSPLIB form.

An ``.oplib`` file is a TSPLIB file with two additions: ``COST_LIMIT`` (the length budget of the
tour) and a ``NODE_SCORE_SECTION``.  The tour is closed: it leaves the depot of the
``DEPOT_SECTION`` and returns to it.  With ``EDGE_WEIGHT_TYPE: EUC_2D`` each edge is the
Euclidean distance rounded to the nearest integer as TSPLIB does (``int(d + 0.5)``), and the
library's scores count the depot's own score, which :attr:`OplibInstance.depot_score` holds
(the solver treats a depot as free, so callers add it to the solution's score)::

    NAME: berlin52
    TYPE: OP
    DIMENSION: 52
    COST_LIMIT : 3771
    EDGE_WEIGHT_TYPE: EUC_2D
    NODE_COORD_SECTION
    1 565.0 575.0
    ...
    NODE_SCORE_SECTION
    1 0
    ...
    DEPOT_SECTION
    1
    -1
    EOF
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import InputError
from .orienteering import OrienteeringProblem, instance_text

__all__ = ["OplibInstance", "read_oplib"]

_SECTIONS = {
    "NODE_COORD_SECTION": (3, "<node> <x> <y>"),
    "NODE_SCORE_SECTION": (2, "<node> <score>"),
    "DEPOT_SECTION": (1, "<node>, ended by -1"),
}
_REQUIRED = ("DIMENSION", "COST_LIMIT")


@dataclass(frozen=True, eq=False)
class OplibInstance:
    """An OPLib file read by :func:`read_oplib`.

    Attributes
    ----------
    name
        The file's ``NAME`` (the file name without extension when it has none).
    coords
        ``(n, 2)`` node coordinates; node ``i`` is node ``i + 1`` of the file.
    depot_score
        The depot's score, which OPLib's optima include and the solver leaves out.
    problem
        A single closed tour from the depot with TSPLIB-rounded distances and the cost limit
        as budget.
    """

    name: str
    coords: np.ndarray
    depot_score: float
    problem: OrienteeringProblem


def _fail(path: Path, lineno: int | None, message: str) -> InputError:
    where = f"{path}: line {lineno}: " if lineno is not None else f"{path}: "
    return InputError(where + message)


def _numbers(path: Path, lineno: int, parts: list[str], section: str) -> list[float]:
    count, form = _SECTIONS[section]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise _fail(path, lineno, f"{section} expects '{form}', got {' '.join(parts)!r}")
    return values


def _node(path: Path, lineno: int, value: float, n: int, section: str) -> int:
    if value != int(value) or not 1 <= value <= n:
        raise _fail(path, lineno, f"{section}: node {value:g} is not a node number 1..{n} (DIMENSION {n})")
    return int(value) - 1


def _header_value(path: Path, key: str, entry: tuple[int, str], minimum: float) -> float:
    lineno, value = entry
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < minimum or (key == "DIMENSION" and number != int(number)):
        kind = "an integer" if key == "DIMENSION" else "a number"
        raise _fail(path, lineno, f"{key} must be {kind} >= {minimum:g}, got {value!r}")
    return number


def _parse(path: Path, text: str) -> tuple[dict[str, tuple[int, str]], dict[str, list[tuple[int, list[float]]]]]:
    """The header's ``KEY: value`` pairs (with their line) and each section's numeric rows."""
    header: dict[str, tuple[int, str]] = {}
    rows: dict[str, list[tuple[int, list[float]]]] = {}
    section = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(":", " : ", 1).split() if ":" in line else line.split()
        if not parts:
            continue
        word = parts[0].upper()
        if word == "EOF":
            break
        if word in _SECTIONS:
            if word in rows:
                raise _fail(path, lineno, f"{word} appears twice; keep one")
            section = word
            rows[word] = []
            continue
        if word[0].isalpha():
            if section is not None:
                raise _fail(path, lineno, f"header line {line.strip()!r} after {section}: move it above the sections")
            if len(parts) < 2 or parts[1] != ":":
                raise _fail(path, lineno, f"expected 'KEY : value', got {line.strip()!r}")
            header[word] = (lineno, " ".join(parts[2:]))
            continue
        if section is None:
            raise _fail(path, lineno, f"numbers {line.strip()!r} before any section: add NODE_COORD_SECTION above them")
        rows[section].append((lineno, _numbers(path, lineno, parts, section)))
    return header, rows


def read_oplib(path: str | Path) -> OplibInstance:
    """Read an OPLib ``.oplib`` file (``EDGE_WEIGHT_TYPE: EUC_2D``).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    OplibInstance
        The closed-tour instance, its coordinates and the depot's score.

    Raises
    ------
    DataNotFoundError
        When the file does not exist.
    InputError
        When the file is malformed or uses another edge weight type; the message names the
        line or the field and what would fix it.
    """
    path = Path(path)
    text = instance_text(path)
    header, rows = _parse(path, text)
    for key in _REQUIRED:
        if key not in header:
            raise _fail(path, None, f"{key} is missing: add a '{key} : <number>' line to the header")
    kind = header.get("TYPE", (0, "OP"))
    if kind[1].upper() != "OP":
        raise _fail(path, kind[0], f"TYPE {kind[1]} is not an orienteering instance: expected 'TYPE : OP'")
    weights = header.get("EDGE_WEIGHT_TYPE", (None, ""))
    if weights[1].upper() != "EUC_2D":
        found = f"EDGE_WEIGHT_TYPE {weights[1]}" if weights[1] else "no EDGE_WEIGHT_TYPE"
        raise _fail(path, weights[0], f"{found}: only 'EDGE_WEIGHT_TYPE : EUC_2D' (coordinates) is read")
    n = int(_header_value(path, "DIMENSION", header["DIMENSION"], 1))
    budget = _header_value(path, "COST_LIMIT", header["COST_LIMIT"], 0)
    coords = _by_node(path, rows, "NODE_COORD_SECTION", n)
    scores = _by_node(path, rows, "NODE_SCORE_SECTION", n)[:, 0]
    depot = _depot(path, rows, n)
    diff = coords[:, None, :] - coords[None, :, :]
    cost = np.floor(np.hypot(diff[..., 0], diff[..., 1]) + 0.5)
    try:
        problem = OrienteeringProblem(cost=cost, scores=scores, budget=budget, start=depot, end=depot)
    except InputError as error:
        raise _fail(path, None, str(error)) from None
    coords.setflags(write=False)
    name = header.get("NAME", (0, ""))[1] or path.stem
    return OplibInstance(name=name, coords=coords, depot_score=float(scores[depot]), problem=problem)


def _by_node(path: Path, rows: dict[str, list[tuple[int, list[float]]]], section: str, n: int) -> np.ndarray:
    """The section's values per node (one row each, every node once)."""
    if section not in rows:
        raise _fail(path, None, f"{section} is missing: add it with one '{_SECTIONS[section][1]}' line per node")
    values = np.full((n, _SECTIONS[section][0] - 1), np.nan)
    seen = np.zeros(n, dtype=bool)
    for lineno, (node, *rest) in rows[section]:
        i = _node(path, lineno, node, n, section)
        if seen[i]:
            raise _fail(path, lineno, f"{section}: node {i + 1} appears twice; keep one line per node")
        seen[i] = True
        values[i] = rest
    if not seen.all():
        missing = int(np.flatnonzero(~seen)[0]) + 1
        raise _fail(path, None, f"{section} has {int(seen.sum())} of the {n} nodes (DIMENSION): "
                                f"node {missing} is missing")
    return values


def _depot(path: Path, rows: dict[str, list[tuple[int, list[float]]]], n: int) -> int:
    """The one depot of the ``DEPOT_SECTION`` (its list ends with -1)."""
    section = "DEPOT_SECTION"
    if section not in rows:
        raise _fail(path, None, f"{section} is missing: add 'DEPOT_SECTION', the depot's node number and '-1'")
    depots = []
    for lineno, (value,) in rows[section]:
        if value == -1:
            break
        depots.append(_node(path, lineno, value, n, section))
    if len(depots) != 1:
        raise _fail(path, rows[section][0][0] if rows[section] else None,
                    f"{section} lists {len(depots)} depots: an orienteering tour has exactly one, then -1")
    return depots[0]
