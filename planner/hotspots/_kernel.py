"""The planar Gaussian kernels of the cell surface and of the planar hot streets."""

from __future__ import annotations

import time

import numba
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from ._select import caught_by_size

CUT_SD = 3.0
"""The kernel is cut at this many standard deviations: beyond it a signal adds under 1.2 %."""
BINS_PER_SD = 4
"""Grid steps per standard deviation of a binned kernel. With linear binning (Wand 1994) the
density then moves by a median 0.1–0.3 % (at 99 % of the units under 2 % at 25 m, under 0.4 % at
100–200 m: 3,000 random points, 5,000 units), while the work no longer grows with the signals."""


def gaussian_matrix(units: cKDTree, points: cKDTree, bandwidth_m: float) -> sparse.csr_matrix:
    """``exp(−½ (d / bandwidth_m)²)`` between every unit and point within ``CUT_SD`` sd (units × points)."""
    near = units.sparse_distance_matrix(points, CUT_SD * bandwidth_m, output_type="coo_matrix")
    # In place: on a large ward these arrays hold millions of pairs, and fresh memory is slow.
    value = near.data
    value /= bandwidth_m
    value *= value
    value *= -0.5
    np.exp(value, out=value)
    return near.tocsr()


class BinnedGaussian:
    """A Gaussian kernel (sd ``bandwidth_m``) from many points to many dense units, through a grid.

    Each point's weight is shared bilinearly among the four corners of its grid square (step
    ``bandwidth_m / BINS_PER_SD``), and the kernel runs from the occupied corners to the units.
    The pairs to compute are then at most about 450 per unit however many points there are: an
    exact matrix between 25,000 street midpoints and 20,000 signals at 200 m took 8 GB.
    ``weights(w)`` gives the kernel sums at the units for per-point weights ``w``.
    """

    def __init__(self, units: np.ndarray, points: np.ndarray, bandwidth_m: float) -> None:
        step = bandwidth_m / BINS_PER_SD
        # A lattice fixed in the metric CRS, so that the same point lands in the same corners
        # whatever other points come with it (a weight of zero then changes nothing).
        position = points / step
        corner = np.floor(position).astype(np.int64)
        frac = position - corner
        base = corner.min(axis=0) if len(points) else np.zeros(2, dtype=np.int64)
        corner -= base  # only to pack the two lattice indices into one key ≥ 0
        keys, values, owners = [], [], []
        for dx in (0, 1):
            for dy in (0, 1):
                share = (frac[:, 0] if dx else 1 - frac[:, 0]) * (frac[:, 1] if dy else 1 - frac[:, 1])
                keys.append(((corner[:, 1] + dy) << 32) + corner[:, 0] + dx)
                values.append(share)
                owners.append(np.arange(len(points)))
        occupied, bin_of = np.unique(np.concatenate(keys), return_inverse=True)
        self._to_bins = sparse.csr_matrix((np.concatenate(values), (bin_of, np.concatenate(owners))),
                                          shape=(len(occupied), len(points)))
        lattice = np.column_stack([occupied & 0xFFFFFFFF, occupied >> 32]) + base
        self._kernel = _lattice_kernel(np.asarray(units, dtype=float).reshape(-1, 2) / step, lattice)

    def weights(self, w: np.ndarray) -> np.ndarray:
        """Σ over the points of ``w`` × the kernel, at every unit."""
        return self._kernel @ (self._to_bins @ w)


def _lattice_kernel(units: np.ndarray, lattice: np.ndarray) -> sparse.csr_matrix:
    """``gaussian_matrix`` from ``units`` to the corners ``lattice`` of a lattice of step 1 (sd
    ``BINS_PER_SD`` steps), both in lattice steps: units × corners, its values in float32. The
    distances are taken from the corners' own indices, so a unit's values do not depend on what
    other corners there are.

    The corners are grouped by lattice column and sorted along it, so that a unit reads, column
    by column, only the occupied corners within the cut, and the matrix is written row by row,
    8 bytes a pair (36 at the peak through ``cKDTree.sparse_distance_matrix`` and a COO copy):
    a large ward's eight planar kernels (28 million pairs) took 5.7 s that way, 1.1 s this one.
    """
    radius = CUT_SD * BINS_PER_SD
    if not len(units) or not len(lattice):
        return sparse.csr_matrix((len(units), len(lattice)), dtype=np.float32)
    by_column = np.lexsort((lattice[:, 1], lattice[:, 0]))
    first = lattice[:, 0].min()
    starts = np.searchsorted(lattice[by_column, 0], np.arange(first, lattice[:, 0].max() + 2))
    along = lattice[by_column, 1].astype(float)
    ux, uy = units[:, 0], units[:, 1]
    indptr = np.zeros(len(units) + 1, dtype=np.int64)
    lattice_columns = (ux, uy, first, starts, along, by_column, radius)
    _k_pairs(*lattice_columns, indptr, indptr[:0], np.zeros(0, dtype=np.float32), False)
    np.cumsum(indptr, out=indptr)
    index = np.int32 if max(indptr[-1], len(lattice)) < np.iinfo(np.int32).max else np.int64
    indptr = indptr.astype(index)
    indices, values = np.empty(indptr[-1], dtype=index), np.empty(indptr[-1], dtype=np.float32)
    _k_pairs(*lattice_columns, indptr, indices, values, True)
    return sparse.csr_matrix((values, indices, indptr), shape=(len(units), len(lattice)))


def warm_up() -> float:
    """Compile the hot streets' loops once (the lattice kernel, the folds' selection), so that an
    installation's first calibration does not.

    numba keeps the machine code on disk (``cache=True``); without it the first calibration
    after an install or an update spends about two seconds compiling (``make`` runs this after
    installing, with the route solver's ``warm_up``). Returns the seconds it took.
    """
    started = time.perf_counter()
    corners = np.random.default_rng(0).uniform(0.0, 100.0, (50, 2))
    BinnedGaussian(corners, corners, 10.0).weights(np.ones(len(corners)))
    ones = np.ones(len(corners))
    caught_by_size(corners[:, 0], sizes=ones, hits=ones, reaches=np.array([1.0, 5.0]))
    return time.perf_counter() - started


@numba.njit(cache=True, nogil=True)
def _k_pairs(ux, uy, first, starts, along, ids, radius, indptr, indices, values, fill):  # noqa: PLR0913 - numba kernel  # pragma: no cover - compiled
    """Per unit, the corners within ``radius``: counted into ``indptr[u + 1]``, or (``fill``) written
    from ``indptr[u]`` on with their kernel values. Lattice column ``first + c`` holds the corners
    ``ids[starts[c]:starts[c + 1]]``, at ``along`` (sorted) in the other index."""
    columns = len(starts) - 1
    r2 = radius * radius
    scale = -0.5 / (BINS_PER_SD * BINS_PER_SD)
    for u in range(len(ux)):
        at = indptr[u] if fill else 0
        low = max(0, int(np.floor(ux[u] - radius)) - first)
        high = min(columns - 1, int(np.ceil(ux[u] + radius)) - first)
        for c in range(low, high + 1):
            dx2 = (float(c + first) - ux[u]) ** 2
            if dx2 > r2:
                continue
            # One step of margin: the bound is rounded, the test on d2 is exact.
            reach = np.sqrt(r2 - dx2) + 1.0
            k = starts[c] + np.searchsorted(along[starts[c]:starts[c + 1]], uy[u] - reach)
            while k < starts[c + 1] and along[k] <= uy[u] + reach:
                d2 = dx2 + (along[k] - uy[u]) ** 2
                if d2 <= r2:
                    if fill:
                        indices[at] = ids[k]
                        values[at] = np.exp(scale * d2)
                    at += 1
                k += 1
        if not fill:
            indptr[u + 1] = at
