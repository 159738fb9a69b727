"""The packaged OH sky line list (Hanuschik 2003) and the unresolved sky spectrum."""

import numpy as np
import pytest

from mirabelle.lines import ORB_SINC_FWHM
from mirabelle.lines.sky import air_refractive_index, brightest_band_flux, sky_lines_cm1, sky_spectrum


def test_known_line_positions_air_and_vacuum():
    wavenumber, flux = sky_lines_cm1()
    assert wavenumber.size == 126 and np.all(np.diff(wavenumber) > 0)
    # OH 6553.626 Å (air), relative flux 2.6673: ORB's 1e7 / λ_air convention
    k = np.argmin(np.abs(wavenumber - 1e8 / 6553.626))
    assert wavenumber[k] == pytest.approx(1e8 / 6553.626, abs=1e-6) and flux[k] == pytest.approx(2.6673)
    vacuum, _ = sky_lines_cm1(vacuum=True)
    # Hα: 6562.80 Å in air is 6564.61 Å in vacuum (the standard conversion)
    assert 6562.80 * air_refractive_index(6562.80) == pytest.approx(6564.61, abs=0.005)
    assert vacuum[k] == pytest.approx(1e8 / (6553.626 * air_refractive_index(6553.626)), rel=1e-12)
    assert (wavenumber - vacuum)[k] == pytest.approx(4.2, abs=0.1)


def test_band_lines_and_the_brightest_one():
    wavenumber, flux = sky_lines_cm1(band_only=True)
    assert wavenumber.min() >= 1e7 / 685.0 and wavenumber.max() <= 1e7 / 647.7
    assert brightest_band_flux() == pytest.approx(4.2749)  # OH 6498.7368 Å; 6863.97 Å lies outside SN3


def test_sky_spectrum_is_the_sum_of_pure_sincs():
    rng = np.random.default_rng(0)
    axis = 14600.0 + np.sort(rng.uniform(0, 800, 300))[None, :] + np.array([[0.0], [0.37]])
    fwhm = np.array([3.1, 7.5])
    out = sky_spectrum(axis, fwhm, peak=np.array([2.0, 0.5]))
    wavenumber, flux = sky_lines_cm1()
    direct = np.sinc((axis[:, :, None] - wavenumber) / (fwhm[:, None, None] / ORB_SINC_FWHM)) @ flux
    expected = direct / brightest_band_flux() * np.array([[2.0], [0.5]])
    np.testing.assert_allclose(out, expected, atol=2e-5 * np.abs(expected).max())
    # at the brightest band line, a narrow sinc peaks at the requested amplitude
    at = np.array([1e8 / 6498.7368])
    assert sky_spectrum(at, 0.5, peak=3.0)[0] == pytest.approx(3.0, abs=0.05)


def test_sky_on_per_pixel_axes_and_its_fitted_amplitude():
    from mirabelle.lines.sky import sky_amplitudes, sky_on_axes

    base = np.arange(14600.0, 15440.0, 1.4)
    axes = base[None, :] * np.array([[1.0], [1.0007], [1.0021]])  # three pixels' own axes (corr)
    template = sky_on_axes(axes, 3.0)
    np.testing.assert_allclose(template, sky_spectrum(axes, 3.0), atol=3e-3)
    rng = np.random.default_rng(2)
    values = 2.5 * template + 7.0 + 0.3 * (axes - 15000.0) / 400.0 + rng.normal(0, 0.01, axes.shape)
    values[1, :20] = np.nan
    np.testing.assert_allclose(sky_amplitudes(values, template), 2.5, atol=0.02)
    assert sky_amplitudes(7.0 + 0 * values, template) == pytest.approx([0, 0, 0], abs=1e-6)


def test_sky_amplitudes_of_float32_tiles_with_shared_templates():
    """A tile names each row's template among a few (one per FWHM bin): the amplitudes are those
    of each row fitted alone, in float32 as in float64, with or without NaN channels."""
    from mirabelle.lines.sky import sky_amplitudes

    axis = np.arange(14600.0, 15440.0, 1.4)
    templates = np.stack([sky_spectrum(axis, fwhm) for fwhm in (2.9, 3.0, 3.1)])
    rng = np.random.default_rng(5)
    index = rng.integers(0, 3, 40)
    truth = rng.uniform(0.0, 4.0, 40)
    values = truth[:, None] * templates[index] + 5.0 + rng.normal(0, 0.01, (40, axis.size))
    values[3, :30] = np.nan
    shared = sky_amplitudes(values.astype(np.float32), templates, index)
    alone = [sky_amplitudes(values[k:k + 1], templates[index[k]])[0] for k in range(40)]
    np.testing.assert_allclose(shared, alone, atol=1e-4)
    np.testing.assert_allclose(shared, truth, atol=0.01)
    per_row = sky_amplitudes(values.astype(np.float32), templates[index])  # one template per row
    np.testing.assert_allclose(per_row, alone, atol=1e-4)
