"""Street graphs: walkable networks from OpenStreetMap or a municipal network, prepared once for routing.

``build`` reads a graph from its source (an OSM extract, a municipal segment network, or osmnx
over the internet with a GraphML cache) and ``prepare_graph`` makes the routing graph;
``build_ward_graph`` picks the source for a ward. ``cache`` keeps prepared graphs on disk, one
file per ward, and ``ward_graph`` loads them. This module is the public API.
"""

from .build import (
    DEFAULT_SPEED_KMH,
    NETWORK_TYPES,
    OSM_SUFFIXES,
    SEGMENT_SUFFIXES,
    SNAP_M,
    WARD_BUFFER_M,
    Downloader,
    build_and_cache_ward_graph,
    build_ward_graph,
    cache_ward_graphs,
    clip_graph,
    graph_from_osm_file,
    graph_from_osmnx,
    graph_from_segments,
    graph_summary,
    is_bikeable,
    is_walkable,
    pbf_to_osm_xml,
    prepare_graph,
    query_key,
    ward_area,
)
from .cache import load_graph, save_graph, ward_graph, ward_graph_path, ward_slug

__all__ = [
    "DEFAULT_SPEED_KMH",
    "NETWORK_TYPES",
    "OSM_SUFFIXES",
    "SEGMENT_SUFFIXES",
    "SNAP_M",
    "WARD_BUFFER_M",
    "Downloader",
    "build_and_cache_ward_graph",
    "build_ward_graph",
    "cache_ward_graphs",
    "clip_graph",
    "graph_from_osm_file",
    "graph_from_osmnx",
    "graph_from_segments",
    "graph_summary",
    "is_bikeable",
    "is_walkable",
    "load_graph",
    "pbf_to_osm_xml",
    "prepare_graph",
    "query_key",
    "save_graph",
    "ward_area",
    "ward_graph",
    "ward_graph_path",
    "ward_slug",
]
