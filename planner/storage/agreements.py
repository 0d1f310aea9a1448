"""The ``agreements`` rows: column values in, rows (with the ward's name) out;
``planner.review.agreements`` gives them meaning."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from .._time import now_utc_naive
from .schema import agreements_table, incidents_table, wards_table
from .store import Store


def _query():
    a = agreements_table
    return select(a, wards_table.c.name.label("ward")).select_from(a.join(wards_table, a.c.ward_id == wards_table.c.id))


def has_incident(conn: Connection, incident_id: int) -> bool:
    t = incidents_table
    return conn.execute(select(t.c.id).where(t.c.id == incident_id)).first() is not None


def add_agreement(conn: Connection, values: Mapping[str, object]) -> int:
    """Insert an agreement (column values); returns its id."""
    return int(conn.execute(insert(agreements_table).values(dict(values))).inserted_primary_key[0])


def agreement_row(store: Store, agreement_id: int) -> Row | None:
    with store.engine.connect() as conn:
        return conn.execute(_query().where(agreements_table.c.id == int(agreement_id))).first()


def agreement_rows(
    store: Store,
    *,
    ward: str | None = None,
    status: str | None = None,
    overdue_on: date | None = None,
) -> list[Row]:
    """Agreements by due date, then id; of one ward, one status, or not done and due before ``overdue_on``."""
    a = agreements_table
    query = _query()
    if ward is not None:
        query = query.where(wards_table.c.name == ward)
    if status is not None:
        query = query.where(a.c.status == status)
    if overdue_on is not None:
        query = query.where(a.c.status != "done", a.c.due_date < overdue_on)
    with store.engine.connect() as conn:
        return conn.execute(query.order_by(a.c.due_date, a.c.id)).all()


def update_agreement(store: Store, agreement_id: int, values: Mapping[str, object]) -> bool:
    """Change an agreement's columns; False if there is none with this id."""
    a = agreements_table
    with store.transaction() as conn:
        return bool(conn.execute(update(a).where(a.c.id == int(agreement_id)).values(dict(values))).rowcount)


def forget_signal_agreements(conn: Connection) -> int:
    """Retention: clear the text and place of agreements that follow up an anonymised signal
    (what was agreed may name or describe the people involved), inside the caller's
    transaction; returns how many were cleared. The ward, role, due date and status stay."""
    a, t = agreements_table, incidents_table
    anonymised = select(t.c.id).where(t.c.anonymised_at.is_not(None))
    cleared = (a.c.what != "") | a.c.lat.is_not(None) | a.c.lon.is_not(None)
    return conn.execute(
        update(a).where(a.c.incident_id.in_(anonymised), cleared)
        .values(what="", lat=None, lon=None, updated_at=now_utc_naive())
    ).rowcount
