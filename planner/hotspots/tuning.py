"""The installation's own calibrated risk surface, fitted once per state of its signals and wards (issue 13).

``installation_calibration(store)`` fits ``evaluate.calibrate`` on every stored signal (the
wards as study area, a week ahead) and keeps the choice in the store under ``fit_key``: the
fingerprint of the signals and wards it saw (``Store.calibration_fingerprint``) and of the
candidate grids and priors it chose from; while they stay the same the kept choice is used, and
the first use after a change (an import, a resolved signal, retention, a ward added or redrawn,
an upgrade that changed a grid or a prior) fits again. ``hotspot_params(store, ...)`` is the
one way a front-end or service builds the weights of hotspots, hot streets and routes: the
literature defaults tuned by that choice.

The hot streets get a choice of their own, per km of street (``hot_street_calibration``):
``installation_street_calibration(store)`` fits ``evaluate.calibrate_hot_streets`` on the
graphs of every ward that has one (``streets.ward_graph``), each with its ward's signals,
together, and keeps it in the same row of the store under ``"streets"``, with the graphs it saw;
it fits again when the signals or a ward's graph change. ``hot_street_params(store, weights)``
is the one way to build the parameters of hot streets (map, route targets, coverage): the
150 m kernel tuned by that choice, or as it is while no ward has a graph or the history is
too short (the choice says why).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from pathlib import Path
from typing import Any

from .calibration import Calibration, CalibrationParams, SurfaceParams
from .network import HotStreetParams
from .street_calibration import StreetCalibration, StreetCalibrationParams, StreetSurfaceParams
from .weights import HotspotParams
from .window import TimeWeighting

log = logging.getLogger(__name__)

def grids_digest(cells: CalibrationParams, streets: StreetCalibrationParams) -> str:
    """Changes with any candidate, floor or prior of either calibration."""
    return hashlib.sha256(repr((cells, streets)).encode()).hexdigest()[:12]


_GRIDS = grids_digest(CalibrationParams(), StreetCalibrationParams())
"""What the calibrations choose from and fall back to, as this version has them."""


def fit_key(store) -> str:
    """What a kept fit was made of: the store's signals and wards, and this version's grids and priors."""
    return f"{store.calibration_fingerprint()}:{_GRIDS}"

def calibration_from_json(choice: dict[str, Any]) -> Calibration:
    """The ``Calibration`` that ``Calibration.to_json`` wrote (without the per-candidate scores)."""
    life, time_of_day = choice.get("half_life_days"), choice.get("time")
    chosen = SurfaceParams(bandwidth_m=float(choice["bandwidth_m"]),
                           half_life_days=math.inf if life is None else float(life),
                           blend=float(choice["blend"]), near_repeat=bool(choice["near_repeat"]),
                           resolved_weight=float(choice.get("resolved_weight", 0.0)),
                           time=None if time_of_day is None else TimeWeighting(**time_of_day))
    return Calibration(chosen=chosen, fallback=bool(choice["fallback"]), reason=str(choice["reason"]),
                       n_candidates=int(choice["candidates"]), n_folds=int(choice["folds"]),
                       fold_test_signals=int(choice["fold_test_signals"]), seconds=float(choice["seconds"]),
                       recency_floor=float(choice.get("recency_floor", 0.0)),
                       resolved_measured=bool(choice.get("resolved_measured", False)))


def installation_calibration(store, *, refit: bool = False) -> Calibration | None:
    """The calibration for the store's current signals: the kept one, or a new fit (module docstring).

    ``None`` while the store holds no signal. ``refit`` fits again even when nothing changed.
    A fit logs a line before and after (INFO on this module's logger; the CLI prints them).
    """
    from .evaluate import calibrate

    fingerprint = fit_key(store)
    kept = store.calibration()
    if kept is not None and kept[0] == fingerprint and not refit:
        return calibration_from_json(kept[1])
    incidents = store.incidents()
    if incidents.empty:
        return None
    wards = store.wards()
    log.info("calibrating the risk surface on %d signals …", len(incidents))
    t0 = time.perf_counter()
    calibration = calibrate(incidents, wards=wards if len(wards) else None)
    store.save_calibration(fingerprint, calibration.to_json())
    log.info("calibrated in %.1f s: %s", time.perf_counter() - t0, calibration.summary())
    return calibration


def hotspot_params(store, *, forecast: bool = True, **options: Any) -> HotspotParams:
    """``HotspotParams(**options)`` tuned by the installation's calibration (module docstring).

    ``forecast=False`` keeps a ``window`` as given (``Calibration.tune``): the map's time-of-day
    filter shows that time, where a round's window is a forecast target."""
    params = HotspotParams(**options)
    calibration = installation_calibration(store)
    return params if calibration is None else calibration.tune(params, forecast=forecast)


def street_calibration_from_json(choice: dict[str, Any]) -> StreetCalibration:
    """The ``StreetCalibration`` that ``StreetCalibration.to_json`` wrote (without the per-candidate scores)."""
    life = choice.get("half_life_days")
    chosen = StreetSurfaceParams(
        bandwidth_m=float(choice["bandwidth_m"]), blend=float(choice["blend"]),
        half_life_days=None if choice["weights_recency"] else math.inf if life is None else float(life),
        resolved_weight=float(choice["resolved_weight"]), kernel=str(choice.get("kernel", "network")))
    return StreetCalibration(chosen=chosen, fallback=bool(choice["fallback"]), reason=str(choice["reason"]),
                             n_candidates=int(choice["candidates"]), n_folds=int(choice["folds"]),
                             fold_test_signals=int(choice["fold_test_signals"]), seconds=float(choice["seconds"]),
                             resolved_measured=bool(choice.get("resolved_measured", False)))


def ward_graph_paths(wards, *, data_dir: str | Path | None = None) -> dict[str, Path]:
    """The cached walk graph of each of ``wards`` that has one in ``data_dir``, by ward name, in name order."""
    from ..streets import ward_graph_path

    paths = {name: ward_graph_path(name, data_dir=data_dir) for name in sorted(wards["name"])}
    return {name: path for name, path in paths.items() if path.exists()}


def graphs_key(paths: dict[str, Path]) -> str:
    """Which ward graphs a street calibration saw, as the files were: a rebuilt graph changes it."""
    return ";".join(f"{ward}:{path.stat().st_mtime_ns}:{path.stat().st_size}" for ward, path in sorted(paths.items()))


def installation_street_calibration(
    store, *, data_dir: str | Path | None = None, refit: bool = False
) -> StreetCalibration | None:
    """The hot streets' calibration for the store's signals and ward graphs: kept, or a new fit (module docstring).

    ``None`` while the store holds no signal. ``data_dir`` holds the ward graphs (default
    ``settings.data_dir()``); ``refit`` fits again even when nothing changed. A fit logs a line
    before and after, as ``installation_calibration`` does.
    """
    from ..streets import ward_graph
    from .evaluate import BacktestParams, calibrate_hot_streets

    cell = installation_calibration(store)
    if cell is None:
        return None
    paths = ward_graph_paths(store.wards(), data_dir=data_dir)
    fingerprint, graphs = fit_key(store), graphs_key(paths)
    kept = store.calibration()
    streets = kept[1].get("streets") if kept is not None and kept[0] == fingerprint else None
    if streets is not None and streets.get("graphs") == graphs and not refit:
        return street_calibration_from_json(streets)
    incidents = store.incidents()
    areas = [(ward_graph(None, name, data_dir=data_dir), incidents[incidents["ward"] == name])
             for name in paths]
    log.info("calibrating the hot streets on %d ward graphs …", len(areas))
    t0 = time.perf_counter()
    calibration = calibrate_hot_streets(areas, params=BacktestParams(hotspot=cell.tune(HotspotParams())))
    store.save_calibration(fingerprint, cell.to_json() | {"streets": calibration.to_json() | {"graphs": graphs}})
    log.info("calibrated the hot streets in %.1f s: %s", time.perf_counter() - t0, calibration.summary())
    return calibration


def hot_street_params(store, weights: HotspotParams, *, data_dir: str | Path | None = None) -> HotStreetParams:
    """``HotStreetParams(weights=weights)`` tuned by the installation's hot-streets calibration (module docstring).

    ``weights`` are the caller's (``hotspot_params``: window, audience, category weights); the
    choice sets the bandwidth, blend, resolved weight and, when it chose one, the recency.
    """
    params = HotStreetParams(weights=weights)
    calibration = installation_street_calibration(store, data_dir=data_dir)
    return params if calibration is None else calibration.tune(params)
