"""Where the risk is: `hotspots`, the `evaluate` backtest and `calibrate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .._errors import PlannerError
from ..output import write_text
from ._common import (
    PASSWORD,
    USER,
    app,
    cli_errors,
    cli_text,
    echo_json,
    echo_result,
    signed_in,
    store_of,
    time_window,
    ward_name,
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
            help="Also score the ward's streets (counts per km and kernel density as calibrated, on its "
            "cached graph, see `was-planner graph`) and write them as GeoJSON (WGS84) to this file; --json then gains "
            "a \"hot_streets\" key. Public: only streets touching the public hotspot areas, no counts.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the hotspots.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Hotspots of a ward, scored for a target window, for residents or officers.

    With --hot-streets FILE the ward's streets are scored too (counts per km and a network or
    planar kernel density as `was-planner calibrate` chose, on the cached ward graph, same signal
    weights and window) and written as a GeoJSON of street segments with density per km, prize
    and name; the summary lists the hottest streets and
    --json adds one key, "hot_streets": {"n_snapped", "n_unsnapped", "streets": [...]} (the 20
    densest streets).
    """
    from ..access import export_hotspots, visible_hot_streets, visible_hotspots
    from ..hotspots import parse_category_weights

    target = time_window(window, day)
    category_weights = parse_category_weights(weights)  # bad flags are named before the store is read
    store = store_of(ctx)
    account = signed_in(store, user, password, "view_points" if audience == "officer" else "view_aggregates")
    name = ward_name(store, ward)
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

    --json prints {"methods": {"planner": {...}, "naive_all": {...}, ...}, "n_train": N,
    "n_test": N}: the planner, counts over all the training period (naive_all) and its last 4
    weeks (naive_4w), KDEs at a cross-validated (kde_cv), fixed and Scott's bandwidth; kde and
    naive are earlier names of kde_scott and naive_4w, not the strongest baselines. With --graph
    the methods also rank the graph's streets and coverage is a share of street length (PAI =
    hit-rate share / street-length share), adding one key:
    "network": {"planner": {"hit_rate@1": .., "pai@1": .., ...}, "naive_all": {...}, ...,
    "street_km": km, "n_test": test signals within 50 m of a street}. The text summary says what
    the calibrated planner chose on the training period.
    """
    from ..hotspots.evaluate import (
        PLANNER_SURFACES,
        BacktestParams,
        backtest,
        backtest_patrol_signals,
        read_for_backtest,
    )
    from ..signals.incidents import ParseOptions, parse_mapping
    from ..signals.wards import read_wards

    target = time_window(window, day)
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
    # With "both", backtest_patrol_signals sets patrol_signals itself, once each way.
    params = BacktestParams(horizon_days=horizon_days, window=target, planner=planner,
                            patrol_signals="with" if patrol_signals == "both" else patrol_signals)
    incidents = read_for_backtest(file, options=options, say=cli_text)
    if patrol_signals != "both":
        echo_result(backtest(incidents, split=split, params=params, wards=wards, graph=graph), as_json)
        return
    if not incidents["on_patrol"].any():
        typer.echo(f"note: no signal in {file.name} is marked as found on patrol (column on_patrol), "
                   "so with and without are the same", err=True)
    results = backtest_patrol_signals(incidents, split=split, params=params, wards=wards, graph=graph)
    if as_json:
        echo_json({choice: r.to_json() for choice, r in results.items()})
        return
    for choice, r in results.items():
        typer.echo(f"-- {choice} patrol-found signals in the training data --")
        typer.echo(r.summary())


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

    store = store_of(ctx)
    calibration = installation_calibration(store, refit=refit)
    if calibration is None:
        raise PlannerError("no signals to calibrate on: import signals first (was-planner import FILE)")
    streets = installation_street_calibration(store, data_dir=ctx.obj.data_dir, refit=refit)
    if as_json:
        echo_json(calibration.to_json() | {"streets": streets.to_json() if streets is not None else None})
    else:
        typer.echo(f"risk surface: {calibration.summary()}")
        typer.echo(f"hot streets: {streets.summary()}")
