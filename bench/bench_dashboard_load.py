"""Many people on one dashboard (issue 17 §3): N simultaneous browser sessions over PostGIS.

Usage::

    .venv/bin/python bench/bench_dashboard_load.py [--sessions 20,50] [--processes 1]

A throwaway PostgreSQL + PostGIS cluster (fsync on) holds the demo town; ``--processes``
``streamlit run app.py`` servers on 127.0.0.1 read it (no accounts, so every session shares the
caches of its process). For each count in ``--sessions`` a fresh server, then that many
Chromium contexts (Debian's chromium, driven by playwright; loopback only) open at once, each
first /vanavond, then /hotspots. Per page: the median and 95th percentile seconds from
``goto`` until the script has finished (``data-test-script-state=notRunning``) with a heading on
the page, the errors (exception boxes, timeouts), and the peak resident memory of the server
processes sampled every 0.2 s. Baseline in the same run: one session alone on a warm server
(the floor a user waits without others). Bounded: at most 120 s per page load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's PostgreSQL starter

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
PAGES = ("vanavond", "hotspots")
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(url: str, data: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "WAS_DATA_DIR": str(data), "WAS_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return process, base
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("streamlit did not start")


class _PeakMemory:
    """The peak summed RSS of some processes (and their children), sampled in a thread."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            for process in self.processes:
                with contextlib.suppress(psutil.Error):  # a process that just ended holds nothing
                    total += sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _session(browser, base: str) -> dict[str, float | str]:
    """One user: a context of its own, Vanavond then the hotspot map; seconds or the error per page."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    times: dict[str, float | str] = {}
    try:
        for name in PAGES:
            began = time.perf_counter()
            try:
                await page.goto(f"{base}/{name}", timeout=TIMEOUT_MS)
                await page.wait_for_selector(READY, timeout=TIMEOUT_MS)
                await page.wait_for_selector("[data-testid='stHeading'], h1", timeout=TIMEOUT_MS)
                failed = await page.locator("[data-testid='stException']").count()
                times[name] = "exception" if failed else time.perf_counter() - began
            except Exception as error:  # a timeout or a crashed page is a result of the load test
                times[name] = type(error).__name__
    finally:
        await context.close()
    return times


async def _load(bases: list[str], sessions: int) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(_session(browser, bases[i % len(bases)]) for i in range(sessions))))
        finally:
            await browser.close()


def _summary(results: list[dict]) -> dict:
    out = {}
    for name in PAGES:
        seconds = sorted(r[name] for r in results if isinstance(r.get(name), float))
        errors = [r.get(name) for r in results if not isinstance(r.get(name), float)]
        out[name] = {
            "ok": len(seconds), "errors": len(errors), "error_kinds": sorted(set(map(str, errors))),
            "median_s": round(statistics.median(seconds), 2) if seconds else None,
            "p95_s": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 2) if seconds else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="20,50")
    parser.add_argument("--processes", type=int, default=1, help="streamlit servers sharing the store")
    args = parser.parse_args()
    import pgcluster

    from planner.demo import build_demo
    from planner.hotspots.tuning import installation_street_calibration
    from planner.storage.store import open_store

    cluster = pgcluster.start_cluster(durable=True)
    try:
        url = cluster.create_database("was")
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder)
            store = open_store(url)
            build_demo(store, data, seed=0, end=date.fromisoformat(os.environ.get("WAS_TODAY", str(date.today()))))
            installation_street_calibration(store, data_dir=data)
            store.engine.dispose()
            for count in [int(c) for c in args.sessions.split(",")]:
                servers = [_start_server(url, data) for _ in range(args.processes)]
                bases = [base for _, base in servers]
                try:
                    with _PeakMemory([p.pid for p, _ in servers]) as memory:
                        cold = asyncio.run(_load(bases, 1))  # warms the caches, as the first user of a night does
                        alone = asyncio.run(_load(bases, 1))
                        began = time.perf_counter()
                        loaded = asyncio.run(_load(bases, count))
                        wall = time.perf_counter() - began
                    print(json.dumps({"sessions": count, "processes": args.processes, "wall_s": round(wall, 1),
                                      "first_session": _summary(cold), "one_warm_session": _summary(alone),
                                      "under_load": _summary(loaded),
                                      "server_peak_rss_mb": round(memory.peak / 2**20)}), flush=True)
                finally:
                    for process, _ in servers:
                        process.terminate()
                        process.wait(timeout=30)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
