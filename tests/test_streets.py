"""Street graphs: OSM extracts (XML and PBF), municipal segment networks, the online cache,
preparing, ward clipping, the per-ward cache and the ``graph`` command."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
import requests
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from planner import streets
from planner._errors import DataNotFoundError, InputError, OfflineError
from planner.cli import app
from planner.cli._common import cli_text, flag

# A ward around the west half of the tiny OSM network (nodes 1, 2, 4, 5 at lon 4.490–4.492).
TINY_WARD = box(4.4895, 52.0595, 4.4925, 52.0617)


def _lines(coords: list[list[tuple[float, float]]], **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[LineString(c) for c in coords], crs="EPSG:28992")


def _values(graph: nx.MultiDiGraph, key: str) -> set:
    """Every value of an edge attribute (simplified edges may hold a list)."""
    found = set()
    for _, _, data in graph.edges(data=True):
        value = data.get(key)
        found.update(value if isinstance(value, list) else [value])
    return found


def _tiny_wards_store(store):
    wards = gpd.GeoDataFrame(
        {"name": ["Vogelwijk", "Elders"], "code": ["WK999903", "WK999904"]},
        geometry=[TINY_WARD, box(4.60, 52.10, 4.61, 52.11)],
        crs="EPSG:4326",
    )
    store.save_wards(wards)
    return store


# --- OSM extracts -------------------------------------------------------------------------------


def test_walk_filter_drops_motorway_and_private_drive(tiny_osm):
    """The walk graph keeps streets and footpaths but not the motorway or the private drive."""
    graph = streets.graph_from_osm_file(tiny_osm)
    assert _values(graph, "highway") == {"residential", "living_street", "footway"}
    assert not {8, 9, 10} & set(graph.nodes)


def test_walking_ignores_one_way_but_cycling_respects_it(tiny_osm):
    """Walkers use the one-way Lijsterstraat both ways; cyclists only one way and not the footway."""
    walk = streets.graph_from_osm_file(tiny_osm)
    bike = streets.graph_from_osm_file(tiny_osm, network_type="bike")
    assert all(walk.has_edge(v, u) for u, v in walk.edges())
    assert True not in _values(walk, "oneway") and True in _values(bike, "oneway")
    assert "Lijsterstraat" in _values(bike, "name")
    assert "footway" not in _values(bike, "highway")


def test_unknown_network_type_is_refused(tiny_osm):
    """Only walk and bike networks exist; anything else is an InputError naming the choices."""
    with pytest.raises(InputError, match="walk, bike"):
        streets.graph_from_osm_file(tiny_osm, network_type="drive")


def test_missing_file_is_data_not_found(tmp_path):
    """A missing extract is a DataNotFoundError with its path."""
    with pytest.raises(DataNotFoundError, match=r"nowhere\.osm\.pbf"):
        streets.graph_from_osm_file(tmp_path / "nowhere.osm.pbf")


# --- preparing ----------------------------------------------------------------------------------


def test_prepare_in_netherlands_uses_rd_new(tiny_osm):
    """A graph in the Netherlands is projected to RD New (EPSG:28992)."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))
    assert ox.projection.is_projected(graph.graph["crs"])
    assert graph.graph["crs"].to_epsg() == 28992


def test_prepare_in_oakland_uses_utm_10n(shared_data):
    """A graph in Oakland, California, is projected to UTM zone 10N (EPSG:32610)."""
    raw = streets.graph_from_osm_file(shared_data / "osm" / "west-oakland.osm.bz2")
    graph = streets.prepare_graph(raw)
    assert graph.graph["crs"].to_epsg() == 32610
    assert nx.is_strongly_connected(graph)


def test_prepare_keeps_largest_strongly_connected_component():
    """Only the largest strongly connected part survives; a one-way dead end is dropped."""
    raw = nx.MultiDiGraph(crs="EPSG:28992")
    for node, x in enumerate([0, 100, 200, 300, 1000, 1100]):
        raw.add_node(node, x=float(x), y=0.0)
    for u, v in [(0, 1), (1, 2), (2, 3), (4, 5)]:
        raw.add_edge(u, v, length=100.0)
        raw.add_edge(v, u, length=100.0)
    raw.add_edge(3, 4, length=700.0)  # one way only: 4 and 5 cannot get back
    graph = streets.prepare_graph(raw)
    assert set(graph.nodes) == {0, 1, 2, 3}
    assert nx.is_strongly_connected(graph)


def test_walk_time_is_length_over_speed(tiny_osm):
    """Every edge's walk_time is its length divided by the speed, in seconds."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm), speed_kmh=6.0)
    assert graph.graph["speed_kmh"] == 6.0
    for _, _, data in graph.edges(data=True):
        assert data["walk_time"] == pytest.approx(data["length"] / (6.0 / 3.6))


def test_prepare_refuses_non_positive_speed(tiny_osm):
    """A speed of 0 km/h is refused with a message naming speed_kmh."""
    with pytest.raises(InputError, match="speed_kmh"):
        streets.prepare_graph(streets.graph_from_osm_file(tiny_osm), speed_kmh=0)


def test_prepared_graph_is_read_only(tiny_osm):
    """A prepared graph is frozen: adding or removing nodes raises."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))
    assert nx.is_frozen(graph)
    with pytest.raises(nx.NetworkXError):
        graph.remove_node(next(iter(graph)))


def test_graphml_round_trip_keeps_types_and_crs(tiny_osm, tmp_path):
    """Saving and loading keeps the CRS, the speed, numeric lengths/times, geometries and names."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))
    loaded = streets.load_graph(streets.save_graph(graph, tmp_path / "g.graphml"))
    assert ox.projection.is_projected(loaded.graph["crs"])
    assert loaded.graph["speed_kmh"] == 4.5
    assert set(loaded.nodes) == set(graph.nodes) and loaded.number_of_edges() == graph.number_of_edges()
    for u, v, k, data in loaded.edges(keys=True, data=True):
        original = graph.edges[u, v, k]
        assert isinstance(data["length"], float) and isinstance(data["walk_time"], float)
        assert data["walk_time"] == pytest.approx(original["walk_time"])
        assert data.get("name") == original.get("name")
    assert all(isinstance(d["x"], float) for _, d in loaded.nodes(data=True))
    assert nx.is_frozen(loaded)


# --- real extracts ------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("file", "centre", "epsg"),
    [
        ("west-oakland.osm.bz2", None, 32610),
        ("amsterdam.osm.pbf", None, 28992),
        ("harrisburg.osm.pbf", (-76.8000, 40.2700), 32618),
        ("baltimore.osm.pbf", (-76.5784, 39.2863), 32618),
        ("liechtenstein-latest.osm.pbf", (9.5215, 47.1410), 32632),
    ],
)
def test_real_extract_loads(shared_data, file, centre, epsg):
    """Every shared extract loads into a strongly connected metric walk graph (big ones clipped
    to a ~500 m ward around a centre to stay fast)."""
    path = shared_data / "osm" / file
    if centre is None:
        graph = streets.prepare_graph(streets.graph_from_osm_file(path))
    else:
        graph = streets.build_ward_graph(Point(centre).buffer(0.005), osm=path)
    assert graph.number_of_nodes() >= 20
    assert nx.is_strongly_connected(graph)
    assert graph.graph["crs"].to_epsg() == epsg
    assert any(d.get("name") for _, _, d in graph.edges(data=True)), "street names are kept"


@pytest.mark.shared
def test_pbf_clip_keeps_only_streets_near_the_ward(shared_data):
    """A ward clip of a PBF keeps nodes within the ward plus the 150 m buffer, no further."""
    ward = Point(9.5215, 47.1410).buffer(0.004)
    graph = streets.build_ward_graph(ward, osm=shared_data / "osm" / "liechtenstein-latest.osm.pbf")
    area = gpd.GeoSeries([streets.ward_area(ward)], crs="EPSG:4326").to_crs(graph.graph["crs"]).iloc[0]
    nodes = ox.graph_to_gdfs(graph, edges=False)
    assert nodes.within(area.buffer(1.0)).all()


@pytest.mark.shared
def test_amsterdam_segment_network_is_routable(shared_data):
    """The Osdorp-Midden sidewalk network becomes one large, routable graph in RD New with its
    path types kept, and without its cycle-only paths."""
    graph = streets.build_ward_graph(None, osm=shared_data / "networks" / "amsterdam_osdorp_midden_walk.gpkg")
    assert graph.graph["crs"] == "EPSG:28992"
    assert graph.number_of_nodes() > 8000  # of ~8,900 snapped endpoints: ≥ 90 % routable
    assert nx.is_strongly_connected(graph)
    assert _values(graph, "path_type") == {"walk", "walk_bike_connection"}
    nodes = ox.graph_to_gdfs(graph, edges=False)
    south, north = nodes["y"].idxmin(), nodes["y"].idxmax()
    metres = nx.shortest_path_length(graph, south, north, weight="length")
    assert metres >= nodes["y"].max() - nodes["y"].min()


# --- segment networks ---------------------------------------------------------------------------


def test_nearly_coincident_endpoints_are_snapped():
    """Two segments whose ends are 1 cm apart meet at one node with the default 5 cm snap, and
    stay apart without snapping."""
    segments = _lines([[(0, 0), (10, 0)], [(10.01, 0), (20, 0)]], path_type=["walk", "walk"])
    snapped = streets.graph_from_segments(segments)
    apart = streets.graph_from_segments(segments, snap_m=0)
    assert snapped.number_of_nodes() == 3 and apart.number_of_nodes() == 4
    assert nx.is_strongly_connected(snapped)


def test_segment_edges_go_both_ways_with_geometry_and_name():
    """Each segment gives two edges with reversed geometries, length from the geometry, its text
    attributes and the street name column as ``name``."""
    segments = _lines([[(0, 0), (3, 4), (3, 10)]], straatnaam=["Pieter Calandlaan"], path_type=["walk"])
    graph = streets.graph_from_segments(segments)
    (u, _, forward), (_, _, backward) = sorted(graph.edges(data=True), key=lambda e: e[2]["reversed"])
    assert forward["length"] == pytest.approx(11.0) and backward["length"] == pytest.approx(11.0)
    assert list(backward["geometry"].coords) == list(forward["geometry"].coords)[::-1]
    assert forward["name"] == "Pieter Calandlaan" and forward["path_type"] == "walk"
    assert (graph.nodes[u]["x"], graph.nodes[u]["y"]) == forward["geometry"].coords[0]


def test_segment_network_types_keep_to_their_paths(shared_data):
    """A walk graph from the Nieuwmarkt GeoPackage holds no path_type=bike segment and a bike
    graph no sidewalk (path_type=walk); connections between the two stay in both."""
    network = shared_data / "networks" / "amsterdam_nieuwmarkt_walk.gpkg"
    walk = streets.graph_from_segments(network)
    bike = streets.graph_from_segments(network, network_type="bike")
    assert _values(walk, "path_type") == {"walk", "walk_bike_connection"}
    assert _values(bike, "path_type") == {"bike", "walk_bike_connection"}
    tiny = _lines([[(0, 0), (10, 0)], [(10, 0), (20, 0)], [(20, 0), (30, 0)]], path_type=["walk", "bike", None])
    assert streets.graph_from_segments(tiny).number_of_edges() == 4  # the untyped segment is a path


def test_segments_without_crs_are_refused():
    """Segments without a CRS are refused with the set_crs call that fixes it."""
    segments = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 0)])])
    with pytest.raises(InputError, match="set_crs"):
        streets.graph_from_segments(segments)


# --- ward clipping ------------------------------------------------------------------------------


def test_ward_clip_includes_streets_just_outside(tiny_osm):
    """The 150 m buffer brings in the streets just outside the ward; without it they are cut."""
    ward = box(4.4895, 52.0595, 4.4905, 52.0617)  # only the Vinkhof (nodes 1 and 4)
    tight = streets.build_ward_graph(ward, osm=tiny_osm, buffer_m=0)
    buffered = streets.build_ward_graph(ward, osm=tiny_osm)
    assert _values(tight, "name") == {"Vinkhof"}
    assert {"Vinkhof", "Merelstraat", "Lijsterstraat"} <= _values(buffered, "name")
    assert "Spreeuwlaan" not in _values(buffered, "name")  # 275 m east of the ward
    assert buffered.graph["buffer_m"] == streets.WARD_BUFFER_M


def test_ward_outside_extract_is_refused(tiny_osm):
    """A ward the extract does not cover is an InputError saying so."""
    with pytest.raises(InputError, match="no streets inside the ward"):
        streets.build_ward_graph(box(5.0, 52.0, 5.01, 52.01), osm=tiny_osm)


def test_ward_in_metric_coordinates_is_refused(tiny_osm):
    """A ward polygon in RD metres is refused with the to_crs call that fixes it."""
    with pytest.raises(InputError, match="to_crs"):
        streets.build_ward_graph(box(91_000, 452_000, 92_000, 453_000), osm=tiny_osm)


# --- online, cached -----------------------------------------------------------------------------


def test_online_graph_is_cached_and_second_call_needs_no_network(tiny_osm, tmp_path):
    """The first call downloads once and caches GraphML; the second loads it, never downloading."""
    calls = []

    def download(query, network_type):
        calls.append((query, network_type))
        return streets.graph_from_osm_file(tiny_osm)

    def offline(query, network_type):
        raise requests.ConnectionError("no route to host")

    first = streets.graph_from_osmnx("Vogelwijk, Demostad", cache_dir=tmp_path, downloader=download)
    second = streets.graph_from_osmnx("  vogelwijk,   DEMOSTAD ", cache_dir=tmp_path, downloader=offline)
    assert calls == [("Vogelwijk, Demostad", "walk")]
    assert len(list(tmp_path.glob("place-walk-*.graphml"))) == 1
    assert set(second.nodes) == set(first.nodes) and second.number_of_edges() == first.number_of_edges()


def test_cache_key_depends_on_query_and_network_type():
    """Keys are stable and differ per place, per polygon and per network type."""
    assert streets.query_key("Zoetermeer", "walk") == streets.query_key("zoetermeer ", "walk")
    assert streets.query_key("Zoetermeer", "walk") != streets.query_key("Zoetermeer", "bike")
    assert streets.query_key("Zoetermeer", "walk") != streets.query_key("Delft", "walk")
    assert streets.query_key(TINY_WARD, "walk") == streets.query_key(box(*TINY_WARD.bounds), "walk")
    assert streets.query_key(TINY_WARD, "walk").startswith("area-walk-")


def test_offline_without_cache_is_an_offline_error(tmp_path):
    """With nothing cached and no connection, the error says so and points to --osm."""

    def offline(query, network_type):
        raise requests.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    with pytest.raises(OfflineError) as offline_error:
        streets.build_ward_graph(TINY_WARD, cache_dir=tmp_path, downloader=offline)
    assert "--osm" in offline_error.value.phrased(flag)
    assert not list(tmp_path.iterdir())


def test_online_place_graph_is_clipped_to_the_ward(tmp_path):
    """A place download is cached whole and clipped to the ward plus its 150 m buffer."""
    whole = nx.MultiDiGraph(crs="EPSG:4326")
    for node in range(10):  # a street along 52.06 N with a node every 0.002° (137 m)
        whole.add_node(node, x=4.490 + 0.002 * node, y=52.06)
    for node in range(9):
        whole.add_edge(node, node + 1, length=137.0)
        whole.add_edge(node + 1, node, length=137.0)
    graph = streets.build_ward_graph(
        box(4.489, 52.059, 4.4935, 52.061), place="Demostad", cache_dir=tmp_path,
        downloader=lambda query, network_type: whole,
    )
    assert set(graph.nodes) == {0, 1, 2}  # 4.496 lies 171 m east of the ward
    assert graph.graph["source"] == "Demostad"
    assert len(list(tmp_path.glob("place-walk-*.graphml"))) == 1


# --- per-ward cache and CLI ---------------------------------------------------------------------


def test_cache_ward_graphs_then_ward_graph_loads_each_once(store, data_dir, tiny_osm):
    """cache_ward_graphs writes one graph per ward the extract covers (skipping the others);
    ward_graph loads it once and shares the frozen graph."""
    _tiny_wards_store(store)
    paths = streets.cache_ward_graphs(store, tiny_osm, data_dir)
    assert paths == {"Vogelwijk": data_dir / "graphs" / "vogelwijk.graphml"}
    graph = streets.ward_graph(store, "vogelwijk", data_dir=data_dir)
    assert streets.ward_graph(None, "Vogelwijk", data_dir=data_dir) is graph
    assert nx.is_frozen(graph) and graph.graph["ward"] == "Vogelwijk"
    assert {"Vinkhof", "Merelstraat", "Lijsterstraat"} <= _values(graph, "name")


def test_ward_graph_missing_says_how_to_build_it(store, data_dir):
    """Asking for a ward graph never built, or for an unknown ward, is a DataNotFoundError."""
    _tiny_wards_store(store)
    with pytest.raises(DataNotFoundError, match="Atlantis"):
        streets.ward_graph(store, "Atlantis", data_dir=data_dir)
    with pytest.raises(DataNotFoundError) as missing:
        streets.ward_graph(None, "Rokkeveen", data_dir=data_dir)
    assert "was-planner graph" in cli_text(missing.value)


def test_ward_slug_is_file_name_safe():
    """Ward names become lowercase ASCII slugs."""
    assert streets.ward_slug("Wijk 05 Rokkeveen") == "wijk-05-rokkeveen"
    assert streets.ward_slug("Buytenwegh-De Leyens") == "buytenwegh-de-leyens"
    assert streets.ward_slug("Île/Éa") == "ile-ea"


def test_cli_graph_builds_and_caches_from_osm(store, data_dir, tiny_osm):
    """`was-planner graph --ward NAME --osm FILE` prints nodes, edges, km and the cache path."""
    _tiny_wards_store(store)
    result = CliRunner().invoke(
        app, ["--data-dir", str(data_dir), "graph", "--ward", "vogelwijk", "--osm", str(tiny_osm)]
    )
    assert result.exit_code == 0, result.output
    assert "Vogelwijk:" in result.stdout and "km of streets" in result.stdout
    assert (data_dir / "graphs" / "vogelwijk.graphml").is_file()
    assert "Merelstraat" in _values(streets.ward_graph(store, "Vogelwijk", data_dir=data_dir), "name")


def test_cli_graph_reports_bad_input_in_one_line(store, data_dir, tiny_osm):
    """An unknown ward or a ward outside the extract exits 2 with a one-line message."""
    _tiny_wards_store(store)
    runner = CliRunner()
    unknown = runner.invoke(app, ["--data-dir", str(data_dir), "graph", "--ward", "Atlantis", "--osm", str(tiny_osm)])
    outside = runner.invoke(app, ["--data-dir", str(data_dir), "graph", "--ward", "Elders", "--osm", str(tiny_osm)])
    assert unknown.exit_code == 2 and "no ward 'Atlantis'" in unknown.stderr
    assert outside.exit_code == 2 and "no streets inside the ward" in outside.stderr



def test_a_segment_network_graph_credits_its_file_through_the_cache(tmp_path, tiny_osm):
    """Built from a GeoPackage, a graph credits the file (its licence is not ours to guess), also
    after the GraphML cache; an OSM extract credits OpenStreetMap."""
    from planner._geo import street_attribution

    network = tmp_path / "stoepen.gpkg"
    _lines([[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 0)]],
           path_type=["walk"] * 3).to_file(network)
    graph = streets.build_ward_graph(None, osm=network)
    reloaded = streets.load_graph(streets.save_graph(graph, tmp_path / "g.graphml"))
    assert street_attribution(graph) == street_attribution(reloaded) == "stoepen.gpkg"
    assert street_attribution(streets.build_ward_graph(None, osm=tiny_osm)) == "© OpenStreetMap contributors"
