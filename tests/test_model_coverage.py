"""The shipped models serve every SN3 resolving power from R 1000 to 10000 and refuse others."""

import numpy as np
import pytest

from mirabelle.errors import ModelError
from mirabelle.inference.model import available_models, card_for_resolution, load_model


def _cards():
    return [card for card in available_models() if card.get("filter") == "SN3"]


@pytest.mark.parametrize("resolution", np.arange(1000.0, 10001.0, 250.0))
def test_every_resolution_has_a_model_holding_it(resolution):
    card = card_for_resolution(resolution, _cards())
    low, high = card["resolution_range"]
    assert low <= resolution <= high


def test_each_model_loads_and_its_card_is_checked():
    names = {card["name"] for card in _cards()}
    assert {"sn3-r1000", "sn3-r2000", "sn3-r3000", "sn3-r5000", "sn3-r7000", "sn3-r9600"} <= names
    for name in sorted(names):
        model = load_model(name, threads=1)
        assert model.card["input"]["normalisation"] == "baseline-max" and model.card["input"]["sky"] == "fit"
        out = model.predict(np.zeros((3, model.input_length + model.reads_fwhm), np.float32))
        assert out.shape == (3, 4) and np.isfinite(out).all()


@pytest.mark.parametrize("resolution", [500.0, 12000.0])
def test_resolutions_outside_every_range_are_refused_with_one_sentence(resolution):
    with pytest.raises(ModelError, match=rf"cube.fits: expected a resolving power at Hα between \d+ and \d+ "
                                         rf"\(the models' ranges: .*\), found R = {resolution:.0f}\."):
        card_for_resolution(resolution, _cards(), "cube.fits")
