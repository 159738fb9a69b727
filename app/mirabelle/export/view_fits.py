"""The image shown in the window as a FITS file with the cube's WCS: the deep image in the primary
HDU and, when a map is overlaid, that map in an extension named after it, at native resolution
(one FITS pixel per cube pixel, NAXIS1 = x), so DS9 or astropy show it on the sky."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from mirabelle import __version__
from mirabelle.atomic import write_atomic
from mirabelle.errors import ExportError
from mirabelle.orientation import map_to_fits


def view_hdus(cube: Any, deep_xy: np.ndarray, overlay_name: str | None = None,
              overlay_xy: np.ndarray | None = None, overlay_unit: str = "") -> list:
    """Primary HDU = the deep image ``[x, y]``; one ``IMAGE`` extension ``overlay_name`` (in
    ``overlay_unit``) when an overlay is given; every HDU with the cube's celestial WCS."""
    from astropy.io import fits

    def header(bunit: str, what: str) -> fits.Header:
        out = fits.Header()
        wcs = getattr(cube, "wcs", None)
        if wcs is not None:
            out.update(wcs.celestial.to_header(relax=True))
        out["BUNIT"] = (bunit, what)
        path = getattr(cube, "path", None)
        if path is not None:
            out["CUBE"] = (Path(path).name, "source cube")
        out["ORIGIN"] = (f"mirabelle {__version__}", "software")
        out["DATE"] = (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "UTC time of writing")
        return out

    deep = np.asarray(deep_xy, dtype=np.float32)
    hdus = [fits.PrimaryHDU(map_to_fits(deep), header=header("", "deep image, the cube's own units"))]
    if overlay_xy is not None:
        overlay = np.asarray(overlay_xy, dtype=np.float32)
        if overlay.shape != deep.shape:
            raise ExportError(f"{overlay_name}: expected a map of the deep image's shape {deep.shape}, "
                              f"found {overlay.shape}.")
        hdus.append(fits.ImageHDU(map_to_fits(overlay), header=header(overlay_unit, f"{overlay_name} map"),
                                  name=(overlay_name or "OVERLAY").upper()[:68]))
    return hdus


def write_view_fits(path: str | Path, cube: Any, deep_xy: np.ndarray, overlay_name: str | None = None,
                    overlay_xy: np.ndarray | None = None, overlay_unit: str = "") -> Path:
    """Write :func:`view_hdus` to ``path`` atomically; raises ExportError with a sentence."""
    from astropy.io import fits

    buffer = io.BytesIO()
    fits.HDUList(view_hdus(cube, deep_xy, overlay_name, overlay_xy, overlay_unit)).writeto(buffer)
    return write_atomic(path, buffer.getvalue())
