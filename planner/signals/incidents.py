"""Incidents ("signalen"): the schema, the category and source vocabularies, and turning any
table a user hands us into validated rows plus rejected rows that each carry their reason.

Every row ends up in exactly one of the two outputs; nothing valid is dropped.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import logging
import re
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyogrio

from .. import settings
from .._errors import DataNotFoundError, InputError, Notice
from .._geo import transformer
from .._time import local_to_utc, utc_timestamp
from .._validation import Constraints, check_params, one_of, optional

log = logging.getLogger(__name__)

CATEGORIES: dict[str, str] = {
    "burglary": "inbraak",
    "vehicle_crime": "autokraak",
    "youth_nuisance": "jongerenoverlast",
    "vandalism": "vandalisme",
    "street_light": "straatverlichting",
    "suspicious_situation": "verdachte_situatie",
    "drugs": "drugs",
    "violence": "geweld",
    "other": "overig",
}
"""Canonical category code → the Dutch name accepted on input (users read ``i18n.category_label``)."""

SOURCES: dict[str, str] = {
    "resident": "bewoner",
    "was_member": "was_lid",
    "officer": "wijkagent",
    "municipality": "gemeente",
    "police": "politie",
}
SIGNAL_STATUSES: dict[str, str] = {"open": "open", "in_progress": "in_behandeling", "resolved": "opgelost"}

# Further spellings people use; keys are compared after fold_label().
_EXTRA_ALIASES: dict[str, str] = {
    "woninginbraak": "burglary",
    "diefstaluitauto": "vehicle_crime",
    "verlichting": "street_light",
    "lantaarnpaal": "street_light",
    "verdacht": "suspicious_situation",
    "agent": "officer",
    "wasmember": "was_member",
    "waslid": "was_member",
    "inbehandeling": "in_progress",
    "afgehandeld": "resolved",
    # everyday Dutch names, and the crime types of the Dutch police's open data (data.politie.nl)
    "jeugdoverlast": "youth_nuisance",
    "hangjongeren": "youth_nuisance",
    "overlastjongeren": "youth_nuisance",
    "vernieling": "vandalism",
    "vernielingen": "vandalism",
    "vernielingcq.zaakbeschadiging": "vandalism",
    "inbraakwoning": "burglary",
    "pogingtotinbraak": "burglary",
    "autoinbraak": "vehicle_crime",
    "diefstaluit/vanafmotorvoertuigen": "vehicle_crime",
    "diefstalvanmotorvoertuigen": "vehicle_crime",
    "drugsoverlast": "drugs",
    "drugshandel": "drugs",
    "drugs/drankoverlast": "drugs",
    "mishandeling": "violence",
    "bedreiging": "violence",
    "straatroof": "violence",
    "openlijkgeweld(persoon)": "violence",
    "openbareverlichting": "street_light",
    "verdachtpersoon": "suspicious_situation",
    "overige": "other",
    # police.uk crime types
    "criminaldamageandarson": "vandalism",
    "violenceandsexualoffences": "violence",
    "violentcrime": "violence",
    # US open-data portals (Chicago's "Primary Type", UCR offence names)
    "motorvehicletheft": "vehicle_crime",
    "theftfrommotorvehicle": "vehicle_crime",
    "narcotics": "drugs",
    "criminaldamage": "vandalism",
    "assault": "violence",
    "battery": "violence",
}

FIELDS: tuple[str, ...] = (
    "id", "occurred_at", "date", "time", "occurred_from", "occurred_to", "category", "source",
    "lat", "lon", "x", "y", "description", "reported_at", "status", "reporter", "on_patrol",
)
"""Fields a file column can map to (``--mapping column=field``)."""

_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("external_id", "id", "nummer", "nr", "incident_id", "registratienummer", "meldingnummer", "crime_id"),
    "occurred_at": ("occurred_at", "tijdstip", "datumtijd", "datetime", "timestamp", "moment", "month", "maand"),
    "date": ("date", "datum", "dag"),
    "time": ("time", "tijd", "uur"),
    "occurred_from": ("occurred_from", "van", "vanaf", "from", "begin", "start"),
    "occurred_to": ("occurred_to", "tot", "totenmet", "to", "eind", "end"),
    "category": ("category", "categorie", "soort", "type", "crime_type", "primary_type", "offense"),
    "source": ("source", "bron"),
    "lat": ("lat", "latitude", "breedtegraad"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
    "x": ("x", "xrd", "rdx", "xcoord"),
    "y": ("y", "yrd", "rdy", "ycoord"),
    "description": ("description", "omschrijving", "beschrijving", "toelichting"),
    "reported_at": ("reported_at", "gemeld", "gemeldop", "meldtijd", "melddatum"),
    "status": ("status",),
    "reporter": ("reporter", "melder", "naammelder"),
    "on_patrol": ("on_patrol", "tijdenssurveillance", "tijdenspatrouille", "patrol"),
}

COLUMNS: tuple[str, ...] = (
    "external_id", "occurred_from", "occurred_to", "category", "source", "on_patrol", "lat",
    "lon", "description", "reporter", "status", "reported_at", "content_key",
)
"""Columns of a validated incident table (times are timezone-aware UTC)."""

_RD_BOUNDS = (-7_000.0, 289_000.0, 300_000.0, 629_000.0)
_TRUE = {"1", "true", "ja", "yes", "j", "y", "waar"}
_FALSE = {"", "0", "false", "nee", "no", "n", "onwaar"}


def fold_label(text: object) -> str:
    """Case-, space-, underscore- and hyphen-insensitive form used to match names."""
    return re.sub(r"[\s_\-]+", "", str(text).strip().lower().lstrip("\ufeff"))


def _vocabulary(codes: Mapping[str, str]) -> dict[str, str]:
    lookup = {fold_label(code): code for code in codes}
    lookup.update({fold_label(alias): code for code, alias in codes.items()})
    lookup.update({k: v for k, v in _EXTRA_ALIASES.items() if v in codes})
    return lookup


_CATEGORY_LOOKUP = _vocabulary(CATEGORIES)
_SOURCE_LOOKUP = _vocabulary(SOURCES)
_STATUS_LOOKUP = _vocabulary(SIGNAL_STATUSES)


def canonical_category(value: object) -> str | None:
    """The canonical code for a category written in English or Dutch, or None if unknown."""
    return _CATEGORY_LOOKUP.get(fold_label(value))


def accepted(codes: Mapping[str, str]) -> str:
    """``code (dutch)`` list used in error messages."""
    return ", ".join(f"{code} ({alias})" if alias != code else code for code, alias in codes.items())


@dataclass(frozen=True)
class ParseOptions:
    """How to read an incident table.

    Parameters
    ----------
    mapping
        Extra ``file column → field`` pairs for columns the aliases do not recognise.
    date_format
        A ``strptime`` format for every date value (e.g. ``%m/%d/%y %H:%M``); by default ISO 8601
        and day-first Dutch dates (``25-11-2026 22:30``, ``25/11/2026``) are recognised.
    default_source
        Source of rows that do not say who reported them.
    default_category
        Category for rows with a missing or unknown one (a backtest uses ``other``); by default
        such rows are rejected.
    """

    mapping: tuple[tuple[str, str], ...] = ()
    date_format: str | None = None
    default_source: str = "resident"
    default_category: str | None = None

    _constraints: ClassVar[Constraints] = {
        "default_source": one_of(*SOURCES, allowed=f"one of {accepted(SOURCES)}"),
        "default_category": optional(one_of(*CATEGORIES, allowed=f"one of {accepted(CATEGORIES)}")),
    }

    def __post_init__(self) -> None:
        for column, target in self.mapping:
            if target not in FIELDS:
                msg = f"mapping {column}={target}: unknown field {target!r}; use one of {', '.join(FIELDS)}"
                raise InputError(msg)
        check_params(self, labels={"default_source": "source of rows without one",
                                   "default_category": "default category"})
        if self.date_format is not None:
            # Read back a known moment with the same parser the rows go through.
            sample = datetime(2026, 11, 25, 22, 30, 15).strftime(self.date_format)
            try:
                pd.to_datetime(pd.Series([sample]), format=self.date_format)
            except ValueError as error:
                msg = (f"date format {self.date_format!r} is not a strptime format ({error}); "
                       "use e.g. %d-%m-%Y %H:%M or %m/%d/%y")
                raise InputError(msg) from None


def parse_mapping(text: str | None) -> tuple[tuple[str, str], ...]:
    """Parse the CLI's ``--mapping col=field,col2=field2`` into pairs."""
    if not text:
        return ()
    pairs = []
    for item in text.split(","):
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            msg = f"{{mapping}} item {item!r} is not COLUMN=FIELD (e.g. cdatetime=occurred_at)"
            raise InputError(msg, options=("mapping",))
        pairs.append((column.strip(), target.strip()))
    return tuple(pairs)


@dataclass(frozen=True)
class RawTable:
    """A table as read from a file: every cell as text, plus point locations if it had geometry.

    ``problems`` holds the rows the reader could not split into the header's columns, as
    ``(position, reason)``: they are rejected with that reason, the other rows still count.
    ``warnings`` says what the reader noticed about the whole file (for the import summary).
    """

    rows: pd.DataFrame
    lonlat: pd.DataFrame | None = None
    delimiter: str = ","
    name: str = ""
    problems: tuple[tuple[int, str], ...] = ()
    warnings: tuple[str, ...] = ()


def read_table(path: str | Path) -> RawTable:
    """Read a CSV (``,`` ``;`` or tab, UTF-8 with or without BOM; also gzipped, ``.csv.gz`` as open
    data portals export it), GeoJSON or GeoPackage.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file is not a table this function can read.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"file not found: {path}"
        raise DataNotFoundError(msg)
    suffix = path.suffix.lower()
    if suffix in {".geojson", ".json", ".gpkg", ".shp", ".fgb"}:
        return _read_geo_table(path)
    if suffix in {".xlsx", ".xls", ".ods"}:
        msg = f"{path.name}: spreadsheets are not read directly; save it as CSV (';' is fine)"
        raise InputError(msg)
    if suffix == ".gz" and Path(path.stem).suffix.lower() not in {".csv", ".txt", ".tsv", ""}:
        msg = f"{path.name}: only a gzipped CSV is read as it is; unpack it first (gunzip) and give the file inside"
        raise InputError(msg)
    return _read_csv(path)


MAX_UNPACKED_BYTES = 2 * 1024**3
"""Largest table a gzipped CSV may unpack to: a corrupt or hostile file cannot fill the memory."""


def _table_bytes(path: Path) -> bytes:
    """The file's bytes, unpacked when it is gzipped."""
    if path.suffix.lower() != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path) as packed:
            raw = packed.read(MAX_UNPACKED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        msg = f"{path.name}: not a readable gzip file ({error}); give the CSV itself, or gzip it again"
        raise InputError(msg) from None
    if len(raw) > MAX_UNPACKED_BYTES:
        msg = f"{path.name}: unpacks to more than {MAX_UNPACKED_BYTES // 1024**3} GiB; split it into smaller files"
        raise InputError(msg)
    return raw


def _utf16(head: bytes) -> str | None:
    """The UTF-16 codec of a file's first bytes (Excel's "Unicode text"), or None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Without a byte-order mark, text of Latin letters has a NUL in every other byte.
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and b"\x00" not in even and odd.count(0) == len(odd):
        return "utf-16-le"
    if len(head) >= 4 and b"\x00" not in odd and even.count(0) == len(even):
        return "utf-16-be"
    return None


def _decode(raw: bytes, name: str) -> str:
    """The text of a CSV file in UTF-8 (with or without BOM), UTF-16 or Windows-1252."""
    encoding = _utf16(raw[:4096])
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            msg = f"{name}: looks like UTF-16 text but does not decode as it; save it as 'CSV UTF-8' and import that"
            raise InputError(msg) from None
    if b"\x00" in raw[:4096]:
        msg = f"{name}: not a text table (binary content); give a CSV, GeoJSON or GeoPackage"
        raise InputError(msg)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Dutch Excel versions save CSV as Windows-1252.
        return raw.decode("cp1252", errors="replace")


def _read_csv(path: Path) -> RawTable:
    text = _decode(_table_bytes(path), path.name)
    header = next((line for line in text.splitlines() if line.strip()), "")
    if not header:
        msg = f"{path.name}: the file is empty; it needs a header row and at least one row"
        raise InputError(msg)
    delimiter = max([";", ",", "\t", "|"], key=header.count)
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                   if len(r) > 1 or (r and r[0].strip())]
    except csv.Error as error:
        msg = f"{path.name}: not a readable table ({error}); check the delimiter and quotes"
        raise InputError(msg) from None
    columns = _header(records[0], path.name)
    width = len(columns)
    cells, problems = [], []
    for position, record in enumerate(records[1:]):
        extra = record[width:]
        if any(cell.strip() for cell in extra):
            problems.append((position, (
                f"row has {len(record)} cells, the header {width}: a cell holds an unquoted {delimiter!r}; "
                "put that cell in double quotes")))
            # The surplus stays in the last cell, so the rejects file keeps every character.
            record = [*record[:width - 1], delimiter.join(record[width - 1:])]
        # A short row (trailing cells left off) has those cells empty.
        cells.append(record[:width] + [""] * (width - len(record)))
    rows = pd.DataFrame(cells, columns=columns, dtype=object)
    return RawTable(rows=rows, delimiter=delimiter, name=path.name, problems=tuple(problems))


def _header(names: list[str], file_name: str) -> list[str]:
    """Stripped column names; an unnamed column is called by its number, a repeated name is an error."""
    columns = [name.strip() or f"column {number}" for number, name in enumerate(names, 1)]
    first: dict[str, int] = {}
    for number, column in enumerate(columns, 1):
        if column in first:
            msg = (f"{file_name}: column {column!r} appears twice (columns {first[column]} and {number}); "
                   "rename or remove one")
            raise InputError(msg)
        first[column] = number
    return columns


def _read_geo_table(path: Path) -> RawTable:
    notes = []
    # GDAL's complaints come as Python warnings on stderr; they become lines of the import summary.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            layers = [str(name) for name, _ in pyogrio.list_layers(path)]
            if len(layers) > 1:
                notes.append(f"{path.name} has {len(layers)} layers ({', '.join(layers)}); read the first, "
                             f"{layers[0]!r}: save the signals as a file of their own to read another")
            gdf = pyogrio.read_dataframe(path, layer=layers[0] if layers else None)
        except Exception as error:  # pyogrio raises several GDAL error types for unreadable files
            msg = f"{path.name}: not a readable GeoJSON/GeoPackage ({error})"
            raise InputError(msg) from None
    notes += [f"{path.name}: {warning.message}" for warning in caught]
    if gdf.crs is None:
        msg = f"{path.name}: the layer has no CRS; save it with one (GeoJSON is WGS84 by default)"
        raise InputError(msg)
    geometry = gdf.geometry.to_crs(settings.WGS84)
    points = geometry.where(geometry.geom_type == "Point")
    lonlat = pd.DataFrame({"lon": points.x, "lat": points.y}, index=gdf.index)
    lonlat.loc[geometry.isna() | geometry.is_empty, ["lon", "lat"]] = np.nan
    kinds = geometry.geom_type.fillna("none")
    lonlat["kind"] = kinds
    rows = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(str)
    rows = rows.replace({"None": "", "nan": "", "NaT": ""})
    rows["geometry"] = geometry.to_wkt().fillna("")
    return RawTable(rows=rows, lonlat=lonlat, delimiter=",", name=path.name, warnings=tuple(dict.fromkeys(notes)))


def resolve_columns(columns: list[str], mapping: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Which file column feeds each field: explicit mapping first, then the aliases."""
    resolved: dict[str, str] = {}
    for column, target in mapping:
        if column not in columns:
            msg = f"{{mapping}} names column {column!r}, which the file lacks; it has: {', '.join(columns)}"
            raise InputError(msg, options=("mapping",))
        resolved[target] = column
    folded = {fold_label(c): c for c in reversed(columns)}
    taken = set(resolved.values())
    for target, aliases in _FIELD_ALIASES.items():
        if target in resolved:
            continue
        for alias in aliases:
            column = folded.get(fold_label(alias))
            if column is not None and column not in taken:
                resolved[target] = column
                taken.add(column)
                break
    return resolved


@dataclass(frozen=True)
class ParsedIncidents:
    """Result of validating a table: valid rows (``COLUMNS``), rejects (original + reason) and
    warnings about how the table was read."""

    valid: pd.DataFrame
    rejects: pd.DataFrame
    warnings: tuple[str, ...] = ()


def parse_incidents(
    table: RawTable,
    *,
    options: ParseOptions = ParseOptions(),
    now: datetime | None = None,
) -> ParsedIncidents:
    """Validate every row of ``table`` into the incident schema.

    A row is rejected, with a reason naming the field, when its date is missing, unparseable
    or in the future, its location is missing or out of range, or its category, source or
    status is unknown. Ward assignment happens later (``wards.assign_wards``), so that a
    location outside every ward can still be rejected with the ward names at hand.
    """
    rows = table.rows.reset_index(drop=True)
    columns = resolve_columns(list(rows.columns), options.mapping)
    _require_columns(columns, table, options)
    now_utc = utc_timestamp(now if now is not None else datetime.now(UTC))
    n = len(rows)
    reasons = pd.Series([None] * n, dtype=object)
    text = _cells(rows, columns)

    def reject(mask: pd.Series, reason: pd.Series | str) -> None:
        fresh = mask & reasons.isna()
        if fresh.any():
            reasons[fresh] = reason if isinstance(reason, str) else reason[fresh]

    for position, problem in table.problems:
        reasons[position] = problem
    month_first, order_warning = _file_date_order(text, columns, options)
    start, end, time_reason, time_field = _parse_when(text, columns, options.date_format, month_first)
    reject(time_reason.notna(), time_reason)
    future = start > now_utc + pd.Timedelta(minutes=5)
    order = "month-first: 11-25-2026" if month_first else "day-first: 25-11-2026"
    reject(future, f"{time_field}: lies in the future; check it (dates are read {order})")
    end = end.where(end <= now_utc, now_utc)

    lat, lon, where_reason = _parse_location(text, columns, table.lonlat)
    reject(where_reason.notna(), where_reason)

    category = text("category").map(canonical_category)
    if options.default_category:
        category = category.fillna(options.default_category)
    missing_cat = text("category") == ""
    reject(missing_cat & category.isna(), f"category: missing; use one of {accepted(CATEGORIES)}")
    reject(category.isna(), "category: unknown " + text("category").map(repr) + f"; use one of {accepted(CATEGORIES)}")

    source_text = text("source")
    source = source_text.map(lambda v: _SOURCE_LOOKUP.get(fold_label(v)))
    source = source.where(source_text != "", options.default_source)
    reject(source.isna(), "source: unknown " + source_text.map(repr) + f"; use one of {accepted(SOURCES)}")

    status_text = text("status")
    status = status_text.map(lambda v: _STATUS_LOOKUP.get(fold_label(v)))
    status = status.where(status_text != "", "open")
    reject(status.isna(), "status: unknown " + status_text.map(repr) + f"; use one of {accepted(SIGNAL_STATUSES)}")

    patrol_text = text("on_patrol").str.lower()
    reject(~patrol_text.isin(_TRUE | _FALSE), "on_patrol: use ja/nee (yes/no)")
    on_patrol = patrol_text.isin(_TRUE)

    # An unreadable report time is left empty rather than costing a valid signal.
    reported_at, _ = parse_timestamps(text("reported_at"), options.date_format, month_first=month_first)

    ok = reasons.isna()
    valid = pd.DataFrame(
        {
            "external_id": text("id"),
            "occurred_from": start,
            "occurred_to": end,
            "category": category,
            "source": source,
            "on_patrol": on_patrol,
            # Rejected rows may hold 1e308: rounding them would overflow (and warn) for nothing.
            "lat": lat.where(ok).round(7),
            "lon": lon.where(ok).round(7),
            "description": text("description"),
            "reporter": text("reporter"),
            "status": status,
            "reported_at": reported_at,
        }
    )[ok]
    valid["content_key"] = content_keys(valid)
    valid["row_number"] = valid.index + 1
    rejects = rows[~ok].copy()
    rejects["row_number"] = rejects.index + 1
    rejects["reason"] = reasons[~ok]
    log.info("parsed %s: %d valid, %d rejected", table.name or "table", int(ok.sum()), int((~ok).sum()))
    return ParsedIncidents(valid=valid.reset_index(drop=True), rejects=rejects.reset_index(drop=True),
                           warnings=table.warnings + ((order_warning,) if order_warning else ()))


def _cells(rows: pd.DataFrame, columns: dict[str, str]) -> Callable[[str], pd.Series]:
    """``text(field)``: the stripped text of the column feeding ``field``, empty where there is none."""

    def text(name: str) -> pd.Series:
        column = columns.get(name)
        if column is None:
            return pd.Series([""] * len(rows), dtype=object)
        # Empty cells of a GeoPackage or a form arrive as None or NaN: they are empty text.
        return rows[column].astype(object).where(rows[column].notna(), "").astype(str).str.strip()

    return text


def event_ends(rows: pd.DataFrame, *, options: ParseOptions = ParseOptions()) -> pd.Series:
    """When the event of each raw row ended (UTC, like ``occurred_to``), NaT where no date can be
    read from it: how retention judges a rejected row, whatever else was wrong with it."""
    rows = rows.reset_index(drop=True)
    columns = resolve_columns(list(rows.columns), options.mapping)
    if not any(k in columns for k in ("occurred_at", "date", "occurred_from")):
        return pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]")
    text = _cells(rows, columns)
    try:
        month_first, _ = _file_date_order(text, columns, options)
    except InputError:  # dates needing both orders: the rows that read day-first still tell their age
        month_first = False
    start, end, _, _ = _parse_when(text, columns, options.date_format, month_first)
    return end.fillna(start)


def _file_date_order(text: Callable[[str], pd.Series], columns: dict[str, str],
                     options: ParseOptions) -> tuple[bool, str | None]:
    """``date_order`` over every date column of a file (day-first when ``date_format`` is given)."""
    if options.date_format:
        return False, None
    return date_order(pd.concat([text(name) for name in ("occurred_at", "date", "occurred_from", "occurred_to",
                                                         "reported_at") if name in columns]))


def _require_columns(columns: dict[str, str], table: RawTable, options: ParseOptions) -> None:
    has_time = any(k in columns for k in ("occurred_at", "date", "occurred_from"))
    has_place = ("lat" in columns and "lon" in columns) or ("x" in columns and "y" in columns) \
        or table.lonlat is not None
    has_category = "category" in columns or options.default_category is not None
    found = [f"{c} → {f}" for f, c in columns.items()]
    if not (has_time or has_place or "category" in columns):
        msg = (
            f"{table.name or 'the table'}: no recognisable columns (has: {', '.join(map(str, table.rows.columns))}); "
            "name them e.g. datum;tijd;categorie;lat;lon or use {mapping} COLUMN=FIELD"
        )
        raise InputError(msg, options=("mapping",))
    missing = [
        what
        for what, present in (
            ("a date (occurred_at, datum, date or occurred_from)", has_time),
            ("a location (lat+lon or x+y)", has_place),
            ("a category (categorie or category)", has_category),
        )
        if not present
    ]
    if missing:
        # A file of one kind of signal (a police export of assaults) has no category column at all.
        whole_file = "; or give the whole file one with {default_category}" if not has_category else ""
        msg = (
            f"{table.name or 'the table'}: no column for {' and '.join(missing)} "
            f"(recognised: {', '.join(found) or 'nothing'}); rename it or use {{mapping}} COLUMN=FIELD{whole_file}"
        )
        raise InputError(msg, options=("mapping", "default_category"))


_DAYFIRST = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y", "%d/%m/%y")
_MONTHFIRST = tuple(f.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m") for f in _DAYFIRST)
_TIMES = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "")  # 12-hour clocks: US open-data portals
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}(?!\d)")
_EARLIEST = pd.Timestamp(settings.EARLIEST_DAY)
_LATEST = pd.Timestamp(settings.LATEST_DAY) + pd.Timedelta(days=1)
_MONTH = re.compile(r"^\d{4}-\d{1,2}$|^\d{1,2}[-/]\d{4}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_TIME_RANGE = re.compile(r"^(\d{1,2}[:.]\d{2})\s*[-–]\s*(\d{1,2}[:.]\d{2})$")


def date_order(values: pd.Series) -> tuple[bool, str | None]:
    """Whether the numeric dates in ``values`` (``1/2/06``) are month-first, judged over them all.

    A date with a first number over 12 reads only day-first (``13/1/06``), one with a second
    number over 12 only month-first (``1/13/06``); the column is read the one way its dates
    allow. When every date reads both ways the Dutch day-first order is kept and the second
    value says so (a warning for the user); otherwise it is None.

    Raises
    ------
    InputError
        Some dates read only day-first and others only month-first.
    """
    texts = values.astype(str).str.strip()
    # By position: the values may come from several columns, whose row labels repeat.
    parts = texts.str.extract(_NUMERIC_DATE).to_numpy(dtype=float)
    first, second = parts[:, 0], parts[:, 1]
    day_only, month_only = (first > 12) & (second <= 12), (second > 12) & (first <= 12)

    def shown(mask: np.ndarray) -> str:
        position = int(np.argmax(mask))
        return f"{texts.iloc[position]!r} (row {texts.index[position] + 1})"

    if day_only.any() and month_only.any():
        msg = (f"dates: {shown(day_only)} reads only day-first and {shown(month_only)} only month-first; "
               "give the date format ({date_format}, e.g. '%d-%m-%Y')")
        raise InputError(msg, options=("date_format",))
    either = (first <= 12) & (second <= 12) & (first != second)
    if month_only.any() or day_only.any() or not either.any():
        return bool(month_only.any()), None
    example = texts.iloc[int(np.argmax(either))]
    return False, Notice(f"dates such as {example!r} read both day-first and month-first; they were read "
                         "day-first, the Dutch order; if they are month-first, give the date format "
                         f"({{date_format}} '{_month_first_format(example)}')", options=("date_format",))


_DATE_PARTS = re.compile(r"^\d{1,2}([-/.])\d{1,2}[-/.](\d{2,4})\s*(.*)$")


def _reads(text: str, form: str) -> bool:
    try:
        datetime.strptime(text, form)
    except ValueError:
        return False
    return True


def _month_first_format(example: str) -> str:
    """The month-first date format that reads ``example`` (``'02-11-2017 21:00'`` → ``%m-%d-%Y %H:%M``)."""
    parts = _DATE_PARTS.match(example)
    if parts is None:
        return "%m/%d/%y"
    separator, year, rest = parts.groups()
    clock = next((form for form in _TIMES if _reads(rest, form.strip())), "")
    return f"%m{separator}%d{separator}{'%Y' if len(year) == 4 else '%y'}{clock}"


def _to_local_naive(values: pd.Series, date_format: str | None, month_first: bool) -> pd.Series:
    """Parse timestamps without an offset: ``date_format`` only, or ISO then the day-first (or
    month-first) forms, at microseconds so that any year parses and can be judged."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    numeric = _MONTHFIRST if month_first else _DAYFIRST
    formats = [date_format] if date_format else ["ISO8601"] + [d + t for d in numeric for t in _TIMES]
    for fmt in formats:
        todo = out.isna() & (values != "")
        if not todo.any():
            break
        parsed = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            continue
        out[todo] = parsed.astype("datetime64[us]")
    if not date_format:
        months = values.str.match(_MONTH) & out.isna()
        for fmt in ("%Y-%m", "%m-%Y", "%m/%Y"):
            todo = months & out.isna()
            if todo.any():
                out[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce").astype("datetime64[us]")
    return out


def parse_timestamps(
    values: pd.Series, date_format: str | None = None, *, month_first: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Parse text timestamps to a UTC ``(start, end)`` window (NaT where unreadable).

    A full timestamp gives ``start == end``; a date alone covers that day and a month alone
    (``2016-01``) that month, so that aoristic weighting can spread it over its span. Numeric
    dates are day-first unless ``month_first`` (see ``date_order``); a moment before
    ``settings.EARLIEST_DAY`` or after ``settings.LATEST_DAY`` is NaT too (``_parse_window``
    says which).
    """
    start, end, _ = _parse_window(values, date_format, month_first)
    return start, end


def _parse_window(values: pd.Series, date_format: str | None, month_first: bool):
    """``parse_timestamps`` plus, per value, ``"past"`` or ``"future"`` when it parsed but lies
    outside the years the store holds (else None)."""
    values = values.astype(str).str.strip()
    with_offset = values.str.contains(_OFFSET) & values.str.contains(r"\d[T ]\d", regex=True)
    naive = _to_local_naive(values.where(~with_offset, ""), date_format, month_first)
    start = local_to_utc(naive)
    if with_offset.any():
        aware = pd.to_datetime(values[with_offset], format="ISO8601", utc=True, errors="coerce")
        start[with_offset] = aware.astype("datetime64[us, UTC]")
    end = start.copy()
    if not date_format:
        day = values.str.match(_DATE_ONLY)
        month = values.str.match(_MONTH)
        end[day] = local_to_utc(naive[day] + pd.Timedelta(days=1))
        end[month] = local_to_utc(naive[month] + pd.offsets.MonthBegin(1))
    local = start.dt.tz_convert(settings.timezone()).dt.tz_localize(None)
    outside = pd.Series(None, index=values.index, dtype=object)
    outside[local < _EARLIEST] = "past"
    outside[local >= _LATEST] = "future"
    keep = outside.isna()
    return (start.where(keep).astype("datetime64[ns, UTC]"), end.where(keep).astype("datetime64[ns, UTC]"),
            outside)


def _parse_when(text, columns: dict[str, str], date_format: str | None, month_first: bool):
    """Start, end and a rejection reason per row from whichever time columns the file has."""
    n = len(text("category"))
    reason = pd.Series([None] * n, dtype=object)

    def window(values: pd.Series) -> tuple[pd.Series, pd.Series]:
        return _parse_window(values, date_format, month_first)[:2]

    if "occurred_from" in columns:
        start, _, outside = _parse_window(text("occurred_from"), date_format, month_first)
        if "occurred_to" in columns:
            to_text = text("occurred_to")
            _, end = window(to_text)
            end = end.where(to_text != "", start)
        else:
            to_text = pd.Series([""] * n)
            end = start
        field_name, raw = "occurred_from", text("occurred_from")
        bad_to = (to_text != "") & end.isna()
        reason[bad_to] = "occurred_to: cannot read " + to_text[bad_to].map(repr) + " as a date"
        reason[start.notna() & end.notna() & (end < start)] = "occurred_to: lies before occurred_from"
    else:
        if "occurred_at" in columns:
            field_name, raw = "occurred_at", text("occurred_at")
            time_text = pd.Series([""] * n)
        else:
            field_name, raw = "date", text("date")
            time_text = text("time")
        time_range = time_text.str.extract(_TIME_RANGE)
        is_range = time_range[0].notna()
        first_time = time_range[0].where(is_range, time_text).str.replace(".", ":", regex=False)
        combined = (raw + " " + first_time).str.strip()
        start, end, outside = _parse_window(combined, date_format, month_first)
        if is_range.any():
            until = (raw + " " + time_range[1].str.replace(".", ":", regex=False)).where(is_range, "")
            _, range_end = window(until)
            overnight = range_end < start
            range_end = range_end.where(~overnight, range_end + pd.Timedelta(days=1))
            end = end.where(~is_range, range_end)
        date_alone, _ = window(raw)
        bad_time = (time_text != "") & start.isna() & date_alone.notna()
        reason[bad_time] = "time: cannot read " + time_text[bad_time].map(repr) + " (use HH:MM or HH:MM-HH:MM)"
    missing = raw == ""
    reason[missing & reason.isna()] = f"{field_name}: missing; give the date (and time) it happened"
    past = (outside == "past") & reason.isna()
    reason[past] = (f"{field_name}: " + raw[past].map(repr)
                    + f" lies too far in the past (before {settings.EARLIEST_DAY:%Y}); check the year")
    reason[(outside == "future") & reason.isna()] = f"{field_name}: lies in the future; check the year"
    unreadable = start.isna() & reason.isna()
    if date_format and unreadable.any() and start.isna().all():
        # An option that reads no row is the option's mistake: rejecting every row would bury it.
        msg = (f"{{date_format}} {date_format!r} reads none of the file's dates (e.g. {raw[unreadable].iloc[0]!r}); "
               "give the format they are written in, or leave it out to read ISO and Dutch dates")
        raise InputError(msg, options=("date_format",))
    reason[unreadable] = (
        f"{field_name}: cannot read " + raw[unreadable].map(repr)
        + " as a date; use 25-11-2026 22:30 or 2026-11-25T22:30, or give the file's date format"
        " (e.g. %d-%m-%Y %H:%M)"
    )
    return start, end, reason, field_name


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce")


def _parse_location(text, columns: dict[str, str], lonlat: pd.DataFrame | None):
    """WGS84 latitude/longitude per row from lat/lon, RD New x/y or point geometry."""
    n = len(text("category"))
    reason = pd.Series([None] * n, dtype=object)
    lat = pd.Series(np.nan, index=range(n))
    lon = pd.Series(np.nan, index=range(n))
    if "lat" in columns and "lon" in columns:
        lat_text, lon_text = text("lat"), text("lon")
        lat, lon = _number(lat_text), _number(lon_text)
        bad = ((lat_text != "") & lat.isna()) | ((lon_text != "") & lon.isna())
        reason[bad] = "lat/lon: not a number " + (lat_text + ", " + lon_text)[bad].map(repr)
        _reject_off_earth(reason, lat, lon, lat_text + ", " + lon_text, "lat/lon")
    if "x" in columns and "y" in columns:
        x_text, y_text = text("x"), text("y")
        x, y = _number(x_text), _number(y_text)
        use = lat.isna() & lon.isna() & reason.isna()
        bad = use & (((x_text != "") & x.isna()) | ((y_text != "") & y.isna()))
        reason[bad] = "x/y: not a number " + (x_text + ", " + y_text)[bad].map(repr)
        west, south, east, north = _RD_BOUNDS
        out = use & x.notna() & y.notna() & ~(x.between(west, east) & y.between(south, north))
        reason[out & reason.isna()] = (
            "x/y: out of range for RD New (EPSG:28992) " + (x_text + ", " + y_text)[out].map(repr)
            + "; x is -7000..300000 and y 289000..629000 metres"
        )
        convert = use & x.notna() & y.notna() & reason.isna()
        if convert.any():
            to_wgs = transformer(settings.RD_NEW, settings.WGS84)
            lon_rd, lat_rd = to_wgs.transform(x[convert].to_numpy(), y[convert].to_numpy())
            lon[convert], lat[convert] = lon_rd, lat_rd
    if lonlat is not None:
        use = lat.isna() & lon.isna() & reason.isna()
        not_point = use & lonlat["kind"].isin(["none"]).eq(False) & lonlat["lon"].isna()
        reason[not_point] = "geometry: a " + lonlat["kind"][not_point] + ", not a point; give point locations"
        lat = lat.where(~use, lonlat["lat"])
        lon = lon.where(~use, lonlat["lon"])
        shown = lonlat["lat"].astype(str) + ", " + lonlat["lon"].astype(str)
        _reject_off_earth(reason, lat.where(use), lon.where(use), shown, "geometry")
    missing = (lat.isna() | lon.isna()) & reason.isna()
    reason[missing] = "location: missing; give lat and lon (WGS84) or x and y (RD New)"
    return lat, lon, reason


def _reject_off_earth(reason: pd.Series, lat: pd.Series, lon: pd.Series, shown: pd.Series, field: str) -> None:
    """Give rows whose WGS84 point lies off the earth (or infinitely far) or at 0, 0 a reason."""
    out = lat.notna() & lon.notna() & ~((lat.abs() <= 90) & (lon.abs() <= 180))
    reason[out & reason.isna()] = (
        f"{field}: out of range " + shown[out].map(repr) + "; latitude is -90..90 and longitude -180..180"
    )
    zero = (lat == 0) & (lon == 0)
    reason[zero & reason.isna()] = f"{field}: 0, 0 is a missing geocode, not a place"


def content_keys(valid: pd.DataFrame) -> pd.Series:
    """A stable key per incident, so that re-importing the same rows adds nothing.

    Rows that are identical in every field are still separate incidents (police.uk snaps places
    to shared points and times to months): the n-th copy gets its ordinal in the key, so a file
    adds each copy once, and a later file with more copies adds only the extra ones.
    """
    if valid.empty:
        return pd.Series([], index=valid.index, dtype=object)
    parts = (
        valid["external_id"].astype(str) + "|"
        + valid["occurred_from"].dt.strftime("%Y-%m-%dT%H:%M") + "|"
        + valid["occurred_to"].dt.strftime("%Y-%m-%dT%H:%M") + "|"
        + valid["category"] + "|" + valid["lat"].map("{:.6f}".format) + "|"
        + valid["lon"].map("{:.6f}".format) + "|" + valid["description"] + "|" + valid["source"]
    )
    copy = parts.groupby(parts).cumcount()
    parts = parts.where(copy == 0, parts + "#" + copy.astype(str))
    return parts.map(lambda s: hashlib.sha256(s.encode()).hexdigest()[:32])
