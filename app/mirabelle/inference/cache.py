"""A disk cache of finished (or partial) kinematic maps, one ``.npz`` per cube, model and settings.

The key hashes the cube's absolute path, size and modification time, the model's ONNX
sha256, the binning and the region, so reopening a cube is instant and a changed cube or
model misses the cache (and re-runs). Partial runs are stored with their ``done`` mask and
can be resumed with ``run_cube(..., maps=cached)``. Files live in
``platformdirs.user_cache_dir("mirabelle")/maps`` (``MIRABELLE_CACHE_DIR`` overrides it)
and are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from mirabelle.atomic import atomic_open, clean_stale
from mirabelle.inference.maps import KinematicMaps

FORMAT_VERSION = 1


def cache_dir() -> Path:
    """Folder of the cached maps (created on first save)."""
    override = os.environ.get("MIRABELLE_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mirabelle")) / "maps"


def cache_key(cube_path: str | os.PathLike, model_sha256: str, binning: int = 1,
              region_mask: np.ndarray | None = None) -> str:
    """Hex key of a cube file (path, size, mtime), a model hash and the run settings."""
    path = Path(cube_path).resolve()
    stat = path.stat()
    digest = hashlib.sha256()
    digest.update(f"{FORMAT_VERSION}|{path}|{stat.st_size}|{stat.st_mtime_ns}|{model_sha256}|{int(binning)}".encode())
    if region_mask is not None:
        digest.update(np.packbits(np.asarray(region_mask, dtype=bool)).tobytes())
    return digest.hexdigest()[:32]


def cache_path(cube_path, model_sha256: str, binning: int = 1, region_mask=None) -> Path:
    """Where the maps of this cube, model and settings are cached."""
    return cache_dir() / f"{Path(cube_path).stem}-{cache_key(cube_path, model_sha256, binning, region_mask)}.npz"


def save_maps(maps: KinematicMaps, cube_path, binning: int | None = None, region_mask=None) -> Path:
    """Store ``maps`` (complete or partial) for ``cube_path``; returns the file written.

    Raises OSError when the cache folder is not writable (callers may ignore it: the
    cache is an optimisation).
    """
    binning = maps.binning if binning is None else binning
    target = cache_path(cube_path, maps.model_sha256, binning, region_mask)
    clean_stale(target.parent)  # the cache folder is ours: every dead writer's temporary goes
    with atomic_open(target, fsync=False) as stream:  # a lost cache entry is only recomputed
        np.savez(stream, metadata=np.array(json.dumps(maps.metadata())), **maps.arrays())
    return target


def load_maps(cube_path, model_sha256: str, binning: int = 1, region_mask=None) -> KinematicMaps | None:
    """The cached maps of this cube, model and settings, or None (missing or unreadable)."""
    try:
        target = cache_path(cube_path, model_sha256, binning, region_mask)
        with np.load(target, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata"]))
            arrays = {name: data[name] for name in data.files if name != "metadata"}
        return KinematicMaps(**arrays, **metadata)
    except (OSError, ValueError, KeyError, TypeError):
        return None
