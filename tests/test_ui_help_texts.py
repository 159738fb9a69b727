"""The About box shows the model card as a table of readable values, not raw dict text."""

import json

import pytest

from mirabelle.package_data import models_dir
from mirabelle.ui.help_texts import about_html, format_number, format_range, model_card_rows


@pytest.mark.parametrize("value, text", [(200000, "200,000"), (5000.0, "5,000"), (2.536567, "2.54"),
                                         (0.0251066, "0.0251"), (-0.0714, "−0.0714"), (0, "0"),
                                         (None, "—"), ("x", "—"), (True, "—")])
def test_numbers_read_as_numbers(value, text):
    assert format_number(value) == text


def test_ranges_read_as_ranges():
    assert format_range([4400.0, 5400.0]) == "4,400 – 5,400"
    assert format_range([-800.0, 800.0], "km/s", signed=True) == "−800 … +800 km/s"
    assert format_range([0.0, 50.0], "km/s") == "0 – 50 km/s"
    assert format_range(None, "km/s") == "—" and format_range([1.0], "km/s") == "—"


def test_the_shipped_card_reads_as_a_table():
    card = json.loads(models_dir().joinpath("sn3-r5000.json").read_text())
    rows = dict(model_card_rows(card))
    assert rows["Model"] == "sn3-r5000, version 1.0.0"
    assert rows["Resolving power"] == "3,700 – 6,000"
    assert rows["Velocity range"] == "−800 … +800 km/s"
    assert rows["Training set"] == "300,000 synthetic spectra, 24 epochs, seed 0"
    assert rows["Test set"] == "5,000 held-out spectra, seed 90001"
    assert rows["Velocity error"] == "RMSE 2.66 km/s, bias +0.00 km/s, 69 % within 1σ"
    assert rows["ONNX sha256"] == card["onnx_sha256"][:16] + "…"
    html = about_html(card)
    assert "<table>" in html and "<td><b>Broadening range</b></td>" in html
    assert "[" not in html and "e+0" not in html and "{" not in html


def test_a_sparse_card_still_opens():
    rows = dict(model_card_rows({"name": "bare"}))
    assert rows["Model"] == "bare, version ?" and rows["Velocity range"] == "—"
    assert "Training set" not in rows and "Velocity error" not in rows
