"""Hot streets per km of street: the calibrated planner against every baseline, per split and on average (issue 13).

Usage::

    .venv/bin/python bench/bench_hot_streets.py [--shared DIR] [--only demo|demo-weekly|chicago]

``backtest(..., graph=G)`` on two networks, coverage = share of street length (``planner.hotspots.evaluate``):

1. Demostad (SYNTHETIC streets and signals): ``build_demo(seed=0, end=2026-11-01)`` in a
   temporary directory (what ``was-planner --data-dir D demo --end 2026-11-01`` builds), the
   whole town's walk graph from ``demostad.osm``, monthly splits 2026-06-01 … 2026-10-01, horizon
   30 days.
2. Chicago, Logan Square and Avondale (REAL): 952 aggravated assaults 2010-2017 (minute
   timestamps, lat/lon; ``../shared/data/incidents/chicago_logan_square_assaults_2010-2017.csv``,
   read through the importer's aliases as ``evaluate_file`` does) on the real OSM extract
   ``../shared/data/osm/chicago_logan_square_avondale.osm`` (``streets.build_ward_graph(None,
   osm=...)``, as ``evaluate --graph`` builds it), yearly splits 2012-01-01 … 2017-01-01, horizon
   365 days (90–150 test signals a year).
3. Demostad again, weekly: 26 splits every Monday 2026-05-04 … 2026-10-26, horizon 7 days, the
   horizon a WAS team plans a round for and the model card backtests (10–25 test signals a week
   on the whole town, so one week says little and the mean over half a year says more).

Per dataset: the PAI at 1, 5 and 10 % of street length per split and the mean over the splits,
for the calibrated planner (what the product ships: ``hot_street_calibration``, chosen on the
training folds only), the planner as it was before (``planner="fixed"``: the 150 m kernel with the
literature weights, same run) and every baseline; then the planner's mean minus the best
baseline's at each coverage, and each split's choice.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from _cli import run_main
from _gaps import gap_line

from planner import streets
from planner.hotspots.evaluate import METHODS, BacktestParams, BacktestResult, evaluate_file

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"
COVERAGES = ("1", "5", "10")
DEMO_SPLITS = ["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"]
CHICAGO_SPLITS = [f"{year}-01-01" for year in range(2012, 2018)]
WEEKLY_SPLITS = [str(day.date()) for day in pd.date_range("2026-05-04", "2026-10-26", freq="7D")]
WIDE = 8
"""Up to this many splits a table has a column per split; with more, a row per split."""
FIXED = "planner (fixed 150 m)"


def run(signals: Path, graph, splits: list[str], horizon: float) -> tuple[list[BacktestResult], list[BacktestResult],
                                                                          float]:
    """Calibrated and fixed backtests on every split, and the calibrated run's seconds per split."""
    t = time.perf_counter()
    calibrated = [evaluate_file(signals, split=s, params=BacktestParams(horizon_days=horizon), graph=graph)
                  for s in splits]
    seconds = (time.perf_counter() - t) / len(splits)
    fixed = [evaluate_file(signals, split=s, params=BacktestParams(horizon_days=horizon, planner="fixed"),
                           graph=graph) for s in splits]
    return calibrated, fixed, seconds


def tables(label: str, splits: list[str], calibrated: list[BacktestResult], fixed: list[BacktestResult],
           seconds: float) -> list[str]:
    """Markdown: PAI@1 / @5 / @10 per split and mean, the planner minus the best baseline, the choices."""
    net = calibrated[0].network
    lines = [f"\n### {label}\n",
             f"{net['street_km']:.1f} km of streets; test signals on the streets per split: "
             f"{', '.join(str(r.network['n_test']) for r in calibrated)}; {seconds:.1f} s per split "
             "(grid and streets, both calibrations). Cells: PAI@1 / @5 / @10 at that share of street length.\n"]
    rows = {"planner": [r.network["planner"] for r in calibrated], FIXED: [r.network["planner"] for r in fixed]}
    rows |= {name: [r.network[name] for r in calibrated] for name in METHODS if name != "planner"}
    means = {name: " / ".join(f"{statistics.mean(v[f'pai@{c}'] for v in values):.2f}" for c in COVERAGES)
             for name, values in rows.items()}
    cells = {name: [" / ".join(f"{v[f'pai@{c}']:.1f}" for c in COVERAGES) for v in values]
             for name, values in rows.items()}
    if len(splits) <= WIDE:
        lines += ["| method | " + " | ".join(splits) + " | mean |", "|---" * (len(splits) + 2) + "|"]
        lines += [f"| {name} | " + " | ".join(cells[name]) + f" | {means[name]} |" for name in rows]
    else:
        lines += ["| split | " + " | ".join(rows) + " |", "|---" * (len(rows) + 1) + "|"]
        lines += [f"| {split} | " + " | ".join(cells[name][i] for name in rows) + " |"
                  for i, split in enumerate(splits)]
        lines.append("| **mean** | " + " | ".join(means[name] for name in rows) + " |")
    baselines = [name for name in METHODS if name != "planner"]
    lines.append("\n" + gap_line({c: {name: [v[f"pai@{c}"] for v in rows[name]] for name in ["planner", *baselines]}
                                  for c in COVERAGES}))
    ahead = [sum(r.network["planner"][f"pai@{c}"] > max(r.network[b][f"pai@{c}"] for b in baselines)
                 for r in calibrated) for c in COVERAGES]
    lines.append("Splits where the planner beats every baseline: " + ", ".join(
        f"@{c} {n}/{len(splits)}" for c, n in zip(COVERAGES, ahead, strict=True)))
    grid = {name: " / ".join(f"{statistics.mean(r.methods[name][f'pai@{c}'] for r in calibrated):.2f}"
                             for c in COVERAGES) for name in METHODS}
    lines.append("The same splits on the 100 m grid, mean PAI@1 / @5 / @10: "
                 + ", ".join(f"{name} {value}" for name, value in grid.items()))
    lines.append("\nChosen on the training folds (hot streets; cells):")
    lines += [f"- {s}: {r.street_calibration.summary()}; cells {r.calibration.chosen.label()}"
              for s, r in zip(splits, calibrated, strict=True)]
    return lines


@contextlib.contextmanager
def demo_town() -> Iterator[tuple[Path, object]]:
    """Demostad's signals file and whole-town walk graph, built in a temporary directory."""
    from planner.demo import build_demo
    from planner.storage.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        summary = build_demo(open_store(f"sqlite:///{directory / 'was.db'}"), directory, seed=0,
                             end=date(2026, 11, 1))
        yield Path(summary.signals_file), streets.build_ward_graph(None, osm=summary.osm_file)


@contextlib.contextmanager
def chicago_area(shared: Path) -> Iterator[tuple[Path, object]]:
    """Chicago Logan Square / Avondale: the real assaults file and the real OSM extract's walk graph."""
    graph = streets.build_ward_graph(None, osm=shared / "osm" / "chicago_logan_square_avondale.osm")
    yield shared / "incidents" / "chicago_logan_square_assaults_2010-2017.csv", graph


NETWORKS = (
    ("demo", "Demostad (SYNTHETIC streets and signals), monthly splits, horizon 30 days",
     lambda shared: demo_town(), DEMO_SPLITS, 30.0),
    ("demo-weekly", "Demostad (SYNTHETIC streets and signals), weekly splits, horizon 7 days",
     lambda shared: demo_town(), WEEKLY_SPLITS, 7.0),
    ("chicago", "Chicago Logan Square / Avondale (REAL aggravated assaults, real OSM), yearly splits, "
     "horizon 365 days", chicago_area, CHICAGO_SPLITS, 365.0),
)


def measure(shared: Path = SHARED, *, only: str | None = None) -> list[str]:
    """Both sections (or ``only`` one), as Markdown lines."""
    lines = []
    for key, label, load, splits, horizon in NETWORKS:
        if only in (None, key):
            with load(shared) as (signals, graph):
                calibrated, fixed, seconds = run(signals, graph, splits, horizon)
            lines += tables(label, splits, calibrated, fixed, seconds)
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[key for key, *_ in NETWORKS])


if __name__ == "__main__":
    main()
