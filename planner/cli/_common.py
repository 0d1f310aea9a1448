"""What every command group shares: the app and its global options, the one error style, the
sign-in (the CLI's trust model), the store and the echo helpers."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

# Typer runs its own copy of click: its usage errors are these classes, not the installed click's.
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from .. import settings
from .._errors import Notice, PlannerError, phrased


@contextmanager
def _one_line_usage_errors():
    try:
        yield
    except NoArgsIsHelpError:
        raise  # its "message" is the help text a bare group shows
    except UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else "was-planner"
        typer.echo(f"error: {error.format_message()} (see `{where} --help`)", err=True)
        raise typer.Exit(code=error.exit_code) from None


class _Commands(typer.core.TyperGroup):
    """Bad usage (an unknown command, a missing option, a value of the wrong type) answers as every
    other bad input does, with one line naming the option (``cli_errors``), not click's usage box;
    the exit code stays click's 2. Every command's parsing runs inside the app's ``invoke``."""

    def make_context(self, *args: Any, **kwargs: Any) -> typer.Context:
        with _one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context) -> Any:
        with _one_line_usage_errors():
            return super().invoke(ctx)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and command.help:
            command.help = _rewrappable(command.help)
        return command


def _rewrappable(help_text: str) -> str:
    """A docstring's paragraphs each on one line: Typer's rich help keeps the source's line breaks
    and then wraps again to the terminal, which breaks lines mid-sentence."""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in paragraph.split("\n")) for paragraph in paragraphs)


def command_group(help_text: str) -> typer.Typer:
    """A sub-command group (``was-planner wards ...``): its help when called bare, its commands'
    help and usage errors the same as the top level's."""
    return typer.Typer(cls=_Commands, help=help_text, no_args_is_help=True)


app = typer.Typer(
    cls=_Commands,
    help="WAS Planner: hotspots, walking patrol routes and coverage for Wijk en Agent Samen teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Paths:
    """Where this invocation keeps its data: resolved once from the global options."""

    data_dir: Path
    db_url: str


class _StderrLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(record.getMessage(), err=True)


_PROGRESS = _StderrLines(level=logging.INFO)
"""Shows on stderr what every command should show while it works: a re-fit of the risk surface."""


@app.callback()
def _global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: WAS_DATABASE_URL or DATA_DIR/was.db)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default: WAS_DATA_DIR or ./data)."),
    ] = None,
) -> None:
    tuning = logging.getLogger("planner.hotspots.tuning")
    tuning.setLevel(logging.INFO)
    if _PROGRESS not in tuning.handlers:
        tuning.addHandler(_PROGRESS)
    directory = data_dir if data_dir is not None else settings.data_dir()
    ctx.obj = Paths(data_dir=directory, db_url=db or settings.database_url(directory))


_FLAGS = {"day": "--date"}
"""Options whose flag is not their parameter's name spelled the CLI's way."""


def flag(option: str) -> str:
    """How the CLI names a core option in its messages: ``date_format`` → ``--date-format``."""
    return _FLAGS.get(option) or "--" + option.replace("_", "-")


def cli_text(text: str | Notice | PlannerError) -> str:
    """A core error or warning as the CLI says it: options named by their flags, then the commands
    that show or fix it (``commands``), "see `was-planner agreements list`"."""
    said = phrased(text, flag)
    commands = getattr(text, "commands", ())
    if commands:
        said += "; see " + " or ".join(f"`was-planner {command}`" for command in commands)
    return said


def cli_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``PlannerError`` into a one-line message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PlannerError as error:
            typer.echo(f"error: {cli_text(error)}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def _os_user() -> str:
    import getpass
    import os

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container: the uid still says who
        return f"uid {os.getuid()}"


def signed_in(store, user: str | None, password: str | None, permission: str | None):
    """Who runs this command (the CLI's trust model, README "Who may use the CLI").

    Without accounts the operator of the machine may do everything, as an admin named after the
    operating-system user (whoever has the database file has the data). With accounts, ``user``
    signs in (the password is asked for when not given) and must have ``permission``; without
    ``user`` only a permission every role has is granted, with the least role (``resident``).
    Either way the audit log records the operating-system user as where the action came from.
    """
    from dataclasses import replace

    from ..access import PERMISSIONS, accounts_exist, require
    from ..users import ROLES, User, authenticate

    via = f"cli (os user {_os_user()})"
    if not accounts_exist(store):
        return User(name=_os_user(), role="admin", via=via)
    if not user:
        if permission is not None and ROLES[0] in PERMISSIONS[permission]:
            return User(name=_os_user(), role=ROLES[0], via=via)
        msg = "this installation has accounts: give --user (or WAS_USER) with a role that may do this"
        raise PlannerError(msg)
    if password is None:
        password = typer.prompt("Password", hide_input=True)
    account = replace(authenticate(store, user, password), via=via)
    if permission is not None:
        require(account, permission)
    return account


USER = Annotated[str | None, typer.Option("--user", envvar="WAS_USER", help="Your account, in an installation "
                                           "with accounts (see README: who may use the CLI).")]
PASSWORD = Annotated[str | None, typer.Option("--password", envvar="WAS_PASSWORD", hide_input=True,
                                               help="Your password; asked for when needed and not given.")]


def echo_json(payload: Any) -> None:
    """Print exactly one JSON object (or list) on stdout."""
    typer.echo(json.dumps(payload, ensure_ascii=False))


def echo_result(result: Any, as_json: bool, *, say: Callable[[str], str] | None = None) -> None:
    """Print a result object: its ``to_json()`` with ``--json``, else its ``summary()`` text
    (``summary(say)`` where the summary words warnings, ``say=cli_text``)."""
    if as_json:
        echo_json(result.to_json())
        # stdout stays one object, but a warning such as "read day-first" must not go unsaid.
        for warning in getattr(result, "warnings", ()):
            typer.echo(f"warning: {(say or str)(warning)}", err=True)
    else:
        typer.echo(result.summary() if say is None else result.summary(say))


def store_of(ctx: typer.Context):
    from ..access import open_store

    return open_store(ctx.obj.db_url)


class EchoProgress:
    """While active, show the INFO log lines of some planner modules as progress lines on stderr."""

    def __init__(self, *loggers: str) -> None:
        import logging
        import time

        start = time.perf_counter()

        class Echo(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                typer.echo(f"[{time.perf_counter() - start:6.1f}s] {record.getMessage()}", err=True)

        self._info = logging.INFO
        self._handler = Echo(level=logging.INFO)
        self._loggers = [logging.getLogger(name) for name in loggers]
        self._levels = [logger.level for logger in self._loggers]

    def __enter__(self) -> None:
        for logger in self._loggers:
            logger.setLevel(self._info)
            logger.addHandler(self._handler)

    def __exit__(self, *_exc: object) -> None:
        for logger, level in zip(self._loggers, self._levels, strict=True):
            logger.removeHandler(self._handler)
            logger.setLevel(level)


def day_option(text: str | None, flag: str):
    """A ``YYYY-MM-DD`` option as a date (``None`` when not given)."""
    from .._parse import parse_day

    return parse_day(text, what=flag)


def time_window(window: str | None, day: str | None):
    """The ``--window``/``--day`` pair as a ``TimeWindow``: a day without a window is that whole
    day, neither is no window at all."""
    from ..hotspots import TimeWindow

    if day and not window:
        window = "00:00-24:00"
    return TimeWindow.parse(window, day=day) if window else None


def ward_name(store, ward: str) -> str:
    from ..signals.wards import find_ward

    return find_ward(ward, store.wards())
