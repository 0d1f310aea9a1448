"""Benchmark of ``planner.hotspots`` and ``planner.hotspots.evaluate`` (issue 3).

Usage::

    .venv/bin/python bench/bench_hotspots.py [--signals 1000000] [--shared DIR] [--skip-backtest]
    .venv/bin/python bench/bench_hotspots.py --network-only     # section 4 only (bench_hot_streets.py)

1. Hotspots: ``--signals`` synthetic signals over 10 square wards of 2 × 2 km (RD New), 40 % of
   them in 12 Gaussian clusters per ward, times over a year (a tenth known only as a window),
   clustered, tested and scored by ``find_hotspots`` (officer rendering: everything computed).
   Baselines in the same run: CAS-style counts per 125 m cell (the naive method), and
   scikit-learn HDBSCAN on the raw points of one ward (subsampled, as it is quadratic).
2. Hot streets on the Amsterdam Osdorp-Midden sidewalk network (27,622 directed edges) with
   20,000 signals, against a naive network KDE (networkx Dijkstra from every signal, measured
   on 1,000 signals and scaled linearly).
3. Backtest: the planner against every baseline of ``planner.hotspots.evaluate`` on rolling splits of
   Sacramento (horizon 7 days) and monthly splits of the City of London file, per split and on
   average (``bench_baselines.py``, which runs this section on its own).
4. Backtest per km of street (``bench_hot_streets.py``, which runs this section on its own): the
   demo town (Demostad: synthetic streets and signals, built in a temporary directory, monthly
   splits) and Chicago Logan Square (real assaults on a real OSM extract, yearly splits); the
   calibrated hot streets against every baseline, per split and on average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from planner import streets
from planner.hotspots import HotspotParams, find_hotspots, hot_streets

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """``n`` signals over 10 wards of 2 × 2 km, with clusters, as store.incidents() returns them."""
    rng = np.random.default_rng(seed)
    wards, xs, ys, names = [], [], [], []
    per = n // 10
    for i in range(10):
        x0, y0 = 80_000 + (i % 5) * 2_000, 450_000 + (i // 5) * 2_000
        wards.append((f"Wijk {i:02d}", box(x0, y0, x0 + 2_000, y0 + 2_000)))
        n_cluster = int(per * 0.4)
        centres = rng.uniform([x0 + 200, y0 + 200], [x0 + 1_800, y0 + 1_800], size=(12, 2))
        which = rng.integers(0, 12, n_cluster)
        spread = rng.uniform(30, 60, 12)[which][:, None]
        clustered = centres[which] + rng.normal(0, 1, (n_cluster, 2)) * spread
        background = rng.uniform([x0, y0], [x0 + 2_000, y0 + 2_000], size=(per - n_cluster, 2))
        pts = np.clip(np.vstack([clustered, background]), [x0, y0], [x0 + 1_999.9, y0 + 1_999.9])
        xs.append(pts[:, 0])
        ys.append(pts[:, 1])
        names += [f"Wijk {i:02d}"] * per
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True).transform(x, y)
    start = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 365 * 24 * 60, len(x)), unit="min")
    window = rng.random(len(x)) < 0.1
    end = start + pd.to_timedelta(np.where(window, rng.uniform(60, 9 * 60, len(x)), 0), unit="min")
    categories = np.array(["burglary", "youth_nuisance", "vandalism", "street_light", "other"])
    frame = pd.DataFrame({
        "id": np.arange(1, len(x) + 1), "occurred_from": start, "occurred_to": end, "lat": lat, "lon": lon,
        "category": categories[rng.integers(0, 5, len(x))], "status": "open", "on_patrol": False,
        "ward": names,
    })
    ward_frame = gpd.GeoDataFrame({"name": [w[0] for w in wards]}, geometry=[w[1] for w in wards], crs=28992)
    return frame, ward_frame


def naive_grid(frame: pd.DataFrame, size: float = 125.0, share: float = 0.03) -> int:
    """CAS-style baseline: counts per 125 m cell, the top 3 % of occupied cells flagged."""
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True).transform(
        frame["lon"].to_numpy(), frame["lat"].to_numpy()
    )
    keys = np.floor(x / size).astype(np.int64) * 1_000_000 + np.floor(y / size).astype(np.int64)
    _, counts = np.unique(keys, return_counts=True)
    return int(np.ceil(share * len(counts)))


def bench_hotspots(n: int) -> list[tuple[str, float, str]]:
    frame, wards = synthetic(n)
    rows = []
    t = time.perf_counter()
    result = find_hotspots(frame, wards, params=HotspotParams(audience="officer"))
    rows.append(("find_hotspots (ours, weighted DBSCAN)", time.perf_counter() - t,
                 f"{len(result.hotspots)} hotspots, {int(result.hotspots['significant'].sum())} significant"))
    t = time.perf_counter()
    flagged = naive_grid(frame)
    rows.append(("naive: counts per 125 m cell", time.perf_counter() - t, f"{flagged} cells flagged"))
    from sklearn.cluster import HDBSCAN

    ward0 = frame[frame["ward"] == "Wijk 00"]
    sample = ward0.sample(min(20_000, len(ward0)), random_state=0)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True).transform(sample["lon"], sample["lat"])
    t = time.perf_counter()
    labels = HDBSCAN(min_cluster_size=5, copy=True).fit(np.column_stack([x, y])).labels_
    rows.append((f"sklearn HDBSCAN, raw points, 1 ward, {len(sample):,} sampled", time.perf_counter() - t,
                 f"{labels.max() + 1} clusters"))
    return rows


def bench_hot_streets(shared: Path, n: int = 20_000) -> list[tuple[str, float, str]]:
    import networkx as nx

    network = shared / "networks" / "amsterdam_osdorp_midden_walk.gpkg"
    graph = streets.prepare_graph(streets.graph_from_segments(network))
    rng = np.random.default_rng(1)
    nodes = list(graph.nodes)
    xs = np.array([graph.nodes[v]["x"] for v in nodes])
    ys = np.array([graph.nodes[v]["y"] for v in nodes])
    idx = rng.integers(0, len(nodes), n)
    x, y = xs[idx] + rng.normal(0, 15, n), ys[idx] + rng.normal(0, 15, n)
    lon, lat = Transformer.from_crs(graph.graph["crs"], "EPSG:4326", always_xy=True).transform(x, y)
    when = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 90, n), unit="D")
    frame = pd.DataFrame({"occurred_from": when, "occurred_to": when, "lat": lat, "lon": lon, "category": "other"})
    rows = []
    t = time.perf_counter()
    result = hot_streets(graph, frame)
    rows.append((f"hot_streets (ours), {graph.number_of_edges():,} edges, {n:,} signals",
                 time.perf_counter() - t, f"{int((result.edges['density'] > 0).sum()):,} edges scored"))
    # Naive: Dijkstra from each signal's nearest node, kernel at every reached edge.
    undirected = nx.Graph()
    for u, v, data in graph.edges(data=True):
        undirected.add_edge(u, v, length=data["length"])
    m = 1_000
    t = time.perf_counter()
    score: dict = {}
    for i in idx[:m]:
        reach = nx.single_source_dijkstra_path_length(undirected, nodes[i], cutoff=150, weight="length")
        for node, d in reach.items():
            for nb in undirected[node]:
                mid = d + undirected[node][nb]["length"] / 2
                if mid < 150:
                    key = (min(node, nb), max(node, nb))
                    score[key] = score.get(key, 0) + (1 - (mid / 150) ** 2) ** 2
    elapsed = (time.perf_counter() - t) * n / m
    rows.append((f"naive networkx Dijkstra per signal (1,000 measured, × {n // m})", elapsed, "scaled"))
    return rows


def bench_backtest(shared: Path) -> list[str]:
    """Section 3: the per-split tables of ``bench_baselines`` (planner against every baseline)."""
    import bench_baselines

    return bench_baselines.measure(shared)


def bench_network_backtest(shared: Path) -> list[str]:
    """Section 4: the per-km tables of ``bench_hot_streets`` (demo town and Chicago)."""
    import bench_hot_streets

    return bench_hot_streets.measure(shared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--skip-backtest", action="store_true")
    parser.add_argument("--network-only", action="store_true",
                        help="Only the per-km backtests (the demo town and Chicago).")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    if args.network_only:
        print("\n".join(bench_network_backtest(args.shared)))
        return
    rows = bench_hotspots(args.signals)
    if (args.shared / "networks").is_dir():
        rows += bench_hot_streets(args.shared)
    print("| step | seconds | result |\n|---|---:|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.2f} | {note} |")
    if not args.skip_backtest and (args.shared / "incidents").is_dir():
        print("\n".join(bench_backtest(args.shared)))
    if not args.skip_backtest:
        print("\n".join(bench_network_backtest(args.shared)))


if __name__ == "__main__":
    main()
