"""Hotspots per ward: where signals cluster, how much they matter tonight, and which streets are hot.

Three steps, each usable on its own:

1. ``signal_weights`` gives every signal a weight: recency (half-life), the ward's category
   weights, relevance for a target time window (aoristic: a signal known only as a window spreads
   its weight over that window), a discount for signals found on patrol (the feedback loop), and
   zero for resolved signals.
2. ``find_hotspots`` clusters the signals of each ward in metres, scores each cluster (sum of its
   signal weights plus a near-repeat term), tests it against a random spread of the ward's signals
   and renders it for an audience: ``public`` (residents: only areas with at least
   ``settings.PUBLIC_MIN_SIGNALS`` signals, no points) or ``officer`` (with the points).
3. ``hot_streets`` snaps signals to a walk graph and scores every street by a blend of its counts
   per km and a network kernel density (``HotStreetParams``; an installation's calibration
   chooses the blend and bandwidth, ``hot_street_calibration``).

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
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from .. import settings
from .._errors import InputError
from .._geo import metric_crs_for, require_crs
from .._time import utc_timestamp
from ..signals.incidents import CATEGORIES, SOURCES
from .explain import explain_hotspot, rounded_parts, score_parts

log = logging.getLogger(__name__)

WEEK_MINUTES = 7 * 24 * 60
_EPOCH = pd.Timestamp("1969-12-29")  # a Monday: local minutes are counted from here
_DAY = 24 * 60

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "ma", "maandag"),
        ("tue", "tuesday", "di", "dinsdag"),
        ("wed", "wednesday", "wo", "woensdag"),
        ("thu", "thursday", "do", "donderdag"),
        ("fri", "friday", "vr", "vrijdag"),
        ("sat", "saturday", "za", "zaterdag"),
        ("sun", "sunday", "zo", "zondag"),
    )
):
    for _name in _names:
        _WEEKDAY_NAMES[_name] = _i
_HHMM = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


# --------------------------------------------------------------------------------------------
# Target time window
# --------------------------------------------------------------------------------------------
def _minutes(text: str, what: str) -> int:
    match = _HHMM.match(str(text))
    if not match:
        msg = f"{what} must be HH:MM, got {text!r}"
        raise InputError(msg)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        msg = f"{what} must be a time of day 00:00-24:00, got {text!r}"
        raise InputError(msg)
    return hours * 60 + minutes


def parse_weekday(text: str) -> int:
    """Weekday number (0 = Monday) of an English or Dutch day name or abbreviation, or 0-6."""
    key = str(text).strip().lower()
    if key.isdigit() and 0 <= int(key) <= 6:
        return int(key)
    if key not in _WEEKDAY_NAMES:
        msg = f"unknown weekday {text!r}; use mon..sun, ma..zo (maandag..zondag) or 0-6 (0 = Monday)"
        raise InputError(msg)
    return _WEEKDAY_NAMES[key]


@dataclass(frozen=True)
class TimeWindow:
    """The time a patrol is planned for, e.g. Friday 20:00-23:00, in local (Dutch) time.

    Parameters
    ----------
    start, end
        ``HH:MM`` local time; ``end`` at or before ``start`` crosses midnight (``22:00``-``02:00``).
    weekdays
        Days the window *starts* on (0 = Monday); empty means every day.
    smoothing_hours
        Signals just outside the window still count a bit: their relevance falls off as a normal
        curve with this standard deviation (hours) with the distance to the window.
    """

    start: str = "00:00"
    end: str = "24:00"
    weekdays: tuple[int, ...] = ()
    smoothing_hours: float = 1.0

    def __post_init__(self) -> None:
        _minutes(self.start, "window start")
        _minutes(self.end, "window end")
        for day in self.weekdays:
            if not isinstance(day, (int, np.integer)) or not 0 <= day <= 6:
                msg = f"weekdays must be numbers 0-6 (0 = Monday), got {self.weekdays!r}"
                raise InputError(msg)
        if len(set(self.weekdays)) != len(self.weekdays):
            msg = f"weekdays must not repeat, got {self.weekdays!r}"
            raise InputError(msg)
        if not (math.isfinite(self.smoothing_hours) and self.smoothing_hours >= 0):
            msg = f"smoothing_hours must be ≥ 0, got {self.smoothing_hours}"
            raise InputError(msg)

    @classmethod
    def parse(cls, text: str, *, day: str | None = None, smoothing_hours: float = 1.0) -> TimeWindow:
        """Read the CLI's ``HH:MM-HH:MM`` (and an optional day name such as ``fri``/``vrijdag``)."""
        start, sep, end = str(text).partition("-")
        if not sep:
            msg = f"window must be HH:MM-HH:MM (e.g. 20:00-23:00), got {text!r}"
            raise InputError(msg)
        weekdays = (parse_weekday(day),) if day else ()
        return cls(start=start.strip(), end=end.strip(), weekdays=weekdays, smoothing_hours=smoothing_hours)

    @property
    def is_all_day(self) -> bool:
        """Whether the window covers every minute of every day (no time weighting at all)."""
        start, end = _minutes(self.start, "window start"), _minutes(self.end, "window end")
        return not self.weekdays and (end - start) % _DAY == 0

    def label(self) -> str:
        """Human form, e.g. ``fri 20:00-23:00``."""
        days = ",".join(WEEKDAYS[d] for d in self.weekdays)
        return f"{days} {self.start}-{self.end}".strip()

    def mask(self) -> np.ndarray:
        """Boolean per minute of the week (Monday 00:00 first): inside the window or not."""
        start, end = _minutes(self.start, "window start"), _minutes(self.end, "window end")
        length = (end - start) % _DAY or _DAY
        inside = np.zeros(WEEK_MINUTES, dtype=bool)
        for day in self.weekdays or range(7):
            first = day * _DAY + start
            idx = (first + np.arange(length)) % WEEK_MINUTES
            inside[idx] = True
        return inside

    def profile(self) -> np.ndarray:
        """Relevance per minute of the week: 1 inside the window, a normal fall-off outside."""
        inside = self.mask()
        if inside.all():
            return np.ones(WEEK_MINUTES)
        if self.smoothing_hours == 0:
            return inside.astype(float)
        tiled = np.tile(~inside, 3)
        distance = ndimage.distance_transform_edt(tiled)[WEEK_MINUTES : 2 * WEEK_MINUTES]
        sigma = self.smoothing_hours * 60.0
        return np.exp(-0.5 * (distance / sigma) ** 2)


def local_minutes(times: pd.Series) -> np.ndarray:
    """Minutes since a Monday 00:00 in Dutch local (wall-clock) time, for aware UTC timestamps."""
    times = pd.to_datetime(times, utc=True)
    local = times.dt.tz_convert(settings.TIMEZONE).dt.tz_localize(None)
    return ((local - _EPOCH) / pd.Timedelta(minutes=1)).to_numpy(dtype=float)


def aoristic_share(
    t0: np.ndarray, t1: np.ndarray, profile: np.ndarray, *, cumulative: np.ndarray | None = None
) -> np.ndarray:
    """Mean of a per-minute-of-week ``profile`` over each span ``[t0, t1]`` (local minutes).

    This is the aoristic method (Ratcliffe): a signal known only as "between 22:00 and 07:00"
    contributes the share of that span the profile covers, never the value at its midpoint.
    A span shorter than a minute takes the profile's value at its start. ``cumulative`` (the
    profile's running sum with a leading 0) may be passed when the same profile is reused.
    """
    t0 = np.asarray(t0, dtype=float)
    t1 = np.maximum(np.asarray(t1, dtype=float), t0)
    if cumulative is None:
        cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    total = cumulative[-1]

    def integral(t: np.ndarray) -> np.ndarray:
        weeks = np.floor(t / WEEK_MINUTES)
        rest = t - weeks * WEEK_MINUTES
        minute = np.clip(np.floor(rest).astype(np.int64), 0, WEEK_MINUTES - 1)
        return weeks * total + cumulative[minute] + (rest - minute) * profile[minute]

    span = t1 - t0
    point = span < 1.0
    out = np.empty(len(t0))
    out[point] = profile[np.floor(t0[point]).astype(np.int64) % WEEK_MINUTES]
    wide = ~point
    if wide.any():
        out[wide] = (integral(t1[wide]) - integral(t0[wide])) / span[wide]
    return out


# --------------------------------------------------------------------------------------------
# Parameters and results
# --------------------------------------------------------------------------------------------
MAX_CATEGORY_WEIGHT = 100.0
"""Weights say how much more a category counts than another; beyond this they only make the
scores overflow (1e308 gave an infinite hotspot score)."""


def _check_weights(pairs: tuple, name: str, width: int) -> None:
    for item in pairs:
        if not isinstance(item, tuple) or len(item) != width:
            msg = f"{name} must be a tuple of {width}-tuples, got {item!r}"
            raise InputError(msg)
        category, weight = item[-2], item[-1]
        if category not in CATEGORIES:
            msg = f"{name}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}"
            raise InputError(msg)
        if not (isinstance(weight, (int, float)) and 0 <= weight <= MAX_CATEGORY_WEIGHT):
            msg = f"{name}: weight of {category!r} must be a number from 0 to {MAX_CATEGORY_WEIGHT:g}, got {weight!r}"
            raise InputError(msg)


def _check_source_weights(pairs: tuple) -> None:
    for item in pairs:
        if not isinstance(item, tuple) or len(item) != 2:
            msg = f"source_weights must be a tuple of (source, weight) pairs, got {item!r}"
            raise InputError(msg)
        source, weight = item
        if source not in SOURCES:
            msg = f"source_weights: unknown source {source!r}; use one of {', '.join(SOURCES)}"
            raise InputError(msg)
        if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight >= 0):
            msg = f"source_weights: weight of {source!r} must be a number ≥ 0, got {weight!r}"
            raise InputError(msg)


@dataclass(frozen=True)
class HotspotParams:
    """How signals are weighted, clustered, tested and shown. Frozen: usable as a cache key.

    Parameters
    ----------
    method
        ``"dbscan"`` (default: weighted DBSCAN on ``cell_m`` cells, fast at any volume) or
        ``"hdbscan"`` (scikit-learn HDBSCAN on the raw points; slow above ~10 000 per ward).
    eps_m
        DBSCAN neighbourhood radius in metres.
    min_signals
        Fewest signals in a hotspot (also DBSCAN's minimum weight of a dense place and HDBSCAN's
        ``min_cluster_size``): a cluster of two incidents is not a hotspot.
    density_factor
        DBSCAN only: a dense place also needs this many times the ward's average density.
    cell_m
        DBSCAN only: grid cell (m) the signals are aggregated to before clustering.
    min_days
        Fewest distinct days a hotspot's signals fall on: one evening's burst is a one-off.
    half_life_days
        Recency: a signal's weight halves every this many days.
    recency_floor
        Share of a signal's weight that does not fade with age, 0 … 1: the recency weight is
        ``recency_floor + (1 − recency_floor) · 0.5 ** (age / half_life_days)``, so a place's
        long-term record keeps counting next to its recent signals (1 = every signal alike).
        0 by default; an installation's calibration sets it (``calibration``).
    category_weights
        ``(category, weight)`` pairs for every ward (default 1 for each category).
    ward_category_weights
        ``(ward, category, weight)`` triples a ward's team set; they override ``category_weights``.
    window
        Target window (e.g. Friday 20:00-23:00); ``None`` weighs every time of day alike.
    source_weights
        ``(source, weight)`` pairs (``resident``, ``was_member``, ``officer``, ``municipality``,
        ``police``); every source weighs 1 unless set here.
    patrol_weight
        Weight of signals found on patrol, on top of their source's weight: patrolled places
        otherwise look worse and worse because they are looked at (the feedback loop).
    resolved_weight
        Weight, 0 … 1, of a resolved signal (times its other weights). 0 by default: a handled
        problem does not count. But resolving a signal does not show that the place stopped
        drawing signals, so an installation's calibration may set 1 when that forecasts better.
    near_repeat_m, near_repeat_days, near_repeat_weight, near_repeat_categories
        After a burglary the risk within about 400 m stays raised for about two months (Bowers,
        Johnson & Pease 2004): each such signal adds ``near_repeat_weight`` × its weight × a
        linear fall-off in distance and age to the hotspots (and forecast cells) around it.
    bandwidth_m
        Spatial kernel (Gaussian sd, m) of the forecast surface used by the backtest.
    buffer_m
        Buffer around a hotspot's hull (m).
    alpha, permutations, scan_cell_m
        Significance: a hotspot is significant when the signals in the 3 × 3 cells of
        ``scan_cell_m`` around its core outnumber, with family-wise error ``alpha``, the busiest
        such window in ``permutations`` random spreads of the ward's signals over the ward.
    public_min_signals, public_cell_m
        Public rendering: only significant hotspots with at least this many signals, drawn as
        the union of the ``public_cell_m`` grid cells they touch (never as hulls of points).
    audience
        ``"public"`` (residents; the default, so nothing leaks by accident) or ``"officer"``.
    seed
        Seed of the random spreads; results are deterministic.
    """

    method: str = "dbscan"
    eps_m: float = 75.0
    min_signals: int = 5
    density_factor: float = 3.0
    cell_m: float = 20.0
    min_days: int = 2
    half_life_days: float = settings.RECENCY_HALF_LIFE_DAYS
    recency_floor: float = 0.0
    category_weights: tuple[tuple[str, float], ...] = ()
    ward_category_weights: tuple[tuple[str, str, float], ...] = ()
    window: TimeWindow | None = None
    source_weights: tuple[tuple[str, float], ...] = ()
    patrol_weight: float = 0.5
    resolved_weight: float = 0.0
    near_repeat_m: float = 400.0
    near_repeat_days: float = 60.0
    near_repeat_weight: float = 1.0
    near_repeat_categories: tuple[str, ...] = ("burglary", "vehicle_crime")
    bandwidth_m: float = 100.0
    buffer_m: float = 25.0
    alpha: float = 0.05
    permutations: int = 199
    scan_cell_m: float = 100.0
    public_min_signals: int = settings.PUBLIC_MIN_SIGNALS
    public_cell_m: float = 100.0
    audience: str = "public"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in {"dbscan", "hdbscan"}:
            msg = f"method must be 'dbscan' or 'hdbscan', got {self.method!r}"
            raise InputError(msg)
        if self.audience not in {"public", "officer"}:
            msg = f"audience must be 'public' or 'officer', got {self.audience!r}"
            raise InputError(msg)
        for name in ("eps_m", "cell_m", "half_life_days", "near_repeat_m", "near_repeat_days",
                     "bandwidth_m", "scan_cell_m", "public_cell_m"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = f"{name} must be > 0, got {value!r}"
                raise InputError(msg)
        for name in ("density_factor", "patrol_weight", "near_repeat_weight", "buffer_m"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                msg = f"{name} must be ≥ 0, got {value!r}"
                raise InputError(msg)
        for name in ("min_signals", "min_days", "public_min_signals"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                msg = f"{name} must be an integer ≥ 1, got {value!r}"
                raise InputError(msg)
        if self.min_signals < 2:
            msg = f"min_signals must be ≥ 2 (a single signal is no cluster), got {self.min_signals}"
            raise InputError(msg)
        if not 0 < self.alpha < 1:
            msg = f"alpha must be between 0 and 1, got {self.alpha!r}"
            raise InputError(msg)
        for name in ("recency_floor", "resolved_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                msg = f"{name} must be between 0 and 1, got {value!r}"
                raise InputError(msg)
        if not isinstance(self.permutations, (int, np.integer)) or self.permutations < 19:
            msg = f"permutations must be an integer ≥ 19, got {self.permutations!r}"
            raise InputError(msg)
        if self.window is not None and not isinstance(self.window, TimeWindow):
            msg = f"window must be a TimeWindow or None, got {type(self.window).__name__}"
            raise InputError(msg)
        _check_weights(self.category_weights, "category_weights", 2)
        _check_weights(self.ward_category_weights, "ward_category_weights", 3)
        _check_source_weights(self.source_weights)
        for category in self.near_repeat_categories:
            if category not in CATEGORIES:
                msg = f"near_repeat_categories: unknown category {category!r}"
                raise InputError(msg)

    def source_weight_of(self) -> dict[str, float]:
        """Source → weight: 1 for every source, then ``source_weights``."""
        weights = dict.fromkeys(SOURCES, 1.0)
        weights.update({s: float(w) for s, w in self.source_weights})
        return weights

    def weights_for(self, ward: str | None) -> dict[str, float]:
        """Category → weight for one ward: 1, then ``category_weights``, then the ward's own."""
        weights = dict.fromkeys(CATEGORIES, 1.0)
        weights.update({c: float(w) for c, w in self.category_weights})
        weights.update({c: float(w) for name, c, w in self.ward_category_weights if name == ward})
        return weights


def parse_category_weights(text: str | None) -> tuple[tuple[str, float], ...]:
    """Parse the CLI's ``--weights burglary=2,straatverlichting=0.5`` (English or Dutch names)."""
    from ..signals.incidents import canonical_category

    if not text:
        return ()
    pairs = []
    for item in text.split(","):
        name, sep, value = item.partition("=")
        category = canonical_category(name)
        if not sep or category is None:
            msg = f"--weights item {item!r} is not CATEGORY=WEIGHT with a known category ({', '.join(CATEGORIES)})"
            raise InputError(msg)
        try:
            weight = float(value)
        except ValueError:
            msg = f"--weights item {item!r}: {value!r} is not a number"
            raise InputError(msg) from None
        pairs.append((category, weight))
    _check_weights(tuple(pairs), "--weights", 2)
    return tuple(pairs)


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
            item = {name: _jsonable(getattr(row, name)) for name in _PUBLIC_COLUMNS}
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
                {key: _jsonable(value) for key, value in record.items()}
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
                properties = {k: _jsonable(v) for k, v in record.items() if k not in {"lat", "lon"}}
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(value) else round(float(value), 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


# --------------------------------------------------------------------------------------------
# Signal weights
# --------------------------------------------------------------------------------------------
def _column(frame: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index)


def reference_time(incidents: pd.DataFrame) -> pd.Timestamp:
    """The data's own present: the latest ``occurred_to`` (UTC), so old files score as of their end."""
    if len(incidents) == 0:
        return pd.Timestamp(datetime.now(UTC))
    return pd.to_datetime(incidents["occurred_to"], utc=True).max()


def _utc(moment: datetime | pd.Timestamp | None, incidents: pd.DataFrame) -> pd.Timestamp:
    return reference_time(incidents) if moment is None else utc_timestamp(moment)


def _decay_mean(age0: np.ndarray, age1: np.ndarray, half_life_days: float) -> np.ndarray:
    """Mean of 0.5 ** (age / half-life) over each span of ages (days), exact for windows."""
    rate = math.log(2) / half_life_days
    young, old = np.minimum(age0, age1), np.maximum(age0, age1)
    young, old = np.maximum(young, 0.0), np.maximum(old, 0.0)
    width = old - young
    point = width < 1e-6
    out = np.exp(-rate * young)
    wide = ~point
    out[wide] = (np.exp(-rate * young[wide]) - np.exp(-rate * old[wide])) / (rate * width[wide])
    return out


def signal_weights(
    incidents: pd.DataFrame,
    *,
    params: HotspotParams = HotspotParams(),
    now: datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per-signal weight components and their product ``weight``.

    Columns: ``recency`` (0.5 ** (age / half-life), averaged over a window-known signal's span,
    raised to ``recency_floor + (1 − recency_floor) ·`` that),
    ``category`` (the ward's category weight), ``relevance`` (aoristic share of the signal's span
    in the target window's smoothed profile; 1 without a window), ``source`` (the source's
    weight in ``source_weights``, default 1, times ``patrol_weight`` for signals found on
    patrol), ``active`` (``resolved_weight`` for resolved signals, else 1) and ``weight``.
    Signals after ``now`` count as brand new. ``now`` defaults to the latest signal.
    """
    now = _utc(now, incidents)
    start = pd.to_datetime(incidents["occurred_from"], utc=True)
    end = pd.to_datetime(_column(incidents, "occurred_to", None).fillna(start), utc=True)
    day = pd.Timedelta(days=1)
    age_start = ((now - start) / day).to_numpy(dtype=float)
    age_end = ((now - end) / day).to_numpy(dtype=float)
    floor = params.recency_floor
    recency = floor + (1 - floor) * _decay_mean(age_start, age_end, params.half_life_days)
    categories = _column(incidents, "category", "other").fillna("other").astype(str)
    wards = _column(incidents, "ward", None)
    category = np.ones(len(incidents))
    ward_codes, ward_names = pd.factorize(wards)
    category_codes, category_names = pd.factorize(categories)
    for code in range(-1, len(ward_names)):
        in_ward = ward_codes == code
        if not in_ward.any():
            continue
        lookup = params.weights_for(ward_names[code] if code >= 0 else None)
        table = np.array([lookup.get(str(name), 1.0) for name in category_names] + [1.0])
        category[in_ward] = table[category_codes[in_ward]]
    if params.window is None or params.window.is_all_day:
        relevance = np.ones(len(incidents))
    else:
        relevance = aoristic_share(local_minutes(start), local_minutes(end), params.window.profile())
    on_patrol = _column(incidents, "on_patrol", False).fillna(False).astype(bool).to_numpy()
    by_source = params.source_weight_of()
    origin = _column(incidents, "source", "resident").fillna("resident").astype(str)
    source = origin.map(lambda name: by_source.get(name, 1.0)).to_numpy(dtype=float)
    source = source * np.where(on_patrol, params.patrol_weight, 1.0)
    status = _column(incidents, "status", "open").fillna("open").astype(str)
    active = np.where(status == "resolved", params.resolved_weight, 1.0)
    weights = pd.DataFrame(
        {"recency": recency, "category": category, "relevance": relevance, "source": source,
         "active": active},
        index=incidents.index,
    )
    weights["weight"] = weights.prod(axis=1)
    return weights


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------
def _lonlat(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "lon" in incidents.columns and "lat" in incidents.columns:
        return incidents["lon"].to_numpy(dtype=float), incidents["lat"].to_numpy(dtype=float)
    if isinstance(incidents, gpd.GeoDataFrame):
        require_crs(incidents, "incidents")
        points = incidents.geometry.to_crs(settings.WGS84)
        return points.x.to_numpy(), points.y.to_numpy()
    msg = "incidents need lat and lon columns (WGS84) or a point geometry with a CRS"
    raise InputError(msg)


def metric_xy(incidents: pd.DataFrame, crs: CRS | None = None) -> tuple[np.ndarray, np.ndarray, CRS]:
    """Signal coordinates in metres: in ``crs`` or, by default, the metric CRS of their area."""
    lon, lat = _lonlat(incidents)
    if crs is None:
        if len(lon) == 0:
            crs = CRS.from_user_input(settings.RD_NEW)
        else:
            crs = metric_crs_for(float(np.nanmedian(lon)), float(np.nanmedian(lat)))
    to_metric = Transformer.from_crs(settings.WGS84, crs, always_xy=True)
    x, y = to_metric.transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float), crs


def _ward_frame(incidents: pd.DataFrame, wards: gpd.GeoDataFrame | None, crs: CRS) -> gpd.GeoDataFrame | None:
    if wards is None:
        return None
    require_crs(wards, "wards")
    if "name" not in wards.columns:
        msg = "wards need a 'name' column (as store.wards() returns)"
        raise InputError(msg)
    return wards[["name", "geometry"]].to_crs(crs)


# --------------------------------------------------------------------------------------------
# Clustering
# --------------------------------------------------------------------------------------------
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
_HOUR_PROFILES = _indicator_profiles((_OF_WEEK % _DAY) // 60, 24)
_DAY_PROFILES = _indicator_profiles(_OF_WEEK // _DAY, 7)


def _peaks(start_min: np.ndarray, end_min: np.ndarray) -> tuple[list[int], list[str]]:
    """Top 3 hours of the day and top 2 weekdays by aoristic count of the signals."""
    hours = np.zeros(24)
    days = np.zeros(7)
    point = (end_min - start_min) < 1.0
    minute = np.floor(start_min[point]).astype(np.int64) % WEEK_MINUTES
    hours += np.bincount((minute % _DAY) // 60, minlength=24)
    days += np.bincount(minute // _DAY, minlength=7)
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


# --------------------------------------------------------------------------------------------
# Hotspots
# --------------------------------------------------------------------------------------------
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
    now = _utc(now, incidents)
    frame = incidents.reset_index(drop=True)
    if "id" not in frame.columns:
        frame = frame.assign(id=np.arange(1, len(frame) + 1))
    ward_polys = None
    if wards is not None:
        require_crs(wards, "wards")
        crs = metric_crs_for(*_centre(wards))
        ward_polys = _ward_frame(frame, wards, crs)
    else:
        crs = None
    x, y, crs = metric_xy(frame, crs)
    weights = signal_weights(frame, params=params, now=now)
    weight = weights["weight"].to_numpy()
    active = weights["active"].to_numpy() > 0
    start = pd.to_datetime(frame["occurred_from"], utc=True)
    end = pd.to_datetime(_column(frame, "occurred_to", None).fillna(start), utc=True)
    start_min, end_min = local_minutes(start), local_minutes(end)
    age_days = ((now - end) / pd.Timedelta(days=1)).to_numpy(float)
    categories = _column(frame, "category", "other").fillna("other").astype(str).to_numpy()
    nr_eligible = np.isin(categories, params.near_repeat_categories)
    category_codes, category_names = pd.factorize(categories, sort=True)
    category_names = np.asarray(category_names, dtype=object)
    sources = _column(frame, "source", "resident").fillna("resident").astype(str).to_numpy()
    on_patrol = _column(frame, "on_patrol", False).fillna(False).astype(bool).to_numpy()
    public = params.audience == "public"
    nr_base = base_weights(weights)
    local_day = np.floor(start_min / _DAY).astype(np.int64)

    if ward_polys is not None and "ward" in frame.columns:
        ward_codes, ward_names = pd.factorize(frame["ward"])
        ward_code_of = {name: code for code, name in enumerate(ward_names)}
        areas = [(name, geom) for name, geom in zip(ward_polys["name"], ward_polys.geometry, strict=True)]
    else:
        ward_codes, ward_code_of = np.zeros(len(frame), dtype=np.int64), {None: 0}
        hull = _hull(x, y) if len(frame) else shapely.Point(0, 0)
        areas = [(None, hull.buffer(params.eps_m))]

    labels = np.full(len(frame), -1, dtype=np.int64)
    records: list[dict[str, Any]] = []
    next_label = 0
    for ward_index, (ward_name, area) in enumerate(areas):
        members = np.flatnonzero((ward_codes == ward_code_of.get(ward_name, -2)) & active)
        if len(members) < params.min_signals:
            continue
        mx, my = x[members], y[members]
        if params.method == "dbscan":
            local = _cluster_dbscan(mx, my, float(area.area), params)
        else:
            local = _cluster_hdbscan(mx, my, params)
        rng = np.random.default_rng([params.seed, ward_index])
        p_signal, _, _ = _scan_test(mx, my, area, params, rng)
        for cluster in np.unique(local[local >= 0]):
            inside = members[local == cluster]
            if len(inside) < params.min_signals or len(np.unique(local_day[inside])) < params.min_days:
                continue
            cx, cy = x[inside], y[inside]
            # The cluster's busiest scan window decides its significance.
            p_value = float(np.min(p_signal[local == cluster]))
            labels[inside] = next_label
            records.append({
                "label": next_label, "ward": ward_name, "members": inside,
                "centre": (float(cx.mean()), float(cy.mean())), "p_value": p_value,
            })
            next_label += 1
    log.info("clustered %d signals in %d areas: %d clusters", len(frame), len(areas), len(records))

    centres = np.array([r["centre"] for r in records]).reshape(-1, 2)
    boost = _near_repeat(centres, x, y, nr_base, age_days, nr_eligible, params)
    ids = frame["id"].to_numpy()
    rows = []
    for record, extra in zip(records, boost, strict=True):
        inside = record["members"]
        cx, cy = x[inside], y[inside]
        hull = _hull(cx, cy).buffer(params.buffer_m)
        per_category = np.bincount(category_codes[inside], minlength=len(category_names))
        top_codes = np.lexsort((category_names, -per_category))[:3]
        hours, days = _peaks(start_min[inside], end_min[inside])
        significant = record["p_value"] <= params.alpha
        score = float(weight[inside].sum() + extra)
        parts = score_parts(weights.iloc[inside], float(extra), public=public)
        trend = _trend(start.iloc[inside], end.iloc[inside], now)
        facts = {
            "n_signals": len(inside), "score": score, "score_parts": parts, "significant": bool(significant),
            "p_value": record["p_value"], "peak_hours": hours, "peak_weekdays": days, "trend": trend,
            "first_signal": start.iloc[inside].min(), "last_signal": end.iloc[inside].max(), "now": now,
            "categories": {str(category_names[c]): int(per_category[c]) for c in range(len(category_names))
                           if per_category[c] > 0},
            "sources": pd.Series(sources[inside]).value_counts().to_dict(),
            "on_patrol": int(on_patrol[inside].sum()),
        }
        explain = {"k": params.public_min_signals, "public": public}
        rows.append({
            "ward": record["ward"],
            "n_signals": len(inside),
            "score": score,
            "near_repeat": float(extra),
            "significant": bool(significant),
            "p_value": record["p_value"],
            "top_categories": [[str(category_names[c]), int(per_category[c])] for c in top_codes
                               if per_category[c] > 0],
            "peak_hours": hours,
            "peak_weekdays": days,
            "trend": trend,
            "first_signal": start.iloc[inside].min(),
            "last_signal": end.iloc[inside].max(),
            "signal_ids": [int(i) for i in ids[inside]] if np.issubdtype(ids.dtype, np.integer) else list(ids[inside]),
            "hull": hull,
            "public_area": _public_area(cx, cy, params.public_cell_m),
            "explanation": explain_hotspot(facts, language="nl", **explain),
            "explanation_en": explain_hotspot(facts, language="en", **explain),
            "score_parts": parts,
        })
    table = pd.DataFrame(rows, columns=[
        "ward", "n_signals", "score", "near_repeat", "significant", "p_value", "top_categories",
        "peak_hours", "peak_weekdays", "trend", "first_signal", "last_signal", "signal_ids", "hull",
        "public_area", "explanation", "explanation_en", "score_parts",
    ])
    order = np.lexsort((-table["n_signals"].to_numpy(), -table["score"].to_numpy())) if len(table) else []
    table = table.iloc[order].reset_index(drop=True)
    cluster_ids = [records[i]["label"] for i in order]
    table.insert(0, "id", np.arange(1, len(table) + 1))
    rank_of_label = {label: rank for rank, label in zip(table["id"], cluster_ids, strict=True)}

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
    hotspots = gpd.GeoDataFrame(table, geometry=metric.to_crs(settings.WGS84).to_numpy(), crs=settings.WGS84)

    signals = None
    if params.audience == "officer":
        lon, lat = _lonlat(frame)
        signals = pd.DataFrame({
            "id": ids,
            "hotspot": [rank_of_label.get(int(lb)) if lb >= 0 else None for lb in labels],
            "lat": lat, "lon": lon,
            "category": categories,
            "source": _column(frame, "source", None).to_numpy(),
            "status": _column(frame, "status", "open").to_numpy(),
            "weight": weight,
        })
        signals["occurred_from"] = start.array
        signals["occurred_to"] = end.array
    log.info("hotspots (%s): %d shown", params.audience, len(hotspots))
    return HotspotResult(hotspots=hotspots, signals=signals, audience=params.audience, now=now,
                         window=params.window, params=params)


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
    return stamp.tz_convert(settings.TIMEZONE).strftime("%Y-%m")


def _centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    box = gdf.to_crs(settings.WGS84).total_bounds
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


# --------------------------------------------------------------------------------------------
# Hot streets: network kernel density on a walk graph
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HotStreetParams:
    """How streets are scored on a walk graph: a blend of counts per km and network kernel density.

    The density of a street is ``(1 − blend) · L · W / B + blend · R`` (weighted signals per km):
    ``L`` the signals snapped to the street per km of it, each with its weight without recency
    (category, target window, source; ``B`` their sum), the place's long-term record; ``R`` the
    network kernel density of the signals with their full weight (recency included; ``W`` their
    sum). A resolved signal weighs ``weights.resolved_weight`` in both. Scaling ``L`` by ``W / B`` gives
    both parts the same total weight, so the prizes stay comparable with the hotspots' scores
    whatever the blend.

    Parameters
    ----------
    bandwidth_m
        Kernel reach along the network (m): a quartic kernel ``(1 - (d/h)²)²`` up to ``h``;
        0 scores counts per km only (whatever the blend). 150 m, the literature default, unless
        an installation's calibration chose another (``tuning.hot_street_params``).
    blend
        Share of the kernel density, 0 … 1; the rest goes to the counts per km (0 = counts only).
    snap_m
        Signals farther than this from every street are not snapped (and counted as such).
    weights
        How signals are weighted (recency, categories, window, status): ``HotspotParams``.
    """

    bandwidth_m: float = 150.0
    snap_m: float = 50.0
    weights: HotspotParams = field(default_factory=HotspotParams)
    blend: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.bandwidth_m, (int, float)) and math.isfinite(self.bandwidth_m)
                and self.bandwidth_m >= 0):
            msg = f"bandwidth_m must be ≥ 0 (0 = counts per km), got {self.bandwidth_m!r}"
            raise InputError(msg)
        if not (isinstance(self.snap_m, (int, float)) and math.isfinite(self.snap_m) and self.snap_m > 0):
            msg = f"snap_m must be > 0, got {self.snap_m!r}"
            raise InputError(msg)
        if not (isinstance(self.blend, (int, float)) and 0 <= self.blend <= 1):
            msg = f"blend must be between 0 and 1, got {self.blend!r}"
            raise InputError(msg)
        if not isinstance(self.weights, HotspotParams):
            msg = f"weights must be HotspotParams, got {type(self.weights).__name__}"
            raise InputError(msg)


@dataclass(frozen=True)
class HotStreets:
    """Scored street segments of a walk graph.

    Attributes
    ----------
    edges
        GeoDataFrame in the graph's CRS, one row per directed edge ``(u, v, key)`` (both
        directions of a street carry the same values): ``street`` (the row of
        ``street_table``: both directions share it), ``length`` (m), ``signals`` (snapped to
        this street; absent in the ``public`` rendering), ``density`` (weighted signals per km
        of street, ``HotStreetParams``) and ``prize`` (``density`` × length in km: the
        segment's expected share of signals, the value the route planner collects).
    n_snapped, n_unsnapped
        Signals placed on a street, and those farther than ``snap_m`` from every street.
    """

    edges: gpd.GeoDataFrame
    n_snapped: int
    n_unsnapped: int

    def prizes(self) -> dict[tuple[Any, Any, int], float]:
        """``(u, v, key) → prize`` for every edge, for the route planner."""
        keys = zip(self.edges["u"], self.edges["v"], self.edges["key"], strict=True)
        return dict(zip(keys, self.edges["prize"].astype(float), strict=True))

    def streets(self, top: int | None = None) -> gpd.GeoDataFrame:
        """One row per street (the ``u ≤ v`` direction when there is one), densest first.

        Ties are broken by ``u`` then ``v`` so the order is the same on every run.
        """
        edges = self.edges
        canonical = edges["u"].astype(str) <= edges["v"].astype(str)
        # Prefer the u ≤ v direction, but keep a street that only runs v → u (a one-way edge).
        one = edges.assign(_canon=~canonical).sort_values(["street", "_canon"], kind="stable")
        one = one.drop_duplicates("street").drop(columns="_canon")
        one = one.assign(_u=one["u"].astype(str), _v=one["v"].astype(str))
        one = one.sort_values(["density", "_u", "_v"], ascending=[False, True, True], kind="stable")
        one = one.drop(columns=["_u", "_v"])
        return one if top is None else one.head(top)

    def _rows(self, streets: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        has_signals = "signals" in streets.columns
        rows = []
        for r in streets.itertuples(index=False):
            item = {"u": _jsonable(r.u), "v": _jsonable(r.v), "key": int(r.key), "name": _jsonable(r.name),
                    "length_m": round(float(r.length), 1)}
            if has_signals:
                item["signals"] = int(r.signals)
            item |= {"density_per_km": round(float(r.density), 4), "prize": round(float(r.prize), 4)}
            rows.append(item)
        return rows

    def to_json(self, top: int = 20) -> dict[str, Any]:
        """``{"n_snapped", "n_unsnapped", "streets": [...]}`` with the ``top`` densest streets.

        Each street: ``u``, ``v``, ``key``, ``name``, ``length_m``, ``signals`` (officers only),
        ``density_per_km`` and ``prize``.
        """
        return {"n_snapped": self.n_snapped, "n_unsnapped": self.n_unsnapped,
                "streets": self._rows(self.streets(top))}

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection (WGS84) of every street with a density above zero.

        One LineString per street, densest first, with the ``to_json`` properties plus ``rank``
        (1 = hottest). Streets whose density rounds to zero (4 decimals, as written) are left
        out: they carry nothing for a map layer.
        """
        hot = self.streets()
        hot = hot[hot["density"].round(4) > 0]
        geometries = hot.to_crs(settings.WGS84).geometry if len(hot) else []
        features = [
            {"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
             "properties": {"rank": rank, **item}}
            for rank, (item, geometry) in enumerate(zip(self._rows(hot), geometries, strict=True), start=1)
        ]
        return {"type": "FeatureCollection", "features": features}

    def public(self, areas: gpd.GeoDataFrame | gpd.GeoSeries) -> HotStreets:
        """The residents' rendering: only streets that touch the public hotspot ``areas``.

        The areas already hold at least ``public_min_signals`` signals each, so a street outside
        them could point at a single report; per-street signal counts are dropped for the same
        reason (a street with one signal would show where it was).
        """
        require_crs(areas, "hotspot areas")
        edges = self.edges.drop(columns="signals", errors="ignore")
        if len(areas) == 0:
            return HotStreets(edges=edges.iloc[:0], n_snapped=self.n_snapped, n_unsnapped=self.n_unsnapped)
        union = shapely.union_all(areas.to_crs(edges.crs).geometry.to_numpy())
        inside = edges[shapely.intersects(edges.geometry.to_numpy(), union)]
        return HotStreets(edges=inside, n_snapped=self.n_snapped, n_unsnapped=self.n_unsnapped)


def street_table(graph: nx.MultiDiGraph) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per street, and each directed edge's row, in ``graph.edges(keys=True)`` order.

    A street is the pair of directions ``(u, v, k)`` and ``(v, u, k)``; its row holds ``u``,
    ``v`` (of the first direction met), ``length`` (m), ``geometry`` (in the graph's CRS; a
    straight line when the edge has none) and ``name`` (a list of names joined by ", ").
    """
    seen: dict[tuple, int] = {}
    rows = []
    index = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        canon = (u, v, k) if str(u) <= str(v) else (v, u, k)
        row = seen.get(canon)
        if row is None:
            row = seen[canon] = len(rows)
            geometry = data.get("geometry")
            if geometry is None:
                geometry = shapely.LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                                               (graph.nodes[v]["x"], graph.nodes[v]["y"])])
            name = data.get("name")
            rows.append((u, v, float(data["length"]), geometry,
                         ", ".join(name) if isinstance(name, list) else name))
        index.append(row)
    table = pd.DataFrame(rows, columns=["u", "v", "length", "geometry", "name"])
    return table, np.asarray(index, dtype=np.int64)


def base_weights(weights: pd.DataFrame) -> np.ndarray:
    """Each signal's weight without recency, from a ``signal_weights`` frame: what long-term counts and
    the near-repeat term count with."""
    return weights[["category", "relevance", "source", "active"]].prod(axis=1).to_numpy()


def graph_crs(graph: nx.MultiDiGraph) -> CRS:
    """The metric CRS of a prepared walk graph; an unprojected graph is refused with the fix."""
    crs = graph.graph.get("crs")
    if crs is None or not CRS.from_user_input(crs).is_projected:
        msg = "the graph is not projected to metres: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)
    return CRS.from_user_input(crs)


class NetworkKernel:
    """Signals snapped to a walk graph, and the walking distances the hot-streets density needs.

    Built once for a set of signals (at metric ``x, y`` in the graph's CRS) and the largest
    kernel reach ``reach_m``; ``density`` then scores the streets for any weights of those
    signals and any bandwidth up to ``reach_m`` without walking the network again, which is
    what lets a calibration try many candidates (``calibration.calibrate_streets``).
    ``hot_streets`` is this with ``reach_m`` = its bandwidth.

    Each signal snaps to its nearest street within ``snap_m`` (``street_of``, −1 beyond); those
    ``use`` marks (default all) feed the kernel: a signal's weight goes to its street's two ends
    in proportion to how close it is to each (exact for the street itself, corrected in
    ``density``; elsewhere off by at most the street's length, a few metres on a sidewalk
    network), and the distance from an end node to a street's midpoint is the shortest walk to
    either end of that street plus half its length.
    """

    def __init__(self, graph: nx.MultiDiGraph, x: np.ndarray, y: np.ndarray, *, snap_m: float,
                 reach_m: float, use: np.ndarray | None = None) -> None:
        graph_crs(graph)
        if graph.number_of_edges() == 0:
            msg = "the street graph has no edges"
            raise InputError(msg)
        self.table, self.directed_row = street_table(graph)
        nodes = list(graph.nodes)
        position = {node: i for i, node in enumerate(nodes)}
        eu = self.table["u"].map(position).to_numpy(np.int64)
        ev = self.table["v"].map(position).to_numpy(np.int64)
        self.length = self.table["length"].to_numpy(float)
        self.geometry = np.asarray(self.table["geometry"].to_list(), dtype=object)
        self.reach_m = float(reach_m)

        points = shapely.points(x, y)
        found = shapely.STRtree(self.geometry).query_nearest(points, max_distance=snap_m, all_matches=False)
        self.street_of = np.full(len(x), -1, dtype=np.int64)
        self.street_of[found[0]] = found[1]
        keep = np.ones(len(found[0]), dtype=bool) if use is None else np.asarray(use, bool)[found[0]]
        self.signal_idx, self.edge_idx = found[0][keep], found[1][keep]
        edge_len = self.length[self.edge_idx]
        geom_len = shapely.length(self.geometry[self.edge_idx])
        along = shapely.line_locate_point(self.geometry[self.edge_idx], points[self.signal_idx])
        self.t = np.clip(along * edge_len / np.where(geom_len > 0, geom_len, 1.0), 0, edge_len)
        n_nodes, n_sig = len(nodes), len(self.signal_idx)

        # Node masses: column i holds signal i's shares at its street's two ends.
        frac = np.where(edge_len > 0, self.t / np.maximum(edge_len, 1e-9), 0.5)
        ends = np.concatenate([eu[self.edge_idx], ev[self.edge_idx]])
        shares = np.concatenate([1 - frac, frac])
        columns = np.tile(np.arange(n_sig), 2)
        positive = shares > 0
        self._sources = np.unique(ends[positive])
        row_of = np.full(n_nodes, -1, dtype=np.int64)
        row_of[self._sources] = np.arange(len(self._sources))
        self._to_sources = sparse.csr_matrix(
            (shares[positive], (row_of[ends[positive]], columns[positive])), shape=(len(self._sources), n_sig))
        self._mid_row = self._mid_col = self._mid_dist = np.zeros(0)
        if n_sig and self.reach_m > 0:
            node_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
            adjacency = _symmetric_min(eu, ev, self.length, n_nodes)
            h = self.reach_m
            closeness = _closeness_rows(adjacency, node_xy, self._sources, h).tocsc()
            # Closeness of each source node to each street's midpoint, through either end.
            mid = closeness[:, eu].maximum(closeness[:, ev]).tocoo()
            data = mid.data - self.length[mid.col] / 2
            ok = data > 0
            self._mid_row, self._mid_col, self._mid_dist = mid.row[ok], mid.col[ok], h - data[ok]
        self._kernels: dict[float, sparse.csr_matrix] = {}

    def _kernel(self, h: float) -> sparse.csr_matrix:
        """Quartic kernel (streets × source nodes) at bandwidth ``h`` ≤ ``reach_m``."""
        if h not in self._kernels:
            near = self._mid_dist < h
            values = (1 - (self._mid_dist[near] / h) ** 2) ** 2
            self._kernels[h] = sparse.csr_matrix(
                (values, (self._mid_col[near], self._mid_row[near])), shape=(len(self.table), len(self._sources)))
        return self._kernels[h]

    def per_km(self, base: np.ndarray) -> np.ndarray:
        """Per street: the ``base`` weights of the signals snapped to it, per km (a street under 1 m counts as 1 m)."""
        total = np.bincount(self.edge_idx, weights=base[self.signal_idx], minlength=len(self.table))
        # A street shorter than a metre would rank first on a single signal.
        return total * 1000 / np.maximum(self.length, 1.0)

    def density(self, base: np.ndarray, weight: np.ndarray, *, bandwidth_m: float, blend: float) -> np.ndarray:
        """Per street: ``(1 − blend) · L · W / B + blend · R`` (``HotStreetParams``).

        ``base`` (the counts' weights) and ``weight`` (the kernel's, with recency) are given per
        signal, in the order of the ``x, y`` the kernel was built on; ``bandwidth_m`` must not
        exceed ``reach_m``.
        """
        if bandwidth_m > self.reach_m:
            msg = f"bandwidth_m {bandwidth_m:g} exceeds the kernel's reach of {self.reach_m:g} m"
            raise InputError(msg)
        w = weight[self.signal_idx]
        if bandwidth_m == 0:
            blend = 0.0
        out = np.zeros(len(self.table))
        if blend > 0 and len(w):
            h = bandwidth_m
            t, edge_len = self.t, self.length[self.edge_idx]
            recent = self._kernel(h) @ (self._to_sources @ w)
            # On its own street a signal lies |t - L/2| from the midpoint, not L/2.
            own = np.clip(1 - (np.abs(t - edge_len / 2) / h) ** 2, 0, None) ** 2
            via_end = np.clip(1 - (edge_len / 2 / h) ** 2, 0, None) ** 2
            recent += np.bincount(self.edge_idx, weights=w * (own - via_end), minlength=len(self.table))
            out += blend * recent / (16 * h / 15) * 1000  # the quartic kernel integrates to 16h/15 metres
        total_base = base[self.signal_idx].sum()
        if blend < 1 and total_base > 0:
            out += (1 - blend) * self.per_km(base) * (w.sum() / total_base)
        return out


def hot_streets(
    graph: nx.MultiDiGraph,
    incidents: pd.DataFrame,
    *,
    params: HotStreetParams = HotStreetParams(),
    now: datetime | pd.Timestamp | None = None,
) -> HotStreets:
    """Snap signals to the nearest street and score every street (``HotStreetParams``).

    The kernel density of a street is evaluated at its midpoint: each snapped signal adds its
    weight × a quartic kernel of the shortest walking distance (along the network, both
    directions) from its snapped position to that midpoint, up to ``bandwidth_m``. This is the
    simple (not the "equal-split") network kernel; streets much longer than the bandwidth are
    only measured at their middle. ``params.blend`` mixes it with the counts per km
    (``NetworkKernel``). Works on any graph from ``streets.prepare_graph`` (projected,
    ``length`` on every edge); the graph is not changed.
    """
    crs = graph_crs(graph)
    frame = incidents.reset_index(drop=True)
    x, y, _ = metric_xy(frame, crs)
    weights = signal_weights(frame, params=params.weights, now=now)
    base = base_weights(weights)
    weight = base * weights["recency"].to_numpy()
    reach = params.bandwidth_m if params.blend > 0 else 0.0
    kernel = NetworkKernel(graph, x, y, snap_m=params.snap_m, reach_m=reach, use=base > 0)
    density = kernel.density(base, weight, bandwidth_m=reach, blend=params.blend)
    table, directed_row, length = kernel.table, kernel.directed_row, kernel.length
    n_snapped = int((kernel.street_of >= 0).sum())
    counts = np.bincount(kernel.edge_idx, minlength=len(table))
    u_list, v_list, k_list = zip(*graph.edges(keys=True), strict=True)
    edges = gpd.GeoDataFrame(
        {
            "u": list(u_list), "v": list(v_list), "key": list(k_list),
            "street": directed_row,
            "name": table["name"].to_numpy()[directed_row],
            "length": length[directed_row],
            "signals": counts[directed_row],
            "density": density[directed_row],
            "prize": density[directed_row] * length[directed_row] / 1000,
        },
        geometry=list(kernel.geometry[directed_row]), crs=crs,
    )
    log.info(
        "hot streets: %d signals snapped to %d of %d streets (%d beyond %g m)",
        n_snapped, int((counts > 0).sum()), len(table), len(frame) - n_snapped, params.snap_m,
    )
    return HotStreets(edges=edges, n_snapped=n_snapped, n_unsnapped=len(frame) - n_snapped)


def _symmetric_min(eu: np.ndarray, ev: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_matrix:
    """Undirected adjacency with the shortest of parallel streets."""
    a, b = np.minimum(eu, ev), np.maximum(eu, ev)
    order = np.lexsort((length, b, a))
    a, b, ln = a[order], b[order], length[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, ln = a[first], b[first], np.maximum(ln[first], 1e-6)
    loops = a != b
    a, b, ln = a[loops], b[loops], ln[loops]
    return sparse.coo_matrix((np.concatenate([ln, ln]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                             shape=(n, n)).tocsr()


def _closeness_rows(
    adjacency: sparse.csr_matrix, node_xy: np.ndarray, sources: np.ndarray, h: float
) -> sparse.csr_matrix:
    """``h - distance`` (> 0) from each source node to every node within ``h``, as sparse rows.

    A walk of length ≤ h never leaves the disc of radius h around its start, so each batch of
    nearby sources runs Dijkstra on the nodes within h (straight line) of the batch only.
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(node_xy)
    order = sources[np.lexsort((node_xy[sources, 0], np.floor(node_xy[sources, 1] / (4 * h))))]
    rows, cols, values = [], [], []
    position = np.full(len(node_xy), -1, dtype=np.int64)
    position[sources] = np.arange(len(sources))
    chunk = 256
    for begin in range(0, len(order), chunk):
        batch = order[begin : begin + chunk]
        near = tree.query_ball_point(node_xy[batch], r=h * (1 + 1e-9) + 1e-6)
        local = np.unique(np.concatenate([np.asarray(n, dtype=np.int64) for n in near] + [batch]))
        sub = adjacency[local][:, local]
        starts = np.searchsorted(local, batch)
        dist = csgraph.dijkstra(sub, directed=False, indices=starts, limit=h)
        r, c = np.nonzero(np.isfinite(dist))
        close = h - dist[r, c]
        keep = close > 0
        rows.append(position[batch][r[keep]])
        cols.append(local[c[keep]])
        values.append(close[keep])
    shape = (len(sources), len(node_xy))
    if not rows:
        return sparse.csr_matrix(shape)
    return sparse.coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    ).tocsr()
