"""Streets and routes: `graph`, `route` (tonight's patrol) and `op-solve` (benchmark instances)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import settings
from ..output import write_text
from ._common import (
    EchoProgress,
    app,
    cli_errors,
    echo_json,
    store_of,
    time_window,
    ward_name,
)


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
    from ..streets import build_and_cache_ward_graph, graph_summary

    store = store_of(ctx)
    name = ward_name(store, ward)
    source = osm if osm is not None else (place or "OpenStreetMap, downloading the ward area")
    typer.echo(f"building the {network} graph of {name} from {source}", err=True)
    with EchoProgress("planner.streets"):
        graph, path = build_and_cache_ward_graph(
            store, name, osm=osm, place=place, network_type=network, speed_kmh=speed_kmh,
            data_dir=ctx.obj.data_dir,
        )
    summary = graph_summary(graph)
    typer.echo(
        f"{name}: {summary['nodes']:,} nodes, {summary['edges']:,} edges, {summary['km']:.1f} km of streets "
        f"at {graph.graph['speed_kmh']:g} km/h; cached at {path}"
    )


@app.command("op-solve")
@cli_errors
def op_solve(
    file: Annotated[
        Path, typer.Argument(help="OP or TOP benchmark instance file, or an OPLib .oplib file.")
    ],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Wall-clock limit of the search in seconds.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same routes).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object {score, length, routes}.")
    ] = False,
) -> None:
    """Solve an orienteering benchmark instance and print its routes (1-based point numbers).

    OPLib files (``.oplib``) count the depot's score, as the library's optima do."""
    from ..routing.oplib import read_oplib
    from ..routing.orienteering import SolverParams, read_instance, solve_orienteering

    if file.suffix.lower() == ".oplib":
        instance = read_oplib(file)
        fixed = instance.depot_score
    else:
        instance = read_instance(file)
        fixed = 0.0
    solution = solve_orienteering(
        instance.problem, params=SolverParams(time_limit=time_limit, seed=seed)
    )
    routes = [[node + 1 for node in route] for route in solution.routes]
    length = sum(solution.travel)
    score = solution.score + fixed
    if as_json:
        echo_json({"score": score, "length": length, "routes": routes})
        return
    typer.echo(
        f"{instance.name}: score {score:g}, length {length:.3f} "
        f"(budget {instance.problem.budget:g} per route, {len(routes)} route(s))"
    )
    for number, route in enumerate(routes, start=1):
        typer.echo(f"  route {number}: {' '.join(map(str, route))}")


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
    teams: Annotated[
        int, typer.Option(help=f"Number of teams walking at the same time (1-{settings.MAX_TEAMS}).")
    ] = 1,
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
        float, typer.Option(help=f"Extra cost of recently walked streets ({settings.VARIETY_PENALTY:g}: they count "
                                 f"{1 + settings.VARIETY_PENALTY:g}×; 0: off).")
    ] = settings.VARIETY_PENALTY,
    gpx: Annotated[Path | None, typer.Option(help="Write the route as GPX 1.1 (OsmAnd, Organic Maps).")] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the route and stops as GeoJSON.")] = None,
    briefing: Annotated[Path | None, typer.Option(help="Write the printable one-page briefing (HTML).")] = None,
    when: Annotated[
        str | None, typer.Option(help="Date and time printed on the briefing, e.g. 'vr 20 nov 2026 20:00' "
                                  "(default: the --window, else a line to fill in).")
    ] = None,
    language: Annotated[str, typer.Option(help="Language of the briefing and the GPX file: nl or en.")] = "nl",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: teams (stops, length, duration, score), totals.")
    ] = False,
) -> None:
    """Plan tonight's walking patrol(s) through a ward's hotspots and hot streets."""
    from .._parse import parse_lat_lon
    from ..i18n import translation
    from ..routing.export import briefing_html, plan_to_geojson, plan_to_gpx, read_route_lines
    from ..routing.routes import RouteParams, WardPlanParams, plan_for_ward

    target = time_window(window, day)
    params = RouteParams(minutes=minutes, teams=teams, dwell_min=dwell_min, speed_kmh=speed_kmh, seed=seed,
                         variety_penalty=variety)
    first, last = parse_lat_lon(start, what="--start"), parse_lat_lon(end, what="--end")
    lines = [line for path in avoid or [] for line in read_route_lines(path)]
    plan = plan_for_ward(
        store_of(ctx), ward, params=params, window=target, start=first, end=last,
        ward_params=WardPlanParams(hot_street_targets=hot_streets, vary_last=vary_last, recent_routes=tuple(lines)),
        data_dir=ctx.obj.data_dir,
    )
    name = plan.ward
    title = translation(language).gettext("Patrol route {name}").format(name=name)
    written = []
    if gpx is not None:
        written.append(write_text(gpx, plan_to_gpx(plan, name=title, language=language)))
    if geojson is not None:
        written.append(write_text(geojson, json.dumps(plan_to_geojson(plan), ensure_ascii=False)))
    if briefing is not None:
        moment = when or (target.label(language) if target else "")
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
