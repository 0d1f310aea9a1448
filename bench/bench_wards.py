"""Ward-sized real histories: the planner against every baseline in six Chicago police districts (issue 13).

Usage::

    .venv/bin/python bench/bench_wards.py [--shared DIR] [--only 1|8|14|17|20|25] [--max-folds N]

A WAS ward sees tens of signals a month, not the thousands of a whole city, and that is where a
choice among 61 candidates on a few folds is noisiest. The aggravated assaults of Chicago's
police districts 1, 8, 14, 17, 20 and 25 since 2014 (``../shared/data/incidents/
chicago_aggravated_assaults_2010-2017.csv.gz``; picked to span about 150 to 1,100 signals a year
before any run) are such histories: per district, monthly splits 2016-07-01 … 2017-06-01 with the
next 30 days as test period, training hull + 500 m in 100 m cells, everything else as
``bench_baselines.py``.

Prints per district the mean PAI@1 / @5 / @10 of the planner and of every baseline, the planner's
gap to the best baseline (± a 95 % t interval over the 12 splits), the folds and fold test signals
its choices were made on, and at the end the planner ÷ the best baseline averaged over the
districts. ``--max-folds N`` sets ``evaluate.MAX_FOLDS`` (0: exactly the asked folds, as before
folds were added while they hold few test signals).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _gaps import gap_line
from bench_baselines import COVERAGES, SHARED, chicago, means

from planner.hotspots import evaluate
from planner.hotspots.evaluate import METHODS, BacktestParams, backtest

DISTRICTS = ("1", "8", "14", "17", "20", "25")
SPLITS = [f"{y}-{m:02d}-01" for y, m in [(2016, m) for m in range(7, 13)] + [(2017, m) for m in range(1, 7)]]


def district(shared: Path, name: str) -> tuple[list[str], list[float]]:
    """The Markdown lines of one district and its planner ÷ best baseline per coverage."""
    data = chicago(shared, (name,), since="2014-01-01")
    t = time.perf_counter()
    results = [backtest(data, split=s, params=BacktestParams(horizon_days=30.0)) for s in SPLITS]
    seconds = (time.perf_counter() - t) / len(SPLITS)
    mean = {c: means(results, f"pai@{c}") for c in COVERAGES}
    ratios = [mean[c]["planner"] / max(v for m, v in mean[c].items() if m != "planner") for c in COVERAGES]
    lines = [f"\n#### District {name}: {len(data)} signals since 2014, {seconds:.1f} s per split",
             "test signals per split: " + ", ".join(str(r.n_test) for r in results),
             "planner's folds / fold test signals per split: "
             + ", ".join(f"{r.calibration.n_folds}/{r.calibration.fold_test_signals}" for r in results),
             "\n| method | PAI@1 | PAI@5 | PAI@10 |", "|---|---:|---:|---:|"]
    lines += [f"| {m} | " + " | ".join(f"{mean[c][m]:.2f}" for c in COVERAGES) + " |" for m in METHODS]
    lines.append("\n" + gap_line({c: {m: [r.methods[m][f"pai@{c}"] for r in results] for m in METHODS}
                                  for c in COVERAGES}))
    return lines, ratios


def measure(shared: Path, *, only: str | None = None) -> list[str]:
    lines, ratios = [], []
    for name in DISTRICTS:
        if only in (None, name):
            more, ratio = district(shared, name)
            lines += more
            ratios.append(ratio)
    lines.append("\nPlanner ÷ best baseline, mean over the districts @1 / @5 / @10: "
                 + " / ".join(f"{statistics.mean(r[i] for r in ratios):.3f}" for i in range(len(COVERAGES)))
                 + "; districts where it is ≥ 1: "
                 + " / ".join(str(sum(r[i] >= 1 for r in ratios)) for i in range(len(COVERAGES))))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--only", choices=DISTRICTS)
    parser.add_argument("--max-folds", type=int, default=None,
                        help="evaluate.MAX_FOLDS for this run (0: only the asked folds)")
    args = parser.parse_args()
    if args.max_folds is not None:
        evaluate.MAX_FOLDS = args.max_folds
    print(f"machine: {os.cpu_count()} cores; folds up to {evaluate.MAX_FOLDS} while they hold fewer than "
          f"{evaluate.ENOUGH_FOLD_SIGNALS} test signals")
    print("\n".join(measure(args.shared, only=args.only)))


if __name__ == "__main__":
    main()
