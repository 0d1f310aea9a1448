"""Parameter validation in one style: a table of constraints per field, checked on construction.

A params dataclass declares what each field may be, as scikit-learn's ``_parameter_constraints``
does, and checks the table in ``__post_init__``::

    @dataclass(frozen=True)
    class KernelParams:
        bandwidth_m: float = 100.0
        blend: float = 1.0

        _constraints: ClassVar[Constraints] = {"bandwidth_m": real(low=0, low_open=True),
                                                "blend": real(low=0, high=1)}

        def __post_init__(self) -> None:
            check_params(self)

A value that breaks its rule raises one ``InputError`` that names the field and what it may be:
``"bandwidth_m must be > 0, got -1"``. Each rule builder writes that text from its bounds;
``allowed=`` replaces it where a field's meaning needs saying (``"≥ 0 (0 = counts per km)"``).
Checks that join several fields, or that parse a field's items, follow ``check_params`` in
``__post_init__`` with the same message form.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import InputError


@dataclass(frozen=True)
class Rule:
    """What a field may be: ``test(value)`` says whether it is, ``allowed`` says it in words."""

    test: Callable[[Any], bool]
    allowed: str


Constraints = Mapping[str, Rule | tuple[Rule, ...]]
"""Field name → its rule, or rules checked in turn (the first one broken gives the message)."""


def check_params(params: Any, constraints: Constraints | None = None, *,
                 labels: Mapping[str, str] | None = None) -> None:
    """Check every field named in ``constraints`` (default: the class's ``_constraints``).

    ``labels`` (field → how the message names it) says what a field is where users set it
    without knowing the field names: ``"teams (the number of teams …) must be 1, 2 or 3, got 4"``.

    Raises
    ------
    InputError
        For the first field, in table order, whose value breaks a rule.
    """
    table = type(params)._constraints if constraints is None else constraints
    for name, rules in table.items():
        value = getattr(params, name)
        for rule in rules if isinstance(rules, tuple) else (rules,):
            if not rule.test(value):
                label = labels.get(name, name) if labels else name
                raise InputError(f"{label} must be {rule.allowed}, got {value!r}")


def _is_real(value: Any) -> bool:
    # A bool is an int to Python, but never a meant number of metres or days.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        if low_open or high_open:
            return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"{'>' if low_open else '≥'} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '≤'} {high:g}"
    return "a number"


def _within(value: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (value <= low if low_open else value < low):
        return False
    return high is None or (value < high if high_open else value <= high)


def real(*, low: float | None = None, high: float | None = None, low_open: bool = False,
         high_open: bool = False, finite: bool = True, allowed: str | None = None) -> Rule:
    """A number in ``[low, high]`` (``low_open``/``high_open``: the bound itself excluded);
    ``finite`` refuses ``inf`` and ``nan`` (``nan`` never passes a bound either)."""

    def test(value: Any) -> bool:
        return (_is_real(value) and not math.isnan(value) and (not finite or math.isfinite(value))
                and _within(value, low, high, low_open, high_open))

    return Rule(test, allowed or _range_text(low, high, low_open, high_open))


def integer(*, low: int | None = None, high: int | None = None, allowed: str | None = None) -> Rule:
    """A whole number (Python or numpy, not a bool) in ``[low, high]``."""
    if allowed is None:
        if low is not None and high is not None:
            allowed = f"an integer from {low} to {high}"
        else:
            allowed = "an integer " + _range_text(low, high, False, False) if low is not None or high is not None \
                else "an integer"

    def test(value: Any) -> bool:
        return _is_integer(value) and _within(value, low, high, False, False)

    return Rule(test, allowed)


def one_of(*options: Any, allowed: str | None = None) -> Rule:
    """One of ``options``: ``'a' or 'b'`` in words."""
    names = [repr(option) for option in options]
    words = " or ".join(names) if len(names) <= 2 else f"one of {', '.join(names)}"
    return Rule(lambda value: value in options, allowed or words)


def instance(cls: type, *, allowed: str | None = None) -> Rule:
    """An instance of ``cls``."""
    return Rule(lambda value: isinstance(value, cls), allowed or cls.__name__)


def optional(rule: Rule) -> Rule:
    """``None``, or what ``rule`` allows; said as users meet it: a field or flag left out."""
    return Rule(lambda value: value is None or rule.test(value), f"{rule.allowed}, or left out")


def each(rule: Rule, *, allowed: str, empty: bool = False) -> Rule:
    """A sequence whose every item ``rule`` allows (``empty``: none at all is fine too)."""

    def test(value: Any) -> bool:
        try:
            items = list(value)
        except TypeError:
            return False
        return (empty or bool(items)) and all(rule.test(item) for item in items)

    return Rule(test, allowed)
