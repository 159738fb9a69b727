"""The SN3 line model against the spec's reference numbers and its own limits."""

import numpy as np
import pytest
from scipy import optimize

from mirabelle.lines import (
    C_KMS,
    LINE_NAMES,
    NII_AMPLITUDE_RATIO,
    ORB_SINC_FWHM,
    REST_NM,
    SN3_BAND_NM,
    axis_cm1,
    axis_step_cm1,
    broadening_from_sigma,
    gaussian,
    line_fluxes,
    line_position_cm1,
    model_spectrum,
    resolving_power,
    sigma_cm1,
    sinc,
    sinc_fwhm_cm1,
    sincgauss,
    sincgauss_flux,
    solve_amplitudes,
    velocity_from_position,
)
from mirabelle.lines.model import line_templates

# M31 SN3 header (sitelle-cubes.md)
M31 = dict(step_nm=2943.025792, order=8, step_nb=840, zpd_index=168, corr=1.0374712)


# --- reference numbers -------------------------------------------------------------------

def test_m31_axis_start_and_step():
    axis = axis_cm1(M31["step_nm"], M31["order"], M31["step_nb"], M31["corr"])
    assert axis.shape == (840,)
    assert axis[0] == pytest.approx(14100.742, abs=1e-3)
    assert axis[-1] == pytest.approx(15861.237, abs=1e-3)
    np.testing.assert_allclose(np.diff(axis), 2.09832, atol=1e-5)
    assert axis_step_cm1(M31["step_nm"], M31["step_nb"], M31["corr"]) == pytest.approx(2.09832, abs=1e-5)


def test_odd_order_starts_one_channel_later():
    even = axis_cm1(2943.0, 8, 840)
    odd = axis_cm1(2943.0, 9, 840)
    step = axis_step_cm1(2943.0, 840)
    assert odd[0] == pytest.approx(1e7 / (2 * 2943.0) * 9 + step)
    assert even[0] == pytest.approx(1e7 / (2 * 2943.0) * 8)


def test_m31_sinc_fwhm_and_resolution():
    fwhm = sinc_fwhm_cm1(M31["step_nm"], M31["step_nb"], M31["zpd_index"], M31["corr"])
    assert fwhm == pytest.approx(3.165, abs=1e-3)
    assert resolving_power(1e7 / REST_NM["Halpha"], fwhm) == pytest.approx(4814, abs=2)
    # scales with corr (array) and apodization
    corr = np.array([1.0, 1.0374712])
    np.testing.assert_allclose(sinc_fwhm_cm1(M31["step_nm"], 840, 168, corr, 1.5)[1], 1.5 * fwhm)


def test_sinc_fwhm_rejects_zpd_beyond_steps():
    with pytest.raises(ValueError):
        sinc_fwhm_cm1(2943.0, 100, 100)


def test_sn3_band_and_halpha_in_wavenumber():
    assert 1e7 / SN3_BAND_NM[1] == pytest.approx(14598.5, abs=0.1)
    assert 1e7 / SN3_BAND_NM[0] == pytest.approx(15439.2, abs=0.1)
    assert line_position_cm1(REST_NM["Halpha"], 0.0) == pytest.approx(15237.4, abs=0.05)
    assert C_KMS == 299792.458
    assert LINE_NAMES == ("NII6548", "Halpha", "NII6583", "SII6716", "SII6731")
    for name in LINE_NAMES:  # every SN3 line is in the band at |v| < 1000 km/s
        for v in (-1000.0, 1000.0):
            assert 1e7 / SN3_BAND_NM[1] < line_position_cm1(REST_NM[name], v) < 1e7 / SN3_BAND_NM[0]


# --- kinematics --------------------------------------------------------------------------

def test_relativistic_velocity_formula_and_round_trip():
    v = np.array([-500.0, -180.0, 0.0, 120.0, 3000.0])
    beta = v / C_KMS
    sigma_rest = 1e7 / REST_NM["Halpha"]
    expected = sigma_rest * np.sqrt((1 - beta) / (1 + beta))
    position = line_position_cm1(REST_NM["Halpha"], v)
    np.testing.assert_allclose(position, expected, rtol=1e-14)
    assert position[0] > sigma_rest > position[-1]  # approaching -> bluer -> larger wavenumber
    np.testing.assert_allclose(velocity_from_position(REST_NM["Halpha"], position), v, atol=1e-8)
    # 0.001 nm at Halpha is about 0.46 km/s
    dv = velocity_from_position(REST_NM["Halpha"], 1e7 / (REST_NM["Halpha"] + 0.001))
    assert dv == pytest.approx(0.457, abs=0.005)


def test_broadening_sigma_round_trip():
    position = 15237.4
    assert sigma_cm1(position, 30.0) == pytest.approx(position * 30.0 / C_KMS)
    np.testing.assert_allclose(broadening_from_sigma(position, sigma_cm1(position, [5.0, 50.0])), [5.0, 50.0])


# --- profiles ----------------------------------------------------------------------------

X = np.linspace(15200.0, 15280.0, 4001)
X0, FWHM = 15237.4, 3.165


def test_sincgauss_peak_is_amplitude():
    for sigma in (0.0, 0.01, 0.5, 3.0, 30.0):
        assert sincgauss(X0, X0, FWHM, sigma, 7.5) == pytest.approx(7.5, rel=1e-12)


def test_sincgauss_small_sigma_is_sinc():
    # just above ORB's threshold the Dawson form already equals the sinc to 3e-4
    np.testing.assert_allclose(sincgauss(X, X0, FWHM, 0.011 * FWHM), sinc(X, X0, FWHM), atol=3e-4)
    np.testing.assert_array_equal(sincgauss(X, X0, FWHM, 0.0), sinc(X, X0, FWHM))


def test_sincgauss_large_sigma_is_gaussian():
    for ratio in (6.9, 7.1, 20.0):
        sigma = ratio * FWHM
        x = np.linspace(X0 - 5 * sigma, X0 + 5 * sigma, 2001)
        np.testing.assert_allclose(sincgauss(x, X0, FWHM, sigma), gaussian(x, X0, sigma), atol=1e-4)


def test_sincgauss_is_continuous_across_regimes():
    # the Dawson form (mixed regime) meets both limits
    for lo, hi in ((0.01 - 1e-9, 0.01 + 1e-9), (7.0 - 1e-9, 7.0 + 1e-9)):
        a = sincgauss(X, X0, FWHM, lo * FWHM)
        b = sincgauss(X, X0, FWHM, hi * FWHM)
        assert np.max(np.abs(a - b)) < 3e-4


def test_sincgauss_is_sinc_convolved_with_gaussian():
    step = X[1] - X[0]
    sigma = 0.8
    kernel_x = np.arange(-8 * sigma, 8 * sigma + step / 2, step)
    kernel = gaussian(kernel_x, 0.0, sigma)
    wide = np.arange(X0 - 600.0, X0 + 600.0, step)
    conv = np.convolve(sinc(wide, X0, FWHM), kernel / kernel.sum(), mode="same")
    conv /= conv[np.argmin(np.abs(wide - X0))]
    inside = np.abs(wide - X0) < 30
    np.testing.assert_allclose(sincgauss(wide[inside], X0, FWHM, sigma), conv[inside], atol=2e-3)


def test_pure_sinc_fwhm_is_fwhm():
    half = optimize.brentq(lambda x: sinc(x, X0, FWHM) - 0.5, X0, X0 + FWHM)
    assert 2 * (half - X0) == pytest.approx(FWHM, rel=1e-5)
    assert ORB_SINC_FWHM == 1.20671


@pytest.mark.parametrize("sigma", [0.0, 0.2, 1.0, 3.0, 25.0])
def test_profile_integral_equals_flux_formula(sigma):
    # trapezoid sums of a band-limited profile are exact up to the truncated tails
    step = FWHM / 40
    x = np.arange(X0 - 3000 * FWHM, X0 + 3000 * FWHM, step)
    integral = np.sum(sincgauss(x, X0, FWHM, sigma, 2.0)) * step
    assert integral == pytest.approx(float(sincgauss_flux(2.0, FWHM, sigma)), rel=5e-4)


def test_flux_sinc_limit():
    assert sincgauss_flux(3.0, FWHM, 0.0) == pytest.approx(3.0 * FWHM / ORB_SINC_FWHM)
    assert sincgauss_flux(3.0, FWHM, 1e-9) == pytest.approx(3.0 * FWHM / ORB_SINC_FWHM, rel=1e-9)
    # large sigma: gaussian flux A·√(2π)·s
    assert sincgauss_flux(3.0, FWHM, 30.0) == pytest.approx(3.0 * np.sqrt(2 * np.pi) * 30.0, rel=1e-9)


def test_line_fluxes_follow_amplitudes():
    amplitudes = np.array([1.0, 3.0, 2.95, 1.2, 0.9])
    fluxes = line_fluxes(amplitudes, -180.0, 25.0, FWHM)
    position = line_position_cm1(np.array([REST_NM[n] for n in LINE_NAMES]), -180.0)
    expected = sincgauss_flux(amplitudes, FWHM, sigma_cm1(position, 25.0))
    np.testing.assert_allclose(fluxes, expected)


# --- spectrum model and amplitude solve ----------------------------------------------------

AXIS = axis_cm1(M31["step_nm"], M31["order"], M31["step_nb"], M31["corr"])
BAND = AXIS[(AXIS > 1e7 / SN3_BAND_NM[1]) & (AXIS < 1e7 / SN3_BAND_NM[0])]


def _truth_amplitudes(halpha, nii, sii1, sii2):
    return np.array([nii / NII_AMPLITUDE_RATIO, halpha, nii, sii1, sii2])


def test_model_spectrum_places_lines():
    amps = _truth_amplitudes(10.0, 4.0, 2.0, 1.5)
    spectrum = model_spectrum(BAND, -180.0, 20.0, FWHM, amps, (1.0,))
    peak = BAND[np.argmax(spectrum)]
    assert abs(peak - line_position_cm1(REST_NM["Halpha"], -180.0)) < 2.1


def test_solve_one_component_noiseless():
    amps = _truth_amplitudes(10.0, 4.0, 2.0, 1.5)
    spectrum = model_spectrum(BAND, -180.0, 20.0, FWHM, amps, (1.0, 0.3))
    fit = solve_amplitudes(spectrum[None], BAND, [-180.0], [20.0], FWHM)
    np.testing.assert_allclose(fit.amplitudes[0, 0], amps, rtol=1e-8)
    np.testing.assert_allclose(fit.continuum[0], [1.0, 0.3], atol=1e-8)
    assert fit.chi2[0] < 1e-12
    assert fit.n_params == 6 and fit.n_used[0] == BAND.size


def test_solve_two_components_noiseless_and_nan_channels():
    velocity = np.array([[-200.0, -80.0]])
    broadening = np.array([[15.0, 30.0]])
    amps = np.stack([_truth_amplitudes(10.0, 4.0, 2.0, 1.5), _truth_amplitudes(5.0, 1.0, 1.5, 1.2)])
    spectrum = model_spectrum(BAND, velocity[0], broadening[0], FWHM, amps, (2.0,))
    spectrum[:20] = np.nan  # NaN border channels and a stray NaN are ignored
    spectrum[200] = np.nan
    fit = solve_amplitudes(spectrum[None], BAND, velocity, broadening, FWHM, continuum_degree=0)
    np.testing.assert_allclose(fit.amplitudes[0], amps, rtol=1e-7)
    np.testing.assert_allclose(fit.continuum[0], [2.0], atol=1e-8)
    assert fit.n_used[0] == BAND.size - 21
    assert np.all(np.isfinite(fit.model))


def test_solve_noisy_many_spectra():
    rng = np.random.default_rng(5)
    n = 200
    velocity = rng.uniform(-300, 100, n)
    broadening = rng.uniform(10, 50, n)
    amps = np.array([_truth_amplitudes(10.0, 3.0, 2.0, 1.5)] * n)[:, None, :]
    templates = line_templates(BAND, velocity, broadening, FWHM)
    clean = np.einsum("nclk,ncl->nk", templates, amps) + 1.0
    noise = 0.5
    noisy = clean + rng.normal(0, noise, clean.shape)
    fit = solve_amplitudes(noisy, BAND, velocity, broadening, FWHM)
    halpha = fit.amplitudes[:, 0, 1]
    assert abs(halpha.mean() - 10.0) < 0.1  # unbiased
    assert 0.1 < halpha.std() < 0.6  # of order noise / sqrt(channels in the line)
    # [NII]6548 follows [NII]6583 exactly
    np.testing.assert_allclose(fit.amplitudes[:, 0, 0] * NII_AMPLITUDE_RATIO, fit.amplitudes[:, 0, 2])
    dof = fit.n_used - fit.n_params
    assert np.mean(fit.chi2 / dof) == pytest.approx(noise**2, rel=0.05)


def test_solve_all_nan_spectrum_is_finite():
    spectrum = np.full((1, BAND.size), np.nan)
    fit = solve_amplitudes(spectrum, BAND, [0.0], [20.0], FWHM)
    assert np.all(np.isfinite(fit.amplitudes)) and fit.n_used[0] == 0
