"""Prepared street graphs on disk: GraphML written atomically, loaded frozen, one file per ward.

``ward_graph`` loads the cached prepared graph of a ward once per file version and shares it (a
frozen graph is read-only), which is what the router, the hotspots and the dashboard call.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import networkx as nx
import osmnx as ox

from .. import settings
from .._errors import DataNotFoundError

_GRAPH_DTYPES = {"speed_kmh": float, "buffer_m": float, "snap_m": float}


def write_graphml(graph: nx.MultiDiGraph, path: Path) -> None:
    """Write GraphML atomically: readers in other sessions never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".graphml", dir=path.parent)
    os.close(handle)
    try:
        ox.save_graphml(graph, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_graph(graph: nx.MultiDiGraph, path: str | Path) -> Path:
    """Cache a prepared graph as GraphML (osmnx loads it back with its types and CRS)."""
    path = Path(path)
    write_graphml(graph, path)
    return path


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Load a GraphML graph saved by ``save_graph``, frozen (read-only)."""
    path = Path(path)
    if not path.is_file():
        msg = f"graph file not found: {path}"
        raise DataNotFoundError(msg, commands=("graph", "demo"))
    graph = ox.load_graphml(path, edge_dtypes={"walk_time": float, "segment": int}, graph_dtypes=_GRAPH_DTYPES)
    return nx.freeze(graph)


def ward_slug(ward_name: str) -> str:
    """A file-name-safe form of a ward name: ``"Wijk 05 Rokkeveen"`` → ``"wijk-05-rokkeveen"``."""
    ascii_name = unicodedata.normalize("NFKD", ward_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.casefold()).strip("-")
    if not slug:
        slug = "ward-" + hashlib.sha256(ward_name.encode()).hexdigest()[:8]
    return slug


def ward_graph_path(ward_name: str, *, data_dir: str | Path | None = None) -> Path:
    """Where the prepared graph of a ward is cached: ``DATA_DIR/graphs/<ward-slug>.graphml``."""
    directory = Path(data_dir) if data_dir is not None else settings.data_dir()
    return directory / "graphs" / f"{ward_slug(ward_name)}.graphml"


def ward_graph(store, ward_name: str, *, data_dir: str | Path | None = None) -> nx.MultiDiGraph:
    """The cached prepared (frozen) graph of a ward, loaded once per file version and shared.

    ``store`` resolves what the user typed (name, code, name without ``Wijk 05``) to the stored
    ward name; pass ``None`` to use ``ward_name`` as it is.

    Raises
    ------
    DataNotFoundError
        The ward is unknown, or no graph has been built for it yet; the message says how.
    """
    if store is not None:
        ward_name = stored_ward_name(store, ward_name)
    path = ward_graph_path(ward_name, data_dir=data_dir)
    try:
        stat = path.stat()
    except FileNotFoundError:
        msg = f"no street graph for ward {ward_name!r} yet (looked for {path})"
        # The CLI builds it offline from an extract, or online.
        graph = f'graph --ward "{ward_name}"'
        raise DataNotFoundError(msg, commands=(f"{graph} --osm FILE", graph)) from None
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> nx.MultiDiGraph:
    # Frozen graphs are safe to share: a rebuilt file has a new mtime, hence a new cache entry.
    return load_graph(path)


def stored_ward_name(store, ward_name: str) -> str:
    """The stored name of the ward the user means by ``ward_name`` (a name, a code, a short name)."""
    wards = store.wards()
    if (wards["name"] == ward_name).any():
        return ward_name
    from ..signals.wards import find_ward

    return find_ward(ward_name, wards)
