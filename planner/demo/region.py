"""A synthetic region of many wards for scale tests: the demo town tiled and varied (issue 17).

Tile ``t`` is the demo town drawn once, moved ``t`` places along a grid of towns, with its own
season of signals (``synthesise_signals`` with seed ``seed + t``: other times, places and
counts, the same patterns). Its four wards are named ``R<t>-<ward>``; their street graphs are the
town's graphs moved with them, so building a region of 3,000 wards reads one OSM file. SYNTHETIC:
like the demo, nothing here is a real place or signal.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from shapely import affinity

from .. import settings
from .._errors import InputError
from .._geo import transformer
from ..signals.incidents import RawTable
from ..signals.intake import import_table
from ..signals.wards import store_wards
from ..storage.store import Store
from ..streets import build_ward_graph
from ..streets.cache import save_graph, ward_graph_path
from . import _HEIGHT, _WIDTH, Anchors, draw_town, town_anchors, town_wards, write_osm
from . import synthesise_signals as town_signals

log = logging.getLogger(__name__)

_GAP_M = 1_000.0
"""Open space between two tiles, so that no ward's buffered graph reaches the next town."""

MAX_WARDS = 4_000


@dataclass(frozen=True)
class RegionSummary:
    wards: tuple[str, ...]
    signals: int
    days: int

    def to_json(self) -> dict:
        return {"wards": len(self.wards), "signals": self.signals, "days": self.days}


def _moved_graph(graph: nx.MultiDiGraph, dx: float, dy: float, ward: str) -> nx.MultiDiGraph:
    moved = nx.MultiDiGraph(graph)  # an unfrozen copy; the cached graph stays as it is
    moved.graph = {**graph.graph, "ward": ward}
    for _, data in moved.nodes(data=True):
        data["x"] += dx
        data["y"] += dy
    for _, _, data in moved.edges(data=True):
        if "geometry" in data:
            data["geometry"] = affinity.translate(data["geometry"], dx, dy)
    return moved


def _moved_anchors(anchors: Anchors, dx: float, dy: float) -> Anchors:
    shift = np.array([dx, dy])
    return Anchors(homes=anchors.homes + shift, shops=anchors.shops + shift, parks=anchors.parks + shift,
                   schools=anchors.schools + shift, streets=anchors.streets + shift,
                   hot_ward_homes=anchors.hot_ward_homes + shift, area=affinity.translate(anchors.area, dx, dy),
                   crs=anchors.crs)


def build_region(store: Store, data_dir: str | Path, *, wards: int, end: date, days: int = 120,
                 seed: int = 0) -> RegionSummary:
    """Store ``wards`` synthetic wards (tiles of four), their cached street graphs under
    ``data_dir`` and ``days`` days of signals up to ``end``; reproducible for ``seed``.

    Raises
    ------
    InputError
        ``wards`` or ``days`` is out of range.
    """
    if not 1 <= wards <= MAX_WARDS:
        msg = f"wards must be 1–{MAX_WARDS}, got {wards}"
        raise InputError(msg)
    if not 90 <= days <= 366:  # the town's near-repeat burglaries start up to 60 days before the end
        msg = f"days must be 90–366, got {days}"
        raise InputError(msg)
    town = draw_town(seed)
    base = town_wards(town)
    anchors = town_anchors(town)
    with tempfile.TemporaryDirectory() as scratch:
        osm = write_osm(town, Path(scratch) / "town.osm")
        graphs = [build_ward_graph(polygon, osm=osm) for polygon in base.to_crs(settings.WGS84).geometry]
    tiles = math.ceil(wards / len(base))
    columns = math.ceil(math.sqrt(tiles))
    to_rd, to_wgs84 = transformer(settings.WGS84, settings.RD_NEW), transformer(settings.RD_NEW, settings.WGS84)
    frames, names, signals = [], [], []
    for tile in range(tiles):
        dx, dy = (tile % columns) * (_WIDTH + _GAP_M), (tile // columns) * (_HEIGHT + _GAP_M)
        keep = min(len(base), wards - tile * len(base))
        moved = base.iloc[:keep].copy()
        moved["name"] = [f"R{tile + 1}-{name}" for name in moved["name"]]
        moved["code"] = [f"WR{tile + 1:04d}{i:02d}" for i in range(keep)]
        moved["geometry"] = moved.geometry.translate(dx, dy)
        x, y = to_rd.transform(*moved[["meeting_point_lon", "meeting_point_lat"]].to_numpy().T)
        moved["meeting_point_lon"], moved["meeting_point_lat"] = to_wgs84.transform(x + dx, y + dy)
        frames.append(moved)
        for graph, name in zip(graphs, moved["name"], strict=False):
            save_graph(_moved_graph(graph, dx, dy, name), ward_graph_path(name, data_dir=data_dir))
        names += list(moved["name"])
        rows = town_signals(_moved_anchors(anchors, dx, dy), end=end, days=days, seed=seed + tile)
        rows["id"] = [f"R{tile + 1}-{i}" for i in range(len(rows))]
        signals.append(rows)
    region = pd.concat(frames, ignore_index=True).set_crs(settings.RD_NEW, allow_override=True)
    store_wards(store, region)
    table = pd.concat(signals, ignore_index=True)
    report = import_table(store, RawTable(rows=table), file_name="region/signals.csv",
                          content_hash=f"region-{wards}-{days}-{seed}-{end}", now=datetime.combine(end, time()))
    log.info("region: %d wards, %d signals", len(names), report.imported)
    return RegionSummary(wards=tuple(names), signals=report.imported + report.duplicates, days=days)
