"""The `Cube` interface shared by every reader: per-pixel axes, line width, spectra, tiles.

Readers (ORB HDF5, FITS) parse their metadata and provide four raw reads; everything
derived from the SITELLE parameters lives here once. Orientation follows
`mirabelle.orientation`: pixels are 0-based ``(x, y)``, maps ``[x, y]``, blocks
``[x, y, channel]``; channels are in ascending wavenumber (cm⁻¹).

Per-pixel calibration: ``corr(x, y) = calib_map(x, y) / nm_laser`` (``axis_corr``
everywhere when the cube has no calibration map). An uncalibrated cube's pixel has the
axis ``corr(x, y) · unit_axis`` (`mirabelle.lines.axis_cm1` with corr = 1, cut to the
stored channels); a calibrated cube has ``base_axis_cm1`` everywhere. The sinc FWHM
scales with ``corr`` in both (resampling moves lines, not their width).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from mirabelle.cube.limits import check_axis
from mirabelle.cube.tiling import Tile, aligned_tile, default_tile, tile_origins
from mirabelle.errors import CubeError
from mirabelle.lines.constants import HALPHA_CM1
from mirabelle.lines.instrument import ORB_SINC_FWHM, sinc_fwhm_cm1

DEFAULT_ZPD_FRACTION = 0.2
"""ZPD position as a fraction of the interferogram assumed when the cube does not say
(SITELLE's usual setting, e.g. 168 / 840): the sinc FWHM is then
``1.20671 / (1 − 0.2) ≈ 1.508`` channel widths."""


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One pixel's spectrum.

    Attributes
    ----------
    axis_cm1 : (nz,) float64, ascending wavenumbers (cm⁻¹) of this pixel's channels.
    values : (nz,) float64, real part of the stored data (counts for ORB cubes); NaN kept.
    error : (nz,) float64 or None, 1-sigma uncertainty when the file stores one.
    """

    axis_cm1: np.ndarray
    values: np.ndarray
    error: np.ndarray | None = None

    @property
    def axis(self) -> np.ndarray:
        """Alias of `axis_cm1` (cm⁻¹)."""
        return self.axis_cm1

    @property
    def is_valid(self) -> bool:
        """False when every value is NaN or infinite (a masked or border pixel)."""
        return bool(np.isfinite(self.values).any())


class Cube:
    """A read-only SITELLE spectral cube; use `mirabelle.cube.open_cube` to get one.

    Attributes
    ----------
    path : Path of the file.
    file_format : 'ORB HDF5' or 'FITS'.
    shape : (nx, ny, nz) pixels and channels.
    filter_name : short filter name ('SN3', 'SN2', ...; '' when unknown).
    step_nm, order, step_nb, zpd_index : interferometer parameters (None when a FITS cube
        does not give them); step in nm.
    nm_laser : calibration laser wavelength (nm).
    axis_corr : wavenumber correction at the reference pixel (dimensionless).
    apodization : apodization factor of the line FWHM (1.0 = none).
    exposure_time_s : exposure time per step (s) or None.
    calibrated : True when every pixel is on `base_axis_cm1`.
    project_name, object_name : strings ('' when absent).
    binning : detector binning factor.
    wcs : astropy 2-D celestial WCS (0-based pixels: ``wcs.pixel_to_world(x, y)``) or None.
    warnings : sentences about guesses made while reading (shown by `mirabelle info`).
    base_axis_cm1 : (nz,) ascending wavenumbers (cm⁻¹) at the reference pixel.
    flambda : (nz,) flux calibration (erg/cm²/s/Å per count) or None.
    has_deep_frame, has_calib_map : whether the file stores them (usable shapes).
    keywords : the file's attributes or header cards by key, as stored (observation date,
        target, BUNIT...; read-only mapping).
    """

    def __init__(self, *, path: str | Path, file_format: str, shape: tuple[int, int, int],
                 chunk_xy: tuple[int, int], filter_name: str, step_nm: float | None,
                 order: int | None, step_nb: int | None, zpd_index: int | None,
                 nm_laser: float, axis_corr: float, apodization: float,
                 exposure_time_s: float | None, calibrated: bool, project_name: str,
                 object_name: str, binning: int, wcs, warnings: list[str],
                 base_axis_cm1: np.ndarray, unit_axis_cm1: np.ndarray | None,
                 flambda: np.ndarray | None, has_deep_frame: bool, has_calib_map: bool,
                 keywords: Mapping[str, object] | None = None):
        self.path = Path(path)
        self.file_format = file_format
        self.shape = tuple(int(n) for n in shape)
        self.filter_name = filter_name
        self.step_nm = step_nm
        self.order = order
        self.step_nb = step_nb
        self.zpd_index = zpd_index
        self.nm_laser = nm_laser
        self.axis_corr = axis_corr
        self.apodization = apodization
        self.exposure_time_s = exposure_time_s
        self.calibrated = calibrated
        self.project_name = project_name
        self.object_name = object_name
        self.binning = binning
        self.wcs = wcs
        self.warnings = list(warnings)
        self.base_axis_cm1 = _read_only(np.asarray(base_axis_cm1, dtype=np.float64))
        check_axis(self.base_axis_cm1, self.path)
        self.flambda = None if flambda is None else _read_only(np.asarray(flambda, dtype=np.float64))
        self.has_deep_frame = has_deep_frame
        self.has_calib_map = has_calib_map
        self.keywords = MappingProxyType(dict(keywords or {}))
        self._chunk_xy = chunk_xy
        # Uncalibrated cubes: axis of a pixel = corr(x, y) * unit axis (corr = 1).
        self._unit_axis_cm1 = None if unit_axis_cm1 is None else np.asarray(unit_axis_cm1, dtype=np.float64)
        self._corr_map: np.ndarray | None = None
        self._fwhm_map: np.ndarray | None = None
        self._closed = False
        if not has_calib_map:
            self.warnings.append(
                f"no calibration laser map: axis_corr = {axis_corr:.7g} is used for every pixel")
        if not self.fwhm_from_parameters:
            self.warnings.append(
                "STEP, STEP_NB and ZPD_INDEX are not all given: the sinc FWHM is assumed to be "
                f"{ORB_SINC_FWHM / (1 - DEFAULT_ZPD_FRACTION):.3f} channel widths "
                f"(ZPD at {DEFAULT_ZPD_FRACTION:.0%} of the interferogram), so resolutions are estimates")

    # --- raw reads, provided by the readers -------------------------------------------
    def _read_block(self, xs: slice, ys: slice, channels: slice) -> np.ndarray:
        """(tx, ty, nch) float32 real part of the stored data (channels ascending in cm⁻¹)."""
        raise NotImplementedError

    def _read_spectrum(self, x: int, y: int) -> np.ndarray:
        """(nz,) float64 real part of one pixel's spectrum."""
        raise NotImplementedError

    def _read_deep_frame(self) -> np.ndarray:
        """(nx, ny) stored deep frame (only called when `has_deep_frame`)."""
        raise NotImplementedError

    def _read_calib_map(self) -> np.ndarray:
        """(nx, ny) calibration laser map in nm (only called when `has_calib_map`)."""
        raise NotImplementedError

    def _close_file(self) -> None:
        raise NotImplementedError

    # --- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Release the file; further reads raise `CubeError`."""
        if not self._closed:
            self._closed = True
            self._close_file()

    def __enter__(self) -> Cube:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        nx, ny, nz = self.shape
        return f"<{type(self).__name__} {self.path.name} {nx}x{ny}x{nz} {self.filter_name or '?'}>"

    # --- geometry -----------------------------------------------------------------------
    @property
    def nx(self) -> int:
        return self.shape[0]

    @property
    def ny(self) -> int:
        return self.shape[1]

    @property
    def nz(self) -> int:
        return self.shape[2]

    @property
    def is_sn3(self) -> bool:
        """True for SN3 cubes, the only filter the kinematics models accept."""
        return self.filter_name == "SN3"

    @property
    def fwhm_from_parameters(self) -> bool:
        """True when STEP, STEP_NB and ZPD_INDEX give the sinc FWHM exactly."""
        return None not in (self.step_nm, self.step_nb, self.zpd_index)

    # --- calibration, axes, line width --------------------------------------------------
    def corr_map(self) -> np.ndarray:
        """(nx, ny) float64 wavenumber correction ``calib_map / nm_laser`` (read-only).

        ``axis_corr`` everywhere when the cube has no calibration map (see `warnings`);
        non-finite or non-positive laser-map pixels also get ``axis_corr``.
        """
        if self._corr_map is None:
            if self.has_calib_map:
                self._check_open()
                corr = np.asarray(self._read_calib_map(), dtype=np.float64) / self.nm_laser
                bad = ~(np.isfinite(corr) & (corr > 0))
                if bad.any():
                    corr[bad] = self.axis_corr
                    self.warnings.append(f"{int(bad.sum())} calibration map pixels are not valid "
                                         "wavelengths: axis_corr is used there")
            else:
                corr = np.full((self.nx, self.ny), self.axis_corr, dtype=np.float64)
            self._corr_map = _read_only(corr)
        return self._corr_map

    def pixel_axis_cm1(self, x: int, y: int) -> np.ndarray:
        """(nz,) ascending wavenumbers (cm⁻¹) of pixel (x, y)'s channels."""
        x, y = self._check_pixel(x, y)
        if self._unit_axis_cm1 is None:
            return self.base_axis_cm1.copy()
        return self.corr_map()[x, y] * self._unit_axis_cm1

    def fwhm_map_cm1(self) -> np.ndarray:
        """(nx, ny) float64 instrumental sinc FWHM (cm⁻¹) of every pixel (read-only)."""
        if self._fwhm_map is None:
            corr = self.corr_map()
            if self.fwhm_from_parameters:
                fwhm = sinc_fwhm_cm1(self.step_nm, self.step_nb, self.zpd_index, corr, self.apodization)
            else:
                width = _channel_width_at(self.base_axis_cm1, HALPHA_CM1)
                fwhm = (ORB_SINC_FWHM / (1 - DEFAULT_ZPD_FRACTION) * width * self.apodization
                        * corr / self.axis_corr)
            self._fwhm_map = _read_only(np.asarray(fwhm, dtype=np.float64))
        return self._fwhm_map

    def fwhm_cm1(self, x: int, y: int) -> float:
        """Instrumental sinc FWHM (cm⁻¹) at pixel (x, y)."""
        x, y = self._check_pixel(x, y)
        return float(self.fwhm_map_cm1()[x, y])

    def resolution_map(self) -> np.ndarray:
        """(nx, ny) resolving power ``R = σ(Hα) / FWHM`` at the Hα rest wavenumber."""
        return HALPHA_CM1 / self.fwhm_map_cm1()

    def resolution(self, x: int, y: int) -> float:
        """Resolving power at Hα of pixel (x, y)."""
        return HALPHA_CM1 / self.fwhm_cm1(x, y)

    # --- data ---------------------------------------------------------------------------
    def spectrum(self, x: int, y: int) -> Spectrum:
        """Pixel (x, y)'s spectrum on its own axis (reads one pixel; NaN values kept)."""
        x, y = self._check_pixel(x, y)
        values = self._read_spectrum(x, y)
        return Spectrum(axis_cm1=self.pixel_axis_cm1(x, y), values=values)

    def is_valid_pixel(self, x: int, y: int) -> bool:
        """False when pixel (x, y) holds no finite value (NaN border, masked pixel)."""
        return self.spectrum(x, y).is_valid

    def deep_image(self, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """(nx, ny) float32 image of the cube: the stored deep frame, else the sum of the
        real spectra over channels computed tile by tile (NaN where a pixel has no finite
        value). ``progress(fraction)`` is called after each tile with 0 < fraction ≤ 1.

        Raises
        ------
        CubeError
            When no pixel of the image is finite (an all-NaN cube).
        """
        if self.has_deep_frame:
            self._check_open()
            image = np.asarray(self._read_deep_frame(), dtype=np.float32)
            if progress is not None:
                progress(1.0)
        else:
            image = np.full((self.nx, self.ny), np.nan, dtype=np.float32)
            tile = default_tile(self._chunk_xy, (self.nx, self.ny))
            total = self.nx * self.ny
            done = 0
            for block in self.iter_tiles(tile):
                finite = np.isfinite(block.data)
                summed = np.where(finite, block.data, 0).sum(axis=2, dtype=np.float64)
                summed[~finite.any(axis=2)] = np.nan
                image[block.x_slice, block.y_slice] = summed
                done += block.data.shape[0] * block.data.shape[1]
                if progress is not None:
                    progress(done / total)
        if not np.isfinite(image).any():
            raise CubeError(f"{self.path} has no valid pixel: every spectrum is NaN")
        return image

    def channels_in_band(self, band_cm1: tuple[float, float]) -> slice:
        """Channels whose wavenumber lies in ``band_cm1`` (cm⁻¹) for at least one pixel."""
        lo, hi = sorted(float(v) for v in band_cm1)
        if self._unit_axis_cm1 is None:
            lowest = highest = self.base_axis_cm1
        else:
            corr = self.corr_map()
            lowest = float(np.min(corr)) * self._unit_axis_cm1
            highest = float(np.max(corr)) * self._unit_axis_cm1
        inside = np.flatnonzero((highest >= lo) & (lowest <= hi))
        if inside.size == 0:
            raise CubeError(
                f"{self.path} has no channel in the band {lo:.2f}–{hi:.2f} cm-1: its axis covers "
                f"{self.base_axis_cm1[0]:.2f}–{self.base_axis_cm1[-1]:.2f} cm-1")
        return slice(int(inside[0]), int(inside[-1]) + 1)

    @property
    def chunk_xy(self) -> tuple[int, int]:
        """Storage chunk (cx, cy) in pixels: reads aligned to it touch each chunk once."""
        return tuple(self._chunk_xy)

    def read_block(self, xs: slice, ys: slice, channels: slice | None = None) -> np.ndarray:
        """(tx, ty, nch) float32 real part of the pixels ``xs`` × ``ys`` (NaN kept).

        ``channels`` (default all) selects channels in ascending cm⁻¹; slices must lie
        inside the cube with step 1. Keep blocks small (h5py serialises reads).
        """
        xs, ys = slice(*xs.indices(self.nx)), slice(*ys.indices(self.ny))
        channels = slice(*(slice(None) if channels is None else channels).indices(self.nz))
        if xs.step != 1 or ys.step != 1 or channels.step != 1 or xs.stop <= xs.start \
                or ys.stop <= ys.start or channels.stop <= channels.start:
            raise CubeError(f"expected non-empty pixel and channel ranges of step 1 inside {self.path.name}, "
                            f"found x {xs}, y {ys}, channels {channels}")
        self._check_open()
        return self._read_block(xs, ys, channels)

    def iter_tiles(self, tile: tuple[int, int] | None = None,
                   band_cm1: tuple[float, float] | None = None) -> Iterator[Tile]:
        """Yield chunk-aligned tiles covering every pixel exactly once, x fastest.

        Parameters
        ----------
        tile
            Requested (tx, ty) in pixels, rounded up to whole storage chunks; None picks
            about 64 × 64 pixels (`mirabelle.cube.tiling.default_tile`).
        band_cm1
            (lo, hi) in cm⁻¹: only the channels in `channels_in_band` are read.

        Only one tile is held at a time, so memory stays bounded by the tile size.
        """
        channels = slice(0, self.nz) if band_cm1 is None else self.channels_in_band(band_cm1)
        for xs, ys in self.tile_slices(tile):
            yield self._read_tile(xs, ys, channels)

    def read_tile(self, xs: slice, ys: slice, band_cm1: tuple[float, float] | None = None) -> Tile:
        """The block of pixels ``xs`` × ``ys`` (0-based, end exclusive) as a :class:`Tile`,
        only the channels of ``band_cm1`` (cm⁻¹) when given (a one-pixel tile is a click)."""
        channels = slice(0, self.nz) if band_cm1 is None else self.channels_in_band(band_cm1)
        xs = slice(max(0, xs.start), min(self.nx, xs.stop))
        ys = slice(max(0, ys.start), min(self.ny, ys.stop))
        if xs.stop <= xs.start or ys.stop <= ys.start:
            raise ValueError(f"expected pixels inside the cube {self.nx} x {self.ny}, found x {xs}, y {ys}")
        return self._read_tile(xs, ys, channels)

    def _read_tile(self, xs: slice, ys: slice, channels: slice) -> Tile:
        self._check_open()
        return Tile(x0=xs.start, y0=ys.start, data=self._read_block(xs, ys, channels), channels=channels)

    def tile_slices(self, tile: tuple[int, int] | None = None) -> list[tuple[slice, slice]]:
        """The ``(x slice, y slice)`` of every tile `iter_tiles` reads, x fastest, without reading."""
        shape_xy = (self.nx, self.ny)
        size = default_tile(self._chunk_xy, shape_xy) if tile is None else aligned_tile(tile, self._chunk_xy)
        return list(tile_origins(shape_xy, size))

    def tile_axis_cm1(self, tile: Tile) -> np.ndarray:
        """Wavenumbers (cm⁻¹) of a tile's channels: (nband,) for a calibrated cube, else
        (tx, ty, nband), one axis per pixel."""
        if self._unit_axis_cm1 is None:
            return self.base_axis_cm1[tile.channels].copy()
        corr = self.corr_map()[tile.x_slice, tile.y_slice]
        return corr[:, :, None] * self._unit_axis_cm1[tile.channels]

    # --- helpers ------------------------------------------------------------------------
    def _check_pixel(self, x: int, y: int) -> tuple[int, int]:
        x, y = operator.index(x), operator.index(y)
        if not (0 <= x < self.nx and 0 <= y < self.ny):
            raise CubeError(f"pixel ({x}, {y}) is outside {self.path.name}, whose pixels are "
                            f"x 0–{self.nx - 1}, y 0–{self.ny - 1}")
        self._check_open()
        return x, y

    def _check_open(self) -> None:
        if self._closed:
            raise CubeError(f"{self.path} was closed; open it again to read it")


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _channel_width_at(axis_cm1: np.ndarray, wavenumber_cm1: float) -> float:
    """Channel width (cm⁻¹) of an ascending axis near ``wavenumber_cm1`` (clamped to the axis)."""
    widths = np.gradient(axis_cm1) if axis_cm1.size > 1 else np.ones(1)
    return float(np.interp(wavenumber_cm1, axis_cm1, widths))
