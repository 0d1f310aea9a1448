"""The planar Gaussian kernel the cell surface and the planar hot streets share."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

CUT_SD = 3.0
"""The kernel is cut at this many standard deviations: beyond it a signal adds under 1.2 %."""


def gaussian_matrix(units: cKDTree, points: cKDTree, bandwidth_m: float) -> sparse.csr_matrix:
    """``exp(−½ (d / bandwidth_m)²)`` between every unit and point within ``CUT_SD`` sd (units × points)."""
    near = units.sparse_distance_matrix(points, CUT_SD * bandwidth_m, output_type="coo_matrix")
    return sparse.csr_matrix((np.exp(-0.5 * (near.data / bandwidth_m) ** 2), (near.row, near.col)),
                             shape=(units.n, points.n))
