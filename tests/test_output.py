"""Tests for planner/output.py: CSV files that open safely in Excel, one-line errors for paths
that cannot be written."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner import _time
from planner._errors import InputError
from planner.output import csv_bytes, excel_safe_cell, write_csv, write_text

# Rows inside Demostad's wards; cells and a column name a spreadsheet would run as formulas.
HOSTILE = (
    'datum;tijd;categorie;lat;lon;omschrijving;=HYPERLINK("http://x";"klik")\n'
    "{day};22:00;inbraak;52.545;5.262;=1+2;@SUM(A1)\n"
    "{day};22:30;inbraak;52.545;5.262;+31 6 1234;-2+3\n"
    "{day};23:00;fietsdiefstal;52.545;5.262;-cmd|' /C calc'!A0;\tx\n"
    "31-02-2026;21:00;inbraak;52.545;-5;=1+2;\"\rx\"\n"
)


def _cells(raw: bytes, sep: str = ";") -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def assert_excel_safe(raw: bytes, sep: str = ";") -> None:
    """No header or cell of the CSV starts a formula, unless it is a plain number."""
    table = _cells(raw, sep)
    cells = [*table.columns, *table.to_numpy().ravel()]
    assert cells, "empty output"
    unsafe = [c for c in cells if excel_safe_cell(c) != c]
    assert not unsafe, unsafe


def test_formula_cells_get_a_quote_and_numbers_stay_numbers():
    """= + - @ tab and CR starts are prefixed with ', plain numbers such as -4.5 are left alone."""
    for cell in ("=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+31 6 1234"):
        assert excel_safe_cell(cell) == "'" + cell
    for cell in ("-4.5", "+31", "-0,25", "1e308", "inbraak", "", 3, None):
        assert excel_safe_cell(cell) == cell
    frame = pd.DataFrame({"=x": ["=1", "ok"], "n": [-1.5, 2.0]})
    assert _cells(csv_bytes(frame)).to_dict("list") == {"'=x": ["'=1", "ok"], "n": ["-1.5", "2.0"]}


def test_every_csv_of_a_hostile_import_opens_safely(demo_copy, tmp_path):
    """The hostile file's rejects, the audited signal export, the report's tables (afspraken.csv)
    and the dashboard's rejects download neutralise every formula cell."""
    from planner.cli import app
    from planner.review.agreements import add_agreement
    from planner.review.report import build_report, write_report
    from planner.signals.intake import import_file
    from planner.storage.store import open_store
    from planner.users import add_user

    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    day = _time.today() - timedelta(days=2)
    source = tmp_path / "hostile.csv"
    source.write_text(HOSTILE.format(day=day.strftime("%d-%m-%Y")), encoding="utf-8")
    report = import_file(store, source, rejects_dir=tmp_path / "rejects")
    assert (report.imported, report.rejected) == (2, 2)
    outputs = {"rejects": Path(report.rejects_file).read_bytes(),
               "dashboard rejects download": csv_bytes(store.rejected(report.batch_id))}

    add_user(store, "otto", role="officer", password="correct horse battery")
    export = tmp_path / "export.csv"
    result = CliRunner().invoke(app, ["--data-dir", str(demo_copy), "export", "signals", str(export),
                                      "--user", "otto"], env={"WAS_PASSWORD": "correct horse battery"})
    assert result.exit_code == 0, result.output
    outputs["export signals"] = export.read_bytes()
    assert "'=1+2" in outputs["export signals"].decode("utf-8-sig")

    ward = store.wards()["name"].iloc[0]
    add_agreement(store, ward=ward, what="=HYPERLINK(\"http://x\")", role="@gemeente", due=day)
    files = write_report(build_report(store, day - timedelta(days=7), day + timedelta(days=1), data_dir=demo_copy,
                                      needs=False), tmp_path / "report")
    outputs |= {path.name: path.read_bytes() for path in files.csv}
    assert "'=HYPERLINK" in outputs["afspraken.csv"].decode("utf-8-sig")
    for name, raw in outputs.items():
        try:
            assert_excel_safe(raw, sep=";")
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


@pytest.mark.parametrize("where", ["folder", "missing root", "below a file"])
def test_unwritable_paths_are_one_line_input_errors(tmp_path, where):
    """A folder, a path under /proc or under a file: an InputError naming the path, not an OSError."""
    (tmp_path / "file.txt").write_text("x")
    path = {"folder": tmp_path, "missing root": "/proc/x/rapport.html",
            "below a file": tmp_path / "file.txt" / "out.csv"}[where]
    for write in (lambda: write_text(path, "x"), lambda: write_csv(pd.DataFrame({"a": [1]}), path)):
        with pytest.raises(InputError, match=f"cannot write {path}"):
            write()
