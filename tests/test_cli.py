"""Tests for planner/cli/: commands, JSON contracts, exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from planner._errors import DataNotFoundError, Notice
from planner.cli import app
from planner.cli._common import cli_text, flag

runner = CliRunner()


def run(data_dir, *args):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def test_help_lists_every_command():
    """--help names each command with a line of help."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "wards", "demo"):
        assert command in result.output



def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_help_wraps_each_paragraph_to_the_terminal_not_at_the_source_line_breaks():
    """On a wide terminal every paragraph of every command's help reads on one line (Typer's rich
    help kept the docstring's breaks and wrapped again: 'near-repeat on or ⏎ off and ⏎ whether')."""
    import inspect

    from typer.main import get_command

    multi_line = 0
    for path, command in _commands(get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "2000"})
        assert result.exit_code == 0, (path, result.output)
        lines = [" ".join(line.split()) for line in result.output.splitlines()]
        for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
            multi_line += "\n" in paragraph
            assert " ".join(paragraph.split()) in lines, (path, paragraph)
    assert multi_line > 0, "no command has a paragraph over several source lines: the test tests nothing"

def test_import_json_contract(data_dir, tmp_path):
    """import --json prints exactly one object with the five documented keys."""
    path = tmp_path / "s.csv"
    path.write_text("datum,categorie,lat,lon\n01-11-2025,inbraak,52.06,4.49\n02-11-2025,nope,52.06,4.49\n")
    result = run(data_dir, "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {
        "read": 2, "imported": 1, "duplicates": 0, "rejected": 1, "rejects_file": payload["rejects_file"],
    }
    assert payload["rejects_file"].endswith(".csv")
    again = json.loads(run(data_dir, "import", str(path), "--json").stdout)
    assert (again["imported"], again["duplicates"]) == (0, 1)


def test_import_json_still_says_its_warnings(data_dir, tmp_path):
    """--json keeps stdout one object, and the warnings go to stderr worded for the CLI: a file of
    dates read day-first by guess used to be stored without a word."""
    path = tmp_path / "s.csv"
    path.write_text("datum,categorie,lat,lon\n1/2/26 20:00,inbraak,52.06,4.49\n3/4/26 21:00,inbraak,52.06,4.49\n")
    result = run(data_dir, "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 2
    assert "warning: dates such as '1/2/26 20:00' read both day-first and month-first" in result.stderr
    assert "--date-format" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "file not found"), (b"\x00\x01", "not a text table"), (b"a;b\n1;2\n", "no recognisable columns")],
)
def test_unusable_input_exits_2_with_one_line(data_dir, tmp_path, content, message):
    """Unusable input gives exit code 2 and a one-line message, no traceback."""
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    result = run(data_dir, "import", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_wards_load_and_list_json(data_dir, tmp_path, two_wards):
    """wards load stores the polygons; wards list --json gives name, code and counts."""
    path = tmp_path / "w.geojson"
    two_wards.to_file(path, driver="GeoJSON")
    assert run(data_dir, "wards", "load", str(path)).exit_code == 0
    listed = json.loads(run(data_dir, "wards", "list", "--json").stdout)
    assert listed == [
        {"name": "Oost", "code": "WK999902", "incidents": 0},
        {"name": "West", "code": "WK999901", "incidents": 0},
    ]


def test_real_wards_load_from_cli(data_dir, shared_data):
    """The real Zoetermeer ward file loads through the CLI."""
    result = run(data_dir, "wards", "load", str(shared_data / "wards" / "zoetermeer_wijken_2015.geojson"))
    assert result.exit_code == 0 and "stored 9 wards" in result.output


def test_demo_command_says_it_is_synthetic(data_dir):
    """demo --json reports a synthetic dataset and its signals are stored."""
    result = run(data_dir, "demo", "--json", "--end", "2026-11-01")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["synthetic"] is True and payload["signals"] > 500
    listed = json.loads(run(data_dir, "wards", "list", "--json").stdout)
    assert sum(w["incidents"] for w in listed) == payload["signals"]


def test_officer_hotspots_need_an_officer_login_once_accounts_exist(data_dir, monkeypatch):
    """With accounts, --audience officer needs an officer's login; a resident is refused."""
    from planner.storage.store import open_store
    from planner.users import add_user

    assert run(data_dir, "demo", "--end", "2026-11-01").exit_code == 0
    store = open_store(f"sqlite:///{data_dir / 'was.db'}")
    assert run(data_dir, "hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--json").exit_code == 0
    add_user(store, "bewoner1", role="resident", password="geheim-wachtwoord")
    add_user(store, "agent1", role="officer", password="geheim-wachtwoord")
    refused = run(data_dir, "hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--json")
    assert refused.exit_code == 2 and "--user" in refused.stderr
    monkeypatch.setenv("WAS_PASSWORD", "geheim-wachtwoord")
    resident = run(data_dir, "hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--user", "bewoner1")
    assert resident.exit_code == 2 and "points" not in resident.stdout
    officer = run(data_dir, "hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--user", "agent1", "--json")
    assert officer.exit_code == 0 and "points" in json.loads(officer.stdout)
    public = run(data_dir, "hotspots", "--ward", "Vogelwijk", "--json")
    assert public.exit_code == 0 and "points" not in json.loads(public.stdout)


def test_demo_for_a_real_place_fails_clearly_offline(data_dir):
    """demo --place needs internet; offline it says so in one line and exits 2."""
    result = run(data_dir, "demo", "--place", "Zoetermeer, Netherlands")
    assert result.exit_code == 2, result.output
    assert "internet" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_output_path_that_is_a_folder_exits_2_with_one_line(data_dir, tmp_path):
    """`dpia --out FOLDER` (like `route --gpx out/`) says it cannot write there, no traceback."""
    result = run(data_dir, "dpia", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert f"cannot write {tmp_path}: it is a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--seed", "-1"], "--seed must be 0 or more, got -1"),
        (["demo", "--end", "9999-12-31"], "--end 9999-12-31 lies outside the years"),
        (["report", "--from", "0001-01-01", "--to", "2026-01-31", "--out", "{tmp}/r"], "--from 0001-01-01 lies"),
        (["report", "--from", "2026-01-01", "--to", "9999-12-31", "--out", "{tmp}/r"], "--to 9999-12-31 lies outside"),
        (["retention", "apply", "--older-than", "3000y"], "must be at most 100 years"),
        (["evaluate", "{tmp}/s.csv", "--split", "2026-09-01", "--horizon-days", "1e9"],
         "forecast horizon in days must be at most"),
        (["evaluate", "{tmp}/s.csv", "--split", "0001-01-01"], "split 0001-01-01 lies outside the years"),
        (["import", "{tmp}/s.csv", "--date-format", "%Q"], "date format '%Q' is not a strptime format"),
        (["hotspots", "--ward", "West", "--weights", "burglary=1e308"], "must be a number from 0 to 100"),
        (["route", "--ward", "West", "--teams", "100000"], "teams must be an integer from 1 to 4"),
        (["route", "--ward", "West", "--avoid", "{tmp}/binary.gpx"], "binary.gpx: not a GPX file"),
        (["patrols", "walked", "1", "--start", "9999-12-31 20:00", "--end", "21:00"], "--start 9999-12-31 20:00 lies"),
        # Messages name what the user set, not an internal parameter.
        (["route", "--ward", "West", "--minutes", "1e308"], "minutes must be > 0 and at most 1440 (a day)"),
        (["route", "--ward", "West", "--variety", "-1"], "(the extra cost of recently walked streets"),
        (["hotspots", "--ward", "West", "--window", "25:00-26:00"], "window start must be a time of day"),
        (["effect", "--treated", "West", "--split", "2026-06", "--seed", "-1"], "seed (random_state) must be"),
        (["import", "{tmp}/s.csv", "--source", "buurman"], "source of rows without one must be one of"),
        (["route", "--ward", "West", "--speed-kmh", "-1"], "the walking speed in km/h must be > 0 (or left out"),
        (["route", "--ward", "West", "--dwell-min", "-1"], "the minutes at each stop (dwell) must be ≥ 0"),
        # A police file of one kind of signal has no category column: the message says how to give one.
        (["import", "{tmp}/assaults.csv"], "or give the whole file one with --default-category"),
        (["import", "{tmp}/assaults.csv", "--default-category", "theft"], "default category must be one of burglary"),
    ],
)
def test_hostile_options_exit_2_with_one_line(data_dir, tmp_path, args, message):
    """Each attack of issue 14 §4 on the options gives exit code 2 and one line, no traceback."""
    (tmp_path / "s.csv").write_text("datum,categorie,lat,lon\n01-11-2025,inbraak,52.06,4.49\n")
    (tmp_path / "assaults.csv").write_text("datum,lat,lon\n01-11-2025,52.06,4.49\n")
    (tmp_path / "binary.gpx").write_bytes(bytes(range(256)) * 4)
    result = run(data_dir, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- issue 14 §1: every command that reads what a role limits, as each role -----------------------------
ROLE_ACCOUNTS = {"resident": "bewoner1", "officer": "agent1", "municipality": "gemeente1", "admin": "beheer1"}


@pytest.fixture(scope="module")
def shared_demo(demo_copy):
    """The demo with one account per role (password geheim-wachtwoord) and an agreement at a signal."""
    from planner.review.agreements import Place, add_agreement
    from planner.storage.store import open_store
    from planner.users import add_user

    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    for role, name in ROLE_ACCOUNTS.items():
        add_user(store, name, role=role, password="geheim-wachtwoord")
    point = store.incidents(ward="Vogelwijk").iloc[0]
    add_agreement(store, ward="Vogelwijk", what="lamp", role="gemeente", due=__import__("datetime").date(2026, 12, 1),
                  place=Place(float(point["lat"]), float(point["lon"]), "hotspot 1"), incident_id=int(point["id"]))
    return demo_copy, store


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_every_reading_command_as_every_role(shared_demo, role, tmp_path, monkeypatch, find_leaks):
    """Each command that reads signals, hotspots, hot streets, coverage, patrols, agreements, accounts
    or the audit log answers each role as planner.access allows (exit 0, else exit 2 naming the
    role); whatever a resident receives, on stdout or in a file, holds no signal's location,
    description, source or reporter."""
    from planner.access import PERMISSIONS
    from planner.signals.incidents import SOURCES

    data, store = shared_demo
    monkeypatch.setenv("WAS_USER", ROLE_ACCOUNTS[role])
    monkeypatch.setenv("WAS_PASSWORD", "geheim-wachtwoord")
    out = tmp_path / "out"
    commands = {  # command → the permission it needs
        ("hotspots", "--ward", "Vogelwijk", "--json", "--geojson", str(out / "h.geojson"),
         "--hot-streets", str(out / "s.geojson")): "view_aggregates",
        ("hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--json"): "view_points",
        ("agreements", "list", "--json"): "view_aggregates",
        ("patrols", "list", "--json"): "view_aggregates",
        # --no-needs: the capacity simulation is the report's slow part and needs no permission of its own
        ("report", "--from", "2026-10-01", "--to", "2026-10-31", "--out", str(out / "report"), "--no-needs",
         "--json"): "view_coverage",
        ("coverage", "--ward", "Vogelwijk", "--from", "2026-10-01", "--to", "2026-10-31", "--json"): "view_coverage",
        ("export", "signals", str(out / "signals.csv")): "export_raw",
        ("audit", "show", "--json"): "view_audit",
        ("audit", "verify"): "view_audit",
        ("users", "list", "--json"): "manage_users",
        ("retention", "apply", "--older-than", "100y", "--json"): "apply_retention",
    }
    received = []
    for args, permission in commands.items():
        result = run(data, *args)
        allowed = role in PERMISSIONS[permission]
        assert result.exit_code == (0 if allowed else 2), (args, result.output)
        if not allowed:
            assert f"({role}) may not" in result.stderr and "Traceback" not in result.output
        received.append(result.stdout)
    received += [path.read_text(encoding="utf-8-sig") for path in out.rglob("*") if path.is_file()]
    if role in PERMISSIONS["view_coverage"]:  # --no-needs leaves the needs table with its header alone
        assert len((out / "report" / "benodigde_uren.csv").read_text(encoding="utf-8-sig").splitlines()) == 1
    if role != "resident":
        return
    text = "\n".join(received)
    assert not find_leaks(text, store.incidents(include_personal=True))
    assert not [code for code in SOURCES if f'"{code}"' in text]
    assert '"points"' not in text and '"signal_ids"' not in text


def test_core_messages_get_their_flags_and_commands_from_the_cli():
    """A core error or warning names options and commands for the front-end to word: the CLI
    gives flags and appends "see `was-planner …`"; ``str()`` keeps the parameters' names."""
    missing = DataNotFoundError("no patrol with id 9", commands=("patrols list",))
    assert str(missing) == "no patrol with id 9"
    assert cli_text(missing) == "no patrol with id 9; see `was-planner patrols list`"
    notice = Notice("give the date format ({date_format} '%m/%d/%y')", options=("date_format",))
    assert notice == "give the date format (`date_format` '%m/%d/%y')"
    assert cli_text(notice) == "give the date format (--date-format '%m/%d/%y')"
    assert cli_text("plain text") == "plain text" and flag("day") == "--date"
