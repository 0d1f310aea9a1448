"""Accounts: who may sign in, with which role; passwords stored only as argon2id hashes.

Roles: ``resident`` (WAS member), ``officer`` (wijkagent), ``municipality``, ``admin``. What each
role may see is decided in ``access.py``; the dashboard's login form calls ``authenticate``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ._errors import AuthenticationError, DataNotFoundError, InputError
from .storage import accounts as account_store
from .storage.store import Store

log = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("resident", "officer", "municipality", "admin")
"""Every role, least to most trusted in what they may see of raw signals."""

MIN_PASSWORD_LENGTH = 10

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a real password, only used to equalise timing")


@dataclass(frozen=True)
class User:
    """A signed-in person: ``name``, ``role`` (one of ``ROLES``) and ``via``, where they act
    from as the audit log records it (``"dashboard"``, ``"cli (os user NAME)"``)."""

    name: str
    role: str
    via: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            msg = f"role must be one of {', '.join(ROLES)}, got {self.role!r}"
            raise InputError(msg)

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role}


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        msg = f"user name {name!r}: use 1–100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        raise InputError(msg)
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"password must be at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}"
        raise InputError(msg)


def add_user(store: Store, name: str, *, role: str, password: str) -> User:
    """Create an account; the password is stored as an argon2id hash, never as text.

    Raises
    ------
    InputError
        Bad name, unknown role, a password shorter than ``MIN_PASSWORD_LENGTH``, or a taken name.
    """
    user = User(name=_check_name(name), role=role)
    _check_password(password)
    account_store.add_user(store, user.name, user.role, _HASHER.hash(password))
    log.info("added user %s (%s)", user.name, user.role)
    return user


def authenticate(store: Store, name: str, password: str) -> User:
    """The account ``name`` if ``password`` is right and the account is enabled.

    Raises
    ------
    AuthenticationError
        Unknown name, wrong password or disabled account; the message does not say which.
    """
    row = account_store.user_row(store, name) if name else None
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password or "")
        ok = row is not None and not row["disabled"]
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        msg = "unknown user or wrong password"
        raise AuthenticationError(msg)
    if _HASHER.check_needs_rehash(stored):
        account_store.update_user(store, name, password_hash=_HASHER.hash(password))
    return User(name=row["name"], role=row["role"])


def set_password(store: Store, name: str, password: str) -> None:
    """Replace an account's password."""
    _check_password(password)
    if not account_store.update_user(store, name, password_hash=_HASHER.hash(password)):
        msg = f"no user {name!r}"
        raise DataNotFoundError(msg)


def set_disabled(store: Store, name: str, *, disabled: bool = True) -> None:
    """Disable (or re-enable) an account; a disabled account cannot sign in."""
    if not account_store.update_user(store, name, disabled=disabled):
        msg = f"no user {name!r}"
        raise DataNotFoundError(msg)


def list_users(store: Store) -> list[dict]:
    """``[{"name", "role", "disabled"}]`` sorted by name (never the hashes)."""
    return [{"name": r["name"], "role": r["role"], "disabled": bool(r["disabled"])}
            for r in account_store.user_rows(store)]


def parse_role_map(text: str | None) -> dict[str, str]:
    """``"wijkagenten=officer,was-leden=resident"`` → ``{claim value: role}``; ``None`` or empty →
    each role's own name (a claim value ``officer`` is the officer role).

    Raises
    ------
    InputError
        A pair without ``=`` or a role not in ``ROLES``.
    """
    if not text or not text.strip():
        return {role: role for role in ROLES}
    mapping = {}
    for pair in text.split(","):
        value, sep, role = (part.strip() for part in pair.partition("="))
        if not sep or not value or role not in ROLES:
            msg = f"WAS_OIDC_ROLES: {pair.strip()!r} must be CLAIM_VALUE=ROLE with a role of {', '.join(ROLES)}"
            raise InputError(msg)
        mapping[value] = role
    return mapping


def user_from_claims(claims: Mapping[str, object], *, role_claim: str, roles: Mapping[str, str]) -> User:
    """The ``User`` an identity provider signed in: the name from ``email``, else
    ``preferred_username``, else ``sub``; the role from ``claims[role_claim]`` (one value or a
    list, such as groups) through ``roles``; with several, the most trusted (``ROLES`` order).

    Raises
    ------
    AuthenticationError
        No name, or no value of the claim maps to a role (the message names the claim).
    """
    name = next((str(claims[key]) for key in ("email", "preferred_username", "sub") if claims.get(key)), None)
    raw = claims.get(role_claim)
    values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
    matched = {roles[str(value)] for value in values if str(value) in roles}
    if name is None or not matched:
        msg = (f"signed in, but the identity provider gave no WAS role in the claim {role_claim!r}: ask the "
               "administrator to grant one (WAS_OIDC_ROLES maps claim values to roles)")
        raise AuthenticationError(msg)
    return User(name=name, role=max(matched, key=ROLES.index), via="dashboard (oidc)")
