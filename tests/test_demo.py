"""Tests for planner/demo/: the synthetic town is deterministic, plausible and patterned."""

from __future__ import annotations

from datetime import date

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from planner.demo import SYNTHETIC_NOTICE, build_demo
from planner.storage.store import open_store
from planner.streets import graph_from_osm_file, prepare_graph

END = date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(demo_build, demo_copy):
    """The session's demo build: its summary and a store on a copy of it."""
    return demo_build, open_store(f"sqlite:///{demo_copy / 'was.db'}")


def test_same_seed_gives_the_same_demo(demo, demo_recipe, tmp_path):
    """Building twice with one seed and end date writes identical streets and signals."""
    summary, _ = demo
    again = build_demo(open_store(f"sqlite:///{tmp_path / 'was.db'}"), tmp_path, **demo_recipe)
    for name in ("demostad.osm", "signals.csv"):
        assert (tmp_path / "demo" / name).read_bytes() == (
            __import__("pathlib").Path(summary.data_dir) / "demo" / name
        ).read_bytes()
    assert again.signals == summary.signals


def test_every_demo_signal_imports_into_a_ward(demo):
    """All synthetic signals pass the real importer and lie in one of the four wards."""
    summary, store = demo
    counts = {w["name"]: w["incidents"] for w in store.ward_summary()}
    assert set(counts) == {"Vogelwijk", "Bloemenwijk", "Bomenwijk", "Schildersbuurt"}
    assert sum(counts.values()) == summary.signals == store.incident_count()
    assert 600 < summary.signals < 1500
    assert "synthetic" in SYNTHETIC_NOTICE and SYNTHETIC_NOTICE in summary.summary()


def test_streets_look_like_a_suburb_not_a_grid(demo):
    """The walk graph is connected and has cul-de-sacs, loops, footpaths and named streets."""
    summary, _ = demo
    graph = prepare_graph(graph_from_osm_file(summary.osm_file))
    undirected = nx.Graph(graph.to_undirected())
    degrees = np.array([d for _, d in undirected.degree()])
    assert nx.number_connected_components(undirected) == 1
    assert (degrees == 1).mean() > 0.1  # cul-de-sacs
    assert len(nx.cycle_basis(undirected)) > 100  # loops
    highways = {str(d.get("highway")) for _, _, d in graph.edges(data=True)}
    assert {"footway", "residential", "pedestrian", "secondary"} <= highways
    names = {n for _, _, d in graph.edges(data=True) for n in np.atleast_1d(d.get("name", []))}
    assert any(n.endswith("hof") for n in names) and "Ringweg" in names


def test_burglaries_repeat_near_in_space_and_time(demo):
    """Burglary pairs within 400 m and 30 days are far more common than for a random shuffle."""
    _, store = demo
    burglaries = store.incidents(categories=["burglary"]).to_crs(28992)
    xy = np.c_[burglaries.geometry.x, burglaries.geometry.y]
    days = (burglaries["occurred_from"] - burglaries["occurred_from"].min()).dt.days.to_numpy()

    def close_pairs(order):
        near = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) < 400
        soon = np.abs(days[order][:, None] - days[order][None, :]) <= 30
        return int(np.triu(near & soon, 1).sum())

    shuffled = np.random.default_rng(0).permutation(len(days))
    assert close_pairs(np.arange(len(days))) > 1.5 * close_pairs(shuffled)


def test_youth_nuisance_peaks_on_weekend_evenings(demo):
    """Youth nuisance is mostly reported in the evening and more on Fridays and Saturdays."""
    _, store = demo
    nuisance = store.incidents(categories=["youth_nuisance"])
    local = nuisance["occurred_from"].dt.tz_convert("Europe/Amsterdam")
    assert (local.dt.hour >= 18).mean() > 0.5
    per_day = local.dt.dayofweek.value_counts()
    assert per_day[[4, 5]].mean() > 1.5 * per_day[[0, 1, 2]].mean()


def test_burglary_windows_are_kept_as_windows(demo):
    """Some burglaries are known only as an overnight window, stored as such."""
    _, store = demo
    burglaries = store.incidents(categories=["burglary"])
    span = burglaries["occurred_to"] - burglaries["occurred_from"]
    assert (span == pd.Timedelta(hours=9)).sum() > 10


def test_end_in_the_future_is_refused(tmp_path):
    """The demo cannot be dated in the future (signals would be rejected)."""
    from planner._errors import InputError

    with pytest.raises(InputError, match="end must not lie in the future"):
        build_demo(open_store(f"sqlite:///{tmp_path / 'was.db'}"), tmp_path, end=date(2999, 1, 1))


def test_demo_caches_a_routable_graph_per_ward(demo):
    """Each demo ward gets a cached, projected walk graph that osmnx loads like any other."""
    from planner.streets import ward_graph

    summary, store = demo
    assert set(summary.graphs) == set(summary.wards)
    graph = ward_graph(store, "Vogelwijk", data_dir=summary.data_dir)
    assert graph.graph["crs"] == "EPSG:28992"
    assert nx.is_strongly_connected(graph) and graph.number_of_edges() > 300


def test_signals_can_be_synthesised_for_real_streets_abroad(tmp_path, shared_data):
    """Real wards and OSM streets outside the Netherlands (West Oakland, UTM) get valid signals."""
    import geopandas as gpd
    from shapely.geometry import box

    from planner.demo import place_anchors, synthesise_signals
    from planner.signals.wards import store_wards

    store = open_store(f"sqlite:///{tmp_path / 'was.db'}")
    ward = gpd.GeoDataFrame({"name": ["West Oakland"], "code": ["WO"]},
                            geometry=[box(-122.3140, 37.8042, -122.2910, 37.8175)], crs=4326)
    store_wards(store, ward)
    graphs, anchors, km = place_anchors(store, tmp_path, ward, osm=shared_data / "osm" / "west-oakland.osm.bz2")
    assert anchors.crs.endswith("32610") and km > 1 and set(graphs) == {"West Oakland"}
    signals = synthesise_signals(anchors, end=END, seed=1)
    assert len(signals) > 100
    assert signals["lat"].between(37.80, 37.82).all() and signals["lon"].between(-122.32, -122.28).all()


def test_demo_refuses_a_store_with_real_data_unless_forced(store, data_dir, two_wards, make_signals, monkeypatch):
    """`demo` on a store with real wards and signals exits 2 with one line naming --force and
    changes nothing; with --force it adds the demo beside them; a demo-only store is rebuilt
    without asking."""
    from typer.testing import CliRunner

    from planner.cli import app
    from planner.demo import season
    from planner.signals.incidents import RawTable
    from planner.signals.intake import import_table
    from planner.signals.wards import store_wards

    monkeypatch.setattr(season, "demo_patrols", lambda *args, **kwargs: None)  # the season is not needed here
    store_wards(store, two_wards)
    import_table(store, RawTable(rows=make_signals(np.array([[91_500, 452_500], [92_500, 452_500]]))),
                 file_name="echt.csv", content_hash="echt")
    run = ["--data-dir", str(data_dir), "demo", "--end", END.isoformat()]
    refused = CliRunner().invoke(app, run)
    assert refused.exit_code == 2 and "--force" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "2 wards, 2 signals" in refused.stderr
    assert store.incident_count() == 2 and sorted(store.wards()["name"]) == ["Oost", "West"]
    forced = CliRunner().invoke(app, [*run, "--force"])
    assert forced.exit_code == 0, forced.output
    assert store.incident_count() > 500 and len(store.wards()) == 6
    fresh = open_store(f"sqlite:///{data_dir / 'demo-only.db'}")
    build_demo(fresh, data_dir, seed=3, end=END)
    assert build_demo(fresh, data_dir, seed=3, end=END).signals == fresh.incident_count()


def test_a_demo_that_fails_half_way_leaves_nothing(any_store, data_dir, monkeypatch):
    """A failure after the wards and signals are written (here: in the patrol season) leaves the
    store as it was, on either backend: no synthetic signal beside what was there."""
    from planner.demo import season

    def broken(*args, **kwargs):
        msg = "the patrol season failed"
        raise RuntimeError(msg)

    monkeypatch.setattr(season, "demo_patrols", broken)
    with pytest.raises(RuntimeError, match="patrol season"):
        build_demo(any_store, data_dir, seed=3, end=END)
    assert any_store.incident_count() == 0 and any_store.wards().empty and any_store.batches().empty
