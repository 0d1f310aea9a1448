"""Street graphs: walkable OpenStreetMap networks through osmnx, prepared once for routing.

``prepare_graph`` is the only function that builds a routing graph; everything after it treats
the graph as read-only, because the dashboard shares one graph between all its sessions.
"""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx
import osmnx as ox

from . import settings
from ._crs import metric_crs_for
from ._errors import DataNotFoundError, InputError

log = logging.getLogger(__name__)

_NOT_WALKABLE_HIGHWAYS = {
    "motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed", "abandoned",
    "platform", "raceway", "bus_guideway", "busway", "escape", "bridleway", "elevator", "corridor",
}
_NO = {"no", "private"}


def is_walkable(data: dict) -> bool:
    """Whether people may walk along an OSM way with these tags (osmnx's walk filter rules)."""
    highway = data.get("highway")
    highways = set(highway) if isinstance(highway, list) else {highway}
    if not highways or None in highways or highways <= _NOT_WALKABLE_HIGHWAYS:
        return False
    if data.get("foot") in _NO or data.get("area") == "yes":
        return False
    if data.get("access") in _NO and data.get("foot") not in {"yes", "designated", "permissive"}:
        return False
    return data.get("service") != "private"


def graph_from_osm_file(path: str | Path) -> nx.MultiDiGraph:
    """The walkable street graph in an OSM XML extract (``.osm`` or ``.osm.bz2``), unprojected.

    Every way is walkable in both directions; one-way streets only bind cars.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"OSM file not found: {path}"
        raise DataNotFoundError(msg)
    graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    walkable = [(u, v, k) for u, v, k, data in graph.edges(keys=True, data=True) if is_walkable(data)]
    graph = graph.edge_subgraph(walkable).copy()
    if graph.number_of_edges() == 0:
        msg = f"{path.name}: contains no walkable streets"
        raise InputError(msg)
    graph = ox.simplify_graph(graph)
    log.info("read %s: %d nodes, %d walkable edges", path.name, len(graph), graph.number_of_edges())
    return graph


def prepare_graph(graph: nx.MultiDiGraph, *, speed_kmh: float = settings.WALKING_SPEED_KMH) -> nx.MultiDiGraph:
    """Project to the metric CRS, keep the largest strongly connected part, add walking times.

    Returns a new graph; edges carry ``length`` (m) and ``walk_time`` (s), and the graph records
    ``speed_kmh`` so later steps can tell which speed its times assume.
    """
    if speed_kmh <= 0:
        msg = f"speed_kmh must be > 0, got {speed_kmh}"
        raise InputError(msg)
    if graph.number_of_nodes() == 0:
        msg = "the street graph is empty"
        raise InputError(msg)
    if ox.projection.is_projected(graph.graph["crs"]):
        projected = graph.copy()
    else:
        xs = [d["x"] for _, d in graph.nodes(data=True)]
        ys = [d["y"] for _, d in graph.nodes(data=True)]
        centre = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        projected = ox.project_graph(graph, to_crs=metric_crs_for(*centre))
    projected = ox.truncate.largest_component(projected, strongly=True)
    metres_per_second = speed_kmh / 3.6
    for _, _, data in projected.edges(data=True):
        data["walk_time"] = float(data["length"]) / metres_per_second
    projected.graph["speed_kmh"] = float(speed_kmh)
    log.info(
        "prepared graph: %d nodes, %d edges, CRS %s", len(projected), projected.number_of_edges(),
        projected.graph["crs"],
    )
    return projected


def save_graph(graph: nx.MultiDiGraph, path: str | Path) -> Path:
    """Cache a prepared graph as GraphML (osmnx loads it back with its types and CRS)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, path)
    return path


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Load a GraphML graph saved by ``save_graph``."""
    path = Path(path)
    if not path.is_file():
        msg = f"graph file not found: {path}; build it with `was-planner graph` or `was-planner demo`"
        raise DataNotFoundError(msg)
    return ox.load_graphml(path, edge_dtypes={"walk_time": float})
