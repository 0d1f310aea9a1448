"""Why a place is a hotspot: the score split into its parts, and a plain-language explanation.

Score decomposition (``score_parts``). A hotspot's score is

    score = Σ_i  recency_i × category_i × time_of_day_i × source_i   +   near_repeat

over its signals ``i`` (``hotspots.signal_weights``; resolved signals are not in a hotspot). Each
signal starts at 1 (``signals``: the plain count) and its four factors move it away from 1. The
move of one signal, ``Π x_j − 1``, is split over the factors by the Shapley value of the product
game with every factor's baseline 1: factor ``j`` gets the average, over every order in which the
factors could be switched on, of the change it makes when it is switched on,

    φ_j = Σ_{S ⊆ others}  |S|! (k − |S| − 1)! / k!  ·  (x_j − 1) · Π_{i ∈ S} x_i .

The φ's of a signal add up to ``Π x_j − 1`` exactly (the Shapley efficiency property), so
``signals + recency + category + time_of_day + source + near_repeat`` is the score, whatever the
order of the factors; a factor of 1 gets 0. Significance is not a part: it decides whether a
hotspot is shown (and to whom), never how high it scores.

For residents (``public``) the ``source`` part is folded into ``signals``, so the rendering does
not tell where signals came from; the parts still add up to the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .. import settings
from ..i18n import N_, and_list, category_label, format_number, month_name, source_label, translation, weekday_name

FACTORS: tuple[str, ...] = ("recency", "category", "time_of_day", "source")
"""Multiplicative signal factors, in the order of ``score_parts`` (after ``signals``)."""

PART_KEYS: tuple[str, ...] = ("signals", *FACTORS, "near_repeat")
"""Keys of ``score_parts`` for officers; residents get the same without ``source``."""

_DAY_INDEX = {code: i for i, code in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
_PART_LABELS = {"recency": N_("age of the signals"), "category": N_("the ward's category weights"),
                "time_of_day": N_("the patrol's time window"), "source": N_("origin (patrol/source)"),
                "near_repeat": N_("near repeat (recent burglaries or car crimes nearby)")}
_TREND = {"rising": N_("rising"), "falling": N_("falling"), "stable": N_("stable")}


# --------------------------------------------------------------------------------------------
# Score parts
# --------------------------------------------------------------------------------------------
def shapley_products(factors: np.ndarray) -> np.ndarray:
    """Per row of ``factors`` (signals × k), the Shapley split of ``Π x − 1`` over the k columns.

    Exact: each row of the result sums to the row's product minus 1 (up to rounding).
    """
    factors = np.asarray(factors, dtype=float)
    n, k = factors.shape
    out = np.zeros((n, k))
    for j in range(k):
        others = [i for i in range(k) if i != j]
        gain = factors[:, j] - 1.0
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                product = np.prod(factors[:, list(subset)], axis=1) if subset else np.ones(n)
                out[:, j] += weight * gain * product
    return out


def score_parts(factors: pd.DataFrame | np.ndarray, near_repeat: float = 0.0, *,
                public: bool = False) -> dict[str, float]:
    """A hotspot's score split into ``PART_KEYS`` that add up to it (module docstring).

    ``factors`` holds one row per signal of the hotspot with the columns ``recency``,
    ``category``, ``relevance`` (or ``time_of_day``) and ``source``, as ``signal_weights`` gives.
    """
    if isinstance(factors, pd.DataFrame):
        frame = factors.rename(columns={"relevance": "time_of_day"})
        matrix = frame[list(FACTORS)].to_numpy(dtype=float)
    else:
        matrix = np.asarray(factors, dtype=float).reshape(-1, len(FACTORS))
    phi = shapley_products(matrix).sum(axis=0) if len(matrix) else np.zeros(len(FACTORS))
    parts = {"signals": float(len(matrix))}
    parts.update({name: float(value) for name, value in zip(FACTORS, phi, strict=True)})
    parts["near_repeat"] = float(near_repeat)
    if public:
        parts["signals"] += parts.pop("source")
    return parts


def rounded_parts(parts: Mapping[str, float], score: float, digits: int = 6) -> dict[str, float]:
    """``parts`` rounded for JSON so that they still add up to ``round(score, digits)``: the
    rounding remainder goes to the largest part."""
    out = {key: round(float(value), digits) for key, value in parts.items()}
    if out:
        largest = max(out, key=lambda key: abs(out[key]))
        out[largest] += round(float(score), digits) - math.fsum(out.values())
    return out


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------
def _signed(value: float, language: str) -> str:
    text = format_number(abs(value), 1, language=language)
    return ("+" if value >= 0 else "−") + text


def hour_ranges(hours: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive clock hours as ``(start, end)`` with ``end`` exclusive:
    ``[21, 20, 2]`` → ``[(2, 3), (20, 22)]``."""
    ranges: list[tuple[int, int]] = []
    for hour in sorted(set(int(h) for h in hours)):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + 1)
        else:
            ranges.append((hour, hour + 1))
    return ranges


def _month(stamp: pd.Timestamp, language: str) -> str:
    local = stamp.tz_convert(settings.timezone())
    return f"{month_name(local.month, language=language)} {local.year}"


def _what(facts: Mapping[str, Any], catalog, language: str, public: bool, k: int) -> str:
    """How many signals, over what period, of which kind."""
    _, ngettext = catalog.gettext, catalog.ngettext
    first, last = facts["first_signal"], facts["last_signal"]
    if public:
        a, b = _month(first, language), _month(last, language)
        period = _("from {first} to {last}").format(first=a, last=b) if a != b else f"in {a}"
    else:
        weeks = max(1, math.ceil((last - first) / pd.Timedelta(days=7)))
        period = ngettext("in {weeks} week", "in {weeks} weeks", weeks).format(weeks=weeks)
    head = _("{n} signals {period}").format(n=int(facts["n_signals"]), period=period)
    counts = sorted(facts["categories"].items(), key=lambda item: (-item[1], item[0]))
    shown = [(code, count) for code, count in counts if count > 0 and (not public or count >= k)]
    if shown:
        listed = [f"{count}× {category_label(code, language=language)}" for code, count in shown]
        if len([c for c in counts if c[1] > 0]) > len(shown):
            listed.append(_("other kinds"))
        return head + ": " + and_list(listed, language=language)
    if public:
        names = [category_label(code, language=language) for code, count in counts[:2] if count > 0]
        head += _(", mostly {names}").format(names=and_list(names, language=language))
    return head


def _when(facts: Mapping[str, Any], catalog, language: str) -> str | None:
    """The peak weekdays and hours."""
    _ = catalog.gettext
    days = [weekday_name(_DAY_INDEX[d], language=language) for d in facts.get("peak_weekdays", [])]
    hours = [_("{start}–{end} h").format(start=a, end=b) for a, b in hour_ranges(facts.get("peak_hours", []))]
    if not (days or hours):
        return None
    return _("mostly {when}").format(
        when=" ".join(x for x in (and_list(days, language=language), and_list(hours, language=language)) if x))


def _recency(facts: Mapping[str, Any], catalog, language: str, public: bool) -> str:
    """When the last signal was (by month for residents)."""
    _ = catalog.gettext
    last = facts["last_signal"]
    if public:
        return _("last signal in {month}").format(month=_month(last, language))
    ago = max(0, int((facts["now"] - last) / pd.Timedelta(days=1)))
    return (_("the last one today") if ago == 0 else _("the last one yesterday") if ago == 1
            else _("the last one {days} days ago").format(days=ago))


def _trend(facts: Mapping[str, Any], catalog, language: str, public: bool) -> str | None:
    """The trend, with its figures for officers."""
    _ = catalog.gettext
    trend = facts.get("trend") or {}
    if not trend:
        return None
    word = _(_TREND[trend["direction"]])
    if public:
        return f"trend {word}"
    return _("trend {word} ({recent} a week in the last 4 weeks, {before} in the 8 weeks before)").format(
        word=word, recent=format_number(trend["recent_per_week"], 1, language=language),
        before=format_number(trend["before_per_week"], 1, language=language))


def _weights_text(facts: Mapping[str, Any], catalog, language: str) -> str:
    """The score, and which weights moved it most."""
    _ = catalog.gettext
    score_parts = facts.get("score_parts") or {}
    moved = sorted(((key, value) for key, value in score_parts.items() if key != "signals" and abs(value) >= 0.05),
                   key=lambda item: -abs(item[1]))[:2]
    score = format_number(float(facts["score"]), 1, language=language)
    if not moved:
        return _("score {score}, about the number of signals").format(score=score)
    listed = and_list([f"{_(_PART_LABELS[key])} ({_signed(value, language)})" for key, value in moved],
                      language=language)
    return _("score {score}, moved most by {parts}").format(score=score, parts=listed)


def _sources(facts: Mapping[str, Any], catalog, language: str, public: bool) -> str | None:
    """Where the signals came from (officers only)."""
    _ = catalog.gettext
    if public or not facts.get("sources"):
        return None
    listed = [f"{count}× {source_label(src, language=language)}"
              for src, count in sorted(facts["sources"].items(), key=lambda item: (-item[1], item[0]))]
    text = _("sources: {sources}").format(sources=", ".join(listed))
    patrol = int(facts.get("on_patrol", 0))
    if patrol:
        text += _("; {n} found on patrol (weighted lower)").format(n=patrol)
    return text


def _significance(facts: Mapping[str, Any], catalog, language: str, public: bool) -> str | None:
    """Whether the cluster stands out from a random spread (its p-value for officers)."""
    _ = catalog.gettext
    if facts.get("significant"):
        return None if public else f"significant (p = {format_number(float(facts['p_value']), 3, language=language)})"
    p = format_number(float(facts["p_value"]), 2, language=language)
    return _("not significant (p = {p}): may be chance").format(p=p)


def explain_hotspot(facts: Mapping[str, Any], *, language: str = "nl", public: bool = False,
                    k: int = settings.PUBLIC_MIN_SIGNALS) -> str:
    """A plain-language explanation of one hotspot from its own data.

    ``facts``: ``n_signals``, ``categories`` (``{code: count}``), ``peak_weekdays`` (codes),
    ``peak_hours``, ``first_signal`` and ``last_signal`` (aware timestamps), ``now``, ``trend``
    (as ``find_hotspots`` gives it), ``score``, ``score_parts``, ``significant``, ``p_value`` and,
    for officers, ``sources`` (``{source: count}``) and ``on_patrol`` (count).

    ``public`` (residents): category counts only when at least ``k``, dates by month, the trend
    without numbers, and nothing about sources or single signals.
    """
    catalog = translation(language)
    parts = [_what(facts, catalog, language, public, k), _when(facts, catalog, language),
             _recency(facts, catalog, language, public), _trend(facts, catalog, language, public),
             _weights_text(facts, catalog, language), _sources(facts, catalog, language, public),
             _significance(facts, catalog, language, public)]
    text = "; ".join(part for part in parts if part is not None)
    return text[0].upper() + text[1:] + "."
