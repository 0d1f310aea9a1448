"""Benchmark of the store (issue 7): import throughput and concurrent signal submissions.

Usage::

    .venv/bin/python bench/bench_store.py [--rows 1000000] [--seconds 10] [--processes 1,2,4] [--skip-submissions]

1. Import: ``--rows`` synthetic signals (CSV with ``;``, Dutch dates, descriptions, 9 square
   wards of 2 × 2 km in RD New) through ``intake.import_file`` — read, validate, assign wards,
   one transaction — into a SQLite file and into PostgreSQL + PostGIS (a throwaway cluster
   started by ``tests/pgcluster.py``, fsync on). Baseline in the same run: reading and
   validating the file without a store (``read_table`` + ``parse_incidents``), so the store's
   own share is the difference.
2. Submissions: ``--processes`` processes each call ``access.report_signal`` (the dashboard's
   form path: validate, assign a ward, commit one row) in a loop for ``--seconds``; total
   committed signals per second on each backend. Baseline: the same processes committing
   already-validated one-row batches (``Store.add_batch``), i.e. the store's own share.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test suite's PostgreSQL starter

import pgcluster as _pgcluster

from planner.access import report_signal
from planner.signals.incidents import CATEGORIES, RawTable, parse_incidents, read_table
from planner.signals.intake import import_file
from planner.signals.wards import store_wards
from planner.storage.store import open_store
from planner.users import User

NOW = datetime(2026, 11, 25, 12, 0)
ORIGIN = (90_000.0, 450_000.0)


def wards() -> gpd.GeoDataFrame:
    """Nine 2 × 2 km square wards in RD New."""
    x0, y0 = ORIGIN
    cells = [(i, j) for j in range(3) for i in range(3)]
    return gpd.GeoDataFrame(
        {"name": [f"Wijk {k + 1:02d}" for k in range(9)], "code": [f"WK9999{k + 1:02d}" for k in range(9)]},
        geometry=[box(x0 + 2000 * i, y0 + 2000 * j, x0 + 2000 * (i + 1), y0 + 2000 * (j + 1)) for i, j in cells],
        crs=28992,
    )


def write_signals(path: Path, n: int, seed: int = 0) -> None:
    """``n`` signal rows as a Dutch Excel CSV; 2 % are bad (unknown category or outside)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(ORIGIN[0] + 5, ORIGIN[0] + 5995, n)
    y = rng.uniform(ORIGIN[1] + 5, ORIGIN[1] + 5995, n)
    bad = rng.random(n) < 0.02
    x[bad[: n // 2].nonzero()[0]] += 50_000
    lon, lat = Transformer.from_crs(28992, 4326, always_xy=True).transform(x, y)
    moments = pd.Timestamp("2025-11-25") + pd.to_timedelta(rng.uniform(0, 364 * 86400, n), unit="s")
    categories = rng.choice(np.array(list(CATEGORIES.values())), n).astype(object)
    categories[bad[n // 2 :].nonzero()[0] + n // 2] = "graffiti"
    frame = pd.DataFrame({
        "nummer": [f"B{i}" for i in range(n)],
        "datum": moments.strftime("%d-%m-%Y"),
        "tijd": moments.strftime("%H:%M"),
        "categorie": categories,
        "breedtegraad": np.round(lat, 6),
        "lengtegraad": np.round(lon, 6),
        "omschrijving": rng.choice(np.array(["fiets weg", "raam ingegooid", "", "groep jongeren bij de bank"]), n),
        "bron": rng.choice(np.array(["bewoner", "wijkagent", "was_lid"]), n),
    })
    frame.to_csv(path, sep=";", index=False)


def timed(label: str, fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds, result


def _form_fields(rng, worker: int, done: int) -> dict:
    lon, lat = Transformer.from_crs(28992, 4326, always_xy=True).transform(
        *rng.uniform([ORIGIN[0] + 10, ORIGIN[1] + 10], [ORIGIN[0] + 5990, ORIGIN[1] + 5990])
    )
    return {"occurred_at": f"24-11-2026 {done % 24:02d}:{done % 60:02d}", "category": "jongerenoverlast",
            "lat": round(lat, 6), "lon": round(lon, 6), "description": f"melding {worker}-{done}"}


def _submitter(url: str, seconds: float, worker: int, store_only: bool, queue) -> None:
    store = open_store(url)
    user = User(f"bewoner{worker}", "resident")
    rng = np.random.default_rng(worker)
    report_signal(store, user, _form_fields(rng, worker, -1), now=NOW)  # warm up lazy imports
    if store_only:  # one validated row, stored again and again under a new key
        table = RawTable(rows=pd.DataFrame([_form_fields(rng, worker, 0)], dtype=str))
        valid = parse_incidents(table, now=NOW).valid.assign(ward="Wijk 01")
        empty = valid.iloc[:0]
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if store_only:
            row = valid.assign(content_key=f"w{worker}-{done}")
            done += store.add_batch(row, empty, file_name="form", content_hash=f"w{worker}-{done}",
                                    rejects_file=None).imported
        else:
            done += report_signal(store, user, _form_fields(rng, worker, done), now=NOW).imported
    queue.put(done)


def submissions(url: str, processes: int, seconds: float, *, store_only: bool = False) -> float:
    """Committed submissions per second with ``processes`` concurrent processes: the whole form
    path (``report_signal``), or with ``store_only`` just the store's one-row transactions."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_submitter, args=(url, seconds, k, store_only, queue)) for k in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get(timeout=seconds + 120) for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--skip-submissions", action="store_true", help="Only measure the import.")
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="was-bench-"))
    csv = work / "signals.csv"
    print(f"writing {args.rows:,} rows to {csv}", file=sys.stderr)
    write_signals(csv, args.rows)
    print(f"  {csv.stat().st_size / 1e6:.0f} MB", file=sys.stderr)

    cluster = _pgcluster.start_cluster(durable=True)
    try:
        urls = {
            "SQLite": (f"sqlite:///{work / 'import.db'}", f"sqlite:///{work / 'submit.db'}"),
            "PostgreSQL": (cluster.create_database("bench_import"), cluster.create_database("bench_submit")),
        }
        rows = []
        print("baseline: read + validate, no store", file=sys.stderr)
        base, parsed = timed("parse", lambda: parse_incidents(read_table(csv), now=NOW))
        rows.append(("read + validate only (baseline)", args.rows / base, len(parsed.valid), base))
        results: dict[str, dict] = {}
        for backend, (import_url, submit_url) in urls.items():
            print(f"{backend}: import", file=sys.stderr)
            store = open_store(import_url)
            store_wards(store, wards())
            seconds, report = timed("import", lambda store=store: import_file(store, csv, rejects_dir=work, now=NOW))
            again, second = timed("re-import (all duplicates)", lambda store=store: import_file(
                store, csv, rejects_dir=work, now=NOW))
            rows.append((f"{backend}: import_file", args.rows / seconds, report.imported, seconds))
            rows.append((f"{backend}: re-import, 0 new", args.rows / again, second.imported, again))
            store.engine.dispose()
            submit = open_store(submit_url)
            store_wards(submit, wards())
            submit.engine.dispose()
            for mode, store_only in () if args.skip_submissions else (("form", False), ("store", True)):
                key = f"{backend}: {'report_signal (validate + store)' if mode == 'form' else 'store only (add_batch)'}"
                results[key] = {p: submissions(submit_url, p, args.seconds, store_only=store_only) for p in counts}
                for p, rate in results[key].items():
                    print(f"  {key}, {p} process(es): {rate:.0f}/s", file=sys.stderr)
    finally:
        cluster.stop()

    print(f"\n| import of {args.rows:,} rows | rows/s | imported | seconds |")
    print("|---|---:|---:|---:|")
    for label, rate, imported, seconds in rows:
        print(f"| {label} | {rate:,.0f} | {imported:,} | {seconds:.1f} |")
    if results:
        header = " | ".join(f"{p} proc." for p in counts)
        print(f"\n| signal submissions per second, {args.seconds:g} s | {header} |")
        print("|---|" + "---:|" * len(counts))
    for backend, rates in results.items():
        print(f"| {backend} | " + " | ".join(f"{rates[p]:.0f}/s" for p in counts) + " |")
    print(json.dumps({"rows": args.rows, "submissions": results}), file=sys.stderr)


if __name__ == "__main__":
    main()
