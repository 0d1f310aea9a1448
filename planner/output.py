"""Files the user asked for: a one-line error when a path cannot be written, and CSV tables whose
cells open safely in a spreadsheet.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection), and signals, descriptions and column names come from
whoever filled in a file or a form. Every CSV the product writes goes through ``write_csv`` or
``csv_bytes``, which prefix such cells with ``'`` so that spreadsheets show them as text. Plain
numbers (``-4.5``, ``+31``) are left alone: they are no formula, and a coordinate must stay a
number when a corrected rejects file is imported again.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from pyogrio.errors import DataSourceError

from ._errors import InputError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def excel_safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` if a spreadsheet would run it as a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are ``excel_safe_cell``."""
    safe = frame.copy()
    safe.columns = [excel_safe_cell(column) for column in frame.columns]
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            safe.isetitem(position, column.map(excel_safe_cell))
    return safe


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failure to create or write ``path`` into an ``InputError`` that names it."""
    try:
        yield
    except IsADirectoryError:
        msg = f"cannot write {path}: it is a folder; give a file name inside it"
        raise InputError(msg) from None
    except (OSError, DataSourceError) as error:  # GDAL reports an unwritable GeoPackage as its own error
        reason = (getattr(error, "strerror", None) or str(error).splitlines()[0]).lower()
        msg = f"cannot write {path}: {reason}; choose a place you can write to"
        raise InputError(msg) from None


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, creating its folder; an ``InputError`` if it cannot."""
    target = Path(path)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target


def csv_bytes(frame: pd.DataFrame, *, sep: str = ";", decimal: str = ".") -> bytes:
    """``frame`` as spreadsheet-safe CSV bytes (UTF-8 with BOM, which Excel needs to see UTF-8)."""
    return excel_safe(frame).to_csv(sep=sep, decimal=decimal, index=False).encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, path: str | Path, *, sep: str = ";", decimal: str = ".") -> Path:
    """Write ``csv_bytes(frame)`` to ``path`` atomically, so a crash never leaves half a file."""
    target = Path(path)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(csv_bytes(frame, sep=sep, decimal=decimal))
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target
