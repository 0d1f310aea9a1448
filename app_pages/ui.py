"""Shared dashboard helpers: the chosen language's texts (planner.i18n), Dutch number formats, error display."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime

import streamlit as st

from planner import access, i18n, settings
from planner._errors import PlannerError, phrased
from planner._parse import parse_lat_lon
from planner.i18n import N_
from planner.users import User

log = logging.getLogger(__name__)

def language() -> str:
    return st.session_state.get("lang", "nl")


def _(message: str) -> str:
    """``message`` (an English message id) in the chosen language, from the catalogs (planner.i18n)."""
    return i18n.translation(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translation(language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return i18n.translation(language()).pgettext(context, message)


def category_label(code: str) -> str:
    """A category as users read it in the chosen language (``autokraak`` / ``vehicle crime``)."""
    return i18n.category_label(code, language=language())


def number(value: float, decimals: int = 0) -> str:
    """A number in the chosen language's style: 1.234,5 in Dutch, 1,234.5 in English."""
    return i18n.format_number(value, decimals, language=language(), grouping=True)


def percent(share: float, decimals: int = 0) -> str:
    return f"{number(100 * share, decimals)} %" if language() == "nl" else f"{number(100 * share, decimals)}%"


def day(moment: datetime) -> str:
    """A date as 25-11-2026 (Dutch) or 2026-11-25 (English)."""
    return moment.strftime("%d-%m-%Y" if language() == "nl" else "%Y-%m-%d")


def date_range(value) -> tuple:
    """``(start, end)`` from a range date input, also while only the first day is picked."""
    days = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not days:
        st.info(_("Choose a period."))
        st.stop()
    return days[0], days[-1]


def lat_lon(text: str | None) -> tuple[float, float] | None:
    """``(lat, lon)`` from text such as ``52.0601, 4.4940`` (``_parse.parse_lat_lon``), or None if
    it does not read so: the pages then say what to type."""
    try:
        return parse_lat_lon(text or "", what="location")
    except PlannerError:
        return None


OPTION_FIELDS = {
    "date_format": N_("Date format (optional)"), "mapping": N_("Other column names (optional): COLUMN=field,..."),
    "force": N_("Even beside real data (--force)"),
    "default_category": N_("Category of rows without a known one (optional)"),
}
"""The label of the field that sets a core option (``PlannerError.options``), for the pages and their errors."""
OPTION_SETTINGS = {"data_dir": "WAS_DATA_DIR", "db": "WAS_DATABASE_URL"}
"""The setting that chooses what the CLI's --data-dir and --db choose, for options no page sets."""


def field(option: str) -> str:
    """How the dashboard names a core option in an error: the field that sets it, or the setting
    (environment variable) where no page has one."""
    if option in OPTION_FIELDS:
        return f"“{_(OPTION_FIELDS[option])}”"
    return f"`{OPTION_SETTINGS.get(option, option)}`"


def said(text: str) -> str:
    """A core warning (``Notice``) as the dashboard says it: its options named by ``field``; the CLI
    commands it may name (``commands``) are left out."""
    return phrased(text, field)


@contextmanager
def guarded():
    """Show bad input as a readable error and never a traceback; log unexpected errors."""
    try:
        yield
    except PlannerError as error:
        st.error(error.phrased(field))
    except Exception:  # an unexpected error is a bug: log it for us, say it plainly to the user
        log.exception("dashboard error")
        st.error(_("Something went wrong. Try again; if it keeps happening, tell the administrator."))


def public_url() -> str:
    """The dashboard's address for links to it: ``WAS_PUBLIC_URL``, else the one this browser used."""
    from urllib.parse import urlsplit

    configured = settings.public_url()
    if configured:
        return configured
    parts = urlsplit(st.context.url or "http://localhost:8501")
    prefix = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")


LOCAL_USER = User(name="lokaal", role="admin", via="dashboard (local, no accounts)")
"""Who uses an installation without accounts (a laptop, the demo): everything is visible."""


def accounts_enabled() -> bool:
    return bool(st.session_state.get("accounts_enabled"))


def current_user() -> User:
    """The signed-in user, or the local user when the installation has no accounts."""
    return st.session_state.get("user") or LOCAL_USER


def can(permission: str) -> bool:
    return access.can(current_user(), permission)


def init_session() -> None:
    """Every session default in one place (app.py calls it before any page runs)."""
    defaults = {"lang": "nl", "ward": None, "user": None, "accounts_enabled": False}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
