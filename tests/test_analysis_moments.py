"""Moment maps follow the synthetic cube's true velocity field and write FITS with the cube's WCS."""

import numpy as np
import pytest

from mirabelle.analysis.bands import LineBand, WavenumberBand
from mirabelle.analysis.moments import compute_moments, iter_moments
from mirabelle.cli import main
from mirabelle.cube import open_cube
from mirabelle.lines import sincgauss_flux
from mirabelle.synthetic import read_truth, write_synthetic_cube

SYSTEMIC = -180.0


@pytest.fixture(scope="module")
def noise_free(tmp_path_factory):
    path = tmp_path_factory.mktemp("moments") / "clean.hdf5"
    truth = write_synthetic_cube(path, 40, 36, resolution=5000, seed=3, noise=False,
                                 systemic_velocity=SYSTEMIC)
    return path, truth


def test_moment1_follows_the_true_velocity_field(noise_free):
    path, truth = noise_free
    with open_cube(path) as cube:
        maps = compute_moments(cube, LineBand("Halpha", 300, SYSTEMIC))
    good = truth.valid & ~truth.double & np.isfinite(maps.moment1)
    assert good.sum() > 0.8 * truth.valid.sum()
    error = maps.moment1[good] - truth.velocity[good]
    assert np.median(np.abs(error)) < 2.0
    assert np.corrcoef(maps.moment1[good], truth.velocity[good])[0, 1] > 0.99
    assert np.ptp(truth.velocity[good]) > 100  # a real rotation field, not a constant


def test_moment0_is_the_halpha_flux_and_moment2_grows_with_broadening(noise_free):
    path, truth = noise_free
    with open_cube(path) as cube:
        maps = compute_moments(cube, LineBand("Halpha", 300, SYSTEMIC))
        fwhm = cube.fwhm_map_cm1()
    good = truth.valid & ~truth.double & np.isfinite(maps.moment0)
    position = 1e7 / 656.2819 * np.sqrt((1 - truth.velocity / 299792.458) / (1 + truth.velocity / 299792.458))
    sigma = position * truth.broadening / 299792.458
    flux = sincgauss_flux(truth.amplitudes[..., 1], fwhm, sigma)
    ratio = maps.moment0[good] / flux[good]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.05)
    assert np.corrcoef(maps.moment2[good], truth.broadening[good])[0, 1] > 0.8


def test_band_follows_each_pixels_velocity(noise_free):
    path, truth = noise_free
    with open_cube(path) as cube:
        maps = compute_moments(cube, LineBand("Halpha", 150, truth.velocity.astype(float)))
    good = truth.valid & ~truth.double & np.isfinite(maps.moment1)
    assert np.median(np.abs(maps.moment1[good] - truth.velocity[good])) < 2.0


def test_noisy_cube_bright_pixels_and_weak_pixels_masked(synthetic_cube_path):
    truth = read_truth(synthetic_cube_path)
    with open_cube(synthetic_cube_path) as cube:
        maps = compute_moments(cube, LineBand("Halpha", 300, SYSTEMIC), min_snr=5)
    bright = truth.valid & ~truth.double & (maps.snr > 30)
    assert bright.sum() > 50
    assert np.median(np.abs(maps.moment1[bright] - truth.velocity[bright])) < 5.0
    assert np.all(np.isnan(maps.moment1[maps.snr < 5]))
    assert np.all(np.isnan(maps.moment0[~truth.valid]))


def test_tiles_are_whole_and_resumable(synthetic_cube_path):
    band = WavenumberBand(1e7 / 658.0, 1e7 / 656.0)
    with open_cube(synthetic_cube_path) as cube:
        steps = list(iter_moments(cube, band, tile=(16, 16)))
        assert len(steps) > 1 and steps[-1].fraction == 1.0
        fractions = [s.fraction for s in steps]
        assert fractions == sorted(fractions)
        full = steps[-1].maps
        partial = None
        for step in iter_moments(cube, band, tile=(16, 16)):
            partial = step.maps
            break
        resumed = compute_moments(cube, band, tile=(16, 16), maps=partial)
    np.testing.assert_array_equal(np.isnan(full.moment0), np.isnan(resumed.moment0))
    np.testing.assert_allclose(full.moment0, resumed.moment0, equal_nan=True)


def test_uncalibrated_cube_matches_calibrated(synthetic_cube_path, synthetic_cube_uncalibrated_path):
    band = LineBand("Halpha", 300, SYSTEMIC)
    with open_cube(synthetic_cube_path) as a, open_cube(synthetic_cube_uncalibrated_path) as b:
        calibrated, uncalibrated = compute_moments(a, band), compute_moments(b, band)
    both = np.isfinite(calibrated.moment1) & np.isfinite(uncalibrated.moment1) & (calibrated.snr > 30)
    assert both.sum() > 50
    assert np.median(np.abs(calibrated.moment1[both] - uncalibrated.moment1[both])) < 3.0


def test_moments_command_writes_fits_with_the_cube_wcs(synthetic_cube_path, tmp_path):
    from astropy.io import fits
    from astropy.wcs import WCS

    out = tmp_path / "moments"
    assert main(["moments", str(synthetic_cube_path), "--line", "Ha", "--velocity", str(SYSTEMIC),
                 "--width", "250", "-o", str(out)]) == 0
    with open_cube(synthetic_cube_path) as cube:
        expected = compute_moments(cube, LineBand("Halpha", 250, SYSTEMIC))
        for name in ("moment0", "moment1", "moment2", "snr", "continuum"):
            with fits.open(out / f"{name}.fits") as hdus:
                data, header = hdus[0].data, hdus[0].header
            assert data.shape == (cube.ny, cube.nx)  # FITS [y, x]
            np.testing.assert_allclose(data.T, getattr(expected, name), rtol=1e-6, equal_nan=True)
        wcs = WCS(fits.getheader(out / "moment1.fits"))
        assert wcs.pixel_to_world(5, 7).separation(cube.wcs.pixel_to_world(5, 7)).arcsec < 1e-6
    header = fits.getheader(out / "moment1.fits")
    assert header["BUNIT"] == "km/s" and header["RESTLINE"] == "Halpha"
    assert main(["moments", str(synthetic_cube_path), "--band", "656", "658", "--unit", "nm",
                 "-o", str(tmp_path / "band")]) == 0
    assert fits.getheader(tmp_path / "band" / "moment1.fits")["RESTLINE"] == "Halpha"


def test_moments_command_detects_the_systemic_velocity_and_errors_are_one_line(synthetic_cube_path, tmp_path,
                                                                              capsys):
    from astropy.io import fits

    assert main(["moments", str(synthetic_cube_path), "--line", "Halpha", "-o", str(tmp_path / "m")]) == 0
    assert "detected" in capsys.readouterr().err
    assert fits.getheader(tmp_path / "m" / "moment1.fits")["VSYS"] == pytest.approx(SYSTEMIC, abs=30)
    assert main(["moments", str(synthetic_cube_path), "--line", "OIII5007", "--velocity", "0",
                 "-o", str(tmp_path / "m2")]) == 2
    err = capsys.readouterr().err.strip()
    assert "expected a line among" in err and "\n" not in err
