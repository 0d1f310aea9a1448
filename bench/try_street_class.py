"""Hindsight check (dropped idea, issue 13): counts per km shrunk towards their street class's rate.

Usage::

    .venv/bin/python bench/try_street_class.py [--shared DIR]

Chicago Logan Square / Avondale (real assaults on the real OSM extract), the yearly splits of
``bench_hot_streets.py``. Each street's training signals per km are shrunk towards the rate per km
of its OSM ``highway`` class (Poisson–gamma posterior mean, ``a`` km of pseudo-length):
``(count + a · class rate) / (km + a)``, ties broken by the 50 m KDE as the baselines are, scored
on the test year itself. ``a = 0`` is ``naive_all``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import shapely
from _cli import run_main

from planner import streets
from planner._geo import graph_crs, metric_xy, street_table
from planner.hotspots.calibration import deterministic_rank
from planner.hotspots.evaluate import (
    BacktestParams,
    _snap_to_streets,
    kde_log_density,
    length_hit_rates,
    read_for_backtest,
)

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"
PSEUDO_KM = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def measure(shared: Path, *, only: str | None = None) -> list[str]:
    graph = streets.build_ward_graph(None, osm=shared / "osm" / "chicago_logan_square_avondale.osm")
    table, _ = street_table(graph, keys=True)
    kinds = [graph.edges[u, v, k].get("highway", "other") for u, v, k in
             zip(table.u, table.v, table.key, strict=True)]
    _, kind = np.unique([str(h[0] if isinstance(h, list) else h) for h in kinds], return_inverse=True)
    length = table["length"].to_numpy(float)
    km = np.maximum(length, 1.0) / 1000
    geometry = np.asarray(table["geometry"].to_list(), dtype=object)
    mid = shapely.line_interpolate_point(geometry, 0.5, normalized=True)
    frame = read_for_backtest(shared / "incidents" / "chicago_logan_square_assaults_2010-2017.csv")
    x, y, _ = metric_xy(frame, graph_crs(graph))
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    street_of = np.full(len(x), -1)
    snapped, nearest = _snap_to_streets(geometry, x, y, BacktestParams().streets.snap_m)
    street_of[snapped] = nearest
    pai = {a: [] for a in PSEUDO_KM}
    for year in range(2012, 2018):
        split = pd.Timestamp(f"{year}-01-01", tz="UTC")
        train = (start < split).to_numpy()
        test = ((start >= split) & (start < split + pd.Timedelta(days=365))).to_numpy()
        counts = np.bincount(street_of[train & (street_of >= 0)], minlength=len(table)).astype(float)
        hits = np.bincount(street_of[test & (street_of >= 0)], minlength=len(table)).astype(float)
        class_rate = np.bincount(kind, weights=counts) / np.bincount(kind, weights=km)
        tie = kde_log_density(x[train], y[train], shapely.get_x(mid), shapely.get_y(mid), bandwidth_m=50)
        for a in PSEUDO_KM:
            rank = deterministic_rank((counts + a * class_rate[kind]) / (km + a), tiebreak=tie)
            rates = length_hit_rates(rank, hits, length, (1, 5, 10))
            pai[a].append([rates["pai@1"], rates["pai@5"], rates["pai@10"]])
    lines = ["| pseudo-length a (km) | mean PAI@1 / @5 / @10 over 6 yearly splits |", "|---:|---|"]
    lines += [f"| {a:g} | " + " / ".join(f"{v:.2f}" for v in np.mean(pai[a], axis=0)) + " |" for a in PSEUDO_KM]
    return lines


if __name__ == "__main__":
    run_main(__doc__, measure, shared=SHARED, choices=())
