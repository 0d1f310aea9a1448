"""The demo's patrol season: the weeks before the demo's end in Demostad, planned with the real
route planner, mostly walked, some recorded as noisy GPS tracks through the map matching, with
a few agreements on the hottest spots (issue 6)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._geo import transformer
from .._time import local_zone
from ..hotspots import HotspotParams, find_hotspots, hot_streets
from ..patrols import WalkDetails, cancel_patrol, import_track, mark_walked, save_planned_patrol, write_gpx_track
from ..review.agreements import Place, add_agreement
from ..routing.export import plan_to_geojson
from ..routing.routes import RouteParams, plan_patrol, targets_from_hot_streets, targets_from_hotspots, ward_start
from ..streets import ward_graph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoPatrols:
    """What ``demo_patrols`` added."""

    planned: int
    walked: int
    tracks: int
    agreements: int
    start: date
    end: date
    intensified: tuple[str, ...]


_DEMO_NOTES = (
    "Rustige ronde.", "Groep jongeren bij het winkelcentrum aangesproken; verliep goed.",
    "Twee lantaarnpalen kapot gemeld.", "Schuurdeur open aangetroffen, bewoner gewaarschuwd.",
    "Praatje gemaakt met bewoners bij de speeltuin.", "Lachgaspatronen bij het bankje opgeruimd.",
    None, None, None,
)
_DEMO_AGREEMENTS = (
    ("Extra verlichting langs het fietspad", "gemeente"),
    ("Snoeien van de struiken bij de achterpaden", "gemeente"),
    ("Gesprek met jongerenwerk over de hangplek", "jongerenwerker"),
    ("Buurtbrief over inbraakpreventie", "wijkagent"),
    ("Hekwerk achter de garageboxen repareren", "woningcorporatie"),
)


def _track_fixes(path_lonlat, crs, rng: np.random.Generator, *, step_m: float = 4.0,
                 sigma_m: float = 8.0) -> np.ndarray:
    """A phone's GPS fixes along a path: every ``step_m``, slowly drifting noise of about
    ``sigma_m`` and a few wild fixes."""
    forward = transformer(settings.WGS84, crs)
    back = transformer(crs, settings.WGS84)
    line = shapely.LineString(np.column_stack(forward.transform(*np.asarray(path_lonlat).T)))
    xy = np.asarray(shapely.get_coordinates(line.interpolate(np.arange(0, line.length, step_m))))
    noise = np.zeros_like(xy)
    keep = 0.9
    for i in range(1, len(xy)):
        noise[i] = keep * noise[i - 1] + rng.normal(0, sigma_m * math.sqrt(1 - keep**2), 2)
    xy = xy + noise + rng.normal(0, 2.0, xy.shape)
    wild = rng.choice(len(xy), size=min(3, len(xy)), replace=False)
    xy[wild] += rng.normal(0, 80, (len(wild), 2))
    return np.column_stack(back.transform(xy[:, 0], xy[:, 1]))


def demo_patrols(store, data_dir: str | Path, *, seed: int = 0, end: date, weeks: int = 12) -> DemoPatrols:
    """Add a season of recorded patrols (the ``weeks`` before ``end``) and a few agreements to
    the demo store: planned with the real route planner at varying times and team sizes, most
    marked as walked, some recorded as noisy GPS tracks imported through the map matching.
    Half the wards patrol three times a week in the second half of the season, the others
    stay at about once a week, so the effect review has a contrast. Deterministic for a seed.
    """
    rng = np.random.default_rng(seed + 6006)
    local = local_zone()
    first = end - timedelta(weeks=weeks)
    switch = first + timedelta(weeks=weeks // 2)
    wards = store.wards()
    names = sorted(wards["name"])
    intensified = tuple(names[::2])
    tracks_dir = Path(data_dir) / "demo" / "tracks"
    planned = walked = tracks = 0
    agreements = 0
    for ward in names:
        graph = ward_graph(store, ward, data_dir=data_dir)
        moment = datetime.combine(first, time(), tzinfo=local)
        incidents = store.incidents(ward=ward, until=moment)
        result = find_hotspots(incidents, wards[wards["name"] == ward], params=HotspotParams(audience="officer"),
                               now=moment)
        spots = targets_from_hotspots(result)
        streets = targets_from_hot_streets(hot_streets(graph, incidents, now=moment), incidents, top=6,
                                           avoid=spots)
        targets = pd.concat([spots, streets.to_crs(settings.WGS84)], ignore_index=True)
        targets = gpd.GeoDataFrame(targets, geometry="geometry", crs=settings.WGS84)
        lat, lon, start_name = ward_start(store, ward, graph)
        # A few different routes per ward (the planner varies them), reused through the season.
        variants, recent = [], frozenset()
        for i, minutes in enumerate((90, 60, 120)):
            plan = plan_patrol(graph, targets, start=(lat, lon), start_name=start_name, recent_edges=recent,
                               params=RouteParams(minutes=minutes, seed=seed + i,
                                                  variety_penalty=settings.VARIETY_PENALTY))
            variants.append((minutes, plan))
            recent = recent | frozenset().union(*(t.edges for t in plan.teams))
        for week in range(weeks):
            monday = first + timedelta(weeks=week)
            per_week = 3 if (ward in intensified and monday >= switch) else int(rng.choice([0, 1, 1, 1, 2]))
            days = sorted(rng.choice(7, size=per_week, replace=False)) if per_week else []
            for day in days:
                minutes, plan = variants[int(rng.integers(len(variants)))]
                evening = rng.random() < 0.8
                clock = time(int(rng.choice([19, 20, 21])) if evening else 14, int(rng.choice([0, 30])))
                begin = datetime.combine(monday + timedelta(days=int(day)), clock, tzinfo=local)
                if begin.date() >= end:
                    continue
                team_size = int(rng.choice([2, 2, 3, 3, 4]))
                saved = save_planned_patrol(
                    store, ward=ward, start=begin, minutes=minutes, team_size=team_size,
                    route_geojson=plan_to_geojson(plan), edges=frozenset().union(*(t.edges for t in plan.teams)),
                )
                planned += 1
                roll = rng.random()
                if roll < 0.08:
                    cancel_patrol(store, saved.id, notes="Afgelast (weer).")
                    continue
                actual = begin + timedelta(minutes=float(rng.integers(-5, 16)))
                finish = actual + timedelta(minutes=minutes * float(rng.uniform(0.85, 1.1)))
                note = _DEMO_NOTES[int(rng.integers(len(_DEMO_NOTES)))]
                mark_walked(store, saved.id, actual_start=actual, actual_end=finish, notes=note)
                walked += 1
                if roll > 0.88 and plan.teams[0].path_lonlat:
                    fixes = _track_fixes(plan.teams[0].path_lonlat, graph.graph["crs"], rng)
                    times = [actual + (finish - actual) * i / max(1, len(fixes) - 1) for i in range(len(fixes))]
                    gpx = write_gpx_track(fixes, tracks_dir / f"patrol-{saved.id:04d}.gpx",
                                          times=[t.astimezone(UTC) for t in times], name=f"{ward} {begin:%Y-%m-%d}")
                    import_track(store, graph, gpx, ward=ward, patrol_id=saved.id,
                                 details=WalkDetails(team_size=team_size))
                    tracks += 1
        # Agreements on the ward's hottest spots: some done, some running, some overdue.
        for row in result.hotspots.head(2).itertuples(index=False):
            what, role = _DEMO_AGREEMENTS[int(rng.integers(len(_DEMO_AGREEMENTS)))]
            due = end + timedelta(days=int(rng.integers(-40, 30)))
            status = str(rng.choice(["open", "in_progress", "done"], p=[0.45, 0.3, 0.25]))
            add_agreement(store, ward=ward, what=what, role=role, due=due, status=status,
                          place=Place(float(row.centroid_lat), float(row.centroid_lon), f"hotspot {int(row.id)}"))
            agreements += 1
    log.info("demo: %d patrols planned, %d walked (%d from GPS tracks), %d agreements",
             planned, walked, tracks, agreements)
    return DemoPatrols(planned=planned, walked=walked, tracks=tracks, agreements=agreements, start=first, end=end,
                       intensified=intensified)
