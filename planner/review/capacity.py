"""What a ward needs: weekly person-hours against the share of the hotspot score visited.

``plan_capacity(G, targets, *, params=CapacityParams())`` plans ``params.weeks`` simulated weeks
of patrols for each weekly budget with the real route planner (``routes.plan_patrol``, variety on,
as on the Vanavond page), measures them with the coverage rules (``coverage.ward_coverage``:
a hotspot is visited when a walked path passes within ``visit_m`` of it, or a stop is there) and
returns a ``CapacityCurve``: per budget the share of the hotspot score visited often enough, the
visits per hotspot and the km walked, plus the smallest budget that reaches the target.
``capacity_for(store, ward)`` reads the ward's cached street graph, its hotspots (the residents'
view the route planner uses) and the person-hours its patrol log spent. Nothing is written.

The budget rule (``weekly_rounds``): a budget of H person-hours a week buys rounds of
``round_minutes`` (90) on as many nights as it allows, at most 7, each night ``teams`` teams of
``team_size`` people walking at the same time, so H = nights × teams × team_size × 1.5 h. Once
every night has a round, a larger budget makes the rounds longer (up to ``max_round_minutes``);
a budget short of one round plans nothing. The plan never spends more than the budget.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from .. import _time, settings
from .._errors import DataNotFoundError, InputError
from .._time import aware, local_zone
from .._validation import Constraints, check_params, integer, real
from ..i18n import format_number, translation
from ..patrols import WALKED, PatrolRecord, WalkedStop, list_patrols
from ..routing.routes import Plan, RouteParams, plan_patrol
from .coverage import CoverageParams, ward_coverage, ward_streets

log = logging.getLogger(__name__)

DEFAULT_HOURS = (2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0, 24.0, 32.0, 40.0)
"""The weekly budgets of the curve (person-hours), from one short round to a team every evening."""

_FIRST_WEEK = date(2001, 1, 1)
"""A Monday: the simulated weeks need dates only so coverage can tell nights and weeks apart."""

_BUDGET = real(low=0, low_open=True)

_MEANINGS = {
    "hours": "the weekly budgets in person-hours",
    "weeks": "the number of weeks to simulate",
    "teams": "the number of teams walking at the same time each night",
    "team_size": "the number of people per team",
    "round_minutes": "the length of a round in minutes",
    "max_round_minutes": "the longest round in minutes once every night has one",
    "target_share": "the share of the hotspot score to visit",
    "visits_per_week": "how many nights a week a hotspot should be visited",
    "seed": "the random seed of the route planner",
    "variety_penalty": "the extra cost of recently walked streets",
    "vary_last": "the number of previous rounds to vary from",
}
_LABELS = {name: f"{name} ({meaning})" for name, meaning in _MEANINGS.items()}


MAX_WEEKS = 26
MAX_BUDGETS = 40


@dataclass(frozen=True)
class CapacityParams:
    """Options of ``plan_capacity``; validated on creation, usable as a cache key.

    Parameters
    ----------
    hours
        The weekly budgets (person-hours), kept sorted and without repeats.
    weeks
        Weeks simulated per budget; the curve averages them.
    teams
        Teams walking in parallel each night (1–3).
    team_size
        People per team.
    round_minutes
        Length of a round while there are nights left for more rounds.
    max_round_minutes
        Longest round when every night of the week already has one.
    target_share, visits_per_week
        The target: this share of the hotspot score visited on at least this many nights a week.
    seed
        Seed of the route planner (the same for every night, as on the Vanavond page).
    variety_penalty, vary_last
        Streets of the last ``vary_last`` rounds cost ``1 + variety_penalty`` times as much, so
        consecutive nights differ: the defaults of the Vanavond page and ``was-planner route``.
    """

    hours: tuple[float, ...] = DEFAULT_HOURS
    weeks: int = 4
    teams: int = 1
    team_size: int = settings.TEAM_SIZE
    round_minutes: float = 90.0
    max_round_minutes: float = 240.0
    target_share: float = 0.8
    visits_per_week: int = 2
    seed: int = 0
    variety_penalty: float = settings.VARIETY_PENALTY
    vary_last: int = settings.VARY_LAST_ROUNDS

    _constraints: ClassVar[Constraints] = {
        # Each week plans up to 7 nights per budget: half a year is already a long simulation.
        "weeks": integer(low=1, high=MAX_WEEKS),
        "teams": integer(low=1, high=3, allowed="1, 2 or 3"),
        "team_size": integer(low=1),
        "round_minutes": real(low=0, low_open=True),
        "max_round_minutes": real(low=0, low_open=True),
        "target_share": real(low=0, high=1, low_open=True),
        "visits_per_week": integer(low=1, high=7),
        "seed": integer(low=0),
        "variety_penalty": real(low=0),
        "vary_last": integer(low=0),
    }

    def __post_init__(self) -> None:
        hours = tuple(self.hours) if isinstance(self.hours, Sequence) and not isinstance(self.hours, str) else ()
        # Checked by hand: a long bad list is reported by its length, and a good one is normalised.
        if not hours or not all(_BUDGET.test(h) for h in hours) or len(hours) > MAX_BUDGETS:
            msg = (f"hours ({_MEANINGS['hours']}) must be 1 to {MAX_BUDGETS} numbers > 0, got "
                   f"{self.hours if len(hours) <= MAX_BUDGETS else f'{len(hours)} numbers'!r}")
            raise InputError(msg)
        # A sorted tuple: the curve reads from small to large budgets, and a list would not hash.
        object.__setattr__(self, "hours", tuple(sorted({float(h) for h in hours})))
        check_params(self, labels=_LABELS)
        check_params(self, {"max_round_minutes": real(low=self.round_minutes,
                                                      allowed=f"≥ round_minutes ({self.round_minutes!r})")},
                     labels=_LABELS)


def parse_hours(text: str) -> tuple[float, ...]:
    """Weekly budgets written as ``"2,4,8"`` (person-hours) → ``(2.0, 4.0, 8.0)``."""
    try:
        hours = tuple(float(part) for part in str(text).replace(";", ",").split(","))
    except ValueError:
        msg = f"hours ({_MEANINGS['hours']}) must be numbers separated by commas, like 2,4,8; got {text!r}"
        raise InputError(msg) from None
    return CapacityParams(hours=hours).hours


def weekly_rounds(hours: float, *, params: CapacityParams = CapacityParams()) -> tuple[int, float]:
    """How a weekly budget of ``hours`` person-hours is walked: ``(nights, minutes)`` per round.

    Rounds of ``params.round_minutes`` on as many nights as the budget buys (at most 7), each
    night ``params.teams`` teams of ``params.team_size``; with a round on every night, a larger
    budget lengthens the rounds (whole minutes, at most ``params.max_round_minutes``). A budget
    short of one round gives ``(0, 0.0)``. ``nights × teams × team_size × minutes / 60`` never
    exceeds ``hours``.
    """
    people = params.teams * params.team_size
    # The small epsilon keeps a budget of exactly n rounds from losing one to rounding.
    nights = min(7, math.floor(hours / (people * params.round_minutes / 60) + 1e-9))
    if nights == 0:
        return 0, 0.0
    if nights < 7:
        return nights, float(params.round_minutes)
    stretched = math.floor(hours * 60 / (7 * people) + 1e-9)
    return 7, float(min(params.max_round_minutes, max(params.round_minutes, stretched)))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CapacityPoint:
    """One weekly budget of the curve, averaged over the simulated weeks.

    ``score_share`` is the share of the hotspot score visited on at least ``visits_per_week``
    nights of a week (with ``visits_per_week=1`` simply the share visited); ``visited_share``
    the share visited at least once; ``visits_per_hotspot`` the nights a week with a visit,
    as a score-weighted mean over the hotspots (a busy hotspot counts for more than a quiet one).
    """

    person_hours_per_week: float
    nights: int
    minutes: float
    plan_person_hours: float
    """Person-hours a week of the planned rounds (≤ the budget)."""
    score_share: float
    visited_share: float
    visits_per_hotspot: float
    km_per_week: float

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"person_hours_per_week", "score_share", "visits_per_hotspot"}``."""
        return {
            "person_hours_per_week": _plain(self.person_hours_per_week),
            "score_share": round(self.score_share, 4),
            "visits_per_hotspot": round(self.visits_per_hotspot, 3),
        }


@dataclass(frozen=True)
class CapacityCurve:
    """The capacity curve of one ward; ``to_json()`` is the CLI contract."""

    ward: str
    points: tuple[CapacityPoint, ...]
    params: CapacityParams
    hotspots: int
    total_score: float
    spent_per_week: float | None = None
    """Walked person-hours a week in the patrol log over the last ``params.weeks`` weeks
    (``None``: not known, e.g. a curve computed without a store)."""

    @property
    def needed(self) -> float | None:
        """The smallest budget whose ``score_share`` reaches ``params.target_share``; ``None``
        when even the largest does not."""
        return next((p.person_hours_per_week for p in self.points
                     if p.score_share >= self.params.target_share - 1e-9), None)

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"ward", "curve": [{"person_hours_per_week", "score_share",
        "visits_per_hotspot"}], "needed": {"target_share", "visits_per_week",
        "person_hours_per_week"}, "spent_per_week"}``."""
        needed = self.needed
        return {
            "ward": self.ward,
            "curve": [point.to_json() for point in self.points],
            "needed": {"target_share": self.params.target_share, "visits_per_week": self.params.visits_per_week,
                       "person_hours_per_week": None if needed is None else _plain(needed)},
            "spent_per_week": None if self.spent_per_week is None else round(self.spent_per_week, 2),
        }

    def sentence(self, language: str = "nl") -> str:
        """The answer in one plain sentence, in Dutch (``"nl"``) or English (``"en"``)."""
        _ = translation(language).gettext
        p = self.params
        percent = round(p.target_share * 100, 1)
        needed = self.needed
        last = self.points[-1].person_hours_per_week
        largest = format_number(last, _digits(last), language=language, grouping=True)
        times = {1: _("once"), 2: _("twice")}.get(p.visits_per_week) or _("{n} times").format(n=p.visits_per_week)
        amount = (_("about {hours}").format(hours=format_number(needed, _digits(needed), language=language,
                                                                 grouping=True))
                  if needed is not None else _("more than {hours}").format(hours=largest))
        tail = ("" if self.spent_per_week is None
                else _("; it spent {hours}").format(
                    hours=format_number(self.spent_per_week, 1, language=language, grouping=True)))
        # The per cent sign goes with the value: "% o" in a message would read as a printf conversion to Babel.
        return _("To visit {share_percent} of the hotspot score at least {times} a week {ward} needs {amount} "
                 "person-hours a week{tail}.").format(
            share_percent=f"{format_number(percent, _digits(percent), language=language, grouping=True)} %",
            times=times,
            ward=self.ward or _("the ward"), amount=amount, tail=tail)

    def summary(self) -> str:
        p = self.params
        lines = [
            f"{self.ward or 'ward'}: {self.hotspots} hotspot(s), score {self.total_score:.2f}; "
            f"{p.weeks} simulated week(s) per budget with the route planner (variety "
            f"{'on' if p.variety_penalty > 0 and p.vary_last > 0 else 'off'}), {p.teams} team(s) of "
            f"{p.team_size} each night",
            f"budget rule: rounds of {p.round_minutes:g} min on up to 7 nights, person-hours = nights × teams × "
            f"team size × round; with a round every night the rounds grow (up to {p.max_round_minutes:g} min)",
        ]
        for point in self.points:
            plan = (f"{point.nights} round(s) × {point.minutes:g} min = {point.plan_person_hours:.1f} ph"
                    if point.nights else "less than one round, nothing planned")
            lines.append(
                f"  {point.person_hours_per_week:5g} ph/week → {plan}: {point.score_share:.0%} of the score visited "
                f"on ≥ {p.visits_per_week} night(s) a week, {point.visited_share:.0%} at least once, "
                f"{point.visits_per_hotspot:.1f} visits per hotspot (score-weighted), {point.km_per_week:.1f} km"
            )
        if self.spent_per_week is not None:
            lines.append(f"walked in the patrol log: {self.spent_per_week:.1f} person-hours a week "
                         f"(the last {p.weeks} week(s))")
        lines += [self.sentence("nl"), self.sentence("en")]
        return "\n".join(lines)


def _plain(value: float) -> float | int:
    """A whole number of hours as an int (``6``, not ``6.0``), else rounded to 2 decimals."""
    return int(value) if float(value).is_integer() else round(value, 2)


def _digits(value: float) -> int:
    return 0 if float(value).is_integer() else 1


# --------------------------------------------------------------------------------------------
# The simulation (pure)
# --------------------------------------------------------------------------------------------
def _round_sequence(graph: nx.MultiDiGraph, targets: gpd.GeoDataFrame, count: int, minutes: float, *,
                    start: tuple[float, float] | None, start_name: str | None, params: CapacityParams) -> list[Plan]:
    """``count`` consecutive rounds of ``minutes``, each varied from the ``vary_last`` before it.

    A budget's weeks walk the first rounds of this sequence in order, so budgets with rounds of
    the same length share their plans (the variety history of round i is the same for all).
    """
    route = RouteParams(minutes=minutes, teams=params.teams, seed=params.seed, variety_penalty=params.variety_penalty)
    plans: list[Plan] = []
    for _ in range(count):
        recent = frozenset().union(*(team.edges for plan in plans[len(plans) - params.vary_last:]
                                     for team in plan.teams)) if params.vary_last else frozenset()
        plans.append(plan_patrol(graph, targets, start=start, params=route, recent_edges=recent,
                                 start_name=start_name))
    return plans


def _records(plans: Sequence[Plan], *, nights: int, minutes: float, params: CapacityParams) -> list[PatrolRecord]:
    """The rounds as walked patrols of the log: one per team, out for the whole round, on
    nights spread over each simulated week."""
    local = local_zone()
    records = []
    for i, plan in enumerate(plans):
        week, night = divmod(i, nights)
        day = _FIRST_WEEK + timedelta(weeks=week, days=night * 7 // nights)
        begin = datetime.combine(day, time(20), tzinfo=local).astimezone(UTC)
        for team in plan.teams:
            # A team that stays at the start passes nothing (as in the route planner).
            walked = team.length_m > 0
            records.append(PatrolRecord(
                id=len(records) + 1, ward="", status=WALKED, planned_start=begin,
                planned_end=begin + timedelta(minutes=minutes), actual_start=begin,
                actual_end=begin + timedelta(minutes=minutes), team_size=params.team_size, source="plan",
                length_m=team.length_m, edges=team.edges if walked else frozenset(),
                stops=tuple(WalkedStop(s.lon, s.lat, s.name) for s in team.stops),
                path_lonlat=team.path_lonlat if walked else (),
            ))
    return records


def plan_capacity(
    graph: nx.MultiDiGraph,
    targets: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    start: tuple[float, float] | None = None,
    start_name: str | None = None,
    params: CapacityParams = CapacityParams(),
    ward: str = "",
    spent_per_week: float | None = None,
) -> CapacityCurve:
    """The capacity curve of a ward: for each budget in ``params.hours``, ``params.weeks``
    weeks of rounds (``weekly_rounds``) planned with ``routes.plan_patrol`` from ``start``
    (lat, lon; default the most central node) to ``targets`` (e.g.
    ``targets.targets_from_hotspots``), measured with ``coverage.ward_coverage`` against
    ``areas`` (one place per target, in the same order, e.g. the hotspot areas of
    ``HotspotResult.hotspots``; default the targets' own geometry).

    Per budget and week, a target counts as visited on a night when a route passes within the
    route planner's pass-by distance (``RouteParams.pass_by_m``, used as coverage's
    ``visit_m``) of its area or stops there; ``score_share`` is the share of the targets' score visited on
    at least ``params.visits_per_week`` nights, ``visits_per_hotspot`` the score-weighted mean
    number of nights with a visit; both averaged over the weeks, as are km and person-hours.
    ``spent_per_week`` is carried into the result (``capacity_for`` reads it from the log).
    Deterministic for ``params.seed``; ``graph`` is only read.
    """
    if not isinstance(targets, gpd.GeoDataFrame) or "score" not in targets.columns or targets.crs is None:
        msg = "targets must be a GeoDataFrame with a CRS and a score column (e.g. targets.targets_from_hotspots)"
        raise InputError(msg)
    scores = pd.to_numeric(targets["score"], errors="coerce").to_numpy(float)
    total = float(scores.sum())
    if not len(targets) or not np.isfinite(scores).all() or (scores < 0).any() or not total > 0:
        msg = "targets need finite scores ≥ 0 with a total above 0: without them there is nothing to visit"
        raise InputError(msg)
    places = targets if areas is None else areas
    if not isinstance(places, gpd.GeoDataFrame) or places.crs is None or len(places) != len(targets):
        msg = f"areas must be a GeoDataFrame with a CRS and one row per target ({len(targets)})"
        raise InputError(msg)
    hotspots = gpd.GeoDataFrame({"id": np.arange(1, len(targets) + 1), "score": scores},
                                geometry=places.geometry.to_numpy(), crs=places.crs)
    measure = CoverageParams(visit_m=RouteParams().pass_by_m)
    streets = ward_streets(graph)
    schedule = {hours: weekly_rounds(hours, params=params) for hours in params.hours}
    needed_rounds: dict[float, int] = {}
    for nights, minutes in schedule.values():
        if nights:
            needed_rounds[minutes] = max(needed_rounds.get(minutes, 0), nights * params.weeks)
    sequences = {minutes: _round_sequence(graph, targets, count, minutes, start=start, start_name=start_name,
                                          params=params) for minutes, count in needed_rounds.items()}
    points = []
    for hours, (nights, minutes) in schedule.items():
        records = (_records(sequences[minutes][:nights * params.weeks], nights=nights, minutes=minutes,
                            params=params) if nights else [])
        weekly = []
        for week in range(params.weeks):
            first = _FIRST_WEEK + timedelta(weeks=week)
            covered = ward_coverage(records, streets, start=first, end=first + timedelta(weeks=1), hotspots=hotspots,
                                    ward=ward, params=measure)
            visits = np.array([len(set(covered.visits.get(int(h), ()))) for h in hotspots["id"]], dtype=float)
            weekly.append((
                float(scores @ (visits >= params.visits_per_week)) / total,
                float(scores @ (visits >= 1)) / total,
                float(scores @ visits) / total,
                covered.km,
                covered.person_hours,
            ))
        share, visited, per_hotspot, km, person_hours = np.mean(weekly, axis=0)
        points.append(CapacityPoint(
            person_hours_per_week=hours, nights=nights, minutes=minutes, plan_person_hours=float(person_hours),
            score_share=float(share), visited_share=float(visited), visits_per_hotspot=float(per_hotspot),
            km_per_week=float(km),
        ))
    log.info("capacity %s: %d budgets × %d weeks, %d rounds planned", ward or "(graph)", len(points), params.weeks,
             sum(len(s) for s in sequences.values()))
    return CapacityCurve(ward=ward, points=tuple(points), params=params, hotspots=len(hotspots), total_score=total,
                         spent_per_week=spent_per_week)


# --------------------------------------------------------------------------------------------
# Store-reading wrapper
# --------------------------------------------------------------------------------------------
def capacity_for(
    store,
    ward: str,
    *,
    data_dir: str | Path | None = None,
    params: CapacityParams = CapacityParams(),
    now: datetime | date | None = None,
) -> CapacityCurve:
    """``plan_capacity`` of a stored ward: its cached street graph, its hotspots as the route
    planner sees them (the residents' view, from the signals up to ``now``: their centres as
    targets, their areas to measure visits against, as coverage does), its meeting point
    as the start, and the walked person-hours a week of its patrol log over the ``params.weeks``
    weeks before ``now`` (default: the current time). Reads only.

    Raises
    ------
    DataNotFoundError
        The ward is unknown, has no cached street graph, or has no hotspots.
    """
    from ..hotspots import find_hotspots
    from ..hotspots.tuning import hotspot_params
    from ..routing.routes import start_of
    from ..routing.targets import targets_from_hotspots
    from ..signals.wards import find_ward
    from ..streets import ward_graph

    wards = store.wards()
    name = find_ward(ward, wards)
    graph = ward_graph(store, name, data_dir=data_dir)
    moment = aware(now if now is not None else _time.now())
    incidents = store.incidents(ward=name, until=moment if now is not None else None)
    found = (find_hotspots(incidents, wards[wards["name"] == name], params=hotspot_params(store),
                           now=moment if now is not None else None) if len(incidents) else None)
    if found is None or found.hotspots.empty:
        msg = (f"{name} has no hotspots (places with at least {settings.PUBLIC_MIN_SIGNALS} signals close "
               "together) to plan patrols for, so there is no capacity curve")
        raise DataNotFoundError(msg)
    lat, lon, start_name = start_of(wards[wards["name"] == name].iloc[0], graph)
    walked = list_patrols(store, ward=name, since=moment - timedelta(weeks=params.weeks), until=moment,
                          status=WALKED)
    spent = math.fsum(p.person_hours for p in walked) / params.weeks
    return plan_capacity(graph, targets_from_hotspots(found), areas=found.hotspots, start=(lat, lon),
                         start_name=start_name, params=params, ward=name, spent_per_week=spent)
