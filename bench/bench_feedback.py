"""Feedback-loop simulation (issue 8): do patrols keep themselves stuck on the places they patrol?

Usage::

    .venv/bin/python bench/bench_feedback.py [--runs 200] [--weeks 12] [--seed 0]

Model. A ward of 20 × 20 cells (100 m). Every week each cell has real incidents (Poisson): 8
cells are true hotspots (0.6 a week), the rest background (0.08 a week), and every cell has
minor disorder (0.5 a week) that residents rarely report. Residents report an incident with
probability 0.35 and disorder with 0.05, everywhere. A patrol in a cell finds 90 % of what the
residents did not report there, incidents and disorder alike: these signals are ``on_patrol``.

The loop. The map starts thin: two weeks of resident reports. Each week the K = 8 cells with the
highest score are patrolled; the score of a cell is the sum of its signals' weights from
``planner.hotspots.signal_weights`` (recency half-life 30 days, and ``patrol_weight`` for
patrol-found signals), exactly the weights the hotspots use. After 12 simulated weeks we count,
over the top-K cells:

- **stuck**: top-K cells that were patrolled the week before and are *not* true hotspots: places
  that stay on the map because they are looked at;
- **true**: top-K cells that are true hotspots (precision of the map).

Compared in the same run, on the same random draws (common random numbers): no weighting
(``patrol_weight = 1``), the default weighting (0.5), and leaving patrol-found signals out (0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.hotspots import HotspotParams, signal_weights

SIDE = 20
CELLS = SIDE * SIDE
HOT = 8
K = 8
RATE_HOT, RATE_BACKGROUND, RATE_DISORDER = 0.6, 0.08, 0.5
REPORT_INCIDENT, REPORT_DISORDER, PATROL_FINDS = 0.35, 0.05, 0.9
START = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday


def _week(rng: np.random.Generator, rates: np.ndarray, patrolled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One week's signals: (cell per signal, on_patrol per signal)."""
    incidents = rng.poisson(rates)
    disorder = rng.poisson(RATE_DISORDER, CELLS)
    reported_i = rng.binomial(incidents, REPORT_INCIDENT)
    reported_d = rng.binomial(disorder, REPORT_DISORDER)
    unseen = (incidents - reported_i) + (disorder - reported_d)
    found = np.where(patrolled, rng.binomial(unseen, PATROL_FINDS), 0)
    resident = reported_i + reported_d
    cells = np.concatenate([np.repeat(np.arange(CELLS), resident), np.repeat(np.arange(CELLS), found)])
    on_patrol = np.concatenate([np.zeros(resident.sum(), bool), np.ones(found.sum(), bool)])
    return cells, on_patrol


def _scores(cells: np.ndarray, on_patrol: np.ndarray, times: np.ndarray, now: pd.Timestamp,
            params: HotspotParams) -> np.ndarray:
    frame = pd.DataFrame({"occurred_from": pd.to_datetime(times, utc=True), "category": "other",
                          "source": "resident", "on_patrol": on_patrol})
    frame["occurred_to"] = frame["occurred_from"]
    weight = signal_weights(frame, params=params, now=now)["weight"].to_numpy()
    return np.bincount(cells, weights=weight, minlength=CELLS)


def _top(scores: np.ndarray, rng_order: np.ndarray) -> np.ndarray:
    order = np.lexsort((rng_order, -scores))  # ties broken by a fixed random order, not by cell number
    mask = np.zeros(CELLS, bool)
    mask[order[:K]] = True
    return mask


def simulate(seed: int, patrol_weight: float, weeks: int) -> dict[str, float]:
    """One run; the same ``seed`` gives the same world and draws for every ``patrol_weight``."""
    world = np.random.default_rng([seed, 0])
    rates = np.full(CELLS, RATE_BACKGROUND)
    true_hot = np.zeros(CELLS, bool)
    true_hot[world.choice(CELLS, HOT, replace=False)] = True
    rates[true_hot] = RATE_HOT
    tie = world.permutation(CELLS)
    params = HotspotParams(patrol_weight=patrol_weight)
    cells_all, patrol_all, times_all = [], [], []
    nobody = np.zeros(CELLS, bool)
    for week in range(2):  # the thin start: two weeks of resident reports only
        cells, on_patrol = _week(np.random.default_rng([seed, 1, week]), rates, nobody)
        cells_all.append(cells)
        patrol_all.append(on_patrol)
        times_all.append(np.full(len(cells), (START + pd.Timedelta(weeks=week)).value))
    stuck, precision = [], []
    patrolled = nobody
    for week in range(2, 2 + weeks):
        now = START + pd.Timedelta(weeks=week)
        cells, on_patrol = np.concatenate(cells_all), np.concatenate(patrol_all)
        top = _top(_scores(cells, on_patrol, np.concatenate(times_all), now, params), tie)
        stuck.append(float((top & patrolled & ~true_hot).sum()) / K)
        precision.append(float((top & true_hot).sum()) / K)
        patrolled = top
        # The draws of week w depend only on (seed, w); patrols change what is found, not the world.
        rng = np.random.default_rng([seed, 1, week])
        cells, on_patrol = _week(rng, rates, patrolled)
        cells_all.append(cells)
        patrol_all.append(on_patrol)
        times_all.append(np.full(len(cells), now.value))
    return {"stuck_last": stuck[-1], "stuck_mean": statistics.fmean(stuck[1:]), "true_last": precision[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    variants = [("no weighting (patrol_weight 1)", 1.0), ("default weighting (patrol_weight 0.5)", 0.5),
                ("patrol signals left out (patrol_weight 0)", 0.0)]
    print(f"{args.runs} runs × {args.weeks} weeks, {CELLS} cells, {HOT} true hotspots, top {K} patrolled")
    print(f"{'variant':<44}{'stuck, week ' + str(args.weeks):>18}{'stuck, mean':>14}{'true hotspots':>16}")
    for label, weight in variants:
        runs = [simulate(args.seed + run, weight, args.weeks) for run in range(args.runs)]
        last = [r["stuck_last"] for r in runs]
        mean = [r["stuck_mean"] for r in runs]
        true = [r["true_last"] for r in runs]
        sem = statistics.stdev(last) / len(last) ** 0.5
        print(f"{label:<44}{statistics.fmean(last):>12.1%} ±{sem:>4.1%}{statistics.fmean(mean):>14.1%}"
              f"{statistics.fmean(true):>16.1%}")


if __name__ == "__main__":
    main()
