"""Tried, not shipped (issue 13): a mixture of per-category calibrated surfaces.

Usage::

    .venv/bin/python bench/bench_per_category.py london|sacramento [--min-signals N]

Each crime type (the police.uk ``Crime type`` on the City of London, the first two digits of
the NCIC code on Sacramento) with at least ``--min-signals`` training signals gets its own
``calibrate_surface`` choice on the same rolling folds restricted to its signals; smaller types
share one group. The planner's surface is then the sum of the groups' normalised surfaces, each
weighted by its share of the training signals, ordered on ties like the shipped surface. The
baselines are those of ``bench_baselines.py``, on the same splits.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_baselines as bb

import planner.hotspots.evaluate as ev
from planner.hotspots.calibration import FoldScoring, SignalUnits, _share, calibrate_surface

shipped = ev._calibrated


def groups_of(types: np.ndarray, least: int) -> list[np.ndarray]:
    """Masks of the types with ≥ ``least`` signals, and of the rest together (merged into the
    largest when it is smaller than that)."""
    names, counts = np.unique(types, return_counts=True)
    big = [n for n, c in zip(names, counts, strict=True) if c >= least]
    masks = [types == n for n in big]
    rest = ~np.isin(types, big)
    if rest.any():
        if rest.sum() >= least or not masks:
            masks.append(rest)
        else:
            masks[0] = masks[0] | rest
    return masks


def mixture(least: int):
    def calibrated(train, study, now, folds, params, hotspot, time_targets=None, densities=None):
        surface, calibration = shipped(train, study, now, folds, params, hotspot, time_targets, densities)
        masks = groups_of(train["type"].to_numpy(), least)
        if len(masks) < 2:
            return surface, calibration
        out = np.zeros_like(surface)
        for m in masks:
            def widen(sub, m=m):
                full = np.zeros(len(m), dtype=bool)
                full[m] = sub
                return full
            sub_folds = [(fit[m], test[m]) for fit, test in folds if fit[m].any() and test[m].any()]
            part, _ = calibrate_surface(
                train[m].reset_index(drop=True),
                SignalUnits(study.tx[m], study.ty[m], study.train_cell[m], study.cx, study.cy), now=now,
                scoring=FoldScoring(sub_folds, lambda test: study.per_cell(widen(test)),
                                    lambda s, h: ev.hit_rates(s, h, params.coverages), params.coverages),
                tiebreak=lambda fit: densities(ev.TIE_BANDWIDTH_M, widen(fit)),
                hotspot=hotspot, params=params.calibration)
            out += m.mean() * _share(part)
        return out, calibration
    return calibrated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=("london", "sacramento"))
    parser.add_argument("--min-signals", type=int, default=200)
    args = parser.parse_args()
    incidents = bb.SHARED / "incidents"
    if args.dataset == "london":
        data, splits, horizon = bb.london(bb.SHARED), bb.LONDON_SPLITS, 28
        types = pd.read_csv(incidents / "city_of_london_street_2016-01_2017-06.csv")["Crime type"]
    else:
        data, splits, horizon = bb.sacramento(bb.SHARED), bb.SACRAMENTO_SPLITS, 7
        codes = pd.read_csv(incidents / "sacramento_2006-01-01_to_2006-01-21.csv")["ucr_ncic_code"]
        types = codes.astype(str).str[:2]
    data["type"] = types.to_numpy()[data["row_number"].to_numpy() - 1]
    ev._calibrated = mixture(args.min_signals)
    results, seconds = bb.run(data, splits, horizon)
    for k in ("pai@1", "pai@5", "pai@10"):
        planner = statistics.mean(r.methods["planner"][k] for r in results)
        best, name = max((statistics.mean(r.methods[m][k] for r in results), m) for m in ev.METHODS if m != "planner")
        print(f"{k}: planner (per-category mixture) {planner:.2f}, best baseline {best:.2f} ({name})")
    print(f"{seconds:.1f} s per split")


if __name__ == "__main__":
    main()
