"""Does the effect review keep its promises on real registered-crime panels? (issue 12 §3)

Usage::

    .venv/bin/python bench/bench_effect.py [--runs 1000] [--mde-runs 200] [--months 6] [--seed 0] [--panel FILE ...]

For every panel (default: the shared London boroughs and Amsterdam areas panels) and every
subset size (all areas, 30 and 9 where the panel has more), each run draws a random set of areas,
a random window of ``months`` + ``months`` (so a random split), and a random set of 2 … n/2
treated areas. Nothing happened at that split, so any claimed effect is a false positive. The
same draws are then given an injected change: the treated areas' counts after the split thinned
binomially by 10 % and 25 % (power), and by the design's own minimum detectable effect (the
promise "80 % power at the MDE").

Three tests at the 5 % level, on the same draws and the same re-assignments (common random
numbers):

- **old 2×2**: the effect review before issue 12: the pooled 2×2 Poisson DiD of the group sums
  with the usual log-rate-ratio interval;
- **new**: ``planner.review.effect.randomization_p``: two-way fixed-effects Poisson with ward precision
  weights and the wards' own pre-split trends (shrunk), randomization inference (exact
  enumeration up to 5,000 assignments, else 999 random);
- **reference**: a permutation test on ward-level log-count differences: the mean of
  log(after / before) in the treated areas minus that in the others, with the same assignments.

Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.review.effect import (
    EffectParams,
    _p_value,
    assignments,
    minimum_detectable_effect,
    panel_from_outcomes,
    randomization_p,
)
from planner.signals.outcomes import read_outcomes

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"
PANELS = (
    SHARED / "panels" / "london_boroughs_2010-04_2021-11" / "panel_borough_month_total.csv",
    SHARED / "panels" / "amsterdam_2021_monthly" / "police_dataset.csv",
)
EFFECTS = (0.0, -0.10, -0.25)


def old_two_by_two(before: np.ndarray, after: np.ndarray, treated: np.ndarray) -> bool:
    """Today's (pre-issue-12) test: pooled Poisson interval of the 2×2 rate ratio excludes 1."""
    tb, ta, cb, ca = before[treated].sum(), after[treated].sum(), before[~treated].sum(), after[~treated].sum()
    k = 0.5 if min(tb, ta, cb, ca) == 0 else 0.0
    log_rr = math.log((ta + k) / (tb + k)) - math.log((ca + k) / (cb + k))
    se = math.sqrt(sum(1 / (x + k) for x in (tb, ta, cb, ca)))
    return abs(log_rr) > 1.96 * se


def reference_p(before: np.ndarray, after: np.ndarray, rows: np.ndarray, treated: np.ndarray) -> float:
    """Permutation test on ward-level log-count differences (the simple reference)."""
    change = np.log((after + 0.5) / (before + 0.5))
    k = treated.sum()

    def statistic(assign: np.ndarray) -> np.ndarray:
        return (assign @ change) / k - ((~assign) @ change) / (len(change) - k)

    return _p_value(statistic(rows), statistic(treated[None, :])[0])


def run(counts: np.ndarray, n_areas: int, *, runs: int, mde_runs: int, months: int, rng: np.random.Generator,
        params: EffectParams) -> dict:
    claims = {(method, effect): 0 for method in ("old", "new", "reference") for effect in (*EFFECTS, "mde")}
    mdes = []
    for i in range(runs):
        areas = rng.choice(len(counts), n_areas, replace=False)
        first = int(rng.integers(0, counts.shape[1] - 2 * months + 1))
        window = counts[areas][:, first:first + 2 * months]
        k = int(rng.integers(2, n_areas // 2 + 1))
        treated = np.zeros(n_areas, dtype=bool)
        treated[rng.choice(n_areas, k, replace=False)] = True
        if i < mde_runs:  # the MDE is a simulation of its own: measured on the first runs only
            rows, exact = assignments(n_areas, k, observed=treated, params=params, rng=rng)
            mdes.append(minimum_detectable_effect(window, months, rows, exact=exact, params=params))
        for effect in (*EFFECTS, "mde") if i < mde_runs else EFFECTS:
            keep = 1 - mdes[-1] if effect == "mde" else 1 + effect
            changed = window.copy()
            if keep < 1:  # binomial thinning of the treated areas' counts after the split
                changed[treated, months:] = rng.binomial(window[treated, months:].astype(int), keep)
            before, after = changed[:, :months].sum(axis=1), changed[:, months:].sum(axis=1)
            rows, _ = assignments(n_areas, k, observed=treated, params=params, rng=rng)
            claims["old", effect] += old_two_by_two(before, after, treated)
            claims["new", effect] += randomization_p(changed, treated, months, rows=rows) <= 0.05
            claims["reference", effect] += reference_p(before, after, rows, treated) <= 0.05
    rates = {(m, e): value / (min(runs, mde_runs) if e == "mde" else runs)
             for (m, e), value in claims.items() if e != "mde" or mde_runs}
    return {"rates": rates, "mde": float(np.median(mdes)) if mdes else float("nan")}


def load(path: Path) -> tuple[str, np.ndarray]:
    panel = panel_from_outcomes(read_outcomes(path).rows).window()
    return path.parent.name, panel.counts.to_numpy(dtype=float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--mde-runs", type=int, default=200, help="Runs that also check the MDE (slower).")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--panel", type=Path, action="append", help="A panel file (long/politie/police-uk).")
    args = parser.parse_args()
    params = EffectParams(random_state=args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"runs per row: {args.runs} (MDE: the first {args.mde_runs}); window {args.months} + {args.months} "
          "periods; level 5 %\n")
    print("| panel | areas | false positives old 2×2 / new / reference | power −10 % old / new / reference "
          "| power −25 % old / new / reference | median MDE | power at the MDE (new) | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.panel or PANELS:
        name, counts = load(path)
        sizes = [len(counts)] + [n for n in (30, 9) if n < len(counts)]
        for n in sizes:
            started = time.perf_counter()
            result = run(counts, n, runs=args.runs, mde_runs=args.mde_runs, months=args.months, rng=rng,
                         params=params)
            rates = result["rates"]
            cells = [" / ".join(f"{rates[m, effect]:.1%}" for m in ("old", "new", "reference")) for effect in EFFECTS]
            print(f"| {name} | {n} of {len(counts)} | {' | '.join(cells)} | "
                  f"{result['mde']:.1%} | {rates.get(('new', 'mde'), math.nan):.1%} | "
                  f"{time.perf_counter() - started:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
