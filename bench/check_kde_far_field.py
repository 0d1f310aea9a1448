"""Does scikit-learn's far-field KDE error change any baseline's forecast? (issue 13; kept for the record, then removed)

Usage::

    .venv/bin/python bench/check_kde_far_field.py [--shared DIR]

``planar_kde`` (scikit-learn ``KernelDensity``, rtol 1e-4) does not keep its tolerance beyond about
5 bandwidths of every point. Per split, on the backtest's own cells (read by wrapping the private
``evaluate._study``), the cells of the top 1 / 5 / 10 % of ``naive_all`` (counts, ties by the 50 m
KDE) and of the 50 / 100 / 200 m KDE baselines are compared with the same rankings from an exact
sum (``logsumexp`` over every training signal; ties by the lower index).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_baselines
from _cli import run_main

from planner.hotspots import evaluate

SHARED = bench_baselines.SHARED
COVERAGES = (0.01, 0.05, 0.10)


def exact_log_density(tx: np.ndarray, ty: np.ndarray, px: np.ndarray, py: np.ndarray, h: float) -> np.ndarray:
    """Log of Σ exp(−½ (d / h)²) over every point, in blocks of cells (unnormalised: only the order counts)."""
    out = np.empty(len(px))
    step = max(1, 20_000_000 // max(len(tx), 1))
    for start in range(0, len(px), step):
        dx = px[start:start + step, None] - tx[None, :]
        dy = py[start:start + step, None] - ty[None, :]
        out[start:start + step] = logsumexp(-0.5 * (dx * dx + dy * dy) / (h * h), axis=1)
    return out


def differ(first: np.ndarray, second: np.ndarray, n: int) -> list[int]:
    """Cells in one top c % and not the other, at each coverage."""
    return [len(set(first[:int(np.ceil(c * n))]) - set(second[:int(np.ceil(c * n))])) for c in COVERAGES]


def measure(shared: Path = SHARED, *, only: str | None = None) -> list[str]:
    studies = []
    original = evaluate._study

    def keep(*args, **kwargs):
        studies.append(original(*args, **kwargs))
        return studies[-1]

    evaluate._study = keep
    lines = ["| dataset, split | cells | with a training signal | naive_all @1/5/10 | kde_50m | kde_100m | kde_200m |",
             "|---|---:|---:|---|---|---|---|"]
    try:
        for key, label, load, splits, horizon in bench_baselines.RUNS:
            if only not in (None, key):
                continue
            frame = load(shared)
            for split in splits:
                studies.clear()
                evaluate.backtest(frame, split=split, params=evaluate.BacktestParams(horizon_days=horizon,
                                                                                     planner="fixed"))
                st = studies[0]
                n, index = st.n_cells, np.arange(st.n_cells)
                counts = np.bincount(st.train_cell[st.train_cell >= 0], minlength=n)
                row = [f"{label}, {split}", f"{n:,}", f"{int((counts > 0).sum()):,}"]
                for h in (50.0, 100.0, 200.0):
                    fitted = evaluate.kde_log_density(st.tx, st.ty, st.cx, st.cy, bandwidth_m=h)
                    exact = exact_log_density(st.tx, st.ty, st.cx, st.cy, h)
                    if h == 50.0:
                        row.append(" / ".join(map(str, differ(index[np.lexsort((-index, fitted, counts))[::-1]],
                                                              index[np.lexsort((-index, exact, counts))[::-1]], n))))
                    row.append(" / ".join(map(str, differ(index[np.lexsort((-index, fitted))[::-1]],
                                                          index[np.lexsort((-index, exact))[::-1]], n))))
                lines.append("| " + " | ".join(row) + " |")
    finally:
        evaluate._study = original
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[key for key, *_ in bench_baselines.RUNS])


if __name__ == "__main__":
    main()
