"""Accounts and the audit log: the ``users`` rows (the policy is ``planner.users``) and the
hash-chained ``audit_log`` (what is logged is ``planner.access``'s call)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from .._errors import InputError
from .._time import now_utc_naive
from .schema import audit_table, users_table
from .store import Store

_AUDIT_LOCK = 0x57A5_0014
"""PostgreSQL advisory lock held while an audit entry is appended, so two writers never chain
onto the same previous entry (SQLite's write transactions already run one at a time)."""


AUDIT_GENESIS = "0" * 64
"""The previous-entry hash of the first audit entry."""

_AUDIT_FIELDS = ("at", "user_name", "role", "action", "what", "n_rows", "format", "via", "prev_hash")


def audit_entry_hash(entry: Mapping[str, object]) -> str:
    """sha256 of an audit entry's canonical serialisation: its ``_AUDIT_FIELDS`` as sorted-key
    JSON, the time as naive-UTC ISO text. The id is left out: the previous hash orders entries."""
    canonical = {name: entry[name] for name in _AUDIT_FIELDS}
    canonical["at"] = pd.Timestamp(canonical["at"]).isoformat()
    canonical["n_rows"] = int(canonical["n_rows"])
    text_ = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of ``verify_audit``: entries checked (up to the break), the last good
    hash (the chain's head when intact) and, if broken, the first bad entry's id and why."""

    n_entries: int
    head: str
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    def to_json(self) -> dict:
        return {"ok": self.ok, "entries": self.n_entries, "head": self.head, "broken_id": self.broken_id,
                "reason": self.reason}

    def summary(self) -> str:
        if self.ok:
            return f"ok: {self.n_entries} audit entries chained, head {self.head}"
        return (f"audit log broken at entry {self.broken_id}: {self.reason} "
                f"({self.n_entries} entries before it are intact)")



def add_user(store: Store, name: str, role: str, password_hash: str) -> None:
    """Store a new account; ``InputError`` if the name is taken."""
    try:
        with store.transaction() as conn:
            conn.execute(insert(users_table).values(
                name=name, role=role, password_hash=password_hash, disabled=False, created_at=now_utc_naive(),
            ))
    except IntegrityError:
        msg = f"user {name!r} exists already; pick another name"
        raise InputError(msg) from None


def user_row(store: Store, name: str) -> dict | None:
    """The stored account ``name`` (``name, role, password_hash, disabled``), or None."""
    query = select(users_table.c.name, users_table.c.role, users_table.c.password_hash, users_table.c.disabled)
    with store.engine.connect() as conn:
        row = conn.execute(query.where(users_table.c.name == name)).mappings().first()
    return dict(row) if row is not None else None


def user_rows(store: Store) -> list[dict]:
    """Every account (``name, role, disabled, created_at``), by name."""
    query = select(users_table.c.name, users_table.c.role, users_table.c.disabled, users_table.c.created_at)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.order_by(users_table.c.name)).mappings()]


def update_user(store: Store, name: str, **values: object) -> bool:
    """Change stored account fields (``role``, ``password_hash``, ``disabled``); False if unknown."""
    with store.transaction() as conn:
        result = conn.execute(update(users_table).where(users_table.c.name == name).values(**values))
        return result.rowcount > 0


def add_audit(
    store: Store, *, user_name: str, role: str, action: str, what: str, n_rows: int, format: str | None = None,
    via: str | None = None,
) -> None:
    """Append an entry to the audit log, chained to the previous one (``audit_entry_hash``)."""
    with store.transaction() as conn:
        if store.is_postgis:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        last = conn.execute(
            select(audit_table.c.entry_hash).order_by(audit_table.c.id.desc()).limit(1)
        ).scalar()
        entry = {"at": now_utc_naive(), "user_name": user_name, "role": role, "action": action, "what": what,
                 "n_rows": int(n_rows), "format": format, "via": via, "prev_hash": last or AUDIT_GENESIS}
        conn.execute(insert(audit_table).values(**entry, entry_hash=audit_entry_hash(entry)))


def audit_entries(store: Store, *, limit: int | None = None) -> pd.DataFrame:
    """Audit log, newest first: ``at`` (UTC), ``user_name``, ``role``, ``action``, ``what``,
    ``n_rows``, ``format``, ``via``."""
    query = select(
        audit_table.c.at, audit_table.c.user_name, audit_table.c.role, audit_table.c.action,
        audit_table.c.what, audit_table.c.n_rows, audit_table.c.format, audit_table.c.via,
    ).order_by(audit_table.c.at.desc(), audit_table.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=list(query.selected_columns.keys()))
    frame["at"] = pd.to_datetime(frame["at"]).dt.tz_localize("UTC")
    for column in ("format", "via"):  # None, not NaN, where nothing was recorded
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def verify_audit(store: Store) -> AuditCheck:
    """Walk the audit log's hash chain from the first entry; the first entry whose stored
    hashes do not match (edited, deleted before it, inserted, reordered) breaks it."""
    previous, n_entries = AUDIT_GENESIS, 0
    with store.engine.connect() as conn:
        for row in conn.execute(select(audit_table).order_by(audit_table.c.id)).mappings():
            entry = dict(row)
            if entry["prev_hash"] != previous:
                return AuditCheck(n_entries, previous, broken_id=entry["id"],
                                  reason="its previous-entry hash does not match the entry before it")
            if entry["entry_hash"] != audit_entry_hash(entry):
                return AuditCheck(n_entries, previous, broken_id=entry["id"],
                                  reason="its content does not match its hash")
            previous, n_entries = entry["entry_hash"], n_entries + 1
    return AuditCheck(n_entries, previous)
