"""Models that read the instrumental FWHM: one input column after the spectrum, the sinc FWHM in
model channels of the network frame, filled wherever the network runs (maps, clicks, saliency)."""

import numpy as np
import pytest
from inference_models import SN3_AXIS, make_card, write_model

from mirabelle.errors import ModelError
from mirabelle.inference.model import load_model
from mirabelle.inference.network import network_input, predict_kinematics
from mirabelle.inference.saliency import saliency
from mirabelle.lines import doppler_factor

START, STEP, LENGTH = SN3_AXIS
AXIS = START + STEP * np.arange(LENGTH)


def _fwhm_model(tmp_path, onnx_length=LENGTH + 1):
    """velocity = 10 + 100 × (the FWHM column); nothing else is read."""
    card = make_card("test-r5000")
    card["input"]["fwhm_input"] = "sinc FWHM in model channels (network frame), one column after the spectrum"
    weights = np.zeros((onnx_length, 4), np.float32)
    weights[-1, 0] = 100.0
    return write_model(tmp_path, card=card, weights=weights, kinematics=(10.0, 20.0, 4.0, 5.0),
                       onnx_length=onnx_length)


def test_the_network_reads_the_fwhm_in_model_channels_of_its_frame(tmp_path):
    model = load_model(_fwhm_model(tmp_path))
    assert model.reads_fwhm and model.input_length == LENGTH
    values = np.ones((3, LENGTH), np.float32)
    fwhm = np.array([2.1, 4.2, 3.15])
    out = predict_kinematics(model, values, AXIS, 0.0, fwhm)
    np.testing.assert_allclose(out[:, 0], 10.0 + 100.0 * fwhm / STEP, rtol=1e-5)
    x = network_input(model.card, values, AXIS, 3000.0, fwhm_cm1=3.15)  # seen from +3000 km/s
    assert x.shape == (3, LENGTH + 1)
    np.testing.assert_allclose(x[:, -1], 3.15 / doppler_factor(3000.0) / STEP, rtol=1e-6)
    with pytest.raises(ValueError, match="reads the instrumental FWHM"):
        predict_kinematics(model, values, AXIS, 0.0, None)


def test_saliency_perturbs_the_spectrum_not_the_fwhm(tmp_path):
    model = load_model(_fwhm_model(tmp_path))
    points, weights = saliency(model, AXIS, np.ones(LENGTH), 0.0, 2.1)
    assert points.size == LENGTH and not weights.any()  # only the FWHM moves this model's output


def test_a_model_without_its_fwhm_column_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"card axis length 400 \+ 1 \(the FWHM column\), found 400"):
        load_model(_fwhm_model(tmp_path, onnx_length=LENGTH))
