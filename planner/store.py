"""The store: SQLAlchemy 2 Core over a SQLite file by default, any SQLAlchemy URL otherwise.

Only portable SQL is used here so that the same code runs on PostgreSQL. Times are stored as
naive UTC; geometries as WGS84 WKT (ward polygons) or longitude/latitude columns (points).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import (
    Boolean, Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text,
    create_engine, event, func, insert, select, update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from . import settings
from ._errors import InputError, PlannerError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Bumped with every schema change; a store of a newer version is refused."""

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

wards_table = Table(
    "wards", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("code", String(50)),
    Column("geometry_wkt", Text, nullable=False),
    Column("meeting_point_name", String(200)),
    Column("meeting_point_lat", Float),
    Column("meeting_point_lon", Float),
    Column("updated_at", DateTime, nullable=False),
)

import_batches = Table(
    "import_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("imported_at", DateTime, nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("read", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("rejects_file", String(1000)),
)

incidents_table = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True),
    Column("content_key", String(64), nullable=False, unique=True),
    Column("external_id", String(200)),
    Column("occurred_from", DateTime, nullable=False, index=True),
    Column("occurred_to", DateTime, nullable=False),
    Column("category", String(40), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("on_patrol", Boolean, nullable=False, default=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("description", Text),
    Column("reporter", Text),
    Column("status", String(20), nullable=False),
    Column("reported_at", DateTime),
    Column("ward_id", Integer, ForeignKey("wards.id"), index=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id")),
    Column("created_at", DateTime, nullable=False),
)

rejected_rows = Table(
    "rejected_rows", metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
    Column("row_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
)

patrols_table = Table(
    "patrols", metadata,
    Column("id", Integer, primary_key=True),
    Column("ward_id", Integer, ForeignKey("wards.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("planned_start", DateTime),
    Column("planned_end", DateTime),
    Column("actual_start", DateTime),
    Column("actual_end", DateTime),
    Column("team_size", Integer, nullable=False),
    Column("route_geojson", Text),
    Column("notes", Text),
    Column("created_at", DateTime, nullable=False),
)

_CHUNK = 500


def _utc_naive(moment: datetime | pd.Timestamp | None) -> datetime | None:
    if moment is None or pd.isna(moment):
        return None
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@dataclass(frozen=True)
class ImportCounts:
    """What one stored batch added."""

    batch_id: int
    imported: int
    duplicates: int


class Store:
    """A WAS Planner database: create it with ``open_store(url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything in the block is stored, or nothing is."""
        with self.engine.begin() as connection:
            yield connection

    # -- wards -------------------------------------------------------------------------------
    def save_wards(self, wards: gpd.GeoDataFrame) -> int:
        """Insert or update wards by name (columns name, code, geometry; any CRS)."""
        wgs = wards.to_crs(settings.WGS84)
        with self.transaction() as conn:
            existing = dict(conn.execute(select(wards_table.c.name, wards_table.c.id)).all())
            for row in wgs.itertuples():
                values = {
                    "name": row.name,
                    "code": getattr(row, "code", None) or None,
                    "geometry_wkt": shapely.to_wkt(row.geometry, rounding_precision=7),
                    "updated_at": _now(),
                }
                for key in ("meeting_point_name", "meeting_point_lat", "meeting_point_lon"):
                    value = getattr(row, key, None)
                    if value is not None and not pd.isna(value):
                        values[key] = value
                if row.name in existing:
                    conn.execute(update(wards_table).where(wards_table.c.id == existing[row.name]).values(values))
                else:
                    conn.execute(insert(wards_table).values(values))
        log.info("stored %d wards", len(wgs))
        return len(wgs)

    def wards(self) -> gpd.GeoDataFrame:
        """All stored wards in WGS84, sorted by name."""
        query = select(
            wards_table.c.id, wards_table.c.name, wards_table.c.code, wards_table.c.geometry_wkt,
            wards_table.c.meeting_point_name, wards_table.c.meeting_point_lat,
            wards_table.c.meeting_point_lon,
        ).order_by(wards_table.c.name)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys()))
        geometry = gpd.GeoSeries.from_wkt(frame.pop("geometry_wkt"), crs=settings.WGS84)
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.WGS84)

    def ward_summary(self) -> list[dict]:
        """``[{"name", "code", "incidents"}]`` per ward, sorted by name."""
        query = (
            select(wards_table.c.name, wards_table.c.code, func.count(incidents_table.c.id))
            .select_from(wards_table.outerjoin(incidents_table, incidents_table.c.ward_id == wards_table.c.id))
            .group_by(wards_table.c.id, wards_table.c.name, wards_table.c.code)
            .order_by(wards_table.c.name)
        )
        with self.engine.connect() as conn:
            return [{"name": n, "code": c, "incidents": int(k)} for n, c, k in conn.execute(query)]

    def ward_ids(self, conn: Connection) -> dict[str, int]:
        return dict(conn.execute(select(wards_table.c.name, wards_table.c.id)).all())

    def set_incident_wards(self, assignments: pd.Series) -> None:
        """Set each incident's ward: ``assignments`` maps incident id → ward name (or None)."""
        with self.transaction() as conn:
            ids = self.ward_ids(conn)
            for ward_name, group in assignments.groupby(assignments.fillna("")):
                ward_id = ids.get(ward_name) if ward_name else None
                for chunk in _chunks(list(group.index), _CHUNK):
                    conn.execute(
                        update(incidents_table).where(incidents_table.c.id.in_(chunk)).values(ward_id=ward_id)
                    )

    # -- incidents ---------------------------------------------------------------------------
    def known_keys(self, keys: Iterable[str], conn: Connection | None = None) -> set[str]:
        """Which of ``keys`` are stored already."""
        keys = list(keys)
        found: set[str] = set()
        with (self.engine.connect() if conn is None else nullcontext(conn)) as c:
            for chunk in _chunks(keys, _CHUNK):
                column = incidents_table.c.content_key
                found.update(c.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    def add_batch(
        self,
        valid: pd.DataFrame,
        rejects: pd.DataFrame,
        *,
        file_name: str,
        content_hash: str,
        rejects_file: str | None,
    ) -> ImportCounts:
        """Store one import atomically: its batch record, new incidents and rejected rows.

        ``valid`` has the ``incidents.COLUMNS`` plus ``ward`` (a name or None). Rows whose
        content key is stored already, or repeats within the batch, count as duplicates.
        """
        with self.transaction() as conn:
            batch_id = conn.execute(
                insert(import_batches).values(
                    imported_at=_now(), file_name=file_name, content_hash=content_hash,
                    read=len(valid) + len(rejects), imported=0, duplicates=0,
                    rejected=len(rejects), rejects_file=rejects_file,
                )
            ).inserted_primary_key[0]
            known = self.known_keys(valid["content_key"], conn)
            fresh = valid[~valid["content_key"].isin(known)].drop_duplicates("content_key")
            ward_ids = self.ward_ids(conn)
            created = _now()
            records = [
                {
                    "content_key": r.content_key,
                    "external_id": r.external_id or None,
                    "occurred_from": _utc_naive(r.occurred_from),
                    "occurred_to": _utc_naive(r.occurred_to),
                    "category": r.category,
                    "source": r.source,
                    "on_patrol": bool(r.on_patrol),
                    "lat": float(r.lat),
                    "lon": float(r.lon),
                    "description": r.description or None,
                    "reporter": r.reporter or None,
                    "status": r.status,
                    "reported_at": _utc_naive(r.reported_at),
                    "ward_id": ward_ids.get(r.ward) if isinstance(r.ward, str) else None,
                    "batch_id": batch_id,
                    "created_at": created,
                }
                for r in fresh.itertuples()
            ]
            for chunk in _chunks(records, 10_000):
                conn.execute(insert(incidents_table), chunk)
            reject_records = [
                {
                    "batch_id": batch_id,
                    "row_number": int(row["row_number"]),
                    "row_json": json.dumps(
                        {k: v for k, v in row.items() if k not in ("row_number", "reason")},
                        ensure_ascii=False, default=str,
                    ),
                    "reason": row["reason"],
                }
                for row in rejects.to_dict("records")
            ]
            for chunk in _chunks(reject_records, 10_000):
                conn.execute(insert(rejected_rows), chunk)
            counts = ImportCounts(batch_id=batch_id, imported=len(records), duplicates=len(valid) - len(records))
            conn.execute(
                update(import_batches).where(import_batches.c.id == batch_id)
                .values(imported=counts.imported, duplicates=counts.duplicates)
            )
        return counts

    def incidents(
        self,
        *,
        ward: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        categories: Iterable[str] | None = None,
        include_personal: bool = False,
    ) -> gpd.GeoDataFrame:
        """Stored incidents as a WGS84 GeoDataFrame (times timezone-aware UTC).

        ``include_personal`` adds the reporter column; leave it off for anything shown to users.
        """
        t = incidents_table
        columns = [
            t.c.id, t.c.external_id, t.c.occurred_from, t.c.occurred_to, t.c.category, t.c.source,
            t.c.on_patrol, t.c.lat, t.c.lon, t.c.description, t.c.status, t.c.reported_at,
            wards_table.c.name.label("ward"),
        ]
        if include_personal:
            columns.append(t.c.reporter)
        query = select(*columns).select_from(t.outerjoin(wards_table, t.c.ward_id == wards_table.c.id))
        if ward is not None:
            query = query.where(wards_table.c.name == ward)
        if since is not None:
            query = query.where(t.c.occurred_to >= _utc_naive(since))
        if until is not None:
            query = query.where(t.c.occurred_from < _utc_naive(until))
        if categories is not None:
            query = query.where(t.c.category.in_(list(categories)))
        query = query.order_by(t.c.occurred_from, t.c.id)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys()))
        for column in ("occurred_from", "occurred_to", "reported_at"):
            frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
        frame["on_patrol"] = frame["on_patrol"].astype(bool)
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs=settings.WGS84)
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.WGS84)

    def incident_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(incidents_table)).scalar_one())

    def rejected(self, batch_id: int) -> pd.DataFrame:
        """The rejected rows of one batch: the original cells plus ``row_number`` and ``reason``."""
        query = select(rejected_rows.c.row_number, rejected_rows.c.row_json, rejected_rows.c.reason).where(
            rejected_rows.c.batch_id == batch_id
        ).order_by(rejected_rows.c.row_number)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(
            [{**json.loads(raw), "row_number": number, "reason": reason} for number, raw, reason in rows]
        )

    def batches(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            query = select(import_batches).order_by(import_batches.c.id)
            return pd.DataFrame(conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys()))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_store(url: str | None = None) -> Store:
    """Open (and on first use create) the store at ``url``; default: ``settings.database_url()``.

    Raises
    ------
    InputError
        The URL is not a database URL SQLAlchemy understands.
    PlannerError
        The database cannot be opened, or was written by a newer WAS Planner.
    """
    url = url or settings.database_url()
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as error:
        msg = f"--db {url!r} is not a usable database URL ({error}); e.g. sqlite:///data/was.db"
        raise InputError(msg) from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            version = conn.execute(select(schema_version.c.version)).scalar()
            if version is None:
                conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
            elif version > SCHEMA_VERSION:
                msg = f"the store at {url} has schema version {version}; this WAS Planner knows {SCHEMA_VERSION}: upgrade it"
                raise PlannerError(msg)
    except OperationalError as error:
        msg = f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {error.orig}"
        raise PlannerError(msg) from None
    return Store(engine)
