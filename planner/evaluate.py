"""Backtest: how well would each hotspot method have forecast the signals that came next?

Train on the signals before a split date, forecast the next ``horizon_days``, and measure the
hit rate (share of the future signals inside the flagged area) and the PAI (Chainey et al.
2008: hit rate ÷ area share) at 1, 5 and 10 % of a fixed study area, for three methods run on
the same cells:

- ``planner``: what WAS Planner ships: the signal weights of ``hotspots.signal_weights``
  (recency half-life, category weights, aoristic relevance for the target window, patrol
  discount, resolved signals out) on a Gaussian kernel of ``bandwidth_m``, plus the near-repeat
  term (a linear fall-off to 400 m and 60 days around recent burglaries and car crimes).
- ``kde``: planar Gaussian kernel density of all training signals, bandwidth by Scott's rule.
- ``naive``: signals per cell over the last 4 weeks before the split.

The study area is the union of the wards when given, otherwise the convex hull of the training
signals buffered by 500 m; it is cut into 100 m × 100 m cells in a metric CRS (RD New in the
Netherlands, local UTM elsewhere) and a cell belongs to it when its centre does. A method's
forecast at coverage c % is its best-scoring ``round(c % × cells)`` cells; cells tied at the
threshold share the remaining places, so their future signals count in proportion (the expected
value of a random tie-break), which keeps coarse methods from gaining or losing by cell order.

A signal is training data when it ended before the split and test data when it began within the
horizon; one that straddles the split is neither. Month-only signals (police.uk) therefore work at
month resolution: split on the first of a month and the next month's signals are the test set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import ndimage
from scipy.spatial import cKDTree

from . import settings
from ._crs import metric_crs_for, require_crs
from ._errors import InputError
from .hotspots import (
    HotspotParams,
    TimeWindow,
    aoristic_share,
    local_minutes,
    metric_xy,
    signal_weights,
)
from .incidents import ParseOptions, parse_incidents, read_table

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("planner", "kde", "naive")
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
    naive_weeks
        The ``naive`` method counts the signals of the last this many weeks.
    study_buffer_m
        Buffer around the training signals' hull when no wards are given (m).
    hotspot
        The planner's signal weights and kernel (``HotspotParams``; its ``window`` is replaced
        by this ``window``).
    """

    horizon_days: float = 7.0
    window: TimeWindow | None = None
    cell_m: float = 100.0
    coverages: tuple[float, ...] = (1.0, 5.0, 10.0)
    naive_weeks: float = 4.0
    study_buffer_m: float = 500.0
    hotspot: HotspotParams = field(default_factory=HotspotParams)

    def __post_init__(self) -> None:
        for name in ("horizon_days", "cell_m", "naive_weeks"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = f"{name} must be > 0, got {value!r}"
                raise InputError(msg)
        if not (math.isfinite(self.study_buffer_m) and self.study_buffer_m >= 0):
            msg = f"study_buffer_m must be ≥ 0, got {self.study_buffer_m!r}"
            raise InputError(msg)
        if not self.coverages or any(not 0 < c <= 100 for c in self.coverages):
            msg = f"coverages must be percentages in (0, 100], got {self.coverages!r}"
            raise InputError(msg)
        if self.window is not None and not isinstance(self.window, TimeWindow):
            msg = f"window must be a TimeWindow or None, got {type(self.window).__name__}"
            raise InputError(msg)


@dataclass(frozen=True)
class BacktestResult:
    """Hit rate and PAI per method and coverage, on one split.

    ``methods[name]`` holds ``hit_rate@c`` and ``pai@c`` for each coverage ``c`` (in %).
    """

    methods: dict[str, dict[str, float]]
    n_train: int
    n_test: int
    n_cells: int
    split: pd.Timestamp
    crs: str

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: ``{"methods": {...}, "n_train": N, "n_test": N}``."""
        return {"methods": self.methods, "n_train": self.n_train, "n_test": self.n_test}

    def summary(self) -> str:
        """A small table for people."""
        keys = list(next(iter(self.methods.values())).keys())
        lines = [
            (
                f"split {self.split.isoformat()}: {self.n_train} training signals, {self.n_test} "
                f"test signals, {self.n_cells} cells of the study area ({self.crs})"
            ),
            f"{'method':<10}" + "".join(f"{k:>14}" for k in keys),
        ]
        for name, values in self.methods.items():
            lines.append(f"{name:<10}" + "".join(f"{values[k]:>14.3f}" for k in keys))
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
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(settings.TIMEZONE)
    return stamp.tz_convert("UTC")


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
    base = weights[["category", "relevance", "source", "active"]].prod(axis=1).to_numpy()
    cells = cKDTree(np.column_stack([cx, cy]))
    points = cKDTree(np.column_stack([x, y]))
    sigma = params.bandwidth_m
    near = cells.sparse_distance_matrix(points, 3 * sigma, output_type="coo_matrix")
    score = np.bincount(near.row, weights=w[near.col] * np.exp(-0.5 * (near.data / sigma) ** 2),
                        minlength=len(cx))
    end = pd.to_datetime(train["occurred_to"], utc=True)
    age = ((split - end) / pd.Timedelta(days=1)).to_numpy(float)
    eligible = train["category"].isin(params.near_repeat_categories).to_numpy()
    use = eligible & (age < params.near_repeat_days) & (base > 0)
    if use.any() and params.near_repeat_weight > 0:
        recent = cKDTree(np.column_stack([x[use], y[use]]))
        nr = cells.sparse_distance_matrix(recent, params.near_repeat_m, output_type="coo_matrix")
        factor = (1 - np.maximum(age[use], 0) / params.near_repeat_days) * base[use]
        score += params.near_repeat_weight * np.bincount(
            nr.row, weights=(1 - nr.data / params.near_repeat_m) * factor[nr.col], minlength=len(cx)
        )
    return score


def scott_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Scott's rule for a 2-D Gaussian kernel: n^(−1/6) × the pooled standard deviation."""
    n = len(x)
    spread = math.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2) if n > 1 else 0.0
    return max(spread * n ** (-1 / 6), 1.0)


def _scores_kde(x: np.ndarray, y: np.ndarray, grid: _Grid) -> np.ndarray:
    """Planar Gaussian KDE (Scott bandwidth) at the cell centres, by binning and filtering."""
    h = scott_bandwidth(x, y)
    pad = math.ceil(4 * h / grid.size)
    nx, ny = grid.nx + 2 * pad, grid.ny + 2 * pad
    ix = np.floor((x - grid.x0) / grid.size).astype(np.int64) + pad
    iy = np.floor((y - grid.y0) / grid.size).astype(np.int64) + pad
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    counts = np.zeros((ny, nx))
    np.add.at(counts, (iy[ok], ix[ok]), 1.0)
    density = ndimage.gaussian_filter(counts, sigma=h / grid.size, mode="constant", truncate=4.0)
    log.debug("kde: Scott bandwidth %.0f m", h)
    return density[pad : pad + grid.ny, pad : pad + grid.nx][grid.inside]


def _scores_naive(cells: np.ndarray, recent: np.ndarray, n_cells: int, flat_to_cell: np.ndarray) -> np.ndarray:
    ok = (cells >= 0) & recent
    return np.bincount(flat_to_cell[cells[ok]], minlength=n_cells).astype(float)


def hit_rates(scores: np.ndarray, hits: np.ndarray, coverages: tuple[float, ...]) -> dict[str, float]:
    """``hit_rate@c`` and ``pai@c`` for each coverage; ties at the threshold share the places."""
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
        out[f"hit_rate@{label}"] = round(rate, 6)
        out[f"pai@{label}"] = round(rate / (k / n), 6)
    return out


def backtest(
    incidents: pd.DataFrame,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    wards: gpd.GeoDataFrame | None = None,
) -> BacktestResult:
    """Train before ``split``, forecast ``horizon_days``, compare the methods (module docstring).

    Raises
    ------
    InputError
        No training or no test signals (the message gives the data's time range).
    """
    split = parse_split(split)
    frame = incidents.reset_index(drop=True)
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
    horizon_end = split + pd.Timedelta(days=params.horizon_days)
    train_mask = (end <= split).to_numpy()
    test_mask = ((start >= split) & (start < horizon_end)).to_numpy()
    if params.window is not None and not params.window.is_all_day:
        in_window = aoristic_share(local_minutes(start), local_minutes(end), params.window.mask().astype(float))
        test_mask = test_mask & (in_window >= 0.5)
    if not train_mask.any() or not test_mask.any():
        span = f"{start.min().isoformat()} to {end.max().isoformat()}" if len(frame) else "no signals"
        msg = (
            f"split {split.isoformat()} leaves {int(train_mask.sum())} training and "
            f"{int(test_mask.sum())} test signals (horizon {params.horizon_days:g} days"
            f"{', window ' + params.window.label() if params.window else ''}); the data runs {span}"
        )
        raise InputError(msg)

    train = frame[train_mask].reset_index(drop=True)
    if wards is not None:
        require_crs(wards, "wards")
        bounds = wards.to_crs(settings.WGS84).total_bounds
        crs = metric_crs_for((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
        area = shapely.union_all(wards.to_crs(crs).geometry.to_numpy())
        x, y, crs = metric_xy(frame, crs)
    else:
        lon = train["lon"].to_numpy(float)
        lat = train["lat"].to_numpy(float)
        crs = metric_crs_for(float(np.median(lon)), float(np.median(lat)))
        x, y, crs = metric_xy(frame, crs)
        hull = shapely.MultiPoint(np.column_stack([x[train_mask], y[train_mask]])).convex_hull
        area = hull.buffer(params.study_buffer_m)
    grid = _study_grid(area, params.cell_m)
    n_cells = int(grid.inside.sum())
    flat_to_cell = np.full(grid.nx * grid.ny, -1, dtype=np.int64)
    flat_to_cell[grid.inside.ravel()] = np.arange(n_cells)
    cell_of = grid.index(x, y)
    cx, cy = grid.centres()

    test_cells = cell_of[test_mask]
    outside = int((test_cells < 0).sum())
    hits = np.bincount(flat_to_cell[test_cells[test_cells >= 0]], minlength=n_cells).astype(float)
    n_test = int(hits.sum())
    if n_test == 0:
        msg = f"none of the {int(test_mask.sum())} test signals lies in the study area"
        raise InputError(msg)

    tx, ty = x[train_mask], y[train_mask]
    planner_params = _with_window(params.hotspot, params.window)
    recent = (end[train_mask] > split - pd.Timedelta(weeks=params.naive_weeks)).to_numpy()
    scores = {
        "planner": _scores_planner(train, tx, ty, cx, cy, split, planner_params),
        "kde": _scores_kde(tx, ty, grid),
        "naive": _scores_naive(cell_of[train_mask], recent, n_cells, flat_to_cell),
    }
    methods = {name: hit_rates(scores[name], hits, params.coverages) for name in METHODS}
    log.info(
        "backtest at %s: %d train, %d test (%d outside the study area), %d cells",
        split.isoformat(), len(train), n_test, outside, n_cells,
    )
    return BacktestResult(methods=methods, n_train=len(train), n_test=n_test, n_cells=n_cells,
                          split=split, crs=CRS.from_user_input(crs).to_string())


def _with_window(params: HotspotParams, window: TimeWindow | None) -> HotspotParams:
    from dataclasses import replace

    return replace(params, window=window)


def evaluate_file(
    path: str | Path,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    options: ParseOptions = _BACKTEST_OPTIONS,
    wards: gpd.GeoDataFrame | None = None,
) -> BacktestResult:
    """Read any incident table through the import aliases (``options``) and ``backtest`` it.

    Rows the importer would reject are left out (and logged); rows without a known category
    count as ``other`` when ``options.default_category`` is set, as it is by default here.
    """
    parsed = parse_incidents(read_table(path), options=options)
    if len(parsed.rejects):
        log.warning("%s: %d rows left out (%s)", Path(path).name, len(parsed.rejects),
                    parsed.rejects["reason"].iloc[0])
    valid = parsed.valid
    if valid.empty:
        msg = f"{Path(path).name}: no usable rows (first problem: {parsed.rejects['reason'].iloc[0]})"
        raise InputError(msg)
    return backtest(valid, split=split, params=params, wards=wards)
