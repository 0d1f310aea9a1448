"""Tests for planner/users.py and `was-planner users`: accounts, roles, password hashes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from planner._errors import AuthenticationError, DataNotFoundError, InputError
from planner.cli import app
from planner.storage.schema import users_table
from planner.users import (
    ROLES,
    User,
    add_user,
    authenticate,
    list_users,
    parse_role_map,
    set_disabled,
    set_password,
    user_from_claims,
)

PASSWORD = "correct horse battery"


def test_password_is_stored_only_as_an_argon2_hash(store):
    """The users table holds an argon2id hash, never the password itself."""
    add_user(store, "anna", role="officer", password=PASSWORD)
    with store.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate_returns_the_user_with_its_role(store):
    """The right password gives the account and its role."""
    add_user(store, "anna", role="officer", password=PASSWORD)
    assert authenticate(store, "anna", PASSWORD) == User("anna", "officer")


@pytest.mark.parametrize("name, password", [("anna", "wrong password!"), ("nobody", PASSWORD), ("", ""), ("anna", "")])
def test_failed_logins_all_say_the_same(store, name, password):
    """Wrong password and unknown user are indistinguishable from the message."""
    add_user(store, "anna", role="officer", password=PASSWORD)
    with pytest.raises(AuthenticationError, match=r"^unknown user or wrong password$"):
        authenticate(store, name, password)


def test_disabled_account_cannot_sign_in_and_new_password_works(store):
    """Disabling refuses the login; re-enabling and a new password restore it."""
    add_user(store, "anna", role="resident", password=PASSWORD)
    set_disabled(store, "anna")
    with pytest.raises(AuthenticationError):
        authenticate(store, "anna", PASSWORD)
    set_disabled(store, "anna", disabled=False)
    set_password(store, "anna", "another long one")
    assert authenticate(store, "anna", "another long one").role == "resident"
    with pytest.raises(DataNotFoundError):
        set_password(store, "ghost", "another long one")


@pytest.mark.parametrize(
    "name, role, password, match",
    [("anna", "boss", PASSWORD, "role must be one of"), ("anna", "officer", "short", "at least 10"),
     ("an na", "officer", PASSWORD, "user name"), ("", "officer", PASSWORD, "user name")],
)
def test_bad_accounts_are_refused_with_the_field_named(store, name, role, password, match):
    """Unknown role, short password or a bad name: an InputError naming the problem."""
    with pytest.raises(InputError, match=match):
        add_user(store, name, role=role, password=password)


def test_names_are_unique(store):
    """A second account with a taken name is refused."""
    add_user(store, "anna", role="officer", password=PASSWORD)
    with pytest.raises(InputError, match="exists already"):
        add_user(store, "anna", role="admin", password=PASSWORD)


def test_users_add_prompts_for_the_password_twice(data_dir):
    """`users add NAME --role R` asks for the password (hidden, confirmed) and stores the account;
    once accounts exist, listing and adding need an admin's sign-in."""
    runner = CliRunner()
    result = runner.invoke(app, ["users", "add", "bert", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    admin = {"WAS_USER": "bert", "WAS_PASSWORD": PASSWORD}
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"], env=admin).stdout)
    assert listed == [{"name": "bert", "role": "admin", "disabled": False}]
    bad = runner.invoke(app, ["users", "add", "carl", "--role", "chief"], input=f"{PASSWORD}\n{PASSWORD}\n", env=admin)
    assert bad.exit_code == 2 and "role must be one of" in bad.output


def test_roles_are_the_four_of_the_issue():
    """Roles: resident, officer, municipality, admin."""
    assert ROLES == ("resident", "officer", "municipality", "admin")
    assert list_users.__doc__ and "hashes" in list_users.__doc__


def test_identity_provider_claims_map_to_one_role():
    """A configured claim's values map to roles (the most trusted of several); unmapped values,
    a missing claim or a bad mapping are refused with the claim or pair named."""
    roles = parse_role_map("wijkagenten=officer, was-leden=resident")
    assert roles == {"wijkagenten": "officer", "was-leden": "resident"}
    both = user_from_claims({"email": "j@gemeente.nl", "groups": ["was-leden", "wijkagenten"]}, role_claim="groups",
                            roles=roles)
    assert (both.name, both.role, both.via) == ("j@gemeente.nl", "officer", "dashboard (oidc)")
    single = user_from_claims({"sub": "abc", "was_role": "admin"}, role_claim="was_role", roles=parse_role_map(None))
    assert (single.name, single.role) == ("abc", "admin")
    for claims in ({"email": "x@y.nl", "groups": ["sport"]}, {"email": "x@y.nl"}, {"groups": ["was-leden"]}):
        with pytest.raises(AuthenticationError, match="no WAS role in the claim 'groups'"):
            user_from_claims(claims, role_claim="groups", roles=roles)
    with pytest.raises(InputError, match="'wijkagenten=chief' must be CLAIM_VALUE=ROLE"):
        parse_role_map("wijkagenten=chief")
