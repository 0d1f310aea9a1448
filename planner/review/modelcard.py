"""The model card (in the style of the Dutch Algoritmeregister) and a DPIA template, both filled
with this installation's own settings and data.

``model_card(store)`` is Markdown: purpose, users, data and fields, method, the latest backtest on
the store's own signals and a summary of the periods before it (``recent_backtests``), the same
periods per km of street for the hot streets (``recent_street_backtests``), limitations, privacy
measures and contact.
``model_card_html`` renders it as one self-contained HTML page for the dashboard. ``dpia(store)``
is a template text for the municipality's data protection impact assessment (DPIA,
gegevensbeschermingseffectbeoordeling) with the actual retention period, k, roles and storage.
"""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url

from .. import _time, settings
from .._errors import InputError
from .._time import after_local_days, parse_age, utc_timestamp
from ..hotspots import HotspotParams, TimeWeighting, reference_time
from ..hotspots.calibration import Calibration, Choice, reason_text
from ..hotspots.evaluate import (
    FIXED_BANDWIDTHS_M,
    METHODS,
    BacktestParams,
    BacktestResult,
    StreetBacktest,
    backtest,
    street_backtest,
)
from ..hotspots.tuning import (
    fit_key,
    graphs_key,
    installation_calibration,
    street_calibration_from_json,
    ward_graph_paths,
)
from ..i18n import N_, duration_words, format_number, translation
from ..signals.incidents import CATEGORIES, SOURCES
from ..storage.store import Store
from ..users import ROLES

log = logging.getLogger(__name__)

MIN_TRAIN = 50
"""Fewest training signals for the model card to report a backtest at all."""
MIN_TEST = 10
"""Fewest test signals (in the week after the split) for a backtest worth reporting."""


def backtest_split(incidents: pd.DataFrame, *, now: datetime | pd.Timestamp | None = None,
                   horizon_days: float = BacktestParams().horizon_days) -> pd.Timestamp:
    """Where the model card's backtest splits: ``horizon_days`` before the minute after ``now``
    (default the latest signal), so the last full horizon is the test period, that signal in it."""
    end = reference_time(incidents) if now is None else utc_timestamp(now)
    # A test period ends before its end, so one ending at the latest signal would leave it out.
    return after_local_days(end + pd.Timedelta(minutes=1), -horizon_days)


RECENT_PERIODS = 4
"""Test periods (of the backtest's horizon) the card's summary covers: one week alone says little."""


NO_SIGNALS = N_("no signals are stored yet")
NO_BACKTEST = N_("too little data for a backtest ({detail})")
THIN_BACKTEST = N_("too little data for a reliable backtest: {n_train} training signals (at least {min_train}) "
                   "and {n_test} test signals (at least {min_test})")
_Reason = tuple[str, dict[str, object]]
"""A reason as its message and values, put into words in the card's language when shown."""


def _backtest_at(incidents: pd.DataFrame, split: pd.Timestamp, wards) -> tuple[BacktestResult | None, _Reason]:
    """The backtest at ``split``, or ``None`` and the reason when there is too little data."""
    try:
        result = backtest(incidents, split=split, wards=wards if len(wards) else None)
    except InputError as error:
        return None, (NO_BACKTEST, {"detail": str(error)})
    if result.n_train < MIN_TRAIN or result.n_test < MIN_TEST:
        return None, (THIN_BACKTEST, {"n_train": result.n_train, "min_train": MIN_TRAIN, "n_test": result.n_test,
                                      "min_test": MIN_TEST})
    return result, ("", {})


def recent_backtests(store: Store, *, now: datetime | pd.Timestamp | None = None,
                     periods: int = RECENT_PERIODS, language: str = "nl") -> tuple[list[BacktestResult], str]:
    """Backtests on the store's own signals at ``backtest_split`` and the ``periods − 1`` horizons
    before it, latest first, each trained on only the signals before its own split, with the
    wards as study area. A period with too little data is passed over; with none left, the
    latest one's reason (in ``language``)."""
    incidents = store.incidents()
    if len(incidents) == 0:
        return [], translation(language).gettext(NO_SIGNALS)
    if now is not None:
        incidents = incidents[pd.to_datetime(incidents["occurred_from"], utc=True) <= utc_timestamp(now)]
    split = backtest_split(incidents, now=now)
    wards = store.wards()

    def backtests() -> tuple[tuple[BacktestResult, ...], _Reason]:
        tried = [_backtest_at(incidents, after_local_days(split, -k * BacktestParams().horizon_days), wards)
                 for k in range(periods)]
        results = tuple(result for result, _ in tried if result is not None)
        return results, ("", {}) if results else tried[0][1]

    results, (message, values) = _remembered((_content_digest(incidents, wards), split, periods), backtests)
    return list(results), translation(language).gettext(message).format(**values) if message else ""


RECENT_KEPT = 8
"""Sets of recent backtests kept in memory (cells and streets): the card in each language, as
Markdown and as HTML, is made from the same backtests, each of which re-calibrates (seconds on a
ward, minutes on a city).
A backtest holds figures per method and scores per cell, no signal's place, time or text."""
# Keyed by a digest, not by the frames (as functools.lru_cache would need): the cache must not keep
# the signals themselves, descriptions included, in memory past their retention.
_RECENT: OrderedDict[tuple, tuple] = OrderedDict()
"""The recent cell backtests and their reason, and the recent street backtests, by what they were made of."""
_RECENT_LOCK = threading.Lock()  # the dashboard renders its sessions in threads


def _remembered(key: tuple, make: Callable[[], tuple]) -> tuple:
    """``make()``, or what it gave for ``key`` before (the latest ``RECENT_KEPT`` keys)."""
    with _RECENT_LOCK:
        kept = _RECENT.get(key)
        if kept is not None:
            _RECENT.move_to_end(key)
            return kept
    kept = make()
    with _RECENT_LOCK:
        _RECENT[key] = kept
        while len(_RECENT) > RECENT_KEPT:
            _RECENT.popitem(last=False)
    return kept


def _content_digest(incidents: pd.DataFrame, wards: pd.DataFrame) -> str:
    """Changes with any value of any signal or ward: what the backtests are computed from."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(incidents, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(wards.to_wkb(), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def recent_street_backtests(store: Store, results: list[BacktestResult], *,
                            data_dir: str | Path | None = None) -> list[StreetBacktest]:
    """The hot streets' backtests per km of street at the splits of ``results`` (the card's
    ``recent_backtests``), over every ward with a graph in ``data_dir`` (default
    ``settings.data_dir()``), each weighted by that split's cell calibration as the product
    weighs its hot streets. A period with fewer than ``MIN_TEST`` test signals on a street is
    passed over; none without ward graphs."""
    from ..streets import ward_graph

    wards = store.wards()
    paths = ward_graph_paths(wards, data_dir=data_dir)
    if not results or not paths:
        return []
    incidents = store.incidents()

    def backtests() -> tuple[StreetBacktest, ...]:
        areas = [(ward_graph(None, name, data_dir=data_dir), incidents[incidents["ward"] == name]) for name in paths]
        tried = [street_backtest(areas, split=result.split, weights=HotspotParams() if result.calibration is None
                                 else result.calibration.tune(HotspotParams())) for result in results]
        return tuple(result for result in tried if result is not None and result.n_test >= MIN_TEST)

    key = ("streets", _content_digest(incidents, wards), graphs_key(paths), tuple(r.split for r in results))
    return list(_remembered(key, backtests))


def backtest_table(result: BacktestResult, *, language: str = "nl") -> str:
    """The backtest as a Markdown table: one row per method, hit rate and PAI per coverage."""
    _ = translation(language).gettext
    keys = list(result.methods["planner"])
    chosen = format_number(result.bandwidths_m["kde_cv"], 0, language=language)
    names = {
        "planner": "WAS Planner", "naive_all": _("naive: counts over the whole training period"),
        "naive_4w": _("naive: counts of the last 4 weeks"),
        "kde_cv": _("KDE {bandwidth} m, chosen by cross-validation").format(bandwidth=chosen),
        **{f"kde_{h:g}m": f"KDE {format_number(h, 0, language=language)} m" for h in FIXED_BANDWIDTHS_M},
        "kde_scott": _("KDE, Scott's rule"),
    }
    suffix = _(" (baseline)")
    head = "| " + _("method") + " | " + " | ".join(keys) + " |"
    lines = [head, "|" + "---|" * (len(keys) + 1)]
    for method in METHODS:
        values = result.methods[method]
        label = names[method] + ("" if method == "planner" else suffix)
        lines.append(f"| {label} | " + " | ".join(format_number(values[k], 3, language=language) for k in keys) + " |")
    return "\n".join(lines)


def _fields(language: str) -> list[tuple[str, str]]:
    """The fields of a signal and what each holds."""
    _ = translation(language).gettext
    # The Dutch card lists the Dutch input names, the English card the codes (as both always did).
    categories = CATEGORIES.values() if language == "nl" else CATEGORIES
    sources = SOURCES.values() if language == "nl" else SOURCES
    return [
        ("occurred_from / occurred_to", _("when it happened (a moment or a window, e.g. 22:00–07:00)")),
        ("lat / lon", _("where (WGS84); moved to the ward's centre after the retention period")),
        ("ward", _("ward (CBS ward code)")),
        ("category", _("kind of signal: {kinds}").format(kinds=", ".join(v.replace("_", " ") for v in categories))),
        ("source", _("origin: {origins} (no name)").format(origins=", ".join(v.replace("_", " ") for v in sources))),
        ("on_patrol", _("found during a patrol (yes/no)")),
        ("status", _("open, in progress, resolved")),
        ("description", _("short free text; no names or personal data; officers and admins only; erased after the "
                          "retention period; the algorithm does not use it")),
    ]


def model_card(store: Store, *, now: datetime | pd.Timestamp | None = None, language: str = "nl",
               data_dir: str | Path | None = None) -> str:
    """The model card as Markdown (Dutch, or English with ``language="en"``), with the recent
    backtests on the store's own signals (``recent_backtests``), per km of street too on the
    ward graphs in ``data_dir`` (default ``settings.data_dir()``: ``recent_street_backtests``)."""
    _ = translation(language).gettext
    g = functools.partial(format_number, language=language)
    calibration = installation_calibration(store)
    p = HotspotParams() if calibration is None else calibration.tune(HotspotParams())
    recent, reason = recent_backtests(store, now=now, language=language)
    result = recent[0] if recent else None
    incidents = store.incidents()
    n_wards = len(store.wards())
    k = settings.PUBLIC_MIN_SIGNALS
    ngettext = translation(language).ngettext
    holds = _("This installation holds {signals} in {wards}").format(
        signals=ngettext("{n} signal", "{n} signals", len(incidents)).format(n=len(incidents)),
        wards=ngettext("{n} ward", "{n} wards", n_wards).format(n=n_wards))
    out = [
        "# WAS Planner: " + _("algorithm description (model card)"),
        "",
        _("*In the style of the Dutch government's Algorithm Register. Generated on {day}.*").format(
            day=_time.today().isoformat()),
        "",
        "## " + _("Name and purpose"),
        "",
        _("WAS Planner helps *Wijk en Agent Samen* teams (residents and community officers) see where and when "
          "unsafe situations and nuisance pile up in their ward (hotspots), and plans a walking patrol past them. "
          "The algorithm supports; the team decides where it walks. It makes no statements about persons."),
        "",
        "## " + _("Users"),
        "",
        _("- residents (WAS members): only areas with at least k signals, never points, descriptions or sources\n"
          "- community officers: also points, sources and descriptions\n"
          "- municipality: coverage and counts per ward\n"
          "- admin: everything, including accounts and the export log"),
        "",
        "## " + _("Data"),
        "",
        holds + (f" ({_period(incidents)})." if len(incidents) else "."),
        _("Sources: reports by residents and WAS members, the community officer, the municipality and police "
          "figures; ward boundaries (CBS); streets (© OpenStreetMap contributors). Fields of a signal (none "
          "describes a person):"),
        "",
        *[f"- `{name}`: {text}" for name, text in _fields(language)],
        "",
        _("An optional contact field of the reporter is visible to the admin only, erased after the retention "
          "period and never used by the algorithm."),
        "",
        "## " + _("Method"),
        "",
        *_method(p, language),
        "",
        "## " + _("Calibration on this installation's data"),
        "",
        *calibration_lines(calibration, language=language),
        *street_lines(store, language=language),
        "",
        "## " + _("Performance on this installation's data (backtest)"),
        "",
    ]
    if result is None:
        out.append(_("No figures yet: {reason}.").format(reason=reason))
    else:
        out += [
            _("Trained on the {n_train} signals before {split}, tested on the {n_test} signals of the {days} days "
              "after, in {cells} cells of 100 × 100 m. *Hit rate* = share of later signals inside the flagged "
              "area; *PAI* = hit rate ÷ area share, at 1, 5 and 10 {percent} of the area. Baselines on the same "
              "cells: naive counts per cell (whole training period and last 4 weeks; equal counts ordered by a "
              "50 m KDE, then by cell number) and kernel density (KDE) of all training signals, with the "
              "bandwidth chosen by cross-validation on the training period (the last weeks forecast from the "
              "weeks before), with fixed bandwidths and with Scott's rule.").format(
                n_train=result.n_train, split=_time.local_minute(result.split), n_test=result.n_test,
                days=f"{BacktestParams().horizon_days:g}", cells=result.n_cells, percent=PERCENT),
            "",
            backtest_table(result, language=language),
            "",
            *gain_lines(result, language=language),
            "",
            *recent_lines(recent, language=language),
            *street_backtest_lines(recent_street_backtests(store, recent, data_dir=data_dir), language=language),
            _("One week is a small sample: the figures vary from week to week. If WAS Planner does no better than "
              "the naive counts or a KDE, it adds little on this data."),
        ]
    out += [
        "",
        "## " + _("Known limitations"),
        "",
        _("- **Small counts**: a ward often has only tens of signals; one report more or less moves the ranking. "
          "A cluster of two signals is no hotspot (at least {min_signals}, on {min_days} different days, and "
          "tested against chance).").format(min_signals=p.min_signals, min_days=p.min_days),
        _("- **Reporting bias**: the algorithm sees only what is reported or found. Places where more people "
          "report, or that are patrolled more, look less safe. Signals found on patrol therefore count "
          "{patrol_weight} (feedback loop), and the backtest can run with and without them "
          "(`was-planner evaluate --patrol-signals both`).").format(patrol_weight=g(p.patrol_weight)),
        _("- **No causal claim**: a hotspot says where signals gather, not why, nor that patrols reduce them. "
          "The programme's effects were never evaluated."),
        _("- **Time**: reports known only as a window are spread over it; peak hours are an estimate."),
        "",
        "## Privacy",
        "",
        _("- **k-threshold**: residents see only areas ({cell} m grid cells) with at least {k} signals, and "
          "explanations without sources, without counts under {k} and with dates by month.").format(
            cell=f"{p.public_cell_m:g}", k=k),
        _("- **Retention**: after {period} signals lose description, reporter and external id and their location "
          "moves to the ward's centre (`was-planner retention apply`).").format(period=retention_words(language)),
        _("- **Roles**: {roles}; what each role may see is enforced in the core.").format(roles=", ".join(ROLES)),
        _("- **Audit log**: every officer's view of points, every export or download of points and every account "
          "change is logged (who, from where, when, format, how many), in a hash chain that "
          "`was-planner audit verify` checks."),
        _("- No photos, no names, no profiling of persons."),
        "",
        "## Contact",
        "",
        settings.contact() or _("the municipality (set WAS_CONTACT to an e-mail address or department)"),
        "",
    ]
    return "\n".join(out)


def retention_words(language: str) -> str:
    """The retention period (``WAS_RETENTION``) in words, ``2 jaar`` / ``2 years``; as it is set
    when it is no period (``retention apply`` refuses it)."""
    period = settings.retention_period()
    try:
        (unit, amount), = parse_age(period).kwds.items()
    except InputError:
        return period
    return duration_words(amount, unit, language=language)


PERCENT = "%"
"""A per cent sign that a message takes as a value: ``10 % of`` in a message would read as a printf
conversion (``% o``) to Babel's python-format check."""


def calibration_lines(calibration: Calibration | None, *, language: str = "nl") -> list[str]:
    """What the calibration chose for this installation, or that the literature defaults are used and why."""
    _ = translation(language).gettext
    if calibration is None:
        return [_("No signals yet: the literature defaults apply.")]
    if calibration.fallback:
        return [_("**Too little history to calibrate** ({reason}): the defaults apply (half long-term counts per "
                  "cell, half a kernel density of 100 m with a half-life of 30 days, near repeat on).").format(
                      reason=reason_text(calibration.reason, language=language))]
    c = calibration.chosen
    g = functools.partial(format_number, language=language)
    two = functools.partial(format_number, digits=2, language=language)
    n = calibration.n_candidates, calibration.n_folds, calibration.fold_test_signals
    life = _("none (all history alike)") if math.isinf(c.half_life_days) else _("{days} days").format(
        days=g(c.half_life_days))
    kernel = _("count per 100 m cell") if c.bandwidth_m == 0 else f"{g(c.bandwidth_m)} m"
    return [
        _("The map weighs signals as a backtest on this installation's own signals found best: each of the last "
          "periods was forecast from only the signals before it, and the setting that caught the most later "
          "signals in 1, 5 and 10 {percent} of the area wins. Chosen from {candidates} candidates on {folds} periods "
          "({signals} test signals):").format(candidates=n[0], folds=n[1], signals=n[2], percent=PERCENT),
        "",
        _("- recency half-life: {life}").format(life=life),
        _("- share of long-term counts: {share} (each signal keeps {floor} of its weight, however old)").format(
            share=two(1 - c.blend), floor=two(calibration.recency_floor)),
        _("- spatial bandwidth of the forecast map: {kernel}").format(kernel=kernel),
        _("- near repeat: {state}").format(state=_("on") if c.near_repeat else _("off")),
        "- " + _resolved_text(calibration, language),
        _time_line(c.time, language),
    ]


def _resolved_text(choice: Choice, language: str) -> str:
    """Whether resolved signals count, and whether the backtest found that or it is the rule."""
    _ = translation(language).gettext
    if choice.chosen.resolved_weight:
        return _("resolved signals count")
    if choice.resolved_measured:
        return _("resolved signals do not count")
    return _("resolved signals do not count (the rule, not measured: no signal was known to be resolved "
             "before a test period began)")


def _time_line(weighting: TimeWeighting | None, language: str) -> str:
    """How a round's time window weighs the signals, as the calibration chose it for the evenings."""
    _ = translation(language).gettext
    g = functools.partial(format_number, language=language)
    if weighting is None:
        how = _("the window's own hours and weekday, and an hour or so around them")
    elif weighting.other_hours == 1:
        how = _("every time of day alike")
    else:
        how = _("the window's hours and {hours} h around them; the same hours on other weekdays count {days}, "
                "other times of day {other}").format(hours=g(weighting.smoothing_hours), days=g(weighting.other_days),
                                                      other=g(weighting.other_hours))
    return _("- time of day of a round's window: {how}").format(how=how)


def street_lines(store: Store, *, language: str = "nl") -> list[str]:
    """The kept hot-streets choice (``tuning.installation_street_calibration``), when there is one."""
    kept = store.calibration()
    streets = kept[1].get("streets") if kept is not None and kept[0] == fit_key(store) else None
    if streets is None:
        return []
    _ = translation(language).gettext
    calibration = street_calibration_from_json(streets)
    label = _("hot streets (per km of street)")
    if calibration.fallback:
        defaults = _("- {label}: the defaults (half counts per km, half the signals within a 150 m walk): {reason}")
        return [defaults.format(label=label, reason=reason_text(calibration.reason, language=language))]
    c = calibration.chosen
    g = functools.partial(format_number, language=language)
    two = functools.partial(format_number, digits=2, language=language)
    if c.counts_only:
        how = _("the street's own signals per km")
    else:
        reach = _("within a {m} m walk") if c.kernel == "network" else _("within about {m} m in a straight line")
        if c.half_life_days is None:
            life = _("recency as on the map")
        elif math.isinf(c.half_life_days):
            life = _("all history weighs alike")
        else:
            life = _("recency half-life {days} days").format(days=g(c.half_life_days))
        how = _("{counts} of the weight on the street's own signals per km, {kernel} on the signals nearby "
                "{reach} ({life})").format(counts=two(1 - c.blend), kernel=two(c.blend),
                                           reach=reach.format(m=g(c.bandwidth_m)), life=life)
    resolved = _resolved_text(calibration, language)
    # Each ward's graph has its own folds, and their count is summed over the wards.
    chosen = _("chosen from {candidates} candidates on {folds} periods, each ward's counted apart "
               "({signals} test signals)").format(
        candidates=calibration.n_candidates, folds=calibration.n_folds, signals=calibration.fold_test_signals)
    return [f"- {label}: {how}; {resolved}; {chosen}"]


def recent_lines(results: list[BacktestResult], *, language: str = "nl", periods: int = RECENT_PERIODS) -> list[str]:
    """Mean PAI of the planner and of the best baseline over the recent test periods (``results``
    of the last ``periods``), and in how many the planner beat every baseline (nothing for a single
    period: the table says it)."""
    if len(results) < 2:
        return []
    _ = translation(language).gettext
    n = len(results)
    which = (_("The last {periods} periods of {days} days") if n == periods else
             _("{n} of the last {periods} periods of {days} days (the others held too few signals)"))
    return [
        which.format(n=n, periods=periods, days=f"{BacktestParams().horizon_days:g}")
        + _(", each forecast from only the signals before it ({signals} test signals together; the first is the "
            "table above), mean PAI:").format(signals=sum(r.n_test for r in results)),
        "",
        *_mean_table(results, language),
    ]


def street_backtest_lines(results: list[StreetBacktest], *, language: str = "nl") -> list[str]:
    """The hot streets' mean PAI per km of street over the card's recent periods
    (``recent_street_backtests``), against the best baseline per km; nothing without any."""
    if not results:
        return []
    _ = translation(language).gettext
    return [
        _("**Hot streets**, per km of street, in {n} of these periods ({signals} test signals within {snap} m of "
          "a street together): each ward's streets ranked on their own, the flagged area is 1, 5 and 10 {percent} "
          "of the street length; baselines per km of street: the naive counts on each street and the KDEs above "
          "at the streets' midpoints, the cross-validated one chosen on the streets. Mean PAI:").format(
            n=len(results), signals=sum(r.n_test for r in results), snap=f"{BacktestParams().streets.snap_m:g}",
            percent=PERCENT),
        "",
        *_mean_table(results, language),
    ]


def _mean_table(results: list[BacktestResult] | list[StreetBacktest], language: str) -> list[str]:
    """Mean PAI of the planner and of the best baseline per coverage over ``results``, and in how
    many the planner beat every baseline, as a Markdown table."""
    _ = translation(language).gettext
    coverages = [k.removeprefix("pai@") for k in results[0].methods["planner"] if k.startswith("pai@")]
    n = len(results)

    def mean(method: str, c: str) -> float:
        return sum(r.methods[method][f"pai@{c}"] for r in results) / n

    best = {c: max(METHODS[1:], key=lambda m, c=c: mean(m, c)) for c in coverages}
    ahead = {c: sum(r.methods["planner"][f"pai@{c}"] > max(r.methods[m][f"pai@{c}"] for m in METHODS[1:])
                    for r in results) for c in coverages}
    two = functools.partial(format_number, digits=2, language=language)
    return [
        "| | " + " | ".join(f"PAI@{c}" for c in coverages) + " |",
        "|" + "---|" * (len(coverages) + 1),
        "| WAS Planner | " + " | ".join(two(mean("planner", c)) for c in coverages) + " |",
        "| " + _("best baseline") + " | " + " | ".join(f"{two(mean(best[c], c))} ({best[c]})" for c in coverages)
        + " |",
        "| " + _("periods WAS Planner beat every baseline") + " | "
        + " | ".join(f"{ahead[c]}/{n}" for c in coverages) + " |",
        "",
    ]


def gain_lines(result: BacktestResult, *, language: str = "nl") -> list[str]:
    """PAI of the planner ÷ PAI of each baseline per coverage, and where it does not win."""
    _ = translation(language).gettext
    coverages = [k.removeprefix("pai@") for k in result.methods["planner"] if k.startswith("pai@")]
    head = "| " + _("gain over") + " | " + " | ".join(f"PAI@{c}" for c in coverages) + " |"
    lines = [_("Gain of WAS Planner = its PAI ÷ the baseline's PAI (above 1: better):"), "", head,
             "|" + "---|" * (len(coverages) + 1)]
    losses, measured = [], False
    for method in METHODS[1:]:
        said = []
        for c in coverages:
            ours, theirs = result.methods["planner"][f"pai@{c}"], result.methods[method][f"pai@{c}"]
            # Nothing caught by either is no gain: 0 ÷ 0 is shown as a dash, not as infinite.
            said.append(format_number(ours / theirs, 2, language=language) if theirs > 0 else "∞" if ours > 0 else "–")
            measured |= theirs > 0 or ours > 0
            if ours < theirs:
                losses.append(f"{method} @{c}")
        lines.append(f"| {method} | " + " | ".join(said) + " |")
    lines.append("")
    if losses:
        lines.append(_("Loses to: {methods}.").format(methods=", ".join(losses)))
    else:
        lines.append(_("Loses to no baseline.") if measured else
                     _("No method caught a test signal in its flagged area: there is no gain to measure."))
    return lines


def _method(p: HotspotParams, language: str) -> list[str]:
    _ = translation(language).gettext
    g = functools.partial(format_number, language=language)
    floor = format_number(round(p.recency_floor, 2), language="nl") if language == "nl" else f"{p.recency_floor:.2f}"
    return [
        _("1. **Weight per signal** = recency (halves every {half_life} days").format(half_life=g(p.half_life_days))
        + (_("; a share of {floor} never fades").format(floor=floor) if p.recency_floor > 0 else "")
        + _(") × category weight (set by the ward team, default 1) × relevance for the patrol's time window "
            "(aoristic: a report 'between 22 and 7 h' is spread over that window) × origin (per source, default 1; "
            "found on patrol × {patrol_weight}). ").format(patrol_weight=g(p.patrol_weight))
        + (_("Resolved signals do not count.") if p.resolved_weight == 0 else
           _("Resolved signals count × {weight} (the calibration found that a handled problem does not forecast a "
             "safer place).").format(weight=g(p.resolved_weight))),
        _("2. **Clustering** per ward with DBSCAN ({eps} m, at least {min_signals} signals and {density} × the "
          "ward's average density).").format(eps=g(p.eps_m), min_signals=p.min_signals,
                                             density=g(p.density_factor)),
        _("3. **Score** of a hotspot = sum of the weights")
        + (_(" + near repeat (after a burglary or car crime the risk within {metres} m stays raised for {days} "
             "days)").format(metres=g(p.near_repeat_m), days=g(p.near_repeat_days)) if p.near_repeat_weight > 0
           else _(" (near repeat is off: the calibration found it does not improve the forecast here)"))
        + _(". Every hotspot carries an explanation and its score split into parts (count, recency, category, "
            "time window, origin, near repeat) that add up to the score exactly (Shapley split)."),
        _("4. **Test against chance**: Monte Carlo scan with {permutations} random spreads (α = {alpha}).").format(
            permutations=p.permutations, alpha=g(p.alpha)),
        _("5. **Route**: an orienteering problem (most score within the time, 10-minute stops) on the OpenStreetMap "
          "footpath network; every stop says why it is on the route and the best hotspot left out says why."),
    ]



def _period(incidents: pd.DataFrame) -> str:
    start = pd.to_datetime(incidents["occurred_from"], utc=True).min().tz_convert(settings.timezone())
    end = reference_time(incidents).tz_convert(settings.timezone())
    return f"{start:%Y-%m} – {end:%Y-%m}"


def markdown_to_html(markdown: str, *, title: str) -> str:
    """A small Markdown subset (headings, lists, tables, bold, italics, code) as one HTML page."""
    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
        return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)

    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i]) <= set("|-: "):
                    rows.append([cell.strip() for cell in lines[i].strip("|").split("|")])
                i += 1
            head, *rest = rows
            body.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rest)
                        + "</tbody></table>")
            continue
        if re.match(r"^(- |\d+\. )", line):
            ordered = line[0].isdigit()
            items = []
            while i < len(lines) and re.match(r"^(- |\d+\. )", lines[i]):
                items.append(re.sub(r"^(- |\d+\. )", "", lines[i]))
                i += 1
            tag = "ol" if ordered else "ul"
            body.append(f"<{tag}>" + "".join(f"<li>{inline(item)}</li>" for item in items) + f"</{tag}>")
            continue
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        if heading:
            level = len(heading.group(1))
            body.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
        i += 1
    style = ("body{font-family:system-ui,Arial,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
             "line-height:1.45;color:#111}table{border-collapse:collapse}th,td{border:1px solid #999;"
             "padding:.2rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}"
             "code{background:#eee;padding:0 .2rem}")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def model_card_html(store: Store, *, now: datetime | pd.Timestamp | None = None, language: str = "nl",
                    data_dir: str | Path | None = None) -> str:
    """``model_card`` as one self-contained HTML page (for the dashboard's footer link)."""
    card = model_card(store, now=now, language=language, data_dir=data_dir)
    page = markdown_to_html(card, title="WAS Planner: " + translation(language).gettext("model card"))
    return page.replace("<html>", f'<html lang="{language}">', 1)


def storage_description(url: str) -> str:
    """Where the data lives, never with a password: the SQLite file, or the PostgreSQL host and database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite-bestand {parsed.database or '(in het geheugen)'} op de server van deze installatie"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL/PostGIS-database {parsed.database or '?'} op {host}{port} (gebruiker {parsed.username or '?'})"


def dpia(store: Store) -> str:
    """A DPIA template (Dutch Markdown) filled with this installation's retention period, k,
    roles and number of accounts per role, and where the data is stored. Parts that only the
    municipality can answer are marked ``[in te vullen]``."""
    from ..users import list_users

    users = list_users(store)
    per_role = {role: sum(1 for u in users if u["role"] == role and not u["disabled"]) for role in ROLES}
    disabled = sum(1 for u in users if u["disabled"])
    incidents = store.incidents()
    roles = "\n".join(f"- {role}: {per_role[role]} actieve account(s)" for role in ROLES)
    accounts = (roles + (f"\n- uitgeschakeld: {disabled}" if disabled else "")) if users else \
        "- nog geen accounts: iedereen met toegang tot de server gebruikt de CLI en het dashboard zonder login " \
        "[maak accounts aan met `was-planner users add`]"
    k = settings.PUBLIC_MIN_SIGNALS
    return "\n".join([
        "# DPIA WAS Planner (gegevensbeschermingseffectbeoordeling) — sjabloon",
        "",
        "*Ingevuld met de instellingen van deze installatie op "
        + _time.today().isoformat() + ". Controleer en vul aan waar "
        "`[in te vullen]` staat.*",
        "",
        "## 1. Verwerking",
        "",
        "- Doel: wijkteams van Wijk en Agent Samen helpen zien waar en wanneer onveilige situaties en overlast "
        "zich opstapelen en een surveillanceroute plannen. Geen besluiten over personen.",
        "- Verwerkingsverantwoordelijke: [in te vullen: gemeente / afdeling]",
        f"- Contact: {settings.contact() or '[in te vullen: e-mailadres of afdeling, instelling WAS_CONTACT]'}",
        "- Grondslag: [in te vullen: bijv. taak van algemeen belang (AVG art. 6 lid 1 sub e); politiegegevens "
        "vallen onder de Wet politiegegevens]",
        "",
        "## 2. Gegevens",
        "",
        f"- Signalen nu opgeslagen: {len(incidents)}",
        "- Velden: tijdstip of tijdvak, locatie, wijk, categorie, herkomst (soort bron, geen naam), gevonden "
        "tijdens surveillance, status, korte beschrijving (geen persoonsgegevens toegestaan), optioneel een "
        "contactveld van de melder (alleen beheerder).",
        "- Bijzondere of strafrechtelijke persoonsgegevens: niet beoogd; vrije tekst kan ze per ongeluk bevatten "
        "[in te vullen: hoe wordt dit gecontroleerd]",
        "",
        "## 3. Opslag en toegang",
        "",
        f"- Opslag: {storage_description(store.url)}",
        "- Rollen en accounts:",
        accounts,
        f"- Bewoners zien alleen gebieden met minstens k = {k} signalen, nooit punten, bronnen of beschrijvingen.",
        "- Export van ruwe signalen alleen door wijkagent of beheerder, altijd in het exportlogboek.",
        "",
        "## 4. Bewaartermijn",
        "",
        f"- Bewaartermijn: {retention_words('nl')} (instelling WAS_RETENTION). Daarna worden beschrijving, "
        "melder en extern nummer gewist en gaat de locatie naar het midden van de wijk (`was-planner retention "
        "apply`; [in te vullen: wie draait dit en hoe vaak]).",
        "",
        "## 5. Risico's en maatregelen",
        "",
        "| risico | maatregel |",
        "|---|---|",
        f"| herleiding van een melder of melding uit de kaart | k-drempel {k}, rastergebieden, data per maand, "
        "geen bronnen in de uitleg voor bewoners |",
        "| terugkoppellus: surveillance maakt plekken 'heter' | signalen gevonden tijdens surveillance wegen "
        f"{format_number(HotspotParams().patrol_weight, language='nl')}; backtest met en zonder |",
        "| stigmatisering van een buurt | uitleg per hotspot, modelkaart openbaar, geen oorzakelijke claims |",
        "| onbevoegde toegang | rollen, argon2-wachtwoorden, exportlogboek [in te vullen: serverbeveiliging] |",
        "| te lang bewaren | automatische anonimisering na de bewaartermijn |",
        "",
        "## 6. Conclusie",
        "",
        "[in te vullen door de functionaris gegevensbescherming]",
        "",
    ])
