"""Tests for planner/hotspots/: weights, clusters, significance, privacy, hot streets."""

from __future__ import annotations

import json
from datetime import UTC

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from typer.testing import CliRunner

from planner import streets
from planner._errors import InputError
from planner.cli import app
from planner.hotspots import (
    HotspotParams,
    HotStreetParams,
    TimeWeighting,
    TimeWindow,
    aoristic_share,
    find_hotspots,
    hot_streets,
    local_minutes,
    parse_category_weights,
    signal_weights,
)

NOW = pd.Timestamp("2026-03-01T12:00", tz="UTC")
TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def frame_from_xy(x, y, times, **columns) -> pd.DataFrame:
    """Signals at RD New metres with the given UTC times (and any extra columns)."""
    lon, lat = TO_WGS.transform(np.asarray(x, float), np.asarray(y, float))
    times = pd.DatetimeIndex(times)
    frame = pd.DataFrame({
        "id": np.arange(1, len(lon) + 1), "occurred_from": times, "occurred_to": times,
        "lat": lat, "lon": lon, "category": "burglary", "status": "open", "on_patrol": False,
        "source": "resident",
    })
    for name, value in columns.items():
        frame[name] = value
    return frame


def spread_times(n: int, seed: int = 1, days: int = 50) -> pd.DatetimeIndex:
    """``n`` times over the ``days`` before NOW, seeded."""
    rng = np.random.default_rng(seed)
    return NOW - pd.to_timedelta(np.sort(rng.uniform(0, days, n))[::-1], unit="D")


@pytest.fixture
def clustered(clustered_points, two_wards):
    """The conftest clusters as signals, with each point's ward."""
    pts = clustered_points
    frame = frame_from_xy(pts["x"], pts["y"], spread_times(len(pts)))
    frame["ward"] = np.where(pts["x"] < 92_000, "West", "Oost")
    frame["truth"] = pts["cluster"].to_numpy()
    return frame


def test_three_clusters_plus_noise_give_three_hotspots(clustered, two_wards):
    """Three tight clusters plus noise give exactly three hotspots, each one true cluster."""
    result = find_hotspots(clustered, two_wards, params=HotspotParams(audience="officer"))
    assert len(result.hotspots) == 3
    assert result.hotspots["significant"].all()
    truth = clustered.set_index("id")["truth"]
    found = set()
    for ids in result.hotspots["signal_ids"]:
        labels = truth.loc[ids]
        main = labels.mode().iloc[0]
        assert main >= 0 and (labels == main).sum() >= 27 and (labels == -1).sum() <= 1
        found.add(main)
    assert found == {0, 1, 2}
    in_hotspot = result.signals["hotspot"].notna().to_numpy()
    assert (clustered["truth"].to_numpy()[in_hotspot] == -1).sum() <= 2  # noise stays out


def test_hdbscan_option_finds_the_two_west_clusters(clustered, two_wards):
    """method="hdbscan" separates the West ward's two clusters and leaves the noise out."""
    west = clustered[clustered["ward"] == "West"]
    result = find_hotspots(west, two_wards, params=HotspotParams(audience="officer", method="hdbscan"))
    assert len(result.hotspots) == 2
    truth = west.set_index("id")["truth"]
    assert {truth.loc[ids].mode().iloc[0] for ids in result.hotspots["signal_ids"]} == {0, 1}


def test_result_is_deterministic(clustered, two_wards):
    """The same input gives the same JSON twice."""
    params = HotspotParams(audience="officer")
    first = find_hotspots(clustered, two_wards, params=params).to_json()
    second = find_hotspots(clustered, two_wards, params=params).to_json()
    assert first == second


def test_window_shift_moves_the_ranking(two_wards):
    """Friday-evening signals rank first for a Friday evening, morning ones for a morning."""
    rng = np.random.default_rng(3)
    fridays = pd.date_range("2026-01-02", periods=8, freq="7D")  # Fridays
    evening = [d + pd.Timedelta(hours=20, minutes=30) for d in fridays for _ in range(3)]
    morning = [d + pd.Timedelta(hours=9, minutes=30) for d in fridays for _ in range(3)]
    times = pd.DatetimeIndex(evening + morning).tz_localize("Europe/Amsterdam").tz_convert("UTC")
    x = np.r_[91_300 + rng.normal(0, 10, 24), 91_700 + rng.normal(0, 10, 24)]
    y = np.r_[452_300 + rng.normal(0, 10, 24), 452_700 + rng.normal(0, 10, 24)]
    frame = frame_from_xy(x, y, times, ward="West", category="youth_nuisance")

    def top(window):
        params = HotspotParams(audience="officer", window=window)
        hot = find_hotspots(frame, two_wards, params=params, now="2026-03-01").hotspots
        return hot.sort_values("score", ascending=False)["peak_hours"].iloc[0][0]

    assert top(TimeWindow.parse("20:00-23:00", day="fri")) == 20
    assert top(TimeWindow.parse("08:00-11:00")) == 9


def test_resolved_signal_drops_its_weight(clustered, two_wards):
    """A resolved signal weighs 0 and its hotspot's score falls."""
    params = HotspotParams(audience="officer")
    before = find_hotspots(clustered, two_wards, params=params, now=NOW)
    hotspot = before.hotspots.iloc[0]
    resolved = clustered.copy()
    first_id = hotspot["signal_ids"][0]
    resolved.loc[resolved["id"] == first_id, "status"] = "resolved"
    weights = signal_weights(resolved, now=NOW)
    assert weights.loc[resolved["id"] == first_id, "weight"].iloc[0] == 0
    after = find_hotspots(resolved, two_wards, params=params, now=NOW)
    same = after.hotspots[after.hotspots["signal_ids"].map(lambda ids: hotspot["signal_ids"][1] in ids)]
    assert same["score"].iloc[0] < hotspot["score"]
    assert same["n_signals"].iloc[0] == hotspot["n_signals"] - 1


def test_recency_halves_every_half_life():
    """A signal one half-life old weighs half as much as one from now."""
    frame = frame_from_xy([91_500, 91_500], [452_500, 452_500], [NOW, NOW - pd.Timedelta(days=30)])
    weights = signal_weights(frame, params=HotspotParams(half_life_days=30), now=NOW)["weight"]
    assert weights.iloc[1] == pytest.approx(0.5 * weights.iloc[0])


def test_patrol_discount_and_category_weights():
    """Signals found on patrol count less; a ward's own category weight overrides the default."""
    frame = frame_from_xy([91_500] * 3, [452_500] * 3, [NOW] * 3, ward="West")
    frame["on_patrol"] = [False, True, False]
    frame["category"] = ["burglary", "burglary", "street_light"]
    params = HotspotParams(patrol_weight=0.5, category_weights=(("street_light", 0.5),),
                           ward_category_weights=(("West", "street_light", 3.0),))
    weights = signal_weights(frame, params=params, now=NOW)["weight"].to_numpy()
    assert weights == pytest.approx([1.0, 0.5, 3.0])


def test_aoristic_window_spreads_never_midpoint():
    """A 22:00-07:00 signal counts 1/9 for 02:00-03:00 (not 1 as its midpoint would) and 0 for noon."""
    start = pd.Series([pd.Timestamp("2026-01-05 22:00", tz="Europe/Amsterdam")]).dt.tz_convert("UTC")
    end = pd.Series([pd.Timestamp("2026-01-06 07:00", tz="Europe/Amsterdam")]).dt.tz_convert("UTC")
    t0, t1 = local_minutes(start), local_minutes(end)
    night = TimeWindow("02:00", "03:00", smoothing_hours=0).profile()
    noon = TimeWindow("11:00", "13:00", smoothing_hours=0).profile()
    assert aoristic_share(t0, t1, night)[0] == pytest.approx(1 / 9)
    assert aoristic_share(t0, t1, noon)[0] == 0


def test_window_crosses_midnight_and_smooths():
    """Friday 22:00-02:00 covers early Saturday; an hour outside still counts a bit."""
    window = TimeWindow.parse("22:00-02:00", day="vrijdag")
    profile = window.profile()

    def minute(day: int, hour: int) -> int:
        return day * 1440 + hour * 60

    assert profile[minute(4, 23)] == 1 and profile[minute(5, 1)] == 1
    assert 0 < profile[minute(5, 3)] < 1
    assert profile[minute(2, 12)] < 1e-6


def test_other_days_and_other_hours_weigh_the_rest_of_the_week():
    """Friday 20:00-23:00: Thursday's evening counts ``other_days``, Friday noon ``other_hours``; by default neither."""

    def minute(day: int, hour: int) -> int:
        return day * 1440 + hour * 60

    sharp = TimeWindow.parse("20:00-23:00", day="fri").profile()
    wide = TimeWindow("20:00", "23:00", weekdays=(4,), other_days=0.3, other_hours=0.1).profile()
    assert sharp[minute(3, 21)] < 1e-6 and sharp[minute(4, 12)] < 1e-6
    assert wide[minute(4, 21)] == 1
    assert wide[minute(3, 21)] == pytest.approx(0.1 + 0.9 * 0.3)
    assert wide[minute(4, 12)] == pytest.approx(0.1)
    alike = TimeWeighting(other_hours=1).apply(TimeWindow.parse("20:00-23:00", day="fri"))
    assert alike.profile().min() == 1 and alike.weekdays == (4,)
    weekend = TimeWindow("22:00", "02:00", weekdays=(4, 5)).on_every_weekday()
    assert [w.weekdays for w in weekend] == [(4, 5), (5, 6), (6, 0), (0, 1), (1, 2), (2, 3), (3, 4)]
    assert TimeWindow.parse("20:00-23:00").on_every_weekday() == (TimeWindow.parse("20:00-23:00"),)
    with pytest.raises(InputError, match="other_days"):
        TimeWindow(other_days=2)
    with pytest.raises(InputError, match="other_hours"):
        TimeWeighting(other_hours=-0.1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"eps_m": -5}, "eps_m"), ({"min_signals": 1}, "min_signals"), ({"audience": "press"}, "audience"),
     ({"method": "kmeans"}, "method"), ({"category_weights": (("fiets", 1.0),)}, "category_weights"),
     ({"alpha": 2}, "alpha")],
)
def test_params_name_the_bad_field(kwargs, field):
    """Invalid parameters raise an InputError naming the field."""
    with pytest.raises(InputError, match=field):
        HotspotParams(**kwargs)


def test_a_window_is_labelled_in_the_reader_s_language():
    """The briefing's "Wanneer" says vr in Dutch, fri in English, whichever name was typed."""
    window = TimeWindow.parse("20:00-23:00", day="vr")
    assert (window.label("nl"), window.label("en"), window.label()) == ("vr 20:00-23:00", "fri 20:00-23:00",
                                                                         "fri 20:00-23:00")


def test_bad_window_text_is_refused():
    """A window that is not HH:MM-HH:MM, or an unknown day, gives a clear InputError."""
    with pytest.raises(InputError, match="HH:MM"):
        TimeWindow.parse("8pm")
    with pytest.raises(InputError, match="weekday"):
        TimeWindow.parse("20:00-23:00", day="funday")
    assert parse_category_weights("inbraak=2,straatverlichting=0.5") == (("burglary", 2.0), ("street_light", 0.5))


def test_one_day_burst_is_not_a_hotspot(two_wards):
    """Twenty signals of one evening form no hotspot: a one-off is not a hotspot."""
    rng = np.random.default_rng(5)
    times = [pd.Timestamp("2026-02-20T20:00", tz="UTC") + pd.Timedelta(minutes=i) for i in range(20)]
    frame = frame_from_xy(91_500 + rng.normal(0, 10, 20), 452_500 + rng.normal(0, 10, 20), times, ward="West")
    result = find_hotspots(frame, two_wards, params=HotspotParams(audience="officer"))
    assert len(result.hotspots) == 0


def test_near_repeat_raises_nearby_hotspot(clustered, two_wards):
    """A fresh burglary 200 m away raises a hotspot's score more than one 2 km away."""
    params = HotspotParams(audience="officer")
    base = find_hotspots(clustered, two_wards, params=params, now=NOW)
    near = pd.concat([clustered, frame_from_xy([91_300], [452_500], [NOW], ward="West", truth=-1)])
    near["id"] = np.arange(1, len(near) + 1)
    boosted = find_hotspots(near, two_wards, params=params, now=NOW)

    def score_at(result, x_lon):
        hot = result.hotspots
        return hot.loc[(hot["centroid_lon"] - x_lon).abs().idxmin(), "near_repeat"]

    lon_c0, _ = TO_WGS.transform(91_300, 452_300)
    lon_c2, _ = TO_WGS.transform(92_500, 452_500)
    assert score_at(boosted, lon_c0) > score_at(base, lon_c0)
    assert score_at(boosted, lon_c2) == pytest.approx(score_at(base, lon_c2))


def test_public_rendering_hides_points_and_small_hotspots(clustered, two_wards):
    """Public output has no points, ids, sources or descriptions, and only hotspots with ≥ k signals."""
    small = frame_from_xy(91_800 + np.arange(4.0), 452_200 + np.arange(4.0), spread_times(4, seed=9), ward="West")
    frame = pd.concat([clustered.assign(description="man in blauwe jas"), small])
    frame["id"] = np.arange(1, len(frame) + 1)
    officer = find_hotspots(frame, two_wards, params=HotspotParams(audience="officer", min_signals=4))
    public = find_hotspots(frame, two_wards, params=HotspotParams(audience="public", min_signals=4))
    assert (officer.hotspots["n_signals"] == 4).any()
    assert public.signals is None
    assert (public.hotspots["n_signals"] >= 5).all() and len(public.hotspots) == 3
    text = json.dumps(public.to_json()) + json.dumps(public.to_geojson())
    for secret in ("signal_ids", "points", "blauwe", "resident", "source", "description"):
        assert secret not in text
    geojson = public.to_geojson()
    assert {f["geometry"]["type"] for f in geojson["features"]} <= {"Polygon", "MultiPolygon"}
    # Areas are unions of whole 100 m cells, never hulls around points.
    assert all(area % 10_000 == pytest.approx(0, abs=1e-3) for area in public.hotspots["area_m2"])
    assert "points" in officer.to_json()


def test_trend_and_peaks(two_wards):
    """Twelve recent signals against four older ones read as rising; peaks name the busy hour."""
    recent = [NOW - pd.Timedelta(days=d) for d in range(1, 25, 2)]
    older = [NOW - pd.Timedelta(days=d) for d in (40, 50, 60, 70)]
    times = pd.DatetimeIndex(recent + older).floor("D") + pd.Timedelta(hours=21)
    frame = frame_from_xy(91_500 + np.arange(16.0), 452_500 + np.arange(16.0), times, ward="West")
    hot = find_hotspots(frame, two_wards, params=HotspotParams(audience="officer"), now=NOW).hotspots
    assert hot["trend"].iloc[0]["direction"] == "rising"
    assert hot["peak_hours"].iloc[0][0] == 22  # 21:00 UTC is 22:00 in Amsterdam in winter


def test_month_only_signals_work(two_wards):
    """Month-long signals (police.uk style) still cluster, and spread over every hour."""
    rng = np.random.default_rng(2)
    months = pd.date_range("2025-06-01", periods=8, freq="MS", tz="UTC")
    start = np.repeat(months, 3)
    frame = frame_from_xy(91_500 + rng.normal(0, 10, 24), 452_500 + rng.normal(0, 10, 24), start, ward="West")
    frame["occurred_to"] = [t + pd.offsets.MonthBegin(1) for t in start]
    params = HotspotParams(audience="officer", window=TimeWindow.parse("20:00-23:00"))
    result = find_hotspots(frame, two_wards, params=params)
    assert len(result.hotspots) == 1
    relevance = signal_weights(frame, params=params)["relevance"]
    assert relevance.between(0.1, 0.25).all()


def test_hotspots_cli_json_and_geojson(data_dir, tmp_path, two_wards, clustered):
    """`hotspots --ward West --json` prints one object; --geojson writes areas only for the public."""
    runner = CliRunner()
    wards_path = tmp_path / "w.geojson"
    two_wards.to_file(wards_path, driver="GeoJSON")
    rows = clustered.assign(occurred_at=clustered["occurred_from"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    rows[["occurred_at", "lat", "lon", "category"]].to_csv(tmp_path / "s.csv", index=False)
    base = ["--data-dir", str(data_dir)]
    assert runner.invoke(app, [*base, "wards", "load", str(wards_path)]).exit_code == 0
    assert runner.invoke(app, [*base, "import", str(tmp_path / "s.csv")]).exit_code == 0
    out = tmp_path / "hot.geojson"
    result = runner.invoke(app, [*base, "hotspots", "--ward", "west", "--window", "20:00-23:00", "--day", "fri",
                                 "--json", "--geojson", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ward"] == "West" and payload["audience"] == "public" and len(payload["hotspots"]) == 2
    assert "points" not in payload
    assert all(f["properties"]["kind"] == "hotspot" for f in json.loads(out.read_text())["features"])
    officer = runner.invoke(app, [*base, "hotspots", "--ward", "West", "--audience", "officer", "--json"])
    assert len(json.loads(officer.stdout)["points"]) > 0
    missing = runner.invoke(app, [*base, "hotspots", "--ward", "Nergens"])
    assert missing.exit_code == 2 and "no ward" in missing.stderr


# -- hot streets -------------------------------------------------------------------------------
def graph_signals(graph, node_ids, crs) -> pd.DataFrame:
    """One signal exactly at each of the given nodes of a projected graph."""
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform([graph.nodes[n]["x"] for n in node_ids], [graph.nodes[n]["y"] for n in node_ids])
    times = [NOW] * len(node_ids)
    return pd.DataFrame({"occurred_from": times, "occurred_to": times, "lat": lat, "lon": lon,
                         "category": "vandalism"})


def test_hot_streets_match_network_distances(tiny_osm):
    """On the tiny OSM graph each street's density is the kernel of its walking distance to the signal."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))
    node = next(iter(graph.nodes))
    result = hot_streets(graph, graph_signals(graph, [node], graph.graph["crs"]),
                         params=HotStreetParams(bandwidth_m=400))
    undirected = nx.Graph()
    for u, v, data in graph.edges(data=True):
        if not undirected.has_edge(u, v) or data["length"] < undirected[u][v]["length"]:
            undirected.add_edge(u, v, length=data["length"])
    distance = nx.single_source_dijkstra_path_length(undirected, node, weight="length")
    h = 400
    for row in result.edges.itertuples():
        d = min(distance.get(row.u, np.inf), distance.get(row.v, np.inf)) + row.length / 2
        expected = (1 - (d / h) ** 2) ** 2 if d < h else 0.0
        assert row.density == pytest.approx(expected / (16 * h / 15) * 1000, rel=1e-3, abs=1e-6)
    assert result.n_snapped == 1 and result.n_unsnapped == 0
    edges = result.edges
    street = [(frozenset((u, v)), k) for u, v, k in zip(edges["u"], edges["v"], edges["key"], strict=True)]
    both = result.edges.groupby(pd.Series(street, index=result.edges.index))["density"]
    assert (both.max() - both.min() < 1e-12).all()  # both directions of a street carry the same value


def test_hot_streets_far_signals_and_unprojected_graph(tiny_osm):
    """Signals beyond snap_m are counted as unsnapped; an unprojected graph is refused with the fix."""
    raw = streets.graph_from_osm_file(tiny_osm)
    far = pd.DataFrame({"occurred_from": [NOW], "occurred_to": [NOW], "lat": [52.2], "lon": [4.6],
                        "category": ["other"]})
    with pytest.raises(InputError, match="prepare_graph"):
        hot_streets(raw, far)
    result = hot_streets(streets.prepare_graph(raw), far)
    assert result.n_unsnapped == 1 and result.edges["density"].sum() == 0


def test_hot_streets_real_west_oakland(shared_data):
    """On west Oakland the street with the most signals is among the hottest."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(shared_data / "osm" / "west-oakland.osm.bz2"))
    nodes = list(graph.nodes)
    rng = np.random.default_rng(0)
    picks = [nodes[0]] * 10 + [nodes[i] for i in rng.choice(len(nodes), 20)]
    signals = graph_signals(graph, picks, graph.graph["crs"])
    result = hot_streets(graph, signals)
    hottest = result.edges.sort_values("density", ascending=False).head(6)
    assert ((hottest["u"] == nodes[0]) | (hottest["v"] == nodes[0])).any()
    assert result.n_snapped == 30
    assert len(result.prizes()) == graph.number_of_edges()


def test_hot_streets_amsterdam_network(shared_data):
    """The Amsterdam sidewalk network (GeoPackage) gets hot streets around its signals."""
    graph = streets.prepare_graph(
        streets.graph_from_segments(shared_data / "networks" / "amsterdam_osdorp_midden_walk.gpkg")
    )
    nodes = list(graph.nodes)[:50:5]
    result = hot_streets(graph, graph_signals(graph, nodes, graph.graph["crs"]))
    assert result.n_snapped == len(nodes)
    assert (result.edges["density"] > 0).sum() > len(nodes)
    assert set(json.loads(json.dumps(result.to_json(top=5)))) == {"n_snapped", "n_unsnapped", "streets"}


def test_hot_streets_accept_geodataframe_in_rd_new(tiny_osm, two_wards):
    """Signals given as a GeoDataFrame in RD New are reprojected, not misread."""
    graph = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))
    node = next(iter(graph.nodes))
    plain = graph_signals(graph, [node], graph.graph["crs"])
    gdf = gpd.GeoDataFrame(plain.drop(columns=["lat", "lon"]),
                           geometry=gpd.points_from_xy(plain["lon"], plain["lat"], crs="EPSG:4326")).to_crs(28992)
    assert hot_streets(graph, gdf).edges["density"].to_numpy() == pytest.approx(
        hot_streets(graph, plain).edges["density"].to_numpy(), rel=1e-3, abs=1e-3
    )


# -- hot streets from the CLI ----------------------------------------------------------------------
BASE_KEYS = {"ward", "audience", "now", "window", "hotspots"}


@pytest.fixture(scope="module")
def demo(demo_copy):
    """The demo town for this module: its data directory and the CLI's global options."""
    return demo_copy, ["--data-dir", str(demo_copy), "--db", f"sqlite:///{demo_copy / 'was.db'}"]


def run_json(args: list[str]) -> dict:
    """Invoke the CLI, expect success, parse its one JSON object."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_hot_streets_cli_officer_on_demo(demo, tmp_path):
    """--hot-streets adds one JSON key (densest first) and writes WGS84 street lines ranked by density."""
    directory, base = demo
    out = tmp_path / "hs.geojson"
    payload = run_json([*base, "hotspots", "--ward", "Vogelwijk", "--audience", "officer", "--json",
                        "--hot-streets", str(out)])
    assert set(payload) == BASE_KEYS | {"points", "hot_streets"}
    hot = payload["hot_streets"]
    assert hot["n_snapped"] + hot["n_unsnapped"] == len(payload["points"])
    densities = [s["density_per_km"] for s in hot["streets"]]
    assert len(densities) == 20 and densities == sorted(densities, reverse=True) and densities[0] > 0
    features = json.loads(out.read_text())["features"]
    west, south, east, north = gpd.read_file(directory / "demo" / "wards.geojson").total_bounds
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))
    assert features[0]["properties"]["density_per_km"] == pytest.approx(densities[0])
    for feature in features:
        assert feature["geometry"]["type"] == "LineString" and feature["properties"]["density_per_km"] > 0
        assert {"name", "prize", "signals", "length_m"} <= set(feature["properties"])
        lon, lat = np.asarray(feature["geometry"]["coordinates"]).T
        assert (west - 0.01 < lon).all() and (lon < east + 0.01).all()
        assert (south - 0.01 < lat).all() and (lat < north + 0.01).all()
    assert sum(f["properties"]["signals"] for f in features) <= hot["n_snapped"]


def test_hot_streets_cli_public_on_demo(demo, tmp_path):
    """Public: JSON unchanged without --hot-streets; with it, no counts and only streets on hotspot areas."""
    _, base = demo
    plain = run_json([*base, "hotspots", "--ward", "Vogelwijk", "--json"])
    assert set(plain) == BASE_KEYS
    areas, out = tmp_path / "areas.geojson", tmp_path / "hs.geojson"
    payload = run_json([*base, "hotspots", "--ward", "Vogelwijk", "--json", "--geojson", str(areas),
                        "--hot-streets", str(out)])
    assert set(payload) == BASE_KEYS | {"hot_streets"}
    assert payload["hotspots"] == plain["hotspots"]
    assert all("signals" not in s for s in payload["hot_streets"]["streets"])
    union = gpd.read_file(areas).union_all()
    streets_gdf = gpd.read_file(out)
    assert len(streets_gdf) > 0 and "signals" not in streets_gdf.columns
    assert streets_gdf.intersects(union).all()
    text = CliRunner().invoke(app, [*base, "hotspots", "--ward", "Vogelwijk", "--hot-streets", str(out)])
    assert text.exit_code == 0 and "hot streets:" in text.stdout
    assert payload["hot_streets"]["streets"][0]["name"] in text.stdout


def test_hot_streets_cli_without_a_ward_graph_says_how(data_dir, tmp_path, two_wards, clustered):
    """No cached graph for the ward: exit 2 and the message names `was-planner graph`."""
    wards_path = tmp_path / "w.geojson"
    two_wards.to_file(wards_path, driver="GeoJSON")
    base = ["--data-dir", str(data_dir)]
    assert CliRunner().invoke(app, [*base, "wards", "load", str(wards_path)]).exit_code == 0
    result = CliRunner().invoke(app, [*base, "hotspots", "--ward", "West", "--hot-streets", str(tmp_path / "x")])
    assert result.exit_code == 2 and "was-planner graph" in result.stderr


def test_hot_streets_cli_real_extract_west_oakland(shared_data, data_dir, tmp_path):
    """A ward graph built by `graph --osm west-oakland.osm.bz2`: every signal snapped, the hot node's street on top."""
    osm = shared_data / "osm" / "west-oakland.osm.bz2"
    graph = streets.prepare_graph(streets.graph_from_osm_file(osm))
    crs = graph.graph["crs"]
    nodes = list(graph.nodes)
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    ward = gpd.GeoDataFrame({"name": ["West Oakland"], "code": ["WO01"]},
                            geometry=[shapely.MultiPoint(xy).convex_hull.buffer(30)], crs=crs)
    ward.to_crs(4326).to_file(tmp_path / "ward.geojson", driver="GeoJSON")
    rng = np.random.default_rng(0)
    picks = [nodes[0]] * 10 + [nodes[i] for i in rng.choice(len(nodes), 20)]
    # Distinct times: the importer drops a second signal at the same place and minute as a duplicate.
    times = pd.Timestamp("2026-02-20T21:00Z") - pd.to_timedelta(np.arange(len(picks)), unit="h")
    rows = graph_signals(graph, picks, crs).assign(occurred_at=times.strftime("%Y-%m-%dT%H:%M:%SZ"))
    rows[["occurred_at", "lat", "lon", "category"]].to_csv(tmp_path / "s.csv", index=False)
    base = ["--data-dir", str(data_dir)]
    runner = CliRunner()
    assert runner.invoke(app, [*base, "wards", "load", str(tmp_path / "ward.geojson")]).exit_code == 0
    assert runner.invoke(app, [*base, "import", str(tmp_path / "s.csv")]).exit_code == 0
    built = runner.invoke(app, [*base, "graph", "--ward", "West Oakland", "--osm", str(osm)])
    assert built.exit_code == 0, built.output
    out = tmp_path / "hs.geojson"
    payload = run_json([*base, "hotspots", "--ward", "West Oakland", "--audience", "officer", "--json",
                        "--hot-streets", str(out)])
    hot = payload["hot_streets"]
    assert (hot["n_snapped"], hot["n_unsnapped"]) == (30, 0)
    assert any(nodes[0] in (s["u"], s["v"]) for s in hot["streets"][:6])
    assert len(json.loads(out.read_text())["features"]) > 0


def test_public_category_counts_never_go_below_k():
    """Residents see a category of a hotspot only when it holds at least k signals."""
    from datetime import datetime, timedelta

    import numpy as np
    import pandas as pd

    from planner.hotspots import HotspotParams, find_hotspots

    rng = np.random.default_rng(3)
    start = datetime(2026, 10, 1, 20, tzinfo=UTC)
    categories = ["youth_nuisance"] * 12 + ["burglary"] + ["other"] * 40
    spread = np.r_[np.full(13, 0.0002), np.full(40, 0.01)]  # one tight cluster in a wide background
    frame = pd.DataFrame({
        "id": range(len(categories)),
        "lat": 52.06 + rng.normal(0, 1, len(categories)) * spread,
        "lon": 4.49 + rng.normal(0, 1.5, len(categories)) * spread,
        "category": categories,
        "occurred_from": [start + timedelta(days=i) for i in range(len(categories))],
    })
    frame["occurred_to"] = frame["occurred_from"]
    public = find_hotspots(frame, params=HotspotParams(audience="public"))
    officer = find_hotspots(frame, params=HotspotParams(audience="officer"))
    assert ["burglary", 1] in officer.hotspots.iloc[0]["top_categories"]
    assert len(public.hotspots) == 1
    assert public.hotspots.iloc[0]["top_categories"] == [["youth_nuisance", 12]]


def test_with_no_signals_the_present_is_the_installation_s_today():
    """An empty ward is scored as of today as WAS_TODAY moves it (the tests' day), not the calendar's."""
    import os
    from datetime import date

    from planner import _time
    from planner.hotspots.weights import reference_time

    present = reference_time(pd.DataFrame({"occurred_to": pd.Series([], dtype="datetime64[ns, UTC]")}))
    assert _time.local_day(present.to_pydatetime()) == _time.today() == date.fromisoformat(os.environ["WAS_TODAY"])
