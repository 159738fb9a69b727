"""The shipped models and resources are found the way a wheel finds them."""

import hashlib
import json
import os

import mirabelle
from mirabelle.package_data import models_dir, resource


def test_every_shipped_model_has_a_card_whose_hash_matches():
    cards = [p for p in models_dir().iterdir() if p.name.endswith(".json")]
    names = {json.loads(p.read_text())["name"] for p in cards}
    assert {"sn3-r5000", "sn3-r2000"} <= names
    for card_file in cards:
        card = json.loads(card_file.read_text())
        onnx = models_dir().joinpath(card_file.name[: -len(".json")] + ".onnx")
        assert hashlib.sha256(onnx.read_bytes()).hexdigest() == card["onnx_sha256"], card_file.name


def test_app_icon_is_shipped():
    assert resource("mirabelle.svg").read_text().lstrip().startswith("<")


def test_ci_runs_against_the_installed_wheel_not_the_source_tree():
    # .ci/run installs with `pip install .` (not editable): the package must come from site-packages.
    if os.environ.get("CI"):
        assert "site-packages" in mirabelle.__file__, mirabelle.__file__
