"""Shared geometry rules, one home each: the metric CRS (RD New inside the Netherlands, the local
UTM zone elsewhere), signal coordinates in it, whether a street graph is projected, an edge's
geometry, the table of a graph's streets, whom a graph's streets credit, and the one cache of
coordinate transformers."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from . import settings
from ._errors import InputError

if TYPE_CHECKING:
    import networkx as nx

# RD New is only valid over the Netherlands; its area of use in WGS84 degrees.
_NL_BOUNDS = (3.2, 50.75, 7.22, 53.7)

OSM_ATTRIBUTION = "© OpenStreetMap contributors"

SEGMENT_SUFFIXES = (".gpkg", ".geojson", ".json")
"""Files of line segments (a municipal walking network) rather than OpenStreetMap data."""


def street_attribution(graph: nx.MultiDiGraph) -> str:
    """Whom a route or map drawn on ``graph`` credits for its streets.

    A graph built from a segment network (a municipality's own, ``graph.graph["source"]`` its
    file) credits ``settings.network_attribution()``, or else the file by name, since its licence
    is not ours to guess; every other source is OpenStreetMap data.
    """
    source = str(graph.graph.get("source") or "")
    if not source.lower().endswith(SEGMENT_SUFFIXES):
        return OSM_ATTRIBUTION
    return settings.network_attribution() or source


def metric_crs_for(lon: float, lat: float) -> CRS:
    """The metric CRS for work around ``(lon, lat)``: EPSG:28992 in the Netherlands, else UTM."""
    west, south, east, north = _NL_BOUNDS
    if west <= lon <= east and south <= lat <= north:
        return CRS.from_user_input(settings.RD_NEW)
    zone = int((lon + 180) // 6) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs_of(gdf: gpd.GeoDataFrame) -> CRS:
    """The metric CRS for the area a GeoDataFrame covers (it must carry a CRS)."""
    require_crs(gdf, "gdf")
    if gdf.empty:
        msg = "cannot choose a metric CRS for an empty GeoDataFrame"
        raise InputError(msg)
    centre = gdf.to_crs(settings.WGS84).union_all().envelope.centroid
    return metric_crs_for(centre.x, centre.y)


def require_crs(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Refuse a GeoDataFrame without a CRS, saying which call fixes it."""
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS: set the one its coordinates are in, e.g. "
            f"{name}.set_crs('EPSG:4326') for longitude/latitude or "
            f"{name}.set_crs('EPSG:28992') for RD New"
        )
        raise InputError(msg)


def to_metric(gdf: gpd.GeoDataFrame, name: str = "gdf") -> gpd.GeoDataFrame:
    """``gdf`` reprojected to its metric CRS; projected inputs in metres are kept as they are."""
    require_crs(gdf, name)
    if gdf.crs.is_projected and gdf.crs.axis_info[0].unit_name in {"metre", "meter"}:
        return gdf
    return gdf.to_crs(metric_crs_of(gdf))


def transformer(source: Any, target: Any) -> Transformer:
    """A cached ``always_xy`` transformer from ``source`` to ``target`` (anything pyproj reads as
    a CRS): building one takes tens of milliseconds, and they are thread-safe."""
    return _transformer(str(source), str(target))


@functools.lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    # Keyed by the CRSs' text, so a CRS object and its EPSG string share one transformer.
    return Transformer.from_crs(source, target, always_xy=True)
def signal_lonlat(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes (WGS84) of signals: their ``lon``/``lat`` columns or point geometry."""
    if "lon" in incidents.columns and "lat" in incidents.columns:
        return incidents["lon"].to_numpy(dtype=float), incidents["lat"].to_numpy(dtype=float)
    if isinstance(incidents, gpd.GeoDataFrame):
        require_crs(incidents, "incidents")
        points = incidents.geometry.to_crs(settings.WGS84)
        return points.x.to_numpy(), points.y.to_numpy()
    msg = "incidents need lat and lon columns (WGS84) or a point geometry with a CRS"
    raise InputError(msg)


def metric_xy(incidents: pd.DataFrame, crs: CRS | None = None) -> tuple[np.ndarray, np.ndarray, CRS]:
    """Signal coordinates in metres: in ``crs`` or, by default, the metric CRS of their area."""
    lon, lat = signal_lonlat(incidents)
    if crs is None:
        if len(lon) == 0:
            crs = CRS.from_user_input(settings.RD_NEW)
        else:
            crs = metric_crs_for(float(np.nanmedian(lon)), float(np.nanmedian(lat)))
    x, y = transformer(settings.WGS84, crs).transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float), crs


def graph_crs(graph: nx.MultiDiGraph) -> CRS:
    """The metric CRS of a prepared street graph; an unprojected graph is refused with the fix."""
    crs = graph.graph.get("crs")
    if crs is None or not CRS.from_user_input(crs).is_projected:
        msg = "the graph is not projected to metres: prepare it first with streets.prepare_graph(G)"
        raise InputError(msg)
    return CRS.from_user_input(crs)


def edge_geometry(graph: nx.MultiDiGraph, u: Any, v: Any, data: dict) -> shapely.LineString:
    """The line of edge ``u → v``: its ``geometry``, or the straight line between its nodes, which is
    what osmnx means when it leaves a straight street without one."""
    geometry = data.get("geometry")
    if geometry is None:
        geometry = shapely.LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                                       (graph.nodes[v]["x"], graph.nodes[v]["y"])])
    return geometry


def street_table(graph: nx.MultiDiGraph, *, keys: bool = False,
                 shortest: bool = False) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One row per street of a graph, and each directed edge's row, in ``graph.edges`` order.

    A street is a node pair in either direction (with ``keys``: a pair and an edge key, so
    parallel streets stay apart). Its row is the edge met first, or with ``shortest`` the
    shortest of them (the first of equals); rows come in the order their streets are first met.

    Parameters
    ----------
    graph
        A street graph with ``length`` on every edge.
    keys
        Keep parallel edges between the same nodes as separate streets.
    shortest
        Take the shortest edge of each street rather than the first met.

    Returns
    -------
    table
        ``u``, ``v`` (the chosen edge's direction), ``key``, ``length`` (m), ``name`` (a list of
        names joined by ", ") and ``geometry`` (``edge_geometry``), in the graph's CRS.
    row
        Per directed edge of ``graph.edges(keys=True)``, its street's row in ``table``.
    """
    seen: dict[tuple, int] = {}
    chosen: list[tuple] = []
    row = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        back = (v, u, k) if keys else (v, u)
        street = back if back in seen else ((u, v, k) if keys else (u, v))
        index = seen.get(street)
        length = float(data["length"])
        if index is None:
            index = seen[street] = len(chosen)
            chosen.append((u, v, k, length, data))
        elif shortest and length < chosen[index][3]:
            chosen[index] = (u, v, k, length, data)
        row.append(index)
    names = [data.get("name") for *_, data in chosen]
    table = gpd.GeoDataFrame(
        {
            "u": [c[0] for c in chosen], "v": [c[1] for c in chosen], "key": [c[2] for c in chosen],
            "length": np.array([c[3] for c in chosen], dtype=float),
            "name": [", ".join(name) if isinstance(name, list) else name for name in names],
        },
        geometry=[edge_geometry(graph, u, v, data) for u, v, _, _, data in chosen],
        crs=graph.graph.get("crs"),
    )
    return table, np.asarray(row, dtype=np.int64)
