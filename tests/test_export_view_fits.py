"""The shown image as FITS: deep image + overlaid map at native resolution, with the cube's WCS."""

import types

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from mirabelle.errors import ExportError
from mirabelle.export.view_fits import write_view_fits


def _cube(tmp_path):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = [23.4621, 30.66], [1.0, 1.0], [-1e-4, 1e-4]
    return types.SimpleNamespace(path=str(tmp_path / "m33.hdf5"), wcs=wcs)


def test_deep_image_and_overlay_keep_pixels_orientation_and_wcs(tmp_path):
    cube = _cube(tmp_path)
    deep = np.arange(12.0).reshape(4, 3)  # [x, y]: 4 wide, 3 high
    velocity = -100.0 - deep
    path = write_view_fits(tmp_path / "view.fits", cube, deep, "velocity", velocity, "km/s")
    with fits.open(path) as hdul:
        assert hdul[0].data.shape == (3, 4) and hdul[0].data[2, 1] == deep[1, 2]  # NAXIS1 = x
        assert hdul["VELOCITY"].header["BUNIT"] == "km/s" and hdul["VELOCITY"].data[2, 1] == velocity[1, 2]
        sky = WCS(hdul["VELOCITY"].header).pixel_to_world(0, 0)
        assert sky.ra.deg == pytest.approx(23.4621) and hdul[0].header["CUBE"] == "m33.hdf5"


def test_a_map_of_another_shape_is_refused(tmp_path):
    with pytest.raises(ExportError, match="expected a map of the deep image's shape"):
        write_view_fits(tmp_path / "v.fits", _cube(tmp_path), np.zeros((4, 3)), "velocity", np.zeros((3, 4)))
    assert not (tmp_path / "v.fits").exists()
