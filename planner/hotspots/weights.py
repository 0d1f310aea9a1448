"""How much each signal counts: recency, category, target window, source, patrol and status.

``HotspotParams`` holds every choice of the weighting, clustering, test and rendering (one frozen
object, usable as a cache key); ``signal_weights`` gives each signal its weight components.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import _time, settings
from .._errors import InputError
from .._time import utc_timestamp
from .._validation import Constraints, check_params, each, instance, integer, one_of, optional, real
from ..signals.incidents import CATEGORIES, SOURCES
from .window import TimeWindow, aoristic_share, local_minutes

MAX_CATEGORY_WEIGHT = 100.0
"""Weights say how much more a category counts than another; beyond this they only make the
scores overflow (1e308 gave an infinite hotspot score)."""


def _check_weights(pairs: tuple, name: str, width: int, options: tuple[str, ...] = ()) -> None:
    for item in pairs:
        if not isinstance(item, tuple) or len(item) != width:
            msg = f"{name} must be a tuple of {width}-tuples, got {item!r}"
            raise InputError(msg, options=options)
        category, weight = item[-2], item[-1]
        if category not in CATEGORIES:
            msg = f"{name}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}"
            raise InputError(msg, options=options)
        if not (isinstance(weight, (int, float)) and 0 <= weight <= MAX_CATEGORY_WEIGHT):
            msg = f"{name}: weight of {category!r} must be a number from 0 to {MAX_CATEGORY_WEIGHT:g}, got {weight!r}"
            raise InputError(msg, options=options)


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

    _constraints: ClassVar[Constraints] = {
        "method": one_of("dbscan", "hdbscan"),
        "audience": one_of("public", "officer"),
        **dict.fromkeys(("eps_m", "cell_m", "half_life_days", "near_repeat_m", "near_repeat_days", "bandwidth_m",
                         "scan_cell_m", "public_cell_m"), real(low=0, low_open=True)),
        **dict.fromkeys(("density_factor", "patrol_weight", "near_repeat_weight", "buffer_m"), real(low=0)),
        "min_signals": integer(low=2, allowed="an integer ≥ 2 (a single signal is no cluster)"),
        **dict.fromkeys(("min_days", "public_min_signals"), integer(low=1)),
        "alpha": real(low=0, high=1, low_open=True, high_open=True, allowed="between 0 and 1"),
        **dict.fromkeys(("recency_floor", "resolved_weight"), real(low=0, high=1)),
        "permutations": integer(low=19),
        "window": optional(instance(TimeWindow)),
        "near_repeat_categories": each(one_of(*CATEGORIES), empty=True,
                                       allowed=f"signal categories ({', '.join(CATEGORIES)})"),
    }

    def __post_init__(self) -> None:
        check_params(self)
        # The weight tables name the item at fault, as ``--weights`` does.
        _check_weights(self.category_weights, "category_weights", 2)
        _check_weights(self.ward_category_weights, "ward_category_weights", 3)
        _check_source_weights(self.source_weights)

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
            msg = f"{{weights}} item {item!r} is not CATEGORY=WEIGHT with a known category ({', '.join(CATEGORIES)})"
            raise InputError(msg, options=("weights",))
        try:
            weight = float(value)
        except ValueError:
            msg = f"{{weights}} item {item!r}: {value!r} is not a number"
            raise InputError(msg, options=("weights",)) from None
        pairs.append((category, weight))
    _check_weights(tuple(pairs), "{weights}", 2, options=("weights",))
    return tuple(pairs)



def column_or(frame: pd.DataFrame, name: str, default: Any) -> pd.Series:
    """``frame[name]``, or ``default`` on every row when the signals have no such column."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index)


def reference_time(incidents: pd.DataFrame) -> pd.Timestamp:
    """The data's own present: the latest ``occurred_to`` (UTC), so old files score as of their
    end; with no signals, the installation's now (``WAS_TODAY`` moves it)."""
    if len(incidents) == 0:
        return pd.Timestamp(_time.now()).tz_convert(UTC)
    return pd.to_datetime(incidents["occurred_to"], utc=True).max()


def moment_utc(moment: datetime | pd.Timestamp | None, incidents: pd.DataFrame) -> pd.Timestamp:
    """``moment`` in UTC (naive means local time), or the data's ``reference_time`` when ``None``."""
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


def resolved_known(incidents: pd.DataFrame, moment: pd.Timestamp | None = None) -> np.ndarray:
    """Which signals were known to be resolved at ``moment`` (``None``: as the data says now).

    A status is as of when it was written down: an import never changes a stored signal, so a
    stored status dates from the import that stored it (``stored_at``, as ``Store.incidents``
    gives it), and a file's statuses date from its export, after every signal in it. So at a
    past ``moment`` a signal stored later, or any signal of a file, was as far as anyone knew
    still open: a backtest that read its final status would know part of the future.
    """
    resolved = (column_or(incidents, "status", "open").fillna("open").astype(str) == "resolved").to_numpy()
    if moment is None:
        return resolved
    if "stored_at" not in incidents.columns:
        return np.zeros(len(incidents), dtype=bool)
    return resolved & (pd.to_datetime(incidents["stored_at"], utc=True) <= moment).to_numpy()


def statuses_at(incidents: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """``incidents`` with the statuses known at ``moment`` (``resolved_known``): a resolved signal
    not yet known to be resolved is open."""
    if "status" not in incidents.columns:
        return incidents
    unknown = (incidents["status"] == "resolved").to_numpy() & ~resolved_known(incidents, moment)
    return incidents.assign(status=incidents["status"].where(~unknown, "open"))


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
    now = moment_utc(now, incidents)
    start = pd.to_datetime(incidents["occurred_from"], utc=True)
    end = pd.to_datetime(column_or(incidents, "occurred_to", None).fillna(start), utc=True)
    day = pd.Timedelta(days=1)
    age_start = ((now - start) / day).to_numpy(dtype=float)
    age_end = ((now - end) / day).to_numpy(dtype=float)
    floor = params.recency_floor
    recency = floor + (1 - floor) * _decay_mean(age_start, age_end, params.half_life_days)
    categories = column_or(incidents, "category", "other").fillna("other").astype(str)
    wards = column_or(incidents, "ward", None)
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
    on_patrol = column_or(incidents, "on_patrol", False).fillna(False).astype(bool).to_numpy()
    by_source = params.source_weight_of()
    origin = column_or(incidents, "source", "resident").fillna("resident").astype(str)
    source = origin.map(lambda name: by_source.get(name, 1.0)).to_numpy(dtype=float)
    source = source * np.where(on_patrol, params.patrol_weight, 1.0)
    active = np.where(resolved_known(incidents), params.resolved_weight, 1.0)
    weights = pd.DataFrame(
        {"recency": recency, "category": category, "relevance": relevance, "source": source,
         "active": active},
        index=incidents.index,
    )
    weights["weight"] = weights.prod(axis=1)
    return weights


def base_weights(weights: pd.DataFrame) -> np.ndarray:
    """Each signal's weight without recency, from a ``signal_weights`` frame: what long-term counts and
    the near-repeat term count with."""
    return weights[["category", "relevance", "source", "active"]].prod(axis=1).to_numpy()
