"""Agreements ("afspraken"): follow-up actions a WAS team agrees on for a hotspot or a signal.

What is to be done, by whom (a role, never a person's name: "gemeente", "wijkagent",
"woningcorporatie"), by when, and its status (open, in progress, done); linked to a ward and a
place (a hotspot's label and location) or a signal. Overdue = not done and due before today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import pandas as pd

from .._errors import DataNotFoundError, InputError
from .._time import from_utc_naive, now_utc_naive
from ..storage import agreements as agreement_store
from ..storage.store import Store

AGREEMENT_STATUSES = ("open", "in_progress", "done")
"""The status codes (their labels: ``i18n.agreement_status_label``)."""


class Place(NamedTuple):
    """Where an agreement is: ``lat``/``lon`` and a label (``"hotspot 3"``); both or neither of
    ``lat`` and ``lon``."""

    lat: float | None
    lon: float | None
    label: str | None = None


@dataclass(frozen=True)
class Agreement:
    """One agreement (afspraak)."""

    id: int
    ward: str
    what: str
    role: str
    due: date
    status: str
    hotspot: str | None = None
    lat: float | None = None
    lon: float | None = None
    incident_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def is_overdue(self, today: date) -> bool:
        return self.status != "done" and self.due < today

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "ward": self.ward, "what": self.what, "role": self.role, "due": self.due.isoformat(),
            "status": self.status, "hotspot": self.hotspot,
            "location": None if self.lat is None else [round(self.lon, 6), round(self.lat, 6)],
            "incident_id": self.incident_id,
        }


def _check(*, what: str | None = None, role: str | None = None, status: str | None = None,
           lat: float | None = None, lon: float | None = None) -> None:
    if what is not None and not what.strip():
        msg = "what must say what is to be done, got an empty text"
        raise InputError(msg)
    if role is not None and not role.strip():
        msg = "role must name who does it (a role such as gemeente or wijkagent), got an empty text"
        raise InputError(msg)
    if status is not None and status not in AGREEMENT_STATUSES:
        msg = f"status must be one of {', '.join(AGREEMENT_STATUSES)}, got {status!r}"
        raise InputError(msg)
    if (lat is None) != (lon is None):
        msg = "give both lat and lon of the agreement's place, or neither"
        raise InputError(msg)
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"lat/lon {lat},{lon} is not a latitude,longitude pair"
        raise InputError(msg)


def add_agreement(
    store: Store,
    *,
    ward: str,
    what: str,
    role: str,
    due: date,
    status: str = "open",
    place: Place | None = None,
    incident_id: int | None = None,
) -> Agreement:
    """Record an agreement for ``ward``, optionally at a ``place`` (a hotspot's label and location,
    as ``hotspot_place`` gives it) or for a signal."""
    hotspot, lat, lon = (None, None, None) if place is None else (place.label, place.lat, place.lon)
    _check(what=what, role=role, status=status, lat=lat, lon=lon)
    stamp = now_utc_naive()
    with store.transaction() as conn:
        ward_id = store.ward_ids(conn).get(ward)
        if ward_id is None:
            msg = f"no ward {ward!r} in the store"
            raise DataNotFoundError(msg)
        if incident_id is not None and not agreement_store.has_incident(conn, incident_id):
            msg = f"no signal with id {incident_id}"
            raise DataNotFoundError(msg)
        agreement_id = agreement_store.add_agreement(conn, {
            "ward_id": ward_id, "what": what.strip(), "role": role.strip(), "due_date": due, "status": status,
            "hotspot": hotspot, "lat": lat, "lon": lon, "incident_id": incident_id, "created_at": stamp,
            "updated_at": stamp,
        })
    return get_agreement(store, agreement_id)


def _agreement(row) -> Agreement:
    return Agreement(
        id=int(row.id), ward=row.ward, what=row.what, role=row.role, due=row.due_date, status=row.status,
        hotspot=row.hotspot, lat=row.lat, lon=row.lon, incident_id=row.incident_id,
        created_at=from_utc_naive(row.created_at), updated_at=from_utc_naive(row.updated_at),
    )


def get_agreement(store: Store, agreement_id: int) -> Agreement:
    row = agreement_store.agreement_row(store, agreement_id)
    if row is None:
        msg = f"no agreement with id {agreement_id}"
        raise DataNotFoundError(msg, commands=("agreements list",))
    return _agreement(row)


def list_agreements(
    store: Store,
    *,
    ward: str | None = None,
    status: str | None = None,
    overdue_on: date | None = None,
) -> list[Agreement]:
    """Agreements by due date; of one ward, one status, or (``overdue_on``) those overdue that day."""
    _check(status=status)
    rows = agreement_store.agreement_rows(store, ward=ward, status=status, overdue_on=overdue_on)
    return [_agreement(row) for row in rows]


def overdue_per_ward(store: Store, *, today: date) -> dict[str, int]:
    """Number of overdue agreements per ward (every stored ward, 0 when none)."""
    counts = dict.fromkeys(store.wards()["name"], 0)
    for agreement in list_agreements(store, overdue_on=today):
        counts[agreement.ward] = counts.get(agreement.ward, 0) + 1
    return counts


def update_agreement(
    store: Store,
    agreement_id: int,
    *,
    status: str | None = None,
    due: date | None = None,
    what: str | None = None,
    role: str | None = None,
) -> Agreement:
    """Change an agreement's status, due date, text or role."""
    _check(what=what, role=role, status=status)
    values: dict[str, Any] = {"updated_at": now_utc_naive()}
    for key, value in (("status", status), ("due_date", due), ("what", what and what.strip()),
                       ("role", role and role.strip())):
        if value is not None:
            values[key] = value
    if not agreement_store.update_agreement(store, agreement_id, values):
        msg = f"no agreement with id {agreement_id}"
        raise DataNotFoundError(msg, commands=("agreements list",))
    return get_agreement(store, agreement_id)


def hotspot_place(hotspots: pd.DataFrame, number: int, *, ward: str) -> Place:
    """Where an agreement at hotspot ``number`` of ``ward`` lies: ``(lat, lon, label)`` of that
    hotspot's centroid among ``hotspots`` (the ``HotspotResult.hotspots`` its author sees now).

    Raises
    ------
    DataNotFoundError
        ``hotspots`` has no hotspot ``number``.
    """
    row = hotspots[hotspots["id"] == number]
    if row.empty:
        msg = f"{ward} has no hotspot {number} now (it has {len(hotspots)})"
        raise DataNotFoundError(msg)
    return Place(float(row["centroid_lat"].iloc[0]), float(row["centroid_lon"].iloc[0]), f"hotspot {number}")
