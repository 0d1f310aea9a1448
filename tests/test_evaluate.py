"""Tests for planner/hotspots/evaluate.py: the backtest's numbers, its JSON contract and the real files."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.special import logsumexp
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app
from planner.hotspots import TimeWindow
from planner.hotspots.calibration import Fold, best_first, cv_choose
from planner.hotspots.evaluate import (
    ALIASES,
    ENOUGH_FOLD_SIGNALS,
    MAX_FOLDS,
    METHODS,
    BacktestParams,
    backtest,
    deterministic_rank,
    fold_tiebreaks,
    hit_rates,
    kde_log_density,
    length_hit_rates,
    parse_split,
    ranked_length_hit_rates,
    rolling_folds,
    scott_bandwidth,
)

TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
SACRAMENTO_MAPPING = "cdatetime=occurred_at,latitude=lat,longitude=lon"
KEYS = {f"{kind}@{c}" for kind in ("hit_rate", "pai") for c in (1, 5, 10)}
NAMES = {*METHODS, *ALIASES}
BASELINES = [name for name in METHODS if name != "planner"]


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
    for name in NAMES:
        values = result.methods[name]
        assert values["hit_rate@1"] == pytest.approx(1.0)
        assert values["pai@1"] == pytest.approx(100.0)  # 1 / (2 of 200 cells)
        assert values["pai@10"] == pytest.approx(10.0)


def test_the_split_is_told_in_the_installation_s_local_time(known, two_wards, monkeypatch):
    """A split typed as a local day is printed as that local moment, not as the UTC instant
    (2026-02-22 00:00 in Chicago, not 2026-02-22T06:00:00+00:00), in the summary and the refusal."""
    monkeypatch.setenv("WAS_TIMEZONE", "America/Chicago")
    result = backtest(known, split="2026-02-22", wards=two_wards)
    assert result.summary().startswith("split 2026-02-22 00:00: ")
    with pytest.raises(InputError, match=r"^split 2027-01-01 00:00 leaves 30 training and 0 test signals"):
        backtest(known, split="2027-01-01", wards=two_wards)


def test_json_contract_is_exact(known, two_wards):
    """to_json has exactly methods (every method and old name × six keys), n_train and n_test."""
    payload = backtest(known, split="2026-02-22T12:00", wards=two_wards).to_json()
    assert set(payload) == {"methods", "n_train", "n_test"}
    assert set(payload["methods"]) == NAMES
    for values in payload["methods"].values():
        assert set(values) == KEYS and all(isinstance(v, float) for v in values.values())
    assert all(payload["methods"][old] == payload["methods"][new] for old, new in ALIASES.items())
    json.dumps(payload)


def test_ties_count_in_proportion():
    """With all scores equal a method catches exactly its area share (PAI 1), whatever the order."""
    hits = np.array([5.0, 0, 0, 0, 0, 0, 0, 0, 0, 0] * 10)
    result = hit_rates(np.zeros(100), hits, (1.0, 5.0, 10.0))
    assert result["hit_rate@5"] == pytest.approx(0.05) and result["pai@5"] == pytest.approx(1.0)
    better = hit_rates(hits.copy(), hits, (10.0,))
    assert better["hit_rate@10"] == pytest.approx(1.0) and better["pai@10"] == pytest.approx(10.0)


def test_the_horizon_counts_local_calendar_days_across_the_clock_change(two_wards):
    """31 days from 1 March are March: month-only signals of 1 April (local midnight, after the
    clocks went forward) are not in the test set."""
    rng = np.random.default_rng(2)
    days = pd.date_range("2026-01-01", "2026-04-01", freq="D", tz="Europe/Amsterdam")
    times = days[rng.integers(0, len(days) - 1, 300)].append(pd.DatetimeIndex([days[-1]] * 3))
    history = signals(rng.uniform(91_000, 92_000, 303), rng.uniform(452_000, 453_000, 303), times)
    result = backtest(history, split="2026-03-01", wards=two_wards,
                      params=BacktestParams(horizon_days=31, planner="fixed"))
    assert result.n_test == int(((times >= days[59]) & (times < days[-1])).sum())


def test_a_candidate_catching_one_signal_more_wins_though_the_reported_rates_round_equal():
    """Reports round to 6 decimals; choosing between candidates must not, or one more signal is a tie."""
    hits = np.array([1_000_000.0, 1_000_001.0, 1_999_999.0])
    rounded = [hit_rates(np.eye(3)[i], hits, (34.0,))["hit_rate@34"] for i in (0, 1)]
    assert rounded[0] == rounded[1] == 0.25
    fold = Fold(np.ones(3, bool), np.ones(3, bool), pd.Timestamp("2026-03-01", tz="UTC"))
    best, caught, _ = cv_choose(lambda i, k: np.eye(3)[i], 2, [fold], fold_hits=lambda t: hits,
                                rates=lambda s, h: hit_rates(s, h, (34.0,), digits=None), coverages=(34.0,))
    assert best == 1 and caught == pytest.approx([1_000_000, 1_000_001], rel=1e-12)


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


def test_a_signal_at_the_split_is_test_data_only(two_wards):
    """A signal at the very moment of the split is a test signal, not also a training one."""
    t = pd.Timestamp("2026-02-10T12:00", tz="UTC")
    frame = signals([91_500] * 3, [452_500] * 3, [t - pd.Timedelta(days=2), t, t + pd.Timedelta(days=1)])
    result = backtest(frame, split=t, wards=two_wards)
    assert (result.n_train, result.n_test) == (1, 2)


def test_no_test_signals_is_a_clear_error(known, two_wards):
    """A split after the data ends says how many signals each side got and the data's range."""
    with pytest.raises(InputError, match="0 test signals"):
        backtest(known, split="2027-01-01", wards=two_wards)


def test_study_area_without_wards_is_the_buffered_hull(known):
    """Without wards the study area is the training hull + 500 m: about π 500² + 4·100·500 m² here."""
    result = backtest(known, split="2026-02-22T12:00")
    assert 80 <= result.n_cells <= 105
    assert result.crs == "EPSG:28992"


def test_test_signals_outside_the_study_area_are_told(known):
    """Without wards, test signals beyond the training hull + 500 m are in no forecast: they are
    left out of n_test, and the summary says how many (they used to vanish without a word)."""
    far = signals([95_000, 95_050], [452_500, 452_550], ["2026-02-24", "2026-02-25"]).assign(
        occurred_from=lambda f: pd.to_datetime(f["occurred_from"], utc=True),
        occurred_to=lambda f: pd.to_datetime(f["occurred_to"], utc=True))
    result = backtest(pd.concat([known, far], ignore_index=True), split="2026-02-22T12:00")
    assert (result.n_test, result.n_outside) == (10, 2)
    assert "10 test signals (2 more outside the study area, left out)" in result.summary()
    assert "outside" not in backtest(known, split="2026-02-22T12:00").summary()


def test_with_and_without_patrol_signals_share_one_study_area(known):
    """The study area without wards comes from every training signal, so "with" and "without" the
    patrol-found ones rank the same cells and their PAI compare like with like."""
    spread = known.copy()
    spread.loc[:4, "lon"] += 0.02  # five training signals 1.4 km east, all found on patrol
    spread.loc[:4, "on_patrol"] = True
    both = {choice: backtest(spread, split="2026-02-22T12:00", params=BacktestParams(patrol_signals=choice))
            for choice in ("with", "without")}
    assert both["with"].n_train - both["without"].n_train == 5
    assert both["with"].n_cells == both["without"].n_cells and both["with"].n_test == both["without"].n_test


def test_evaluate_cli_answers_a_header_only_file_and_says_when_no_signal_was_found_on_patrol(tmp_path, known):
    """A file with only its header row is a one-line error (it was an IndexError traceback);
    --patrol-signals both on a file without patrol-found signals says the two are the same."""
    (tmp_path / "header.csv").write_text("occurred_at,lat,lon,category\n")
    header = CliRunner().invoke(app, ["evaluate", str(tmp_path / "header.csv"), "--split", "2026-02-22"])
    assert header.exit_code == 2 and "header.csv: no usable rows (it has no data rows)" in header.output
    assert "Traceback" not in header.output
    known.assign(occurred_at=known["occurred_from"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))[
        ["occurred_at", "lat", "lon", "category"]].to_csv(tmp_path / "s.csv", index=False)
    both = CliRunner().invoke(app, ["evaluate", str(tmp_path / "s.csv"), "--split", "2026-02-22T12:00",
                                    "--patrol-signals", "both", "--planner", "fixed"])
    assert both.exit_code == 0, both.output
    assert "no signal in s.csv is marked as found on patrol" in both.stderr


def test_scott_bandwidth_shrinks_with_more_points():
    """Scott's rule: same spread, 64 times the points → half the bandwidth."""
    rng = np.random.default_rng(1)
    small = rng.normal(0, 100, (2, 100))
    big = rng.normal(0, 100, (2, 6400))
    assert scott_bandwidth(*big) == pytest.approx(scott_bandwidth(*small) / 2, rel=0.1)


def test_params_name_the_bad_field():
    """Invalid backtest parameters raise an InputError naming the field (as users set it)."""
    with pytest.raises(InputError, match="forecast horizon in days"):
        BacktestParams(horizon_days=0)
    with pytest.raises(InputError, match="coverages"):
        BacktestParams(coverages=(0.0,))
    with pytest.raises(InputError, match="cv_bandwidths_m"):
        BacktestParams(cv_bandwidths_m=(100.0, 50.0))
    with pytest.raises(InputError, match="cv_folds"):
        BacktestParams(cv_folds=0)


def test_sacramento_cli_json(shared_data):
    """Sacramento through the import aliases: the exact contract; a chosen bandwidth beats Scott's at 5 %."""
    path = shared_data / "incidents" / "sacramento_2006-01-01_to_2006-01-21.csv"
    result = CliRunner().invoke(app, [
        "evaluate", str(path), "--split", "2006-01-08", "--horizon-days", "7", "--mapping", SACRAMENTO_MAPPING,
        "--date-format", "%m/%d/%y %H:%M", "--json",
    ])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"methods", "n_train", "n_test"}
    assert (payload["n_train"], payload["n_test"]) == (1651, 1740)  # 8 Jan 0:00 is a test signal only
    methods = payload["methods"]
    assert set(methods) == NAMES and all(set(values) == KEYS for values in methods.values())
    assert methods["kde_cv"]["pai@5"] > methods["kde_scott"]["pai@5"] == methods["kde"]["pai@5"]
    assert methods["naive_all"] == methods["naive_4w"]  # one week of training: both count it all


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


# -- baselines: ties, cross-validated bandwidth --------------------------------------------------
def tight_clusters(rng, n, start, days, spread=10.0):
    """``n`` signals around 20 cell centres of the two wards (uneven weights), 30 % uniform noise."""
    centres = np.column_stack([rng.choice(np.arange(91_050, 93_000, 100), 20, replace=False),
                               rng.choice(np.arange(452_050, 453_000, 100), 20)])
    xy = centres[rng.choice(20, n, p=np.arange(1, 21) / 210)] + rng.normal(0, spread, (n, 2))
    noise = rng.random(n) < 0.3
    xy[noise] = rng.uniform([91_001, 452_001], [92_999, 452_999], (int(noise.sum()), 2))
    return signals(xy[:, 0], xy[:, 1], pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), "D"))


def diffuse_blobs(rng, n, start, days, spread=250.0):
    """``n`` signals around the centres of the two wards (Gaussian, ``spread`` m), inside the wards."""
    xy = np.array([[91_500, 452_500], [92_500, 452_500]])[rng.integers(0, 2, 3 * n)] + rng.normal(0, spread, (3 * n, 2))
    xy = xy[(xy[:, 0] > 91_000) & (xy[:, 0] < 93_000) & (xy[:, 1] > 452_000) & (xy[:, 1] < 453_000)][:n]
    return signals(xy[:, 0], xy[:, 1], pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days, n), "D"))


@pytest.mark.parametrize("hot", ["east", "west"])
def test_equal_counts_are_ordered_by_the_50m_kde(two_wards, hot):
    """Two cells with two training signals each: the one with a signal next door ranks first, not the lower index."""
    t = pd.Timestamp("2026-02-02", tz="UTC")
    # West cell (lower index) and east cell both hold 2; the east one has a neighbour 60 m away.
    train = signals([91_145, 91_155, 91_745, 91_755, 91_810], [452_545, 452_555, 452_545, 452_555, 452_550], [t] * 5)
    x = 91_750 if hot == "east" else 91_150
    test = signals([x - 20, x, x + 20], [452_550] * 3, [pd.Timestamp("2026-02-23", tz="UTC")] * 3)
    result = backtest(pd.concat([train, test], ignore_index=True), split="2026-02-22", wards=two_wards,
                      params=BacktestParams(coverages=(0.5,)))  # one cell of 200
    for name in ("naive_all", "naive_4w"):
        assert result.methods[name]["hit_rate@0.5"] == (1.0 if hot == "east" else 0.0)


def test_complete_ties_go_to_the_lower_index():
    """Equal scores and equal tie-break: the lower index ranks higher; the tie-break comes before the index."""
    assert list(deterministic_rank(np.zeros(5), tiebreak=np.zeros(5))) == [4, 3, 2, 1, 0]
    ranks = deterministic_rank(np.array([1.0, 1.0, 1.0, 0.0]), tiebreak=np.array([0.0, 2.0, 2.0, 9.0]))
    assert list(ranks) == [1, 3, 2, 0]
    hits = np.array([0.0, 0, 3, 0, 0, 0, 0, 0, 0, 0])
    tied = deterministic_rank(np.zeros(10), tiebreak=np.zeros(10))
    assert hit_rates(tied, hits, (30.0,))["hit_rate@30"] == 1.0  # cells 0, 1, 2: the first three
    assert hit_rates(tied, hits, (20.0,))["hit_rate@20"] == 0.0


def test_shuffled_rows_give_the_same_baselines(two_wards):
    """Signals on 40 shared points (many equal counts): shuffling the rows changes no baseline, figure or KDE bit."""
    rng = np.random.default_rng(5)
    spots = rng.uniform([91_001, 452_001], [92_999, 452_999], (40, 2))
    pick = spots[rng.integers(0, 40, 300)]
    times = pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 28, 300), "D")
    frame = signals(pick[:, 0], pick[:, 1], times)
    one = backtest(frame, split="2026-02-22", wards=two_wards)
    other = backtest(frame.sample(frac=1, random_state=1), split="2026-02-22", wards=two_wards)
    for name in BASELINES:
        assert np.array_equal(one.scores[name], other.scores[name]), name
        assert one.methods[name] == other.methods[name], name
    assert one.bandwidths_m == other.bandwidths_m
    perm = rng.permutation(300)
    cells = rng.uniform([91_000, 452_000], [93_000, 453_000], (500, 2))
    density = kde_log_density(pick[:, 0], pick[:, 1], cells[:, 0], cells[:, 1], bandwidth_m=50)
    assert np.array_equal(density, kde_log_density(pick[perm, 0], pick[perm, 1], cells[:, 0], cells[:, 1],
                                                   bandwidth_m=50))  # bit for bit: no near-tie flips


def test_cv_picks_a_small_bandwidth_on_tight_clusters_and_a_larger_one_on_diffuse_points(two_wards):
    """Clusters of 10 m sd get kde_cv ≤ 50 m; two blobs of 250 m sd get ≥ 100 m (three seeds each)."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        tight = backtest(tight_clusters(rng, 300, "2026-02-01", 28), split="2026-02-22", wards=two_wards)
        diffuse = backtest(diffuse_blobs(rng, 300, "2026-02-01", 28), split="2026-02-22", wards=two_wards)
        assert tight.bandwidths_m["kde_cv"] <= 50 < 100 <= diffuse.bandwidths_m["kde_cv"], seed


@pytest.mark.shipped_folds
def test_rolling_folds_on_whole_months_and_on_a_short_history():
    """Month-only signals: the folds test whole months, the last two first and then, with so few fold test
    signals, every earlier month that has one before it; one week of history: folds of 7/3 days."""
    starts = pd.Series(pd.date_range("2016-01-01", periods=6, freq="MS", tz="UTC")).repeat(3).reset_index(drop=True)
    ends = starts + pd.offsets.MonthBegin(1)
    folds = rolling_folds(starts, ends, split=pd.Timestamp("2016-07-01", tz="UTC"), horizon_days=28, folds=2,
                          testable=np.ones(18, dtype=bool))
    assert [(set(starts[test].dt.month), set(starts[fit].dt.month)) for fit, test, _ in folds] == [
        ({6}, {1, 2, 3, 4, 5}), ({5}, {1, 2, 3, 4}), ({4}, {1, 2, 3}), ({3}, {1, 2}), ({2}, {1})]
    split = parse_split("2006-01-08")
    week = pd.Series(split - pd.to_timedelta(np.linspace(7, 0.01, 200), "D"))
    short = rolling_folds(week, week, split=split, horizon_days=7, folds=2, testable=np.ones(200, dtype=bool))
    assert len(short) == 2 and not any((fit & test).any() for fit, test, _ in [*folds, *short])
    origins = [fold.origin for fold in short]  # the last start at or before 7/3 (then 14/3) days back
    assert all(split - pd.Timedelta(days=d * 7 / 3, hours=2) < o <= split - pd.Timedelta(days=d * 7 / 3)
               for d, o in zip((1, 2), origins, strict=True))
    assert origins == [week[fold.test].min() for fold in short]  # the origin's own signal is tested
    assert [f.origin for f in folds] == list(pd.to_datetime(["2016-06-01", "2016-05-01", "2016-04-01", "2016-03-01",
                                                              "2016-02-01"], utc=True))
    assert week[short[0].fit].max() <= week[short[0].test].min()


def test_a_fold_s_origin_stays_where_the_rolling_rule_puts_it_whatever_the_window():
    """Testing only a window's signals moves no origin: a signal outside the window can be one, and the
    fold's "now" (recency, statuses known) is then before its first test signal, not at it."""
    starts = pd.Series(pd.date_range("2026-01-01", periods=24 * 60, freq="h", tz="UTC"))
    morning = ((starts.dt.hour >= 6) & (starts.dt.hour < 12)).to_numpy()
    split = starts.max() + pd.Timedelta(minutes=1)
    every = rolling_folds(starts, starts, split=split, horizon_days=7, folds=4, testable=np.ones(len(starts), bool))
    windowed = rolling_folds(starts, starts, split=split, horizon_days=7, folds=4, testable=morning)
    assert len(windowed) == len(every) == 4
    assert [f.origin for f in windowed] == [f.origin for f in every] == [starts[f.test].min() for f in every]
    assert all(f.origin.hour == 23 and starts[f.test].min() == f.origin + pd.Timedelta(hours=7) for f in windowed)


def test_a_fold_of_31_days_before_1_april_is_march_across_the_clock_change():
    """Month-only signals at local midnight: 31 days back from 1 April (summer time) reach 1 March
    (winter time), so the first fold tests March alone, not February and March."""
    months = pd.date_range("2025-10-01", "2026-03-01", freq="MS", tz="Europe/Amsterdam")
    starts = pd.Series(months.repeat(3)).dt.tz_convert("UTC").reset_index(drop=True)
    folds = rolling_folds(starts, starts, split=parse_split("2026-04-01"), horizon_days=31, folds=2,
                          testable=np.ones(len(starts), dtype=bool))
    local = starts.dt.tz_convert("Europe/Amsterdam").dt.month
    assert set(local[folds[0].test]) == {3} and set(local[folds[0].fit]) == {10, 11, 12, 1, 2}


@pytest.mark.shipped_folds
def test_rolling_folds_go_further_back_only_while_the_folds_hold_few_test_signals():
    """Beyond the asked folds, more of the same length are added until they hold ENOUGH_FOLD_SIGNALS test
    signals, and never more than MAX_FOLDS in all."""
    def folds(per_day: int, days: int) -> list[Fold]:
        starts = pd.Series(pd.date_range("2024-01-01", periods=days * per_day, freq=f"{1440 // per_day}min", tz="UTC"))
        return rolling_folds(starts, starts, split=starts.max() + pd.Timedelta(minutes=1), horizon_days=7, folds=2,
                             testable=np.ones(len(starts), dtype=bool))
    many = folds(per_day=ENOUGH_FOLD_SIGNALS // 14 + 1, days=200)  # two weeks hold enough
    few = folds(per_day=ENOUGH_FOLD_SIGNALS // (7 * MAX_FOLDS * 2), days=200)  # twelve weeks do not
    assert len(many) == 2 and sum(f.test.sum() for f in many) >= ENOUGH_FOLD_SIGNALS
    assert len(few) == MAX_FOLDS and sum(f.test.sum() for f in few) < ENOUGH_FOLD_SIGNALS
    middle = folds(per_day=ENOUGH_FOLD_SIGNALS // (7 * 5) + 1, days=200)  # enough once five weeks are in
    assert len(middle) == 5


def test_evaluate_cli_json_lists_every_baseline(tmp_path):
    """`evaluate --json` holds every method and old name with the same six keys; the text names the bandwidths."""
    frame = tight_clusters(np.random.default_rng(0), 300, "2026-02-01", 28)
    frame.assign(occurred_at=frame["occurred_from"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))[
        ["occurred_at", "lat", "lon", "category"]].to_csv(tmp_path / "s.csv", index=False)
    args = ["evaluate", str(tmp_path / "s.csv"), "--split", "2026-02-22"]
    payload = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert set(payload["methods"]) == NAMES and all(set(v) == KEYS for v in payload["methods"].values())
    text = CliRunner().invoke(app, args).stdout
    assert "kde_cv" in text and "bandwidths: kde_cv" in text


# -- per km of street (a graph given) -----------------------------------------------------------
NET_KEYS = {*NAMES, "street_km", "n_test"}


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


@pytest.mark.parametrize("seed", range(6))
def test_the_top_streets_alone_give_the_full_ranking_s_rates(seed):
    """best_first + ranked_length_hit_rates = length_hit_rates of deterministic_rank, bit for bit, on scores
    with many ties (zeros, repeated counts); the tie-break is read only for tied streets, once each."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    scores = np.where(rng.random(n) < 0.6, 0.0, rng.integers(1, 4, n) / rng.choice([1.0, 7.0], n))
    lengths = rng.choice([0.0, 5.0, 40.0, 250.0], n, p=[0.05, 0.35, 0.4, 0.2])
    hits = rng.poisson(0.3, n).astype(float)
    tiebreak = rng.choice([0.0, -1.5, -3.0], n)  # ties in the tie-break too: then the lower index
    coverages = (1.0, 5.0, 10.0)
    asked = []

    def read(units):
        asked.extend(units.tolist())
        return tiebreak[units]

    order = best_first(scores, sizes=lengths, reach=max(coverages) / 100 * lengths.sum(), tiebreak=read)
    full = np.argsort(-deterministic_rank(scores, tiebreak=tiebreak))
    assert list(order) == list(full[:len(order)])
    assert ranked_length_hit_rates(order, hits, lengths, coverages, digits=None) == length_hit_rates(
        deterministic_rank(scores, tiebreak=tiebreak), hits, lengths, coverages, digits=None)
    _, counts = np.unique(scores, return_counts=True)
    tied = set(np.flatnonzero(np.isin(scores, _[counts > 1])))
    assert set(asked) <= tied and len(asked) == len(set(asked))


@pytest.mark.parametrize("seed", range(4))
def test_the_top_streets_without_ties_are_the_full_ranking_and_never_read_the_tiebreak(seed):
    """Distinct scores (a kernel density's): the lower index never decides, the tie-break is never read."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    scores, lengths = rng.random(n), rng.choice([5.0, 40.0, 250.0], n)

    def read(units):
        raise AssertionError(f"tie-break read for {units}")

    order = best_first(scores, sizes=lengths, reach=0.1 * lengths.sum(), tiebreak=read)
    full = np.argsort(-deterministic_rank(scores, tiebreak=np.zeros(n)))
    assert list(order) == list(full[:len(order)]) and lengths[order].sum() >= 0.1 * lengths.sum()


@pytest.mark.parametrize("seed", range(8))
def test_the_signals_caught_without_sorting_are_those_of_the_full_ranking(seed):
    """caught_by_size = the full ranking's hit rates × the hits, at every coverage, on distinct scores,
    on scores that tie only away from the boundaries, and with units of zero length; None (ask the
    tie-break) exactly when a boundary unit ties."""
    from planner.hotspots._select import caught_by_size

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    scores = rng.random(n)
    # A tied pair among the best and a tied tail of zeros: neither is at a boundary of the small coverages.
    if n > 50:
        scores[np.argsort(-scores)[:2]] = 2.0
        scores[np.argsort(scores)[: n // 2]] = 0.0
    lengths = rng.choice([0.0, 5.0, 40.0, 250.0], n, p=[0.05, 0.35, 0.4, 0.2])
    hits = rng.poisson(0.5, n).astype(float)
    coverages = (10.0, 1.0, 5.0, 100.0) if seed % 2 else (1.0, 5.0, 10.0)
    expected = length_hit_rates(deterministic_rank(scores, tiebreak=np.zeros(n)), hits, lengths, coverages,
                                digits=None)
    caught = caught_by_size(scores, sizes=lengths, hits=hits, reaches=np.array(coverages) / 100 * lengths.sum())
    boundary_tie = 100.0 in coverages and n > 50
    if boundary_tie:  # all of them: the boundary is in the zeros
        assert caught is None
        caught = caught_by_size(scores, sizes=lengths, hits=hits, reaches=np.array(coverages[:3]) / 100 * lengths.sum())
        coverages = coverages[:3]
    assert caught is not None
    np.testing.assert_allclose(caught, [expected[f"hit_rate@{c:g}"] * hits.sum() for c in coverages], rtol=1e-9,
                               atol=1e-9)


def test_a_boundary_unit_that_ties_asks_for_the_tie_break():
    """Two units of the same score straddle the 50 % boundary: which is first decides the hits, so None."""
    from planner.hotspots._select import caught_by_size

    scores, lengths, hits = np.array([3.0, 1.0, 1.0, 0.5]), np.full(4, 10.0), np.array([0.0, 1.0, 0.0, 2.0])
    assert caught_by_size(scores, sizes=lengths, hits=hits, reaches=np.array([20.0])) is None
    np.testing.assert_allclose(caught_by_size(scores, sizes=lengths, hits=hits, reaches=np.array([10.0, 35.0])),
                               [0.0, 1.0 + 0.5 * 2.0])
    assert caught_by_size(scores, sizes=lengths, hits=hits, reaches=np.array([0.0, 5.0]))[0] == 0.0


def test_each_fold_s_tiebreak_is_the_kde_of_its_own_signals():
    """Nested folds pool their KDEs; every fold reads its own signals' KDE (the exact sum, within the KDE's
    tolerance where scikit-learn keeps it: 5 bandwidths of a signal), whichever units are read first."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 300, 600), rng.normal(0, 300, 600)
    ux, uy = rng.uniform(-1500, 1500, 300), rng.uniform(-1500, 1500, 300)
    when = rng.uniform(0, 1, 600)
    fits = [when < cut for cut in (0.9, 0.6, 0.3)] + [rng.random(600) < 0.5]  # the last holds no other fold
    readers = fold_tiebreaks(x, y, fits, ux, uy, bandwidth_m=50.0)
    first = rng.permutation(300)[:40]
    for k in (0, 3, 1, 2):
        early = readers[k](first)
        values = readers[k](np.arange(300))
        squared = ((ux[:, None] - x[fits[k]]) ** 2 + (uy[:, None] - y[fits[k]]) ** 2) / 50.0**2
        exact = logsumexp(-squared / 2, axis=1) - np.log(2 * np.pi * 50.0**2 * fits[k].sum())
        near = squared.min(axis=1) < 5**2
        assert near.sum() > 50 and values[near] == pytest.approx(exact[near], abs=1e-3)
        assert np.array_equal(values[first], early)


def test_network_known_answer_one_hot_street(one_hot_street, line_graph, two_wards):
    """All signals on one of ten equal streets: every method catches 10 % per 1 % of length (PAI 10)."""
    result = backtest(one_hot_street, split="2026-02-22T12:00", wards=two_wards, graph=line_graph)
    network = result.network
    assert network["street_km"] == pytest.approx(1.0) and network["n_test"] == 10
    for name in NAMES:
        values = network[name]
        assert values["hit_rate@1"] == pytest.approx(0.1) and values["pai@1"] == pytest.approx(10.0)
        assert values["hit_rate@5"] == pytest.approx(0.5) and values["pai@5"] == pytest.approx(10.0)
        assert values["hit_rate@10"] == pytest.approx(1.0) and values["pai@10"] == pytest.approx(10.0)


def test_network_adds_exactly_one_json_key(one_hot_street, line_graph, two_wards):
    """With a graph to_json gains only "network" (same six keys per method, street_km, n_test)."""
    payload = backtest(one_hot_street, split="2026-02-22T12:00", wards=two_wards, graph=line_graph).to_json()
    assert set(payload) == {"methods", "n_train", "n_test", "network"}
    assert set(payload["network"]) == NET_KEYS
    assert all(set(payload["network"][name]) == KEYS for name in NAMES)
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
    for name in NAMES:
        rates = [network[name][f"hit_rate@{c}"] for c in (1, 5, 10)]
        assert rates == sorted(rates) and rates[0] >= 0 and rates[-1] <= 1
    assert network["planner"]["pai@5"] > 5


@pytest.mark.shipped_folds
def test_a_burst_in_the_forecast_period_changes_no_baseline(line_graph):
    """400 diffuse signals in the forecast week (50 outside the training hull) change no bandwidth, no
    baseline's score, no calibration and no planner score, on the cells (the study area is the
    training hull: there are no wards) or the streets."""
    rng = np.random.default_rng(0)
    on_street = signals(91_000 + rng.choice([150, 450, 850], 120) + rng.normal(0, 5, 120),
                        452_500 + rng.normal(0, 5, 120),
                        pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 27, 120), "D"))
    history = pd.concat([tight_clusters(rng, 300, "2026-02-01", 27), on_street], ignore_index=True)
    away = signals(rng.uniform(93_500, 94_000, 50), rng.uniform(452_000, 453_000, 50),
                   pd.Timestamp("2026-02-23", tz="UTC") + pd.to_timedelta(rng.uniform(0, 3, 50), "D"))
    burst = pd.concat([diffuse_blobs(rng, 400, "2026-02-22T12:00", 5), away], ignore_index=True)
    split = "2026-02-22T06:00"
    plain = backtest(history, split=split, graph=line_graph)
    planted = backtest(pd.concat([history, burst], ignore_index=True), split=split, graph=line_graph)
    assert planted.n_test == plain.n_test + 400 and planted.n_cells == plain.n_cells
    assert planted.bandwidths_m == plain.bandwidths_m
    for name in METHODS:
        assert np.array_equal(planted.scores[name], plain.scores[name]), name
        assert np.array_equal(planted.network_scores[name], plain.network_scores[name]), name
    for fitted in ("calibration", "street_calibration"):
        plain_fit, planted_fit = getattr(plain, fitted), getattr(planted, fitted)
        assert not plain_fit.fallback and planted_fit.to_json() | {"seconds": 0} == plain_fit.to_json() | {"seconds": 0}
    when = pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 20, len(burst)), "D")
    earlier = backtest(pd.concat([history, burst.assign(occurred_from=when, occurred_to=when)], ignore_index=True),
                       split=split, graph=line_graph)
    assert earlier.bandwidths_m["kde_scott"] != plain.bandwidths_m["kde_scott"]  # the same burst in training counts
    assert not np.array_equal(earlier.scores["kde_cv"], plain.scores["kde_cv"])
