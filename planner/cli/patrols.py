"""The patrol log: `patrols list|walked|import-track`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import settings
from .._errors import PlannerError
from ._common import (
    PASSWORD,
    USER,
    app,
    cli_errors,
    command_group,
    day_option,
    echo_json,
    signed_in,
    store_of,
    ward_name,
)

patrols_app = command_group("The patrol log: list patrols, mark them walked, import walked GPS tracks.")
app.add_typer(patrols_app, name="patrols")


def _local_moment(text: str, flag: str, *, after=None):
    """``YYYY-MM-DD HH:MM`` in local time → an aware datetime; ``HH:MM`` after the moment ``after``
    is the end of a walk that began then (``walk_end``: the next day past midnight)."""
    from datetime import datetime, time

    from .._parse import check_day
    from .._time import local_zone
    from ..patrols import walk_end

    try:
        if after is not None and len(text.strip()) <= 5:
            moment = walk_end(after, time.fromisoformat(text.strip()))
        else:
            moment = datetime.fromisoformat(text.strip()).replace(tzinfo=local_zone())
    except ValueError:
        raise PlannerError(f"{flag} {text!r} is not a time like '2026-11-20 20:00' (local time)") from None
    check_day(moment.date(), what=f"{flag} {text}")
    return moment


@patrols_app.command("import-track")
@cli_errors
def patrols_import_track(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GPX file of the walked track (from a phone or GPS).")],
    ward: Annotated[str, typer.Option(help="Ward the patrol walked in (name or code).")],
    day: Annotated[str | None, typer.Option("--date", help="Day walked, YYYY-MM-DD (if the track has no times).")]
    = None,
    team_size: Annotated[int, typer.Option("--team-size", help="People on the patrol.")] = settings.TEAM_SIZE,
    patrol: Annotated[int | None, typer.Option(help="Planned patrol this track completes (see `patrols list`).")]
    = None,
    notes: Annotated[str | None, typer.Option(help="Notes (no names or descriptions of people).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the patrol and the match.")] = False,
) -> None:
    """Record a walked GPS track as a walked patrol, matched onto the ward's streets."""
    from ..patrols import WalkDetails, import_track
    from ..streets import ward_graph

    store = store_of(ctx)
    name = ward_name(store, ward)
    graph = ward_graph(store, name, data_dir=ctx.obj.data_dir)
    result = import_track(store, graph, file, ward=name, day=day_option(day, "--date"), patrol_id=patrol,
                          details=WalkDetails(team_size=team_size, notes=notes))
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
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """List the patrol log (never the members' names)."""
    from datetime import timedelta

    from .._time import aware, local_zone
    from ..access import visible_patrols

    store = store_of(ctx)
    name = ward_name(store, ward) if ward else None
    first, last = day_option(start, "--from"), day_option(end, "--to")
    records = visible_patrols(store, signed_in(store, user, password, "view_aggregates"), ward=name, status=status,
                              since=aware(first) if first else None,
                              until=aware(last + timedelta(days=1)) if last else None)
    if as_json:
        echo_json({"patrols": [r.to_json() for r in records]})
        return
    for r in records:
        when = r.start.astimezone(local_zone())
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
    record = mark_walked(store_of(ctx), patrol, actual_start=begin, actual_end=finish, notes=notes,
                         team_size=team_size)
    if as_json:
        echo_json(record.to_json())
    else:
        typer.echo(f"patrol {record.id} ({record.ward}) walked: {record.person_hours:.1f} person-hours, "
                   f"{record.length_m / 1000:.2f} km")
