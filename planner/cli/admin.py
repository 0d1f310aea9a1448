"""The shared installation: `db upgrade`, `users`, `retention apply`, `export signals`, `audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import (
    PASSWORD,
    USER,
    app,
    cli_errors,
    command_group,
    echo_json,
    echo_result,
    signed_in,
    store_of,
    ward_name,
)

db_app = command_group("Create or upgrade the database schema (SQLite or PostgreSQL + PostGIS).")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@cli_errors
def db_upgrade(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the versions.")] = False,
) -> None:
    """Create or upgrade the schema to this version's (runs the Alembic migrations)."""
    from ..access import upgrade_schema

    url, before, after = upgrade_schema(ctx.obj.db_url)
    if as_json:
        echo_json({"url": url, "before": before, "after": after})
    elif before == after:
        typer.echo(f"{url}: schema version {after}, up to date")
    else:
        typer.echo(f"{url}: schema version {before if before is not None else 'none'} → {after}")


_NEW_PASSWORD = Annotated[
    str,
    typer.Option("--new-password", prompt="New password", hide_input=True, confirmation_prompt=True,
                 envvar="WAS_NEW_PASSWORD", help="The account's password: asked for when not given (or from "
                 "WAS_NEW_PASSWORD, for scripts)."),
]

users_app = command_group("Accounts and roles (resident, officer, municipality, admin).")
app.add_typer(users_app, name="users")


@users_app.command("add")
@cli_errors
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="resident, officer, municipality or admin.")],
    new_password: _NEW_PASSWORD,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Add an account; the password is asked for and stored as an argon2 hash. Once accounts
    exist, only a signed-in admin may add one; the change is recorded in the audit log."""
    from ..access import add_account

    store = store_of(ctx)
    added = add_account(store, signed_in(store, user, password, "manage_users"), name, role=role,
                        password=new_password)
    typer.echo(f"added {added.name} ({added.role})")


@users_app.command("list")
@cli_errors
def users_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """List the accounts with their roles (a signed-in admin, once accounts exist)."""
    from ..access import accounts

    store = store_of(ctx)
    users = accounts(store, signed_in(store, user, password, "manage_users"))
    if as_json:
        echo_json(users)
        return
    for user in users:
        typer.echo(f"{user['name']:<30} {user['role']:<13}{' (disabled)' if user['disabled'] else ''}")


@users_app.command("passwd")
@cli_errors
def users_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    new_password: _NEW_PASSWORD,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Set a new password for an account (a signed-in admin; recorded in the audit log)."""
    from ..access import set_account_password

    store = store_of(ctx)
    set_account_password(store, signed_in(store, user, password, "manage_users"), name, new_password)
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
@cli_errors
def users_disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Disable an account (it can no longer sign in), or re-enable it (a signed-in admin;
    recorded in the audit log)."""
    from ..access import set_account_disabled

    store = store_of(ctx)
    set_account_disabled(store, signed_in(store, user, password, "manage_users"), name, disabled=not enable)
    typer.echo(f"{name} {'enabled' if enable else 'disabled'}")


retention_app = command_group("Anonymise old signals (AVG/GDPR retention).")
app.add_typer(retention_app, name="retention")


@retention_app.command("apply")
@cli_errors
def retention_apply(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Age, e.g. 2y, 18m, 90d (default: WAS_RETENTION or 2y)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the counts.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Remove personal data older than the retention period: signals' description, reporter and exact
    location, rejected rows (also from the rejects files), patrol members and notes, agreements on them."""
    from ..retention import apply_retention

    store = store_of(ctx)
    signed_in(store, user, password, "apply_retention")
    report = apply_retention(store, older_than=older_than, data_dir=ctx.obj.data_dir)
    echo_result(report, as_json)


export_app = command_group("Audited exports of raw signals (signed in as an officer or admin).")
app.add_typer(export_app, name="export")


@export_app.command("signals")
@cli_errors
def export_signals(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Output: .csv (';', Dutch Excel), .geojson or .gpkg.")],
    user: USER = None,
    password: PASSWORD = None,
    ward: Annotated[str | None, typer.Option(help="Only this ward (name or code).")] = None,
    personal: Annotated[bool, typer.Option("--personal", help="Include the reporter (admins only).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the count.")] = False,
) -> None:
    """Export raw signals (points, descriptions) to a file; recorded in the audit log once written."""
    from ..access import export_incidents

    store = store_of(ctx)
    account = signed_in(store, user, password, None)  # export_incidents records a refusal itself
    name = ward_name(store, ward) if ward else None
    exported = export_incidents(store, account, file, ward=name, include_personal=personal)
    if as_json:
        echo_json(exported.to_json())
    else:
        typer.echo(f"wrote {exported.rows} signals to {file} (recorded in the audit log)")


audit_app = command_group("The audit log: views and exports of points, account changes (admins).")
app.add_typer(audit_app, name="audit")


@audit_app.command("show")
@cli_errors
def audit_show(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Newest entries to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Who viewed or exported which signals and changed which accounts, when (newest first)."""
    from ..access import audit_log

    store = store_of(ctx)
    entries = audit_log(store, signed_in(store, user, password, "view_audit"), limit=limit)
    records = [
        {**row, "at": row["at"].isoformat()} for row in entries.to_dict("records")
    ]
    if as_json:
        echo_json(records)
        return
    for row in records:
        typer.echo(f"{row['at'][:19]}  {row['user_name']:<20} {row['role']:<13} {row['action']:<8} "
                   f"{row['n_rows']:>7} rows {row['format'] or '':<8} {row['what']}  [{row['via'] or ''}]")


@audit_app.command("verify")
@cli_errors
def audit_verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: ok, entries, head, broken_id.")]
    = False,
    user: USER = None,
    password: PASSWORD = None,
) -> None:
    """Check the audit log's hash chain: ok with its head hash (note it elsewhere: a rewritten
    log changes it), or the first broken entry and exit code 2."""
    from ..access import verify_audit

    store = store_of(ctx)
    check = verify_audit(store, signed_in(store, user, password, "view_audit"))
    echo_result(check, as_json)
    if not check.ok:
        raise typer.Exit(code=2)
