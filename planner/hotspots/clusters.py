"""Hotspots: each ward's signals clustered in metres, scored, tested and rendered for an audience.


Clustering choice (``HotspotParams.method``). The default, ``"dbscan"``, is DBSCAN on signals
pre-aggregated to small grid cells (``cell_m``, default 20 m) with the number of signals per cell
as ``sample_weight``, and a density threshold that adapts to the ward: a place is dense when its
``eps_m`` surroundings hold at least ``min_signals`` signals *and* ``density_factor`` times what an
even spread of the ward's signals would put there. The aggregation makes the cost depend on the
ward's area, not on the number of signals (1 M signals over 10 wards cluster in about a second, see
``bench/RESULTS.md``), and the adaptive threshold keeps a busy year from merging a whole ward into
one cluster. ``"hdbscan"`` runs scikit-learn's HDBSCAN on the raw points (no cell aggregation, as it
takes no sample weights): it finds clusters of varying density without an ``eps``, but its cost
grows quadratically (about 46 s for 100 000 points), so it suits wards with up to some 10 000
signals, and it never returns a ward's *only* cluster (it does not select the root of its tree),
which is common in a small ward; one more reason DBSCAN is the default.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import ndimage

from .. import settings
from .._errors import InputError
from .._geo import metric_crs_of, metric_xy, require_crs, signal_lonlat
from ._json import jsonable
from .explain import explain_hotspot, rounded_parts, score_parts
from .weights import HotspotParams, base_weights, column_or, moment_utc, signal_weights
from .window import DAY_MINUTES, WEEK_MINUTES, WEEKDAYS, TimeWindow, aoristic_share, local_minutes

log = logging.getLogger(__name__)

_PUBLIC_COLUMNS = (
    "id", "ward", "n_signals", "score", "significant", "p_value", "top_categories", "peak_hours",
    "peak_weekdays", "trend", "first_signal", "last_signal", "area_m2", "centroid_lon", "centroid_lat",
    "explanation", "explanation_en", "score_parts",
)


@dataclass(frozen=True)
class HotspotResult:
    """Hotspots for one audience, best first.

    Attributes
    ----------
    hotspots
        WGS84 GeoDataFrame, one row per hotspot (``_PUBLIC_COLUMNS`` + geometry; officers also get
        ``signal_ids``). Ranked by score; ``id`` is the rank (1 = hottest). ``explanation``
        (Dutch) and ``explanation_en`` say in plain words why the place is a hotspot (counts per
        category, peak days and hours, recency, trend, the weights that mattered, significance;
        for residents without sources, counts under k or exact dates); ``score_parts`` is a dict
        ``signals``, ``recency``, ``category``, ``time_of_day``, ``source`` (officers only),
        ``near_repeat`` that adds up to ``score`` (``planner.hotspots.explain``).
    signals
        Officer rendering only: the signals (id, hotspot id or None, lat, lon, category, source,
        times, status, weight). ``None`` in the public rendering: no points leave the core.
    audience, now, window
        Who the rendering is for, the reference time of recency and trends, the target window.
    """

    hotspots: gpd.GeoDataFrame
    signals: pd.DataFrame | None
    audience: str
    now: pd.Timestamp
    window: TimeWindow | None = None
    params: HotspotParams = field(default_factory=HotspotParams)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict: ``{"audience", "now", "window", "hotspots": [...], "points"?}``."""
        rows = []
        for row in self.hotspots.itertuples(index=False):
            item = {name: jsonable(getattr(row, name)) for name in _PUBLIC_COLUMNS}
            item["centroid"] = [item.pop("centroid_lon"), item.pop("centroid_lat")]
            item["score_parts"] = rounded_parts(row.score_parts, row.score)
            if self.audience == "officer":
                item["signal_ids"] = [int(i) for i in row.signal_ids]
            rows.append(item)
        payload: dict[str, Any] = {
            "audience": self.audience,
            "now": self.now.isoformat(),
            "window": self.window.label() if self.window else None,
            "hotspots": rows,
        }
        if self.audience == "officer" and self.signals is not None:
            payload["points"] = [
                {key: jsonable(value) for key, value in record.items()}
                for record in _iso_signals(self.signals).to_dict("records")
            ]
        return payload

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection (WGS84): hotspot areas, plus points for officers."""
        features = []
        for item, geometry in zip(self.to_json()["hotspots"], self.hotspots.geometry, strict=True):
            features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
                             "properties": {**item, "kind": "hotspot"}})
        if self.audience == "officer" and self.signals is not None:
            for record in _iso_signals(self.signals).to_dict("records"):
                properties = {k: jsonable(v) for k, v in record.items() if k not in {"lat", "lon"}}
                features.append({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
                    "properties": {**properties, "kind": "signal"},
                })
        return {"type": "FeatureCollection", "features": features}


def _iso_signals(signals: pd.DataFrame) -> pd.DataFrame:
    out = signals.copy()
    for column in ("occurred_from", "occurred_to"):
        out[column] = _iso(pd.Series(out[column]))
    return out



def _ward_frame(incidents: pd.DataFrame, wards: gpd.GeoDataFrame | None, crs: CRS) -> gpd.GeoDataFrame | None:
    if wards is None:
        return None
    require_crs(wards, "wards")
    if "name" not in wards.columns:
        msg = "wards need a 'name' column (as store.wards() returns)"
        raise InputError(msg)
    return wards[["name", "geometry"]].to_crs(crs)



def _cluster_dbscan(x: np.ndarray, y: np.ndarray, area_m2: float, params: HotspotParams) -> np.ndarray:
    """Labels (−1 = noise) from weighted DBSCAN on ``cell_m`` cells (see the module docstring)."""
    from sklearn.cluster import DBSCAN

    n = len(x)
    cell = params.cell_m
    ix = np.floor(x / cell).astype(np.int64)
    iy = np.floor(y / cell).astype(np.int64)
    keys = (ix - ix.min()) * (int(iy.max() - iy.min()) + 1) + (iy - iy.min())
    unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    cx = np.bincount(inverse, weights=x) / counts
    cy = np.bincount(inverse, weights=y) / counts
    expected = n * math.pi * params.eps_m**2 / max(area_m2, math.pi * params.eps_m**2)
    min_weight = max(float(params.min_signals), params.density_factor * expected)
    model = DBSCAN(eps=params.eps_m, min_samples=math.ceil(min_weight - 1e-9))
    cell_labels = model.fit(np.column_stack([cx, cy]), sample_weight=counts).labels_
    log.debug("dbscan: %d signals in %d cells, min weight %.1f", n, len(unique), min_weight)
    return cell_labels[inverse]


def _cluster_hdbscan(x: np.ndarray, y: np.ndarray, params: HotspotParams) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    if len(x) < params.min_signals:
        return np.full(len(x), -1)
    model = HDBSCAN(min_cluster_size=params.min_signals, min_samples=params.min_signals, copy=True)
    return model.fit(np.column_stack([x, y])).labels_


def _scan_test(
    x: np.ndarray, y: np.ndarray, area, params: HotspotParams, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Family-wise p-value per lattice cell of the ward (Monte Carlo scan of 3 × 3 windows).

    Returns ``(p per signal's cell, cell ix per signal, cell iy per signal)``. Under the null the
    ward's ``n`` signals are spread at random over the lattice cells whose centres lie in the
    ward; the p-value of a cell is the share of random spreads whose *busiest* 3 × 3 window holds
    at least as many signals as this cell's window does, which corrects for testing every cell.
    """
    size = params.scan_cell_m
    minx, miny, maxx, maxy = area.bounds
    minx, miny = min(minx, x.min()), min(miny, y.min())
    maxx, maxy = max(maxx, x.max()), max(maxy, y.max())
    nx_, ny_ = int((maxx - minx) // size) + 1, int((maxy - miny) // size) + 1
    ix = np.clip(((x - minx) // size).astype(np.int64), 0, nx_ - 1)
    iy = np.clip(((y - miny) // size).astype(np.int64), 0, ny_ - 1)
    counts = np.zeros((ny_, nx_))
    np.add.at(counts, (iy, ix), 1.0)
    gx, gy = np.meshgrid(minx + (np.arange(nx_) + 0.5) * size, miny + (np.arange(ny_) + 0.5) * size)
    inside = shapely.contains_xy(area, gx, gy) | (counts > 0)
    kernel = np.ones((3, 3))
    observed = ndimage.convolve(counts, kernel, mode="constant")
    cells = np.flatnonzero(inside.ravel())
    n = len(x)
    maxima = np.empty(params.permutations)
    batch = max(1, 2_000_000 // max(len(cells), 1))
    done = 0
    while done < params.permutations:
        k = min(batch, params.permutations - done)
        spread = np.zeros((k, ny_ * nx_))
        spread[:, cells] = rng.multinomial(n, np.full(len(cells), 1.0 / len(cells)), size=k)
        windows = ndimage.convolve(spread.reshape(k, ny_, nx_), kernel[None], mode="constant")
        maxima[done : done + k] = windows.reshape(k, -1).max(axis=1)
        done += k
    maxima.sort()
    exceed = len(maxima) - np.searchsorted(maxima, observed.ravel(), side="left")
    p_cell = (1.0 + exceed) / (1.0 + params.permutations)
    return p_cell.reshape(ny_, nx_)[iy, ix], ix, iy


def _top(values: np.ndarray, labels: list[str] | tuple[str, ...], k: int) -> list[str]:
    order = np.lexsort((np.arange(len(values)), -values))
    return [labels[i] for i in order[:k] if values[i] > 0]


def _indicator_profiles(of: np.ndarray, count: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    profiles = []
    for value in range(count):
        profile = (of == value).astype(float)
        profiles.append((profile, np.concatenate([[0.0], np.cumsum(profile)])))
    return tuple(profiles)


_OF_WEEK = np.arange(WEEK_MINUTES)
_HOUR_PROFILES = _indicator_profiles((_OF_WEEK % DAY_MINUTES) // 60, 24)
_DAY_PROFILES = _indicator_profiles(_OF_WEEK // DAY_MINUTES, 7)


def _peaks(start_min: np.ndarray, end_min: np.ndarray) -> tuple[list[int], list[str]]:
    """Top 3 hours of the day and top 2 weekdays by aoristic count of the signals."""
    hours = np.zeros(24)
    days = np.zeros(7)
    point = (end_min - start_min) < 1.0
    minute = np.floor(start_min[point]).astype(np.int64) % WEEK_MINUTES
    hours += np.bincount((minute % DAY_MINUTES) // 60, minlength=24)
    days += np.bincount(minute // DAY_MINUTES, minlength=7)
    if (~point).any():
        t0, t1 = start_min[~point], end_min[~point]
        for hour, (profile, cumulative) in enumerate(_HOUR_PROFILES):
            hours[hour] += aoristic_share(t0, t1, profile, cumulative=cumulative).sum()
        for day, (profile, cumulative) in enumerate(_DAY_PROFILES):
            days[day] += aoristic_share(t0, t1, profile, cumulative=cumulative).sum()
    top_hours = [int(h) for h in _top(hours, list(range(24)), 3)]
    return top_hours, _top(days, WEEKDAYS, 2)


def _trend(start: pd.Series, end: pd.Series, now: pd.Timestamp) -> dict[str, Any]:
    """Signals per week in the last 4 weeks vs the 8 weeks before (aoristic shares of spans)."""
    t0 = (start - now) / pd.Timedelta(days=1)
    t1 = (end - now) / pd.Timedelta(days=1)
    t0, t1 = t0.to_numpy(float), np.maximum(t1.to_numpy(float), t0.to_numpy(float))

    def share(a: float, b: float) -> float:
        width = t1 - t0
        overlap = np.clip(np.minimum(t1, b) - np.maximum(t0, a), 0, None)
        inside_point = (width < 1e-9) & (t0 >= a) & (t0 < b)
        return float(np.where(width < 1e-9, inside_point, overlap / np.where(width < 1e-9, 1, width)).sum())

    recent = share(-28, 1e-9) / 4
    before = share(-84, -28) / 8
    if recent > 1.25 * before and recent - before >= 0.25:
        direction = "rising"
    elif recent < 0.8 * before and before - recent >= 0.25:
        direction = "falling"
    else:
        direction = "stable"
    return {"recent_per_week": round(recent, 3), "before_per_week": round(before, 3), "direction": direction}


def _near_repeat(
    centres: np.ndarray, x: np.ndarray, y: np.ndarray, base: np.ndarray, age_days: np.ndarray,
    eligible: np.ndarray, params: HotspotParams,
) -> np.ndarray:
    """Near-repeat boost at each of ``centres`` from recent eligible signals around it."""
    from scipy.spatial import cKDTree

    boost = np.zeros(len(centres))
    use = eligible & (age_days >= 0) & (age_days < params.near_repeat_days) & (base > 0)
    if not use.any() or len(centres) == 0:
        return boost
    tree = cKDTree(np.column_stack([x[use], y[use]]))
    time_factor = (1 - age_days[use] / params.near_repeat_days) * base[use]
    matrix = cKDTree(centres).sparse_distance_matrix(tree, params.near_repeat_m, output_type="coo_matrix")
    space = 1 - matrix.data / params.near_repeat_m
    np.add.at(boost, matrix.row, space * time_factor[matrix.col])
    return params.near_repeat_weight * boost


def _public_area(x: np.ndarray, y: np.ndarray, size: float):
    """Union of the fixed ``size`` grid cells that hold these points: an area, never a point."""
    cells = np.unique(np.column_stack([np.floor(x / size), np.floor(y / size)]), axis=0)
    boxes = shapely.box(cells[:, 0] * size, cells[:, 1] * size, (cells[:, 0] + 1) * size, (cells[:, 1] + 1) * size)
    return shapely.union_all(boxes)


@dataclass(frozen=True)
class _Signals:
    """The signals of one call, each field a per-signal array in the order of ``frame``."""

    frame: pd.DataFrame
    """The incidents, index reset, with an ``id`` (1, 2, … when they had none)."""
    x: np.ndarray
    y: np.ndarray
    crs: CRS
    """Of ``x``, ``y`` (metres)."""
    weights: pd.DataFrame
    """``signal_weights``."""
    start: pd.Series
    end: pd.Series
    start_min: np.ndarray
    end_min: np.ndarray
    """``start`` and ``end`` in local minutes of the week."""
    local_day: np.ndarray
    """Local day number of ``start``: one day's burst is not a hotspot (``min_days``)."""
    age_days: np.ndarray
    """Days from ``end`` to now."""
    categories: np.ndarray
    category_codes: np.ndarray
    category_names: np.ndarray
    """Sorted, so ``category_codes`` index it."""
    sources: np.ndarray
    on_patrol: np.ndarray


@dataclass(frozen=True)
class _Area:
    """Where one ward's signals are clustered and tested."""

    ward: str | None
    geometry: shapely.Geometry
    """In the signals' metric CRS."""
    members: np.ndarray
    """Indices of its active signals."""


@dataclass(frozen=True)
class _Cluster:
    """A cluster that passed ``min_signals`` and ``min_days``, before it is scored."""

    label: int
    ward: str | None
    members: np.ndarray
    centre: tuple[float, float]
    p_value: float
    """Of its busiest scan window (``_scan_test``)."""


def find_hotspots(
    incidents: pd.DataFrame,
    wards: gpd.GeoDataFrame | None = None,
    *,
    params: HotspotParams = HotspotParams(),
    now: datetime | pd.Timestamp | None = None,
) -> HotspotResult:
    """Cluster each ward's signals, score and test the clusters, render for ``params.audience``.

    Parameters
    ----------
    incidents
        Signals with ``occurred_from``/``occurred_to`` (aware), ``lat``/``lon`` (WGS84) or a
        point geometry, ``category``, optionally ``id``, ``ward``, ``status``, ``on_patrol``,
        ``source`` and ``description`` (as ``Store.incidents()`` returns).
    wards
        Ward polygons with a ``name`` column (as ``Store.wards()`` returns); signals are taken
        per ward by their ``ward`` column. Without wards all signals form one area.
    params
        Weights, clustering, significance and audience (``HotspotParams``).
    now
        Reference time for recency and trends; default the latest signal.

    Returns
    -------
    HotspotResult
        For ``audience="public"`` only significant hotspots with at least
        ``public_min_signals`` signals, as grid-cell areas, and no signals at all; for
        ``"officer"`` every cluster (with ``significant`` and ``p_value``) and the signals.
    """
    now = moment_utc(now, incidents)
    signals, ward_polys = _signals(incidents, wards, params=params, now=now)
    areas = _areas(signals, ward_polys, params=params)
    labels, clusters = _clusters(signals, areas, params=params)
    log.info("clustered %d signals in %d areas: %d clusters", len(signals.frame), len(areas), len(clusters))
    table, rank_of_label = _ranked(_described(signals, clusters, params=params, now=now), clusters)
    hotspots = _rendered(table, signals.crs, params=params)
    points = _officer_points(signals, labels, rank_of_label) if params.audience == "officer" else None
    log.info("hotspots (%s): %d shown", params.audience, len(hotspots))
    return HotspotResult(hotspots=hotspots, signals=points, audience=params.audience, now=now,
                         window=params.window, params=params)


def _signals(incidents: pd.DataFrame, wards: gpd.GeoDataFrame | None, *, params: HotspotParams,
             now: pd.Timestamp) -> tuple[_Signals, gpd.GeoDataFrame | None]:
    """The signals in metres with their weights and times, and the wards in the same CRS."""
    frame = incidents.reset_index(drop=True)
    if "id" not in frame.columns:
        frame = frame.assign(id=np.arange(1, len(frame) + 1))
    ward_polys = None
    crs = None
    if wards is not None:
        require_crs(wards, "wards")
        crs = metric_crs_of(wards)
        ward_polys = _ward_frame(frame, wards, crs)
    x, y, crs = metric_xy(frame, crs)
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(column_or(frame, "occurred_to", None).fillna(start), utc=True)
    start_min = local_minutes(start)
    categories = column_or(frame, "category", "other").fillna("other").astype(str).to_numpy()
    category_codes, category_names = pd.factorize(categories, sort=True)
    signals = _Signals(
        frame=frame, x=x, y=y, crs=crs, weights=signal_weights(frame, params=params, now=now),
        start=start, end=end, start_min=start_min, end_min=local_minutes(end),
        local_day=np.floor(start_min / DAY_MINUTES).astype(np.int64),
        age_days=((now - end) / pd.Timedelta(days=1)).to_numpy(float),
        categories=categories, category_codes=category_codes,
        category_names=np.asarray(category_names, dtype=object),
        sources=column_or(frame, "source", "resident").fillna("resident").astype(str).to_numpy(),
        on_patrol=column_or(frame, "on_patrol", False).fillna(False).astype(bool).to_numpy(),
    )
    return signals, ward_polys


def _areas(signals: _Signals, ward_polys: gpd.GeoDataFrame | None, *, params: HotspotParams) -> list[_Area]:
    """One area per ward with its active signals; without wards, one around all signals."""
    frame, active = signals.frame, signals.weights["active"].to_numpy() > 0
    if ward_polys is not None and "ward" in frame.columns:
        ward_codes, ward_names = pd.factorize(frame["ward"])
        code_of = {name: code for code, name in enumerate(ward_names)}
        return [_Area(ward=name, geometry=geometry,
                      members=np.flatnonzero((ward_codes == code_of.get(name, -2)) & active))
                for name, geometry in zip(ward_polys["name"], ward_polys.geometry, strict=True)]
    hull = _hull(signals.x, signals.y) if len(frame) else shapely.Point(0, 0)
    return [_Area(ward=None, geometry=hull.buffer(params.eps_m), members=np.flatnonzero(active))]


def _clusters(signals: _Signals, areas: list[_Area], *, params: HotspotParams) -> tuple[np.ndarray, list[_Cluster]]:
    """Each signal's cluster label (−1 = none) and the clusters, area by area."""
    labels = np.full(len(signals.frame), -1, dtype=np.int64)
    clusters: list[_Cluster] = []
    for area_index, area in enumerate(areas):
        members = area.members
        if len(members) < params.min_signals:
            continue
        mx, my = signals.x[members], signals.y[members]
        if params.method == "dbscan":
            local = _cluster_dbscan(mx, my, float(area.geometry.area), params)
        else:
            local = _cluster_hdbscan(mx, my, params)
        # Seeded per area: a ward's significance does not depend on the wards before it.
        rng = np.random.default_rng([params.seed, area_index])
        p_signal, _, _ = _scan_test(mx, my, area.geometry, params, rng)
        for cluster in np.unique(local[local >= 0]):
            inside = members[local == cluster]
            if len(inside) < params.min_signals or len(np.unique(signals.local_day[inside])) < params.min_days:
                continue
            labels[inside] = len(clusters)
            clusters.append(_Cluster(
                label=len(clusters), ward=area.ward, members=inside,
                centre=(float(signals.x[inside].mean()), float(signals.y[inside].mean())),
                # The cluster's busiest scan window decides its significance.
                p_value=float(np.min(p_signal[local == cluster])),
            ))
    return labels, clusters


_TABLE_COLUMNS = [
    "ward", "n_signals", "score", "near_repeat", "significant", "p_value", "top_categories",
    "peak_hours", "peak_weekdays", "trend", "first_signal", "last_signal", "signal_ids", "hull",
    "public_area", "explanation", "explanation_en", "score_parts",
]


def _described(signals: _Signals, clusters: list[_Cluster], *, params: HotspotParams,
               now: pd.Timestamp) -> pd.DataFrame:
    """One row per cluster, in cluster order: its score (with the near-repeat term), facts and
    explanations, its hull and its public grid-cell area (``_TABLE_COLUMNS``)."""
    weights = signals.weights
    weight = weights["weight"].to_numpy()
    centres = np.array([c.centre for c in clusters]).reshape(-1, 2)
    eligible = np.isin(signals.categories, params.near_repeat_categories)
    boost = _near_repeat(centres, signals.x, signals.y, base_weights(weights), signals.age_days, eligible, params)
    public = params.audience == "public"
    ids = signals.frame["id"].to_numpy()
    names = signals.category_names
    rows = []
    for cluster, extra in zip(clusters, boost, strict=True):
        inside = cluster.members
        cx, cy = signals.x[inside], signals.y[inside]
        per_category = np.bincount(signals.category_codes[inside], minlength=len(names))
        top_codes = np.lexsort((names, -per_category))[:3]
        hours, days = _peaks(signals.start_min[inside], signals.end_min[inside])
        significant = cluster.p_value <= params.alpha
        score = float(weight[inside].sum() + extra)
        parts = score_parts(weights.iloc[inside], float(extra), public=public)
        trend = _trend(signals.start.iloc[inside], signals.end.iloc[inside], now)
        first, last = signals.start.iloc[inside].min(), signals.end.iloc[inside].max()
        facts = {
            "n_signals": len(inside), "score": score, "score_parts": parts, "significant": bool(significant),
            "p_value": cluster.p_value, "peak_hours": hours, "peak_weekdays": days, "trend": trend,
            "first_signal": first, "last_signal": last, "now": now,
            "categories": {str(names[c]): int(per_category[c]) for c in range(len(names)) if per_category[c] > 0},
            "sources": pd.Series(signals.sources[inside]).value_counts().to_dict(),
            "on_patrol": int(signals.on_patrol[inside].sum()),
        }
        explain = {"k": params.public_min_signals, "public": public}
        rows.append({
            "ward": cluster.ward,
            "n_signals": len(inside),
            "score": score,
            "near_repeat": float(extra),
            "significant": bool(significant),
            "p_value": cluster.p_value,
            "top_categories": [[str(names[c]), int(per_category[c])] for c in top_codes if per_category[c] > 0],
            "peak_hours": hours,
            "peak_weekdays": days,
            "trend": trend,
            "first_signal": first,
            "last_signal": last,
            "signal_ids": [int(i) for i in ids[inside]] if np.issubdtype(ids.dtype, np.integer) else list(ids[inside]),
            "hull": _hull(cx, cy).buffer(params.buffer_m),
            "public_area": _public_area(cx, cy, params.public_cell_m),
            "explanation": explain_hotspot(facts, language="nl", **explain),
            "explanation_en": explain_hotspot(facts, language="en", **explain),
            "score_parts": parts,
        })
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


def _ranked(table: pd.DataFrame, clusters: list[_Cluster]) -> tuple[pd.DataFrame, dict[int, int]]:
    """The rows best first (score, then more signals) with ``id`` = rank, and each cluster label's rank."""
    order = np.lexsort((-table["n_signals"].to_numpy(), -table["score"].to_numpy())) if len(table) else []
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    labels = [clusters[i].label for i in order]
    return table, {label: rank for rank, label in zip(table["id"], labels, strict=True)}


def _rendered(table: pd.DataFrame, crs: CRS, *, params: HotspotParams) -> gpd.GeoDataFrame:
    """The ranked rows for the audience, in WGS84: the public see significant hotspots with at least
    ``public_min_signals`` signals as grid cells, months for dates and no signal ids; officers all hulls."""
    if params.audience == "public":
        keep = table["significant"] & (table["n_signals"] >= params.public_min_signals)
        table = table[keep].reset_index(drop=True)
        table["id"] = np.arange(1, len(table) + 1)
        geometry = table["public_area"]
        table["first_signal"] = table["first_signal"].map(_month)
        table["last_signal"] = table["last_signal"].map(_month)
        # A category with fewer than k signals in a small area could point at one household.
        table["top_categories"] = table["top_categories"].map(
            lambda pairs: [[c, n] for c, n in pairs if n >= params.public_min_signals]
        )
    else:
        geometry = table["hull"]
    metric = gpd.GeoSeries(list(geometry), crs=crs)
    table["area_m2"] = metric.area.to_numpy() if len(table) else []
    centroids = metric.centroid.to_crs(settings.WGS84)
    table["centroid_lon"] = centroids.x.to_numpy() if len(table) else []
    table["centroid_lat"] = centroids.y.to_numpy() if len(table) else []
    table = table.drop(columns=["hull", "public_area"])
    if params.audience == "public":
        table = table.drop(columns=["signal_ids"])
    return gpd.GeoDataFrame(table, geometry=metric.to_crs(settings.WGS84).to_numpy(), crs=settings.WGS84)


def _officer_points(signals: _Signals, labels: np.ndarray, rank_of_label: dict[int, int]) -> pd.DataFrame:
    """The officers' signal table: each signal with its hotspot's rank (None outside one) and weight."""
    frame = signals.frame
    lon, lat = signal_lonlat(frame)
    points = pd.DataFrame({
        "id": frame["id"].to_numpy(),
        "hotspot": [rank_of_label.get(int(lb)) if lb >= 0 else None for lb in labels],
        "lat": lat, "lon": lon,
        "category": signals.categories,
        "source": column_or(frame, "source", None).to_numpy(),
        "status": column_or(frame, "status", "open").to_numpy(),
        "weight": signals.weights["weight"].to_numpy(),
    })
    points["occurred_from"] = signals.start.array
    points["occurred_to"] = signals.end.array
    return points


def _hull(x: np.ndarray, y: np.ndarray):
    """Convex hull of points (a polygon, or a line or point when they are collinear)."""
    from scipy.spatial import ConvexHull, QhullError

    points = np.unique(np.column_stack([x, y]), axis=0)
    if len(points) >= 3:
        try:
            return shapely.Polygon(points[ConvexHull(points).vertices])
        except QhullError:
            pass
    return shapely.MultiPoint(points).convex_hull


def _iso(times: pd.Series) -> np.ndarray:
    """UTC ISO 8601 strings (``2026-03-01T20:30:00Z``), vectorised."""
    values = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[s]")
    return np.char.add(np.datetime_as_string(values, unit="s"), "Z")


def _month(stamp: pd.Timestamp) -> str:
    return stamp.tz_convert(settings.timezone()).strftime("%Y-%m")
