"""Spatial tiling of a cube: chunk-aligned tiles that cover every pixel exactly once.

A tile is a rectangle of whole storage chunks in (x, y) and all (or a band of) channels,
so reading it touches each chunk once and no chunk is shared with another tile. Readers
describe their storage by a 2-D "chunk" ``(cx, cy)``: the HDF5 chunk shape, ``(1, ny)``
for a contiguous HDF5 dataset (rows of spectra are contiguous) and ``(nx, 1)`` for FITS
(an image row is contiguous in every channel plane).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

@dataclass(frozen=True, eq=False)
class Tile:
    """A block of the cube read in one go by `Cube.iter_tiles`.

    Attributes
    ----------
    x0, y0 : int, pixel of ``data[0, 0]``.
    data : (tx, ty, nband) float32, real part, indexed ``[x - x0, y - y0, channel]``.
    channels : slice of the cube's channels held in ``data``'s last axis.
    """

    x0: int
    y0: int
    data: np.ndarray
    channels: slice

    @property
    def x_slice(self) -> slice:
        """Cube x range of the tile: ``maps[tile.x_slice, tile.y_slice]`` is its footprint."""
        return slice(self.x0, self.x0 + self.data.shape[0])

    @property
    def y_slice(self) -> slice:
        """Cube y range of the tile."""
        return slice(self.y0, self.y0 + self.data.shape[1])


DEFAULT_TILE_PIXELS = 4096
"""Pixels per default tile (about 64 × 64): 14 MB of float32 for 840 channels, a read of
tens of ms from the page cache, so a click waiting behind the h5py lock stays responsive."""


def default_tile(chunk_xy: tuple[int, int], shape_xy: tuple[int, int],
                 pixels: int = DEFAULT_TILE_PIXELS) -> tuple[int, int]:
    """Tile size (tx, ty), whole multiples of the chunk, of about ``pixels`` pixels.

    The larger chunk side is sized first (to about the square root of ``pixels``) so a
    long, thin chunk such as ``(1, ny)`` gives a thin tile rather than a huge one.
    """
    cx, cy = (max(1, int(c)) for c in chunk_xy)
    nx, ny = shape_xy
    side = pixels ** 0.5
    if cy >= cx:
        ty = min(_multiple(cy, side), _round_up(ny, cy))
        tx = min(_multiple(cx, pixels / ty), _round_up(nx, cx))
    else:
        tx = min(_multiple(cx, side), _round_up(nx, cx))
        ty = min(_multiple(cy, pixels / tx), _round_up(ny, cy))
    return tx, ty


def aligned_tile(tile: tuple[int, int], chunk_xy: tuple[int, int]) -> tuple[int, int]:
    """Round a requested tile size up to whole chunks (each side at least one chunk)."""
    tx, ty = (int(t) for t in tile)
    if tx < 1 or ty < 1:
        raise ValueError(f"tile sides must be positive, got {tile}")
    cx, cy = (max(1, int(c)) for c in chunk_xy)
    return _round_up(tx, cx), _round_up(ty, cy)


def tile_origins(shape_xy: tuple[int, int], tile: tuple[int, int]) -> Iterator[tuple[slice, slice]]:
    """Yield ``(x slice, y slice)`` of every tile, x fastest; edge tiles are clipped."""
    nx, ny = shape_xy
    tx, ty = tile
    for y0 in range(0, ny, ty):
        for x0 in range(0, nx, tx):
            yield slice(x0, min(x0 + tx, nx)), slice(y0, min(y0 + ty, ny))


def _multiple(chunk: int, target: float) -> int:
    """The multiple of ``chunk`` closest to ``target``, at least ``chunk``."""
    return chunk * max(1, round(target / chunk))


def _round_up(value: int, chunk: int) -> int:
    return -(-value // chunk) * chunk
