"""The patrol log's rows: ``patrols``, what a walk covered (``patrol_walks``) and the private member
names (``patrol_members``). Column values in, rows out; ``planner.patrols`` gives them meaning.

Functions taking ``conn`` run inside the caller's transaction (``Store.transaction``), so a
patrol and its walk are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from .._time import utc_naive
from .schema import patrol_members_table, patrol_visits_table, patrol_walks_table, patrols_table, wards_table
from .store import Store


def _patrol_query():
    p, w, k = patrols_table, wards_table, patrol_walks_table
    return select(
        p.c.id, w.c.name.label("ward"), p.c.status, p.c.planned_start, p.c.planned_end, p.c.actual_start,
        p.c.actual_end, p.c.team_size, p.c.notes, p.c.route_geojson, k.c.source, k.c.path_wkt, k.c.edges_json,
        k.c.length_m, k.c.stops_json, k.c.matched_share,
    ).select_from(p.join(w, p.c.ward_id == w.c.id).outerjoin(k, k.c.patrol_id == p.c.id))


def patrol_rows(
    store: Store,
    *,
    ward: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
) -> list[Row]:
    """Patrols with their walk (if any), oldest first: those starting (actually, else as planned)
    in ``[since, until)``, of one ward or all, of one status or any."""
    p = patrols_table
    query = _patrol_query()
    begin = func.coalesce(p.c.actual_start, p.c.planned_start)
    if ward is not None:
        query = query.where(wards_table.c.name == ward)
    if since is not None:
        query = query.where(begin >= utc_naive(since))
    if until is not None:
        query = query.where(begin < utc_naive(until))
    if status is not None:
        query = query.where(p.c.status == status)
    with store.engine.connect() as conn:
        return conn.execute(query.order_by(begin, p.c.id)).all()


def patrol_row(store: Store, patrol_id: int) -> Row | None:
    """One patrol with its walk (if any); None if there is none with this id."""
    with store.engine.connect() as conn:
        return conn.execute(_patrol_query().where(patrols_table.c.id == int(patrol_id))).first()


def add_patrol(conn: Connection, values: Mapping[str, object]) -> int:
    """Insert a patrol (column values, times naive UTC); returns its id."""
    return int(conn.execute(insert(patrols_table).values(dict(values))).inserted_primary_key[0])


def night_plan(conn: Connection, ward_id: int, night: date) -> Row | None:
    """The ``plan-all`` patrol of a ward and night (``id``, ``status``), if there is one."""
    p = patrols_table
    return conn.execute(select(p.c.id, p.c.status).where(p.c.ward_id == int(ward_id), p.c.planned_night == night)
                        ).first()


def delete_patrol(conn: Connection, patrol_id: int) -> None:
    """Remove a patrol with its walk, visited stops and member names."""
    for column in (patrol_walks_table.c.patrol_id, patrol_visits_table.c.patrol_id, patrol_members_table.c.patrol_id,
                   patrols_table.c.id):
        conn.execute(delete(column.table).where(column == int(patrol_id)))


def update_patrol(conn: Connection, patrol_id: int, values: Mapping[str, object]) -> None:
    conn.execute(update(patrols_table).where(patrols_table.c.id == int(patrol_id)).values(dict(values)))


def patrol_plan(conn: Connection, patrol_id: int) -> Row | None:
    """A patrol's ``ward_id`` and ``route_geojson``; None if there is none with this id."""
    p = patrols_table
    return conn.execute(select(p.c.ward_id, p.c.route_geojson).where(p.c.id == int(patrol_id))).first()


def visit_rows(store: Store, patrol_id: int) -> list[Row]:
    """The stops of a patrol marked visited (``team``, ``stop``, ``visited_at`` naive UTC), in
    the order they were visited."""
    v = patrol_visits_table
    query = select(v.c.team, v.c.stop, v.c.visited_at).where(v.c.patrol_id == int(patrol_id))
    with store.engine.connect() as conn:
        return conn.execute(query.order_by(v.c.visited_at, v.c.team, v.c.stop)).all()


def visit_count(conn: Connection, patrol_id: int) -> int:
    v = patrol_visits_table
    return int(conn.execute(select(func.count()).select_from(v).where(v.c.patrol_id == int(patrol_id))).scalar())


def add_visit(conn: Connection, patrol_id: int, team: int, stop: int, at: datetime) -> datetime:
    """Record a stop as visited at ``at`` (naive UTC) unless it is already; returns the time kept."""
    v = patrol_visits_table
    key = (v.c.patrol_id == int(patrol_id), v.c.team == int(team), v.c.stop == int(stop))
    kept = conn.execute(select(v.c.visited_at).where(*key)).scalar()
    if kept is not None:
        return kept
    conn.execute(insert(v).values(patrol_id=int(patrol_id), team=int(team), stop=int(stop), visited_at=at))
    return at


def delete_visit(conn: Connection, patrol_id: int, team: int, stop: int) -> int:
    """Forget that a stop was visited (a mistaken tap); returns the number of rows removed (0 or 1)."""
    v = patrol_visits_table
    return conn.execute(delete(v).where(v.c.patrol_id == int(patrol_id), v.c.team == int(team),
                                        v.c.stop == int(stop))).rowcount


def replace_walk(conn: Connection, patrol_id: int, values: Mapping[str, object]) -> None:
    """Store what a patrol covered (``patrol_walks`` columns but the id), replacing what was stored."""
    delete_walk(conn, patrol_id)
    conn.execute(insert(patrol_walks_table).values(patrol_id=int(patrol_id), **values))


def delete_walk(conn: Connection, patrol_id: int) -> None:
    conn.execute(delete(patrol_walks_table).where(patrol_walks_table.c.patrol_id == int(patrol_id)))


def track_walks(conn: Connection, *, ward_id: int, status: str, begin: datetime, finish: datetime,
                track_points: int) -> list[tuple[int, str | None]]:
    """``(id, path_wkt)`` of the ward's patrols of ``status`` walked from ``begin`` to ``finish``
    (naive UTC) and recorded from a GPS track of ``track_points`` fixes, oldest first."""
    p, k = patrols_table, patrol_walks_table
    query = select(p.c.id, k.c.path_wkt).select_from(p.join(k, k.c.patrol_id == p.c.id)).where(
        p.c.ward_id == ward_id, p.c.status == status, p.c.actual_start == begin, p.c.actual_end == finish,
        k.c.source == "gpx", k.c.track_points == track_points,
    )
    return [(int(row.id), row.path_wkt) for row in conn.execute(query.order_by(p.c.id))]


def member_names(store: Store, patrol_id: int) -> tuple[str, ...]:
    """The names recorded for a patrol, in the order they were given."""
    m = patrol_members_table
    query = select(m.c.name).where(m.c.patrol_id == int(patrol_id)).order_by(m.c.id)
    with store.engine.connect() as conn:
        return tuple(conn.execute(query).scalars())


def replace_members(conn: Connection, patrol_id: int, names: Sequence[str]) -> None:
    """Store ``names`` as the patrol's members, replacing those stored (none: no members)."""
    m = patrol_members_table
    conn.execute(delete(m).where(m.c.patrol_id == int(patrol_id)))
    if names:
        conn.execute(insert(m), [{"patrol_id": int(patrol_id), "name": n} for n in names])


def forget_patrol_people(conn: Connection, cutoff: datetime) -> tuple[int, int]:
    """Retention: delete the member names and clear the notes of patrols that ended before
    ``cutoff`` (timezone-aware), inside the caller's transaction; returns (names, notes) removed."""
    p, m = patrols_table, patrol_members_table
    ended = func.coalesce(p.c.actual_end, p.c.planned_end, p.c.created_at) < utc_naive(cutoff)
    old = select(p.c.id).where(ended)
    names = conn.execute(delete(m).where(m.c.patrol_id.in_(old))).rowcount
    notes = conn.execute(update(p).where(ended, p.c.notes.is_not(None)).values(notes=None)).rowcount
    return names, notes
