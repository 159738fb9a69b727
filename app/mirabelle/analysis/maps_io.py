"""Read a 2-D FITS map (a velocity map from `predict`, a moment map) as an ``[x, y]`` array."""

from __future__ import annotations

import os

import numpy as np

from mirabelle.errors import MirabelleError
from mirabelle.orientation import map_from_fits


def read_map(path: str | os.PathLike, shape_xy: tuple[int, int]) -> np.ndarray:
    """(nx, ny) float64 map of the first 2-D image HDU of ``path``, checked against ``shape_xy``.

    Raises
    ------
    MirabelleError
        When the file is not FITS, holds no 2-D image, or its shape is not the cube's.
    """
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdus:
            image = next((hdu.data for hdu in hdus if hdu.data is not None and hdu.data.ndim == 2), None)
    except (OSError, ValueError) as exc:
        raise MirabelleError(f"{path}: expected a FITS map, could not read it ({exc})") from None
    if image is None:
        raise MirabelleError(f"{path}: expected a 2-D FITS image, found none")
    values = map_from_fits(np.asarray(image, dtype=np.float64))
    if values.shape != tuple(shape_xy):
        raise MirabelleError(f"{path}: expected a map of {shape_xy[0]} × {shape_xy[1]} pixels (the cube's), "
                             f"found {values.shape[0]} × {values.shape[1]}")
    return values
