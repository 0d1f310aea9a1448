"""Throwaway PostgreSQL + PostGIS clusters for the tests and benchmarks.

``start_cluster()`` runs ``initdb`` in a temporary directory and starts a server on 127.0.0.1
and a free port; ``Cluster.stop()`` stops it and removes the directory. As root the server
runs as the ``postgres`` system user (``initdb`` refuses root). Never used by the planner itself.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from planner._errors import PlannerError

SUPERUSER = "was"


def find_bin_dir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl`` (PATH, else the newest Debian install)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _major(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """A running throwaway server; ``url(db)`` gives a SQLAlchemy URL for one of its databases."""

    directory: Path
    port: int
    bin_dir: Path
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given, replacing one of that name); its URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        finally:
            admin.dispose()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its files."""
        _run(self, [self.bin_dir / "pg_ctl", "-D", self.directory / "data", "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _run(cluster: Cluster, command: list, *, check: bool = True) -> subprocess.CompletedProcess:
    args = [str(part) for part in command]
    if cluster.run_as:
        args = ["runuser", "-u", cluster.run_as, "--", *args]
    result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=120, cwd=cluster.directory)
    if check and result.returncode != 0:
        log = cluster.directory / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        msg = f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()} {tail}"
        raise PlannerError(msg)
    return result


def start_cluster(*, durable: bool = False) -> Cluster:
    """initdb a fresh cluster in a temporary directory and start it on 127.0.0.1.

    ``durable=False`` turns fsync off (tests: a crash of the server is not what they test);
    benchmarks use ``durable=True`` so the figures mean what a real installation gets.

    Raises
    ------
    PlannerError
        No PostgreSQL binaries are installed, or the server does not start.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        msg = ("PostgreSQL is not installed (no initdb); "
               "apt-get install postgresql postgresql-15-postgis-3 (or your version)")
        raise PlannerError(msg)
    run_as = "postgres" if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="was-pg-"))
    cluster = Cluster(directory=directory, port=free_port(), bin_dir=bin_dir, run_as=run_as)
    if run_as:
        shutil.chown(directory, user=run_as)
    options = [
        f"-p {cluster.port}", "-c listen_addresses=127.0.0.1", f"-k {directory}", "-c max_connections=60",
        "-c shared_buffers=128MB",
    ]
    if not durable:
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    try:
        _run(cluster, [bin_dir / "initdb", "-D", directory / "data", "-U", SUPERUSER, "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"])
        _run(cluster, [bin_dir / "pg_ctl", "-D", directory / "data", "-l", directory / "server.log",
                       "-w", "-t", "60", "-o", " ".join(options), "start"])
    except BaseException:
        cluster.stop()
        raise
    return cluster
