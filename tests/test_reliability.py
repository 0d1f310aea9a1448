"""Reliability: concurrent writers, an import killed half-way, and 10 000 fuzzed rows.

Writers run as real processes (``sys.executable -c``), each bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from planner import access
from planner.signals.incidents import CATEGORIES, RawTable
from planner.signals.intake import import_table
from planner.signals.wards import store_wards
from planner.storage.schema import import_batches, incidents_table, rejected_rows
from planner.storage.store import open_store
from planner.users import User

NOW = datetime(2026, 11, 25, 12, 0)
TIMEOUT_S = 90
ROOT = Path(__file__).resolve().parents[1]

CONCURRENT_WORKER = """
import json, sys, threading, time
from datetime import datetime
from pathlib import Path
from planner.access import report_signal
from planner.signals.intake import import_file
from planner.storage.store import open_store
from planner.users import User

url, csv, name, go, point, n = sys.argv[1:7]
now = datetime(2026, 11, 25, 12, 0)
lat, lon = json.loads(point)
store = open_store(url)
while not Path(go).exists():
    time.sleep(0.005)
result = {}
importer = threading.Thread(target=lambda: result.update(import_file(store, csv, now=now).to_json()))
importer.start()
user = User(name, "resident")
reported = []
for i in range(int(n)):
    fields = {"occurred_at": f"2026-11-24T{i // 60:02d}:{i % 60:02d}", "category": "jongerenoverlast",
              "lat": lat, "lon": lon, "description": f"{name} meldt {i}"}
    reported.append(report_signal(store, user, fields, now=now).imported)
    if i % 3 == 0:  # the same signal typed by both residents
        same = {**fields, "description": f"gedeeld {i}", "occurred_at": "2026-11-23T20:00"}
        reported.append(report_signal(store, user, same, now=now).imported)
importer.join()
print(json.dumps({"import": result, "reported": reported}))
"""

KILLED_WORKER = """
import sys, time
from datetime import datetime
from planner.signals.intake import import_file
from planner.storage.store import Store, open_store

url, csv = sys.argv[1:3]
insert_new = Store._insert_new

def pause_after_inserting(self, conn, records):
    inserted = insert_new(self, conn, records)  # rows written inside the import's transaction
    print("midway", flush=True)
    time.sleep(120)
    return inserted

Store._insert_new = pause_after_inserting
import_file(open_store(url), csv, now=datetime(2026, 11, 25, 12, 0))
print("finished", flush=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _snapshot(store) -> dict:
    """Counts and a digest of every content key: equal snapshots mean an unchanged store."""
    with store.engine.connect() as conn:
        keys = conn.execute(select(incidents_table.c.content_key).order_by(incidents_table.c.content_key)).scalars()
        digest = hash(tuple(keys))
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in (incidents_table, import_batches, rejected_rows)}
    return {**counts, "keys": digest}


def _west_point(two_wards) -> tuple[float, float]:
    centre = two_wards.to_crs(4326).geometry.iloc[0].centroid
    return round(centre.y, 6), round(centre.x, 6)


def test_two_processes_importing_and_reporting_lose_and_duplicate_nothing(
    backend_url, two_wards, make_signals, tmp_path
):
    """Two processes each import an overlapping file while residents report signals: every
    distinct signal is stored exactly once and the reported counts add up to what is stored."""
    store = open_store(backend_url)
    store_wards(store, two_wards)
    rng = np.random.default_rng(3)
    rows = make_signals(rng.uniform([91_050, 452_050], [92_950, 452_950], size=(1500, 2)))
    files = [tmp_path / "a.csv", tmp_path / "b.csv"]
    rows.iloc[:1000].to_csv(files[0], index=False)
    rows.iloc[500:].to_csv(files[1], index=False)  # 500 rows in both files
    go = tmp_path / "go"
    n = 12
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WORKER, backend_url, str(path), name, str(go),
             json.dumps(_west_point(two_wards)), str(n)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for path, name in zip(files, ("anna", "bram"), strict=True)
    ]
    go.touch()
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=TIMEOUT_S)
        assert worker.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    stored = store.incidents(include_personal=True)
    shared = len(range(0, n, 3))
    assert len(stored) == 1500 + 2 * n + shared
    assert stored["external_id"].replace("", None).dropna().nunique() == 1500
    assert sum(o["import"]["imported"] for o in outputs) == 1500
    assert sum(o["import"]["duplicates"] for o in outputs) == 500
    assert sum(sum(o["reported"]) for o in outputs) == 2 * n + shared
    batches = store.batches()
    assert batches["imported"].sum() == len(stored)
    store.engine.dispose()


def test_import_killed_half_way_leaves_the_store_unchanged(backend_url, two_wards, make_signals, tmp_path):
    """SIGKILL after an import wrote its rows but before it committed: no rows of it remain, the
    store is consistent, and the same import afterwards stores every row."""
    store = open_store(backend_url)
    store_wards(store, two_wards)
    rng = np.random.default_rng(4)
    first = make_signals(rng.uniform([91_050, 452_050], [92_950, 452_950], size=(100, 2)), prefix="f")
    import_table(store, RawTable(rows=first), file_name="first", content_hash="first", now=NOW)
    before = _snapshot(store)
    big = make_signals(rng.uniform([91_050, 452_050], [92_950, 452_950], size=(8000, 2)), prefix="b")
    big.loc[len(big)] = {**big.iloc[0].to_dict(), "id": "junk", "categorie": "graffiti"}
    path = tmp_path / "big.csv"
    big.to_csv(path, index=False)
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, backend_url, str(path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    guard = threading.Timer(TIMEOUT_S, worker.kill)
    guard.start()
    try:
        line = worker.stdout.readline().strip()
        assert line == "midway", worker.stderr.read()[-3000:]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=TIMEOUT_S)
    finally:
        guard.cancel()
        worker.stdout.close()
        worker.stderr.close()
    assert worker.returncode == -signal.SIGKILL
    store.engine.dispose()
    reopened = open_store(backend_url)
    assert _snapshot(reopened) == before
    with reopened.engine.connect() as conn:
        if reopened.is_postgis:
            orphans = conn.execute(text(
                "SELECT count(*) FROM incidents i LEFT JOIN import_batches b ON b.id = i.batch_id WHERE b.id IS NULL"
            )).scalar_one()
            assert orphans == 0
        else:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    report = import_table(reopened, RawTable(rows=big), file_name="big", content_hash="big", now=NOW)
    assert (report.imported, report.rejected) == (8000, 1)
    assert reopened.incident_count() == 8100
    reopened.engine.dispose()


def _fuzzed_rows(n: int, seed: int, bounds: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` messy rows (seeded) and a mask of those built only from valid values; clean
    locations fall inside the WGS84 ``bounds`` (lon0, lat0, lon1, lat1)."""
    rng = np.random.default_rng(seed)
    junk = ["", " ", "NULL", "nan", "<script>alert('x')</script>", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "'; DROP TABLE incidents;--",
            "1e309", "-0", "∞", "\x00", "a" * 5000, "25-13-2026", "31-02-2026", "99:99", "52,07", "4.4.4"]
    valid_dates = pd.date_range("2024-01-01", "2026-11-24", freq="D").strftime("%d-%m-%Y").to_numpy()
    categories = np.array(list(CATEGORIES) + list(CATEGORIES.values()) + ["Inbraak", "JONGEREN OVERLAST"])
    clean = rng.random(n) < 0.4

    def column(valid: np.ndarray, bad_share: float) -> np.ndarray:
        bad = (~clean) & (rng.random(n) < bad_share)
        values = valid.astype(object)
        values[bad] = rng.choice(np.array(junk, dtype=object), size=int(bad.sum()))
        return values

    margin = 0.001  # ≈ 100 m inside: the wards are squares in RD New, not in WGS84
    lat = rng.uniform(bounds[1] + margin, bounds[3] - margin, n)
    lon = rng.uniform(bounds[0] + margin, bounds[2] - margin, n)
    outside = (~clean) & (rng.random(n) < 0.1)
    lat[outside] = rng.uniform(-95, 95, int(outside.sum()))
    swapped = (~clean) & (rng.random(n) < 0.05)
    lat[swapped], lon[swapped] = lon[swapped], lat[swapped].copy()
    future = (~clean) & (rng.random(n) < 0.05)
    dates = rng.choice(valid_dates, n).astype(object)
    dates[future] = "01-01-2031"
    rows = pd.DataFrame({
        "id": [f"z{i}" for i in range(n)],
        "datum": column(dates, 0.15),
        "tijd": column(np.array([f"{h:02d}:{m:02d}" for h, m in rng.integers(0, [24, 60], size=(n, 2))]), 0.1),
        "categorie": column(rng.choice(categories, n), 0.15),
        "lat": column(np.array([f"{v:.6f}" for v in lat]), 0.1),
        "lon": column(np.array([f"{v:.6f}" for v in lon]), 0.1),
        "bron": column(rng.choice(np.array(["", "bewoner", "wijkagent", "officer", "politie"]), n), 0.05),
        "omschrijving": rng.choice(np.array([*junk, "fiets weg", "raam ingegooid"], dtype=object), n),
        "melder": rng.choice(np.array(["", "J. Jansen", "<b>x</b>"], dtype=object), n),
    })
    sure = clean & ~outside & ~swapped & ~future
    return rows, sure


def test_ten_thousand_fuzzed_rows_are_each_imported_or_rejected_with_a_reason(store, two_wards):
    """10 000 seeded messy rows: no crash; read = imported + duplicates + rejected; every reject
    is kept with a reason naming a field; every row built from valid values is stored."""
    store_wards(store, two_wards)
    rows, sure = _fuzzed_rows(10_000, seed=11, bounds=two_wards.to_crs(4326).total_bounds)
    report = import_table(store, RawTable(rows=rows, name="fuzz"), file_name="fuzz", content_hash="fuzz", now=NOW)
    assert report.read == 10_000
    assert report.imported + report.duplicates + report.rejected == 10_000
    assert report.imported > 3_000 and report.rejected > 1_000
    kept = store.rejected(report.batch_id)
    assert len(kept) == report.rejected
    assert kept["reason"].str.match(r"^[a-z_/ ]+: ").all()
    stored = set(store.incidents()["external_id"])
    assert set(rows.loc[sure, "id"]) <= stored
    assert not stored & set(kept["id"])


_form_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.fixed_dictionaries({
        "occurred_at": st.one_of(_form_text, st.just("24-11-2026 21:15")),
        "category": st.one_of(_form_text, st.sampled_from(list(CATEGORIES.values()))),
        "lat": st.one_of(_form_text, st.floats(allow_nan=True, allow_infinity=True), st.just(52.062)),
        "lon": st.one_of(_form_text, st.floats(allow_nan=True, allow_infinity=True), st.just(4.46)),
        "description": _form_text,
    })
)
def test_any_form_input_is_stored_or_rejected_with_a_reason(store, two_wards, fields):
    """Whatever a resident types into the form: one row read, imported/duplicate or rejected with a reason."""
    if store.wards().empty:
        store_wards(store, two_wards)
    report = access.report_signal(store, User("rita", "resident"), fields, now=NOW)
    assert report.read == 1 and report.imported + report.duplicates + report.rejected == 1
    if report.rejected:
        assert ":" in report.reasons[0][1]


@pytest.mark.parametrize("n", [80])
def test_many_small_reports_from_threads_all_arrive(any_store, two_wards, n):
    """Four threads of one dashboard process report distinct signals at once: all of them arrive."""
    store_wards(any_store, two_wards)
    lat, lon = _west_point(two_wards)
    errors: list[BaseException] = []

    def reporter(k: int) -> None:
        try:
            for i in range(k, n, 4):
                fields = {"occurred_at": f"2026-11-24T{i // 60:02d}:{i % 60:02d}", "category": "vandalisme",
                          "lat": lat, "lon": lon}
                assert access.report_signal(any_store, User(f"r{k}", "resident"), fields, now=NOW).imported == 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=reporter, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT_S)
    assert not errors, errors[0]
    assert any_store.incident_count() == n
