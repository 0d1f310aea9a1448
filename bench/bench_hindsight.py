"""How far could any surface of the calibration's family go? Each candidate scored on its own test period (issue 13).

Usage::

    .venv/bin/python bench/bench_hindsight.py [--shared DIR] [--only sacramento|london|demo|chicago]

The calibrated planner picks one of the grid's candidates (``planner.hotspots.calibration``) on
rolling folds of the training period. Here every candidate is instead scored on the very test
period it forecasts, on the splits of ``bench_baselines.py`` (same cells, ties and weights):
the best fixed candidate over all splits, in hindsight, is a ceiling no choice made on the
training folds can pass on average. A look-ahead on purpose, so never a method, only a bound:
if the ceiling is 1.03 × the best baseline, no choice within this family reaches 1.10 ×.

The same for the hot streets per km of street (``planner.hotspots.street_calibration``) on the
networks and splits of ``bench_hot_streets.py``, with the cell calibration's weights each split's
backtest chose.

Prints per dataset and coverage: the planner and the best baseline as the backtest measures
them, the candidate with the best mean PAI in hindsight and its PAI, and the candidate that is
counts alone (per cell with the planner's signal weights; per km, every signal counted: no status
of these files is known at a split, so the one counts candidate counts them all).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import run_main
from bench_baselines import RUNS, SHARED
from bench_hot_streets import NETWORKS

from planner._time import after_local_days
from planner.hotspots import HotspotParams
from planner.hotspots.calibration import CalibrationParams, Fold, FoldScoring, SignalUnits, calibrate_surface
from planner.hotspots.evaluate import (
    METHODS,
    TIE_BANDWIDTH_M,
    BacktestParams,
    backtest,
    fold_tiebreaks,
    hit_rates,
    kde_log_density,
    parse_split,
    ranked_length_hit_rates,
    read_for_backtest,
)
from planner.hotspots.evaluate import _study as study_cells  # the backtest's own cells, on purpose
from planner.hotspots.street_calibration import StreetCalibrationParams, calibrate_streets

COVERAGES = (1.0, 5.0, 10.0)


def masks(frame: pd.DataFrame, at: pd.Timestamp, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """The backtest's training and test rows at split ``at``."""
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
    return (((end <= at) & (start < at)).to_numpy(),
            ((start >= at) & (start < after_local_days(at, horizon))).to_numpy())


def cell_candidates(data: pd.DataFrame, split: str, horizon: float, *,
                    calibration: CalibrationParams = CalibrationParams()) -> tuple[dict, dict]:
    """PAI of every candidate at every coverage, scored on the test period itself, and the
    backtest's own figures for the split (``methods``).

    One "fold" whose fitting signals are the training signals and whose test signals are the
    test period's: ``calibrate_surface`` then reports each candidate's hit rate on the test
    (of ``calibration``'s grid; it falls back, and reports none, below its floors, which count
    the test signals too).
    """
    at, params = parse_split(split), BacktestParams(horizon_days=horizon)
    frame = data.reset_index(drop=True)
    train, test = masks(frame, at, horizon)
    study = study_cells(frame, train, None, params)
    both = train | test
    cell = np.where(study.cell_of[both] >= 0, study.flat_to_cell[study.cell_of[both]], -1)
    x, y, fit, hold = study.x[both], study.y[both], train[both], test[both]

    def per_cell(mask: np.ndarray) -> np.ndarray:
        inside = cell[mask]
        return np.bincount(inside[inside >= 0], minlength=study.n_cells).astype(float)

    out: dict = {}
    for coverage in COVERAGES:
        share = max(1, round(coverage / 100 * study.n_cells)) / study.n_cells
        _, choice = calibrate_surface(
            frame[both].reset_index(drop=True), SignalUnits(x, y, cell, study.cx, study.cy), now=at,
            scoring=FoldScoring([Fold(fit, hold, at)], per_cell,
                                lambda s, h, c=coverage: hit_rates(s, h, (c,), digits=None), (coverage,)),
            tiebreak=lambda f: kde_log_density(x[f], y[f], study.cx, study.cy, bandwidth_m=TIE_BANDWIDTH_M),
            params=calibration)
        for candidate, rate in choice.scores:
            out[candidate, coverage] = rate / share
    return out, backtest(data, split=split, params=params).methods


def street_candidate_pai(data: pd.DataFrame, graph, split: str, horizon: float, *,
                         calibration: StreetCalibrationParams = StreetCalibrationParams()) -> tuple[dict, dict]:
    """PAI per km of street of every hot-streets candidate (of ``calibration``'s grid, none below
    its floors, which count the test signals too), scored on the test period itself, and the
    backtest's own figures for the split (``network``)."""
    at, params = parse_split(split), BacktestParams(horizon_days=horizon)
    result = backtest(data, split=split, params=params, graph=graph)
    frame = data.reset_index(drop=True)
    train, test = masks(frame, at, horizon)
    both = train | test
    weights = result.calibration.tune(HotspotParams())
    out: dict = {}
    for coverage in COVERAGES:
        choice = calibrate_streets(
            [(graph, frame[both].reset_index(drop=True), [Fold(train[both], test[both], at)])], now=at,
            rates=lambda order, h, lengths, c=coverage: ranked_length_hit_rates(order, h, lengths, (c,), digits=None),
            tiebreaks=fold_tiebreaks,
            coverages=(coverage,), hotspot=weights, snap_m=params.streets.snap_m, params=calibration)
        for candidate, rate in choice.scores:
            out[candidate, coverage] = rate / (coverage / 100)
    return out, result.network


def table(label: str, n_splits: int, hindsight: dict, shipped: dict, is_counts) -> list[str]:
    """One row per coverage: planner, best baseline, the hindsight ceiling and the counts candidate."""
    candidates = list(dict.fromkeys(k for k, _ in hindsight))
    counts = next(c for c in candidates if is_counts(c))
    lines = [f"\n### {label}: {n_splits} splits, {len(candidates)} candidates",
             "| coverage | planner | best baseline | best candidate in hindsight | its PAI | ÷ best baseline "
             "| counts candidate |", "|---|---:|---|---|---:|---:|---:|"]
    for c in COVERAGES:
        mean = {m: statistics.mean(shipped[m][c]) for m in METHODS}
        best = max((m for m in METHODS if m != "planner"), key=mean.get)
        top = max(candidates, key=lambda k, c=c: statistics.mean(hindsight[k, c]))
        ceiling = statistics.mean(hindsight[top, c])
        lines.append(f"| {c:g} % | {mean['planner']:.2f} | {mean[best]:.2f} ({best}) | {top.label()} | "
                     f"{ceiling:.2f} | {ceiling / mean[best]:.3f} | {statistics.mean(hindsight[counts, c]):.2f} |")
    return lines


def collect(per_split) -> tuple[dict, dict]:
    """Pool ``(candidate PAI, the backtest's methods)`` over the splits."""
    hindsight: dict = {}
    shipped = {m: {c: [] for c in COVERAGES} for m in METHODS}
    for scores, methods in per_split:
        for k, v in scores.items():
            hindsight.setdefault(k, []).append(v)
        for m in METHODS:
            for c in COVERAGES:
                shipped[m][c].append(methods[m][f"pai@{c:g}"])
    return hindsight, shipped


def measure(shared: Path, *, only: str | None = None) -> list[str]:
    lines = []
    for key, label, load, splits, horizon in RUNS:
        if only in (None, key):
            data = load(shared)
            pooled = collect(cell_candidates(data, s, horizon) for s in splits)
            lines += table(label, len(splits), *pooled,
                           lambda c: c.blend == 0 and not c.near_repeat and c.resolved_weight == 0)
    for key, label, load, splits, horizon in NETWORKS:
        if only in (None, key):
            with load(shared) as (signals, graph):
                data = read_for_backtest(signals)
                pooled = collect(street_candidate_pai(data, graph, s, horizon) for s in splits)
            lines += table(label + ", per km of street", len(splits), *pooled,
                           lambda c: c.counts_only)
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[key for key, *_ in (*RUNS, *NETWORKS)])


if __name__ == "__main__":
    main()
