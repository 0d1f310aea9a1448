"""Every ward's plan for one night, one Dask task per ward (``was-planner plan-all``).

A ward's task plans its round as the ``route`` command does (``routes.plan_for_ward``: tonight's
hotspots and hot streets, weighted for the night's time window), writes the GPX, GeoJSON and
printable briefing into ``out/<ward>/`` and stores the night's planned patrol, replacing an
earlier plan of that night (``patrols.save_planned_patrol(night=…)``). Tasks carry names, not
data: each worker opens the store from its URL (SQLite here, the shared PostGIS store on a
cluster) and reads the street graph from the graph cache under ``data_dir``, which workers on
other machines must see at the same path. A ward without a cached graph gets a graph task of its
own first when an OSM extract is given. A ward that fails is reported with its reason; the
others go on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from . import settings
from ._errors import DataNotFoundError, InputError, OfflineError, PlannerError
from ._time import local_zone
from ._validation import Constraints, Rule, check_params, instance, integer, one_of
from .routing.routes import RouteParams

log = logging.getLogger(__name__)

FILES = {"gpx": "route.gpx", "geojson": "route.geojson", "briefing": "briefing.html"}
"""What a ward's task writes into ``out/<ward>/``; a re-run of the night overwrites them."""


def _is_clock(value: Any) -> bool:
    try:
        datetime.strptime(value, "%H:%M")
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class NightParams:
    """What every ward's round of the night looks like.

    Parameters
    ----------
    route
        The route planner's options (minutes, teams, seed, variety …), as for ``was-planner route``.
    start
        When the rounds start, local ``HH:MM``: the hotspots are weighted for the window from
        here to the end of the round, on the night's weekday, and the patrol is stored at it.
    team_size
        People per team; the stored patrol counts ``team_size × teams`` walkers.
    hot_streets
        Hot streets away from the hotspots to visit too (0: none).
    vary_last
        Vary from the streets of the ward's last N logged patrols (0: off).
    language
        Language of the briefing: ``nl`` or ``en``.
    link_base
        The dashboard's public address (``settings.public_url``): each briefing then carries a
        QR code per team that opens the stored round on a phone; None, no QR code.
    """

    route: RouteParams = field(default_factory=RouteParams)
    start: str = "20:00"
    team_size: int = settings.TEAM_SIZE
    hot_streets: int = 5
    vary_last: int = settings.VARY_LAST_ROUNDS
    language: str = "nl"
    link_base: str | None = None

    _constraints: ClassVar[Constraints] = {
        "route": instance(RouteParams, allowed="a RouteParams"),
        "start": Rule(_is_clock, "a local time HH:MM, e.g. 20:00"),
        "team_size": integer(low=1, high=20),
        "hot_streets": integer(low=0, high=100),
        "vary_last": integer(low=0),
        "language": one_of("nl", "en"),
        "link_base": Rule(lambda v: v is None or settings.is_web_address(v), "None or the dashboard's address, https://…"),
    }

    def __post_init__(self) -> None:
        check_params(self)

    def begin(self, night: date) -> datetime:
        """When the night's rounds start, local time."""
        clock = datetime.strptime(self.start, "%H:%M").time()
        return datetime.combine(night, clock, tzinfo=local_zone())

    def window(self, night: date):
        """The time window the night's hotspots are weighted for (``TimeWindow``)."""
        from .hotspots import TimeWindow

        begin = self.begin(night)
        end = begin + timedelta(minutes=self.route.minutes)
        return TimeWindow(start=self.start, end=f"{end:%H:%M}", weekdays=(night.weekday(),))


@dataclass(frozen=True)
class WardNight:
    """One ward's outcome: planned (``patrol_id`` and ``files``) or failed (``reason``)."""

    ward: str
    patrol_id: int | None = None
    reason: str | None = None
    score: float = 0.0
    stops: int = 0
    files: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """Time of the task's steps: ``graph`` (build or load the street graph), ``plan`` (hotspots
    and route), ``write`` (files and store)."""

    @property
    def planned(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict:
        return {"ward": self.ward, "patrol_id": self.patrol_id, "reason": self.reason, "score": round(self.score, 3),
                "stops": self.stops, "files": self.files, "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


@dataclass(frozen=True)
class NightlyResult:
    """The night's plans of every ward asked for."""

    night: date
    wards: tuple[WardNight, ...]
    seconds: float
    workers: int
    """Processes that ran the tasks (0: in this process)."""

    @property
    def planned(self) -> tuple[WardNight, ...]:
        return tuple(w for w in self.wards if w.planned)

    @property
    def failed(self) -> tuple[WardNight, ...]:
        return tuple(w for w in self.wards if not w.planned)

    def to_json(self) -> dict:
        return {"date": self.night.isoformat(), "wards": len(self.wards), "planned": len(self.planned),
                "failed": [{"ward": w.ward, "reason": w.reason} for w in self.failed],
                "seconds": round(self.seconds, 2)}

    def summary(self) -> str:
        lines = [f"{self.night}: {len(self.planned)} of {len(self.wards)} wards planned in {self.seconds:.1f} s"
                 + (f" on {self.workers} worker(s)" if self.workers else " in this process")]
        lines += [f"  not planned: {w.ward}: {w.reason}" for w in self.failed]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The tasks (run on the workers; module-level so Dask can send them by name)
# --------------------------------------------------------------------------------------------
def _failure(ward: str, error: Exception) -> WardNight:
    if isinstance(error, PlannerError):
        return WardNight(ward=ward, reason=str(error))
    log.exception("plan-all: %s failed", ward)
    return WardNight(ward=ward, reason=f"unexpected {type(error).__name__}: {error}")


def build_graph_task(db_url: str, ward: str, osm: str, data_dir: str) -> WardNight | None:
    """Build and cache a ward's walking graph from the OSM extract, clipped to the ward; the
    failure of the ward (which its plan task then reports), else None."""
    from .storage.store import open_store
    from .streets import build_and_cache_ward_graph

    store = open_store(db_url)
    try:
        build_and_cache_ward_graph(store, ward, osm=Path(osm), data_dir=data_dir)
    except Exception as error:  # reported per ward: one bad ward must not stop the night
        return _failure(ward, error)
    finally:
        store.engine.dispose()
    return None


def plan_ward_task(db_url: str, ward: str, night: date, params: NightParams, out_dir: str, data_dir: str,
                   graph_failure: WardNight | None = None) -> WardNight:
    """Plan, write and store one ward's night (see the module); a failure is returned, not raised."""
    if graph_failure is not None:
        return graph_failure
    from .storage.store import open_store

    store = open_store(db_url)
    try:
        return _plan_ward(store, ward, night, params, Path(out_dir), data_dir)
    except Exception as error:  # reported per ward: one bad ward must not stop the night
        return _failure(ward, error)
    finally:
        store.engine.dispose()


def _plan_ward(store, ward: str, night: date, params: NightParams, out_dir: Path, data_dir: str) -> WardNight:
    import json

    from .i18n import translation
    from .output import write_text
    from .patrols import save_planned_patrol
    from .rounds import round_link
    from .routing.export import briefing_html, plan_to_geojson, plan_to_gpx
    from .routing.routes import WardPlanParams, plan_for_ward
    from .streets import ward_graph
    from .streets.cache import ward_slug

    clock = time.perf_counter
    began = clock()
    counts = store.incident_counts(["ward"])
    if not (counts["ward"] == ward).any():
        msg = f"no signals in {ward}: nothing to plan the round around"
        raise DataNotFoundError(msg, commands=("import",))
    ward_graph(store, ward, data_dir=data_dir)  # loaded into the cache plan_for_ward reads; timed on its own
    loaded = clock()
    plan = plan_for_ward(store, ward, params=params.route, window=params.window(night), data_dir=data_dir,
                         ward_params=WardPlanParams(hot_street_targets=params.hot_streets, vary_last=params.vary_last))
    planned = clock()
    folder = out_dir / ward_slug(plan.ward)
    title = translation(params.language).gettext("Patrol route {name}").format(name=plan.ward)
    begin = params.begin(night)
    geojson = plan_to_geojson(plan)
    saved = save_planned_patrol(store, ward=plan.ward, start=begin, minutes=params.route.minutes,
                                team_size=params.team_size * params.route.teams, route_geojson=geojson,
                                edges=frozenset(e for team in plan.teams for e in team.edges), night=night)
    links = None if params.link_base is None else {
        t: round_link(params.link_base, saved.id, t) for t in range(1, len(plan.teams) + 1)}
    files = {
        "gpx": write_text(folder / FILES["gpx"], plan_to_gpx(plan, name=title, language=params.language)),
        "geojson": write_text(folder / FILES["geojson"], json.dumps(geojson, ensure_ascii=False)),
        "briefing": write_text(folder / FILES["briefing"], briefing_html(
            plan, ward=plan.ward, title=title, when=f"{begin:%d-%m-%Y %H:%M}", language=params.language,
            links=links)),
    }
    written = clock()
    return WardNight(
        ward=plan.ward, patrol_id=saved.id, score=plan.total_score, stops=sum(len(t.stops) for t in plan.teams),
        files={kind: str(path) for kind, path in files.items()},
        seconds={"graph": loaded - began, "plan": planned - loaded, "write": written - planned},
    )


# --------------------------------------------------------------------------------------------
# The night
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClusterParams:
    """Where the tasks run.

    Parameters
    ----------
    scheduler
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``); None starts a
        ``LocalCluster`` on this machine.
    workers
        Processes of that ``LocalCluster`` (default: the core count); 0 runs the tasks in this
        process, one after another. Ignored with ``scheduler``.
    """

    scheduler: str | None = None
    workers: int | None = None

    _constraints: ClassVar[Constraints] = {
        "scheduler": Rule(lambda s: s is None or (isinstance(s, str) and "://" in s),
                          "a scheduler address such as tcp://host:8786"),
        "workers": Rule(lambda w: w is None or (isinstance(w, int) and not isinstance(w, bool) and w >= 0),
                        "a whole number ≥ 0 (0: in this process)"),
    }

    def __post_init__(self) -> None:
        check_params(self)

    @property
    def in_process(self) -> bool:
        return self.scheduler is None and self.workers == 0

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A Dask client of the cluster at ``scheduler``, else of a ``LocalCluster`` of
        single-threaded worker processes (the tasks hold the GIL between compiled calls)."""
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                client = Client(self.scheduler)  # waits Dask's distributed.comm.timeouts.connect
            except (OSError, TimeoutError) as error:
                msg = (f"no Dask scheduler answers at {{scheduler}} {self.scheduler} ({error}): start one with "
                       "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out {scheduler}")
                raise OfflineError(msg, options=("scheduler",)) from error
            with client:
                yield client
            return
        workers = self.workers if self.workers is not None else os.cpu_count() or 1
        # On loopback; no dashboard, and its HTTP endpoints on a free port rather than 8787,
        # which another night's cluster may hold.
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
                Client(cluster) as client:
            yield client


def _worker_count(client) -> int:
    return len(client.scheduler_info(n_workers=-1)["workers"])


@contextmanager
def _runner(cluster: ClusterParams) -> Iterator[tuple[Callable[..., Iterator[Any]], int]]:
    """``(run, workers)``: ``run(task, arguments)`` yields each call's result as it finishes, on
    the cluster, or here one after another (workers 0)."""
    if cluster.in_process:
        yield (lambda task, arguments: (task(*args) for args in arguments)), 0
        return
    from distributed import as_completed

    with cluster.client() as client:
        used = len(client.scheduler_info(n_workers=-1)["workers"])
        log.info("on %d Dask worker(s)%s", used, f"; dashboard {client.dashboard_link}" if cluster.scheduler else "")

        def run(task, arguments):
            futures = [client.submit(task, *args, pure=False) for args in arguments]
            return (future.result() for future in as_completed(futures))

        yield run, used


def _calibrate(db_url: str, data_dir: Path) -> None:
    from .hotspots.tuning import installation_calibration, installation_street_calibration
    from .storage.store import open_store

    store = open_store(db_url)
    try:
        installation_calibration(store)
        installation_street_calibration(store, data_dir=data_dir)
    finally:
        store.engine.dispose()


def wards_to_plan(store, wards: Sequence[str] | None) -> list[str]:
    """The stored names of ``wards`` (names or codes; None: every ward), in the order given."""
    from .signals.wards import find_ward

    stored = store.wards()
    if wards is None:
        return list(stored["name"])
    if not wards:
        msg = "{wards} names no ward: give names or codes separated by commas, or {all} for every ward"
        raise InputError(msg, options=("wards", "all"))
    return list(dict.fromkeys(find_ward(name, stored) for name in wards))


def plan_all(
    db_url: str,
    night: date,
    *,
    wards: Sequence[str] | None = None,
    params: NightParams = NightParams(),
    out_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    osm: str | Path | None = None,
    cluster: ClusterParams = ClusterParams(),
) -> NightlyResult:
    """Plan ``night`` for every ward of ``wards`` (default all), one task per ward where
    ``cluster`` says, each finished ward logged (INFO) as it comes in.

    Files go to ``out_dir/<ward>/`` (default ``data_dir/plans/<night>``). Wards without a cached
    street graph get one built from ``osm`` first, else fail with the command that builds it.

    Raises
    ------
    InputError
        A ward is unknown, or ``osm`` is not a file.
    OfflineError
        No scheduler answers at ``cluster.scheduler``.
    """
    from .storage.store import open_store
    from .streets.cache import ward_graph_path

    base = Path(data_dir if data_dir is not None else settings.data_dir()).resolve()
    out = Path(out_dir).resolve() if out_dir is not None else base / "plans" / night.isoformat()
    store = open_store(db_url)
    try:
        names = wards_to_plan(store, wards)
    finally:
        store.engine.dispose()
    if osm is not None and not Path(osm).is_file():
        msg = f"{{osm}} {osm}: no such file; give a .osm or .osm.pbf extract covering the wards"
        raise InputError(msg, options=("osm",))
    needs_graph = [name for name in names if osm is not None and not ward_graph_path(name, data_dir=base).exists()]
    started = time.perf_counter()
    results: list[WardNight] = []

    def done(result: WardNight) -> None:
        results.append(result)
        log.info("[%d/%d] %s: %s", len(results), len(names), result.ward,
                 (f"planned, {result.stops} stop{'' if result.stops == 1 else 's'}" if result.planned
                  else f"not planned: {result.reason}"))

    with _runner(cluster) as (run, used):
        # Graphs first, then the installation's calibrations once here (they read every ward's
        # signals and graphs), so that no ward's task fits them again on its own.
        graph_failures = {failure.ward: failure for failure in run(
            build_graph_task, [(db_url, name, str(osm), str(base)) for name in needs_graph]) if failure is not None}
        _calibrate(db_url, base)
        for result in run(plan_ward_task, [(db_url, name, night, params, str(out), str(base), graph_failures.get(name))
                                           for name in names]):
            done(result)
    order = {name: i for i, name in enumerate(names)}
    results.sort(key=lambda r: order.get(r.ward, len(order)))
    return NightlyResult(night=night, wards=tuple(results), seconds=time.perf_counter() - started, workers=used)
