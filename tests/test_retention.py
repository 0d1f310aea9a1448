"""Tests for planner/retention.py and `was-planner retention apply`, on both backends."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app
from planner.cli._common import flag
from planner.retention import apply_retention, parse_age, retention_cutoff
from planner.signals.incidents import RawTable
from planner.signals.intake import import_table
from planner.signals.wards import store_wards

NOW = datetime(2026, 11, 25, 12, 0)


@pytest.fixture
def aged(any_store, two_wards, make_signals):
    """Wards plus signals from 2023 (4 in West, 2 in Oost, 1 without ward) and 2 from 2026."""
    store_wards(any_store, two_wards)
    old = make_signals(np.array([[91_200 + 100 * i, 452_300] for i in range(4)]
                                + [[92_400, 452_600], [92_700, 452_700], [91_900, 452_900]]),
                       day="10-03-2023", prefix="old")
    new = make_signals(np.array([[91_500, 452_500], [92_500, 452_500]]), day="20-11-2026", prefix="new")
    rows = pd.concat([old, new], ignore_index=True)
    rows.loc[len(rows)] = {**rows.iloc[0].to_dict(), "id": "bad", "categorie": "graffiti"}
    import_table(any_store, RawTable(rows=rows), file_name="s.csv", content_hash="s", now=NOW)
    last_old = any_store.incidents().query("external_id == 'old6'")["id"]
    any_store.set_incident_wards(pd.Series([None], index=last_old.to_numpy(), dtype=object))
    return any_store


def test_old_signals_lose_details_and_exact_location(aged):
    """Signals older than 2 years: no description, reporter or id; location = ward point, ward kept."""
    before = aged.incidents(include_personal=True).set_index("occurred_from")
    report = apply_retention(aged, older_than="2y", now=NOW)
    assert (report.anonymised, report.outside_wards, report.already_anonymised) == (7, 1, 0)
    after = aged.incidents(include_personal=True)
    old = after[after["occurred_from"] < pd.Timestamp("2024-11-25", tz="UTC")]
    assert old["description"].isna().all() and old["reporter"].isna().all() and old["external_id"].isna().all()
    wards = aged.wards().set_index("name")
    for _, row in old[old["ward"].notna()].iterrows():
        assert wards.loc[row["ward"], "geometry"].contains(Point(row["lon"], row["lat"]))
    assert old.groupby("ward")["lat"].nunique().eq(1).all()  # one point per ward
    assert sorted(old["ward"].dropna()) == ["Oost"] * 2 + ["West"] * 4
    outside = old[old["ward"].isna()].iloc[0]
    assert outside["lat"] == round(outside["lat"], 2) and outside["lon"] == round(outside["lon"], 2)
    recent = after[after["occurred_from"] >= pd.Timestamp("2024-11-25", tz="UTC")]
    assert len(recent) == 2 and (recent["description"] == "fiets weg bij de schuur").all()
    assert len(before) == len(after)


def test_the_report_lists_the_exports_that_may_still_hold_the_anonymised_signals(any_store, two_wards,
                                                                                 make_signals):
    """Exported copies are not ours to delete, so retention names the audited exports made since
    the signals it anonymised were stored; none from before, no views, none when nothing went."""
    from planner.access import record_access
    from planner.users import User

    officer = User("otto", "officer", via="dashboard")
    store_wards(any_store, two_wards)
    record_access(any_store, officer, json.dumps({"table": "hotspot points", "file": "before.geojson"}), 5)
    old = make_signals(np.array([[91_200, 452_300], [91_300, 452_300]]), day="10-03-2023", prefix="old")
    import_table(any_store, RawTable(rows=old), file_name="s.csv", content_hash="s", now=NOW)
    record_access(any_store, officer, json.dumps({"table": "hotspot points", "file": "after.geojson"}), 2)
    record_access(any_store, officer, json.dumps({"table": "incidents", "ward": "West"}), 2, action="view")
    record_access(any_store, officer, json.dumps({"table": "incidents", "file": "empty.csv"}), 0)
    report = apply_retention(any_store, older_than="2y", now=NOW)
    assert report.anonymised == 2
    assert [(e["user"], e["what"]) for e in report.exports_to_delete] == [("otto", "hotspot points (after.geojson)")]
    assert "ask their owners to delete those copies: hotspot points (after.geojson) by otto on" in report.summary()
    assert report.to_json()["exports_to_delete"] == list(report.exports_to_delete)
    again = apply_retention(any_store, older_than="2y", now=NOW)
    assert again.exports_to_delete == () and "export" not in again.summary()


def test_retention_is_idempotent_and_survives_a_reimport(aged, make_signals):
    """A second run changes nothing; re-importing the original rows does not bring details back."""
    apply_retention(aged, older_than="2y", now=NOW)
    first = aged.incidents(include_personal=True)
    again = apply_retention(aged, older_than="2y", now=NOW)
    assert (again.anonymised, again.already_anonymised) == (0, 7)
    pd.testing.assert_frame_equal(first, aged.incidents(include_personal=True))
    old = make_signals(np.array([[91_200 + 100 * i, 452_300] for i in range(4)]), day="10-03-2023", prefix="old")
    report = import_table(aged, RawTable(rows=old), file_name="s.csv", content_hash="s2", now=NOW)
    assert (report.imported, report.duplicates) == (0, 4)


def test_old_rejected_rows_are_deleted(aged):
    """Rejected rows keep raw cells; they go by their event's date (the rejected row of 2023,
    imported today, is past 2 years), and every row of a batch older than the cutoff goes."""
    assert apply_retention(aged, older_than="4y", now=NOW).rejected_rows_deleted == 0
    assert apply_retention(aged, older_than="2y", now=NOW).rejected_rows_deleted == 1
    assert aged.rejected(int(aged.batches()["id"].iloc[0])).empty
    recent = _signal_rows_with_bad_category(day="20-11-2026")
    import_table(aged, RawTable(rows=recent), file_name="r.csv", content_hash="r", now=NOW)
    assert apply_retention(aged, older_than="2y", now=NOW).rejected_rows_deleted == 0
    later = apply_retention(aged, older_than="1d", now=datetime(2030, 1, 1))
    assert later.rejected_rows_deleted == 1 and later.anonymised == 2


def _signal_rows_with_bad_category(*, day: str) -> pd.DataFrame:
    return pd.DataFrame({"datum": [day], "tijd": ["22:30"], "categorie": ["graffiti"], "lat": ["52.06"],
                         "lon": ["4.49"], "melder": ["A. Afgewezen"]})


@pytest.mark.parametrize(
    "text, offset",
    [("2y", pd.DateOffset(years=2)), ("18m", pd.DateOffset(months=18)), ("6 weken", pd.DateOffset(weeks=6)),
     ("90d", pd.DateOffset(days=90)), ("2 jaar", pd.DateOffset(years=2))],
)
def test_ages_in_english_and_dutch(text, offset):
    """Ages are a number and a unit (y/m/w/d, English or Dutch)."""
    assert parse_age(text) == offset


@pytest.mark.parametrize("text", ["", "2", "y", "0d", "two years", "-1y"])
def test_bad_ages_are_refused(text):
    """Unreadable or zero ages are refused before anything is changed."""
    with pytest.raises(InputError) as refused:
        parse_age(text)
    assert "--older-than" in refused.value.phrased(flag)


def test_cutoff_is_calendar_based():
    """Two years before 29 Feb 2028 is 28 Feb 2026 (calendar arithmetic, in UTC)."""
    assert retention_cutoff("2y", now=datetime(2028, 2, 29, 12)).isoformat() == "2026-02-28T12:00:00+00:00"


def test_cli_uses_the_configured_default_and_prints_json(aged, monkeypatch):
    """`retention apply --json` takes WAS_RETENTION when --older-than is absent."""
    monkeypatch.setenv("WAS_RETENTION", "1y")
    result = CliRunner().invoke(app, ["--db", aged.url, "retention", "apply", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["older_than"] == "1y" and payload["anonymised"] == 7
    assert set(payload) >= {"older_than", "cutoff", "anonymised", "outside_wards", "already_anonymised",
                            "rejected_rows_deleted", "rejects_files_deleted", "patrol_members_deleted",
                            "patrol_notes_cleared", "agreements_cleared"}
    bad = CliRunner().invoke(app, ["--db", aged.url, "retention", "apply", "--older-than", "soon"])
    assert bad.exit_code == 2 and "--older-than" in bad.output


def test_personal_data_past_retention_leaves_the_database_file_and_the_data_directory(store, data_dir, two_wards,
                                                                                      make_signals):
    """Names of 2023 in every place they are kept (signals, rejected rows and their CSV, patrol
    members and notes, agreements on the signals) are gone from was.db, its log and every file in
    the data directory after `retention apply`; the 2026 ones stay, and a second run finds nothing."""
    from datetime import UTC, timedelta

    from planner.patrols import get_patrol, mark_walked, patrol_members, save_planned_patrol
    from planner.review.agreements import Place, add_agreement, get_agreement

    store_wards(store, two_wards)
    recent = datetime.now(UTC) - timedelta(days=5)  # `retention apply` judges by today
    rows = []
    for day, who in (("10-03-2023", "Oude"), (f"{recent:%d-%m-%Y}", "Nieuwe")):
        signals = make_signals(np.array([[91_500, 452_500]]), day=day, prefix=who)
        signals["melder"], signals["omschrijving"] = f"{who} Melder", f"{who} Omschrijving"
        bad = {**signals.iloc[0].to_dict(), "id": f"{who}-bad", "categorie": "graffiti", "melder": f"{who} Afgewezen"}
        rows += [signals, pd.DataFrame([bad])]
    report = import_table(store, RawTable(rows=pd.concat(rows, ignore_index=True), delimiter=";"), file_name="s.csv",
                          content_hash="s", rejects_dir=data_dir / "rejects")
    assert report.rejected == 2 and "Oude Afgewezen" in Path(report.rejects_file).read_text(encoding="utf-8-sig")
    old_only = import_table(store, RawTable(rows=rows[1]), file_name="oud.csv", content_hash="o",
                            rejects_dir=data_dir / "rejects")
    signal = store.incidents().set_index("external_id")["id"]
    patrols, agreements = {}, {}
    for start, who in ((datetime(2023, 3, 11, 20, tzinfo=UTC), "Oude"), (recent.replace(hour=18), "Nieuwe")):
        planned = save_planned_patrol(store, ward="West", start=start, minutes=60, team_size=2,
                                      route_geojson={"type": "FeatureCollection", "features": []})
        mark_walked(store, planned.id, actual_start=start, actual_end=start + timedelta(hours=1),
                    notes=f"{who} Notitie", members=[f"{who} Loper"])
        patrols[who] = planned.id
        agreements[who] = add_agreement(store, ward="West", what=f"{who} Afspraak met de buurman", role="wijkagent",
                                        due=start.date(), incident_id=int(signal[f"{who}0"]),
                                        place=Place(52.06, 4.49)).id

    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "retention", "apply", "--older-than", "2y",
                                      "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["anonymised"], counts["rejected_rows_deleted"]) == (1, 2)
    assert (counts["rejects_files_deleted"], counts["rejects_files_rewritten"]) == (1, 1)
    assert (counts["patrol_members_deleted"], counts["patrol_notes_cleared"], counts["agreements_cleared"]) == (1, 1, 1)
    assert not Path(old_only.rejects_file).exists()
    kept = Path(report.rejects_file).read_text(encoding="utf-8-sig")
    assert "Nieuwe Afgewezen" in kept and kept.splitlines()[0].count(";") >= 5
    on_disk = b"".join(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    for text in ("Oude Melder", "Oude Omschrijving", "Oude Afgewezen", "Oude Loper", "Oude Notitie", "Oude Afspraak"):
        assert text.encode() not in on_disk, text
    for text in ("Nieuwe Melder", "Nieuwe Afgewezen", "Nieuwe Loper", "Nieuwe Notitie", "Nieuwe Afspraak"):
        assert text.encode() in on_disk, text
    assert patrol_members(store, patrols["Oude"]) == () and get_patrol(store, patrols["Oude"]).notes is None
    assert patrol_members(store, patrols["Nieuwe"]) == ("Nieuwe Loper",)
    cleared = get_agreement(store, agreements["Oude"])
    assert (cleared.what, cleared.lat, cleared.role, cleared.ward) == ("", None, "wijkagent", "West")
    again = CliRunner().invoke(app, ["--data-dir", str(data_dir), "retention", "apply", "--older-than", "2y",
                                     "--json"])
    left = {key: value for key, value in json.loads(again.stdout).items()
            if key not in {"older_than", "cutoff", "already_anonymised"}}
    assert again.exit_code == 0 and left.pop("exports_to_delete") == [] and set(left.values()) == {0}


def test_patrol_names_notes_and_agreements_go_on_both_backends(aged):
    """Patrols that ended before the cutoff lose member names and notes, agreements on anonymised
    signals their text and place; later ones keep theirs (SQLite and PostgreSQL alike)."""
    from datetime import UTC, timedelta

    from planner.patrols import get_patrol, mark_walked, patrol_members, save_planned_patrol
    from planner.review.agreements import Place, add_agreement, get_agreement

    ids = aged.incidents().set_index("external_id")["id"]
    made = {}
    for start, signal in ((datetime(2023, 3, 11, 20, tzinfo=UTC), "old0"), (datetime(2026, 11, 21, 20, tzinfo=UTC),
                                                                            "new0")):
        planned = save_planned_patrol(aged, ward="West", start=start, minutes=60, team_size=2,
                                      route_geojson={"type": "FeatureCollection", "features": []})
        mark_walked(aged, planned.id, actual_start=start, actual_end=start + timedelta(hours=1), notes="rustig",
                    members=["Anna"])
        agreement = add_agreement(aged, ward="West", what="bellen met de buurman", role="wijkagent", due=start.date(),
                                  incident_id=int(ids[signal]), place=Place(52.06, 4.49))
        made[signal] = (planned.id, agreement.id)
    report = apply_retention(aged, older_than="2y", now=NOW)
    assert (report.patrol_members_deleted, report.patrol_notes_cleared, report.agreements_cleared) == (1, 1, 1)
    old_patrol, old_agreement = made["old0"]
    new_patrol, new_agreement = made["new0"]
    assert patrol_members(aged, old_patrol) == () and get_patrol(aged, old_patrol).notes is None
    assert patrol_members(aged, new_patrol) == ("Anna",) and get_patrol(aged, new_patrol).notes == "rustig"
    assert (get_agreement(aged, old_agreement).what, get_agreement(aged, old_agreement).lon) == ("", None)
    assert get_agreement(aged, new_agreement).what == "bellen met de buurman"
    again = apply_retention(aged, older_than="2y", now=NOW)
    assert (again.patrol_members_deleted, again.patrol_notes_cleared, again.agreements_cleared) == (0, 0, 0)
