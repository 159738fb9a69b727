"""Small cube files written for the cube-reader tests, straight from docs/sitelle-cubes.md
with h5py and astropy (independently of mirabelle's own code), plus the M31 reference header."""

from __future__ import annotations

import h5py
import numpy as np
from astropy.io import fits

# Real SITELLE header values (M31, SN3) quoted in the spec.
M31 = dict(step=2943.025792, order=8, step_nb=840, zpd_index=168, nm_laser=543.5,
           axis_corr=1.0374712, exposure_time=13.7)
M31_AXIS_START = 14100.742
M31_AXIS_STEP = 2.09832
M31_FWHM = 3.165

# A TAN WCS whose reference pixel is 0-based (3, 7): FITS CRPIX is 1-based.
WCS_KEYS = dict(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRPIX1=4.0, CRPIX2=8.0,
                CRVAL1=10.684708, CRVAL2=41.26875, CDELT1=-0.000089, CDELT2=0.000089,
                CUNIT1="deg", CUNIT2="deg", RADESYS="ICRS", EQUINOX=2000.0)

UPPER = dict(step="STEP", order="ORDER", step_nb="STEP_NB", zpd_index="ZPDINDEX",
             nm_laser="CALIBNM", axis_corr="AXISCORR", filter_name="FILTER",
             exposure_time="EXPTIME", base_axis="BASE_AXIS")


def spec_axis(step, order, step_nb, corr):
    """σ_k = corr·1e7/(2·step)·(order + k/step_nb); odd orders start one channel later."""
    k = np.arange(step_nb) + (1 if order % 2 == 1 else 0)
    return corr * 1e7 / (2 * step) * (order + k / step_nb)


def spec_fwhm(step, step_nb, zpd_index, corr, apodization=1.0):
    mpd_cm = step * (step_nb - zpd_index) * 1e-7
    return 1.20671 / (2 * mpd_cm) * corr * apodization


def write_orb_cube(path, nx=9, ny=11, *, params=None, calibrated=True, first=0, nz=None,
                   with_base_axis=True, deep_frame=False, calib_map=None, upper_case=False,
                   chunks=True, wcs=True, filter_name="SN3", seed=0, extra_attrs=None,
                   drop=(), values=None):
    """Write an ORB level-3 style cube; return the real values written, shape (nx, ny, nz).

    ``calib_map`` is an (nx, ny) laser map in nm or None; ``first``/``nz`` cut the axis
    (a cube cut to the filter); ``drop`` lists attribute names not to write.
    """
    p = dict(M31 if params is None else params)
    nz = p["step_nb"] - first if nz is None else nz
    rng = np.random.default_rng(seed)
    real = rng.normal(10.0, 1.0, (nx, ny, nz)).astype(np.float32) if values is None else values
    with h5py.File(path, "w") as f:
        if calibrated:
            stored = (real + 1j * rng.normal(0, 5.0, real.shape)).astype(np.complex64)
        else:
            stored = real.astype(np.float32)
        f.create_dataset("data", data=stored, chunks=chunks)
        attrs = dict(p, filter_name=filter_name, level3=True, instrument="sitelle",
                     object_name="M31", project_name="test")
        if not calibrated:
            attrs.pop("axis_corr")
        if with_base_axis:
            attrs["base_axis"] = spec_axis(p["step"], p["order"], p["step_nb"], p["axis_corr"])[first:first + nz]
        if wcs:
            attrs.update(WCS_KEYS)
        attrs.update(extra_attrs or {})
        for key, value in attrs.items():
            if key not in drop:
                f.attrs[UPPER.get(key, key) if upper_case else key] = value
        if deep_frame:
            f.create_dataset("deep_frame", data=np.nansum(real, axis=2) + 1.0)
        if calib_map is not None:
            f.create_dataset("calib_map", data=calib_map)
    return real


def write_fits_cube(path, data_xyz, header_cards, *, in_extension=False, bscale=None):
    """Write ``data_xyz`` [x, y, channel] as FITS [channel, y, x] with the given cards."""
    data = np.ascontiguousarray(np.transpose(data_xyz, (2, 1, 0)))
    if bscale is not None:
        data = np.round(data / bscale).astype(np.int16)
    if in_extension:
        hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data)])
        hdu = hdul[1]
    else:
        hdul = fits.HDUList([fits.PrimaryHDU(data)])
        hdu = hdul[0]
    for key, value in header_cards.items():
        hdu.header[key] = value
    if bscale is not None:
        hdu.header["BSCALE"] = bscale
        hdu.header["BZERO"] = 0.0
    hdul.writeto(path, overwrite=True)
