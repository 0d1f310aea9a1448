"""The model card (in the style of the Dutch Algoritmeregister) and a DPIA template, both filled
with this installation's own settings and data.

``model_card(store)`` is Markdown: purpose, users, data and fields, method, the latest backtest on
the store's own signals (``latest_backtest``), limitations, privacy measures and contact.
``model_card_html`` renders it as one self-contained HTML page for the dashboard. ``dpia(store)``
is a template text for the municipality's data protection impact assessment (DPIA,
gegevensbeschermingseffectbeoordeling) with the actual retention period, k, roles and storage.
"""

from __future__ import annotations

import html
import logging
import math
import re
from datetime import datetime

import pandas as pd
from sqlalchemy.engine import make_url

from .. import settings
from .._errors import InputError
from .._time import utc_timestamp
from ..hotspots import HotspotParams, reference_time
from ..hotspots.calibration import Calibration
from ..hotspots.evaluate import FIXED_BANDWIDTHS_M, METHODS, BacktestParams, BacktestResult, backtest
from ..hotspots.tuning import installation_calibration
from ..signals.incidents import CATEGORIES, SOURCES
from ..storage.store import Store
from ..users import ROLES

log = logging.getLogger(__name__)

MIN_TRAIN = 50
"""Fewest training signals for the model card to report a backtest at all."""
MIN_TEST = 10
"""Fewest test signals (in the week after the split) for a backtest worth reporting."""


def backtest_split(incidents: pd.DataFrame, *, now: datetime | pd.Timestamp | None = None,
                   horizon_days: float = BacktestParams().horizon_days) -> pd.Timestamp:
    """Where the model card's backtest splits: ``horizon_days`` before ``now`` (default the
    latest signal), so the last full horizon is the test period."""
    end = reference_time(incidents) if now is None else utc_timestamp(now)
    return end - pd.Timedelta(days=horizon_days)


def latest_backtest(store: Store, *, now: datetime | pd.Timestamp | None = None) -> tuple[BacktestResult | None, str]:
    """The backtest on the store's own signals at ``backtest_split``, with the wards as study
    area, or ``None`` and the reason when there is too little data."""
    incidents = store.incidents()
    if len(incidents) == 0:
        return None, "er zijn nog geen signalen opgeslagen"
    if now is not None:
        incidents = incidents[pd.to_datetime(incidents["occurred_from"], utc=True) <= utc_timestamp(now)]
    split = backtest_split(incidents, now=now)
    wards = store.wards()
    try:
        result = backtest(incidents, split=split, wards=wards if len(wards) else None)
    except InputError as error:
        return None, f"te weinig gegevens voor een backtest ({error})"
    if result.n_train < MIN_TRAIN or result.n_test < MIN_TEST:
        return None, (f"te weinig gegevens voor een betrouwbare backtest: {result.n_train} trainingssignalen "
                      f"(minimaal {MIN_TRAIN}) en {result.n_test} testsignalen (minimaal {MIN_TEST})")
    return result, ""


def _num(value: float, language: str, digits: int = 3) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "nl" else text


def backtest_table(result: BacktestResult, *, language: str = "nl") -> str:
    """The backtest as a Markdown table: one row per method, hit rate and PAI per coverage."""
    keys = list(result.methods["planner"])
    chosen = _num(result.bandwidths_m["kde_cv"], language, 0)
    fixed = {f"kde_{h:g}m": f"KDE {_num(h, language, 0)} m" for h in FIXED_BANDWIDTHS_M}
    names = {
        "nl": {"planner": "WAS Planner", "naive_all": "naïef: tellingen hele trainingsperiode",
               "naive_4w": "naïef: tellingen laatste 4 weken", "kde_cv": f"KDE {chosen} m, gekozen door kruisvalidatie",
               **fixed, "kde_scott": "KDE, regel van Scott"},
        "en": {"planner": "WAS Planner", "naive_all": "naive: counts over the whole training period",
               "naive_4w": "naive: counts of the last 4 weeks", "kde_cv": f"KDE {chosen} m, chosen by cross-validation",
               **fixed, "kde_scott": "KDE, Scott's rule"},
    }[language]
    suffix = " (basislijn)" if language == "nl" else " (baseline)"
    head = "| " + ("methode" if language == "nl" else "method") + " | " + " | ".join(keys) + " |"
    lines = [head, "|" + "---|" * (len(keys) + 1)]
    for method in METHODS:
        values = result.methods[method]
        label = names[method] + ("" if method == "planner" else suffix)
        lines.append(f"| {label} | " + " | ".join(_num(values[k], language) for k in keys) + " |")
    return "\n".join(lines)


_FIELDS = {
    "nl": [
        ("occurred_from / occurred_to", "wanneer het gebeurde (een tijdstip of een tijdvak, bijv. 22:00–07:00)"),
        ("lat / lon", "waar (WGS84); na de bewaartermijn teruggebracht tot het midden van de wijk"),
        ("ward", "wijk (CBS-wijkcode)"),
        ("category", "soort signaal: " + ", ".join(v.replace("_", " ") for v in CATEGORIES.values())),
        ("source", "herkomst: " + ", ".join(v.replace("_", " ") for v in SOURCES.values()) + " (geen naam)"),
        ("on_patrol", "gevonden tijdens een surveillance (ja/nee)"),
        ("status", "open, in behandeling, opgelost"),
        ("description", "korte vrije tekst; geen namen of persoonsgegevens; alleen voor agent en beheerder; "
                        "gewist na de bewaartermijn; het algoritme gebruikt dit veld niet"),
    ],
    "en": [
        ("occurred_from / occurred_to", "when it happened (a moment or a window, e.g. 22:00–07:00)"),
        ("lat / lon", "where (WGS84); moved to the ward's centre after the retention period"),
        ("ward", "ward (CBS ward code)"),
        ("category", "kind of signal: " + ", ".join(c.replace("_", " ") for c in CATEGORIES)),
        ("source", "origin: " + ", ".join(s.replace("_", " ") for s in SOURCES) + " (no name)"),
        ("on_patrol", "found during a patrol (yes/no)"),
        ("status", "open, in progress, resolved"),
        ("description", "short free text; no names or personal data; officers and admins only; erased after the "
                        "retention period; the algorithm does not use it"),
    ],
}


def model_card(store: Store, *, now: datetime | pd.Timestamp | None = None, language: str = "nl") -> str:
    """The model card as Markdown (Dutch, or English with ``language="en"``), with the latest
    backtest on the store's own signals (``latest_backtest``)."""
    if language not in {"nl", "en"}:
        msg = f"language must be 'nl' or 'en', got {language!r}"
        raise InputError(msg)
    nl = language == "nl"
    calibration = installation_calibration(store)
    p = HotspotParams() if calibration is None else calibration.tune(HotspotParams())
    result, reason = latest_backtest(store, now=now)
    incidents = store.incidents()
    n_wards = len(store.wards())
    k = settings.PUBLIC_MIN_SIGNALS
    out = [
        "# WAS Planner: " + ("algoritmebeschrijving (modelkaart)" if nl else "algorithm description (model card)"),
        "",
        ("*In de stijl van het Algoritmeregister van de Nederlandse overheid. Gegenereerd op "
         if nl else "*In the style of the Dutch government's Algorithm Register. Generated on ")
        + pd.Timestamp.now(tz=settings.TIMEZONE).strftime("%Y-%m-%d") + ".*",
        "",
        "## " + ("Naam en doel" if nl else "Name and purpose"),
        "",
        ("WAS Planner helpt teams van *Wijk en Agent Samen* (bewoners en wijkagenten) om te zien waar en wanneer "
         "onveilige situaties en overlast in hun wijk zich opstapelen (hotspots), en plant daarlangs een "
         "wandelroute voor de surveillance. Het algoritme ondersteunt; het team beslist waar het loopt. Het doet "
         "geen uitspraken over personen." if nl else
         "WAS Planner helps *Wijk en Agent Samen* teams (residents and community officers) see where and when "
         "unsafe situations and nuisance pile up in their ward (hotspots), and plans a walking patrol past them. "
         "The algorithm supports; the team decides where it walks. It makes no statements about persons."),
        "",
        "## " + ("Gebruikers" if nl else "Users"),
        "",
        ("- bewoners (WAS-leden): alleen gebieden met minstens k signalen, nooit punten, beschrijvingen of bronnen\n"
         "- wijkagenten: ook punten, bronnen en beschrijvingen\n"
         "- gemeente: dekking en tellingen per wijk\n"
         "- beheerder: alles, inclusief accounts en het exportlogboek" if nl else
         "- residents (WAS members): only areas with at least k signals, never points, descriptions or sources\n"
         "- community officers: also points, sources and descriptions\n"
         "- municipality: coverage and counts per ward\n"
         "- admin: everything, including accounts and the export log"),
        "",
        "## " + ("Gegevens" if nl else "Data"),
        "",
        (f"Deze installatie bevat {len(incidents)} signalen in {n_wards} wijken" if nl
         else f"This installation holds {len(incidents)} signals in {n_wards} wards")
        + (f" ({_period(incidents)})." if len(incidents) else "."),
        ("Bronnen: meldingen van bewoners en WAS-leden, de wijkagent, de gemeente en politiecijfers; "
         "wijkgrenzen (CBS Wijk- en Buurtkaart); straten (© OpenStreetMap contributors). Velden van een signaal "
         "(geen enkel veld beschrijft een persoon):" if nl else
         "Sources: reports by residents and WAS members, the community officer, the municipality and police "
         "figures; ward boundaries (CBS); streets (© OpenStreetMap contributors). Fields of a signal (none "
         "describes a person):"),
        "",
        *[f"- `{name}`: {text}" for name, text in _FIELDS[language]],
        "",
        ("Een optioneel contactveld van de melder is alleen voor de beheerder zichtbaar, wordt na de "
         "bewaartermijn gewist en wordt door het algoritme nooit gebruikt." if nl else
         "An optional contact field of the reporter is visible to the admin only, erased after the retention "
         "period and never used by the algorithm."),
        "",
        "## " + ("Werking" if nl else "Method"),
        "",
        *(_method_nl(p) if nl else _method_en(p)),
        "",
        "## " + ("Afstemming op de eigen gegevens (kalibratie)" if nl else "Calibration on this installation's data"),
        "",
        *calibration_lines(calibration, language=language),
        *street_lines(store, language=language),
        "",
        "## " + ("Prestaties op de eigen gegevens (backtest)" if nl else "Performance on this installation's data "
                 "(backtest)"),
        "",
    ]
    if result is None:
        out.append(("Nog geen cijfers: " if nl else "No figures yet: ") + reason + ".")
    else:
        out += [
            (f"Getraind op de {result.n_train} signalen vóór {_day(result.split)}, getoetst op de {result.n_test} "
             f"signalen in de {BacktestParams().horizon_days:g} dagen daarna, in {result.n_cells} cellen van "
             "100 × 100 m. *Trefkans* (hit rate) = aandeel van de latere signalen in het aangewezen gebied; *PAI* = "
             "trefkans ÷ oppervlakteaandeel, bij 1, 5 en 10 % van de oppervlakte. Basislijnen op dezelfde cellen: "
             "naïeve tellingen per cel (hele trainingsperiode en laatste 4 weken; gelijke tellingen geordend op een "
             "KDE van 50 m, dan op celnummer) en kerndichtheid (KDE) van alle trainingssignalen, met de bandbreedte "
             "gekozen door kruisvalidatie op de trainingsperiode (de laatste weken voorspeld uit de weken ervoor), "
             "met vaste bandbreedtes en met de regel van Scott." if nl else
             f"Trained on the {result.n_train} signals before {_day(result.split)}, tested on the {result.n_test} "
             f"signals of the {BacktestParams().horizon_days:g} days after, in {result.n_cells} cells of 100 × 100 m. "
             "*Hit rate* = share of later signals inside the flagged area; *PAI* = hit rate ÷ area share, at 1, 5 "
             "and 10 % of the area. Baselines on the same cells: naive counts per cell (whole training period "
             "and last 4 weeks; equal counts ordered by a 50 m KDE, then by cell number) and kernel density (KDE) "
             "of all training signals, with the bandwidth chosen by cross-validation on the training period (the "
             "last weeks forecast from the weeks before), with fixed bandwidths and with Scott's rule."),
            "",
            backtest_table(result, language=language),
            "",
            *gain_lines(result, language=language),
            "",
            ("Eén week is een kleine steekproef: de cijfers schommelen van week tot week. Doet WAS Planner het niet "
             "beter dan de naïeve tellingen of een KDE, dan voegt het op deze gegevens weinig toe." if nl else
             "One week is a small sample: the figures vary from week to week. If WAS Planner does no better than "
             "the naive counts or a KDE, it adds little on this data."),
        ]
    out += [
        "",
        "## " + ("Bekende beperkingen" if nl else "Known limitations"),
        "",
        *(["- **Kleine aantallen**: een wijk heeft vaak maar tientallen signalen; één melding meer of minder "
           "verschuift de ranglijst. Een cluster van twee signalen is geen hotspot (minimaal "
           f"{p.min_signals}, op {p.min_days} verschillende dagen, en getoetst op toeval).",
           "- **Meldingsbias**: het algoritme ziet alleen wat gemeld of gevonden wordt. Waar meer mensen melden of "
           "vaker gesurveilleerd wordt, lijkt het onveiliger. Signalen die tijdens surveillance gevonden zijn "
           f"tellen daarom voor {_g(p.patrol_weight)} (terugkoppellus), en de backtest kan met en zonder die "
           "signalen draaien (`was-planner evaluate --patrol-signals both`).",
           "- **Geen oorzakelijke claim**: een hotspot zegt waar signalen samenkomen, niet waarom, en niet dat "
           "surveillance ze vermindert. Effecten van het programma zijn nooit geëvalueerd.",
           "- **Tijd**: meldingen met alleen een tijdvak worden over dat tijdvak verdeeld; de piekuren zijn "
           "daardoor een schatting."] if nl else
          ["- **Small counts**: a ward often has only tens of signals; one report more or less moves the ranking. "
           f"A cluster of two signals is no hotspot (at least {p.min_signals}, on {p.min_days} different days, "
           "and tested against chance).",
           "- **Reporting bias**: the algorithm sees only what is reported or found. Places where more people "
           "report, or that are patrolled more, look less safe. Signals found on patrol therefore count "
           f"{p.patrol_weight:g} (feedback loop), and the backtest can run with and without them "
           "(`was-planner evaluate --patrol-signals both`).",
           "- **No causal claim**: a hotspot says where signals gather, not why, nor that patrols reduce them. "
           "The programme's effects were never evaluated.",
           "- **Time**: reports known only as a window are spread over it; peak hours are an estimate."]),
        "",
        "## Privacy",
        "",
        *([f"- **k-drempel**: bewoners zien alleen gebieden (rasters van {p.public_cell_m:g} m) met minstens "
           f"{k} signalen, en uitleg zonder bronnen, zonder aantallen onder {k} en met data per maand.",
           f"- **Bewaartermijn**: na {settings.retention_period()} verliezen signalen beschrijving, melder en "
           "extern nummer en gaat de locatie terug naar het midden van de wijk (`was-planner retention apply`).",
           "- **Rollen**: " + ", ".join(ROLES) + "; wat elke rol mag zien wordt in de kern afgedwongen.",
           "- **Logboek**: elke inzage van punten door een agent, elke export of download van punten en elke "
           "accountwijziging wordt vastgelegd (wie, waarvandaan, wanneer, formaat, hoeveel), in een hashketen die "
           "`was-planner audit verify` controleert.",
           "- Geen foto's, geen namen, geen profilering van personen."] if nl else
          [f"- **k-threshold**: residents see only areas ({p.public_cell_m:g} m grid cells) with at least {k} "
           f"signals, and explanations without sources, without counts under {k} and with dates by month.",
           f"- **Retention**: after {settings.retention_period()} signals lose description, reporter and external "
           "id and their location moves to the ward's centre (`was-planner retention apply`).",
           "- **Roles**: " + ", ".join(ROLES) + "; what each role may see is enforced in the core.",
           "- **Audit log**: every officer's view of points, every export or download of points and every "
           "account change is logged (who, from where, when, format, how many), in a hash chain that "
           "`was-planner audit verify` checks.",
           "- No photos, no names, no profiling of persons."]),
        "",
        "## Contact",
        "",
        settings.contact(),
        "",
    ]
    return "\n".join(out)


def calibration_lines(calibration: Calibration | None, *, language: str = "nl") -> list[str]:
    """What the calibration chose for this installation, or that the literature defaults are used and why."""
    nl = language == "nl"
    if calibration is None:
        return ["Nog geen signalen: de standaardwaarden uit de literatuur gelden." if nl else
                "No signals yet: the literature defaults apply."]
    if calibration.fallback:
        return [("**Te weinig geschiedenis om af te stemmen** (" if nl else "**Too little history to calibrate** (")
                + calibration.reason + ("): de standaardwaarden uit de literatuur gelden (halfwaardetijd 30 dagen, "
                "bandbreedte 100 m, near-repeat aan)." if nl else "): the literature defaults apply (half-life 30 "
                "days, bandwidth 100 m, near repeat on).")]
    c = calibration.chosen
    n = calibration.n_candidates, calibration.n_folds, calibration.fold_test_signals
    if nl:
        life = "geen (de hele geschiedenis telt gelijk)" if math.isinf(c.half_life_days) else (
            f"{_g(c.half_life_days)} dagen")
        kernel = "telling per cel van 100 m" if c.bandwidth_m == 0 else f"{_g(c.bandwidth_m)} m"
        return [
            "De kaart weegt signalen zoals een backtest op de eigen signalen van deze installatie het beste vond: "
            "elk van de laatste perioden is voorspeld uit alleen de signalen ervóór, en de instelling die de meeste "
            f"latere signalen in 1, 5 en 10 % van het gebied ving, wint. Gekozen uit {n[0]} kandidaten op {n[1]} "
            f"perioden ({n[2]} toetssignalen):",
            "",
            f"- halfwaardetijd van recentheid: {life}",
            f"- aandeel lange-termijntellingen: {_num(1 - c.blend, language, 2)} (elk signaal houdt "
            f"{_num(calibration.recency_floor, language, 2)} van zijn gewicht, hoe oud ook)",
            f"- ruimtelijke bandbreedte van de voorspelkaart: {kernel}",
            f"- near-repeat: {'aan' if c.near_repeat else 'uit'}",
            f"- opgeloste signalen: {'tellen mee' if c.resolved_weight else 'tellen niet'}",
        ]
    life = "none (all history alike)" if math.isinf(c.half_life_days) else f"{c.half_life_days:g} days"
    kernel = "count per 100 m cell" if c.bandwidth_m == 0 else f"{c.bandwidth_m:g} m"
    return [
        "The map weighs signals as a backtest on this installation's own signals found best: each of the last "
        "periods was forecast from only the signals before it, and the setting that caught the most later signals "
        f"in 1, 5 and 10 % of the area wins. Chosen from {n[0]} candidates on {n[1]} periods ({n[2]} test signals):",
        "",
        f"- recency half-life: {life}",
        f"- share of long-term counts: {1 - c.blend:.2f} (each signal keeps {calibration.recency_floor:.2f} of its "
        "weight, however old)",
        f"- spatial bandwidth of the forecast map: {kernel}",
        f"- near repeat: {'on' if c.near_repeat else 'off'}",
        f"- resolved signals: {'count' if c.resolved_weight else 'do not count'}",
    ]


def street_lines(store: Store, *, language: str = "nl") -> list[str]:
    """The kept hot-streets choice (``tuning.installation_street_calibration``), when there is one."""
    from ..hotspots.tuning import street_calibration_from_json

    kept = store.calibration()
    streets = kept[1].get("streets") if kept is not None and kept[0] == store.signal_fingerprint() else None
    if streets is None:
        return []
    label = "hotstraten (per km straat)" if language == "nl" else "hot streets (per km of street)"
    return [f"- {label}: {street_calibration_from_json(streets).summary()}"]


def gain_lines(result: BacktestResult, *, language: str = "nl") -> list[str]:
    """PAI of the planner ÷ PAI of each baseline per coverage, and where it does not win."""
    nl = language == "nl"
    coverages = [k.removeprefix("pai@") for k in result.methods["planner"] if k.startswith("pai@")]
    head = ("| " + ("winst t.o.v." if nl else "gain over") + " | "
            + " | ".join(f"PAI@{c}" for c in coverages) + " |")
    lines = [("Winst van WAS Planner = zijn PAI ÷ de PAI van de basislijn (boven 1: beter):" if nl else
              "Gain of WAS Planner = its PAI ÷ the baseline's PAI (above 1: better):"), "", head,
             "|" + "---|" * (len(coverages) + 1)]
    losses = []
    for method in METHODS[1:]:
        ratios = []
        for c in coverages:
            ours, theirs = result.methods["planner"][f"pai@{c}"], result.methods[method][f"pai@{c}"]
            ratios.append(ours / theirs if theirs > 0 else math.inf)
            if ours < theirs:
                losses.append(f"{method} @{c}")
        lines.append(f"| {method} | " + " | ".join("∞" if math.isinf(r) else _num(r, language, 2) for r in ratios)
                     + " |")
    lines.append("")
    lines.append(("Verliest van: " + ", ".join(losses) + "." if losses else "Verliest van geen enkele basislijn.")
                 if nl else ("Loses to: " + ", ".join(losses) + "." if losses else "Loses to no baseline."))
    return lines


def _method_nl(p: HotspotParams) -> list[str]:
    return [
        f"1. **Gewicht per signaal** = recentheid (halveert elke {_g(p.half_life_days)} dagen"
        + (f"; een deel {_g(round(p.recency_floor, 2))} vervalt nooit" if p.recency_floor > 0 else "")
        + ") × categoriegewicht "
        "(door het wijkteam te kiezen, standaard 1) × relevantie voor het tijdvak van de ronde (aoristisch: een "
        "melding 'tussen 22 en 7 uur' wordt over dat tijdvak verdeeld) × herkomst (per bron instelbaar, "
        f"standaard 1; gevonden tijdens surveillance × {_g(p.patrol_weight)}). "
        + ("Opgeloste signalen tellen niet." if p.resolved_weight == 0 else
           f"Opgeloste signalen tellen × {_g(p.resolved_weight)} (de kalibratie vond dat een opgelost probleem de "
           "plek niet veiliger voorspelt)."),
        f"2. **Clusteren** per wijk met DBSCAN ({_g(p.eps_m)} m, minstens {p.min_signals} signalen en "
        f"{_g(p.density_factor)} × de gemiddelde dichtheid van de wijk).",
        "3. **Score** van een hotspot = som van de gewichten"
        + (f" + near-repeat (na een inbraak of autokraak blijft het risico binnen {_g(p.near_repeat_m)} m "
           f"{_g(p.near_repeat_days)} dagen verhoogd)" if p.near_repeat_weight > 0 else
           " (near-repeat staat uit: de kalibratie vond dat het de voorspelling hier niet verbetert)")
        + ". Elke hotspot krijgt een "
        "uitleg en een opsplitsing van zijn score in delen (aantal, recentheid, categorie, tijdvak, herkomst, "
        "near-repeat) die precies optellen tot de score (Shapley-verdeling).",
        f"4. **Toets op toeval**: Monte-Carlo-scan met {p.permutations} willekeurige spreidingen (α = {_g(p.alpha)}).",
        "5. **Route**: een oriëntatieloopprobleem (zoveel mogelijk score binnen de tijd, stops van 10 minuten) "
        "over het voetpadennetwerk van OpenStreetMap; elke stop zegt waarom hij erin zit en de beste hotspot die "
        "afviel zegt waarom.",
    ]


def _method_en(p: HotspotParams) -> list[str]:
    return [
        f"1. **Weight per signal** = recency (halves every {p.half_life_days:g} days"
        + (f"; a share of {p.recency_floor:.2f} never fades" if p.recency_floor > 0 else "")
        + ") × category weight (set by "
        "the ward team, default 1) × relevance for the patrol's time window (aoristic: a report 'between 22 and "
        "7 h' is spread over that window) × origin (per source, default 1; found on patrol × "
        f"{p.patrol_weight:g}). "
        + ("Resolved signals do not count." if p.resolved_weight == 0 else
           f"Resolved signals count × {p.resolved_weight:g} (the calibration found that a handled problem does not "
           "forecast a safer place)."),
        f"2. **Clustering** per ward with DBSCAN ({p.eps_m:g} m, at least {p.min_signals} signals and "
        f"{p.density_factor:g} × the ward's average density).",
        "3. **Score** of a hotspot = sum of the weights"
        + (f" + near repeat (after a burglary or car crime the risk within {p.near_repeat_m:g} m stays raised for "
           f"{p.near_repeat_days:g} days)" if p.near_repeat_weight > 0 else
           " (near repeat is off: the calibration found it does not improve the forecast here)")
        + ". Every hotspot carries an "
        "explanation and its score split into parts (count, recency, category, time window, origin, near "
        "repeat) that add up to the score exactly (Shapley split).",
        f"4. **Test against chance**: Monte Carlo scan with {p.permutations} random spreads (α = {p.alpha:g}).",
        "5. **Route**: an orienteering problem (most score within the time, 10-minute stops) on the OpenStreetMap "
        "footpath network; every stop says why it is on the route and the best hotspot left out says why.",
    ]


def _g(value: float) -> str:
    """A number in Dutch notation (decimal comma)."""
    return f"{value:g}".replace(".", ",")


def _day(stamp: pd.Timestamp) -> str:
    return pd.Timestamp(stamp).tz_convert(settings.TIMEZONE).strftime("%Y-%m-%d %H:%M")


def _period(incidents: pd.DataFrame) -> str:
    start = pd.to_datetime(incidents["occurred_from"], utc=True).min().tz_convert(settings.TIMEZONE)
    end = reference_time(incidents).tz_convert(settings.TIMEZONE)
    return f"{start:%Y-%m} – {end:%Y-%m}"


def markdown_to_html(markdown: str, *, title: str) -> str:
    """A small Markdown subset (headings, lists, tables, bold, italics, code) as one HTML page."""
    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
        return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)

    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i]) <= set("|-: "):
                    rows.append([cell.strip() for cell in lines[i].strip("|").split("|")])
                i += 1
            head, *rest = rows
            body.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rest)
                        + "</tbody></table>")
            continue
        if re.match(r"^(- |\d+\. )", line):
            ordered = line[0].isdigit()
            items = []
            while i < len(lines) and re.match(r"^(- |\d+\. )", lines[i]):
                items.append(re.sub(r"^(- |\d+\. )", "", lines[i]))
                i += 1
            tag = "ol" if ordered else "ul"
            body.append(f"<{tag}>" + "".join(f"<li>{inline(item)}</li>" for item in items) + f"</{tag}>")
            continue
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        if heading:
            level = len(heading.group(1))
            body.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
        i += 1
    style = ("body{font-family:system-ui,Arial,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
             "line-height:1.45;color:#111}table{border-collapse:collapse}th,td{border:1px solid #999;"
             "padding:.2rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}"
             "code{background:#eee;padding:0 .2rem}")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def model_card_html(store: Store, *, now: datetime | pd.Timestamp | None = None, language: str = "nl") -> str:
    """``model_card`` as one self-contained HTML page (for the dashboard's footer link)."""
    card = model_card(store, now=now, language=language)
    page = markdown_to_html(card, title="WAS Planner: modelkaart" if language == "nl" else "WAS Planner: model card")
    return page.replace("<html>", f'<html lang="{language}">', 1)


def storage_description(url: str) -> str:
    """Where the data lives, never with a password: the SQLite file, or the PostgreSQL host and database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite-bestand {parsed.database or '(in het geheugen)'} op de server van deze installatie"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL/PostGIS-database {parsed.database or '?'} op {host}{port} (gebruiker {parsed.username or '?'})"


def dpia(store: Store) -> str:
    """A DPIA template (Dutch Markdown) filled with this installation's retention period, k,
    roles and number of accounts per role, and where the data is stored. Parts that only the
    municipality can answer are marked ``[in te vullen]``."""
    from ..users import list_users

    users = list_users(store)
    per_role = {role: sum(1 for u in users if u["role"] == role and not u["disabled"]) for role in ROLES}
    disabled = sum(1 for u in users if u["disabled"])
    incidents = store.incidents()
    roles = "\n".join(f"- {role}: {per_role[role]} actieve account(s)" for role in ROLES)
    accounts = (roles + (f"\n- uitgeschakeld: {disabled}" if disabled else "")) if users else \
        "- nog geen accounts: iedereen met toegang tot de server gebruikt de CLI en het dashboard zonder login " \
        "[maak accounts aan met `was-planner users add`]"
    k = settings.PUBLIC_MIN_SIGNALS
    return "\n".join([
        "# DPIA WAS Planner (gegevensbeschermingseffectbeoordeling) — sjabloon",
        "",
        "*Ingevuld met de instellingen van deze installatie op "
        + pd.Timestamp.now(tz=settings.TIMEZONE).strftime("%Y-%m-%d") + ". Controleer en vul aan waar "
        "`[in te vullen]` staat.*",
        "",
        "## 1. Verwerking",
        "",
        "- Doel: wijkteams van Wijk en Agent Samen helpen zien waar en wanneer onveilige situaties en overlast "
        "zich opstapelen en een surveillanceroute plannen. Geen besluiten over personen.",
        "- Verwerkingsverantwoordelijke: [in te vullen: gemeente / afdeling]",
        f"- Contact: {settings.contact()}",
        "- Grondslag: [in te vullen: bijv. taak van algemeen belang (AVG art. 6 lid 1 sub e); politiegegevens "
        "vallen onder de Wet politiegegevens]",
        "",
        "## 2. Gegevens",
        "",
        f"- Signalen nu opgeslagen: {len(incidents)}",
        "- Velden: tijdstip of tijdvak, locatie, wijk, categorie, herkomst (soort bron, geen naam), gevonden "
        "tijdens surveillance, status, korte beschrijving (geen persoonsgegevens toegestaan), optioneel een "
        "contactveld van de melder (alleen beheerder).",
        "- Bijzondere of strafrechtelijke persoonsgegevens: niet beoogd; vrije tekst kan ze per ongeluk bevatten "
        "[in te vullen: hoe wordt dit gecontroleerd]",
        "",
        "## 3. Opslag en toegang",
        "",
        f"- Opslag: {storage_description(store.url)}",
        "- Rollen en accounts:",
        accounts,
        f"- Bewoners zien alleen gebieden met minstens k = {k} signalen, nooit punten, bronnen of beschrijvingen.",
        "- Export van ruwe signalen alleen door wijkagent of beheerder, altijd in het exportlogboek.",
        "",
        "## 4. Bewaartermijn",
        "",
        f"- Bewaartermijn: {settings.retention_period()} (instelling WAS_RETENTION). Daarna worden beschrijving, "
        "melder en extern nummer gewist en gaat de locatie naar het midden van de wijk (`was-planner retention "
        "apply`; [in te vullen: wie draait dit en hoe vaak]).",
        "",
        "## 5. Risico's en maatregelen",
        "",
        "| risico | maatregel |",
        "|---|---|",
        f"| herleiding van een melder of melding uit de kaart | k-drempel {k}, rastergebieden, data per maand, "
        "geen bronnen in de uitleg voor bewoners |",
        "| terugkoppellus: surveillance maakt plekken 'heter' | signalen gevonden tijdens surveillance wegen "
        f"{_g(HotspotParams().patrol_weight)}; backtest met en zonder |",
        "| stigmatisering van een buurt | uitleg per hotspot, modelkaart openbaar, geen oorzakelijke claims |",
        "| onbevoegde toegang | rollen, argon2-wachtwoorden, exportlogboek [in te vullen: serverbeveiliging] |",
        "| te lang bewaren | automatische anonimisering na de bewaartermijn |",
        "",
        "## 6. Conclusie",
        "",
        "[in te vullen door de functionaris gegevensbescherming]",
        "",
    ])
