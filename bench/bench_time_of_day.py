"""Forecasts for a target window: the calibrated time-of-day weighting against the window as given (issue 13).

Usage::

    .venv/bin/python bench/bench_time_of_day.py [--shared DIR] [--only sacramento|chicago-west|chicago-south]

``backtest(..., window=W)``: only test signals in the window count (``evaluate``'s rule), and the
planner weighs the training signals for it. Real data only:

1. Sacramento (minute timestamps), every evening 18:00-24:00, the daily splits 2006-01-08 …
   2006-01-15 of ``bench_baselines.py`` with a 7-day horizon (the test weeks overlap);
2. Chicago, aggravated assaults 2013-2017 of police districts 10, 11 and 15 (West Side) and of
   3, 4, 6 and 7 (South Side) (``../shared/data/incidents/chicago_aggravated_assaults_2010-2017.csv.gz``),
   Friday 18:00-24:00 (a WAS night: the window ``was-planner plan-all`` weighs for), monthly
   splits 2016-07-01 … 2017-06-01, the next 30 days as test period.

Per dataset, the mean PAI at 1, 5 and 10 % over the splits of the shipped planner (the spatial
choice on every fold signal, then the time-of-day weighting chosen on the fold signals in the
window: ``calibration.TIME_WEIGHTINGS``), of the same planner with the window as given
(``CalibrationParams(time_weightings=())``: ± 1 h, nothing else) and of every baseline (which
count every time of day alike); the planner's gap to the best baseline with a 95 % t interval,
and each split's choice.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import run_main
from _gaps import gap_line
from bench_baselines import SACRAMENTO_SPLITS, chicago, sacramento

from planner.hotspots.calibration import CalibrationParams
from planner.hotspots.evaluate import METHODS, BacktestParams, BacktestResult, backtest
from planner.hotspots.window import TimeWindow

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"
COVERAGES = ("1", "5", "10")
CHICAGO_SPLITS = [f"{y}-{m:02d}-01" for y, m in [(2016, m) for m in range(7, 13)] + [(2017, m) for m in range(1, 7)]]
EVENING = TimeWindow("18:00", "24:00")
FRIDAY_NIGHT = TimeWindow("18:00", "24:00", weekdays=(4,))
AS_GIVEN = CalibrationParams(time_weightings=())



RUNS = (
    ("sacramento", "Sacramento, every evening 18:00-24:00, horizon 7 days", sacramento, SACRAMENTO_SPLITS, 7.0,
     EVENING),
    ("chicago-west", "Chicago West Side (districts 10, 11, 15), Friday 18:00-24:00, next 30 days",
     lambda shared: chicago(shared, ("10", "11", "15")), CHICAGO_SPLITS, 30.0, FRIDAY_NIGHT),
    ("chicago-south", "Chicago South Side (districts 3, 4, 6, 7), Friday 18:00-24:00, next 30 days",
     lambda shared: chicago(shared, ("3", "4", "6", "7")), CHICAGO_SPLITS, 30.0, FRIDAY_NIGHT),
)


def mean_pai(results: list[BacktestResult], method: str) -> str:
    return " / ".join(f"{statistics.mean(r.methods[method][f'pai@{c}'] for r in results):.2f}" for c in COVERAGES)


def tables(label: str, splits: list[str], timed: list[BacktestResult], given: list[BacktestResult],
           seconds: float) -> list[str]:
    """The means, the gaps and the choices of one dataset, as Markdown lines."""
    lines = [f"\n#### {label}: {len(splits)} splits, {seconds:.1f} s per split (both planners)",
             "test signals in the window per split: " + ", ".join(str(r.n_test) for r in timed),
             "\n| method | PAI@1 / @5 / @10 (mean over the splits) |", "|---|---|",
             f"| planner (time of day calibrated) | {mean_pai(timed, 'planner')} |",
             f"| planner (window as given) | {mean_pai(given, 'planner')} |"]
    lines += [f"| {m} | {mean_pai(timed, m)} |" for m in METHODS if m != "planner"]
    for name, results in (("calibrated", timed), ("as given", given)):
        gaps = gap_line({c: {m: [r.methods[m][f"pai@{c}"] for r in results] for m in METHODS} for c in COVERAGES})
        lines.append(f"\nTime of day {name}. {gaps}")
    lines += ["\nChosen on the training folds:"]
    lines += [f"- {s}: {r.calibration.summary()}" for s, r in zip(splits, timed, strict=True)]
    return lines


def measure(shared: Path = SHARED, *, only: str | None = None) -> list[str]:
    """Every dataset of ``RUNS`` (or ``only`` one), as Markdown lines."""
    lines = []
    for key, label, load, splits, horizon, window in RUNS:
        if only not in (None, key):
            continue
        data = load(shared)
        t = time.perf_counter()
        timed = [backtest(data, split=s, params=BacktestParams(horizon_days=horizon, window=window)) for s in splits]
        given = [backtest(data, split=s, params=BacktestParams(horizon_days=horizon, window=window,
                                                               calibration=AS_GIVEN)) for s in splits]
        lines += tables(label, splits, timed, given, (time.perf_counter() - t) / len(splits))
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[key for key, *_ in RUNS])


if __name__ == "__main__":
    main()
