"""Benchmark of `plan-all` at scale (issue 17 §2): wards per minute on 1 and 2 Dask workers.

Usage::

    .venv/bin/python bench/bench_scale.py [--wards 200] [--workers 0,1,2] [--postgres]

1. A synthetic region of ``--wards`` wards (``planner.demo.region``: the demo town tiled and
   varied, 120 days of signals), its graphs cached, in a SQLite store in a temporary folder.
   The installation's calibrations are fitted once before the timed runs (plan-all fits them
   when the signals changed; that is a cost of the first night after an import, not of a ward).
2. ``plan_all`` of one night with each ``--workers`` count (0: this process, no Dask — the
   baseline without any engine overhead; N: a LocalCluster of N single-threaded processes):
   wall time, wards per minute, speed-up over 1 worker, the mean per-task time of its steps
   (graph load, hotspots + route, files + store write) and the peak memory of a worker process.
3. ``--postgres``: the same region in PostgreSQL + PostGIS (a throwaway cluster, fsync on), and
   two plan-all runs of the same night started at once from two processes, each on a
   LocalCluster of ``--workers``' last count: after both, every ward must have exactly one plan
   of that night (none lost, none duplicated).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test suite's PostgreSQL starter

NIGHT = date(2026, 12, 1)


def _region(url: str, data_dir: Path, wards: int) -> float:
    from planner.demo.region import build_region
    from planner.hotspots.tuning import installation_calibration, installation_street_calibration
    from planner.storage.store import open_store

    began = time.perf_counter()
    store = open_store(url)
    build_region(store, data_dir, wards=wards, end=NIGHT)
    installation_calibration(store)
    installation_street_calibration(store, data_dir=data_dir)
    store.engine.dispose()
    return time.perf_counter() - began


def _night(url: str, data_dir: Path, workers: int) -> dict:
    from planner.nightly import ClusterParams, plan_all

    result = plan_all(url, NIGHT, data_dir=data_dir, out_dir=data_dir / f"plans-{workers}",
                      cluster=ClusterParams(workers=workers))
    steps = {step: statistics.fmean(w.seconds[step] for w in result.planned) for step in ("graph", "plan", "write")}
    return {"workers": workers, "seconds": round(result.seconds, 2), "planned": len(result.planned),
            "failed": len(result.failed), "wards_per_minute": round(60 * len(result.wards) / result.seconds, 1),
            "mean_step_s": {k: round(v, 3) for k, v in steps.items()},
            # Worker processes are this process's children: the largest one's peak resident memory.
            "peak_child_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def _concurrent_run(url: str, data_dir: str, workers: int) -> None:
    from planner.nightly import ClusterParams, plan_all

    plan_all(url, NIGHT, data_dir=data_dir, out_dir=Path(data_dir) / f"plans-concurrent-{mp.current_process().name}",
             cluster=ClusterParams(workers=workers))


def _postgres(wards: int, workers: int) -> dict:
    import pgcluster
    from sqlalchemy import create_engine, text

    cluster = pgcluster.start_cluster(durable=True)
    try:
        url = cluster.create_database("was")
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder)
            built = _region(url, data, wards)
            single = _night(url, data, workers)
            began = time.perf_counter()
            runs = [mp.get_context("spawn").Process(target=_concurrent_run, args=(url, str(data), workers),
                                                    name=f"run{i}") for i in range(2)]
            for run in runs:
                run.start()
            for run in runs:
                run.join()
            both = time.perf_counter() - began
            engine = create_engine(url)
            with engine.connect() as conn:
                per_ward = conn.execute(text(
                    "SELECT w.name, count(p.id) FROM wards w LEFT JOIN patrols p "
                    "ON p.ward_id = w.id AND p.planned_night = :night GROUP BY w.name"), {"night": NIGHT}).all()
            engine.dispose()
        counts = [n for _, n in per_ward]
        return {"region_s": round(built, 1), "one_run": single, "two_concurrent_runs_s": round(both, 1),
                "exit_codes": [r.exitcode for r in runs], "wards": len(counts),
                "wards_with_one_plan": sum(n == 1 for n in counts), "lost": sum(n == 0 for n in counts),
                "duplicated": sum(n > 1 for n in counts)}
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wards", type=int, default=200)
    parser.add_argument("--workers", default="0,1,2", help="worker counts to time, comma-separated")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    counts = [int(c) for c in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = f"sqlite:///{data / 'was.db'}"
        built = _region(url, data, args.wards)
        print(json.dumps({"region": {"wards": args.wards, "seconds": round(built, 1)}}), flush=True)
        runs = [_night(url, data, workers) for workers in counts]
    for run in runs:
        print(json.dumps({"sqlite": run}), flush=True)
    one = next((r for r in runs if r["workers"] == 1), None)
    for run in runs:
        if one and run["workers"] > 1:
            print(json.dumps({"speed_up": {"workers": run["workers"], "over_1": round(one["seconds"] / run["seconds"],
                                                                                        2)}}), flush=True)
    if args.postgres:
        print(json.dumps({"postgres": _postgres(args.wards, counts[-1])}), flush=True)


if __name__ == "__main__":
    main()
