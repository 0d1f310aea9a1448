"""The patrol log: planned patrols saved from the route planner, read back for variety."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from ._errors import DataNotFoundError, InputError
from .store import Store, patrols_table, wards_table

PLANNED = "planned"


@dataclass(frozen=True)
class SavedPatrol:
    """A patrol as stored: when, where, how many people, and the route it follows."""

    id: int
    ward: str
    status: str
    planned_start: datetime
    planned_end: datetime
    team_size: int

    def to_json(self) -> dict:
        return {
            "id": self.id, "ward": self.ward, "status": self.status,
            "planned_start": self.planned_start.isoformat(), "planned_end": self.planned_end.isoformat(),
            "team_size": self.team_size,
        }


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        msg = f"patrol times must carry a timezone, got {moment.isoformat()}"
        raise InputError(msg)
    return moment.astimezone(UTC).replace(tzinfo=None)


def save_planned_patrol(
    store: Store,
    *,
    ward: str,
    start: datetime,
    minutes: float,
    team_size: int,
    route_geojson: dict,
    edges: frozenset = frozenset(),
) -> SavedPatrol:
    """Store a planned patrol with its route (GeoJSON) and the street edges it walks.

    ``start`` must be timezone-aware; ``edges`` are ``(u, v)`` node pairs of the ward graph,
    kept so the next plans can vary from this one.
    """
    if team_size < 1:
        msg = f"team_size must be ≥ 1, got {team_size}"
        raise InputError(msg)
    if minutes <= 0:
        msg = f"minutes must be > 0, got {minutes}"
        raise InputError(msg)
    document = {**route_geojson, "edges": sorted([list(map(int, e[:2])) for e in edges])}
    with store.transaction() as conn:
        ward_id = store.ward_ids(conn).get(ward)
        if ward_id is None:
            msg = f"no ward {ward!r} in the store"
            raise DataNotFoundError(msg)
        begin = _utc_naive(start)
        row = {
            "ward_id": ward_id, "status": PLANNED, "planned_start": begin,
            "planned_end": begin + timedelta(minutes=minutes), "team_size": int(team_size),
            "route_geojson": json.dumps(document), "created_at": datetime.now(UTC).replace(tzinfo=None),
        }
        patrol_id = conn.execute(insert(patrols_table).values(row)).inserted_primary_key[0]
    end = start + timedelta(minutes=minutes)
    return SavedPatrol(patrol_id, ward, PLANNED, start, end, int(team_size))


def recent_patrol_edges(store: Store, ward: str, *, last: int = 3) -> frozenset:
    """The street edges of the ward's ``last`` most recent patrols (planned or walked)."""
    query = (
        select(patrols_table.c.route_geojson)
        .select_from(patrols_table.join(wards_table, patrols_table.c.ward_id == wards_table.c.id))
        .where(wards_table.c.name == ward)
        .order_by(patrols_table.c.planned_start.desc(), patrols_table.c.id.desc())
        .limit(last)
    )
    with store.engine.connect() as conn:
        documents = conn.execute(query).scalars().all()
    edges = set()
    for document in documents:
        for u, v in json.loads(document or "{}").get("edges", []):
            edges.add((u, v))
    return frozenset(edges)
