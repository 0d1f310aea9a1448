"""Tests for planner/hotspots/explain.py: score parts that add up, explanations from a hotspot's own data,
source-aware weights, and no sources or small counts in the residents' rendering."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from planner._errors import InputError
from planner.hotspots import HotspotParams, TimeWindow, find_hotspots, signal_weights
from planner.hotspots.explain import hour_ranges, rounded_parts, score_parts, shapley_products
from planner.signals.incidents import CATEGORIES, SOURCES

NOW = pd.Timestamp("2026-03-01T12:00", tz="UTC")
TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
CYCLE = ("burglary", "burglary", "youth_nuisance", "vandalism", "burglary", "drugs")
SOURCE_CYCLE = ("resident", "officer", "was_member", "police", "municipality")


@pytest.fixture
def signals(clustered_points) -> pd.DataFrame:
    """The conftest clusters as signals of mixed categories, sources, times and patrol finds."""
    pts = clustered_points
    n = len(pts)
    rng = np.random.default_rng(3)
    lon, lat = TO_WGS.transform(pts["x"].to_numpy(float), pts["y"].to_numpy(float))
    times = NOW - pd.to_timedelta(rng.uniform(0, 60, n), unit="D")
    windowed = rng.random(n) < 0.3
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "occurred_from": times,
        "occurred_to": np.where(windowed, times + pd.Timedelta(hours=6), times),
        "lat": lat, "lon": lon, "category": [CYCLE[i % len(CYCLE)] for i in range(n)],
        "source": [SOURCE_CYCLE[i % len(SOURCE_CYCLE)] for i in range(n)],
        "on_patrol": np.arange(n) % 4 == 0, "status": "open",
        "ward": np.where(pts["x"] < 92_000, "West", "Oost"),
        "description": [f"geheime omschrijving {i}" for i in range(n)],
    })


def _params(**kwargs) -> HotspotParams:
    return HotspotParams(
        window=TimeWindow("20:00", "23:00", weekdays=(4,)), category_weights=(("burglary", 2.0),),
        source_weights=(("police", 0.8),), **kwargs,
    )


def test_shapley_split_of_a_product_adds_up_and_is_symmetric():
    """Each row's Shapley parts sum to the product minus 1; a factor of 1 gets nothing; equal factors share."""
    factors = np.array([[0.5, 2.0, 1.0, 0.25], [3.0, 3.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    phi = shapley_products(factors)
    assert np.allclose(phi.sum(axis=1), factors.prod(axis=1) - 1, rtol=0, atol=1e-12)
    assert phi[0, 2] == 0 and phi[1, 3] == 0 and not phi[2].any()
    assert phi[1, 0] == pytest.approx(phi[1, 1])


@pytest.mark.parametrize("audience", ["officer", "public"])
def test_score_parts_add_up_to_the_score(signals, two_wards, audience):
    """Every hotspot's score_parts add up to its score (1e-9 relative), in the frame and in the JSON."""
    result = find_hotspots(signals, two_wards, params=_params(audience=audience), now=NOW)
    assert len(result.hotspots) >= 2
    for row in result.hotspots.itertuples():
        parts = row.score_parts
        assert math.fsum(parts.values()) == pytest.approx(row.score, rel=1e-9)
        assert ("source" in parts) == (audience == "officer")
        assert parts["time_of_day"] < 0 and parts["recency"] < 0  # a window and ages that matter
    for item in result.to_json()["hotspots"]:
        assert math.fsum(item["score_parts"].values()) == pytest.approx(item["score"], rel=1e-9)


def test_score_parts_match_the_signal_weights(signals, two_wards):
    """score_parts computed from a hotspot's signals reproduce the sum of their weights plus near repeat."""
    params = _params(audience="officer")
    result = find_hotspots(signals, two_wards, params=params, now=NOW)
    weights = signal_weights(signals, params=params, now=NOW)
    for row in result.hotspots.itertuples():
        members = signals["id"].isin(row.signal_ids).to_numpy()
        parts = score_parts(weights[members], row.near_repeat)
        assert parts == pytest.approx(row.score_parts, rel=1e-12, abs=1e-12)
        assert parts["signals"] == row.n_signals


def test_rounded_parts_still_add_up():
    """Rounding for JSON keeps the sum equal to the rounded score."""
    parts = {"signals": 7.0, "recency": -1.23456789, "category": 0.333333333, "near_repeat": 0.1111111}
    score = math.fsum(parts.values())
    rounded = rounded_parts(parts, score)
    assert math.fsum(rounded.values()) == pytest.approx(round(score, 6), abs=1e-12)


def test_explanation_numbers_are_the_hotspots_own(signals, two_wards):
    """The officer explanation states the hotspot's count, its category counts, its peak hours and days."""
    result = find_hotspots(signals, two_wards, params=_params(audience="officer"), now=NOW)
    frame = signals.set_index("id")
    for row in result.hotspots.itertuples():
        text, text_en = row.explanation, row.explanation_en
        assert text.startswith(f"{row.n_signals} signalen in ") and text_en.startswith(f"{row.n_signals} signals")
        counts = frame.loc[row.signal_ids, "category"].value_counts()
        for code, count in counts.items():
            assert f"{count}× {CATEGORIES[code].replace('_', ' ')}" in text
            assert f"{count}× {code.replace('_', ' ')}" in text_en
        stated = {h for a, b in re.findall(r"(\d+)–(\d+) uur", text) for h in range(int(a), int(b))}
        assert stated == set(row.peak_hours)
        days = {"mon": "maandag", "tue": "dinsdag", "wed": "woensdag", "thu": "donderdag", "fri": "vrijdag",
                "sat": "zaterdag", "sun": "zondag"}
        assert all(days[d] in text for d in row.peak_weekdays)
        ago = int((NOW - row.last_signal) / pd.Timedelta(days=1))
        assert (f"{ago} dagen geleden" in text) or ago <= 1
        patrol = int(frame.loc[row.signal_ids, "on_patrol"].sum())
        assert (f"{patrol} gevonden tijdens surveillance" in text) == (patrol > 0)


def test_hour_ranges_join_consecutive_hours():
    """Clock hours become runs: 20, 21, 22 is 20–23; 23 and 0 stay apart (different days)."""
    assert hour_ranges([21, 20, 22]) == [(20, 23)]
    assert hour_ranges([2, 23, 0]) == [(0, 1), (2, 3), (23, 24)]


def test_public_explanations_hide_sources_descriptions_and_small_counts(signals, two_wards):
    """Residents' explanations name no source or description, no count under k, no day-level dates."""
    params = _params(audience="public")
    result = find_hotspots(signals, two_wards, params=params, now=NOW)
    assert len(result.hotspots)
    payload = json.dumps(result.to_json(), ensure_ascii=False)
    for row in result.hotspots.itertuples():
        for text in (row.explanation, row.explanation_en):
            lowered = text.lower()
            for code, dutch in SOURCES.items():
                assert code.replace("_", " ") not in lowered and dutch.replace("_", " ") not in lowered
            assert "tijdens surveillance" not in lowered and "on patrol" not in lowered and "geheime" not in lowered
            assert "bronnen" not in lowered and "sources" not in lowered
            assert "dagen geleden" not in text and "days ago" not in text
            small = [int(n) for n in re.findall(r"(\d+)×", text)]
            assert all(n >= params.public_min_signals for n in small)
    assert "geheime omschrijving" not in payload and '"source"' not in payload


def test_patrol_signal_moves_the_score_less_by_the_configured_factor(two_wards):
    """Adding a patrol-found signal raises a hotspot's score by patrol_weight × what a resident's adds."""
    rng = np.random.default_rng(5)
    xy = np.array([91_500, 452_500]) + rng.normal(0, 10, size=(12, 2))
    lon, lat = TO_WGS.transform(xy[:, 0], xy[:, 1])
    times = NOW - pd.to_timedelta(np.linspace(1, 30, 12), unit="D")
    base = pd.DataFrame({"id": range(1, 13), "occurred_from": times, "occurred_to": times, "lat": lat, "lon": lon,
                         "category": "burglary", "source": "resident", "on_patrol": False, "status": "open",
                         "ward": "West"})
    params = HotspotParams(audience="officer", patrol_weight=0.3, near_repeat_weight=0.0)
    score = find_hotspots(base, two_wards, params=params, now=NOW).hotspots["score"].iloc[0]
    extra = base.iloc[[0]].assign(id=13)
    resident = find_hotspots(pd.concat([base, extra]), two_wards, params=params, now=NOW).hotspots["score"].iloc[0]
    patrol = find_hotspots(pd.concat([base, extra.assign(on_patrol=True)]), two_wards, params=params,
                           now=NOW).hotspots["score"].iloc[0]
    assert resident - score > 0
    assert patrol - score == pytest.approx(0.3 * (resident - score), rel=1e-9)


def test_source_weights_scale_each_source():
    """source_weights scale a source's signals; patrol_weight multiplies on top; unknown sources refused."""
    times = pd.DatetimeIndex([NOW] * 3)
    frame = pd.DataFrame({"occurred_from": times, "occurred_to": times, "category": "other",
                          "source": ["resident", "police", "police"], "on_patrol": [False, False, True]})
    params = HotspotParams(source_weights=(("police", 0.5),), patrol_weight=0.4)
    assert signal_weights(frame, params=params, now=NOW)["source"].tolist() == pytest.approx([1.0, 0.5, 0.2])
    with pytest.raises(InputError, match="source_weights"):
        HotspotParams(source_weights=(("neighbour", 1.0),))

