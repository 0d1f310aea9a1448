"""Backtest: how well would each hotspot method have forecast the signals that came next?

Train on the signals before a split date, forecast the next ``horizon_days``, and measure the
hit rate (share of the future signals inside the flagged area) and the PAI (Chainey et al.
2008: hit rate ÷ area share) at 1, 5 and 10 % of a fixed study area, for the planner and the
baselines an analyst would use, all run on the same cells and coverages:

- ``planner``: what WAS Planner ships (``BacktestParams.planner="calibrated"``, the default):
  the surface of ``calibration.calibrate_surface``, a blend of long-term counts and recent
  density with the planner's signal weights, plus an optional near-repeat term; its bandwidth
  (0 = counts per cell), recency half-life (∞ = whole history), blend and near-repeat on/off
  are chosen from a small grid by the cross-validation rule of ``kde_cv``
  (``calibration.cv_choose``) on rolling folds of the training period
  (``CalibrationParams.folds``, 4 by default, more on a small history: below), with the
  prior (``SurfaceParams()``) when the history is too short; its cells are ordered like the
  baselines' on ties. With a ``window`` these are chosen on every fold signal, and then how
  much the other hours and weekdays count for the window (``calibration.TIME_WEIGHTINGS``) on
  the fold signals in it, on every weekday. The same choice, made on all stored signals,
  weights an installation's hotspots, hot streets and routes (``tuning``).
  With ``planner="fixed"``: the literature defaults as shipped before calibration (signal
  weights with half-life 30 days on a Gaussian kernel of ``bandwidth_m``, plus the
  near-repeat term, scores used as they are).
- ``naive_all``: signals per cell over the whole training period.
- ``naive_4w``: signals per cell over the last 4 weeks before the split.
- ``kde_cv``: planar Gaussian KDE of all training signals with the bandwidth chosen by
  rolling-origin cross-validation on the training period (below).
- ``kde_50m``, ``kde_100m``, ``kde_200m``: the same KDE at fixed bandwidths.
- ``kde_scott``: the same KDE with Scott's rule (about 1 km on a city-wide spread: a bandwidth
  no analyst would pick, kept for comparison with earlier figures).

The earlier names stay in the results with the same values: ``kde`` is ``kde_scott`` and
``naive`` is ``naive_4w`` (``ALIASES``).

Every KDE is scikit-learn's ``KernelDensity`` (Gaussian, standard deviation = bandwidth) read
at the cell centres. The baselines never tie: cells with the same score are ordered by the
50 m KDE of the training signals, then by the lower cell index (``deterministic_rank``), so a
count map is one map an analyst could print, independent of the order of the input rows. The
calibrated planner is ordered the same way; the fixed planner's score is used as it is, its ties
at the threshold sharing the remaining places (below).

Cross-validation of ``kde_cv`` (``BacktestParams.cv_bandwidths_m``, ``cv_folds``). Only the
training signals are read. Going back from the split, each fold's origin is the latest training
signal start at least one fold length before the previous origin (the split for the first
fold); the fold length is ``horizon_days`` (local calendar days, as the horizon) but at most the
training period ÷ (folds + 1), so a short history still gives every fold something to train on.
A fold splits like the backtest: it
trains on the signals that began before its origin and ended by it, and is tested on those that
began between its origin and the previous one (in the target window, as the real test signals
are). Taking origins at signal starts keeps month-only data (police.uk) on whole months. When
the asked folds hold fewer than 2,000 test signals (``ENOUGH_FOLD_SIGNALS``) and the history
goes further back, more folds of the same length follow, up to 12 (``MAX_FOLDS``): on a
ward-sized history (10–100 signals a month) four folds held too few test signals to choose
among the candidates (measured in bench/RESULTS.md, "How many folds"). Each
candidate bandwidth is scored by its hit rates at the evaluation coverages, pooled over the
folds: the one that catches the most fold test signals, summed over the coverages (the highest
mean hit rate), wins; the smaller bandwidth on a tie. The coverages thus count by what they
catch (10 % most): on a few hundred signals the handful caught at 1 % is too noisy to decide
alone. With no fold test signal caught the bandwidth is 100 m.

The study area is the union of the wards when given, otherwise the convex hull of the training
signals buffered by 500 m; it is cut into 100 m × 100 m cells in a metric CRS (RD New in the
Netherlands, local UTM elsewhere) and a cell belongs to it when its centre does. A method's
forecast at coverage c % is its best-scoring ``round(c % × cells)`` cells; cells tied at the
threshold share the remaining places, so their future signals count in proportion (the expected
value of a random tie-break).

A signal is training data when it began before the split and ended by it, and test data when it
began within the horizon, counted in local calendar days (one at the very moment of the split is
test data only; 31 days from 1 March end at 1 April's midnight across the clock change); one that
straddles the split is neither. Month-only signals (police.uk) therefore work at month
resolution: split on the first of a month and the next month's signals are the test set. The
training signals carry the statuses known at the split (``weights.statuses_at``): a status
dates from the import that stored it, a file's from its export, so a signal resolved later was
open at the split (reading its final status told the planner, alone of the methods, part of
the future).

Per km of street (``graph`` given, a prepared walk graph). The same methods rank the graph's
streets (both directions of a street are one street) and coverage is measured by street
length, as DOMAIN.md asks for networks: PAI = hit-rate share ÷ street-length share, at 1, 5 and
10 % of the graph's street length. Test signals count when they lie within ``streets.snap_m`` of
a street (snapped to the nearest); the others are not on this network and are left out.

- ``planner``: ``hotspots.hot_streets``, exactly what the map's hot streets and the route prizes
  show, calibrated (``BacktestParams.planner="calibrated"``, the default) as the product is
  (``hot_street_calibration``): a blend of counts per km and a network or planar kernel
  density, its kernel, bandwidth, blend, recency half-life and weight of resolved signals
  chosen from a small grid by the rule of ``kde_cv`` on rolling folds of the training period
  (``StreetCalibrationParams.folds``), with the cell calibration's signal weights; its streets
  ordered like the baselines' on ties. With ``planner="fixed"``: the 150 m kernel with the
  planner's weights, scores used as they are.
- ``naive_all``, ``naive_4w``: training signals snapped to each street, per km of that street.
- ``kde_*``: the planar KDEs above read at each street's midpoint; ``kde_cv`` is cross-validated
  the same way, but scored per km of street on the streets.

Ties among streets are broken by the 50 m KDE at the midpoint, then by the lower street index.
Every score is per unit of length, so a long street is not favoured for its length alone. The
forecast at c % is the best-scoring streets up to c % of the total length; the street (or group
of tied streets) at the threshold is taken in part and its future signals count in proportion to
the length taken, the continuous form of the tie rule for cells.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree
from sklearn.neighbors import KernelDensity

from .. import settings
from .._errors import InputError
from .._geo import graph_crs, metric_crs_for, metric_xy, require_crs, street_table
from .._parse import check_day
from .._time import after_local_days, local_minute, utc_timestamp
from .._validation import Constraints, Rule, check_params, each, instance, integer, one_of, optional, real
from ..signals.incidents import ParseOptions, parse_incidents, read_table
from .calibration import (
    Calibration,
    CalibrationParams,
    Fold,
    FoldScoring,
    SignalUnits,
    calibrate_surface,
    cv_choose,
    deterministic_rank,
    near_repeat_term,
)
from .network import HotStreetParams, hot_streets
from .street_calibration import StreetCalibration, StreetCalibrationParams, calibrate_streets
from .weights import HotspotParams, base_weights, signal_weights, statuses_at
from .window import TimeWindow, in_window

log = logging.getLogger(__name__)

FIXED_BANDWIDTHS_M: tuple[float, ...] = (50.0, 100.0, 200.0)
"""Bandwidths (m) of the fixed-bandwidth KDE baselines ``kde_50m``, ``kde_100m``, ``kde_200m``."""
METHODS: tuple[str, ...] = (
    "planner", "naive_all", "naive_4w", "kde_cv", *(f"kde_{h:g}m" for h in FIXED_BANDWIDTHS_M), "kde_scott",
)
ALIASES: dict[str, str] = {"kde": "kde_scott", "naive": "naive_4w"}
"""Earlier method names, kept in the results with the values of the method they now name."""
PATROL_SIGNALS: tuple[str, ...] = ("with", "without")
PLANNER_SURFACES: tuple[str, ...] = ("calibrated", "fixed")
MAX_HORIZON_DAYS = 3653
"""Longest forecast period of a backtest (ten years): longer ones leave no date to test on and
overflow the timestamps."""
_BANDWIDTHS = each(real(low=0, low_open=True), allowed="bandwidths > 0")
RECENT_WEEKS = 4.0
"""``naive_4w`` counts the training signals that ended in this many weeks before the split."""
TIE_BANDWIDTH_M = 50.0
"""Bandwidth (m) of the KDE that orders the cells (or streets) a baseline scores equally."""
CV_FALLBACK_M = 100.0
"""``kde_cv``'s bandwidth when no fold test signal is caught (too short a history): the middle fixed one."""
ENOUGH_FOLD_SIGNALS = 2000
MAX_FOLDS = 12
"""Folds beyond the asked number are added, one fold length further back each, while the folds
hold fewer test signals than ``ENOUGH_FOLD_SIGNALS``, up to ``MAX_FOLDS`` (module docstring)."""
_KDE_RTOL = 1e-4
_BACKTEST_OPTIONS = ParseOptions(default_category="other")


@dataclass(frozen=True)
class BacktestParams:
    """What to forecast and how to measure it.

    Parameters
    ----------
    horizon_days
        Length of the forecast period after the split (days).
    window
        Target window: only test signals that more likely than not fell inside it count, and the
        ``planner`` method weighs training signals by their relevance for it.
    cell_m
        Side of the study area's cells (m).
    coverages
        Shares of the study area (%) at which hit rate and PAI are reported.
    study_buffer_m
        Buffer around the training signals' hull when no wards are given (m).
    cv_bandwidths_m
        Candidate bandwidths (m) of ``kde_cv``, tried by rolling-origin cross-validation on the
        training period (module docstring).
    cv_folds
        Most folds of that cross-validation: the last this many stretches of the training period,
        each forecast from the signals before it.
    hotspot
        The planner's signal weights and kernel (``HotspotParams``; its ``window`` is replaced
        by this ``window``).
    streets
        Network backtest only: how far a signal may lie from a street to be snapped to it
        (``snap_m``) and, for ``planner="fixed"``, the hot-streets kernel (``bandwidth_m``,
        ``blend``); its ``weights`` are replaced by ``hotspot`` with this ``window``.
    planner
        ``"calibrated"`` (default): the surface the product ships (``calibration.calibrate_surface``,
        its parameters chosen on the training period by rolling folds, as ``tuning`` chooses
        them for an installation's hotspots and routes); ``"fixed"``: the literature defaults of
        ``hotspot`` as they were before calibration (Gaussian ``bandwidth_m`` + near-repeat,
        scores used as they are), kept for comparison.
    calibration
        The candidate grid and the short-history fallback of the calibrated planner.
    street_calibration
        The same for the calibrated planner's hot streets (network backtest only).
    patrol_signals
        ``"with"`` (default) trains on every signal; ``"without"`` leaves the signals found on
        patrol (``on_patrol``) out of the training data of every method, to see whether they
        help the forecast or only echo where patrols went. The test signals are the same.
    """

    horizon_days: float = 7.0
    window: TimeWindow | None = None
    cell_m: float = 100.0
    coverages: tuple[float, ...] = (1.0, 5.0, 10.0)
    study_buffer_m: float = 500.0
    cv_bandwidths_m: tuple[float, ...] = (25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0)
    cv_folds: int = 2
    hotspot: HotspotParams = field(default_factory=HotspotParams)
    streets: HotStreetParams = field(default_factory=HotStreetParams)
    patrol_signals: str = "with"
    planner: str = "calibrated"
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    street_calibration: StreetCalibrationParams = field(default_factory=StreetCalibrationParams)

    _constraints: ClassVar[Constraints] = {
        "patrol_signals": one_of(*PATROL_SIGNALS),
        "planner": one_of(*PLANNER_SURFACES),
        "horizon_days": real(low=0, low_open=True, high=MAX_HORIZON_DAYS,
                             allowed=f"at most {MAX_HORIZON_DAYS} (ten years) and > 0"),
        "cell_m": real(low=0, low_open=True),
        "study_buffer_m": real(low=0),
        "coverages": each(real(low=0, high=100, low_open=True), allowed="percentages in (0, 100]"),
        "cv_bandwidths_m": Rule(lambda hs: _BANDWIDTHS.test(hs) and list(hs) == sorted(set(hs)),
                                "distinct bandwidths > 0 in increasing order"),
        "cv_folds": integer(low=1),
        "window": optional(instance(TimeWindow)),
        "hotspot": instance(HotspotParams),
        "streets": instance(HotStreetParams),
        "calibration": instance(CalibrationParams),
        "street_calibration": instance(StreetCalibrationParams),
    }

    def __post_init__(self) -> None:
        # Named as the user sets it (`--horizon-days`, the dashboard's field), not as a Python field.
        check_params(self, labels={"horizon_days": "the forecast horizon in days"})


@dataclass(frozen=True)
class BacktestResult:
    """Hit rate and PAI per method and coverage, on one split.

    ``methods[name]`` holds ``hit_rate@c`` and ``pai@c`` for each coverage ``c`` (in %), for every
    name in ``METHODS`` and ``ALIASES``. ``network`` is ``None`` without a graph; with one it holds
    the same keys per method at c % of the street length, plus ``street_km`` (the graph's street
    length) and ``n_test`` (test signals snapped to its streets).

    ``bandwidths_m`` holds the bandwidths (m) that were chosen, not given: ``kde_cv`` and
    ``kde_scott`` on the grid, and ``network_kde_cv`` with a graph. ``scores`` holds each
    method's ranking score per cell of the study area (``network_scores`` per street): what the
    forecasts were made of, for checks; neither is part of ``to_json``. ``calibration`` and
    ``street_calibration`` hold the calibrated planner's choices on the cells and the streets.
    """

    methods: dict[str, dict[str, float]]
    n_train: int
    n_test: int
    n_cells: int
    split: pd.Timestamp
    crs: str
    network: dict[str, Any] | None = None
    bandwidths_m: dict[str, float] = field(default_factory=dict)
    scores: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    calibration: Calibration | None = None
    network_scores: dict[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    street_calibration: StreetCalibration | None = None
    n_outside: int = 0
    """Test signals outside the study area: in no method's forecast, so left out of ``n_test``."""

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: ``{"methods": {...}, "n_train": N, "n_test": N}``.

        ``methods`` maps each name of ``METHODS`` and ``ALIASES`` to the same six keys. With a
        graph, one more key: ``"network": {"planner": {...}, ..., "street_km": x, "n_test": N}``
        (the same names and six keys per method, at shares of street length). The calibrated
        planner's choice is in ``summary()`` and ``calibration``, not here: the shape is a contract.
        """
        payload: dict[str, Any] = {"methods": self.methods, "n_train": self.n_train, "n_test": self.n_test}
        if self.network is not None:
            payload["network"] = self.network
        return payload

    def _outside_note(self) -> str:
        return f" ({self.n_outside} more outside the study area, left out)" if self.n_outside else ""

    def summary(self) -> str:
        """A small table for people."""
        keys = list(self.methods["planner"])
        head = f"{'method':<10}" + "".join(f"{k:>14}" for k in keys)
        lines = [
            (
                f"split {local_minute(self.split)}: {self.n_train} training signals, {self.n_test} "
                f"test signals{self._outside_note()}, {self.n_cells} cells of the study area ({self.crs})"
            ),
            head,
        ]
        lines += [f"{name:<10}" + "".join(f"{self.methods[name][k]:>14.3f}" for k in keys) for name in METHODS]
        chosen = ", ".join(f"{name} {h:g} m" for name, h in self.bandwidths_m.items())
        lines.append(f"bandwidths: {chosen}; " + ", ".join(f"{old} = {new}" for old, new in ALIASES.items()))
        if self.calibration is not None:
            cal = self.calibration
            how = f"prior ({cal.reason})" if cal.fallback else f"best of {cal.n_candidates} on {cal.n_folds} folds"
            lines.append(f"planner calibrated: {cal.chosen.label()}, {how}, {cal.seconds:.1f} s")
        if self.network is not None:
            net = self.network
            lines.append(
                f"per km of street: {net['street_km']:.1f} km of streets, {net['n_test']} test signals "
                f"on them; coverage = share of street length"
            )
            lines.append(head)
            lines += [f"{name:<10}" + "".join(f"{net[name][k]:>14.3f}" for k in keys) for name in METHODS]
            if self.street_calibration is not None:
                lines.append(f"hot streets calibrated: {self.street_calibration.summary()}, "
                             f"{self.street_calibration.seconds:.1f} s")
        return "\n".join(lines)


def parse_split(text: str | datetime | pd.Timestamp) -> pd.Timestamp:
    """A split date or moment as UTC; a naive value is Dutch local time (like imported files)."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        msg = f"split must be a date such as 2006-01-08 (or 2006-01-08T12:00), got {text!r}"
        raise InputError(msg) from None
    if pd.isna(stamp):
        msg = f"split must be a date, got {text!r}"
        raise InputError(msg)
    check_day(stamp.date(), what=f"split {text}")
    return utc_timestamp(stamp)


@dataclass(frozen=True)
class _Grid:
    """The study area's cells: origin, shape, and which grid cells are in the area."""

    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    inside: np.ndarray  # bool (ny, nx)

    def index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell index per point, −1 outside the area."""
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        flat = np.full(len(x), -1, dtype=np.int64)
        flat[ok] = iy[ok] * self.nx + ix[ok]
        flat[ok] = np.where(self.inside.ravel()[flat[ok]], flat[ok], -1)
        return flat

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the cells in the area (flat order)."""
        gy, gx = np.divmod(np.flatnonzero(self.inside.ravel()), self.nx)
        return self.x0 + (gx + 0.5) * self.size, self.y0 + (gy + 0.5) * self.size


def _study_grid(area, size: float) -> _Grid:
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = math.floor(minx / size) * size, math.floor(miny / size) * size
    nx, ny = math.ceil((maxx - x0) / size), math.ceil((maxy - y0) / size)
    gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * size, y0 + (np.arange(ny) + 0.5) * size)
    inside = shapely.contains_xy(area, gx, gy)
    if not inside.any():
        msg = "the study area holds no whole cell; give larger wards or more signals"
        raise InputError(msg)
    return _Grid(x0, y0, size, nx, ny, inside)


def _scores_planner(
    train: pd.DataFrame, x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray,
    split: pd.Timestamp, params: HotspotParams,
) -> np.ndarray:
    """Prospective risk per cell: weighted Gaussian kernel plus the near-repeat term."""
    weights = signal_weights(train, params=params, now=split)
    w = weights["weight"].to_numpy()
    base = base_weights(weights)
    cells = cKDTree(np.column_stack([cx, cy]))
    points = cKDTree(np.column_stack([x, y]))
    sigma = params.bandwidth_m
    near = cells.sparse_distance_matrix(points, 3 * sigma, output_type="coo_matrix")
    score = np.bincount(near.row, weights=w[near.col] * np.exp(-0.5 * (near.data / sigma) ** 2),
                        minlength=len(cx))
    end = pd.to_datetime(train["occurred_to"], utc=True)
    age = ((split - end) / pd.Timedelta(days=1)).to_numpy(float)
    eligible = train["category"].isin(params.near_repeat_categories).to_numpy()
    if params.near_repeat_weight > 0:
        score += params.near_repeat_weight * near_repeat_term(cells, x, y, age_days=age, eligible=eligible,
                                                              base=base, params=params)
    return score


def scott_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Scott's rule for a 2-D Gaussian kernel: n^(−1/6) × the pooled standard deviation."""
    n = len(x)
    spread = math.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2) if n > 1 else 0.0
    return max(spread * n ** (-1 / 6), 1.0)


def kde_log_density(
    x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray, *, bandwidth_m: float
) -> np.ndarray:
    """Log of the planar Gaussian KDE of the points (x, y), read at (px, py) (``planar_kde``)."""
    return planar_kde(x, y, bandwidth_m=bandwidth_m)(px, py)


def planar_kde(x: np.ndarray, y: np.ndarray, *, bandwidth_m: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The log of the planar Gaussian KDE of the points (x, y), as a function of where it is read.

    scikit-learn's ``KernelDensity`` (standard deviation ``bandwidth_m``, relative tolerance
    1e-4). The log does not underflow far from every point, so distance still roughly orders the
    cells there, though the tolerance is not kept beyond about 5 bandwidths (measured on 600
    points: the log off by up to 55 further out; on the backtests' real cells it moves no cell of
    any top 1 / 5 / 10 % but within the tolerance: bench/RESULTS.md). The points are sorted
    first: the tree, and so every rounding, does not depend on the order of the input rows. Each
    place is read on its own, so reading some places gives what reading them among others does.
    """
    order = np.lexsort((y, x))
    model = KernelDensity(bandwidth=bandwidth_m, kernel="gaussian", rtol=_KDE_RTOL)
    model.fit(np.column_stack([x[order], y[order]]))
    return lambda px, py: model.score_samples(np.column_stack([px, py]))


def fold_tiebreaks(
    x: np.ndarray, y: np.ndarray, fits: Sequence[np.ndarray], ux: np.ndarray, uy: np.ndarray, *,
    bandwidth_m: float = TIE_BANDWIDTH_M,
) -> list[Callable[[np.ndarray], np.ndarray]]:
    """Per fold, its tie-break at the units ``ux, uy`` as a function of unit indices: the log KDE
    (``planar_kde``) of the signals at ``x, y`` its ``fits`` mask holds, each unit read when first asked.

    A fold whose signals hold another's (rolling folds: each later origin holds the earlier ones')
    reads a KDE only of the signals the other lacks, and pools it with the other's: a week's
    signals instead of the whole history per fold. The pooled density is the same sum of kernels,
    within the KDEs' tolerance.
    """
    return _FoldTiebreaks(x, y, [np.asarray(f, dtype=bool) for f in fits], ux, uy, bandwidth_m).readers()


class _FoldTiebreaks:
    """``fold_tiebreaks``: each fold's log densities read so far (NaN: not yet)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, fits: list[np.ndarray], ux: np.ndarray, uy: np.ndarray,
                 bandwidth_m: float) -> None:
        self.x, self.y, self.fits, self.ux, self.uy, self.bandwidth_m = x, y, fits, ux, uy, bandwidth_m
        self.sizes = [int(f.sum()) for f in fits]
        # The largest other fold inside each fold: what it adds to.
        self.inner = [max((j for j, g in enumerate(fits) if self.sizes[j] < self.sizes[k] and not (g & ~f).any()),
                          key=self.sizes.__getitem__, default=None) for k, f in enumerate(fits)]
        self.values = [np.full(len(ux), np.nan) for _ in fits]
        self._kdes: dict[int, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {}
        # Folds are read side by side; a fold reads only the folds inside it, so no two wait on each other.
        self._locks = [threading.Lock() for _ in fits]

    def readers(self) -> list[Callable[[np.ndarray], np.ndarray]]:
        return [lambda units, k=k: self.read(k, units) for k in range(len(self.fits))]

    def read(self, k: int, units: np.ndarray) -> np.ndarray:
        with self._locks[k]:
            return self._read(k, units)

    def _read(self, k: int, units: np.ndarray) -> np.ndarray:
        missing = units[np.isnan(self.values[k][units])]
        if len(missing):
            inner = self.inner[k]
            own = self.fits[k] if inner is None else self.fits[k] & ~self.fits[inner]
            if k not in self._kdes:
                self._kdes[k] = planar_kde(self.x[own], self.y[own], bandwidth_m=self.bandwidth_m)
            density = self._kdes[k](self.ux[missing], self.uy[missing])
            if inner is not None:
                n_inner, n_own = self.sizes[inner], self.sizes[k] - self.sizes[inner]
                density = np.logaddexp(self.read(inner, missing) + math.log(n_inner),
                                       density + math.log(n_own)) - math.log(self.sizes[k])
            self.values[k][missing] = density
        return self.values[k][units]


def rolling_folds(
    starts: pd.Series, ends: pd.Series, *, split: pd.Timestamp, horizon_days: float, folds: int,
    testable: np.ndarray,
) -> list[Fold]:
    """The folds (``Fold``: masks over the training signals and the origin), latest fold first.

    Only training signals are given, so no fold can read the forecast period; the origins, the
    fold length and when folds beyond ``folds`` are added follow the module docstring.
    ``testable`` marks the signals that may be test signals of a fold (those in the target
    window). Folds without training or test signals are left out.
    """
    start = starts.to_numpy("datetime64[ns]")
    end = ends.to_numpy("datetime64[ns]")
    cap = (split.to_datetime64() - start.min()) // (folds + 1)
    horizon = np.timedelta64(int(horizon_days * 86_400e9), "ns")

    def fold_start(previous: np.datetime64) -> np.datetime64:
        # A fold of the horizon counts local calendar days, as the backtest's own horizon does.
        if cap < horizon:
            return previous - cap
        return after_local_days(pd.Timestamp(previous, tz="UTC"), -horizon_days).to_datetime64()

    out = []
    previous = split.to_datetime64()
    tested = 0
    for step in range(max(folds, MAX_FOLDS)):
        if step >= folds and tested >= ENOUGH_FOLD_SIGNALS:
            break
        earlier = start[start <= fold_start(previous)]
        if not len(earlier):
            break
        origin = earlier.max()
        fit = (end <= origin) & (start < origin)
        test = (start >= origin) & (start < previous) & testable
        if fit.any() and test.any():
            out.append(Fold(fit, test, pd.Timestamp(origin, tz="UTC")))
            tested += int(test.sum())
        previous = origin
    return out


def cv_bandwidth(
    density: Callable[[float, np.ndarray], np.ndarray],
    folds: list[Fold],
    *,
    fold_hits: Callable[[np.ndarray], np.ndarray],
    rates: Callable[[np.ndarray, np.ndarray], dict[str, float]],
    bandwidths: tuple[float, ...],
    coverages: tuple[float, ...],
) -> float:
    """The candidate bandwidth that catches the most fold test signals over the coverages (module docstring).

    ``density(h, fit)`` scores the units from the fold's training signals, ``fold_hits(test)``
    counts the fold's test signals per unit and ``rates`` turns both into ``hit_rate@c``.
    """
    best, caught, tested = cv_choose(lambda i, k: density(bandwidths[i], folds[k].fit), len(bandwidths), folds,
                                     fold_hits=fold_hits, rates=rates, coverages=coverages)
    if best is None:
        log.warning("kde_cv: no fold caught a test signal; bandwidth %g m", CV_FALLBACK_M)
        return CV_FALLBACK_M
    log.info("kde_cv: mean hit rate over the coverages on %d fold test signals: %s", tested,
             ", ".join(f"{h:g} m {c / tested / len(coverages):.3f}"
                       for h, c in zip(bandwidths, caught, strict=True)))
    return float(bandwidths[best])


class _Densities:
    """``kde_log_density`` of the training signals ``tx, ty`` (or of a fold's, ``fit``) at the units
    ``ux, uy``, each bandwidth and fold computed once: the baselines, ``kde_cv``'s folds and the
    tie-breaks of the planner and its calibration folds ask for many of the same (on a whole city
    these KDEs are most of a backtest's time)."""

    def __init__(self, tx: np.ndarray, ty: np.ndarray, ux: np.ndarray, uy: np.ndarray) -> None:
        self.tx, self.ty, self.ux, self.uy = tx, ty, ux, uy
        self._memo: dict[tuple[float, bytes | None], np.ndarray] = {}

    def __call__(self, h: float, fit: np.ndarray | None = None) -> np.ndarray:
        key = (h, None if fit is None else np.asarray(fit, dtype=bool).tobytes())
        if key not in self._memo:
            x, y = (self.tx, self.ty) if fit is None else (self.tx[fit], self.ty[fit])
            self._memo[key] = kde_log_density(x, y, self.ux, self.uy, bandwidth_m=h)
        return self._memo[key]


def _baseline_scores(
    density: _Densities, *,
    counts_all: np.ndarray, counts_recent: np.ndarray, scoring: FoldScoring, params: BacktestParams,
) -> tuple[dict[str, np.ndarray], float]:
    """Ranks of every baseline at the units (cells or street midpoints of ``density``), and kde_cv's bandwidth.

    ``counts_*`` are the training signals per unit (all, last weeks); ``scoring`` how kde_cv's
    bandwidths are judged on the folds.
    """
    chosen = cv_bandwidth(density, scoring.folds, fold_hits=scoring.fold_hits, rates=scoring.rates,
                          bandwidths=params.cv_bandwidths_m, coverages=scoring.coverages)
    primary = {
        "naive_all": counts_all,
        "naive_4w": counts_recent,
        "kde_cv": density(chosen),
        **{f"kde_{h:g}m": density(h) for h in FIXED_BANDWIDTHS_M},
        "kde_scott": density(scott_bandwidth(density.tx, density.ty)),
    }
    tiebreak = density(TIE_BANDWIDTH_M)
    return {name: deterministic_rank(score, tiebreak=tiebreak) for name, score in primary.items()}, chosen


def _cell_scoring(folds: list[Fold], per_cell: Callable[[np.ndarray], np.ndarray],
                  coverages: tuple[float, ...]) -> FoldScoring:
    """Fold forecasts of cells judged by their exact hit rates (``hit_rates``)."""
    return FoldScoring(folds, per_cell, lambda s, h: hit_rates(s, h, coverages, digits=None), coverages)


def _with_aliases(methods: dict[str, Any]) -> dict[str, Any]:
    return {**methods, **{old: dict(methods[new]) for old, new in ALIASES.items()}}


def hit_rates(
    scores: np.ndarray, hits: np.ndarray, coverages: tuple[float, ...], *, digits: int | None = 6
) -> dict[str, float]:
    """``hit_rate@c`` and ``pai@c`` for each coverage; ties at the threshold share the places.

    Rounded to ``digits`` for reports; ``None`` keeps them exact, as choosing between candidates
    must (a rounded rate times the fold's signals can tie two candidates that differ).
    """
    n = len(scores)
    total = hits.sum()
    ranked = np.sort(scores)[::-1]
    out: dict[str, float] = {}
    for coverage in coverages:
        k = max(1, round(coverage / 100 * n))
        threshold = ranked[k - 1]
        above = scores > threshold
        tied = scores == threshold
        caught = hits[above].sum() + (k - above.sum()) / tied.sum() * hits[tied].sum()
        rate = float(caught / total) if total else 0.0
        label = f"{coverage:g}"
        out[f"hit_rate@{label}"] = _rounded(rate, digits)
        out[f"pai@{label}"] = _rounded(rate / (k / n), digits)
    return out


def _rounded(value: float, digits: int | None) -> float:
    return float(value) if digits is None else round(float(value), digits)


def length_hit_rates(
    scores: np.ndarray, hits: np.ndarray, lengths: np.ndarray, coverages: tuple[float, ...], *,
    digits: int | None = 6,
) -> dict[str, float]:
    """``hit_rate@c`` and ``pai@c`` at c % of the total length, best-scoring streets first.

    The street or group of tied streets at the threshold is taken in part; its hits count in
    proportion to the length taken. PAI = hit rate ÷ (c / 100). ``digits`` as in ``hit_rates``.
    """
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    group = np.cumsum(np.r_[True, ranked[1:] != ranked[:-1]]) - 1
    return _length_rates(order, group, hits, lengths, coverages, digits)


def ranked_length_hit_rates(
    best_first: np.ndarray, hits: np.ndarray, lengths: np.ndarray, coverages: tuple[float, ...], *,
    digits: int | None = 6,
) -> dict[str, float]:
    """``length_hit_rates`` of streets taken in the order ``best_first`` (street indices, no ties).

    ``best_first`` may stop once it holds the largest coverage's length
    (``calibration.best_first``).
    """
    return _length_rates(best_first, np.arange(len(best_first)), hits, lengths, coverages, digits)


def _length_rates(order: np.ndarray, group: np.ndarray, hits: np.ndarray, lengths: np.ndarray,
                  coverages: tuple[float, ...], digits: int | None) -> dict[str, float]:
    """Hit rates of the streets ``order`` takes first; ``group`` (0, 1, … along it) marks the tied ones."""
    group_len = np.bincount(group, weights=lengths[order])
    group_hits = np.bincount(group, weights=hits[order])
    cum_len, cum_hits = np.cumsum(group_len), np.cumsum(group_hits)
    total_len, total = float(lengths.sum()), float(hits.sum())
    out: dict[str, float] = {}
    for coverage in coverages:
        target = coverage / 100 * total_len
        i = min(int(np.searchsorted(cum_len, target * (1 - 1e-12))), len(group_len) - 1)
        before_len, before_hits = cum_len[i] - group_len[i], cum_hits[i] - group_hits[i]
        part = (target - before_len) / group_len[i] if group_len[i] > 0 else 0.0
        caught = before_hits + min(max(part, 0.0), 1.0) * group_hits[i]
        rate = caught / total if total else 0.0
        label = f"{coverage:g}"
        out[f"hit_rate@{label}"] = _rounded(rate, digits)
        out[f"pai@{label}"] = _rounded(rate / (coverage / 100), digits)
    return out


def _snap_to_streets(
    geometry: np.ndarray, x: np.ndarray, y: np.ndarray, snap_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, street index) of the points within ``snap_m`` of a street, nearest street."""
    tree = shapely.STRtree(geometry)
    found = tree.query_nearest(shapely.points(x, y), max_distance=snap_m, all_matches=False)
    return found[0], found[1]


@dataclass(frozen=True, eq=False)
class _Split:
    """The signals on either side of the split: training (``train``) and test (``test``) masks
    over all signals, and ``recent``, among the training signals, those of ``naive_4w``."""

    at: pd.Timestamp
    train: np.ndarray
    test: np.ndarray
    recent: np.ndarray


def _network_backtest(
    graph: nx.MultiDiGraph,
    frame: pd.DataFrame,
    split: _Split,
    folds: list[Fold],
    params: BacktestParams,
    planner_params: HotspotParams,
    street_folds: list[Fold] | None,
    calibration: StreetCalibration | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray], float, StreetCalibration | None]:
    """The methods on the streets of ``graph``, coverage by street length (module docstring).

    ``split`` gives the training, test and recent signals; ``folds`` are the
    cross-validation folds over the training signals (of ``kde_cv``), ``street_folds`` those of
    the calibrated hot streets (``None``: the fixed planner), or ``calibration`` the hot streets'
    calibration made already (of several areas together). Returns the ``network`` figures,
    each method's score per street, ``kde_cv``'s bandwidth on the streets and the hot streets'
    calibration.
    """
    crs = graph_crs(graph)
    table, _ = street_table(graph, keys=True)
    length = table["length"].to_numpy(float)
    geometry = np.asarray(table["geometry"].to_list(), dtype=object)
    x, y, _ = metric_xy(frame, crs)
    snap_m = params.streets.snap_m
    train_mask, test_mask, recent = split.train, split.test, split.recent

    test_idx = np.flatnonzero(test_mask)
    on_street, street_of = _snap_to_streets(geometry, x[test_idx], y[test_idx], snap_m)
    hits = np.bincount(street_of, minlength=len(table)).astype(float)
    if not len(on_street):
        msg = f"none of the {len(test_idx)} test signals lies within {snap_m:g} m of the graph's streets"
        raise InputError(msg)

    train = frame[train_mask].reset_index(drop=True)
    tx, ty = x[train_mask], y[train_mask]
    mid = shapely.line_interpolate_point(geometry, 0.5, normalized=True)
    street = replace(params.streets, weights=planner_params)
    if calibration is None and street_folds is not None:
        calibration = _street_calibrated([(graph, train, street_folds)], split.at, params, planner_params)
    if calibration is not None:
        street = calibration.tune(street)
    scored = hot_streets(graph, train, params=street, now=split.at)
    planner = np.zeros(len(table))
    planner[scored.edges["street"].to_numpy()] = scored.edges["density"].to_numpy(float)
    densities = _Densities(tx, ty, shapely.get_x(mid), shapely.get_y(mid))
    if calibration is not None:
        planner = deterministic_rank(planner, tiebreak=densities(TIE_BANDWIDTH_M))
    train_street = np.full(len(tx), -1, dtype=np.int64)
    snapped, nearest = _snap_to_streets(geometry, tx, ty, snap_m)
    train_street[snapped] = nearest

    def per_street(mask: np.ndarray) -> np.ndarray:
        streets_hit = train_street[mask]
        return np.bincount(streets_hit[streets_hit >= 0], minlength=len(table)).astype(float)

    # A street shorter than a metre would rank first on a single signal; count it as a metre.
    per_km = 1000 / np.maximum(length, 1.0)
    ranks, chosen = _baseline_scores(
        densities, counts_all=per_street(np.ones(len(tx), dtype=bool)) * per_km,
        counts_recent=per_street(recent) * per_km,
        scoring=FoldScoring(
            folds, per_street, lambda s, h: length_hit_rates(s, h, length, params.coverages, digits=None),
            params.coverages),
        params=params,
    )
    scores = {"planner": planner, **ranks}
    network: dict[str, Any] = _with_aliases(
        {name: length_hit_rates(scores[name], hits, length, params.coverages) for name in METHODS}
    )
    network["street_km"] = round(float(length.sum()) / 1000, 3)
    network["n_test"] = len(on_street)
    log.info(
        "network backtest: %d streets (%.1f km), %d of %d test signals within %g m of a street; kde_cv %g m",
        len(table), length.sum() / 1000, len(on_street), len(test_idx), snap_m, chosen,
    )
    return network, scores, chosen, calibration


def _street_calibrated(areas: list[tuple[nx.MultiDiGraph, pd.DataFrame, list[Fold]]],
                       now: pd.Timestamp, params: BacktestParams, hotspot: HotspotParams) -> StreetCalibration:
    """``hot_street_calibration.calibrate_streets``, scored and tie-broken as the backtest scores streets."""
    return calibrate_streets(
        areas, now=now,
        rates=lambda order, h, lengths: ranked_length_hit_rates(order, h, lengths, params.coverages, digits=None),
        tiebreaks=fold_tiebreaks,
        coverages=params.coverages, hotspot=hotspot, snap_m=params.streets.snap_m, params=params.street_calibration,
    )


@dataclass(frozen=True)
class _Study:
    """The study area's cells and where the signals fall in them (module docstring)."""

    x: np.ndarray
    y: np.ndarray
    crs: Any
    n_cells: int
    cell_of: np.ndarray  # flat grid index per signal, −1 outside
    flat_to_cell: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    train_cell: np.ndarray  # cell per training signal, −1 outside
    tx: np.ndarray  # the training signals' metric coordinates
    ty: np.ndarray

    def per_cell(self, mask: np.ndarray) -> np.ndarray:
        """Training signals per cell, of those ``mask`` marks."""
        cells = self.train_cell[mask]
        return np.bincount(cells[cells >= 0], minlength=self.n_cells).astype(float)


def _study(frame: pd.DataFrame, train_mask: np.ndarray, wards: gpd.GeoDataFrame | None,
           params: BacktestParams, *, hull_of: np.ndarray | None = None) -> _Study:
    """The wards' union (or the hull of the ``hull_of`` signals, default the training ones, +
    ``study_buffer_m``) in ``cell_m`` cells, metric CRS."""
    if wards is not None:
        require_crs(wards, "wards")
        bounds = wards.to_crs(settings.WGS84).total_bounds
        crs = metric_crs_for((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
        area = shapely.union_all(wards.to_crs(crs).geometry.to_numpy())
        x, y, crs = metric_xy(frame, crs)
    else:
        hull_of = train_mask if hull_of is None else hull_of
        spread = frame[hull_of]
        crs = metric_crs_for(float(np.median(spread["lon"].to_numpy(float))),
                             float(np.median(spread["lat"].to_numpy(float))))
        x, y, crs = metric_xy(frame, crs)
        hull = shapely.MultiPoint(np.column_stack([x[hull_of], y[hull_of]])).convex_hull
        area = hull.buffer(params.study_buffer_m)
    grid = _study_grid(area, params.cell_m)
    n_cells = int(grid.inside.sum())
    flat_to_cell = np.full(grid.nx * grid.ny, -1, dtype=np.int64)
    flat_to_cell[grid.inside.ravel()] = np.arange(n_cells)
    cell_of = grid.index(x, y)
    cx, cy = grid.centres()
    train_cell = np.where(cell_of[train_mask] >= 0, flat_to_cell[cell_of[train_mask]], -1)
    return _Study(x, y, crs, n_cells, cell_of, flat_to_cell, cx, cy, train_cell, x[train_mask], y[train_mask])


def _calibrated(train: pd.DataFrame, study: _Study, now: pd.Timestamp, folds: list[Fold],
                params: BacktestParams, hotspot: HotspotParams, time_targets: Sequence[TimeWindow] | None = None,
                densities: _Densities | None = None) -> tuple[np.ndarray, Calibration]:
    """``calibration.calibrate_surface`` on the study's cells, scored as the backtest scores; the
    time of day is weighed for ``time_targets`` (default the backtest's window on every weekday:
    its weekday's own signals alone are too few to choose by)."""
    if time_targets is None:
        time_targets = () if params.window is None else params.window.on_every_weekday()
    tx, ty, cx, cy = study.tx, study.ty, study.cx, study.cy
    density = densities if densities is not None else _Densities(tx, ty, cx, cy)
    return calibrate_surface(
        train, SignalUnits(tx, ty, study.train_cell, cx, cy), now=now,
        scoring=_cell_scoring(folds, study.per_cell, params.coverages),
        tiebreak=lambda fit: density(TIE_BANDWIDTH_M, fit),
        hotspot=hotspot, params=params.calibration, time_targets=time_targets,
    )


def backtest(
    incidents: pd.DataFrame,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    wards: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
) -> BacktestResult:
    """Train before ``split``, forecast ``horizon_days``, compare the methods (module docstring).

    With ``graph`` (a prepared walk graph, ``streets.prepare_graph``) the methods are also
    compared per km of street, filling ``BacktestResult.network``; the graph is not changed.

    Raises
    ------
    InputError
        No training or no test signals (the message gives the data's time range); with a
        graph, also when no test signal lies near its streets or it is not projected.
    """
    split = parse_split(split)
    rows = _Rows(incidents, split, params)
    frame, start, end, train_mask, test_mask = rows.frame, rows.start, rows.end, rows.train, rows.test
    if not train_mask.any() or not test_mask.any():
        span = f"{local_minute(start.min())} to {local_minute(end.max())}" if len(frame) else "no signals"
        msg = (
            f"split {local_minute(split)} leaves {int(train_mask.sum())} training and "
            f"{int(test_mask.sum())} test signals (horizon {params.horizon_days:g} days"
            f"{', window ' + params.window.label() if params.window else ''}); the data runs {span}"
        )
        raise InputError(msg)

    train = frame[train_mask].reset_index(drop=True)
    # With or without the patrol-found signals, the area is the period's: PAI compares like with like.
    study = _study(frame, train_mask, wards, params, hull_of=rows.period_train)
    n_cells, cx, cy, tx, ty = study.n_cells, study.cx, study.cy, study.tx, study.ty
    per_cell = study.per_cell

    test_cells = study.cell_of[test_mask]
    outside = int((test_cells < 0).sum())
    hits = np.bincount(study.flat_to_cell[test_cells[test_cells >= 0]], minlength=n_cells).astype(float)
    n_test = int(hits.sum())
    if n_test == 0:
        msg = f"none of the {int(test_mask.sum())} test signals lies in the study area"
        raise InputError(msg)

    planner_params = _with_window(params.hotspot, params.window)
    recent, folds = rows.recent, rows.folds
    densities = _Densities(tx, ty, cx, cy)
    ranks, chosen = _baseline_scores(
        densities, counts_all=per_cell(np.ones(len(tx), dtype=bool)), counts_recent=per_cell(recent),
        scoring=_cell_scoring(folds, per_cell, params.coverages),
        params=params,
    )
    calibration = None
    if params.planner == "calibrated":
        # The spatial choice forecasts every time of day; the window is the time-of-day stage's.
        cell_folds = rows.folds_of(params.calibration.folds, every_time=True)
        surface, calibration = _calibrated(train, study, split, cell_folds, params, planner_params, densities=densities)
        planner = deterministic_rank(surface, tiebreak=densities(TIE_BANDWIDTH_M))
    else:
        planner = _scores_planner(train, tx, ty, cx, cy, split, planner_params)
    scores = {"planner": planner, **ranks}
    methods = _with_aliases({name: hit_rates(scores[name], hits, params.coverages) for name in METHODS})
    bandwidths = {"kde_cv": chosen, "kde_scott": round(scott_bandwidth(tx, ty), 1)}
    network = network_scores = street_calibration = None
    if graph is not None:
        weights = planner_params if calibration is None else calibration.tune(planner_params)
        street_folds = rows.folds_of(params.street_calibration.folds) if params.planner == "calibrated" else None
        network, network_scores, bandwidths["network_kde_cv"], street_calibration = _network_backtest(
            graph, frame, rows.split(), folds, params, weights, street_folds
        )
    log.info(
        "backtest at %s: %d train, %d test (%d outside the study area), %d cells, %d folds, kde_cv %g m",
        split.isoformat(), len(train), n_test, outside, n_cells, len(folds), chosen,
    )
    return BacktestResult(methods=methods, n_train=len(train), n_test=n_test, n_cells=n_cells,
                          n_outside=outside, split=split, crs=CRS.from_user_input(study.crs).to_string(),
                          network=network, bandwidths_m=bandwidths, scores=scores, calibration=calibration,
                          network_scores=network_scores, street_calibration=street_calibration)


class _Rows:
    """The signals on either side of ``split``, with their statuses as of it: ``train`` and
    ``test`` masks over them (``period_train``: the training period's, patrol signals or not),
    ``inside`` the window, ``recent`` among the training rows those of ``naive_4w``, and the
    rolling folds over the training rows (``folds``: those of ``kde_cv``)."""

    def __init__(self, incidents: pd.DataFrame, split: pd.Timestamp, params: BacktestParams) -> None:
        self.at, self.params = split, params
        # Forecasting from the split, the planner knows the statuses of then, not of the export.
        self.frame = frame = statuses_at(incidents.reset_index(drop=True), split)
        self.start = start = pd.to_datetime(frame["occurred_from"], utc=True)
        self.end = end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
        self.period_train = ((end <= split) & (start < split)).to_numpy()
        self.train = self.period_train
        if params.patrol_signals == "without" and "on_patrol" in frame.columns:
            self.train = self.train & ~frame["on_patrol"].fillna(False).astype(bool).to_numpy()
        self.inside = in_window(start, end, params.window)
        horizon_end = after_local_days(split, params.horizon_days)
        self.test = ((start >= split) & (start < horizon_end)).to_numpy() & self.inside
        self.recent = (end[self.train] > split - pd.Timedelta(weeks=RECENT_WEEKS)).to_numpy()

    @functools.cached_property
    def folds(self) -> list[Fold]:
        # The folds see the training rows only: the forecast period cannot steer the bandwidth.
        return self._rolling(self.params.cv_folds, self.inside[self.train])

    def folds_of(self, count: int | None, *, every_time: bool = False) -> list[Fold]:
        """The rolling folds of ``count`` (``None``: those of ``kde_cv``), over the training rows only,
        tested on the window's signals (``every_time``: on all of them)."""
        if count in (None, self.params.cv_folds) and not every_time:
            return self.folds
        testable = np.ones(int(self.train.sum()), dtype=bool) if every_time else self.inside[self.train]
        return self._rolling(count or self.params.cv_folds, testable)

    def _rolling(self, count: int, testable: np.ndarray) -> list[Fold]:
        return rolling_folds(self.start[self.train], self.end[self.train], split=self.at,
                             horizon_days=self.params.horizon_days, folds=count, testable=testable)

    def split(self) -> _Split:
        return _Split(self.at, self.train, self.test, self.recent)


def calibrate(
    incidents: pd.DataFrame,
    *,
    now: datetime | pd.Timestamp | None = None,
    wards: gpd.GeoDataFrame | None = None,
    params: BacktestParams = BacktestParams(),
) -> Calibration:
    """Calibrate the planner's surface on every signal that ended by ``now`` (default the latest).

    The choice ``backtest(..., planner="calibrated")`` makes at a split, made at ``now`` for the
    period ahead: the same cells (the wards, or the signals' hull + ``study_buffer_m``), the
    same folds of ``horizon_days`` (``CalibrationParams.folds``) and the same rule. What an
    installation's hotspots and routes use (``tuning``). Without a ``window`` its time-of-day
    weighting is chosen for ``CalibrationParams.time_targets`` (each weekday's evening), so
    that it holds for the windows the map and the rounds are planned for.

    Raises
    ------
    InputError
        No signal ended by ``now``, or the study area holds no cell.
    """
    frame = incidents.reset_index(drop=True)
    moment = _calibration_moment([frame], now)
    if moment is not None:
        train_mask, folds = _calibration_rows(frame, moment, params, folds=params.calibration.folds, window=None)
    if moment is None or not train_mask.any():
        msg = "no signal to calibrate on: import signals first"
        raise InputError(msg, commands=("import FILE",))
    train = frame[train_mask].reset_index(drop=True)
    study = _study(frame, train_mask, wards, params)
    targets = params.calibration.time_targets if params.window is None else params.window.on_every_weekday()
    _, calibration = _calibrated(train, study, _origin(moment), folds, params,
                                 _with_window(params.hotspot, params.window), targets)
    return calibration


@dataclass(frozen=True)
class StreetBacktest:
    """The methods per km of street on several areas at one split, the areas' test signals pooled.

    ``methods[name]`` holds ``hit_rate@c`` and ``pai@c`` as in ``BacktestResult.network``, each
    area's streets ranked on their own at c % of its street length (as the product ranks each
    ward's), so together c % of the street length: the hit rate is the share of all the areas'
    test signals on a street caught. ``n_test`` counts them, ``street_km`` the streets'
    length; ``calibration`` is the hot streets' choice, made on all the areas together.
    """

    methods: dict[str, dict[str, float]]
    n_test: int
    split: pd.Timestamp
    street_km: float
    calibration: StreetCalibration | None


def street_backtest(
    areas: Sequence[tuple[nx.MultiDiGraph, pd.DataFrame]],
    *,
    split: str | datetime | pd.Timestamp,
    weights: HotspotParams = HotspotParams(),
    params: BacktestParams = BacktestParams(),
) -> StreetBacktest | None:
    """``backtest(..., graph=G)``'s street methods on each ``(graph, signals)`` area (each ward's
    prepared walk graph and its signals), with the hot streets calibrated on all of them together
    as an installation's are (``calibrate_hot_streets``), the test signals pooled
    (``StreetBacktest``). ``weights`` are the signal weights of the hot streets (an installation's
    cell calibration at the split). Areas with no training signal, or no test signal on their
    streets, add none; ``None`` when no area has both.
    """
    split = parse_split(split)
    trained = [(graph, rows) for graph, rows in ((graph, _Rows(incidents, split, params)) for graph, incidents in areas)
               if rows.train.any()]
    if not trained:
        return None
    calibration = _street_calibrated(
        [(graph, rows.frame[rows.train].reset_index(drop=True), rows.folds_of(params.street_calibration.folds))
         for graph, rows in trained], split, params, weights)
    networks = []
    for graph, rows in trained:
        if not rows.test.any():
            continue
        try:
            networks.append(_network_backtest(graph, rows.frame, rows.split(), rows.folds, params, weights, None,
                                              calibration)[0])
        except InputError:  # none of its test signals near its streets
            continue
    n_test = sum(network["n_test"] for network in networks)
    if not n_test:
        return None
    methods: dict[str, dict[str, float]] = {name: {} for name in METHODS}
    for name, c in ((name, c) for name in METHODS for c in params.coverages):
        rate = sum(network[name][f"hit_rate@{c:g}"] * network["n_test"] for network in networks) / n_test
        methods[name] |= {f"hit_rate@{c:g}": round(rate, 6), f"pai@{c:g}": round(rate / (c / 100), 6)}
    return StreetBacktest(methods=_with_aliases(methods), n_test=n_test, split=split, calibration=calibration,
                          street_km=round(sum(network["street_km"] for network in networks), 3))


def calibrate_hot_streets(
    areas: Sequence[tuple[nx.MultiDiGraph, pd.DataFrame]],
    *,
    now: datetime | pd.Timestamp | None = None,
    params: BacktestParams = BacktestParams(),
) -> StreetCalibration:
    """Calibrate the hot streets on every signal that ended by ``now`` (default the latest of all areas).

    ``areas`` are ``(graph, signals)`` pairs, e.g. each ward's prepared walk graph and its
    signals; they are calibrated together (``hot_street_calibration``), each on folds of
    ``horizon_days`` over its own signals (``StreetCalibrationParams.folds``), by the rule
    ``backtest(..., graph=G)`` uses at a split. The weights are ``params.hotspot`` (an
    installation passes its cell calibration's, as its hot streets get them). What an
    installation's hot streets and their routes use (``tuning.hot_street_params``); with no
    area or too short a history, the 150 m kernel and the reason.
    """
    frames = [incidents.reset_index(drop=True) for _, incidents in areas]
    moment = _calibration_moment(frames, now)
    origin = _origin(moment) if moment is not None else pd.Timestamp.now(tz="UTC")
    prepared = []
    for (graph, _), frame in zip(areas, frames, strict=True):
        train_mask, folds = (np.zeros(len(frame), dtype=bool), []) if moment is None else _calibration_rows(
            frame, moment, params, folds=params.street_calibration.folds, window=params.window)
        prepared.append((graph, frame[train_mask].reset_index(drop=True), folds))
    return _street_calibrated(prepared, origin, params, _with_window(params.hotspot, params.window))


def _calibration_moment(frames: Sequence[pd.DataFrame], now: datetime | pd.Timestamp | None) -> pd.Timestamp | None:
    """``now`` as UTC, or the latest end of a signal in ``frames`` (``None`` without any)."""
    if now is not None:
        return parse_split(now)
    ends = [pd.to_datetime(f["occurred_to"], utc=True).fillna(pd.to_datetime(f["occurred_from"], utc=True)).max()
            for f in frames if len(f)]
    return max(ends) if ends else None


def _origin(moment: pd.Timestamp) -> pd.Timestamp:
    # The forecast starts just after the latest signal, so that signal can be a fold's test signal.
    return moment + pd.Timedelta(seconds=1)


def _calibration_rows(
    frame: pd.DataFrame, moment: pd.Timestamp, params: BacktestParams, *, folds: int | None,
    window: TimeWindow | None,
) -> tuple[np.ndarray, list[Fold]]:
    """The training rows of a calibration at ``moment`` (ended by it; patrol signals out when asked) and
    ``folds`` rolling folds over them (``None``: ``cv_folds``) tested on the signals in ``window``
    (``None``: all), none without training rows."""
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
    train_mask = ((end <= moment) & (start <= moment)).to_numpy()
    if params.patrol_signals == "without" and "on_patrol" in frame.columns:
        train_mask = train_mask & ~frame["on_patrol"].fillna(False).astype(bool).to_numpy()
    if not train_mask.any():
        return train_mask, []
    inside = in_window(start, end, window)
    return train_mask, rolling_folds(start[train_mask], end[train_mask], split=_origin(moment),
                                     horizon_days=params.horizon_days, folds=folds or params.cv_folds,
                                     testable=inside[train_mask])


def backtest_patrol_signals(
    incidents: pd.DataFrame,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    wards: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
) -> dict[str, BacktestResult]:
    """``backtest`` with and without the patrol-found signals in the training data:
    ``{"with": ..., "without": ...}`` on the same test signals."""
    return {choice: backtest(incidents, split=split, params=replace(params, patrol_signals=choice), wards=wards,
                             graph=graph) for choice in PATROL_SIGNALS}


def _with_window(params: HotspotParams, window: TimeWindow | None) -> HotspotParams:
    return replace(params, window=window)


def read_for_backtest(path: str | Path, *, options: ParseOptions = _BACKTEST_OPTIONS,
                      say: Callable[[Any], str] = str) -> pd.DataFrame:
    """The usable rows of any incident table, read through the import aliases (``options``).

    Rows the importer would reject are left out (and logged); rows without a known category
    count as ``other`` when ``options.default_category`` is set, as it is by default here.
    ``say`` words the parser's warnings for the log (the CLI names its flags).
    """
    parsed = parse_incidents(read_table(path), options=options)
    for warning in parsed.warnings:
        log.warning("%s: %s", Path(path).name, say(warning))
    rejected = len(parsed.rejects)
    if rejected:
        log.warning("%s: %d row%s left out (%s)", Path(path).name, rejected, "" if rejected == 1 else "s",
                    parsed.rejects["reason"].iloc[0])
    valid = parsed.valid
    if valid.empty:
        why = f"first problem: {parsed.rejects['reason'].iloc[0]}" if rejected else "it has no data rows"
        msg = f"{Path(path).name}: no usable rows ({why})"
        raise InputError(msg)
    return valid


def evaluate_file(
    path: str | Path,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    options: ParseOptions = _BACKTEST_OPTIONS,
    wards: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
) -> BacktestResult:
    """``backtest`` the incident table at ``path`` (``read_for_backtest``)."""
    return backtest(read_for_backtest(path, options=options), split=split, params=params, wards=wards, graph=graph)
