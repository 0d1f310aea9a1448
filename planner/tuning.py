"""The installation's own calibrated risk surface, fitted once per state of its signals (issue 13).

``installation_calibration(store)`` fits ``evaluate.calibrate`` on every stored signal (the
wards as study area, a week ahead) and keeps the choice in the store with the fingerprint of
the signals it saw (``Store.signal_fingerprint``); while the signals stay the same the kept
choice is used, and the first use after a change (an import, a resolved signal, retention)
fits again. ``hotspot_params(store, ...)`` is the one way a front-end or service builds the
weights of hotspots, hot streets and routes: the literature defaults tuned by that choice.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from .calibration import Calibration, SurfaceParams
from .hotspots import HotspotParams

log = logging.getLogger(__name__)

def calibration_from_json(choice: dict[str, Any]) -> Calibration:
    """The ``Calibration`` that ``Calibration.to_json`` wrote (without the per-candidate scores)."""
    life = choice.get("half_life_days")
    chosen = SurfaceParams(bandwidth_m=float(choice["bandwidth_m"]),
                           half_life_days=math.inf if life is None else float(life),
                           blend=float(choice["blend"]), near_repeat=bool(choice["near_repeat"]))
    return Calibration(chosen=chosen, fallback=bool(choice["fallback"]), reason=str(choice["reason"]),
                       n_candidates=int(choice["candidates"]), n_folds=int(choice["folds"]),
                       fold_test_signals=int(choice["fold_test_signals"]), seconds=float(choice["seconds"]),
                       recency_floor=float(choice.get("recency_floor", 0.0)))


def installation_calibration(store, *, refit: bool = False) -> Calibration | None:
    """The calibration for the store's current signals: the kept one, or a new fit (module docstring).

    ``None`` while the store holds no signal. ``refit`` fits again even when nothing changed.
    A fit logs a line before and after (INFO on this module's logger; the CLI prints them).
    """
    from .evaluate import calibrate

    fingerprint = store.signal_fingerprint()
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


def hotspot_params(store, **options: Any) -> HotspotParams:
    """``HotspotParams(**options)`` tuned by the installation's calibration (module docstring)."""
    params = HotspotParams(**options)
    calibration = installation_calibration(store)
    return params if calibration is None else calibration.tune(params)
