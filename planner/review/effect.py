"""Effect review on a ward × period panel: did the outcome change where patrols intensified?

The design is a difference in differences with ward and period fixed effects, estimated as a
Poisson regression (PPML) and judged by **randomization inference**: the same estimate is
recomputed with the treatment given to other sets of wards, and the p-value is the share of those
assignments that look at least as extreme as the real one. That stays valid with 5–30 wards and
overdispersed counts, where the textbook Poisson interval claims effects that are not there
(Bertrand, Duflo & Mullainathan 2004).

- ``panel_from_outcomes`` / ``panel_from_signals``: counts per area (ward) and period.
- ``estimate_effect``: rate ratio, randomization p-value and the interval that inverts it, the
  event study (effect per period relative to the last one before the split, with the band that
  95 % of random assignments fall in), and the minimum detectable effect of the design.
- ``placebo_check``: the same design on untreated data with treatment and split drawn at random:
  how often it would have claimed an effect where there was none.
- ``effect_for``: the store-reading wrapper used by the CLI, the dashboard and the report.

Why the weights: a Poisson fit weighs each ward by its counts, so one large ward's own ups and
downs decide the result; equal weights waste the precision of large counts when counts are
small. Each ward is weighted by its precision ``1 / (τ² + 1/before + 1/after)``, where τ² is the
variation between wards beyond Poisson noise (estimated from all wards, so it does not depend on
which wards are treated and the randomization test stays exact). With τ² = 0 this is plain PPML.

Where the wards' own trends before the split clearly persist, each ward's expected change is
carried forward (its after-split counts divided by it), shrunk to nothing when the trend is noise
(``ward_trends``); everything that shapes the statistic is computed from all wards alike.

With a common split the weighted PPML estimate has a closed form (ward totals collapse per
group), which makes thousands of re-assignments cheap. The closed form is what is reported and
re-assigned; the tests hold it equal to statsmodels' GLM fit of the same model. The dose
variant has no closed form and is fitted with statsmodels throughout.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import _time, settings
from .._errors import InputError
from .._time import aware, local_day
from .._validation import Constraints, check_params, integer, real
from ..i18n import N_, format_number, translation
from ..signals.outcomes import TOTAL
from ..storage.outcomes import stored_outcomes

log = logging.getLogger(__name__)

OUTCOMES = ("registered", "signals")
PERIODS = ("day", "week", "month", "year")
_ZERO_FILLED_SOURCES = ("police-uk", "signals")
"""Sources whose missing area-period cells mean "no crime" (rows are counted events); in the
police's own tables a missing cell means "not published" and the area is left out instead."""


class PlaceboError(InputError):
    """The data leave too little untreated data for a placebo check (the review itself may run)."""


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EffectParams:
    """How the effect is judged.

    Parameters
    ----------
    permutations
        Random re-assignments of the treatment when there are more than ``max_exact`` possible
        ones (otherwise every assignment is enumerated and the p-value is exact).
    max_exact
        Enumerate all assignments up to this many.
    level
        Confidence level of the interval and 1 − the test's significance level.
    power
        Power at which the minimum detectable effect is stated.
    random_state
        Seed of the random re-assignments and placebo draws.
    """

    permutations: int = 999
    max_exact: int = 5000
    level: float = 0.95
    power: float = 0.80
    random_state: int = 0

    _constraints: ClassVar[Constraints] = {
        **dict.fromkeys(("permutations", "max_exact"),
                        integer(low=19, high=1_000_000, allowed="a whole number from 19 to 1,000,000")),
        **dict.fromkeys(("level", "power"), real(low=0.5, high=1, high_open=True)),
        "random_state": integer(low=0, allowed="a whole number ≥ 0"),
    }

    def __post_init__(self) -> None:
        # The front-ends call the seed a seed.
        check_params(self, labels={"random_state": "seed (random_state)"})

    @property
    def alpha(self) -> float:
        return 1 - self.level


# --------------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """Counts per area (rows, index ``area``) and period (columns: period start dates, sorted)."""

    counts: pd.DataFrame
    period: str
    outcome: str
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def areas(self) -> list[str]:
        return [str(a) for a in self.counts.index]

    @property
    def periods(self) -> list[date]:
        return list(self.counts.columns)

    def window(self, start: date | None = None, end: date | None = None) -> Panel:
        """Periods starting in ``[start, end)``; areas with a missing period in it are left out
        (with a note), since a balanced panel is what the fixed-effects design compares."""
        columns = [p for p in self.counts.columns if (start is None or p >= start) and (end is None or p < end)]
        if not columns:
            msg = f"no {self.period}s of data between {_day(start)} and {_day(end)}"
            raise InputError(msg)
        counts = self.counts[columns]
        gaps = counts.isna().any(axis=1)
        notes = list(self.notes)
        if gaps.any():
            notes.append(f"left out for missing periods: {', '.join(map(str, counts.index[gaps]))}")
            counts = counts[~gaps]
        return Panel(counts=counts.astype(float), period=self.period, outcome=self.outcome, source=self.source,
                     notes=tuple(notes))


def _day(value: date | None) -> str:
    return "the start" if value is None else value.isoformat()


def panel_from_outcomes(rows: pd.DataFrame, *, category: str | None = None) -> Panel:
    """The registered-crime panel from outcome rows (``planner.signals.outcomes``: area, ward,
    period_start, period, category, count, source).

    An area is named by its matched ward when there is one. ``category`` picks one category;
    by default a total category is used when the data has one, else categories are summed.
    When several period lengths are present the finest is used.
    """
    if rows.empty:
        msg = "no registered-crime counts: import them first (outcomes import) or pass a panel file"
        raise InputError(msg)
    frame = rows.copy()
    frame["unit"] = frame["ward"].where(frame["ward"].notna() & (frame["ward"].astype(str) != ""), frame["area"])
    lengths = [p for p in PERIODS if p in set(frame["period"])]
    notes = []
    if len(lengths) > 1:
        notes.append(f"periods of a {lengths[0]} used; {', '.join(lengths[1:])} counts left out")
    frame = frame[frame["period"] == lengths[0]]
    categories = frame["category"].astype(str)
    if category is not None:
        chosen = categories.str.casefold() == category.casefold()
        if not chosen.any():
            msg = (f"no counts of category {category!r}; the data has: "
                   f"{', '.join(sorted(set(categories))[:12])}")
            raise InputError(msg)
        frame = frame[chosen]
    else:
        total = categories == TOTAL  # every import writes a file's total category as this
        if total.any():
            frame = frame[total]
        elif categories.nunique() > 1:
            notes.append(f"sum of {categories.nunique()} categories")
    counts = frame.pivot_table(index="unit", columns="period_start", values="count", aggfunc="sum")
    sources = set(frame["source"].astype(str))
    source = ",".join(sorted(sources))
    if {s.split(":")[0] for s in sources} <= set(_ZERO_FILLED_SOURCES):
        counts = counts.fillna(0)
    counts.index.name = "area"
    counts = counts.reindex(sorted(counts.columns), axis=1)
    return Panel(counts=counts, period=lengths[0], outcome="registered", source=source, notes=tuple(notes))


def period_start(day: date, period: str) -> date:
    """The start of the ``period`` (week: Monday, month: the 1st, year: 1 January) holding ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    msg = f"period must be one of {', '.join(PERIODS)}, got {period!r}"
    raise InputError(msg)


def whole_periods(start: date, end: date, period: str) -> list[date]:
    """Starts of the whole ``period``s inside ``[start, end)``."""
    first = period_start(start, period)
    if first < start:
        first = _next(first, period)
    starts = []
    while first < end and _next(first, period) <= end:
        starts.append(first)
        first = _next(first, period)
    return starts


def _next(first: date, period: str) -> date:
    if period == "day":
        return first + timedelta(days=1)
    if period == "week":
        return first + timedelta(weeks=1)
    if period == "month":
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.replace(year=first.year + 1)


def panel_from_signals(incidents: pd.DataFrame, wards: Sequence[str], *, start: date, end: date,
                       period: str = "month") -> Panel:
    """Signals per ward and whole ``period`` of ``[start, end)`` (local time of the start of
    their time window), leaving out signals found on patrol: walking more finds more. The panel
    starts at the first period with a signal in any ward."""
    starts = whole_periods(start, end, period)
    if not starts:
        msg = f"no whole {period} between {start.isoformat()} and {end.isoformat()}"
        raise InputError(msg)
    counts = pd.DataFrame(0.0, index=pd.Index(list(wards), name="area"), columns=starts)
    if len(incidents):
        kept = incidents[~incidents["on_patrol"].astype(bool) & incidents["ward"].isin(list(wards))]
        days = kept["occurred_from"].dt.tz_convert(settings.timezone()).dt.date
        first = pd.Series([period_start(d, period) for d in days], index=kept.index, dtype=object)
        inside = first.isin(starts)
        table = pd.crosstab(kept.loc[inside, "ward"], first[inside])
        counts.loc[table.index, table.columns] = table.to_numpy(dtype=float)
    notes = ["signals found on patrol left out"]
    # Periods before the first signal in any ward precede the data: they are not zero signals.
    any_signal = np.flatnonzero(counts.to_numpy().sum(axis=0) > 0)
    if len(any_signal) and any_signal[0] > 0:
        counts = counts.iloc[:, any_signal[0]:]
        notes.append(f"the signals start in the {period} of {counts.columns[0].isoformat()}")
    return Panel(counts=counts, period=period, outcome="signals", source="signals", notes=tuple(notes))


# --------------------------------------------------------------------------------------------
# The statistic and its re-assignments
# --------------------------------------------------------------------------------------------
def precision_weights(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, float]:
    """Ward weights for the PPML fit and τ², the variance of wards' log changes beyond Poisson
    noise (moment estimate over all wards, so it is the same whichever wards are treated)."""
    change = np.log((after + 0.5) / (before + 0.5))
    poisson = 1 / (before + 0.5) + 1 / (after + 0.5)
    tau2 = max(0.0, float(np.var(change, ddof=1)) - float(poisson.mean())) if len(change) > 1 else 0.0
    return 1 / (1 + tau2 / poisson), tau2


TREND_SHRINKAGE = 3.0
"""How sure the panel must be of the wards' own trends before they are carried forward: the
trend coefficient is scaled by max(0, 1 − c / t²) (positive-part James–Stein shrinkage) with
c = 3 · (t₀.₉₅ with n − 2 degrees of freedom / z₀.₉₅)², stricter the fewer wards there are, so a
noisy coefficient counts for nothing. Chosen on the shared London and Amsterdam panels
(bench/bench_effect.py): it keeps the test's level, gains power where trends persist
(Amsterdam 2021) and costs at most a few tenths of a percent where they do not (London)."""


@dataclass(frozen=True)
class _Design:
    """What the test compares, fixed before any assignment is drawn (so the randomization test
    stays exact): ward totals, each ward's expected change from its own pre-split trend, and the
    precision weights."""

    before: np.ndarray
    after: np.ndarray
    expected: np.ndarray
    """Multiplicative change each ward's pre-split trend predicts (1: no trend carried)."""
    weights: np.ndarray
    tau2: float
    trend: float
    """The shrunk trend coefficient (0: the wards' own trends were too noisy to use)."""

    @property
    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        return self.weights * self.before, self.weights * self.after / self.expected



def ward_trends(counts: np.ndarray, n_before: int) -> tuple[np.ndarray, float]:
    """Each ward's expected multiplicative change after the split from its own trend before it.

    The log change of every ward (after vs before) is regressed, across all wards, on the slope
    of its log counts before the split; the coefficient is shrunk by ``TREND_SHRINKAGE``. Needs
    3 periods before the split and 4 wards, else no trend is carried."""
    n_wards = len(counts)
    if n_before < 3 or n_wards < 4:
        return np.ones(n_wards), 0.0
    before, after = counts[:, :n_before].sum(axis=1), counts[:, n_before:].sum(axis=1)
    change = np.log((after + 0.5) / (before + 0.5))
    steps = np.arange(n_before) - (n_before - 1) / 2
    slope = np.log(counts[:, :n_before] + 0.5) @ steps / (steps @ steps)
    slope = slope - slope.mean()
    spread = float(slope @ slope)
    if spread <= 1e-12:
        return np.ones(n_wards), 0.0
    coefficient = float(slope @ (change - change.mean())) / spread
    residual = change - change.mean() - coefficient * slope
    variance = float(residual @ residual) / (n_wards - 2) / spread
    from scipy.stats import norm, t

    strictness = TREND_SHRINKAGE * (t.ppf(0.95, n_wards - 2) / norm.ppf(0.95)) ** 2
    factor = max(0.0, 1 - strictness * variance / coefficient**2) if coefficient else 0.0
    return np.exp(factor * coefficient * slope), factor * coefficient


def _design(counts: np.ndarray, n_before: int) -> _Design:
    before, after = counts[:, :n_before].sum(axis=1), counts[:, n_before:].sum(axis=1)
    expected, trend = ward_trends(counts, n_before)
    weights, tau2 = precision_weights(before, after / expected)
    return _Design(before=before, after=after, expected=expected, weights=weights, tau2=tau2, trend=trend)


def _log_ratio(assignments: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Weighted-PPML log rate ratio for each row of ``assignments`` (bool, ward is treated);
    ``before``/``after`` are weighted ward totals. ±inf where a group has no counts."""
    t_before, t_after = assignments @ before, assignments @ after
    c_before, c_after = before.sum() - t_before, after.sum() - t_after
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(t_after) - np.log(t_before) - np.log(c_after) + np.log(c_before)
    return np.where(np.isnan(value), np.inf, value)


def assignments(n_wards: int, n_treated: int, *, observed: np.ndarray, params: EffectParams,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, bool]:
    """Treatment assignments to compare with: all ``C(n, k)`` when at most ``params.max_exact``
    (exact), else the observed one plus ``params.permutations`` random ones."""
    total = math.comb(n_wards, n_treated)
    if total <= params.max_exact:
        rows = np.zeros((total, n_wards), dtype=bool)
        for i, chosen in enumerate(itertools.combinations(range(n_wards), n_treated)):
            rows[i, list(chosen)] = True
        return rows, True
    rng = rng if rng is not None else np.random.default_rng(params.random_state)
    keys = rng.random((params.permutations, n_wards))
    rows = np.zeros((params.permutations, n_wards), dtype=bool)
    np.put_along_axis(rows, np.argsort(keys, axis=1)[:, :n_treated], True, axis=1)
    return np.vstack([observed[None, :], rows]), False


def _p_value(statistics: np.ndarray, observed: float) -> float:
    # A tolerance so that re-assignments equal to the real one up to rounding count as extreme.
    return float(np.mean(np.abs(statistics) >= abs(observed) - 1e-9))


def randomization_p(counts: np.ndarray, treated: np.ndarray, n_before: int, *,
                    params: EffectParams = EffectParams(), rng: np.random.Generator | None = None,
                    rows: np.ndarray | None = None) -> float:
    """Two-sided randomization p-value of the weighted-PPML effect for the ward × period
    ``counts`` with the first ``n_before`` periods before the split, against ``rows`` (default:
    ``assignments``)."""
    design = _design(counts, n_before)
    before, after = design.weighted
    if rows is None:
        rows, _ = assignments(len(treated), int(treated.sum()), observed=treated, params=params, rng=rng)
    observed = _log_ratio(treated[None, :], before, after)[0]
    return _p_value(_log_ratio(rows, before, after), observed)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceboCheck:
    """How often the design claimed an effect on data where nothing happened."""

    runs: int
    false_positive_rate: float
    level: float
    data: str
    """Which untreated data the placebo runs used: ``before`` (every ward's periods before the
    split) or ``comparison`` (the comparison wards over the whole window)."""

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "false_positive_rate": round(self.false_positive_rate, 4)}


@dataclass(frozen=True)
class EffectEstimate:
    """The effect review's answer; ``to_json()`` is the contract of ``was-planner effect --json``."""

    estimate: float
    """Rate ratio: the treated wards' outcome after the split relative to what the comparison
    wards' change predicts (0.80 = 20 % lower)."""
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    wards: int
    treated: int
    periods: int
    mde: float
    """Smallest relative change the design detects with ``power`` at the test's level."""
    placebo: PlaceboCheck | None
    treated_names: tuple[str, ...]
    split: date
    period: str
    outcome: str
    exact: bool
    assignments: int
    smallest_p: float
    """The smallest p-value this design can produce (1 / number of distinct assignments)."""
    tau2: float
    trend: float
    """Shrunk coefficient of the wards' own pre-split trends (0: not carried forward)."""
    event_study: pd.DataFrame
    """Per period: ``period`` (start), ``relative`` (periods since the split; −1 is the
    reference), ``estimate`` (rate ratio vs the reference), ``null_low``/``null_high`` (the band
    95 % of random assignments fall in)."""
    table: pd.DataFrame
    """Per ward: ``ward``, ``treated``, ``before``/``after`` (mean per period), ``weight``."""
    level: float = 0.95
    power: float = 0.80
    notes: tuple[str, ...] = ()
    mde_by_duration: tuple[tuple[int, float], ...] = ()
    """(periods before and after the split, MDE) for longer or shorter designs on this panel; a
    length equal to the design's own (as many periods before as after) holds ``mde`` itself."""

    @property
    def significant(self) -> bool:
        return self.p_value <= 1 - self.level

    def to_json(self) -> dict[str, Any]:
        return _contract(self, self.placebo)

    def summary(self) -> str:
        lines = [self.verdict("en"), self.mde_sentence("en"), f"method: {self.method}"]
        if self.placebo:
            lines.append(self.placebo_sentence("en"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def verdict(self, language: str = "nl") -> str:
        """What the numbers say, in one or two plain sentences."""
        _ = translation(language).gettext
        change, lo, hi = ((v - 1) * 100 for v in (self.estimate, self.ci_low, self.ci_high))
        bounded = math.isfinite(hi) and self.ci_low > 0
        interval = (_("95{percent} interval {low} to {high}").format(
            percent=PERCENT, low=_pct(lo, language), high=_pct(hi, language)) if bounded
            else _("the 95{percent} interval is unbounded").format(percent=PERCENT))
        head = _("In the {treated} ward(s) with more patrols, {outcome} changed by {change} after {split} relative "
                 "to the {comparison} comparison ward(s) ({interval}; p = {p_value}).").format(
            treated=self.treated, outcome=_outcome(self.outcome, language), change=_pct(change, language),
            split=_day(self.split, language), comparison=self.wards - self.treated, interval=interval,
            p_value=format_number(self.p_value, 2, language=language))
        if self.smallest_p > 1 - self.level:
            tail = _("With {wards} wards this design cannot show an effect: the smallest possible p-value is "
                     "{smallest_p}.").format(wards=self.wards, smallest_p=format_number(self.smallest_p, 2,
                                                                                      language=language))
        elif self.significant:
            tail = _("That is more than chance makes likely, but it remains a comparison (see below).")
        else:
            tail = _("That difference cannot be told from chance.")
        return f"{head} {tail}"

    def mde_sentence(self, language: str = "nl") -> str:
        _ = translation(language).gettext
        unit = _(_PERIODS_PLURAL[self.period])
        before = int((self.event_study["relative"] < 0).sum())
        after = self.periods - before
        if self.mde >= 1:
            return _("With these {wards} wards and {before} + {after} {unit} no change at all can be told from "
                     "chance: there are too few wards to compare.").format(
                wards=self.wards, before=before, after=after, unit=unit)
        text = _("With these {wards} wards and {before} + {after} {unit}, a change smaller than about {mde} cannot "
                 "be told from chance (80{percent} power at the 5{percent} level).").format(
            wards=self.wards, before=before, after=after, unit=unit, mde=_pct(self.mde * 100, language, sign=False),
            percent=PERCENT)
        longer = [f"{n} + {n} {unit}: " + (_pct(m * 100, language, sign=False) if m < 1 else _("not detectable"))
                  for n, m in self.mde_by_duration]
        return text + (" " + _("Measured over other lengths: {durations}.").format(durations="; ".join(longer))
                       if longer else "")

    def placebo_sentence(self, language: str = "nl") -> str:
        if self.placebo is None:
            return ""
        _ = translation(language).gettext
        data = _(_PLACEBO_DATA[self.placebo.data])
        rate = format_number(self.placebo.false_positive_rate * 100, 1, language=language) + PERCENT
        return _("Check: in {runs} placebo runs without any real change ({data}) this method 'saw' an effect in "
                 "{rate}; about {expected} is expected.").format(
            runs=self.placebo.runs, data=data, rate=rate,
            expected=_pct((1 - self.level) * 100, language, sign=False))

    def caveat(self, language: str = "nl") -> str:
        return _caveat(language, signals=self.outcome == "signals")


PERCENT = "%"
"""A per cent sign that a message takes as a value: ``95% interval`` in a message would read as a
printf conversion (``% i``) to Babel's python-format check."""

_PERIODS_PLURAL = {"day": N_("days"), "week": N_("weeks"), "month": N_("months"), "year": N_("years")}
_PLACEBO_DATA = {"before": N_("all wards, the periods before the split"),
                 "comparison": N_("the comparison wards, the whole window")}


def _outcome(outcome: str, language: str) -> str:
    """The outcome as the subject of a sentence (``het aantal signalen`` / ``signals``)."""
    pgettext = translation(language).pgettext
    if outcome == "registered":
        return pgettext("effect outcome", "registered crime")
    return pgettext("effect outcome", "signals")


def _caveat(language: str, *, signals: bool) -> str:
    """What the effect review does not show; with ``signals`` also why signals are a weak outcome."""
    _ = translation(language).gettext
    text = _("Note: this is a comparison, not proof. Wards choose when to patrol more (often when things are "
             "restless), and other things may have changed at the same time. The p-value comes from "
             "re-assignment: the same computation with the extra patrols given to other wards. If 0{percent} lies "
             "inside the interval, there is no demonstrable effect. Check in the chart whether the wards already "
             "drifted apart before the start: then the comparison is not fair.").format(percent=PERCENT)
    if signals:
        text += " " + _("Signals are a weak outcome: how much is reported itself depends on how much is patrolled. "
                        "Signals found on patrol are left out. Registered crime (police figures per ward) is better: "
                        "import it with outcomes import.")
    return text


def _contract(result: EffectEstimate | DoseEstimate, placebo: PlaceboCheck | None) -> dict[str, Any]:
    """Exactly ``estimate, ci95, p_value, method, wards, treated, periods, mde, placebo``: the
    contract of ``was-planner effect --json``, whichever treatment."""
    return {
        "estimate": round(result.estimate, 4),
        "ci95": [_bound(result.ci_low), _bound(result.ci_high)],
        "p_value": round(result.p_value, 4),
        "method": result.method,
        "wards": result.wards,
        "treated": result.treated,
        "periods": result.periods,
        "mde": round(result.mde, 4),
        "placebo": placebo.to_json() if placebo else None,
    }


def _bound(value: float) -> float | None:
    """An interval end (a rate ratio) for JSON: rounded, or null where the interval is unbounded
    (a lower end of 0 is exp(−∞))."""
    return round(value, 4) if math.isfinite(value) and value > 0 else None


def _pct(value: float, language: str, *, sign: bool = True) -> str:
    """A whole per cent (``+12%``; ``sign=False``: ``12%``), with a true minus sign in Dutch; what
    rounds to nothing is ``0%``, not a signed ``−0%``."""
    if round(value) == 0:
        return "0%"
    text = f"{value:+.0f}%" if sign else f"{value:.0f}%"
    return text.replace("-", "−") if language == "nl" else text


def _day(day: date, language: str) -> str:
    """``31-12-2025`` in Dutch, ``2025-12-31`` in English."""
    return day.strftime("%d-%m-%Y") if language == "nl" else day.isoformat()


# --------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------
def _split_index(periods: Sequence[date], split: date) -> int:
    index = sum(1 for p in periods if p < split)
    if index == 0 or index == len(periods):
        msg = (f"the split {split.isoformat()} must leave periods on both sides; the data runs from "
               f"{periods[0].isoformat()} to {periods[-1].isoformat()}")
        raise InputError(msg)
    return index


def _treated_mask(areas: Sequence[str], treated: Iterable[str]) -> np.ndarray:
    names = list(dict.fromkeys(treated))
    folded = {a.casefold(): i for i, a in enumerate(areas)}
    unknown = [n for n in names if n.casefold() not in folded]
    if unknown:
        msg = (f"treated ward(s) not in the data: {', '.join(unknown)}; the data has "
               f"{', '.join(areas[:15])}{' …' if len(areas) > 15 else ''}")
        raise InputError(msg)
    mask = np.zeros(len(areas), dtype=bool)
    mask[[folded[n.casefold()] for n in names]] = True
    if not mask.any():
        msg = "name at least one treated ward"
        raise InputError(msg)
    if mask.sum() > len(areas) - 1:
        msg = "at least one ward must stay untreated as the comparison"
        raise InputError(msg)
    return mask


def _interval(counts: np.ndarray, n_before: int, treated: np.ndarray, rows: np.ndarray, observed: float,
              spread: float, alpha: float) -> tuple[float, float]:
    """The randomization interval: every effect b whose removal from the treated wards' after
    counts leaves an assignment test that does not reject at ``alpha`` (Imbens & Rosenbaum 2005).
    The design (weights, trends) is recomputed from each shifted panel, as the test itself would."""
    def p_at(b: float) -> float:
        shifted = counts.astype(float)
        shifted[treated, n_before:] *= math.exp(-b)
        before, after = _design(shifted, n_before).weighted
        return _p_value(_log_ratio(rows, before, after), _log_ratio(treated[None, :], before, after)[0])

    if not math.isfinite(observed):
        return -math.inf, math.inf
    step = max(spread, 1e-3)
    ends = []
    for direction in (-1, 1):
        inside, outside = observed, None
        for k in range(1, 60):
            candidate = observed + direction * step * k * 0.5
            if p_at(candidate) <= alpha:
                outside = candidate
                break
            inside = candidate
        if outside is None:
            ends.append(direction * math.inf)
            continue
        for _ in range(30):
            middle = (inside + outside) / 2
            if p_at(middle) <= alpha:
                outside = middle
            else:
                inside = middle
        ends.append(inside)
    return ends[0], ends[1]


def minimum_detectable_effect(counts: np.ndarray, n_before: int, rows: np.ndarray, *, exact: bool,
                              params: EffectParams = EffectParams(), truths: int = 60,
                              tests: int = 400) -> float:
    """The smallest reduction the design detects with ``params.power`` at its level, by
    simulation on the panel itself: for each of ``truths`` assignments taken as the real one,
    the treated wards' counts after the split are thinned binomially by δ and the whole test
    is re-run (design, weights, trends and the randomization p-value over ``tests`` of the
    ``rows``, or all of them when they are ``exact``ly every assignment); the power is the share that
    rejects. The same random draws serve every δ, so the power rises with δ and a bisection
    finds the MDE. 1.0: no reduction at all can be detected (too few wards, say).

    This keeps what a normal approximation loses: the test's discreteness with few wards, its
    tails, and how an effect widens the randomization distribution."""
    from scipy.stats import binom

    rng = np.random.default_rng(params.random_state + 2)
    compare = rows if exact else rows[: min(len(rows), tests)]
    chosen = rows[rng.choice(len(rows), min(truths, len(rows)), replace=False)]
    after = counts[:, n_before:]
    uniforms = rng.random((len(chosen), *after.shape))

    def power(reduction: float) -> float:
        rejections = 0
        for truth, uniform in zip(chosen, uniforms, strict=True):
            changed = counts.copy()
            changed[truth, n_before:] = binom.ppf(uniform[truth], after[truth], 1 - reduction)
            before_w, after_w = _design(changed, n_before).weighted
            real = _log_ratio(truth[None, :], before_w, after_w)[0]
            statistics = _log_ratio(compare, before_w, after_w)
            if not exact:  # the truth counts among the compared, as the observed does in the test
                statistics = np.append(statistics, real)
            rejections += _p_value(statistics, real) <= params.alpha
        return rejections / len(chosen)

    if power(0.999) < params.power:
        return 1.0
    low, high = 0.0, 0.999
    for _ in range(12):
        middle = (low + high) / 2
        low, high = (low, middle) if power(middle) >= params.power else (middle, high)
    return high


def _event_study(counts: np.ndarray, rows: np.ndarray, treated: np.ndarray, weights: np.ndarray, n_before: int,
                 periods: Sequence[date], alpha: float) -> pd.DataFrame:
    # Per period, the collapsed weighted-PPML estimate against the last period before the split; 0.5
    # keeps periods where one group has no counts on the chart (they are uncertain, not infinite).
    weighted = counts * weights[:, None]
    reference = n_before - 1

    def effects(assign: np.ndarray) -> np.ndarray:
        t = assign.astype(float) @ weighted + 0.5
        c = weighted.sum(axis=0)[None, :] - (t - 0.5) + 0.5
        return np.log(t / t[:, [reference]]) - np.log(c / c[:, [reference]])

    observed = effects(treated[None, :])[0]
    null = effects(rows)
    return pd.DataFrame({
        "period": list(periods),
        "relative": np.arange(len(periods)) - n_before,
        "estimate": np.exp(observed),
        "null_low": np.exp(np.quantile(null, alpha / 2, axis=0)),
        "null_high": np.exp(np.quantile(null, 1 - alpha / 2, axis=0)),
    })


def estimate_effect(panel: Panel, treated: Iterable[str], split: date, *,
                    params: EffectParams = EffectParams(), placebo: int = 0,
                    durations: Sequence[int] = (), history: pd.DataFrame | None = None) -> EffectEstimate:
    """Difference in differences with ward and period fixed effects (weighted PPML), a
    randomization p-value and interval, the event study and the minimum detectable effect.

    Parameters
    ----------
    panel
        Counts per ward and period (already cut to the window under study).
    treated
        The wards whose patrols intensified from ``split`` on.
    split
        The first day of the "after" period; periods starting before it are "before".
    params
        Test settings (permutations, level, power, seed).
    placebo
        When > 0, also run ``placebo_check`` with this many runs.
    durations
        Periods before and after the split for which to state the MDE as well (e.g. 3, 6, 12
        months), computed on the latest stretch of ``history`` (default: the panel) that long.
    history
        The longer panel the window was cut from, for ``durations``.
    """
    counts = panel.counts.to_numpy(dtype=float)
    areas, periods = panel.areas, panel.periods
    if len(areas) < 2:
        why = f" ({'; '.join(panel.notes)})" if panel.notes else ""
        msg = f"the effect review needs at least two wards, the data has {len(areas)}{why}"
        raise InputError(msg)
    mask = _treated_mask(areas, treated)
    n_before = _split_index(periods, split)
    before, after = counts[:, :n_before].sum(axis=1), counts[:, n_before:].sum(axis=1)
    for group, chosen in (("treated", mask), ("comparison", ~mask)):
        for side, totals in (("before", before), ("after", after)):
            if totals[chosen].sum() == 0:
                msg = f"the {group} wards have no counts {side} the split: no rate ratio can be estimated"
                raise InputError(msg)
    design = _design(counts, n_before)
    weights = design.weights
    rng = np.random.default_rng(params.random_state)
    rows, exact = assignments(len(areas), int(mask.sum()), observed=mask, params=params, rng=rng)
    wb, wa = design.weighted
    statistics = _log_ratio(rows, wb, wa)
    observed = _log_ratio(mask[None, :], wb, wa)[0]
    p_value = _p_value(statistics, observed)
    finite = statistics[np.isfinite(statistics)]
    low, high = _interval(counts, n_before, mask, rows, observed, float(np.std(finite)) if len(finite) > 1 else 1.0,
                          params.alpha)
    distinct = math.comb(len(areas), int(mask.sum()))
    mde = minimum_detectable_effect(counts, n_before, rows, exact=exact, params=params)
    method = (f"two-way fixed-effects Poisson (PPML, closed form of the statsmodels fit) with ward precision weights"
              f"{' and ward pre-trends' if design.trend else ''}; randomization inference over {len(rows)} "
              f"{'(all)' if exact else 'random'} treatment assignments")
    table = pd.DataFrame({"ward": areas, "treated": mask, "before": before / n_before,
                          "after": after / (len(periods) - n_before), "weight": weights / weights.max()})
    return EffectEstimate(
        estimate=math.exp(observed), ci_low=math.exp(low), ci_high=math.exp(high), p_value=p_value, method=method,
        wards=len(areas), treated=int(mask.sum()), periods=len(periods), mde=mde,
        placebo=placebo_check(panel, areas_treated(areas, mask), split, runs=placebo, params=params)
        if placebo else None,
        treated_names=tuple(areas_treated(areas, mask)), split=periods[n_before], period=panel.period,
        outcome=panel.outcome, exact=exact, assignments=len(rows), smallest_p=1 / distinct, tau2=design.tau2,
        trend=design.trend,
        event_study=_event_study(counts, rows, mask, weights, n_before, periods, params.alpha), table=table,
        level=params.level, power=params.power, notes=panel.notes,
        mde_by_duration=tuple(
            # The design's own length keeps its own simulated MDE: one design, one figure.
            (n, mde if (n, n) == (n_before, len(periods) - n_before) else scaled)
            for n, scaled in mde_by_duration(panel.counts if history is None else history, int(mask.sum()),
                                             durations, mde=mde, spread=_null_spread(statistics), params=params)
        ),
    )


def areas_treated(areas: Sequence[str], mask: np.ndarray) -> list[str]:
    return [a for a, m in zip(areas, mask, strict=True) if m]


def _null_spread(statistics: np.ndarray) -> float:
    finite = statistics[np.isfinite(statistics)]
    return float(np.std(finite)) if len(finite) > 1 else math.inf


def mde_by_duration(counts: pd.DataFrame, n_treated: int, durations: Iterable[int], *, mde: float,
                    spread: float, params: EffectParams = EffectParams()) -> list[tuple[int, float]]:
    """The MDE of an ``n`` + ``n`` period design for each ``n`` in ``durations`` where the panel is
    that long, scaled from the design's own ``mde``: by how much wider or narrower the
    randomization distribution is for such designs (the median over every non-overlapping
    stretch of ``2n`` periods, so one unusual stretch does not decide it) than the design's own
    (``spread``). Cheap, and on the same footing as the simulated MDE it scales."""
    values = counts.dropna().to_numpy(dtype=float)
    found = []
    if not (math.isfinite(spread) and spread > 0) or mde >= 1:
        return found
    for n in sorted(set(durations)):
        if n < 1 or 2 * n > values.shape[1] or not 0 < n_treated < len(values):
            continue
        observed = np.zeros(len(values), dtype=bool)
        observed[:n_treated] = True
        rows, _ = assignments(len(values), n_treated, observed=observed, params=params)
        spreads = [_null_spread(_log_ratio(rows, *_design(values[:, end - 2 * n:end], n).weighted))
                   for end in range(values.shape[1], 2 * n - 1, -2 * n)]
        found.append((n, min(1.0, 1 - (1 - mde) ** (float(np.median(spreads)) / spread))))
    return found


def placebo_check(panel: Panel, treated: Sequence[str], split: date, *, runs: int,
                  params: EffectParams = EffectParams()) -> PlaceboCheck:
    """Run the design ``runs`` times on untreated data, with as many treated wards as the real
    design, a random split and random treated wards, and count how often it claims an effect.

    The untreated data: every ward's periods before the split when there are at least four,
    with the design's length (or less); otherwise the comparison wards over the whole window.
    """
    if not isinstance(runs, int) or isinstance(runs, bool) or not 1 <= runs <= 100_000:
        msg = f"placebo runs must be a whole number from 1 to 100,000, got {runs!r}"
        raise InputError(msg)
    counts = panel.counts.to_numpy(dtype=float)
    mask = _treated_mask(panel.areas, treated)
    n_before = _split_index(panel.periods, split)
    if n_before >= 4:
        data = counts[:, :n_before]
        length = min(len(panel.periods), n_before)
        description = "before"
    elif (~mask).sum() >= 3:
        data = counts[~mask]
        length = len(panel.periods)
        description = "comparison"
    else:
        msg = "too little untreated data for a placebo check: it needs 4 periods before the split or 3 comparison wards"
        raise PlaceboError(msg)
    k = min(int(mask.sum()), len(data) - 1)
    rng = np.random.default_rng(params.random_state + 1)
    claims = 0
    for _ in range(runs):
        first = int(rng.integers(0, data.shape[1] - length + 1))
        window = data[:, first:first + length]
        cut = int(rng.integers(1, length))
        chosen = np.zeros(len(window), dtype=bool)
        chosen[rng.choice(len(window), k, replace=False)] = True
        claims += randomization_p(window, chosen, cut, params=params, rng=rng) <= params.alpha
    return PlaceboCheck(runs=runs, false_positive_rate=claims / runs, level=params.level, data=description)


# --------------------------------------------------------------------------------------------
# The dose: person-hours per week as the treatment
# --------------------------------------------------------------------------------------------
DOSE_UNIT = 10.0
"""The dose effect is stated per this many person-hours a week."""


@dataclass(frozen=True)
class DoseEstimate:
    """The effect of patrol intensity itself: how the outcome moves with each ward's walked
    person-hours per week, period by period; ``to_json()`` has the shape of ``EffectEstimate``'s."""

    estimate: float
    """Rate ratio per ``DOSE_UNIT`` person-hours a week more (0.90 = 10 % fewer)."""
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    wards: int
    treated: int
    """Wards with any walked patrol in the window."""
    periods: int
    mde: float
    period: str
    outcome: str
    exact: bool
    assignments: int
    table: pd.DataFrame
    """Per ward: ``ward``, ``mean`` outcome per period, ``hours_per_week`` (mean dose)."""
    level: float = 0.95
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return _contract(self, None)

    def verdict(self, language: str = "nl") -> str:
        _ = translation(language).gettext
        change, lo, hi = ((v - 1) * 100 for v in (self.estimate, self.ci_low, self.ci_high))
        return _("Per {unit} person-hours of patrol a week more, {outcome} changed by {change} (95{percent} interval "
                 "{low} to {high}; p = {p_value}), comparing each ward with itself over time and wards with each "
                 "other in the same {period}.").format(
            unit=f"{DOSE_UNIT:.0f}", outcome=_outcome(self.outcome, language), change=_pct(change, language),
            percent=PERCENT, low=_pct(lo, language), high=_pct(hi, language),
            p_value=format_number(self.p_value, 2, language=language), period=self.period)

    def summary(self) -> str:
        lines = [self.verdict("en"), f"method: {self.method}",
                 f"a change smaller than about {self.mde * 100:.0f}% per {DOSE_UNIT:.0f} person-hours a week "
                 "cannot be told from chance (80% power at the 5% level)"]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def caveat(self, language: str = "nl") -> str:
        return _caveat(language, signals=self.outcome == "signals")


def _dose_coefficient(counts: np.ndarray, dose: np.ndarray) -> float:
    import statsmodels.api as sm

    n_wards, n_periods = counts.shape
    ward = np.repeat(np.arange(n_wards), n_periods)
    period = np.tile(np.arange(n_periods), n_wards)
    columns = [np.ones(n_wards * n_periods), dose.reshape(-1)]
    columns += [(ward == i).astype(float) for i in range(1, n_wards)]
    columns += [(period == t).astype(float) for t in range(1, n_periods)]
    fit = sm.GLM(counts.reshape(-1), np.column_stack(columns), family=sm.families.Poisson()).fit(
        method="newton", maxiter=100, tol=1e-10)
    return float(fit.params[1])


def estimate_dose_effect(panel: Panel, dose: pd.DataFrame, *, params: EffectParams = EffectParams(),
                         permutations: int = 199) -> DoseEstimate:
    """Two-way fixed-effects Poisson (statsmodels) of the outcome on the dose (person-hours per
    week in each ward and period), with randomization inference: the wards' whole dose series
    are re-assigned to other wards (all orders when there are at most ``params.max_exact``, else
    ``permutations`` random ones), so each ward's own pattern of patrols stays intact.

    The interval is the estimate minus the 2.5 % and 97.5 % points of that re-assignment
    distribution (a constant-effect approximation: each re-assignment is one more fit, so the
    interval is not inverted exactly as for a treated group)."""
    from scipy.stats import norm

    areas = panel.areas
    missing = [a for a in areas if a not in dose.index]
    if missing:
        msg = f"no patrol hours for {', '.join(missing)}"
        raise InputError(msg)
    counts = panel.counts.to_numpy(dtype=float)
    hours = dose.loc[areas, panel.periods].to_numpy(dtype=float) / DOSE_UNIT
    # What the ward and period effects cannot explain is all the dose can be judged on.
    within = hours - hours.mean(axis=1, keepdims=True) - hours.mean(axis=0, keepdims=True) + hours.mean()
    if len(areas) < 3 or float(np.abs(within).max()) < 1e-9:
        msg = ("the dose review needs at least three wards whose patrol hours rise and fall differently "
               "(hours that change the same way everywhere cannot be told from the periods)")
        raise InputError(msg)
    observed = _dose_coefficient(counts, hours)
    total = math.factorial(len(areas))
    rng = np.random.default_rng(params.random_state)
    if total <= params.max_exact:
        orders = [list(o) for o in itertools.permutations(range(len(areas)))]
        exact = True
    else:
        orders = [list(range(len(areas)))] + [list(rng.permutation(len(areas))) for _ in range(permutations)]
        exact = False
    null = np.array([_dose_coefficient(counts, hours[order]) for order in orders])
    p_value = _p_value(null, observed)
    low, high = np.quantile(null, [params.alpha / 2, 1 - params.alpha / 2])
    spread = float(np.std(null))
    mde = 1 - math.exp(-(norm.ppf(1 - params.alpha / 2) + norm.ppf(params.power)) * spread)
    table = pd.DataFrame({"ward": areas, "mean": counts.mean(axis=1), "hours_per_week": hours.mean(axis=1) * DOSE_UNIT})
    return DoseEstimate(
        estimate=math.exp(observed), ci_low=math.exp(observed - high), ci_high=math.exp(observed - low),
        p_value=p_value, method=(f"two-way fixed-effects Poisson (PPML, statsmodels) on person-hours per week; "
                                 f"randomization inference over {len(orders)} {'(all)' if exact else 'random'} "
                                 "re-assignments of the wards' patrol series"),
        wards=len(areas), treated=int((hours.sum(axis=1) > 0).sum()), periods=len(panel.periods), mde=mde,
        period=panel.period, outcome=panel.outcome, exact=exact, assignments=len(orders), table=table,
        level=params.level, notes=panel.notes,
    )


# --------------------------------------------------------------------------------------------
# From the store
# --------------------------------------------------------------------------------------------
def patrol_hours(store, start: date, split: date, end: date) -> pd.DataFrame:
    """Walked person-hours per week of every stored ward before and after ``split`` (columns
    ``ward``, ``hours_per_week_before``, ``hours_per_week_after``, ``change``)."""
    from ..patrols import list_patrols

    weeks_before, weeks_after = (split - start).days / 7, (end - split).days / 7
    rows = []
    for ward in store.wards()["name"]:
        walked = list_patrols(store, ward=ward, since=aware(start), until=aware(end), status="walked")
        before = math.fsum(p.person_hours for p in walked if p.start < aware(split))
        after = math.fsum(p.person_hours for p in walked if p.start >= aware(split))
        rows.append({"ward": ward, "hours_per_week_before": before / weeks_before,
                     "hours_per_week_after": after / weeks_after})
    hours = pd.DataFrame(rows, columns=["ward", "hours_per_week_before", "hours_per_week_after"])
    hours["change"] = hours["hours_per_week_after"] - hours["hours_per_week_before"]
    return hours


def patrol_dose(store, periods: Sequence[date], period: str) -> pd.DataFrame:
    """Walked person-hours per week of every stored ward (rows) in each ``period`` starting at
    ``periods`` (columns)."""
    from ..patrols import list_patrols

    bounds = [*periods, _next(periods[-1], period)]
    dose = pd.DataFrame(0.0, index=pd.Index(list(store.wards()["name"]), name="ward"), columns=list(periods))
    walked = list_patrols(store, since=aware(bounds[0]), until=aware(bounds[-1]), status="walked")
    for patrol in walked:
        day = local_day(patrol.start)
        first = period_start(day, period)
        if patrol.ward in dose.index and first in dose.columns:
            dose.loc[patrol.ward, first] += patrol.person_hours
    weeks = np.array([(bounds[i + 1] - bounds[i]).days / 7 for i in range(len(periods))])
    return dose / weeks[None, :]


def intensified(hours: pd.DataFrame) -> list[str]:
    """The wards whose person-hours per week rose, and rose more than the median ward's."""
    median = float(hours["change"].median()) if len(hours) else 0.0
    return list(hours.loc[(hours["change"] > median) & (hours["change"] > 0), "ward"])


def default_outcome(store) -> str:
    """``registered`` when the store holds registered crime of its loaded wards (or of any area
    while no ward is loaded), else ``signals``."""
    rows = stored_outcomes(store)
    if rows["ward"].notna().any() or (len(rows) and store.wards().empty):
        return "registered"
    return "signals"


def store_panel(store, *, outcome: str | None = None, start: date, end: date, category: str | None = None,
                period: str | None = None) -> Panel:
    """The stored panel of ``outcome`` (default ``default_outcome``): registered crime of the
    loaded wards (of every area while none is loaded), or signals not found on patrol, per
    ward and ``period`` (default month)."""
    if outcome not in (None, *OUTCOMES):
        msg = f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}"
        raise InputError(msg)
    if (outcome or default_outcome(store)) == "registered":
        rows = stored_outcomes(store)
        matched = rows["ward"].notna()
        if matched.any():  # the loaded wards are the units; counts of other areas are not theirs
            rows = rows[matched]
        panel = panel_from_outcomes(rows, category=category)
        if period is not None and period != panel.period:
            msg = f"the registered counts are per {panel.period}, not per {period}"
            raise InputError(msg)
        return panel

    incidents = store.incidents(since=aware(start), until=aware(end))
    return panel_from_signals(incidents, list(store.wards()["name"]), start=start, end=end,
                              period=period or "month")


@dataclass(frozen=True)
class EffectDesign:
    """What an effect review compares, besides its window and split.

    Parameters
    ----------
    treated
        The treated wards; ``None``: the wards whose walked patrol hours per week rose
        (``intensified``).
    outcome
        ``registered`` or ``signals`` (``None``: ``default_outcome``).
    category
        Only this category of registered crime.
    period
        The panel's period (signals: default month).
    placebo
        Placebo runs; ``None``: the reviewing function's default (none for ``effect_for``, 200
        for ``effect_review``).
    dose
        Treat each ward's walked person-hours per week in each period as the treatment instead.
    """

    treated: Sequence[str] | None = None
    outcome: str | None = None
    category: str | None = None
    period: str | None = None
    placebo: int | None = None
    dose: bool = False


def _check_question(split: date | None, start: date | None, end: date | None, *, panel: Panel | None,
                    design: EffectDesign, today: date) -> None:
    if design.outcome not in (None, *OUTCOMES):
        msg = f"outcome must be one of {', '.join(OUTCOMES)}, got {design.outcome!r}"
        raise InputError(msg)
    if panel is not None and design.outcome == "signals":
        msg = "a panel file holds registered counts: leave out the signals outcome or the panel"
        raise InputError(msg)
    if split is None and not design.dose:
        msg = "give the split: the first month or day of the changed patrols"
        raise InputError(msg)
    if split is not None and split > today:
        msg = f"the split {split.isoformat()} lies in the future"
        raise InputError(msg)
    if start is not None and end is not None and end <= start:
        msg = f"the end {end.isoformat()} must lie after the start {start.isoformat()}"
        raise InputError(msg)


def _intensified_wards(store, window: Panel, split: date, end: date) -> tuple[list[str], pd.DataFrame]:
    """The wards of ``window`` whose walked person-hours per week rose after ``split`` (until
    ``end``), and every ward's hours before and after."""
    hours = patrol_hours(store, window.periods[0], split, end)
    treated = intensified(hours)
    if not treated:
        msg = ("no ward walked more person-hours per week after the split than before (in the patrol log): "
               "name the treated wards instead")
        raise InputError(msg)
    missing = [w for w in treated if w not in window.areas]
    if missing:
        msg = f"no counts for the intensified ward(s) {', '.join(missing)} in this period"
        raise InputError(msg)
    return treated, hours


def effect_for(
    store,
    *,
    split: date | None,
    start: date | None = None,
    end: date | None = None,
    panel: Panel | None = None,
    design: EffectDesign = EffectDesign(),
    today: date | None = None,
    params: EffectParams = EffectParams(),
) -> EffectEstimate | DoseEstimate:
    """The effect review of ``[start, end)`` around ``split`` on the given ``panel`` or the
    stored one, with ``design.treated`` wards or (``None``) the wards whose walked patrol hours
    per week rose (``intensified``); per-ward hours are added to the result's table then. With
    ``design.dose`` the treatment is each ward's walked person-hours per week in each period
    instead (``estimate_dose_effect``; no split).

    Defaults: the window runs from the panel's first period (signals: 6 months before the split,
    or before ``today`` for a dose) to its last (signals: ``today``); periods that have not ended
    by ``today`` are left out.
    """
    today = today or _time.today()
    _check_question(split, start, end, panel=panel, design=design, today=today)
    end = min(end or today, today)
    if panel is None:
        signal_start = start or period_start((split or end) - timedelta(days=183), design.period or "month")
        panel = store_panel(store, outcome=design.outcome, start=signal_start, end=end, category=design.category,
                            period=design.period)
    finished = [p for p in panel.periods if _next(p, panel.period) <= end]
    if not finished:
        msg = f"no {panel.period} of data has ended by {end.isoformat()}"
        raise InputError(msg)
    window = panel.window(start, _next(finished[-1], panel.period))
    if design.dose:
        return estimate_dose_effect(window, patrol_dose(store, window.periods, window.period), params=params)
    _split_index(window.periods, split)
    hours = None
    treated = design.treated
    if treated is None:
        treated, hours = _intensified_wards(store, window, split, min(end, _next(finished[-1], panel.period)))
    durations = {"week": (4, 13, 26), "month": (3, 6, 12, 24), "day": (28, 91), "year": (1, 2, 3)}[panel.period]
    result = estimate_effect(window, treated, split, params=params, placebo=design.placebo or 0,
                             durations=durations, history=panel.counts)
    if hours is not None:
        table = result.table.merge(hours, on="ward", how="left")
        result = replace(result, table=table)
    return result


@dataclass(frozen=True)
class EffectReview:
    """The effect review of a reporting period as the report and the dashboard show it: the
    estimate, or a note saying plainly why there is none."""

    start: date
    split: date
    end: date
    result: EffectEstimate | None
    note: str = ""

    def caveat(self, language: str = "nl") -> str:
        return self.result.caveat(language) if self.result else _caveat(language, signals=False)


def effect_review(
    store,
    start: date,
    end: date,
    *,
    split: date | None = None,
    design: EffectDesign = EffectDesign(),
    today: date | None = None,
    params: EffectParams = EffectParams(),
) -> EffectReview:
    """The effect review of the reporting period ``[start, end)``: registered crime when any is
    stored (or ``design.outcome`` says so), else signals not found on patrol (per week when the
    period is shorter than half a year, else per month), split in the middle (on a period start)
    unless ``split`` is given, the wards whose walked patrol hours rose as treated unless
    ``design.treated`` names them, with a placebo check of ``design.placebo`` runs (default 200).
    ``design.period`` and ``design.dose`` are not used: the period follows from the outcome.
    A design that cannot be estimated gives a note instead."""
    today = today or _time.today()
    end = min(end, today + timedelta(days=1))
    placebo = 200 if design.placebo is None else design.placebo
    registered = (design.outcome or default_outcome(store)) == "registered"
    period = None if registered else ("week" if (end - start).days < 183 else "month")
    starts = whole_periods(start, end, period or "month")
    middle = split or (starts[len(starts) // 2] if len(starts) > 1 else start)
    def review(runs: int) -> EffectEstimate:
        chosen = EffectDesign(treated=design.treated, outcome="registered" if registered else "signals",
                              category=design.category, period=period, placebo=runs)
        return effect_for(store, split=middle, start=start, end=end, design=chosen, today=today, params=params)

    try:
        try:
            result = review(placebo)
        except PlaceboError:
            result = review(0)
    except InputError as error:
        return EffectReview(start=start, split=middle, end=end, result=None, note=str(error))
    return EffectReview(start=start, split=result.split, end=end, result=result)
