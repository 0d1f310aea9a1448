"""Shared dashboard helpers: texts in Dutch and English, Dutch number formats, error display."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime

import streamlit as st

from planner import _time, access
from planner._errors import PlannerError
from planner.signals.incidents import CATEGORIES
from planner.users import User

log = logging.getLogger(__name__)

TEXTS: dict[str, tuple[str, str]] = {
    "app_caption": ("Wijk en Agent Samen: hotspots, looproutes en dekking per wijk",
                    "Wijk en Agent Samen: hotspots, walking routes and coverage per ward"),
    "page_tonight": ("Vanavond", "Tonight's patrol"),
    "page_hotspots": ("Hotspotkaart", "Hotspot map"),
    "page_coverage": ("Dekking", "Coverage"),
    "page_report": ("Signaal melden", "Report a signal"),
    "page_data": ("Gegevens", "Data"),
    "page_about": ("Modelkaart", "Model card"),
    "language": ("Taal / language", "Taal / language"),
    "ward": ("Wijk", "Ward"),
    "all_wards": ("Alle wijken", "All wards"),
    "weights_caption": ("Weging (gekozen op de eigen signalen, of de standaard bij te weinig geschiedenis; zie "
                        "Modelkaart): recentheid halveert elke {life} dagen, {keep} % van elk gewicht vervalt nooit, "
                        "near-repeat {repeat}.",
                        "Weighting (chosen on this installation's own signals, or the default with too little "
                        "history; see Model card): recency halves every {life} days, {keep} % of each weight never "
                        "fades, near repeat {repeat}."),
    "on": ("aan", "on"),
    "off": ("uit", "off"),
    "no_wards": ("Er zijn nog geen wijken. Maak demodata of laad wijken op de pagina Gegevens.",
                 "No wards yet. Build demo data or load wards on the Data page."),
    "synthetic": ("Demodata: Demostad en alle signalen zijn verzonnen (synthetisch), geen echte meldingen.",
                  "Demo data: Demostad and all its signals are synthetic (made up), not real incidents."),
    "unexpected": ("Er ging iets mis. Probeer het opnieuw; blijft het misgaan, meld het dan aan de beheerder.",
                   "Something went wrong. Try again; if it keeps happening, tell the administrator."),
    "footer": ("WAS Planner · kaartgegevens © OpenStreetMap-bijdragers · wijkgrenzen © CBS",
               "WAS Planner · map data © OpenStreetMap contributors · ward boundaries © CBS"),
    "category": ("Categorie", "Category"),
    "categories": ("Categorieën", "Categories"),
    "period": ("Periode", "Period"),
    "window": ("Tijdvenster", "Time window"),
    "score": ("Score", "Score"),
    "signals": ("Signalen", "Signals"),
    "login": ("Inloggen", "Sign in"),
    "login_oidc": ("Inloggen via de gemeente", "Sign in through the municipality"),
    "logout": ("Uitloggen", "Sign out"),
    "user_name": ("Gebruikersnaam", "User name"),
    "password": ("Wachtwoord", "Password"),
    "local_mode": ("Lokale installatie zonder accounts: alles is zichtbaar. Voeg accounts toe met "
                   "`was-planner users add` voor een gedeelde installatie.",
                   "Local installation without accounts: everything is visible. Add accounts with "
                   "`was-planner users add` for a shared installation."),
}


def language() -> str:
    return st.session_state.get("lang", "nl")


def t(key: str) -> str:
    """The text for ``key`` in the chosen language."""
    dutch, english = TEXTS[key]
    return dutch if language() == "nl" else english


def category_label(code: str) -> str:
    """A category as users read it: Dutch name or English words."""
    return (CATEGORIES[code] if language() == "nl" else code).replace("_", " ")


def number(value: float, decimals: int = 0) -> str:
    """A number in the chosen language's style: 1.234,5 in Dutch, 1,234.5 in English."""
    text = f"{value:,.{decimals}f}"
    if language() == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(share: float, decimals: int = 0) -> str:
    return f"{number(100 * share, decimals)} %" if language() == "nl" else f"{number(100 * share, decimals)}%"


def day(moment: datetime) -> str:
    """A date as 25-11-2026 (Dutch) or 2026-11-25 (English)."""
    return moment.strftime("%d-%m-%Y" if language() == "nl" else "%Y-%m-%d")


def now() -> datetime:
    """The installation's local time now (``planner._time.now``: the server may run in UTC)."""
    return _time.now()


def date_range(value) -> tuple:
    """``(start, end)`` from a range date input, also while only the first day is picked."""
    days = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not days:
        st.info("Kies een periode." if language() == "nl" else "Choose a period.")
        st.stop()
    return days[0], days[-1]


def lat_lon(text: str | None) -> tuple[float, float] | None:
    """``(lat, lon)`` from text such as ``52.0601, 4.4940``, or None if it does not read so."""
    try:
        lat, lon = (float(part) for part in (text or "").split(","))
    except ValueError:
        return None
    return lat, lon


@contextmanager
def guarded():
    """Show bad input as a readable error and never a traceback; log unexpected errors."""
    try:
        yield
    except PlannerError as error:
        st.error(str(error))
    except Exception:  # an unexpected error is a bug: log it for us, say it plainly to the user
        log.exception("dashboard error")
        st.error(t("unexpected"))


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
