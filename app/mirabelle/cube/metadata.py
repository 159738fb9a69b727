"""Format-independent interpretation of cube metadata: filter names, celestial WCS, binning."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping

import numpy as np

from mirabelle.errors import CubeError
from mirabelle.lines.constants import REST_NM

DETECTOR_SHAPE = (2048, 2064)
"""SITELLE detector size (x, y) in unbinned pixels."""

DEFAULT_NM_LASER = 543.5
"""SITELLE calibration laser wavelength (nm) when the file does not give it."""

# FITS keywords of a 2-D celestial WCS, SIP distortion included.
_WCS_KEY = re.compile(
    r"^(CTYPE[12]|CUNIT[12]|CRPIX[12]|CRVAL[12]|CDELT[12]|CROTA[12]|PC[12]_[12]|CD[12]_[12]"
    r"|PV[12]_\d+|RADESYS|RADECSYS|EQUINOX|EPOCH|LONPOLE|LATPOLE|MJD-OBS|DATE-OBS|MJDREF"
    r"|(A|B|AP|BP)_ORDER|(A|B|AP|BP)_\d+_\d+)$"
)


def normalise_filter_name(raw: object) -> str:
    """Short filter name ('SN3', 'SN1', 'C4'...) from a file attribute or FITS keyword.

    ORB stores either the name or the path of the filter file (``.../filter_SN3.hdf5``).
    Returns '' when ``raw`` is empty or None.
    """
    if raw is None:
        return ""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    name = os.path.basename(text.strip().replace("\\", "/"))
    name = re.sub(r"\.(hdf5|h5|fits|orb)$", "", name, flags=re.IGNORECASE)
    name = re.sub(r"^filter_", "", name, flags=re.IGNORECASE).upper()
    match = re.search(r"SN[1-9]", name)
    return match.group(0) if match else name


def infer_filter_from_axis(axis_cm1: np.ndarray) -> str:
    """'SN3' when the axis holds both Hα and [SII]6731 at rest, else ''."""
    needed = [1e7 / REST_NM["Halpha"], 1e7 / REST_NM["SII6731"]]
    lo, hi = float(np.nanmin(axis_cm1)), float(np.nanmax(axis_cm1))
    return "SN3" if all(lo <= sigma <= hi for sigma in needed) else ""


def celestial_wcs(keywords: Mapping[str, object], shape_xy: tuple[int, int]):
    """Astropy 2-D celestial WCS from FITS keywords, or ``(None, reason)``.

    Parameters
    ----------
    keywords
        FITS-style keywords (HDF5 attributes or a FITS header); only WCS keywords are used.
    shape_xy
        Image size (nx, ny) in pixels, recorded as NAXIS1/NAXIS2.

    Returns
    -------
    (wcs, problem)
        ``wcs`` uses astropy's 0-based pixel convention (``wcs.pixel_to_world(x, y)``);
        ``problem`` is '' or a sentence saying why no WCS could be built.
    """
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    header = fits.Header()
    header["NAXIS"] = 2
    header["NAXIS1"], header["NAXIS2"] = int(shape_xy[0]), int(shape_xy[1])
    for key, value in keywords.items():
        if _WCS_KEY.match(key):
            try:
                header[key] = _plain(value)
            except (ValueError, TypeError):  # NaN, Inf, arrays: a FITS header holds none of them
                return None, f"the celestial WCS keyword {key} = {_plain(value)!r} is not valid: no sky coordinates"
    if "CTYPE1" not in header or "CTYPE2" not in header:
        return None, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, naxis=2)
    except Exception as exc:  # astropy raises many types for bad keywords
        return None, f"the celestial WCS keywords are invalid ({exc})"
    if not wcs.has_celestial:
        return None, f"the WCS axes ({header['CTYPE1']}, {header['CTYPE2']}) are not celestial"
    return wcs, ""


def binning_from_shape(shape_xy: tuple[int, int]) -> int:
    """ORB's fallback binning: the factor that maps the detector onto this image, else 1."""
    for factor in (1, 2, 3, 4, 6, 8):
        if (DETECTOR_SHAPE[0] // factor, DETECTOR_SHAPE[1] // factor) == tuple(shape_xy):
            return factor
    return 1


def _plain(value: object) -> object:
    """HDF5/numpy attribute value -> a Python scalar a FITS header accepts."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    return value.decode(errors="replace") if isinstance(value, bytes) else value


# Cube parameter -> keys to look for, in order: ORB attribute names, then FITS keywords
# (ORB's old `header` cards and SITELLE FITS cubes use the upper-case ones).
PARAMETER_KEYS = {
    "step": ("step", "STEP"),
    "order": ("order", "ORDER"),
    "step_nb": ("step_nb", "STEP_NB", "STEPNB"),
    "zpd_index": ("zpd_index", "ZPD_INDEX", "ZPDINDEX"),
    "nm_laser": ("nm_laser", "NM_LASER", "CALIBNM"),
    "axis_corr": ("axis_corr", "AXIS_CORR", "AXISCORR"),
    "filter_name": ("filter_name", "FILTER_NAME", "FILTER"),
    "exposure_time": ("exposure_time", "EXPOSURE_TIME", "EXPTIME"),
    "apodization": ("apodization", "APODIZATION", "APODIZ"),
    "object_name": ("object_name", "OBJECT_NAME", "OBJECT"),
    "project_name": ("project_name", "PROJECT_NAME", "PROJECT"),
    "binning": ("binning", "BINNING"),
    "flambda": ("flambda", "FLAMBDA"),
    "base_axis": ("base_axis", "BASE_AXIS"),
}


class Parameters:
    """Typed access to a cube's parameters stored under any of their known keys.

    Parameters
    ----------
    keywords
        Attribute or header values by key (case-sensitive, as stored).
    path
        The cube file, named in error messages.
    """

    def __init__(self, keywords: Mapping[str, object], path: str):
        self.keywords = keywords
        self.path = path

    def key(self, name: str) -> str | None:
        """The stored key holding parameter ``name``, or None when absent."""
        return next((k for k in PARAMETER_KEYS[name] if k in self.keywords), None)

    def has(self, name: str) -> bool:
        return self.key(name) is not None

    def number(self, name: str, required: bool = False, what: str = "") -> float | None:
        """Parameter ``name`` as a finite float; None when absent and not ``required``.

        Raises
        ------
        CubeError
            When required and absent (naming the keys looked for), or not a number.
        """
        key = self.key(name)
        if key is None:
            if required:
                keys = " / ".join(PARAMETER_KEYS[name])
                raise CubeError(f"{self.path} lacks the {keys} parameter ({what}); "
                                "it is needed to compute the wavenumber axis")
            return None
        value = _plain(self.keywords[key])
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number):
            if required:
                raise CubeError(f"{self.path} has {key} = {value!r} where a number ({what}) was expected")
            return None
        return number

    def text(self, name: str) -> str:
        """Parameter ``name`` as a stripped string, '' when absent."""
        key = self.key(name)
        if key is None:
            return ""
        value = _plain(self.keywords[key])
        return str(value).strip()

    def array(self, name: str) -> np.ndarray | None:
        """Parameter ``name`` as a 1-D float64 array, None when absent or not numeric."""
        key = self.key(name)
        if key is None:
            return None
        try:
            return np.atleast_1d(np.asarray(self.keywords[key], dtype=np.float64)).ravel()
        except (TypeError, ValueError):
            return None
