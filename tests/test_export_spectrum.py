"""A pixel's spectrum as FITS or CSV: axis, data, model, residual with units, pixel and sky in the header."""

import csv
import types

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from mirabelle.errors import ExportError
from mirabelle.export.spectrum import default_spectrum_name, write_spectrum
from mirabelle.session.pixel import PixelResult


@pytest.fixture
def result():
    axis = np.linspace(14600.0, 15400.0, 50)
    values = 10.0 + np.exp(-0.5 * ((axis - 15240.0) / 3.0) ** 2)
    return PixelResult(x=12, y=7, axis_cm1=axis, values=values, model=values - 0.25,
                       kinematics={"velocity_kms": -136.94, "broadening_kms": 37.2})


@pytest.fixture
def cube(tmp_path):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = [23.4621, 30.66], [13.0, 8.0], [-1e-4, 1e-4]
    wcs.wcs.radesys, wcs.wcs.equinox = "FK5", 2000.0
    return types.SimpleNamespace(path=str(tmp_path / "M33_SN3.merged.cm1.1.0.hdf5"), wcs=wcs)


def test_fits_spectrum_has_units_pixel_and_sky(tmp_path, result, cube):
    path = write_spectrum(tmp_path / default_spectrum_name(cube.path, result.x, result.y), result, cube)
    assert path.name == "M33_SN3_x12_y7_spectrum.fits"
    table = Table.read(path)
    assert table.colnames == ["wavenumber", "wavelength", "data", "model", "residual"]
    assert str(table["wavenumber"].unit) == "1 / cm" and str(table["wavelength"].unit) == "nm"
    assert np.allclose(table["residual"], 0.25) and np.allclose(table["wavelength"], 1e7 / result.axis_cm1)
    header = fits.getheader(path, 1)
    assert (header["PIXEL_X"], header["PIXEL_Y"], header["DS9_X"], header["DS9_Y"]) == (12, 7, 13, 8)
    assert header["RA"] == pytest.approx(23.4621) and header["DEC"] == pytest.approx(30.66)  # CRPIX (13, 8)
    assert header["RADESYS"] == "FK5 J2000" and header["CUBE"] == "M33_SN3.merged.cm1.1.0.hdf5"
    assert header["VELOCITY"] == pytest.approx(-136.94)


def test_csv_spectrum_reads_back_as_a_table_and_as_plain_csv(tmp_path, result, cube):
    path = write_spectrum(tmp_path / "s.csv", result, cube)
    table = Table.read(path, format="ascii.ecsv")
    assert np.allclose(table["data"], result.values) and str(table["wavenumber"].unit) == "1 / cm"
    assert table.meta["DS9_X"] == 13
    rows = [row for row in csv.reader(line for line in path.read_text().splitlines() if not line.startswith("#"))]
    assert rows[0] == ["wavenumber", "wavelength", "data", "model", "residual"] and len(rows) == 51


def test_no_model_gives_nan_columns_and_a_bad_suffix_one_sentence(tmp_path, result):
    result.model = None
    data = fits.getdata(write_spectrum(tmp_path / "s.fits", result), 1)
    assert np.isnan(data["model"]).all() and np.isnan(data["residual"]).all()
    with pytest.raises(ExportError, match="expected a .fits or .csv file name"):
        write_spectrum(tmp_path / "s.png", result)
