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
from planner.incidents import RawTable
from planner.intake import import_table
from planner.users import User, add_user
from planner.wards import store_wards

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
    from planner.hotspots import HotspotParams

    result = access.visible_hotspots(filled, RESIDENT, "West", now=NOW)
    assert result.audience == "public" and result.signals is None
    payload = json.dumps(result.to_json()) + json.dumps(result.to_geojson())
    assert "signal_ids" not in payload and "fiets" not in payload and "J. Jansen" not in payload
    assert not POINT_COLUMNS & set(result.hotspots.columns)
    with pytest.raises(AccessDeniedError):
        access.visible_hotspots(filled, RESIDENT, "West", params=HotspotParams(audience="officer"))
    lowered = access.visible_hotspots(filled, RESIDENT, "West", params=HotspotParams(public_min_signals=1), now=NOW)
    assert (lowered.hotspots["n_signals"] >= 5).all()
    officer = access.visible_hotspots(filled, OFFICER, "West", now=NOW)
    assert officer.audience == "officer" and officer.signals is not None


def test_exports_are_audited_and_refusals_too(filled):
    """An officer's export is logged (who, what, rows); a resident's attempt is refused and logged."""
    frame = access.export_incidents(filled, OFFICER, ward="West")
    with pytest.raises(AccessDeniedError):
        access.export_incidents(filled, RESIDENT)
    log = access.audit_log(filled, ADMIN)
    assert list(log["action"]) == ["denied", "export"]
    export = log.iloc[1]
    assert (export["user_name"], export["role"], export["n_rows"]) == ("otto", "officer", len(frame) == 40 and 40)
    assert json.loads(export["what"])["ward"] == "West" and str(export["at"].tz) == "UTC"
    with pytest.raises(AccessDeniedError):
        access.audit_log(filled, OFFICER)
    access.audit_export(filled, OFFICER, "hotspots West as GeoPackage", 7)
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


def test_every_core_path_of_a_resident_is_free_of_points(filled):
    """Whatever a resident calls in planner.access, no coordinates, descriptions or sources of a
    signal come back: the calls either refuse or return aggregates/areas."""
    points = filled.incidents(include_personal=True)

    def micro(value: float) -> str:  # 6 decimals (≈ 0.1 m), truncated as a float's text would be
        whole, _, fraction = repr(float(value)).partition(".")
        return f"{whole}.{fraction[:6]}"

    located = [(micro(lat), micro(lon)) for lat, lon in zip(points["lat"], points["lon"], strict=True)]
    refused = 0
    calls = {
        "visible_incidents": lambda: access.visible_incidents(filled, RESIDENT),
        "export_incidents": lambda: access.export_incidents(filled, RESIDENT),
        "export_personal": lambda: access.export_incidents(filled, RESIDENT, include_personal=True),
        "audit_log": lambda: access.audit_log(filled, RESIDENT),
        "signal_counts": lambda: access.signal_counts(filled, RESIDENT, by=("ward", "category", "status")),
        "visible_hotspots": lambda: access.visible_hotspots(filled, RESIDENT, "West", now=NOW).to_json(),
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
    assert refused == 4


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
    shown = json.loads(runner.invoke(app, ["--db", filled.url, "audit", "show", "--json"]).stdout)
    entries = [(e["user_name"], e["action"], e["n_rows"]) for e in shown]
    assert entries == [("otto", "export", 40), ("rita", "denied", 0)]
    geo = runner.invoke(app, [*base[:-1], str(tmp_path / "out.geojson"), "--user", "otto"], input=f"{PASSWORD}\n")
    assert geo.exit_code == 0, geo.output
