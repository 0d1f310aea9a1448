"""Error hierarchy: the CLI and the dashboard show a ``PlannerError``'s message to the user;
any other exception is a bug and should surface loudly."""

from __future__ import annotations

from collections.abc import Callable


def _phrase(message: str, options: tuple[str, ...], name: Callable[[str], str]) -> str:
    """``message`` with each ``{option}`` named by ``name(option)``; plain replacement, so braces in
    the values the message quotes stay as they are."""
    for option in options:
        message = message.replace("{" + option + "}", name(option))
    return message


def _plain(option: str) -> str:
    return f"`{option}`"


class PlannerError(Exception):
    """Base class of every error WAS Planner raises on purpose.

    A message describes the problem; it names the options it is about as placeholders,
    ``{date_format}``, listed in ``options`` (the Python parameters' names): each front-end names
    them its own way with ``phrased`` (the CLI its flags, the dashboard its fields); ``str()``
    gives the parameters' names.

    Where a command shows or fixes what the message is about, ``commands`` names it, as the CLI
    spells it without ``was-planner`` (``("agreements list",)``); the message itself does not.
    The CLI adds "see `was-planner agreements list`" (``cli._common.cli_text``); the dashboard,
    whose pages do these things their own way, leaves it out.
    """

    def __init__(self, message: str = "", *, options: tuple[str, ...] = (),
                 commands: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options
        self.commands = commands

    def phrased(self, name: Callable[[str], str]) -> str:
        """The message with each option named by ``name(option)``."""
        return _phrase(str(self.args[0]) if self.args else "", self.options, name)

    def __str__(self) -> str:
        return self.phrased(_plain)


class Notice(str):
    """A warning for the user (an import's ``warnings``), with ``options`` and ``commands`` as in
    ``PlannerError``; as a ``str`` it names the options by the parameters' names."""

    template: str
    options: tuple[str, ...]
    commands: tuple[str, ...]

    def __new__(cls, message: str, *, options: tuple[str, ...] = (), commands: tuple[str, ...] = ()) -> Notice:
        notice = super().__new__(cls, _phrase(message, options, _plain))
        notice.template, notice.options, notice.commands = message, options, commands
        return notice

    def __reduce__(self) -> tuple:
        return _notice, (self.template, self.options, self.commands)

    def phrased(self, name: Callable[[str], str]) -> str:
        """The warning with each option named by ``name(option)``."""
        return _phrase(self.template, self.options, name)


def _notice(message: str, options: tuple[str, ...], commands: tuple[str, ...]) -> Notice:
    return Notice(message, options=options, commands=commands)


def phrased(text: str | Notice | PlannerError, name: Callable[[str], str]) -> str:
    """``text`` with its options named by ``name``: a ``Notice`` or ``PlannerError`` phrased, any
    other text as it is."""
    return text.phrased(name) if isinstance(text, (Notice, PlannerError)) else str(text)


class InputError(PlannerError, ValueError):
    """A user-supplied value, file or parameter is unusable; the message says how to fix it."""


class DataNotFoundError(PlannerError, FileNotFoundError):
    """A file, ward or dataset the caller named does not exist."""


class NoRouteError(PlannerError):
    """No walking route can be planned for the given start, targets and budget."""


class OfflineError(PlannerError):
    """A step needs the internet and the machine has no connection."""


class AccessDeniedError(PlannerError, PermissionError):
    """The signed-in user's role may not do or see this; the message says which role may."""


class AuthenticationError(PlannerError):
    """Unknown user, wrong password or a disabled account (deliberately not saying which)."""
