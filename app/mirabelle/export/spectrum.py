"""One pixel's spectrum as a file: a FITS binary table or a CSV (ECSV: CSV with a commented header).

Columns: ``wavenumber`` (cm⁻¹), ``wavelength`` (nm, vacuum, 10⁷ / σ), ``data``, ``model`` (the
sincgauss model at the predicted kinematics, NaN without one), ``residual`` (data − model) and
``error`` when known, in the cube's own flux units. The header names the cube, the pixel (0-based
as in Mirabelle, and 1-based as DS9 and FITS count), its sky position in the cube's frame and
the kinematics shown.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from mirabelle.atomic import write_atomic
from mirabelle.errors import ExportError

SPECTRUM_FORMATS = {".fits": "fits", ".csv": "ascii.ecsv", ".ecsv": "ascii.ecsv"}
"""File suffix -> astropy table format."""


def default_spectrum_name(cube_path: str | Path | None, x: int, y: int, suffix: str = ".fits") -> str:
    """``<cube stem>_x<X>_y<Y>_spectrum<suffix>`` (0-based pixel), e.g. ``M31_SN3_x100_y90_spectrum.fits``."""
    stem = Path(cube_path).name.split(".")[0] if cube_path else "spectrum"
    return f"{stem}_x{int(x)}_y{int(y)}_spectrum{suffix}"


def spectrum_table(result: Any, cube: Any = None) -> Table:
    """The columns and header of one pixel's spectrum (``result``: a ``mirabelle.session.PixelResult``)."""
    axis = np.asarray(result.axis_cm1, dtype=np.float64)
    data = np.asarray(result.values, dtype=np.float64)
    model = np.full_like(data, np.nan) if result.model is None else np.asarray(result.model, dtype=np.float64)
    columns = {"wavenumber": axis, "wavelength": 1e7 / axis, "data": data, "model": model,
               "residual": data - model}
    if result.error is not None:
        columns["error"] = np.asarray(result.error, dtype=np.float64)
    table = Table(columns)
    table["wavenumber"].unit = "cm-1"
    table["wavelength"].unit = "nm"
    table["wavelength"].description = "vacuum wavelength, 1e7 / wavenumber"
    table["model"].description = "sincgauss model at the predicted kinematics"
    meta = table.meta
    path = getattr(cube, "path", None)
    if path is not None:
        meta["CUBE"] = Path(path).name
    meta["PIXEL_X"], meta["PIXEL_Y"] = int(result.x), int(result.y)
    meta["DS9_X"], meta["DS9_Y"] = int(result.x) + 1, int(result.y) + 1
    meta["comments"] = ["PIXEL_X/Y: 0-based pixel as in Mirabelle; DS9_X/Y: the same pixel 1-based (DS9, FITS)",
                        "data, model, residual, error: the cube's own flux units"]
    sky = _sky(getattr(cube, "wcs", None), result.x, result.y)
    if sky is not None:
        meta["RA"], meta["DEC"], meta["RADESYS"] = sky
    for key, name in (("VELOCITY", "velocity_kms"), ("VEL_ERR", "velocity_err_kms"),
                      ("SIGMA", "broadening_kms"), ("SIG_ERR", "broadening_err_kms")):
        value = (result.kinematics or {}).get(name)
        if value is not None and np.isfinite(value):
            meta[key] = round(float(value), 3)
    if any(key in meta for key in ("VELOCITY", "SIGMA")):
        meta["comments"].append("VELOCITY, VEL_ERR, SIGMA, SIG_ERR: km/s, the network's prediction")
    return table


def _sky(wcs, x: float, y: float) -> tuple[float, float, str] | None:
    """RA, Dec (degrees) of pixel (x, y) and the frame's name, or None without a usable WCS."""
    if wcs is None:
        return None
    from mirabelle.cube.sky import frame_label

    try:
        coord = wcs.pixel_to_world(x, y)
        return round(float(coord.ra.deg), 7), round(float(coord.dec.deg), 7), frame_label(coord.frame)
    except Exception:  # noqa: BLE001 - a broken WCS only loses the sky position
        return None


def write_spectrum(path: str | Path, result: Any, cube: Any = None) -> Path:
    """Write the spectrum of ``result`` to ``path`` (.fits, or .csv / .ecsv); raises ExportError."""
    path = Path(path)
    fmt = SPECTRUM_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: expected a .fits or .csv file name, found '{path.suffix or 'no suffix'}'.")
    table = spectrum_table(result, cube)
    if fmt == "fits":
        buffer = io.BytesIO()
        table.write(buffer, format="fits")
        payload = buffer.getvalue()
    else:
        text = io.StringIO()
        table.write(text, format=fmt, delimiter=",")
        payload = text.getvalue().encode("utf-8")
    return write_atomic(path, payload)
