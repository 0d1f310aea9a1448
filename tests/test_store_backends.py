"""Store tests on both backends: SQLite and a real PostgreSQL + PostGIS (started by conftest)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point
from sqlalchemy import create_engine, inspect, text, update
from typer.testing import CliRunner

from planner._errors import InputError, PlannerError
from planner.cli import app
from planner.signals.incidents import RawTable
from planner.signals.intake import import_table
from planner.signals.outcomes import import_outcomes
from planner.signals.wards import assign_wards, store_wards
from planner.storage import accounts
from planner.storage import store as store_module
from planner.storage.outcomes import stored_outcomes
from planner.storage.schema import schema_version
from planner.storage.store import SCHEMA_VERSION, open_store

NOW = datetime(2026, 11, 25, 12, 0)


def rd_rows(xy: np.ndarray, *, category: str = "inbraak", day: str = "20-11-2026") -> pd.DataFrame:
    """Signal rows at RD New points ``xy`` (n × 2), one per point, with distinct ids."""
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=28992).to_crs(4326)
    return pd.DataFrame({
        "id": [f"s{i}" for i in range(len(xy))],
        "datum": day, "tijd": "22:30", "categorie": category,
        "lat": [f"{p.y:.7f}" for p in points], "lon": [f"{p.x:.7f}" for p in points],
        "omschrijving": "fiets weg", "melder": "J. Jansen",
    })


def load(store, two_wards, rows: pd.DataFrame, name: str = "signals.csv"):
    """Store the two wards and import ``rows`` as one batch."""
    store_wards(store, two_wards)
    return import_table(store, RawTable(rows=rows.astype(str), name=name), file_name=name,
                        content_hash=name, now=NOW)


def test_fresh_store_is_created_by_the_migrations(any_store):
    """A fresh database gets every table, the current schema version and the Alembic head."""
    with any_store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"wards", "incidents", "import_batches", "rejected_rows", "patrols", "users", "audit_log",
                "outcomes", "schema_version", "alembic_version"} <= tables
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == f"{SCHEMA_VERSION:04d}"
    assert any_store.schema_version() == SCHEMA_VERSION


@pytest.mark.postgres
def test_postgis_geometry_columns_have_spatial_indexes(postgres_url):
    """On PostGIS wards and incidents carry generated geometry columns with GiST indexes."""
    store = open_store(postgres_url)
    with store.engine.connect() as conn:
        indexes = conn.execute(text(
            "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"
        )).all()
        kinds = dict(conn.execute(text(
            "SELECT f_table_name, type FROM geometry_columns WHERE f_geometry_column = 'geom'"
        )).all())
    store.engine.dispose()
    assert {t for t, _ in indexes} == {"wards", "incidents"}
    assert any("geography" in d for _, d in indexes)
    assert kinds == {"wards": "GEOMETRY", "incidents": "POINT"}


def test_import_round_trip_gives_the_same_answer_on_both_backends(any_store, two_wards):
    """Import, read back, count per ward: same values and dtypes on every backend."""
    xy = np.array([[91_500, 452_500], [92_500, 452_500], [92_600, 452_400], [95_000, 452_500]])
    before = pd.Timestamp.now(tz="UTC").floor("s")
    report = load(any_store, two_wards, rd_rows(xy))
    assert (report.imported, report.rejected) == (3, 1)
    frame = any_store.incidents()
    assert frame["stored_at"].between(before, pd.Timestamp.now(tz="UTC")).all()  # the statuses date from then
    assert list(frame["ward"]) == ["West", "Oost", "Oost"]
    assert str(frame["occurred_from"].dt.tz) == "UTC" and frame["on_patrol"].dtype == bool
    assert frame.iloc[0]["occurred_from"] == pd.Timestamp("2026-11-20 21:30", tz="UTC")
    assert {w["name"]: w["incidents"] for w in any_store.ward_summary()} == {"Oost": 2, "West": 1}
    again = load(any_store, two_wards, rd_rows(xy))
    assert (again.imported, again.duplicates) == (0, 3)


def test_ward_assignment_in_the_database_matches_geopandas(any_store, two_wards):
    """store_wards (ST_Intersects on PostGIS) agrees with assign_wards, borders included."""
    rng = np.random.default_rng(7)
    xy = np.vstack([rng.uniform([90_900, 451_900], [93_100, 453_100], size=(300, 2)),
                    [[92_000, 452_500], [92_000, 452_000]]])
    rows = rd_rows(xy)
    import_table(any_store, RawTable(rows=rows), file_name="x", content_hash="x", now=NOW)
    assert any_store.incidents()["ward"].isna().all()
    inside = store_wards(any_store, two_wards)
    frame = any_store.incidents().sort_values("id")
    expected = assign_wards(frame["lon"], frame["lat"], any_store.wards())
    assert list(frame["ward"].fillna("-")) == list(expected.fillna("-"))
    assert inside == int(expected.notna().sum()) > 0


def test_incidents_within_50_m_of_a_point_and_a_route(any_store, two_wards):
    """Signals within the distance of a point or a route are found, farther ones not, nearest first."""
    xy = np.array([[91_500, 452_500], [91_530, 452_500], [91_570, 452_500], [91_500, 452_530]])
    load(any_store, two_wards, rd_rows(xy))
    centre = gpd.GeoSeries([Point(91_500, 452_500)], crs=28992).to_crs(4326).iloc[0]
    near = any_store.incidents_within(centre, distance_m=50)
    assert near["external_id"].iloc[0] == "s0" and set(near["external_id"]) == {"s0", "s1", "s3"}
    assert near["distance_m"].iloc[0] < 1 and 29 < near["distance_m"].iloc[1] < 31
    route = gpd.GeoSeries([LineString([(91_400, 452_540), (91_600, 452_540)])], crs=28992).to_crs(4326).iloc[0]
    along = any_store.incidents_within(route, distance_m=45)
    assert set(along["external_id"]) == {"s0", "s1", "s2", "s3"}
    assert set(any_store.incidents_within(route, distance_m=35)["external_id"]) == {"s3"}
    with pytest.raises(InputError, match="distance_m"):
        any_store.incidents_within(centre, distance_m=-1)


def test_outcomes_import_round_trip_on_both_backends(any_store, two_wards, tmp_path):
    """An outcomes import, its re-import with one revised count, and reading back: the same counts,
    dates and ward links on every backend."""
    any_store.save_wards(two_wards)
    path = tmp_path / "panel.csv"
    rows = "area,period,count,category\nWest,2026-01,5,inbraak\nWK999902,2026-W05,3,total\nNoord,2026,4,total\n"
    path.write_text(rows, encoding="utf-8")
    first = import_outcomes(any_store, path, rejects_dir=tmp_path)
    path.write_text(rows.replace("West,2026-01,5", "West,2026-01,6"), encoding="utf-8")
    again = import_outcomes(any_store, path, rejects_dir=tmp_path)
    assert (first.imported, again.imported, again.updated, again.duplicates) == (3, 0, 1, 2)
    stored = stored_outcomes(any_store)
    assert {(r.area, r.ward, r.period_start, r.period, r.count) for r in stored.itertuples()} == {
        ("West", "West", date(2026, 1, 1), "month", 6),
        ("WK999902", "Oost", date(2026, 1, 26), "week", 3),
        ("Noord", None, date(2026, 1, 1), "year", 4),
    }
    assert list(stored_outcomes(any_store, category="inbraak", since=date(2026, 1, 1))["count"]) == [6]


def test_newer_schema_is_refused_on_both_backends(any_store):
    """A database written by a newer WAS Planner is refused with a message saying what to do."""
    with any_store.transaction() as conn:
        conn.execute(update(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(PlannerError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade WAS Planner"):
        open_store(any_store.url)


def test_store_from_before_alembic_is_stamped_and_upgraded(tmp_path, two_wards):
    """A version-1 SQLite store without alembic_version keeps its data and reaches the head."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(Path(store_module.__file__).with_name("migrations")))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text(
            "INSERT INTO wards (name, geometry_wkt, updated_at) VALUES "
            "('Oud', 'POLYGON ((4.4 52.0, 4.5 52.0, 4.5 52.1, 4.4 52.1, 4.4 52.0))', '2026-01-01')"
        ))
    engine.dispose()
    store = open_store(url)
    assert store.schema_version() == SCHEMA_VERSION
    ward = store.wards().iloc[0]
    with store.engine.connect() as conn:
        rep = conn.execute(text("SELECT rep_lat, rep_lon FROM wards")).one()
    assert ward["name"] == "Oud" and ward.geometry.contains(Point(rep[1], rep[0]))


def test_concurrent_first_opens_migrate_once(backend_url):
    """Four threads opening one fresh database at once all succeed; the schema is made once."""
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_store(backend_url).engine.dispose()
        except BaseException as error:  # collected, asserted below
            errors.append(error)

    if "postgresql" in backend_url:  # the fixture's database is migrated already: start empty
        admin = create_engine(backend_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = backend_url.rsplit("/", 1)[1] + "_empty"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        backend_url = backend_url.rsplit("/", 1)[0] + "/" + name
    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    store = open_store(backend_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.engine.dispose()


def test_db_upgrade_command(backend_url):
    """`was-planner db upgrade --json` creates the schema, then reports it up to date."""
    runner = CliRunner()
    first = runner.invoke(app, ["--db", backend_url, "db", "upgrade", "--json"])
    assert first.exit_code == 0, first.output
    second = json.loads(runner.invoke(app, ["--db", backend_url, "db", "upgrade", "--json"]).stdout)
    assert second["before"] == second["after"] == SCHEMA_VERSION
    assert "password" not in second["url"]


def test_unreachable_server_is_a_clear_error():
    """A PostgreSQL URL nobody listens on gives a one-line PlannerError, not a traceback."""
    from pgcluster import free_port

    with pytest.raises(PlannerError, match="cannot open the database"):
        open_store(f"postgresql+psycopg://was@127.0.0.1:{free_port()}/nothing")


def test_unsupported_dialect_is_an_input_error():
    """Only SQLite and PostgreSQL URLs are accepted, and the message says so."""
    with pytest.raises(InputError, match="postgresql"):
        open_store("mysql+pymysql://u@127.0.0.1/x")


def test_audit_entries_from_before_the_chain_are_chained_by_the_upgrade(backend_url):
    """A version-5 store's audit entries get hashes in id order on upgrade; new entries extend the
    chain and `accounts.verify_audit` finds it whole, on SQLite and PostgreSQL."""
    from alembic import command
    from alembic.config import Config

    store = open_store(backend_url)
    with store.engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(Path(store_module.__file__).with_name("migrations")))
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
        for n in range(3):
            conn.execute(text("INSERT INTO audit_log (at, user_name, role, action, what, n_rows) VALUES "
                              "(:at, 'otto', 'officer', 'export', :what, :n)"),
                         {"at": datetime(2026, 11, 20, 21, n, 5, 123456), "what": f"export {n}", "n": n})
    store.engine.dispose()
    upgraded = open_store(backend_url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    accounts.add_audit(upgraded, user_name="ada", role="admin", action="account", what="{}", n_rows=1, via="test")
    check = accounts.verify_audit(upgraded)
    assert check.ok and check.n_entries == 4, check
    upgraded.engine.dispose()
