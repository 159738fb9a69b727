"""Loading kinematics models: card checks, prediction, and picking a model for a cube."""

import json

import numpy as np
import pytest
from cube_files import write_orb_cube
from inference_models import make_card, write_model

from mirabelle.cube import open_cube
from mirabelle.errors import ModelError
from mirabelle.inference import model as model_module
from mirabelle.inference.model import available_models, load_model, select_model
from mirabelle.synthetic import write_synthetic_cube


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A models folder holding one R 4000-6000 fixture model, used as the shipped models."""
    folder = tmp_path / "shipped"
    write_model(folder, "test-r5000", card=make_card("test-r5000", resolution_range=(4000, 6000)))
    monkeypatch.setattr(model_module, "models_dir", lambda: folder)
    return folder


def test_load_by_path_checks_card_and_predicts_kinematics(tmp_path):
    path = write_model(tmp_path, kinematics=(12.0, 30.0, 4.0, 5.0))
    model = load_model(path)
    assert model.name == "test-r5000" and model.card["filter"] == "SN3"
    assert model.input_length == 400 and model.axis_cm1[0] == pytest.approx(14600.0)
    out = model.predict(np.zeros((5, 400), np.float32), batch=2)
    assert out.shape == (5, 4)
    np.testing.assert_allclose(out, np.tile([12.0, 30.0, 4.0, 5.0], (5, 1)))


def test_hash_mismatch_is_refused(tmp_path):
    path = write_model(tmp_path)
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["onnx_sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="sha256"):
        load_model(path)


def test_input_length_not_matching_the_card_axis_is_refused(tmp_path):
    path = write_model(tmp_path, onnx_length=300)
    with pytest.raises(ModelError, match="input length .* 400, found 300"):
        load_model(path)


def test_card_differing_from_the_embedded_card_is_refused(tmp_path):
    card = make_card("test-r5000")
    embedded = dict(card, version="9.9")
    path = write_model(tmp_path, card=card, embedded=embedded)
    with pytest.raises(ModelError, match="embedded .*version"):
        load_model(path)


def test_missing_model_names_the_shipped_ones(shipped):
    with pytest.raises(ModelError, match="test-r5000"):
        load_model("no-such-model")
    assert [card["name"] for card in available_models()] == ["test-r5000"]
    assert load_model("test-r5000").name == "test-r5000"


def test_select_model_by_resolution(shipped, tmp_path):
    path = tmp_path / "r5000.hdf5"
    write_synthetic_cube(path, 16, 16, resolution=5000)
    with open_cube(path) as cube:
        assert select_model(cube).name == "test-r5000"


def test_select_model_refuses_a_resolution_outside_every_range(shipped, tmp_path):
    path = tmp_path / "r2000.hdf5"
    write_synthetic_cube(path, 16, 16, resolution=2000)
    with open_cube(path) as cube:
        with pytest.raises(ModelError, match=r"between 4000 and 6000 .*test-r5000 R 4000–6000\), found R = (19|20)\d\d"):
            select_model(cube)


def test_select_model_refuses_other_filters(shipped, tmp_path):
    path = tmp_path / "sn1.hdf5"
    write_orb_cube(path, filter_name="SN1")
    with open_cube(path) as cube:
        with pytest.raises(ModelError, match="SN3 .* 'SN1'"):
            select_model(cube)
