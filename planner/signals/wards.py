"""Wards (wijken): reading and validating ward polygons, assigning points to them, and fetching
the official CBS wards from PDOK for users with internet."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .. import settings
from .._errors import DataNotFoundError, InputError, OfflineError
from .._geo import require_crs

log = logging.getLogger(__name__)

_NAME_COLUMNS = ("WK_NAAM", "wijknaam", "name", "naam", "BU_NAAM", "buurtnaam")
_CODE_COLUMNS = ("WK_CODE", "wijkcode", "code", "BU_CODE", "buurtcode")
_BUURT_COLUMNS = (("BU_NAAM", "buurtnaam", "name", "naam"), ("BU_CODE", "buurtcode", "code"))
"""A CBS buurten file also has its wijk's ``WK_CODE``: its areas are named and coded as buurten,
so that a buurt keeps its own ``BU`` code beside the wijken."""

PDOK_WFS = "https://service.pdok.nl/cbs/wijkenbuurten/2024/wfs/v1_0"
"""CBS Wijk- en Buurtkaart web feature service (the official online source of Dutch wards)."""


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            msg = f"--{what}-col {wanted!r} is not a column of the ward file; it has: {', '.join(columns)}"
            raise InputError(msg)
        return wanted
    lowered = {c.lower(): c for c in columns}
    return next((lowered[c.lower()] for c in candidates if c.lower() in lowered), None)


def read_wards(path: str | Path, *, name_col: str | None = None, code_col: str | None = None) -> gpd.GeoDataFrame:
    """Read ward polygons (GeoJSON, GeoPackage, shapefile) as ``name``, ``code``, ``geometry``.

    CBS columns ``WK_NAAM``/``WK_CODE`` are recognised; other files name theirs with
    ``name_col``/``code_col``. The result is validated with ``validate_wards``.
    """
    path = Path(path)
    if not path.exists():
        msg = f"ward file not found: {path}"
        raise DataNotFoundError(msg)
    try:
        raw = pyogrio.read_dataframe(path)
    except Exception as error:  # GDAL raises several error types for unreadable files
        msg = f"{path.name}: not a readable GeoJSON/GeoPackage/shapefile ({error})"
        raise InputError(msg) from None
    if not isinstance(raw, gpd.GeoDataFrame):
        msg = f"{path.name}: has no geometry; ward files need polygons"
        raise InputError(msg)
    columns = [c for c in raw.columns if c != raw.geometry.name]
    buurten = {c.lower() for c in columns} & {c.lower() for group in _BUURT_COLUMNS for c in group[:2]}
    names, codes = _BUURT_COLUMNS if buurten else (_NAME_COLUMNS, _CODE_COLUMNS)
    name = _pick(columns, name_col, names, "name")
    if name is None:
        msg = f"{path.name}: no ward name column found (looked for {', '.join(names)}); give {{name_col}}"
        raise InputError(msg, options=("name_col",))
    code = _pick(columns, code_col, codes, "code")
    wards = gpd.GeoDataFrame(
        {
            "name": raw[name].astype(str).str.strip(),
            "code": raw[code].astype(str).str.strip() if code else None,
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )
    return validate_wards(wards, source=path.name)


def validate_wards(wards: gpd.GeoDataFrame, *, source: str = "wards") -> gpd.GeoDataFrame:
    """Check wards have a CRS, unique non-empty names and valid polygons.

    Slightly invalid polygons (self-touching rings from generalisation) are repaired with
    ``shapely.make_valid``; a geometry that is not polygonal is refused.
    """
    require_crs(wards, "wards")
    if wards.empty:
        msg = f"{source}: contains no wards"
        raise InputError(msg)
    names = wards["name"]
    if (names == "").any() or names.isna().any():
        msg = f"{source}: ward {int(np.flatnonzero((names == '') | names.isna())[0]) + 1} has no name"
        raise InputError(msg)
    repeated = names[names.duplicated()].unique()
    if len(repeated):
        msg = f"{source}: ward names must be unique; repeated: {', '.join(repeated)}"
        raise InputError(msg)
    wards = wards.copy()
    geometry = wards.geometry
    invalid = ~geometry.is_valid
    if invalid.any():
        geometry = geometry.where(~invalid, shapely.make_valid(geometry.values))
        log.info("repaired %d invalid ward polygons", int(invalid.sum()))
    polygonal = geometry.map(lambda g: g is not None and not g.is_empty).astype(bool) & geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    )
    if not polygonal.all():
        bad = wards["name"][~polygonal].iloc[0]
        msg = f"{source}: ward {bad!r} is not a polygon ({geometry[~polygonal].iloc[0].geom_type}); wards must be areas"
        raise InputError(msg)
    wards = wards.set_geometry(geometry)
    _require_inhabited_latitudes(wards, source)
    return wards


_CITY_LATITUDES = (-60.0, 75.0)
"""No town lies outside these latitudes (Ushuaia −55°, Longyearbyen 78° has no wards to patrol)."""


def _require_inhabited_latitudes(wards: gpd.GeoDataFrame, source: str) -> None:
    """Refuse wards where no town is: most often longitude and latitude swapped in the file, which
    would otherwise load and then reject every signal as outside every ward."""
    bounds = wards.to_crs(settings.WGS84).bounds
    outside = (bounds["miny"] < _CITY_LATITUDES[0]) | (bounds["maxy"] > _CITY_LATITUDES[1])
    if outside.any():
        row = bounds[outside].iloc[0]
        name = wards["name"][outside].iloc[0]
        msg = (f"{source}: ward {name!r} lies at latitude {(row['miny'] + row['maxy']) / 2:.2f}, longitude "
               f"{(row['minx'] + row['maxx']) / 2:.2f}, where no town is: are longitude and latitude swapped? "
               "GeoJSON and WKT give the longitude first")
        raise InputError(msg)


def find_ward(query: str, wards: pd.DataFrame) -> str:
    """The stored ward name a user means by ``query``: its name, code, or name without the
    CBS ``Wijk 05`` prefix, in any case.

    Raises
    ------
    DataNotFoundError
        No ward matches; the message lists the ward names.
    """
    wanted = query.strip().casefold()
    for _, ward in wards.iterrows():
        short = re.sub(r"^wijk\s+\d+\s+", "", str(ward["name"]), flags=re.IGNORECASE)
        if wanted in {str(ward["name"]).casefold(), str(ward.get("code") or "").casefold(), short.casefold()}:
            return str(ward["name"])
    names = ", ".join(map(str, wards["name"]))
    msg = f"no ward {query!r}; known wards: {names or 'none'}"
    raise DataNotFoundError(msg, commands=() if names else ("wards load FILE",))


def assign_wards(lon: pd.Series, lat: pd.Series, wards: gpd.GeoDataFrame) -> pd.Series:
    """The name of the ward containing each WGS84 point, or None outside every ward.

    A point on a border shared by two wards goes to the one whose name sorts first, so the
    assignment never depends on file order.
    """
    points = gpd.GeoDataFrame(
        {"_row": np.arange(len(lon))},
        geometry=gpd.points_from_xy(np.asarray(lon, float), np.asarray(lat, float)),
        crs=settings.WGS84,
    )
    result = pd.Series([None] * len(points), index=lon.index, dtype=object)
    if wards.empty or points.empty:
        return result
    polygons = wards[["name", "geometry"]].to_crs(settings.WGS84)
    hits = gpd.sjoin(points, polygons, how="inner", predicate="intersects")
    hits = hits.sort_values(["_row", "name"]).drop_duplicates("_row")
    result.iloc[hits["_row"].to_numpy()] = hits["name"].to_numpy()
    return result


def store_wards(store, wards: gpd.GeoDataFrame) -> int:
    """Save ``wards`` in ``store`` and reassign every stored signal; returns how many lie in a ward."""
    store.save_wards(wards)
    if store.is_postgis:
        return store.reassign_wards_in_database()
    points = store.incident_points()
    names = assign_wards(points["lon"], points["lat"], store.wards())
    store.set_incident_wards(pd.Series(names.to_numpy(), index=points["id"].to_numpy(), dtype=object))
    return int(names.notna().sum())


def fetch_wards(municipality: str, *, timeout: float = 30.0) -> gpd.GeoDataFrame:
    """Download a municipality's current CBS wards from PDOK (OSM boundaries as a fallback).

    Raises
    ------
    OfflineError
        Neither PDOK nor OpenStreetMap can be reached.
    DataNotFoundError
        No wards are known for ``municipality``.
    """
    import requests

    flt = (
        "<Filter><PropertyIsEqualTo><PropertyName>gemeentenaam</PropertyName>"
        f"<Literal>{municipality}</Literal></PropertyIsEqualTo></Filter>"
    )
    params = {
        "service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": "wijkenbuurten:wijken",
        "outputFormat": "application/json", "srsName": settings.RD_NEW, "filter": flt,
    }
    try:
        response = requests.get(PDOK_WFS, params=params, timeout=timeout)
        response.raise_for_status()
        raw = gpd.read_file(response.text)
        if raw.crs is None:
            raw = raw.set_crs(settings.RD_NEW)
        wards = gpd.GeoDataFrame(
            {"name": raw["wijknaam"], "code": raw["wijkcode"]}, geometry=raw.geometry, crs=raw.crs
        )
    except requests.RequestException as error:
        log.warning("PDOK unavailable (%s); trying OpenStreetMap boundaries", error)
        wards = _fetch_osm_wards(municipality)
    if wards.empty:
        msg = f"no wards found for municipality {municipality!r}; check the spelling (e.g. Zoetermeer)"
        raise DataNotFoundError(msg)
    return validate_wards(wards, source=f"wards of {municipality}")


def _fetch_osm_wards(municipality: str) -> gpd.GeoDataFrame:
    import osmnx as ox
    import requests

    try:
        # Dutch wards (wijken) are mapped in OSM as administrative boundaries of level 9.
        raw = ox.features_from_place(
            f"{municipality}, Netherlands", tags={"boundary": "administrative", "admin_level": "9"}
        )
    except (requests.RequestException, ConnectionError) as error:
        msg = f"cannot download wards for {municipality!r}: no internet ({error}); load a file with `wards load`"
        raise OfflineError(msg) from None
    raw = raw[raw.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return gpd.GeoDataFrame(
        {"name": raw["name"].astype(str), "code": raw.get("ref", pd.Series(index=raw.index, dtype=str))},
        geometry=raw.geometry,
        crs=raw.crs,
    ).reset_index(drop=True)
