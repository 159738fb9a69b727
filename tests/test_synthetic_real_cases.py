"""The synthetic writer's real-cube cases: sky, stellar continua, flux units, any R and velocity."""

import h5py
import numpy as np
import pytest

from mirabelle.cube import open_cube
from mirabelle.cube.heliocentric import barycentric_correction
from mirabelle.cube.units import flux_units
from mirabelle.lines.sky import sky_lines_cm1
from mirabelle.synthetic import read_truth, write_synthetic_cube

N = 20


def _write(tmp_path, name, **options):
    path = tmp_path / f"{name}.hdf5"
    write_synthetic_cube(path, N, N, seed=7, **options)
    return path


def test_flux_units_scale_the_data_and_say_so(tmp_path):
    counts = _write(tmp_path, "counts", calibrated=False)
    flux = _write(tmp_path, "flux", calibrated=False, flux_scale=1e-17, obs_date=(2020, 1, 15))
    with h5py.File(counts, "r") as a, h5py.File(flux, "r") as b:
        np.testing.assert_allclose(b["data"][()], a["data"][()] * 1e-17, rtol=1e-5, atol=1e-22)
        assert b.attrs["BUNIT"] == "erg/cm2/s/Angstrom"
    with open_cube(flux) as cube:
        assert flux_units(cube).spectrum == "erg/cm²/s/Å"
        assert barycentric_correction(cube)[0].obstime_utc.startswith("2020-01-15T08:00:00")


def test_sky_lines_sit_at_fixed_wavenumbers_in_every_pixel(tmp_path):
    clean = _write(tmp_path, "clean", noise=False)
    sky = _write(tmp_path, "sky", noise=False, sky=2.0)
    truth = read_truth(clean)
    with open_cube(clean) as a, open_cube(sky) as b:
        axis = a.base_axis_cm1
        for x, y in ((6, 6), (12, 14)):
            difference = b.spectrum(x, y).values - a.spectrum(x, y).values
            peak = axis[np.argmax(difference)]
            lines, _ = sky_lines_cm1()
            assert np.abs(lines - peak).min() < 1.5 * (axis[1] - axis[0])  # on an OH line
            # the brightest SN3 line peaks at 2 × the median Hα (blends with neighbours add)
            assert 0.9 < difference.max() / (2.0 * np.median(truth.amplitudes[..., 1][truth.valid])) < 1.6


def test_stellar_continuum_has_a_broad_halpha_absorption(tmp_path):
    clean = _write(tmp_path, "clean", noise=False)
    stellar = _write(tmp_path, "stellar", noise=False, stellar=3.0)
    truth = read_truth(clean)
    with open_cube(clean) as a, open_cube(stellar) as b:
        continuum = b.spectrum(10, 10).values - a.spectrum(10, 10).values
        axis = a.base_axis_cm1
    halpha = 1e7 / 656.2819 * np.sqrt((1 - truth.velocity[10, 10] / 299792.458) / (1 + truth.velocity[10, 10] / 299792.458))
    at_line = np.interp(halpha, axis, continuum)
    wings = np.interp([halpha - 150, halpha + 150], axis, continuum).mean()
    assert continuum.min() > 0 and at_line < wings  # absorbed at Hα, positive everywhere


@pytest.mark.parametrize("resolution", [1000.0, 9600.0])
def test_any_resolution_and_a_receding_galaxy(tmp_path, resolution):
    path = _write(tmp_path, "r", resolution=resolution, systemic_velocity=4500.0)
    truth = read_truth(path)
    with open_cube(path) as cube:
        assert cube.resolution(N // 2, N // 2) == pytest.approx(resolution, rel=0.02)
    assert np.median(truth.velocity[truth.valid]) == pytest.approx(4500.0, abs=120.0)


def test_a_sky_only_box_holds_the_sky_and_no_gas(tmp_path):
    empty = _write(tmp_path, "empty", noise=False, sky_only_box=(3, 7, 3, 7))
    sky = _write(tmp_path, "sky", noise=False, sky=2.0, sky_only_box=(3, 7, 3, 7))
    truth = read_truth(empty)
    assert (truth.amplitudes[3:7, 3:7] == 0).all() and (truth.amplitudes[10:12, 10:12, 1] > 0).all()
    with open_cube(empty) as a, open_cube(sky) as b:
        assert (a.spectrum(4, 4).values == 0).all()  # no gas, no continuum
        assert np.nanmax(b.spectrum(4, 4).values) > 0.5 * 2.0 * np.median(truth.amplitudes[..., 1][truth.valid])
