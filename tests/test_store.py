"""Tests for planner/storage/store.py: schema creation, versioning and settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update

from planner import settings
from planner._errors import InputError, PlannerError
from planner.storage.schema import schema_version
from planner.storage.store import SCHEMA_VERSION, open_store


def test_default_store_is_a_wal_sqlite_file_in_the_data_dir(data_dir):
    """Without a URL the store is data_dir/was.db in WAL mode, with its schema version."""
    store = open_store()
    assert settings.database_url() == f"sqlite:///{(data_dir / 'was.db').as_posix()}"
    assert (data_dir / "was.db").exists()
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == SCHEMA_VERSION


def test_a_store_opens_while_another_process_reads_the_fresh_file_longer_than_5_s(tmp_path):
    """Switching a fresh file to WAL waits for a reader's lock: on the store's 30 s busy timeout,
    not pysqlite's default 5 s (the timeout was set after the switch)."""
    import sqlite3
    import threading
    import time

    path = tmp_path / "was.db"
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("CREATE TABLE other (x)")
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM other").fetchall()
    release = threading.Timer(6.0, lambda: reader.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        store = open_store(f"sqlite:///{path}")
    finally:
        release.join()
        reader.close()
    assert time.monotonic() - started > 5  # it did wait for the reader
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.engine.dispose()


def test_database_url_from_environment(monkeypatch, tmp_path):
    """WAS_DATABASE_URL wins over the data directory."""
    monkeypatch.setenv("WAS_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert open_store().url.endswith("other.db")


def test_newer_schema_is_refused(store):
    """A store written by a newer WAS Planner is not silently used."""
    with store.transaction() as conn:
        conn.execute(update(schema_version).values(version=99))
    with pytest.raises(PlannerError, match="schema version 99"):
        open_store(store.url)


def test_bad_url_is_an_input_error():
    """A URL SQLAlchemy cannot parse names the option and an example."""
    with pytest.raises(InputError, match="sqlite:///"):
        open_store("not a url")
