"""Tests for planner/patrols.py: saving planned patrols and reading their edges back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from planner._errors import DataNotFoundError, InputError
from planner.patrols import recent_patrol_edges, save_planned_patrol
from planner.wards import store_wards

EVENING = datetime(2026, 11, 20, 20, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
ROUTE = {"type": "FeatureCollection", "features": []}


def test_saved_patrol_round_trips_its_edges(store, two_wards):
    """A saved plan's edges come back for variety; only the last N patrols of that ward count."""
    store_wards(store, two_wards)
    save_planned_patrol(store, ward="West", start=EVENING, minutes=90, team_size=3, route_geojson=ROUTE,
                        edges=frozenset({(1, 2), (2, 3)}))
    later = EVENING.replace(day=21)
    saved = save_planned_patrol(store, ward="West", start=later, minutes=60, team_size=2, route_geojson=ROUTE,
                                edges=frozenset({(7, 8)}))
    assert saved.planned_end.hour == 21 and saved.status == "planned"
    assert recent_patrol_edges(store, "West", last=1) == frozenset({(7, 8)})
    assert recent_patrol_edges(store, "West") == frozenset({(1, 2), (2, 3), (7, 8)})
    assert recent_patrol_edges(store, "Oost") == frozenset()


def test_bad_patrols_are_refused(store, two_wards):
    """Unknown wards, naive times and empty teams are refused with the field named."""
    store_wards(store, two_wards)
    with pytest.raises(DataNotFoundError, match="Noord"):
        save_planned_patrol(store, ward="Noord", start=EVENING, minutes=90, team_size=2, route_geojson=ROUTE)
    with pytest.raises(InputError, match="timezone"):
        save_planned_patrol(store, ward="West", start=EVENING.replace(tzinfo=None), minutes=90, team_size=2,
                            route_geojson=ROUTE)
    with pytest.raises(InputError, match="team_size"):
        save_planned_patrol(store, ward="West", start=EVENING, minutes=90, team_size=0, route_geojson=ROUTE)
