"""Error hierarchy: the CLI and the dashboard show a ``PlannerError``'s message to the user;
any other exception is a bug and should surface loudly."""

from __future__ import annotations

from collections.abc import Callable


class PlannerError(Exception):
    """Base class of every error WAS Planner raises on purpose.

    A message names the options it is about as placeholders, ``{date_format}``, listed in
    ``options`` (the Python parameters' names): each front-end names them its own way with
    ``phrased`` (the CLI its flags, the dashboard its fields); ``str()`` gives the parameters' names.
    """

    def __init__(self, message: str = "", *, options: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.options = options

    def phrased(self, name: Callable[[str], str]) -> str:
        """The message with each option named by ``name(option)``; plain replacement, so braces in the
        values the message quotes stay as they are."""
        text = str(self.args[0]) if self.args else ""
        for option in self.options:
            text = text.replace("{" + option + "}", name(option))
        return text

    def __str__(self) -> str:
        return self.phrased(lambda option: f"`{option}`")


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
