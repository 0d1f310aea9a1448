"""Tests for planner/hotspots/tuning.py and evaluate.calibrate: the installation's calibrated risk surface
(issue 13)."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from planner.cli import app
from planner.hotspots import HotspotParams, TimeWeighting, TimeWindow, signal_weights
from planner.hotspots.calibration import Calibration, CalibrationParams, SurfaceParams, _Surface
from planner.hotspots.evaluate import calibrate
from planner.hotspots.street_calibration import StreetCalibrationParams
from planner.hotspots.tuning import calibration_from_json, fit_key, hotspot_params, installation_calibration
from planner.storage.store import open_store

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
runner = CliRunner()


def signals(rng, n, start, days, centres, spread=15.0) -> pd.DataFrame:
    """``n`` signals around ``centres`` (RD New), uniform in time over ``days`` from ``start``."""
    xy = np.asarray(centres, float)[rng.integers(0, len(centres), n)] + rng.normal(0, spread, (n, 2))
    lon, lat = TO_WGS.transform(xy[:, 0], xy[:, 1])
    when = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), "D")
    return pd.DataFrame({"occurred_from": when, "occurred_to": when, "lat": lat, "lon": lon, "category": "other",
                         "status": "open", "on_patrol": False})


CENTRES = [[91_150, 452_150], [91_450, 452_750], [91_850, 452_350], [92_250, 452_650], [92_650, 452_250]]


@pytest.fixture
def demo_store(demo_copy):
    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    yield store
    store.engine.dispose()


@pytest.mark.shipped_folds
def test_calibrate_never_reads_after_now(two_wards):
    """A 400-signal burst after ``now`` changes nothing; the same burst before ``now`` is training data."""
    rng = np.random.default_rng(4)
    history = signals(rng, 400, "2026-01-01", 90, CENTRES)
    now = pd.Timestamp("2026-04-01", tz="UTC")
    burst = signals(rng, 400, "2026-04-02", 5, [[92_850, 452_850]], spread=40)
    plain = calibrate(history, now=now, wards=two_wards)
    planted = calibrate(pd.concat([history, burst], ignore_index=True), now=now, wards=two_wards)
    assert not plain.fallback
    assert plain.n_candidates > len(CalibrationParams().candidates(near_repeat=False))  # and the evenings' weighting
    assert planted.to_json() | {"seconds": 0} == plain.to_json() | {"seconds": 0}
    earlier = burst.assign(occurred_from=burst["occurred_from"] - pd.Timedelta(days=4),
                           occurred_to=burst["occurred_to"] - pd.Timedelta(days=4))
    seen = calibrate(pd.concat([history, earlier], ignore_index=True), now=now, wards=two_wards)
    assert seen.fold_test_signals > plain.fold_test_signals  # the last fold tests on the burst


def test_tuned_weights_are_each_signals_share_of_the_surface():
    """Summed per cell, the tuned ``signal_weights`` are the calibrated surface (bandwidth 0) × a constant."""
    rng = np.random.default_rng(5)
    frame = signals(rng, 300, "2026-01-01", 90, CENTRES, spread=120)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True).transform(frame["lon"], frame["lat"])
    x, y = np.asarray(x), np.asarray(y)
    ux, uy = np.meshgrid(np.arange(91_050, 93_000, 100.0), np.arange(452_050, 453_000, 100.0))
    ux, uy = ux.ravel(), uy.ravel()
    unit_of = (np.floor((y - 452_000) / 100) * 20 + np.floor((x - 91_000) / 100)).astype(np.int64)
    unit_of[(x < 91_000) | (x >= 93_000) | (y < 452_000) | (y >= 453_000)] = -1
    now = pd.Timestamp("2026-04-01", tz="UTC")
    surface = _Surface(frame, x, y, unit_of, ux, uy, HotspotParams(), {0.0})
    for blend in (0.25, 0.5, 0.9):
        chosen = SurfaceParams(bandwidth_m=0.0, half_life_days=20.0, blend=blend, near_repeat=False)
        expected = surface.score(chosen, np.ones(len(frame), bool), now, 0.0)
        floor = surface.recency_floor(chosen, now)
        assert 0 < floor < 1
        tuned = Calibration(chosen=chosen, fallback=False, reason="", n_candidates=1, n_folds=1, fold_test_signals=1,
                            seconds=0.0, recency_floor=floor).tune(HotspotParams())
        weight = signal_weights(frame, params=tuned, now=now)["weight"].to_numpy()
        inside = unit_of >= 0
        per_unit = np.bincount(unit_of[inside], weights=weight[inside], minlength=len(ux))
        assert np.allclose(per_unit / per_unit.sum(), expected / expected.sum())
    assert surface.recency_floor(SurfaceParams(0.0, math.inf, 0.5, False), now) == 1.0
    assert surface.recency_floor(SurfaceParams(0.0, 20.0, 1.0, False), now) == 0.0


def test_tune_maps_the_choice_onto_the_hotspot_weights():
    """Half-life, floor and near-repeat follow the choice; an infinite half-life keeps the given one."""
    base = HotspotParams(audience="officer", near_repeat_weight=2.0)
    off = Calibration(chosen=SurfaceParams(50.0, 90.0, 0.5, False), fallback=False, reason="", n_candidates=2,
                      n_folds=2, fold_test_signals=10, seconds=0.1, recency_floor=0.3).tune(base)
    assert (off.half_life_days, off.recency_floor, off.near_repeat_weight, off.bandwidth_m) == (90.0, 0.3, 0.0, 50.0)
    assert off.audience == "officer"
    on = Calibration(chosen=SurfaceParams(0.0, math.inf, 0.0, True), fallback=False, reason="", n_candidates=2,
                     n_folds=2, fold_test_signals=10, seconds=0.1, recency_floor=1.0).tune(base)
    assert (on.half_life_days, on.recency_floor, on.near_repeat_weight, on.bandwidth_m) == (
        base.half_life_days, 1.0, 2.0, base.bandwidth_m)


def test_tune_weighs_a_target_window_by_the_chosen_time_of_day():
    """A window gets the chosen hours, days and other times; no window stays none; the choice survives JSON."""
    chosen = SurfaceParams(time=TimeWeighting(smoothing_hours=3.0, other_days=0.3, other_hours=0.1))
    calibration = Calibration(chosen=chosen, fallback=False, reason="", n_candidates=2, n_folds=2,
                              fold_test_signals=10, seconds=0.1)
    tuned = calibration.tune(HotspotParams(window=TimeWindow.parse("20:00-23:00", day="fri")))
    assert tuned.window == TimeWindow("20:00", "23:00", weekdays=(4,), smoothing_hours=3.0, other_days=0.3,
                                      other_hours=0.1)
    assert calibration.tune(HotspotParams()).window is None
    friday = TimeWindow.parse("20:00-23:00", day="fri")
    assert calibration.tune(HotspotParams(window=friday), forecast=False).window == friday  # the map's filter
    assert calibration_from_json(calibration.to_json()).chosen == chosen
    as_given = Calibration(chosen=SurfaceParams(), fallback=False, reason="", n_candidates=2, n_folds=2,
                           fold_test_signals=10, seconds=0.1)
    window = TimeWindow.parse("20:00-23:00", smoothing_hours=2.0)
    assert as_given.tune(HotspotParams(window=window)).window == window
    assert calibration_from_json(as_given.to_json() | {"time": None}).chosen.time is None


def test_a_fit_is_kept_until_the_signals_change(demo_store, make_signals, caplog):
    """One fit per state of the signals: read back while unchanged, fitted again after an import."""
    from planner.signals.incidents import RawTable
    from planner.signals.intake import import_table

    caplog.set_level(logging.INFO, logger="planner.hotspots.tuning")
    first = installation_calibration(demo_store, refit=True)
    assert "calibrating" in caplog.text
    assert demo_store.calibration()[0] == fit_key(demo_store)
    caplog.clear()
    again = installation_calibration(demo_store)
    assert "calibrating" not in caplog.text
    assert again.to_json() == first.to_json()
    assert calibration_from_json(first.to_json()).to_json() == first.to_json()
    wards = demo_store.wards()
    point = wards.to_crs(28992).geometry.iloc[0].representative_point()
    rows = make_signals(np.array([[point.x, point.y]] * 3), day="01-10-2026", prefix="new")
    import_table(demo_store, RawTable(rows=rows), file_name="n", content_hash="n")
    installation_calibration(demo_store)
    assert "calibrating" in caplog.text
    assert demo_store.calibration()[0] == fit_key(demo_store)


def test_a_fit_from_another_versions_grids_is_fitted_again(demo_store, caplog, monkeypatch):
    """The same signals, but an upgrade changed a candidate or a prior: the kept fit is not used."""
    from planner.hotspots import tuning

    caplog.set_level(logging.INFO, logger="planner.hotspots.tuning")
    installation_calibration(demo_store)
    caplog.clear()
    installation_calibration(demo_store)
    assert "calibrating" not in caplog.text
    monkeypatch.setattr(tuning, "_GRIDS", "an-upgrade")
    installation_calibration(demo_store)
    assert "calibrating" in caplog.text and demo_store.calibration()[0].endswith(":an-upgrade")
    shipped = tuning.grids_digest(CalibrationParams(), StreetCalibrationParams())
    assert tuning.grids_digest(CalibrationParams(prior=SurfaceParams(blend=1.0)), StreetCalibrationParams()) != shipped
    assert tuning.grids_digest(CalibrationParams(), StreetCalibrationParams(folds=5)) != shipped


def test_hotspots_and_routes_use_the_kept_choice(demo_store, demo_copy):
    """What the store keeps is what ``hotspot_params`` gives and what ``hotspots --json`` scores with."""
    installation_calibration(demo_store)
    fingerprint = fit_key(demo_store)
    choice = {"bandwidth_m": 50.0, "half_life_days": 7.0, "blend": 1.0, "near_repeat": False, "recency_floor": 0.0,
              "fallback": False, "reason": "", "candidates": 1, "folds": 1, "fold_test_signals": 1, "seconds": 0.0}
    demo_store.save_calibration(fingerprint, choice)
    params = hotspot_params(demo_store, audience="officer")
    assert (params.half_life_days, params.recency_floor, params.near_repeat_weight) == (7.0, 0.0, 0.0)
    morning = TimeWindow.parse("08:00-12:00")
    demo_store.save_calibration(fingerprint, choice | {"time": {"smoothing_hours": 1.0, "other_days": 0.0,
                                                                "other_hours": 1.0}})
    assert hotspot_params(demo_store, window=morning).window.other_hours == 1  # a round's forecast target
    assert hotspot_params(demo_store, window=morning, forecast=False).window == morning  # the map shows that time
    demo_store.save_calibration(fingerprint, choice)
    ward = demo_store.wards()["name"].iloc[0]
    args = ["--data-dir", str(demo_copy), "hotspots", "--ward", ward, "--audience", "officer", "--json"]
    short = json.loads(runner.invoke(app, args).stdout)
    demo_store.save_calibration(fingerprint, choice | {"recency_floor": 1.0})
    flat = json.loads(runner.invoke(app, args).stdout)
    assert [h["score"] for h in short["hotspots"]] != [h["score"] for h in flat["hotspots"]]


def test_the_calibrate_command(demo_copy, tmp_path):
    """``calibrate --json`` gives the choice; with no signals a one-line error and exit code 2."""
    result = runner.invoke(app, ["--data-dir", str(demo_copy), "calibrate", "--refit", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"bandwidth_m", "half_life_days", "blend", "near_repeat", "recency_floor", "fallback",
                            "reason", "candidates", "folds", "fold_test_signals", "seconds", "resolved_weight",
                            "streets"}
    assert set(payload["streets"]) >= {"bandwidth_m", "blend", "resolved_weight", "fallback", "reason"}
    assert "calibrated in" in result.stderr
    empty = runner.invoke(app, ["--data-dir", str(tmp_path / "empty"), "calibrate"])
    assert empty.exit_code == 2 and "import signals first" in empty.stderr


def test_a_ward_added_or_redrawn_asks_for_a_new_fit(any_store, two_wards):
    """The wards are the calibration's study area: storing them again changes nothing, moving one does."""
    empty = any_store.calibration_fingerprint()
    any_store.save_wards(two_wards.iloc[:1])
    one = any_store.calibration_fingerprint()
    any_store.save_wards(two_wards)
    both = any_store.calibration_fingerprint()
    any_store.save_wards(two_wards)
    assert len({empty, one, both}) == 3 and any_store.calibration_fingerprint() == both
    any_store.save_wards(two_wards.assign(geometry=two_wards.translate(xoff=50.0)))
    assert any_store.calibration_fingerprint() != both


def test_the_kept_fit_on_both_backends(any_store, make_signals):
    """The fingerprint follows an import; one fit is kept, the newest, on SQLite and PostgreSQL."""
    from planner.signals.incidents import RawTable
    from planner.signals.intake import import_table

    empty = any_store.calibration_fingerprint()
    assert any_store.calibration() is None
    import_table(any_store, RawTable(rows=make_signals(np.array([[91_500.0, 452_500.0]] * 4))), file_name="a",
                 content_hash="a")
    added = any_store.calibration_fingerprint()
    assert added != empty
    any_store.save_calibration(added, {"fit": 1})
    any_store.save_calibration(added, {"fit": 2})
    assert any_store.calibration() == (added, {"fit": 2})
