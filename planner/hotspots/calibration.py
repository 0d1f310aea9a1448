"""A risk surface calibrated on an installation's own history (issue 13).

The surface scores each unit (a cell of the study area) from the training signals as a blend of
long-term counts and recent density, plus an optional near-repeat term::

    score = (1 − blend) · L / ΣL + blend · R / ΣR + near_repeat_share · N / ΣN

- ``L``: the signals per unit over the whole history, each with its planner weight
  (``hotspots.signal_weights`` without recency: category, aoristic relevance for the target
  window, source and patrol discount, a resolved signal × ``resolved_weight``: 0, or 1 when
  counting the handled ones too forecasts better, tried only where the data hold resolved ones).
  A fold knows the statuses of its origin, not the data's (``weights.resolved_known``: a status
  dates from the import that stored it, a file's from its export), so a signal resolved after
  the fold's origin is open in that fold;
- ``R``: the same weights times the recency ``0.5 ** (age / half_life_days)`` (1 with an
  infinite half-life), spread by a Gaussian kernel of ``bandwidth_m`` cut at 3 sd, or counted
  per unit when the bandwidth is 0;
- ``N``: the near-repeat term of the planner (a linear fall-off to ``near_repeat_m`` and
  ``near_repeat_days`` around recent burglaries and car crimes, ``HotspotParams``), when on.

For a target window (a round's evening, a map's time of day) the weights' aoristic relevance
follows ``TimeWindow.profile``, and how much the window's neighbouring hours, the same hours on
other weekdays and other times of day count (``TimeWeighting``) is chosen too, after the rest:
the spatial winner is tried with each weighting on the fold signals inside the targets (the
backtest's window on every weekday, or an installation's ``WAS_EVENINGS``). Measured on real
data in bench/RESULTS.md ("Forecasts for a target window").

``calibrate_surface`` picks these five parameters from a small grid (``CalibrationParams``) by
the rolling-origin cross-validation rule of the ``kde_cv`` baseline (``cv_choose``: the
candidate whose fold forecasts catch the most fold test signals, summed over the coverages;
the earlier candidate on a tie), on folds built from the training signals only, so the period
being forecast can never steer the choice. The prior (``SurfaceParams()``) is the literature's
100 m kernel, 30-day half-life and near-repeat term, blended half and half with long-term
counts per cell: it is used as it is when the history is short (less than ``min_history_days``
or fewer than ``min_signals`` training signals) or no fold caught a test signal, and it is the
first candidate, so it wins every tie. The planner before calibration put all weight on the
recent density; on the short histories of three real datasets (bench/RESULTS.md, "The prior")
that caught about half of what the blend catches at 1 % of the area on the City of London and
less on Chicago's districts, and the same on Sacramento.

How short is too short was measured, not assumed (bench/RESULTS.md, "Short histories"): on
Sacramento (two splits; random subsets of 100–800 training signals, 3 seeds each, and the last
3, 5 or 7 days only) calibrating beat the prior in 40 of 42 comparisons (PAI@1/5/10), but it
matched the best baseline only from about 400 signals on and stayed below it at 100. So the
floor is 200 signals (below it the choice is noise on a forecast no better than counts) and one
week of history (folds of a day or less below that), not the 8 weeks first proposed, which would
have thrown away a measured gain on every Sacramento split.
"""

from __future__ import annotations

import logging
import math
import re
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from .._validation import Constraints, check_params, each, instance, integer, optional, real
from ..i18n import N_, format_number, translation
from ._kernel import gaussian_matrix
from .weights import HotspotParams, base_weights, resolved_known, signal_weights
from .window import TimeWeighting, TimeWindow, aoristic_share, in_window, local_minutes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SurfaceParams:
    """One candidate surface. The defaults are the prior (module docstring).

    Parameters
    ----------
    bandwidth_m
        Gaussian sd (m) of the recent-density kernel; 0 counts signals per unit.
    half_life_days
        Recency half-life of the recent density (days); ``math.inf`` weighs the whole history alike.
    blend
        Share of the recent density in the surface, 0 … 1; the rest goes to long-term counts.
    near_repeat
        Whether the near-repeat term is added.
    resolved_weight
        Weight, 0 … 1, of a resolved signal (``HotspotParams.resolved_weight``).
    time
        How the target window's neighbouring hours, other weekdays and other times count
        (``TimeWeighting``); ``None`` weighs by the window as it is given.
    """

    bandwidth_m: float = 100.0
    half_life_days: float = 30.0
    blend: float = 0.5
    near_repeat: bool = True
    resolved_weight: float = 0.0
    time: TimeWeighting | None = None

    _constraints: ClassVar[Constraints] = {
        "bandwidth_m": real(low=0),
        "half_life_days": real(low=0, low_open=True, finite=False, allowed="> 0 (math.inf for none)"),
        **dict.fromkeys(("blend", "resolved_weight"), real(low=0, high=1)),
        "time": optional(instance(TimeWeighting)),
    }

    def __post_init__(self) -> None:
        check_params(self)

    def label(self) -> str:
        """E.g. ``"100 m, half-life 30 d, blend 1, near-repeat on"`` (``"counts per cell, …"`` at 0 m,
        ``", resolved × 1"`` when they count, ``", time of day …"`` when a time weighting was chosen)."""
        life = "∞" if math.isinf(self.half_life_days) else f"{self.half_life_days:g} d"
        resolved = f", resolved × {self.resolved_weight:g}" if self.resolved_weight else ""
        time_of_day = f", time of day {self.time.label()}" if self.time is not None else ""
        kernel = "counts per cell" if self.bandwidth_m == 0 else f"{self.bandwidth_m:g} m"
        return (f"{kernel}, half-life {life}, blend {self.blend:g}, "
                f"near-repeat {'on' if self.near_repeat else 'off'}{resolved}{time_of_day}")

    def window(self, target: TimeWindow | None) -> TimeWindow | None:
        """The target window weighted by ``time`` (``None`` stays ``None``: every time alike)."""
        return target if target is None or self.time is None else self.time.apply(target)


TIME_WEIGHTINGS: tuple[TimeWeighting, ...] = (
    *(TimeWeighting(smoothing_hours=s, other_days=d, other_hours=h)
      for s in (1.0, 3.0) for h in (0.0, 0.1) for d in (0.0, 0.3, 1.0)),
    TimeWeighting(other_hours=1.0),
)
"""The time-of-day candidates: ± 1 or 3 h around the window, the other weekdays' same hours at 0,
0.3 or 1, other hours at 0 or 0.1, and every time alike."""
WAS_EVENINGS: tuple[TimeWindow, ...] = TimeWindow("18:00", "24:00", weekdays=(0,)).on_every_weekday()
"""The windows an installation's time-of-day weighting is chosen for: each weekday's evening,
when WAS teams walk (a round's window lies in it; a narrower window has too few fold signals)."""


@dataclass(frozen=True)
class CalibrationParams:
    """The candidate grid and when to fall back to the prior.

    Parameters
    ----------
    bandwidths_m
        Candidate kernel bandwidths (m); 0 = counts per unit.
    half_lives_days
        Candidate recency half-lives (days); ``math.inf`` = the whole history alike.
    blends
        Candidate shares of the recent density (0 = long-term counts only).
    resolved_weights
        Candidate weights of a resolved signal (tried only when the training holds resolved ones).
    near_repeat_share
        Mass of the near-repeat term relative to the rest of the surface when it is on.
    folds
        Folds of the rolling-origin cross-validation (``evaluate.rolling_folds``, the scheme of
        ``kde_cv``); ``None`` uses the backtest's ``cv_folds``. More folds of the same length
        follow while these hold fewer than ``evaluate.ENOUGH_FOLD_SIGNALS`` test signals.
    min_history_days, min_signals
        Shorter or smaller training histories use ``prior`` without calibrating.
    prior
        The fallback on a short history (module docstring); the first candidate, so it wins ties.
    time_weightings
        Candidate time-of-day weightings, tried on the spatial winner when there is a target
        window (``calibrate_surface``'s ``time_targets``); the window as given comes first.
    time_targets
        The target windows of an installation's calibration (``evaluate.calibrate`` without a
        window): its choice weighs every window the map and the rounds are planned for.
    """

    bandwidths_m: tuple[float, ...] = (0.0, 50.0, 100.0, 200.0)
    half_lives_days: tuple[float, ...] = (7.0, 30.0, 90.0, 365.0, math.inf)
    blends: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    resolved_weights: tuple[float, ...] = (0.0, 1.0)
    near_repeat_share: float = 0.25
    folds: int | None = 4
    min_history_days: float = 7.0
    min_signals: int = 200
    prior: SurfaceParams = field(default_factory=SurfaceParams)
    time_weightings: tuple[TimeWeighting, ...] = TIME_WEIGHTINGS
    time_targets: tuple[TimeWindow, ...] = WAS_EVENINGS

    _constraints: ClassVar[Constraints] = {
        "bandwidths_m": each(real(low=0), allowed="bandwidths ≥ 0"),
        "half_lives_days": each(real(low=0, low_open=True, finite=False), allowed="> 0 (math.inf for none)"),
        **dict.fromkeys(("blends", "resolved_weights"), each(real(low=0, high=1), allowed="between 0 and 1")),
        "near_repeat_share": real(low=0),
        "folds": optional(integer(low=1)),
        "min_history_days": real(low=0, finite=False),
        "min_signals": integer(low=0),
        "prior": instance(SurfaceParams),
        "time_weightings": each(instance(TimeWeighting), allowed="TimeWeighting values", empty=True),
        "time_targets": each(instance(TimeWindow), allowed="TimeWindow values", empty=True),
    }

    def __post_init__(self) -> None:
        check_params(self)

    def candidates(self, *, near_repeat: bool = True, resolved: bool = False) -> list[SurfaceParams]:
        """The prior first, then the grid, without repeats: near-repeat only when ``near_repeat``,
        resolved weights other than the prior's only when ``resolved`` (the data hold resolved signals).

        With blend 0 the surface is long-term counts whatever the bandwidth and half-life, so
        that corner is one candidate per near-repeat and resolved weight.
        """
        out = [self.prior if near_repeat else replace(self.prior, near_repeat=False)]
        for r in self.resolved_weights if resolved else (self.prior.resolved_weight,):
            for nr in (False, True) if near_repeat else (False,):
                for blend in self.blends:
                    for h in self.bandwidths_m if blend > 0 else (0.0,):
                        for life in self.half_lives_days if blend > 0 else (math.inf,):
                            candidate = SurfaceParams(h, life, blend, nr, r)
                            if candidate not in out:
                                out.append(candidate)
        return out

    def time_candidates(self, winner: SurfaceParams, targets: Sequence[TimeWindow]) -> list[SurfaceParams]:
        """``winner`` with the window as given first, then with each time weighting that changes
        one of ``targets`` (other weekdays only matter for a window that names days)."""
        named_days = any(t.weekdays for t in targets)
        out = [replace(winner, time=None)]
        for weighting in self.time_weightings:
            if weighting.other_days and not named_days:
                continue
            candidate = replace(winner, time=weighting)
            if candidate not in out:
                out.append(candidate)
        return out


FEW_SIGNALS = N_("{n} training signals < {least}")
SHORT_HISTORY = N_("{days} days of history < {least}")
NO_FOLD = N_("no cross-validation fold")
NOTHING_CAUGHT = N_("no fold test signal caught")
NO_GRAPH = N_("no street graph")
_REASONS = (FEW_SIGNALS, SHORT_HISTORY, NO_FOLD, NOTHING_CAUGHT, NO_GRAPH)
"""Why a calibration keeps the prior. Stored and in ``--json`` in English; ``reason_text`` shows
them in the card's language."""


def prior_reason(n_train: int, history_days: float, *, min_signals: int, min_history_days: float,
                 has_folds: bool) -> str:
    """Why the training data is too little to calibrate on (English), or ``""``: the one rule the
    cells' and the streets' calibrations share."""
    if n_train < min_signals:
        return FEW_SIGNALS.format(n=n_train, least=min_signals)
    if history_days < min_history_days:
        # One decimal: "7 days < 7" would contradict itself at 6.8 days.
        return SHORT_HISTORY.format(days=f"{history_days:.1f}", least=f"{min_history_days:g}")
    return "" if has_folds else NO_FOLD


def _reason_pattern(message: str) -> re.Pattern[str]:
    parts = [re.escape(text) + (f"(?P<{name}>[0-9.]+)" if name else "")
             for text, name, _, _ in string.Formatter().parse(message)]
    return re.compile("".join(parts) + "$")


_REASON_PATTERNS = tuple((message, _reason_pattern(message)) for message in _REASONS)


def reason_text(reason: str, *, language: str) -> str:
    """A stored ``reason`` in ``language``, its numbers written as the language writes them; one
    of another form (an older version's) as it is."""
    for message, pattern in _REASON_PATTERNS:
        found = pattern.match(reason)
        if found:
            numbers = {name: format_number(float(value), language=language)
                       for name, value in found.groupdict().items()}
            return translation(language).gettext(message).format(**numbers)
    return reason


@dataclass(frozen=True)
class Choice:
    """What a calibration chose, and why: the part the cells' and the streets' choices share.

    ``chosen`` is the winning candidate (with a ``label()``); ``scores`` holds each candidate's
    mean fold hit rate over the coverages (empty on a fallback); ``reason`` says why the prior
    was used (``""`` when calibrated). ``resolved_measured`` says whether counting resolved
    signals was tried: only where some fold knew of a resolved signal (``weights.resolved_known``);
    otherwise their weight is the prior's, a rule rather than a finding.
    """

    chosen: Any
    fallback: bool
    reason: str
    n_candidates: int
    n_folds: int
    fold_test_signals: int
    seconds: float
    scores: tuple[tuple[Any, float], ...] = ()
    resolved_measured: bool = False

    def summary(self) -> str:
        """One line: the choice, or the prior and why."""
        if self.fallback:
            return f"prior ({self.chosen.label()}): {self.reason}"
        return (f"{self.chosen.label()} (of {self.n_candidates} candidates, {self.n_folds} folds, "
                f"{self.fold_test_signals} fold test signals)")

    def _outcome_json(self) -> dict[str, Any]:
        """The keys every choice's ``to_json`` ends with."""
        return {"fallback": self.fallback, "reason": self.reason, "candidates": self.n_candidates,
                "folds": self.n_folds, "fold_test_signals": self.fold_test_signals,
                "seconds": round(self.seconds, 3), "resolved_measured": self.resolved_measured}


@dataclass(frozen=True)
class Calibration(Choice):
    """What ``calibrate_surface`` chose, and why (``Choice``); ``recency_floor`` as fixed at fitting."""

    recency_floor: float = 0.0

    def tune(self, params: HotspotParams, *, forecast: bool = True) -> HotspotParams:
        """``params`` with the chosen weights: what ``find_hotspots`` sums and ``hot_streets`` spreads.

        A signal's weight there is proportional to its share of the chosen surface: the
        half-life, ``recency_floor`` (the long-term counts' share of each signal's weight,
        fixed at fitting time from the training totals) and the near-repeat term on or off
        (its weight as in ``params`` when on). The kernel bandwidth is the backtest's cell
        surface (``HotspotParams.bandwidth_m``); clusters and streets keep their own. A window
        in ``params`` that is a forecast target (a round's night) gets the chosen time-of-day
        weighting; with ``forecast=False`` (a map showing that time of day) it stays as given.
        """
        c = self.chosen
        return replace(
            params, window=c.window(params.window) if forecast else params.window,
            bandwidth_m=c.bandwidth_m if c.bandwidth_m > 0 else params.bandwidth_m,
            half_life_days=params.half_life_days if math.isinf(c.half_life_days) else c.half_life_days,
            recency_floor=self.recency_floor, near_repeat_weight=params.near_repeat_weight if c.near_repeat else 0.0,
            resolved_weight=c.resolved_weight,
        )

    def to_json(self) -> dict[str, Any]:
        """The choice as plain data (half-life ∞ as ``null``; ``time`` ``null`` for the window as given)."""
        c = self.chosen
        time_of_day = None if c.time is None else {"smoothing_hours": c.time.smoothing_hours,
                                                   "other_days": c.time.other_days,
                                                   "other_hours": c.time.other_hours}
        return {"bandwidth_m": c.bandwidth_m,
                "half_life_days": None if math.isinf(c.half_life_days) else c.half_life_days,
                "blend": c.blend, "near_repeat": c.near_repeat, "resolved_weight": c.resolved_weight,
                "time": time_of_day,
                "recency_floor": round(self.recency_floor, 6), **self._outcome_json()}


class Fold(NamedTuple):
    """One rolling-origin fold (``evaluate.rolling_folds``): masks over the training signals."""

    fit: np.ndarray
    """The signals it trains on: begun before ``origin`` and ended by it."""
    test: np.ndarray
    """The signals it forecasts: begun from ``origin`` on (in the target window, if any)."""
    origin: pd.Timestamp
    """The moment it forecasts from (UTC): its "now", for recency and for the statuses known."""


@dataclass(frozen=True, eq=False)
class FoldScoring:
    """How candidates are judged on rolling-origin folds (``cv_choose``)."""

    folds: list[Fold]
    """The folds over the training signals (``evaluate.rolling_folds``)."""
    fold_hits: Callable[[np.ndarray], np.ndarray]
    """A fold's test signals per unit, from its test mask."""
    rates: Callable[[np.ndarray, np.ndarray], dict[str, float]]
    """``hit_rate@c`` of scores per unit and hits per unit."""
    coverages: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class SignalUnits:
    """Training signals at metric ``x, y``, the unit each lies in (``unit_of``, −1 outside) and
    the units' centres ``ux, uy`` (cells or street midpoints)."""

    x: np.ndarray
    y: np.ndarray
    unit_of: np.ndarray
    ux: np.ndarray
    uy: np.ndarray


def cv_choose(
    score_of: Callable[[int, int], np.ndarray],
    n_candidates: int,
    folds: Sequence[Fold],
    *,
    fold_hits: Callable[[np.ndarray], np.ndarray],
    rates: Callable[[np.ndarray, np.ndarray], dict[str, float]],
    coverages: tuple[float, ...],
) -> tuple[int | None, np.ndarray, int]:
    """The rolling-origin rule shared by ``kde_cv`` and the calibrated planner.

    ``score_of(i, k)`` scores the units for candidate ``i`` from fold ``k``'s training signals,
    ``fold_hits(test)`` counts the fold's test signals per unit and ``rates`` turns both into
    ``hit_rate@c``. Each candidate gets its hit rates summed over the coverages, weighted by the
    fold's test signals and pooled over the folds; the most wins, the lower index on a tie.
    Returns (winner or ``None`` when nothing was caught, caught per candidate, fold test signals).
    """
    caught = np.zeros(n_candidates)
    tested = 0
    for k, fold in enumerate(folds):
        hits = fold_hits(fold.test)
        n = hits.sum()
        tested += int(n)
        for i in range(n_candidates):
            rate = rates(score_of(i, k), hits)
            caught[i] += sum(rate[f"hit_rate@{c:g}"] for c in coverages) * n
    if not caught.any():
        return None, caught, tested
    return int(np.argmax(caught)), caught, tested


def deterministic_rank(scores: np.ndarray, *, tiebreak: np.ndarray) -> np.ndarray:
    """Rank 0 … n − 1 (higher is better) by ``scores``, then ``tiebreak``, then the lower index.

    No two units share a rank, so a forecast at any coverage is one set of cells or streets,
    whatever order the input rows came in.
    """
    n = len(scores)
    order = np.lexsort((-np.arange(n), tiebreak, scores))
    rank = np.empty(n)
    rank[order] = np.arange(n)
    return rank


def best_first(scores: np.ndarray, *, sizes: np.ndarray, reach: float,
               tiebreak: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The units ``deterministic_rank`` ranks highest, best first, until their ``sizes`` sum to ``reach``.

    The same order as ``deterministic_rank``, but only the units a coverage of ``reach`` can
    take are sorted, and ``tiebreak(units)`` is asked only for those that tie in score among
    them: sorting every street for every candidate and fold, and a KDE at every street, were
    most of a street calibration's time. All units when their sizes never reach ``reach``.
    """
    n = len(scores)
    total = float(sizes.sum())
    # Twice the units of an average size, doubled until the units scoring at least the k-th best reach.
    k = min(n, max(1, math.ceil(2 * n * reach / total))) if total > 0 else n
    while True:
        top = np.flatnonzero(scores >= np.partition(scores, n - k)[n - k]) if k < n else np.arange(n)
        if k == n or sizes[top].sum() >= reach:
            break
        k = min(n, 2 * k)
    score = scores[top]
    # ``top`` is in index order, so a stable sort keeps the lower index first among equals.
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    if not (ranked[1:] == ranked[:-1]).any():
        return top[order]
    _, group, counts = np.unique(score, return_inverse=True, return_counts=True)
    tied = counts[group] > 1
    breaks = np.zeros(len(top))
    breaks[tied] = tiebreak(top[tied])
    return top[np.lexsort((-top, breaks, score))[::-1]]


def near_repeat_term(
    units: cKDTree, x: np.ndarray, y: np.ndarray, *, age_days: np.ndarray, eligible: np.ndarray,
    base: np.ndarray, params: HotspotParams,
) -> np.ndarray:
    """Per unit: Σ (1 − d / near_repeat_m)(1 − age / near_repeat_days) · base over recent eligible signals."""
    score = np.zeros(units.n)
    use = eligible & (age_days < params.near_repeat_days) & (base > 0)
    if use.any():
        recent = cKDTree(np.column_stack([x[use], y[use]]))
        nr = units.sparse_distance_matrix(recent, params.near_repeat_m, output_type="coo_matrix")
        factor = (1 - np.maximum(age_days[use], 0) / params.near_repeat_days) * base[use]
        score = np.bincount(nr.row, weights=(1 - nr.data / params.near_repeat_m) * factor[nr.col],
                            minlength=units.n)
    return score


def _share(values: np.ndarray) -> np.ndarray:
    total = values.sum()
    return values / total if total > 0 else values


class _Surface:
    """The pieces every candidate is made of, computed once over the training signals."""

    def __init__(self, train: pd.DataFrame, x: np.ndarray, y: np.ndarray, unit_of: np.ndarray,
                 ux: np.ndarray, uy: np.ndarray, hotspot: HotspotParams, bandwidths: set[float]) -> None:
        self.train, self.x, self.y, self.hotspot = train, x, y, hotspot
        self.n_units = len(ux)
        inside = unit_of >= 0
        cols = np.flatnonzero(inside)
        self.counts = sparse.csr_matrix((np.ones(len(cols)), (unit_of[inside], cols)), shape=(self.n_units, len(x)))
        self.units = cKDTree(np.column_stack([ux, uy]))
        points = cKDTree(np.column_stack([x, y]))
        self.kernels: dict[float, sparse.csr_matrix] = {}
        for h in sorted(bandwidths - {0.0}):
            self.kernels[h] = gaussian_matrix(self.units, points, h)
        self.start = pd.to_datetime(train["occurred_from"], utc=True)
        self.end = pd.to_datetime(train["occurred_to"], utc=True).fillna(self.start)
        self.eligible = train["category"].isin(hotspot.near_repeat_categories).to_numpy()
        self._latest = self.end.max() if len(train) else None
        self._bases: dict[tuple[float, TimeWindow | None, pd.Timestamp | None], np.ndarray] = {}
        # A base is the weight of an open signal times the resolved weight where a status says so.
        self._unresolved: dict[TimeWindow | None, np.ndarray] = {}
        self._resolved: dict[pd.Timestamp | None, np.ndarray] = {}
        # ``hotspot`` comes without its window: the spatial candidates forecast every time of day.
        self._recency: dict[tuple[pd.Timestamp, float], np.ndarray] = {}
        # With up to MAX_FOLDS folds the same near-repeat term is asked for by every candidate of a fold.
        self._near_repeat: dict[tuple[pd.Timestamp, float, pd.Timestamp | None, bytes], np.ndarray] = {}
        self._end_ns = self.end.dt.tz_convert(None).to_numpy("datetime64[ns]")

    def base(self, candidate: SurfaceParams, target: TimeWindow | None = None,
             known_at: pd.Timestamp | None = None) -> np.ndarray:
        """Each signal's base weight under ``candidate`` (its resolved weight for the signals known
        to be resolved at ``known_at``, ``None``: as given; its time-of-day weighting of ``target``,
        every time alike without one), computed once."""
        window = candidate.window(target)
        key = (candidate.resolved_weight, window, known_at)
        if key not in self._bases:
            if window not in self._unresolved:
                params = replace(self.hotspot, resolved_weight=1.0, window=window)
                self._unresolved[window] = base_weights(signal_weights(self.train, params=params, now=self._latest))
            if known_at not in self._resolved:
                self._resolved[known_at] = resolved_known(self.train, known_at)
            self._bases[key] = self._unresolved[window] * np.where(self._resolved[known_at],
                                                                   candidate.resolved_weight, 1.0)
        return self._bases[key]

    def recency(self, now: pd.Timestamp, half_life: float) -> np.ndarray:
        if math.isinf(half_life):
            return np.ones(len(self.train))
        key = (now, half_life)
        if key not in self._recency:
            params = replace(self.hotspot, half_life_days=half_life, recency_floor=0.0)
            self._recency[key] = signal_weights(self.train, params=params, now=now)["recency"].to_numpy()
        return self._recency[key]

    def recency_floor(self, candidate: SurfaceParams, now: pd.Timestamp, target: TimeWindow | None = None) -> float:
        """The share of each signal's weight that does not fade, so that weights ∝ its share of the surface.

        Signal i carries (1 − blend) · base_i / ΣL of the long-term part and blend · base_i ·
        r_i / ΣR of the recent one (a kernel spreads a signal's weight but keeps its total),
        sums over the signals inside the units; per signal that is ∝ floor + (1 − floor) · r_i.
        """
        if candidate.blend == 0 or math.isinf(candidate.half_life_days):
            return 1.0
        inside = np.asarray(self.counts.sum(axis=0)).ravel() > 0
        base = self.base(candidate, target)
        total = base[inside].sum()
        recent = (base * self.recency(now, candidate.half_life_days))[inside].sum()
        if candidate.blend == 1 or total <= 0 or recent <= 0:
            return 0.0
        old = (1 - candidate.blend) / total
        return float(old / (old + candidate.blend / recent))

    def score(self, candidate: SurfaceParams, fit: np.ndarray, now: pd.Timestamp, share_nr: float,
              target: TimeWindow | None = None, *, fold: bool = False) -> np.ndarray:
        """The candidate's surface from the signals ``fit`` as seen at ``now``, for ``target``; a
        ``fold`` knows the statuses of ``now`` (``weights.resolved_known``), not the data's."""
        known_at = now if fold else None
        base = self.base(candidate, target, known_at) * fit
        out = np.zeros(self.n_units)
        if candidate.blend < 1:
            out += (1 - candidate.blend) * _share(self.counts @ base)
        if candidate.blend > 0:
            w = base * self.recency(now, candidate.half_life_days)
            matrix = self.kernels[candidate.bandwidth_m] if candidate.bandwidth_m > 0 else self.counts
            out += candidate.blend * _share(matrix @ w)
        if candidate.near_repeat and share_nr > 0:
            out += share_nr * self.near_repeat(candidate, fit, now, target, known_at)
        return out

    def near_repeat(self, candidate: SurfaceParams, fit: np.ndarray, now: pd.Timestamp,
                    target: TimeWindow | None, known_at: pd.Timestamp | None = None) -> np.ndarray:
        """The near-repeat term of the signals ``fit`` at ``now``, as a share; computed once for every
        time alike (a time-of-day option asks for its own window once per fold, so is not kept)."""
        window = candidate.window(target)
        key = (now, candidate.resolved_weight, known_at, np.packbits(fit).tobytes())
        if window is None and key in self._near_repeat:
            return self._near_repeat[key]
        age = (now.tz_convert(None).to_datetime64() - self._end_ns) / np.timedelta64(1, "D")
        term = _share(near_repeat_term(self.units, self.x, self.y, age_days=age, eligible=self.eligible & fit,
                                       base=self.base(candidate, target, known_at) * fit, params=self.hotspot))
        if window is None:
            self._near_repeat[key] = term
        return term


def knew_resolved(train: pd.DataFrame, folds: Sequence[Fold]) -> bool:
    """Whether some fold knew of a resolved signal at its origin (``weights.resolved_known``): only
    then can counting resolved signals be measured, so only then is it tried."""
    return any(resolved_known(train, fold.origin).any() for fold in folds if fold.fit.any() and fold.test.any())


def calibrate_surface(
    train: pd.DataFrame,
    units: SignalUnits,
    *,
    now: pd.Timestamp,
    scoring: FoldScoring,
    tiebreak: Callable[[np.ndarray], np.ndarray],
    hotspot: HotspotParams = HotspotParams(),
    params: CalibrationParams = CalibrationParams(),
    time_targets: Sequence[TimeWindow] = (),
) -> tuple[np.ndarray, Calibration]:
    """The calibrated surface at the units ``(units.ux, units.uy)`` as of ``now``, and the choice
    (module docstring).

    ``train`` are the training signals only (``units``: where they lie and in which unit);
    ``scoring.folds`` are folds over them (``Fold``, ``evaluate.rolling_folds``), judged by
    ``scoring.fold_hits`` and ``scoring.rates``; ``tiebreak(fit)`` orders units a candidate scores
    equally in a fold, as the final ranking does. Nothing after ``now`` is read but what ``train``
    holds.

    The spatial candidates are judged on every fold test signal, every time of day alike (the
    folds' test masks say which count). With ``time_targets`` (the backtest's window, or an
    installation's ``time_targets``) the spatial winner is then tried with each time-of-day
    weighting (``time_candidates``): for each target, on the fold test signals inside it,
    weighted for it; the weighting that catches the most over all targets wins, the window as
    given on a tie. Targets that leave every signal as relevant as every other (month-only
    dates) are skipped. The surface returned is for ``hotspot.window`` (every time alike
    without one).
    """
    folds, coverages = scoring.folds, scoring.coverages
    t0 = time.perf_counter()
    start = pd.to_datetime(train["occurred_from"], utc=True)
    history_days = float((now - start.min()) / pd.Timedelta(days=1)) if len(train) else 0.0
    has_nr = bool(train["category"].isin(hotspot.near_repeat_categories).any())
    has_resolved = knew_resolved(train, folds)
    candidates = params.candidates(near_repeat=has_nr, resolved=has_resolved)
    reason = prior_reason(len(train), history_days, min_signals=params.min_signals,
                          min_history_days=params.min_history_days, has_folds=bool(folds))
    bandwidths = {c.bandwidth_m for c in candidates} if not reason else {params.prior.bandwidth_m}
    surface = _Surface(train, units.x, units.y, units.unit_of, units.ux, units.uy, replace(hotspot, window=None),
                       bandwidths)
    every = np.ones(len(train), dtype=bool)
    scores: tuple[tuple[SurfaceParams, float], ...] = ()
    tested = 0
    chosen = params.prior
    if not reason:
        breaks = [tiebreak(fold.fit) for fold in folds]

        def score_of(i: int, k: int) -> np.ndarray:
            raw = surface.score(candidates[i], folds[k].fit, folds[k].origin, params.near_repeat_share, fold=True)
            return deterministic_rank(raw, tiebreak=breaks[k])

        best, caught, tested = cv_choose(score_of, len(candidates), folds, fold_hits=scoring.fold_hits,
                                         rates=scoring.rates, coverages=coverages)
        if best is None:
            reason = NOTHING_CAUGHT
        else:
            chosen = candidates[best]
            mean = caught / max(tested, 1) / len(coverages)
            scores = tuple((c, round(float(m), 6)) for c, m in zip(candidates, mean, strict=True))
            timed = _choose_time(surface, chosen, folds, breaks, _varying(train, time_targets),
                                 scoring=scoring, params=params)
            if timed is not None:
                chosen, time_scores = timed
                scores += time_scores
                candidates += [c for c, _ in time_scores[1:]]
    if reason:
        log.info("calibration: prior %s (%s)", chosen.label(), reason)
    final = surface.score(chosen, every, now, params.near_repeat_share, hotspot.window)
    seconds = time.perf_counter() - t0
    if not reason:
        log.info("calibration: %s chosen of %d candidates on %d folds (%d fold test signals), %.1f s",
                 chosen.label(), len(candidates), len(folds), tested, seconds)
    return final, Calibration(chosen=chosen, fallback=bool(reason), reason=reason, n_candidates=len(candidates),
                              n_folds=len(folds), fold_test_signals=tested, seconds=seconds, scores=scores,
                              resolved_measured=has_resolved and not reason,
                              recency_floor=surface.recency_floor(chosen, now, hotspot.window))


def _varying(train: pd.DataFrame, targets: Sequence[TimeWindow]) -> list[tuple[TimeWindow, np.ndarray]]:
    """The targets that weigh the training signals unequally, each with its in-window mask (share ≥ 0.5)."""
    if not len(train):
        return []
    start = pd.to_datetime(train["occurred_from"], utc=True)
    end = pd.to_datetime(train["occurred_to"], utc=True).fillna(start)
    t0, t1 = local_minutes(start), local_minutes(end)
    out = []
    for target in targets:
        if target.is_all_day:
            continue
        relevance = aoristic_share(t0, t1, target.profile())
        if np.ptp(relevance) > 1e-9:
            out.append((target, in_window(start, end, target)))
    return out


def _choose_time(
    surface: _Surface, winner: SurfaceParams, folds: list[Fold], breaks: list[np.ndarray],
    targets: list[tuple[TimeWindow, np.ndarray]], *,
    scoring: FoldScoring, params: CalibrationParams,
) -> tuple[SurfaceParams, tuple[tuple[SurfaceParams, float], ...]] | None:
    """The time-of-day stage of ``calibrate_surface``: ``winner`` with the best weighting and every
    option's mean fold hit rate; ``None`` when there is nothing to choose."""
    options = params.time_candidates(winner, [target for target, _ in targets])
    if len(options) < 2 or not targets:
        return None
    caught = np.zeros(len(options))
    tested = 0
    for target, inside in targets:
        kept = [k for k, fold in enumerate(folds) if (fold.test & inside).any()]
        if not kept:
            continue
        target_folds = [folds[k]._replace(test=folds[k].test & inside) for k in kept]

        def score_of(i: int, j: int, target: TimeWindow = target, kept: list[int] = kept) -> np.ndarray:
            k = kept[j]
            raw = surface.score(options[i], folds[k].fit, folds[k].origin, params.near_repeat_share, target,
                                fold=True)
            return deterministic_rank(raw, tiebreak=breaks[k])

        _, got, n = cv_choose(score_of, len(options), target_folds, fold_hits=scoring.fold_hits,
                              rates=scoring.rates, coverages=scoring.coverages)
        caught += got
        tested += n
    if not caught.any():
        return None
    mean = caught / max(tested, 1) / len(scoring.coverages)
    return options[int(np.argmax(caught))], tuple(
        (c, round(float(m), 6)) for c, m in zip(options, mean, strict=True))
