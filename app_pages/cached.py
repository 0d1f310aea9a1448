"""Every Streamlit cache of the dashboard, in one place.

Caches are keyed by strings, numbers and frozen params dataclasses, never by GeoDataFrames
(hashing those is slow). Results that depend on stored data also take ``version``, which changes
whenever an import or a report adds signals, so nobody sees stale hotspots. Whatever a role
limits is read through ``planner.access`` and cached per signed-in ``User`` (a frozen
dataclass), so one role's rendering never serves another; an officer's point view is logged
when it is computed, so the cache keeps re-runs of the same view within ten minutes out of
the log.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import streamlit as st

from app_pages.ui import _
from planner import access, settings
from planner.access import Store, open_store
from planner.users import User


def database_url() -> str:
    return settings.database_url()


@st.cache_resource(show_spinner=False)
def store(url: str) -> Store:
    """One store (connection pool) per database for the whole process."""
    return open_store(url)


def current_store() -> Store:
    return store(database_url())


def data_version() -> str:
    """Changes whenever a signal is added, removed, resolved or anonymised, or a ward is added or
    redrawn (``Store.calibration_fingerprint``: what the maps, plans and card are made of)."""
    return current_store().calibration_fingerprint()


def wards_or_stop() -> tuple[str, str, gpd.GeoDataFrame]:
    """The store URL, data version and wards; with no wards yet the page says how and stops."""

    url, version = database_url(), data_version()
    shapes = wards(url, version)
    if shapes.empty:
        st.warning(_("No wards yet. Build demo data or load wards on the Data page."))
        st.stop()
    return url, version, shapes


@st.cache_data(show_spinner=False, ttl=600)
def wards(url: str, version: str) -> gpd.GeoDataFrame:
    return store(url).wards()


@st.cache_data(show_spinner=False, ttl=600)
def ward_summary(url: str, version: str) -> list[dict]:
    return store(url).ward_summary()


@st.cache_resource(show_spinner=False, max_entries=16)
def ward_graph(data_dir: str, url: str, ward: str) -> nx.MultiDiGraph:
    """A ward's prepared street graph, loaded once per process and shared read-only."""
    from planner.streets import ward_graph as load

    return load(store(url), ward, data_dir=data_dir)



@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def hotspots(url: str, version: str, user: User, ward: str | None, since: str, until: str,
             categories: tuple[str, ...], audience: str, window):
    """``access.visible_hotspots`` of the signals in a period (ISO dates, ``until`` exclusive)
    and categories, as ``user`` may see them; ``window`` shows that time of day as it is given."""
    return access.visible_hotspots(
        store(url), user, ward, audience=audience, since=pd.Timestamp(since, tz=settings.timezone()),
        until=pd.Timestamp(until, tz=settings.timezone()), categories=categories, window=window, forecast=False,
    )


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def patrol_plan(url: str, version: str, data_dir: str, ward: str, window: str, weekday: int,
                params, start: tuple[float, float] | None, vary_last: int, patrol_log: frozenset):
    """The plan ``was-planner route`` makes; its map draws ``Plan.hotspots``, the hotspots its stops
    are numbered from (public areas, open to everyone like the route itself).

    ``patrol_log`` (the recent patrols' edges) is only part of the key: saving a patrol must
    give the next plan a chance to vary from it.
    """
    from planner.hotspots import TimeWindow
    from planner.routing.routes import WardPlanParams, plan_for_ward

    return plan_for_ward(store(url), ward, params=params, window=TimeWindow.parse(window, day=str(weekday)),
                         start=start, ward_params=WardPlanParams(vary_last=vary_last), data_dir=data_dir)


@st.cache_data(show_spinner=False, max_entries=16)
def graph_nodes_lonlat(data_dir: str, url: str, ward: str) -> list[dict]:
    """The street crossings of a ward graph, clickable as start points."""
    import osmnx as ox

    nodes = ox.graph_to_gdfs(ward_graph(data_dir, url, ward), edges=False).to_crs(4326)
    return [{"lon": round(p.x, 6), "lat": round(p.y, 6)} for p in nodes.geometry]



@st.cache_data(show_spinner=False, max_entries=16)
def ward_streets(data_dir: str, url: str, ward: str) -> dict:
    """The ward's streets as WGS84 GeoJSON lines: a base map that needs no internet."""
    import json

    import osmnx as ox

    edges = ox.graph_to_gdfs(ward_graph(data_dir, url, ward), nodes=False)[["geometry"]].to_crs(4326)
    return json.loads(edges.to_json(drop_id=True))


def patrol_version(user: User) -> int:
    """Changes whenever a patrol is saved, walked or imported."""
    records = access.visible_patrols(current_store(), user)
    return hash(tuple((r.id, r.status) for r in records))


def outcome_version() -> tuple[int, int]:
    """Changes whenever registered-crime counts are imported, also when an import only revises
    counts: (outcome imports, the latest one's batch id)."""
    batches = current_store().batches()
    mine = batches[batches["kind"] == "outcomes"] if "kind" in batches else batches.iloc[:0]
    return len(mine), int(mine["id"].max()) if len(mine) else 0


@st.cache_data(show_spinner=False, ttl=600, max_entries=16)
def coverage_report(url: str, version: str, patrols: int, outcomes: tuple[int, int], user: User,
                    data_dir: str, start: str, end: str, freq: str, today: str, needs: bool = False):
    """Everything the coverage page shows for ``[start, end)`` (``access.coverage_report``); with
    ``needs`` also each ward's capacity curve, as the municipal report has it (that takes a few
    seconds per ward)."""
    from datetime import date

    return access.coverage_report(store(url), user, date.fromisoformat(start), date.fromisoformat(end), freq=freq,
                                  data_dir=data_dir, today=date.fromisoformat(today), needs=needs)


@st.cache_data(show_spinner=False, ttl=600)
def default_outcome(url: str, outcomes: tuple[int, int], version: str) -> str:
    """What the effect review measures unless told otherwise (registered crime of the wards, or signals)."""
    from planner.review.effect import default_outcome as outcome

    return outcome(store(url))


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def effect_review(url: str, version: str, patrols: int, outcomes: tuple[int, int], start: str, end: str,
                  split: str, treated: tuple[str, ...] | None, outcome: str, today: str):
    """The effect review with a chosen split, outcome and (or else the patrol log's) treated wards."""
    from datetime import date

    from planner.review.effect import EffectDesign
    from planner.review.effect import effect_review as review

    return review(store(url), date.fromisoformat(start), date.fromisoformat(end), split=date.fromisoformat(split),
                  design=EffectDesign(treated=list(treated) if treated else None, outcome=outcome),
                  today=date.fromisoformat(today))


@st.cache_data(show_spinner=False, ttl=600, max_entries=16)
def capacity(url: str, version: str, patrols: int, data_dir: str, ward: str, teams: int, now: str):
    """What ``ward`` needs: its capacity curve with ``teams`` teams a night."""
    from datetime import date

    from planner.review.capacity import CapacityParams, capacity_for

    return capacity_for(store(url), ward, data_dir=data_dir, params=CapacityParams(teams=teams),
                        now=date.fromisoformat(now))


@st.cache_data(show_spinner=False, ttl=3600, max_entries=8)
def model_card(url: str, version: str, language: str) -> str:
    """The model card with the latest backtest on the store's own signals (a few seconds)."""
    from planner.review.modelcard import model_card as card

    return card(store(url), language=language)
