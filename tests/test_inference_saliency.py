"""Saliency of one spectrum: one perturbed copy per input channel, weights 0..1 on the spectrum axis."""

import numpy as np
import pytest
from inference_models import SN3_AXIS, write_model

from mirabelle.inference.model import load_model
from mirabelle.inference.saliency import saliency

START, STEP, LENGTH = SN3_AXIS


@pytest.fixture
def sensitive_model(tmp_path):
    """Velocity depends on model channels 200-202, broadening (weakly) on channel 100."""
    weights = np.zeros((LENGTH, 4), np.float32)
    weights[200:203, 0] = [10.0, 40.0, 10.0]
    weights[100, 1] = 2.0
    return load_model(write_model(tmp_path, weights=weights, kinematics=(0, 20, 4, 5)), threads=1)


def _spectrum():
    axis = np.linspace(14500.0, 15500.0, 480)
    values = 1.0 + np.exp(-0.5 * ((axis - 15030.0) / 2.0) ** 2)
    return axis, values


def test_weights_peak_on_the_channels_the_outputs_depend_on(sensitive_model):
    axis, values = _spectrum()
    points, weights = saliency(sensitive_model, axis, values)
    assert points.shape == weights.shape == (LENGTH,)
    np.testing.assert_allclose(points, START + STEP * np.arange(LENGTH))
    assert weights.max() == pytest.approx(1.0) and weights.min() >= 0.0
    assert points[np.argmax(weights)] == pytest.approx(START + STEP * 201)
    assert weights[200] == pytest.approx(0.25, abs=0.01)
    # broadening: 2 per unit over its own 1-sigma of 5 vs velocity 40 over 4
    assert weights[100] == pytest.approx((2.0 / 5.0) / (40.0 / 4.0), rel=0.02)
    assert np.count_nonzero(weights) == 4


def test_only_points_on_the_spectrum_axis_are_returned(sensitive_model):
    axis, values = _spectrum()
    inside = axis < 15000.0
    points, weights = saliency(sensitive_model, axis[inside], values[inside])
    assert points.max() <= axis[inside].max() and points.size == weights.size < LENGTH


def test_a_model_that_ignores_its_input_gives_zero_weights(tmp_path):
    model = load_model(write_model(tmp_path), threads=1)
    axis, values = _spectrum()
    _, weights = saliency(model, axis, values)
    assert not weights.any()


def test_points_follow_the_systemic_velocity_the_network_saw(sensitive_model):
    """A galaxy at +3000 km/s: the input channel the velocity hangs on is drawn where the
    spectrum was read for it (observed, redshifted), and the weights are those of the spectrum
    shifted into the systemic frame, as the maps' network saw it."""
    from mirabelle.lines import doppler_factor

    vsys = 3000.0
    factor = float(doppler_factor(vsys))
    axis, values = _spectrum()
    observed_axis = axis * factor  # the same spectrum, every line moved by vsys
    rest_points, rest_weights = saliency(sensitive_model, axis, values)
    points, weights = saliency(sensitive_model, observed_axis, values, vsys_kms=vsys)
    assert points[np.argmax(weights)] == pytest.approx((START + STEP * 201) * factor)
    np.testing.assert_allclose(points, rest_points * factor)
    np.testing.assert_allclose(weights, rest_weights, atol=1e-4)
