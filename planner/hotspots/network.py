"""Hot streets: signals snapped to a walk graph and scored by counts per km and a network or planar kernel density."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .. import settings
from .._errors import InputError
from .._geo import graph_crs, metric_xy, require_crs, street_table
from .._threads import thread_map
from .._validation import Constraints, check_params, instance, one_of, real
from ._json import jsonable
from ._kernel import BinnedGaussian
from .weights import HotspotParams, base_weights, signal_weights

log = logging.getLogger(__name__)

KERNELS = ("network", "planar")
"""How a hot street's kernel density measures distance (``HotStreetParams.kernel``)."""
THREADED_STREETS = 4000
"""From this many streets the kernels and a calibration's folds are worked on threads: below it
the arrays are too small to gain (calibration, 12 folds: 1,246 streets 1.05 s on one thread and
1.61 s on two, 3,257 streets 1.96 / 1.90 s, 12,896 streets 9.9 / 8.2 s)."""


@dataclass(frozen=True)
class HotStreetParams:
    """How streets are scored on a walk graph: a blend of counts per km and network kernel density.

    The density of a street is ``(1 − blend) · L · W / B + blend · R`` (weighted signals per km):
    ``L`` the signals snapped to the street per km of it, each with its weight without recency
    (category, target window, source; ``B`` their sum), the place's long-term record; ``R`` the
    network kernel density of the signals with their full weight (recency included; ``W`` their
    sum). A resolved signal weighs ``weights.resolved_weight`` in both. Scaling ``L`` by ``W / B`` gives
    both parts the same total weight, so the prizes stay comparable with the hotspots' scores
    whatever the blend.

    Parameters
    ----------
    bandwidth_m
        Kernel reach along the network (m): a quartic kernel ``(1 - (d/h)²)²`` up to ``h``;
        with ``kernel="planar"`` the standard deviation of a Gaussian in the plane instead.
        0 scores counts per km only (whatever the blend). 150 m, the literature default, unless
        an installation's calibration chose another (``tuning.hot_street_params``).
    blend
        Share of the kernel density, 0 … 1; the rest goes to the counts per km (0 = counts only).
    kernel
        ``"network"`` (walking distance to the street's midpoint) or ``"planar"`` (straight-line
        distance: signals drawn to places near a street rather than along it; the calibration
        tries both).
    snap_m
        Signals farther than this from every street are not snapped (and counted as such).
    weights
        How signals are weighted (recency, categories, window, status): ``HotspotParams``.
    """

    bandwidth_m: float = 150.0
    snap_m: float = 50.0
    weights: HotspotParams = field(default_factory=HotspotParams)
    blend: float = 1.0
    kernel: str = "network"

    _constraints: ClassVar[Constraints] = {
        "bandwidth_m": real(low=0, allowed="≥ 0 (0 = counts per km)"),
        "snap_m": real(low=0, low_open=True),
        "blend": real(low=0, high=1),
        "weights": instance(HotspotParams),
        "kernel": one_of(*KERNELS),
    }

    def __post_init__(self) -> None:
        check_params(self)


@dataclass(frozen=True)
class HotStreets:
    """Scored street segments of a walk graph.

    Attributes
    ----------
    edges
        GeoDataFrame in the graph's CRS, one row per directed edge ``(u, v, key)`` (both
        directions of a street carry the same values): ``street`` (the row of
        ``_geo.street_table``: both directions share it), ``length`` (m), ``signals`` (snapped to
        this street; absent in the ``public`` rendering), ``density`` (weighted signals per km
        of street, ``HotStreetParams``) and ``prize`` (``density`` × length in km: the
        segment's expected share of signals, the value the route planner collects).
    n_snapped, n_unsnapped
        Signals placed on a street, and those farther than ``snap_m`` from every street.
    """

    edges: gpd.GeoDataFrame
    n_snapped: int
    n_unsnapped: int

    def prizes(self) -> dict[tuple[Any, Any, int], float]:
        """``(u, v, key) → prize`` for every edge, for the route planner."""
        keys = zip(self.edges["u"], self.edges["v"], self.edges["key"], strict=True)
        return dict(zip(keys, self.edges["prize"].astype(float), strict=True))

    def streets(self, top: int | None = None) -> gpd.GeoDataFrame:
        """One row per street (the ``u ≤ v`` direction when there is one), densest first.

        Ties are broken by ``u`` then ``v`` so the order is the same on every run.
        """
        edges = self.edges
        canonical = edges["u"].astype(str) <= edges["v"].astype(str)
        # Prefer the u ≤ v direction, but keep a street that only runs v → u (a one-way edge).
        one = edges.assign(_canon=~canonical).sort_values(["street", "_canon"], kind="stable")
        one = one.drop_duplicates("street").drop(columns="_canon")
        one = one.assign(_u=one["u"].astype(str), _v=one["v"].astype(str))
        one = one.sort_values(["density", "_u", "_v"], ascending=[False, True, True], kind="stable")
        one = one.drop(columns=["_u", "_v"])
        return one if top is None else one.head(top)

    def _rows(self, streets: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        has_signals = "signals" in streets.columns
        rows = []
        for r in streets.itertuples(index=False):
            item = {"u": jsonable(r.u), "v": jsonable(r.v), "key": int(r.key), "name": jsonable(r.name),
                    "length_m": round(float(r.length), 1)}
            if has_signals:
                item["signals"] = int(r.signals)
            item |= {"density_per_km": round(float(r.density), 4), "prize": round(float(r.prize), 4)}
            rows.append(item)
        return rows

    def to_json(self, top: int = 20) -> dict[str, Any]:
        """``{"n_snapped", "n_unsnapped", "streets": [...]}`` with the ``top`` densest streets.

        Each street: ``u``, ``v``, ``key``, ``name``, ``length_m``, ``signals`` (officers only),
        ``density_per_km`` and ``prize``.
        """
        return {"n_snapped": self.n_snapped, "n_unsnapped": self.n_unsnapped,
                "streets": self._rows(self.streets(top))}

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection (WGS84) of every street with a density above zero.

        One LineString per street, densest first, with the ``to_json`` properties plus ``rank``
        (1 = hottest). Streets whose density rounds to zero (4 decimals, as written) are left
        out: they carry nothing for a map layer.
        """
        hot = self.streets()
        hot = hot[hot["density"].round(4) > 0]
        geometries = hot.to_crs(settings.WGS84).geometry if len(hot) else []
        features = [
            {"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
             "properties": {"rank": rank, **item}}
            for rank, (item, geometry) in enumerate(zip(self._rows(hot), geometries, strict=True), start=1)
        ]
        return {"type": "FeatureCollection", "features": features}

    def public(self, areas: gpd.GeoDataFrame | gpd.GeoSeries) -> HotStreets:
        """The residents' rendering: only streets that touch the public hotspot ``areas``.

        The areas already hold at least ``public_min_signals`` signals each, so a street outside
        them could point at a single report; per-street signal counts are dropped for the same
        reason (a street with one signal would show where it was).
        """
        require_crs(areas, "hotspot areas")
        edges = self.edges.drop(columns="signals", errors="ignore")
        if len(areas) == 0:
            return HotStreets(edges=edges.iloc[:0], n_snapped=self.n_snapped, n_unsnapped=self.n_unsnapped)
        union = shapely.union_all(areas.to_crs(edges.crs).geometry.to_numpy())
        inside = edges[shapely.intersects(edges.geometry.to_numpy(), union)]
        return HotStreets(edges=inside, n_snapped=self.n_snapped, n_unsnapped=self.n_unsnapped)


class NetworkKernel:
    """Signals snapped to a walk graph, and the walking distances the hot-streets density needs.

    Built once for a set of signals (at metric ``x, y`` in the graph's CRS) and the network
    kernel bandwidths ``bandwidths_m`` it will be asked for; ``density`` then scores the streets
    for any weights of those signals at any of them, or with the planar kernel at any bandwidth,
    without walking the network again, which is what lets a calibration try many candidates
    (``calibration.calibrate_streets``). ``hot_streets`` is this with its one bandwidth.

    Each signal snaps to its nearest street within ``snap_m`` (``street_of``, −1 beyond); those
    ``use`` marks (default all) feed the kernel: a signal's weight goes to its street's two ends
    in proportion to how close it is to each (exact for the street itself, corrected in
    ``density``; elsewhere off by at most the street's length, a few metres on a sidewalk
    network), and the distance from an end node to a street's midpoint is the shortest walk to
    either end of that street plus half its length.
    """

    def __init__(self, graph: nx.MultiDiGraph, x: np.ndarray, y: np.ndarray, *, snap_m: float,
                 bandwidths_m: Sequence[float] = (), use: np.ndarray | None = None) -> None:
        graph_crs(graph)
        if graph.number_of_edges() == 0:
            msg = "the street graph has no edges"
            raise InputError(msg)
        self.table, self.directed_row = street_table(graph, keys=True)
        nodes = list(graph.nodes)
        position = {node: i for i, node in enumerate(nodes)}
        eu = self.table["u"].map(position).to_numpy(np.int64)
        ev = self.table["v"].map(position).to_numpy(np.int64)
        self.length = self.table["length"].to_numpy(float)
        self.geometry = np.asarray(self.table["geometry"].to_list(), dtype=object)
        self.bandwidths_m = tuple(sorted({float(h) for h in bandwidths_m if h > 0}))
        mid = shapely.line_interpolate_point(self.geometry, 0.5, normalized=True)
        self.mx, self.my = shapely.get_x(mid), shapely.get_y(mid)
        self._planar_idx = np.arange(len(x)) if use is None else np.flatnonzero(use)
        self._planar_xy = np.column_stack([x, y])[self._planar_idx]
        self._planar: dict[float, BinnedGaussian] = {}

        points = shapely.points(x, y)
        found = shapely.STRtree(self.geometry).query_nearest(points, max_distance=snap_m, all_matches=False)
        self.street_of = np.full(len(x), -1, dtype=np.int64)
        self.street_of[found[0]] = found[1]
        keep = np.ones(len(found[0]), dtype=bool) if use is None else np.asarray(use, bool)[found[0]]
        self.signal_idx, self.edge_idx = found[0][keep], found[1][keep]
        edge_len = self.length[self.edge_idx]
        geom_len = shapely.length(self.geometry[self.edge_idx])
        along = shapely.line_locate_point(self.geometry[self.edge_idx], points[self.signal_idx])
        self.t = np.clip(along * edge_len / np.where(geom_len > 0, geom_len, 1.0), 0, edge_len)
        n_nodes, n_sig = len(nodes), len(self.signal_idx)

        # Node masses: column i holds signal i's shares at its street's two ends.
        frac = np.where(edge_len > 0, self.t / np.maximum(edge_len, 1e-9), 0.5)
        ends = np.concatenate([eu[self.edge_idx], ev[self.edge_idx]])
        shares = np.concatenate([1 - frac, frac])
        columns = np.tile(np.arange(n_sig), 2)
        positive = shares > 0
        node_xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
        reach = max(self.bandwidths_m, default=0.0)
        self._sources = _near_together(np.unique(ends[positive]), node_xy, reach)
        row_of = np.full(n_nodes, -1, dtype=np.int64)
        row_of[self._sources] = np.arange(len(self._sources))
        self._to_sources = sparse.csr_matrix(
            (shares[positive], (row_of[ends[positive]], columns[positive])), shape=(len(self._sources), n_sig))
        # Quartic kernels (streets × source nodes), one per bandwidth, in blocks of source columns.
        self._kernels: dict[float, list[tuple[slice, sparse.csc_matrix]]] = {}
        if n_sig and self.bandwidths_m:
            adjacency = _symmetric_min(eu, ev, self.length, n_nodes)
            self._kernels = _midpoint_kernels(adjacency, node_xy, self._sources, eu, ev, self.length,
                                              self.bandwidths_m)
        self._own = {h: self._own_street(h) for h in self.bandwidths_m}

    def _planar_kernel(self, h: float) -> BinnedGaussian:
        """Gaussian of sd ``h`` from the kernel's signals to the streets' midpoints, straight-line distance."""
        if h not in self._planar:
            self.build_planar((h,))
        return self._planar[h]

    def build_planar(self, bandwidths_m: Iterable[float]) -> None:
        """Build the planar kernels of ``bandwidths_m`` now and side by side (``thread_map``), rather
        than one by one when first asked for."""
        missing = [h for h in dict.fromkeys(bandwidths_m) if h not in self._planar]
        units = np.column_stack([self.mx, self.my])
        built = thread_map(lambda h: BinnedGaussian(units, self._planar_xy, h), missing,
                           threaded=len(self.table) >= THREADED_STREETS)
        self._planar.update(zip(missing, built, strict=True))

    def per_km(self, base: np.ndarray) -> np.ndarray:
        """Per street: the ``base`` weights of the signals snapped to it, per km (a street under 1 m counts as 1 m)."""
        total = np.bincount(self.edge_idx, weights=base[self.signal_idx], minlength=len(self.table))
        # A street shorter than a metre would rank first on a single signal.
        return total * 1000 / np.maximum(self.length, 1.0)

    def kernel_density(self, weight: np.ndarray, *, bandwidth_m: float, kernel: str = "network") -> np.ndarray:
        """Per street: ``R`` of ``HotStreetParams``, weighted signals per km, for per-signal ``weight``.

        ``weight`` is given per signal, in the order of the ``x, y`` the kernel was built on, or
        as columns of such weights (then one column of densities each: many weightings cost
        little more than one); a network ``bandwidth_m`` must be one of ``bandwidths_m``. The planar
        ``R`` is the Gaussian density at the midpoints, scaled as the counts per km are: Σ ``R``
        × km = the snapped signals' weight ``W``.
        """
        if kernel == "network" and float(bandwidth_m) not in self.bandwidths_m:
            known = ", ".join(f"{h:g}" for h in self.bandwidths_m) or "none"
            msg = (f"bandwidth_m {bandwidth_m:g} is not one of the kernel's network bandwidths ({known} m): "
                   "build the NetworkKernel with it in bandwidths_m")
            raise InputError(msg)
        given = np.asarray(weight, dtype=float)
        columns = given if given.ndim > 1 else given[:, None]
        w = columns[self.signal_idx]
        out = np.zeros((len(self.table), columns.shape[1]))
        if kernel == "planar":
            recent = self._planar_kernel(bandwidth_m).weights(columns[self._planar_idx])
            total, carried = w.sum(axis=0), self.length @ recent / 1000
            scale = np.divide(total, carried, out=np.zeros_like(total), where=(total > 0) & (carried > 0))
            out = recent * scale
        elif len(w):
            h = bandwidth_m
            at_sources = self._to_sources @ w
            recent = self._own[h] @ w
            for sources, block in self._kernels[h]:
                recent += block @ at_sources[sources]
            out = recent / (16 * h / 15) * 1000  # the quartic kernel integrates to 16h/15 metres
        return out if given.ndim > 1 else out[:, 0]

    def _own_street(self, h: float) -> sparse.csr_matrix:
        """What the kernel at ``h`` misses on a signal's own street (streets × snapped signals):
        there it lies |t − L/2| from the midpoint, not the L/2 through an end."""
        edge_len = self.length[self.edge_idx]
        own = np.clip(1 - (np.abs(self.t - edge_len / 2) / h) ** 2, 0, None) ** 2
        via_end = np.clip(1 - (edge_len / 2 / h) ** 2, 0, None) ** 2
        return sparse.csr_matrix((own - via_end, (self.edge_idx, np.arange(len(self.edge_idx)))),
                                 shape=(len(self.table), len(self.edge_idx)))

    def counts_density(self, base: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Per street: ``L · W / B`` of ``HotStreetParams``: the counts per km carrying the kernel's weight."""
        total_base = base[self.signal_idx].sum()
        if total_base <= 0:
            return np.zeros(len(self.table))
        return self.per_km(base) * (weight[self.signal_idx].sum() / total_base)

    @staticmethod
    def mix(kernel_part: np.ndarray | None, counts_part: np.ndarray | None, blend: float) -> np.ndarray:
        """``blend · R + (1 − blend) · L · W / B``; a part its share leaves out may be ``None``."""
        parts = [(blend, kernel_part), (1 - blend, counts_part)]
        out = np.zeros(len(next(p for share, p in parts if share > 0)))
        for share, part in parts:
            if share > 0:
                out += share * part
        return out

    def density(self, base: np.ndarray, weight: np.ndarray, *, bandwidth_m: float, blend: float,
                kernel: str = "network") -> np.ndarray:
        """Per street: ``(1 − blend) · L · W / B + blend · R`` (``HotStreetParams``), from ``base``
        (the counts' weights) and ``weight`` (the kernel's, with recency) per signal."""
        if bandwidth_m == 0:
            blend = 0.0
        recent = self.kernel_density(weight, bandwidth_m=bandwidth_m, kernel=kernel) if blend > 0 else None
        counts = self.counts_density(base, weight) if blend < 1 else None
        return self.mix(recent, counts, blend)


def hot_streets(
    graph: nx.MultiDiGraph,
    incidents: pd.DataFrame,
    *,
    params: HotStreetParams = HotStreetParams(),
    now: datetime | pd.Timestamp | None = None,
) -> HotStreets:
    """Snap signals to the nearest street and score every street (``HotStreetParams``).

    The kernel density of a street is evaluated at its midpoint: each snapped signal adds its
    weight × a quartic kernel of the shortest walking distance (along the network, both
    directions) from its snapped position to that midpoint, up to ``bandwidth_m``. This is the
    simple (not the "equal-split") network kernel; streets much longer than the bandwidth are
    only measured at their middle. With ``params.kernel="planar"`` the distance is the straight
    line instead (a Gaussian). ``params.blend`` mixes it with the counts per km
    (``NetworkKernel``). Works on any graph from ``streets.prepare_graph`` (projected,
    ``length`` on every edge); the graph is not changed.
    """
    crs = graph_crs(graph)
    frame = incidents.reset_index(drop=True)
    x, y, _ = metric_xy(frame, crs)
    weights = signal_weights(frame, params=params.weights, now=now)
    base = base_weights(weights)
    weight = base * weights["recency"].to_numpy()
    bandwidth = params.bandwidth_m if params.blend > 0 else 0.0
    network = (bandwidth,) if params.kernel == "network" else ()
    kernel = NetworkKernel(graph, x, y, snap_m=params.snap_m, bandwidths_m=network, use=base > 0)
    density = kernel.density(base, weight, bandwidth_m=bandwidth, blend=params.blend, kernel=params.kernel)
    table, directed_row, length = kernel.table, kernel.directed_row, kernel.length
    n_snapped = int((kernel.street_of >= 0).sum())
    counts = np.bincount(kernel.edge_idx, minlength=len(table))
    u_list, v_list, k_list = zip(*graph.edges(keys=True), strict=True)
    edges = gpd.GeoDataFrame(
        {
            "u": list(u_list), "v": list(v_list), "key": list(k_list),
            "street": directed_row,
            "name": table["name"].to_numpy()[directed_row],
            "length": length[directed_row],
            "signals": counts[directed_row],
            "density": density[directed_row],
            "prize": density[directed_row] * length[directed_row] / 1000,
        },
        geometry=list(kernel.geometry[directed_row]), crs=crs,
    )
    log.info(
        "hot streets: %d signals snapped to %d of %d streets (%d beyond %g m)",
        n_snapped, int((counts > 0).sum()), len(table), len(frame) - n_snapped, params.snap_m,
    )
    return HotStreets(edges=edges, n_snapped=n_snapped, n_unsnapped=len(frame) - n_snapped)


def _symmetric_min(eu: np.ndarray, ev: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_matrix:
    """Undirected adjacency with the shortest of parallel streets."""
    a, b = np.minimum(eu, ev), np.maximum(eu, ev)
    order = np.lexsort((length, b, a))
    a, b, ln = a[order], b[order], length[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, ln = a[first], b[first], np.maximum(ln[first], 1e-6)
    loops = a != b
    a, b, ln = a[loops], b[loops], ln[loops]
    return sparse.coo_matrix((np.concatenate([ln, ln]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                             shape=(n, n)).tocsr()


def _near_together(sources: np.ndarray, node_xy: np.ndarray, h: float) -> np.ndarray:
    """``sources`` in bands of 4 h from south to north, west to east in each: the order
    ``_midpoint_kernels`` walks them in, so that each batch's nodes within h are few."""
    band = np.floor(node_xy[sources, 1] / (4 * h)) if h > 0 else np.zeros(len(sources))
    return sources[np.lexsort((node_xy[sources, 0], band))]


def _midpoint_kernels(
    adjacency: sparse.csr_matrix, node_xy: np.ndarray, sources: np.ndarray, eu: np.ndarray, ev: np.ndarray,
    length: np.ndarray, bandwidths: Sequence[float],
) -> dict[float, list[tuple[slice, sparse.csc_matrix]]]:
    """Per bandwidth h, the quartic kernel ``(1 − (d / h)²)²`` (streets × ``sources``) of every street
    midpoint a walk d < h from a source node, as blocks of columns (the sources each covers).

    The walk to a midpoint goes through the nearer end of the street (``eu``, ``ev``) and half its
    ``length``. A walk of length ≤ h never leaves the disc of radius h around its start, so each
    batch of nearby sources (``_near_together``) runs Dijkstra on the nodes within the largest h
    (straight line) of the batch only. The batches are walked side by side (``thread_map``, from
    ``THREADED_STREETS``), and each one's walks are a block of the kernels: joining the blocks
    into one matrix took more time, in memory, than the walks.
    """
    reach = max(bandwidths)
    radius = reach * (1 + 1e-9) + 1e-6
    chunk = 64

    def walk(begin: int) -> dict[float, sparse.csc_matrix]:
        batch = sources[begin : begin + chunk]
        corner_lo, corner_hi = node_xy[batch].min(axis=0) - radius, node_xy[batch].max(axis=0) + radius
        box = np.flatnonzero(((node_xy >= corner_lo) & (node_xy <= corner_hi)).all(axis=1))
        nearest, _ = cKDTree(node_xy[batch]).query(node_xy[box], distance_upper_bound=radius)
        local = box[np.isfinite(nearest)]
        dist = csgraph.dijkstra(adjacency[local][:, local], directed=False,
                                indices=np.searchsorted(local, batch), limit=reach)
        local_of = np.full(len(node_xy), -1, dtype=np.int64)
        local_of[local] = np.arange(len(local))
        lu, lv = local_of[eu], local_of[ev]
        touched = np.flatnonzero((lu >= 0) | (lv >= 0))
        # A node outside ``local`` (−1: the column appended) is further than h from every source of the batch.
        dist = np.hstack([dist, np.full((len(batch), 1), np.inf)])
        mid = np.minimum(dist[:, lu[touched]], dist[:, lv[touched]]) + length[touched] / 2
        row, col = np.nonzero(mid < reach)
        d = mid[row, col]
        blocks = {}
        for h in bandwidths:
            near = d < h
            columns = np.r_[0, np.cumsum(np.bincount(row[near], minlength=len(batch)))]
            blocks[h] = sparse.csc_matrix(((1 - (d[near] / h) ** 2) ** 2, touched[col[near]], columns),
                                          shape=(len(length), len(batch)))
        return blocks

    begins = range(0, len(sources), chunk)
    walked = thread_map(walk, begins, threaded=len(length) >= THREADED_STREETS)
    return {h: [(slice(begin, begin + chunk), blocks[h]) for begin, blocks in zip(begins, walked, strict=True)]
            for h in bandwidths}
