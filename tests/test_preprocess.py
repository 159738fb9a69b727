"""mirabelle.inference.preprocess.prepare: the one preprocessing of training and inference."""

import numpy as np
import pytest

from mirabelle.inference.preprocess import model_axis, prepare
from mirabelle.lines import REST_NM, axis_cm1, line_position_cm1, sinc_fwhm_cm1
from mirabelle.lines.profiles import sincgauss

CARD = {"input": {"axis_cm1": [14751.0, 1.8, 350], "normalisation": "linear-max",
                  "continuum_cm1": [[14751.0, 14797.4], [14948.6, 15129.1], [15332.5, 15379.2]]}}
N_MODEL = 350
STEP, ORDER, NB, ZPD = 2943.025792, 8, 840, 168


def _spectrum(corr, velocity=120.0, continuum=5.0, slope=0.0):
    axis = axis_cm1(STEP, ORDER, NB, corr)
    fwhm = sinc_fwhm_cm1(STEP, NB, ZPD, corr)
    ha = line_position_cm1(REST_NM["Halpha"], velocity)
    s2 = line_position_cm1(REST_NM["SII6731"], velocity)
    values = continuum + slope * (axis - 15000) + sincgauss(axis, ha, fwhm, 0.5, 2.0) \
        + sincgauss(axis, s2, fwhm, 0.5, 0.7)
    return axis, values, ha, s2


def test_line_positions_preserved_on_the_model_axis():
    axis, values, ha, s2 = _spectrum(1.0374712)
    x = prepare(values[None, :], axis, CARD)
    assert x.shape == (1, N_MODEL) and x.dtype == np.float32
    m = model_axis(CARD)
    # the peak lands on the model channel nearest the Hα position, normalised to ~1
    assert abs(m[np.argmax(x[0])] - ha) <= 0.9 + 1e-9
    assert x[0].max() == pytest.approx(1.0)
    # [SII]6731 at 0.35 of Hα above the continuum
    near = np.abs(m - s2) < 1.0
    assert x[0, near].max() == pytest.approx(0.35, abs=0.06)
    # the continuum range is line-free: ~0 after normalisation
    lo, hi = CARD["input"]["continuum_cm1"][1]
    cont = (m >= lo) & (m <= hi)
    assert abs(x[0, cont].mean()) < 0.01
    assert np.abs(x[0, cont]).max() < 0.05


def test_per_pixel_axes_match_common_axis_path():
    corrs = [1.0, 1.02, 1.045]
    rows = [_spectrum(c) for c in corrs]
    axes = np.stack([r[0] for r in rows])
    values = np.stack([r[1] for r in rows])
    x_rows = prepare(values, axes, CARD)
    for i in range(3):
        x_one = prepare(values[i:i + 1], axes[i], CARD)
        np.testing.assert_allclose(x_rows[i], x_one[0], atol=1e-5)
    # the line moves with the pixel's calibration; on the model axis it stays at Hα
    m = model_axis(CARD)
    for i in range(3):
        assert abs(m[np.argmax(x_rows[i])] - rows[i][2]) <= 0.9 + 1e-9


def test_linear_interpolation_exact_for_a_linear_spectrum():
    axis = axis_cm1(STEP, ORDER, NB, 1.03)
    values = 0.01 * (axis - 14000.0)
    m = model_axis(CARD)
    from mirabelle.inference.preprocess import resample
    y = resample(values[None, :], axis, m)
    np.testing.assert_allclose(y[0], 0.01 * (m - 14000.0), rtol=1e-5)
    # descending axis gives the same
    y2 = resample(values[None, ::-1], axis[::-1], m)
    np.testing.assert_allclose(y2, y, rtol=1e-6)


def test_nan_channels_and_all_nan_rows():
    axis, values, ha, _ = _spectrum(1.03)
    clean = prepare(values[None, :], axis, CARD)
    holed = values.copy()
    m = model_axis(CARD)
    holed[(axis > m[0] - 5) & (axis < m[0] + 20)] = np.nan  # band edge
    holed[(axis > 15000) & (axis < 15004)] = np.nan  # inside a continuum range
    both = prepare(np.stack([holed, np.full_like(values, np.nan), values]), axis, CARD)
    assert np.isfinite(both).all()
    assert np.all(both[1] == 0.0)
    np.testing.assert_allclose(both[2], clean[0], atol=1e-6)
    # NaN channels take the continuum value (0 after normalisation); lines are untouched
    assert np.all(np.abs(both[0, m < m[0] + 19]) < 0.03)
    assert m[np.argmax(both[0])] == m[np.argmax(clean[0])]
    assert both[0].max() == pytest.approx(1.0)


def test_normalisation_removes_continuum_level_slope_and_scale():
    axis, values, _, _ = _spectrum(1.03, continuum=0.0)
    a = prepare(values[None, :], axis, CARD)
    b = prepare((7.0 * values + 300.0 + 0.2 * (axis - 15000.0))[None, :], axis, CARD)
    np.testing.assert_allclose(a, b, atol=5e-5)
    # the straight continuum is gone: the continuum ranges are ~0 in both
    m = model_axis(CARD)
    for lo, hi in CARD["input"]["continuum_cm1"]:
        sel = (m >= lo) & (m <= hi)
        assert np.abs(b[0, sel]).max() < 0.05


def test_outside_axis_is_continuum_and_deterministic():
    axis, values, _, _ = _spectrum(1.03)
    keep = axis > 14900  # the cube does not reach the model axis start
    x1 = prepare(values[None, keep], axis[keep], CARD)
    x2 = prepare(values[None, keep], axis[keep], CARD)
    assert np.array_equal(x1, x2)
    m = model_axis(CARD)
    assert np.all(np.abs(x1[0, m < axis[keep][0]]) < 0.03)
    rng = np.random.default_rng(3)
    noisy = values[None, :] + rng.normal(0, 0.1, (50, values.size))
    assert np.array_equal(prepare(noisy, axis, CARD), prepare(noisy.copy(), axis, CARD))


def test_bad_normalisation_name():
    card = {"input": dict(CARD["input"], normalisation="minmax")}
    axis, values, _, _ = _spectrum(1.03)
    with pytest.raises(ValueError):
        prepare(values[None, :], axis, card)


def test_median_max_variant():
    card = {"input": {"axis_cm1": [14751.0, 1.8, 350], "normalisation": "median-max"}}
    axis, values, _, _ = _spectrum(1.03, continuum=4.0)
    x = prepare(values[None, :], axis, card)
    assert np.median(x) == pytest.approx(0.0, abs=1e-6)
    assert x.max() == pytest.approx(1.0)
