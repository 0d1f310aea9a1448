"""Signals in, and where they lie: `import`, `outcomes import`, `wards load|list|fetch`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import (
    app,
    cli_errors,
    cli_text,
    command_group,
    echo_json,
    echo_result,
    store_of,
)


def _n_wards(n: int) -> str:
    return f"{n} ward" if n == 1 else f"{n} wards"


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
    report = import_file(store_of(ctx), file, options=options, rejects_dir=ctx.obj.data_dir / "rejects")
    echo_result(report, as_json, say=cli_text)


outcomes_app = command_group("Registered crime counts per area and period (police open data, police.uk).")
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

    report = import_outcomes(store_of(ctx), file, format=file_format, rejects_dir=ctx.obj.data_dir / "rejects")
    echo_result(report, as_json, say=cli_text)


wards_app = command_group("Load, list and fetch ward (wijk) boundaries.")
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
    assigned = store_wards(store_of(ctx), wards)
    typer.echo(f"stored {_n_wards(len(wards))}; {assigned} signals lie in a ward")


@wards_app.command("list")
@cli_errors
def wards_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the stored wards with their number of signals."""
    summary = store_of(ctx).ward_summary()
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
    assigned = store_wards(store_of(ctx), wards)
    typer.echo(f"stored {_n_wards(len(wards))} of {municipality}; {assigned} signals lie in a ward")
