"""refine_fit recovers 1- and 2-component kinematics from a prior, headless (no QApplication)."""

import numpy as np
import pytest

from mirabelle.lines import axis_cm1, model_spectrum, sinc_fwhm_cm1
from mirabelle.lines.fit import refine_fit

AMPLITUDES = np.array([1.0, 10.0, 3.0, 2.0, 1.5])  # LINE_NAMES order
CONTINUUM = [1.0, 0.1]


@pytest.fixture(scope="module")
def instrument():
    """An SN3-like axis (R ≈ 5000: the sinc FWHM is about 60 km/s at Hα) and its sinc FWHM (cm⁻¹)."""
    return axis_cm1(2943.0, 8, 842, 1.0), float(sinc_fwhm_cm1(2943.0, 842, 170))


def test_one_component_is_refined_from_a_prior_30_kms_off(instrument):
    axis, fwhm = instrument
    truth = model_spectrum(axis, [-80.0], [30.0], fwhm, AMPLITUDES[None, :], CONTINUUM)
    values = truth + np.random.default_rng(7).normal(0.0, 0.3, axis.size)
    values[:5] = np.nan  # NaN channels are ignored
    result = refine_fit(axis, values, velocity_kms=-50.0, broadening_kms=20.0, fwhm_cm1=fwhm, components=1)
    assert result["success"]
    assert result["velocity_kms"].shape == (1,) and result["amplitudes"].shape == (1, 5)
    assert result["velocity_kms"][0] == pytest.approx(-80.0, abs=4.0)
    assert result["broadening_kms"][0] == pytest.approx(30.0, abs=8.0)
    assert result["amplitudes"][0, 1] == pytest.approx(10.0, rel=0.1)  # Hα
    model = result["model"]
    assert model.shape == axis.shape
    fitted = np.isfinite(model)
    assert fitted.sum() > 50
    residual = values[fitted] - model[fitted]
    assert np.nanstd(residual) == pytest.approx(0.3, rel=0.25)  # down to the noise


def test_two_components_give_both_velocities(instrument):
    axis, fwhm = instrument
    amplitudes = np.array([AMPLITUDES, 0.6 * AMPLITUDES])
    truth = model_spectrum(axis, [-100.0, 20.0], [15.0, 15.0], fwhm, amplitudes, CONTINUUM)
    values = truth + np.random.default_rng(3).normal(0.0, 0.1, axis.size)
    result = refine_fit(axis, values, velocity_kms=-90.0, broadening_kms=15.0, fwhm_cm1=fwhm, components=2)
    assert result["velocity_kms"].shape == (2,) and result["amplitudes"].shape == (2, 5)
    velocities = np.sort(result["velocity_kms"])
    assert velocities[0] == pytest.approx(-100.0, abs=6.0)
    assert velocities[1] == pytest.approx(20.0, abs=6.0)
    one = refine_fit(axis, values, velocity_kms=-90.0, broadening_kms=15.0, fwhm_cm1=fwhm, components=1)
    assert result["chi2"] < 0.5 * one["chi2"]  # the second component is needed
