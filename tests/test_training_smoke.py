"""CI smoke test of the training pipeline: a few hundred spectra, one epoch, export, reload,
predict, card fields and hash (never the full training)."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from optional_deps import require

require("torch", "train")  # the [train] extra: CI installs it, a user's light test run skips
onnx = require("onnx", "train")

from mirabelle.cli import main  # noqa: E402 - after the skip: mirabelle.training needs torch
from mirabelle.inference.network import network_input  # noqa: E402
from mirabelle.training.data import PRESETS, generate  # noqa: E402
from mirabelle.training.train import train  # noqa: E402


@pytest.mark.parametrize("fwhm_input", [False, True], ids=["spectrum", "spectrum+fwhm"])
def test_smoke_training_exports_a_usable_model(tmp_path, monkeypatch, fwhm_input):
    import onnxruntime as ort

    monkeypatch.setitem(PRESETS, "smoke", dataclasses.replace(PRESETS["smoke"], fwhm_input=fwhm_input))
    lines = []
    card = train("smoke", tmp_path, size=300, epochs=1, seed=5, threads=1, log=lines.append, test_size=100)
    onnx_path = tmp_path / "smoke.onnx"
    json_path = tmp_path / "smoke.json"
    assert onnx_path.exists() and json_path.exists()
    assert any("epoch 1/1" in line for line in lines)

    saved = json.loads(json_path.read_text())
    assert saved == json.loads(json.dumps(card))
    for key in ("name", "version", "filter", "resolution_range", "input", "ranges", "training", "test",
                "onnx_sha256"):
        assert key in saved, key
    assert saved["filter"] == "SN3"
    assert saved["training"]["size"] == 300 and saved["training"]["seed"] == 5
    assert saved["training"]["epochs"] == 1 and saved["training"]["preset"] == "smoke"
    assert saved["test"]["size"] == 100 and saved["test"]["seed"] == PRESETS["smoke"].test_seed
    assert set(saved["ranges"]) >= {"velocity_kms", "broadening_kms", "snr"}
    start, step, length = saved["input"]["axis_cm1"]
    assert step > 0 and length > 50
    assert saved["onnx_sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()

    # the card (minus the hash) is embedded in the ONNX metadata
    model = onnx.load(str(onnx_path))
    meta = {p.key: p.value for p in model.metadata_props}
    embedded = json.loads(meta["mirabelle_card"])
    assert "onnx_sha256" not in embedded
    assert embedded == {k: v for k, v in saved.items() if k != "onnx_sha256"}

    # reload and predict on freshly generated, prepared spectra: the contract's I/O
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.name == "spectrum" and out.name == "kinematics"
    te = generate(64, PRESETS["smoke"], 123, test=True, vrange=200.0, keep_native=True)
    values, axes, fwhm, vsys, sky = te["native"][0]
    x = network_input(saved, values, axes, vsys, sky, fwhm_cm1=fwhm)
    assert x.shape == (64, length + fwhm_input) and x.dtype == np.float32
    assert inp.shape[-1] == length + fwhm_input and bool(saved["input"].get("fwhm_input")) == fwhm_input
    np.testing.assert_array_equal(x, te["x"])  # training data went through the same preparation
    if fwhm_input:  # the last column: the sinc FWHM in model channels
        np.testing.assert_allclose(x[:, -1], fwhm / step, rtol=1e-5)  # (vsys 0: no frame change)
    y = sess.run(None, {"spectrum": x})[0]
    assert y.shape == (64, 4) and y.dtype == np.float32
    assert np.isfinite(y).all()
    assert (y[:, 2] > 0).all() and (y[:, 3] > 0).all()
    # onnxruntime equals torch (checked at export too)
    assert saved["test"]["v200"]["onnx_vs_torch_max_abs"] < 1e-3


def test_train_command_writes_the_smoke_model_and_prints_its_metrics(tmp_path, capsys):
    assert main(["train", "--preset", "smoke", "--size", "200", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "smoke.onnx").exists() and (tmp_path / "smoke.json").exists()
    assert "velocity RMSE" in capsys.readouterr().out


def test_train_command_refuses_a_tiny_training_set(tmp_path, capsys):
    assert main(["train", "--preset", "smoke", "--size", "10", "--out", str(tmp_path)]) == 2
    assert "--size must be at least 50" in capsys.readouterr().err
