"""`demo`: a synthetic installation to try everything on."""

from __future__ import annotations

from typing import Annotated

import typer

from .._errors import PlannerError
from ._common import (
    app,
    cli_errors,
    day_option,
    echo_result,
    store_of,
)


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
    end_day = day_option(end, "--end")
    store = store_of(ctx)
    summary = build_demo(store, ctx.obj.data_dir, seed=seed, end=end_day, place=place, force=force)
    # Fitted now (the cells, then the hot streets on the ward graphs), so the dashboard's first view is warm.
    installation_street_calibration(store, data_dir=ctx.obj.data_dir)
    echo_result(summary, as_json)
