"""The planner's gap to the best baseline, with how far the splits let one trust it (issue 13)."""

from __future__ import annotations

import math
import statistics

from scipy import stats


def gap_to_best(pai: dict[str, list[float]], *, planner: str = "planner") -> tuple[str, float, float]:
    """(best baseline, mean of planner − it over the splits, half-width of a 95 % t interval).

    ``pai`` holds one PAI per split for every method. The best baseline is the one with the
    highest mean; the interval treats the splits as independent, which overlapping test periods
    are not (it is then too narrow).
    """
    baselines = [name for name in pai if name != planner]
    best = max(baselines, key=lambda name: statistics.mean(pai[name]))
    diff = [a - b for a, b in zip(pai[planner], pai[best], strict=True)]
    half = (stats.t.ppf(0.975, len(diff) - 1) * statistics.stdev(diff) / math.sqrt(len(diff))
            if len(diff) > 1 else math.inf)
    return best, statistics.mean(diff), float(half)


def gap_line(pai_by_coverage: dict[str, dict[str, list[float]]]) -> str:
    """``@1: −0.04 ± 0.64 (naive_all); …``: the gap per coverage, for the tables' footers."""
    parts = []
    for coverage, pai in pai_by_coverage.items():
        best, mean, half = gap_to_best(pai)
        parts.append(f"@{coverage}: {mean:+.2f} ± {half:.2f} ({best})")
    return ("Planner − best baseline, mean over the splits ± half-width of a 95 % t interval over them: "
            + "; ".join(parts))
