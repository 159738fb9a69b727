"""Write a synthetic SN3 cube in ORB's HDF5 layout (docs/sitelle-cubes.md), tile by tile.

The interferometer is SITELLE's SN3 setting (step 2943.03 nm, order 8, ZPD at 20 % of
the interferogram) with ``step_nb`` chosen for the requested resolving power at Hα at
the reference (centre) pixel. Spectra follow `mirabelle.lines` exactly (line templates
from `mirabelle.lines.fast`, within 1e-4 of the peak): each pixel's lines at their
observed wavenumbers with the sinc FWHM of that pixel's ``corr``, on ``base_axis``
(calibrated, complex64) or on the pixel's own axis ``corr · unit_axis`` (uncalibrated,
float32). The truth is stored in the group ``/mirabelle_truth``, which ORB ignores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mirabelle.lines.constants import HALPHA_CM1, LINE_NAMES, SN3_BAND_NM
from mirabelle.lines.fast import fast_line_templates
from mirabelle.lines.instrument import axis_cm1, sinc_fwhm_cm1
from mirabelle.synthetic.contaminants import StellarContinuum, sky_spectra, stellar_parameters, stellar_spectra
from mirabelle.synthetic.scene import DETECTOR, HALPHA, Truth, make_scene

STEP_NM = 2943.025792
"""SN3 mirror step (nm), from a real SITELLE header."""
ORDER = 8
"""SN3 folding order."""
ZPD_FRACTION = 0.2
"""ZPD position as a fraction of the interferogram (SITELLE's usual 168 / 840)."""
NM_LASER = 543.5
"""Calibration laser wavelength (nm)."""
POINTING_DEG = (23.4620833, 30.6601944)
"""RA, Dec (ICRS/FK5 J2000, degrees) of the field centre: M33."""
PIXEL_SCALE_ARCSEC = 0.321
"""SITELLE detector pixel scale (arcsec)."""
TRUTH_GROUP = "mirabelle_truth"
"""HDF5 group holding the truth maps."""
WORK_BYTES = 120e6
"""Target size of one tile's template arrays; bounds the writer's memory."""

_TRUTH_MAPS = ("velocity", "broadening", "velocity2", "broadening2", "double", "amplitudes",
               "amplitudes2", "continuum", "valid")


def interferometer(resolution: float, corr: float) -> tuple[int, int]:
    """(step_nb, zpd_index) giving ``resolution`` at Hα for a pixel of correction ``corr``."""
    halpha = HALPHA_CM1
    mpd_nm = 1.20671 * corr * resolution / (2.0 * halpha) * 1e7
    step_nb = int(round(mpd_nm / STEP_NM / (1.0 - ZPD_FRACTION)))
    return step_nb, int(round(ZPD_FRACTION * step_nb))


def _kept_channels(unit_axis: np.ndarray, corr_lo: float, corr_hi: float, dimz: int | None) -> slice:
    """Channels whose wavenumbers, for every corr in [corr_lo, corr_hi], meet the SN3 band;
    or ``dimz`` channels centred on the band."""
    lo, hi = 1e7 / SN3_BAND_NM[1], 1e7 / SN3_BAND_NM[0]
    inside = np.flatnonzero((corr_lo * unit_axis <= hi) & (corr_hi * unit_axis >= lo))
    if dimz is None:
        return slice(int(inside[0]), int(inside[-1]) + 1)
    dimz = min(int(dimz), unit_axis.size)
    start = int(np.clip((inside[0] + inside[-1] + 1 - dimz) // 2, 0, unit_axis.size - dimz))
    return slice(start, start + dimz)


def _wcs_keywords(nx: int, ny: int, scale: float) -> dict:
    """FITS celestial WCS keywords (TAN, 1-based CRPIX at the cube centre)."""
    rotation = np.radians(0.7)
    pixel_deg = PIXEL_SCALE_ARCSEC * scale / 3600.0
    return dict(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRPIX1=nx / 2 + 0.5, CRPIX2=ny / 2 + 0.5,
                CRVAL1=POINTING_DEG[0], CRVAL2=POINTING_DEG[1], CDELT1=-pixel_deg, CDELT2=pixel_deg,
                PC1_1=np.cos(rotation), PC1_2=-np.sin(rotation), PC2_1=np.sin(rotation),
                PC2_2=np.cos(rotation), CUNIT1="deg", CUNIT2="deg", RADESYS="FK5", EQUINOX=2000.0)


def write_synthetic_cube(path: str | Path, nx: int = 128, ny: int = 120, *, resolution: float = 5000.0,
                         snr: float = 20.0, seed: int = 0, calibrated: bool = True,
                         double_fraction: float = 0.08, dimz: int | None = None, step_nb: int | None = None,
                         noise: bool = True,
                         systemic_velocity: float = -180.0, rotation_amplitude: float = 100.0,
                         sky: float = 0.0, stellar: float = 0.0, flux_scale: float | None = None,
                         obs_date: tuple[int, int, int] | None = None,
                         sky_only_box: tuple[int, int, int, int] | None = None,
                         progress: Callable[[float], None] | None = None) -> Truth:
    """Write a synthetic SN3 cube of a rotating disk with HII regions; return its truth.

    Parameters
    ----------
    path : output HDF5 file (overwritten).
    nx, ny : pixels; the cube spans the detector field (binned ``2048 / nx`` times).
    resolution : resolving power at Hα at the centre pixel (sets ``step_nb``).
    snr : median Hα amplitude over valid pixels / noise per channel.
    seed : random seed of the scene and the noise.
    calibrated : complex64 data on one ``base_axis`` with ``axis_corr`` (ORBS 3), or
        float32 data on each pixel's own axis without ``axis_corr``.
    double_fraction : approximate fraction of the field with a second component.
    dimz : channels to store, centred on the SN3 band; None keeps the band (covering it
        for every pixel's corr when uncalibrated); ``step_nb`` keeps the whole axis.
    step_nb : number of mirror steps, overriding ``resolution`` (e.g. 840 as in real
        SN3 cubes; the ZPD stays at 20 %).
    noise : False writes noise-free spectra (``noise_sigma`` 0).
    systemic_velocity : km/s.
    rotation_amplitude : projected rotation of the disk (km/s).
    sky : peak of the brightest unsubtracted OH line in units of the median Hα amplitude
        (0 = sky-subtracted; `mirabelle.synthetic.contaminants`).
    stellar : largest stellar continuum level in units of each pixel's Hα amplitude, with
        a slope and a broad Hα absorption (0 = none).
    flux_scale : multiply the data by this (e.g. 1e-17) and say so with ``BUNIT =
        erg/cm2/s/Angstrom`` (a cube in flux units); None keeps counts.
    obs_date : (year, month, day) written as ORB's ``obs_date`` (with ``hour_ut`` 08:00:00).
    sky_only_box : (x0, x1, y0, y1) pixels holding neither gas nor continuum (only the sky and
        the noise): a region to take the sky from.
    progress : called with the fraction done (0-1] after each tile.

    Memory stays bounded (one tile of spectra at a time, about ``WORK_BYTES``), so
    full-frame 2048 × 2064 cubes can be written.
    """
    import h5py

    scene = make_scene(nx, ny, seed=seed, systemic_velocity=systemic_velocity,
                       rotation_amplitude=rotation_amplitude, double_fraction=double_fraction)
    if sky_only_box is not None:
        box = (slice(sky_only_box[0], sky_only_box[1]), slice(sky_only_box[2], sky_only_box[3]))
        for name in ("amplitudes", "amplitudes2", "continuum"):
            scene[name][box] = 0.0
        scene["double"][box] = False
    # the stored laser map is float32: derive corr from it so readers see the same axes
    calib_map = (NM_LASER * scene["corr"]).astype(np.float32)
    corr = scene["corr"] = calib_map.astype(np.float64) / NM_LASER
    corr_ref = float(corr[nx // 2, ny // 2])
    if step_nb is None:
        step_nb, zpd_index = interferometer(resolution, corr_ref)
    else:
        step_nb, zpd_index = int(step_nb), int(round(ZPD_FRACTION * step_nb))
    unit = axis_cm1(STEP_NM, ORDER, step_nb, 1.0)
    valid = scene["valid"]
    if calibrated:
        kept = _kept_channels(unit, corr_ref, corr_ref, dimz)
    else:
        kept = _kept_channels(unit, float(corr[valid].min()), float(corr[valid].max()), dimz)
    unit = unit[kept]
    base_axis = corr_ref * unit
    fwhm = sinc_fwhm_cm1(STEP_NM, step_nb, zpd_index, corr)
    halpha = scene["amplitudes"][..., HALPHA]
    noise_sigma = float(np.median(halpha[valid])) / snr if noise else 0.0
    truth = Truth(**scene, noise_sigma=noise_sigma, snr=float(snr), seed=int(seed),
                  resolution=float(HALPHA_CM1 / fwhm[nx // 2, ny // 2]))
    extras = _Extras(sky_peak=sky * float(np.median(halpha[valid])), scale=flux_scale or 1.0,
                     stellar=stellar_parameters(np.random.default_rng([seed, 2]), halpha, stellar) if stellar else None)
    nz = unit.size
    scale = DETECTOR[0] / nx
    flambda = 2.5e-18 * (1.0 + 0.15 * ((base_axis - base_axis.mean()) / np.ptp(base_axis)) ** 2)

    with h5py.File(path, "w") as f:
        attrs = dict(
            step=STEP_NM, order=ORDER, step_nb=step_nb, zpd_index=zpd_index, nm_laser=NM_LASER,
            filter_name="SN3", filter_nm_min=SN3_BAND_NM[0], filter_nm_max=SN3_BAND_NM[1],
            filter_cm1_min=1e7 / SN3_BAND_NM[1], filter_cm1_max=1e7 / SN3_BAND_NM[0],
            base_axis=base_axis, exposure_time=10.0, apodization=1.0, wavenumber=True,
            wavenumber_calibration=calibrated, spectral_calibration=calibrated,
            flux_calibration=calibrated, flambda=flambda, object_name="M33 (synthetic)",
            project_name="synthetic_SN3", instrument="sitelle", level3=True,
            binning=max(1, int(round(scale))), **_wcs_keywords(nx, ny, scale))
        if calibrated:
            attrs["axis_corr"] = corr_ref
        if flux_scale is not None:
            attrs["BUNIT"] = "erg/cm2/s/Angstrom"
        if obs_date is not None:
            attrs.update(obs_date=np.asarray(obs_date, dtype=np.int64), hour_ut=np.array([8.0, 0.0, 0.0]))
        f.attrs.update(attrs)
        data = f.create_dataset("data", shape=(nx, ny, nz), dtype=np.complex64 if calibrated else np.float32,
                                chunks=True)
        f.create_dataset("calib_map", data=calib_map)
        f.create_dataset("mask", data=valid)  # ORB multiplies spectra by it: True where valid
        deep = np.full((nx, ny), np.nan, dtype=np.float32)
        _write_truth(f.create_group(TRUTH_GROUP), truth)
        f[TRUTH_GROUP].attrs.update(sky=sky, stellar=stellar, flux_scale=extras.scale)

        tiles = _tiles(data.chunks, (nx, ny), nz)
        rng = np.random.default_rng([seed, 1])
        for done, (xs, ys) in enumerate(tiles, start=1):
            block = _tile_spectra(truth, xs, ys, base_axis if calibrated else unit, calibrated, fwhm[xs, ys],
                                  rng, extras)
            deep[xs, ys] = np.sum(block.real, axis=2)
            data[xs, ys, :] = block
            if progress is not None:
                progress(done / len(tiles))
        f.create_dataset("deep_frame", data=deep)
    return truth


def _tiles(chunks: tuple[int, int, int], shape_xy: tuple[int, int], nz: int) -> list[tuple[slice, slice]]:
    """Chunk-aligned (x, y) slices of about ``WORK_BYTES`` of templates each."""
    pixels = max(1, int(WORK_BYTES / (nz * 5 * 8 * 2)))
    side = max(1, int(np.sqrt(pixels)))
    tx = max(chunks[0], side // chunks[0] * chunks[0])
    ty = max(chunks[1], side // chunks[1] * chunks[1])
    return [(slice(x, min(x + tx, shape_xy[0])), slice(y, min(y + ty, shape_xy[1])))
            for x in range(0, shape_xy[0], tx) for y in range(0, shape_xy[1], ty)]


@dataclass(frozen=True)
class _Extras:
    """Sky peak (counts), data scale and stellar continuum parameters of a cube."""

    sky_peak: float
    scale: float
    stellar: StellarContinuum | None


def _tile_spectra(truth: Truth, xs: slice, ys: slice, axis: np.ndarray, calibrated: bool,
                  fwhm: np.ndarray, rng: np.random.Generator, extras: _Extras) -> np.ndarray:
    """(tx, ty, nz) spectra of one tile: complex64 (calibrated) or float32, NaN off the field.

    ``axis`` is ``base_axis`` when calibrated, else the unit axis scaled by each pixel's corr.
    """
    valid = truth.valid[xs, ys]
    nz = axis.size
    block = np.full(valid.shape + (nz,), np.nan, dtype=np.complex64 if calibrated else np.float32)
    if not valid.any():
        return block
    pix_axis = axis if calibrated else truth.corr[xs, ys][valid][:, None] * axis[None, :]
    fwhm = fwhm[valid]
    templates = fast_line_templates(pix_axis, truth.velocity[xs, ys][valid], truth.broadening[xs, ys][valid], fwhm)
    spectra = np.einsum("nlk,nl->nk", templates[:, 0], truth.amplitudes[xs, ys][valid])
    spectra += truth.continuum[xs, ys][valid][:, None]
    double = truth.double[xs, ys][valid]
    if double.any():
        axis2 = pix_axis if calibrated else pix_axis[double]
        templates = fast_line_templates(axis2, truth.velocity2[xs, ys][valid][double],
                                        truth.broadening2[xs, ys][valid][double], fwhm[double])
        spectra[double] += np.einsum("nlk,nl->nk", templates[:, 0], truth.amplitudes2[xs, ys][valid][double])
    if extras.sky_peak > 0:
        spectra += sky_spectra(pix_axis, fwhm, extras.sky_peak)
    if extras.stellar is not None:
        p = extras.stellar
        spectra += stellar_spectra(pix_axis, truth.velocity[xs, ys][valid], p.level[xs, ys][valid],
                                   p.slope[xs, ys][valid], p.depth[xs, ys][valid], p.sigma_angstrom[xs, ys][valid])
    if truth.noise_sigma > 0:
        spectra += truth.noise_sigma * rng.standard_normal(spectra.shape, dtype=np.float32)
    spectra *= extras.scale
    if calibrated:  # the imaginary part of ORB spectra is noise around zero
        imag = truth.noise_sigma * extras.scale * rng.standard_normal(spectra.shape, dtype=np.float32)
        block[valid] = spectra + 1j * imag
    else:
        block[valid] = spectra
    return block


def _write_truth(group, truth: Truth) -> None:
    for name in _TRUTH_MAPS:
        group.create_dataset(name, data=getattr(truth, name))
    group.create_dataset("snr_halpha", data=truth.snr_map.astype(np.float32))
    group.attrs.update(noise_sigma=truth.noise_sigma, snr=truth.snr, seed=truth.seed,
                       resolution=truth.resolution, line_names=list(LINE_NAMES))


def read_truth(path: str | Path) -> Truth:
    """The `Truth` stored in a synthetic cube's ``/mirabelle_truth`` group.

    Raises
    ------
    KeyError
        When the file was not written by `write_synthetic_cube`.
    """
    import h5py

    with h5py.File(path, "r") as f:
        group = f[TRUTH_GROUP]
        maps = {name: group[name][()] for name in _TRUTH_MAPS}
        corr = f["calib_map"][()].astype(np.float64) / float(f.attrs["nm_laser"])
        return Truth(**maps, corr=corr, noise_sigma=float(group.attrs["noise_sigma"]),
                     snr=float(group.attrs["snr"]), seed=int(group.attrs["seed"]),
                     resolution=float(group.attrs["resolution"]))
