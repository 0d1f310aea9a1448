"""Which fixed surface should a short history get? Candidate priors scored on real short histories (issue 13).

Usage::

    .venv/bin/python bench/bench_prior.py [--shared DIR]
        [--only london|chicago|sacramento|chicago-streets|demo-streets]

Below the calibration's floors (``CalibrationParams.min_signals``, ``min_history_days``) or
with no fold to choose on, the planner's surface is the prior (``SurfaceParams()``): what a new
installation's map, hot streets and rounds get for their first months. Here a few fixed
surfaces of the calibration's grid are scored on the test period itself (as
``bench_hindsight.py`` scores every candidate) on short histories of real data:

- City of London: the split 2016-02-01 with its whole history (one month, month-only dates:
  no fold can be made), and the splits 2016-07-01 and 2017-01-01 with 100 or 200 random
  training signals (3 seeds each), the next month as test;
- Chicago, six ward-sized police districts (1, 8, 14, 17, 20, 25, as in ``bench_wards.py``):
  monthly splits 2016-07-01 … 2017-06-01 with only the last 90 or 180 days as history (30–510
  signals), the next 30 days as test;
- Sacramento: the splits 2006-01-11 and 2006-01-15 with 100 or 200 random training signals
  (3 seeds each), the next 7 days as test.

The hot streets have a prior of their own (``StreetSurfaceParams()``), scored the same way per
km of street (``bench_hindsight.street_candidate_pai``) on the networks of ``bench_hot_streets.py``:

- Chicago Logan Square / Avondale (REAL assaults, real OSM): yearly splits 2012-01-01 …
  2017-01-01 with only the last 180 or 365 days as history (50–150 signals), the next year as test;
- Demostad (SYNTHETIC): monthly splits 2026-03-01 … 2026-10-01 with the last 30 or 60 days as
  history (60–160 signals), the next 30 days as test.

Prints per dataset the mean PAI at 1 / 5 / 10 % of the area (or of street length) of each
fixed surface, of the baselines and of the shipped planner (which calibrates where the history
passes the floors), over the cases. The surfaces are the grid's four blends of one kernel: a small
choice, not a search.
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _cli import run_main
from bench_baselines import SHARED, chicago, london, sacramento
from bench_hindsight import cell_candidates, masks, street_candidate_pai
from bench_hot_streets import CHICAGO_SPLITS, chicago_area, demo_town
from bench_wards import DISTRICTS
from bench_wards import SPLITS as MONTHS

from planner.hotspots.calibration import CalibrationParams, SurfaceParams
from planner.hotspots.evaluate import METHODS, parse_split, read_for_backtest
from planner.hotspots.street_calibration import StreetCalibrationParams, StreetSurfaceParams

COVERAGES = (1, 5, 10)
SURFACES = {
    "blend 1 (the planner before calibration)": SurfaceParams(100.0, 30.0, 1.0),
    "blend 0.5 (shipped prior)": SurfaceParams(100.0, 30.0, 0.5),
    "blend 0.5, near-repeat off": SurfaceParams(100.0, 30.0, 0.5, near_repeat=False),
    "blend 0.25": SurfaceParams(100.0, 30.0, 0.25),
    "counts per cell": SurfaceParams(0.0, math.inf, 0.0, near_repeat=False),
}
STREET_SURFACES = {
    "150 m walk, blend 1 (the hot streets before calibration)": StreetSurfaceParams(150.0, 1.0),
    "150 m walk, blend 0.5 (shipped prior)": StreetSurfaceParams(150.0, 0.5),
    "150 m walk, blend 0.25": StreetSurfaceParams(150.0, 0.25),
    "counts per km": StreetSurfaceParams(0.0, 0.0),
}
EVERY_CANDIDATE = CalibrationParams(min_signals=0, min_history_days=0.0)
EVERY_STREET_CANDIDATE = StreetCalibrationParams(min_signals=0, min_history_days=0.0)
PLANNER = "planner (shipped: calibrated above the floors)"


def random_training(data: pd.DataFrame, split: str, horizon: float, n: int, seed: int) -> pd.DataFrame:
    """The test period's signals and ``n`` random ones of the training period."""
    frame = data.reset_index(drop=True)
    train, test = masks(frame, parse_split(split), horizon)
    kept = np.random.default_rng(seed).choice(np.flatnonzero(train), size=min(n, int(train.sum())), replace=False)
    keep = test.copy()
    keep[kept] = True
    return frame[keep].reset_index(drop=True)


def last_days(data: pd.DataFrame, split: str, days: int) -> pd.DataFrame:
    """The signals from ``days`` before the split on."""
    start = pd.to_datetime(data["occurred_from"], utc=True)
    return data[start >= parse_split(split) - pd.Timedelta(days=days)].reset_index(drop=True)


def random_cases(data: pd.DataFrame, splits: tuple[str, ...], horizon: float):
    """At each split, 100 or 200 random training signals (3 seeds each): (signals, split, horizon days)."""
    for split in splits:
        for n in (100, 200):
            for seed in range(3):
                yield random_training(data, split, horizon, n, seed), split, horizon


def london_cases(shared: Path):
    """The City of London's cases (module docstring): (signals, split, horizon days)."""
    data = london(shared)
    yield data, "2016-02-01", 28.0
    yield from random_cases(data, ("2016-07-01", "2017-01-01"), 28.0)


def chicago_cases(shared: Path):
    """The Chicago districts' cases (module docstring): (signals, split, horizon days)."""
    for district in DISTRICTS:
        data = chicago(shared, (district,))
        for split in MONTHS:
            for days in (90, 180):
                yield last_days(data, split, days), split, 30.0


def sacramento_cases(shared: Path):
    """Sacramento's cases (module docstring): (signals, split, horizon days)."""
    yield from random_cases(sacramento(shared), ("2006-01-11", "2006-01-15"), 7.0)


def network_cases(load, splits: list[str], days: tuple[int, ...], horizon: float):
    """The cases of a network loaded by ``load`` (``bench_hot_streets``): at each split, the
    signals of each of the last ``days`` on, as (signals, graph, split, horizon days)."""
    def cases(shared: Path):
        with load(shared) as (signals, graph):
            data = read_for_backtest(signals)
            for split in splits:
                for back in days:
                    yield last_days(data, split, back), graph, split, horizon
    return cases


DATASETS = (
    ("london", "City of London: 2016-02 on its one month, 2016-07 and 2017-01 on 100 or 200 random training "
     "signals (3 seeds)", london_cases),
    ("chicago", "Chicago, six districts: 12 monthly splits each on the last 90 or 180 days", chicago_cases),
    ("sacramento", "Sacramento: 2006-01-11 and 2006-01-15 on 100 or 200 random training signals (3 seeds)",
     sacramento_cases),
)
STREET_DATASETS = (
    ("chicago-streets", "Chicago Logan Square / Avondale (REAL), per km of street: 6 yearly splits on the last 180 "
     "or 365 days", network_cases(chicago_area, CHICAGO_SPLITS, (180, 365), 365.0)),
    ("demo-streets", "Demostad (SYNTHETIC), per km of street: 8 monthly splits on the last 30 or 60 days",
     network_cases(lambda shared: demo_town(), [f"2026-{month:02d}-01" for month in range(3, 11)], (30, 60), 30.0)),
)


def surface_pai(candidates: dict, surface: SurfaceParams, coverage: int) -> float:
    """The surface's PAI; near-repeat off where the data hold no near-repeat category (the grid then has none)."""
    return candidates.get((surface, float(coverage)), candidates.get((
        SurfaceParams(surface.bandwidth_m, surface.half_life_days, surface.blend, False), float(coverage))))


def street_pai(candidates: dict, surface: StreetSurfaceParams, coverage: int) -> float:
    """The street surface's PAI (the grid's one counts-per-km candidate stands for every counts-only surface)."""
    if surface.counts_only:
        surface = next(c for c, _ in candidates if c.counts_only and c.resolved_weight == surface.resolved_weight)
    return candidates[surface, float(coverage)]


def table(label: str, rows: dict[str, list[list[float]]]) -> list[str]:
    """The means over the cases of each row's PAI@1 / @5 / @10."""
    n = len(next(iter(rows.values())))
    lines = [f"\n### {label}: {n} cases, mean PAI@1 / @5 / @10\n", "| surface or method | PAI@1 / @5 / @10 |",
             "|---|---|"]
    for name, values in rows.items():
        means = " / ".join(f"{statistics.mean(v[i] for v in values):.2f}" for i in range(len(COVERAGES)))
        lines.append(f"| {name} | {means} |")
    return lines


def collect(surfaces: dict, pai_of, scored) -> dict[str, list[list[float]]]:
    """Per surface and method, the PAI at each coverage per case, from ``scored``: each case's
    candidates' PAI and the backtest's figures (``methods`` or ``network``)."""
    rows: dict[str, list[list[float]]] = {name: [] for name in [*surfaces, PLANNER, *METHODS[1:]]}
    for candidates, methods in scored:
        for name, surface in surfaces.items():
            rows[name].append([pai_of(candidates, surface, c) for c in COVERAGES])
        for name in METHODS:
            rows[PLANNER if name == "planner" else name].append([methods[name][f"pai@{c}"] for c in COVERAGES])
    return rows


def measure(shared: Path = SHARED, *, only: str | None = None) -> list[str]:
    """One table per dataset (or ``only`` one), as Markdown lines."""
    lines = []
    for key, label, cases in DATASETS:
        if only in (None, key):
            lines += table(label, collect(SURFACES, surface_pai, (
                cell_candidates(data, split, horizon, calibration=EVERY_CANDIDATE)
                for data, split, horizon in cases(shared))))
    for key, label, cases in STREET_DATASETS:
        if only in (None, key):
            lines += table(label, collect(STREET_SURFACES, street_pai, (
                street_candidate_pai(data, graph, split, horizon, calibration=EVERY_STREET_CANDIDATE)
                for data, graph, split, horizon in cases(shared))))
    return lines


def main() -> None:
    run_main(__doc__, measure, shared=SHARED, choices=[key for key, *_ in DATASETS + STREET_DATASETS])


if __name__ == "__main__":
    main()
