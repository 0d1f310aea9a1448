"""Synthetic demo data: "Demostad", a fictional new town in the Markermeer.

Everything here is made up, deterministically from a seed, so every feature has something to
show without internet: four wards named the way Dutch towns name them, a suburban street network
written as OSM XML (ring road, curving residential streets with loops and cul-de-sacs, footpaths
through parks, a shopping centre, a school and a ward post per ward) and a year of signals with
the patterns real ones have (near-repeat burglaries, evening and weekend youth nuisance near
shops and parks, street-light faults in the dark months). The town lies in open water on
purpose: on a real map nobody can mistake it for a real place.
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely import affinity, contains_xy
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import split

from .. import _time, settings
from .._errors import InputError
from .._geo import transformer
from ..signals.incidents import CATEGORIES, SOURCES
from ..signals.intake import import_file
from ..signals.wards import fetch_wards, store_wards
from ..storage import accounts as account_store
from ..storage.store import Store
from ..streets import cache_ward_graphs

log = logging.getLogger(__name__)

SYNTHETIC_NOTICE = "Demo data: Demostad and all its signals are synthetic (made up), not real incidents."

_ORIGIN = (144_000.0, 505_500.0)  # RD New, open water of the Markermeer
_WIDTH, _HEIGHT = 3_200.0, 2_400.0
_BLOCK = 85.0  # metres between residential street crossings

_WARDS = (
    # name, code, street-name theme, grid rotation (degrees)
    ("Vogelwijk", "WK999901", ("Merel", "Lijster", "Vink", "Spreeuw", "Kievit", "Reiger", "Zwaluw",
                               "Koolmees", "Specht", "Grutto", "Tureluur", "Buizerd", "Roodborst",
                               "Winterkoning", "Ekster", "Kwikstaart", "Putter", "Havik", "Wulp",
                               "Fuut", "Meerkoet", "Zanglijster"), 8.0),
    ("Bloemenwijk", "WK999902", ("Tulp", "Roos", "Iris", "Lelie", "Dahlia", "Krokus", "Narcis",
                                 "Anjer", "Aster", "Begonia", "Zonnebloem", "Klaproos", "Lavendel",
                                 "Hyacint", "Margriet", "Korenbloem", "Viooltje", "Sneeuwklokje",
                                 "Pioen", "Distel", "Gentiaan", "Akelei"), -12.0),
    ("Bomenwijk", "WK999903", ("Eiken", "Beuken", "Linden", "Berken", "Esdoorn", "Wilgen",
                               "Populier", "Kastanje", "Elzen", "Hazelaar", "Platanen", "Essen",
                               "Iepen", "Lariks", "Sparren", "Dennen", "Acacia", "Taxus", "Meidoorn",
                               "Vlier", "Hulst", "Notelaar"), 15.0),
    ("Schildersbuurt", "WK999904", ("Rembrandt", "Vermeer", "Frans Hals", "Jan Steen", "Mondriaan",
                                    "Karel Appel", "Escher", "Breitner", "Mesdag", "Van Gogh",
                                    "Ruisdael", "Hobbema", "Israëls", "Toorop", "Weissenbruch",
                                    "Maris", "Bosboom", "Van Goyen", "Avercamp", "Potter",
                                    "Van de Velde", "Charley Toorop"), -5.0),
)
_SUFFIXES = ("straat", "laan", "weg", "singel", "dreef")


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` wrote; ``to_json()`` is the CLI's ``--json`` output."""

    data_dir: str
    wards: tuple[str, ...]
    osm_file: str
    signals_file: str
    signals: int
    streets_km: float
    period: tuple[str, str]
    notice: str = SYNTHETIC_NOTICE
    graphs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "synthetic": True,
            "notice": self.notice,
            "data_dir": self.data_dir,
            "wards": list(self.wards),
            "osm_file": self.osm_file,
            "signals_file": self.signals_file,
            "signals": self.signals,
            "streets_km": round(self.streets_km, 1),
            "period": list(self.period),
            "graphs": self.graphs,
        }

    def summary(self) -> str:
        return "\n".join(
            [
                self.notice,
                f"{len(self.wards)} wards ({', '.join(self.wards)}), "
                f"{self.streets_km:.0f} km of walkable streets",
                f"{self.signals} signals from {self.period[0]} to {self.period[1]}",
                f"data directory: {self.data_dir}",
            ]
        )


# --------------------------------------------------------------------------------------------
# Streets


@dataclass
class _Town:
    """The synthetic town while it is being drawn, in local metres from ``_ORIGIN``."""

    nodes: list[tuple[float, float]] = field(default_factory=list)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    wards: list[dict] = field(default_factory=list)

    def node(self, x: float, y: float) -> int:
        self.nodes.append((x, y))
        return len(self.nodes) - 1

    def way(self, refs: list[int], **tags: str) -> None:
        self.ways.append((refs, tags))


def _ward_polygons():
    """Four wards cut from the town by two curving main roads, as Dutch new towns are."""
    town = box(0, 0, _WIDTH, _HEIGHT)
    ys = np.linspace(-50, _HEIGHT + 50, 60)
    spine_ns = LineString([(_WIDTH / 2 + 70 * math.sin(2 * math.pi * y / _HEIGHT), y) for y in ys])
    xs = np.linspace(-50, _WIDTH + 50, 80)
    spine_ew = LineString([(x, _HEIGHT / 2 + 55 * math.sin(1.3 * 2 * math.pi * x / _WIDTH)) for x in xs])
    halves = split(town, spine_ns).geoms
    quarters = [q for half in halves for q in split(half, spine_ew).geoms]
    # North-west, north-east, south-west, south-east, by centroid.
    quarters.sort(key=lambda q: (-round(q.centroid.y / 1000), q.centroid.x))
    return quarters, spine_ns.intersection(town), spine_ew.intersection(town)


def _main_road(town: _Town, line: LineString, spacing: float, tags: dict[str, str],
               junctions: list[int] = ()) -> list[int]:
    """Draw a main road; its ends join the nearest of ``junctions`` (a T-junction on the ring)."""
    count = max(2, int(line.length // spacing) + 1)
    refs = [town.node(*line.interpolate(i / (count - 1), normalized=True).coords[0]) for i in range(count)]
    if line.is_ring:
        refs[-1] = refs[0]
    for end in (0, -1):
        if junctions:
            nearest = min(junctions, key=lambda j: math.dist(town.nodes[j], town.nodes[refs[end]]))
            refs[end] = nearest
    town.way(refs, **tags)
    return refs


def _lattice(town: _Town, inner, angle: float, span: int, rng: np.random.Generator) -> dict[tuple[int, int], int]:
    """A rotated, jittered lattice clipped to the ward: the skeleton of its residential streets."""
    centre = inner.centroid
    lattice: dict[tuple[int, int], int] = {}
    for i in range(-span, span):
        for j in range(-span, span):
            p = affinity.rotate(Point(centre.x + i * _BLOCK, centre.y + j * _BLOCK), angle, origin=centre)
            p = Point(p.x + rng.normal(0, 9), p.y + rng.normal(0, 9))
            if inner.contains(p):
                lattice[(i, j)] = town.node(p.x, p.y)
    return lattice


def _spanning_tree(lattice: dict[tuple[int, int], int], rng: np.random.Generator) -> tuple[list, list]:
    """A random spanning tree of the lattice (its streets give cul-de-sacs) and the spare
    neighbour pairs, some of which later close cul-de-sacs into loops."""
    pairs = [((i, j), (i + di, j + dj)) for (i, j) in lattice for di, dj in ((1, 0), (0, 1))
             if (i + di, j + dj) in lattice]
    parent = {k: k for k in lattice}

    def root(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    tree, spare = [], []
    for index in rng.permutation(len(pairs)):
        a, b = pairs[index]
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
            tree.append((a, b))
        else:
            spare.append((a, b))
    return tree, spare


def _lattice_streets(town: _Town, lattice: dict, tree: list, spare: list, theme: tuple[str, ...],
                     park_centre: tuple[int, int], rng: np.random.Generator) -> None:
    """The tree's streets and some spare ones, named by the ward's theme; footways in the park."""
    def in_park(k: tuple[int, int]) -> bool:
        return (k[0] - park_centre[0]) ** 2 + (k[1] - park_centre[1]) ** 2 <= 4

    for a, b in tree + spare:
        extra = (a, b) not in tree
        roll = rng.random()
        if extra and roll > 0.55:
            continue
        horizontal = a[1] == b[1]
        if in_park(a) and in_park(b):
            tags = {"highway": "footway", "name": f"{theme[(a[0] + a[1]) % len(theme)]}park"}
        elif extra and roll > 0.3:
            tags = {"highway": "footway"}
        else:
            line = a[1] if horizontal else a[0]
            stem = theme[(line * 7 + (0 if horizontal else 11)) % len(theme)]
            suffix = _SUFFIXES[(line + (0 if horizontal else 2)) % len(_SUFFIXES)]
            kind = "living_street" if rng.random() < 0.25 else "residential"
            tags = {"highway": kind, "name": f"{stem}{suffix}"}
        u, v = lattice[a], lattice[b]
        (x1, y1), (x2, y2) = town.nodes[u], town.nodes[v]
        bend = rng.normal(0, 7)  # streets in new towns curve a little
        mx, my = (x1 + x2) / 2 - (y2 - y1) / _BLOCK * bend, (y1 + y2) / 2 + (x2 - x1) / _BLOCK * bend
        town.way([u, town.node(mx, my), v], **tags)


def _courts_and_entrances(town: _Town, lattice: dict, polygon, inner, theme: tuple[str, ...],
                          main_nodes: list[int], rng: np.random.Generator) -> None:
    """Courts: short dead-end stubs off the lattice, each a "hof"; entrances: a few streets onto
    the main roads, and more footpaths (bus stops, cycle routes)."""
    for k in list(lattice)[:: 9]:
        x, y = town.nodes[lattice[k]]
        end = Point(x + rng.normal(0, 30), y + rng.normal(0, 30))
        if inner.contains(end) and end.distance(Point(x, y)) > 20:
            town.way([lattice[k], town.node(end.x, end.y)], highway="residential",
                     name=f"{theme[(k[0] * 3 + k[1]) % len(theme)]}hof")
    border = sorted(lattice, key=lambda k: polygon.exterior.distance(Point(town.nodes[lattice[k]])))[:24]
    for number, k in enumerate(border[::2]):
        u = lattice[k]
        nearest = min(main_nodes, key=lambda m: math.dist(town.nodes[m], town.nodes[u]))
        if math.dist(town.nodes[nearest], town.nodes[u]) < 160:
            tags = {"highway": "residential", "name": f"{theme[number]}straat"} if number % 3 == 0 \
                else {"highway": "footway"}
            town.way([u, nearest], **tags)


def _draw_ward(town: _Town, polygon, name: str, theme: tuple[str, ...], angle: float,
               main_nodes: list[int], rng: np.random.Generator) -> None:
    inner = polygon.buffer(-45)
    span = int(max(_WIDTH, _HEIGHT) / _BLOCK)
    lattice = _lattice(town, inner, angle, span, rng)
    park_centre = min(lattice, key=lambda k: (k[0] - span // 8) ** 2 + (k[1] + span // 10) ** 2)
    shop_key = min(lattice, key=lambda k: abs(k[0]) + abs(k[1]))
    tree, spare = _spanning_tree(lattice, rng)
    _lattice_streets(town, lattice, tree, spare, theme, park_centre, rng)
    _courts_and_entrances(town, lattice, polygon, inner, theme, main_nodes, rng)
    # The shopping centre: a pedestrian square by the lattice centre, with the ward post beside it.
    shop = lattice[shop_key]
    sx, sy = town.nodes[shop]
    square = [town.node(sx + dx, sy + dy) for dx, dy in ((25, 0), (25, 30), (-5, 30))]
    town.way([shop, *square, shop], highway="pedestrian", name=f"Winkelcentrum {name}")
    school_key = max(lattice, key=lambda k: -abs(k[0] + span // 9) - abs(k[1] - span // 9))
    park_xy = town.nodes[lattice[park_centre]]
    school_xy = town.nodes[lattice[school_key]]
    town.places += [
        {"ward": name, "kind": "shops", "name": f"Winkelcentrum {name}", "xy": (sx + 10, sy + 15)},
        {"ward": name, "kind": "meeting_point", "name": f"Wijkpost {name}", "xy": (sx - 5, sy - 5)},
        {"ward": name, "kind": "park", "name": f"{name}park", "xy": park_xy},
        {"ward": name, "kind": "school", "name": f"Basisschool De {theme[3]}", "xy": school_xy},
    ]
    residential = [town.nodes[n] for n in lattice.values()]
    town.wards.append({"name": name, "polygon": polygon, "homes": residential})


def draw_town(seed: int = 0) -> _Town:
    """The whole synthetic town: main roads, four wards of streets, places."""
    rng = np.random.default_rng(seed)
    town = _Town()
    quarters, spine_ns, spine_ew = _ward_polygons()
    ring = box(0, 0, _WIDTH, _HEIGHT).exterior
    ring_road = _main_road(town, LineString(ring.coords), 60, {"highway": "secondary", "name": "Ringweg"})
    north_south = _main_road(town, spine_ns, 60, {"highway": "tertiary", "name": "Stadsdreef"}, ring_road)
    east_west = _main_road(town, spine_ew, 60, {"highway": "tertiary", "name": "Polderlaan"}, ring_road)
    main = [*ring_road, *north_south, *east_west]
    for polygon, (name, _code, theme, angle) in zip(quarters, _WARDS, strict=False):
        _draw_ward(town, polygon, name, theme, angle, main, rng)
    return town


def _to_wgs84() -> Transformer:
    return transformer(settings.RD_NEW, settings.WGS84)


def write_osm(town: _Town, path: Path) -> Path:
    """Write the town as OSM XML, readable by osmnx like any extract."""
    transformer = _to_wgs84()
    xs = np.array([x for x, _ in town.nodes]) + _ORIGIN[0]
    ys = np.array([y for _, y in town.nodes]) + _ORIGIN[1]
    lons, lats = transformer.transform(xs, ys)
    root = ET.Element("osm", version="0.6", generator="WAS Planner demo (synthetic)")
    for index, (lon, lat) in enumerate(zip(lons, lats, strict=False), start=1):
        ET.SubElement(root, "node", id=str(index), lat=f"{lat:.7f}", lon=f"{lon:.7f}", version="1")
    for number, (refs, tags) in enumerate(town.ways, start=1):
        way = ET.SubElement(root, "way", id=str(number), version="1")
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(ref + 1))
        for key, value in tags.items():
            ET.SubElement(way, "tag", k=key, v=value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def _gdf_rd(geometries, **columns) -> gpd.GeoDataFrame:
    moved = [affinity.translate(g, *_ORIGIN) for g in geometries]
    return gpd.GeoDataFrame(columns, geometry=moved, crs=settings.RD_NEW)


def town_wards(town: _Town) -> gpd.GeoDataFrame:
    """The wards with their codes and meeting points, in RD New."""
    codes = {name: code for name, code, _, _ in _WARDS}
    posts = {p["ward"]: p for p in town.places if p["kind"] == "meeting_point"}
    transformer = _to_wgs84()
    lonlat = {w: transformer.transform(p["xy"][0] + _ORIGIN[0], p["xy"][1] + _ORIGIN[1]) for w, p in posts.items()}
    names = [w["name"] for w in town.wards]
    return _gdf_rd(
        [w["polygon"] for w in town.wards],
        name=names,
        code=[codes[n] for n in names],
        meeting_point_name=[posts[n]["name"] for n in names],
        meeting_point_lon=[lonlat[n][0] for n in names],
        meeting_point_lat=[lonlat[n][1] for n in names],
    )


def town_places(town: _Town) -> gpd.GeoDataFrame:
    """Shops, parks, schools and ward posts, in RD New."""
    return _gdf_rd(
        [Point(p["xy"]) for p in town.places],
        ward=[p["ward"] for p in town.places],
        kind=[p["kind"] for p in town.places],
        name=[p["name"] for p in town.places],
    )


# --------------------------------------------------------------------------------------------
# Signals

_DESCRIPTIONS = {
    "burglary": ("Achterdeur geforceerd", "Raam opengebroken", "Inbraak via schuur",
                 "Poging tot inbraak, sporen op kozijn"),
    "vehicle_crime": ("Ruit van auto ingeslagen", "Navigatie uit auto gestolen", "Fiets van slot geknipt"),
    "youth_nuisance": ("Groep jongeren met scooters", "Harde muziek en rommel", "Jongeren op speelplaats, vuurwerk"),
    "vandalism": ("Bushokje vernield", "Graffiti op muur", "Bankje kapotgemaakt", "Prullenbak in brand"),
    "street_light": ("Lantaarnpaal brandt niet", "Straatverlichting knippert", "Hele straat donker"),
    "suspicious_situation": ("Persoon kijkt bij ramen naar binnen", "Onbekende auto rijdt rondjes",
                             "Iemand probeert deurklinken"),
    "drugs": ("Handel bij bankje in park", "Lachgas-patronen gevonden", "Drugsafval bij speeltuin"),
    "violence": ("Vechtpartij bij winkelcentrum", "Bedreiging op straat"),
    "other": ("Dumping van afval", "Loslopende hond", "Geluidsoverlast"),
}

# Relative weight of each hour of the day (0..23) per pattern.
_HOURS = {
    "evening": np.array([3, 2, 1, 0.5, 0.3, 0.3, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 7, 9, 10, 8, 5.0]),
    "night": np.array([8, 8, 7, 6, 4, 2, 1, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 0.5, 1, 1, 2, 3, 4, 6, 7.0]),
    "day": np.array([0.5, 0.3, 0.3, 0.3, 0.3, 0.5, 1, 2, 4, 5, 6, 6, 6, 6, 6, 5, 5, 4, 3, 2, 1.5, 1, 1, 0.5]),
    "flat": np.ones(24),
}
_WEEKEND = np.array([1, 1, 1, 1.3, 2.2, 2.5, 1.2])  # Monday .. Sunday
_WEEKDAY_FLAT = np.ones(7)


@dataclass(frozen=True)
class Anchors:
    """Where signals happen: metric coordinate arrays (in ``crs``) per kind of place."""

    homes: np.ndarray
    shops: np.ndarray
    parks: np.ndarray
    schools: np.ndarray
    streets: np.ndarray
    hot_ward_homes: np.ndarray
    area: Polygon
    crs: str = settings.RD_NEW


def town_anchors(town: _Town) -> Anchors:
    def shifted(points) -> np.ndarray:
        return np.asarray(points, float).reshape(-1, 2) + np.asarray(_ORIGIN)

    def kind(k: str) -> list:
        return [p["xy"] for p in town.places if p["kind"] == k]

    homes = [xy for w in town.wards for xy in w["homes"]]
    street_points = [town.nodes[r] for refs, tags in town.ways if tags.get("highway") != "footway" for r in refs]
    return Anchors(
        homes=shifted(homes), shops=shifted(kind("shops")), parks=shifted(kind("park")),
        schools=shifted(kind("school")), streets=shifted(street_points),
        # One ward has a burglary problem, as real towns have; the hotspot map should find it.
        hot_ward_homes=shifted(town.wards[0]["homes"]),
        area=affinity.translate(box(0, 0, _WIDTH, _HEIGHT).buffer(-3), *_ORIGIN),
    )


def _times(rng, n: int, start: datetime, days: int, hours: np.ndarray, weekdays: np.ndarray,
           season: np.ndarray | None = None) -> list[datetime]:
    """``n`` local times over ``days`` days with the given hour, weekday and month profile."""
    day_index = np.arange(days)
    dates = [start.date() + timedelta(days=int(d)) for d in day_index]
    weight = np.array([weekdays[d.weekday()] * (season[d.month - 1] if season is not None else 1) for d in dates])
    chosen = rng.choice(day_index, size=n, p=weight / weight.sum())
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    minute = rng.integers(0, 60, size=n)
    return [datetime.combine(dates[c], time(int(h), int(m))) for c, h, m in zip(chosen, hour, minute, strict=False)]


def synthesise_signals(anchors: Anchors, *, end: date, days: int = 365, seed: int = 0) -> pd.DataFrame:
    """A year of signals with true patterns, as the rows of a Dutch import CSV.

    Columns: id, datum, tijd (``HH:MM`` or a window ``HH:MM-HH:MM``), categorie (Dutch), bron,
    lat, lon (WGS84), omschrijving, status. Times are local and end before ``end``.
    """
    rng = np.random.default_rng(seed + 1)
    start = datetime.combine(end - timedelta(days=days), time())
    rows: list[dict] = []

    def near(points: np.ndarray, n: int, spread: float) -> np.ndarray:
        return points[rng.integers(0, len(points), size=n)] + rng.normal(0, spread, size=(n, 2))

    def add(category, moments, xy, *, sources=("resident",), p_source=None, window=None):
        for moment, (x, y) in zip(moments, xy, strict=False):
            tijd = moment.strftime("%H:%M")
            when = moment
            if window is not None and rng.random() < window[2]:
                # The resident only knows a window, e.g. "between 22:00 and 07:00".
                first, last = window[0], window[1]
                when = datetime.combine(moment.date(), time(first))
                tijd = f"{first:02d}:00-{last:02d}:00"
            rows.append({
                "when": when, "tijd": tijd, "category": category,
                "bron": SOURCES[rng.choice(sources, p=p_source)], "x": x, "y": y,
            })

    # Burglaries: background plus near-repeats within ~400 m over the following weeks.
    n_seed = 70
    seeds_xy = np.vstack([near(anchors.homes, n_seed // 2, 15), near(anchors.hot_ward_homes, n_seed - n_seed // 2, 15)])
    seeds_t = _times(rng, n_seed, start, days - 60, _HOURS["night"] + _HOURS["day"], _WEEKDAY_FLAT)
    burglary_xy, burglary_t = list(seeds_xy), list(seeds_t)
    for (x, y), moment in zip(seeds_xy, seeds_t, strict=False):
        for _ in range(rng.poisson(1.3)):
            angle, distance = rng.uniform(0, 2 * math.pi), rng.exponential(130)
            if distance > 400:
                continue
            follow = moment + timedelta(days=float(rng.exponential(9)), hours=float(rng.normal(0, 3)))
            burglary_xy.append((x + distance * math.cos(angle), y + distance * math.sin(angle)))
            burglary_t.append(follow)
    add("inbraak", burglary_t, burglary_xy, sources=("resident", "police", "officer"), p_source=(0.7, 0.2, 0.1),
        window=(22, 7, 0.45))
    summer = np.array([0.6, 0.6, 0.8, 1, 1.2, 1.5, 1.6, 1.6, 1.2, 1, 0.8, 0.7])
    dark = np.array([1.8, 1.6, 1.2, 0.8, 0.5, 0.4, 0.4, 0.5, 0.8, 1.3, 1.7, 1.9])
    hangouts = np.vstack([anchors.shops, anchors.parks])
    # category, yearly count, where, spread (m), hours, weekdays, season, sources, their shares, window
    resident_member_officer = (("resident", "was_member", "officer"), (0.6, 0.25, 0.15))
    specs = [
        ("jongerenoverlast", 260, hangouts, 60, "evening", _WEEKEND, summer, *resident_member_officer, None),
        ("vandalisme", 120, np.vstack([anchors.schools, anchors.parks]), 90, "night", _WEEKEND, None,
         ("resident", "municipality", "was_member"), (0.5, 0.3, 0.2), (23, 7, 0.3)),
        ("straatverlichting", 90, anchors.streets, 5, "evening", _WEEKDAY_FLAT, dark,
         ("resident", "was_member", "municipality"), (0.5, 0.3, 0.2), None),
        ("autokraak", 90, np.vstack([anchors.shops, anchors.streets[::7]]), 70, "night", _WEEKDAY_FLAT, None,
         ("resident", "police"), (0.8, 0.2), (22, 7, 0.5)),
        ("verdachte_situatie", 100, anchors.homes, 20, "evening", _WEEKDAY_FLAT, None,
         ("resident", "was_member"), (0.7, 0.3), None),
        ("drugs", 40, anchors.parks[::2], 40, "evening", _WEEKEND, summer, ("officer", "resident"), (0.7, 0.3), None),
        ("geweld", 25, anchors.shops, 40, "night", _WEEKEND, None, ("police", "resident"), (0.6, 0.4), None),
        ("overig", 35, anchors.homes, 30, "day", _WEEKDAY_FLAT, None, ("resident", "municipality"), (0.7, 0.3), None),
    ]
    for category, count, where, spread, hours, weekdays, season, sources, p_source, window in specs:
        n = int(rng.poisson(count))
        add(category, _times(rng, n, start, days, _HOURS[hours], weekdays, season), near(where, n, spread),
            sources=sources, p_source=p_source, window=window)
    frame = pd.DataFrame(rows)
    # Scatter around places near the edge can land outside the town; real signals would not.
    frame = frame[contains_xy(anchors.area, frame["x"].to_numpy(), frame["y"].to_numpy())]
    frame = frame[(frame["when"] >= start) & (frame["when"] < datetime.combine(end, time()) - timedelta(hours=9))]
    frame = frame.sort_values("when", kind="stable").reset_index(drop=True)
    age_days = (datetime.combine(end, time()) - frame["when"]).dt.days
    roll = rng.random(len(frame))
    status = np.where(
        age_days > 30, np.where(roll < 0.75, "opgelost", "open"), np.where(roll < 0.3, "in_behandeling", "open")
    )
    status = np.where((frame["category"] == "straatverlichting") & (age_days > 14), "opgelost", status)
    code = {dutch: code for code, dutch in CATEGORIES.items()}
    descriptions = [_DESCRIPTIONS[code[c]][int(rng.integers(len(_DESCRIPTIONS[code[c]])))] for c in frame["category"]]
    lon, lat = transformer(anchors.crs, settings.WGS84).transform(
        frame["x"].to_numpy(), frame["y"].to_numpy()
    )
    return pd.DataFrame(
        {
            "id": [f"DEMO-{i + 1:05d}" for i in range(len(frame))],
            "datum": frame["when"].dt.strftime("%d-%m-%Y"),
            "tijd": frame["tijd"],
            "categorie": frame["category"],
            "bron": frame["bron"],
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "omschrijving": descriptions,
            "status": status,
        }
    )


# --------------------------------------------------------------------------------------------
# The whole demo


def demo_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "demo"


DEMO_BATCH = "demo/signals.csv"
"""The name the demo's signals are stored under: a real import is named after its file, never a path."""


def real_data(store: Store) -> list[str]:
    """What ``store`` holds that no demo wrote (``["2 wards", "10 signals"]``; empty if nothing):
    signals outside the demo's imports, registered-crime counts, accounts, and wards of a store
    without a demo."""
    batches = store.batches()
    demo = batches[batches["file_name"] == DEMO_BATCH]
    found = {
        "wards": 0 if len(demo) else len(store.ward_summary()),
        "signals": store.incident_count() - int(demo["imported"].sum()),
        "imports of registered crime": int((batches["kind"] == "outcomes").sum()),
        "accounts": len(account_store.user_rows(store)),
    }
    return [f"{count} {what}" for what, count in found.items() if count > 0]


def build_demo(
    store: Store, data_dir: Path, *, seed: int = 0, end: date | None = None, place: str | None = None,
    force: bool = False,
) -> DemoSummary:
    """Write a demo into ``data_dir`` and ``store``: wards, streets, a year of signals, a season
    of patrols.

    Without ``place`` it is Demostad, fully synthetic and offline. With ``place`` (needs
    internet, e.g. ``"Zoetermeer, Netherlands"``) the wards (CBS via PDOK) and streets
    (OpenStreetMap) are real and only the signals and patrols are synthesised.

    Deterministic: the same ``seed`` and ``end`` give the same files and signals. ``end``
    (default: today) is the day after the last signal, so the demo always looks current.
    A store holding real data (``real_data``) is refused unless ``force``; the store gets the
    whole demo or, if a step fails, nothing.
    """
    end = end or _time.today()
    if end > _time.today():
        msg = f"end must not lie in the future, got {end.isoformat()}"
        raise InputError(msg)
    found = real_data(store)
    if found and not force:
        msg = (f"the store {store.url} holds real data ({', '.join(found)}); a demo would put synthetic "
               "signals beside it: build the demo in an empty store (another {data_dir} or {db}), or add it anyway "
               "with {force}")
        raise InputError(msg, options=("data_dir", "db", "force"))
    with store.atomic() as atomic:
        return _build_demo(atomic, Path(data_dir), seed=seed, end=end, place=place)


def _build_demo(store: Store, data_dir: Path, *, seed: int, end: date, place: str | None) -> DemoSummary:
    folder = demo_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if place is None:
        town = draw_town(seed)
        osm_file = str(write_osm(town, folder / "demostad.osm"))
        wards = town_wards(town)
        town_places(town).to_crs(settings.WGS84).to_file(folder / "places.geojson", driver="GeoJSON")
        store_wards(store, wards)
        graphs = cache_ward_graphs(store, osm_file, data_dir)
        anchors = town_anchors(town)
        streets_km = sum(LineString([town.nodes[r] for r in refs]).length for refs, _ in town.ways) / 1000
        notice = SYNTHETIC_NOTICE
    else:
        wards = fetch_wards(place.split(",")[0].strip())
        store_wards(store, wards)
        graphs, anchors, streets_km = place_anchors(store, data_dir, wards)
        osm_file = ""
        notice = PLACE_NOTICE.format(place=place)
    wards.to_crs(settings.WGS84).to_file(folder / "wards.geojson", driver="GeoJSON")
    signals = synthesise_signals(anchors, end=end, seed=seed)
    signals_file = folder / "signals.csv"
    signals.to_csv(signals_file, sep=";", index=False, encoding="utf-8")
    report = import_file(store, signals_file, rejects_dir=folder, now=datetime.combine(end, time()),
                         file_name=DEMO_BATCH)
    log.info("demo: %d wards, %d signals (%d rejected)", len(wards), report.imported, report.rejected)
    from .season import demo_patrols  # a season of recorded patrols and agreements (issue 6)

    demo_patrols(store, data_dir, seed=seed, end=end)
    return DemoSummary(
        data_dir=str(data_dir),
        wards=tuple(wards["name"]),
        osm_file=osm_file,
        signals_file=str(signals_file),
        signals=report.imported + report.duplicates,
        streets_km=streets_km,
        period=((end - timedelta(days=365)).isoformat(), end.isoformat()),
        notice=notice,
        graphs={name: str(path) for name, path in graphs.items()},
    )


PLACE_NOTICE = (
    "Demo data: the wards and streets of {place} are real (CBS, © OpenStreetMap contributors); "
    "all signals and patrols are synthetic (made up), not real incidents."
)


def place_anchors(
    store: Store, data_dir: Path, wards: gpd.GeoDataFrame, *, osm: Path | None = None
) -> tuple[dict, Anchors, float]:
    """Street graphs (downloaded through osmnx and cached, or read from an ``osm`` extract) and
    signal anchors of real wards.

    Shops, parks and schools come from OpenStreetMap when it answers; otherwise the busiest
    crossings stand in for shops and random crossings for parks and schools.
    """
    import osmnx as ox

    from .._geo import metric_crs_of
    from ..streets import build_and_cache_ward_graph, graph_summary

    crs = metric_crs_of(wards)
    graphs, homes, km = {}, [], 0.0
    for name in wards["name"]:
        graph, graphs[name] = build_and_cache_ward_graph(store, name, osm=osm, data_dir=data_dir)
        nodes = ox.graph_to_gdfs(graph, edges=False).to_crs(crs)
        homes.append(np.c_[nodes.geometry.x, nodes.geometry.y])
        km += graph_summary(graph)["km"]
    everywhere = np.vstack(homes)
    area = wards.to_crs(crs).union_all()
    tags = {"shop": True, "amenity": ["school"], "leisure": ["park", "playground"]}
    outline = wards.to_crs(settings.WGS84).union_all()
    try:
        if osm is None:
            features = ox.features_from_polygon(outline, tags=tags)
        elif Path(osm).suffix.lower() in {".osm", ".bz2", ".xml"}:
            features = ox.features_from_xml(osm, polygon=outline, tags=tags)
        else:
            msg = f"{Path(osm).name}: osmnx reads places only from OSM XML"
            raise ValueError(msg)
        features = features.to_crs(crs)
        centres = features.geometry.centroid

        def kind(mask) -> np.ndarray:
            return np.c_[centres[mask].x, centres[mask].y]

        shops = kind(features.get("shop", pd.Series(index=features.index)).notna())
        schools = kind(features.get("amenity", pd.Series(index=features.index)) == "school")
        parks = kind(features.get("leisure", pd.Series(index=features.index)).notna())
    except Exception as error:  # osmnx raises several types when Overpass is unreachable or empty
        log.warning("no shops/parks/schools from OpenStreetMap (%s); using street crossings", error)
        shops, schools, parks = np.empty((0, 2)), np.empty((0, 2)), np.empty((0, 2))
    rng = np.random.default_rng(0)
    fallback = everywhere[rng.choice(len(everywhere), size=min(12, len(everywhere)), replace=False)]
    anchors = Anchors(
        homes=everywhere, shops=shops if len(shops) else fallback, parks=parks if len(parks) else fallback,
        schools=schools if len(schools) else fallback, streets=everywhere, hot_ward_homes=homes[0],
        area=area.buffer(-3), crs=str(crs),
    )
    return graphs, anchors, km
