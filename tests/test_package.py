"""Tests of the package as a whole."""

import subprocess
import sys


def test_planner_never_imports_streamlit():
    """Importing every planner module leaves streamlit unloaded (the core is UI-free)."""
    code = (
        "import importlib, pkgutil, sys, planner\n"
        "for m in pkgutil.iter_modules(planner.__path__):\n"
        "    importlib.import_module('planner.' + m.name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
