"""Tests for planner/review/coverage.py and planner/review/report.py: metrics with hand-made patrols and known
answers, the demo season, the CLI contract and the report files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from planner import _time
from planner._errors import InputError
from planner._geo import transformer
from planner.cli import app
from planner.patrols import PatrolRecord, WalkedStop
from planner.review.coverage import CoverageParams, WardContext, coverage_over_time, ward_coverage, ward_streets

X0, Y0 = 91_000.0, 452_000.0
END = datetime(2026, 11, 23, tzinfo=UTC)
START = END - timedelta(weeks=4)


@pytest.fixture
def square() -> nx.MultiDiGraph:
    """Four 100 m streets around a block (1-2-3-4-1), both directions, in RD New."""
    graph = nx.MultiDiGraph(crs="EPSG:28992")
    corners = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100)}
    for node, (x, y) in corners.items():
        graph.add_node(node, x=X0 + x, y=Y0 + y)
    for u, v in ((1, 2), (2, 3), (3, 4), (4, 1)):
        for a, b in ((u, v), (v, u)):
            graph.add_edge(a, b, length=100.0, walk_time=80.0)
    return graph


def _patrol(edges, *, start: datetime, hours: float = 1.5, team: int = 3, stops=(), status: str = "walked",
            pid: int = 1) -> PatrolRecord:
    return PatrolRecord(
        id=pid, ward="West", status=status, planned_start=start, planned_end=start + timedelta(hours=hours),
        actual_start=start, actual_end=start + timedelta(hours=hours), team_size=team,
        length_m=100.0 * len(edges), edges=frozenset(edges), stops=tuple(stops),
    )


def _hotspots(*centres_scores) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(range(1, len(centres_scores) + 1)), "score": [s for _, s in centres_scores]},
        geometry=[shapely.Point(X0 + x, Y0 + y).buffer(5) for (x, y), _ in centres_scores], crs="EPSG:28992",
    )


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return transformer("EPSG:28992", "EPSG:4326").transform(X0 + x, Y0 + y)


def test_two_of_four_streets_walked_is_half(square):
    """A patrol walking exactly 2 of the 4 equal streets covers half the street length."""
    patrol = _patrol({(1, 2), (3, 2)}, start=START + timedelta(days=3))
    result = ward_coverage([patrol], ward_streets(square), start=START, end=END)
    assert result.street_share_walked == pytest.approx(0.5)
    assert result.patrols == 1 and result.km == pytest.approx(0.2)


def test_person_hours_are_team_size_times_walked_hours(square):
    """Person-hours add team size × walked hours; planned and cancelled patrols count for nothing."""
    patrols = [
        _patrol({(1, 2)}, start=START + timedelta(days=1), hours=1.5, team=3, pid=1),
        _patrol({(2, 3)}, start=START + timedelta(days=2), hours=2.0, team=2, pid=2),
        _patrol({(3, 4)}, start=START + timedelta(days=3), hours=9.0, team=4, status="planned", pid=3),
        _patrol({(4, 1)}, start=START + timedelta(days=4), hours=9.0, team=4, status="cancelled", pid=4),
    ]
    result = ward_coverage(patrols, ward_streets(square), start=START, end=END)
    assert result.person_hours == pytest.approx(3 * 1.5 + 2 * 2.0)
    assert result.patrols == 2 and result.street_share_walked == pytest.approx(0.5)


def test_hotspot_within_50_m_of_the_walked_path_counts_as_visited(square):
    """A hotspot 35 m from a walked street is visited, one 195 m away is not: share = its score share."""
    hotspots = _hotspots(((50, -40), 3.0), ((50, 300), 1.0))
    patrol = _patrol({(1, 2)}, start=START + timedelta(days=1))
    result = ward_coverage([patrol], ward_streets(square), start=START, end=END, hotspots=hotspots)
    assert result.hotspots_visited == (1,)
    assert result.hotspot_share_visited == pytest.approx(0.75)
    narrow = ward_coverage([patrol], ward_streets(square), start=START, end=END, hotspots=hotspots,
                           params=CoverageParams(visit_m=30))
    assert narrow.hotspot_share_visited == 0


def test_a_recorded_stop_at_a_hotspot_counts_as_visited(square):
    """A stop recorded within 50 m of a hotspot visits it even when no walked street passes near."""
    hotspots = _hotspots(((50, 300), 1.0))
    stop = WalkedStop(*_lonlat(50, 260), name="Hotspot 1")
    patrol = _patrol({(1, 2)}, start=START + timedelta(days=1), stops=[stop])
    result = ward_coverage([patrol], ward_streets(square), start=START, end=END, hotspots=hotspots)
    assert result.hotspot_share_visited == pytest.approx(1.0)


def test_idle_hot_streets_are_those_not_walked_for_n_weeks(square):
    """A hot street walked 6 weeks ago is idle after 4 weeks, one walked last week is not; earlier
    patrols count for idleness but not as patrols of the period."""
    old = _patrol({(3, 4)}, start=END - timedelta(weeks=6), pid=1)
    recent = _patrol({(2, 1)}, start=END - timedelta(weeks=1), pid=2)
    hot = frozenset({(1, 2), (3, 4), (1, 4)})
    result = ward_coverage([old, recent], ward_streets(square), start=START, end=END, hot_streets=hot)
    assert result.idle_hot_streets == 2 and result.hot_streets == 3 and result.patrols == 1
    assert ward_coverage([old, recent], ward_streets(square), start=START, end=END, hot_streets=hot,
                         params=CoverageParams(idle_weeks=8)).idle_hot_streets == 1


def test_revisits_of_a_hotspot_give_its_median_gap(square):
    """Visits on days 0, 4 and 12 give gaps 4 and 8: median 6 days."""
    hotspots = _hotspots(((50, -10), 1.0))
    patrols = [_patrol({(1, 2)}, start=START + timedelta(days=d, hours=18), pid=i) for i, d in enumerate((0, 4, 12))]
    result = ward_coverage(patrols, ward_streets(square), start=START, end=END, hotspots=hotspots)
    assert result.revisit_median_days == pytest.approx(6.0)
    assert len(result.visits[1]) == 3


def test_coverage_per_week_adds_up_to_the_whole_period(square):
    """Weekly rows split patrols and person-hours without losing or double counting any."""
    patrols = [_patrol({(1, 2)}, start=START + timedelta(days=d, hours=19), team=2, pid=d) for d in range(0, 28, 3)]
    weekly = coverage_over_time(patrols, WardContext(ward="", streets=ward_streets(square)), start=date(2026, 10, 26),
                                end=date(2026, 11, 23))
    whole = ward_coverage(patrols, ward_streets(square), start=date(2026, 10, 26), end=date(2026, 11, 23))
    assert len(weekly) == 4
    assert weekly["patrols"].sum() == whole.patrols
    assert weekly["person_hours"].sum() == pytest.approx(whole.person_hours)


def test_bad_coverage_parameters_name_the_field():
    """Invalid parameters are refused with the field named."""
    with pytest.raises(InputError, match="visit_m"):
        CoverageParams(visit_m=-1)
    with pytest.raises(InputError, match="hot_share"):
        CoverageParams(hot_share=0)


# --- the demo season ------------------------------------------------------------------------------
runner = CliRunner()


def _cli(directory, *args: str):
    return runner.invoke(app, ["--data-dir", str(directory), *args])


def test_demo_season_has_walked_tracked_and_intensified_patrols(demo_season):
    """The demo holds a season of patrols: most walked, some from GPS tracks, and two wards with
    clearly more person-hours in the second half than the others."""
    from planner.patrols import list_patrols

    store, _ = demo_season
    patrols = list_patrols(store)
    walked = [p for p in patrols if p.walked]
    assert len(patrols) > 50 and len(walked) > 0.8 * len(patrols)
    assert any(p.source == "gpx" for p in walked) and any(p.source == "plan" for p in walked)
    late = {}
    for p in walked:
        if p.start >= datetime(2026, 10, 14, tzinfo=UTC):
            late[p.ward] = late.get(p.ward, 0) + p.person_hours
    ranked = sorted(late.values())
    assert ranked[-2] > 1.5 * ranked[1]


def test_coverage_json_is_exactly_the_contract(demo_season):
    """`coverage --json` prints exactly one object with the six agreed keys and plausible values."""
    _, directory = demo_season
    result = _cli(directory, "coverage", "--ward", "Schildersbuurt", "--from", "2026-09-02", "--to", "2026-11-24",
                  "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == ["patrols", "person_hours", "km", "hotspot_share_visited", "street_share_walked",
                             "idle_hot_streets"]
    assert isinstance(payload["patrols"], int) and payload["patrols"] > 5
    assert payload["person_hours"] > payload["patrols"] and payload["km"] > 0
    assert 0 <= payload["hotspot_share_visited"] <= 1 and 0 < payload["street_share_walked"] < 1
    assert isinstance(payload["idle_hot_streets"], int)


def test_report_writes_printable_html_and_excel_csv(demo_season, tmp_path):
    """The report writes one self-contained HTML page with every section and inline SVG charts, and
    `;`-separated UTF-8-with-BOM CSV tables; member names and notes never appear."""
    from planner.patrols import list_patrols, mark_walked

    store, directory = demo_season
    first = list_patrols(store, status="walked")[0]
    mark_walked(store, first.id, actual_start=first.actual_start, actual_end=first.actual_end,
                members=["Jantje Geheim"], notes="Jantje Geheim liep mee")
    result = _cli(directory, "report", "--from", "2026-09-02", "--to", "2026-11-24", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "rapport.html").read_text(encoding="utf-8")
    for section in ("Samenvatting per wijk", "Dekking per week", "Persoonsuren", "Signalen per week", "Afspraken",
                    "Effect", "Kanttekening", "Verschil per periode (event study)", "van toeval te onderscheiden",
                    "Wat een wijk nodig heeft", "persoonsuren per week nodig"):
        assert section in page
    assert page.count("<svg") >= 6 and "<script" not in page
    assert "<link" not in page and "src=" not in page  # nothing loaded from elsewhere
    assert "Jantje" not in page
    tables = sorted(tmp_path.glob("*.csv"))
    assert {t.stem for t in tables} >= {"samenvatting", "dekking_per_week", "afspraken", "effect_wijken",
                                        "effect_per_periode", "benodigde_uren"}
    for table in tables:
        raw = table.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"Jantje" not in raw
        assert ";" in raw.decode("utf-8-sig").splitlines()[0]
    summary = pd.read_csv(tmp_path / "samenvatting.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert set(summary["ward"]) == {"Vogelwijk", "Bloemenwijk", "Bomenwijk", "Schildersbuurt"}
    # One report, one figure: the hours table states the summary's totals, not sums of rounded weeks.
    hours = pd.read_csv(tmp_path / "uren_en_dekking_per_wijk.csv", sep=";", decimal=",", encoding="utf-8-sig")
    totals = ["ward", "patrols", "person_hours", "km"]
    pd.testing.assert_frame_equal(hours[totals], summary[totals].sort_values("ward").reset_index(drop=True))
    assert {"mean_hotspot_share_visited", "mean_street_share_walked"} <= set(hours.columns)


def test_the_report_credits_each_ward_s_street_source(demo_season, monkeypatch):
    """A ward on a municipal segment network is credited in the report's footer beside the wards
    on OpenStreetMap, each credit once."""
    from planner import streets
    from planner.review.report import build_report, render_html

    store, directory = demo_season
    cached = streets.ward_graph

    def municipal_vogelwijk(store, ward, **options):
        graph = cached(store, ward, **options)
        if ward != "Vogelwijk":
            return graph
        graph = graph.copy()
        graph.graph["source"] = "stoepen.gpkg"
        return graph

    monkeypatch.setattr(streets, "ward_graph", municipal_vogelwijk)
    monkeypatch.setenv("WAS_NETWORK_ATTRIBUTION", "© Gemeente Demostad")
    report = build_report(store, date(2026, 11, 1), date(2026, 11, 24), data_dir=directory, needs=False)
    assert sorted(report.street_credits) == ["© Gemeente Demostad", "© OpenStreetMap contributors"]
    assert f"Straten: {'; '.join(report.street_credits)}." in render_html(report)


def test_a_period_past_today_is_cut_at_today(demo_season):
    """`coverage --to` a month ahead reports the same as `--to` today (days that have not
    happened are not idle), a period after today and a reversed one are refused with the days
    as typed, and a one-day report works."""
    _, directory = demo_season
    today = _time.today()
    base = ["coverage", "--ward", "Vogelwijk", "--from", (today - timedelta(weeks=6)).isoformat(), "--json"]
    ahead = _cli(directory, *base, "--to", (today + timedelta(days=31)).isoformat())
    until_today = _cli(directory, *base, "--to", today.isoformat())
    assert ahead.exit_code == 0 and json.loads(ahead.stdout) == json.loads(until_today.stdout)
    later = (today + timedelta(days=3)).isoformat()
    future = _cli(directory, "coverage", "--ward", "Vogelwijk", "--from", later, "--to", later)
    assert future.exit_code == 2 and f"starts on {later}, after today" in future.output
    reversed_ = _cli(directory, "coverage", "--ward", "Vogelwijk", "--from", "2026-11-20", "--to", "2026-11-10")
    assert reversed_.exit_code == 2 and "2026-11-20 – 2026-11-10" in reversed_.output
    assert "T23:00" not in reversed_.output
    one_day = _cli(directory, "report", "--from", "2026-11-20", "--to", "2026-11-20", "--out",
                   str(directory / "one-day"), "--no-needs", "--json")
    assert one_day.exit_code == 0, one_day.output
    assert (directory / "one-day" / "rapport.html").exists()
