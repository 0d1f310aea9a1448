"""Tests for planner/hotspots/street_calibration.py: hot streets calibrated per km of street (issue 13)."""

from __future__ import annotations

import logging
import math
import os

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from planner._errors import InputError
from planner.hotspots import HotspotParams, HotStreetParams, NetworkKernel, hot_streets, network, street_calibration
from planner.hotspots.evaluate import BacktestParams, backtest, calibrate_hot_streets, rolling_folds
from planner.hotspots.street_calibration import StreetCalibration, StreetCalibrationParams, StreetSurfaceParams, _Area
from planner.hotspots.tuning import hot_street_params, installation_street_calibration, street_calibration_from_json
from planner.hotspots.weights import statuses_at
from planner.storage.store import open_store

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
SPLIT = "2026-03-01T12:00"
# Streets of the 5 × 5 grid (tests/conftest.py street_grid) as (node, node): node = 5 i + j at
# x = 92 000 + 100 i, y = 452 000 + 100 j.
HOT = [(0, 1), (6, 7), (12, 17), (18, 23)]
OTHER = [(2, 3), (8, 13), (15, 20), (21, 22), (3, 4), (10, 11)]


def on_streets(rng, n, start, days, pairs, *, resolved=0.0) -> pd.DataFrame:
    """``n`` signals within 5 m of the given streets of the grid, uniform in time over ``days``,
    each stored (with its status) a day after it occurred."""
    pick = np.asarray(pairs)[rng.integers(0, len(pairs), n)]
    a = np.column_stack([92_000 + 100 * (pick[:, 0] // 5), 452_000 + 100 * (pick[:, 0] % 5)])
    b = np.column_stack([92_000 + 100 * (pick[:, 1] // 5), 452_000 + 100 * (pick[:, 1] % 5)])
    xy = a + (b - a) * rng.uniform(0.05, 0.95, (n, 1)) + rng.normal(0, 2, (n, 2))
    lon, lat = TO_WGS.transform(xy[:, 0], xy[:, 1])
    when = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), "D")
    status = np.where(rng.random(n) < resolved, "resolved", "open")
    return pd.DataFrame({"occurred_from": when, "occurred_to": when, "lat": lat, "lon": lon, "category": "other",
                         "status": status, "stored_at": when + pd.Timedelta(days=1)})


@pytest.fixture
def history() -> pd.DataFrame:
    """Sixty days before the split: 240 signals on four hot streets, 120 spread over six others."""
    rng = np.random.default_rng(7)
    return pd.concat([on_streets(rng, 240, "2026-01-01", 59.5, HOT, resolved=0.6),
                      on_streets(rng, 120, "2026-01-01", 59.5, OTHER, resolved=0.6)], ignore_index=True)


def without_seconds(calibration: StreetCalibration) -> dict:
    return calibration.to_json() | {"seconds": 0}


@pytest.mark.shipped_folds
def test_a_planted_burst_in_the_forecast_period_changes_nothing(history, street_grid):
    """300 signals in the forecast week change neither the choice nor the planner's street scores."""
    rng = np.random.default_rng(8)
    burst = on_streets(rng, 300, "2026-03-01T13:00", 5, OTHER)
    future = pd.concat([on_streets(rng, 40, "2026-03-01T13:00", 6, HOT), burst], ignore_index=True)
    plain = backtest(pd.concat([history, future.iloc[:40]], ignore_index=True), split=SPLIT, graph=street_grid)
    planted = backtest(pd.concat([history, future], ignore_index=True), split=SPLIT, graph=street_grid)
    assert not plain.street_calibration.fallback and plain.street_calibration.fold_test_signals > 0
    assert without_seconds(planted.street_calibration) == without_seconds(plain.street_calibration)
    assert np.array_equal(planted.network_scores["planner"], plain.network_scores["planner"])
    assert planted.network["n_test"] == plain.network["n_test"] + 300
    earlier = burst.assign(occurred_from=burst["occurred_from"] - pd.Timedelta(days=6),
                           occurred_to=burst["occurred_to"] - pd.Timedelta(days=6))
    seen = backtest(pd.concat([history, future.iloc[:40], earlier], ignore_index=True), split=SPLIT,
                    graph=street_grid)
    assert not np.array_equal(seen.network_scores["planner"], plain.network_scores["planner"])  # training counts


def test_the_street_backtest_of_one_area_is_the_backtest_per_km_of_street(history, street_grid):
    """street_backtest on one area, with the cell calibration's weights, gives backtest(graph=G)'s
    street figures, choice and test signals; nothing to forecast gives None."""
    from planner.hotspots.evaluate import METHODS, street_backtest

    frame = pd.concat([history, on_streets(np.random.default_rng(9), 40, "2026-03-01T13:00", 6, HOT)],
                      ignore_index=True)
    result = backtest(frame, split=SPLIT, graph=street_grid)
    pooled = street_backtest([(street_grid, frame)], split=SPLIT, weights=result.calibration.tune(HotspotParams()))
    assert pooled.n_test == result.network["n_test"] == 40 and pooled.street_km == result.network["street_km"]
    assert without_seconds(pooled.calibration) == without_seconds(result.street_calibration)
    for name in METHODS:
        for key, value in result.network[name].items():
            assert pooled.methods[name][key] == pytest.approx(value, abs=2e-6), (name, key)
    assert street_backtest([(street_grid, history)], split=SPLIT) is None  # no test signal
    assert street_backtest([(street_grid, frame)], split="2025-06-01") is None  # no training signal


def test_the_street_backtest_calibrates_the_areas_together_and_pools_their_test_signals(history, street_grid):
    """Two wards: one choice made on both (their folds summed), each ranked on its own streets, the
    hit rates the mean of the wards' weighted by their test signals."""
    from planner.hotspots.evaluate import _network_backtest, _Rows, parse_split, street_backtest

    rng = np.random.default_rng(11)
    second = pd.concat([on_streets(rng, 200, "2026-01-10", 50, OTHER[:3]), on_streets(rng, 80, "2026-01-10", 50, HOT)],
                       ignore_index=True)
    areas = [(street_grid, pd.concat([history, on_streets(rng, 30, "2026-03-01T13:00", 6, HOT)], ignore_index=True)),
             (street_grid, pd.concat([second, on_streets(rng, 10, "2026-03-01T13:00", 6, OTHER[:3])],
                                     ignore_index=True))]
    pooled = street_backtest(areas, split=SPLIT)
    alone = [street_backtest([area], split=SPLIT) for area in areas]
    assert pooled.calibration.n_folds == sum(a.calibration.n_folds for a in alone)
    assert pooled.calibration.fold_test_signals == sum(a.calibration.fold_test_signals for a in alone)
    assert pooled.n_test == 40 and pooled.street_km == 2 * alone[0].street_km
    split = parse_split(SPLIT)
    params = BacktestParams()
    per_area = []
    for graph, incidents in areas:
        rows = _Rows(incidents, split, params)
        per_area.append(_network_backtest(graph, rows.frame, rows.split(), rows.folds, params,
                                          HotspotParams(), None, pooled.calibration)[0])
    assert [a["n_test"] for a in per_area] == [30, 10]
    for key in ("hit_rate@1", "hit_rate@5", "hit_rate@10"):
        expected = (30 * per_area[0]["planner"][key] + 10 * per_area[1]["planner"][key]) / 40
        assert pooled.methods["planner"][key] == pytest.approx(expected, abs=1e-6)


def test_the_prior_keeps_a_street_with_many_signals_above_a_busier_neighbourhood(street_grid):
    """A short history gets the prior, which weighs the counts per km half: a street with eight
    signals stays on top, where the 150 m walk alone (the hot streets before calibration) puts
    first the streets around a crossing with four signals on each of its four streets."""
    rng = np.random.default_rng(4)
    crossing = [(7, 12), (11, 12), (12, 13), (12, 17)]
    train = pd.concat([on_streets(rng, 8, "2026-02-20", 5, [(0, 1)])]
                      + [on_streets(rng, 4, "2026-02-20", 5, [pair]) for pair in crossing], ignore_index=True)
    data = pd.concat([train, on_streets(rng, 3, "2026-03-02", 3, [(0, 1)])], ignore_index=True)

    def top(params: BacktestParams) -> int:
        result = backtest(data, split=SPLIT, graph=street_grid, params=params)
        assert result.street_calibration.fallback and "24 training signals" in result.street_calibration.reason
        return int(np.argmax(result.network_scores["planner"]))

    busiest = int(np.argmax(backtest(data, split=SPLIT, graph=street_grid).network_scores["naive_all"]))
    assert top(BacktestParams()) == busiest
    walk_alone = StreetCalibrationParams(prior=StreetSurfaceParams(blend=1.0))
    assert top(BacktestParams(street_calibration=walk_alone)) != busiest


def test_too_short_a_history_keeps_the_prior_and_says_why(history, street_grid):
    """Under 200 signals, under a week of history or no graph: the prior, with the reason."""
    few = backtest(pd.concat([history.iloc[:150], on_streets(np.random.default_rng(1), 20, "2026-03-02", 3, HOT)]),
                   split=SPLIT, graph=street_grid)
    assert few.street_calibration.fallback and few.street_calibration.chosen == StreetSurfaceParams()
    assert "150 training signals < 200" in few.street_calibration.reason
    assert "prior (150 m, blend 0.5, the weights' recency)" in few.summary()
    rng = np.random.default_rng(2)
    recent = pd.concat([on_streets(rng, 250, "2026-02-26", 3, HOT), on_streets(rng, 20, "2026-03-02", 3, HOT)])
    short = backtest(recent, split=SPLIT, graph=street_grid)
    assert short.street_calibration.fallback and "days of history < 7" in short.street_calibration.reason
    none = calibrate_hot_streets([])
    assert none.fallback and none.reason == "no street graph" and none.chosen == StreetSurfaceParams()
    tuned = none.tune(HotStreetParams(weights=HotspotParams(half_life_days=9.0)))
    assert tuned == HotStreetParams(weights=HotspotParams(half_life_days=9.0), blend=0.5)  # the weights' recency


def test_the_products_hot_streets_reproduce_the_backtest_ranking(history, street_grid):
    """hot_streets with the tuned parameters orders the streets as the backtest's planner does."""
    rng = np.random.default_rng(9)
    frame = pd.concat([history, on_streets(rng, 40, "2026-03-01T13:00", 6, HOT)], ignore_index=True)
    result = backtest(frame, split=SPLIT, graph=street_grid)
    calibration = result.street_calibration
    assert not calibration.fallback and calibration.chosen != StreetSurfaceParams()
    weights = result.calibration.tune(HotspotParams())
    params = calibration.tune(HotStreetParams(weights=weights))
    split = pd.Timestamp(SPLIT, tz="Europe/Amsterdam")
    train = statuses_at(frame[pd.to_datetime(frame["occurred_from"]) < split], split)
    scored = hot_streets(street_grid, train, params=params, now=split)
    density = np.zeros(len(result.network_scores["planner"]))
    density[scored.edges["street"].to_numpy()] = scored.edges["density"].to_numpy()
    by_rank = density[np.argsort(-result.network_scores["planner"])]
    assert (np.diff(by_rank) <= 0).all() and by_rank[0] > 0
    assert street_calibration_from_json(calibration.to_json()).to_json() == calibration.to_json()


@pytest.mark.parametrize("candidate", [
    StreetSurfaceParams(), StreetSurfaceParams(50.0, 0.5, 30.0, 1.0), StreetSurfaceParams(100.0, 0.25, math.inf),
    StreetSurfaceParams(0.0, 0.0, None, 1.0), StreetSurfaceParams(50.0, 1.0, math.inf, 1.0, "planar"),
    StreetSurfaceParams(100.0, 0.25, 30.0, 0.0, "planar"),
])
def test_fold_scores_are_the_products_surface(history, street_grid, candidate):
    """What a fold scores from the shared 300 m distances is hot_streets' density with the tuned parameters."""
    start = pd.to_datetime(history["occurred_from"], utc=True)
    split = pd.Timestamp(SPLIT, tz="Europe/Amsterdam").tz_convert("UTC")
    folds = rolling_folds(start, start, split=split, horizon_days=7, folds=2, testable=np.ones(len(history), bool))
    weights = HotspotParams(half_life_days=20.0, recency_floor=0.2)
    area = _Area(street_grid, history, folds, hotspot=weights, candidates=StreetCalibrationParams().candidates(),
                 snap_m=50.0)
    calibration = StreetCalibration(chosen=candidate, fallback=False, reason="", n_candidates=1, n_folds=1,
                                    fold_test_signals=1, seconds=0.0)
    fit, origin = area.folds[0].fit, area.folds[0].origin
    known = statuses_at(history[fit], origin)
    assert (known["status"] == "resolved").sum() < (history[fit]["status"] == "resolved").sum()
    scored = hot_streets(street_grid, known, params=calibration.tune(HotStreetParams(weights=weights)),
                         now=origin)
    density = np.zeros(len(area.kernel.table))
    density[scored.edges["street"].to_numpy()] = scored.edges["density"].to_numpy()
    assert area.fold(0).score(candidate) == pytest.approx(density, rel=1e-9, abs=1e-12)


def test_the_kernel_walked_in_batches_on_threads_is_the_walking_distance(monkeypatch):
    """More source nodes than one batch of walks, on 1 and 2 threads: each street's kernel density is the
    quartic kernel of the walk from every signal (at a node) to its midpoint, as networkx walks it."""
    import networkx as nx

    from planner import streets

    rng = np.random.default_rng(11)
    raw, side = nx.MultiDiGraph(crs="EPSG:28992"), 20
    xy = {i * side + j: (92_000.0 + 60 * i + rng.uniform(-15, 15), 452_000.0 + 60 * j + rng.uniform(-15, 15))
          for i in range(side) for j in range(side)}
    for node, (x, y) in xy.items():
        raw.add_node(node, x=x, y=y)
    for node in xy:
        for other in (node + side, node + 1 if (node + 1) % side else None):
            if other in xy:
                length = math.dist(xy[node], xy[other]) * rng.uniform(1.0, 1.3)  # a street is seldom straight
                for a, b in ((node, other), (other, node)):
                    raw.add_edge(a, b, length=length, name=f"straat {min(node, other)}")
    graph = streets.prepare_graph(raw)
    at = rng.choice(list(graph.nodes), 300, replace=False)
    x, y = np.array([graph.nodes[n]["x"] for n in at]), np.array([graph.nodes[n]["y"] for n in at])
    weight = rng.uniform(0.5, 2.0, len(at))
    monkeypatch.setattr(network, "THREADED_STREETS", 0)  # threads however small the graph
    densities = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("WAS_KERNEL_THREADS", threads)
        kernel = NetworkKernel(graph, x, y, snap_m=1.0, bandwidths_m=(90.0, 200.0))
        densities[threads] = {h: kernel.kernel_density(weight, bandwidth_m=h) for h in (90.0, 200.0)}
    assert all(np.array_equal(densities["1"][h], densities["2"][h]) for h in (90.0, 200.0))
    walks = nx.Graph()
    for u, v, data in graph.edges(data=True):
        if not walks.has_edge(u, v) or data["length"] < walks[u][v]["length"]:
            walks.add_edge(u, v, length=data["length"])
    dist = [nx.single_source_dijkstra_path_length(walks, node, cutoff=200.0, weight="length") for node in at]
    table = kernel.table
    for h in (90.0, 200.0):
        expected = np.zeros(len(table))
        for street, (u, v, length) in enumerate(zip(table["u"], table["v"], kernel.length, strict=True)):
            d = np.array([min(ds.get(u, np.inf), ds.get(v, np.inf)) + length / 2 for ds in dist])
            expected[street] = (weight * np.clip(1 - (d / h) ** 2, 0, None) ** 2).sum() / (16 * h / 15) * 1000
        assert densities["1"][h] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_the_choice_is_the_same_on_one_thread_or_two(history, street_grid, monkeypatch):
    """The folds are judged side by side: every candidate scores as when they are judged one after another."""
    monkeypatch.setattr(street_calibration, "THREADED_STREETS", 0)
    monkeypatch.setattr(network, "THREADED_STREETS", 0)
    chosen = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("WAS_KERNEL_THREADS", threads)
        chosen[threads] = calibrate_hot_streets([(street_grid, history)], now=pd.Timestamp(SPLIT, tz="UTC"))
    assert chosen["1"].n_folds > 1 and chosen["1"].scores == chosen["2"].scores
    assert without_seconds(chosen["1"]) == without_seconds(chosen["2"])


def test_the_folds_selection_scores_every_candidate_as_the_sorted_ranking(history, street_grid, monkeypatch):
    """Counting the signals caught without sorting changes no candidate's score: the same scores and
    choice as when every fold sorts its top streets (the selection made to ask the tie-break always)."""
    now = pd.Timestamp(SPLIT, tz="UTC")
    asked = []

    def tie_everywhere(*args, **kwargs):
        asked.append(1)

    selected = calibrate_hot_streets([(street_grid, history)], now=now)
    monkeypatch.setattr(street_calibration, "caught_by_size", tie_everywhere)
    sorted_ = calibrate_hot_streets([(street_grid, history)], now=now)
    assert asked and len(selected.scores) == len(sorted_.scores) > 100
    assert selected.scores == sorted_.scores and without_seconds(selected) == without_seconds(sorted_)


@pytest.mark.parametrize("kernel", ["network", "planar"])
def test_a_ward_without_signals_has_no_hot_street(street_grid, kernel):
    none = on_streets(np.random.default_rng(0), 0, "2026-01-01", 1, HOT)
    result = hot_streets(street_grid, none, params=HotStreetParams(kernel=kernel))
    assert len(result.edges) == street_grid.number_of_edges() and (result.edges["density"] == 0).all()


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_names_the_setting(monkeypatch, street_grid, value):
    """Also where the graph is too small for threads: a mistyped setting is never passed over."""
    from planner import settings

    monkeypatch.setenv("WAS_KERNEL_THREADS", value)
    with pytest.raises(InputError, match="WAS_KERNEL_THREADS must be a whole number"):
        settings.kernel_threads()
    signals = on_streets(np.random.default_rng(0), 5, "2026-01-01", 1, HOT)
    with pytest.raises(InputError, match="WAS_KERNEL_THREADS"):
        hot_streets(street_grid, signals, params=HotStreetParams(kernel="planar"))


def test_counts_per_km_and_the_blend_known_answer(street_grid):
    """One fresh signal mid-street: 10 per km on its 100 m street with bandwidth 0; a blend mixes linearly."""
    lon, lat = TO_WGS.transform(92_050.0, 452_000.0)
    now = pd.Timestamp("2026-03-01", tz="UTC")
    signal = pd.DataFrame({"occurred_from": [now], "occurred_to": [now], "lat": [lat], "lon": [lon],
                           "category": ["other"]})
    counts = hot_streets(street_grid, signal, params=HotStreetParams(bandwidth_m=0.0), now=now).streets()
    assert counts["density"].iloc[0] == pytest.approx(10.0) and (counts["density"].iloc[1:] == 0).all()
    kernel = hot_streets(street_grid, signal, now=now).edges["density"].to_numpy()
    half = hot_streets(street_grid, signal, params=HotStreetParams(blend=0.5), now=now).edges["density"].to_numpy()
    per_km = hot_streets(street_grid, signal, params=HotStreetParams(blend=0.0), now=now).edges["density"].to_numpy()
    assert half == pytest.approx(0.5 * kernel + 0.5 * per_km)
    resolved = signal.assign(status="resolved")
    assert hot_streets(street_grid, resolved, now=now).edges["density"].sum() == 0
    counted = hot_streets(street_grid, resolved, params=HotStreetParams(weights=HotspotParams(resolved_weight=1.0)),
                          now=now)
    assert counted.edges["density"].to_numpy() == pytest.approx(kernel)


def test_bad_parameters_name_the_field(street_grid):
    """Every parameter is checked on construction; the message names it."""
    for kwargs, field in [({"bandwidth_m": -1.0}, "bandwidth_m"), ({"blend": 1.5}, "blend"),
                          ({"snap_m": 0.0}, "snap_m"),
                          ({"weights": None}, "weights")]:
        with pytest.raises(InputError, match=field):
            HotStreetParams(**kwargs)
    with pytest.raises(InputError, match="resolved_weight"):
        HotspotParams(resolved_weight=2.0)
    for kwargs, field in [({"bandwidth_m": math.inf}, "bandwidth_m"), ({"blend": -0.1}, "blend"),
                          ({"half_life_days": 0.0}, "half_life_days"), ({"resolved_weight": 1.5}, "resolved_weight")]:
        with pytest.raises(InputError, match=field):
            StreetSurfaceParams(**kwargs)
    for kwargs, field in [({"bandwidths_m": (0.0,)}, "bandwidths_m"), ({"blends": (2.0,)}, "blends"),
                          ({"half_lives_days": (-1.0,)}, "half_lives_days"),
                          ({"resolved_weights": ()}, "resolved_weights"),
                          ({"folds": 0}, "folds"), ({"min_history_days": -1.0}, "min_history_days"),
                          ({"min_signals": -1}, "min_signals"), ({"prior": None}, "prior")]:
        with pytest.raises(InputError, match=field):
            StreetCalibrationParams(**kwargs)
    with pytest.raises(InputError, match="street_calibration"):
        BacktestParams(street_calibration=None)
    kernel = NetworkKernel(street_grid, np.array([92_050.0]), np.array([452_000.0]), snap_m=50.0, bandwidths_m=(100.0,))
    with pytest.raises(InputError, match="bandwidths_m"):
        kernel.density(np.ones(1), np.ones(1), bandwidth_m=150.0, blend=1.0)


def test_the_grid_has_the_prior_first_and_no_repeats():
    """The prior leads; blend 0 is one candidate per resolved weight; nothing twice."""
    candidates = StreetCalibrationParams().candidates()
    assert candidates[0] == StreetSurfaceParams() and len(set(candidates)) == len(candidates)
    counts = [c for c in candidates if c.counts_only]
    assert counts == [StreetSurfaceParams(0.0, 0.0, None, 0.0), StreetSurfaceParams(0.0, 0.0, None, 1.0)]
    assert len(candidates) == 1 + 2 + 3 * (4 + 6) * 5 * 2 - 1  # the prior is also on the grid
    planar = [c for c in candidates if c.kernel == "planar"]
    # kde_cv's bandwidths up to 200 m, so that the planar kernel can take each one it chose.
    assert {c.bandwidth_m for c in planar} == {25.0, 50.0, 75.0, 100.0, 150.0, 200.0} and len(planar) == 3 * 6 * 5 * 2
    assert planar[0].label() == "25 m planar, blend 0.25, the weights' recency"


def test_a_planar_kernel_reaches_across_the_block_and_keeps_the_weight(street_grid):
    """Signals inside a block: the planar kernel scores every street around it, the walk does not.

    Block (92 100 … 92 200, 452 100 … 452 200), signals 40 m from its south street (6, 11), where
    they snap: the north street (7, 12) is 60 m away in the plane but a 200 m walk. The planar
    density is scaled as the counts per km are: Σ prize = the snapped signals' weight, here their number.
    """
    rng = np.random.default_rng(3)
    xy = np.array([92_150.0, 452_140.0]) + rng.normal(0, 2, (40, 2))
    lon, lat = TO_WGS.transform(xy[:, 0], xy[:, 1])
    now = pd.Timestamp("2026-03-01", tz="UTC")
    signals = pd.DataFrame({"occurred_from": now, "occurred_to": now, "lat": lat, "lon": lon, "category": "other"})
    around = {(6, 11), (7, 12), (6, 7), (11, 12)}

    def density_around(params: HotStreetParams) -> tuple[np.ndarray, float]:
        scored = hot_streets(street_grid, signals, params=params, now=now)
        edges = scored.edges
        pairs = [tuple(sorted(p)) for p in zip(edges["u"], edges["v"], strict=True)]
        one_way = edges["u"] < edges["v"]
        got = np.array([edges["density"][one_way & (np.array(pairs) == pair).all(axis=1)].iloc[0]
                        for pair in sorted(around)])
        return got, float(edges["prize"][one_way].sum())

    planar, prize = density_around(HotStreetParams(bandwidth_m=50.0, kernel="planar"))
    south, north = sorted(around).index((6, 11)), sorted(around).index((7, 12))
    assert planar.argmax() == south and planar.min() > 0.6 * planar.max() and prize == pytest.approx(40.0)
    walked, _ = density_around(HotStreetParams(bandwidth_m=100.0))
    assert walked.argmax() == south and walked[north] == 0
    _, prize = density_around(HotStreetParams(bandwidth_m=50.0, kernel="planar", blend=0.5))
    assert prize == pytest.approx(40.0)
    with pytest.raises(InputError, match="kernel"):
        HotStreetParams(kernel="euclidean")
    with pytest.raises(InputError, match="kernel"):
        StreetSurfaceParams(kernel="euclidean")


@pytest.fixture
def demo_store(demo_copy):
    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    yield store
    store.engine.dispose()


def test_an_installation_keeps_its_street_choice_until_signals_or_graphs_change(demo_store, demo_copy, caplog):
    """Fitted on the four ward graphs together, kept next to the cell choice, re-fitted when a graph is rebuilt."""
    from planner.hotspots.tuning import hotspot_params
    from planner.streets import ward_graph_path

    caplog.set_level(logging.INFO, logger="planner.hotspots.tuning")
    first = installation_street_calibration(demo_store, data_dir=demo_copy, refit=True)
    assert not first.fallback and first.n_folds > 4  # folds of every ward, pooled
    kept = demo_store.calibration()[1]
    assert {"bandwidth_m", "half_life_days", "blend"} <= set(kept) and kept["streets"]["graphs"].count(":") == 8
    caplog.clear()
    weights = hotspot_params(demo_store)
    assert hot_street_params(demo_store, weights, data_dir=demo_copy) == first.tune(HotStreetParams(weights=weights))
    assert "calibrating the hot streets" not in caplog.text
    path = ward_graph_path("Vogelwijk", data_dir=demo_copy)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = installation_street_calibration(demo_store, data_dir=demo_copy)
    assert "calibrating the hot streets" in caplog.text
    assert without_seconds(again) == without_seconds(first)


def test_an_installation_without_ward_graphs_keeps_the_default(store, two_wards, data_dir, make_signals):
    """No ward has a street graph: the prior (the 150 m walk, half counts per km), and the choice says why."""
    from planner.signals.incidents import RawTable
    from planner.signals.intake import import_table
    from planner.signals.wards import store_wards

    store_wards(store, two_wards)
    rows = make_signals(np.random.default_rng(0).uniform([91_100, 452_100], [91_900, 452_900], (30, 2)))
    import_table(store, RawTable(rows=rows), file_name="s", content_hash="s")
    calibration = installation_street_calibration(store, data_dir=data_dir)
    assert calibration.fallback and calibration.reason == "no street graph"
    weights = HotspotParams(audience="officer")
    assert hot_street_params(store, weights, data_dir=data_dir) == HotStreetParams(weights=weights, blend=0.5)


@pytest.mark.parametrize("h", [25.0, 80.0, 200.0])
def test_the_binned_kernel_from_its_lattice_is_the_exact_gaussian_to_its_corners(h):
    """Reading the lattice's corners column by column finds every pair ``cKDTree`` finds within the
    cut, and no other, with the same values (float32), also with a signal far from every unit."""
    from scipy.spatial import cKDTree

    from planner.hotspots._kernel import BINS_PER_SD, BinnedGaussian, gaussian_matrix

    rng = np.random.default_rng(3)
    points = np.vstack([np.add((81_000.0, 447_000.0), rng.uniform(0, 2500, (400, 2))), [[150_000.0, 300_000.0]]])
    units = np.add((81_000.0, 447_000.0), rng.uniform(-400, 2900, (900, 2)))
    step = h / BINS_PER_SD
    square = np.floor(points / step)
    corners = np.unique(np.vstack([square + np.array([dx, dy]) for dx in (0, 1) for dy in (0, 1)]), axis=0)
    # Column order of the kernel: corners sorted by (y, x), as their packed keys sort.
    corners = corners[np.lexsort((corners[:, 0], corners[:, 1]))]
    exact = gaussian_matrix(cKDTree(units), cKDTree(corners * step), h).toarray()
    lattice = BinnedGaussian(units, points, h)._kernel.toarray()
    assert lattice.shape == exact.shape and ((lattice > 0) == (exact > 0)).all()
    np.testing.assert_allclose(lattice, exact, rtol=1e-6, atol=1e-12)
    assert BinnedGaussian(units, points[:0], h).weights(np.zeros(0)) == pytest.approx(np.zeros(len(units)))


def test_warm_up_compiles_both_passes_of_the_lattice_kernel_and_the_folds_selection():
    """After warm_up the counting and the filling pass and the selection have machine code (what ``make`` runs)."""
    from planner.hotspots import _kernel, _select

    assert _kernel.warm_up() > 0
    # The counting pass takes int64 row offsets, the filling pass the int32 indices of a ward.
    offsets = {str(signature[7].dtype) for signature in _kernel._k_pairs.signatures}
    assert {"int64", "int32"} <= offsets, _kernel._k_pairs.signatures
    assert _select._k_caught.signatures


@pytest.mark.parametrize("offset", [(92_000.0, 452_000.0), (-5_000.0, -3_000.0)])
def test_the_binned_planar_kernel_is_close_to_the_exact_one_and_ignores_weightless_points(offset):
    """Linear binning moves the kernel sums by a fraction of a per cent; points of weight 0 change nothing."""
    from scipy.spatial import cKDTree

    from planner.hotspots._kernel import BinnedGaussian, gaussian_matrix

    rng = np.random.default_rng(0)
    points, units = np.add(offset, rng.uniform(0, 1500, (2000, 2))), np.add(offset, rng.uniform(0, 1500, (3000, 2)))
    w = rng.uniform(0, 1, len(points))
    for h in (25.0, 100.0):
        exact = gaussian_matrix(cKDTree(units), cKDTree(points), h) @ w
        binned = BinnedGaussian(units, points, h).weights(w)
        big = exact > 0.05 * exact.max()
        assert np.median(np.abs(binned[big] - exact[big]) / exact[big]) < 0.005
        more = np.vstack([points, np.add(offset, rng.uniform(-500, 2000, (300, 2)))])
        padded = BinnedGaussian(units, more, h).weights(np.r_[w, np.zeros(300)])
        assert padded == pytest.approx(binned, rel=1e-12, abs=1e-12)
