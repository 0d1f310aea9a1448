"""The nightly plan of every ward: `plan-all`, one Dask task per ward."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import settings
from ._common import EchoProgress, app, cli_errors, day_option, echo_json


@app.command("plan-all")
@cli_errors
def plan_all_command(
    ctx: typer.Context,
    night: Annotated[str, typer.Option("--date", help="The night to plan, YYYY-MM-DD.")],
    wards: Annotated[
        str | None, typer.Option(help="Wards to plan, names or codes separated by commas (default: every ward).")
    ] = None,
    every_ward: Annotated[bool, typer.Option("--all", help="Plan every ward (the default without --wards).")] = False,
    minutes: Annotated[float, typer.Option(help="Time budget per team in minutes (walking + stops).")] = 90.0,
    teams: Annotated[
        int, typer.Option(help=f"Teams walking at the same time in each ward (1-{settings.MAX_TEAMS}).")
    ] = 1,
    start: Annotated[str, typer.Option(help="When the rounds start, local HH:MM.")] = "20:00",
    hot_streets: Annotated[
        int, typer.Option("--hot-streets", help="Also visit up to N hot streets away from the hotspots (0: none).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plans.")] = 0,
    language: Annotated[str, typer.Option(help="Briefing language: nl or en.")] = "nl",
    out: Annotated[
        Path | None, typer.Option(help="Folder for <ward>/route.gpx, route.geojson and briefing.html "
                                       "(default: DATA_DIR/plans/<date>).")
    ] = None,
    osm: Annotated[
        Path | None, typer.Option(help="OSM extract (.osm/.osm.pbf) to build the graphs of wards that have none yet.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786 "
                                      "(default: a local cluster on this machine).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes of the local cluster (default: the core count; "
                                      "0: in this process).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: date, wards, planned, failed, seconds.")
    ] = False,
) -> None:
    """Plan one night for every ward: hotspots, route(s), GPX, briefing and a planned patrol each."""
    from .._errors import InputError
    from ..nightly import ClusterParams, NightParams, plan_all
    from ..routing.routes import RouteParams

    if wards is not None and every_ward:
        msg = "give {wards} or {all}, not both"
        raise InputError(msg, options=("wards", "all"))
    chosen = None if wards is None else [name.strip() for name in wards.split(",") if name.strip()]
    params = NightParams(route=RouteParams(minutes=minutes, teams=teams, seed=seed), start=start,
                         hot_streets=hot_streets, language=language, link_base=settings.public_url())
    with EchoProgress("planner.nightly", "planner.hotspots.tuning"):
        result = plan_all(ctx.obj.db_url, day_option(night, "--date"), wards=chosen, params=params, out_dir=out,
                          data_dir=ctx.obj.data_dir, osm=osm,
                          cluster=ClusterParams(scheduler=scheduler, workers=workers))
    if as_json:
        echo_json(result.to_json())
    else:
        typer.echo(result.summary())
    if result.failed:  # a cron job reports the night as failed; the JSON above says which wards
        raise typer.Exit(1)
