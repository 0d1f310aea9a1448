"""Access policy: what each role may see and do, enforced in the core (not only hidden in the UI).

- ``resident`` (WAS member): hotspots only as areas with at least k signals
  (``settings.PUBLIC_MIN_SIGNALS``), counts per ward and category with small cells suppressed;
  never points, descriptions, sources or reporters. May report signals and plan routes.
- ``officer``: also points, descriptions and sources, and raw exports (audited).
- ``municipality``: coverage and aggregates (exact counts), no points.
- ``admin``: everything, including reporter identity, the audit log and accounts.

Every function takes the signed-in ``users.User`` and raises ``AccessDeniedError`` (a
``PlannerError`` and a ``PermissionError``) for a request the role may not make. This module is
the only way a front-end (dashboard page, CLI command) reads signals, hotspots, hot streets,
coverage, patrols, agreements, accounts and the audit log: an import-linter contract keeps
``planner.storage.store`` out of ``app_pages`` and ``planner.cli``. Viewing points is an access to
personal data: officers' point views, every export of raw signals, every download or file of
points and every account change are written to the audit log (who, from where, what, format,
rows), after the file was written, never before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from . import settings
from ._errors import AccessDeniedError, InputError
from .output import write_csv, write_text, writing
from .storage import accounts as account_store
from .storage.accounts import AuditCheck
from .storage.store import Store, open_store
from .users import ROLES, User

if TYPE_CHECKING:
    import networkx as nx

    from .hotspots import HotspotResult, HotStreets
    from .patrols import PatrolRecord
    from .review.agreements import Agreement
    from .review.coverage import Coverage
    from .review.report import Report
    from .rounds import PatrolRound
    from .signals.intake import ImportReport

__all__ = ["Store", "open_store"]  # front-ends open the store here: they may not import planner.storage.store

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
    admins; ``include_personal`` (the reporter) for admins only. Recorded as a ``view``.

    Raises
    ------
    AccessDeniedError
        Residents and the municipality (use ``signal_counts`` or ``visible_hotspots``).
    """
    require(user, "view_points")
    if include_personal:
        require(user, "view_reporter")
    frame = store.incidents(
        ward=ward, since=since, until=until, categories=categories, include_personal=include_personal
    )
    record_access(store, user, _selection("incidents", ward, since, until, categories), len(frame), action="view")
    return frame


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
    frame = store.incident_counts(by, since=since, until=until)
    if user.role == "resident":
        frame = frame[frame["signals"] >= settings.PUBLIC_MIN_SIGNALS].reset_index(drop=True)
    return frame


def visible_hotspots(
    store: Store,
    user: User,
    ward: str | None,
    *,
    audience: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    categories: Iterable[str] | None = None,
    now: datetime | None = None,
    **options: Any,
) -> HotspotResult:
    """Hotspots of one ward (``None``: every ward) rendered for ``user``, weighted by the
    installation's calibration (``tuning.hotspot_params(store, **options)``; ``forecast=False``
    there keeps a ``window`` as given, for a map of that time of day).

    ``audience`` defaults to the richest the role may see (``hotspot_audience``); ``"public"``
    (areas with at least ``settings.PUBLIC_MIN_SIGNALS`` signals; a lower
    ``public_min_signals`` is raised to it) is open to everyone. An officer rendering shows
    points, so it is written to the audit log as a ``view``. ``since``/``until`` and
    ``categories`` select signals as ``Store.incidents`` does; ``now`` (default ``until``) is
    the reference time of recency and trends.

    Raises
    ------
    AccessDeniedError
        A role without ``view_points`` asks for ``audience="officer"``.
    """
    from .hotspots import find_hotspots
    from .hotspots.tuning import hotspot_params

    audience = audience if audience is not None else hotspot_audience(user)
    if audience != "public":
        require(user, "view_points")
    params = hotspot_params(store, audience=audience, **options)
    if params.audience == "public":
        params = replace(params, public_min_signals=max(params.public_min_signals, settings.PUBLIC_MIN_SIGNALS))
    wards = store.wards()
    shapes = wards if ward is None else wards[wards["name"] == ward]
    signals = store.incidents(ward=ward, since=since, until=until, categories=categories)
    result = find_hotspots(signals, shapes, params=params, now=now if now is not None else until)
    if result.signals is not None:
        record_access(store, user, _selection("hotspot points", ward, since, until, categories),
                      len(result.signals), action="view")
    return result


def visible_hot_streets(store: Store, user: User, graph: nx.MultiDiGraph, ward: str, hotspots: HotspotResult,
                        *, data_dir: str | Path | None = None) -> HotStreets:
    """The ward's streets scored as the installation's hot streets are (``tuning.hot_street_params``,
    fitted on the ward graphs in ``data_dir``) with the weights of ``hotspots`` (a
    ``visible_hotspots`` result); in a public rendering only the streets touching its areas."""
    from .hotspots import hot_streets
    from .hotspots.tuning import hot_street_params

    require(user, "view_aggregates")
    if hotspots.audience != "public":
        require(user, "view_points")
    scored = hot_streets(graph, store.incidents(ward=ward),
                         params=hot_street_params(store, hotspots.params, data_dir=data_dir), now=hotspots.now)
    return scored if hotspots.audience == "officer" else scored.public(hotspots.hotspots)


def record_access(
    store: Store, user: User, what: str, n_rows: int, *, action: str = "export", format: str | None = None
) -> None:
    """Write to the audit log that ``user`` (from ``user.via``) did ``action`` on ``n_rows``
    rows of ``what``, in ``format`` when a file was written."""
    account_store.add_audit(store, user_name=user.name, role=user.role, action=action, what=what, n_rows=int(n_rows),
                    format=format, via=user.via)
    log.info("audit: %s (%s) %s %d rows%s: %s", user.name, user.role, action, n_rows,
             f" as {format}" if format else "", what)


@dataclass(frozen=True)
class ExportedFile:
    """A file an export wrote: where, in which format, how many rows."""

    path: Path
    format: str
    rows: int

    def to_json(self) -> dict:
        return {"file": str(self.path), "format": self.format, "rows": self.rows}


EXPORT_FORMATS: dict[str, str] = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
"""File suffix → format of a raw-signal export."""


def export_incidents(
    store: Store,
    user: User,
    file: Path,
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    categories: Iterable[str] | None = None,
    include_personal: bool = False,
) -> ExportedFile:
    """Write raw signals to ``file`` (``.csv`` with ``;`` for Dutch Excel, ``.geojson`` or
    ``.gpkg``) for officers and admins, then record the export (format, rows) in the audit log.
    A refused attempt is recorded as ``action="denied"``; a bad suffix or a failed write is
    not recorded, since nothing left the store.

    Raises
    ------
    AccessDeniedError
        Roles without ``export_raw``; ``include_personal`` without ``view_reporter``.
    InputError
        ``file`` has another suffix than ``EXPORT_FORMATS``.
    PlannerError
        ``file`` cannot be written (the reason from the operating system).
    """
    file = Path(file)
    what = json.dumps(
        {
            "table": "incidents", "ward": ward, "since": _iso(since), "until": _iso(until),
            "categories": sorted(categories) if categories is not None else None,
            "personal": include_personal, "file": file.name,
        },
        ensure_ascii=False,
    )
    try:
        require(user, "export_raw")
        if include_personal:
            require(user, "view_reporter")
    except AccessDeniedError:
        record_access(store, user, what, 0, action="denied")
        raise
    fmt = _export_format(file)
    frame = store.incidents(
        ward=ward, since=since, until=until, categories=categories, include_personal=include_personal
    )

    if fmt == "csv":
        write_csv(frame.drop(columns="geometry"), file)
    else:
        with writing(file):
            file.parent.mkdir(parents=True, exist_ok=True)
            frame.to_file(file, driver="GPKG" if fmt == "gpkg" else "GeoJSON")
    record_access(store, user, what, len(frame), format=fmt)
    return ExportedFile(path=file, format=fmt, rows=len(frame))


def export_hotspots(store: Store, user: User, result: HotspotResult, file: Path) -> ExportedFile:
    """Write a ``visible_hotspots`` result to ``file`` as GeoJSON (WGS84); a rendering with
    points is recorded in the audit log as an export of those points."""
    file = Path(file)
    write_text(file, json.dumps(result.to_geojson(), ensure_ascii=False))
    if result.signals is not None:
        record_access(store, user, json.dumps({"table": "hotspot points", "file": file.name}), len(result.signals),
                      format="geojson")
    return ExportedFile(path=file, format="geojson", rows=len(result.hotspots))


def record_download(store: Store, user: User, content: bytes, *, what: str, n_rows: int, format: str) -> bytes:
    """Record a dashboard download of points and hand back its bytes: the page passes a
    function calling this as the download's data, which Streamlit runs only on a click."""
    require(user, "view_points")
    record_access(store, user, what, n_rows, format=format)
    return content


def visible_agreements(store: Store, user: User, **filters: Any) -> list[Agreement]:
    """Agreements (``agreements.list_agreements(store, **filters)``); roles without
    ``view_points`` get them without location and signal id (a hotspot centroid of the officer
    view, or the signal followed up, may sit on one reported place)."""
    from .review.agreements import list_agreements

    require(user, "view_aggregates")
    found = list_agreements(store, **filters)
    if can(user, "view_points"):
        return found
    return [replace(a, lat=None, lon=None, incident_id=None) for a in found]


def visible_patrols(store: Store, user: User, **filters: Any) -> list[PatrolRecord]:
    """The patrol log (``patrols.list_patrols(store, **filters)``): no names, open to every role."""
    from .patrols import list_patrols

    require(user, "view_aggregates")
    return list_patrols(store, **filters)


def patrol_round(store: Store, user: User, patrol_id: int) -> PatrolRound:
    """A saved round with its stops and visits (``rounds.patrol_round``), for those who walk
    rounds (``plan_routes``): stops, not signals, so no points are shown."""
    from . import rounds

    require(user, "plan_routes")
    return rounds.patrol_round(store, patrol_id)


def visit_stop(store: Store, user: User, patrol_id: int, *, team: int, stop: int, visited: bool = True
               ) -> PatrolRound:
    """Mark a stop of a round visited (``rounds.visit_stop``) or, with ``visited=False``, take
    that back (``rounds.unvisit_stop``)."""
    from . import rounds

    require(user, "plan_routes")
    change = rounds.visit_stop if visited else rounds.unvisit_stop
    return change(store, patrol_id, team=team, stop=stop)


def finish_round(store: Store, user: User, patrol_id: int, **options: Any) -> PatrolRound:
    """Record a round as walked from its visits (``rounds.finish_round``)."""
    from . import rounds

    require(user, "plan_routes")
    return rounds.finish_round(store, patrol_id, **options)


def coverage_report(store: Store, user: User, start, end, **options: Any) -> Report:
    """The coverage and effect report of ``[start, end)`` (``report.build_report``): aggregates
    per ward and period for roles with ``view_coverage``."""
    from .review.report import build_report

    require(user, "view_coverage")
    return build_report(store, start, end, **options)


def ward_coverage(store: Store, user: User, ward: str, start, end, **options: Any) -> Coverage:
    """One ward's coverage over ``[start, end)`` (``coverage.coverage_for``) for roles with ``view_coverage``."""
    from .review.coverage import coverage_for

    require(user, "view_coverage")
    return coverage_for(store, ward, start, end, **options)


def audit_log(store: Store, user: User, *, limit: int | None = 500) -> pd.DataFrame:
    """The audit log, newest first (admins)."""
    require(user, "view_audit")
    return account_store.audit_entries(store, limit=limit)


def verify_audit(store: Store, user: User) -> AuditCheck:
    """Check the audit log's hash chain (admins): ``AuditCheck.ok`` or the first broken entry."""
    require(user, "view_audit")
    return account_store.verify_audit(store)


# -- accounts: every change recorded in the audit log, by whoever made it ----------------------
def accounts_exist(store: Store) -> bool:
    """Whether the installation has accounts (then everyone signs in); names no one."""
    from .users import list_users

    return bool(list_users(store))


def accounts(store: Store, user: User) -> list[dict]:
    """``users.list_users`` for admins."""
    from .users import list_users

    require(user, "manage_users")
    return list_users(store)


def add_account(store: Store, user: User, name: str, *, role: str, password: str) -> User:
    """``users.add_user`` by an admin, recorded in the audit log."""
    from .users import add_user

    require(user, "manage_users")
    added = add_user(store, name, role=role, password=password)
    record_access(store, user, json.dumps({"account": added.name, "change": f"added as {added.role}"}), 1,
                  action="account")
    return added


def set_account_password(store: Store, user: User, name: str, password: str) -> None:
    """``users.set_password`` by an admin, recorded in the audit log."""
    from .users import set_password

    require(user, "manage_users")
    set_password(store, name, password)
    record_access(store, user, json.dumps({"account": name, "change": "password"}), 1, action="account")


def set_account_disabled(store: Store, user: User, name: str, *, disabled: bool = True) -> None:
    """``users.set_disabled`` by an admin, recorded in the audit log."""
    from .users import set_disabled

    require(user, "manage_users")
    set_disabled(store, name, disabled=disabled)
    record_access(store, user, json.dumps({"account": name, "change": "disabled" if disabled else "enabled"}), 1,
                  action="account")


def upgrade_schema(url: str) -> tuple[str, int | None, int]:
    """Create or upgrade the store's schema at ``url``: (URL without password, before, after)."""
    from .storage.store import create_store_engine, migrate

    engine = create_store_engine(url)
    try:
        before, after = migrate(engine)
    finally:
        engine.dispose()
    return engine.url.render_as_string(hide_password=True), before, after


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
    from .signals.incidents import ParseOptions, RawTable
    from .signals.intake import import_table

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


def _selection(table: str, ward: str | None, since, until, categories) -> str:
    return json.dumps({"table": table, "ward": ward, "since": _iso(since), "until": _iso(until),
                       "categories": sorted(categories) if categories is not None else None}, ensure_ascii=False)


def _export_format(file: Path) -> str:
    fmt = EXPORT_FORMATS.get(file.suffix.lower())
    if fmt is None:
        msg = f"{file.name}: an export file must end in .csv, .geojson or .gpkg"
        raise InputError(msg)
    return fmt


