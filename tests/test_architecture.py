"""The architecture contracts in pyproject.toml (import-linter): layers point one way, and the
front-ends never import the store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(*, path: list[Path], config: Path) -> subprocess.CompletedProcess:
    # In a process of its own: lint-imports configures logging with dictConfig, which silences
    # every logger that exists already (the planner's progress lines) for the rest of a session.
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), str(config), "--no-cache"],
                          cwd=config.parent, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))})


def test_the_code_keeps_every_contract():
    """Every contract holds on the code as it is."""
    run = _lint_imports(path=[ROOT], config=ROOT / "pyproject.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Layers point one way KEPT" in run.stdout and "Front-ends never import the store KEPT" in run.stdout


def test_a_page_that_imports_the_store_breaks_the_contracts(tmp_path):
    """The same contracts fail on a dashboard whose page imports the store (so the first test can fail)."""
    pages = tmp_path / "app_pages"
    shutil.copytree(ROOT / "app_pages", pages, ignore=shutil.ignore_patterns("__pycache__"))
    (pages / "sneaky.py").write_text("from planner.storage.store import open_store\n\nopen_store()\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    run = _lint_imports(path=[tmp_path, ROOT], config=tmp_path / "pyproject.toml")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Front-ends never import the store BROKEN" in run.stdout
    assert "app_pages.sneaky -> planner.storage.store" in run.stdout
