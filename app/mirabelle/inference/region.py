"""Turn a DS9 region file into a pixel mask of a cube (which pixels a run computes)."""

from __future__ import annotations

import os

import numpy as np

from mirabelle.errors import RegionError


def region_mask_from_file(path: str | os.PathLike, cube) -> np.ndarray:
    """(nx, ny) bool mask of the pixels whose centres lie in the regions of a DS9 file.

    Include shapes are OR-ed, exclude shapes (``-circle …``) then removed. Sky regions
    need the cube's WCS.

    Raises
    ------
    RegionError
        Unreadable file, no shape, sky regions without a WCS, or no pixel inside.
    """
    from regions import SkyRegion

    from mirabelle.analysis.region_spectra import read_regions, regions_mask

    shapes = read_regions(path)
    if cube.wcs is None and any(isinstance(shape, SkyRegion) for shape in shapes):
        raise RegionError(f"{path}: expected pixel regions for {cube.path.name}, which has no WCS, found sky regions.")
    mask = regions_mask(shapes, (cube.nx, cube.ny), cube.wcs)
    if not mask.any():
        raise RegionError(f"{path}: expected regions covering pixels of {cube.path.name} ({cube.nx} × {cube.ny}), "
                          f"found none inside.")
    return mask
