"""Dashboard responsiveness on the demo data, measured with streamlit's AppTest.

For each page: the first (cold) run, then warm interactions (changing ward, time window or
budget, as a user would), against a baseline measured in the same run: a rerun in which nothing
changed (the floor Streamlit itself costs). Target: a warm interaction answers in < 1 s.

    .venv/bin/python bench/bench_dashboard.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

from streamlit.testing.v1 import AppTest

from planner.demo import build_demo
from planner.storage.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def interactions() -> dict[str, tuple[str | None, list]]:
    """Page → the widget changes a user makes there (key, values to cycle through)."""
    return {
        "tonight": (None, [("tonight_ward", "select"), ("tonight_minutes", "slider")]),
        "hotspot_map": ("app_pages/hotspot_map.py", [("hotspots_ward", "select"), ("hotspots_hours", "slider")]),
        "coverage": ("app_pages/coverage.py", [("coverage_freq", "select")]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    data = Path(tempfile.mkdtemp(prefix="was-bench-"))
    build_demo(open_store(f"sqlite:///{data / 'was.db'}"), data, seed=0, end=date.today())
    os.environ["WAS_DATA_DIR"] = str(data)
    os.environ.pop("WAS_DATABASE_URL", None)
    values = {
        "tonight_ward": ["Vogelwijk", "Bomenwijk", "Bloemenwijk"],
        "tonight_minutes": [60, 120, 90],
        "hotspots_ward": ["Vogelwijk", None, "Schildersbuurt"],
        "hotspots_hours": [(clock(20, 0), clock(23, 0)), (clock(0, 0), clock(23, 59))],
        "coverage_freq": ["month", "week", "quarter"],
    }
    rows = []
    for page, (path, changes) in interactions().items():
        at = AppTest.from_file(APP, default_timeout=300)
        start_page = timed(at.run)  # the router and tonight's page, as a browser opens it
        cold = timed(lambda at=at, path=path: at.switch_page(path).run()) if path else start_page
        noop = [timed(at.run) for _ in range(args.repeat)]
        warm = []
        for key, kind in changes:
            for value in values[key] * args.repeat:
                widget = at.selectbox(key=key) if kind == "select" else at.slider(key=key)
                warm.append(timed(lambda widget=widget, value=value: widget.set_value(value).run()))
        assert not at.exception, [e.value for e in at.exception]
        rows.append((page, cold, statistics.median(noop), statistics.median(warm), max(warm)))
    print(f"{'page':<12} {'cold s':>8} {'no-op rerun s':>14} {'warm median s':>14} {'warm max s':>11} {'ratio':>6}")
    for page, cold, noop, warm, worst in rows:
        print(f"{page:<12} {cold:8.2f} {noop:14.2f} {warm:14.2f} {worst:11.2f} {warm / noop:6.1f}")


if __name__ == "__main__":
    main()
