"""Route targets from the rest of the planner: hotspots as points, hot streets as lines.

Each target has a ``name`` (Dutch, like ``"Hotspot 3 (jongerenoverlast)"``), a ``score`` (what
visiting it is worth to ``routes.plan_patrol``), its signal ``categories``, a ``kind`` and the
plain-words ``explanation`` of why it is a target.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from .. import settings
from .._errors import InputError
from .._geo import metric_xy

if TYPE_CHECKING:
    from ..hotspots import HotspotResult, HotStreets


def _dutch(code: str) -> str:
    from ..signals.incidents import CATEGORIES

    return CATEGORIES.get(code, code).replace("_", " ")


def targets_from_hotspots(result: HotspotResult, *, dwell_min: float | None = None) -> gpd.GeoDataFrame:
    """Route targets from hotspots: one point per hotspot at its centroid, with its score, a
    Dutch name like ``"Hotspot 3 (jongerenoverlast)"`` and its top signal categories (codes).

    ``dwell_min`` sets every target's stop; ``None`` leaves it to ``RouteParams.dwell_min``.
    """
    hotspots = result.hotspots
    rows = []
    for row in hotspots.itertuples(index=False):
        categories = [str(c) for c, _ in row.top_categories]
        label = f" ({_dutch(categories[0])})" if categories else ""
        rows.append({"name": f"Hotspot {int(row.id)}{label}", "score": float(row.score),
                     "categories": categories, "kind": "hotspot",
                     "explanation": str(getattr(row, "explanation", "") or ""),
                     "explanation_en": str(getattr(row, "explanation_en", "") or ""),
                     "geometry": shapely.Point(float(row.centroid_lon), float(row.centroid_lat))})
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["name", "score", "categories", "kind", "explanation", "explanation_en",
                                    "geometry"]),
        geometry="geometry", crs=settings.WGS84,
    )
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


def targets_from_hot_streets(
    hot: HotStreets,
    incidents: pd.DataFrame,
    *,
    top: int = 5,
    min_signals: int = settings.PUBLIC_MIN_SIGNALS,
    radius_m: float = 100.0,
    min_gap_m: float = 150.0,
    max_length_m: float = 250.0,
    avoid: gpd.GeoDataFrame | None = None,
    dwell_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Route targets from hot streets: the ``top`` streets with the largest prize, each at least
    ``min_gap_m`` from the others and from ``avoid`` (e.g. the hotspot targets, already counted),
    and only where at least ``min_signals`` signals lie within ``radius_m`` of the street's middle
    (so a stop never points at one household's report), on streets of at most ``max_length_m``
    (the team stops at the corner nearest the middle). Lines in the graph's CRS, scored by their
    prize, named like ``"Merelstraat (inbraak)"``, with the nearby signals' categories.
    """
    if top < 0:
        msg = f"the number of hot streets to visit (top) must be ≥ 0, got {top}"
        raise InputError(msg)
    if min_signals < 1 or radius_m <= 0 or min_gap_m < 0:
        msg = f"min_signals ≥ 1, radius_m > 0 and min_gap_m ≥ 0 needed, got {min_signals}, {radius_m}, {min_gap_m}"
        raise InputError(msg)
    edges = hot.edges
    columns = ["name", "score", "categories", "kind", "explanation", "explanation_en", "geometry"]
    empty = gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry="geometry", crs=edges.crs)
    if top == 0 or edges.empty or incidents is None or len(incidents) == 0:
        return empty
    once = edges[edges["u"].astype(str) <= edges["v"].astype(str)]
    # A stop is made at a street corner: on a longer street its middle would be out of sight.
    once = once[(once["prize"] > 0) & (once["length"] <= max_length_m)]
    once = once.sort_values(["prize", "length"], ascending=[False, True], kind="stable")
    x, y, _ = metric_xy(incidents.reset_index(drop=True), CRS.from_user_input(edges.crs))
    tree = cKDTree(np.column_stack([x, y]))
    categories = incidents["category"].fillna("other").astype(str).to_numpy() \
        if "category" in incidents.columns else np.full(len(x), "other")
    taken: list[tuple[float, float]] = []
    if avoid is not None and len(avoid):
        taken += [(p.x, p.y) for p in avoid.to_crs(edges.crs).geometry.representative_point()]
    rows = []
    stretches: dict[str, int] = {}
    for edge in once.itertuples(index=False):
        middle = edge.geometry.interpolate(0.5, normalized=True)
        if any(math.hypot(middle.x - a, middle.y - b) < min_gap_m for a, b in taken):
            continue
        near = tree.query_ball_point([middle.x, middle.y], r=radius_m)
        if len(near) < min_signals:
            continue
        counts = pd.Series(categories[near]).value_counts()
        top_codes = sorted(counts.index, key=lambda c: (-counts[c], c))[:3]
        street = str(edge.name) if isinstance(edge.name, str) and edge.name else "naamloos pad"
        street = street.split(", ")[0]
        stretches[street] = stretches.get(street, 0) + 1
        if stretches[street] > 1:  # a second stretch of the same street gets a name of its own
            street = f"{street}, deel {stretches[street]}"
        names_nl = " en ".join(_dutch(c) for c in top_codes[:2])
        names_en = " and ".join(c.replace("_", " ") for c in top_codes[:2])
        rows.append({"name": f"{street} ({_dutch(top_codes[0])})",
                     "score": float(edge.prize), "categories": top_codes, "kind": "street",
                     "explanation": f"Drukke straat: {len(near)} signalen binnen {radius_m:g} m, vooral {names_nl}.",
                     "explanation_en": f"Busy street: {len(near)} signals within {radius_m:g} m, mostly {names_en}.",
                     "geometry": edge.geometry})
        taken.append((middle.x, middle.y))
        if len(rows) >= top:
            break
    if not rows:
        return empty
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=edges.crs)
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


def no_targets() -> gpd.GeoDataFrame:
    """An empty target table with the columns ``targets_from_hotspots`` gives."""
    return gpd.GeoDataFrame(pd.DataFrame(columns=["name", "score", "categories", "kind", "geometry"]),
                            geometry="geometry", crs=settings.WGS84)
