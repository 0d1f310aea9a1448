"""Looking back: `coverage`, `capacity`, `effect`, `report`, `agreements`, `model-card`, `dpia`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import _time, settings
from .._errors import PlannerError
from ..output import write_text, writing
from ._common import (
    PASSWORD,
    USER,
    app,
    cli_errors,
    command_group,
    day_option,
    echo_json,
    echo_result,
    signed_in,
    store_of,
    ward_name,
)


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

    from .._parse import parse_month_or_day
    from ..review.effect import EffectDesign, EffectParams, effect_for, panel_from_outcomes
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
    first = parse_month_or_day(start, what="--from")
    last = parse_month_or_day(end, what="--to", month_end=True)
    if first and last and last < first:
        msg = f"--to {end} lies before --from {start}"
        raise PlannerError(msg)
    store = store_of(ctx)
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
        store, split=parse_month_or_day(split, what="--split"), start=first,
        end=last + timedelta(days=1) if last else None, panel=table,
        design=EffectDesign(treated=names, outcome=outcome, category=category, placebo=placebo, dose=dose),
        params=EffectParams(permutations=permutations, random_state=seed),
    )
    echo_result(result, as_json)


@app.command("coverage")
@cli_errors
def coverage_command(
    ctx: typer.Context,
    ward: Annotated[str, typer.Option(help="Ward name or code.")],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object with the six metrics.")]
    = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Coverage of a ward: patrols, person-hours, km, hotspot score visited, streets walked, idle hot streets."""
    from datetime import timedelta

    from ..access import ward_coverage
    from ..review.coverage import period_until_today

    store = store_of(ctx)
    name = ward_name(store, ward)
    first, last = day_option(start, "--from"), day_option(end, "--to")
    until = period_until_today(first, last + timedelta(days=1), today=_time.today())
    result = ward_coverage(store, signed_in(store, user, password, "view_coverage"), name, first, until,
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
    team_size: Annotated[int, typer.Option("--team-size", help="People per team.")] = settings.TEAM_SIZE,
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
    store = store_of(ctx)
    result = capacity_for(store, ward_name(store, ward), data_dir=ctx.obj.data_dir, params=params)
    echo_result(result, as_json)


@app.command("report")
@cli_errors
def report_command(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day (included), YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option(help="Folder for rapport.html and the CSV tables.")],
    freq: Annotated[str, typer.Option(help="Periods in charts and tables: week, month or quarter.")] = "week",
    needs: Annotated[bool, typer.Option(
        "--needs/--no-needs",
        help="Include what each ward needs (its capacity curve); most of the report's time, so leave it out "
             "for a quick look.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object listing the files.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """The municipality's report: printable HTML (Dutch) plus CSV tables for Excel."""
    from datetime import timedelta

    from ..access import coverage_report
    from ..review.report import write_report

    first, last = day_option(start, "--from"), day_option(end, "--to")
    with writing(out):  # before the minutes of work, not after
        out.mkdir(parents=True, exist_ok=True)
    store = store_of(ctx)
    report = coverage_report(store, signed_in(store, user, password, "view_coverage"), first,
                             last + timedelta(days=1), freq=freq, data_dir=ctx.obj.data_dir, needs=needs)
    files = write_report(report, out)
    if as_json:
        echo_json(files.to_json())
    else:
        typer.echo(f"wrote {files.html} and {len(files.csv)} CSV tables in {out}")


agreements_app = command_group("Agreements (afspraken): follow-up actions on hotspots and signals.")
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
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Record an agreement for a ward, optionally at one of its hotspots (numbered as `hotspots`
    shows them to you) or for a signal."""
    from ..access import visible_hotspots
    from ..review.agreements import add_agreement, hotspot_place

    store = store_of(ctx)
    name = ward_name(store, ward)
    place = None
    if hotspot is not None:
        found = visible_hotspots(store, signed_in(store, user, password, "view_aggregates"), name).hotspots
        place = hotspot_place(found, hotspot, ward=name)
    agreement = add_agreement(store, ward=name, what=what, role=role, due=day_option(due, "--due"), status=status,
                              place=place, incident_id=signal)
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
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """List agreements by due date; --overdue for those past due."""

    from ..access import visible_agreements

    store = store_of(ctx)
    name = ward_name(store, ward) if ward else None
    day = day_option(today, "--today") or _time.today()
    found = visible_agreements(store, signed_in(store, user, password, "view_aggregates"), ward=name,
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

    changed = update_agreement(store_of(ctx), agreement, status=status, due=day_option(due, "--due"), what=what,
                               role=role)
    if as_json:
        echo_json(changed.to_json())
    else:
        _echo_agreement(changed)


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

    store = store_of(ctx)
    if out is not None and out.suffix.lower() not in {".md", ".html", ".htm"}:
        msg = f"--out must end in .md or .html, got {out.name}"
        raise PlannerError(msg)
    html_page = out is not None and out.suffix.lower() in {".html", ".htm"}
    make = model_card_html if html_page else model_card
    text = make(store, language=language, data_dir=ctx.obj.data_dir)
    _write_or_echo(text, out, "model card")


@app.command("dpia")
@cli_errors
def dpia_command(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write the template to this file (.md).")] = None,
) -> None:
    """A DPIA template filled with this installation's retention period, k, roles and storage."""
    from ..review.modelcard import dpia

    _write_or_echo(dpia(store_of(ctx)), out, "DPIA template")
