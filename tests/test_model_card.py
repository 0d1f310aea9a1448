"""Tests for planner/review/modelcard.py and the trust fields on the demo town: model card with the
installation's own backtest, DPIA template, route stops that say why, and the CLI commands."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.hotspots.evaluate import METHODS, BacktestResult, backtest
from planner.hotspots.tuning import fit_key
from planner.review.modelcard import (
    MIN_TEST,
    backtest_split,
    dpia,
    gain_lines,
    model_card,
    model_card_html,
    recent_backtests,
    recent_lines,
    recent_street_backtests,
    storage_description,
)
from planner.storage.store import open_store


@pytest.fixture(scope="module")
def demo(demo_copy):
    """The demo town for this module: its store, data directory and the CLI's global options."""
    url = f"sqlite:///{demo_copy / 'was.db'}"
    return open_store(url), demo_copy, ["--data-dir", str(demo_copy), "--db", url]


def _cli(args: list[str]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


def test_model_card_holds_the_current_backtest_figures(demo):
    """Every hit rate and PAI of a backtest computed here on the store's signals is in the card."""
    store = demo[0]
    incidents = store.incidents()
    expected = backtest(incidents, split=backtest_split(incidents), wards=store.wards())
    card = model_card(store)
    assert f"Getraind op de {expected.n_train} signalen" in card and f"de {expected.n_test} signalen" in card
    for method in METHODS:
        row = next(line for line in card.splitlines() if line.startswith("| ") and method_label(method) in line)
        cells = [c.strip() for c in row.strip("|").split("|")[1:]]
        assert cells == [f"{v:.3f}".replace(".", ",") for v in expected.methods[method].values()]
    assert f"KDE {expected.bandwidths_m['kde_cv']:g} m, gekozen door kruisvalidatie" in card
    english = model_card(store, language="en")
    assert f"{expected.methods['planner']['pai@5']:.3f}" in english


def test_model_card_holds_the_hot_streets_backtest_per_km_of_street(demo, tmp_path):
    """The card's recent periods per km of street on the ward graphs: the planner's mean PAI and the
    best baseline's, from street backtests at the cell backtests' splits; none without ward graphs."""
    from planner.hotspots.evaluate import METHODS

    store, data, options = demo
    recent, _ = recent_backtests(store)
    streets = recent_street_backtests(store, recent, data_dir=data)
    assert streets and all(s.n_test >= MIN_TEST for s in streets)
    assert [s.split for s in streets] == [r.split for r in recent if r.split in {s.split for s in streets}]
    section = model_card(store, language="en", data_dir=data).split("**Hot streets**")[1]
    assert f"({sum(s.n_test for s in streets)} test signals within 50 m of a street together)" in section
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| ")}
    for c in ("1", "5", "10"):
        means = {m: sum(s.methods[m][f"pai@{c}"] for s in streets) / len(streets) for m in METHODS}
        best = max(METHODS[1:], key=means.get)
        assert f"{means['planner']:.2f}" in rows["WAS Planner"]
        assert f"{means[best]:.2f} ({best})" in rows["best baseline"]
    assert "**Hot streets**" not in model_card(store, language="en", data_dir=tmp_path)
    assert "**Hotstraten**" in _cli([*options, "model-card"]).output


def method_label(method: str) -> str:
    """A part of a method's row label in the Dutch card that no other row has."""
    return {"planner": "WAS Planner |", "naive_all": "hele trainingsperiode", "naive_4w": "laatste 4 weken",
            "kde_cv": "door kruisvalidatie (", "kde_50m": "KDE 50 m (", "kde_100m": "KDE 100 m (",
            "kde_200m": "KDE 200 m (", "kde_scott": "Scott"}[method]


def test_model_card_sections_settings_and_contact(demo, monkeypatch):
    """The card has the register's sections and reads contact, k and retention from the settings."""
    monkeypatch.setenv("WAS_CONTACT", "veiligheid@demostad.example")
    monkeypatch.setenv("WAS_RETENTION", "18m")
    card = model_card(demo[0])
    for heading in ("## Naam en doel", "## Gebruikers", "## Gegevens", "## Werking", "## Bekende beperkingen",
                    "## Privacy", "## Contact"):
        assert heading in card
    assert "veiligheid@demostad.example" in card and "na 18 maanden" in card and "minstens 5 signalen" in card
    assert "after 18 months" in model_card(demo[0], language="en")
    assert "KDE" in card and "naïef" in card and "Geen oorzakelijke claim" in card
    page = model_card_html(demo[0])
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and "<h2>Privacy</h2>" in page


def test_model_card_says_when_there_is_too_little_data(store):
    """An empty installation gets no figures but a reason."""
    card = model_card(store)
    assert "Nog geen cijfers: er zijn nog geen signalen opgeslagen." in card
    english = model_card(store, language="en")
    assert "No figures yet: no signals are stored yet." in english



def test_one_ward_with_one_signal_is_said_in_the_singular(store, two_wards, tmp_path):
    """A WAS team of one ward reads "1 signal in 1 ward" ("1 signaal in 1 wijk"), not "1 wards"."""
    from planner.signals.intake import import_file
    from planner.signals.wards import store_wards

    store_wards(store, two_wards.iloc[:1])
    signals = tmp_path / "signalen.csv"
    signals.write_text("datum;tijd;categorie;x;y\n20-11-2026;21:00;inbraak;91500;452500\n", encoding="utf-8")
    assert import_file(store, signals, rejects_dir=tmp_path).imported == 1
    assert "holds 1 signal in 1 ward" in model_card(store, language="en")
    assert "bevat 1 signaal in 1 wijk" in model_card(store)
    store_wards(store, two_wards)
    assert "holds 1 signal in 2 wards" in model_card(store, language="en")

def test_the_english_card_says_everything_in_english(monkeypatch, store):
    """Without WAS_CONTACT each card asks for it in its own language, and the sources' names follow
    the language (the English card used to carry Dutch sentences)."""
    monkeypatch.delenv("WAS_CONTACT", raising=False)
    english, dutch = model_card(store, language="en"), model_card(store)
    assert "the municipality (set WAS_CONTACT" in english and "de gemeente (stel WAS_CONTACT" not in english
    assert "de gemeente (stel WAS_CONTACT" in dutch


def test_model_card_and_dpia_cli_write_md_and_html(demo, tmp_path):
    """model-card --out writes Markdown or HTML by suffix; dpia --out writes the template."""
    options = demo[2]
    _cli([*options, "model-card", "--out", str(tmp_path / "card.md")])
    _cli([*options, "model-card", "--out", str(tmp_path / "card.html")])
    _cli([*options, "dpia", "--out", str(tmp_path / "dpia.md")])
    assert (tmp_path / "card.md").read_text(encoding="utf-8").startswith("# WAS Planner")
    assert "<table>" in (tmp_path / "card.html").read_text(encoding="utf-8")
    assert "Bewaartermijn" in (tmp_path / "dpia.md").read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, [*options, "model-card", "--out", str(tmp_path / "card.pdf")])
    assert bad.exit_code == 2 and ".md or .html" in bad.output


def test_dpia_is_filled_with_the_installations_settings(store, data_dir, monkeypatch):
    """The DPIA names the retention period, k, accounts per role and the SQLite file."""
    from planner.users import add_user

    monkeypatch.setenv("WAS_RETENTION", "3y")
    add_user(store, "agent1", role="officer", password="een lang wachtwoord")
    text = dpia(store)
    assert "Bewaartermijn: 3 jaar" in text and "k = 5" in text
    assert "- officer: 1 actieve account(s)" in text and "- resident: 0 actieve account(s)" in text
    assert str(data_dir / "was.db") in text


def test_storage_description_never_shows_a_password():
    """A PostgreSQL URL is described by host, port, database and user, without the password."""
    text = storage_description("postgresql+psycopg://was:geheim@db.gemeente.nl:5432/was")
    assert "db.gemeente.nl:5432" in text and "was" in text and "geheim" not in text


def test_route_stops_say_why_and_the_left_out_target_why_not(demo):
    """route --json: each stop's share and explanation; shares add up; left_out names a reason."""
    payload = json.loads(_cli([*demo[2], "route", "--ward", "Vogelwijk", "--minutes", "45", "--json"]).stdout)
    stops = [stop for team in payload["teams"] for stop in team["stops"]]
    assert stops
    for stop in stops:
        assert stop["explanation"].startswith(f"{round(stop['share'] * 100)} % van de verzamelde score")
        assert stop["explanation_en"]
    assert math.fsum(s["share"] for s in stops) <= 1 + 1e-3
    left = payload["left_out"]
    assert left is not None and left["reason"] in {"budget", "distance", "unreachable", "not_chosen"}
    assert left["name"] in left["explanation"] and left["name"] not in {s["name"] for s in stops}


def test_hotspots_json_carries_explanations(demo):
    """hotspots --json has explanation, explanation_en and score_parts that add up, for both audiences."""
    for audience in ("public", "officer"):
        result = _cli([*demo[2], "hotspots", "--ward", "Vogelwijk", "--audience", audience, "--json"])
        hotspots = json.loads(result.stdout)["hotspots"]
        assert hotspots
        for item in hotspots:
            assert item["explanation"] and item["explanation_en"]
            assert math.fsum(item["score_parts"].values()) == pytest.approx(item["score"], rel=1e-9)


def test_backtest_with_and_without_patrol_signals(demo):
    """Without patrol-found signals the training set loses exactly those; the test set stays the same."""
    from planner.hotspots.evaluate import backtest_patrol_signals

    store = demo[0]
    incidents = store.incidents()
    incidents["on_patrol"] = incidents["id"] % 5 == 0
    split = backtest_split(incidents)
    results = backtest_patrol_signals(incidents, split=split, wards=store.wards())
    before = pd.to_datetime(incidents["occurred_to"], utc=True) <= split
    assert results["with"].n_train - results["without"].n_train == int((before & incidents["on_patrol"]).sum())
    assert results["with"].n_test == results["without"].n_test


def test_model_card_says_what_the_calibration_chose_and_what_it_gained(demo):
    """The kept choice is described (and drives the method text); the gain table holds the ratio per baseline."""
    store = demo[0]
    fingerprint = fit_key(store)
    choice = {"bandwidth_m": 0.0, "half_life_days": 90.0, "blend": 0.5, "near_repeat": False, "recency_floor": 0.25,
              "fallback": False, "reason": "", "candidates": 61, "folds": 4, "fold_test_signals": 77, "seconds": 1.0}
    store.save_calibration(fingerprint, choice)
    card = model_card(store, language="en")
    assert "Chosen from 61 candidates on 4 periods (77 test signals)" in card
    assert "recency half-life: 90 days" in card and "count per 100 m cell" in card
    assert "halves every 90 days; a share of 0.25 never fades" in card
    assert "near repeat is off" in card
    assert "- time of day of a round's window: the window's own hours and weekday" in card
    assert "- resolved signals do not count (the rule, not measured: no signal was known to be resolved" in card
    store.save_calibration(fingerprint, choice | {"resolved_measured": True})
    assert "\n- resolved signals do not count\n" in model_card(store, language="en")
    timed = {"time": {"smoothing_hours": 3.0, "other_days": 0.3, "other_hours": 0.1}}
    store.save_calibration(fingerprint, choice | timed)
    assert ("- tijd van de dag van het venster van een ronde: de uren van het venster en 3 uur eromheen; dezelfde "
            "uren op andere weekdagen tellen 0,3, andere tijden van de dag 0,1") in model_card(store)
    store.save_calibration(fingerprint, choice | {"time": {"smoothing_hours": 1.0, "other_days": 0.0,
                                                            "other_hours": 1.0}})
    assert "- time of day of a round's window: every time of day alike" in model_card(store, language="en")
    store.save_calibration(fingerprint, choice)
    result = backtest(store.incidents(), split=backtest_split(store.incidents()), wards=store.wards())
    ours, theirs = result.methods["planner"]["pai@5"], result.methods["naive_all"]["pai@5"]
    row = next(line for line in card.splitlines() if line.startswith("| naive_all |"))
    assert f"{ours / theirs:.2f}" in row.split("|")[3]
    pai = result.methods
    assert ("Loses to no baseline." in card) == all(
        pai["planner"][f"pai@{c}"] >= pai[m][f"pai@{c}"] for m in METHODS[1:] for c in ("1", "5", "10"))
    prior = {"bandwidth_m": 100.0, "half_life_days": 30.0, "blend": 1.0, "near_repeat": True, "recency_floor": 0.0}
    store.save_calibration(fingerprint, choice | prior | {"fallback": True, "reason": "150 training signals < 200"})
    dutch = model_card(store)
    assert "Te weinig geschiedenis om af te stemmen** (150 trainingssignalen < 200)" in dutch
    assert "Too little history to calibrate** (150 training signals < 200)" in model_card(store, language="en")
    assert "halveert elke 30 dagen)" in dutch and "+ near-repeat" in dutch


def test_model_card_says_in_its_language_how_the_hot_streets_were_chosen(demo):
    """The kept hot-streets choice is written out in the card's language: the kernel (a walk or a
    straight line), the blend, recency and resolved signals; a fallback names the defaults and why."""
    from planner.hotspots.street_calibration import StreetCalibration, StreetSurfaceParams

    store = demo[0]
    fingerprint = fit_key(store)
    cell = {"bandwidth_m": 0.0, "half_life_days": 90.0, "blend": 0.5, "near_repeat": False, "recency_floor": 0.25,
            "fallback": False, "reason": "", "candidates": 61, "folds": 4, "fold_test_signals": 77, "seconds": 1.0}

    def card_with(chosen: StreetSurfaceParams, *, reason: str = "", language: str = "nl", measured=True) -> str:
        streets = StreetCalibration(chosen=chosen, fallback=bool(reason), reason=reason, n_candidates=242,
                                    n_folds=16, fold_test_signals=71, seconds=0.5, resolved_measured=measured).to_json()
        store.save_calibration(fingerprint, cell | {"streets": streets | {"graphs": ""}})
        return next(line for line in model_card(store, language=language).splitlines() if "per km" in line)

    planar = card_with(StreetSurfaceParams(50.0, 0.25, 90.0, 1.0, "planar"))
    assert planar == ("- hotstraten (per km straat): 0,75 van het gewicht op de eigen signalen van de straat per km, "
                      "0,25 op de signalen in de buurt binnen ongeveer 50 m in rechte lijn (recentheid halveert elke "
                      "90 dagen); opgeloste signalen tellen mee; gekozen uit 242 kandidaten op 16 perioden, die "
                      "van elke wijk apart geteld (71 toetssignalen)")
    walked = card_with(StreetSurfaceParams(300.0, 1.0, math.inf), language="en")
    assert "1.00 on the signals nearby within a 300 m walk (all history weighs alike)" in walked
    assert "; resolved signals do not count; chosen" in walked and "planar" not in walked
    rule = card_with(StreetSurfaceParams(300.0, 1.0, math.inf), language="en", measured=False)
    assert "; resolved signals do not count (the rule, not measured: no signal was known to be resolved" in rule
    counts = card_with(StreetSurfaceParams(0.0, 0.0, None, 1.0), language="en")
    assert ": the street's own signals per km; resolved signals count;" in counts
    fallback = card_with(StreetSurfaceParams(), reason="150 training signals < 200")
    assert fallback == ("- hotstraten (per km straat): de standaardwaarden (half de signalen per km, half de signalen "
                        "binnen 150 m lopen): 150 trainingssignalen < 200")
    short = card_with(StreetSurfaceParams(), reason="6.8 days of history < 7")
    assert short.endswith("lopen): 6,8 dagen geschiedenis < 7")
    assert card_with(StreetSurfaceParams(), reason="no street graph", language="en").endswith(": no street graph")


def _result(pai: dict[str, float], n_test: int = 12) -> BacktestResult:
    """A backtest result with the same PAI at every coverage per method."""
    methods = {m: {f"{kind}@{c}": value * (c / 100 if kind == "hit_rate" else 1) for kind in ("hit_rate", "pai")
                   for c in (1, 5, 10)} for m, value in pai.items()}
    return BacktestResult(methods=methods, n_train=100, n_test=n_test, n_cells=200,
                          split=pd.Timestamp("2026-11-01", tz="UTC"), crs="EPSG:28992")


def test_nothing_caught_is_no_infinite_gain():
    """0 ÷ 0 is a dash, not ∞, and a week in which no method caught anything claims no win;
    a real zero under the planner's catch is still ∞."""
    nothing = gain_lines(_result(dict.fromkeys(METHODS, 0.0)), language="en")
    assert all(line.endswith("| – | – | – |") for line in nothing if line.startswith("| kde_cv"))
    assert "Loses to no baseline." not in nothing and any("there is no gain to measure" in x for x in nothing)
    ours = gain_lines(_result({**dict.fromkeys(METHODS, 0.0), "planner": 2.0}), language="en")
    assert "| naive_all | ∞ | ∞ | ∞ |" in ours and "Loses to no baseline." in ours


def test_a_thin_week_is_passed_over_and_the_summary_says_so(demo, monkeypatch):
    """A week with too few test signals between qualifying ones no longer ends the summary: the
    card sums up the others and says how many of the last four they are."""
    from collections import OrderedDict

    from planner.review import modelcard

    store = demo[0]
    real = modelcard._backtest_at
    thin = backtest_split(store.incidents()) - pd.Timedelta(days=7)

    def thin_second_week(incidents, split, wards):
        if split == thin:
            return None, (modelcard.THIN_BACKTEST, {"n_train": 800, "min_train": 50, "n_test": 8, "min_test": 10})
        return real(incidents, split, wards)

    monkeypatch.setattr(modelcard, "_backtest_at", thin_second_week)
    monkeypatch.setattr(modelcard, "_RECENT", OrderedDict())
    results, reason = modelcard.recent_backtests(store)
    assert len(results) == 3 and thin not in [r.split for r in results] and reason == ""
    lines = recent_lines(results, language="en")
    assert lines[0].startswith("3 of the last 4 periods of 7 days (the others held too few signals), each")
    assert "3 van de laatste 4 perioden" in recent_lines(results)[0]


def test_the_card_s_latest_period_holds_the_latest_signal(demo):
    """The test period ends a minute after the latest signal: it used to end at it, and the period
    is open at its end, so the newest signal was in neither training nor test."""
    incidents = demo[0].incidents()
    start = pd.to_datetime(incidents["occurred_from"], utc=True)
    split = backtest_split(incidents)
    in_test = (start >= split) & (start < split + pd.Timedelta(days=7))
    assert in_test.sum() == (start >= split).sum() > 0


def test_the_card_s_periods_are_local_weeks_across_the_clock_change():
    """Three days after the clocks went back, the latest period still starts on the local minute a
    week before it ends (the week holds 169 hours), so it ends a minute after the latest signal."""
    from planner._time import after_local_days, local_minute

    latest = pd.Timestamp("2026-10-28 20:00", tz="Europe/Amsterdam")
    split = backtest_split(pd.DataFrame({"occurred_to": [latest - pd.Timedelta(days=3), latest]}))
    assert local_minute(split) == "2026-10-21 20:01"
    assert after_local_days(split, 7) == latest + pd.Timedelta(minutes=1)
    for repeated in ("2026-10-25 00:30", "2026-10-25 01:30"):  # 02:30 local, in either pass of the hour
        moment = pd.Timestamp(repeated, tz="UTC")
        assert after_local_days(backtest_split(pd.DataFrame({"occurred_to": [moment]})), 7) > moment


def test_model_card_sums_up_the_recent_periods_each_forecast_from_before_it(demo):
    """The summary's means and wins are those of backtests at the last four weekly splits, computed here."""
    import statistics

    from planner.review.modelcard import recent_backtests

    store = demo[0]
    incidents = store.incidents()
    latest = backtest_split(incidents)
    splits = [latest - pd.Timedelta(days=7 * k) for k in range(4)]
    expected = [backtest(incidents, split=s, wards=store.wards()) for s in splits]
    results, reason = recent_backtests(store)
    assert reason == "" and [r.split for r in results] == splits
    card = model_card(store, language="en")
    n_test = sum(r.n_test for r in expected)
    assert f"The last 4 periods of 7 days, each forecast from only the signals before it ({n_test} test" in card
    row = next(line for line in card.splitlines() if line.startswith("| WAS Planner | ") and line.count("|") == 5)
    assert row == "| WAS Planner | " + " | ".join(
        f"{statistics.mean(r.methods['planner'][f'pai@{c}'] for r in expected):.2f}" for c in ("1", "5", "10")) + " |"
    wins = next(line for line in card.splitlines() if line.startswith("| periods WAS Planner beat every baseline"))
    beat = [sum(r.methods["planner"][f"pai@{c}"] > max(r.methods[m][f"pai@{c}"] for m in METHODS[1:])
                for r in expected) for c in ("1", "5", "10")]
    assert wins.endswith(" | ".join(f"{b}/4" for b in beat) + " |")
    assert len(recent_backtests(store, periods=1)[0]) == 1


def test_the_card_in_each_language_and_as_html_is_made_from_one_set_of_backtests(demo, monkeypatch):
    """The card re-computes its backtests only when a signal or a ward changes, not per language or format."""
    from collections import OrderedDict

    from planner.review import modelcard

    splits = []
    real = modelcard.backtest
    monkeypatch.setattr(modelcard, "backtest", lambda *args, **kw: splits.append(kw["split"]) or real(*args, **kw))
    monkeypatch.setattr(modelcard, "_RECENT", OrderedDict())
    store = demo[0]
    model_card(store)
    made = len(splits)
    assert made >= 1
    model_card(store, language="en")
    model_card_html(store)
    assert len(splits) == made
    recent_backtests = modelcard.recent_backtests(store, periods=1)[0]
    assert len(splits) == made + 1 and len(recent_backtests) == 1


def test_the_backtests_key_changes_with_any_value_of_a_signal_or_a_ward(demo):
    from planner.review.modelcard import _content_digest

    store = demo[0]
    incidents, wards = store.incidents(), store.wards()
    digest = _content_digest(incidents, wards)
    assert _content_digest(incidents.copy(), wards.copy()) == digest
    moved = incidents.copy()
    moved.loc[moved.index[0], "lat"] += 1e-7  # about 1 cm
    relabelled = incidents.copy()
    relabelled.loc[relabelled.index[-1], "category"] = "vandalisme" if relabelled["category"].iloc[-1] != "vandalisme" \
        else "inbraak"
    shrunk = wards.copy()
    shrunk.loc[shrunk.index[0], "geometry"] = shrunk.geometry.iloc[0].buffer(-1e-6)
    assert len({digest, _content_digest(moved, wards), _content_digest(relabelled, wards),
                _content_digest(incidents, shrunk)}) == 4
