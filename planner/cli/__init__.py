"""``was-planner``: the command-line interface, a thin layer over the planner functions.

Every command catches ``PlannerError`` and answers with a one-line message and exit code 2;
``--json`` output is exactly one JSON object on stdout, built by the result's ``to_json()``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import settings
from .._errors import PlannerError
from ..output import write_text, writing

app = typer.Typer(
    help="WAS Planner: hotspots, walking patrol routes and coverage for Wijk en Agent Samen teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Paths:
    """Where this invocation keeps its data: resolved once from the global options."""

    data_dir: Path
    db_url: str


class _StderrLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(record.getMessage(), err=True)


_PROGRESS = _StderrLines(level=logging.INFO)
"""Shows on stderr what every command should show while it works: a re-fit of the risk surface."""


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: WAS_DATABASE_URL or DATA_DIR/was.db)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default: WAS_DATA_DIR or ./data)."),
    ] = None,
) -> None:
    tuning = logging.getLogger("planner.hotspots.tuning")
    tuning.setLevel(logging.INFO)
    if _PROGRESS not in tuning.handlers:
        tuning.addHandler(_PROGRESS)
    directory = data_dir if data_dir is not None else settings.data_dir()
    ctx.obj = Paths(data_dir=directory, db_url=db or settings.database_url(directory))


def flag(option: str) -> str:
    """How the CLI names a core option in its messages: ``date_format`` → ``--date-format``."""
    return "--" + option.replace("_", "-")


def cli_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``PlannerError`` into a one-line message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PlannerError as error:
            typer.echo(f"error: {error.phrased(flag)}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def _os_user() -> str:
    import getpass
    import os

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container: the uid still says who
        return f"uid {os.getuid()}"


def _signed_in(store, user: str | None, password: str | None, permission: str | None):
    """Who runs this command (the CLI's trust model, README "Who may use the CLI").

    Without accounts the operator of the machine may do everything, as an admin named after the
    operating-system user (whoever has the database file has the data). With accounts, ``user``
    signs in (the password is asked for when not given) and must have ``permission``; without
    ``user`` only a permission every role has is granted, with the least role (``resident``).
    Either way the audit log records the operating-system user as where the action came from.
    """
    from dataclasses import replace

    from ..access import PERMISSIONS, accounts_exist, require
    from ..users import ROLES, User, authenticate

    via = f"cli (os user {_os_user()})"
    if not accounts_exist(store):
        return User(name=_os_user(), role="admin", via=via)
    if not user:
        if permission is not None and ROLES[0] in PERMISSIONS[permission]:
            return User(name=_os_user(), role=ROLES[0], via=via)
        msg = "this installation has accounts: give --user (or WAS_USER) with a role that may do this"
        raise PlannerError(msg)
    if password is None:
        password = typer.prompt("Password", hide_input=True)
    account = replace(authenticate(store, user, password), via=via)
    if permission is not None:
        require(account, permission)
    return account


_USER = Annotated[str | None, typer.Option("--user", envvar="WAS_USER", help="Your account, in an installation "
                                           "with accounts (see README: who may use the CLI).")]
_PASSWORD = Annotated[str | None, typer.Option("--password", envvar="WAS_PASSWORD", hide_input=True,
                                               help="Your password; asked for when needed and not given.")]


def echo_json(payload: Any) -> None:
    """Print exactly one JSON object (or list) on stdout."""
    typer.echo(json.dumps(payload, ensure_ascii=False))


def echo_result(result: Any, as_json: bool) -> None:
    """Print a result object: its ``to_json()`` with ``--json``, else its ``summary()`` text."""
    if as_json:
        echo_json(result.to_json())
    else:
        typer.echo(result.summary())


def _store(ctx: typer.Context):
    from ..access import open_store

    return open_store(ctx.obj.db_url)


@app.command("import")
@cli_errors
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV (, or ;), GeoJSON or GeoPackage of signals.")],
    mapping: Annotated[
        str | None, typer.Option(help="Extra column names: COLUMN=FIELD,... (e.g. cdatetime=occurred_at).")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="strptime format of the dates, e.g. '%m/%d/%y %H:%M'.")
    ] = None,
    source: Annotated[str, typer.Option(help="Source of rows without one (resident, officer, ...).")] = "resident",
    default_category: Annotated[
        str | None,
        typer.Option("--default-category", help="Category for rows with a missing or unknown one (e.g. other) "
                     "instead of rejecting them."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the counts.")] = False,
) -> None:
    """Import signals from a file; rejected rows go to a CSV with their reasons."""
    from ..signals.incidents import ParseOptions, canonical_category, parse_mapping
    from ..signals.intake import import_file

    options = ParseOptions(mapping=parse_mapping(mapping), date_format=date_format, default_source=source,
                           default_category=canonical_category(default_category) or default_category)
    report = import_file(_store(ctx), file, options=options, rejects_dir=ctx.obj.data_dir / "rejects")
    echo_result(report, as_json)


outcomes_app = typer.Typer(help="Registered crime counts per area and period (police open data, police.uk).",
                           no_args_is_help=True)
app.add_typer(outcomes_app, name="outcomes")


@outcomes_app.command("import")
@cli_errors
def outcomes_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV of counts: long (area,period,count), politie or police-uk.")],
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="long, politie (CBS 47022NED/47018NED) or police-uk; default: from the columns."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the counts.")] = False,
) -> None:
    """Import registered crime counts; a revised count replaces the stored one, rejected rows go to a CSV."""
    from ..signals.outcomes import import_outcomes

    report = import_outcomes(_store(ctx), file, format=file_format, rejects_dir=ctx.obj.data_dir / "rejects")
    echo_result(report, as_json)


wards_app = typer.Typer(help="Load, list and fetch ward (wijk) boundaries.", no_args_is_help=True)
app.add_typer(wards_app, name="wards")


@wards_app.command("load")
@cli_errors
def wards_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage or shapefile of ward polygons.")],
    name_col: Annotated[str | None, typer.Option("--name-col", help="Column with the ward name.")] = None,
    code_col: Annotated[str | None, typer.Option("--code-col", help="Column with the ward code.")] = None,
) -> None:
    """Store ward polygons and (re)assign every signal to its ward."""
    from ..signals.wards import read_wards, store_wards

    wards = read_wards(file, name_col=name_col, code_col=code_col)
    assigned = store_wards(_store(ctx), wards)
    typer.echo(f"stored {len(wards)} wards; {assigned} signals lie in a ward")


@wards_app.command("list")
@cli_errors
def wards_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the stored wards with their number of signals."""
    summary = _store(ctx).ward_summary()
    if as_json:
        echo_json(summary)
        return
    if not summary:
        typer.echo("no wards stored yet: `was-planner wards load FILE` or `was-planner demo`")
    for ward in summary:
        typer.echo(f"{ward['name']:<40} {ward['code'] or '':<12} {ward['incidents']:>7} signals")


@wards_app.command("fetch")
@cli_errors
def wards_fetch(
    ctx: typer.Context,
    municipality: Annotated[str, typer.Option(help="Municipality name, e.g. Zoetermeer.")],
) -> None:
    """Download a municipality's CBS wards from PDOK (needs internet) and store them."""
    from ..signals.wards import fetch_wards, store_wards

    wards = fetch_wards(municipality)
    assigned = store_wards(_store(ctx), wards)
    typer.echo(f"stored {len(wards)} wards of {municipality}; {assigned} signals lie in a ward")


@app.command("demo")
@cli_errors
def demo_command(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same demo.")] = 0,
    end: Annotated[
        str | None, typer.Option(help="Day after the last signal, YYYY-MM-DD (default: today).")
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(help="Needs internet: real CBS wards and OSM streets of e.g. \"Zoetermeer, Netherlands\"; "
                     "only the signals and patrols are synthetic."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Build it even beside real wards, signals or accounts.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object describing the demo.")] = False,
) -> None:
    """Build demo data (wards, streets, a year of signals, a season of patrols) in the data directory."""
    from ..demo import build_demo
    from ..hotspots.tuning import installation_street_calibration

    if seed < 0:
        msg = f"--seed must be 0 or more, got {seed}"
        raise PlannerError(msg)
    end_day = _day_option(end, "--end")
    store = _store(ctx)
    summary = build_demo(store, ctx.obj.data_dir, seed=seed, end=end_day, place=place, force=force)
    # Fitted now (the cells, then the hot streets on the ward graphs), so the dashboard's first view is warm.
    installation_street_calibration(store, data_dir=ctx.obj.data_dir)
    echo_result(summary, as_json)


class _EchoProgress:
    """While active, show the INFO log lines of some planner modules as progress lines on stderr."""

    def __init__(self, *loggers: str) -> None:
        import logging
        import time

        start = time.perf_counter()

        class Echo(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                typer.echo(f"[{time.perf_counter() - start:6.1f}s] {record.getMessage()}", err=True)

        self._info = logging.INFO
        self._handler = Echo(level=logging.INFO)
        self._loggers = [logging.getLogger(name) for name in loggers]
        self._levels = [logger.level for logger in self._loggers]

    def __enter__(self) -> None:
        for logger in self._loggers:
            logger.setLevel(self._info)
            logger.addHandler(self._handler)

    def __exit__(self, *_exc: object) -> None:
        for logger, level in zip(self._loggers, self._levels, strict=True):
            logger.removeHandler(self._handler)
            logger.setLevel(level)


@app.command("graph")
@cli_errors
def graph_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code (see `was-planner wards list`).")],
    osm: Annotated[
        Path | None,
        typer.Option(help="Offline source: .osm, .osm.bz2, .osm.pbf extract or .gpkg/.geojson segment network."),
    ] = None,
    place: Annotated[
        str | None, typer.Option(help="Online source: osmnx place name, e.g. 'Zoetermeer, Netherlands'.")
    ] = None,
    network: Annotated[str, typer.Option(help="walk or bike.")] = "walk",
    speed_kmh: Annotated[
        float | None, typer.Option("--speed-kmh", help="Travel speed (default 4.5 walking, 15 cycling).")
    ] = None,
) -> None:
    """Build a ward's street graph (offline from --osm, else online via osmnx) and cache it."""
    from ..signals.wards import find_ward
    from ..streets import build_and_cache_ward_graph, graph_summary

    store = _store(ctx)
    name = find_ward(ward, store.wards())
    source = osm if osm is not None else (place or "OpenStreetMap, downloading the ward area")
    typer.echo(f"building the {network} graph of {name} from {source}", err=True)
    with _EchoProgress("planner.streets"):
        graph, path = build_and_cache_ward_graph(
            store, name, osm=osm, place=place, network_type=network, speed_kmh=speed_kmh,
            data_dir=ctx.obj.data_dir,
        )
    summary = graph_summary(graph)
    typer.echo(
        f"{name}: {summary['nodes']:,} nodes, {summary['edges']:,} edges, {summary['km']:.1f} km of streets "
        f"at {graph.graph['speed_kmh']:g} km/h; cached at {path}"
    )


@app.command("hotspots")
@cli_errors
def hotspots_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code, e.g. Rokkeveen or WK063705.")],
    window: Annotated[
        str | None, typer.Option(help="Target time window HH:MM-HH:MM, e.g. 20:00-23:00 (may cross midnight).")
    ] = None,
    day: Annotated[str | None, typer.Option(help="Weekday the window starts on: mon..sun or ma..zo.")] = None,
    audience: Annotated[
        str, typer.Option(help="public (residents: areas with enough signals, no points) or officer.")
    ] = "public",
    geojson: Annotated[Path | None, typer.Option(help="Also write the hotspots as GeoJSON to this file.")] = None,
    weights: Annotated[
        str | None, typer.Option(help="Category weights CATEGORY=W,... (e.g. burglary=2,straatverlichting=0.5).")
    ] = None,
    method: Annotated[str, typer.Option(help="Clustering: dbscan (fast, default) or hdbscan.")] = "dbscan",
    hot_streets_file: Annotated[
        Path | None,
        typer.Option(
            "--hot-streets",
            help="Also score the ward's streets (network kernel density on its cached graph, see "
            "`was-planner graph`) and write them as GeoJSON (WGS84) to this file; --json then gains "
            "a \"hot_streets\" key. Public: only streets touching the public hotspot areas, no counts.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the hotspots.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Hotspots of a ward, scored for a target window, for residents or officers.

    With --hot-streets FILE the ward's streets are scored too (network kernel density on the
    cached ward graph, same signal weights and window) and written as a GeoJSON of street
    segments with density per km, prize and name; the summary lists the hottest streets and
    --json adds one key, "hot_streets": {"n_snapped", "n_unsnapped", "streets": [...]} (the 20
    densest streets).
    """
    from ..access import export_hotspots, visible_hot_streets, visible_hotspots
    from ..hotspots import TimeWindow, parse_category_weights

    if day and not window:
        window = "00:00-24:00"
    target = TimeWindow.parse(window, day=day) if window else None
    category_weights = parse_category_weights(weights)  # bad flags are named before the store is read
    store = _store(ctx)
    account = _signed_in(store, user, password, "view_points" if audience == "officer" else "view_aggregates")
    name = _ward_name(store, ward)
    result = visible_hotspots(store, account, name, audience=audience, method=method, window=target,
                              category_weights=category_weights)
    if geojson is not None:
        export_hotspots(store, account, result, geojson)
    scored = None
    if hot_streets_file is not None:
        from ..streets import ward_graph

        graph = ward_graph(store, name, data_dir=ctx.obj.data_dir)
        scored = visible_hot_streets(store, account, graph, name, result, data_dir=ctx.obj.data_dir)
        write_text(hot_streets_file, json.dumps(scored.to_geojson(), ensure_ascii=False))
    if as_json:
        payload = {"ward": name, **result.to_json()}
        if scored is not None:
            payload["hot_streets"] = scored.to_json()
        echo_json(payload)
        return
    typer.echo(
        f"{name}: {len(result.hotspots)} hotspots ({audience}"
        f"{', window ' + target.label() if target else ''}; as of {result.now:%Y-%m-%d})"
    )
    for row in result.hotspots.itertuples(index=False):
        categories = ", ".join(f"{c} {k}" for c, k in row.top_categories)
        hours = ", ".join(f"{h:02d}h" for h in row.peak_hours)
        flag = "" if row.significant else "  (not significant)"
        typer.echo(
            f"{row.id:>3}. score {row.score:7.2f}  {row.n_signals:>4} signals  {categories}  "
            f"peak {hours} {'/'.join(row.peak_weekdays)}  trend {row.trend['direction']}{flag}"
        )
    if geojson is not None:
        typer.echo(f"wrote {geojson}")
    if scored is not None:
        top = scored.streets(5)
        top = top[top["density"] > 0]
        typer.echo(f"hot streets: {scored.n_snapped} signals on streets, {scored.n_unsnapped} farther away")
        for rank, row in enumerate(top.itertuples(index=False), start=1):
            typer.echo(
                f"{rank:>3}. {row.name if isinstance(row.name, str) else '(no name)'}  "
                f"{row.density:7.2f} per km  prize {row.prize:6.3f}  {row.length:6.0f} m"
            )
        typer.echo(f"wrote {hot_streets_file}")


@app.command("evaluate")
@cli_errors
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Incident table (CSV, GeoJSON, GeoPackage) to backtest on.")],
    split: Annotated[str, typer.Option(help="Train before this date (local time), e.g. 2006-01-08.")],
    horizon_days: Annotated[float, typer.Option("--horizon-days", help="Days after the split to forecast.")] = 7.0,
    window: Annotated[
        str | None, typer.Option(help="Only forecast signals in this window HH:MM-HH:MM (e.g. 20:00-23:00).")
    ] = None,
    day: Annotated[str | None, typer.Option(help="Weekday the window starts on: mon..sun or ma..zo.")] = None,
    mapping: Annotated[
        str | None, typer.Option(help="Extra column names: COLUMN=FIELD,... (e.g. cdatetime=occurred_at).")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="strptime format of the dates, e.g. '%m/%d/%y %H:%M'.")
    ] = None,
    wards_file: Annotated[
        Path | None, typer.Option("--wards", help="Ward polygons; the study area is their union.")
    ] = None,
    graph_file: Annotated[
        Path | None,
        typer.Option(
            "--graph",
            help="Street graph for figures per km of street: a GraphML saved by was-planner (e.g. "
            "DATA_DIR/graphs/<ward>.graphml) or an OSM extract / segment network (.osm, .osm.bz2, "
            ".osm.pbf, .gpkg, .geojson). --json then gains one key, \"network\".",
        ),
    ] = None,
    patrol_signals: Annotated[
        str,
        typer.Option(
            "--patrol-signals",
            help="Train with the signals found on patrol (with, default), without them, or both: "
            "both prints the two results side by side (--json: {\"with\": {...}, \"without\": {...}}).",
        ),
    ] = "with",
    planner: Annotated[
        str, typer.Option(help="calibrated (default: what hotspots and routes use) or fixed (the literature "
                               "defaults before calibration, for comparison).")
    ] = "calibrated",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with hit rates and PAI.")] = False,
) -> None:
    """Backtest: hit rate and PAI at 1/5/10 % of the area for planner, KDE and naive counts.

    --json prints {"methods": {"planner": {...}, "kde": {...}, "naive": {...}}, "n_train": N,
    "n_test": N}. With --graph the methods also rank the graph's streets and coverage is a share
    of street length (PAI = hit-rate share / street-length share), adding one key:
    "network": {"planner": {"hit_rate@1": .., "pai@1": .., ...}, "kde": {...}, "naive": {...},
    "street_km": km, "n_test": test signals within 50 m of a street}. The text summary says what
    the calibrated planner chose on the training period.
    """
    from ..hotspots import TimeWindow
    from ..hotspots.evaluate import PLANNER_SURFACES, BacktestParams, evaluate_file
    from ..signals.incidents import ParseOptions, parse_mapping
    from ..signals.wards import read_wards

    if day and not window:
        window = "00:00-24:00"
    target = TimeWindow.parse(window, day=day) if window else None
    options = ParseOptions(mapping=parse_mapping(mapping), date_format=date_format, default_category="other")
    wards = read_wards(wards_file) if wards_file is not None else None
    graph = None
    if graph_file is not None:
        from ..streets import build_ward_graph, load_graph

        # GraphML is a prepared graph saved by was-planner; anything else is a source to prepare.
        is_graphml = graph_file.suffix.lower() == ".graphml"
        graph = load_graph(graph_file) if is_graphml else build_ward_graph(None, osm=graph_file)
    if planner not in PLANNER_SURFACES:
        raise PlannerError(f"--planner must be calibrated or fixed, got {planner!r}")
    if patrol_signals not in {"with", "without", "both"}:
        msg = f"--patrol-signals must be with, without or both, got {patrol_signals!r}"
        raise PlannerError(msg)
    if patrol_signals == "both":
        results = {
            choice: evaluate_file(
                file, split=split,
                params=BacktestParams(horizon_days=horizon_days, window=target, patrol_signals=choice,
                                      planner=planner),
                options=options, wards=wards, graph=graph,
            )
            for choice in ("with", "without")
        }
        if as_json:
            echo_json({choice: r.to_json() for choice, r in results.items()})
        else:
            for choice, r in results.items():
                typer.echo(f"-- {choice} patrol-found signals in the training data --")
                typer.echo(r.summary())
        return
    result = evaluate_file(
        file, split=split,
        params=BacktestParams(horizon_days=horizon_days, window=target, patrol_signals=patrol_signals,
                              planner=planner),
        options=options, wards=wards, graph=graph,
    )
    echo_result(result, as_json)


@app.command("calibrate")
@cli_errors
def calibrate_command(
    ctx: typer.Context,
    refit: Annotated[bool, typer.Option("--refit", help="Fit again even when the signals did not change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the choice as one JSON object.")] = False,
) -> None:
    """Calibrate the risk surface of hotspots, hot streets and routes on this installation's own signals.

    Bandwidth, recency half-life, the share of long-term counts, near-repeat on or off and
    whether resolved signals count are chosen by a rolling-origin backtest on the stored
    signals (the week after each fold's origin, never later data); the hot streets get their
    own network bandwidth and blend on the cached ward graphs. The choice is kept and re-fitted
    by the first command after the signals change. With too short a history the literature
    defaults are kept, and it says why. --json: the cell choice's keys plus "streets" (the hot
    streets' choice, null without signals).
    """
    from ..hotspots.tuning import installation_calibration, installation_street_calibration

    store = _store(ctx)
    calibration = installation_calibration(store, refit=refit)
    if calibration is None:
        raise PlannerError("no signals to calibrate on: import signals first (was-planner import FILE)")
    streets = installation_street_calibration(store, data_dir=ctx.obj.data_dir, refit=refit)
    if as_json:
        echo_json(calibration.to_json() | {"streets": streets.to_json() if streets is not None else None})
    else:
        typer.echo(f"risk surface: {calibration.summary()}")
        typer.echo(f"hot streets: {streets.summary()}")


def _month_or_day(text: str | None, flag: str):
    """``YYYY-MM`` (its first day) or ``YYYY-MM-DD``; a one-line error naming the flag otherwise."""
    import re
    from datetime import date

    from ..signals.incidents import check_day

    if text is None:
        return None
    value = text.strip()
    try:
        day = date.fromisoformat(value + "-01" if re.fullmatch(r"\d{4}-\d{2}", value) else value)
    except ValueError:
        msg = f"{flag} {text!r} is not a month or day like 2026-09 or 2026-09-15"
        raise PlannerError(msg) from None
    return check_day(day, what=f"{flag} {text}")


@app.command("effect")
@cli_errors
def effect_command(
    ctx: typer.Context,
    split: Annotated[str | None, typer.Option(help="First month (YYYY-MM) or day of the changed patrols.")] = None,
    panel: Annotated[Path | None, typer.Option(help="Counts per area and period in a file (default: the store).")]
    = None,
    panel_format: Annotated[str | None, typer.Option("--format", help="Panel file format: long, politie or "
                                                     "police-uk (default: recognised from the columns).")] = None,
    outcome: Annotated[str | None, typer.Option(help="registered (registered crime, the default when stored) or "
                                                "signals (signals not found on patrol).")] = None,
    treated: Annotated[str | None, typer.Option(help="Treated wards, comma-separated.")] = None,
    treated_auto: Annotated[bool, typer.Option("--treated-auto", help="Treated: the wards whose walked "
                                               "person-hours per week rose (patrol log).")] = False,
    dose: Annotated[bool, typer.Option("--dose", help="Treatment: each ward's walked person-hours per week in "
                                       "each period (patrol log); no split.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="First month or day of the window.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month or day of the window (included).")] = None,
    category: Annotated[str | None, typer.Option(help="One crime category (default: the total).")] = None,
    placebo: Annotated[int, typer.Option(help="Also run the design N times on untreated data with random "
                                         "treatment and split, and report how often it claims an effect.")] = 0,
    permutations: Annotated[int, typer.Option(help="Random re-assignments when there are too many to "
                                              "enumerate.")] = 999,
    seed: Annotated[int, typer.Option(help="Seed of the random re-assignments.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
) -> None:
    """Effect review: did the outcome change in the wards with more patrols? (randomization inference)"""
    from datetime import timedelta

    from ..review.effect import EffectParams, effect_for, panel_from_outcomes
    from ..signals.outcomes import read_outcomes

    if sum((treated is not None, treated_auto, dose)) != 1:
        msg = "give one of --treated W1,W2,…, --treated-auto or --dose"
        raise PlannerError(msg)
    if split is None and not dose:
        msg = "give --split: the first month (YYYY-MM) or day of the changed patrols"
        raise PlannerError(msg)
    if placebo < 0:
        msg = f"--placebo must be 0 or more, got {placebo}"
        raise PlannerError(msg)
    if placebo and dose:
        msg = "--placebo goes with --treated or --treated-auto, not with --dose"
        raise PlannerError(msg)
    first, last = _month_or_day(start, "--from"), _month_or_day(end, "--to")
    if end is not None and len(end.strip()) == 7:  # a month given as --to includes that whole month
        last = (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if first and last and last < first:
        msg = f"--to {end} lies before --from {start}"
        raise PlannerError(msg)
    store = _store(ctx)
    table = None
    if panel is not None:
        counts = read_outcomes(panel, format=panel_format, wards=store.wards())
        if counts.rows.empty:
            first_problem = f" (row {counts.rejects['row_number'].iloc[0]}: {counts.rejects['reason'].iloc[0]})" \
                if len(counts.rejects) else ""
            msg = f"{panel.name}: no usable counts{first_problem}"
            raise PlannerError(msg)
        table = panel_from_outcomes(counts.rows, category=category)
    elif panel_format is not None:
        msg = "--format goes with --panel"
        raise PlannerError(msg)
    names = None if treated is None else [w.strip() for w in treated.split(",") if w.strip()]
    result = effect_for(
        store, split=_month_or_day(split, "--split"), start=first,
        end=last + timedelta(days=1) if last else None, treated=names, panel=table, outcome=outcome,
        category=category, placebo=placebo, dose=dose,
        params=EffectParams(permutations=permutations, random_state=seed),
    )
    echo_result(result, as_json)


# -- shared installation: database, accounts, retention, audited exports (issue 7) ------------------
db_app = typer.Typer(help="Create or upgrade the database schema (SQLite or PostgreSQL + PostGIS).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@cli_errors
def db_upgrade(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the versions.")] = False,
) -> None:
    """Create or upgrade the schema to this version's (runs the Alembic migrations)."""
    from ..access import upgrade_schema

    url, before, after = upgrade_schema(ctx.obj.db_url)
    if as_json:
        echo_json({"url": url, "before": before, "after": after})
    elif before == after:
        typer.echo(f"{url}: schema version {after}, up to date")
    else:
        typer.echo(f"{url}: schema version {before if before is not None else 'none'} → {after}")


_NEW_PASSWORD = Annotated[
    str,
    typer.Option("--new-password", prompt="New password", hide_input=True, confirmation_prompt=True,
                 envvar="WAS_NEW_PASSWORD", help="The account's password: asked for when not given (or from "
                 "WAS_NEW_PASSWORD, for scripts)."),
]

users_app = typer.Typer(help="Accounts and roles (resident, officer, municipality, admin).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
@cli_errors
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="resident, officer, municipality or admin.")],
    new_password: _NEW_PASSWORD,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Add an account; the password is asked for and stored as an argon2 hash. Once accounts
    exist, only a signed-in admin may add one; the change is recorded in the audit log."""
    from ..access import add_account

    store = _store(ctx)
    added = add_account(store, _signed_in(store, user, password, "manage_users"), name, role=role,
                        password=new_password)
    typer.echo(f"added {added.name} ({added.role})")


@users_app.command("list")
@cli_errors
def users_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """List the accounts with their roles (a signed-in admin, once accounts exist)."""
    from ..access import accounts

    store = _store(ctx)
    users = accounts(store, _signed_in(store, user, password, "manage_users"))
    if as_json:
        echo_json(users)
        return
    for user in users:
        typer.echo(f"{user['name']:<30} {user['role']:<13}{' (disabled)' if user['disabled'] else ''}")


@users_app.command("passwd")
@cli_errors
def users_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    new_password: _NEW_PASSWORD,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Set a new password for an account (a signed-in admin; recorded in the audit log)."""
    from ..access import set_account_password

    store = _store(ctx)
    set_account_password(store, _signed_in(store, user, password, "manage_users"), name, new_password)
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
@cli_errors
def users_disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Disable an account (it can no longer sign in), or re-enable it (a signed-in admin;
    recorded in the audit log)."""
    from ..access import set_account_disabled

    store = _store(ctx)
    set_account_disabled(store, _signed_in(store, user, password, "manage_users"), name, disabled=not enable)
    typer.echo(f"{name} {'enabled' if enable else 'disabled'}")


retention_app = typer.Typer(help="Anonymise old signals (AVG/GDPR retention).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("apply")
@cli_errors
def retention_apply(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Age, e.g. 2y, 18m, 90d (default: WAS_RETENTION or 2y)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the counts.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Remove personal data older than the retention period: signals' description, reporter and exact
    location, rejected rows (also from the rejects files), patrol members and notes, agreements on them."""
    from ..retention import apply_retention

    store = _store(ctx)
    _signed_in(store, user, password, "apply_retention")
    report = apply_retention(store, older_than=older_than, data_dir=ctx.obj.data_dir)
    echo_result(report, as_json)


export_app = typer.Typer(help="Audited exports of raw signals (signed in as an officer or admin).",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("signals")
@cli_errors
def export_signals(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Output: .csv (';', Dutch Excel), .geojson or .gpkg.")],
    user: _USER = None,
    password: _PASSWORD = None,
    ward: Annotated[str | None, typer.Option(help="Only this ward (name or code).")] = None,
    personal: Annotated[bool, typer.Option("--personal", help="Include the reporter (admins only).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the count.")] = False,
) -> None:
    """Export raw signals (points, descriptions) to a file; recorded in the audit log once written."""
    from ..access import export_incidents

    store = _store(ctx)
    account = _signed_in(store, user, password, None)  # export_incidents records a refusal itself
    name = _ward_name(store, ward) if ward else None
    exported = export_incidents(store, account, file, ward=name, include_personal=personal)
    if as_json:
        echo_json(exported.to_json())
    else:
        typer.echo(f"wrote {exported.rows} signals to {file} (recorded in the audit log)")


audit_app = typer.Typer(help="The audit log: views and exports of points, account changes (admins).",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("show")
@cli_errors
def audit_show(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Newest entries to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Who viewed or exported which signals and changed which accounts, when (newest first)."""
    from ..access import audit_log

    store = _store(ctx)
    entries = audit_log(store, _signed_in(store, user, password, "view_audit"), limit=limit)
    records = [
        {**row, "at": row["at"].isoformat()} for row in entries.to_dict("records")
    ]
    if as_json:
        echo_json(records)
        return
    for row in records:
        typer.echo(f"{row['at'][:19]}  {row['user_name']:<20} {row['role']:<13} {row['action']:<8} "
                   f"{row['n_rows']:>7} rows {row['format'] or '':<8} {row['what']}  [{row['via'] or ''}]")


@audit_app.command("verify")
@cli_errors
def audit_verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: ok, entries, head, broken_id.")]
    = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Check the audit log's hash chain: ok with its head hash (note it elsewhere: a rewritten
    log changes it), or the first broken entry and exit code 2."""
    from ..access import verify_audit

    store = _store(ctx)
    check = verify_audit(store, _signed_in(store, user, password, "view_audit"))
    echo_result(check, as_json)
    if not check.ok:
        raise typer.Exit(code=2)


@app.command("op-solve")
@cli_errors
def op_solve(
    file: Annotated[Path, typer.Argument(help="OP or TOP benchmark instance file.")],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Wall-clock limit of the search in seconds.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same routes).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object {score, length, routes}.")
    ] = False,
) -> None:
    """Solve an orienteering benchmark instance and print its routes (1-based point numbers)."""
    from ..routing.orienteering import SolverParams, read_instance, solve_orienteering

    instance = read_instance(file)
    solution = solve_orienteering(
        instance.problem, params=SolverParams(time_limit=time_limit, seed=seed)
    )
    routes = [[node + 1 for node in route] for route in solution.routes]
    length = sum(solution.travel)
    if as_json:
        echo_json({"score": solution.score, "length": length, "routes": routes})
        return
    typer.echo(
        f"{instance.name}: score {solution.score:g}, length {length:.3f} "
        f"(budget {instance.problem.budget:g} per route, {len(routes)} route(s))"
    )
    for number, route in enumerate(routes, start=1):
        typer.echo(f"  route {number}: {' '.join(map(str, route))}")


# -- patrol routes (issue 4 §2) ---------------------------------------------------------------------
def _lat_lon(text: str | None, flag: str) -> tuple[float, float] | None:
    """``"52.06,4.49"`` → (lat, lon); an unreadable value is an InputError naming the flag."""
    if text is None:
        return None
    parts = text.replace(";", ",").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        from .._errors import InputError

        msg = f"{flag} must be LAT,LON in degrees (e.g. 52.0607,4.4940), got {text!r}"
        raise InputError(msg) from None
    return lat, lon


@app.command("route")
@cli_errors
def route_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code (see `was-planner wards list`).")],
    minutes: Annotated[float, typer.Option(help="Time budget per team in minutes (walking + stops).")] = 90.0,
    start: Annotated[
        str | None, typer.Option(help="Start LAT,LON (default: the ward's meeting point, else its centre).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="End LAT,LON (default: back at the start).")] = None,
    teams: Annotated[int, typer.Option(help="Number of teams walking at the same time.")] = 1,
    speed_kmh: Annotated[
        float | None, typer.Option("--speed-kmh", help="Walking speed (default: the graph's, 4.5).")
    ] = None,
    dwell_min: Annotated[float, typer.Option("--dwell-min", help="Minutes to stay at each stop.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plan.")] = 0,
    window: Annotated[
        str | None, typer.Option(help="Patrol time window HH:MM-HH:MM: weighs signals of that time of day.")
    ] = None,
    day: Annotated[str | None, typer.Option(help="Weekday the window starts on: mon..sun or ma..zo.")] = None,
    hot_streets: Annotated[
        int, typer.Option("--hot-streets", help="Also visit up to N hot streets away from the hotspots (0: none).")
    ] = 5,
    avoid: Annotated[
        list[Path] | None,
        typer.Option("--avoid", help="GPX/GeoJSON of a previous route whose streets to vary from (repeatable)."),
    ] = None,
    vary_last: Annotated[
        int, typer.Option("--vary-last", help="Vary from the streets of the ward's last N logged patrols (0: off).")
    ] = settings.VARY_LAST_ROUNDS,
    variety: Annotated[
        float, typer.Option(help="Extra cost of recently walked streets (0.5: they count 1.5×; 0: off).")
    ] = settings.VARIETY_PENALTY,
    gpx: Annotated[Path | None, typer.Option(help="Write the route as GPX 1.1 (OsmAnd, Organic Maps).")] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the route and stops as GeoJSON.")] = None,
    briefing: Annotated[Path | None, typer.Option(help="Write the printable one-page briefing (HTML).")] = None,
    when: Annotated[
        str | None, typer.Option(help="Date and time printed on the briefing, e.g. 'vr 20 nov 2026 20:00'.")
    ] = None,
    language: Annotated[str, typer.Option(help="Briefing language: nl or en.")] = "nl",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: teams (stops, length, duration, score), totals.")
    ] = False,
) -> None:
    """Plan tonight's walking patrol(s) through a ward's hotspots and hot streets."""
    from ..hotspots import TimeWindow
    from ..routing.export import briefing_html, plan_to_geojson, plan_to_gpx
    from ..routing.routes import RouteParams, plan_for_ward, read_route_lines
    from ..signals.wards import find_ward

    if day and not window:
        window = "00:00-24:00"
    target = TimeWindow.parse(window, day=day) if window else None
    params = RouteParams(minutes=minutes, teams=teams, dwell_min=dwell_min, speed_kmh=speed_kmh, seed=seed,
                         variety_penalty=variety)
    lines = [line for path in avoid or [] for line in read_route_lines(path)]
    store = _store(ctx)
    name = find_ward(ward, store.wards())
    plan = plan_for_ward(
        store, name, params=params, window=target, start=_lat_lon(start, "--start"), end=_lat_lon(end, "--end"),
        hot_street_targets=hot_streets, recent_routes=lines, vary_last=vary_last, data_dir=ctx.obj.data_dir,
    )
    written = []
    if gpx is not None:
        written.append(write_text(gpx, plan_to_gpx(plan, name=f"Looproute {name}")))
    if geojson is not None:
        written.append(write_text(geojson, json.dumps(plan_to_geojson(plan), ensure_ascii=False)))
    if briefing is not None:
        moment = when or (target.label() if target else "")
        title = f"Looproute {name}" if language == "nl" else f"Patrol route {name}"
        written.append(write_text(briefing, briefing_html(plan, ward=name, title=title, when=moment,
                                                          language=language)))
    if as_json:
        echo_json(plan.to_json())
        for path in written:
            typer.echo(f"wrote {path}", err=True)
        return
    typer.echo(f"{name}{', window ' + target.label() if target else ''}: {plan.summary()}")
    for path in written:
        typer.echo(f"wrote {path}")


# --- patrol log, coverage, agreements and the report (issue 6) -----------------------------------
patrols_app = typer.Typer(help="The patrol log: list patrols, mark them walked, import walked GPS tracks.",
                          no_args_is_help=True)
app.add_typer(patrols_app, name="patrols")


def _day_option(text: str | None, flag: str):
    from datetime import date

    from ..signals.incidents import check_day

    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PlannerError(f"{flag} {text!r} is not a date like 2026-11-25") from None
    return check_day(day, what=f"{flag} {text}")


def _local_moment(text: str, flag: str, *, after=None):
    """``YYYY-MM-DD HH:MM`` (or ``HH:MM``: the first such clock time after the moment ``after``) in
    local time → an aware datetime."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from ..patrols import walk_end
    from ..signals.incidents import check_day

    zone = ZoneInfo(settings.TIMEZONE)
    try:
        if after is not None and len(text.strip()) <= 5:
            moment = walk_end(after, time.fromisoformat(text.strip()))
        else:
            moment = datetime.fromisoformat(text.strip()).replace(tzinfo=zone)
    except ValueError:
        raise PlannerError(f"{flag} {text!r} is not a time like '2026-11-20 20:00' (local time)") from None
    check_day(moment.date(), what=f"{flag} {text}")
    return moment


def _ward_name(store, ward: str) -> str:
    from ..signals.wards import find_ward

    return find_ward(ward, store.wards())


@patrols_app.command("import-track")
@cli_errors
def patrols_import_track(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GPX file of the walked track (from a phone or GPS).")],
    ward: Annotated[str, typer.Option(help="Ward the patrol walked in (name or code).")],
    day: Annotated[str | None, typer.Option("--date", help="Day walked, YYYY-MM-DD (if the track has no times).")]
    = None,
    team_size: Annotated[int, typer.Option("--team-size", help="People on the patrol.")] = 2,
    patrol: Annotated[int | None, typer.Option(help="Planned patrol this track completes (see `patrols list`).")]
    = None,
    notes: Annotated[str | None, typer.Option(help="Notes (no names or descriptions of people).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the patrol and the match.")] = False,
) -> None:
    """Record a walked GPS track as a walked patrol, matched onto the ward's streets."""
    from ..patrols import import_track
    from ..streets import ward_graph

    store = _store(ctx)
    name = _ward_name(store, ward)
    graph = ward_graph(store, name, data_dir=ctx.obj.data_dir)
    result = import_track(store, graph, file, ward=name, day=_day_option(day, "--date"), team_size=team_size,
                          patrol_id=patrol, notes=notes)
    if as_json:
        echo_json(result.to_json())
        return
    match, record = result.match, result.patrol
    if result.duplicate:
        typer.echo(f"patrol {record.id} ({name}): this track is stored already; nothing added")
        return
    typer.echo(
        f"patrol {record.id} ({name}): {match.n_points} track points → {len(match.edges)} streets, "
        f"{match.length_m / 1000:.2f} km, {record.person_hours:.1f} person-hours"
        f"{' (times estimated from the length)' if result.times_estimated else ''}; "
        f"{match.n_off_graph} of {match.n_used} used points off the streets, {match.breaks} break(s)"
    )


@patrols_app.command("list")
@cli_errors
def patrols_list(
    ctx: typer.Context,
    ward: Annotated[str | None, typer.Option(help="Only this ward (name or code).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Up to and including this day, YYYY-MM-DD.")] = None,
    status: Annotated[str | None, typer.Option(help="planned, walked or cancelled.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print one JSON object {"patrols": [...]}.')] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """List the patrol log (never the members' names)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from ..access import visible_patrols
    from ..review.coverage import _utc

    store = _store(ctx)
    name = _ward_name(store, ward) if ward else None
    first, last = _day_option(start, "--from"), _day_option(end, "--to")
    records = visible_patrols(store, _signed_in(store, user, password, "view_aggregates"), ward=name, status=status,
                              since=_utc(first) if first else None,
                              until=_utc(last + timedelta(days=1)) if last else None)
    if as_json:
        echo_json({"patrols": [r.to_json() for r in records]})
        return
    for r in records:
        when = r.start.astimezone(ZoneInfo(settings.TIMEZONE))
        typer.echo(
            f"{r.id:>5}  {when:%Y-%m-%d %H:%M}  {r.ward:<16} {r.status:<9} team {r.team_size}  "
            f"{r.person_hours:5.1f} ph  {r.length_m / 1000:5.2f} km  {r.source or ''}"
        )
    typer.echo(f"{len(records)} patrol(s)")


@patrols_app.command("walked")
@cli_errors
def patrols_walked(
    ctx: typer.Context,
    patrol: Annotated[int, typer.Argument(help="Patrol id (see `patrols list`).")],
    start: Annotated[str, typer.Option(help="Actual start, local time: '2026-11-20 20:05'.")],
    end: Annotated[str, typer.Option(help="Actual end, local time: '2026-11-20 21:40', or '21:40' (the next day "
                                          "if that is not after the start).")],
    team_size: Annotated[int | None, typer.Option("--team-size", help="People who actually walked.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes (no names or descriptions of people).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the patrol as one JSON object.")] = False,
) -> None:
    """Mark a planned patrol as walked along its planned route."""
    from ..patrols import mark_walked

    begin = _local_moment(start, "--start")
    finish = _local_moment(end, "--end", after=begin)
    record = mark_walked(_store(ctx), patrol, actual_start=begin, actual_end=finish, notes=notes,
                         team_size=team_size)
    if as_json:
        echo_json(record.to_json())
    else:
        typer.echo(f"patrol {record.id} ({record.ward}) walked: {record.person_hours:.1f} person-hours, "
                   f"{record.length_m / 1000:.2f} km")


@app.command("coverage")
@cli_errors
def coverage_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object with the six metrics.")]
    = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Coverage of a ward: patrols, person-hours, km, hotspot score visited, streets walked, idle hot streets."""
    from datetime import date, timedelta

    from ..access import ward_coverage
    from ..review.coverage import period_until_today

    store = _store(ctx)
    name = _ward_name(store, ward)
    first, last = _day_option(start, "--from"), _day_option(end, "--to")
    until = period_until_today(first, last + timedelta(days=1), today=date.today())
    result = ward_coverage(store, _signed_in(store, user, password, "view_coverage"), name, first, until,
                           data_dir=ctx.obj.data_dir)
    echo_result(result, as_json)


@app.command("capacity")
@cli_errors
def capacity_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code.")],
    weeks: Annotated[int, typer.Option(help="Weeks to simulate per budget; also the log period for the hours spent.")]
    = 4,
    teams: Annotated[int, typer.Option(help="Teams walking at the same time each night (1-3).")] = 1,
    team_size: Annotated[int, typer.Option("--team-size", help="People per team.")] = 2,
    hours: Annotated[
        str | None, typer.Option(help="Weekly budgets in person-hours, e.g. 2,4,8 (default 2,4,6,8,12,16,20,24,32,40).")
    ] = None,
    target_share: Annotated[float, typer.Option("--target-share", help="Share of the hotspot score to visit.")] = 0.8,
    visits_per_week: Annotated[
        int, typer.Option("--visits-per-week", help="Nights a week each of those hotspots should be visited.")
    ] = 2,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same curve.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: ward, curve, needed, spent_per_week.")
    ] = False,
) -> None:
    """What a ward needs: hotspot score visited per weekly person-hours, planned with the route planner."""
    from ..review.capacity import DEFAULT_HOURS, CapacityParams, capacity_for, parse_hours

    params = CapacityParams(hours=parse_hours(hours) if hours is not None else DEFAULT_HOURS, weeks=weeks,
                            teams=teams, team_size=team_size, target_share=target_share,
                            visits_per_week=visits_per_week, seed=seed)
    store = _store(ctx)
    result = capacity_for(store, _ward_name(store, ward), data_dir=ctx.obj.data_dir, params=params)
    echo_result(result, as_json)


@app.command("report")
@cli_errors
def report_command(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option(help="Folder for rapport.html and the CSV tables.")],
    freq: Annotated[str, typer.Option(help="Periods in charts and tables: week, month or quarter.")] = "week",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object listing the files.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """The municipality's report: printable HTML (Dutch) plus CSV tables for Excel."""
    from datetime import timedelta

    from ..access import coverage_report
    from ..review.report import write_report

    first, last = _day_option(start, "--from"), _day_option(end, "--to")
    with writing(out):  # before the minutes of work, not after
        out.mkdir(parents=True, exist_ok=True)
    store = _store(ctx)
    report = coverage_report(store, _signed_in(store, user, password, "view_coverage"), first,
                             last + timedelta(days=1), freq=freq, data_dir=ctx.obj.data_dir)
    files = write_report(report, out)
    if as_json:
        echo_json(files.to_json())
    else:
        typer.echo(f"wrote {files.html} and {len(files.csv)} CSV tables in {out}")


agreements_app = typer.Typer(help="Agreements (afspraken): follow-up actions on hotspots and signals.",
                             no_args_is_help=True)
app.add_typer(agreements_app, name="agreements")


def _echo_agreement(agreement) -> None:
    place = f"  [{agreement.hotspot}]" if agreement.hotspot else ""
    typer.echo(f"{agreement.id:>4}  {agreement.ward:<16} due {agreement.due}  {agreement.status:<11} "
               f"{agreement.role}: {agreement.what}{place}")


@agreements_app.command("add")
@cli_errors
def agreements_add(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code.")],
    what: Annotated[str, typer.Option(help="What is to be done.")],
    role: Annotated[str, typer.Option(help="Who does it, as a role: gemeente, wijkagent, woningcorporatie …")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    hotspot: Annotated[int | None, typer.Option(help="Hotspot number of the ward (as `hotspots` shows now).")]
    = None,
    signal: Annotated[int | None, typer.Option(help="Signal id the agreement follows up.")] = None,
    status: Annotated[str, typer.Option(help="open, in_progress or done.")] = "open",
    as_json: Annotated[bool, typer.Option("--json", help="Print the agreement as one JSON object.")] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """Record an agreement for a ward, optionally at one of its hotspots (numbered as `hotspots`
    shows them to you) or for a signal."""
    from ..review.agreements import add_agreement

    store = _store(ctx)
    name = _ward_name(store, ward)
    lat = lon = label = None
    if hotspot is not None:
        from ..access import visible_hotspots

        found = visible_hotspots(store, _signed_in(store, user, password, "view_aggregates"), name).hotspots
        row = found[found["id"] == hotspot]
        if row.empty:
            raise PlannerError(f"{name} has no hotspot {hotspot} now (it has {len(found)})")
        lat, lon, label = float(row["centroid_lat"].iloc[0]), float(row["centroid_lon"].iloc[0]), f"hotspot {hotspot}"
    agreement = add_agreement(store, ward=name, what=what, role=role, due=_day_option(due, "--due"), status=status,
                              hotspot=label, lat=lat, lon=lon, incident_id=signal)
    if as_json:
        echo_json(agreement.to_json())
    else:
        _echo_agreement(agreement)


@agreements_app.command("list")
@cli_errors
def agreements_list(
    ctx: typer.Context,
    ward: Annotated[str | None, typer.Option(help="Only this ward (name or code).")] = None,
    status: Annotated[str | None, typer.Option(help="open, in_progress or done.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their due date and not done.")]
    = False,
    today: Annotated[str | None, typer.Option(help="Day to judge 'overdue' on (default: today).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print one JSON object {"agreements": [...]}.')] = False,
    user: _USER = None,
    password: _PASSWORD = None,
) -> None:
    """List agreements by due date; --overdue for those past due."""
    from datetime import date

    from ..access import visible_agreements

    store = _store(ctx)
    name = _ward_name(store, ward) if ward else None
    day = _day_option(today, "--today") or date.today()
    found = visible_agreements(store, _signed_in(store, user, password, "view_aggregates"), ward=name,
                               status=status, overdue_on=day if overdue else None)
    if as_json:
        echo_json({"agreements": [{**a.to_json(), "overdue": a.is_overdue(day)} for a in found]})
        return
    for agreement in found:
        _echo_agreement(agreement)
    typer.echo(f"{len(found)} agreement(s)")


@agreements_app.command("update")
@cli_errors
def agreements_update(
    ctx: typer.Context,
    agreement: Annotated[int, typer.Argument(help="Agreement id (see `agreements list`).")],
    status: Annotated[str | None, typer.Option(help="open, in_progress or done.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date, YYYY-MM-DD.")] = None,
    what: Annotated[str | None, typer.Option(help="New text.")] = None,
    role: Annotated[str | None, typer.Option(help="New role.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the agreement as one JSON object.")] = False,
) -> None:
    """Change an agreement's status, due date, text or role."""
    from ..review.agreements import update_agreement

    changed = update_agreement(_store(ctx), agreement, status=status, due=_day_option(due, "--due"), what=what,
                               role=role)
    if as_json:
        echo_json(changed.to_json())
    else:
        _echo_agreement(changed)


# -- trust: model card and DPIA template (issue 8) --------------------------------------------------
def _write_or_echo(text: str, out: Path | None, what: str) -> None:
    if out is None:
        typer.echo(text)
        return
    write_text(out, text)
    typer.echo(f"{what} written to {out}")


@app.command("model-card")
@cli_errors
def model_card_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file: .md (Markdown) or .html (one page).")
    ] = None,
    language: Annotated[str, typer.Option(help="nl (default) or en.")] = "nl",
) -> None:
    """The model card (Algoritmeregister style) with the latest backtest on this installation's data."""
    from ..review.modelcard import model_card, model_card_html

    store = _store(ctx)
    if out is not None and out.suffix.lower() not in {".md", ".html", ".htm"}:
        msg = f"--out must end in .md or .html, got {out.name}"
        raise PlannerError(msg)
    html_page = out is not None and out.suffix.lower() in {".html", ".htm"}
    text = model_card_html(store, language=language) if html_page else model_card(store, language=language)
    _write_or_echo(text, out, "model card")


@app.command("dpia")
@cli_errors
def dpia_command(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write the template to this file (.md).")] = None,
) -> None:
    """A DPIA template filled with this installation's retention period, k, roles and storage."""
    from ..review.modelcard import dpia

    _write_or_echo(dpia(_store(ctx)), out, "DPIA template")
