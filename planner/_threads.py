"""Work shared among a few threads, for compiled code that lets the others go on (``settings.kernel_threads``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from . import settings

Item = TypeVar("Item")
Result = TypeVar("Result")


def thread_map(function: Callable[[Item], Result], items: Iterable[Item], *, threaded: bool = True) -> list[Result]:
    """``[function(item) for item in items]``, in that order, on up to ``settings.kernel_threads()``
    threads (one when not ``threaded``: small work gains nothing and loses to the threads' turns)."""
    items = list(items)
    threads = settings.kernel_threads()  # read even when unused, so a mistyped setting is never silent
    workers = min(threads, len(items)) if threaded else 1
    if workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))
