"""Tests for planner/review/effect.py: the panel, weighted PPML with randomization inference, the
event study, the MDE, the placebo check and the store wrapper."""

from __future__ import annotations

import itertools
import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner._errors import InputError
from planner.review.effect import (
    EffectParams,
    Panel,
    _design,
    _log_ratio,
    _pct,
    estimate_effect,
    mde_by_duration,
    panel_from_outcomes,
    panel_from_signals,
    placebo_check,
    precision_weights,
    randomization_p,
)

MONTHS = [date(2025, m, 1) for m in range(1, 13)]


def fit_ppml(counts: np.ndarray, treated: np.ndarray, n_before: int, weights: np.ndarray) -> float:
    """The log rate ratio of the two-way fixed-effects Poisson model with ward weights, fitted by
    statsmodels. ``_log_ratio`` is its closed form (tests hold them equal); the review uses the
    closed form because every re-assignment needs one."""
    import statsmodels.api as sm

    n_wards, n_periods = counts.shape
    ward = np.repeat(np.arange(n_wards), n_periods)
    period = np.tile(np.arange(n_periods), n_wards)
    columns = [np.ones(n_wards * n_periods), (treated[ward] & (period >= n_before)).astype(float)]
    columns += [(ward == i).astype(float) for i in range(1, n_wards)]
    columns += [(period == t).astype(float) for t in range(1, n_periods)]
    model = sm.GLM(counts.reshape(-1), np.column_stack(columns), family=sm.families.Poisson(),
                   var_weights=weights[ward])
    return float(model.fit(method="newton", maxiter=100, tol=1e-10).params[1])


def _panel(counts, *, areas=None, periods=None, outcome="registered") -> Panel:
    counts = np.asarray(counts, dtype=float)
    areas = areas or [f"W{i}" for i in range(len(counts))]
    periods = periods or MONTHS[: counts.shape[1]]
    frame = pd.DataFrame(counts, index=pd.Index(areas, name="area"), columns=periods)
    return Panel(counts=frame, period="month", outcome=outcome)


def _simulated(rng, *, wards=20, months=12, treated=8, effect=1.0, dispersion=0.05):
    """Counts with ward and month effects, ward-level overdispersion (gamma) and a true
    multiplicative effect on the treated wards after month 6."""
    size = rng.uniform(30, 400, wards)
    season = np.exp(0.15 * np.sin(np.arange(months) / 2))
    shock = rng.gamma(1 / dispersion, dispersion, (wards, months))
    mean = size[:, None] * season[None, :] * shock
    mean[:treated, months // 2:] *= effect
    return rng.poisson(mean)


def test_randomization_p_is_exact_on_a_tiny_panel():
    """With 6 wards and 2 treated every one of the C(6, 2) = 15 assignments is compared, each
    refitted by statsmodels: the p-value is the share at least as extreme as the real one."""
    counts = np.array([
        [20, 22, 8, 9], [30, 28, 14, 12],  # treated: clearly fewer after the split
        [25, 24, 23, 26], [40, 38, 41, 37], [15, 16, 14, 17], [33, 30, 31, 34],
    ], dtype=float)
    treated = np.array([True, True, False, False, False, False])
    before, after = counts[:, :2].sum(1), counts[:, 2:].sum(1)
    weights, _ = precision_weights(before, after)
    observed = fit_ppml(counts, treated, 2, weights)
    refitted = []
    for chosen in itertools.combinations(range(6), 2):
        mask = np.zeros(6, dtype=bool)
        mask[list(chosen)] = True
        refitted.append(fit_ppml(counts, mask, 2, weights))
    expected = np.mean(np.abs(refitted) >= abs(observed) - 1e-9)
    assert expected == pytest.approx(1 / 15)
    assert randomization_p(counts, treated, 2) == pytest.approx(expected)
    result = estimate_effect(_panel(counts), ["W0", "W1"], MONTHS[2])
    assert result.exact and result.assignments == 15
    assert result.p_value == pytest.approx(1 / 15) and result.smallest_p == pytest.approx(1 / 15)
    assert result.estimate < 0.5


def test_closed_form_equals_the_statsmodels_fit():
    """The collapsed weighted-PPML log rate ratio used for re-assignments equals the two-way
    fixed-effects Poisson fit with the same ward weights, also with ward trends carried forward
    (the fit is then on the trend-adjusted counts)."""
    rng = np.random.default_rng(4)
    counts = _simulated(rng, wards=9, months=8, treated=3, effect=0.8).astype(float)
    treated = np.arange(9) < 3
    before, after = counts[:, :4].sum(1), counts[:, 4:].sum(1)
    weights, tau2 = precision_weights(before, after)
    assert tau2 > 0 and weights.min() < 1
    closed = _log_ratio(treated[None, :], weights * before, weights * after)[0]
    assert closed == pytest.approx(fit_ppml(counts, treated, 4, weights), abs=1e-7)
    trending = _trending(np.random.default_rng(6))
    design = _design(trending, 6)
    assert design.trend != 0 and np.ptp(design.expected) > 0
    mask = np.arange(len(trending)) < 4
    closed = _log_ratio(mask[None, :], *design.weighted)[0]
    adjusted = trending.copy()
    adjusted[:, 6:] /= design.expected[:, None]  # the trend-adjusted counts the model is fitted to
    assert closed == pytest.approx(fit_ppml(adjusted, mask, 6, design.weights), abs=1e-7)


def _trending(rng, wards=12, months=12):
    """Counts whose wards keep their own (strong) trend across the split."""
    slope = rng.normal(0, 0.06, wards)
    mean = rng.uniform(80, 400, wards)[:, None] * np.exp(slope[:, None] * np.arange(months)[None, :])
    return rng.poisson(mean).astype(float)


def test_with_trends_the_exact_p_value_never_beats_the_number_of_assignments():
    """With ward trends carried forward the reported effect is still the statistic that is
    re-assigned: an exact test over C(7, 2) = 21 assignments never reports p below 1/21, and the
    reported estimate is the real assignment's re-assigned statistic."""
    rng = np.random.default_rng(12)
    for _ in range(10):
        counts = _trending(rng, wards=7)
        result = estimate_effect(_panel(counts), ["W0", "W1"], MONTHS[6])
        assert result.exact and result.assignments == 21
        assert result.p_value >= 1 / 21 - 1e-12
        design = _design(counts, 6)
        mask = np.arange(7) < 2
        assert math.log(result.estimate) == pytest.approx(_log_ratio(mask[None, :], *design.weighted)[0])


def test_known_effect_is_recovered_within_its_interval():
    """A simulated 30 % drop in 8 of 20 overdispersed wards lies inside the 95 % interval, the
    interval excludes 1 and the test rejects."""
    counts = _simulated(np.random.default_rng(7), effect=0.7)
    result = estimate_effect(_panel(counts), [f"W{i}" for i in range(8)], MONTHS[6])
    assert result.ci_low < 0.7 < result.ci_high
    assert result.ci_high < 1 and result.p_value <= 0.05 and result.significant
    assert not result.exact and result.assignments == 1000
    assert result.ci_low < result.estimate < result.ci_high


def test_no_effect_interval_covers_one_in_most_simulations():
    """Without a true effect the 95 % interval covers 1 (and p > 0.05) in about 95 % of
    simulated panels, not fewer: the interval inverts the same randomization test."""
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(40):
        counts = _simulated(rng, wards=10, months=8, treated=4)
        result = estimate_effect(_panel(counts), ["W0", "W1", "W2", "W3"], MONTHS[4],
                                 params=EffectParams(permutations=199))
        covered += result.ci_low <= 1 <= result.ci_high
        assert (result.p_value > 0.05) == (result.ci_low <= 1 <= result.ci_high)
    assert covered >= 35


def test_event_study_is_relative_to_the_last_period_before_the_split():
    """The event study has one row per period, relative −6 … 5, the reference (−1) at exactly
    1, and the treated drop visible after the split only."""
    counts = _simulated(np.random.default_rng(3), effect=0.6)
    study = estimate_effect(_panel(counts), [f"W{i}" for i in range(8)], MONTHS[6]).event_study
    assert list(study["relative"]) == list(range(-6, 6))
    reference = study[study["relative"] == -1].iloc[0]
    assert reference["estimate"] == pytest.approx(1) and reference["null_low"] == pytest.approx(1)
    assert (study.loc[study["relative"] >= 0, "estimate"] < 0.8).all()
    assert (study["null_low"] <= study["null_high"]).all()


def test_mde_shrinks_with_more_wards_and_longer_designs():
    """The minimum detectable effect is a share in (0, 1) that is smaller for a panel with more
    wards, and smaller for 6 + 6 months than for 2 + 2."""
    rng = np.random.default_rng(5)
    big = _simulated(rng, wards=30, months=24, treated=10)
    small = big[:8]
    wide = estimate_effect(_panel(big[:, :12]), [f"W{i}" for i in range(4)], MONTHS[6])
    narrow = estimate_effect(_panel(small[:, :12]), [f"W{i}" for i in range(4)], MONTHS[6])
    assert 0 < wide.mde < narrow.mde < 1
    by_length = dict(mde_by_duration(pd.DataFrame(big), 4, (2, 6), mde=wide.mde, spread=0.05))
    assert by_length[6] < by_length[2] < 1
    with_history = estimate_effect(_panel(big[:, :12]), [f"W{i}" for i in range(4)], MONTHS[6], durations=(3, 6),
                                   history=pd.DataFrame(big))
    # 6 + 6 months is this design's own length: the sentence states one figure for it, not two.
    assert dict(with_history.mde_by_duration)[6] == with_history.mde
    own = f"{with_history.mde * 100:.0f}%"
    assert with_history.mde_sentence("en").count(own) == 2 and "6 + 6 months: " + own in with_history.mde_sentence("en")
    assert "kleiner dan ongeveer" in wide.mde_sentence("nl") and "smaller than about" in wide.mde_sentence("en")


def test_placebo_check_on_null_data_stays_near_its_level():
    """On panels without any effect, the placebo check claims an effect in about 5 % of runs
    (at most 10 % of 200 here), and reports which data it used."""
    counts = _simulated(np.random.default_rng(9), wards=15, months=12, treated=5)
    panel = _panel(counts)
    check = placebo_check(panel, ["W0", "W1", "W2"], MONTHS[6], runs=200, params=EffectParams(permutations=199))
    assert check.runs == 200 and check.data == "before"
    assert check.false_positive_rate <= 0.10
    with pytest.raises(InputError, match="placebo runs"):
        placebo_check(panel, ["W0"], MONTHS[6], runs=0)


def test_too_few_wards_say_so():
    """With 4 wards and 1 treated the smallest p-value is 0.25: the verdict says the design
    cannot show an effect, whatever happened."""
    counts = np.array([[50, 50, 5, 5], [40, 41, 40, 39], [30, 33, 31, 30], [20, 21, 19, 22]])
    result = estimate_effect(_panel(counts), ["W0"], MONTHS[2])
    assert result.smallest_p == pytest.approx(0.25) and result.p_value == pytest.approx(0.25)
    assert "kan deze opzet geen effect aantonen" in result.verdict("nl")
    assert "cannot show an effect" in result.verdict("en")


@pytest.mark.parametrize(("treated", "split", "message"), [
    (["Nowhere"], MONTHS[6], "not in the data"),
    ([f"W{i}" for i in range(5)], MONTHS[6], "must stay untreated"),
    (["W0"], date(2024, 1, 1), "periods on both sides"),
    (["W0"], date(2026, 1, 1), "periods on both sides"),
])
def test_bad_designs_raise_one_line_errors(treated, split, message):
    """Unknown or all wards treated and a split outside the data raise an InputError naming it."""
    counts = _simulated(np.random.default_rng(1), wards=5, months=12, treated=0)
    with pytest.raises(InputError, match=message):
        estimate_effect(_panel(counts), treated, split)


def test_no_counts_on_one_side_is_an_error():
    """A treated group without counts before the split has no rate ratio: say so."""
    counts = np.array([[0, 0, 3, 4], [5, 6, 5, 6], [7, 8, 7, 9]])
    with pytest.raises(InputError, match="no counts before"):
        estimate_effect(_panel(counts), ["W0"], MONTHS[2])


def test_to_json_has_exactly_the_contract_keys():
    """``to_json()`` holds exactly the keys of the CLI contract, with ci95 as [lo, hi]."""
    counts = _simulated(np.random.default_rng(2), wards=8, months=6, treated=3)
    result = estimate_effect(_panel(counts), ["W0", "W1", "W2"], MONTHS[3], placebo=20)
    payload = result.to_json()
    assert set(payload) == {"estimate", "ci95", "p_value", "method", "wards", "treated", "periods", "mde",
                            "placebo"}
    assert payload["wards"] == 8 and payload["treated"] == 3 and payload["periods"] == 6
    assert payload["ci95"][0] <= payload["estimate"] <= payload["ci95"][1]
    assert set(payload["placebo"]) == {"runs", "false_positive_rate"} and payload["placebo"]["runs"] == 20


def test_panel_from_outcomes_picks_the_total_the_finest_period_and_ward_names():
    """Outcome rows become a ward × month panel: the total category when present (not summed
    with the others), month rows over year rows, the matched ward's name over the area code."""
    rows = pd.DataFrame({
        "area": ["WK01", "WK01", "WK01", "WK02", "WK02", "WK01"],
        "ward": ["Noord", "Noord", "Noord", None, None, "Noord"],
        "period_start": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1), date(2025, 2, 1),
                         date(2025, 1, 1)],
        "period": ["month", "month", "month", "month", "month", "year"],
        "category": ["total", "burglary", "total", "total", "total", "total"],
        "count": [10, 4, 12, 7, 8, 200],
        "source": ["politie"] * 6,
    })
    panel = panel_from_outcomes(rows)
    assert panel.areas == ["Noord", "WK02"] and panel.period == "month"
    assert panel.counts.loc["Noord"].tolist() == [10, 12]
    assert any("year" in n for n in panel.notes)
    burglary = panel_from_outcomes(rows, category="Burglary")
    assert burglary.counts.loc["Noord", date(2025, 1, 1)] == 4
    with pytest.raises(InputError, match="no counts of category"):
        panel_from_outcomes(rows, category="arson")


def test_window_leaves_out_areas_with_missing_periods():
    """A police table's missing cell is not a zero: the area is left out with a note."""
    counts = pd.DataFrame([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]], index=pd.Index(["A", "B"], name="area"),
                          columns=MONTHS[:3])
    window = Panel(counts=counts, period="month", outcome="registered").window(MONTHS[0], MONTHS[3])
    assert window.areas == ["A"] and "B" in window.notes[-1]
    assert window.window(MONTHS[1]).periods == MONTHS[1:3]


def test_panel_from_signals_leaves_out_patrol_finds():
    """Signals become counts per ward and whole month (local time); those found on patrol and
    those outside whole months are not counted."""
    stamps = pd.to_datetime(["2025-01-10 12:00", "2025-01-31 23:30", "2025-02-03 10:00", "2025-02-04 10:00",
                             "2025-03-15 10:00"]).tz_localize("Europe/Amsterdam").tz_convert("UTC")
    incidents = pd.DataFrame({"occurred_from": stamps, "ward": ["A", "A", "A", "B", "A"],
                              "on_patrol": [False, False, True, False, False]})
    panel = panel_from_signals(incidents, ["A", "B", "C"], start=date(2025, 1, 1), end=date(2025, 3, 10))
    assert panel.periods == [date(2025, 1, 1), date(2025, 2, 1)]
    earlier = panel_from_signals(incidents, ["A", "B", "C"], start=date(2024, 10, 1), end=date(2025, 3, 10))
    assert earlier.periods == panel.periods and "start in the month of 2025-01-01" in earlier.notes[-1]
    assert panel.counts.loc["A"].tolist() == [2, 0] and panel.counts.loc["B"].tolist() == [0, 1]
    assert panel.counts.loc["C"].tolist() == [0, 0] and panel.outcome == "signals"


def test_effect_on_the_demo_store_with_treated_auto(demo_season):
    """On the demo's season, the wards whose patrol hours rose are found in the patrol log and
    the signals review runs, with hours per week in the table and the signals caveat."""
    from planner.review.effect import effect_for

    store, _ = demo_season
    result = effect_for(store, split=date(2026, 10, 1), start=date(2026, 4, 1), end=date(2026, 11, 25),
                        today=date(2026, 11, 25), params=EffectParams(permutations=199))
    assert result.outcome == "signals" and result.treated >= 1 and result.wards == 4
    assert result.periods == 7  # April … October: November has not ended
    assert {"hours_per_week_before", "hours_per_week_after"} <= set(result.table.columns)
    treated = result.table[result.table["treated"]]
    assert (treated["hours_per_week_after"] > treated["hours_per_week_before"]).all()
    assert "Signalen zijn een zwakke maatstaf" in result.caveat("nl")


def test_cli_effect_json_on_a_panel_file(tmp_path, data_dir):
    """``effect --panel FILE --treated … --json`` prints exactly the contract object, and bad
    options give one line and exit 2."""
    from planner.cli import app

    rng = np.random.default_rng(0)
    counts = _simulated(rng, wards=9, months=12, treated=3, effect=0.7)
    rows = [{"area": f"Area {i}", "period": f"2025-{m + 1:02d}", "count": int(counts[i, m])}
            for i in range(9) for m in range(12)]
    path = tmp_path / "panel.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    runner = CliRunner()
    base = ["--data-dir", str(data_dir), "effect", "--panel", str(path), "--split", "2025-07"]
    out = runner.invoke(app, [*base, "--treated", "Area 0,Area 1,Area 2", "--placebo", "30", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert set(payload) == {"estimate", "ci95", "p_value", "method", "wards", "treated", "periods", "mde",
                            "placebo"}
    assert payload["wards"] == 9 and payload["treated"] == 3 and payload["periods"] == 12
    assert payload["placebo"]["runs"] == 30
    for extra, message in ((["--treated", "Nowhere"], "not in the data"), ([], "--treated"),
                           (["--treated", "Area 0", "--split", "2025-13"], "--split")):
        bad = runner.invoke(app, [*base, *extra])
        assert bad.exit_code == 2 and message in bad.output and "Traceback" not in bad.output


def test_an_unbounded_interval_is_said_and_null_in_json():
    """With 4 wards and 2 treated no effect is ever rejected: the interval is unbounded (null in
    JSON, 'onbegrensd' in words) and the MDE says no change can be told from chance."""
    counts = np.array([[50, 52, 20, 21], [40, 41, 18, 19], [30, 33, 31, 30], [20, 21, 19, 22]])
    result = estimate_effect(_panel(counts), ["W0", "W1"], MONTHS[2])
    assert result.to_json()["ci95"] == [None, None]
    assert "onbegrensd" in result.verdict("nl") and "unbounded" in result.verdict("en")
    assert result.mde == 1.0 and "geen enkele verandering" in result.mde_sentence("nl")
    json.dumps(result.to_json(), allow_nan=False)


def test_a_split_outside_the_stored_panel_is_named(store, tmp_path):
    """Registered counts that end before the split are refused with the data's range, not a
    misleading word about the patrol log."""
    from planner.review.effect import effect_for
    from planner.signals.outcomes import import_outcomes

    path = tmp_path / "counts.csv"
    path.write_text("area,period,count\nA,2021-01,5\nB,2021-01,6\nC,2021-01,7\nA,2021-02,5\nB,2021-02,6\n"
                    "C,2021-02,8\n", encoding="utf-8")
    import_outcomes(store, path, rejects_dir=tmp_path)
    with pytest.raises(InputError, match="the data runs from 2021-01-01 to 2021-02-01"):
        effect_for(store, split=date(2026, 10, 1), today=date(2026, 12, 1))


def test_dose_effect_recovers_a_known_rate_per_ten_hours():
    """Counts falling 30 % per 10 person-hours a week (exp(−0.036 × 10)) are recovered inside the
    interval, significantly; with the dose unrelated to the counts the test does not reject."""
    from planner.review.effect import estimate_dose_effect

    rng = np.random.default_rng(8)
    wards, months = 12, 12
    hours = rng.uniform(0, 20, (wards, months))
    base = rng.uniform(50, 300, wards)[:, None] * np.exp(0.1 * np.sin(np.arange(months)))[None, :]
    counts = rng.poisson(base * np.exp(-0.036 * hours))
    dose = pd.DataFrame(hours, index=[f"W{i}" for i in range(wards)], columns=MONTHS)
    result = estimate_dose_effect(_panel(counts), dose, params=EffectParams(permutations=199))
    truth = math.exp(-0.36)
    assert result.ci_low < truth < result.ci_high and result.p_value <= 0.05
    assert not result.exact and result.assignments == 200 and result.treated == wards
    assert set(result.to_json()) == {"estimate", "ci95", "p_value", "method", "wards", "treated", "periods", "mde",
                                     "placebo"}
    unrelated = rng.poisson(base)
    assert estimate_dose_effect(_panel(unrelated), dose, params=EffectParams(permutations=199)).p_value > 0.05
    assert "persoonsuren surveillance per week" in result.verdict("nl")


def test_cli_dose_on_the_demo_season(demo_season):
    """``effect --dose --outcome signals`` reads the patrol log per month and prints the contract
    object; --dose with --placebo is refused in one line."""
    from planner.cli import app

    _, directory = demo_season
    runner = CliRunner()
    base = ["--data-dir", str(directory), "effect", "--dose", "--outcome", "signals", "--from", "2026-05",
            "--to", "2026-10"]
    out = runner.invoke(app, [*base, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["wards"] == 4 and payload["periods"] == 6 and payload["placebo"] is None
    bad = runner.invoke(app, [*base, "--placebo", "10"])
    assert bad.exit_code == 2 and "--placebo goes with" in bad.output


def test_a_dose_that_moves_the_same_way_everywhere_is_refused():
    """Patrol hours that rise and fall alike in every ward are the period effects themselves:
    the dose review says so instead of printing a singular fit."""
    from planner.review.effect import estimate_dose_effect

    counts = _simulated(np.random.default_rng(3), wards=5, months=6, treated=0)
    same = pd.DataFrame(np.tile(np.arange(6.0), (5, 1)), index=[f"W{i}" for i in range(5)], columns=MONTHS[:6])
    with pytest.raises(InputError, match="rise and fall differently"):
        estimate_dose_effect(_panel(counts), same)


def test_the_default_outcome_is_registered_crime_of_the_loaded_wards(store, tmp_path, two_wards):
    """Counts of areas that are none of the loaded wards do not make registered crime the
    default; counts of a loaded ward do, and so do any counts while no ward is loaded."""
    from planner.review.effect import default_outcome
    from planner.signals.outcomes import import_outcomes

    assert default_outcome(store) == "signals"
    other = tmp_path / "other.csv"
    other.write_text("area,period,count\nElsewhere,2021-01,5\n", encoding="utf-8")
    import_outcomes(store, other, rejects_dir=tmp_path)
    assert default_outcome(store) == "registered"  # no ward loaded: the areas are the units
    store.save_wards(two_wards)
    assert default_outcome(store) == "signals"
    mine = tmp_path / "mine.csv"
    mine.write_text(f"area,period,count\n{two_wards['name'].iloc[0]},2021-01,5\n", encoding="utf-8")
    import_outcomes(store, mine, rejects_dir=tmp_path)
    assert default_outcome(store) == "registered"


@pytest.mark.parametrize(("value", "language", "text"),
                         [(-0.3, "nl", "0%"), (0.4, "en", "0%"), (-12.4, "nl", "−12%"), (12.6, "en", "+13%")])
def test_a_change_that_rounds_to_nothing_reads_0_percent(value, language, text):
    """The verdict never says a ward changed by "−0%": what rounds to nothing is 0%."""
    assert _pct(value, language) == text
