"""The window's systemic velocity (found when a cube opens, editable) and sky subtraction from a region."""

from __future__ import annotations

import numpy as np
import pytest
from inference_models import write_model
from ui_support import make_window, messages, open_and_wait, unexpected_errors  # noqa: F401

from mirabelle.synthetic import write_synthetic_cube


@pytest.fixture()
def receding(tmp_path):
    path = tmp_path / "receding.hdf5"
    write_synthetic_cube(path, 24, 24, resolution=5000.0, systemic_velocity=1500.0, sky=2.0, seed=3,
                         sky_only_box=(2, 9, 2, 9))
    return str(path)


def _run(qtbot, window):
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference(use_cache=False)


def test_systemic_velocity_is_found_then_set_and_sky_subtracted(qtbot, make_window, receding, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, receding)
    window.model_name = str(write_model(tmp_path / "models", kinematics=(0.0, 30.0, 4.0, 5.0)))
    _run(qtbot, window)
    frame = window.menus.frame_actions
    found = window.controller.session.vsys_kms
    assert found == pytest.approx(1500.0, abs=80.0) and "detected" in frame.describe()
    valid = window.maps.valid_mask()
    assert np.nanmedian(window.maps.velocity[valid]) == pytest.approx(found, abs=0.5)  # network frame: 0

    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        frame.set_systemic_velocity(1400.0)
    assert np.nanmedian(window.maps.velocity[window.maps.valid_mask()]) == pytest.approx(1400.0, abs=0.5)
    assert "user" in frame.describe()

    regions = window.viewer.regions
    roi = regions.add_shape("box", centre=(5.0, 5.0), size=6.0)
    regions.select(roi)
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        frame.subtract_sky_from_selection()
    assert frame.no_sky_action.isEnabled() and frame._sky.pixels > 20
    assert frame.sky_curve.getViewBox() is not None
    x, y = frame.sky_curve.getData()
    assert x is not None and np.nanmax(y) > 0  # the sky is drawn on the spectrum plot
    cube = window.controller.session.cube
    raw = frame._original_cube.spectrum(15, 15).values
    assert np.nanstd(cube.spectrum(15, 15).values - raw) > 0  # spectra are seen without the sky
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        frame.stop_sky()
    from mirabelle.inference.sky_region import SkySubtractedCube

    assert not isinstance(window.controller.session.cube, SkySubtractedCube) and frame._sky is None
    assert frame.sky_curve.getViewBox() is None  # the sky left the plot and its legend
