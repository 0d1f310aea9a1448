"""Benchmark of the street-graph pipeline on the Liechtenstein extract (issue 4 §4).

Usage::

    .venv/bin/python bench/bench_streets.py [--repeat 3] [--shared DIR]

Measures, on ``liechtenstein-latest.osm.pbf`` (the whole country, 1.3 MB PBF):

- baselines in the same run: the pyosmium PBF → OSM XML conversion alone, and plain osmnx
  ``graph_from_xml`` of that converted XML (simplified, no walk filter, no projection);
- ours: building the prepared walk graph from the PBF (convert, filter, simplify, project,
  largest component, walking times) and caching it as GraphML;
- loading it back from the cache (GraphML parse), and the warm ``ward_graph`` call (in-process
  memo, what the router and dashboard pay after the first call);
- a ward-sized build: the same PBF clipped to a 1 km radius around Vaduz (+150 m buffer).

Each step runs ``--repeat`` times; the table shows the best and the median wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import osmnx as ox
from shapely.geometry import Point

from planner import streets

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
VADUZ = Point(9.5215, 47.1410)


def _timed(step: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=None, help="shared data dir (default ../shared/data)")
    args = parser.parse_args()
    from_env = Path(os.environ["WAS_SHARED_DIR"]) / "data" if "WAS_SHARED_DIR" in os.environ else None
    shared = args.shared or from_env or DEFAULT_SHARED
    pbf = shared / "osm" / "liechtenstein-latest.osm.pbf"
    rows = []
    with tempfile.TemporaryDirectory(prefix="was-bench-") as tmp:
        tmp = Path(tmp)
        xml = tmp / "liechtenstein.osm"
        cache = tmp / "graphs" / "liechtenstein.graphml"

        times, ways = _timed(lambda: streets.pbf_to_osm_xml(pbf, xml), args.repeat)
        rows.append(("baseline: pyosmium PBF → XML (walkable ways)", times, f"{ways:,} ways"))

        times, raw = _timed(lambda: ox.graph_from_xml(xml, simplify=True, retain_all=True), args.repeat)
        rows.append(("baseline: osmnx graph_from_xml of that XML", times, f"{len(raw):,} nodes"))

        def build() -> object:
            graph = streets.build_ward_graph(None, osm=pbf)
            streets.save_graph(graph, cache)
            return graph

        times, graph = _timed(build, args.repeat)
        summary = streets.graph_summary(graph)
        rows.append((
            "ours: build prepared walk graph from PBF + cache",
            times,
            f"{summary['nodes']:,} nodes, {summary['edges']:,} edges, {summary['km']:,.0f} km",
        ))

        times, _ = _timed(lambda: streets.load_graph(cache), args.repeat)
        rows.append(("ours: load from cache (GraphML)", times, f"{cache.stat().st_size / 1e6:.1f} MB file"))

        ward_cache = tmp / "graphs" / f"{streets.ward_slug('Liechtenstein')}.graphml"
        ward_cache.write_bytes(cache.read_bytes())
        streets.ward_graph(None, "Liechtenstein", data_dir=tmp)
        times, _ = _timed(lambda: streets.ward_graph(None, "Liechtenstein", data_dir=tmp), args.repeat)
        rows.append(("ours: ward_graph warm (in-process memo)", times, "same frozen graph"))

        vaduz = gpd.GeoSeries([VADUZ], crs="EPSG:4326").to_crs("EPSG:32632").buffer(1000).to_crs("EPSG:4326").iloc[0]
        times, ward = _timed(lambda: streets.build_ward_graph(vaduz, osm=pbf), args.repeat)
        rows.append(("ours: ward build, Vaduz 1 km + 150 m, from PBF", times, f"{len(ward):,} nodes"))

    print(f"Liechtenstein walk graph ({pbf.name}, {pbf.stat().st_size / 1e6:.1f} MB); {args.repeat} runs each\n")
    print(f"| {'step':<48} | {'best (s)':>9} | {'median (s)':>10} | size |")
    print(f"|{'-' * 50}|{'-' * 11}|{'-' * 12}|------|")
    for label, times, size in rows:
        print(f"| {label:<48} | {min(times):>9.3f} | {statistics.median(times):>10.3f} | {size} |")


if __name__ == "__main__":
    main()
