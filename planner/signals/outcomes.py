"""Registered crime ("outcomes"): counts of police-registered crime per area and period, the
measure the effect review sets against patrol intensity.

Three kinds of file become one table of counts (area, ward, period, category, count):

- ``politie``: police / CBS open data (47022NED monthly, 47018NED yearly) exported as CSV, one
  count per region code (``WK``/``BU``/``GM``), period and kind of crime;
- ``police-uk``: police.uk street-level crime, one row per crime, counted per loaded ward (or
  per LSOA outside every ward), month and crime type;
- ``long``: one count per row (``area,period,count[,category]``), e.g. a panel someone built.

Every row of a file is either counted exactly once, in its own area or summed into its wijk,
or rejected with a reason that names the field.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import settings
from .._errors import DataNotFoundError, InputError
from ..storage.outcomes import add_outcomes, outcome_frame
from ..storage.store import Store
from .incidents import RawTable, fold_label, read_table
from .intake import rejected_lines, write_rejects
from .wards import assign_wards, find_ward

log = logging.getLogger(__name__)

FORMATS = ("long", "politie", "police-uk")
"""Accepted ``format`` values; also the ``source`` stored with each count."""

TOTAL = "total"
"""Category of a count of all crime (``0.0.0`` Totaal misdrijven, a ``Total`` column value)."""

_TOTALS = {"total", "totaal", "totaalmisdrijven", "0.0.0", "allcrime"}

_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "politie": {
        "area": ("WijkenEnBuurten",),
        "period": ("Perioden",),
        "count": ("GeregistreerdeMisdrijven_1", "GeregistreerdeMisdrijven"),
        "category": ("SoortMisdrijf",),
    },
    "police-uk": {
        "period": ("Month",),
        "category": ("Crime type",),
        "lon": ("Longitude",),
        "lat": ("Latitude",),
        "lsoa": ("LSOA code",),
        "force": ("Reported by",),
    },
    "long": {
        # Order matters: with both `area` and `area_name`, `area` (the code) wins.
        "area": ("area", "wijk", "buurt", "gebied", "neighborhoods", "borough", "area_name"),
        "period": ("period", "periods", "periode", "month", "maand"),
        "count": ("count", "aantal", "total_crime_sum", "crimes"),
        "category": ("category", "categorie", "crime_type", "crimetype_category"),
    },
}
"""Per format, each field's column names (matched ignoring case, spaces, ``_`` and ``-``)."""

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("januari", "january"),
    2: ("februari", "february"),
    3: ("maart", "march", "mrt"),
    4: ("april",),
    5: ("mei", "may"),
    6: ("juni", "june"),
    7: ("juli", "july"),
    8: ("augustus", "august"),
    9: ("september",),
    10: ("oktober", "october"),
    11: ("november",),
    12: ("december",),
}

_PERIOD_HINT = "write YYYY-MM (month), YYYY-Www (ISO week), YYYY-MM-DD (day) or YYYY (year)"
_KEY = ["area", "period_start", "period", "category", "source"]
"""One stored count per key. The source is the format, and for police.uk also the force that
reported the crimes: a force's file for a month (the Met, British Transport Police) adds to the
other forces' counts for the same area rather than replacing them."""


@dataclass(frozen=True)
class OutcomeTable:
    """Registered-crime counts read from one file.

    ``rows`` has the columns area, ward (the matched ward's name or None), period_start
    (``datetime.date``), period ('day', 'week', 'month' or 'year'), category, count (int) and
    source (the format), one row per area, period and category; ``rejects`` the original cells
    of each rejected row plus ``row_number`` and ``reason``; ``read`` the number of rows read;
    ``format`` the format they were read as.
    """

    rows: pd.DataFrame
    rejects: pd.DataFrame
    read: int
    format: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutcomeImport:
    """What an outcomes import did; ``to_json()`` is the contract of ``outcomes import --json``.

    ``read`` and ``rejected`` count rows of the file; ``imported``, ``updated`` and
    ``duplicates`` count stored counts (one per area, period and category: a police.uk file has
    one row per crime, and buurten can be summed into one wijk).
    """

    read: int
    imported: int
    updated: int
    duplicates: int
    rejected: int
    rejects_file: str | None
    areas: int
    matched_wards: int
    periods: int
    batch_id: int
    source: str
    reasons: tuple[tuple[int, str], ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "areas": self.areas,
            "matched_wards": self.matched_wards,
            "periods": self.periods,
        }

    def summary(self, say: Callable[[str], str] = str) -> str:
        """A few lines for people: the counts, then the first rejected rows with their reasons;
        ``say`` words the warnings for the front-end."""
        return "\n".join([
            f"read {self.read} rows ({self.source}): {self.imported} counts new, {self.updated} updated, "
            f"{self.duplicates} already stored; {self.rejected} rows rejected",
            f"areas: {self.areas} ({self.matched_wards} of them loaded wards); periods: {self.periods}",
            *rejected_lines(self.reasons, self.rejected, self.rejects_file, self.warnings, say),
        ])


def parse_period(text: str) -> tuple[date, str]:
    """The start and length ('day', 'week', 'month' or 'year') of a period label.

    Reads ``2021-03`` / ``2021-3``, ISO weeks ``2021-W09`` (starting Monday), days
    ``2021-03-15``, years ``2021``, the police/CBS codes ``2021MM03`` and ``2021JJ00``, and month
    names in Dutch or English before or after the year (``Mrt2021``, ``Sept2021``, ``jan 2021``,
    ``2021 maart``). A three-digit year starting with 0 (``June021``) is read as 2000 + its
    last two digits; a two-digit year is ambiguous and refused.

    Raises
    ------
    InputError
        The label is none of these, or names a quarter (``2021KW01``).
    """
    label = str(text).strip()
    if match := re.fullmatch(r"(\d{4})(?:JJ00)?", label, flags=re.IGNORECASE):
        return _checked(label, int(match[1]), 1, 1), "year"
    if match := re.fullmatch(r"(\d{4})(?:[-/]|MM)(\d{1,2})", label, flags=re.IGNORECASE):
        return _checked(label, int(match[1]), int(match[2]), 1), "month"
    if match := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", label):
        return _checked(label, int(match[1]), int(match[2]), int(match[3])), "day"
    if match := re.fullmatch(r"(\d{4})-?W(\d{1,2})", label, flags=re.IGNORECASE):
        try:
            return date.fromisocalendar(int(match[1]), int(match[2]), 1), "week"
        except ValueError:
            msg = f"unreadable {label!r}: {match[1]} has no ISO week {int(match[2])}"
            raise InputError(msg) from None
    if re.fullmatch(r"\d{4}KW\d{2}", label, flags=re.IGNORECASE):
        msg = f"quarter {label!r} is not supported; export months (MM) or years (JJ) instead"
        raise InputError(msg)
    named = (
        re.fullmatch(r"([^\W\d_]+)\.?[\s/-]*(\d{2,4})", label)
        or re.fullmatch(r"(\d{4})[\s/-]*([^\W\d_]+)\.?", label)
    )
    if named:
        name, year = (named[1], named[2]) if named[1].isalpha() else (named[2], named[1])
        month = _month_number(name)
        if month is not None:
            return _checked(label, _year(year, label), month, 1), "month"
    msg = f"unreadable {label!r}; {_PERIOD_HINT}"
    raise InputError(msg)


def _month_number(name: str) -> int | None:
    """A Dutch or English month name, ``mrt``, or any start of a name of at least three letters."""
    folded = name.casefold()
    if len(folded) < 3:
        return None
    return next((n for n, names in _MONTH_NAMES.items() if any(full.startswith(folded) for full in names)), None)


def _year(digits: str, label: str) -> int:
    if len(digits) == 4:
        return int(digits)
    if len(digits) == 3 and digits.startswith("0"):
        # The Amsterdam panel's `June021`: a dropped "2", the only reading of a leading 0.
        return 2000 + int(digits[1:])
    msg = f"year {digits!r} in {label!r} is ambiguous; write the year in full (e.g. 2021)"
    raise InputError(msg)


def _checked(label: str, year: int, month: int, day: int) -> date:
    try:
        moment = date(year, month, day)
    except ValueError:
        moment = None
    if moment is None or not 1900 <= year <= 2100:
        msg = f"unreadable {label!r}; {_PERIOD_HINT}"
        raise InputError(msg)
    return moment


def _parse_count(text: str) -> int:
    value = str(text).strip()
    if value in {"", "."}:
        # CBS writes '.' for "figure not available", which is not the same as zero.
        msg = f"not available ({value!r})" if value else "missing"
        raise InputError(msg)
    if not re.fullmatch(r"\d+(\.0*)?", value):
        msg = f"not a whole number ≥ 0: {value!r}"
        raise InputError(msg)
    return int(value.split(".")[0])


def _category(text: str) -> str:
    value = str(text).strip()
    if not value:
        msg = "missing"
        raise InputError(msg)
    return TOTAL if fold_label(value) in _TOTALS else value


class _Reasons:
    """The first problem found in each row of a table (None while the row is fine)."""

    def __init__(self, n: int) -> None:
        self.values = pd.Series([None] * n, dtype=object)

    def add(self, mask: pd.Series, field: str, problems: pd.Series | str) -> None:
        fresh = mask & self.values.isna()
        if fresh.any():
            text = problems if isinstance(problems, str) else problems[fresh]
            self.values[fresh] = f"{field}: " + (text if isinstance(text, str) else text.astype(str))

    @property
    def ok(self) -> pd.Series:
        return self.values.isna()


def _parse_each(values: pd.Series, parse) -> tuple[pd.Series, pd.Series]:
    """``parse`` each distinct text once: (parsed values, problems), each None where the other applies."""
    parsed: dict = {}
    problems: dict = {}
    for value in values.unique():
        try:
            parsed[value] = parse(value)
        except InputError as error:
            problems[value] = str(error)
    return (
        pd.Series([parsed.get(v) for v in values], index=values.index, dtype=object),
        pd.Series([problems.get(v) for v in values], index=values.index, dtype=object),
    )


def _resolve(file_format: str, columns: list[str]) -> dict[str, str]:
    """Which file column feeds each field of ``file_format``."""
    folded = {fold_label(c): c for c in reversed(columns)}
    found: dict[str, str] = {}
    for field, aliases in _COLUMNS[file_format].items():
        column = next((folded[fold_label(a)] for a in aliases if fold_label(a) in folded), None)
        if column is not None and column not in found.values():
            found[field] = column
    return found


def _missing(file_format: str, found: dict[str, str]) -> list[str]:
    spec = _COLUMNS[file_format]
    if file_format == "police-uk":
        missing = [spec[f][0] for f in ("period", "category") if f not in found]
        if not ({"lon", "lat"} <= found.keys() or "lsoa" in found):
            missing.append("Longitude and Latitude, or LSOA code")
        return missing
    return [" / ".join(spec[f]) for f in ("area", "period", "count") if f not in found]


def _columns(file_format: str | None, columns: list[str], name: str) -> tuple[str, dict[str, str]]:
    """The format (given, or recognised from the column names) and its columns."""
    shown = ", ".join(map(str, columns))
    if file_format is not None:
        if file_format not in FORMATS:
            msg = f"format {file_format!r} is unknown; use one of {', '.join(FORMATS)}"
            raise InputError(msg)
        found = _resolve(file_format, columns)
        missing = _missing(file_format, found)
        if missing:
            msg = f"{name}: not a {file_format} table: no column {'; '.join(missing)} (it has: {shown})"
            raise InputError(msg)
        return file_format, found
    for candidate in ("politie", "police-uk", "long"):  # `long`'s loose aliases last
        found = _resolve(candidate, columns)
        if not _missing(candidate, found):
            return candidate, found
    msg = (
        f"{name}: no recognisable columns for registered crime counts (it has: {shown}); "
        "give area,period,count[,category] (long), WijkenEnBuurten, Perioden and GeregistreerdeMisdrijven_1 "
        "(politie), or Month, Crime type and Longitude/Latitude or LSOA code (police-uk)"
    )
    raise InputError(msg)


def read_outcomes(
    path: str | Path,
    *,
    format: str | None = None,
    wards: gpd.GeoDataFrame | None = None,
) -> OutcomeTable:
    """Read a file of registered-crime counts (see the module docstring for the formats).

    Parameters
    ----------
    path
        A CSV (``,`` or ``;``, UTF-8 with or without BOM).
    format
        ``long``, ``politie`` or ``police-uk``; None recognises it from the column names.
    wards
        Wards (``name``, ``code``, polygons) to match areas to: by name or CBS code (``long``,
        ``politie``, where buurt counts are summed into a loaded wijk without a row of its own)
        or by location (``police-uk``). None matches nothing.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file is not a table, its columns are not those of any format, or ``format`` is unknown.
    """
    return _read(read_table(path), file_format=format, wards=wards)


def _read(table: RawTable, *, file_format: str | None, wards: gpd.GeoDataFrame | None) -> OutcomeTable:
    rows = table.rows.reset_index(drop=True)
    chosen, found = _columns(file_format, list(rows.columns), table.name or "the table")
    wards = wards if wards is not None else gpd.GeoDataFrame({"name": [], "code": []}, geometry=[])
    reasons = _Reasons(len(rows))
    for position, problem in table.problems:
        reasons.values[position] = problem
    warnings: list[str] = []
    if chosen == "police-uk":
        counts = _police_uk_counts(rows, found, wards, reasons)
    else:
        counts = _row_counts(rows, found, reasons)
        counts = counts.assign(ward=_ward_names(counts["area"], wards))
        # Two areas naming one ward (`Oost` and `WK999902`) would count it twice.
        linked = counts[counts["ward"].notna()]
        key = ["ward", "period_start", "period", "category"]
        counts = counts.drop(index=_reject_repeats(linked, key, reasons, "area", _same_ward))
        if chosen == "politie":
            rejected_areas = _cells(rows, found["area"])[~reasons.ok]
            counts, warnings = _sum_buurten(counts, wards, rejected_areas=rejected_areas)
    if "source" not in counts:
        counts = counts.assign(source=chosen)
    result = outcome_frame(counts.sort_values(_KEY, kind="stable"))
    rejects = rows[~reasons.ok].copy()
    rejects["row_number"] = rejects.index + 1
    rejects["reason"] = reasons.values[~reasons.ok]
    if not wards.empty and len(result) and result["ward"].isna().all():
        warnings.append("no area matched a loaded ward (by name or CBS code, or by location); check the ward names")
    log.info("read %s (%s): %d counts, %d rows rejected", table.name or "table", chosen, len(result), len(rejects))
    return OutcomeTable(
        rows=result, rejects=rejects.reset_index(drop=True), read=len(rows), format=chosen, warnings=tuple(warnings)
    )


def _cells(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows[column].astype(str).str.strip()


def _row_counts(rows: pd.DataFrame, found: dict[str, str], reasons: _Reasons) -> pd.DataFrame:
    """One count per valid row (``long`` and ``politie``); later repeats of a key are rejected."""
    area = _cells(rows, found["area"])
    reasons.add(area == "", "area", "missing")
    period, problem = _parse_each(_cells(rows, found["period"]), parse_period)
    reasons.add(problem.notna(), "period", problem)
    count, problem = _parse_each(_cells(rows, found["count"]), _parse_count)
    reasons.add(problem.notna(), "count", problem)
    if "category" in found:
        category, problem = _parse_each(_cells(rows, found["category"]), _category)
        reasons.add(problem.notna(), "category", problem)
    else:
        category = pd.Series(TOTAL, index=rows.index, dtype=object)
    ok = reasons.ok
    counts = pd.DataFrame({
        "area": area[ok],
        "period_start": [p[0] for p in period[ok]],
        "period": [p[1] for p in period[ok]],
        "category": category[ok],
        "count": count[ok].astype("int64"),
        "row_number": rows.index[ok] + 1,
    }, index=rows.index[ok])
    return counts.drop(index=_reject_repeats(counts, _KEY[:-1], reasons, "area/period/category", _repeated))


def _repeated(row: dict) -> str:
    if row["count"] == row["count_first"]:
        return f"repeats row {row['row_number_first']} (counted once)"
    return (
        f"row {row['row_number_first']} gives {row['count_first']} for the same area, period and category; "
        "keep one of the two rows"
    )


def _same_ward(row: dict) -> str:
    return (
        f"{row['area']!r} is ward {row['ward']}, which row {row['row_number_first']} ({row['area_first']!r}) "
        "counts already for this period and category"
    )


def _reject_repeats(counts: pd.DataFrame, key: list[str], reasons: _Reasons, field: str, describe) -> pd.Index:
    """Reject each row after the first with the same ``key``, with ``describe(row)`` as the reason
    (the row's cells, and the first row's with the suffix ``_first``); returns the rejected rows."""
    again = counts.duplicated(key, keep="first")
    if not again.any():  # nothing repeats (also: no valid rows, which the join cannot type)
        return counts.index[:0]
    later = counts[again].join(counts[~again].set_index(key), on=key, rsuffix="_first")
    said = pd.Series([describe(row) for row in later.to_dict("records")], index=later.index, dtype=object)
    said = said.reindex(reasons.values.index)
    reasons.add(said.notna(), field, said)
    return later.index


def _ward_names(areas: pd.Series, wards: gpd.GeoDataFrame) -> pd.Series:
    """The loaded ward each area names (by name, CBS code or name without ``Wijk 05``), or None."""
    names: dict[str, str | None] = {}
    for area in areas.unique() if not wards.empty else ():
        try:
            names[area] = find_ward(area, wards)
        except DataNotFoundError:
            names[area] = None
    return pd.Series([names.get(a) for a in areas], index=areas.index, dtype=object)


def _sum_buurten(
    counts: pd.DataFrame, wards: gpd.GeoDataFrame, *, rejected_areas: pd.Series
) -> tuple[pd.DataFrame, list[str]]:
    """Sum the buurt (``BU``) counts of a loaded wijk (``WK``) into it, per period and category,
    where the file has no row of the wijk itself: a wijk's count is its own row or the sum of its
    buurten, never both. Buurten of a wijk with its own row stay areas of their own."""
    codes = wards.get("code", pd.Series([""] * len(wards), index=wards.index)).astype(str).str.strip()
    # A code shared by several wards (buurten loaded with their wijk's code) names no one ward.
    unique = codes.str.fullmatch(r"WK\d{6}", case=False) & ~codes.str.upper().duplicated(keep=False)
    wijken = {code.upper(): (name, code) for name, code in zip(wards["name"][unique], codes[unique], strict=True)}
    code = counts["area"].str.upper()
    # BU GGGG WW BB lies in WK GGGG WW: the buurt code's digits 3..8 are its wijk's.
    wijk = "WK" + code.str[2:8]
    buurt = counts["ward"].isna() & code.str.fullmatch(r"BU\d{8}") & wijk.isin(list(wijken))
    if not buurt.any():
        return counts, []
    own = set(zip(counts["ward"], counts["period_start"], counts["period"], counts["category"], strict=True))
    candidates = counts[buurt]
    target = wijk[buurt].map(lambda c: wijken[c][0])
    has_own = pd.Series(
        [key in own for key in zip(target, candidates["period_start"], candidates["period"], candidates["category"],
                                   strict=True)],
        index=candidates.index,
    )
    into = has_own.index[~has_own]
    pieces = counts.loc[into].assign(ward=target[into], area=wijk[into].map(lambda c: wijken[c][1]))
    sums = pieces.groupby(["area", "ward", "period_start", "period", "category"], as_index=False, sort=False)
    sums = sums["count"].sum()
    lost: dict[str, set[str]] = {}
    summed_wijken = set(wijk[into])
    for area in rejected_areas.str.upper():
        if re.fullmatch(r"BU\d{8}", area) and "WK" + area[2:8] in summed_wijken:
            lost.setdefault(wijken["WK" + area[2:8]][0], set()).add(area)
    warnings = [
        f"{name}: summed from its buurten, but rows of {', '.join(sorted(buurten))} were rejected, "
        "so its count may be too low"
        for name, buurten in sorted(lost.items())
    ]
    log.info("summed %d buurt counts into %d wijk counts", len(into), len(sums))
    return pd.concat([counts.drop(index=into), sums], ignore_index=True), warnings


def _police_uk_counts(
    rows: pd.DataFrame, found: dict[str, str], wards: gpd.GeoDataFrame, reasons: _Reasons
) -> pd.DataFrame:
    """Count one crime per row, per loaded ward containing its point (else its LSOA), month and type."""
    n = len(rows)
    period, problem = _parse_each(_cells(rows, found["period"]), parse_period)
    reasons.add(problem.notna(), "period", problem)
    category = _cells(rows, found["category"])
    reasons.add(category == "", "category", "missing (Crime type)")
    blank = pd.Series([""] * n, index=rows.index)
    lon = pd.to_numeric(_cells(rows, found["lon"]) if "lon" in found else blank, errors="coerce")
    lat = pd.to_numeric(_cells(rows, found["lat"]) if "lat" in found else blank, errors="coerce")
    located = lon.between(-180, 180) & lat.between(-90, 90)
    ward = pd.Series([None] * n, index=rows.index, dtype=object)
    if located.any() and not wards.empty:
        ward[located] = assign_wards(lon[located], lat[located], wards).to_numpy()
    lsoa = _cells(rows, found["lsoa"]) if "lsoa" in found else blank
    area = ward.where(ward.notna(), lsoa.where(lsoa != "", None))
    where = "outside every loaded ward" if not wards.empty else "not placed (no wards loaded)"
    outside = lon.map("{:.5f}".format) + ", " + lat.map("{:.5f}".format) + f" lies {where} and the row has no LSOA code"
    reasons.add(area.isna() & located, "location", outside)
    reasons.add(area.isna(), "location", "no coordinates and no LSOA code")
    ok = reasons.ok
    force = _cells(rows, found["force"]) if "force" in found else blank
    crimes = pd.DataFrame({
        "area": area[ok],
        "ward": ward[ok],
        "period_start": [p[0] for p in period[ok]],
        "period": [p[1] for p in period[ok]],
        "category": category[ok],
        "source": ["police-uk" + (f": {f}" if f else "") for f in force[ok]],
    })
    grouped = crimes.groupby(_KEY, sort=False)
    counts = grouped.size().rename("count").reset_index()
    return counts.assign(ward=grouped["ward"].first().to_numpy())


def import_outcomes(
    store: Store,
    path: str | Path,
    *,
    format: str | None = None,
    rejects_dir: Path | None = None,
) -> OutcomeImport:
    """Import a file of registered-crime counts into ``store`` as one transaction.

    Areas are matched to the stored wards (see ``read_outcomes``). A count already stored for
    the same area, period, category and source (for police.uk: the reporting force) is a
    duplicate when equal and replaced (``updated``) when the police revised it. Rejected rows
    are written, with a ``reason`` column and the input's delimiter, to a CSV in ``rejects_dir``
    (default ``DATA_DIR/rejects``) and kept in the store.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file is not a table, its columns are not those of any format, or ``format`` is unknown.
    """
    path = Path(path)
    table = read_table(path)
    wards = store.wards()
    outcome = _read(table, file_format=format, wards=wards)
    warnings = list(outcome.warnings)
    if wards.empty:
        warnings.append("no wards loaded: counts are stored per area, without a ward; load the wards first")
    rejects_file = None
    if len(outcome.rejects):
        directory = Path(rejects_dir) if rejects_dir is not None else settings.data_dir() / "rejects"
        rejects_file = str(write_rejects(outcome.rejects, directory, path.name, table.delimiter))
    counts = add_outcomes(
        store, outcome.rows, outcome.rejects, file_name=path.name,
        content_hash=hashlib.sha256(path.read_bytes()).hexdigest(), read=outcome.read, rejects_file=rejects_file,
    )
    rows = outcome.rows
    report = OutcomeImport(
        read=outcome.read,
        imported=counts.imported,
        updated=counts.updated,
        duplicates=counts.duplicates,
        rejected=len(outcome.rejects),
        rejects_file=rejects_file,
        areas=int(rows["area"].nunique()),
        matched_wards=int(rows["ward"].dropna().nunique()),
        periods=len(set(zip(rows["period_start"], rows["period"], strict=True))),
        batch_id=counts.batch_id,
        source=outcome.format,
        reasons=tuple(zip(outcome.rejects["row_number"].astype(int), outcome.rejects["reason"], strict=True)),
        warnings=tuple(warnings),
    )
    log.info("outcomes import %s: %s", path.name, report.to_json())
    return report
