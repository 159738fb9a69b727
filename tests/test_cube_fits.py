"""3-D FITS cubes: spectral axis from the header, wavelength axes exposed ascending in cm-1."""

import numpy as np
import pytest
from cube_files import M31, M31_FWHM, WCS_KEYS, write_fits_cube

from mirabelle.cube import open_cube

SITELLE_KEYS = dict(STEP=M31["step"], ORDER=8, STEP_NB=840, ZPDINDEX=168, AXISCORR=M31["axis_corr"],
                    FILTER="SN3", EXPTIME=13.7, OBJECT="M31")


def random_cube(nx=9, ny=11, nz=40, seed=0):
    return np.random.default_rng(seed).normal(10, 1, (nx, ny, nz)).astype(np.float32)


def test_wavenumber_cube_round_trips_with_sitelle_keywords(tmp_path):
    path = tmp_path / "cm1.fits"
    data = random_cube()
    cards = dict(CTYPE3="WAVENUMBER", CUNIT3="cm-1", CRVAL3=15000.0, CDELT3=2.09832, CRPIX3=1.0,
                 **SITELLE_KEYS, **WCS_KEYS)
    write_fits_cube(path, data, cards)
    with open_cube(path) as cube:
        assert cube.file_format == "FITS" and cube.shape == (9, 11, 40) and cube.calibrated
        np.testing.assert_allclose(cube.base_axis_cm1, 15000.0 + 2.09832 * np.arange(40))
        np.testing.assert_array_equal(cube.spectrum(2, 8).values, data[2, 8])
        np.testing.assert_array_equal(cube.spectrum(2, 8).axis, cube.base_axis_cm1)
        assert cube.fwhm_cm1(4, 4) == pytest.approx(M31_FWHM, abs=1e-3)
        assert (cube.step_nb, cube.zpd_index, cube.order) == (840, 168, 8)
        assert cube.is_sn3 and cube.object_name == "M31" and cube.exposure_time_s == 13.7
        assert not any("STEP" in w for w in cube.warnings)
        tiles = list(cube.iter_tiles())
        assert sum(t.data.size for t in tiles) == data.size
        for tile in tiles:
            np.testing.assert_array_equal(tile.data, data[tile.x_slice, tile.y_slice])


def test_wavelength_cube_in_nm_is_exposed_in_ascending_wavenumber(tmp_path):
    path = tmp_path / "nm.fits"
    data = random_cube(nz=30)
    crval, cdelt = 650.0, 0.1
    write_fits_cube(path, data, dict(CTYPE3="WAVE", CUNIT3="nm", CRVAL3=crval, CDELT3=cdelt, CRPIX3=1.0))
    wavelength = crval + cdelt * np.arange(30)
    with open_cube(path) as cube:
        # channel k of the cube is file plane nz - 1 - k
        np.testing.assert_allclose(cube.base_axis_cm1, 1e7 / wavelength[::-1])
        assert np.all(np.diff(cube.base_axis_cm1) > 0)
        np.testing.assert_array_equal(cube.spectrum(3, 4).values, data[3, 4, ::-1])
        band = (cube.base_axis_cm1[5], cube.base_axis_cm1[12])
        for tile in cube.iter_tiles(band_cm1=band):
            assert tile.channels == slice(5, 13)
            np.testing.assert_array_equal(tile.data, data[tile.x_slice, tile.y_slice, ::-1][:, :, 5:13])
            np.testing.assert_allclose(cube.tile_axis_cm1(tile), 1e7 / wavelength[::-1][5:13])


def test_angstrom_cd_matrix_and_missing_unit(tmp_path):
    angstrom, guessed = tmp_path / "aa.fits", tmp_path / "guess.fits"
    data = random_cube(nx=4, ny=5, nz=10)
    write_fits_cube(angstrom, data, dict(CTYPE3="AWAV", CUNIT3="Angstrom", CRVAL3=6500.0, CD3_3=2.0, CRPIX3=3.0))
    write_fits_cube(guessed, data, dict(CTYPE3="WAVE", CRVAL3=6500.0, CDELT3=2.0, CRPIX3=3.0))
    expected = 1e8 / (6500.0 + 2.0 * (np.arange(10) - 2))[::-1]
    with open_cube(angstrom) as cube:
        np.testing.assert_allclose(cube.base_axis_cm1, expected)
    with open_cube(guessed) as cube:
        np.testing.assert_allclose(cube.base_axis_cm1, expected)
        assert any("CUNIT3 is missing" in w and "Angstrom" in w for w in cube.warnings)


def test_without_sitelle_keywords_the_resolution_is_a_warned_estimate(tmp_path):
    path = tmp_path / "bare.fits"
    write_fits_cube(path, random_cube(nz=400), dict(CTYPE3="WAVN", CUNIT3="cm-1", CRVAL3=14600.0,
                                                   CDELT3=2.0, CRPIX3=1.0))
    with open_cube(path) as cube:
        assert cube.step_nm is None and cube.zpd_index is None and not cube.fwhm_from_parameters
        assert cube.fwhm_cm1(0, 0) == pytest.approx(1.20671 / 0.8 * 2.0)
        assert any("sinc FWHM is assumed" in w for w in cube.warnings)
        assert cube.filter_name == "SN3"  # the axis holds Hα and [SII]
        assert any("inferred from the axis" in w for w in cube.warnings)


def test_scaled_integers_in_an_image_extension(tmp_path):
    path = tmp_path / "ext.fits"
    data = np.round(random_cube(nx=6, ny=7, nz=12) * 100) / 100
    write_fits_cube(path, data, dict(CTYPE3="WAVENUMBER", CUNIT3="cm-1", CRVAL3=15000.0, CDELT3=-2.0,
                                     FILTER="SN2"), in_extension=True, bscale=0.01)
    with open_cube(path) as cube:
        assert cube.filter_name == "SN2" and not cube.is_sn3
        assert np.all(np.diff(cube.base_axis_cm1) > 0)   # descending CDELT3 is reversed too
        np.testing.assert_allclose(cube.spectrum(5, 6).values, data[5, 6, ::-1], atol=1e-6)


def test_bright_pixel_keeps_its_place_in_fits(tmp_path):
    path = tmp_path / "orientation.fits"
    data = np.ones((9, 11, 20), dtype=np.float32)
    data[3, 7, :] = 100.0
    write_fits_cube(path, data, dict(CTYPE3="WAVENUMBER", CUNIT3="cm-1", CRVAL3=15000.0, CDELT3=2.0,
                                     **WCS_KEYS))
    with open_cube(path) as cube:
        assert cube.spectrum(3, 7).values.max() == 100.0 and cube.spectrum(7, 3).values.max() == 1.0
        image = cube.deep_image()
        assert np.unravel_index(np.argmax(image), image.shape) == (3, 7)
        sky = cube.wcs.pixel_to_world(3, 7)
        assert sky.ra.deg == pytest.approx(WCS_KEYS["CRVAL1"]) and sky.dec.deg == pytest.approx(WCS_KEYS["CRVAL2"])
