"""The catalogs (planner.i18n): every marked text has a Dutch translation, the compiled catalogs
are the .po files, translations keep their placeholders, and plurals follow the count."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from planner import i18n
from planner._errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]*)[^{}]*\}(?!\})")


def _method_map() -> list[tuple[str, str]]:
    """The ``[python: …]`` sections of babel.cfg, as ``extract_from_dir`` takes them."""
    sections = re.findall(r"^\[(\w+): ([^\]]+)\]", (ROOT / "babel.cfg").read_text(), re.M)
    return [(pattern, method) for method, pattern in sections]


def _ids_in_code() -> set[tuple[str | None, str | tuple[str, ...]]]:
    found = set()
    for _, _, message, _, context in extract_from_dir(ROOT, _method_map()):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


def _catalog(language: str):
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_text_in_the_code_has_a_dutch_translation():
    catalog = _catalog("nl")
    translated = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id))
                  for m in catalog if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = {message for message in _ids_in_code() if message not in translated}
    assert not missing, f"run `make i18n` and translate these in nl/LC_MESSAGES/planner.po: {sorted(missing, key=str)}"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_compiled_catalog_is_the_po_file(language):
    """The committed .mo must give what the .po says (`make i18n` compiles one from the other)."""
    catalog, compiled = _catalog(language), i18n.translation(language)
    ids = set()
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            forms = [form or (singular, plural)[index] for index, form in enumerate(message.string)]
            got = [compiled.npgettext(message.context, singular, plural, n) if message.context
                   else compiled.ngettext(singular, plural, n) for n in (1, 2)]
            assert got == forms, message.id
            singular_id = singular
        else:
            got = compiled.pgettext(message.context, message.id) if message.context else compiled.gettext(message.id)
            assert got == (message.string or message.id), message.id
            singular_id = message.id
        ids.add(f"{message.context}\x04{singular_id}" if message.context else singular_id)
    stale = {key[0] if isinstance(key, tuple) else key for key in compiled._catalog} - ids - {""}
    assert not stale, f"the .mo holds texts the .po does not (run `make i18n`): {sorted(stale)}"


def test_translations_keep_their_placeholders():
    for message in _catalog("nl"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # Dutch counts as English does (n != 1): form i translates id i, and a singular may leave
        # the count unsaid ("De stop is bezocht") as its msgid does.
        for form, string in enumerate(strings):
            wanted = set(PLACEHOLDER.findall(ids[min(form, len(ids) - 1)]))
            assert set(PLACEHOLDER.findall(string)) == wanted, (message.id, string)


def test_plural_forms_follow_the_count():
    nl, en = i18n.translation("nl"), i18n.translation("en")
    assert nl.ngettext("in {weeks} week", "in {weeks} weeks", 1).format(weeks=1) == "in 1 week"
    assert nl.ngettext("in {weeks} week", "in {weeks} weeks", 3).format(weeks=3) == "in 3 weken"
    assert en.ngettext("in {weeks} week", "in {weeks} weeks", 3).format(weeks=3) == "in 3 weeks"


def test_labels_come_from_the_catalogs():
    assert i18n.category_label("vehicle_crime", language="nl") == "autokraak"
    assert i18n.category_label("vehicle_crime", language="en") == "vehicle crime"
    assert i18n.category_label("no_such_code", language="nl") == "no such code"
    assert i18n.weekday_name(0, language="nl") == "maandag"
    assert i18n.month_name(3, language="en") == "March"


def test_an_unknown_language_is_refused():
    with pytest.raises(InputError, match="language must be one of nl, en"):
        i18n.translation("de")
    assert isinstance(i18n.translation("nl"), gettext.GNUTranslations)


def test_no_text_is_marked_inside_an_f_string():
    """Babel does not read calls inside f-strings, so a text marked there would never reach the catalogs."""
    marked = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_"}
    for pattern, _method in _method_map():
        for path in ROOT.glob(pattern.replace("**", "**/*") if pattern.endswith("**.py") else pattern):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.JoinedStr):
                    calls = [call for call in ast.walk(node) if isinstance(call, ast.Call)
                             and isinstance(call.func, ast.Name) and call.func.id in marked
                             and call.args and isinstance(call.args[0], ast.Constant)]
                    assert not calls, f"{path.relative_to(ROOT)}:{node.lineno}: mark the text outside the f-string"


@pytest.mark.parametrize(("value", "digits", "grouping", "nl", "en"), [
    (1234.56, 1, True, "1.234,6", "1,234.6"),
    (1234.56, 1, False, "1234,6", "1234.6"),
    (0.5, None, False, "0,5", "0.5"),
    (-12.0, None, False, "-12", "-12"),
    (1234567, 0, True, "1.234.567", "1,234,567"),
])
def test_numbers_are_written_one_way_per_language(value, digits, grouping, nl, en):
    """One number rule for every text the planner writes: a decimal comma and thousands points in Dutch."""
    from planner.i18n import format_number

    assert format_number(value, digits, language="nl", grouping=grouping) == nl
    assert format_number(value, digits, language="en", grouping=grouping) == en


def test_the_watch_points_name_the_installation_s_emergency_number(monkeypatch):
    """112 by default; WAS_EMERGENCY_NUMBER for a city elsewhere, in both languages; a bad one is refused."""
    from planner.i18n import watch_points

    monkeypatch.delenv("WAS_EMERGENCY_NUMBER", raising=False)
    assert watch_points(["violence"], language="nl") == "ruzies en dreigende situaties; bel bij gevaar 112"
    monkeypatch.setenv("WAS_EMERGENCY_NUMBER", "911")
    assert watch_points(["violence", "burglary"], language="en").startswith(
        "fights and threatening situations; call 911 in danger; ")
    assert "bel bij gevaar 911" in watch_points(["violence"], language="nl")
    monkeypatch.setenv("WAS_EMERGENCY_NUMBER", "9-1-1")
    with pytest.raises(InputError, match="WAS_EMERGENCY_NUMBER must be the phone number to call in danger"):
        watch_points(["violence"], language="nl")
