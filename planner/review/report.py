"""The municipality's report per period: one self-contained HTML page that prints cleanly to PDF
(charts as inline SVG from matplotlib, no JavaScript, no network) plus CSV tables for Dutch Excel
(``;``-separated, decimal comma, UTF-8 with BOM).

Only aggregates: patrols, hours, coverage shares, signal counts per ward and week, agreements.
No member names, no patrol notes, no signal points or descriptions.
"""

from __future__ import annotations

import html
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from .. import _time, settings
from .._errors import DataNotFoundError, PlannerError
from .._geo import OSM_ATTRIBUTION
from .._time import aware
from ..i18n import N_, agreement_status_label, format_number, translation
from ..output import write_csv, write_text
from .agreements import list_agreements
from .capacity import CapacityCurve, capacity_for
from .coverage import (
    CoverageParams,
    capacity_table,
    check_freq,
    coverage_for,
    coverage_table,
    period_starts,
    period_until_today,
    ward_context,
)
from .effect import EffectEstimate, EffectReview, effect_review

log = logging.getLogger(__name__)

_PERIOD_NL = {"week": "week", "month": "maand", "quarter": "kwartaal"}
"""The period in the CSV files' names (``dekking_per_maand.csv``): the files keep Dutch names."""
_PERIOD = {"week": N_("week"), "month": N_("month"), "quarter": N_("quarter")}
_PERIODS = {"week": N_("weeks"), "month": N_("months"), "day": N_("days"), "year": N_("years")}


@dataclass(frozen=True)
class Report:
    """Everything the report shows, as tables (``tables`` → the CSV files)."""

    start: date
    end: date
    freq: str
    summary: pd.DataFrame
    coverage: pd.DataFrame
    capacity: pd.DataFrame
    signals: pd.DataFrame
    agreements: pd.DataFrame
    effect: EffectReview
    today: date
    needs: tuple[CapacityCurve, ...] = ()
    """Per ward: what it needs (capacity curve), when computed."""
    street_credits: tuple[str, ...] = (OSM_ATTRIBUTION,)
    """Whom the wards' streets credit, each once."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """CSV file stem → table."""
        return {
            "samenvatting": self.summary, f"dekking_per_{_PERIOD_NL[self.freq]}": self.coverage,
            "uren_en_dekking_per_wijk": self.capacity, f"signalen_per_{_PERIOD_NL[self.freq]}": self.signals,
            "afspraken": self.agreements, "effect_wijken": _effect_table(self.effect.result),
            "effect_per_periode": _event_table(self.effect.result), "benodigde_uren": _needs_table(self.needs),
        }


def _effect_table(result: EffectEstimate | None) -> pd.DataFrame:
    columns = {"ward": "wijk", "treated": "meer_surveillance", "before": "gemiddeld_voor", "after": "gemiddeld_na",
               "weight": "gewicht", "hours_per_week_before": "uren_per_week_voor",
               "hours_per_week_after": "uren_per_week_na"}
    if result is None:
        return pd.DataFrame(columns=list(columns.values()))
    table = result.table[[c for c in columns if c in result.table]].round(3)
    return table.rename(columns=columns)


def _event_table(result: EffectEstimate | None) -> pd.DataFrame:
    columns = {"period": "periode", "relative": "perioden_na_start", "estimate": "verhouding",
               "null_low": "toeval_laag", "null_high": "toeval_hoog"}
    if result is None:
        return pd.DataFrame(columns=list(columns.values()))
    return result.event_study.round(4).rename(columns=columns)


def _needs_table(needs: tuple[CapacityCurve, ...]) -> pd.DataFrame:
    rows = [{"wijk": curve.ward, **point} for curve in needs for point in curve.to_json()["curve"]]
    return pd.DataFrame(rows, columns=["wijk", "person_hours_per_week", "score_share", "visits_per_hotspot"])


def signals_per_period(store, start: date, end: date, *, freq: str = "week") -> pd.DataFrame:
    """Signals per ward and period (by the start of their time window, local time); signals
    discovered on patrol counted apart."""

    starts = period_starts(start, end, freq)
    incidents = store.incidents(since=aware(start), until=aware(end))
    wards = list(store.wards()["name"])
    local = incidents["occurred_from"].dt.tz_convert(settings.timezone()).dt.date
    keep = (local >= start) & (local < end)
    frame = pd.DataFrame({"ward": incidents["ward"], "day": local, "on_patrol": incidents["on_patrol"]})[keep]
    bins = pd.Series(range(len(starts)), index=starts)
    frame["period"] = [starts[bins.index.searchsorted(d, side="right") - 1].isoformat() for d in frame["day"]]
    rows = []
    for ward in wards:
        mine = frame[frame["ward"] == ward]
        for first in starts:
            part = mine[mine["period"] == first.isoformat()]
            rows.append({"period": first.isoformat(), "ward": ward, "signals": int((~part["on_patrol"]).sum()),
                         "on_patrol": int(part["on_patrol"].sum())})
    return pd.DataFrame(rows, columns=["period", "ward", "signals", "on_patrol"])


def build_report(
    store,
    start: date,
    end: date,
    *,
    freq: str = "week",
    data_dir: str | Path | None = None,
    today: date | None = None,
    params: CoverageParams = CoverageParams(),
    needs: bool = True,
) -> Report:
    """Compute the report of ``[start, end)``: coverage per ward and period, hours, signals,
    agreements (overdue as of ``today``), the effect review and (``needs``) what each ward needs.

    ``today`` defaults to the real date; a period reaching past it is cut at the end of today,
    so days that have not happened count as neither walked nor idle."""
    check_freq(freq)
    today = today or _time.today()
    end = period_until_today(start, end, today=today)
    contexts, rows = {}, []
    overdue = {w: 0 for w in store.wards()["name"]}
    all_agreements = list_agreements(store)
    for agreement in all_agreements:
        if agreement.is_overdue(today):
            overdue[agreement.ward] = overdue.get(agreement.ward, 0) + 1
    for ward in store.wards()["name"]:
        try:
            contexts[ward] = ward_context(store, ward, now=end, data_dir=data_dir, params=params)
        except DataNotFoundError as error:  # a ward without a street graph is reported as such
            log.warning("report: no coverage for %s: %s", ward, error)
            continue
        whole = coverage_for(store, ward, start, end, context=contexts[ward], params=params)
        rows.append({**whole.to_row(), "overdue_agreements": overdue.get(ward, 0)})
    summary = pd.DataFrame(rows)
    coverage = coverage_table(store, start, end, freq=freq, wards=list(contexts), contexts=contexts, params=params)
    agreements = pd.DataFrame(
        [{**a.to_json(), "status": agreement_status_label(a.status, language="nl"), "overdue": a.is_overdue(today)}
         for a in all_agreements],
        columns=["id", "ward", "what", "role", "due", "status", "hotspot", "location", "incident_id", "overdue"],
    ).drop(columns=["location", "incident_id"])
    effect = effect_review(store, start, end, today=today)
    curves = []
    for ward in contexts if needs else ():
        try:
            curves.append(capacity_for(store, ward, data_dir=data_dir, now=end))
        except PlannerError as error:  # no hotspots or graph: the ward is left out of the needs table
            log.warning("report: no capacity curve for %s: %s", ward, error)
    return Report(
        start=start, end=end, freq=freq, summary=summary, coverage=coverage,
        capacity=capacity_table(summary, coverage), signals=signals_per_period(store, start, end, freq=freq),
        agreements=agreements, effect=effect, today=today, needs=tuple(curves),
        street_credits=tuple(dict.fromkeys(c.street_credit for c in contexts.values())) or (OSM_ATTRIBUTION,),
    )


# --- charts -------------------------------------------------------------------------------------
def _svg(figure) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "was-planner"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _line_chart(table: pd.DataFrame, value: str, *, title: str, ylabel: str, language: str,
                percent: bool = False, bars: bool = False) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    if table.empty:
        axes.text(0.5, 0.5, translation(language).gettext("no data"), ha="center", va="center",
                  transform=axes.transAxes)
    else:
        pivot = table.pivot_table(index="period", columns="ward", values=value, aggfunc="sum").sort_index()
        labels = [datetime.fromisoformat(p).strftime("%d-%m") for p in pivot.index]
        if bars:
            width = 0.8 / max(1, len(pivot.columns))
            for i, ward in enumerate(pivot.columns):
                axes.bar([x + i * width for x in range(len(pivot))], pivot[ward].fillna(0), width=width, label=ward)
            axes.set_xticks([x + 0.4 - width / 2 for x in range(len(pivot))], labels)
        else:
            for ward in pivot.columns:
                axes.plot(range(len(pivot)), pivot[ward], marker="o", markersize=3, label=ward)
            axes.set_xticks(range(len(pivot)), labels)
        axes.legend(fontsize=7, ncols=min(4, len(pivot.columns)), loc="upper left", frameon=False)
        axes.tick_params(axis="x", labelsize=7, rotation=45)
    if percent:
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_ylim(0, 1.05)
    axes.set_title(title, fontsize=10, loc="left")
    axes.set_ylabel(ylabel, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return _svg(figure)


def event_study_figure(result: EffectEstimate, *, language: str = "nl"):
    """The event study: per period the treated wards' rate relative to the comparison wards (the
    last period before the split = 1), with the band 95 % of random assignments fall in. Lines
    that drift apart before the split warn that the comparison is not fair."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    _ = translation(language).gettext
    study = result.event_study
    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    x = study["relative"].to_numpy()
    axes.fill_between(x, study["null_low"] - 1, study["null_high"] - 1, color="#bbbbbb", alpha=0.5,
                      label=_("how far chance strays (95%)"))
    axes.plot(x, study["estimate"] - 1, marker="o", markersize=4, color="#1f5fa8",
              label=_("more patrols vs comparison"))
    axes.axhline(0, color="#444", linewidth=0.8)
    axes.axvline(-0.5, color="#c77d00", linestyle="--", linewidth=1,
                 label=_("more patrols from here"))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel(_("{periods} from the start").format(periods=_(_PERIODS[result.period])), fontsize=8)
    axes.set_title(_("Difference per period (event study)"), fontsize=10, loc="left")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.22), ncols=3, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure


def capacity_figure(curves: tuple[CapacityCurve, ...], *, language: str = "nl"):
    """Per ward, weekly person-hours against the share of the hotspot score visited often
    enough, with the target line."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    _ = translation(language).gettext
    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    for curve in curves:
        points = curve.to_json()["curve"]
        axes.plot([p["person_hours_per_week"] for p in points], [p["score_share"] for p in points], marker="o",
                  markersize=3, label=curve.ward)
    if curves:
        axes.axhline(curves[0].params.target_share, color="#c77d00", linestyle="--", linewidth=1,
                     label=_("target"))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1.05)
    axes.set_xlabel(_("person-hours per week"), fontsize=8)
    visits = curves[0].params.visits_per_week if curves else 2
    axes.set_title(_("Hotspot score visited at least {visits}× a week").format(visits=visits), fontsize=10,
                   loc="left")
    axes.legend(fontsize=7, ncols=min(4, len(curves) + 1), loc="lower right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure


def _effect_section(effect: EffectReview, language: str) -> str:
    _ = translation(language).gettext
    result = effect.result
    heading = _("Effect: crime and signals before and after more patrols")  # Babel reads no calls in f-strings
    head = f"<section><h2>{heading}</h2>"
    caveat = _("Caveat.")
    if result is None:
        empty = _("No effect review possible: {note}").format(note=effect.note)
        return (head + f"<p class='empty'>{html.escape(empty)}</p>"
                f"<div class='caveat'><strong>{caveat}</strong> {html.escape(effect.caveat(language))}</div>"
                "</section>")
    what = _("registered crime") if result.outcome == "registered" else _("signals (not found on patrol)")
    table = result.table.assign(group=result.table["treated"].map({True: _("more patrols"),
                                                                   False: _("comparison")}))
    columns = {"ward": _("Ward"), "group": _("Group"), "before": _("Mean before"), "after": _("Mean after")}
    if "hours_per_week_before" in table:
        columns |= {"hours_per_week_before": _("Hours/week before"), "hours_per_week_after": _("Hours/week after")}
    period = _(_PERIOD[result.period]) if result.period in _PERIOD else result.period
    design = _("Outcome: {what} per {period}, before and from {split}. Method: difference in differences with "
               "fixed effects for ward and period (Poisson), tested by reassignment: the same computation with the "
               "extra patrols at other wards.").format(what=what, period=period, split=f"{result.split:%d-%m-%Y}")
    return (
        head
        + f"<p>{design}</p>"
        + f"<p class='verdict'>{html.escape(result.verdict(language))}</p>"
        + f"<figure>{_svg(event_study_figure(result, language=language))}</figure>"
        + f"<p>{html.escape(result.mde_sentence(language))}</p>"
        + (f"<p>{html.escape(result.placebo_sentence(language))}</p>" if result.placebo else "")
        + _table(table, columns, language=language)
        + f"<div class='caveat'><strong>{caveat}</strong> {html.escape(result.caveat(language))}</div>"
        + "</section>"
    )


def _needs_section(needs: tuple[CapacityCurve, ...], effect: EffectEstimate | None, language: str) -> str:
    if not needs:
        return ""
    _ = translation(language).gettext
    items = "".join(f"<li>{html.escape(curve.sentence(language))}</li>" for curve in needs)
    how_long = _("How long to measure? {sentence}")
    duration = (f"<p>{how_long.format(sentence=html.escape(effect.mde_sentence(language)))}</p>"
                if effect is not None else "")
    heading = _("What a ward needs")
    intro = _("For a range of weekly budgets the rounds were planned with the route planner itself (variety on): "
              "which share of the hotspot score is then visited often enough.")
    return (f"<section><h2>{heading}</h2><p>{intro}</p>"
            f"<figure>{_svg(capacity_figure(needs, language=language))}</figure><ul>{items}</ul>{duration}</section>")


# --- HTML ---------------------------------------------------------------------------------------
def _number(value, language: str, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        _ = translation(language).gettext
        return _("yes") if value else _("no")
    if isinstance(value, int | float):  # in Dutch notation in either language, as the report always had them
        return format_number(value, 0 if isinstance(value, int) else digits, language="nl", grouping=True)
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: dict[str, str], *, language: str, percent: tuple[str, ...] = ()) -> str:
    if frame.empty:
        empty = translation(language).gettext("No data in this period.")
        return f"<p class='empty'>{empty}</p>"
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for record in frame.to_dict("records"):
        cells = []
        for key in columns:
            value = record.get(key)
            if key in percent and value is not None and not pd.isna(value):
                text = f"{float(value) * 100:.0f}%"
            else:
                text = _number(value, language)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(f"<td class='{'num' if numeric else ''}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "Segoe UI", Arial, sans-serif; font-size: 10.5pt; color: #1a1a1a; max-width: 190mm;
       margin: 0 auto; line-height: 1.4; }
h1 { font-size: 18pt; margin-bottom: 2mm; } h2 { font-size: 13pt; margin-top: 8mm; border-bottom: 1px solid #999; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
th { background: #eef2f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr, figure, .caveat { page-break-inside: avoid; break-inside: avoid; }
section { page-break-inside: auto; } h2 { page-break-after: avoid; break-after: avoid; }
figure { margin: 3mm 0; } figure svg { width: 100%; height: auto; }
.caveat { border-left: 4px solid #c77d00; background: #fff6e5; padding: 2mm 4mm; }
.verdict { font-weight: 600; } .empty { color: #777; font-style: italic; }
footer { margin-top: 10mm; font-size: 8pt; color: #666; }
@media print { a { color: inherit; text-decoration: none; } }
"""


def render_html(report: Report, *, language: str = "nl") -> str:
    """The report as one self-contained, printable HTML page (Dutch unless ``language`` says otherwise)."""
    _ = translation(language).gettext
    period = _("{first} to {last}").format(first=f"{report.start:%d-%m-%Y}",
                                           last=f"{report.end - timedelta(days=1):%d-%m-%Y}")
    unit = _(_PERIOD[report.freq])
    effect = report.effect
    ward, patrols, person_hours = _("Ward"), _("Patrols"), _("Person-hours")
    visited, walked = _("Hotspot score visited"), _("Streets walked")
    coverage_columns = {
        "ward": ward, "patrols": patrols, "person_hours": person_hours, "km": _("Km walked"),
        "hotspot_share_visited": visited, "street_share_walked": walked,
        "idle_hot_streets": _("Unvisited hot streets"), "hot_streets": _("Hot streets"),
        "revisit_median_days": _("Days between visits (median)"), "overdue_agreements": _("Agreements past due"),
    }
    shares = ("hotspot_share_visited", "street_share_walked")
    heading = {  # Babel reads no calls inside f-strings
        "summary": _("Summary per ward"), "coverage": _("Coverage per {period}").format(period=unit),
        "effort": _("Effort: person-hours per {period}").format(period=unit),
        "signals": _("Signals per {period}").format(period=unit), "agreements": _("Agreements"),
    }
    brought = _("What the hours brought (whole period; shares averaged over the periods):")
    no_agreements = _("No agreements recorded yet.")
    summary_intro = _(
        "Patrols walked, person-hours spent (team size × time walked) and what they covered. A hotspot counts as "
        "visited when the walked route passed within 50 m or there was a stop. Hot streets: the streets with the "
        "highest signal density (the top 10 percent of the street length); unvisited = not walked for more than "
        "4 weeks on {day}.").format(day=f"{report.end - timedelta(days=1):%d-%m-%Y}")
    sections = [
        f"<section><h2>{heading['summary']}</h2><p>{summary_intro}</p>"
        + _table(report.summary, coverage_columns, language=language, percent=shares)
        + "</section>",
        f"<section><h2>{heading['coverage']}</h2><figure>"
        + _line_chart(report.coverage, "street_share_walked",
                      title=_("Share of the street length walked per {period}").format(period=unit),
                      ylabel=_("streets walked"), language=language, percent=True)
        + "</figure><figure>"
        + _line_chart(report.coverage, "hotspot_share_visited",
                      title=_("Share of the hotspot score visited per {period}").format(period=unit),
                      ylabel=_("hotspot score visited"), language=language, percent=True)
        + "</figure></section>",
        f"<section><h2>{heading['effort']}</h2><figure>"
        + _line_chart(report.coverage, "person_hours", title=_("Person-hours per {period}").format(period=unit),
                      ylabel=_("person-hours"), language=language, bars=True)
        + f"</figure><p>{brought}</p>"
        + _table(report.capacity, {"ward": ward, "patrols": patrols, "person_hours": person_hours,
                                   "km": "Km", "km_per_person_hour": _("Km per person-hour"),
                                   "mean_hotspot_share_visited": visited, "mean_street_share_walked": walked},
                 language=language, percent=("mean_hotspot_share_visited", "mean_street_share_walked"))
        + "</section>",
        f"<section><h2>{heading['signals']}</h2><figure>"
        + _line_chart(report.signals, "signals",
                      title=_("Signals per {period} (without those found on patrol)").format(period=unit),
                      ylabel=_("signals"), language=language)
        + "</figure></section>",
    ]
    agreements = report.agreements
    open_counts = (agreements.groupby(["ward", "status"]).size().unstack(fill_value=0).reset_index()
                   if len(agreements) else pd.DataFrame())
    overdue = agreements[agreements["overdue"]] if len(agreements) else agreements
    past_due = _("Past due on {day}:").format(day=f"{report.today:%d-%m-%Y}")
    sections.append(
        f"<section><h2>{heading['agreements']}</h2>"
        + (_table(open_counts, {c: (ward if c == "ward" else c) for c in open_counts.columns}, language=language)
           if len(open_counts) else f"<p class='empty'>{no_agreements}</p>")
        + f"<p>{past_due}</p>"
        + _table(overdue, {"ward": ward, "what": _("What"), "role": _("Who (role)"), "due": _("Due"),
                           "status": "Status", "hotspot": _("Place")}, language=language)
        + "</section>"
    )
    sections.append(_effect_section(effect, language))
    sections.append(_needs_section(report.needs, effect.result, language))
    title = _("WAS report {period}").format(period=period)
    heading = _("Wijk en Agent Samen: report")
    meta = _("Period {period} · per {unit} · made with WAS Planner on {day}").format(
        period=period, unit=unit, day=f"{_time.today():%d-%m-%Y}")
    footer = _("Totals only: no names of participants, no notes, no places or descriptions of signals. Streets: "
               "{credits}.").format(credits="; ".join(report.street_credits))
    return (
        f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<h1>{heading}</h1><p class='meta'>{meta}</p>"
        + "".join(sections)
        + f"<footer>{footer}</footer></body></html>"
    )


def report_html(store, start: date, end: date, *, freq: str = "week", data_dir: str | Path | None = None,
                today: date | None = None) -> str:
    """The report of ``[start, end)`` as one printable HTML page (for a download button)."""
    return render_html(build_report(store, start, end, freq=freq, data_dir=data_dir, today=today))


@dataclass(frozen=True)
class ReportFiles:
    """What ``write_report`` wrote."""

    html: Path
    csv: tuple[Path, ...]

    def to_json(self) -> dict:
        return {"html": str(self.html), "csv": [str(p) for p in self.csv]}


def write_report(report: Report, out_dir: str | Path) -> ReportFiles:
    """Write ``rapport.html`` and the CSV tables into ``out_dir``."""
    folder = Path(out_dir)
    page = write_text(folder / "rapport.html", render_html(report))
    # Dutch Excel: ';' between cells and a decimal comma.
    tables = tuple(write_csv(frame, folder / f"{stem}.csv", decimal=",") for stem, frame in report.tables.items())
    log.info("report: wrote %s and %d tables", page, len(tables))
    return ReportFiles(html=page, csv=tables)
