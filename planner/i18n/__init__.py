"""Translations: every text users read, in gettext catalogs for Dutch (``nl``) and English (``en``).

Message ids are the English texts; ``locale/<language>/LC_MESSAGES/planner.po`` holds each
language's translations and the compiled ``planner.mo`` next to it is what runs. ``make i18n``
extracts the ids from the code (Babel, ``babel.cfg``), updates both catalogs and compiles them;
the compiled catalogs are committed so that a clean checkout and ``pip install`` need no build
step (``tests/test_i18n.py`` keeps them equal to the ``.po`` files).

Code marks a text with ``_("…")`` (``ngettext`` for plurals) from ``translation(language)``;
placeholders are named (``_("Saved as patrol {id}.").format(id=…)``) so that a translation may
put them in its own order. Babel reads no calls inside f-strings: mark the text before the f-string
(``tests/test_i18n.py`` refuses one marked inside). A new text: mark it, run ``make i18n``, write its
Dutch in ``locale/nl/LC_MESSAGES/planner.po``, run ``make i18n`` again and commit the four files.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel.dates import get_day_names, get_month_names
from babel.units import format_unit

from .. import settings
from .._errors import InputError

LANGUAGES: tuple[str, ...] = ("nl", "en")
"""The languages with a catalog; Dutch first, it is the default everywhere."""

DOMAIN = "planner"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translation(language: str) -> gettext.GNUTranslations:
    """The catalog of ``language`` (``gettext``, ``ngettext``, ``pgettext``)."""
    if language not in LANGUAGES:
        msg = f"language must be one of {', '.join(LANGUAGES)}, got {language!r}"
        raise InputError(msg)
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is defined; it is translated where it is shown."""
    return message


_CATEGORIES: dict[str, str] = {
    "burglary": N_("burglary"),
    "vehicle_crime": N_("vehicle crime"),
    "youth_nuisance": N_("youth nuisance"),
    "vandalism": N_("vandalism"),
    "street_light": N_("street light"),
    "suspicious_situation": N_("suspicious situation"),
    "drugs": N_("drugs"),
    "violence": N_("violence"),
    "other": N_("other"),
}

_WATCH_POINTS: dict[str, str] = {
    "burglary": N_("open windows and doors, sheds, strangers at back doors and gates"),
    "vehicle_crime": N_("broken car windows, valuables visible in cars, bike racks"),
    "youth_nuisance": N_("groups at benches, playgrounds and shops; have a chat"),
    "vandalism": N_("damage, graffiti, broken bus shelters and benches"),
    "street_light": N_("street lights that are out (note the pole number)"),
    "suspicious_situation": N_("people or cars circling or looking around homes"),
    "drugs": N_("dealing or use, nitrous oxide canisters, litter at playgrounds"),
    "violence": N_("fights and threatening situations; call {emergency} in danger"),
    "other": N_("anything else that stands out"),
}
"""What a team watches for at a stop, per signal category (``{emergency}``: the installation's
emergency number)."""


_DUTCH_MARKS = str.maketrans({",": ".", ".": ","})


def format_number(value: float, digits: int | None = None, *, language: str, grouping: bool = False) -> str:
    """``value`` written as ``language`` writes numbers: ``digits`` decimals (``None``: as few as
    needed, Python's ``g``), thousands grouped with ``grouping``. Dutch swaps the decimal point
    and the thousands separator (``1.234,5``); English keeps them (``1,234.5``)."""
    text = format(value, ("," if grouping else "") + ("g" if digits is None else f".{digits}f"))
    return text.translate(_DUTCH_MARKS) if language == "nl" else text


def category_label(code: str, *, language: str) -> str:
    """How users read a category code (``vehicle_crime`` → ``autokraak`` / ``vehicle crime``);
    an unknown code is shown as its words."""
    known = _CATEGORIES.get(code)
    return translation(language).gettext(known) if known else code.replace("_", " ")


def watch_points(categories, *, language: str) -> str:
    """What to watch for at a stop whose signals are of ``categories`` (codes, most first)."""
    _ = translation(language).gettext
    emergency = settings.emergency_number()
    return "; ".join(_(_WATCH_POINTS[c]).replace("{emergency}", emergency)
                     for c in dict.fromkeys(categories) if c in _WATCH_POINTS)


def has_watch_points(code: str) -> bool:
    return code in _WATCH_POINTS


_SOURCES: dict[str, str] = {"resident": N_("resident"), "was_member": N_("WAS member"), "officer": N_("officer"),
                            "municipality": N_("municipality"), "police": N_("police")}


def source_label(code: str, *, language: str) -> str:
    """How users read where a signal came from (``was_member`` → ``WAS-lid`` / ``WAS member``)."""
    known = _SOURCES.get(code)
    return translation(language).gettext(known) if known else code.replace("_", " ")


_AGREEMENT_STATUSES: dict[str, str] = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done")}


def agreement_status_label(code: str, *, language: str) -> str:
    """How users read an agreement's status code (``in_progress`` → ``in behandeling``)."""
    return translation(language).gettext(_AGREEMENT_STATUSES[code])


def and_list(items: list[str], *, language: str) -> str:
    """``a, b and c`` (``a, b en c``); CLDR's list patterns would add the English serial comma."""
    if len(items) <= 1:
        return "".join(items)
    return translation(language).gettext("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def weekday_name(index: int, *, language: str, width: str = "wide") -> str:
    """Monday = 0 as ``maandag``/``Monday`` (``width="abbreviated"``: ``ma``/``Mon``), from the CLDR."""
    return get_day_names(width, locale=language)[index]


def duration_words(amount: int, unit: str, *, language: str) -> str:
    """``amount`` of a calendar ``unit`` (``years``, ``months``, ``weeks``, ``days``) as words:
    ``2 jaar`` / ``2 years``, as Babel's CLDR data writes them."""
    return format_unit(amount, f"duration-{unit.removesuffix('s')}", length="long", locale=language)


def month_name(month: int, *, language: str) -> str:
    """January = 1 as ``januari``/``January``, from the CLDR."""
    return get_month_names("wide", locale=language)[month]


def explanation_field(language: str) -> str:
    """The field of a hotspot, stop or target that holds its explanation in ``language``: both
    languages travel in the tables and the ``--json`` output (``explanation``, ``explanation_en``)."""
    return "explanation" if language == "nl" else "explanation_en"
