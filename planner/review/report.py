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
from .._time import aware
from ..output import write_csv, write_text
from .agreements import AGREEMENT_STATUSES, list_agreements
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
    local = incidents["occurred_from"].dt.tz_convert(settings.TIMEZONE).dt.date
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
        [{**a.to_json(), "status": AGREEMENT_STATUSES[a.status], "overdue": a.is_overdue(today)}
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
        capacity=capacity_table(coverage), signals=signals_per_period(store, start, end, freq=freq),
        agreements=agreements, effect=effect, today=today, needs=tuple(curves),
    )


# --- charts -------------------------------------------------------------------------------------
def _svg(figure) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "was-planner"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _line_chart(table: pd.DataFrame, value: str, *, title: str, ylabel: str, percent: bool = False,
                bars: bool = False) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    if table.empty:
        axes.text(0.5, 0.5, "geen gegevens", ha="center", va="center", transform=axes.transAxes)
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

    nl = language == "nl"
    study = result.event_study
    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    x = study["relative"].to_numpy()
    axes.fill_between(x, study["null_low"] - 1, study["null_high"] - 1, color="#bbbbbb", alpha=0.5,
                      label="zo ver wijkt toeval af (95%)" if nl else "how far chance strays (95%)")
    axes.plot(x, study["estimate"] - 1, marker="o", markersize=4, color="#1f5fa8",
              label="meer surveillance t.o.v. vergelijking" if nl else "more patrols vs comparison")
    axes.axhline(0, color="#444", linewidth=0.8)
    axes.axvline(-0.5, color="#c77d00", linestyle="--", linewidth=1,
                 label="start meer surveillance" if nl else "more patrols from here")
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    unit = {"week": ("weken", "weeks"), "month": ("maanden", "months"), "day": ("dagen", "days"),
            "year": ("jaren", "years")}[result.period][0 if nl else 1]
    axes.set_xlabel(f"{unit} t.o.v. de start" if nl else f"{unit} from the start", fontsize=8)
    axes.set_title("Verschil per periode (event study)" if nl else "Difference per period (event study)",
                   fontsize=10, loc="left")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.22), ncols=3, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure


def capacity_figure(curves: tuple[CapacityCurve, ...], *, language: str = "nl"):
    """Per ward, weekly person-hours against the share of the hotspot score visited often
    enough, with the target line."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    nl = language == "nl"
    figure = Figure(figsize=(7.2, 2.8))
    axes = figure.subplots()
    for curve in curves:
        points = curve.to_json()["curve"]
        axes.plot([p["person_hours_per_week"] for p in points], [p["score_share"] for p in points], marker="o",
                  markersize=3, label=curve.ward)
    if curves:
        axes.axhline(curves[0].params.target_share, color="#c77d00", linestyle="--", linewidth=1,
                     label="doel" if nl else "target")
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("persoonsuren per week" if nl else "person-hours per week", fontsize=8)
    visits = curves[0].params.visits_per_week if curves else 2
    axes.set_title(f"Hotspotscore minstens {visits}× per week bezocht" if nl
                   else f"Hotspot score visited at least {visits}× a week", fontsize=10, loc="left")
    axes.legend(fontsize=7, ncols=min(4, len(curves) + 1), loc="lower right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure


def _effect_section(effect: EffectReview) -> str:
    result = effect.result
    head = "<section><h2>Effect: misdaad en signalen voor en na meer surveillance</h2>"
    if result is None:
        return (head + f"<p class='empty'>Geen effectmeting mogelijk: {html.escape(effect.note)}</p>"
                f"<div class='caveat'><strong>Kanttekening.</strong> {html.escape(effect.caveat('nl'))}</div>"
                "</section>")
    what = "geregistreerde misdrijven" if result.outcome == "registered" else "signalen (niet tijdens surveillance)"
    table = result.table.assign(group=result.table["treated"].map({True: "meer surveillance",
                                                                   False: "vergelijking"}))
    columns = {"ward": "Wijk", "group": "Groep", "before": "Gemiddeld voor", "after": "Gemiddeld na"}
    if "hours_per_week_before" in table:
        columns |= {"hours_per_week_before": "Uren/week voor", "hours_per_week_after": "Uren/week na"}
    return (
        head
        + f"<p>Uitkomst: {what} per {_PERIOD_NL.get(result.period, result.period)}, voor en vanaf "
          f"{result.split:%d-%m-%Y}. Methode: verschil-in-verschillen met vaste effecten voor wijk en periode "
          "(Poisson), getoetst door herverdeling: dezelfde berekening met de extra surveillance bij andere "
          "wijken.</p>"
        + f"<p class='verdict'>{html.escape(result.verdict('nl'))}</p>"
        + f"<figure>{_svg(event_study_figure(result, language='nl'))}</figure>"
        + f"<p>{html.escape(result.mde_sentence('nl'))}</p>"
        + (f"<p>{html.escape(result.placebo_sentence('nl'))}</p>" if result.placebo else "")
        + _table(table, columns)
        + f"<div class='caveat'><strong>Kanttekening.</strong> {html.escape(result.caveat('nl'))}</div>"
        + "</section>"
    )


def _needs_section(needs: tuple[CapacityCurve, ...], effect: EffectEstimate | None) -> str:
    if not needs:
        return ""
    items = "".join(f"<li>{html.escape(curve.sentence('nl'))}</li>" for curve in needs)
    duration = (f"<p>Hoe lang meten? {html.escape(effect.mde_sentence('nl'))}</p>" if effect is not None else "")
    return ("<section><h2>Wat een wijk nodig heeft</h2><p>Voor een reeks weekbudgetten zijn de rondes met de "
            "routeplanner zelf gepland (afwisseling aan): welk deel van de hotspotscore dan vaak genoeg bezocht "
            "wordt.</p>"
            f"<figure>{_svg(capacity_figure(needs, language='nl'))}</figure><ul>{items}</ul>{duration}</section>")


# --- HTML ---------------------------------------------------------------------------------------
def _number(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: dict[str, str], *, percent: tuple[str, ...] = ()) -> str:
    if frame.empty:
        return "<p class='empty'>Geen gegevens in deze periode.</p>"
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for record in frame.to_dict("records"):
        cells = []
        for key in columns:
            value = record.get(key)
            if key in percent and value is not None and not pd.isna(value):
                text = f"{float(value) * 100:.0f}%"
            else:
                text = _number(value)
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


def render_html(report: Report) -> str:
    """The report as one self-contained, printable HTML page (Dutch)."""
    period = f"{report.start:%d-%m-%Y} t/m {report.end - timedelta(days=1):%d-%m-%Y}"
    unit = _PERIOD_NL[report.freq]
    effect = report.effect
    coverage_columns = {
        "ward": "Wijk", "patrols": "Rondes", "person_hours": "Persoonsuren", "km": "Km gelopen",
        "hotspot_share_visited": "Hotspotscore bezocht", "street_share_walked": "Straten gelopen",
        "idle_hot_streets": "Onbezochte hete straten", "hot_streets": "Hete straten",
        "revisit_median_days": "Dagen tussen bezoeken (mediaan)", "overdue_agreements": "Afspraken over datum",
    }
    sections = [
        "<section><h2>Samenvatting per wijk</h2>"
        "<p>Gelopen rondes, ingezette persoonsuren (teamgrootte × gelopen tijd) en wat ze afdekten. Een hotspot "
        "telt als bezocht als de gelopen route er binnen 50 m langs kwam of er een stop was. Hete straten: de "
        "straten met de hoogste signaaldichtheid (10% van de straatlengte); onbezocht = meer dan "
        f"4 weken niet gelopen op {report.end - timedelta(days=1):%d-%m-%Y}.</p>"
        + _table(report.summary, coverage_columns, percent=("hotspot_share_visited", "street_share_walked"))
        + "</section>",
        f"<section><h2>Dekking per {unit}</h2><figure>"
        + _line_chart(report.coverage, "street_share_walked", title=f"Aandeel straatlengte gelopen per {unit}",
                      ylabel="straten gelopen", percent=True)
        + "</figure><figure>"
        + _line_chart(report.coverage, "hotspot_share_visited", title=f"Aandeel hotspotscore bezocht per {unit}",
                      ylabel="hotspotscore bezocht", percent=True)
        + "</figure></section>",
        f"<section><h2>Inzet: persoonsuren per {unit}</h2><figure>"
        + _line_chart(report.coverage, "person_hours", title=f"Persoonsuren per {unit}", ylabel="persoonsuren",
                      bars=True)
        + "</figure><p>Wat de uren opleverden (hele periode; aandelen gemiddeld over de perioden):</p>"
        + _table(report.capacity, {"ward": "Wijk", "patrols": "Rondes", "person_hours": "Persoonsuren",
                                   "km": "Km", "km_per_person_hour": "Km per persoonsuur",
                                   "hotspot_share_visited": "Hotspotscore bezocht",
                                   "street_share_walked": "Straten gelopen"},
                 percent=("hotspot_share_visited", "street_share_walked"))
        + "</section>",
        f"<section><h2>Signalen per {unit}</h2><figure>"
        + _line_chart(report.signals, "signals", title=f"Signalen per {unit} (zonder tijdens surveillance ontdekte)",
                      ylabel="signalen")
        + "</figure></section>",
    ]
    agreements = report.agreements
    open_counts = (agreements.groupby(["ward", "status"]).size().unstack(fill_value=0).reset_index()
                   if len(agreements) else pd.DataFrame())
    overdue = agreements[agreements["overdue"]] if len(agreements) else agreements
    sections.append(
        "<section><h2>Afspraken</h2>"
        + (_table(open_counts, {c: ("Wijk" if c == "ward" else c) for c in open_counts.columns})
           if len(open_counts) else "<p class='empty'>Nog geen afspraken vastgelegd.</p>")
        + f"<p>Over datum op {report.today:%d-%m-%Y}:</p>"
        + _table(overdue, {"ward": "Wijk", "what": "Wat", "role": "Wie (rol)", "due": "Uiterlijk",
                           "status": "Status", "hotspot": "Plek"})
        + "</section>"
    )
    sections.append(_effect_section(effect))
    sections.append(_needs_section(report.needs, effect.result))
    return (
        "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'>"
        f"<title>WAS-rapportage {period}</title><style>{_CSS}</style></head><body>"
        f"<h1>Wijk en Agent Samen: rapportage</h1><p class='meta'>Periode {period} · per {unit} · "
        f"gemaakt met WAS Planner op {_time.today():%d-%m-%Y}</p>"
        + "".join(sections)
        + "<footer>Alleen totalen: geen namen van deelnemers, geen notities, geen locaties of omschrijvingen van "
          "signalen. Straten: © OpenStreetMap-bijdragers.</footer></body></html>"
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
