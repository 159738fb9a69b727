"""Sky subtraction from a region the user picks, as ORCS and LUCI do (Qt-free).

The sky spectrum is the median, channel by channel, of the spectra of the pixels inside
a region (a DS9 file, a drawn shape or an annulus turned into a pixel mask), each on the
reference axis (``base_axis``; an uncalibrated cube's pixels are resampled from their own
axes). `SkySubtractedCube` then subtracts it from every pixel before preprocessing,
resampled onto that pixel's axis (the sky lines are at fixed wavenumbers, so in an
uncalibrated cube each pixel sees them on other channels).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mirabelle.cube.base import Spectrum, Tile
from mirabelle.errors import MirabelleError

MAX_SKY_PIXELS = 4000
"""Pixels read at most for the median (an even subsample of larger regions)."""


@dataclass(frozen=True)
class SkySpectrum:
    """The median sky of a region.

    Attributes
    ----------
    axis_cm1 : (nz,) the cube's reference axis (cm⁻¹).
    values : (nz,) float64 median spectrum (cube units; NaN where no pixel had a value).
    pixels : pixels that went into the median.
    label : where the region came from (a file name, 'drawn region'...), for summaries.
    """

    axis_cm1: np.ndarray
    values: np.ndarray
    pixels: int
    label: str = ""

    def on_axis(self, axis_cm1: np.ndarray) -> np.ndarray:
        """The sky at wavenumbers ``axis_cm1`` (any shape), NaN outside its axis."""
        return _interpolate(self.axis_cm1, self.values, axis_cm1)


def sky_spectrum(cube, mask: np.ndarray, label: str = "") -> SkySpectrum:
    """Median spectrum of the finite pixels of ``cube`` where ``mask`` ((nx, ny) bool) is True.

    Raises
    ------
    MirabelleError
        When the mask has the wrong shape (RegionError) or holds no pixel with data.
    """
    from mirabelle.analysis.region_spectra import cube_mask

    mask = cube_mask(cube, mask, "sky region")
    xs, ys = np.nonzero(mask)
    if xs.size > MAX_SKY_PIXELS:
        keep = np.linspace(0, xs.size - 1, MAX_SKY_PIXELS).astype(int)
        xs, ys = xs[keep], ys[keep]
    base = np.asarray(cube.base_axis_cm1, dtype=np.float64)
    rows = []
    for x, y in zip(xs.tolist(), ys.tolist()):
        spectrum = cube.spectrum(x, y)
        if np.isfinite(spectrum.values).mean() > 0.5:
            rows.append(spectrum.values if cube.calibrated else _interpolate(spectrum.axis_cm1, spectrum.values, base))
    if not rows:
        raise MirabelleError(f"{cube.path}: expected pixels with data in the sky region{' ' + label if label else ''}, "
                             f"found none among its {int(mask.sum())} pixels")
    stack = np.asarray(rows, dtype=np.float64)
    with warnings.catch_warnings():  # channels without any value stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.nanmedian(stack, axis=0) if np.isnan(stack).any() else np.median(stack, axis=0)
    return SkySpectrum(base.copy(), values, len(rows), label)


def _interpolate(axis_cm1: np.ndarray, values: np.ndarray, target_cm1) -> np.ndarray:
    """Cubic-spline interpolation of a spectrum at ``target_cm1`` (any shape), NaN outside.

    Sky lines are unresolved sincs sampled at ~1.5 channels per FWHM: a cubic spline keeps
    their peaks where linear interpolation loses a third of them between channels.
    """
    from scipy.interpolate import CubicSpline

    finite = np.isfinite(values)
    target = np.asarray(target_cm1, dtype=np.float64)
    if finite.sum() < 4:
        return np.full(target.shape, np.nan)
    axis = np.asarray(axis_cm1, dtype=np.float64)[finite]
    out = CubicSpline(axis, np.asarray(values, dtype=np.float64)[finite], extrapolate=False)(target)
    return np.where((target >= axis[0]) & (target <= axis[-1]), out, np.nan)


class SkySubtractedCube:
    """``cube`` seen with ``sky`` subtracted from every spectrum (tiles and single pixels).

    Everything else (axes, line widths, WCS, metadata) is the wrapped cube's; the runner,
    the systemic-velocity detection and the spectrum panel take it like a cube.
    """

    def __init__(self, cube, sky: SkySpectrum):
        self._cube = cube
        self.sky = sky
        self._sky_base = sky.on_axis(np.asarray(cube.base_axis_cm1, dtype=np.float64))

    def __getattr__(self, name):
        return getattr(self._cube, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._cube.close()

    def __repr__(self) -> str:
        return f"<sky-subtracted {self._cube!r}>"

    def _sky_for(self, axis_cm1: np.ndarray, channels: slice) -> np.ndarray:
        if self._cube.calibrated:
            return self._sky_base[channels]
        return self.sky.on_axis(axis_cm1)

    def iter_tiles(self, tile=None, band_cm1=None):
        """The wrapped cube's tiles minus the sky (NaN where the sky is unknown)."""
        for block in self._cube.iter_tiles(tile, band_cm1=band_cm1):
            sky = self._sky_for(self._cube.tile_axis_cm1(block), block.channels).astype(np.float32)
            yield Tile(x0=block.x0, y0=block.y0, data=block.data - sky, channels=block.channels)

    def read_block(self, xs: slice, ys: slice, channels: slice | None = None) -> np.ndarray:
        """The wrapped cube's block minus the sky."""
        channels = slice(*(slice(None) if channels is None else channels).indices(self._cube.nz))
        block = self._cube.read_block(xs, ys, channels)
        tile = Tile(x0=xs.start or 0, y0=ys.start or 0, data=block, channels=channels)
        return block - self._sky_for(self._cube.tile_axis_cm1(tile), channels).astype(np.float32)

    def spectrum(self, x: int, y: int) -> Spectrum:
        """Pixel (x, y)'s spectrum minus the sky, on its own axis."""
        spectrum = self._cube.spectrum(x, y)
        sky = self._sky_for(spectrum.axis_cm1, slice(0, self._cube.nz))
        return Spectrum(axis_cm1=spectrum.axis_cm1, values=spectrum.values - sky, error=spectrum.error)
