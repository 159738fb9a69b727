"""Turn a DS9 region file into a pixel mask of a cube (which pixels a run computes)."""

from __future__ import annotations

import os
import warnings

import numpy as np

from mirabelle.errors import FlagsError
from mirabelle.orientation import map_from_fits


def region_mask_from_file(path: str | os.PathLike, cube) -> np.ndarray:
    """(nx, ny) bool mask of the pixels whose centres lie in the regions of a DS9 file.

    Include shapes are OR-ed, exclude shapes (``-circle …``) then removed. Sky regions
    need the cube's WCS.

    Raises
    ------
    FlagsError
        Unreadable file, no shape, sky regions without a WCS, or no pixel inside.
    """
    from regions import Regions, SkyRegion

    with warnings.catch_warnings(record=True) as skipped:  # unparsable lines: reported below
        warnings.simplefilter("always")
        try:
            shapes = Regions.read(os.fspath(path), format="ds9")
        except Exception as exc:  # regions raises OSError, ValueError and its own parser errors
            raise FlagsError(f"{path}: expected a DS9 region file, could not read it ({exc}).") from exc
    if len(shapes) == 0:
        detail = f" ({skipped[0].message})" if skipped else ""
        raise FlagsError(f"{path}: expected at least one DS9 region shape, found none{detail}.")
    nx, ny = cube.nx, cube.ny
    include = np.zeros((nx, ny), bool)
    exclude = np.zeros((nx, ny), bool)
    any_include = False
    for shape in shapes:
        if isinstance(shape, SkyRegion):
            if cube.wcs is None:
                raise FlagsError(f"{path}: expected pixel regions for {cube.path.name}, which has no WCS, "
                                 f"found sky regions.")
            shape = shape.to_pixel(cube.wcs)
        image = shape.to_mask(mode="center").to_image((ny, nx))
        pixels = map_from_fits(image if image is not None else np.zeros((ny, nx))) > 0
        if shape.meta.get("include", True) in (False, 0):
            exclude |= pixels
        else:
            include |= pixels
            any_include = True
    mask = (include if any_include else np.ones((nx, ny), bool)) & ~exclude
    if not mask.any():
        raise FlagsError(f"{path}: expected regions covering pixels of {cube.path.name} ({nx} × {ny}), "
                         f"found none inside.")
    return mask
