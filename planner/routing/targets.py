"""Route targets from the rest of the planner: hotspots as points, hot streets as lines.

Each target has a ``name`` (Dutch, like ``"Hotspot 3 (jongerenoverlast)"``), a ``score`` (what
visiting it is worth to ``routes.plan_patrol``), its signal ``categories``, a ``kind`` and the
plain-words ``explanation`` of why it is a target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from .. import settings
from .._errors import InputError
from .._geo import metric_xy
from .._validation import Constraints, check_params, integer, real
from ..i18n import N_, and_list, category_label, translation

if TYPE_CHECKING:
    from ..hotspots import HotspotResult, HotStreets

NAME_LANGUAGE = "nl"
"""A target's ``name`` is Dutch ("Hotspot 3 (jongerenoverlast)"), the plan's data that stored
plans and the JSON keep; ``name_en`` ("Hotspot 3 (youth nuisance)") is what English exports show."""

TARGET_COLUMNS = ["name", "name_en", "score", "categories", "kind", "explanation", "explanation_en", "geometry"]

UNNAMED_PATH = N_("unnamed path")
STRETCH = N_("{street}, part {n}")


def targets_from_hotspots(result: HotspotResult, *, dwell_min: float | None = None) -> gpd.GeoDataFrame:
    """Route targets from hotspots: one point per hotspot at its centroid, with its score, a
    Dutch name like ``"Hotspot 3 (jongerenoverlast)"`` (``name_en``: in English) and its top
    signal categories (codes).

    ``dwell_min`` sets every target's stop; ``None`` leaves it to ``RouteParams.dwell_min``.
    """
    hotspots = result.hotspots
    rows = []
    for row in hotspots.itertuples(index=False):
        categories = [str(c) for c, _ in row.top_categories]
        nl, en = (f"Hotspot {int(row.id)}" + (f" ({category_label(categories[0], language=language)})"
                                              if categories else "") for language in (NAME_LANGUAGE, "en"))
        rows.append({"name": nl, "name_en": en, "score": float(row.score),
                     "categories": categories, "kind": "hotspot",
                     "explanation": str(getattr(row, "explanation", "") or ""),
                     "explanation_en": str(getattr(row, "explanation_en", "") or ""),
                     "geometry": shapely.Point(float(row.centroid_lon), float(row.centroid_lat))})
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=TARGET_COLUMNS), geometry="geometry", crs=settings.WGS84)
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


@dataclass(frozen=True)
class HotStreetTargetParams:
    """Which hot streets become route targets (``targets_from_hot_streets``).

    Parameters
    ----------
    min_signals
        Signals needed within ``radius_m`` of a street's middle, so a stop never points at one
        household's report.
    radius_m
        The radius (m) around a street's middle in which its signals are counted.
    min_gap_m
        The least distance (m) between a street target and the other targets.
    max_length_m
        The longest street (m) that is a target: the team stops at the corner nearest the
        middle, and on a longer street the middle would be out of sight.
    """

    min_signals: int = settings.PUBLIC_MIN_SIGNALS
    radius_m: float = 100.0
    min_gap_m: float = 150.0
    max_length_m: float = 250.0

    _constraints: ClassVar[Constraints] = {
        "min_signals": integer(low=1),
        "radius_m": real(low=0, low_open=True, finite=False),
        "min_gap_m": real(low=0, finite=False),
        "max_length_m": real(low=0, finite=False),
    }

    def __post_init__(self) -> None:
        check_params(self)


def _street_names(name: object, stretches: dict[str, int]) -> tuple[str, str]:
    """A hot street's name in Dutch and in English; a second stretch of the same street gets a
    name of its own (``stretches`` counts the stretches named so far)."""
    named = isinstance(name, str) and bool(name)
    key = str(name).split(", ")[0] if named else ""
    stretches[key] = stretches.get(key, 0) + 1
    names = []
    for language in (NAME_LANGUAGE, "en"):
        _ = translation(language).gettext
        street = key or _(UNNAMED_PATH)
        names.append(_(STRETCH).format(street=street, n=stretches[key]) if stretches[key] > 1 else street)
    return names[0], names[1]


def targets_from_hot_streets(
    hot: HotStreets,
    incidents: pd.DataFrame,
    *,
    top: int = 5,
    params: HotStreetTargetParams = HotStreetTargetParams(),
    avoid: gpd.GeoDataFrame | None = None,
    dwell_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Route targets from hot streets: the ``top`` streets with the largest prize, each at least
    ``params.min_gap_m`` from the others and from ``avoid`` (e.g. the hotspot targets, already
    counted), and only where at least ``params.min_signals`` signals lie within
    ``params.radius_m`` of the street's middle, on streets of at most ``params.max_length_m``
    (``HotStreetTargetParams``). Lines in the graph's CRS, scored by their prize, named like
    ``"Merelstraat (inbraak)"``, with the nearby signals' categories.
    """
    if top < 0:
        msg = f"the number of hot streets to visit (top) must be ≥ 0, got {top}"
        raise InputError(msg)
    edges = hot.edges
    empty = gpd.GeoDataFrame(pd.DataFrame(columns=TARGET_COLUMNS), geometry="geometry", crs=edges.crs)
    if top == 0 or edges.empty or incidents is None or len(incidents) == 0:
        return empty
    once = edges[edges["u"].astype(str) <= edges["v"].astype(str)]
    # A stop is made at a street corner: on a longer street its middle would be out of sight.
    once = once[(once["prize"] > 0) & (once["length"] <= params.max_length_m)]
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
        if any(math.hypot(middle.x - a, middle.y - b) < params.min_gap_m for a, b in taken):
            continue
        near = tree.query_ball_point([middle.x, middle.y], r=params.radius_m)
        if len(near) < params.min_signals:
            continue
        counts = pd.Series(categories[near]).value_counts()
        top_codes = sorted(counts.index, key=lambda c: (-counts[c], c))[:3]
        street_nl, street_en = _street_names(edge.name, stretches)
        nl, en = (translation(language).gettext("Busy street: {n} signals within {radius} m, mostly {names}.").format(
            n=len(near), radius=f"{params.radius_m:g}",
            names=and_list([category_label(c, language=language) for c in top_codes[:2]], language=language))
            for language in ("nl", "en"))
        rows.append({"name": f"{street_nl} ({category_label(top_codes[0], language=NAME_LANGUAGE)})",
                     "name_en": f"{street_en} ({category_label(top_codes[0], language='en')})",
                     "score": float(edge.prize), "categories": top_codes, "kind": "street",
                     "explanation": nl, "explanation_en": en, "geometry": edge.geometry})
        taken.append((middle.x, middle.y))
        if len(rows) >= top:
            break
    if not rows:
        return empty
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=TARGET_COLUMNS), geometry="geometry", crs=edges.crs)
    if dwell_min is not None:
        frame["dwell_min"] = float(dwell_min)
    return frame


def no_targets() -> gpd.GeoDataFrame:
    """An empty target table with the columns ``targets_from_hotspots`` gives."""
    return gpd.GeoDataFrame(pd.DataFrame(columns=TARGET_COLUMNS), geometry="geometry", crs=settings.WGS84)
