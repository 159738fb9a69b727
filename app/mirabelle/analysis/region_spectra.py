"""Spectra of sky regions: the summed or mean spectrum of the pixels inside a `regions` shape.

Shapes are those of the ``regions`` package (circle, box/rectangle, polygon, annulus, …,
in pixel or sky coordinates) or a DS9 region file. A pixel belongs to a region when its
centre is inside (``mode='center'``, as DS9 counts pixels). Only pixels with at least one
finite channel are counted; NaN channels add nothing to the sum. Pixels of an
uncalibrated cube are resampled onto the cube's base axis (linear interpolation) before
they are added, so every region spectrum is on `Cube.base_axis_cm1`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mirabelle.analysis.pixels import count_tiles, iter_pixel_spectra
from mirabelle.errors import RegionError
from mirabelle.orientation import map_from_fits


@dataclass(frozen=True, eq=False)
class RegionSpectrum:
    """The combined spectrum of a region.

    Attributes
    ----------
    axis_cm1 : (nz,) ascending wavenumbers (cm⁻¹), the cube's base axis.
    values : (nz,) float64, sum (or mean) over the region's valid pixels, cube units
        (counts for ORB cubes; per pixel for a mean).
    pixels : number of valid pixels combined.
    combine : 'sum' or 'mean'.
    description : a short name of the region (file name, shape, or 'pixel (x, y)').
    ds9_text : the region's shapes as DS9 text ('' for a pixel).
    pixel : (x, y) of a one-pixel spectrum, else None.
    """

    axis_cm1: np.ndarray
    values: np.ndarray
    pixels: int
    combine: str
    description: str
    ds9_text: str = ""
    pixel: tuple[int, int] | None = None


def shape_mask(region, shape_xy: tuple[int, int], wcs=None) -> np.ndarray:
    """(nx, ny) bool mask of the pixels whose centres lie in one ``regions`` shape.

    Sky shapes are converted with ``wcs`` (a 2-D celestial WCS, 0-based pixels).
    """
    from regions import SkyRegion

    if isinstance(region, SkyRegion):
        if wcs is None:
            raise RegionError(f"expected a pixel region for a cube without WCS, found the sky region {region}")
        region = region.to_pixel(wcs)
    nx, ny = shape_xy
    image = region.to_mask(mode="center").to_image((ny, nx))
    if image is None:
        return np.zeros((nx, ny), bool)
    return map_from_fits(image) > 0


def cube_mask(cube, mask, what: str) -> np.ndarray:
    """``mask`` as an (nx, ny) bool array; RegionError unless it has the cube's shape."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (cube.nx, cube.ny):
        raise RegionError(f"{cube.path.name}: expected a {what} mask of the cube's shape {(cube.nx, cube.ny)} "
                          f"(nx, ny), found {mask.shape}")
    return mask


def read_regions(path: str | os.PathLike) -> list:
    """The shapes of a DS9 region file (``regions.Regions``), in file order."""
    from regions import Regions

    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        try:
            shapes = Regions.read(os.fspath(path), format="ds9")
        except Exception as exc:  # regions raises OSError, ValueError and its own parser errors
            raise RegionError(f"{path}: expected a DS9 region file, could not read it ({exc})") from None
    if len(shapes) == 0:
        detail = f" ({skipped[0].message})" if skipped else ""
        raise RegionError(f"{path}: expected at least one DS9 region shape, found none{detail}")
    return list(shapes)


def regions_mask(shapes, shape_xy: tuple[int, int], wcs=None) -> np.ndarray:
    """(nx, ny) bool: include shapes OR-ed, then exclude shapes (``-circle …``) removed."""
    nx, ny = shape_xy
    include = np.zeros((nx, ny), bool)
    exclude = np.zeros((nx, ny), bool)
    any_include = False
    for shape in shapes:
        pixels = shape_mask(shape, shape_xy, wcs)
        if shape.meta.get("include", True) in (False, 0):
            exclude |= pixels
        else:
            include |= pixels
            any_include = True
    return (include if any_include else np.ones((nx, ny), bool)) & ~exclude


def serialize_ds9(shapes) -> str:
    """DS9 region text of ``regions`` shapes (for headers and saved regions)."""
    from regions import Regions

    return Regions(list(shapes)).serialize(format="ds9")


def region_spectrum(cube, mask: np.ndarray, *, mean: bool = False, description: str = "",
                    ds9_text: str = "", progress: Callable[[float], None] | None = None) -> RegionSpectrum:
    """Sum (or mean) of the spectra of the pixels of ``mask`` ((nx, ny) bool) on the base axis.

    Reads only the chunk-aligned tiles that meet the mask, one at a time, so memory stays
    bounded for any region. ``progress(fraction)`` is called after each tile.

    Raises
    ------
    RegionError
        When the mask has the wrong shape or holds no pixel with data.
    """
    mask = cube_mask(cube, mask, "region")
    if not mask.any():
        raise RegionError(f"expected a region over pixels of {cube.path.name} ({cube.nx} × {cube.ny}), "
                          f"found {description or 'the region'} entirely outside")
    base = np.asarray(cube.base_axis_cm1)
    total = np.zeros(cube.nz, dtype=np.float64)
    pixels = 0
    tiles = count_tiles(mask, cube.chunk_xy)
    for done, (_x, _y, spectra) in enumerate(iter_pixel_spectra(cube, mask), start=1):
        spectra = spectra[np.isfinite(spectra).any(axis=1)]
        total += np.nansum(spectra, axis=0)
        pixels += spectra.shape[0]
        if progress is not None:
            progress(done / tiles)
    if pixels == 0:
        raise RegionError(f"expected pixels with data in {description or 'the region'}, found only NaN "
                          f"spectra in {cube.path.name}")
    values = total / pixels if mean else total
    return RegionSpectrum(axis_cm1=base.copy(), values=values, pixels=pixels,
                          combine="mean" if mean else "sum", description=description,
                          ds9_text=ds9_text)


def pixel_spectrum(cube, x: int, y: int) -> RegionSpectrum:
    """One pixel's spectrum as a `RegionSpectrum` on its own axis (what `extract --pixel` writes)."""
    spectrum = cube.spectrum(x, y)
    if not spectrum.is_valid:
        raise RegionError(f"pixel ({x}, {y}) of {cube.path.name} holds no data (every channel is NaN)")
    return RegionSpectrum(axis_cm1=spectrum.axis_cm1, values=spectrum.values, pixels=1, combine="sum",
                          description=f"pixel ({x}, {y})", pixel=(int(x), int(y)))
