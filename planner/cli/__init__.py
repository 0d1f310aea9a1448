"""``was-planner``: the command-line interface, a thin layer over the planner functions.

Every command catches ``PlannerError`` and answers with a one-line message and exit code 2;
``--json`` output is exactly one JSON object on stdout, built by the result's ``to_json()``.
One module per command group registers its commands on ``app`` when imported (``_common``
holds what they share).
"""

# isort: off
# Importing a group registers its commands; the order here is the order ``--help`` lists them.
from . import signals, demo, routes, nightly, hotspots, admin, patrols, review  # noqa: F401
# isort: on
from ._common import app

__all__ = ["app"]
