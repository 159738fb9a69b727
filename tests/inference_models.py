"""Tiny ONNX kinematics models with cards, built with onnx.helper for the inference tests.

The graph is ``kinematics = spectrum @ weights + bias`` (float32): with zero weights it
returns fixed kinematics, with a few non-zero weights its saliency is known.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from optional_deps import require

onnx = require("onnx", "test")  # builds the models; a module importing this one skips without it
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SN3_AXIS = (14600.0, 2.1, 400)
"""start, step (cm⁻¹), length of the fixture models' input axis (covers the SN3 band)."""


def make_card(name: str, axis=SN3_AXIS, resolution_range=(4000.0, 6000.0), filter_name="SN3") -> dict:
    return {
        "name": name,
        "version": "0.0-test",
        "filter": filter_name,
        "resolution_range": list(resolution_range),
        "input": {"axis_cm1": list(axis), "normalisation": "median-max"},
        "ranges": {"velocity_kms": [-800.0, 800.0], "broadening_kms": [0.0, 60.0], "snr": [5.0, 100.0]},
        "training": {"size": 0, "seed": 0, "epochs": 0, "preset": "test"},
        "test": {"size": 0, "seed": 1, "metrics": {}},
    }


def write_model(folder: Path, name: str = "test-r5000", *, kinematics=(50.0, 20.0, 4.0, 5.0), weights=None,
                card: dict | None = None, embedded: dict | None = None, onnx_length: int | None = None) -> Path:
    """Write ``folder/name.onnx`` and ``folder/name.json``; return the ONNX path.

    ``weights`` (L, 4) multiplies the input; ``embedded`` overrides the card stored in the
    ONNX metadata; ``onnx_length`` overrides the graph's input length.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    card = dict(card or make_card(name))
    length = int(onnx_length or card["input"]["axis_cm1"][2])
    w = np.zeros((length, 4), np.float32) if weights is None else np.asarray(weights, np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["spectrum", "weights"], ["product"]),
         helper.make_node("Add", ["product", "bias"], ["kinematics"])],
        "fixture",
        [helper.make_tensor_value_info("spectrum", TensorProto.FLOAT, ["batch", length])],
        [helper.make_tensor_value_info("kinematics", TensorProto.FLOAT, ["batch", 4])],
        initializer=[numpy_helper.from_array(w, "weights"),
                     numpy_helper.from_array(np.asarray(kinematics, np.float32), "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    stored = embedded if embedded is not None else card
    helper.set_model_props(model, {"mirabelle_card": json.dumps(stored)})
    data = model.SerializeToString()
    onnx_path = folder / f"{name}.onnx"
    onnx_path.write_bytes(data)
    card["onnx_sha256"] = hashlib.sha256(data).hexdigest()
    (folder / f"{name}.json").write_text(json.dumps(card, indent=1))
    onnx.checker.check_model(model)
    return onnx_path
