"""Moment maps of a spectral band, computed tile by tile: a generator of finished tiles.

For each pixel, the continuum is the median of its side-band channels and the noise
their scaled median absolute deviation; with ``r_k`` the continuum-subtracted value and
``Δσ_k`` the width (cm⁻¹) of band channel k, and ``v_k`` its velocity about the band's
reference line (relativistic, as ORB):

* moment 0 = Σ r_k Δσ_k (cube units × cm⁻¹), its error ``noise · sqrt(Σ Δσ_k²)``;
* moment 1 = Σ v_k r_k Δσ_k / moment 0 (km/s);
* moment 2 = sqrt(Σ' (v_k − moment 1)² r_k Δσ_k / Σ' r_k Δσ_k) (km/s; includes the
  instrumental line width), Σ' over the channels within `MOMENT2_FWHM` instrumental
  FWHM of moment 1 where r_k > 0: the sinc's second moment diverges, so over a wide band
  its alternating side lobes, not the line width, would set it.

Moments 1 and 2 are NaN where moment 0 is below ``min_snr`` times its error. Each yield
is whole and a safe place to stop, as for the kinematics run.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np

from mirabelle.analysis.bands import BandError, LineBand, WavenumberBand
from mirabelle.analysis.spectral_frames import channel_widths_cm1
from mirabelle.lines.constants import C_KMS, REST_NM
from mirabelle.lines.kinematics import velocity_from_position

MIN_SNR = 3.0
"""Moment-0 SNR below which moments 1 and 2 are left NaN."""
MIN_CONTINUUM_CHANNELS = 3
"""Fewest side-band channels a pixel needs for a continuum (else all its moments are NaN)."""
MAD_TO_SIGMA = 1.4826
MOMENT2_FWHM = 1.5
"""Half-width, in instrumental sinc FWHM, of the window about moment 1 used for moment 2
(on synthetic SN3 cubes at R 5000 its correlation with the true broadening is 0.96, against
0.61 for 2 FWHM and negative over the whole ±300 km/s band)."""


@dataclass
class MomentMaps:
    """Moment maps of one band, ``[x, y]`` float32 (NaN where unknown).

    moment0 : cube units × cm⁻¹; moment1, moment2 : km/s about ``band.reference_line``;
    snr : moment 0 over its error; continuum : cube units per channel; done : bool.
    """

    band: LineBand | WavenumberBand
    moment0: np.ndarray
    moment1: np.ndarray
    moment2: np.ndarray
    snr: np.ndarray
    continuum: np.ndarray
    done: np.ndarray

    @classmethod
    def empty(cls, band, nx: int, ny: int) -> MomentMaps:
        nan = lambda: np.full((nx, ny), np.nan, np.float32)  # noqa: E731
        return cls(band, nan(), nan(), nan(), nan(), nan(), np.zeros((nx, ny), bool))

    def arrays(self) -> dict[str, np.ndarray]:
        """The float maps by name (moment0, moment1, moment2, snr, continuum)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("band", "done")}


UNITS = {"moment0": "cube units cm-1", "moment1": "km/s", "moment2": "km/s", "snr": "", "continuum": "cube units"}


@dataclass(frozen=True)
class MomentTile:
    """One finished tile: its footprint, the maps so far and the fraction done."""

    x_slice: slice
    y_slice: slice
    maps: MomentMaps
    fraction: float
    elapsed_s: float


def tile_moments(axis_cm1: np.ndarray, data: np.ndarray, band, fwhm_cm1, centre_kms=0.0,
                 min_snr: float = MIN_SNR) -> dict[str, np.ndarray]:
    """Moments of a block ``data`` (tx, ty, nband) on ``axis_cm1`` ((nband,) or (tx, ty, nband)),
    ``fwhm_cm1`` the (tx, ty) instrumental sinc FWHM (cm⁻¹).

    Returns (tx, ty) float arrays moment0, moment1, moment2, snr, continuum.
    """
    data = np.asarray(data, dtype=np.float64)
    axis = np.broadcast_to(axis_cm1, data.shape)
    in_band, in_side = (np.broadcast_to(m, data.shape) for m in band.masks(axis, centre_kms))
    with warnings.catch_warnings():  # all-NaN pixels give NaN, which is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        side = np.where(in_side, data, np.nan)
        continuum = np.nanmedian(side, axis=-1)
        noise = MAD_TO_SIGMA * np.nanmedian(np.abs(side - continuum[..., None]), axis=-1)
        enough = np.isfinite(side).sum(axis=-1) >= MIN_CONTINUUM_CHANNELS
        widths = np.where(in_band, channel_widths_cm1(axis), 0.0)
        residual = np.where(in_band, data - continuum[..., None], 0.0)
        finite = np.isfinite(residual)
        weight = np.where(finite, residual * widths, 0.0)
        moment0 = weight.sum(axis=-1)
        error = noise * np.sqrt(np.where(finite, widths**2, 0.0).sum(axis=-1))
        snr = moment0 / error
        velocity = velocity_from_position(REST_NM[band.reference_line], axis)
        moment1 = (weight * velocity).sum(axis=-1) / moment0
        rest_cm1 = 1e7 / REST_NM[band.reference_line]
        fwhm_kms = np.asarray(fwhm_cm1, dtype=float) / rest_cm1 * C_KMS
        core = (np.abs(velocity - moment1[..., None]) <= MOMENT2_FWHM * fwhm_kms[..., None]) & (weight > 0)
        core_weight = np.where(core, weight, 0.0)
        moment2 = np.sqrt((core_weight * (velocity - moment1[..., None]) ** 2).sum(axis=-1)
                          / core_weight.sum(axis=-1))
    no_data = ~enough | ~(in_band & np.isfinite(data)).any(axis=-1)
    weak = no_data | ~(snr >= min_snr)
    out = dict(moment0=moment0, moment1=moment1, moment2=moment2, snr=snr, continuum=continuum)
    for name, values in out.items():
        values[no_data if name in ("moment0", "snr", "continuum") else weak] = np.nan
    return out


def iter_moments(cube, band, *, min_snr: float = MIN_SNR, tile: tuple[int, int] | None = None,
                 maps: MomentMaps | None = None) -> Iterator[MomentTile]:
    """Compute moment maps of ``band`` over the whole cube, yielding each finished tile.

    Only the channels of the band and its side bands are read. ``maps`` resumes a
    partial run (tiles already ``done`` are skipped).

    Raises
    ------
    BandError
        When a velocity map does not have the cube's shape.
    CubeError
        When the band misses the cube's channels.
    """
    velocity = getattr(band, "velocity_kms", None)
    if np.ndim(velocity) == 2 and np.shape(velocity) != (cube.nx, cube.ny):
        raise BandError(f"expected a velocity map of shape {(cube.nx, cube.ny)} (nx, ny) for {cube.path.name}, "
                        f"found {np.shape(velocity)}")
    maps = maps or MomentMaps.empty(band, cube.nx, cube.ny)
    total = cube.nx * cube.ny
    start = time.perf_counter()
    for block in cube.iter_tiles(tile, band_cm1=band.read_range_cm1()):
        xs, ys = block.x_slice, block.y_slice
        if not maps.done[xs, ys].all():
            centre = velocity[xs, ys] if np.ndim(velocity) == 2 else (velocity or 0.0)
            fwhm = cube.fwhm_map_cm1()[xs, ys]
            for name, values in tile_moments(cube.tile_axis_cm1(block), block.data, band, fwhm, centre,
                                             min_snr).items():
                getattr(maps, name)[xs, ys] = values
            maps.done[xs, ys] = True
        yield MomentTile(xs, ys, maps, float(maps.done.sum()) / total, time.perf_counter() - start)


def compute_moments(cube, band, **kwargs) -> MomentMaps:
    """Drain `iter_moments` and return the finished maps."""
    maps = None
    for result in iter_moments(cube, band, **kwargs):
        maps = result.maps
    return maps
