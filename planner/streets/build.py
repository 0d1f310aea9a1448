"""Building street graphs: walkable networks from OpenStreetMap or a municipal network, prepared once for routing.

Where a graph comes from:

- an OSM extract on disk: ``.osm``/``.osm.bz2`` through osmnx, ``.osm.pbf`` converted to OSM XML
  with pyosmium first (optionally clipped to a polygon while converting);
- a GeoPackage/GeoJSON of line segments (a municipal walking network), snapped into a graph;
- osmnx over the internet (a place name or a ward polygon), cached as GraphML in the data
  directory, so the second call for the same query needs no network.

``build_ward_graph`` picks the source and ``prepare_graph`` is the only function that builds a
routing graph; its result is frozen (``networkx.freeze``) because the dashboard shares one graph
between all its sessions; ``cache`` keeps the prepared graphs on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .. import settings
from .._errors import DataNotFoundError, InputError, OfflineError
from .._geo import SEGMENT_SUFFIXES, metric_crs_for, metric_crs_of
from .cache import save_graph, stored_ward_name, ward_graph_path, write_graphml

log = logging.getLogger(__name__)

NETWORK_TYPES = ("walk", "bike")

DEFAULT_SPEED_KMH = {"walk": settings.WALKING_SPEED_KMH, "bike": 15.0}
"""Travel speed per network type when the caller gives none (cycling at an easy 15 km/h)."""

WARD_BUFFER_M = 150.0
"""A ward's graph also holds the streets up to this far outside its border, so that routes may
use the street just across the boundary (wards often end in the middle of a street)."""

SNAP_M = 0.05
"""Segment endpoints closer than this are one node. Measured on the Amsterdam Osdorp-Midden
network (14,114 segments): 5 pairs of endpoints are apart by less than 1 mm without being joined,
and that count stays 5 up to 5 cm; above 10 cm the pairs are real, distinct sidewalk ends."""

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf")

_NOT_WALKABLE_HIGHWAYS = {
    "motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed", "abandoned",
    "platform", "raceway", "bus_guideway", "busway", "escape", "bridleway", "elevator", "corridor",
}

_NOT_BIKEABLE_HIGHWAYS = {
    "motorway", "motorway_link", "construction", "proposed", "abandoned", "platform", "raceway",
    "bus_guideway", "busway", "escape", "elevator", "corridor", "steps", "footway", "pedestrian",
}

_NO = {"no", "private"}

_YES = {"yes", "designated", "permissive"}

_NAME_COLUMNS = ("name", "street", "straatnaam", "openbareruimte", "street_name", "stop_name")

_OTHER_MODE_PATHS = {"walk": "bike", "bike": "walk"}
"""The ``path_type`` of a segment network's paths that are for the other mode only (Amsterdam's
networks: ``walk`` sidewalks, ``bike`` cycle paths, ``walk_bike_connection`` joining them)."""

_CACHE_VERSION = 1

Downloader = Callable[[str | BaseGeometry, str], nx.MultiDiGraph]
"""``downloader(query, network_type)``: a place name or WGS84 polygon → an unprojected graph."""


def _highways(data: dict) -> set:
    highway = data.get("highway")
    return set(highway) if isinstance(highway, list) else {highway}


def is_walkable(data: dict) -> bool:
    """Whether people may walk along an OSM way with these tags (osmnx's walk filter rules)."""
    highways = _highways(data)
    if not highways or None in highways or highways <= _NOT_WALKABLE_HIGHWAYS:
        return False
    if data.get("foot") in _NO or data.get("area") == "yes":
        return False
    if data.get("access") in _NO and data.get("foot") not in _YES:
        return False
    return data.get("service") != "private"


def is_bikeable(data: dict) -> bool:
    """Whether people may cycle along an OSM way with these tags (osmnx's bike filter rules);
    footways and pedestrian streets count only when signed for bicycles."""
    highways = _highways(data)
    if not highways or None in highways:
        return False
    bicycle = data.get("bicycle")
    if highways <= _NOT_BIKEABLE_HIGHWAYS and bicycle not in _YES:
        return False
    if bicycle in _NO or data.get("area") == "yes":
        return False
    if data.get("access") in _NO and bicycle not in _YES:
        return False
    return data.get("service") != "private"


def _check_network_type(network_type: str) -> None:
    if network_type not in NETWORK_TYPES:
        msg = f"network_type must be one of {', '.join(NETWORK_TYPES)}, got {network_type!r}"
        raise InputError(msg)


def _allowed(network_type: str) -> Callable[[dict], bool]:
    _check_network_type(network_type)
    return is_walkable if network_type == "walk" else is_bikeable


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in OSM_SUFFIXES + SEGMENT_SUFFIXES if name.endswith(s)), path.suffix.lower())


def pbf_to_osm_xml(
    pbf: str | Path, xml: str | Path, *, polygon: BaseGeometry | None = None, network_type: str = "walk"
) -> int:
    """Convert the usable ways of an OSM PBF extract to OSM XML with pyosmium; returns their count.

    Only ways the network type allows are written, with every node they reference (pyosmium's
    ``BackReferenceWriter``). With ``polygon`` (WGS84), only ways with a node inside the
    polygon's bounding box are kept, which keeps municipality-sized extracts fast; the exact
    clip happens on the graph.
    """
    import osmium

    allowed = _allowed(network_type)
    pbf = Path(pbf)
    if not pbf.is_file():
        msg = f"OSM file not found: {pbf}"
        raise DataNotFoundError(msg)
    processor = osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY)
    if polygon is not None:
        processor = processor.with_locations()
    processor = processor.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    processor = processor.with_filter(osmium.filter.KeyFilter("highway"))
    west, south, east, north = polygon.bounds if polygon is not None else (-180, -90, 180, 90)
    written = 0
    try:
        with osmium.BackReferenceWriter(str(xml), ref_src=str(pbf), overwrite=True) as writer:
            for way in processor:
                if not allowed(dict(way.tags)):
                    continue
                if polygon is not None and not any(
                    node.location.valid() and west <= node.lon <= east and south <= node.lat <= north
                    for node in way.nodes
                ):
                    continue
                writer.add(way)
                written += 1
    except RuntimeError as error:  # libosmium reports unreadable input as RuntimeError
        msg = f"{pbf.name}: not a readable OSM PBF file ({error})"
        raise InputError(msg) from None
    log.info("converted %s: %d ways written to OSM XML", pbf.name, written)
    return written


def _read_osm(path: Path, *, network_type: str, polygon: BaseGeometry | None) -> nx.MultiDiGraph:
    """The usable, unsimplified, unprojected graph of an OSM extract."""
    allowed = _allowed(network_type)
    if not path.is_file():
        msg = f"OSM file not found: {path}"
        raise DataNotFoundError(msg)
    if _suffix(path) not in OSM_SUFFIXES:
        msg = f"{path.name}: not an OSM extract; use .osm, .osm.bz2 or .osm.pbf"
        raise InputError(msg)
    # Walking is allowed both ways along one-way streets; cycling follows the one-way tags.
    bidirectional = network_type == "walk"
    if _suffix(path) == ".osm.pbf":
        with tempfile.TemporaryDirectory(prefix="was-osm-") as tmp:
            xml = Path(tmp) / f"{path.name.removesuffix('.osm.pbf')}.osm"
            if pbf_to_osm_xml(path, xml, polygon=polygon, network_type=network_type) == 0:
                msg = f"{path.name}: contains no {network_type}able streets" + (" in the area" if polygon else "")
                raise InputError(msg)
            graph = _graph_from_xml(xml, bidirectional=bidirectional, name=path.name)
    else:
        graph = _graph_from_xml(path, bidirectional=bidirectional, name=path.name)
    # The graph is ours: dropping edges in place is much cheaper than copying an edge subgraph.
    graph.remove_edges_from([(u, v, k) for u, v, k, data in graph.edges(keys=True, data=True) if not allowed(data)])
    graph.remove_nodes_from([node for node, degree in graph.degree() if degree == 0])
    if graph.number_of_edges() == 0:
        msg = f"{path.name}: contains no {network_type}able streets"
        raise InputError(msg)
    log.info("read %s: %d nodes, %d %sable edges", path.name, len(graph), graph.number_of_edges(), network_type)
    return graph


def _graph_from_xml(path: Path, *, bidirectional: bool, name: str) -> nx.MultiDiGraph:
    try:
        return ox.graph_from_xml(path, bidirectional=bidirectional, simplify=False, retain_all=True)
    except (OSError, ValueError, KeyError) as error:  # bad XML, bz2 or an empty extract
        msg = f"{name}: not a readable OSM XML file ({error})"
        raise InputError(msg) from None


def _clip_and_simplify(graph: nx.MultiDiGraph, polygon: BaseGeometry | None, *, name: str) -> nx.MultiDiGraph:
    if polygon is not None:
        graph = clip_graph(graph, polygon, name=name)
    graph = ox.simplify_graph(graph)
    log.info("simplified %s: %d nodes, %d edges", name, len(graph), graph.number_of_edges())
    return graph


def graph_from_osm_file(
    path: str | Path, *, polygon: BaseGeometry | None = None, network_type: str = "walk"
) -> nx.MultiDiGraph:
    """The walkable (or bikeable) street graph in an OSM extract, simplified and unprojected.

    ``.osm`` and ``.osm.bz2`` are read by osmnx; ``.osm.pbf`` is converted to OSM XML with
    pyosmium first. With ``polygon`` (WGS84, already buffered as wanted) the graph keeps only the
    streets inside it. For walking every way is usable in both directions; one-way streets only
    bind cars.
    """
    path = Path(path)
    return _clip_and_simplify(_read_osm(path, network_type=network_type, polygon=polygon), polygon, name=path.name)


def clip_graph(
    graph: nx.MultiDiGraph, polygon_wgs84: BaseGeometry, *, name: str = "the street graph"
) -> nx.MultiDiGraph:
    """A copy of ``graph`` keeping the nodes inside ``polygon_wgs84`` (WGS84, any graph CRS)."""
    polygon = polygon_wgs84
    if ox.projection.is_projected(graph.graph["crs"]):
        polygon = gpd.GeoSeries([polygon_wgs84], crs=settings.WGS84).to_crs(graph.graph["crs"]).iloc[0]
    try:
        return ox.truncate.truncate_graph_polygon(graph, polygon)
    except ValueError:
        msg = f"{name}: has no streets inside the ward (+{WARD_BUFFER_M:.0f} m); does it cover the ward?"
        raise InputError(msg) from None


def ward_area(ward_polygon_wgs84: BaseGeometry, *, buffer_m: float = WARD_BUFFER_M) -> BaseGeometry:
    """The ward polygon grown by ``buffer_m`` metres (in the local metric CRS), back in WGS84."""
    if buffer_m < 0:
        msg = f"buffer_m must be ≥ 0, got {buffer_m}"
        raise InputError(msg)
    if ward_polygon_wgs84.is_empty or ward_polygon_wgs84.geom_type not in {"Polygon", "MultiPolygon"}:
        msg = f"the ward must be a polygon, got {ward_polygon_wgs84.geom_type}"
        raise InputError(msg)
    west, south, east, north = ward_polygon_wgs84.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        msg = "the ward polygon is not in longitude/latitude: reproject it with .to_crs('EPSG:4326')"
        raise InputError(msg)
    centre = ward_polygon_wgs84.envelope.centroid
    series = gpd.GeoSeries([ward_polygon_wgs84], crs=settings.WGS84)
    metric = series.to_crs(metric_crs_for(centre.x, centre.y))
    return metric.buffer(buffer_m).to_crs(settings.WGS84).iloc[0]


def graph_from_segments(
    source: str | Path | gpd.GeoDataFrame,
    *,
    polygon: BaseGeometry | None = None,
    snap_m: float = SNAP_M,
    network_type: str = "walk",
) -> nx.MultiDiGraph:
    """An osmnx-style graph from line segments (a municipal walking network), in their CRS.

    Segment endpoints closer than ``snap_m`` become one node (at their mean position); every
    segment becomes an edge in both directions with its ``geometry`` and ``length`` (from the
    geometry, in metres), plus its text attributes (e.g. ``path_type``, ``crossing``) and a
    ``name`` when a street-name column exists. ``polygon`` (WGS84) keeps the segments that touch
    it. Segments whose ``path_type`` is the other mode's (``bike`` in a walk graph, ``walk`` in a
    bike graph) are left out. The result carries ``crs`` like an osmnx graph, so
    ``prepare_graph`` works unchanged.
    """
    _check_network_type(network_type)
    if snap_m < 0:
        msg = f"snap_m must be ≥ 0, got {snap_m}"
        raise InputError(msg)
    name = "segments" if isinstance(source, gpd.GeoDataFrame) else Path(source).name
    segments = source if isinstance(source, gpd.GeoDataFrame) else _read_segments(Path(source), polygon)
    if segments.crs is None:
        msg = f"{name}: has no CRS; set it, e.g. gdf.set_crs('EPSG:28992')"
        raise InputError(msg)
    if not segments.crs.is_projected:
        segments = segments.to_crs(metric_crs_of(segments))
    if polygon is not None:
        area = gpd.GeoSeries([polygon], crs=settings.WGS84).to_crs(segments.crs).iloc[0]
        segments = segments[segments.intersects(area)]
    if "path_type" in segments.columns:
        segments = segments[segments["path_type"] != _OTHER_MODE_PATHS[network_type]]
    segments = segments.explode(index_parts=False)
    segments = segments[segments.geom_type == "LineString"].reset_index(drop=True)
    segments = segments[~segments.geometry.is_empty]
    if segments.empty:
        msg = f"{name}: contains no line segments" + (" in the ward" if polygon is not None else "")
        raise InputError(msg)
    geometries = shapely.force_2d(segments.geometry.to_numpy())
    count = len(geometries)
    ends = np.vstack([
        shapely.get_coordinates(shapely.get_point(geometries, 0)),
        shapely.get_coordinates(shapely.get_point(geometries, -1)),
    ])
    labels = _snap(ends, snap_m)
    nodes = np.zeros((labels.max() + 1, 2))
    np.add.at(nodes, labels, ends)
    nodes /= np.bincount(labels)[:, None]
    moved = np.hypot(*(ends - nodes[labels]).T)
    log.info(
        "%s: %d segments, %d endpoints → %d nodes (snapped within %.2f m; largest move %.3f m)",
        name, count, len(ends), len(nodes), snap_m, float(moved.max()),
    )
    attributes = _segment_attributes(segments)
    graph = nx.MultiDiGraph(crs=segments.crs.to_string(), snap_m=float(snap_m), source=name)
    graph.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(nodes))
    starts, stops = labels[:count], labels[count:]
    for i, (u, v, line) in enumerate(zip(starts, stops, geometries, strict=True)):
        if u == v:  # shorter than the snap distance or a closed ring: no use for routing
            continue
        coords = shapely.get_coordinates(line)
        coords[0], coords[-1] = nodes[u], nodes[v]
        forward = shapely.LineString(coords)
        data = {**attributes[i], "length": float(forward.length), "segment": i}
        graph.add_edge(int(u), int(v), geometry=forward, reversed=False, **data)
        graph.add_edge(int(v), int(u), geometry=forward.reverse(), reversed=True, **data)
    graph.remove_nodes_from([n for n in list(graph) if graph.degree(n) == 0])
    if graph.number_of_edges() == 0:
        msg = f"{name}: all segments are shorter than the snap distance {snap_m} m"
        raise InputError(msg)
    return graph


def _read_segments(path: Path, polygon: BaseGeometry | None) -> gpd.GeoDataFrame:
    if not path.is_file():
        msg = f"network file not found: {path}"
        raise DataNotFoundError(msg)
    try:
        mask = None
        if polygon is not None:
            crs = pyogrio.read_info(path)["crs"]
            mask = gpd.GeoSeries([polygon], crs=settings.WGS84).to_crs(crs).iloc[0] if crs else polygon
        frame = pyogrio.read_dataframe(path, mask=mask)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as error:
        msg = f"{path.name}: not a readable GeoPackage/GeoJSON of line segments ({error})"
        raise InputError(msg) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{path.name}: has no geometry; a street network file needs line segments"
        raise InputError(msg)
    return frame


def _snap(points: np.ndarray, tolerance: float) -> np.ndarray:
    """A node label per point: points joined by chains of distances ≤ tolerance share one."""
    unique, labels = np.unique(points, axis=0, return_inverse=True)
    labels = labels.ravel()
    if tolerance == 0 or len(unique) < 2:
        return labels
    pairs = cKDTree(unique).query_pairs(tolerance, output_type="ndarray")
    adjacency = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(unique),) * 2)
    _, clusters = connected_components(adjacency, directed=False)
    return clusters[labels]


def _segment_attributes(segments: gpd.GeoDataFrame) -> list[dict]:
    """The text attributes of each segment (null values left out), with a ``name`` if any."""
    columns = [
        c for c in segments.columns
        if c != segments.geometry.name
        and (segments[c].dtype == object or pd.api.types.is_string_dtype(segments[c].dtype))
        and c.lower() not in {"length", "geometry"}
    ]
    name_column = next((c for c in columns if c.lower() in _NAME_COLUMNS[:-1]), None)
    records = segments[columns].to_dict("records")
    cleaned = []
    for record in records:
        row = {k: str(v) for k, v in record.items() if not pd.isna(v) and k != name_column}
        if name_column and not pd.isna(record[name_column]):
            row["name"] = str(record[name_column])
        cleaned.append(row)
    return cleaned


def _osmnx_download(query: str | BaseGeometry, network_type: str) -> nx.MultiDiGraph:
    if isinstance(query, str):
        return ox.graph_from_place(query, network_type=network_type)
    return ox.graph_from_polygon(query, network_type=network_type)


def query_key(query: str | BaseGeometry, network_type: str) -> str:
    """A stable file-name key for an online query: a hash of the place name (case and spacing
    ignored) or the polygon (to 6 decimals, ~0.1 m), plus the network type."""
    if isinstance(query, str):
        text = " ".join(query.casefold().split())
        kind = "place"
    else:
        text = shapely.to_wkt(shapely.normalize(query), rounding_precision=6)
        kind = "area"
    payload = json.dumps({"q": text, "network": network_type, "v": _CACHE_VERSION}, sort_keys=True)
    return f"{kind}-{network_type}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def graph_from_osmnx(
    query: str | BaseGeometry,
    *,
    network_type: str = "walk",
    cache_dir: str | Path | None = None,
    downloader: Downloader | None = None,
) -> nx.MultiDiGraph:
    """The osmnx street graph of a place name or WGS84 polygon, unprojected, cached on disk.

    The download is kept as GraphML under ``cache_dir`` (default ``DATA_DIR/osm_cache``) named by
    ``query_key``; a later call with the same query loads it without network. ``downloader``
    replaces the osmnx download (tests inject one).

    Raises
    ------
    OfflineError
        Nothing is cached for this query and OpenStreetMap cannot be reached.
    """
    _check_network_type(network_type)
    if isinstance(query, str) and not query.strip():
        msg = "the place name is empty; e.g. 'Zoetermeer, Netherlands'"
        raise InputError(msg)
    cache_dir = Path(cache_dir) if cache_dir is not None else settings.data_dir() / "osm_cache"
    path = cache_dir / f"{query_key(query, network_type)}.graphml"
    label = query if isinstance(query, str) else "the ward polygon"
    if path.is_file():
        log.info("loading the cached %s graph of %s from %s", network_type, label, path)
        return ox.load_graphml(path)
    import requests

    log.info("downloading the %s graph of %s from OpenStreetMap", network_type, label)
    try:
        graph = (downloader or _osmnx_download)(query, network_type)
    except (requests.RequestException, ConnectionError, TimeoutError) as error:
        msg = (
            f"cannot download the street graph of {label}: no connection to OpenStreetMap ({error}); "
            "work offline with a local extract: {osm} FILE (.osm, .osm.bz2, .osm.pbf, .gpkg)"
        )
        raise OfflineError(msg, options=("osm",)) from None
    except (ox._errors.InsufficientResponseError, ValueError, TypeError) as error:
        msg = f"OpenStreetMap has no {network_type} network for {label} ({error})"
        raise DataNotFoundError(msg) from None
    write_graphml(graph, path)
    log.info("cached %s graph of %s: %d nodes at %s", network_type, label, len(graph), path)
    return graph


def prepare_graph(graph: nx.MultiDiGraph, *, speed_kmh: float = settings.WALKING_SPEED_KMH) -> nx.MultiDiGraph:
    """Project to the metric CRS, keep the largest strongly connected part, add walking times.

    Returns a new, frozen graph (``networkx.freeze``: read-only, shareable); edges carry
    ``length`` (m) and ``walk_time`` (s, the travel time at ``speed_kmh`` whatever the mode), and
    the graph records ``speed_kmh`` so later steps can tell which speed its times assume.
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
    return nx.freeze(projected)


def build_ward_graph(
    ward_polygon_wgs84: BaseGeometry | None,
    *,
    osm: str | Path | None = None,
    place: str | None = None,
    network_type: str = "walk",
    speed_kmh: float | None = None,
    buffer_m: float = WARD_BUFFER_M,
    cache_dir: str | Path | None = None,
    downloader: Downloader | None = None,
) -> nx.MultiDiGraph:
    """The prepared street graph of a ward, from the right source.

    - ``osm`` given: an OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``) or a segment network
      (``.gpkg``, ``.geojson``), clipped to the ward plus ``buffer_m``; no network needed.
    - ``place`` given: the osmnx graph of that place (cached in ``cache_dir``), clipped to the
      ward when a polygon is given.
    - neither: the osmnx graph of the ward polygon plus ``buffer_m`` (cached).

    ``speed_kmh`` defaults to 4.5 for walking and 15 for cycling.
    """
    _check_network_type(network_type)
    if osm is not None and place is not None:
        msg = "give either an OSM file or a place name, not both"
        raise InputError(msg)
    if ward_polygon_wgs84 is None and osm is None and place is None:
        msg = "give a ward polygon, an OSM file or a place name"
        raise InputError(msg)
    speed = DEFAULT_SPEED_KMH[network_type] if speed_kmh is None else speed_kmh
    area = ward_area(ward_polygon_wgs84, buffer_m=buffer_m) if ward_polygon_wgs84 is not None else None
    if osm is not None:
        path = Path(osm)
        if _suffix(path) in SEGMENT_SUFFIXES:
            graph = graph_from_segments(path, polygon=area, network_type=network_type)
            source = path.name
        else:
            graph = graph_from_osm_file(path, polygon=area, network_type=network_type)
            source = path.name
    else:
        graph = graph_from_osmnx(place if place is not None else area, network_type=network_type,
                                 cache_dir=cache_dir, downloader=downloader)
        if place is not None and area is not None:
            graph = clip_graph(graph, area, name=place)
        source = place if place is not None else "OpenStreetMap (ward polygon)"
    prepared = prepare_graph(graph, speed_kmh=speed)
    # Frozen graphs refuse structural changes only; their fresh graph attributes are ours to set.
    prepared.graph.update(network_type=network_type, source=str(source), buffer_m=float(buffer_m))
    return prepared


def build_and_cache_ward_graph(
    store,
    ward_name: str,
    *,
    osm: str | Path | None = None,
    place: str | None = None,
    network_type: str = "walk",
    speed_kmh: float | None = None,
    data_dir: str | Path | None = None,
    downloader: Downloader | None = None,
) -> tuple[nx.MultiDiGraph, Path]:
    """Build the prepared graph of the stored ward ``ward_name`` and cache it for ``ward_graph``."""
    polygon = _ward_polygon(store, ward_name)
    directory = Path(data_dir) if data_dir is not None else settings.data_dir()
    graph = build_ward_graph(
        polygon, osm=osm, place=place, network_type=network_type, speed_kmh=speed_kmh,
        cache_dir=directory / "osm_cache", downloader=downloader,
    )
    graph.graph["ward"] = ward_name
    path = save_graph(graph, ward_graph_path(ward_name, data_dir=directory))
    log.info("cached the graph of %s at %s", ward_name, path)
    return graph, path


def cache_ward_graphs(
    store,
    osm_path: str | Path,
    data_dir: str | Path | None = None,
    *,
    network_type: str = "walk",
    speed_kmh: float | None = None,
) -> dict[str, Path]:
    """Build and cache the prepared graph of every stored ward from one OSM extract.

    The extract is read once and clipped per ward (plus ``WARD_BUFFER_M``); wards it does not
    cover are skipped with a warning. Returns the cache path per ward name;
    ``ward_graph(name)`` loads them.
    """
    wards = store.wards()
    if wards.empty:
        msg = "no wards stored yet"
        raise DataNotFoundError(msg, commands=("wards load FILE", "demo"))
    path = Path(osm_path)
    directory = Path(data_dir) if data_dir is not None else settings.data_dir()
    speed = DEFAULT_SPEED_KMH[network_type] if speed_kmh is None else speed_kmh
    areas = {str(w["name"]): ward_area(w.geometry) for _, w in wards.to_crs(settings.WGS84).iterrows()}
    if _suffix(path) in SEGMENT_SUFFIXES:
        whole = graph_from_segments(path, polygon=shapely.union_all(list(areas.values())))
    else:
        whole = _read_osm(path, network_type=network_type, polygon=shapely.union_all(list(areas.values())))
    paths = {}
    for name, area in areas.items():
        try:
            if _suffix(path) in SEGMENT_SUFFIXES:
                local = clip_graph(whole, area, name=f"{path.name} ({name})")
            else:
                local = _clip_and_simplify(whole, area, name=f"{path.name} ({name})")
        except InputError as error:
            log.warning("skipped ward %s: %s", name, error)
            continue
        prepared = prepare_graph(local, speed_kmh=speed)
        prepared.graph.update(network_type=network_type, source=path.name, buffer_m=WARD_BUFFER_M, ward=name)
        paths[name] = save_graph(prepared, ward_graph_path(name, data_dir=directory))
        log.info(
            "ward %s: %d nodes, %d edges cached at %s",
            name, len(prepared), prepared.number_of_edges(), paths[name],
        )
    if not paths:
        msg = f"{path.name}: covers none of the stored wards ({', '.join(areas)})"
        raise InputError(msg)
    return paths


def _ward_polygon(store, ward_name: str) -> BaseGeometry:
    wards = store.wards()
    match = wards[wards["name"] == stored_ward_name(store, ward_name)]
    return match.to_crs(settings.WGS84).geometry.iloc[0]


def graph_summary(graph: nx.MultiDiGraph) -> dict:
    """Nodes, directed edges and km of street (each two-way street counted once) of a graph."""
    seen = set()
    metres = 0.0
    for u, v, data in graph.edges(data=True):
        key = (min(u, v), max(u, v), round(float(data.get("length", 0.0)), 1))
        if key not in seen:
            seen.add(key)
            metres += float(data.get("length", 0.0))
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "km": metres / 1000}
