"""The command line the hotspot benchmarks share: ``--shared DIR`` and ``--only NAME``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path


def run_main(doc: str, measure: Callable[..., list[str]], *, shared: Path, choices: Sequence[str]) -> None:
    """Parse the options, print the machine and what ``measure(shared, only=...)`` returns."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=shared)
    parser.add_argument("--only", choices=list(choices))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    print("\n".join(measure(args.shared, only=args.only)))
