"""Spectra of a set of pixels on the cube's base axis, read one chunk-aligned tile at a time."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from mirabelle.cube.base import Tile
from mirabelle.cube.tiling import default_tile


def _aligned_tiles(mask: np.ndarray, chunk_xy: tuple[int, int]) -> Iterator[tuple[slice, slice]]:
    """Chunk-aligned tiles (about 64 × 64 pixels, clipped to the mask's bounding box) that meet the mask."""
    xs, ys = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    tx, ty = default_tile(chunk_xy, mask.shape)
    for y0 in range(ys[0] // ty * ty, ys[-1] + 1, ty):
        for x0 in range(xs[0] // tx * tx, xs[-1] + 1, tx):
            x_slice = slice(max(x0, int(xs[0])), min(x0 + tx, int(xs[-1]) + 1))
            y_slice = slice(max(y0, int(ys[0])), min(y0 + ty, int(ys[-1]) + 1))
            if mask[x_slice, y_slice].any():
                yield x_slice, y_slice


def count_tiles(mask: np.ndarray, chunk_xy: tuple[int, int]) -> int:
    """How many tiles `iter_pixel_spectra` reads for ``mask`` (for progress)."""
    return sum(1 for _ in _aligned_tiles(mask, chunk_xy))


def iter_pixel_spectra(cube, mask: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(x, y, spectra)`` per tile for the pixels of ``mask`` ((nx, ny) bool, not empty):
    (n,) int pixel indices and (n, nz) float64 spectra on `Cube.base_axis_cm1`.

    Calibrated cubes are read as stored; an uncalibrated pixel's spectrum (on its own
    axis ``corr · unit axis``) is linearly interpolated onto the base axis, NaN outside its own.
    """
    base = np.asarray(cube.base_axis_cm1)
    for xs, ys in _aligned_tiles(mask, cube.chunk_xy):
        inside = mask[xs, ys]
        block = cube.read_block(xs, ys)
        spectra = block[inside].astype(np.float64)
        if not cube.calibrated:
            tile = Tile(x0=xs.start, y0=ys.start, data=block, channels=slice(0, cube.nz))
            axes = cube.tile_axis_cm1(tile)[inside]
            spectra = np.array([np.interp(base, a, s, left=np.nan, right=np.nan) for a, s in zip(axes, spectra)])
        ix, iy = np.nonzero(inside)
        yield ix + xs.start, iy + ys.start, spectra
