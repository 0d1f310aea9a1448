"""`was-planner plan-all`: every ward's plan of a night, in this process, on a LocalCluster of two
worker processes and on a scheduler started here (issue 17)."""

from __future__ import annotations

import json
import shutil
from datetime import date

import gpxpy
import pytest
from typer.testing import CliRunner

from planner.cli import app

runner = CliRunner()
NIGHT = date(2026, 11, 27)  # a Friday of the demo's season
DEMO_WARDS = ["Bloemenwijk", "Bomenwijk", "Schildersbuurt", "Vogelwijk"]


def run(data_dir, *args):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def _night_plans(store, night=NIGHT):
    from planner._time import local_zone
    from planner.patrols import list_patrols

    return [p for p in list_patrols(store, status="planned")
            if p.planned_start.astimezone(local_zone()).date() == night]


@pytest.fixture(scope="module")
def demo_store(demo_copy):
    from planner.storage.store import open_store

    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    yield store, demo_copy
    store.engine.dispose()


def test_in_process_plans_every_ward_and_a_rerun_replaces_the_night(demo_store, tmp_path, monkeypatch):
    """`--workers 0` plans each demo ward: GPX, GeoJSON and briefing in DIR/<ward>/ and one planned
    patrol per ward at 20:00; running the night again replaces those plans, it adds none. With
    WAS_PUBLIC_URL set, each briefing links to its stored round."""
    from planner._time import local_zone

    store, data = demo_store
    out = tmp_path / "night"
    first = run(data, "plan-all", "--date", NIGHT.isoformat(), "--workers", "0", "--out", str(out), "--json")
    assert first.exit_code == 0, first.output
    answer = json.loads(first.stdout)
    assert answer == {"date": NIGHT.isoformat(), "wards": 4, "planned": 4, "failed": [],
                      "seconds": answer["seconds"]} and answer["seconds"] > 0
    for ward in DEMO_WARDS:
        folder = out / ward.lower()
        track = gpxpy.parse((folder / "route.gpx").read_text(encoding="utf-8"))
        assert track.tracks and track.tracks[0].segments[0].points
        assert ward in (folder / "briefing.html").read_text(encoding="utf-8")
        assert json.loads((folder / "route.geojson").read_text(encoding="utf-8"))["features"]
    plans = _night_plans(store)
    assert sorted(p.ward for p in plans) == DEMO_WARDS
    assert {p.planned_start.astimezone(local_zone()).strftime("%H:%M") for p in plans} == {"20:00"}
    assert "/ronde?patrol=" not in (out / "vogelwijk" / "briefing.html").read_text(encoding="utf-8")
    monkeypatch.setenv("WAS_PUBLIC_URL", "https://was.example.nl")
    again = run(data, "plan-all", "--date", NIGHT.isoformat(), "--workers", "0", "--out", str(out), "--json")
    assert again.exit_code == 0, again.output
    replaced = _night_plans(store)
    assert sorted(p.ward for p in replaced) == DEMO_WARDS
    assert not {p.id for p in plans} & {p.id for p in replaced}
    vogelwijk = next(p for p in replaced if p.ward == "Vogelwijk")
    briefing = (out / "vogelwijk" / "briefing.html").read_text(encoding="utf-8")
    assert f'href="https://was.example.nl/ronde?patrol={vogelwijk.id}&amp;team=1"' in briefing


def test_a_walked_night_is_kept_and_a_ward_without_graph_fails_alone(demo_store, tmp_path):
    """A ward whose plan of the night was already walked keeps it and is reported as not planned,
    as is a ward without a street graph; the other wards are planned and the exit code is 1."""
    from planner.nightly import ClusterParams, plan_all
    from planner.patrols import mark_walked

    store, data = demo_store
    night = date(2026, 11, 26)
    settings_db = f"sqlite:///{data / 'was.db'}"
    plan_all(settings_db, night, wards=["Vogelwijk"], data_dir=data, out_dir=tmp_path,
             cluster=ClusterParams(workers=0))
    walked = _night_plans(store, night)[0]
    mark_walked(store, walked.id, actual_start=walked.planned_start, actual_end=walked.planned_end)
    graph = data / "graphs" / "bomenwijk.graphml"
    moved = tmp_path / "bomenwijk.graphml"
    shutil.move(graph, moved)
    try:
        result = run(data, "plan-all", "--date", night.isoformat(), "--wards", "Vogelwijk,Bomenwijk,Bloemenwijk",
                     "--workers", "0", "--out", str(tmp_path / "out"), "--json")
    finally:
        shutil.move(moved, graph)
    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    assert answer["wards"] == 3 and answer["planned"] == 1
    reasons = {f["ward"]: f["reason"] for f in answer["failed"]}
    assert set(reasons) == {"Vogelwijk", "Bomenwijk"}
    assert "already walked" in reasons["Vogelwijk"] and "graph" in reasons["Bomenwijk"]
    assert "Traceback" not in result.output
    assert [p.id for p in _night_plans(store, night) if p.ward == "Vogelwijk"] == []  # walked, so no longer planned
    assert (tmp_path / "out" / "bloemenwijk" / "route.gpx").is_file()


def test_a_local_cluster_of_two_workers_plans_the_same_routes(demo_store, tmp_path):
    """On a LocalCluster of two worker processes the night's plans are those planned in this
    process (deterministic for the seed), written by the workers into the same store."""
    from planner.nightly import ClusterParams, plan_all

    store, data = demo_store
    url = f"sqlite:///{data / 'was.db'}"
    night = date(2026, 11, 25)
    here = plan_all(url, night, data_dir=data, out_dir=tmp_path / "here", cluster=ClusterParams(workers=0))
    there = plan_all(url, night, data_dir=data, out_dir=tmp_path / "there", cluster=ClusterParams(workers=2))
    assert there.workers == 2 and len(there.planned) == 4 and not there.failed
    assert [(w.ward, w.stops, round(w.score, 9)) for w in here.wards] == \
           [(w.ward, w.stops, round(w.score, 9)) for w in there.wards]
    for ward in here.wards:
        relative = lambda path: str(path).split("/")[-2:]  # noqa: E731 - same ward folder and file name
        mine = {kind: (tmp_path / "here").joinpath(*relative(p)) for kind, p in ward.files.items()}
        theirs = {kind: (tmp_path / "there").joinpath(*relative(p)) for kind, p in ward.files.items()}
        assert mine["gpx"].read_text() == theirs["gpx"].read_text()
    assert sorted(p.ward for p in _night_plans(store, night)) == DEMO_WARDS
    assert all(set(w.seconds) == {"graph", "plan", "write"} for w in there.wards)


def test_plan_all_on_a_scheduler_started_here(demo_store, tmp_path):
    """`--scheduler tcp://…` submits to a running dask.distributed cluster (started here on
    loopback) whose worker reads the same store."""
    from distributed import LocalCluster

    store, data = demo_store
    night = date(2026, 11, 24)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1", scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        result = run(data, "plan-all", "--date", night.isoformat(), "--wards", "Vogelwijk,Bomenwijk",
                     "--scheduler", cluster.scheduler_address, "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["planned"] == 2
    assert sorted(p.ward for p in _night_plans(store, night)) == ["Bomenwijk", "Vogelwijk"]


def test_graphs_are_built_from_the_extract_for_wards_without_one(store, data_dir, tiny_osm, make_signals):
    """With --osm a ward without a cached graph gets one (clipped to the ward) before its plan; a
    ward outside the extract is reported with the reason and does not stop the other."""
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from planner.signals.incidents import RawTable
    from planner.signals.intake import import_table

    wards = gpd.GeoDataFrame({"name": ["Vogelwijk", "Elders"], "code": ["WK999903", "WK999904"]},
                             geometry=[box(4.4895, 52.0595, 4.4925, 52.0617), box(4.60, 52.10, 4.61, 52.11)],
                             crs="EPSG:4326")
    store.save_wards(wards)
    points = wards.to_crs(28992).geometry.centroid
    xy = np.repeat([[p.x, p.y] for p in points], 6, axis=0) + np.tile([[0, 0], [5, 0], [0, 5]], (4, 1))
    import_table(store, RawTable(rows=make_signals(xy)), file_name="s.csv", content_hash="s")
    result = run(data_dir, "plan-all", "--date", NIGHT.isoformat(), "--all", "--osm", str(tiny_osm),
                 "--workers", "0", "--json")
    answer = json.loads(result.stdout)
    assert answer["planned"] == 1 and [f["ward"] for f in answer["failed"]] == ["Elders"], result.output
    assert "no streets inside the ward" in answer["failed"][0]["reason"]
    assert (data_dir / "graphs" / "vogelwijk.graphml").is_file()
    assert (data_dir / "plans" / NIGHT.isoformat() / "vogelwijk" / "briefing.html").is_file()


@pytest.mark.parametrize(("args", "expected"), [
    (["--wards", "Atlantis"], "no ward 'Atlantis'"),
    (["--wards", "Vogelwijk", "--all"], "give --wards or --all, not both"),
    (["--workers", "-1"], "workers must be a whole number ≥ 0"),
    (["--start", "25:00"], "start must be a local time HH:MM"),
    (["--teams", "9"], "teams must be"),
    (["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers at --scheduler"),
    (["--osm", "/nonexistent/extract.pbf"], "--osm /nonexistent/extract.pbf: no such file"),
])
def test_bad_options_get_one_line(demo_store, args, expected):
    """Each bad option exits 2 with one line that names it; nothing is planned."""
    import dask

    store, data = demo_store
    before = len(_night_plans(store, date(2026, 11, 23)))
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):  # a closed port answers no sooner
        result = run(data, "plan-all", "--date", "2026-11-23", *args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert len(_night_plans(store, date(2026, 11, 23))) == before == 0


def test_a_night_holds_one_plan_per_ward_on_each_backend(any_store, two_wards):
    """`save_planned_patrol(night=…)` replaces the ward's plan of that night (a plan without a
    night is never replaced) and refuses to replace one that was walked."""
    from datetime import datetime

    from planner._errors import InputError
    from planner._time import local_zone
    from planner.patrols import list_patrols, mark_walked, save_planned_patrol
    from planner.signals.wards import store_wards

    store_wards(any_store, two_wards)
    evening = datetime(2026, 11, 27, 20, tzinfo=local_zone())
    route = {"type": "FeatureCollection", "features": []}
    plan = dict(ward="West", start=evening, minutes=60, team_size=2, route_geojson=route)
    by_hand = save_planned_patrol(any_store, **plan)
    first = save_planned_patrol(any_store, **plan, night=NIGHT)
    second = save_planned_patrol(any_store, **plan, night=NIGHT)
    other_ward = save_planned_patrol(any_store, **{**plan, "ward": "Oost"}, night=NIGHT)
    assert first.id != by_hand.id  # (SQLite may give the replaced plan's id to its successor)
    assert sorted(p.id for p in list_patrols(any_store)) == sorted({by_hand.id, second.id, other_ward.id})
    mark_walked(any_store, second.id, actual_start=evening, actual_end=evening.replace(hour=21))
    with pytest.raises(InputError, match="already walked"):
        save_planned_patrol(any_store, **plan, night=NIGHT)
    assert len(list_patrols(any_store)) == 3


def test_the_synthetic_region_tiles_the_demo_town(store, data_dir):
    """`build_region` stores N wards with unique names and codes, a cached graph each and signals
    in every ward, the same for the same seed; the tiles differ from each other."""
    from planner.demo.region import build_region
    from planner.streets import ward_graph

    summary = build_region(store, data_dir, wards=6, end=NIGHT, days=90, seed=1)
    wards = store.wards()
    assert len(wards) == 6 and wards["name"].is_unique and wards["code"].is_unique
    assert set(summary.wards) == set(wards["name"])
    counts = store.incident_counts(["ward"]).set_index("ward")["signals"]
    assert set(counts.index) >= set(summary.wards) and summary.signals == store.incident_count()
    first, moved = ward_graph(store, "R1-Vogelwijk", data_dir=data_dir), ward_graph(store, "R2-Vogelwijk",
                                                                                      data_dir=data_dir)
    assert first.number_of_edges() == moved.number_of_edges()
    assert min(d["x"] for _, d in moved.nodes(data=True)) > max(d["x"] for _, d in first.nodes(data=True))
    assert counts["R1-Vogelwijk"] != counts["R2-Vogelwijk"] or counts["R1-Bomenwijk"] != counts["R2-Bomenwijk"]
    with pytest.raises(Exception, match="wards must be 1"):
        build_region(store, data_dir, wards=0, end=NIGHT)
