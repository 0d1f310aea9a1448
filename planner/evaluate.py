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

Per km of street (``graph`` given, a prepared walk graph). The same three methods rank the
graph's streets (both directions of a street are one street) and coverage is measured by street
length, as DOMAIN.md asks for networks: PAI = hit-rate share ÷ street-length share, at 1, 5 and
10 % of the graph's street length. Test signals count when they lie within ``streets.snap_m`` of
a street (snapped to the nearest); the others are not on this network and are left out.

- ``planner``: ``hotspots.hot_streets`` density (network kernel along the streets, with the
  planner's signal weights): exactly what the map's hot streets and the route prizes show.
- ``kde``: the planar Scott-bandwidth KDE above, read at each street's midpoint.
- ``naive``: signals of the last 4 weeks snapped to each street, per km of that street.

Every score is per unit of length, so a long street is not favoured for its length alone. The
forecast at c % is the best-scoring streets up to c % of the total length; the street (or group
of tied streets) at the threshold is taken in part and its future signals count in proportion to
the length taken, the continuous form of the tie rule for cells.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
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
    HotStreetParams,
    TimeWindow,
    aoristic_share,
    hot_streets,
    local_minutes,
    metric_xy,
    signal_weights,
    street_table,
)
from .incidents import ParseOptions, parse_incidents, read_table

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("planner", "kde", "naive")
PATROL_SIGNALS: tuple[str, ...] = ("with", "without")
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
    streets
        Network backtest only: the planner's hot-streets kernel (``bandwidth_m``) and how far a
        signal may lie from a street to be snapped to it (``snap_m``); its ``weights`` are
        replaced by ``hotspot`` with this ``window``.
    patrol_signals
        ``"with"`` (default) trains on every signal; ``"without"`` leaves the signals found on
        patrol (``on_patrol``) out of the training data of every method, to see whether they
        help the forecast or only echo where patrols went. The test signals are the same.
    """

    horizon_days: float = 7.0
    window: TimeWindow | None = None
    cell_m: float = 100.0
    coverages: tuple[float, ...] = (1.0, 5.0, 10.0)
    naive_weeks: float = 4.0
    study_buffer_m: float = 500.0
    hotspot: HotspotParams = field(default_factory=HotspotParams)
    streets: HotStreetParams = field(default_factory=HotStreetParams)
    patrol_signals: str = "with"

    def __post_init__(self) -> None:
        if self.patrol_signals not in PATROL_SIGNALS:
            msg = f"patrol_signals must be 'with' or 'without', got {self.patrol_signals!r}"
            raise InputError(msg)
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
        if not isinstance(self.streets, HotStreetParams):
            msg = f"streets must be HotStreetParams, got {type(self.streets).__name__}"
            raise InputError(msg)


@dataclass(frozen=True)
class BacktestResult:
    """Hit rate and PAI per method and coverage, on one split.

    ``methods[name]`` holds ``hit_rate@c`` and ``pai@c`` for each coverage ``c`` (in %).
    ``network`` is ``None`` without a graph; with one it holds the same keys per method at c %
    of the street length, plus ``street_km`` (the graph's street length) and ``n_test`` (test
    signals snapped to its streets).
    """

    methods: dict[str, dict[str, float]]
    n_train: int
    n_test: int
    n_cells: int
    split: pd.Timestamp
    crs: str
    network: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: ``{"methods": {...}, "n_train": N, "n_test": N}``.

        With a graph, one more key: ``"network": {"planner": {...}, "kde": {...}, "naive":
        {...}, "street_km": x, "n_test": N}`` (the same six keys per method, at shares of
        street length).
        """
        payload: dict[str, Any] = {"methods": self.methods, "n_train": self.n_train, "n_test": self.n_test}
        if self.network is not None:
            payload["network"] = self.network
        return payload

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
        if self.network is not None:
            net = self.network
            lines.append(
                f"per km of street: {net['street_km']:.1f} km of streets, {net['n_test']} test signals "
                f"on them; coverage = share of street length"
            )
            lines.append(f"{'method':<10}" + "".join(f"{k:>14}" for k in keys))
            for name in METHODS:
                lines.append(f"{name:<10}" + "".join(f"{net[name][k]:>14.3f}" for k in keys))
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


def length_hit_rates(
    scores: np.ndarray, hits: np.ndarray, lengths: np.ndarray, coverages: tuple[float, ...]
) -> dict[str, float]:
    """``hit_rate@c`` and ``pai@c`` at c % of the total length, best-scoring streets first.

    The street or group of tied streets at the threshold is taken in part; its hits count in
    proportion to the length taken. PAI = hit rate ÷ (c / 100).
    """
    order = np.argsort(-scores, kind="stable")
    ranked, hit, size = scores[order], hits[order], lengths[order]
    group = np.cumsum(np.r_[True, ranked[1:] != ranked[:-1]]) - 1
    group_len = np.bincount(group, weights=size)
    group_hits = np.bincount(group, weights=hit)
    cum_len, cum_hits = np.cumsum(group_len), np.cumsum(group_hits)
    total_len, total = float(size.sum()), float(hit.sum())
    out: dict[str, float] = {}
    for coverage in coverages:
        target = coverage / 100 * total_len
        i = min(int(np.searchsorted(cum_len, target * (1 - 1e-12))), len(group_len) - 1)
        before_len, before_hits = cum_len[i] - group_len[i], cum_hits[i] - group_hits[i]
        part = (target - before_len) / group_len[i] if group_len[i] > 0 else 0.0
        caught = before_hits + min(max(part, 0.0), 1.0) * group_hits[i]
        rate = caught / total if total else 0.0
        label = f"{coverage:g}"
        out[f"hit_rate@{label}"] = round(float(rate), 6)
        out[f"pai@{label}"] = round(float(rate / (coverage / 100)), 6)
    return out


def _snap_to_streets(
    geometry: np.ndarray, x: np.ndarray, y: np.ndarray, snap_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, street index) of the points within ``snap_m`` of a street, nearest street."""
    tree = shapely.STRtree(geometry)
    found = tree.query_nearest(shapely.points(x, y), max_distance=snap_m, all_matches=False)
    return found[0], found[1]


def _kde_at(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Planar Gaussian KDE (Scott bandwidth) of the points (x, y) read at (px, py).

    Binned on a grid of a fifth of the bandwidth (at most 20 m) and read bilinearly: the exact
    sum is points × streets kernel terms, too many for a city graph, and the binning moves each
    point by at most a tenth of the bandwidth.
    """
    h = scott_bandwidth(x, y)
    size = min(h / 5, 20.0)
    pad = 4 * h + size
    x0, y0 = min(x.min(), px.min()) - pad, min(y.min(), py.min()) - pad
    nx_ = math.ceil((max(x.max(), px.max()) + pad - x0) / size) + 1
    ny_ = math.ceil((max(y.max(), py.max()) + pad - y0) / size) + 1
    counts = np.zeros((ny_, nx_))
    np.add.at(counts, (np.floor((y - y0) / size).astype(np.int64), np.floor((x - x0) / size).astype(np.int64)), 1.0)
    density = ndimage.gaussian_filter(counts, sigma=h / size, mode="constant", truncate=4.0)
    # Cell (i, j) holds the points of [x0 + j·size, x0 + (j+1)·size): its value sits at the centre.
    rows, cols = (py - y0) / size - 0.5, (px - x0) / size - 0.5
    return ndimage.map_coordinates(density, [rows, cols], order=1, mode="nearest")


def _network_backtest(
    graph: nx.MultiDiGraph,
    frame: pd.DataFrame,
    train_mask: np.ndarray,
    test_mask: np.ndarray,
    recent: np.ndarray,
    split: pd.Timestamp,
    params: BacktestParams,
    planner_params: HotspotParams,
) -> dict[str, Any]:
    """The three methods on the streets of ``graph``, coverage by street length (module docstring).

    ``recent`` marks, among the training signals, those of the naive method's last weeks.
    """
    crs = graph.graph.get("crs")
    if crs is None or not CRS.from_user_input(crs).is_projected:
        msg = "the graph is not projected to metres: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)
    table, _ = street_table(graph)
    length = table["length"].to_numpy(float)
    geometry = np.asarray(table["geometry"].to_list(), dtype=object)
    x, y, _ = metric_xy(frame, CRS.from_user_input(crs))
    snap_m = params.streets.snap_m

    test_idx = np.flatnonzero(test_mask)
    on_street, street_of = _snap_to_streets(geometry, x[test_idx], y[test_idx], snap_m)
    hits = np.bincount(street_of, minlength=len(table)).astype(float)
    if not len(on_street):
        msg = f"none of the {len(test_idx)} test signals lies within {snap_m:g} m of the graph's streets"
        raise InputError(msg)

    train = frame[train_mask].reset_index(drop=True)
    tx, ty = x[train_mask], y[train_mask]
    street = replace(params.streets, weights=planner_params)
    scored = hot_streets(graph, train, params=street, now=split)
    planner = np.zeros(len(table))
    planner[scored.edges["street"].to_numpy()] = scored.edges["density"].to_numpy(float)
    mid = shapely.line_interpolate_point(geometry, 0.5, normalized=True)
    kde = _kde_at(tx, ty, shapely.get_x(mid), shapely.get_y(mid))
    recent_idx = np.flatnonzero(recent)
    _, recent_street = _snap_to_streets(geometry, tx[recent_idx], ty[recent_idx], snap_m)
    # A street shorter than a metre would rank first on a single signal; count it as a metre.
    naive = np.bincount(recent_street, minlength=len(table)) / np.maximum(length, 1.0) * 1000
    scores = {"planner": planner, "kde": kde, "naive": naive}
    network: dict[str, Any] = {
        name: length_hit_rates(scores[name], hits, length, params.coverages) for name in METHODS
    }
    network["street_km"] = round(float(length.sum()) / 1000, 3)
    network["n_test"] = len(on_street)
    log.info(
        "network backtest: %d streets (%.1f km), %d of %d test signals within %g m of a street",
        len(table), length.sum() / 1000, len(on_street), len(test_idx), snap_m,
    )
    return network


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
    frame = incidents.reset_index(drop=True)
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(frame["occurred_to"], utc=True).fillna(start)
    horizon_end = split + pd.Timedelta(days=params.horizon_days)
    train_mask = (end <= split).to_numpy()
    if params.patrol_signals == "without" and "on_patrol" in frame.columns:
        train_mask = train_mask & ~frame["on_patrol"].fillna(False).astype(bool).to_numpy()
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
    network = None
    if graph is not None:
        network = _network_backtest(graph, frame, train_mask, test_mask, recent, split, params, planner_params)
    log.info(
        "backtest at %s: %d train, %d test (%d outside the study area), %d cells",
        split.isoformat(), len(train), n_test, outside, n_cells,
    )
    return BacktestResult(methods=methods, n_train=len(train), n_test=n_test, n_cells=n_cells,
                          split=split, crs=CRS.from_user_input(crs).to_string(), network=network)


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


def evaluate_file(
    path: str | Path,
    *,
    split: str | datetime | pd.Timestamp,
    params: BacktestParams = BacktestParams(),
    options: ParseOptions = _BACKTEST_OPTIONS,
    wards: gpd.GeoDataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
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
    return backtest(valid, split=split, params=params, wards=wards, graph=graph)
