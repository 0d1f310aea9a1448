"""Tests for planner/evaluate.py: the backtest's numbers, its JSON contract and the real files."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app
from planner.evaluate import BacktestParams, backtest, hit_rates, length_hit_rates, scott_bandwidth
from planner.hotspots import TimeWindow

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
SACRAMENTO_MAPPING = "cdatetime=occurred_at,latitude=lat,longitude=lon"
KEYS = {f"{kind}@{c}" for kind in ("hit_rate", "pai") for c in (1, 5, 10)}


def signals(x, y, times, category="other") -> pd.DataFrame:
    """Signals at RD New metres and aware times."""
    lon, lat = TO_WGS.transform(np.asarray(x, float), np.asarray(y, float))
    times = pd.DatetimeIndex(times)
    return pd.DataFrame({"occurred_from": times, "occurred_to": times, "lat": lat, "lon": lon,
                         "category": category, "status": "open", "on_patrol": False})


@pytest.fixture
def known(two_wards):
    """Twenty training signals and ten test signals, all in one 100 m cell of 200."""
    rng = np.random.default_rng(0)
    train_t = pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 20, 20), unit="D")
    test_t = pd.Timestamp("2026-02-23", tz="UTC") + pd.to_timedelta(rng.uniform(0, 6, 10), unit="D")
    x = 91_500 + rng.uniform(1, 99, 30)
    y = 452_500 + rng.uniform(1, 99, 30)
    return signals(np.r_[x], np.r_[y], np.r_[train_t, test_t])


def test_known_answer_all_future_signals_in_the_one_hot_cell(known, two_wards):
    """When every signal falls in one cell, each method catches all of them at 1 % (PAI 100)."""
    result = backtest(known, split="2026-02-22T12:00", wards=two_wards)
    assert (result.n_train, result.n_test, result.n_cells) == (20, 10, 200)
    for name in ("planner", "kde", "naive"):
        values = result.methods[name]
        assert values["hit_rate@1"] == pytest.approx(1.0)
        assert values["pai@1"] == pytest.approx(100.0)  # 1 / (2 of 200 cells)
        assert values["pai@10"] == pytest.approx(10.0)


def test_json_contract_is_exact(known, two_wards):
    """to_json has exactly methods (planner, kde, naive × six keys), n_train and n_test."""
    payload = backtest(known, split="2026-02-22T12:00", wards=two_wards).to_json()
    assert set(payload) == {"methods", "n_train", "n_test"}
    assert set(payload["methods"]) == {"planner", "kde", "naive"}
    for values in payload["methods"].values():
        assert set(values) == KEYS and all(isinstance(v, float) for v in values.values())
    json.dumps(payload)


def test_ties_count_in_proportion():
    """With all scores equal a method catches exactly its area share (PAI 1), whatever the order."""
    hits = np.array([5.0, 0, 0, 0, 0, 0, 0, 0, 0, 0] * 10)
    result = hit_rates(np.zeros(100), hits, (1.0, 5.0, 10.0))
    assert result["hit_rate@5"] == pytest.approx(0.05) and result["pai@5"] == pytest.approx(1.0)
    better = hit_rates(hits.copy(), hits, (10.0,))
    assert better["hit_rate@10"] == pytest.approx(1.0) and better["pai@10"] == pytest.approx(10.0)


def test_straddling_and_out_of_window_signals_are_left_out(two_wards):
    """A signal spanning the split is neither training nor test; a window keeps only its test signals."""
    t = pd.Timestamp("2026-02-10T12:00", tz="UTC")
    frame = signals([91_500] * 4, [452_500] * 4, [t - pd.Timedelta(days=3), t, t, t + pd.Timedelta(days=2)])
    frame.loc[1, "occurred_from"] = t - pd.Timedelta(hours=5)
    frame.loc[1, "occurred_to"] = t + pd.Timedelta(hours=5)  # straddles
    frame.loc[2, "occurred_from"] = frame.loc[2, "occurred_to"] = t + pd.Timedelta(days=1, hours=8)  # 22:00?
    result = backtest(frame, split=t, wards=two_wards)
    assert (result.n_train, result.n_test) == (1, 2)
    evening = pd.Timestamp("2026-02-11T20:30", tz="UTC")  # 21:30 in Amsterdam
    frame.loc[2, ["occurred_from", "occurred_to"]] = evening
    windowed = backtest(frame, split=t, wards=two_wards,
                        params=BacktestParams(window=TimeWindow.parse("20:00-23:00")))
    assert windowed.n_test == 1


def test_no_test_signals_is_a_clear_error(known, two_wards):
    """A split after the data ends says how many signals each side got and the data's range."""
    with pytest.raises(InputError, match="0 test signals"):
        backtest(known, split="2027-01-01", wards=two_wards)


def test_study_area_without_wards_is_the_buffered_hull(known):
    """Without wards the study area is the training hull + 500 m: about π 500² + 4·100·500 m² here."""
    result = backtest(known, split="2026-02-22T12:00")
    assert 80 <= result.n_cells <= 105
    assert result.crs == "EPSG:28992"


def test_scott_bandwidth_shrinks_with_more_points():
    """Scott's rule: same spread, 64 times the points → half the bandwidth."""
    rng = np.random.default_rng(1)
    small = rng.normal(0, 100, (2, 100))
    big = rng.normal(0, 100, (2, 6400))
    assert scott_bandwidth(*big) == pytest.approx(scott_bandwidth(*small) / 2, rel=0.1)


def test_params_name_the_bad_field():
    """Invalid backtest parameters raise an InputError naming the field."""
    with pytest.raises(InputError, match="horizon_days"):
        BacktestParams(horizon_days=0)
    with pytest.raises(InputError, match="coverages"):
        BacktestParams(coverages=(0.0,))


def test_sacramento_cli_json(shared_data):
    """Sacramento through the import aliases: the exact contract, and planner beats KDE at 5 %."""
    path = shared_data / "incidents" / "sacramento_2006-01-01_to_2006-01-21.csv"
    result = CliRunner().invoke(app, [
        "evaluate", str(path), "--split", "2006-01-08", "--horizon-days", "7", "--mapping", SACRAMENTO_MAPPING,
        "--date-format", "%m/%d/%y %H:%M", "--json",
    ])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"methods", "n_train", "n_test"}
    assert (payload["n_train"], payload["n_test"]) == (1652, 1740)
    methods = payload["methods"]
    assert all(set(values) == KEYS for values in methods.values())
    assert methods["planner"]["pai@5"] > methods["kde"]["pai@5"]


def test_city_of_london_month_only(shared_data):
    """Month-only police.uk rows work at month resolution: January 2017 is the test month."""
    path = shared_data / "incidents" / "city_of_london_street_2016-01_2017-06.csv"
    result = CliRunner().invoke(app, [
        "evaluate", str(path), "--split", "2017-01-01", "--horizon-days", "31",
        "--mapping", "Month=occurred_at,Crime type=category", "--json",
    ])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    raw = pd.read_csv(path)
    january = raw[(raw["Month"] == "2017-01") & raw["Latitude"].notna()]
    before = raw[(raw["Month"] < "2017-01") & raw["Latitude"].notna()]
    assert payload["n_test"] == len(january)
    assert payload["n_train"] == len(before)
    assert 0 < payload["methods"]["planner"]["hit_rate@10"] <= 1


def test_evaluate_cli_bad_split_exits_2(shared_data):
    """An unreadable split date gives exit code 2 and a one-line message."""
    path = shared_data / "incidents" / "sacramento_2006-01-01_to_2006-01-21.csv"
    result = CliRunner().invoke(app, [
        "evaluate", str(path), "--split", "someday", "--mapping", SACRAMENTO_MAPPING,
        "--date-format", "%m/%d/%y %H:%M",
    ])
    assert result.exit_code == 2 and "split" in result.stderr


# -- per km of street (a graph given) -----------------------------------------------------------
NET_KEYS = {"planner", "kde", "naive", "street_km", "n_test"}


@pytest.fixture
def line_graph():
    """A straight street of ten 100 m segments along y = 452 500 in RD New, prepared."""
    from shapely.geometry import LineString

    from planner import streets

    segments = gpd.GeoDataFrame(
        {"name": [f"Straat {i}" for i in range(10)]},
        geometry=[LineString([(91_000 + 100 * i, 452_500), (91_100 + 100 * i, 452_500)]) for i in range(10)],
        crs="EPSG:28992",
    )
    return streets.prepare_graph(streets.graph_from_segments(segments))


@pytest.fixture
def one_hot_street():
    """Twenty training and ten test signals, all within 5 m of the street 91 500–91 600."""
    rng = np.random.default_rng(3)
    train_t = pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 20, 20), unit="D")
    test_t = pd.Timestamp("2026-02-23", tz="UTC") + pd.to_timedelta(rng.uniform(0, 6, 10), unit="D")
    x = 91_500 + rng.uniform(5, 95, 30)
    y = 452_500 + rng.uniform(-5, 5, 30)
    return signals(x, y, np.r_[train_t, test_t])


def test_length_hit_rates_take_the_threshold_street_in_part():
    """Coverage is by length: 30 % of 100 m = the 10 m street plus half the 40 m one."""
    scores, lengths, hits = np.array([3.0, 2.0, 1.0]), np.array([10.0, 40.0, 50.0]), np.array([1.0, 2.0, 7.0])
    result = length_hit_rates(scores, hits, lengths, (10.0, 30.0, 100.0))
    assert result["hit_rate@10"] == pytest.approx(0.1) and result["pai@10"] == pytest.approx(1.0)
    assert result["hit_rate@30"] == pytest.approx(0.2) and result["pai@30"] == pytest.approx(2 / 3)
    assert result["hit_rate@100"] == pytest.approx(1.0)
    tied = length_hit_rates(np.zeros(3), hits, lengths, (5.0, 50.0))
    assert tied["pai@5"] == pytest.approx(1.0) and tied["pai@50"] == pytest.approx(1.0)


def test_network_known_answer_one_hot_street(one_hot_street, line_graph, two_wards):
    """All signals on one of ten equal streets: every method catches 10 % per 1 % of length (PAI 10)."""
    result = backtest(one_hot_street, split="2026-02-22T12:00", wards=two_wards, graph=line_graph)
    network = result.network
    assert network["street_km"] == pytest.approx(1.0) and network["n_test"] == 10
    for name in ("planner", "kde", "naive"):
        values = network[name]
        assert values["hit_rate@1"] == pytest.approx(0.1) and values["pai@1"] == pytest.approx(10.0)
        assert values["hit_rate@5"] == pytest.approx(0.5) and values["pai@5"] == pytest.approx(10.0)
        assert values["hit_rate@10"] == pytest.approx(1.0) and values["pai@10"] == pytest.approx(10.0)


def test_network_adds_exactly_one_json_key(one_hot_street, line_graph, two_wards):
    """With a graph to_json gains only "network" (same six keys per method, street_km, n_test)."""
    payload = backtest(one_hot_street, split="2026-02-22T12:00", wards=two_wards, graph=line_graph).to_json()
    assert set(payload) == {"methods", "n_train", "n_test", "network"}
    assert set(payload["network"]) == NET_KEYS
    assert all(set(payload["network"][name]) == KEYS for name in ("planner", "kde", "naive"))
    json.dumps(payload)


def test_network_test_signals_far_from_streets_are_left_out(one_hot_street, line_graph, two_wards):
    """A test signal 300 m from every street is not on the network: it counts on the grid, not per km."""
    far = signals([91_550], [452_800], [pd.Timestamp("2026-02-24", tz="UTC")])
    result = backtest(pd.concat([one_hot_street, far], ignore_index=True), split="2026-02-22T12:00",
                      wards=two_wards, graph=line_graph)
    assert result.n_test == 11 and result.network["n_test"] == 10
    with pytest.raises(InputError, match="within 50 m"):
        backtest(pd.concat([one_hot_street.iloc[:20], far], ignore_index=True), split="2026-02-22T12:00",
                 wards=two_wards, graph=line_graph)


def test_evaluate_cli_graph_json_and_summary(one_hot_street, line_graph, tmp_path):
    """`evaluate --graph G.graphml --json` adds "network"; the text summary gains a per-km table."""
    from planner import streets

    graph_path = streets.save_graph(line_graph, tmp_path / "line.graphml")
    rows = one_hot_street.assign(occurred_at=one_hot_street["occurred_from"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    rows[["occurred_at", "lat", "lon", "category"]].to_csv(tmp_path / "s.csv", index=False)
    args = ["evaluate", str(tmp_path / "s.csv"), "--split", "2026-02-22T13:00", "--graph", str(graph_path)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"methods", "n_train", "n_test", "network"}
    assert payload["network"]["planner"]["pai@10"] == pytest.approx(10.0)
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0 and "per km of street: 1.0 km" in text.stdout
    missing = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "none.graphml")])
    assert missing.exit_code == 2 and "graph file not found" in missing.stderr


def test_network_backtest_on_the_amsterdam_sidewalks(shared_data):
    """Real network, synthetic signals: persistent hot streets give planner PAI@5 > 5; rates grow with coverage."""
    from planner import streets

    graph = streets.build_ward_graph(None, osm=shared_data / "networks" / "amsterdam_osdorp_midden_walk.gpkg")
    mids = [(data["geometry"].interpolate(0.5, normalized=True), data["length"])
            for _, _, data in graph.edges(data=True)]
    rng = np.random.default_rng(0)
    hot = rng.choice(len(mids), 8, replace=False)

    def draw(n, start, days):
        """Half the signals on the eight hot streets, half on streets drawn at random."""
        picks = np.where(rng.random(n) < 0.5, rng.choice(hot, n), rng.choice(len(mids), n))
        x = np.array([mids[i][0].x for i in picks]) + rng.normal(0, 2, n)
        y = np.array([mids[i][0].y for i in picks]) + rng.normal(0, 2, n)
        times = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), unit="D")
        return signals(x, y, times)

    frame = pd.concat([draw(300, "2026-02-01", 27), draw(100, "2026-03-01", 6.5)], ignore_index=True)
    result = backtest(frame, split="2026-02-28T23:00", graph=graph)
    network = result.network
    assert network["n_test"] == 100
    assert network["street_km"] == pytest.approx(sum(length for _, length in mids) / 2000, rel=0.01)
    for name in ("planner", "kde", "naive"):
        rates = [network[name][f"hit_rate@{c}"] for c in (1, 5, 10)]
        assert rates == sorted(rates) and rates[0] >= 0 and rates[-1] <= 1
    assert network["planner"]["pai@5"] > 5
