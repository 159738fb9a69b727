"""FITS files of the analysis products: region spectra (readable by specutils), moment maps
with the cube's celestial WCS, and position–velocity slices with a velocity axis.

Files are written atomically (`mirabelle.atomic`; a folder of maps all or nothing through
`StagedFolder`), so an interrupted write leaves no half file.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mirabelle import __version__
from mirabelle.atomic import write_atomic
from mirabelle.errors import ExportError
from mirabelle.export.staging import StagedFolder
from mirabelle.lines.constants import C_KMS, REST_NM
from mirabelle.orientation import map_to_fits

CUBE_UNIT = "ct"
"""Unit of ORB cube values (counts) as astropy spells it."""
MOMENT_UNITS = {"moment0": f"{CUBE_UNIT} cm-1", "moment1": "km/s", "moment2": "km/s", "snr": "",
                "continuum": CUBE_UNIT}


def _provenance(header, cube) -> None:
    header["CUBE"] = (Path(cube.path).name, "source cube")
    header["ORIGIN"] = (f"mirabelle {__version__}", "software")
    header["DATE"] = (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "UTC time of writing")


def fits_bytes(hdus) -> bytes:
    """The FITS file of ``hdus`` as bytes (to write atomically or send over SAMP)."""
    from astropy.io import fits

    buffer = io.BytesIO()
    fits.HDUList(hdus).writeto(buffer)
    return buffer.getvalue()


def _write_one(path: str | Path, payload: bytes, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise ExportError(f"{path}: expected a new file (use --overwrite to replace it), found an existing one.")
    return write_atomic(path, payload)


def spectrum_hdus(spectrum, cube) -> list:
    """Primary header + a BINTABLE of ``wavenumber`` (cm-1) and ``flux`` (ct) columns, the
    layout specutils reads as 'tabular-fits' (``Spectrum.read(path)``)."""
    from astropy.io import fits
    from astropy.table import Table

    primary = fits.PrimaryHDU()
    header = primary.header
    _provenance(header, cube)
    header["NPIX"] = (int(spectrum.pixels), "pixels combined")
    header["COMBINE"] = (spectrum.combine, "sum or mean of the pixels' spectra")
    header["REGION"] = (spectrum.description[:60], "pixels combined")
    for line in spectrum.ds9_text.splitlines():
        header.add_comment(f"region: {line}")
    if spectrum.pixel is not None:
        x, y = spectrum.pixel
        header["PIXX"] = (x, "pixel x (0-based)")
        header["PIXY"] = (y, "pixel y (0-based)")
        if cube.wcs is not None:
            sky = cube.wcs.pixel_to_world(x, y).icrs
            header["RA"] = (float(sky.ra.deg), "deg (ICRS) of the pixel")
            header["DEC"] = (float(sky.dec.deg), "deg (ICRS) of the pixel")
    table = Table({"wavenumber": np.asarray(spectrum.axis_cm1, dtype=np.float64),
                   "flux": np.asarray(spectrum.values, dtype=np.float64)})
    table["wavenumber"].unit = "cm-1"
    table["flux"].unit = CUBE_UNIT
    return [primary, fits.table_to_hdu(table)]


def write_spectrum(path: str | Path, spectrum, cube, overwrite: bool = False) -> Path:
    """Write a `RegionSpectrum` as FITS (see `spectrum_hdus`); returns the path."""
    return _write_one(path, fits_bytes(spectrum_hdus(spectrum, cube)), overwrite)


def map_hdu(values_xy: np.ndarray, cube, bunit: str, comments: dict | None = None):
    """A primary HDU of an ``[x, y]`` map with the cube's celestial WCS and BUNIT."""
    from astropy.io import fits

    header = fits.Header()
    if cube.wcs is not None:
        header.update(cube.wcs.to_header(relax=True))
    header["BUNIT"] = bunit
    _provenance(header, cube)
    for key, value in (comments or {}).items():
        header[key] = value
    return fits.PrimaryHDU(map_to_fits(np.asarray(values_xy, dtype=np.float32)), header=header)


def write_moment_maps(folder: str | Path, maps, cube, overwrite: bool = False) -> list[Path]:
    """Write moment0/1/2, snr and continuum maps as ``<name>.fits`` in ``folder``, all or nothing."""
    band = maps.band
    keys = {"BAND": band.describe()[:68],
            "RESTLINE": (band.reference_line, "velocities are about this line"),
            "RESTWAV": (REST_NM[band.reference_line] * 1e-9, "m, air rest wavelength of RESTLINE")}
    velocity = getattr(band, "velocity_kms", None)
    if velocity is not None and np.ndim(velocity) == 0:
        keys["VSYS"] = (float(velocity), "km/s, velocity the line band is centred on")
    arrays = maps.arrays()
    names = [f"{name}.fits" for name in arrays]
    with StagedFolder(folder, names, overwrite=overwrite) as staged:
        for name, values in arrays.items():
            hdu = map_hdu(values, cube, MOMENT_UNITS[name], keys)
            staged.write(f"{name}.fits", fits_bytes([hdu]))
        return staged.commit()


def _is_linear(axis: np.ndarray) -> bool:
    steps = np.diff(axis)
    return steps.size > 0 and float(np.ptp(steps)) <= 1e-6 * abs(float(steps.mean()))


def pv_hdus(pv, cube) -> list:
    """PV image (NAXIS1 = position, NAXIS2 = channel) and a SPECTRAL table of every channel's
    wavenumber and velocity. On a cube whose axis is linear in wavenumber (hence in
    frequency) axis 2 is ``VELO-F2V``: relativistic velocity about the line, exact."""
    from astropy.io import fits
    from astropy.table import Table

    header = fits.Header()
    scale_arcsec = None
    if cube.wcs is not None:
        from astropy.wcs.utils import proj_plane_pixel_scales

        scale_arcsec = float(np.mean(proj_plane_pixel_scales(cube.wcs))) * 3600.0
    header["CTYPE1"] = ("OFFSET", "distance along the path from its first vertex")
    header["CUNIT1"] = "arcsec" if scale_arcsec else "pixel"
    header["CRPIX1"], header["CRVAL1"] = 1.0, 0.0
    header["CDELT1"] = (scale_arcsec or 1.0) * float(np.median(np.diff(pv.offsets_px)) if len(pv.offsets_px) > 1 else 1.0)
    axis = pv.axis_cm1
    if _is_linear(axis):
        ref = axis.size // 2
        rest_cm1 = 1e7 / REST_NM[pv.line]
        header["CTYPE2"] = ("VELO-F2V", "relativistic velocity, axis linear in frequency")
        header["CUNIT2"] = "m/s"
        header["CRPIX2"] = ref + 1.0
        header["CRVAL2"] = float(pv.velocity_kms[ref]) * 1e3
        # dv/dσ of the relativistic law at the reference channel, times the channel width
        r = (rest_cm1 / axis[ref]) ** 2
        dv_dsigma = -C_KMS * 4 * r / (r + 1) ** 2 / axis[ref]
        header["CDELT2"] = float(dv_dsigma * (axis[1] - axis[0])) * 1e3
        header["RESTFRQ"] = (rest_cm1 * C_KMS * 1e5, "Hz, c / air rest wavelength of RESTLINE")
        header["SPECSYS"] = "TOPOCENT"
    header["BUNIT"] = CUBE_UNIT
    header["RESTLINE"] = (pv.line, "velocities are about this line")
    header["PVWIDTH"] = (pv.width_px, "pixels averaged across the path")
    header["PVPATH"] = (" ".join(f"{x:.2f},{y:.2f}" for x, y in pv.vertices)[:68], "path vertices x,y (0-based px)")
    _provenance(header, cube)
    image = fits.PrimaryHDU(map_to_fits(np.asarray(pv.data, dtype=np.float32)), header=header)
    table = Table({"wavenumber": axis, "velocity": pv.velocity_kms})
    table["wavenumber"].unit, table["velocity"].unit = "cm-1", "km/s"
    spectral = fits.table_to_hdu(table)
    spectral.name = "SPECTRAL"
    samples = Table({"offset": pv.offsets_px, "x": pv.samples_xy[:, 0], "y": pv.samples_xy[:, 1]})
    samples["offset"].unit = "pixel"
    positions = fits.table_to_hdu(samples)
    positions.name = "SAMPLES"
    return [image, spectral, positions]


def write_pv(path: str | Path, pv, cube, overwrite: bool = False) -> Path:
    """Write a `PVSlice` as FITS (see `pv_hdus`); returns the path."""
    return _write_one(path, fits_bytes(pv_hdus(pv, cube)), overwrite)
