"""The store: SQLAlchemy 2 Core over a SQLite file by default, or PostgreSQL + PostGIS.

Writers use portable SQL only: times are stored as naive UTC, geometries as WGS84 WKT (ward
polygons) and longitude/latitude columns (points). On PostGIS the schema adds generated
``geom`` columns with spatial indexes, and the few queries where the database pays off (ward
assignment, "within 50 m") run there; SQLite gets a portable path with the same answers.
The tables are described in ``schema``; the Alembic migrations in ``migrations`` create and upgrade them.

``Store`` opens the database and holds its transactions, the wards, the signals, the import
batches and the calibrations; the other tables have their own modules beside it (``patrols``,
``agreements``, ``accounts``, ``outcomes``, ``retention``), functions that take the store or
the connection of one of its transactions. No module outside this package runs SQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import (
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError

from .. import settings
from .._errors import InputError, PlannerError
from .._time import now_utc_naive, utc_naive
from .schema import (
    calibrations_table,
    import_batches,
    incidents_table,
    patrols_table,
    rejected_rows,
    schema_version,
    wards_table,
)

log = logging.getLogger(__name__)

def _head_version() -> int:
    versions = Path(__file__).with_name("migrations") / "versions"
    return max(int(path.name[:4]) for path in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))


SCHEMA_VERSION = _head_version()
"""The newest migration's number (revision ``NNNN`` leaves the store at version N): adding a
migration file bumps it; a store of a newer version is refused."""

_MIGRATION_LOCK = 0x57A5_0007
"""PostgreSQL advisory lock held while migrating, so concurrent upgrades run one after another."""

CHUNK = 500
_EARTH_RADIUS_M = 6_371_008.8


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLAlchemy, not pysqlite, decides when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # First: switching a fresh file to WAL waits on the busy timeout for another connection's read
    # lock too (it had pysqlite's default 5 s when this came after it).
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL lets the dashboard read while an import writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front (BEGIN IMMEDIATE), so two writers queue
    # on busy_timeout instead of one failing when it upgrades a read lock; readers never block.
    immediate = conn.get_execution_options().get("was_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class ImportCounts:
    """What one stored batch added (``updated``: stored counts it replaced, outcomes only)."""

    batch_id: int
    imported: int
    duplicates: int
    updated: int = 0


class Store:
    """A WAS Planner database: create it with ``open_store(url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Close pooled connections when the store is dropped (a CLI command, a test): PostgreSQL
        # connections left to the garbage collector warn and hold a server slot until then.
        weakref.finalize(self, engine.dispose)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_postgis(self) -> bool:
        """True on PostgreSQL (always with PostGIS: the migrations enable it)."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: everything in the block is stored, or nothing is."""
        with self.engine.connect() as connection:
            connection.execution_options(was_write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def atomic(self) -> Iterator[Store]:
        """This store as seen from one write transaction: everything done through the yielded
        store (the writes of several steps, and reads that see them) is stored together when the
        block ends, or not at all if it raises."""
        with self.transaction() as connection:
            yield _AtomicStore(self.engine, connection)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(schema_version.c.version)).scalar_one())

    # -- wards -------------------------------------------------------------------------------
    def save_wards(self, wards: gpd.GeoDataFrame) -> int:
        """Insert or update wards by name (columns name, code, geometry; any CRS)."""
        wgs = wards.to_crs(settings.WGS84)
        with self.transaction() as conn:
            existing = dict(conn.execute(select(wards_table.c.name, wards_table.c.id)).all())
            for row in wgs.itertuples():
                point = row.geometry.representative_point()
                values = {
                    "name": row.name,
                    "code": getattr(row, "code", None) or None,
                    "geometry_wkt": shapely.to_wkt(row.geometry, rounding_precision=7),
                    "rep_lat": round(point.y, 7),
                    "rep_lon": round(point.x, 7),
                    "updated_at": now_utc_naive(),
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
                for chunk in chunks(list(group.index), CHUNK):
                    conn.execute(
                        update(incidents_table).where(incidents_table.c.id.in_(chunk)).values(ward_id=ward_id)
                    )

    def reassign_wards_in_database(self) -> int:
        """On PostGIS, assign every stored signal to the ward containing it in one UPDATE over the
        spatial index; returns how many lie in a ward. A point on a shared border goes to the ward
        whose name sorts first, as ``signals.wards.assign_wards`` decides elsewhere."""
        inner = text(
            "(SELECT w.id FROM wards AS w WHERE ST_Intersects(w.geom, incidents.geom) "
            "ORDER BY w.name LIMIT 1)"
        )
        with self.transaction() as conn:
            conn.execute(update(incidents_table).values(ward_id=inner))
            count = select(func.count()).select_from(incidents_table).where(incidents_table.c.ward_id.is_not(None))
            return int(conn.execute(count).scalar_one())

    def incident_points(self) -> pd.DataFrame:
        """Every stored signal's id, lon and lat (WGS84)."""
        with self.engine.connect() as conn:
            return pd.DataFrame(
                conn.execute(select(incidents_table.c.id, incidents_table.c.lon, incidents_table.c.lat)).all(),
                columns=["id", "lon", "lat"],
            )

    def recent_patrol_edges(self, ward: str, *, last: int = 3) -> frozenset:
        """The street edges of the ward's ``last`` most recent patrols (planned or walked)."""
        query = (
            select(patrols_table.c.route_geojson)
            .select_from(patrols_table.join(wards_table, patrols_table.c.ward_id == wards_table.c.id))
            .where(wards_table.c.name == ward)
            .order_by(patrols_table.c.planned_start.desc(), patrols_table.c.id.desc())
            .limit(last)
        )
        with self.engine.connect() as conn:
            documents = conn.execute(query).scalars().all()
        return frozenset((u, v) for document in documents for u, v in json.loads(document or "{}").get("edges", []))

    # -- incidents ---------------------------------------------------------------------------
    def known_keys(self, keys: Iterable[str], conn: Connection | None = None) -> set[str]:
        """Which of ``keys`` are stored already."""
        keys = list(keys)
        found: set[str] = set()
        with (self.engine.connect() if conn is None else nullcontext(conn)) as c:
            for chunk in chunks(keys, CHUNK):
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
                    imported_at=now_utc_naive(), file_name=file_name, content_hash=content_hash,
                    read=len(valid) + len(rejects), imported=0, duplicates=0,
                    rejected=len(rejects), rejects_file=rejects_file,
                )
            ).inserted_primary_key[0]
            known = self.known_keys(valid["content_key"], conn)
            # Sorted keys: concurrent imports lock index entries in one order and cannot deadlock.
            fresh = valid[~valid["content_key"].isin(known)].drop_duplicates("content_key")
            fresh = fresh.sort_values("content_key", kind="stable")
            ward_ids = self.ward_ids(conn)
            created = now_utc_naive()
            records = _incident_records(fresh, ward_ids=ward_ids, batch_id=batch_id, created=created)
            inserted = 0
            for chunk in chunks(records, 10_000):
                inserted += self._insert_new(conn, chunk)
            add_rejected_rows(conn, rejects, batch_id)
            counts = ImportCounts(batch_id=batch_id, imported=inserted, duplicates=len(valid) - inserted)
            conn.execute(
                update(import_batches).where(import_batches.c.id == batch_id)
                .values(imported=counts.imported, duplicates=counts.duplicates)
            )
        return counts

    def _insert_new(self, conn: Connection, records: list[dict]) -> int:
        """Insert incidents, skipping content keys another writer stored meanwhile; returns how
        many were new. (A concurrent import of the same rows waits for ours, then skips them.)"""
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and len(records) > 100:
            return _copy_new_incidents(conn, records)
        if conn.dialect.name == "sqlite":  # INSERT OR IGNORE; pysqlite sums rowcount over executemany
            statement = sqlite_dialect.insert(incidents_table).on_conflict_do_nothing(index_elements=["content_key"])
            return conn.execute(statement, records).rowcount
        dialect = {"postgresql": pg_dialect}.get(conn.dialect.name)
        if dialect is None:
            conn.execute(insert(incidents_table), records)
            return len(records)
        statement = (
            dialect.insert(incidents_table)
            .on_conflict_do_nothing(index_elements=["content_key"])
            .returning(incidents_table.c.id)
        )
        return len(conn.execute(statement, records).all())

    def incidents(
        self,
        *,
        ward: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        categories: Iterable[str] | None = None,
        include_personal: bool = False,
    ) -> gpd.GeoDataFrame:
        """Stored incidents as a WGS84 GeoDataFrame (times timezone-aware UTC), with ``stored_at``:
        when the import that stored each one ran (its status dates from then).

        ``include_personal`` adds the reporter column; leave it off for anything shown to users.
        """
        query = _incident_query(
            ward=ward, since=since, until=until, categories=categories, include_personal=include_personal
        ).order_by(incidents_table.c.occurred_from, incidents_table.c.id)
        with self.engine.connect() as conn:
            return _incident_frame(conn, query)

    def incidents_within(
        self,
        geometry: shapely.Geometry,
        *,
        distance_m: float = 50.0,
        since: datetime | None = None,
        until: datetime | None = None,
        categories: Iterable[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Stored incidents within ``distance_m`` metres of a WGS84 point or line (e.g. a walked
        route), like ``incidents()`` plus a ``distance_m`` column, nearest first.

        On PostGIS an ``ST_DWithin`` on the geography index; elsewhere a bounding-box query on
        the lat/lon index, then exact distances in a local metric projection.
        """
        if distance_m < 0:
            msg = f"distance_m must be ≥ 0, got {distance_m}"
            raise InputError(msg)
        query = _incident_query(since=since, until=until, categories=categories)
        if self.is_postgis:
            shape = text("ST_GeomFromText(:wkt, 4326)::geography")
            geog = literal_column("incidents.geom::geography")
            query = query.add_columns(func.ST_Distance(geog, shape).label("distance_m")).where(
                func.ST_DWithin(geog, shape, distance_m)
            )
            with self.engine.connect() as conn:
                frame = _incident_frame(conn, query, {"wkt": shapely.to_wkt(geometry)})
            frame["distance_m"] = frame["distance_m"].astype(float)
            return frame.sort_values(["distance_m", "id"], kind="stable").reset_index(drop=True)
        lon0, lat0, lon1, lat1 = geometry.bounds
        dlat = math.degrees(distance_m / _EARTH_RADIUS_M)
        widest = max(abs(lat0), abs(lat1)) + dlat
        dlon = dlat / max(math.cos(math.radians(min(widest, 89.9))), 1e-6)
        t = incidents_table
        query = query.where(
            t.c.lat.between(lat0 - dlat, lat1 + dlat), t.c.lon.between(lon0 - dlon, lon1 + dlon)
        )
        with self.engine.connect() as conn:
            frame = _incident_frame(conn, query)
        if frame.empty:
            return frame.assign(distance_m=pd.Series(dtype=float))
        local = frame.estimate_utm_crs()
        shape = gpd.GeoSeries([geometry], crs=settings.WGS84).to_crs(local).iloc[0]
        frame["distance_m"] = frame.geometry.to_crs(local).distance(shape).to_numpy()
        frame = frame[frame["distance_m"] <= distance_m]
        return frame.sort_values(["distance_m", "id"], kind="stable").reset_index(drop=True)

    def incident_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(incidents_table)).scalar_one())

    def incident_counts(
        self, by: Iterable[str], *, since: datetime | None = None, until: datetime | None = None
    ) -> pd.DataFrame:
        """Number of signals per group of ``by`` (of ``ward``, ``category``, ``status``) whose time
        span meets ``[since, until)``: columns ``by`` + ``signals``, ordered by the groups."""
        by = list(by)
        t = incidents_table
        columns = {"ward": wards_table.c.name.label("ward"), "category": t.c.category, "status": t.c.status}
        groups = [columns[column] for column in by]
        query = select(*groups, func.count(t.c.id).label("signals")).select_from(
            t.outerjoin(wards_table, t.c.ward_id == wards_table.c.id)
        )
        if since is not None:
            query = query.where(t.c.occurred_to >= utc_naive(since))
        if until is not None:
            query = query.where(t.c.occurred_from < utc_naive(until))
        query = query.group_by(*groups).order_by(*groups)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=[*by, "signals"])
        frame["signals"] = frame["signals"].astype(int)
        return frame

    def calibration_fingerprint(self) -> str:
        """What a calibration is fitted on: changes whenever a signal is added, removed, resolved or
        anonymised, and whenever a ward is added or redrawn (the wards are its study area)."""
        t = incidents_table
        query = select(func.count(), func.max(t.c.id), func.count(t.c.anonymised_at),
                       func.sum(case((t.c.status == "resolved", 1), else_=0)))
        wards = select(wards_table.c.name, wards_table.c.geometry_wkt).order_by(wards_table.c.name)
        with self.engine.connect() as conn:
            count, top, anonymised, resolved = conn.execute(query).one()
            shapes = json.dumps([list(row) for row in conn.execute(wards)])
        study_area = hashlib.sha256(shapes.encode()).hexdigest()[:16]
        return f"{count}:{top or 0}:{anonymised}:{resolved or 0}:{study_area}"

    def save_calibration(self, fingerprint: str, choice: dict) -> None:
        """Keep a fit (``Calibration.to_json``) for the signals of ``fingerprint``; older fits go."""
        with self.engine.begin() as conn:
            conn.execute(delete(calibrations_table))
            conn.execute(insert(calibrations_table).values(
                fitted_at=now_utc_naive(), fingerprint=fingerprint,
                choice_json=json.dumps(choice, ensure_ascii=False)))

    def calibration(self) -> tuple[str, dict] | None:
        """The latest fit as (fingerprint, choice), or ``None`` before the first."""
        t = calibrations_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.fingerprint, t.c.choice_json).order_by(t.c.id.desc()).limit(1)).first()
        return None if row is None else (row.fingerprint, json.loads(row.choice_json))

    # -- import batches and their rejected rows ---------------------------------------------
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


class _OneConnection:
    """The engine of a ``Store.atomic`` block: every connect is the block's connection, every begin
    a savepoint inside its transaction; the rest (dialect, url) is the real engine's."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self._engine, self._connection = engine, connection

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._connection.begin_nested():
            yield self._connection


class _AtomicStore(Store):
    """A store whose reads and writes all run in one open transaction (see ``Store.atomic``)."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        # No finaliser: the engine stays the caller's.
        self.engine = _OneConnection(engine, connection)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection


def add_rejected_rows(conn: Connection, rejects: pd.DataFrame, batch_id: int) -> None:
    """Keep a batch's rejected rows: original cells as JSON, row number and reason."""
    records = [
        {
            "batch_id": batch_id,
            "row_number": int(row["row_number"]),
            "row_json": json.dumps(
                {k: v for k, v in row.items() if k not in ("row_number", "reason")}, ensure_ascii=False, default=str
            ),
            "reason": row["reason"],
        }
        for row in rejects.to_dict("records")
    ]
    for chunk in chunks(records, 10_000):
        conn.execute(insert(rejected_rows), chunk)


def _naive_utc_values(values: pd.Series) -> list:
    """Timezone-aware (or naive UTC) times → naive UTC ``datetime`` objects, None for missing."""
    stamps = pd.to_datetime(values, utc=True).dt.tz_localize(None)
    out = np.array(stamps.dt.to_pydatetime(), dtype=object)
    out[stamps.isna().to_numpy()] = None
    return out.tolist()


def _incident_records(fresh: pd.DataFrame, *, ward_ids: dict[str, int], batch_id: int, created: datetime) -> list[dict]:
    """Validated rows → insert parameters, column-wise (a million rows in seconds, not minutes)."""
    text_or_none = {
        column: [v if isinstance(v, str) and v else None for v in fresh[column].tolist()]
        for column in ("external_id", "description", "reporter")
    }
    columns = {
        "content_key": fresh["content_key"].tolist(),
        "external_id": text_or_none["external_id"],
        "occurred_from": _naive_utc_values(fresh["occurred_from"]),
        "occurred_to": _naive_utc_values(fresh["occurred_to"]),
        "category": fresh["category"].tolist(),
        "source": fresh["source"].tolist(),
        "on_patrol": fresh["on_patrol"].astype(bool).tolist(),
        "lat": fresh["lat"].astype(float).tolist(),
        "lon": fresh["lon"].astype(float).tolist(),
        "description": text_or_none["description"],
        "reporter": text_or_none["reporter"],
        "status": fresh["status"].tolist(),
        "reported_at": _naive_utc_values(fresh["reported_at"]),
        "ward_id": [ward_ids.get(w) if isinstance(w, str) else None for w in fresh["ward"].tolist()],
    }
    names = list(columns)
    return [
        {**dict(zip(names, values, strict=True)), "batch_id": batch_id, "created_at": created}
        for values in zip(*columns.values(), strict=True)
    ]


def _copy_new_incidents(conn: Connection, records: list[dict]) -> int:
    """PostgreSQL bulk path: COPY into a temporary table, then one INSERT … SELECT in content-key
    order that skips stored keys. Same transaction and semantics as the portable path, ~5× faster."""
    columns = list(records[0])
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE incoming_incidents ON COMMIT DROP AS SELECT {names} FROM incidents WITH NO DATA"
        )
        with cursor.copy(f"COPY incoming_incidents ({names}) FROM STDIN") as copy:
            for record in records:
                copy.write_row([record[c] for c in columns])
        cursor.execute(
            f"INSERT INTO incidents ({names}) SELECT {names} FROM incoming_incidents ORDER BY content_key "
            "ON CONFLICT (content_key) DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE incoming_incidents")
    finally:
        cursor.close()
    return inserted


def _incident_query(
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    categories: Iterable[str] | None = None,
    include_personal: bool = False,
):
    t = incidents_table
    columns = [
        t.c.id, t.c.external_id, t.c.occurred_from, t.c.occurred_to, t.c.category, t.c.source,
        t.c.on_patrol, t.c.lat, t.c.lon, t.c.description, t.c.status, t.c.reported_at,
        wards_table.c.name.label("ward"), t.c.created_at.label("stored_at"),
    ]
    if include_personal:
        columns.append(t.c.reporter)
    query = select(*columns).select_from(t.outerjoin(wards_table, t.c.ward_id == wards_table.c.id))
    if ward is not None:
        query = query.where(wards_table.c.name == ward)
    if since is not None:
        query = query.where(t.c.occurred_to >= utc_naive(since))
    if until is not None:
        query = query.where(t.c.occurred_from < utc_naive(until))
    if categories is not None:
        query = query.where(t.c.category.in_(list(categories)))
    return query


def _incident_frame(conn: Connection, query, params: dict | None = None) -> gpd.GeoDataFrame:
    result = conn.execute(query, params or {})
    frame = pd.DataFrame(result.mappings().all(), columns=list(result.keys()))
    for column in ("occurred_from", "occurred_to", "reported_at", "stored_at"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
    frame["on_patrol"] = frame["on_patrol"].astype(bool)
    frame["lat"] = frame["lat"].astype(float)
    frame["lon"] = frame["lon"].astype(float)
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs=settings.WGS84)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.WGS84)


def chunks(items: list, size: int) -> Iterator[list]:
    """``items`` in lists of at most ``size`` (the repositories' batched statements)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_store_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url`` with WAS Planner's connection settings (SQLite: WAL,
    foreign keys, busy timeout, write transactions that take the lock up front)."""
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as error:
        msg = (
            f"{{db}} {url!r} is not a usable database URL ({error}); "
            "e.g. sqlite:///data/was.db or postgresql+psycopg://user@host/was"
        )
        raise InputError(msg, options=("db",)) from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name != "postgresql":
        msg = f"{{db}} {url!r}: WAS Planner supports sqlite:/// and postgresql+psycopg:// URLs"
        raise InputError(msg, options=("db",))
    return engine


def _schema_state(conn: Connection) -> tuple[int | None, bool]:
    """(schema version or None for an empty database, whether Alembic has stamped it)."""
    inspector = inspect(conn)
    if not inspector.has_table("schema_version"):
        return None, False
    version = conn.execute(select(schema_version.c.version)).scalar()
    return (int(version) if version is not None else None), inspector.has_table("alembic_version")


def _refuse_newer(version: int | None, engine: Engine) -> None:
    if version is not None and version > SCHEMA_VERSION:
        url = engine.url.render_as_string(hide_password=True)
        msg = (
            f"the store at {url} has schema version {version}; this WAS Planner knows {SCHEMA_VERSION}: "
            "upgrade WAS Planner before using this database"
        )
        raise PlannerError(msg)


def migrate(engine: Engine) -> tuple[int | None, int]:
    """Create or upgrade the schema through the Alembic migrations; returns (before, after) versions.

    The check is a plain read when the schema is current. Otherwise the migration runs in one
    transaction that holds the write lock (SQLite) or an advisory lock (PostgreSQL), so two
    processes opening a fresh database at once upgrade it once. A store written before Alembic
    was used (schema version 1 without ``alembic_version``) is stamped, then upgraded.
    """
    with engine.connect() as conn:
        before, stamped = _schema_state(conn)
    _refuse_newer(before, engine)
    if before == SCHEMA_VERSION and stamped:
        return before, before
    from alembic import command
    from alembic.config import Config

    with engine.connect() as conn:
        conn.execution_options(was_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            before, stamped = _schema_state(conn)
            _refuse_newer(before, engine)
            config = Config()
            config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
            config.attributes["connection"] = conn
            if before is not None and not stamped:
                command.stamp(config, f"{before:04d}")
            command.upgrade(config, "head")
            after = int(conn.execute(select(schema_version.c.version)).scalar_one())
    log.info("store schema: version %s → %d", before, after)
    return before, after


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: ``settings.database_url()``), creating or upgrading
    its schema through the migrations on first use.

    Raises
    ------
    InputError
        The URL is not a database URL SQLAlchemy understands.
    PlannerError
        The database cannot be opened or migrated, or was written by a newer WAS Planner.
    """
    url = url or settings.database_url()
    engine = create_store_engine(url)
    try:
        migrate(engine)
    except DBAPIError as error:
        engine.dispose()
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        hint = ""
        if "postgis" in reason.lower() or "extension" in reason.lower():
            hint = "; PostGIS must be installed and enabled (as a superuser: CREATE EXTENSION postgis)"
        msg = f"cannot open the database {shown}: {reason}{hint}"
        raise PlannerError(msg) from None
    except PlannerError:
        engine.dispose()
        raise
    return Store(engine)
