"""A self-exciting point process (Mohler et al. 2011) as the planner's surface, against the shipped one (issue 13).

Usage::

    .venv/bin/python bench/try_self_exciting.py [--shared DIR] [--only sacramento|london|chicago]

Space-time ETAS with a fixed background: the rate of signals at place s and day t is

    λ(s, t) = μ · b(s) + Σ_{t_j < t} θ · ω e^{−ω (t − t_j)} · φ_σ(s − s_j),

b a planar Gaussian KDE of the training signals (bandwidth h, left out at each signal), φ_σ a
Gaussian of σ metres. μ, θ, ω and σ are fitted by the EM of Veen & Schoenberg (2008) on the
training signals alone (parents within 60 days and 1.5 km); h is the one of 10/25/50/100/200/400
m with the highest training likelihood. The forecast per cell is the expected number of signals in
the horizon, each kernel integrated over the cell:
μ·H·b(cell) + θ Σ_j (e^{−ω (T − t_j)} − e^{−ω (T + H − t_j)}) φ_σ(cell − s_j), ordered like the
other methods (the 50 m KDE, then the index). A second variant, "declustered", weighs
each signal's background kernel by its EM probability of being background (Mohler's choice).

Same splits, cells and test counts as ``bench_baselines.py`` (and, for Chicago, the 100 m grid
of ``bench_hot_streets.py``); no look-ahead: the fit sees the training signals only. A tried
idea, not the product: it reads the backtest's private study cells.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.special import ndtr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import run_main
from bench_baselines import RUNS, SHARED
from bench_hindsight import masks

from planner.hotspots.calibration import deterministic_rank
from planner.hotspots.evaluate import (
    METHODS,
    TIE_BANDWIDTH_M,
    BacktestParams,
    backtest,
    hit_rates,
    kde_log_density,
    parse_split,
    read_for_backtest,
)
from planner.hotspots.evaluate import _study as study_cells  # the backtest's own cells, on purpose

COVERAGES = (1.0, 5.0, 10.0)
BACKGROUND_BANDWIDTHS_M = (10.0, 25.0, 50.0, 100.0, 200.0, 400.0)
PARENT_DAYS, PARENT_M, SIGMA_FLOOR_M = 60.0, 1500.0, 10.0
CHICAGO = ("chicago", "Chicago Logan Square, 100 m grid, horizon 365 days",
           lambda shared: read_for_backtest(shared / "incidents" / "chicago_logan_square_assaults_2010-2017.csv"),
           [f"{year}-01-01" for year in range(2012, 2018)], 365.0)


def gaussian(d2: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * d2 / sigma**2) / (2 * np.pi * sigma**2)


def loo_background(x: np.ndarray, y: np.ndarray, h: float) -> np.ndarray:
    """The KDE of the other signals at each signal (per m²), exact within 4 h."""
    places, where, weight = np.unique(np.round(np.column_stack([x, y]), 1), axis=0, return_inverse=True,
                                      return_counts=True)
    tree = cKDTree(places)
    near = tree.sparse_distance_matrix(tree, 4 * h, output_type="coo_matrix")
    at_place = np.bincount(near.row, weights=weight[near.col] * gaussian(near.data**2, h), minlength=len(places))
    return (at_place[where.ravel()] - gaussian(np.zeros(1), h)) / (len(x) - 1)


def parent_pairs(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(child, parent, lag in days, squared distance) for every earlier signal within the limits."""
    order = np.argsort(t, kind="stable")
    ts = t[order]
    first = np.searchsorted(ts, ts - PARENT_DAYS, side="left")
    last = np.searchsorted(ts, ts, side="left")  # strictly earlier
    counts = last - first
    child = np.repeat(np.arange(len(t)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    parent = np.repeat(first, counts) + offset
    child, parent = order[child], order[parent]
    d2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    keep = d2 <= PARENT_M**2
    child, parent, d2 = child[keep], parent[keep], d2[keep]
    return child, parent, t[child] - t[parent], d2


def fit(t: np.ndarray, x: np.ndarray, y: np.ndarray, *, end: float, iterations: int = 60):
    """(log-likelihood, h, μ, θ, ω, σ, background probability per signal), best h."""
    child, _, lag, d2 = parent_pairs(t, x, y)
    span = end - t.min()
    best = None
    for h in BACKGROUND_BANDWIDTHS_M:
        b = np.maximum(loo_background(x, y, h), 1e-300)
        mu, theta, omega, sigma = 0.5 * len(t) / span, 0.5, 0.1, 100.0
        for _ in range(iterations):
            trig = theta * omega * np.exp(-omega * lag) * gaussian(d2, sigma)
            rate = mu * b + np.bincount(child, weights=trig, minlength=len(t))
            p_back, p_pair = mu * b / rate, trig / rate[child]
            triggered = p_pair.sum()
            mu = p_back.sum() / span
            theta = triggered / np.sum(1 - np.exp(-omega * (end - t)))
            if triggered > 1e-9:
                omega = triggered / max(np.sum(p_pair * lag), 1e-9)
                sigma = max(np.sqrt(np.sum(p_pair * d2) / (2 * triggered)), SIGMA_FLOOR_M)
        trig = theta * omega * np.exp(-omega * lag) * gaussian(d2, sigma)
        rate = mu * b + np.bincount(child, weights=trig, minlength=len(t))
        loglik = np.log(rate).sum() - mu * span - theta * np.sum(1 - np.exp(-omega * (end - t)))
        if best is None or loglik > best[0]:
            best = (loglik, h, mu, theta, omega, sigma, mu * b / rate)
    return best


def cell_mass(x, y, w, cx, cy, size, bandwidth):
    """Σ_j w_j × the share of a Gaussian of ``bandwidth`` around signal j inside each square cell:
    the kernel integrated over the cell, not read at its centre, so a 10 m kernel still counts."""
    reach = 5 * bandwidth + size
    cells = cKDTree(np.column_stack([cx, cy]))
    near = cells.sparse_distance_matrix(cKDTree(np.column_stack([x, y])), reach, output_type="coo_matrix")
    half = size / 2

    def share(c, p):
        return ndtr((c + half - p) / bandwidth) - ndtr((c - half - p) / bandwidth)

    mass = share(cx[near.row], x[near.col]) * share(cy[near.row], y[near.col]) * w[near.col]
    return np.bincount(near.row, weights=mass, minlength=len(cx))


def split_scores(data: pd.DataFrame, split: str, horizon: float) -> dict:
    at, params = parse_split(split), BacktestParams(horizon_days=horizon)
    result = backtest(data, split=split, params=params)
    frame = data.reset_index(drop=True)
    train, test = masks(frame, at, horizon)
    study = study_cells(frame, train, None, params)
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
    middle = start + (end - start) / 2
    days = ((middle - at) / pd.Timedelta(days=1)).to_numpy(float)[train]
    tx, ty = study.x[train], study.y[train]
    test_cells = study.cell_of[test]
    hits = np.bincount(study.flat_to_cell[test_cells[test_cells >= 0]], minlength=study.n_cells).astype(float)
    assert hits.sum() == result.n_test
    clock = time.perf_counter()
    _, h, mu, theta, omega, sigma, p_back = fit(days, tx, ty, end=0.0)
    seconds = time.perf_counter() - clock
    decay = np.exp(omega * days) - np.exp(omega * (days - horizon))  # days ≤ 0
    size = params.cell_m
    offspring = theta * cell_mass(tx, ty, decay, study.cx, study.cy, size, sigma)
    tiebreak = kde_log_density(tx, ty, study.cx, study.cy, bandwidth_m=TIE_BANDWIDTH_M)
    out = {"fit": f"h {h:g} m, μ {mu:.2f}/day, θ {theta:.3f}, 1/ω {1 / omega:.1f} d, σ {sigma:.0f} m, "
                  f"{seconds:.1f} s"}
    for name, background in (("etas", np.ones(len(tx))), ("etas_declustered", p_back)):
        surface = mu * horizon * cell_mass(tx, ty, background, study.cx, study.cy, size, h) / background.sum()
        surface += offspring
        out[name] = hit_rates(deterministic_rank(surface, tiebreak=tiebreak), hits, COVERAGES)
    out["naive_check"] = hit_rates(deterministic_rank(study.per_cell(np.ones(len(tx), dtype=bool)),
                                                      tiebreak=tiebreak), hits, COVERAGES)
    out.update({name: result.methods[name] for name in METHODS})
    return out


def measure(shared: Path, *, only: str | None = None) -> list[str]:
    lines = []
    names = ("planner", "naive_all", "etas", "etas_declustered", "naive_check")
    for key, label, load, splits, horizon in (*RUNS, CHICAGO):
        if only not in (None, key):
            continue
        data = load(shared)
        per_split = []
        for split in splits:
            scores = split_scores(data, split, horizon)
            per_split.append(scores)
            print(f"{key} {split}: {scores['fit']}; " + "; ".join(
                f"{n} " + "/".join(f"{scores[n][f'pai@{c:g}']:.2f}" for c in COVERAGES) for n in names), flush=True)
        lines.append(f"\n### {label}: means over {len(splits)} splits, PAI@1/5/10")
        mean = {(n, c): statistics.mean(s[n][f"pai@{c:g}"] for s in per_split) for n in (*METHODS, *names)
                for c in COVERAGES}
        lines.append("| best baseline | " + " | ".join(
            "{:.2f} ({})".format(*max((mean[m, c], m) for m in METHODS if m != "planner")) for c in COVERAGES) + " |")
        for n in names:
            lines.append(f"| {n} | " + " | ".join(
                f"{statistics.mean(s[n][f'pai@{c:g}'] for s in per_split):.2f}" for c in COVERAGES) + " |")
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=["sacramento", "london", "chicago"])


if __name__ == "__main__":
    main()
