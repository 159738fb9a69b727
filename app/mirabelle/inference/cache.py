"""A disk cache of finished (or partial) kinematic maps, one ``.npz`` per cube, model and settings.

The key hashes the cube's absolute path, size and modification time, the model's ONNX
sha256, the binning and the region, so reopening a cube is instant and a changed cube or
model misses the cache (and re-runs). Partial runs are stored with their ``done`` mask and
are resumed with ``run_cube(..., maps=cached)``. Each file records ``FORMAT_VERSION`` and
its arrays: a file of another version, or one that cannot be read, is reported through
``notify`` (one sentence) and recomputed, never dropped silently. Files live in
``platformdirs.user_cache_dir("mirabelle")/maps`` (``MIRABELLE_CACHE_DIR`` overrides it)
and are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import numpy as np

from mirabelle.atomic import atomic_open, clean_stale
from mirabelle.inference.maps import KinematicMaps

FORMAT_VERSION = 3
"""Version of the cached file layout; bump it when ``KinematicMaps`` or the run's results change
(3: the ``OUTLIER`` quality bit)."""
_log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Folder of the cached maps (created on first save)."""
    override = os.environ.get("MIRABELLE_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mirabelle")) / "maps"


def cache_key(cube_path: str | os.PathLike, model_sha256: str, binning: int = 1,
              region_mask: np.ndarray | None = None, vsys_kms: float = 0.0, *,
              legacy_version: int | None = None) -> str:
    """Hex key of a cube file (path, size, mtime), a model hash and the run settings
    (binning, region, systemic velocity in km/s).

    ``legacy_version`` gives the key of version 1, which hashed the version in.
    """
    path = Path(cube_path).resolve()
    stat = path.stat()
    digest = hashlib.sha256()
    prefix = "" if legacy_version is None else f"{legacy_version}|"
    digest.update(f"{prefix}{path}|{stat.st_size}|{stat.st_mtime_ns}|{model_sha256}|{int(binning)}".encode())
    if region_mask is not None:
        digest.update(np.packbits(np.asarray(region_mask, dtype=bool)).tobytes())
    if vsys_kms:
        digest.update(f"|vsys {float(vsys_kms)!r}".encode())
    return digest.hexdigest()[:32]


def cache_path(cube_path, model_sha256: str, binning: int = 1, region_mask=None, vsys_kms: float = 0.0) -> Path:
    """Where the maps of this cube, model and settings are cached."""
    key = cache_key(cube_path, model_sha256, binning, region_mask, vsys_kms)
    return cache_dir() / f"{Path(cube_path).stem}-{key}.npz"


def save_maps(maps: KinematicMaps, cube_path, binning: int | None = None, region_mask=None,
              vsys_kms: float = 0.0) -> Path:
    """Store ``maps`` (complete or partial) for ``cube_path``; returns the file written.

    Raises OSError when the cache folder is not writable (callers may ignore it: the
    cache is an optimisation).
    """
    binning = maps.binning if binning is None else binning
    target = cache_path(cube_path, maps.model_sha256, binning, region_mask, vsys_kms)
    metadata = dict(maps.metadata(), format_version=FORMAT_VERSION)
    clean_stale(target.parent)  # the cache folder is ours: every dead writer's temporary goes
    with atomic_open(target, fsync=False) as stream:  # a lost cache entry is only recomputed
        np.savez(stream, metadata=np.array(json.dumps(metadata)), **maps.arrays())
    return target


def load_maps(cube_path, model_sha256: str, binning: int = 1, region_mask=None, vsys_kms: float = 0.0,
              notify: Callable[[str], None] | None = None) -> KinematicMaps | None:
    """The cached maps of this cube, model and settings, or None.

    None without a word when nothing is cached; with one sentence to ``notify`` (default:
    a logged warning) when a cached file is of another format version or unreadable, which
    is then removed so the run that follows replaces it.
    """
    notify = notify or _log.warning
    try:
        target = cache_path(cube_path, model_sha256, binning, region_mask, vsys_kms)
        legacy = cache_dir() / (f"{Path(cube_path).stem}-"
                                f"{cache_key(cube_path, model_sha256, binning, region_mask, legacy_version=1)}.npz")
    except OSError:
        return None
    if legacy.exists():
        notify(f"{cube_path}: found cached maps of format version 1 ({legacy.name}), expected version "
               f"{FORMAT_VERSION}; they are recomputed.")
        legacy.unlink(missing_ok=True)
    if not target.exists():
        return None
    try:
        with np.load(target, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata"]))
            version = metadata.pop("format_version", 1)
            arrays = {name: data[name] for name in data.files if name != "metadata"}
        expected = {f.name for f in fields(KinematicMaps)} - set(metadata)
        if version != FORMAT_VERSION or set(arrays) != expected:
            notify(f"{cube_path}: expected cached maps of format version {FORMAT_VERSION} with "
                   f"{len(expected)} arrays, found version {version} with {len(arrays)} ({target.name}); "
                   f"they are recomputed.")
            target.unlink(missing_ok=True)
            return None
        return KinematicMaps(**arrays, **metadata)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        notify(f"{cube_path}: expected readable cached maps in {target}, found a damaged file ({exc}); "
               f"they are recomputed.")
        target.unlink(missing_ok=True)
        return None
