"""The signals a ranking of units catches up to each coverage, without sorting the units."""

from __future__ import annotations

import numba
import numpy as np

BOUNDARY_SLACK = 1e-12
"""A unit whose running size reaches its coverage within this share counts as reaching it, as in
``evaluate._length_rates``, so that rounding in the sums does not move the boundary."""


def caught_by_size(scores: np.ndarray, *, sizes: np.ndarray, hits: np.ndarray,
                   reaches: np.ndarray) -> np.ndarray | None:
    """Hits caught by the units of highest ``scores`` until their ``sizes`` sum to each of ``reaches``.

    The unit at a reach's boundary counts with the share of its size inside it, as in
    ``evaluate._length_rates`` on the order of ``calibration.best_first``, and the result is the
    same to rounding: the units above a boundary are the same set whatever order ties among
    them take. ``None`` when the unit at some boundary ties in score with another, where only
    the tie-break can say which is first. Expected linear time: a weighted quickselect, where
    sorting the top units of every candidate and fold was a third of a large ward's calibration.
    """
    order = np.argsort(reaches)
    caught = np.empty(len(reaches))
    ok = _k_caught(np.asarray(scores, dtype=float), np.asarray(sizes, dtype=float),
                   np.asarray(hits, dtype=float), np.asarray(reaches, dtype=float)[order][::-1].copy(),
                   BOUNDARY_SLACK, caught)
    if not ok:
        return None
    out = np.empty(len(reaches))
    out[order[::-1]] = caught
    return out


@numba.njit(cache=True, nogil=True)
def _k_caught(scores, sizes, hits, reaches, slack, caught):  # pragma: no cover - compiled
    """``caught[j]`` for ``reaches`` in descending order; False at a tie on a boundary.

    ``units[:end]`` holds the units still in play: those above the previous (larger) reach's
    boundary and that unit itself. Each selection keeps three-way partitioning the open segment
    ``[low, high)`` around a pivot score: everything left of ``low`` scores above the segment,
    everything right of ``high`` below it.
    """
    n = len(scores)
    units = np.arange(n)
    end = n
    for j in range(len(reaches)):
        target = reaches[j] * (1.0 - slack)
        low, high = 0, end
        above_size, above_hits = 0.0, 0.0
        boundary = -1
        while low < high:
            a, b, c = scores[units[low]], scores[units[(low + high) // 2]], scores[units[high - 1]]
            pivot = max(min(a, b), min(max(a, b), c))
            # Dutch flag: [low, gt) above the pivot, [gt, i) equal to it, (lt, high) below it.
            gt, i, lt = low, low, high - 1
            while i <= lt:
                s = scores[units[i]]
                if s > pivot:
                    units[gt], units[i] = units[i], units[gt]
                    gt += 1
                    i += 1
                elif s < pivot:
                    units[lt], units[i] = units[i], units[lt]
                    lt -= 1
                else:
                    i += 1
            greater_size, greater_hits = 0.0, 0.0
            for k in range(low, gt):
                greater_size += sizes[units[k]]
                greater_hits += hits[units[k]]
            equal_size, equal_hits = 0.0, 0.0
            for k in range(gt, i):
                equal_size += sizes[units[k]]
                equal_hits += hits[units[k]]
            if above_size + greater_size >= target:
                high = gt
            elif above_size + greater_size + equal_size >= target:
                if i - gt > 1:
                    return False
                above_size += greater_size
                above_hits += greater_hits
                boundary = gt
                break
            else:
                above_size += greater_size + equal_size
                above_hits += greater_hits + equal_hits
                low = i
        if boundary < 0:
            # Every unit together stays short of the reach: all of them are taken.
            caught[j] = above_hits
            continue
        unit = units[boundary]
        part = (reaches[j] - above_size) / sizes[unit] if sizes[unit] > 0 else 0.0
        caught[j] = above_hits + min(max(part, 0.0), 1.0) * hits[unit]
        end = boundary + 1
    return True
