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
from ..signals.incidents import CATEGORIES, SOURCES

FACTORS: tuple[str, ...] = ("recency", "category", "time_of_day", "source")
"""Multiplicative signal factors, in the order of ``score_parts`` (after ``signals``)."""

PART_KEYS: tuple[str, ...] = ("signals", *FACTORS, "near_repeat")
"""Keys of ``score_parts`` for officers; residents get the same without ``source``."""

_WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_INDEX = {code: i for i, code in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_PART_LABELS = {
    "nl": {"recency": "ouderdom van de signalen", "category": "categoriegewichten van de wijk",
           "time_of_day": "tijdvak van de ronde", "source": "herkomst (surveillance/bron)",
           "near_repeat": "near-repeat (recente inbraken of autokraken in de buurt)"},
    "en": {"recency": "age of the signals", "category": "the ward's category weights",
           "time_of_day": "the patrol's time window", "source": "origin (patrol/source)",
           "near_repeat": "near repeat (recent burglaries or car crimes nearby)"},
}
_TREND = {"nl": {"rising": "stijgend", "falling": "dalend", "stable": "stabiel"},
          "en": {"rising": "rising", "falling": "falling", "stable": "stable"}}


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
def _number(value: float, language: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "nl" else text


def _signed(value: float, language: str) -> str:
    text = _number(abs(value), language)
    return ("+" if value >= 0 else "−") + text


def category_name(code: str, language: str = "nl") -> str:
    """Dutch (``inbraak``) or English (``burglary``) name of a category code, with spaces."""
    return (CATEGORIES.get(code, code) if language == "nl" else code).replace("_", " ")


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


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + (" en " if language == "nl" else " and ") + items[-1]


def _month(stamp: pd.Timestamp, language: str) -> str:
    local = stamp.tz_convert(settings.TIMEZONE)
    names = _MONTHS_NL if language == "nl" else _MONTHS_EN
    return f"{names[local.month - 1]} {local.year}"


def _what(facts: Mapping[str, Any], language: str, public: bool, k: int) -> str:
    """How many signals, over what period, of which kind."""
    nl = language == "nl"
    n = int(facts["n_signals"])
    first, last = facts["first_signal"], facts["last_signal"]
    if public:
        a, b = _month(first, language), _month(last, language)
        period = (f"van {a} tot {b}" if nl else f"from {a} to {b}") if a != b else (f"in {a}")
    else:
        weeks = max(1, math.ceil((last - first) / pd.Timedelta(days=7)))
        period = f"in {weeks} {'week' if weeks == 1 else 'weken'}" if nl else \
            f"in {weeks} week{'s' if weeks > 1 else ''}"
    head = f"{n} {'signalen' if nl else 'signals'} {period}"
    counts = sorted(facts["categories"].items(), key=lambda item: (-item[1], item[0]))
    shown = [(code, count) for code, count in counts if count > 0 and (not public or count >= k)]
    if shown:
        listed = [f"{count}× {category_name(code, language)}" for code, count in shown]
        hidden = len([c for c in counts if c[1] > 0]) - len(shown)
        if hidden:
            listed.append("andere soorten" if nl else "other kinds")
        head += ": " + _join(listed, language)
    elif public:
        names = [category_name(code, language) for code, count in counts[:2] if count > 0]
        head += (", vooral " if nl else ", mostly ") + _join(names, language)
    return head


def _when(facts: Mapping[str, Any], language: str) -> str | None:
    """The peak weekdays and hours."""
    nl = language == "nl"
    days = [(_WEEKDAYS_NL if nl else _WEEKDAYS_EN)[_DAY_INDEX[d]] for d in facts.get("peak_weekdays", [])]
    hours = [f"{a}–{b} uur" if nl else f"{a}–{b} h" for a, b in hour_ranges(facts.get("peak_hours", []))]
    if not (days or hours):
        return None
    return ("vooral " if nl else "mostly ") + " ".join(x for x in (_join(days, language), _join(hours, language)) if x)


def _recency(facts: Mapping[str, Any], language: str, public: bool) -> str:
    """When the last signal came."""
    nl = language == "nl"
    last = facts["last_signal"]
    if public:
        return f"laatste signaal in {_month(last, language)}" if nl else f"last signal in {_month(last, language)}"
    ago = max(0, int((facts["now"] - last) / pd.Timedelta(days=1)))
    if nl:
        return ("het laatste signaal was vandaag" if ago == 0 else "het laatste gisteren" if ago == 1
                else f"het laatste {ago} dagen geleden")
    return ("the last one today" if ago == 0 else "the last one yesterday" if ago == 1
            else f"the last one {ago} days ago")


def _trend(facts: Mapping[str, Any], language: str, public: bool) -> str | None:
    trend = facts.get("trend") or {}
    if not trend:
        return None
    word = _TREND[language][trend["direction"]]
    if public:
        return f"trend {word}"
    recent = _number(trend["recent_per_week"], language)
    before = _number(trend["before_per_week"], language)
    return (f"trend {word} ({recent} per week de laatste 4 weken, {before} in de 8 weken daarvoor)"
            if language == "nl" else f"trend {word} ({recent} a week in the last 4 weeks, {before} in the 8 weeks "
            "before)")


def _weights_text(facts: Mapping[str, Any], language: str) -> str:
    """The score, and which weights moved it most."""
    nl = language == "nl"
    score_parts = facts.get("score_parts") or {}
    moved = sorted(((key, value) for key, value in score_parts.items() if key != "signals" and abs(value) >= 0.05),
                   key=lambda item: -abs(item[1]))[:2]
    score = _number(float(facts["score"]), language)
    if moved:
        labels = _PART_LABELS[language]
        listed = _join([f"{labels[key]} ({_signed(value, language)})" for key, value in moved], language)
        return f"score {score}, het meest bepaald door {listed}" if nl else f"score {score}, moved most by {listed}"
    return (f"score {score}, vrijwel gelijk aan het aantal signalen" if nl
            else f"score {score}, about the number of signals")


def _sources(facts: Mapping[str, Any], language: str, public: bool) -> str | None:
    """Where the signals came from (officers only)."""
    if public or not facts.get("sources"):
        return None
    nl = language == "nl"
    listed = [f"{count}× {SOURCES.get(src, src).replace('_', ' ') if nl else src.replace('_', ' ')}"
              for src, count in sorted(facts["sources"].items(), key=lambda item: (-item[1], item[0]))]
    text = ("bronnen: " if nl else "sources: ") + ", ".join(listed)
    patrol = int(facts.get("on_patrol", 0))
    if patrol:
        text += (f"; {patrol} gevonden tijdens surveillance (lager gewogen)" if nl
                 else f"; {patrol} found on patrol (weighted lower)")
    return text


def _significance(facts: Mapping[str, Any], language: str, public: bool) -> str | None:
    if facts.get("significant"):
        if public:
            return None
        return f"significant (p = {_number(float(facts['p_value']), language, 3)})"
    p = _number(float(facts["p_value"]), language, 2)
    return (f"niet significant (p = {p}): kan toeval zijn" if language == "nl"
            else f"not significant (p = {p}): may be chance")


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
    parts = [_what(facts, language, public, k), _when(facts, language), _recency(facts, language, public),
             _trend(facts, language, public), _weights_text(facts, language), _sources(facts, language, public),
             _significance(facts, language, public)]
    text = "; ".join(part for part in parts if part is not None)
    return text[0].upper() + text[1:] + "."
