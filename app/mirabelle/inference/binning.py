"""Pixel binning of a tile before the network, and the results repeated back over the pixels."""

from __future__ import annotations

import numpy as np


def bin_pixels(array: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor`` × ``factor`` blocks of the first two axes, NaN ignored.

    Partial blocks at the end are averaged over the pixels they hold.
    """
    if factor == 1:
        return array
    tx, ty = array.shape[:2]
    bx, by = -(-tx // factor), -(-ty // factor)
    dtype = np.result_type(array.dtype, np.float32)
    padded = np.full((bx * factor, by * factor) + array.shape[2:], np.nan, dtype)
    padded[:tx, :ty] = array
    blocks = padded.reshape((bx, factor, by, factor) + array.shape[2:])
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    count = finite.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(dtype)


def unbin_pixels(array: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Repeat block values over their pixels and cut to ``shape`` (tx, ty)."""
    if factor == 1:
        return array
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)[: shape[0], : shape[1]]
