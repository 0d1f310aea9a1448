"""Settings in one place, read at call time from the environment and never mutated at run time
(one dashboard process serves every user)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE_DEFAULT = "Europe/Amsterdam"


def timezone() -> str:
    """The installation's local time (``WAS_TIMEZONE``, an IANA name such as ``America/Chicago``):
    of naive timestamps in imported files, of "tonight" and of every time shown to users. Set it
    before the first import; stored times are UTC, so it never changes what was stored."""
    name = os.environ.get("WAS_TIMEZONE") or TIMEZONE_DEFAULT
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # an unknown name, a path, an unreadable zone file
        from ._errors import InputError

        msg = f"WAS_TIMEZONE must be a time zone name such as Europe/Amsterdam or America/Chicago, got {name!r}"
        raise InputError(msg) from None
    return name


RD_NEW = "EPSG:28992"
WGS84 = "EPSG:4326"

WALKING_SPEED_KMH = 4.5
DWELL_MINUTES = 10.0
"""Stops of 10–15 minutes at a hotspot deter most disorder afterwards (Koper 1995)."""

PUBLIC_MIN_SIGNALS = 5
"""Residents only see hotspot areas with at least this many signals (k-anonymity threshold)."""

RECENCY_HALF_LIFE_DAYS = 30.0

VARIETY_PENALTY = 0.5
"""With variety on, streets of recent rounds cost 1.5× as much, so consecutive nights differ."""
VARY_LAST_ROUNDS = 3
"""With variety on, the streets of the ward's last this many rounds count as recent."""

TEAM_SIZE = 2
"""People per team when nobody says otherwise (a pair walks together); a stored patrol counts
teams × people per team walkers, so its person-hours are those of everyone out that night."""

MAX_TEAMS = 4
"""Teams one plan may send out at once (the dashboard offers 1–4); the solver's work grows with
every team, and a ward seldom has more volunteers walking the same night."""

EARLIEST_DAY = date(1970, 1, 1)
"""Signals and days before this are refused as too far in the past: such years are typos
(``0206``) or placeholders (``1900``, pandas' ``1677``), not incidents a team can act on."""
LATEST_DAY = date(2199, 12, 31)
"""Days given as options after this are refused: periods must fit the timestamps of the store."""


def data_dir() -> Path:
    """Directory for the database, demo data, graph cache and exports (``WAS_DATA_DIR``)."""
    return Path(os.environ.get("WAS_DATA_DIR", "data"))


def database_url(data_dir_: Path | None = None) -> str:
    """SQLAlchemy URL of the store: ``WAS_DATABASE_URL``, else a SQLite file in the data dir."""
    url = os.environ.get("WAS_DATABASE_URL")
    if url:
        return url
    directory = data_dir_ if data_dir_ is not None else data_dir()
    return f"sqlite:///{(directory / 'was.db').as_posix()}"


def frozen_today() -> date | None:
    """The day an installation takes as today (``WAS_TODAY``, ``YYYY-MM-DD``), for a demonstration
    or a training evening on a past season; unset, the calendar's (see ``planner._time``)."""
    text = os.environ.get("WAS_TODAY")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        from ._errors import InputError

        msg = f"WAS_TODAY must be a day as YYYY-MM-DD, got {text!r}"
        raise InputError(msg) from None


RETENTION_DEFAULT = "2y"
"""Signals older than this are anonymised by ``was-planner retention apply`` (AVG/GDPR)."""


def retention_period() -> str:
    """How long signals keep their details (``WAS_RETENTION``, e.g. ``2y``, ``18m``, ``90d``)."""
    return os.environ.get("WAS_RETENTION", RETENTION_DEFAULT)


EMERGENCY_NUMBER_DEFAULT = "112"


def emergency_number() -> str:
    """The number a team calls in danger (``WAS_EMERGENCY_NUMBER``, e.g. ``911`` in North America),
    in the stops' watch points of routes and briefings."""
    number = (os.environ.get("WAS_EMERGENCY_NUMBER") or EMERGENCY_NUMBER_DEFAULT).strip()
    if not (number.isascii() and number.isdigit() and 2 <= len(number) <= 6):
        from ._errors import InputError

        msg = (f"WAS_EMERGENCY_NUMBER must be the phone number to call in danger, 2 to 6 digits such as 112 "
               f"or 911, got {number!r}")
        raise InputError(msg)
    return number


KERNEL_THREADS_MAX = 4


def kernel_threads() -> int:
    """Threads the hot streets' kernels are built on (``WAS_KERNEL_THREADS``, default the cores
    this process may use, at most 4).

    The walks and planar kernels of a large ward run in compiled code that lets the other threads
    go on; set 1 where every core is already busy, e.g. on the workers of a cluster."""
    text = (os.environ.get("WAS_KERNEL_THREADS") or "").strip()
    if not text:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(KERNEL_THREADS_MAX, cores))
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        from ._errors import InputError

        msg = f"WAS_KERNEL_THREADS must be a whole number of threads, 1 or more, such as 2, got {text!r}"
        raise InputError(msg)
    return int(text)


NETWORK_ATTRIBUTION_MAX_CHARS = 120


def network_attribution() -> str | None:
    """The credit for streets from a segment network (``WAS_NETWORK_ATTRIBUTION``, e.g.
    ``© Gemeente Amsterdam``) on GPX files and briefings; OpenStreetMap streets always credit
    OpenStreetMap's contributors."""
    text = os.environ.get("WAS_NETWORK_ATTRIBUTION", "").strip()
    if len(text) > NETWORK_ATTRIBUTION_MAX_CHARS or any(not c.isprintable() for c in text):
        from ._errors import InputError

        msg = (f"WAS_NETWORK_ATTRIBUTION must be one line of at most {NETWORK_ATTRIBUTION_MAX_CHARS} characters, "
               f"such as '© Gemeente Amsterdam', got {len(text)} characters")
        raise InputError(msg)
    return text or None


def contact() -> str | None:
    """Who answers questions about the algorithm (``WAS_CONTACT``), shown in the model card;
    ``None`` when unset (the card then says, in its language, to set it)."""
    return os.environ.get("WAS_CONTACT", "").strip() or None


def oidc_role_claim() -> str | None:
    """The identity-provider claim that holds a WAS role (``WAS_OIDC_ROLE_CLAIM``, e.g. ``groups``);
    set, the dashboard signs people in through ``st.login`` (``.streamlit/secrets.toml`` ``[auth]``)
    instead of its own accounts."""
    return os.environ.get("WAS_OIDC_ROLE_CLAIM") or None


def oidc_roles() -> str | None:
    """Claim values → WAS roles (``WAS_OIDC_ROLES``, e.g. ``wijkagenten=officer,was-leden=resident``);
    unset, a claim value that is a role's own name is that role."""
    return os.environ.get("WAS_OIDC_ROLES") or None


def is_web_address(text: object) -> bool:
    """Whether ``text`` is an ``http://`` or ``https://`` address with a host."""
    if not isinstance(text, str) or not text.startswith(("http://", "https://")):
        return False
    return bool(text.split("//", 1)[1].strip("/"))


def public_url() -> str | None:
    """The address phones open the dashboard at (``WAS_PUBLIC_URL``, e.g. ``https://was.gemeente.nl``),
    for the link and QR code on briefings; unset, briefings written outside the dashboard have none.

    Raises
    ------
    InputError
        Not an ``http://`` or ``https://`` address.
    """
    text = (os.environ.get("WAS_PUBLIC_URL") or "").strip()
    if not text:
        return None
    if not is_web_address(text):
        from ._errors import InputError

        msg = f"WAS_PUBLIC_URL must be the dashboard's address as https://host[/path], got {text!r}"
        raise InputError(msg)
    return text.rstrip("/")
