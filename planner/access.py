"""Access policy: what each role may see and do, enforced in the core (not only hidden in the UI).

- ``resident`` (WAS member): hotspots only as areas with at least k signals
  (``settings.PUBLIC_MIN_SIGNALS``), counts per ward and category with small cells suppressed;
  never points, descriptions, sources or reporters. May report signals and plan routes.
- ``officer``: also points, descriptions and sources, and raw exports (audited).
- ``municipality``: coverage and aggregates (exact counts), no points.
- ``admin``: everything, including reporter identity, the audit log and accounts.

Every function takes the signed-in ``users.User`` and raises ``AccessDeniedError`` (a
``PlannerError`` and a ``PermissionError``) for a request the role may not make. Every export of
raw signals is written to the audit log (who, when, what, how many rows).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select

from . import settings
from ._errors import AccessDeniedError, InputError
from .store import Store, _utc_naive, incidents_table, wards_table
from .users import ROLES, User

if TYPE_CHECKING:
    from .hotspots import HotspotParams, HotspotResult
    from .intake import ImportReport

log = logging.getLogger(__name__)

_EVERYONE = frozenset(ROLES)
PERMISSIONS: dict[str, frozenset[str]] = {
    "report_signal": _EVERYONE,
    "view_aggregates": _EVERYONE,
    "view_points": frozenset({"officer", "admin"}),
    "export_raw": frozenset({"officer", "admin"}),
    "view_reporter": frozenset({"admin"}),
    "plan_routes": frozenset({"resident", "officer", "admin"}),
    "view_coverage": frozenset({"officer", "municipality", "admin"}),
    "view_audit": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "apply_retention": frozenset({"admin"}),
}
"""Permission → the roles that have it. ``view_points`` covers points, descriptions and sources."""

SOURCE_OF_ROLE: dict[str, str] = {
    "resident": "was_member", "officer": "officer", "municipality": "municipality", "admin": "resident",
}
"""The ``source`` recorded for a signal reported through the form, by the reporter's role."""

_FORM_FIELDS = frozenset({
    "occurred_at", "date", "time", "occurred_from", "occurred_to", "category", "lat", "lon", "x", "y",
    "description", "on_patrol",
})

AGGREGATE_BY: tuple[str, ...] = ("ward", "category", "status")
"""Columns ``signal_counts`` may group by (never the source, nor anything finer than a ward)."""


def can(user: User, permission: str) -> bool:
    """Whether ``user``'s role has ``permission`` (a key of ``PERMISSIONS``)."""
    if permission not in PERMISSIONS:
        msg = f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}"
        raise InputError(msg)
    return user.role in PERMISSIONS[permission]


def require(user: User, permission: str) -> None:
    """Raise ``AccessDeniedError`` unless ``user`` has ``permission``."""
    if not can(user, permission):
        allowed = ", ".join(r for r in ROLES if r in PERMISSIONS[permission])
        msg = f"{user.name} ({user.role}) may not {permission.replace('_', ' ')}; allowed for: {allowed}"
        log.warning("access denied: %s", msg)
        raise AccessDeniedError(msg)


def hotspot_audience(user: User) -> str:
    """``"officer"`` for roles that may see points, else ``"public"``."""
    return "officer" if can(user, "view_points") else "public"


def visible_incidents(
    store: Store,
    user: User,
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    categories: Iterable[str] | None = None,
    include_personal: bool = False,
) -> gpd.GeoDataFrame:
    """Signals as points with descriptions and sources (``Store.incidents``), for officers and
    admins; ``include_personal`` (the reporter) for admins only. Not an export: not audited.

    Raises
    ------
    AccessDeniedError
        Residents and the municipality (use ``signal_counts`` or ``visible_hotspots``).
    """
    require(user, "view_points")
    if include_personal:
        require(user, "view_reporter")
    return store.incidents(
        ward=ward, since=since, until=until, categories=categories, include_personal=include_personal
    )


def signal_counts(
    store: Store,
    user: User,
    *,
    by: tuple[str, ...] = ("ward", "category"),
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Number of signals per group (``by`` ⊆ ``AGGREGATE_BY``), counted in the database.

    For residents groups with fewer than ``settings.PUBLIC_MIN_SIGNALS`` signals are left out
    (k-anonymity); other roles get exact counts. Columns: ``by`` + ``signals``.
    """
    require(user, "view_aggregates")
    unknown = [column for column in by if column not in AGGREGATE_BY]
    if unknown or not by:
        msg = f"by must be a non-empty subset of {', '.join(AGGREGATE_BY)}, got {', '.join(by) or 'nothing'}"
        raise InputError(msg)
    t = incidents_table
    columns = {"ward": wards_table.c.name.label("ward"), "category": t.c.category, "status": t.c.status}
    groups = [columns[column] for column in by]
    query = select(*groups, func.count(t.c.id).label("signals")).select_from(
        t.outerjoin(wards_table, t.c.ward_id == wards_table.c.id)
    )
    if since is not None:
        query = query.where(t.c.occurred_to >= _utc_naive(since))
    if until is not None:
        query = query.where(t.c.occurred_from < _utc_naive(until))
    query = query.group_by(*groups).order_by(*groups)
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=[*by, "signals"])
    frame["signals"] = frame["signals"].astype(int)
    if user.role == "resident":
        frame = frame[frame["signals"] >= settings.PUBLIC_MIN_SIGNALS].reset_index(drop=True)
    return frame


def visible_hotspots(
    store: Store,
    user: User,
    ward: str,
    *,
    params: HotspotParams | None = None,
    now: datetime | None = None,
) -> HotspotResult:
    """A ward's hotspots rendered for ``user``: officers and admins as asked (points with
    ``audience="officer"``), everyone else as public areas with at least
    ``settings.PUBLIC_MIN_SIGNALS`` signals (a lower ``public_min_signals`` is raised to it).

    Raises
    ------
    AccessDeniedError
        A role without ``view_points`` asks for ``audience="officer"``.
    """
    from .hotspots import find_hotspots
    from .tuning import hotspot_params

    params = params if params is not None else hotspot_params(store, audience=hotspot_audience(user))
    if params.audience != "public":
        require(user, "view_points")
    if not can(user, "view_points"):
        params = replace(
            params, audience="public", public_min_signals=max(params.public_min_signals, settings.PUBLIC_MIN_SIGNALS)
        )
    wards = store.wards()
    return find_hotspots(store.incidents(ward=ward), wards[wards["name"] == ward], params=params, now=now)


def audit_export(store: Store, user: User, what: str, n_rows: int, *, action: str = "export") -> None:
    """Record in the audit log that ``user`` exported ``n_rows`` rows of ``what``."""
    store.add_audit(user_name=user.name, role=user.role, action=action, what=what, n_rows=int(n_rows))
    log.info("audit: %s (%s) %s %d rows: %s", user.name, user.role, action, n_rows, what)


def export_incidents(
    store: Store,
    user: User,
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    categories: Iterable[str] | None = None,
    include_personal: bool = False,
) -> gpd.GeoDataFrame:
    """Raw signals for a download or file (officers, admins), recorded in the audit log (a
    refused attempt too, as ``action="denied"``).

    Raises
    ------
    AccessDeniedError
        Roles without ``export_raw``; ``include_personal`` without ``view_reporter``.
    """
    what = json.dumps(
        {
            "table": "incidents", "ward": ward, "since": _iso(since), "until": _iso(until),
            "categories": sorted(categories) if categories is not None else None,
            "personal": include_personal,
        },
        ensure_ascii=False,
    )
    try:
        require(user, "export_raw")
        if include_personal:
            require(user, "view_reporter")
    except AccessDeniedError:
        audit_export(store, user, what, 0, action="denied")
        raise
    frame = store.incidents(
        ward=ward, since=since, until=until, categories=categories, include_personal=include_personal
    )
    audit_export(store, user, what, len(frame))
    return frame


def audit_log(store: Store, user: User, *, limit: int | None = 500) -> pd.DataFrame:
    """The audit log, newest first (admins)."""
    require(user, "view_audit")
    return store.audit_entries(limit=limit)


def report_signal(
    store: Store, user: User, fields: Mapping[str, object], *, now: datetime | None = None
) -> ImportReport:
    """Store one signal typed into the form, exactly as an import would judge it.

    ``fields``: ``occurred_at`` (or ``date``/``time`` or a window ``occurred_from``/
    ``occurred_to``), ``category``, ``lat``/``lon`` (or RD ``x``/``y``), optional
    ``description`` and ``on_patrol``. The source follows from the role (``SOURCE_OF_ROLE``) and
    the reporter is the signed-in user, whatever ``fields`` says. Returns the ``ImportReport``
    (imported 1, or rejected 1 with the reason).
    """
    from .incidents import ParseOptions, RawTable
    from .intake import import_table

    require(user, "report_signal")
    unknown = sorted(set(fields) - _FORM_FIELDS)
    if unknown:
        msg = f"unknown signal fields: {', '.join(unknown)}; use {', '.join(sorted(_FORM_FIELDS))}"
        raise InputError(msg)
    row = {key: "" if value is None else str(value) for key, value in fields.items()}
    row["source"] = SOURCE_OF_ROLE[user.role]
    row["reporter"] = user.name
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    table = RawTable(rows=pd.DataFrame([row], dtype=object), name="form")
    return import_table(
        store, table, file_name=f"form:{user.name}", content_hash=digest,
        options=ParseOptions(default_source=row["source"]), rejects_dir=None, now=now,
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else pd.Timestamp(moment).isoformat()
