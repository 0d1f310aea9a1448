"""Choosing the metric CRS (RD New inside the Netherlands, the local UTM zone elsewhere), and the
one cache of coordinate transformers."""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd
from pyproj import CRS, Transformer

from . import settings
from ._errors import InputError

# RD New is only valid over the Netherlands; its area of use in WGS84 degrees.
_NL_BOUNDS = (3.2, 50.75, 7.22, 53.7)


def metric_crs_for(lon: float, lat: float) -> CRS:
    """The metric CRS for work around ``(lon, lat)``: EPSG:28992 in the Netherlands, else UTM."""
    west, south, east, north = _NL_BOUNDS
    if west <= lon <= east and south <= lat <= north:
        return CRS.from_user_input(settings.RD_NEW)
    zone = int((lon + 180) // 6) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs_of(gdf: gpd.GeoDataFrame) -> CRS:
    """The metric CRS for the area a GeoDataFrame covers (it must carry a CRS)."""
    require_crs(gdf, "gdf")
    if gdf.empty:
        msg = "cannot choose a metric CRS for an empty GeoDataFrame"
        raise InputError(msg)
    centre = gdf.to_crs(settings.WGS84).union_all().envelope.centroid
    return metric_crs_for(centre.x, centre.y)


def require_crs(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Refuse a GeoDataFrame without a CRS, saying which call fixes it."""
    if gdf.crs is None:
        msg = (
            f"{name} has no CRS: set the one its coordinates are in, e.g. "
            f"{name}.set_crs('EPSG:4326') for longitude/latitude or "
            f"{name}.set_crs('EPSG:28992') for RD New"
        )
        raise InputError(msg)


def to_metric(gdf: gpd.GeoDataFrame, name: str = "gdf") -> gpd.GeoDataFrame:
    """``gdf`` reprojected to its metric CRS; projected inputs in metres are kept as they are."""
    require_crs(gdf, name)
    if gdf.crs.is_projected and gdf.crs.axis_info[0].unit_name in {"metre", "meter"}:
        return gdf
    return gdf.to_crs(metric_crs_of(gdf))


def transformer(source: Any, target: Any) -> Transformer:
    """A cached ``always_xy`` transformer from ``source`` to ``target`` (anything pyproj reads as
    a CRS): building one takes tens of milliseconds, and they are thread-safe."""
    return _transformer(str(source), str(target))


@functools.lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    # Keyed by the CRSs' text, so a CRS object and its EPSG string share one transformer.
    return Transformer.from_crs(source, target, always_xy=True)
