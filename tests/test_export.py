"""Exports of a plan: GPX parsed back with gpxpy, GeoJSON shape, the printable briefing."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import geopandas as gpd
import gpxpy
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from planner._errors import InputError
from planner.routing.export import briefing_html, plan_to_geojson, plan_to_gpx, what_to_look_for
from planner.routing.routes import Plan, RouteParams, plan_patrol

TO_WGS84 = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
# The grid below spans 92000-92400 × 452000-452400 in RD New; its WGS84 bounding box (+ 20 m).
AREA = box(*TO_WGS84.transform_bounds(91_980, 451_980, 92_420, 452_420))


@pytest.fixture(scope="module")
def plans(street_grid) -> dict[str, Plan]:
    """One-team and two-team plans on a 5 × 5 grid, and one with no stops at all."""
    graph = street_grid
    names = ["Merelpark", "Hotspot 2 (inbraak)", "<script>alert('x')</script> & Co", "Vinkhof", "Spreeuwlaan"]
    cats = [["youth_nuisance", "drugs"], ["burglary"], ["vandalism"], ["street_light"], []]
    xy = [(92_400, 452_000), (92_400, 452_400), (92_000, 452_400), (92_200, 452_200), (92_100, 452_300)]
    targets = gpd.GeoDataFrame(
        {"score": [5.0, 4.0, 3.0, 2.0, 1.0], "name": names, "categories": cats},
        geometry=[Point(x, y) for x, y in xy], crs="EPSG:28992",
    )
    lon, lat = TO_WGS84.transform(92_000, 452_000)
    one = plan_patrol(graph, targets, start=(lat, lon), params=RouteParams(minutes=90, pass_by_m=0))
    two = plan_patrol(graph, targets, start=(lat, lon), params=RouteParams(minutes=40, teams=2, pass_by_m=0))
    none = plan_patrol(graph, targets, start=(lat, lon), params=RouteParams(minutes=2))
    end_lon, end_lat = TO_WGS84.transform(92_400, 452_400)
    onward = plan_patrol(graph, targets, start=(lat, lon), end=(end_lat, end_lon),
                         params=RouteParams(minutes=60, pass_by_m=0))
    return {"one": replace(one, start_name="Wijkpost <Oost>"), "two": two, "none": none, "onward": onward}


def test_gpx_parses_back_with_tracks_and_waypoints(plans):
    """The GPX is 1.1, has a track per team along the path and a named waypoint per stop plus the
    start, all inside the grid's area."""
    plan = plans["one"]
    text = plan_to_gpx(plan, name="Looproute Oost")
    assert 'version="1.1"' in text and "http://www.topografix.com/GPX/1/1" in text
    gpx = gpxpy.parse(text)
    assert gpx.name == "Looproute Oost"
    assert [t.name for t in gpx.tracks] == ["Team 1"]
    points = gpx.tracks[0].segments[0].points
    assert len(points) == len(plan.teams[0].path_lonlat)
    stops = plan.teams[0].stops
    assert [w.name for w in gpx.waypoints] == ["Start: Wijkpost <Oost>"] + [f"{s.number}. {s.name}" for s in stops]
    assert stops and all(w.description for w in gpx.waypoints[1:])
    everything = [(p.longitude, p.latitude) for p in points] + [(w.longitude, w.latitude) for w in gpx.waypoints]
    assert all(AREA.contains(Point(xy)) for xy in everything)
    assert gpx.tracks[0].length_2d() == pytest.approx(plan.teams[0].length_m, rel=0.02)


def test_a_walk_to_another_end_is_not_shown_as_a_round(plans):
    """With an end apart from the start, the GPX has an end waypoint there, the briefing names
    start and end apart and the time at the end (not "back"), and its map marks both; a round
    keeps "Start en einde" and "terug"."""
    plan = plans["onward"]
    assert plans["one"].end_lonlat is None
    end_lon, end_lat = plan.end_lonlat
    assert plan.teams[0].path_lonlat[-1] == pytest.approx((end_lon, end_lat), abs=1e-6)
    assert f"end {end_lat:.5f},{end_lon:.5f}" in plan.summary()
    waypoints = gpxpy.parse(plan_to_gpx(plan, name="x")).waypoints
    ends = [w for w in waypoints if w.type == "end"]
    assert [w.name for w in ends] == ["Einde"]
    assert (ends[0].longitude, ends[0].latitude) == pytest.approx((end_lon, end_lat), abs=1e-6)
    page = briefing_html(plan, ward="Oost", title="Looproute", when="20:00")
    assert "Start en einde" not in page and "terug" not in page
    assert f"<b>Einde:</b> {end_lat:.5f},{end_lon:.5f}" in page and "· einde 2" in page
    assert ">E</text>" in page and ">S</text>" in page
    english = briefing_html(plan, ward="Oost", title="Route", when="", language="en")
    assert "<b>End:</b>" in english and "at the end +" in english and "back +" not in english
    round_page = briefing_html(plans["one"], ward="Oost", title="Looproute", when="")
    assert "Start en einde" in round_page and ">E</text>" not in round_page


def test_gpx_of_two_teams_has_two_tracks_with_team_prefixed_stops(plans):
    """With two teams each track is named by its team and stop names say which team they belong to."""
    gpx = gpxpy.parse(plan_to_gpx(plans["two"], name="x"))
    assert [t.name for t in gpx.tracks] == ["Team 1", "Team 2"]
    stop_names = [w.name for w in gpx.waypoints[1:]]
    assert stop_names and all(re.match(r"T[12] \d+\. ", n) for n in stop_names)


def test_geojson_has_a_line_per_team_and_a_point_per_stop(plans):
    """The FeatureCollection holds a LineString per team and a Point per stop with the documented
    properties, in WGS84 inside the area, and survives json.dumps."""
    plan = plans["two"]
    collection = json.loads(json.dumps(plan_to_geojson(plan)))
    assert collection["type"] == "FeatureCollection"
    lines = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == len(plan.teams) and len(points) == sum(len(t.stops) for t in plan.teams)
    assert {"team", "length_m", "duration_min", "score"} <= set(lines[0]["properties"])
    assert {"team", "number", "name", "score", "categories", "arrive_min"} <= set(points[0]["properties"])
    assert all(AREA.contains(Point(c)) for f in lines for c in f["geometry"]["coordinates"])
    assert lines[1]["properties"]["team"] == 2


def test_briefing_lists_the_stops_and_escapes_names(plans):
    """The briefing names every stop in order with what to look for, escapes HTML in names, ward,
    title and time, embeds the map as SVG and carries the attribution and the privacy note."""
    plan = plans["one"]
    page = briefing_html(plan, ward="Oost & <West>", title="Looproute <b>Oost</b>", when="vr 20 nov 2026 20:00")
    # The one script is the briefing's own (it fits the print on one page); the name's is text.
    assert page.count("<script") == 1 and "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Oost &amp; &lt;West&gt;" in page and "Looproute &lt;b&gt;Oost&lt;/b&gt;" in page
    assert "Wijkpost &lt;Oost&gt;" in page
    positions = [page.index(html.escape(s.name, quote=True)) for s in plan.teams[0].stops]
    assert positions == sorted(positions) and len(positions) == 5
    assert "<svg" in page and page.count("<circle") == 5
    assert "© OpenStreetMap contributors" in page and "Privacy" in page and "geen namen" in page
    assert "Let op: open ramen en deuren" in page  # burglary
    first, back = plan.teams[0].stops[0].arrive_min, plan.teams[0].duration_min
    # Clock times count from the time in `when`.
    assert f"20:{round(first):02d} (+{first:.0f})" in page
    assert f"terug {20 + round(back) // 60}:{round(back) % 60:02d} (+{back:.0f})" in page
    assert f"{len(plan.teams[0].stops)} stops" in page
    assert re.search(r"\d+ % van de score", page)


def test_briefing_of_an_empty_plan_says_why(plans):
    """A plan without stops prints the reason instead of an empty list, and no stop markers."""
    page = briefing_html(plans["none"], ward="Oost", title="Looproute", when="")
    assert "Geen stops gepland" in page and "<circle" not in page


def test_briefing_without_a_time_leaves_a_line_to_write_it_on(plans):
    """Planned without a time (the CLI without --when or --window), the briefing's 'When' is a
    line to fill in, as the team size is, not an empty label; no clock times are made up."""
    page = briefing_html(plans["one"], ward="Oost", title="Looproute", when=" ")
    assert "<b>Wanneer:</b> ___ (invullen)" in page and "terug +" in page
    english = briefing_html(plans["one"], ward="Oost", title="Route", when="", language="en")
    assert "<b>When:</b> ___ (fill in)" in english
    assert "<b>Wanneer:</b> vr 20:00" in briefing_html(plans["one"], ward="Oost", title="L", when="vr 20:00")


def test_a_team_with_one_stop_reads_one_stop(plans):
    """The heading, the total and the GPX track say "1 stop", not "1 stops"; more stay plural."""
    plan = plans["one"]
    assert len(plan.teams[0].stops) > 1
    single = replace(plan, teams=(replace(plan.teams[0], stops=plan.teams[0].stops[:1]),))
    for language in ("nl", "en"):
        page = briefing_html(single, ward="Oost", title="L", when="", language=language)
        assert page.count(" · 1 stop · ") == 2 and "1 stops" not in page
    assert gpxpy.parse(plan_to_gpx(single, name="x")).tracks[0].description.endswith(", 1 stop")
    many = len(plan.teams[0].stops)
    assert f" · {many} stops · " in briefing_html(plan, ward="Oost", title="L", when="", language="en")


def test_briefing_in_english_and_a_bad_language(plans):
    """language='en' gives English headings; an unknown language is refused."""
    page = briefing_html(plans["two"], ward="Oost", title="Patrol", when="Friday")
    assert 'lang="nl"' in page
    english = briefing_html(plans["two"], ward="Oost", title="Patrol", when="Friday", language="en")
    assert 'lang="en"' in english and "What to look for" in english and "Team 2" in english
    with pytest.raises(InputError, match="language"):
        briefing_html(plans["two"], ward="Oost", title="Patrol", when="", language="fr")


def test_look_for_uses_the_first_two_categories():
    """What to look for is built from the two most frequent categories; unknown ones fall back."""
    text = what_to_look_for(["burglary", "vandalism", "drugs"])
    assert text.startswith("Let op: open ramen") and "graffiti" in text and "lachgas" not in text
    fallback = what_to_look_for([])
    assert fallback == what_to_look_for(["nonsense"]) and fallback.startswith("Let op: wat je verder")


def test_briefing_carries_a_qr_code_and_link_per_team(plans):
    """With the saved round's links each team gets a QR code and the address it encodes, escaped;
    without links (a plan not saved) there is none."""
    plan = plans["two"]
    links = {t: f"https://was.example.nl/ronde?patrol=7&team={t}" for t in (1, 2)}
    page = briefing_html(plan, ward="Oost", title="Patrol", when="20:00", links=links)
    assert page.count('class="qr"') == 2 and page.count('class="segno"') == 2
    assert 'href="https://was.example.nl/ronde?patrol=7&amp;team=2"' in page
    assert "Team 2 op je telefoon" in page
    assert 'class="qr"' not in briefing_html(plan, ward="Oost", title="Patrol", when="20:00")



@pytest.mark.parametrize(
    ("source", "setting", "credit"),
    [("Zoetermeer, Netherlands", "© Gemeente Amsterdam", "© OpenStreetMap contributors"),
     ("amsterdam_osdorp_midden_walk.gpkg", None, "amsterdam_osdorp_midden_walk.gpkg"),
     ("stoepen.gpkg", "© Gemeente Amsterdam", "© Gemeente Amsterdam")],
)
def test_every_export_credits_the_source_of_its_streets(street_grid, monkeypatch, source, setting, credit):
    """A route on a municipal network is not OpenStreetMap data: the GPX, the briefing's map and
    its footer credit the network (WAS_NETWORK_ATTRIBUTION, else its file); OSM streets credit OSM."""
    if setting:
        monkeypatch.setenv("WAS_NETWORK_ATTRIBUTION", setting)
    graph = street_grid.copy()
    graph.graph["source"] = source
    target = gpd.GeoDataFrame({"score": [1.0], "name": ["Merelpark"], "categories": [["burglary"]]},
                              geometry=[Point(92_200, 452_200)], crs="EPSG:28992")
    lon, lat = TO_WGS84.transform(92_000, 452_000)
    plan = plan_patrol(graph, target, start=(lat, lon), params=RouteParams(minutes=60))
    gpx = gpxpy.parse(plan_to_gpx(plan, name="Looproute"))
    page = briefing_html(plan, ward="Oost", title="Looproute", when="")
    assert gpx.description.endswith(f"route data {credit}")
    assert page.count(html.escape(credit)) == 2  # the map's corner and the footer
    if credit != "© OpenStreetMap contributors":
        assert "OpenStreetMap" not in page and "OpenStreetMap" not in gpx.description


def test_a_network_credit_that_is_not_one_line_is_refused(street_grid, monkeypatch):
    """WAS_NETWORK_ATTRIBUTION with a line break (it would split the GPX's description) is refused."""
    monkeypatch.setenv("WAS_NETWORK_ATTRIBUTION", "© Gemeente\nAmsterdam")
    graph = street_grid.copy()
    graph.graph["source"] = "stoepen.gpkg"
    lon, lat = TO_WGS84.transform(92_000, 452_000)
    with pytest.raises(InputError, match="WAS_NETWORK_ATTRIBUTION must be one line"):
        plan_patrol(graph, gpd.GeoDataFrame({"score": [], "name": []}, geometry=[], crs="EPSG:28992"),
                    start=(lat, lon), params=RouteParams(minutes=60))


def test_english_exports_name_the_stops_and_the_start_in_english(street_grid):
    """With language="en" the GPX and the briefing name every stop, the planner's own start and the
    target left out in English; in Dutch they stay Dutch, and the GeoJSON keeps the Dutch name
    with the English beside it."""
    target = gpd.GeoDataFrame({"score": [2.0, 1.0], "name": ["Hotspot 1 (inbraak)", "naamloos pad (vandalisme)"],
                               "name_en": ["Hotspot 1 (burglary)", "unnamed path (vandalism)"],
                               "categories": [["burglary"], ["vandalism"]]},
                              geometry=[Point(92_200, 452_200), Point(92_400, 452_400)], crs="EPSG:28992")
    plan = plan_patrol(street_grid, target, params=RouteParams(minutes=16, pass_by_m=0))
    assert plan.left_out is not None and plan.left_out["name"] == "naamloos pad (vandalisme)"
    assert plan.left_out["explanation_en"].startswith("unnamed path (vandalism)")
    assert plan.left_out["explanation"].startswith("naamloos pad (vandalisme)")
    english = gpxpy.parse(plan_to_gpx(plan, name="Patrol route", language="en"))
    dutch = gpxpy.parse(plan_to_gpx(plan, name="Looproute"))
    assert [w.name for w in english.waypoints] == ["Start: ward centre", "1. Hotspot 1 (burglary)"]
    assert [w.name for w in dutch.waypoints] == ["Start: centrum van de wijk", "1. Hotspot 1 (inbraak)"]
    page = briefing_html(plan, ward="Oost", title="Patrol route", when="", language="en")
    assert "Hotspot 1 (burglary)" in page and "ward centre" in page
    assert "inbraak" not in page and "centrum van de wijk" not in page
    stop = next(f["properties"] for f in plan_to_geojson(plan)["features"] if f["properties"]["kind"] == "stop")
    assert (stop["name"], stop["name_en"]) == ("Hotspot 1 (inbraak)", "Hotspot 1 (burglary)")
    # The CLI's summary is English prose: its names are English too.
    assert "1. Hotspot 1 (burglary)" in plan.summary() and "start ward centre" in plan.summary()


def test_english_briefing_names_the_targets_passed_on_the_way_in_english(street_grid):
    """A target counted as passed on the way is listed in the briefing's language."""
    target = gpd.GeoDataFrame({"score": [2.0, 1.0], "name": ["Hotspot 1 (inbraak)", "Hotspot 2 (vandalisme)"],
                               "name_en": ["Hotspot 1 (burglary)", "Hotspot 2 (vandalism)"],
                               "categories": [["burglary"], ["vandalism"]]},
                              geometry=[Point(92_400, 452_200), Point(92_300, 452_200)], crs="EPSG:28992")
    plan = plan_patrol(street_grid, target, params=RouteParams(minutes=25, pass_by_m=50))
    assert plan.teams[0].passed == ("Hotspot 2 (vandalisme)",)
    english = briefing_html(plan, ward="Oost", title="Patrol route", when="", language="en")
    assert "Hotspot 2 (vandalism)" in english and "vandalisme" not in english
    assert "Hotspot 2 (vandalisme)" in briefing_html(plan, ward="Oost", title="Looproute", when="")
