"""Tests for planner/access.py: roles enforced in the core, audited exports, no points for residents."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner import access
from planner._errors import AccessDeniedError, PlannerError
from planner.cli import app
from planner.signals.incidents import RawTable
from planner.signals.intake import import_table
from planner.signals.wards import store_wards
from planner.users import User, add_user

NOW = datetime(2026, 11, 25, 12, 0)
RESIDENT, OFFICER = User("rita", "resident"), User("otto", "officer")
MUNICIPALITY, ADMIN = User("gemma", "municipality"), User("ada", "admin")
PASSWORD = "correct horse battery"
POINT_COLUMNS = {"lat", "lon", "description", "source", "reporter", "external_id", "signal_ids"}


@pytest.fixture
def filled(store, two_wards, make_signals):
    """A store with two wards: 40 clustered burglaries in West (over 8 days), 3 vandalism in Oost."""
    store_wards(store, two_wards)
    rng = np.random.default_rng(1)
    frames = [
        make_signals(rng.normal([91_500, 452_500], 10, size=(5, 2)), day=f"{d:02d}-11-2026", prefix=f"w{d}-")
        for d in range(10, 18)
    ]
    oost = np.array([[92_500, 452_500], [92_505, 452_500], [92_500, 452_505]])
    frames.append(make_signals(oost, category="vandalisme", prefix="o"))
    rows = pd.concat(frames, ignore_index=True)
    report = import_table(store, RawTable(rows=rows), file_name="f", content_hash="f", now=NOW)
    assert report.imported == 43
    return store


@pytest.mark.parametrize("suffix", ["csv", "geojson", "gpkg"])
def test_an_exported_file_imported_again_adds_nothing(filled, tmp_path, suffix):
    """The export's own database ``id`` column is not read as the signals' external id: the
    signals are recognised as known ones, with or without an external id of their own."""
    from planner.signals.intake import import_file

    first = import_table(filled, RawTable(rows=pd.DataFrame({
        "datum": ["20-11-2026"], "categorie": ["jeugdoverlast"], "x": [91_520], "y": [452_510]})),
        file_name="form", content_hash="form", now=NOW)
    assert first.imported == 1, first.reasons
    exported = access.export_incidents(filled, OFFICER, tmp_path / f"all.{suffix}")
    again = import_file(filled, exported.path, now=NOW)
    assert (again.imported, again.duplicates, again.rejected) == (0, 44, 0)
    assert filled.incident_count() == 44


def test_denied_is_a_planner_error_and_a_permission_error():
    """AccessDeniedError is caught by the CLI/UI (PlannerError) and by `except PermissionError`."""
    assert issubclass(AccessDeniedError, PlannerError) and issubclass(AccessDeniedError, PermissionError)


@pytest.mark.parametrize("user", [RESIDENT, MUNICIPALITY])
def test_only_officers_and_admins_see_points(filled, user):
    """Residents and the municipality get no points or descriptions; officers do, without reporter."""
    with pytest.raises(AccessDeniedError, match="may not view points"):
        access.visible_incidents(filled, user)
    points = access.visible_incidents(filled, OFFICER)
    assert len(points) == 43 and "description" in points and "reporter" not in points


def test_reporter_only_for_admins(filled):
    """Reporter identity: admins only, officers are refused."""
    with pytest.raises(AccessDeniedError, match="view reporter"):
        access.visible_incidents(filled, OFFICER, include_personal=True)
    assert set(access.visible_incidents(filled, ADMIN, include_personal=True)["reporter"]) == {"J. Jansen"}


def test_resident_counts_leave_out_groups_below_k(filled):
    """Residents see only ward × category counts of at least k; the municipality sees all."""
    resident = access.signal_counts(filled, RESIDENT)
    assert resident.to_dict("records") == [{"ward": "West", "category": "burglary", "signals": 40}]
    assert len(access.signal_counts(filled, MUNICIPALITY)) == 2
    with pytest.raises(PlannerError, match="subset of ward, category, status"):
        access.signal_counts(filled, RESIDENT, by=("source",))


def test_resident_hotspots_are_public_areas_only(filled):
    """A resident's hotspots never carry points or signal ids, and asking for them is refused."""
    result = access.visible_hotspots(filled, RESIDENT, "West", now=NOW)
    assert result.audience == "public" and result.signals is None
    payload = json.dumps(result.to_json()) + json.dumps(result.to_geojson())
    assert "signal_ids" not in payload and "fiets" not in payload and "J. Jansen" not in payload
    assert not POINT_COLUMNS & set(result.hotspots.columns)
    with pytest.raises(AccessDeniedError):
        access.visible_hotspots(filled, RESIDENT, "West", audience="officer")
    lowered = access.visible_hotspots(filled, RESIDENT, "West", public_min_signals=1, now=NOW)
    assert (lowered.hotspots["n_signals"] >= 5).all()
    officer = access.visible_hotspots(filled, OFFICER, "West", now=NOW)
    assert officer.audience == "officer" and officer.signals is not None


def test_exports_are_audited_and_refusals_too(filled, tmp_path):
    """An officer's export is logged (who, what, format, rows); a resident's attempt is refused and logged."""
    exported = access.export_incidents(filled, OFFICER, tmp_path / "west.gpkg", ward="West")
    with pytest.raises(AccessDeniedError):
        access.export_incidents(filled, RESIDENT, tmp_path / "all.csv")
    log = access.audit_log(filled, ADMIN)
    assert list(log["action"]) == ["denied", "export"]
    export = log.iloc[1]
    assert (export["user_name"], export["role"], export["n_rows"], export["format"]) == ("otto", "officer", 40, "gpkg")
    assert exported.rows == 40 and len(__import__("geopandas").read_file(exported.path)) == 40
    assert json.loads(export["what"])["ward"] == "West" and str(export["at"].tz) == "UTC"
    assert not (tmp_path / "all.csv").exists()
    with pytest.raises(AccessDeniedError):
        access.audit_log(filled, OFFICER)
    access.record_access(filled, OFFICER, "hotspots West as GeoPackage", 7, format="gpkg")
    assert access.audit_log(filled, ADMIN, limit=1).iloc[0]["n_rows"] == 7


def test_residents_report_signals_as_was_members(filled):
    """The form stores a resident's signal with source was_member and the resident as reporter."""
    fields = {"occurred_at": "24-11-2026 21:15", "category": "jongerenoverlast",
              "lat": "52.0702", "lon": "4.4230", "description": "<script>alert(1)</script>"}
    point = filled.incidents(include_personal=True).iloc[0]
    fields.update(lat=point["lat"], lon=point["lon"])
    report = access.report_signal(filled, RESIDENT, fields, now=NOW)
    assert (report.imported, report.rejected) == (1, 0)
    stored = filled.incidents(include_personal=True, categories=["youth_nuisance"]).iloc[0]
    assert (stored["source"], stored["reporter"]) == ("was_member", "rita")
    assert stored["description"] == "<script>alert(1)</script>"  # stored as text; escaping is the UI's job
    with pytest.raises(PlannerError, match="unknown signal fields: reporter, source"):
        access.report_signal(filled, RESIDENT, {**fields, "source": "police", "reporter": "x"}, now=NOW)
    bad = access.report_signal(filled, RESIDENT, {**fields, "category": "graffiti"}, now=NOW)
    assert bad.rejected == 1 and "category" in bad.reasons[0][1]


def test_every_core_path_of_a_resident_is_free_of_points(filled, tmp_path):
    """Whatever a resident calls in planner.access, no coordinates, descriptions or sources of a
    signal come back: the calls either refuse or return aggregates/areas."""
    points = filled.incidents(include_personal=True)

    def micro(value: float) -> str:  # 6 decimals (≈ 0.1 m), truncated as a float's text would be
        whole, _, fraction = repr(float(value)).partition(".")
        return f"{whole}.{fraction[:6]}"

    located = [(micro(lat), micro(lon)) for lat, lon in zip(points["lat"], points["lon"], strict=True)]
    from planner.review.agreements import Place, add_agreement

    add_agreement(filled, ward="West", what="lamp", role="gemeente", due=NOW.date(),
                  place=Place(float(points["lat"].iloc[0]), float(points["lon"].iloc[0]), "hotspot 1"), incident_id=1)
    refused = 0
    calls = {
        "visible_incidents": lambda: access.visible_incidents(filled, RESIDENT),
        "export_incidents": lambda: access.export_incidents(filled, RESIDENT, tmp_path / "a.csv"),
        "export_personal": lambda: access.export_incidents(filled, RESIDENT, tmp_path / "b.csv",
                                                           include_personal=True),
        "audit_log": lambda: access.audit_log(filled, RESIDENT),
        "signal_counts": lambda: access.signal_counts(filled, RESIDENT, by=("ward", "category", "status")),
        "visible_hotspots": lambda: access.visible_hotspots(filled, RESIDENT, "West", now=NOW).to_json(),
        "all_wards_hotspots": lambda: access.visible_hotspots(filled, RESIDENT, None, now=NOW).to_json(),
        "agreements": lambda: [a.to_json() for a in access.visible_agreements(filled, RESIDENT)],
        "patrols": lambda: [p.to_json() for p in access.visible_patrols(filled, RESIDENT)],
        "coverage": lambda: access.coverage_report(filled, RESIDENT, NOW.date(), NOW.date()),
        "accounts": lambda: access.accounts(filled, RESIDENT),
        "verify_audit": lambda: access.verify_audit(filled, RESIDENT),
    }
    for name, call in calls.items():
        try:
            out = call()
        except AccessDeniedError:
            refused += 1
            continue
        text = pd.DataFrame(out).astype(str).to_csv() if isinstance(out, pd.DataFrame) else json.dumps(out, default=str)
        leaked = [pair for pair in located if pair[0] in text and pair[1] in text]
        assert not leaked, f"{name} leaks signal locations {leaked[:3]}"
        assert "fiets weg" not in text and "J. Jansen" not in text and "was_member" not in text
    assert refused == 7


def test_cli_export_needs_an_officer_login_and_is_audited(filled, data_dir, tmp_path):
    """`export signals` refuses residents and wrong passwords (exit 2, no file) and logs exports."""
    add_user(filled, "rita", role="resident", password=PASSWORD)
    add_user(filled, "otto", role="officer", password=PASSWORD)
    runner = CliRunner()
    target = tmp_path / "out.csv"
    base = ["--db", filled.url, "export", "signals", str(target)]
    resident = runner.invoke(app, [*base, "--user", "rita"], input=f"{PASSWORD}\n")
    assert resident.exit_code == 2 and "may not export raw" in resident.output and not target.exists()
    wrong = runner.invoke(app, [*base, "--user", "otto", "--password", "nope nope nope"])
    assert wrong.exit_code == 2 and "wrong password" in wrong.output and not target.exists()
    ok = runner.invoke(app, [*base, "--user", "otto", "--ward", "West", "--json"], env={"WAS_PASSWORD": PASSWORD})
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["rows"] == 40
    written = pd.read_csv(target, sep=";", encoding="utf-8-sig")
    assert len(written) == 40 and "reporter" not in written
    add_user(filled, "ada", role="admin", password=PASSWORD)
    shown = json.loads(runner.invoke(app, ["--db", filled.url, "audit", "show", "--json", "--user", "ada"],
                                     env={"WAS_PASSWORD": PASSWORD}).stdout)
    entries = [(e["user_name"], e["action"], e["n_rows"]) for e in shown]
    assert entries == [("otto", "export", 40), ("rita", "denied", 0)]
    geo = runner.invoke(app, [*base[:-1], str(tmp_path / "out.geojson"), "--user", "otto"], input=f"{PASSWORD}\n")
    assert geo.exit_code == 0, geo.output


# -- issue 14 §2: the audit log records what happened, who changed accounts, and cannot be edited quietly --
def _cli(*args: str, password: str | None = PASSWORD, input: str | None = None):
    env = {"WAS_PASSWORD": password} if password is not None else {}
    return CliRunner().invoke(app, list(args), env=env, input=input)


def test_export_records_only_files_written_with_format_and_rows(filled, data_dir, tmp_path):
    """A refused suffix or an unwritable path exits 2 and logs nothing; a written file is
    logged once with its format and row count (issue 14: both used to appear as an export)."""
    add_user(filled, "otto", role="officer", password=PASSWORD)
    add_user(filled, "ada", role="admin", password=PASSWORD)
    base = ["--db", filled.url, "export", "signals"]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for target in (tmp_path / "out" / "o.txt", blocker / "o.csv"):
        refused = _cli(*base, str(target), "--user", "otto")
        assert refused.exit_code == 2 and refused.output.startswith("error: ") and "Traceback" not in refused.output
        assert not target.exists()
    assert "must end in .csv, .geojson or .gpkg" in _cli(*base, str(tmp_path / "o.txt"), "--user", "otto").output
    assert access.audit_log(filled, ADMIN).empty
    ok = _cli(*base, str(tmp_path / "o.geojson"), "--user", "otto", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"file": str(tmp_path / "o.geojson"), "format": "geojson", "rows": 43}
    log = access.audit_log(filled, ADMIN)
    assert log[["user_name", "action", "format", "n_rows"]].values.tolist() == [["otto", "export", "geojson", 43]]
    assert log.iloc[0]["via"].startswith("cli (os user ")


def test_cli_account_changes_need_an_admin_and_are_logged(filled, data_dir):
    """`users passwd` needs an admin's sign-in once accounts exist; the change is logged with the
    admin and the operating-system user, so a later export "as admin" has a visible cause."""
    add_user(filled, "ada", role="admin", password=PASSWORD)
    add_user(filled, "otto", role="officer", password=PASSWORD)
    new = "another long password"
    passwd = ["--db", filled.url, "users", "passwd", "ada", "--new-password", new]
    anonymous = _cli(*passwd, password=None)
    assert anonymous.exit_code == 2 and "give --user" in anonymous.output
    officer = _cli(*passwd, "--user", "otto")
    assert officer.exit_code == 2 and "may not manage users" in officer.output
    assert _cli(*passwd, "--user", "ada").exit_code == 0
    for args in (["users", "add", "bert", "--role", "resident", "--new-password", new],
                 ["users", "disable", "bert"]):
        assert _cli("--db", filled.url, *args, "--user", "ada", password=new).exit_code == 0
    log = access.audit_log(filled, ADMIN)
    assert list(log["action"]) == ["account"] * 3 and set(log["user_name"]) == {"ada"}
    changes = [json.loads(w) for w in log["what"][::-1]]
    assert changes == [{"account": "ada", "change": "password"}, {"account": "bert", "change": "added as resident"},
                       {"account": "bert", "change": "disabled"}]
    listed = _cli("--db", filled.url, "users", "list", "--json", password=None)
    assert listed.exit_code == 2


def test_without_accounts_the_operator_acts_as_admin_and_is_named(store, data_dir):
    """Without accounts the CLI is the operator's tool: the first account is added without a
    sign-in, and the log names the operating-system user who added it."""
    result = _cli("users", "add", "ada", "--role", "admin", password=None, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    entry = access.audit_log(store, ADMIN).iloc[0]
    assert entry["action"] == "account" and entry["role"] == "admin"
    assert entry["via"] == f"cli (os user {entry['user_name']})"


def test_officer_point_views_and_hotspot_files_are_logged(filled, data_dir, tmp_path):
    """`hotspots --audience officer --geojson` leaves a view and an export of the points in the
    log; a public run with a file leaves nothing (no points left the store)."""
    add_user(filled, "otto", role="officer", password=PASSWORD)
    base = ["--db", filled.url, "hotspots", "--ward", "West"]
    assert _cli(*base, "--geojson", str(tmp_path / "public.geojson"), password=None).exit_code == 0
    assert access.audit_log(filled, ADMIN).empty
    officer = _cli(*base, "--audience", "officer", "--geojson", str(tmp_path / "o.geojson"), "--user", "otto")
    assert officer.exit_code == 0, officer.output
    log = access.audit_log(filled, ADMIN)
    assert log[["action", "format", "n_rows"]].values.tolist() == [["export", "geojson", 40], ["view", None, 40]]
    assert json.loads(log.iloc[1]["what"])["table"] == "hotspot points"


def test_audit_chain_detects_an_edited_or_removed_entry(any_store, backend_url):
    """Each entry carries the previous entry's hash; editing or deleting one breaks the chain at
    that entry and `audit verify` says which (exit 2); SQLite and PostgreSQL alike."""
    from sqlalchemy import delete, update

    from planner.storage.accounts import AUDIT_GENESIS
    from planner.storage.schema import audit_table

    for n in range(4):
        access.record_access(any_store, replace_via(OFFICER), f"export {n}", n, format="csv")
    check = access.verify_audit(any_store, ADMIN)
    assert check.ok and check.n_entries == 4 and check.head != AUDIT_GENESIS
    verified = _cli("--db", backend_url, "audit", "verify", "--json", password=None)
    assert verified.exit_code == 0 and json.loads(verified.stdout)["head"] == check.head
    with any_store.transaction() as conn:
        second = conn.execute(audit_table.select().order_by(audit_table.c.id)).all()[1].id
        conn.execute(update(audit_table).where(audit_table.c.id == second).values(n_rows=0))
    broken = access.verify_audit(any_store, ADMIN)
    assert (broken.ok, broken.broken_id, broken.n_entries) == (False, second, 1)
    shown = _cli("--db", backend_url, "audit", "verify", password=None)
    assert shown.exit_code == 2 and f"broken at entry {second}" in shown.output
    with any_store.transaction() as conn:
        conn.execute(delete(audit_table).where(audit_table.c.id == second))
    assert access.verify_audit(any_store, ADMIN).broken_id == second + 1


def replace_via(user: User) -> User:
    from dataclasses import replace

    return replace(user, via="test")


# -- issue 14 §1: planner.access is the front-ends' only reader ----------------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
FRONT_ENDS = [ROOT / "app.py", *sorted((ROOT / "planner" / "cli").glob("*.py")),
              *sorted((ROOT / "app_pages").glob("*.py"))]
READERS = {"find_hotspots", "hot_streets", "list_patrols", "list_agreements", "build_report", "coverage_for",
           "list_users",
           "incidents", "incidents_within", "audit_entries", "verify_audit", "user_rows", "user_row"}
"""Functions and store methods that read what a role limits; front-ends reach them only as ``access.X``."""


def test_front_ends_call_no_reader_but_through_access():
    """No page, app.py or CLI command imports or calls a reader of signals, hotspots, hot streets,
    patrols, agreements, accounts or the audit log except ``planner.access``'s own."""
    import ast

    offences = []
    for path in FRONT_ENDS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] != "access":
                named = [a.name for a in node.names if a.name in READERS]
                offences += [f"{path.name}: from {node.module} import {name}" for name in named]
            if isinstance(node, ast.Attribute) and node.attr in READERS and not (
                isinstance(node.value, ast.Name) and node.value.id == "access"
            ):
                offences.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert not offences, offences
