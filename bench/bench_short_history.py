"""How short a history can the planner calibrate on? Calibrated vs the literature prior (issue 13).

Usage::

    .venv/bin/python bench/bench_short_history.py [--shared DIR] [--seeds 3]

Real data only: Sacramento (minute timestamps), splits 2006-01-11 and 2006-01-15, 7-day horizon,
the same test week for every row. Rows: the training signals cut to a random subset of 100,
200, 400 or 800 (``--seeds`` subsets each, mean shown), and to the last 3, 5 or 7 days only.
Each row backtests the planner twice on the same cells and folds: calibrated with no floor at
all (``min_signals=0, min_history_days=0``) and forced onto the prior (the literature
defaults), and prints calibrated − prior and calibrated − best baseline in PAI@1/5/10. What
``CalibrationParams.min_signals`` and ``min_history_days`` are set from.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_baselines import SHARED, sacramento

from planner.hotspots.calibration import CalibrationParams
from planner.hotspots.evaluate import METHODS, BacktestParams, BacktestResult, backtest

COVERAGES = ("1", "5", "10")
SPLITS = ("2006-01-11", "2006-01-15")
SIZES = (100, 200, 400, 800)
DAYS = (3, 5, 7)
CALIBRATED = BacktestParams(horizon_days=7, calibration=CalibrationParams(min_history_days=0, min_signals=0))
PRIOR = BacktestParams(horizon_days=7, calibration=CalibrationParams(min_signals=10**9))


def gaps(frame: pd.DataFrame, split: str) -> tuple[list[float], BacktestResult]:
    """[calibrated − prior per coverage] + [calibrated − best baseline per coverage], and the calibrated result."""
    ours = backtest(frame, split=split, params=CALIBRATED)
    prior = backtest(frame, split=split, params=PRIOR)
    pai = [f"pai@{c}" for c in COVERAGES]
    return ([ours.methods["planner"][k] - prior.methods["planner"][k] for k in pai]
            + [ours.methods["planner"][k] - max(ours.methods[m][k] for m in METHODS[1:]) for k in pai]), ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    data = sacramento(args.shared)
    start = pd.to_datetime(data["occurred_from"], utc=True)
    print("| split | training signals | calibrated − prior PAI@1/5/10 | calibrated − best baseline PAI@1/5/10 |")
    print("|---|---|---|---|")
    for split in SPLITS:
        moment = pd.Timestamp(split, tz="UTC")
        train, test = data[start < moment], data[start >= moment]
        for n in SIZES:
            rows = [gaps(pd.concat([train.sample(n=min(n, len(train)), random_state=seed), test], ignore_index=True),
                         split)[0] for seed in range(args.seeds)]
            m = np.mean(rows, axis=0)
            print(f"| {split} | random {n} (mean of {args.seeds}) | {m[0]:+.2f} / {m[1]:+.2f} / {m[2]:+.2f} | "
                  f"{m[3]:+.2f} / {m[4]:+.2f} / {m[5]:+.2f} |", flush=True)
        for days in DAYS:
            recent = train[start[train.index] >= moment - pd.Timedelta(days=days)]
            m, ours = gaps(pd.concat([recent, test], ignore_index=True), split)
            print(f"| {split} | last {days} days ({ours.n_train}; {ours.calibration.chosen.label()}) | "
                  f"{m[0]:+.2f} / {m[1]:+.2f} / {m[2]:+.2f} | {m[3]:+.2f} / {m[4]:+.2f} / {m[5]:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
