"""Hot streets calibrated on an installation's own history, per km of street (issue 13).

The hot-streets surface (``hotspots.HotStreetParams``) scores each street as a blend of its
long-term counts per km and a kernel density of recent signals::

    density = (1 − blend) · L · W / B + blend · R

- ``L``: the signals snapped to the street over the whole history, per km of it, each with its
  planner weight without recency (category, target window, source; ``B`` their sum);
- ``R``: a kernel density at the street's midpoint of the same signals with their recency
  (``W`` their sum): the weights' own recency (what the cell calibration chose,
  ``half_life_days=None``) or ``0.5 ** (age / half_life_days)``. The kernel is the network
  quartic one (reach ``bandwidth_m`` along the walks) or a planar Gaussian (sd ``bandwidth_m``,
  scaled like ``L``): signals drawn to places near a street, such as a square, a shop or a
  block's inner court, rather than along it, reach the streets around the place whatever
  the walk between them (measured: bench/RESULTS.md, "Backtest per km of street");
- a resolved signal weighs 0 in both (as in the hotspots) or, with ``resolved_weight`` 1, like
  an open one: resolving a signal handles the problem, it does not show that the place stopped
  drawing signals. A fold knows the statuses of its origin (``weights.resolved_known``), so the
  choice is measured only where statuses were stored before the folds' origins.

``calibrate_streets`` picks kernel, bandwidth, blend, half-life and ``resolved_weight`` from a small grid
(``StreetCalibrationParams``) by the rule of ``kde_cv`` and the cell calibration
(``calibration.cv_choose``: the candidate whose fold forecasts catch the most fold test
signals per share of street length, summed over the coverages; the earlier candidate on a
tie) on rolling folds of the training signals only, so the period being forecast never steers
the choice. Streets a candidate scores equally in a fold are ordered by the 50 m planar KDE of
the fold's training signals at their midpoints, as the baselines are. The network distances
are walked once, for the largest bandwidth (``hotspots.NetworkKernel``); every candidate and
fold reuses them. The prior (``StreetSurfaceParams()``) is the 150 m walk of the hot streets
before calibration, with the weights' own recency, blended half and half with the counts per
km, as the cells' prior is: on short real histories the walk alone caught less than half of
what the counts per km catch at 1 % of the streets (bench/RESULTS.md, "The prior"). It is the
first candidate, so it wins every tie, and it is used as it is when there is no street graph,
too short a history (the floors of the cell calibration, ``CalibrationParams``) or no fold
caught a test signal.

Several areas (each ward's graph with its own signals) are calibrated together: each is
ranked on its own streets, as the product ranks them, and the signals caught are pooled.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import networkx as nx
import numpy as np
import pandas as pd

from .._geo import graph_crs, metric_xy
from .._threads import thread_map
from .._validation import Constraints, check_params, each, instance, integer, one_of, optional, real
from ._select import caught_by_size
from .calibration import (
    NO_GRAPH,
    NOTHING_CAUGHT,
    CalibrationParams,
    Choice,
    Fold,
    best_first,
    cv_choose,
    knew_resolved,
    prior_reason,
)
from .network import KERNELS, THREADED_STREETS, HotStreetParams, NetworkKernel
from .weights import HotspotParams, base_weights, resolved_known, signal_weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreetSurfaceParams:
    """One candidate hot-streets surface. The defaults are the prior (module docstring).

    Parameters
    ----------
    bandwidth_m
        Network kernel reach (m), or the planar kernel's standard deviation; 0 = counts per km only.
    blend
        Share of the kernel density, 0 … 1; the rest goes to the counts per km.
    half_life_days
        Recency half-life of the kernel part (days); ``math.inf`` weighs the whole history
        alike; ``None`` keeps the weights' own recency (the cell calibration's choice).
    resolved_weight
        Weight, 0 … 1, of a resolved signal (``HotspotParams.resolved_weight``).
    kernel
        ``"network"`` or ``"planar"`` (``HotStreetParams.kernel``).
    """

    bandwidth_m: float = 150.0
    blend: float = 0.5
    half_life_days: float | None = None
    resolved_weight: float = 0.0
    kernel: str = "network"

    _constraints: ClassVar[Constraints] = {
        "bandwidth_m": real(low=0, allowed="≥ 0 (0 = counts per km)"),
        **dict.fromkeys(("blend", "resolved_weight"), real(low=0, high=1)),
        "half_life_days": optional(real(low=0, low_open=True, finite=False, allowed="> 0 or math.inf")),
        "kernel": one_of(*KERNELS),
    }

    def __post_init__(self) -> None:
        check_params(self)

    @property
    def counts_only(self) -> bool:
        """Whether the surface is the counts per km alone (no kernel)."""
        return self.blend == 0 or self.bandwidth_m == 0

    def label(self) -> str:
        """E.g. ``"150 m, blend 1, the weights' recency"`` or ``"counts per km, resolved × 1"``."""
        resolved = f", resolved × {self.resolved_weight:g}" if self.resolved_weight else ""
        if self.counts_only:
            return "counts per km" + resolved
        if self.half_life_days is None:
            life = "the weights' recency"
        else:
            life = "half-life " + ("∞" if math.isinf(self.half_life_days) else f"{self.half_life_days:g} d")
        planar = " planar" if self.kernel == "planar" else ""
        return f"{self.bandwidth_m:g} m{planar}, blend {self.blend:g}, {life}{resolved}"


@dataclass(frozen=True)
class StreetCalibrationParams:
    """The candidate grid and when to fall back to the prior.

    Parameters
    ----------
    bandwidths_m
        Candidate network kernel reaches (m), each > 0.
    planar_bandwidths_m
        Candidate standard deviations (m) of the planar kernel, each > 0: ``kde_cv``'s
        (``BacktestParams.cv_bandwidths_m``) up to 200 m, which hold every bandwidth it chose on
        Sacramento, the City of London and both street networks of bench/RESULTS.md (25–150 m),
        so that the calibration can take the baseline's own choice.
    blends
        Candidate shares of the kernel density (0 = counts per km only: one candidate).
    half_lives_days
        Candidate recency half-lives of the kernel part (days); ``math.inf`` = the whole
        history alike, ``None`` = the weights' own recency.
    resolved_weights
        Candidate weights of a resolved signal.
    folds
        Folds of the rolling-origin cross-validation of each area (more follow while they hold
        few test signals: ``evaluate.rolling_folds``); ``None`` uses the backtest's ``cv_folds``.
    min_history_days, min_signals
        Shorter or smaller training histories use ``prior``; the cell calibration's floors.
    prior
        The hot streets before calibration; the first candidate, so it wins ties.
    """

    bandwidths_m: tuple[float, ...] = (50.0, 100.0, 150.0, 300.0)
    planar_bandwidths_m: tuple[float, ...] = (25.0, 50.0, 75.0, 100.0, 150.0, 200.0)
    blends: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    half_lives_days: tuple[float | None, ...] = (None, 30.0, 90.0, 365.0, math.inf)
    resolved_weights: tuple[float, ...] = (0.0, 1.0)
    folds: int | None = CalibrationParams.folds
    min_history_days: float = CalibrationParams.min_history_days
    min_signals: int = CalibrationParams.min_signals
    prior: StreetSurfaceParams = field(default_factory=StreetSurfaceParams)

    _constraints: ClassVar[Constraints] = {
        **dict.fromkeys(("bandwidths_m", "planar_bandwidths_m"), each(real(low=0, low_open=True),
                                                                       allowed="bandwidths > 0")),
        **dict.fromkeys(("blends", "resolved_weights"), each(real(low=0, high=1), allowed="between 0 and 1")),
        "half_lives_days": each(optional(real(low=0, low_open=True, finite=False)), allowed="> 0, math.inf or None"),
        "folds": optional(integer(low=1)),
        "min_history_days": real(low=0, finite=False),
        "min_signals": integer(low=0),
        "prior": instance(StreetSurfaceParams),
    }

    def __post_init__(self) -> None:
        check_params(self)

    def candidates(self, *, resolved: bool = True) -> list[StreetSurfaceParams]:
        """The prior first, then the grid, without repeats; resolved weights other than the
        prior's only when ``resolved`` (some fold knew of a resolved signal).

        Counts per km (blend 0) is one candidate per resolved weight, whatever the bandwidth and
        half-life.
        """
        out = [self.prior]
        kernels = (("network", self.bandwidths_m), ("planar", self.planar_bandwidths_m))
        for blend in self.blends:
            for kernel, bandwidths in kernels if blend > 0 else (("network", (0.0,)),):
                for h in bandwidths:
                    for life in self.half_lives_days if blend > 0 else (None,):
                        for weight in self.resolved_weights if resolved else (self.prior.resolved_weight,):
                            candidate = StreetSurfaceParams(bandwidth_m=h, blend=blend if h > 0 else 0.0,
                                                            half_life_days=life, resolved_weight=weight,
                                                            kernel=kernel)
                            if candidate not in out:
                                out.append(candidate)
        return out


@dataclass(frozen=True)
class StreetCalibration(Choice):
    """What ``calibrate_streets`` chose (a ``StreetSurfaceParams``), and why (``Choice``)."""

    def tune(self, params: HotStreetParams) -> HotStreetParams:
        """``params`` with the chosen bandwidth, blend and recency: what ``hot_streets`` scores with.

        An explicit half-life replaces the weights' half-life with no lasting share
        (``recency_floor`` 0); an infinite one weighs every signal alike (``recency_floor`` 1);
        ``None`` keeps the weights as they are. Categories, window, sources and ``snap_m`` stay;
        the weights' ``resolved_weight`` is the choice's.
        """
        c = self.chosen
        weights = replace(params.weights, resolved_weight=c.resolved_weight)
        if c.half_life_days is not None and not c.counts_only:
            weights = (replace(weights, recency_floor=1.0) if math.isinf(c.half_life_days)
                       else replace(weights, half_life_days=c.half_life_days, recency_floor=0.0))
        bandwidth, blend = (0.0, 0.0) if c.counts_only else (c.bandwidth_m, c.blend)
        return replace(params, bandwidth_m=bandwidth, blend=blend, weights=weights, kernel=c.kernel)

    def to_json(self) -> dict[str, Any]:
        """The choice as plain data: half-life ∞ as ``null``; ``weights_recency`` for the weights' own."""
        life = self.chosen.half_life_days
        return {"bandwidth_m": self.chosen.bandwidth_m, "blend": self.chosen.blend,
                "half_life_days": None if life is None or math.isinf(life) else life,
                "weights_recency": life is None, "resolved_weight": self.chosen.resolved_weight,
                "kernel": self.chosen.kernel,
                **self._outcome_json()}


class _Area:
    """One graph and its training signals: the kernel, the weights and the streets' midpoints."""

    def __init__(self, graph: nx.MultiDiGraph, train: pd.DataFrame, folds: list[Fold], *, hotspot: HotspotParams,
                 candidates: Sequence[StreetSurfaceParams], snap_m: float) -> None:
        self.train, self.hotspot = train, hotspot
        kernels = [c for c in candidates if not c.counts_only]
        self.weightings = list(dict.fromkeys((c.resolved_weight, c.half_life_days) for c in kernels))
        self.kernel_bandwidths = list(dict.fromkeys((c.kernel, c.bandwidth_m) for c in kernels))
        x, y, _ = metric_xy(train, graph_crs(graph))
        end = pd.to_datetime(train["occurred_to"], utc=True).fillna(pd.to_datetime(train["occurred_from"], utc=True))
        now = end.max() if len(train) else None
        # A fold knows the statuses of its origin (``weights.resolved_known``), not the data's.
        unresolved = base_weights(signal_weights(train, params=replace(hotspot, resolved_weight=1.0), now=now))
        use = unresolved > 0
        self.kernel = NetworkKernel(graph, x, y, snap_m=snap_m, use=use,
                                    bandwidths_m=[h for kernel, h in self.kernel_bandwidths if kernel == "network"])
        self.kernel.build_planar(h for kernel, h in self.kernel_bandwidths if kernel == "planar")
        self.x, self.y = x, y
        self.mx, self.my = self.kernel.mx, self.kernel.my
        self.folds = [fold for fold in folds if fold.fit.any() and fold.test.any()]
        resolved = [resolved_known(train, fold.origin) for fold in self.folds]
        self.base = {(r, k): unresolved * np.where(resolved[k], r, 1.0)
                     for r in {c.resolved_weight for c in candidates} for k in range(len(self.folds))}

    def hits(self, test: np.ndarray) -> np.ndarray:
        """Fold test signals per street (those within ``snap_m`` of one)."""
        streets = self.kernel.street_of[test]
        return np.bincount(streets[streets >= 0], minlength=len(self.kernel.table)).astype(float)

    def fold(self, k: int) -> _Fold:
        return _Fold(self, k)


class _Fold:
    """Fold ``k`` of an area: its candidates' densities and the parts they share, its own (the
    folds are judged side by side)."""

    def __init__(self, area: _Area, k: int) -> None:
        self.area, self.k = area, k
        self._recency: dict[float | None, np.ndarray] = {}
        # Every blend of a kernel, and every kernel of a half-life, share these parts.
        self._kernel_parts: dict[tuple, np.ndarray] = {}
        self._count_parts: dict[tuple, np.ndarray] = {}

    def recency(self, half_life: float | None) -> np.ndarray:
        if half_life not in self._recency:
            area = self.area
            if half_life is not None and math.isinf(half_life):
                self._recency[half_life] = np.ones(len(area.train))
            else:
                params = area.hotspot if half_life is None else replace(
                    area.hotspot, half_life_days=half_life, recency_floor=0.0)
                weights = signal_weights(area.train, params=params, now=area.folds[self.k].origin)
                self._recency[half_life] = weights["recency"].to_numpy()
        return self._recency[half_life]

    def base(self, resolved_weight: float) -> np.ndarray:
        return self.area.base[resolved_weight, self.k] * self.area.folds[self.k].fit

    def score(self, candidate: StreetSurfaceParams) -> np.ndarray:
        """The candidate's density per street from the fold's training signals, as ``hot_streets`` scores."""
        kernel = self.area.kernel
        base = self.base(candidate.resolved_weight)
        # Counts per km ignore the half-life, but their scale W / B is the weights' own, as in hot_streets.
        life = None if candidate.counts_only else candidate.half_life_days
        counts_key = (candidate.resolved_weight, life)
        if counts_key not in self._count_parts:
            self._count_parts[counts_key] = kernel.counts_density(base, base * self.recency(life))
        if candidate.counts_only:
            return kernel.mix(None, self._count_parts[counts_key], 0.0)
        if not self._kernel_parts:
            self._kernel_parts = self._kernels()
        return kernel.mix(self._kernel_parts[(*counts_key, candidate.kernel, candidate.bandwidth_m)],
                          self._count_parts[counts_key], candidate.blend)

    def _kernels(self) -> dict[tuple, np.ndarray]:
        """Every candidate kernel's density, for all the candidates' weightings at once."""
        area = self.area
        columns = np.column_stack([self.base(r) * self.recency(life) for r, life in area.weightings])
        return {(r, life, kernel, h): density
                for kernel, h in area.kernel_bandwidths
                for (r, life), density in zip(area.weightings,
                                              area.kernel.kernel_density(columns, bandwidth_m=h, kernel=kernel).T,
                                              strict=True)}


def calibrate_streets(
    areas: Sequence[tuple[nx.MultiDiGraph, pd.DataFrame, list[Fold]]],
    *,
    now: pd.Timestamp,
    rates: Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, float]],
    tiebreaks: Callable[[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray],
                        Sequence[Callable[[np.ndarray], np.ndarray]]],
    coverages: tuple[float, ...],
    hotspot: HotspotParams = HotspotParams(),
    snap_m: float = HotStreetParams.snap_m,
    params: StreetCalibrationParams = StreetCalibrationParams(),
) -> StreetCalibration:
    """Choose the hot-streets surface on the areas' training signals as of ``now`` (module docstring).

    Each area is ``(graph, train, folds)``: a prepared walk graph, the training signals only
    and its folds over them (``calibration.Fold``, ``evaluate.rolling_folds``). ``rates(best_first, hits,
    lengths)`` gives ``hit_rate@c`` by share of street length of the streets taken in that order
    (``evaluate.ranked_length_hit_rates``), asked only where a street at a coverage's edge ties
    (elsewhere ``_select.caught_by_size`` gives the same without sorting); ``tiebreaks(x, y,
    fits, mx, my)``, from the training signals at ``x, y`` and the folds' ``fit`` masks, is per
    fold a function of street indices whose values order the streets (midpoints ``mx, my``) a
    candidate scores equally (``evaluate.fold_tiebreaks``). ``hotspot`` are the weights the hot
    streets get (their recency is the ``None`` half-life). Nothing after ``now`` is read but
    what the training signals hold.
    """
    t0 = time.perf_counter()
    n_train = sum(len(train) for _, train, _ in areas)
    starts = [pd.to_datetime(train["occurred_from"], utc=True).min() for _, train, _ in areas if len(train)]
    history_days = float((now - min(starts)) / pd.Timedelta(days=1)) if starts else 0.0
    reason = NO_GRAPH if not areas else prior_reason(
        n_train, history_days, min_signals=params.min_signals, min_history_days=params.min_history_days,
        has_folds=any(folds for _, _, folds in areas))
    measured = not reason and any(knew_resolved(train, folds) for _, train, folds in areas)
    candidates = params.candidates(resolved=measured)
    caught, tested, n_folds = np.zeros(len(candidates)), 0, 0
    if not reason:
        for graph, train, folds in areas:
            area = _Area(graph, train, folds, hotspot=hotspot, candidates=candidates, snap_m=snap_m)
            lengths = area.kernel.length
            reaches = np.array(coverages) / 100 * float(lengths.sum())
            reach = float(reaches.max())
            breaks = tiebreaks(area.x, area.y, [fold.fit for fold in area.folds], area.mx, area.my)

            def judge(k: int, area: _Area = area, lengths: np.ndarray = lengths, reaches: np.ndarray = reaches,
                      reach: float = reach, breaks: Sequence = breaks) -> tuple[np.ndarray, int]:
                fold = area.fold(k)

                def score_of(i: int, _: int) -> np.ndarray:
                    return fold.score(candidates[i])

                def rates_of(scores: np.ndarray, hits: np.ndarray) -> dict[str, float]:
                    # Sorting the top streets is needed only where a tie at a coverage's edge asks the tie-break.
                    caught = caught_by_size(scores, sizes=lengths, hits=hits, reaches=reaches)
                    if caught is None:
                        return rates(best_first(scores, sizes=lengths, reach=reach, tiebreak=breaks[k]), hits, lengths)
                    total = hits.sum()
                    return {f"hit_rate@{c:g}": got / total if total else 0.0
                            for c, got in zip(coverages, caught, strict=True)}

                _, got, n = cv_choose(score_of, len(candidates), [area.folds[k]], fold_hits=area.hits,
                                      rates=rates_of, coverages=coverages)
                return got, n

            # Side by side on a large area (the work is in compiled code); summed in fold order, as one by one.
            for got, n in thread_map(judge, range(len(area.folds)), threaded=len(lengths) >= THREADED_STREETS):
                caught, tested = caught + got, tested + n
            n_folds += len(area.folds)
        if not caught.any():
            reason = NOTHING_CAUGHT
    chosen, scores = params.prior, ()
    if not reason:
        chosen = candidates[int(np.argmax(caught))]
        mean = caught / max(tested, 1) / len(coverages)
        scores = tuple((c, round(float(m), 6)) for c, m in zip(candidates, mean, strict=True))
    seconds = time.perf_counter() - t0
    if reason:
        log.info("hot-street calibration: prior %s (%s)", chosen.label(), reason)
    else:
        log.info("hot-street calibration: %s chosen of %d candidates on %d folds (%d fold test signals), %.1f s",
                 chosen.label(), len(candidates), n_folds, tested, seconds)
    return StreetCalibration(chosen=chosen, fallback=bool(reason), reason=reason, n_candidates=len(candidates),
                             n_folds=n_folds, fold_test_signals=tested, seconds=seconds, scores=scores,
                             resolved_measured=measured and not reason)
