"""Error hierarchy: the CLI and the dashboard show a ``PlannerError``'s message to the user;
any other exception is a bug and should surface loudly."""


class PlannerError(Exception):
    """Base class of every error WAS Planner raises on purpose."""


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
