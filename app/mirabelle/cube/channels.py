"""Channel images of a cube: read straight from the file, or from a channel-major cache.

ORB stores cubes in chunks that span many channels (h5py's automatic chunks, e.g.
32 × 65 × 27), so one channel image reads a good part of the file: `read_channel_image`
does that in a few large blocks, reporting progress. `ChannelCache` keeps a transposed
copy of the in-band channels (as CARTA keeps one) in an HDF5 file whose chunks hold one
channel of one tile, written by one pass over the cube (`ChannelCache.build`, a generator
of finished tiles, resumable); after it, a channel image is a few contiguous reads.

Cache files live in ``platformdirs.user_cache_dir("mirabelle")/channels``
(``MIRABELLE_CACHE_DIR`` overrides the parent), keyed by the cube's absolute path, size
and modification time, so a changed cube misses the cache.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from mirabelle.atomic import discard
from mirabelle.cube.tiling import aligned_tile, tile_origins
from mirabelle.errors import CubeError
from mirabelle.locking import OutputLock
from mirabelle.lines.constants import SN3_BAND_NM

CACHE_TILE = (128, 128)
"""Tile of the cache pass (rounded up to the cube's chunks): 55 MB of float32 for 840
channels, and the cache's chunk is one channel of it."""
DIRECT_BLOCK_PIXELS = 512 * 512
"""Pixels per block when a channel image is read from the cube itself (progress steps)."""
FORMAT_VERSION = 2


def cache_dir() -> Path:
    """Folder of the channel caches (created on first use)."""
    override = os.environ.get("MIRABELLE_CACHE_DIR")
    if override:
        return Path(override) / "channels"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mirabelle")) / "channels"


def cache_key(cube_path: str | os.PathLike) -> str:
    """Hex key of a cube file: absolute path, size and modification time."""
    path = Path(cube_path).resolve()
    stat = path.stat()
    text = f"{FORMAT_VERSION}|{path}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def in_band_channels(cube) -> slice:
    """Channels worth caching: the SN3 filter band for SN3 cubes, else every channel."""
    if cube.is_sn3:
        return cube.channels_in_band((1e7 / SN3_BAND_NM[1], 1e7 / SN3_BAND_NM[0]))
    return slice(0, cube.nz)


def _check_channel(cube, channel: int) -> int:
    channel = int(channel)
    if not 0 <= channel < cube.nz:
        raise CubeError(f"expected a channel 0–{cube.nz - 1} of {cube.path.name}, found {channel}")
    return channel


def read_channel_image(cube, channel: int, progress: Callable[[float], None] | None = None,
                       cancel: threading.Event | None = None) -> np.ndarray | None:
    """(nx, ny) float32 image of ``channel`` read from the cube in blocks of whole chunks.

    ``progress(fraction)`` after each block; returns None when ``cancel`` is set midway.
    """
    channel = _check_channel(cube, channel)
    image = np.empty((cube.nx, cube.ny), np.float32)
    side = int(DIRECT_BLOCK_PIXELS ** 0.5)
    blocks = list(tile_origins((cube.nx, cube.ny), aligned_tile((side, side), cube.chunk_xy)))
    for done, (xs, ys) in enumerate(blocks, start=1):
        if cancel is not None and cancel.is_set():
            return None
        image[xs, ys] = cube.read_block(xs, ys, slice(channel, channel + 1))[:, :, 0]
        if progress is not None:
            progress(done / len(blocks))
    return image


def _create_channel_major(file, shape: tuple[int, int, int], chunks: tuple[int, int, int]) -> None:
    """The ``channels`` dataset with every chunk allocated at creation, in chunk-index order:
    one channel's chunks are then contiguous in the file, so a channel image is one
    sequential read (chunks allocated as the tiles arrive would scatter it over the file).
    Fill values are never written: creation is instant and the file grows as tiles land."""
    import h5py
    from h5py import h5d

    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(chunks)
    dcpl.set_alloc_time(h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5d.FILL_TIME_NEVER)
    h5d.create(file.id, b"channels", h5py.h5t.NATIVE_FLOAT, h5py.h5s.create_simple(shape), dcpl=dcpl)


def _open_cache(path: Path):
    """The cache file opened for writing; one a killed builder left unreadable is started afresh."""
    import h5py

    try:
        return h5py.File(path, "a", locking=False)  # OutputLock guards it
    except OSError:
        if not path.exists():
            raise
        discard(path)
        return h5py.File(path, "a", locking=False)


class ChannelCache:
    """A channel-major copy of a cube's in-band channels in an HDF5 file beside the other caches.

    Use `build` (a generator yielding the fraction done after each tile) once; then
    `channel_image(k)` returns channel k from the cache (None while the tiles are not all
    written, or for a channel outside the cached band). Thread safety: one object is
    used by one builder thread and any number of readers; its lock serialises file access,
    and after `close` (from any thread) the builder stops and reads return None.
    """

    def __init__(self, cube, folder: str | os.PathLike | None = None):
        import h5py

        self.cube = cube
        self.channels = in_band_channels(cube)
        self.tile = aligned_tile(CACHE_TILE, cube.chunk_xy)
        self.origins = list(tile_origins((cube.nx, cube.ny), self.tile))
        folder = Path(folder) if folder is not None else cache_dir()
        self.path = folder / f"{cache_key(cube.path)}.h5"
        self._lock = threading.Lock()
        nband = self.channels.stop - self.channels.start
        self._hold = OutputLock(self.path, f"the channel cache {self.path}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._hold.acquire()  # two builders of one cache would corrupt it
            self._file = _open_cache(self.path)
            if "channels" not in self._file or self._file["channels"].shape != (nband, cube.nx, cube.ny):
                for name in list(self._file):
                    del self._file[name]
                _create_channel_major(self._file, (nband, cube.nx, cube.ny),
                                      (1, min(self.tile[0], cube.nx), min(self.tile[1], cube.ny)))
                self._file.create_dataset("done", data=np.zeros(len(self.origins), bool))
                self._file.attrs.update(cube=str(cube.path), first_channel=self.channels.start)
        except OSError as exc:
            self._hold.release()
            raise CubeError(f"{self.path}: cannot write the channel cache of {cube.path.name} ({exc})") from None
        self._done = np.asarray(self._file["done"][()], bool)

    @property
    def fraction_done(self) -> float:
        """Fraction of the cube's tiles already in the cache, 0..1."""
        return float(self._done.mean()) if self._done.size else 1.0

    @property
    def complete(self) -> bool:
        return bool(self._done.all())

    def holds(self, channel: int) -> bool:
        """True when ``channel`` is in the cached band."""
        return self.channels.start <= int(channel) < self.channels.stop

    def build(self, cancel: threading.Event | None = None) -> Iterator[float]:
        """Copy every tile not yet cached; yield the fraction done after each (stops early on ``cancel``)."""
        for index, (xs, ys) in enumerate(self.origins):
            if self._done[index]:
                continue
            if cancel is not None and cancel.is_set():
                return
            block = self.cube.read_block(xs, ys, self.channels)  # (tx, ty, nband)
            with self._lock:
                if not self._file.id.valid:  # closed by another thread meanwhile
                    return
                self._file["channels"][:, xs, ys] = np.moveaxis(block, 2, 0)
                self._done[index] = True
                self._file["done"][index] = True
                self._file.flush()
            yield self.fraction_done

    def channel_image(self, channel: int) -> np.ndarray | None:
        """(nx, ny) float32 image of ``channel`` from the cache, or None when it cannot serve it yet."""
        channel = _check_channel(self.cube, channel)
        if not (self.complete and self.holds(channel)):
            return None
        with self._lock:
            if not self._file.id.valid:
                return None
            return self._file["channels"][channel - self.channels.start]

    def close(self) -> None:
        with self._lock:
            if self._file.id.valid:
                self._file.close()
            self._hold.release()

    def __enter__(self) -> ChannelCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def channel_image(cube, channel: int, cache: ChannelCache | None = None,
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """(nx, ny) float32 image of ``channel``: from ``cache`` when it holds it, else from the cube."""
    image = cache.channel_image(channel) if cache is not None else None
    return image if image is not None else read_channel_image(cube, channel, progress)
