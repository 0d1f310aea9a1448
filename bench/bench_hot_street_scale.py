"""The planar hot-streets kernel and the hot-street calibration on a large ward (issue 13).

Usage::

    .venv/bin/python bench/bench_hot_street_scale.py [--shared DIR]

The Amsterdam Osdorp-Midden sidewalk network of ``bench_hotspots.py`` (25,792 edges), with
synthetic signals around its nodes (15 m spread). Prints:

1. ``hot_streets`` with the planar kernel at 25 and 200 m (``BinnedGaussian``): seconds and peak
   memory, for 20,000 signals;
2. the binned kernel sums against the exact Gaussian (``gaussian_matrix``) on 3,000 random
   points and 5,000 units: median and 99th-percentile relative error, Spearman correlation;
3. ``calibrate_hot_streets`` (302 candidates, 12 folds: the 4 asked and more while they hold
   few test signals) on 5,000 signals over a year.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import run_main
from bench_baselines import SHARED

from planner import streets
from planner.hotspots import HotStreetParams, hot_streets
from planner.hotspots._kernel import BinnedGaussian, gaussian_matrix
from planner.hotspots.evaluate import calibrate_hot_streets


def signals_on(graph, n: int, days: float) -> pd.DataFrame:
    """``n`` signals within about 15 m of random nodes of ``graph``, uniform over ``days``."""
    rng = np.random.default_rng(1)
    nodes = list(graph.nodes)
    xs = np.array([graph.nodes[v]["x"] for v in nodes])
    ys = np.array([graph.nodes[v]["y"] for v in nodes])
    idx = rng.integers(0, len(nodes), n)
    x, y = xs[idx] + rng.normal(0, 15, n), ys[idx] + rng.normal(0, 15, n)
    lon, lat = Transformer.from_crs(graph.graph["crs"], "EPSG:4326", always_xy=True).transform(x, y)
    when = pd.Timestamp("2025-06-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), unit="D")
    return pd.DataFrame({"occurred_from": when, "occurred_to": when, "lat": lat, "lon": lon, "category": "other"})


def gigabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def measure(shared: Path, *, only: str | None = None, n: int = 20_000) -> list[str]:
    network = shared / "networks" / "amsterdam_osdorp_midden_walk.gpkg"
    graph = streets.prepare_graph(streets.graph_from_segments(network))
    lines = [f"{graph.number_of_edges():,} edges"]
    frame = signals_on(graph, n, 90)
    for h in (25.0, 200.0):
        t = time.perf_counter()
        hot_streets(graph, frame, params=HotStreetParams(bandwidth_m=h, kernel="planar"))
        lines.append(f"hot_streets planar {h:g} m, {n:,} signals: {time.perf_counter() - t:.2f} s, "
                     f"peak memory so far {gigabytes():.2f} GB")
    rng = np.random.default_rng(0)
    points, units, w = rng.uniform(0, 2000, (3000, 2)), rng.uniform(0, 2000, (5000, 2)), rng.uniform(0, 1, 3000)
    for h in (25.0, 50.0, 100.0, 200.0):
        exact = gaussian_matrix(cKDTree(units), cKDTree(points), h) @ w
        binned = BinnedGaussian(units, points, h).weights(w)
        big = exact > 0.05 * exact.max()
        error = np.abs(binned[big] - exact[big]) / exact[big]
        lines.append(f"binned vs exact at {h:g} m: median error {np.median(error):.2%}, "
                     f"99th percentile {np.quantile(error, 0.99):.2%}, Spearman {spearmanr(exact, binned)[0]:.5f}")
    year = signals_on(graph, 5_000, 365)
    # A third resolved, each stored with its status a day after it: the folds know of resolved
    # signals, so every candidate (counting them or not) is tried, as on an installation.
    year = year.assign(status=np.where(np.arange(len(year)) % 3 == 0, "resolved", "open"),
                       stored_at=year["occurred_from"] + pd.Timedelta(days=1))
    t = time.perf_counter()
    choice = calibrate_hot_streets([(graph, year)])
    lines.append(f"calibrate_hot_streets, 5,000 signals over a year: {time.perf_counter() - t:.1f} s, "
                 f"{choice.summary()}")
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[])


if __name__ == "__main__":
    main()
