"""Tests for planner/hotspots/calibration.py: the calibrated planner surface of the backtest (issue 13, part 2)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from planner._errors import InputError
from planner.hotspots import HotspotParams, TimeWindow
from planner.hotspots.calibration import CalibrationParams, Fold, SurfaceParams, cv_choose
from planner.hotspots.evaluate import BacktestParams, backtest

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
SPLIT = "2026-04-01T06:00"
CALIBRATED = BacktestParams(planner="calibrated")


def signals(x, y, times, category="other") -> pd.DataFrame:
    """Signals at RD New metres and aware times."""
    lon, lat = TO_WGS.transform(np.asarray(x, float), np.asarray(y, float))
    times = pd.DatetimeIndex(times)
    return pd.DataFrame({"occurred_from": times, "occurred_to": times, "lat": lat, "lon": lon,
                         "category": category, "status": "open", "on_patrol": False})


def spots(rng, n, start, days, centres, spread=15.0) -> pd.DataFrame:
    """``n`` signals around ``centres`` (RD New), uniform in time over ``days`` from ``start``."""
    xy = np.asarray(centres, float)[rng.integers(0, len(centres), n)] + rng.normal(0, spread, (n, 2))
    when = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), "D")
    return signals(xy[:, 0], xy[:, 1], when)


@pytest.fixture
def history():
    """300 signals on six places over the 10 weeks before the split (enough to calibrate), 30 in the week after."""
    rng = np.random.default_rng(0)
    centres = [[91_150, 452_150], [91_450, 452_750], [91_850, 452_350], [92_250, 452_650], [92_650, 452_250],
               [92_850, 452_850]]
    return pd.concat([spots(rng, 300, "2026-01-20", 70, centres), spots(rng, 30, "2026-04-01T12:00", 6, centres)],
                     ignore_index=True)


@pytest.mark.shipped_folds
def test_a_planted_future_burst_changes_no_calibration(history, two_wards):
    """400 signals in the forecast week change neither the chosen parameters nor the planner's scores,
    though they are burglaries (near-repeat candidates) and half of them resolved, where the
    history holds neither."""
    rng = np.random.default_rng(1)
    burst = spots(rng, 400, "2026-04-01T12:00", 5, [[91_550, 452_450], [92_450, 452_450]], spread=200)
    burst = burst.assign(category="burglary", status=np.where(np.arange(400) % 2, "resolved", "open"),
                         stored_at=pd.Timestamp("2026-03-01", tz="UTC"))  # as if their statuses were known early
    plain = backtest(history, split=SPLIT, wards=two_wards, params=CALIBRATED)
    planted = backtest(pd.concat([history, burst], ignore_index=True), split=SPLIT, wards=two_wards, params=CALIBRATED)
    assert not plain.calibration.fallback
    assert planted.n_test > plain.n_test + 350  # a few fall outside the wards
    assert planted.calibration.to_json() | {"seconds": 0} == plain.calibration.to_json() | {"seconds": 0}
    assert planted.calibration.scores == plain.calibration.scores
    assert np.array_equal(planted.scores["planner"], plain.scores["planner"])
    moved = burst.assign(occurred_from=burst["occurred_from"] - pd.Timedelta(days=20),
                         occurred_to=burst["occurred_to"] - pd.Timedelta(days=20))
    earlier = backtest(pd.concat([history, moved], ignore_index=True), split=SPLIT, wards=two_wards, params=CALIBRATED)
    assert not np.array_equal(earlier.scores["planner"], plain.scores["planner"])  # in training it counts
    assert earlier.calibration.n_candidates == 4 * plain.calibration.n_candidates  # near-repeat and resolved tried


def test_short_histories_use_the_prior(history, two_wards):
    """Fewer than 200 signals or less than a week: the prior, and the reason says which."""
    few = backtest(pd.concat([history.iloc[:150], history.iloc[300:]]), split=SPLIT, wards=two_wards, params=CALIBRATED)
    assert few.calibration.fallback and few.calibration.chosen == SurfaceParams()
    assert "150 training signals" in few.calibration.reason
    recent = history[pd.to_datetime(history["occurred_from"]) >= pd.Timestamp("2026-03-27", tz="UTC")]  # + test week
    extra = spots(np.random.default_rng(2), 250, "2026-03-27", 5, [[91_150, 452_150]])
    short = backtest(pd.concat([recent, extra], ignore_index=True), split=SPLIT, wards=two_wards, params=CALIBRATED)
    assert short.calibration.fallback and short.calibration.chosen == SurfaceParams()
    assert "days of history" in short.calibration.reason
    # One decimal: the history falls short of 7 days by hours, and "7 days < 7" contradicted itself.
    assert re.fullmatch(r"[0-6]\.\d days of history < 7", short.calibration.reason)
    assert short.calibration.scores == ()
    allowed = backtest(pd.concat([recent, extra], ignore_index=True), split=SPLIT, wards=two_wards,
                       params=BacktestParams(planner="calibrated", calibration=CalibrationParams(min_history_days=0)))
    assert not allowed.calibration.fallback and allowed.calibration.n_folds >= 1


def test_the_prior_keeps_a_place_with_many_signals_above_a_wider_spread(two_wards):
    """A short history gets the prior, which weighs the long-term counts half: one address with
    six signals stays on top, where the 100 m density alone (the planner before calibration)
    would put the middle of fourteen signals spread over a 300 m square first."""
    lattice = [(dx, dy) for dx in (-100, 0, 100) for dy in (-100, 0, 100)]
    times = pd.date_range("2026-03-20", periods=20, freq="12h", tz="UTC")
    spread = [(92_650 + dx, 452_850 + dy) for dx, dy in lattice for _ in range(1 if dx and dy else 2)]
    xy = np.array([(91_150, 452_150)] * 6 + spread, float)
    train = signals(xy[:, 0], xy[:, 1], times)
    test = signals([91_150] * 3, [452_150] * 3, pd.date_range("2026-04-02", periods=3, freq="D", tz="UTC"))
    data = pd.concat([train, test], ignore_index=True)

    def top(params: BacktestParams) -> int:
        result = backtest(data, split=SPLIT, wards=two_wards, params=params)
        assert result.calibration.fallback and "20 training signals" in result.calibration.reason
        return int(np.argmax(result.scores["planner"]))

    busiest = int(np.argmax(backtest(data, split=SPLIT, wards=two_wards, params=CALIBRATED).scores["naive_all"]))
    assert top(CALIBRATED) == busiest
    density_alone = CalibrationParams(prior=SurfaceParams(blend=1.0))
    assert top(BacktestParams(planner="calibrated", calibration=density_alone)) != busiest


def test_a_moved_hotspot_is_followed_by_recency(two_wards):
    """The busy place moved three weeks ago and stays there: the calibrated planner catches the new one at 1 %."""
    rng = np.random.default_rng(3)
    old = spots(rng, 300, "2026-01-01", 69, [[91_150, 452_150]])
    new = spots(rng, 60, "2026-03-11", 21, [[92_650, 452_850]])
    test = spots(rng, 20, "2026-04-01T12:00", 6, [[92_650, 452_850]])
    result = backtest(pd.concat([old, new, test], ignore_index=True), split=SPLIT, wards=two_wards,
                      params=BacktestParams(planner="calibrated", coverages=(0.5,), horizon_days=7))
    chosen = result.calibration.chosen
    assert chosen.blend > 0 and math.isfinite(chosen.half_life_days)
    assert result.methods["planner"]["hit_rate@0.5"] == 1.0
    assert result.methods["naive_all"]["hit_rate@0.5"] == 0.0


def test_the_candidates_start_with_the_prior_and_hold_no_repeats():
    """Prior first; blend 0 is one candidate; without near-repeat categories no near-repeat candidate."""
    grid = CalibrationParams()
    with_nr, without = grid.candidates(near_repeat=True), grid.candidates(near_repeat=False)
    assert with_nr[0] == SurfaceParams() and without[0] == SurfaceParams(near_repeat=False)
    assert len(set(with_nr)) == len(with_nr) and len(set(without)) == len(without)
    assert sum(c.blend == 0 for c in without) == 1
    assert not any(c.near_repeat for c in without)
    assert len(with_nr) == 2 * len(without)


def test_cv_choose_keeps_the_lower_index_on_a_tie():
    """Equal fold scores go to the earlier candidate; nothing caught gives None."""
    fit, test = np.ones(3, bool), np.ones(3, bool)
    moment = pd.Timestamp("2026-03-01", tz="UTC")
    fold, other = Fold(fit, test, moment), Fold(fit, ~test, moment - pd.Timedelta(weeks=1))
    hits = np.array([1.0, 0.0, 0.0])

    def rates(scores, h):
        return {"hit_rate@50": float(h[np.argmax(scores)] / h.sum())}

    same = cv_choose(lambda i, k: np.array([1.0, 0, 0]), 3, [fold], fold_hits=lambda t: hits, rates=rates,
                     coverages=(50.0,))
    assert same[0] == 0 and same[2] == 1
    best = cv_choose(lambda i, k: np.array([0, 1.0, 0]) if i == 0 else np.array([1.0, 0, 0]), 2, [fold],
                     fold_hits=lambda t: hits, rates=rates, coverages=(50.0,))
    assert best[0] == 1
    none = cv_choose(lambda i, k: np.array([0, 1.0, 0]), 2, [fold], fold_hits=lambda t: hits, rates=rates,
                     coverages=(50.0,))
    assert none[0] is None
    # Pooled over folds by what they catch: one win each is a tie, a win on the bigger fold wins.
    small, big = np.array([1.0, 0.0, 0.0]), np.array([3.0, 0.0, 0.0])
    for second, winner in ((small, 0), (big, 1)):
        both = cv_choose(lambda i, k: np.array([1.0, 0, 0]) if i == k else np.array([0, 1.0, 0]), 2,
                         [fold, other], fold_hits=lambda t, s=second: small if t.all() else s,
                         rates=rates, coverages=(50.0,))
        assert both[0] == winner and both[2] == 1 + second.sum()


def test_the_fixed_planner_is_the_old_surface(history, two_wards):
    """The default planner is calibrated; ``planner="fixed"`` is the surface before calibration, without one."""
    assert backtest(history, split=SPLIT, wards=two_wards).calibration is not None
    fixed = backtest(history, split=SPLIT, wards=two_wards, params=BacktestParams(planner="fixed"))
    assert fixed.calibration is None
    assert fixed.scores["planner"].min() >= 0 and len(np.unique(fixed.scores["planner"])) > 10
    # Known answer: every training signal on one cell centre, so the 100 m Gaussian of the old
    # surface gives its four neighbours e^-0.5 and the four diagonal cells e^-1 of its score
    # (to the millimetre that the trip through WGS84 moves the point).
    rng = np.random.default_rng(3)
    one_place = signals(np.full(40, 91_550.0), np.full(40, 452_450.0),
                        pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 30, 40), "D"))
    later = spots(rng, 5, "2026-04-01T12:00", 5, [[92_550, 452_550]])
    top = np.sort(backtest(pd.concat([one_place, later], ignore_index=True), split=SPLIT, wards=two_wards,
                           params=BacktestParams(planner="fixed")).scores["planner"])[::-1][:10]
    assert top[1:5] == pytest.approx(top[0] * math.exp(-0.5), rel=1e-4)
    assert top[5:9] == pytest.approx(top[0] * math.exp(-1), rel=1e-4)
    assert top[9] < top[8]


def test_params_name_the_bad_field():
    """Bad calibration settings raise InputError naming the field."""
    with pytest.raises(InputError, match="blend"):
        SurfaceParams(blend=2)
    with pytest.raises(InputError, match="bandwidths_m"):
        CalibrationParams(bandwidths_m=(-1.0,))
    with pytest.raises(InputError, match="min_signals"):
        CalibrationParams(min_signals=-1)
    with pytest.raises(InputError, match="planner"):
        BacktestParams(planner="magic")


def stored_a_day_later(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a store gives it: each signal imported, with its status, a day after it began."""
    return frame.assign(stored_at=pd.to_datetime(frame["occurred_from"], utc=True) + pd.Timedelta(days=1))


def test_resolved_signals_count_when_they_forecast(two_wards):
    """Where handled signals keep coming back, the calibration counts them; without resolved ones it never tries."""
    rng = np.random.default_rng(6)
    handled = stored_a_day_later(spots(rng, 300, "2026-01-01", 90, [[91_250, 452_250]]).assign(status="resolved"))
    open_elsewhere = spots(rng, 90, "2026-01-01", 90, [[92_250, 452_750], [92_550, 452_750], [92_850, 452_750]])
    test = spots(rng, 30, "2026-04-01T12:00", 6, [[91_250, 452_250]])
    result = backtest(pd.concat([handled, open_elsewhere, test], ignore_index=True), split=SPLIT, wards=two_wards,
                      params=BacktestParams(coverages=(1.0,)))
    assert result.calibration.chosen.resolved_weight == 1.0
    assert result.methods["planner"]["hit_rate@1"] > 0.9
    assert result.calibration.tune(HotspotParams()).resolved_weight == 1.0
    grid = CalibrationParams()
    assert {c.resolved_weight for c in grid.candidates(resolved=False)} == {0.0}
    assert len(grid.candidates(resolved=True)) == 2 * len(grid.candidates(resolved=False))


def test_a_status_written_after_the_split_is_not_known_at_it(two_wards):
    """A status is as of when it was stored; a file's as of its export. Handled signals that keep
    coming back, but whose statuses were written down only after the split, were open as far as
    anyone knew at the split: the backtest's planner must not read them, in its folds or its map."""
    rng = np.random.default_rng(6)
    handled = spots(rng, 300, "2026-01-01", 90, [[91_250, 452_250]]).assign(status="resolved")
    rest = pd.concat([spots(rng, 90, "2026-01-01", 90, [[92_250, 452_750], [92_550, 452_750]]),
                      spots(rng, 30, "2026-04-01T12:00", 6, [[91_250, 452_250]])], ignore_index=True)
    params = BacktestParams(coverages=(1.0,))
    late = handled.assign(stored_at=pd.Timestamp("2026-04-20", tz="UTC"))
    as_open = handled.assign(status="open")
    same = backtest(pd.concat([as_open, rest], ignore_index=True), split=SPLIT, wards=two_wards, params=params)
    for unknown in (handled, late):  # from a file (no stored_at), and stored after the split
        result = backtest(pd.concat([unknown, rest], ignore_index=True), split=SPLIT, wards=two_wards, params=params)
        assert np.array_equal(result.scores["planner"], same.scores["planner"])
        assert result.calibration.to_json() | {"seconds": 0} == same.calibration.to_json() | {"seconds": 0}
    known = backtest(pd.concat([stored_a_day_later(handled), rest], ignore_index=True), split=SPLIT,
                     wards=two_wards, params=params)
    assert known.calibration.chosen.resolved_weight == 1.0


def at_hours(rng, frame: pd.DataFrame, first: float, last: float) -> pd.DataFrame:
    """``frame`` with each signal moved to a uniform time between ``first`` and ``last`` (UTC hours) of its day."""
    hours = pd.to_timedelta(rng.uniform(first, last, len(frame)), "h")
    when = pd.to_datetime(frame["occurred_from"]).dt.floor("D") + hours
    return frame.assign(occurred_from=when, occurred_to=when)


def test_the_time_of_day_weighting_keeps_an_evening_hotspot(two_wards):
    """Evenings bring signals to one place, days three times as many to another: for an evening window the
    time-of-day stage keeps the evening's signals first (counting every time alike would rank the day's place)."""
    rng = np.random.default_rng(7)
    evening = at_hours(rng, spots(rng, 150, "2026-01-01", 90, [[92_650, 452_850]]), 18, 20)
    daytime = at_hours(rng, spots(rng, 450, "2026-01-01", 90, [[91_150, 452_150]]), 8, 15)
    test = at_hours(rng, spots(rng, 20, "2026-04-01T12:00", 6, [[92_650, 452_850]]), 18, 20)
    result = backtest(pd.concat([evening, daytime, test], ignore_index=True), split=SPLIT, wards=two_wards,
                      params=BacktestParams(coverages=(0.5,), window=TimeWindow("19:00", "23:00")))
    spatial = len(CalibrationParams().candidates(near_repeat=False))
    assert result.calibration.n_candidates > spatial  # the time-of-day weightings were tried
    assert result.methods["naive_all"]["hit_rate@0.5"] == 0.0
    assert result.methods["planner"]["hit_rate@0.5"] == 1.0
    chosen = result.calibration.chosen.time
    assert chosen is None or chosen.other_hours < 1


@pytest.mark.shipped_folds
def test_a_planted_future_burst_changes_no_time_of_day_choice(history, two_wards):
    """With a target window the time-of-day stage, too, sees the training signals only."""
    params = BacktestParams(window=TimeWindow("18:00", "24:00"))
    burst = spots(np.random.default_rng(8), 400, "2026-04-01T12:00", 5, [[91_550, 452_450]], spread=200)
    plain = backtest(history, split=SPLIT, wards=two_wards, params=params)
    planted = backtest(pd.concat([history, burst], ignore_index=True), split=SPLIT, wards=two_wards, params=params)
    assert planted.n_test > plain.n_test + 50
    assert plain.calibration.n_candidates > len(CalibrationParams().candidates(near_repeat=False))
    assert planted.calibration.to_json() | {"seconds": 0} == plain.calibration.to_json() | {"seconds": 0}
    assert np.array_equal(planted.scores["planner"], plain.scores["planner"])


@pytest.mark.shipped_folds
def test_the_near_repeat_term_is_each_folds_own():
    """Kept once per fold for every candidate, the near-repeat term is still that of the fold's own signals
    and moment: a fold without the recent burglaries gets none of their term."""
    from scipy.spatial import cKDTree

    from planner.hotspots.calibration import _Surface, near_repeat_term

    rng = np.random.default_rng(3)
    old = spots(rng, 60, "2026-01-01", 30, [[91_200, 452_200]]).assign(category="burglary")
    new = spots(rng, 60, "2026-03-01", 20, [[92_600, 452_800]]).assign(category="burglary")
    train = pd.concat([old, new], ignore_index=True)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True).transform(train["lon"], train["lat"])
    ux, uy = np.meshgrid(np.arange(91_000, 93_000, 100.0), np.arange(452_000, 453_000, 100.0))
    ux, uy = ux.ravel(), uy.ravel()
    params = HotspotParams()
    surface = _Surface(train, np.asarray(x), np.asarray(y), np.full(len(train), -1), ux, uy, params, {100.0})
    candidate = SurfaceParams(near_repeat=True)
    every, old_only = np.ones(len(train), dtype=bool), np.arange(len(train)) < len(old)
    folds = [(pd.Timestamp("2026-03-25", tz="UTC"), every), (pd.Timestamp("2026-03-25", tz="UTC"), old_only),
             (pd.Timestamp("2026-02-05", tz="UTC"), old_only)]
    units = cKDTree(np.column_stack([ux, uy]))
    terms = []
    for now, fit in [*folds, *folds]:  # the second round reads what the first one kept
        age = ((now - surface.end) / pd.Timedelta(days=1)).to_numpy(float)
        want = near_repeat_term(units, np.asarray(x), np.asarray(y), age_days=age, eligible=fit,
                                base=surface.base(candidate) * fit, params=params)
        terms.append(surface.near_repeat(candidate, fit, now, None))
        assert want.sum() > 0 and np.allclose(terms[-1], want / want.sum())
    far = (ux - 92_600) ** 2 + (uy - 452_800) ** 2 > 600**2  # beyond near_repeat_m of the new burglaries
    assert terms[0][~far].sum() > 0.5 and terms[1][~far].sum() == 0  # without them, none of their term
    assert not np.allclose(terms[1], terms[2])  # the same signals seen at another moment


def test_a_label_calls_0_m_what_it_is():
    """0 m is no kernel but counts per cell: the label says so, as the model card does."""
    assert SurfaceParams(bandwidth_m=0.0).label().startswith("counts per cell, half-life")
    assert SurfaceParams().label().startswith("100 m, half-life 30 d")
