"""Exports of a planned patrol: GPX for phones, GeoJSON for GIS, a printable one-page briefing.

``plan_to_gpx`` writes GPX 1.1 (each team's walk as a track, stops as named waypoints) that
OsmAnd and Organic Maps open; ``plan_to_geojson`` a WGS84 FeatureCollection; ``briefing_html``
a self-contained HTML page that prints on one A4: a map drawn from the plan itself as inline SVG
(no tiles, no internet), the numbered stops with arrival, dwell and what to look for, the totals,
a privacy note and the OpenStreetMap attribution. Every text is escaped.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gpxpy
import gpxpy.gpx
import shapely

from .._errors import DataNotFoundError, InputError
from .._time import from_utc_naive
from ..i18n import N_, explanation_field, format_number, has_watch_points, translation, watch_points

if TYPE_CHECKING:
    from .routes import Plan, Stop


TEAM_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
"""Okabe–Ito colours (readable with colour blindness); dash patterns tell teams apart in grey."""
TEAM_DASHES = ("", "10 5", "3 4", "12 4 3 4", "6 3", "2 2", "14 3")

NO_STOPS = N_("No stops planned: the time available is too short to reach a target, or there are no targets. "
              "Walk a round from the start.")
ALL_TAKEN = N_("No stops: every reachable target is already on another team's route. Walk your own round through "
               "the ward or join that team.")
PRIVACY = N_("Privacy: this briefing holds no names of reporters or residents and no single reports, only areas and "
             "streets. Write no names or personal details on this paper, take no photos of people, and hand it in "
             "or destroy it afterwards.")

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("was-planner")
    except PackageNotFoundError:  # running from a source tree
        return "dev"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def what_to_look_for(categories: tuple[str, ...] | list[str], *, language: str = "nl") -> str:
    """What to look for at a stop with these signal categories (most frequent first), as one
    sentence of the watch points of the first two categories (``i18n.watch_points``)."""
    known = [c for c in dict.fromkeys(categories) if has_watch_points(c)][:2] or ["other"]
    return translation(language).gettext("Look for: {points}.").format(
        points=watch_points(known, language=language))


def _n_stops(n: int, language: str) -> str:
    return translation(language).ngettext("{n} stop", "{n} stops", n).format(n=n)


def _stop_label(team: int, stop: Stop, n_teams: int, language: str) -> str:
    prefix = f"T{team} " if n_teams > 1 else ""
    return f"{prefix}{stop.number}. {stop.label(language)}"


# --- GPX and GeoJSON ------------------------------------------------------------------------------


def plan_to_gpx(plan: Plan, *, name: str, language: str = "nl") -> str:
    """GPX 1.1 of a plan: each team's walk as a track ("Team 1", ...), the start, the end (when
    not back at the start) and every stop as a named waypoint ("1. Hotspot 3 (jongerenoverlast)";
    in English with ``language="en"``) with what to look for."""
    _ = translation(language).gettext
    gpx = gpxpy.gpx.GPX()
    gpx.name = name
    gpx.creator = f"WAS Planner {_version()}"
    gpx.description = (
        f"{len(plan.teams)} team(s), {plan.budget_min:g} min; route data {plan.attribution}"
    )
    start_lon, start_lat = plan.start_lonlat
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
        latitude=start_lat, longitude=start_lon, name=f"Start: {plan.start_label(language)}", symbol="Flag, Blue",
        type="start",
    ))
    if plan.end_lonlat is not None:
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
            latitude=plan.end_lonlat[1], longitude=plan.end_lonlat[0], name=_("End"), symbol="Flag, Green",
            type="end",
        ))
    for t, team in enumerate(plan.teams, 1):
        track = gpxpy.gpx.GPXTrack(
            name=f"Team {t}",
            description=f"{team.length_m / 1000:.2f} km, {team.duration_min:.0f} min, "
            f"{_n_stops(len(team.stops), language)}",
        )
        segment = gpxpy.gpx.GPXTrackSegment(
            [gpxpy.gpx.GPXTrackPoint(latitude=lat, longitude=lon) for lon, lat in team.path_lonlat]
        )
        track.segments.append(segment)
        gpx.tracks.append(track)
        for stop in team.stops:
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(
                latitude=stop.lat, longitude=stop.lon, name=_stop_label(t, stop, len(plan.teams), language),
                description=_("+{arrive:.0f} min, stay {dwell:.0f} min. {look_for}").format(
                    arrive=stop.arrive_min, dwell=stop.dwell_min,
                    look_for=what_to_look_for(stop.categories, language=language)),
                symbol="Flag, Red", type="stop",
            ))
    return gpx.to_xml(version="1.1")


@dataclass(frozen=True)
class GpxLine:
    """A track segment or a route of a GPX file: its points in order and their times."""

    kind: str
    """``track`` (a segment of one) or ``route``."""
    lonlat: tuple[tuple[float, float], ...]
    times: tuple[datetime | None, ...]
    """Timezone-aware (a GPX time without a zone is UTC, as the format says); None where a point has none."""


def read_gpx(data: str | bytes, *, name: str) -> tuple[GpxLine, ...]:
    """The track segments, then the routes, of a GPX file's bytes or text (the one GPX reader:
    walked tracks and previous routes alike); an ``InputError`` naming ``name`` when it is no
    GPX (binary content, text that is not UTF-8, XML that is not GPX)."""
    gpx = _parse_gpx(data, name=name)
    parts = [("track", segment.points) for track in gpx.tracks for segment in track.segments]
    parts += [("route", route.points) for route in gpx.routes]
    return tuple(
        GpxLine(kind, tuple((p.longitude, p.latitude) for p in points),
                tuple(p.time if p.time is None or p.time.tzinfo else from_utc_naive(p.time) for p in points))
        for kind, points in parts
    )


def _parse_gpx(data: str | bytes, *, name: str) -> gpxpy.gpx.GPX:
    try:
        return gpxpy.parse(data.decode("utf-8") if isinstance(data, bytes) else data)
    except UnicodeDecodeError:
        msg = f"{name}: not a GPX file (binary content); give the .gpx file the phone or GPS app exported"
        raise InputError(msg) from None
    except (gpxpy.gpx.GPXException, ValueError) as error:
        msg = f"{name}: not a readable GPX file ({error})"
        raise InputError(msg) from None


def plan_to_geojson(plan: Plan, *, language: str = "nl") -> dict:
    """A WGS84 FeatureCollection: a LineString per team (team, length_m, duration_min, score; its
    graph ``nodes`` in walking order and their ``vertices`` in the line) and a Point per stop (team,
    number, name, score, categories, arrive_min, look_for in ``language``, ``at``: its index in
    ``nodes``)."""
    features: list[dict] = []
    for t, team in enumerate(plan.teams, 1):
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [[round(x, 7), round(y, 7)] for x, y in team.path_lonlat]},
            "properties": {
                "kind": "route", "team": t, "length_m": round(team.length_m, 1),
                "duration_min": round(team.duration_min, 1), "walk_min": round(team.walk_min, 1),
                "dwell_min": round(team.dwell_min, 1), "score": round(team.score, 3),
                "stops": len(team.stops), "streets": list(team.streets), "passed": list(team.passed),
                "nodes": list(team.nodes), "vertices": list(team.vertices),
            },
        })
        for stop in team.stops:
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(stop.lon, 7), round(stop.lat, 7)]},
                "properties": {
                    "kind": "stop", "team": t, "number": stop.number, "name": stop.name,
                    "name_en": stop.label("en"),
                    "score": round(stop.score, 3), "categories": list(stop.categories),
                    "arrive_min": round(stop.arrive_min, 1), "dwell_min": round(stop.dwell_min, 1),
                    "look_for": what_to_look_for(stop.categories, language=language), "at": stop.at,
                },
            })
    return {"type": "FeatureCollection", "features": features}


# --- the printed briefing --------------------------------------------------------------------------


def _nice_length(metres: float) -> float:
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if step >= metres:
            return step
    return 10 ** math.ceil(math.log10(metres))


@dataclass(frozen=True)
class _Frame:
    """The map's projection: WGS84 to metres around the plan's centre (equirectangular, fine for
    a ward) and metres to SVG pixels, fitted to the plan with a margin."""

    lon0: float
    lat0: float
    kx: float
    ky: float
    cx: float
    cy: float
    scale: float
    width: int
    height: int
    span_x: float

    @classmethod
    def fit(cls, points: list[tuple[float, float]], width: int, height: int) -> _Frame:
        lon0 = sum(p[0] for p in points) / len(points)
        lat0 = sum(p[1] for p in points) / len(points)
        kx, ky = 111_320 * math.cos(math.radians(lat0)), 110_540.0
        xy = [((lon - lon0) * kx, (lat - lat0) * ky) for lon, lat in points]
        min_x, max_x = min(p[0] for p in xy), max(p[0] for p in xy)
        min_y, max_y = min(p[1] for p in xy), max(p[1] for p in xy)
        span_x, span_y = max(max_x - min_x, 200.0), max(max_y - min_y, 200.0)
        pad = 28
        scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        return cls(lon0, lat0, kx, ky, (min_x + max_x) / 2, (min_y + max_y) / 2, scale, width, height, span_x)

    def screen(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky
        return self.width / 2 + (x - self.cx) * self.scale, self.height / 2 - (y - self.cy) * self.scale

    def polyline(self, coords, **attrs: str) -> str:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (self.screen(*c) for c in coords))
        extra = " ".join(f'{k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items() if v != "")
        return f'<polyline points="{pts}" fill="none" {extra}/>'


def _svg_lines(plan: Plan, frame: _Frame) -> list[str]:
    """The streets around, then each team's route."""
    parts = [frame.polyline(street, stroke="#c8c8c8", stroke_width="1.6", stroke_linecap="round")
             for street in plan.streets_lonlat if len(street) > 1]
    for t, team in enumerate(plan.teams):
        if len(team.path_lonlat) > 1:
            parts.append(frame.polyline(
                team.path_lonlat, stroke=TEAM_COLOURS[t % len(TEAM_COLOURS)], stroke_width="4",
                stroke_opacity="0.85", stroke_linejoin="round", stroke_linecap="round",
                stroke_dasharray=TEAM_DASHES[t % len(TEAM_DASHES)],
            ))
    return parts


def _svg_stops(plan: Plan, frame: _Frame) -> list[str]:
    """The numbered stops in their team's colour, and the start (S) and a separate end (E) on
    top: when a stop sits on one, it moves aside with a short leader line."""
    parts = []
    for t, team in enumerate(plan.teams):
        colour = TEAM_COLOURS[t % len(TEAM_COLOURS)]
        for stop in team.stops:
            x, y = frame.screen(stop.lon, stop.lat)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{colour}" stroke="#fff" stroke-width="2"/>'
                f'<text x="{x:.1f}" y="{y + 4.5:.1f}" font-size="12" font-weight="bold" '
                f'text-anchor="middle" fill="#fff">{stop.number}</text>'
            )
    ends = [(plan.start_lonlat, "S", -16)] + ([] if plan.end_lonlat is None else [(plan.end_lonlat, "E", 16)])
    for lonlat, letter, aside in ends:
        sx, sy = frame.screen(*lonlat)
        crowded = any(math.dist((sx, sy), frame.screen(st.lon, st.lat)) < 16
                      for team in plan.teams for st in team.stops)
        mx, my = (sx + aside, sy - 16) if crowded else (sx, sy)
        if crowded:
            parts.append(f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{mx:.1f}" y2="{my:.1f}" stroke="#111" '
                         'stroke-width="1.5"/>')
        parts.append(f'<rect x="{mx - 9:.1f}" y="{my - 9:.1f}" width="18" height="18" fill="#111" rx="2"/>'
                     f'<text x="{mx:.1f}" y="{my + 4.5:.1f}" font-size="12" font-weight="bold" '
                     f'text-anchor="middle" fill="#fff">{letter}</text>')
    return parts


def _svg_furniture(plan: Plan, frame: _Frame, team_label: str) -> list[str]:
    """Scale bar (bottom left), north arrow (top right), attribution (bottom right) and, for more
    than one team, the teams' legend."""
    width, height = frame.width, frame.height
    bar_m = _nice_length(frame.span_x / 5)
    parts = [
        f'<g font-size="11" fill="#111"><rect x="12" y="{height - 22}" width="{bar_m * frame.scale:.1f}" height="5" '
        f'fill="#111"/><text x="12" y="{height - 27}">{bar_m:,.0f} m</text></g>',
        f'<g><path d="M {width - 24} 14 l 8 20 l -8 -6 l -8 6 z" fill="#111"/>'
        f'<text x="{width - 24}" y="48" font-size="12" text-anchor="middle">N</text></g>',
        f'<text x="{width - 6}" y="{height - 6}" font-size="10" text-anchor="end" '
        f'fill="#444">{_esc(plan.attribution)}</text>',
    ]
    if len(plan.teams) > 1:
        for t in range(len(plan.teams)):
            y = 16 + 16 * t
            colour = TEAM_COLOURS[t % len(TEAM_COLOURS)]
            parts.append(
                f'<line x1="12" y1="{y}" x2="40" y2="{y}" stroke="{colour}" stroke-width="4" '
                f'stroke-dasharray="{TEAM_DASHES[t % len(TEAM_DASHES)]}"/>'
                f'<text x="46" y="{y + 4}" font-size="11">{_esc(team_label.format(team=t + 1))}</text>'
            )
    return parts


def map_svg(plan: Plan, *, width: int = 700, height: int = 420, language: str = "nl") -> str:
    """A static map of the plan as inline SVG: the streets around, each team's route, numbered
    stops, the start, a scale bar, north and the OpenStreetMap attribution."""
    _ = translation(language).gettext
    map_label, team_label = _("Map of the route"), _("Team {team}")  # Babel reads no calls inside f-strings
    points = [plan.start_lonlat] + ([] if plan.end_lonlat is None else [plan.end_lonlat])
    for team in plan.teams:
        points += list(team.path_lonlat) + [(s.lon, s.lat) for s in team.stops]
    frame = _Frame.fit(points, width, height)
    parts = [
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_esc(map_label)}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        *_svg_lines(plan, frame), *_svg_stops(plan, frame), *_svg_furniture(plan, frame, team_label),
        "</svg>",
    ]
    return "".join(parts)


def _clock(start: tuple[int, int] | None, minutes: float) -> str:
    if start is None:
        return f"+{minutes:.0f} min"
    total = start[0] * 60 + start[1] + round(minutes)
    return f"{total // 60 % 24:02d}:{total % 60:02d} (+{minutes:.0f})"


_STYLE = """
@page { size: A4 portrait; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 9pt;
       color: #111; margin: 0 auto; max-width: 190mm; line-height: 1.25;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 14pt; margin: 0 0 1mm; }
h2 { font-size: 10pt; margin: 2mm 0 0.5mm; }
p { margin: 1mm 0; }
.meta { margin: 0 0 2mm; }
.meta span { display: inline-block; margin-right: 4mm; }
svg.map { display: block; width: 100%; height: auto; max-height: 88mm; border: 1px solid #888; }
table { border-collapse: collapse; width: 100%; font-size: 8.3pt; }
th, td { border-bottom: 1px solid #bbb; padding: 0.5mm 1.2mm; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { page-break-inside: avoid; break-inside: avoid; }
td.n { white-space: nowrap; }
.dot { display: inline-block; min-width: 4.5mm; height: 4.5mm; border-radius: 2.25mm; color: #fff;
       text-align: center; font-weight: bold; line-height: 4.5mm; }
.small { font-size: 7.5pt; color: #333; margin: 0.5mm 0; }
.why { font-size: 7pt; color: #444; }
.privacy { border: 1px solid #888; padding: 1mm 2mm; margin-top: 1.5mm; font-size: 8pt; }
footer { margin-top: 2mm; font-size: 8pt; color: #333; }
header { display: flex; gap: 3mm; align-items: flex-start; }
header > div { flex: 1 1 auto; }
.phone { display: flex; gap: 2mm; flex: 0 1 auto; }
figure.qr { display: flex; flex-direction: column; align-items: center; width: 30mm; margin: 0; font-size: 6.5pt;
            text-align: center; line-height: 1.15; }
figure.qr svg { width: 16mm; height: 16mm; }
figure.qr a { color: #111; word-break: break-all; }
@media print { figure.qr a { display: none; } }
@media screen { body { padding: 8mm; } }
"""

_FIT_ONE_PAGE = """
(function () {
  // A4 less the 10 mm margins of @page, in CSS pixels. A plan a little too long for one sheet
  // (two teams, many stops) is printed smaller rather than spilling onto a second page; a much
  // longer one keeps its size and goes on over more pages rather than becoming unreadable.
  var page = 277 / 25.4 * 96, smallest = 0.8, body = document.body;
  window.addEventListener("beforeprint", function () {
    // Browsers lay the pages out after this event: measure as printed (without the screen's padding).
    body.style.zoom = "";
    body.style.padding = "0";
    var height = body.scrollHeight;
    body.style.padding = "";
    if (height > page && page / height >= smallest) body.style.zoom = String(page / height * 0.99);
  });
  window.addEventListener("afterprint", function () { body.style.zoom = ""; });
})();
"""


def _short_why(explanation: str, clauses: int = 3) -> str:
    """The first ``clauses`` parts (split at ``;``) of a stop's explanation: share, counts and
    time pattern fit on paper, the rest is in the dashboard and the JSON."""
    parts = [part.strip() for part in explanation.split(";") if part.strip()]
    short = "; ".join(parts[:clauses])
    return short if len(parts) <= clauses else short + " …"


def _phone_links(links: Mapping[int, str], label: str) -> str:
    """Per team a QR code (inline SVG, segno) and the address that open its round on a phone."""
    import segno

    figures = []
    for team, link in sorted(links.items()):
        code = segno.make(link, error="m").svg_inline(scale=2, border=2, omitsize=True)
        # On paper the QR code is the link; on screen the address is there to tap (hidden in print).
        figures.append(f'<figure class="qr">{code}<figcaption><b>{_esc(label.format(team=team))}</b>'
                       f'<br><a href="{_esc(link)}">{_esc(link)}</a></figcaption></figure>')
    return f'<div class="phone">{"".join(figures)}</div>'


def briefing_html(plan: Plan, *, ward: str, title: str, when: str, language: str = "nl",
                  links: Mapping[int, str] | None = None) -> str:
    """A one-page printable briefing (self-contained HTML, A4): the map, each team's numbered
    stops with arrival, dwell, what to look for and why the stop is there (its share of the score
    and the first parts of its explanation), the best target that was left out and why, the
    totals, date and time, team size, a privacy note and the OpenStreetMap attribution. ``when``
    is shown as given (empty: a line to fill in); a time in it (``20:00``) turns arrival minutes into clock times.
    ``links`` (team → address, ``rounds.round_link``) adds a QR code per team that opens the
    saved round on a phone. A plan up to a quarter too long for one sheet (two teams with many
    stops) is printed that much smaller, by a small script run as printing starts."""
    _ = translation(language).gettext
    label = {  # Babel reads no calls inside f-strings
        "ward": _("Ward"), "when": _("When"), "teams": _("Teams"), "team_size": _("Team size"),
        "start": _("Start and end") if plan.end_lonlat is None else _("Start"), "end": _("End"),
        "stop": _("Stop"), "arrive": _("Arrive"), "dwell": _("Stay"),
        "look_for": _("What to look for"), "why": _("Why"), "route": _("Route"),
        "passed": _("Passed on the way (counted)"), "total": _("Total"), "left_out": _("Left out"),
        "unreachable": _("Not reachable over the streets, skipped"), "made": _("Made with WAS Planner"),
        "no_stops": _(NO_STOPS), "all_taken": _(ALL_TAKEN), "privacy": _(PRIVACY),
        "phone": _("Team {team} on your phone"),
    }
    found = re.search(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b", when)
    start_clock = (int(found.group(1)), int(found.group(2))) if found else None
    team_size = plan.extra.get("team_size")
    size = _("{n} people").format(n=int(team_size)) if team_size else _("___ people (fill in)")
    # A briefing printed ahead of the evening gets a line to write the date on, not a blank label.
    moment = when.strip() or _("___ (fill in)")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_esc(language)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>",
        # The QR codes sit beside the title and facts, so the briefing still prints on one page.
        '<header><div>', f"<h1>{_esc(title)}</h1>",
        '<p class="meta">'
        f"<span><b>{_esc(label['ward'])}:</b> {_esc(ward)}</span>"
        f"<span><b>{_esc(label['when'])}:</b> {_esc(moment)}</span>"
        f"<span><b>{_esc(label['teams'])}:</b> {len(plan.teams)}</span>"
        f"<span><b>{_esc(label['team_size'])}:</b> {_esc(size)}</span>"
        f"<span><b>{_esc(label['start'])}:</b> {_esc(plan.start_label(language))}</span>"
        + ("" if plan.end_lonlat is None else
           f"<span><b>{_esc(label['end'])}:</b> {plan.end_lonlat[1]:.5f},{plan.end_lonlat[0]:.5f}</span>")
        + "</p></div>",
        *([_phone_links(links, label["phone"])] if links else []), "</header>",
        map_svg(plan, language=language),
    ]
    for t, team in enumerate(plan.teams, 1):
        colour = TEAM_COLOURS[(t - 1) % len(TEAM_COLOURS)]
        heading = _("Team {team}: {km} km · {minutes:.0f} min (walking {walk:.0f} + stops {dwell:.0f}) · "
                    "{stops} · score {score} · {finish}").format(
            team=t, km=format_number(team.length_m / 1000, 1, language=language, grouping=True),
            minutes=team.duration_min, walk=team.walk_min, dwell=team.dwell_min,
            stops=_n_stops(len(team.stops), language),
            score=format_number(team.score, 1, language=language, grouping=True),
            finish=(_("back {time}") if plan.end_lonlat is None else _("at the end {time}")).format(
                time=_clock(start_clock, team.duration_min)))
        out.append(f'<h2><span class="dot" style="background:{colour}">{t}</span> {_esc(heading)}</h2>')
        if not team.stops:
            taken = any(other.stops for other in plan.teams)
            out.append(f"<p>{_esc(label['all_taken'] if taken else label['no_stops'])}</p>")
            continue
        out.append(
            f"<table><thead><tr><th>#</th><th>{_esc(label['stop'])}</th><th>{_esc(label['arrive'])}</th>"
            f"<th>{_esc(label['dwell'])}</th><th>{_esc(label['look_for'])}</th></tr></thead><tbody>"
        )
        for stop in team.stops:
            why = _short_why(getattr(stop, explanation_field(language)))
            out.append(
                f'<tr><td><span class="dot" style="background:{colour}">{stop.number}</span></td>'
                f"<td>{_esc(stop.label(language))}</td>"
                f"<td class=\"n\">{_esc(_clock(start_clock, stop.arrive_min))}</td>"
                f"<td class=\"n\">{stop.dwell_min:.0f} min</td>"
                f"<td>{_esc(what_to_look_for(stop.categories, language=language))}"
                + (f'<div class="why"><b>{_esc(label["why"])}:</b> {_esc(why)}</div>' if why else "")
                + "</td></tr>"
            )
        out.append("</tbody></table>")
        if team.streets:
            streets = " → ".join(team.streets[:40]) + (" → …" if len(team.streets) > 40 else "")
            out.append(f'<p class="small"><b>{_esc(label["route"])}:</b> {_esc(streets)}</p>')
        if team.passed:
            out.append(f'<p class="small"><b>{_esc(label["passed"])}:</b> '
                       f'{_esc(", ".join(plan.target_label(n, language) for n in team.passed))}</p>')
    n_stops = sum(len(team.stops) for team in plan.teams)
    km = sum(team.length_m for team in plan.teams) / 1000
    minutes = max((team.duration_min for team in plan.teams), default=0.0)
    totals = _("{km} km · {minutes:.0f} min · {stops} · {share_percent} of the score of all targets in the ward "
               "(hotspots and hot streets)").format(
        km=format_number(km, 1, language=language, grouping=True), minutes=minutes, stops=_n_stops(n_stops, language),
        share_percent=f"{format_number(100 * plan.covered_share, 0, language=language, grouping=True)} %")
    out.append(f"<p><b>{_esc(label['total'])}:</b> {_esc(totals)}</p>")
    left_out = getattr(plan, "left_out", None)
    if left_out:
        out.append(f'<p class="small"><b>{_esc(label["left_out"])}:</b> '
                   f"{_esc(left_out[explanation_field(language)])}</p>")
    if plan.unreachable:
        out.append(f'<p class="small"><b>{_esc(label["unreachable"])}:</b> '
                   f"{_esc(', '.join(plan.target_label(n, language) for n in plan.unreachable))}</p>")
    out.append(f'<p class="privacy">{_esc(label["privacy"])}</p>')
    out.append(f"<footer>{_esc(label['made'])} {_esc(_version())} · {_esc(plan.attribution)}</footer>")
    out.append(f"<script>{_FIT_ONE_PAGE}</script></body></html>")
    return "\n".join(out)


def read_route_lines(path: str | Path) -> list[shapely.LineString]:
    """The walked lines (WGS84) in a previous route file: GPX tracks and routes, or the
    LineStrings of a GeoJSON file (such as ``export.plan_to_geojson`` writes)."""
    path = Path(path)
    if not path.is_file():
        msg = f"route file not found: {path}"
        raise DataNotFoundError(msg)
    data = path.read_bytes()
    lines: list[shapely.LineString] = []
    if path.suffix.lower() == ".gpx":
        lines += [shapely.LineString(line.lonlat) for line in read_gpx(data, name=path.name) if len(line.lonlat) > 1]
    elif path.suffix.lower() in {".geojson", ".json"}:
        try:
            data = json.loads(data)
        except ValueError as error:  # a JSONDecodeError, or a UnicodeDecodeError for binary content
            msg = f"{path.name}: not valid JSON ({error})"
            raise InputError(msg) from None
        features = data.get("features", [data]) if isinstance(data, dict) else []
        for feature in features:
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            if not geometry:
                continue
            try:
                shape = shapely.geometry.shape(geometry)
            except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError):
                msg = f"{path.name}: a feature has an unreadable geometry"
                raise InputError(msg) from None
            parts = shape.geoms if shape.geom_type == "MultiLineString" else [shape]
            lines += [part for part in parts if part.geom_type == "LineString" and len(part.coords) > 1]
    else:
        msg = f"{path.name}: use a .gpx or .geojson file of a previous route"
        raise InputError(msg)
    if not lines:
        msg = f"{path.name}: contains no route lines (tracks or LineStrings)"
        raise InputError(msg)
    return lines
