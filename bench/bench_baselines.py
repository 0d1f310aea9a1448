"""Planner against every hotspot baseline of ``planner.hotspots.evaluate``, per split and on average (issue 13).

Usage::

    .venv/bin/python bench/bench_baselines.py [--shared DIR] [--only sacramento|london] [--min-history-days D]
        [--cv-folds K] [--london-early]

Real data only: Sacramento (minute timestamps) on rolling daily splits 2006-01-08 … 2006-01-15
with a 7-day horizon (every 7-day horizon the three weeks of the file allow; the test weeks
overlap, so the splits are not independent), and the City of London (police.uk, month-only
dates) on monthly splits 2016-07-01 … 2017-06-01 with the next month as test set (horizon 28
days: a month-only signal starts on the first, so any horizon of 1–28 days takes that month);
``--london-early`` adds the five months before, 2016-02-01 … 2016-06-01 (one to five months of history).
Study area = training hull + 500 m in 100 m cells; the methods and the cross-validation rule are
those of ``planner.hotspots.evaluate`` (module docstring). Prints, per dataset, one table per coverage
(PAI per split, mean last) and a table of means with the number of splits the planner is ahead.
The planner is the shipped, calibrated surface (``--planner calibrated``, the default:
``planner.hotspots.calibration``) or the literature defaults before calibration (``--planner fixed``);
``--min-history-days`` overrides the short-history fallback (default 7 days).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _gaps import gap_line

from planner.hotspots.calibration import CalibrationParams
from planner.hotspots.evaluate import METHODS, BacktestParams, BacktestResult, backtest
from planner.signals.incidents import ParseOptions, parse_incidents, parse_mapping, read_table

SHARED = Path(os.environ.get("WAS_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")) / "data"
COVERAGES = ("1", "5", "10")
SACRAMENTO_SPLITS = [f"2006-01-{day:02d}" for day in range(8, 16)]
LONDON_SPLITS = [f"{year}-{month:02d}-01" for year, month in
                 [(2016, m) for m in range(7, 13)] + [(2017, m) for m in range(1, 7)]]
LONDON_EARLY_SPLITS = [f"2016-{month:02d}-01" for month in range(2, 7)]
"""The months before ``LONDON_SPLITS`` (``--london-early``): one to five months of history, the first
with no fold (every signal of a month has the same date), so the planner uses its prior there."""


def sacramento(shared: Path) -> pd.DataFrame:
    """The Sacramento file through the import aliases (as ``was-planner evaluate --mapping ...``)."""
    options = ParseOptions(mapping=parse_mapping("cdatetime=occurred_at,latitude=lat,longitude=lon"),
                           date_format="%m/%d/%y %H:%M", default_category="other")
    return parse_incidents(read_table(shared / "incidents" / "sacramento_2006-01-01_to_2006-01-21.csv"),
                           options=options).valid


def london(shared: Path) -> pd.DataFrame:
    """The City of London rows that have coordinates, month-only dates."""
    options = ParseOptions(mapping=parse_mapping("Month=occurred_at,Crime type=category"), default_category="other")
    valid = parse_incidents(read_table(shared / "incidents" / "city_of_london_street_2016-01_2017-06.csv"),
                            options=options).valid
    return valid.dropna(subset=["lat"])


def chicago(shared: Path, districts: tuple[str, ...], since: str = "2013-01-01") -> pd.DataFrame:
    """The city file's assaults in ``districts`` from ``since``, through the importer's aliases."""
    options = ParseOptions(mapping=parse_mapping("date=occurred_at,latitude=lat,longitude=lon"),
                           date_format="%Y-%m-%d %H:%M", default_category="violence")
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "chicago.csv"
        plain.write_bytes(gzip.decompress(
            (shared / "incidents" / "chicago_aggravated_assaults_2010-2017.csv.gz").read_bytes()))
        table = read_table(plain)
    rows = table.rows[table.rows["district"].isin(districts) & (table.rows["date"] >= since)]
    return parse_incidents(dataclasses.replace(table, rows=rows.reset_index(drop=True)), options=options).valid


def run(data: pd.DataFrame, splits: list[str], horizon: float, *, planner: str = "calibrated",
        calibration: CalibrationParams = CalibrationParams(),
        cv_folds: int = BacktestParams.cv_folds) -> tuple[list[BacktestResult], float]:
    """One backtest per split; also the mean seconds per split."""
    t = time.perf_counter()
    params = BacktestParams(horizon_days=horizon, planner=planner, calibration=calibration, cv_folds=cv_folds)
    results = [backtest(data, split=s, params=params) for s in splits]
    return results, (time.perf_counter() - t) / len(splits)


def means(results: list[BacktestResult], key: str) -> dict[str, float]:
    """Mean of ``methods[name][key]`` over the splits, per method."""
    return {name: statistics.mean(r.methods[name][key] for r in results) for name in METHODS}


def tables(label: str, splits: list[str], results: list[BacktestResult], seconds: float) -> list[str]:
    """Per coverage: PAI per split and the mean; then the means with the planner's wins."""
    n = len(results)
    lines = [f"\n### {label}: {n} splits, {seconds:.1f} s per split",
             "n_train / n_test per split: " + ", ".join(f"{r.n_train}/{r.n_test}" for r in results),
             "kde_cv bandwidth (m) per split: " + ", ".join(f"{r.bandwidths_m['kde_cv']:g}" for r in results),
             "planner calibrated per split: " + "; ".join(
                 (r.calibration.chosen.label() + (" (prior)" if r.calibration.fallback else "")
                  + f" {r.calibration.seconds:.1f} s") if r.calibration else "fixed" for r in results),
             "kde_scott bandwidth (m) per split: " + ", ".join(f"{r.bandwidths_m['kde_scott']:.0f}" for r in results)]
    for c in COVERAGES:
        key = f"pai@{c}"
        lines += [f"\nPAI@{c}", "| split | " + " | ".join(METHODS) + " |", "|---" + "|---:" * len(METHODS) + "|"]
        for split, r in zip(splits, results, strict=True):
            lines.append(f"| {split} | " + " | ".join(f"{r.methods[m][key]:.2f}" for m in METHODS) + " |")
        mean = means(results, key)
        lines.append("| **mean** | " + " | ".join(f"**{mean[m]:.2f}**" for m in METHODS) + " |")
    lines += ["\nmeans over the splits; 'planner ahead' = splits where the planner's PAI is higher",
              "| method | PAI@1 | PAI@5 | PAI@10 | planner ahead @1 | @5 | @10 |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    mean = {c: means(results, f"pai@{c}") for c in COVERAGES}
    for m in METHODS:
        ahead = [sum(r.methods["planner"][f"pai@{c}"] > r.methods[m][f"pai@{c}"] for r in results) for c in COVERAGES]
        wins = " | ".join("–" if m == "planner" else f"{a}/{n}" for a in ahead)
        lines.append(f"| {m} | " + " | ".join(f"{mean[c][m]:.2f}" for c in COVERAGES) + f" | {wins} |")
    lines.append("\n" + gap_line({c: {m: [r.methods[m][f"pai@{c}"] for r in results] for m in METHODS}
                                  for c in COVERAGES}))
    return lines


RUNS = (("sacramento", "Sacramento, horizon 7 days", sacramento, SACRAMENTO_SPLITS, 7.0),
        ("london", "City of London, next month", london, LONDON_SPLITS, 28.0))


def measure(shared: Path, *, only: str | None = None, planner: str = "calibrated",
            calibration: CalibrationParams = CalibrationParams(),
            cv_folds: int = BacktestParams.cv_folds, london_early: bool = False) -> list[str]:
    """The tables of every run in ``RUNS`` (or of the one named ``only``)."""
    lines = []
    for key, label, load, splits, horizon in RUNS:
        if key == "london" and london_early:
            splits = LONDON_EARLY_SPLITS + splits
        if only in (None, key):
            results, seconds = run(load(shared), splits, horizon, planner=planner, calibration=calibration,
                                   cv_folds=cv_folds)
            lines += tables(label, splits, results, seconds)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--only", choices=[key for key, *_ in RUNS])
    parser.add_argument("--planner", choices=["calibrated", "fixed"], default="calibrated",
                        help="the shipped, calibrated surface (default) or the literature defaults before it")
    parser.add_argument("--min-history-days", type=float, default=None,
                        help="calibrate the planner on histories shorter (or only longer) than the default 7 days")
    parser.add_argument("--cv-folds", type=int, default=BacktestParams.cv_folds,
                        help="folds of kde_cv's cross-validation before the extension (default: the backtest's)")
    parser.add_argument("--london-early", action="store_true",
                        help="also the City of London's first five monthly splits (one to five months of history)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    calibration = CalibrationParams()
    if args.min_history_days is not None:
        calibration = CalibrationParams(min_history_days=args.min_history_days)
    print(f"machine: {os.cpu_count()} cores; planner: {args.planner}, calibration min history "
          f"{calibration.min_history_days:g} days")
    print("\n".join(measure(args.shared, only=args.only, planner=args.planner, calibration=calibration,
                             cv_folds=args.cv_folds, london_early=args.london_early)))


if __name__ == "__main__":
    main()
