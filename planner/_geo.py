"""Shared geometry rules: the metric CRS (RD New inside the Netherlands, the local UTM zone
elsewhere) and the coordinates of a frame of points in it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
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


def signal_lonlat(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes (WGS84) of signals: their ``lon``/``lat`` columns or point geometry."""
    if "lon" in incidents.columns and "lat" in incidents.columns:
        return incidents["lon"].to_numpy(dtype=float), incidents["lat"].to_numpy(dtype=float)
    if isinstance(incidents, gpd.GeoDataFrame):
        require_crs(incidents, "incidents")
        points = incidents.geometry.to_crs(settings.WGS84)
        return points.x.to_numpy(), points.y.to_numpy()
    msg = "incidents need lat and lon columns (WGS84) or a point geometry with a CRS"
    raise InputError(msg)


def metric_xy(incidents: pd.DataFrame, crs: CRS | None = None) -> tuple[np.ndarray, np.ndarray, CRS]:
    """Signal coordinates in metres: in ``crs`` or, by default, the metric CRS of their area."""
    lon, lat = signal_lonlat(incidents)
    if crs is None:
        if len(lon) == 0:
            crs = CRS.from_user_input(settings.RD_NEW)
        else:
            crs = metric_crs_for(float(np.nanmedian(lon)), float(np.nanmedian(lat)))
    to_metric = Transformer.from_crs(settings.WGS84, crs, always_xy=True)
    x, y = to_metric.transform(lon, lat)
    return np.asarray(x, float), np.asarray(y, float), crs

