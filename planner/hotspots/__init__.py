"""Hotspots per ward: where signals cluster, how much they matter tonight, and which streets are hot.

Three steps, each usable on its own:

1. ``signal_weights`` gives every signal a weight: recency (half-life), the ward's category
   weights, relevance for a target time window (aoristic: a signal known only as a window spreads
   its weight over that window), a discount for signals found on patrol (the feedback loop), and
   zero for resolved signals.
2. ``find_hotspots`` clusters the signals of each ward in metres, scores each cluster (sum of its
   signal weights plus a near-repeat term), tests it against a random spread of the ward's signals
   and renders it for an audience: ``public`` (residents: only areas with at least
   ``settings.PUBLIC_MIN_SIGNALS`` signals, no points) or ``officer`` (with the points).
3. ``hot_streets`` snaps signals to a walk graph and scores every street by a blend of its counts
   per km and a network kernel density (``HotStreetParams``; an installation's calibration
   chooses the blend and bandwidth, ``hot_street_calibration``).

The package's modules, one concern each: ``window`` (the target time window and aoristic
shares), ``weights`` (``HotspotParams`` and the signal weights), ``clusters`` (``find_hotspots``),
``network`` (``hot_streets``), ``explain`` (the plain-words reasons), ``calibration``,
``street_calibration`` and ``tuning`` (an installation's chosen parameters) and ``evaluate``
(the backtest). This module is the public API.
"""

from .clusters import HotspotResult, find_hotspots
from .network import HotStreetParams, HotStreets, NetworkKernel, hot_streets
from .weights import (
    MAX_CATEGORY_WEIGHT,
    HotspotParams,
    base_weights,
    parse_category_weights,
    reference_time,
    signal_weights,
)
from .window import WEEK_MINUTES, WEEKDAYS, TimeWeighting, TimeWindow, aoristic_share, local_minutes, parse_weekday

__all__ = [
    "MAX_CATEGORY_WEIGHT",
    "WEEKDAYS",
    "WEEK_MINUTES",
    "HotStreetParams",
    "HotStreets",
    "HotspotParams",
    "HotspotResult",
    "NetworkKernel",
    "TimeWeighting",
    "TimeWindow",
    "aoristic_share",
    "base_weights",
    "find_hotspots",
    "hot_streets",
    "local_minutes",
    "parse_category_weights",
    "parse_weekday",
    "reference_time",
    "signal_weights",
]
