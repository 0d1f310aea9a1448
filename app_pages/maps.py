"""Maps with pydeck (bundled with Streamlit, so every layer renders offline).

The base map is an OpenStreetMap raster style: with internet the tiles show, without it the map
is blank underneath but every WAS layer (wards, hotspots, routes, signals) still renders.
"""

from __future__ import annotations

import base64
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

OSM_STYLE = {
    "version": 8,
    "sources": {
        "osm": {
            "type": "raster",
            "tiles": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"],
            "tileSize": 256,
            "attribution": "© OpenStreetMap contributors",
            "maxzoom": 19,
        }
    },
    "layers": [
        {"id": "background", "type": "background", "paint": {"background-color": "#eef0f2"}},
        {"id": "osm", "type": "raster", "source": "osm"},
    ],
}

# Streamlit's map takes the style as a URL; a data: URL keeps it local, so nothing but the tiles
# ever needs the internet.
OSM_STYLE_URL = "data:application/json;base64," + base64.b64encode(json.dumps(OSM_STYLE).encode()).decode()

TEAM_COLOURS = [[0, 92, 230], [230, 92, 0], [0, 153, 76], [153, 51, 204], [204, 0, 102]]


def view_of(gdf: gpd.GeoDataFrame, *, height: int = 520, width: int = 680) -> pdk.ViewState:
    """A view that fits ``gdf`` (any CRS) in a map of ``height`` by about ``width`` pixels."""
    west, south, east, north = gdf.to_crs(4326).total_bounds
    # Degrees of longitude that fit the map with a margin; Mercator stretches latitude by ~1/cos.
    stretch = 1 / np.cos(np.radians((south + north) / 2))
    span = max(east - west, (north - south) * stretch * width / (0.85 * height), 1e-4)
    # MapLibre zoom z shows the world 512 · 2^z pixels wide.
    zoom = float(np.clip(np.log2(360 * width / (512 * span)), 3, 18))
    return pdk.ViewState(latitude=(south + north) / 2, longitude=(west + east) / 2, zoom=zoom)


def _features(gdf: gpd.GeoDataFrame, columns: list[str]) -> dict:
    return json.loads(gdf[[*columns, "geometry"]].to_crs(4326).to_json(drop_id=True))


def ward_layer(wards: gpd.GeoDataFrame) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer", _features(wards, ["name"]), id="wards", stroked=True, filled=False,
        get_line_color=[40, 40, 120], line_width_min_pixels=2, pickable=False,
    )


def hotspot_layer(hotspots: gpd.GeoDataFrame, tooltip_columns: list[str]) -> pdk.Layer:
    """Hotspot areas coloured from yellow (low score) to red (high score)."""
    shown = hotspots.copy()
    score = shown["score"].astype(float)
    relative = (score - score.min()) / (score.max() - score.min()) if score.max() > score.min() else score * 0 + 1
    shown["fill"] = [[255, int(200 * (1 - r)), 0, 120] for r in relative]
    return pdk.Layer(
        "GeoJsonLayer", _features(shown, [*tooltip_columns, "fill"]), id="hotspots", filled=True,
        stroked=True, get_fill_color="properties.fill", get_line_color=[180, 0, 0],
        line_width_min_pixels=1, pickable=True,
    )


def points_layer(points: pd.DataFrame, *, layer_id: str, color, radius: float = 6, pickable: bool = True,
                 min_pixels: float = 3) -> pdk.Layer:
    """Points with ``lon``/``lat`` columns, drawn at least ``min_pixels`` wide (a finger needs ~8)."""
    return pdk.Layer(
        "ScatterplotLayer", points, id=layer_id, get_position=["lon", "lat"], get_fill_color=color,
        get_radius=radius, radius_min_pixels=min_pixels, pickable=pickable,
    )


def lines_layer(lines: gpd.GeoDataFrame, *, layer_id: str, color, width: float = 4, columns=()) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer", _features(lines, list(columns)), id=layer_id, get_line_color=color,
        line_width_min_pixels=width, pickable=bool(columns),
    )


def labels_layer(points: pd.DataFrame, *, layer_id: str) -> pdk.Layer:
    """Numbered stop labels (``label`` column) on white discs."""
    return pdk.Layer(
        "TextLayer", points, id=layer_id, get_position=["lon", "lat"], get_text="label", get_size=16,
        get_color=[0, 0, 0], background=True, get_background_color=[255, 255, 255, 230],
        get_text_anchor='"middle"', get_alignment_baseline='"center"',
    )


def deck(layers: list[pdk.Layer], view: pdk.ViewState, tooltip: dict | None = None) -> pdk.Deck:
    return pdk.Deck(
        layers=layers, initial_view_state=view, map_provider="carto", map_style=OSM_STYLE_URL, tooltip=tooltip or False
    )


def grid_points(area: gpd.GeoDataFrame, *, spacing_m: float) -> pd.DataFrame:
    """Clickable points every ``spacing_m`` metres inside ``area`` (``lon``/``lat`` columns).

    pydeck reports clicks on objects, not on empty map, so a fine grid of dots is what makes
    "click the place on the map" possible.
    """
    from shapely import contains_xy

    from planner._geo import to_metric

    metric = to_metric(area)
    west, south, east, north = metric.total_bounds
    xs, ys = np.meshgrid(np.arange(west, east, spacing_m), np.arange(south, north, spacing_m))
    xs, ys = xs.ravel(), ys.ravel()
    inside = contains_xy(metric.union_all(), xs, ys)
    points = gpd.GeoSeries(gpd.points_from_xy(xs[inside], ys[inside]), crs=metric.crs).to_crs(4326)
    return pd.DataFrame({"lon": points.x.round(6), "lat": points.y.round(6)})


def path_layer(path_lonlat, *, layer_id: str, color, width: float = 5) -> pdk.Layer:
    """A walked or planned route as one line."""
    return pdk.Layer(
        "PathLayer", [{"path": [list(p) for p in path_lonlat]}], id=layer_id, get_path="path",
        get_color=color, width_min_pixels=width, pickable=False,
    )


def streets_layer(streets_geojson: dict) -> pdk.Layer:
    """The ward's own streets in light grey, under everything else (the offline base map)."""
    return pdk.Layer(
        "GeoJsonLayer", streets_geojson, id="streets", get_line_color=[150, 150, 150, 200],
        line_width_min_pixels=1, pickable=False,
    )
