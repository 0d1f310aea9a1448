"""Coverage over time: what the patrols covered and what that cost in person-hours (whether
crime changed where patrols intensified is ``planner.review.effect``).

Pure functions take plain data (patrol records, street tables, hotspot GeoDataFrames, counts)
and return dataclasses with ``to_json()``; thin ``*_for`` / ``ward_context`` wrappers read the
store and the cached ward graphs. Everything is measured in the ward graph's metric CRS.

- ``ward_coverage``: one ward, one period: patrols, person-hours (team size × walked hours), km,
  share of hotspot score visited (walked path within ``visit_m`` of the hotspot, or a stop
  there), share of the ward's street length walked, idle hot streets (not walked for more than
  ``idle_weeks``), and how regularly hotspots were revisited.
- ``coverage_over_time``: the same per week, month or quarter.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import DataNotFoundError, InputError
from .._geo import graph_crs, street_attribution, street_table, transformer
from .._time import aware, local_day
from .._validation import Constraints, check_params, real
from ..patrols import PatrolRecord, list_patrols

log = logging.getLogger(__name__)

FREQUENCIES = {"week": "W-MON", "month": "MS", "quarter": "QS"}
"""Period names → pandas period starts (weeks start on Monday)."""


# --------------------------------------------------------------------------------------------
# Parameters and results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoverageParams:
    """How coverage is measured.

    Parameters
    ----------
    visit_m
        A hotspot counts as visited when the walked path passes within this distance (m), or a
        recorded stop lies within it.
    idle_weeks
        A hot street not walked for more than this many weeks (at the period's end) is idle.
    hot_share
        Hot streets: the densest streets (by signal density) making up this share of the ward's
        street length.
    """

    visit_m: float = 50.0
    idle_weeks: float = 4.0
    hot_share: float = 0.10

    _constraints: ClassVar[Constraints] = {
        **dict.fromkeys(("visit_m", "idle_weeks"), real(low=0)),
        "hot_share": real(low=0, high=1, low_open=True),
    }

    def __post_init__(self) -> None:
        check_params(self)


@dataclass(frozen=True)
class Coverage:
    """Coverage of one ward over ``[start, end)``; ``to_json()`` is the CLI contract."""

    ward: str
    start: datetime
    end: datetime
    patrols: int
    person_hours: float
    km: float
    hotspot_share_visited: float
    street_share_walked: float
    idle_hot_streets: int
    hot_streets: int = 0
    hotspots: int = 0
    hotspots_visited: tuple[int, ...] = ()
    """Ids (ranks) of the hotspots visited at least once."""
    revisit_median_days: float | None = None
    """Median days between consecutive visits to the same hotspot (None: no hotspot visited twice)."""
    weeks_with_visit_share: float | None = None
    """Per hotspot, the share of the period's weeks with at least one visit; averaged, score-weighted."""
    visits: dict[int, tuple[date, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"patrols", "person_hours", "km", "hotspot_share_visited",
        "street_share_walked", "idle_hot_streets"}``."""
        return {
            "patrols": self.patrols,
            "person_hours": round(self.person_hours, 2),
            "km": round(self.km, 2),
            "hotspot_share_visited": round(self.hotspot_share_visited, 4),
            "street_share_walked": round(self.street_share_walked, 4),
            "idle_hot_streets": self.idle_hot_streets,
        }

    def to_row(self) -> dict[str, Any]:
        """Everything, flat, for tables (the report's CSVs)."""
        return {
            "ward": self.ward, "start": local_day(self.start).isoformat(), "end": local_day(self.end).isoformat(),
            **self.to_json(), "hot_streets": self.hot_streets, "hotspots": self.hotspots,
            "hotspots_visited": len(self.hotspots_visited),
            "revisit_median_days": None if self.revisit_median_days is None else round(self.revisit_median_days, 1),
            "weeks_with_visit_share": None if self.weeks_with_visit_share is None
            else round(self.weeks_with_visit_share, 3),
        }

    def summary(self) -> str:
        return (
            f"{self.ward} {local_day(self.start)} – {local_day(self.end - timedelta(microseconds=1))}: "
            f"{self.patrols} patrols, "
            f"{self.person_hours:.1f} person-hours, {self.km:.1f} km; hotspot score visited "
            f"{self.hotspot_share_visited:.0%} ({len(self.hotspots_visited)} of {self.hotspots} hotspots), "
            f"streets walked {self.street_share_walked:.0%}; {self.idle_hot_streets} of {self.hot_streets} "
            f"hot streets idle"
            + (f"; hotspots revisited every {self.revisit_median_days:.0f} days (median)"
               if self.revisit_median_days is not None else "")
        )


# --------------------------------------------------------------------------------------------
# Streets of a ward
# --------------------------------------------------------------------------------------------
def _pair(u: Any, v: Any) -> tuple:
    return (u, v) if u <= v else (v, u)


def ward_streets(graph: nx.MultiDiGraph, ward_polygon: shapely.Geometry | None = None) -> gpd.GeoDataFrame:
    """One row per street (node pair, both directions; the shortest of parallel streets) of a
    prepared graph: ``u`` ≤ ``v``, ``length`` (m), ``in_ward`` (midpoint inside the WGS84
    ``ward_polygon``; all True without one) and geometry in the graph's CRS."""
    crs = graph_crs(graph)
    table, _ = street_table(graph, shortest=True)
    pairs = [_pair(u, v) for u, v in zip(table["u"], table["v"], strict=True)]
    frame = gpd.GeoDataFrame(
        {"u": [p[0] for p in pairs], "v": [p[1] for p in pairs], "length": table["length"].to_list()},
        geometry=table.geometry.to_list(), crs=crs,
    )
    if ward_polygon is None:
        frame["in_ward"] = True
    else:
        area = gpd.GeoSeries([ward_polygon], crs=settings.WGS84).to_crs(crs).iloc[0]
        frame["in_ward"] = shapely.contains(area, frame.geometry.interpolate(0.5, normalized=True).to_numpy())
    return frame


def hot_street_pairs(hot_edges: pd.DataFrame, streets: gpd.GeoDataFrame, *, share: float = 0.10) -> frozenset:
    """The ward's hot streets: the densest (``density`` > 0) in-ward streets of
    ``hotspots.hot_streets(G, ...).edges`` making up ``share`` of the ward's street length."""
    if not 0 < share <= 1:
        msg = f"share must be in (0, 1], got {share!r}"
        raise InputError(msg)
    density = (
        pd.DataFrame({"pair": [_pair(u, v) for u, v in zip(hot_edges["u"], hot_edges["v"], strict=True)],
                      "density": hot_edges["density"].to_numpy(float)})
        .groupby("pair")["density"].max()
    )
    table = streets.assign(pair=[_pair(u, v) for u, v in zip(streets["u"], streets["v"], strict=True)])
    table = table[table["in_ward"]].assign(density=lambda t: t["pair"].map(density).fillna(0.0))
    table = table[table["density"] > 0].sort_values(["density", "length"], ascending=[False, True], kind="stable")
    budget = share * float(streets.loc[streets["in_ward"], "length"].sum())
    before = table["length"].cumsum() - table["length"]
    return frozenset(table.loc[before < budget, "pair"])


# --------------------------------------------------------------------------------------------
# Coverage of one ward and period (pure)
# --------------------------------------------------------------------------------------------
def _walked_lines(patrol: PatrolRecord, geometry_of: dict, to_metric) -> shapely.Geometry | None:
    lines = [geometry_of[_pair(u, v)] for u, v in patrol.edges if _pair(u, v) in geometry_of]
    if not lines and len(patrol.path_lonlat) > 1:
        lines = [shapely.LineString(to_metric(patrol.path_lonlat))]
    return shapely.union_all(lines) if lines else None


def _street_share(streets: gpd.GeoDataFrame, pairs: list[tuple], in_period: Sequence[PatrolRecord]) -> float:
    """Share of the ward's street length walked by the patrols ``in_period``."""
    length_of = dict(zip(pairs, streets["length"].astype(float), strict=True))
    in_ward = {p for p, flag in zip(pairs, streets["in_ward"], strict=True) if flag}
    ward_length = sum(length_of[p] for p in in_ward)
    walked_pairs = {_pair(u, v) for p in in_period for u, v in p.edges}
    return sum(length_of[p] for p in walked_pairs & in_ward) / ward_length if ward_length else 0.0


def _idle_hot_streets(walked: Sequence[PatrolRecord], hot_streets: frozenset, *, cutoff: datetime) -> int:
    """Idle hot streets: last walked (any time before the end) before ``cutoff``."""
    last_walked: dict[tuple, datetime] = {}
    for patrol in walked:
        for u, v in patrol.edges:
            pair = _pair(u, v)
            if pair not in last_walked or patrol.start > last_walked[pair]:
                last_walked[pair] = patrol.start
    return sum(1 for pair in hot_streets if last_walked.get(pair, datetime.min.replace(tzinfo=UTC)) < cutoff)


def _hotspot_visits(in_period: Sequence[PatrolRecord], areas: gpd.GeoDataFrame, geometry_of: dict, to_metric,
                    *, visit_m: float) -> dict[int, list[date]]:
    """Hotspot id → the local days a patrol passed within ``visit_m`` of it, or stopped there."""
    visits: dict[int, list[date]] = {}
    for patrol in in_period:
        lines = _walked_lines(patrol, geometry_of, to_metric)
        stops = shapely.points(to_metric([(s.lon, s.lat) for s in patrol.stops])) if patrol.stops else None
        for hotspot_id, area in zip(areas["id"], areas.geometry, strict=True):
            near = lines is not None and shapely.distance(lines, area) <= visit_m
            if not near and stops is not None:
                near = bool((shapely.distance(stops, area) <= visit_m).any())
            if near:
                visits.setdefault(int(hotspot_id), []).append(local_day(patrol.start))
    return visits


def _visit_regularity(visits: dict[int, list[date]], areas: gpd.GeoDataFrame, begin: datetime, finish: datetime
                      ) -> tuple[float, float | None, float | None]:
    """Share of hotspot score visited, median days between revisits, and the score-weighted
    share of the period's weeks with a visit."""
    scores = dict(zip(areas["id"].astype(int), areas["score"].astype(float), strict=True))
    total = sum(scores.values())
    share = sum(scores[h] for h in visits) / total if total > 0 else 0.0
    gaps = [
        (b - a).days for days in visits.values() for a, b in zip(sorted(set(days)), sorted(set(days))[1:],
                                                                  strict=False)
    ]
    median_gap = float(np.median(gaps)) if gaps else None
    n_weeks = max(1, math.ceil((finish - begin).days / 7))
    weeks_share = None
    if total > 0:
        weeks_share = sum(
            scores[h] * min(1.0, len({(d - local_day(begin)).days // 7 for d in visits.get(h, [])})
                            / n_weeks)
            for h in scores
        ) / total
    return share, median_gap, weeks_share


def ward_coverage(
    patrols: Sequence[PatrolRecord],
    streets: gpd.GeoDataFrame,
    *,
    start: datetime | date,
    end: datetime | date,
    hotspots: gpd.GeoDataFrame | None = None,
    hot_streets: frozenset = frozenset(),
    ward: str = "",
    params: CoverageParams = CoverageParams(),
) -> Coverage:
    """Coverage of one ward over ``[start, end)`` (dates are local midnights).

    ``patrols`` are the ward's patrol records (walked ones count; those before ``start`` only
    for idle hot streets); ``streets`` comes from ``ward_streets``; ``hotspots`` is a
    GeoDataFrame with ``id``, ``score`` and geometry (any CRS); ``hot_streets`` holds node pairs
    ``(u, v)`` with ``u`` ≤ ``v`` (``hot_street_pairs``).
    """
    begin, finish = aware(start), aware(end)
    if finish <= begin:
        msg = f"end must lie after start, got {begin.isoformat()} – {finish.isoformat()}"
        raise InputError(msg)
    crs = streets.crs
    if crs is None:
        msg = "streets have no CRS: build them with coverage.ward_streets(G)"
        raise InputError(msg)
    forward = transformer(settings.WGS84, crs)

    def to_metric(coords):
        x, y = forward.transform(*np.asarray(coords, float).T)
        return np.column_stack([x, y])

    walked = [p for p in patrols if p.walked and p.start is not None and p.start < finish]
    in_period = [p for p in walked if p.start >= begin]
    pairs = [_pair(u, v) for u, v in zip(streets["u"], streets["v"], strict=True)]
    street_share = _street_share(streets, pairs, in_period)
    idle = _idle_hot_streets(walked, hot_streets, cutoff=finish - timedelta(weeks=params.idle_weeks))

    # Hotspot visits: walked path within visit_m, or a stop there.
    visits: dict[int, list[date]] = {}
    share = 0.0
    n_hotspots = 0
    weeks_share = None
    median_gap = None
    if hotspots is not None and len(hotspots):
        areas = hotspots.to_crs(crs)
        n_hotspots = len(areas)
        geometry_of = dict(zip(pairs, streets.geometry, strict=True))
        visits = _hotspot_visits(in_period, areas, geometry_of, to_metric, visit_m=params.visit_m)
        share, median_gap, weeks_share = _visit_regularity(visits, areas, begin, finish)
    return Coverage(
        ward=ward, start=begin, end=finish, patrols=len(in_period),
        person_hours=math.fsum(p.person_hours for p in in_period),
        km=math.fsum(p.length_m for p in in_period) / 1000,
        hotspot_share_visited=share, street_share_walked=street_share, idle_hot_streets=idle,
        hot_streets=len(hot_streets), hotspots=n_hotspots, hotspots_visited=tuple(sorted(visits)),
        revisit_median_days=median_gap, weeks_with_visit_share=weeks_share,
        visits={h: tuple(sorted(d)) for h, d in visits.items()},
    )


def period_until_today(start: date, end: date, *, today: date) -> date:
    """The exclusive end of the period ``[start, end)`` cut at the end of ``today``: days that have
    not happened are neither walked nor idle. Refuses an empty period or one after today, naming
    the first and last day as the user gave them (the last day is ``end`` − 1)."""
    if end <= start:
        msg = (f"the last day must not lie before the first, got {start.isoformat()} – "
               f"{(end - timedelta(days=1)).isoformat()}")
        raise InputError(msg)
    if start > today:
        msg = f"the period starts on {start.isoformat()}, after today ({today.isoformat()})"
        raise InputError(msg)
    return min(end, today + timedelta(days=1))


def check_freq(freq: str) -> None:
    """Refuse a period name that is not one of ``FREQUENCIES``."""
    if freq not in FREQUENCIES:
        msg = f"freq must be one of {', '.join(FREQUENCIES)}, got {freq!r}"
        raise InputError(msg)


def period_starts(start: date, end: date, freq: str) -> list[date]:
    """The starts of the weeks (Mondays), months or quarters overlapping ``[start, end)``."""
    check_freq(freq)
    first = pd.Timestamp(start).to_period({"week": "W-SUN", "month": "M", "quarter": "Q"}[freq]).start_time
    stamps = pd.date_range(first, pd.Timestamp(end) - pd.Timedelta(days=1), freq=FREQUENCIES[freq])
    days = sorted({first.date(), *(s.date() for s in stamps)})
    return [d for d in days if d < end]


def coverage_over_time(
    patrols: Sequence[PatrolRecord],
    context: WardContext,
    *,
    start: date,
    end: date,
    freq: str = "week",
    params: CoverageParams = CoverageParams(),
) -> pd.DataFrame:
    """``ward_coverage`` per week, month or quarter of ``[start, end)`` (periods clipped to it),
    one row per period (``Coverage.to_row()`` plus ``period``); ``context`` gives the ward's
    name, streets, hotspots and hot streets."""
    starts = period_starts(start, end, freq)
    rows = []
    for i, first in enumerate(starts):
        lo = max(first, start)
        hi = min(starts[i + 1] if i + 1 < len(starts) else end, end)
        result = ward_coverage(patrols, context.streets, start=lo, end=hi, hotspots=context.hotspots,
                               hot_streets=context.hot_streets, ward=context.ward, params=params)
        rows.append({"period": first.isoformat(), **result.to_row()})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Store-reading wrappers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WardContext:
    """What coverage needs of a ward besides its patrols, as of ``now`` (``ward_context``); the
    pure functions need only ``streets`` (``ward_streets``)."""

    ward: str
    streets: gpd.GeoDataFrame
    hotspots: gpd.GeoDataFrame | None = None
    hot_streets: frozenset = frozenset()
    now: datetime | None = None
    street_credit: str = ""
    """Whom the ward's streets credit (``_geo.street_attribution`` of its graph)."""


def ward_context(
    store,
    ward: str,
    *,
    now: datetime | date,
    data_dir: str | Path | None = None,
    graph: nx.MultiDiGraph | None = None,
    params: CoverageParams = CoverageParams(),
    history_days: int = 365,
) -> WardContext:
    """Streets (cached ward graph), hotspots and hot streets of ``ward`` from the signals of the
    ``history_days`` before ``now`` (the officer rendering, used only for shares and counts)."""
    from ..hotspots import find_hotspots, hot_streets
    from ..hotspots.tuning import hot_street_params, hotspot_params
    from ..streets import ward_graph

    moment = aware(now)
    graph = graph if graph is not None else ward_graph(store, ward, data_dir=data_dir)
    wards = store.wards()
    polygon = wards.loc[wards["name"] == ward].geometry
    if polygon.empty:
        msg = f"no ward {ward!r} in the store"
        raise DataNotFoundError(msg)
    streets = ward_streets(graph, polygon.iloc[0])
    incidents = store.incidents(ward=ward, since=moment - timedelta(days=history_days), until=moment)
    incidents = incidents[incidents["occurred_from"] < pd.Timestamp(moment)]
    if len(incidents):
        weights = hotspot_params(store, audience="officer")
        found = find_hotspots(incidents, wards[wards["name"] == ward], params=weights, now=moment).hotspots
        street_params = hot_street_params(store, weights, data_dir=data_dir)
        hot = hot_street_pairs(hot_streets(graph, incidents, params=street_params, now=moment).edges,
                               streets, share=params.hot_share)
    else:
        found = gpd.GeoDataFrame({"id": [], "score": []}, geometry=[], crs=settings.WGS84)
        hot = frozenset()
    return WardContext(ward=ward, streets=streets, hotspots=found[["id", "score", "n_signals", "geometry"]]
                       if "n_signals" in found else found, hot_streets=hot, now=moment,
                       street_credit=street_attribution(graph))


def coverage_for(
    store,
    ward: str,
    start: date | datetime,
    end: date | datetime,
    *,
    data_dir: str | Path | None = None,
    context: WardContext | None = None,
    params: CoverageParams = CoverageParams(),
) -> Coverage:
    """``ward_coverage`` of a stored ward over ``[start, end)``: its patrol log, cached graph and
    the hotspots and hot streets as of ``end``."""
    begin, finish = aware(start), aware(end)
    context = context or ward_context(store, ward, now=finish, data_dir=data_dir, params=params)
    since = min(begin, finish - timedelta(weeks=params.idle_weeks))
    patrols = list_patrols(store, ward=ward, since=since, until=finish)
    return ward_coverage(patrols, context.streets, start=begin, end=finish, hotspots=context.hotspots,
                         hot_streets=context.hot_streets, ward=ward, params=params)


def coverage_table(
    store,
    start: date,
    end: date,
    *,
    freq: str = "week",
    wards: Iterable[str] | None = None,
    data_dir: str | Path | None = None,
    contexts: dict[str, WardContext] | None = None,
    params: CoverageParams = CoverageParams(),
) -> pd.DataFrame:
    """``coverage_over_time`` for every stored ward (or ``wards``) with a cached street graph;
    wards without one are skipped with a warning."""
    frames = []
    names = list(wards) if wards is not None else list(store.wards()["name"])
    for ward in names:
        try:
            context = (contexts or {}).get(ward) or ward_context(store, ward, now=end, data_dir=data_dir,
                                                                  params=params)
        except DataNotFoundError as error:
            log.warning("coverage: skipped %s: %s", ward, error)
            continue
        since = aware(start) - timedelta(weeks=params.idle_weeks)
        patrols = list_patrols(store, ward=ward, since=since, until=aware(end))
        frames.append(coverage_over_time(patrols, replace(context, ward=ward), start=start, end=end, freq=freq,
                                         params=params))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --------------------------------------------------------------------------------------------
# What the hours bought
# --------------------------------------------------------------------------------------------
CAPACITY_COLUMNS = ("ward", "patrols", "person_hours", "km", "km_per_person_hour",
                    "mean_hotspot_share_visited", "mean_street_share_walked")


def capacity_table(whole_period: pd.DataFrame, coverage_rows: pd.DataFrame) -> pd.DataFrame:
    """Per ward: what an hour bought. Patrols, person-hours and km of the whole period
    (``whole_period``: a ``Coverage.to_row()`` per ward, the figures the summary states), km per
    person-hour, and the hotspot and street shares averaged over the periods of
    ``coverage_rows``, named as means since the whole period's shares are other figures."""
    if whole_period.empty:
        return pd.DataFrame(columns=list(CAPACITY_COLUMNS))
    means = (coverage_rows.groupby("ward")[["hotspot_share_visited", "street_share_walked"]].mean()
             .add_prefix("mean_") if not coverage_rows.empty else pd.DataFrame())
    table = whole_period[["ward", "patrols", "person_hours", "km"]].merge(
        means, left_on="ward", right_index=True, how="left").sort_values("ward", kind="stable")
    hours = table["person_hours"]
    table["km_per_person_hour"] = np.where(hours > 0, table["km"] / hours.where(hours > 0, 1), 0.0)
    return table.reindex(columns=list(CAPACITY_COLUMNS)).reset_index(drop=True).round(
        {"person_hours": 2, "km": 2, "km_per_person_hour": 2, "mean_hotspot_share_visited": 3,
         "mean_street_share_walked": 3})
