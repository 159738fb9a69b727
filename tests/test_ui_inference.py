"""Inference in the window: maps fill in, the overlay shows them, cancel stops, clicks get the model."""

from __future__ import annotations

import numpy as np

from inference_models import write_model
from ui_support import cube_path, make_window, messages, open_and_wait, tiny_cube_path, unexpected_errors  # noqa: F401


def _model_for(window, tmp_path) -> None:
    """Use the shipped model when one fits the cube, else a tiny fixture model."""
    from mirabelle.errors import ModelError
    from mirabelle.inference.model import select_model

    try:
        select_model(window.cube)
        window.model_name = None
    except ModelError:
        window.model_name = str(write_model(tmp_path / "models", "test-r5000", kinematics=(60.0, 25.0, 4.0, 5.0)))


def test_inference_fills_maps_and_overlay(qtbot, make_window, cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _model_for(window, tmp_path)
    window.state.overlay_map = "velocity"
    with qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
    assert blocker.args == [True]
    assert not window.inference_running
    assert window.maps is not None and bool(np.all(window.maps.done))
    overlay = window.image_view.overlay_item
    assert overlay.isVisible() and overlay.image.shape == (window.cube.nx, window.cube.ny)
    assert np.isfinite(overlay.image).mean() > 0.5  # synthetic cubes have NaN borders
    assert np.array_equal(np.isfinite(overlay.image), window.maps.valid_mask())  # measured pixels only
    assert window.image_view.colorbar.isVisible()
    text = window.readout_text(3, 4)
    assert "v " in text and "km/s" in text
    # V toggles the overlay
    window.menus.toggle_overlay_action.trigger()
    assert not window.state.overlay_visible and not overlay.isVisible()
    window.menus.toggle_overlay_action.trigger()
    assert overlay.isVisible()
    # another map with its own colormap and limits
    window.state.overlay_map = "broadening"
    window.state.set_overlay_limits("broadening", (0.0, 80.0))
    assert tuple(overlay.getLevels()) == (0.0, 80.0)
    assert tuple(window.image_view.colorbar.levels()) == (0.0, 80.0)


def test_click_after_inference_gives_model_and_saliency(qtbot, make_window, tiny_cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    _model_for(window, tmp_path)
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference(use_cache=False)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000) as blocker:
        window.state.selected_pixel = (10, 10)
    data = blocker.args[0]
    assert data.kinematics is not None and np.isfinite(data.kinematics["velocity_kms"])
    assert data.model is not None and data.model.shape == data.values.shape
    # the fitted model follows the spectrum: residual much smaller than the line
    assert np.nanstd(data.values - data.model) < 0.2 * np.nanmax(data.values)
    assert data.saliency_axis_cm1 is not None and data.saliency_weights is not None
    assert data.saliency_axis_cm1.shape == data.saliency_weights.shape
    assert 0.0 <= data.saliency_weights.min() and data.saliency_weights.max() <= 1.0
    assert data.fluxes is not None and data.fluxes.shape == (5,)


def test_a_finished_run_asks_the_selected_pixel_again_only_when_the_maps_differ(qtbot, make_window,
                                                                              tiny_cube_path, tmp_path):
    from mirabelle.inference.maps import OUTLIER

    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    _model_for(window, tmp_path)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=30000):
        window.state.selected_pixel = (10, 10)  # no maps yet: the network runs on this pixel
    shown = []
    window.pixel_data_shown.connect(shown.append)
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference(use_cache=False)
    qtbot.wait(300)
    assert shown == []  # the maps hold what is drawn: no second computation and redraw
    window.maps.quality[10, 10] |= OUTLIER  # as if its neighbours had judged it
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000) as asked:
        window.controller.run_finished.emit(True)
    assert asked.args[0].quality & OUTLIER and not asked.args[0].valid


def test_reopen_uses_cached_maps(qtbot, make_window, cube_path, tmp_path, monkeypatch):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _model_for(window, tmp_path)
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference()
    first = window.maps.velocity.copy()
    open_and_wait(qtbot, window, cube_path)  # reopen: the cache must answer, not the network

    def refuse(*args, **kwargs):
        raise AssertionError("run_cube called although the maps are cached")

    monkeypatch.setattr("mirabelle.inference.runner.run_cube", refuse)
    with qtbot.waitSignal(window.inference_finished, timeout=20000) as blocker:
        window.start_inference()
    assert blocker.args == [True]
    np.testing.assert_array_equal(window.maps.velocity, first)


def test_cancel_stops_inference(qtbot, make_window, cube_path, tmp_path, monkeypatch):
    import threading

    from mirabelle.session import session as session_module

    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _model_for(window, tmp_path)
    gate = threading.Event()  # hold the worker until Cancel was pressed: no race with a fast run
    real_load = session_module.choose_model

    def gated_load(*args, **kwargs):
        gate.wait(10)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(session_module, "choose_model", gated_load)
    with qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
        assert window.status.cancel_button.isVisible()
        window.status.cancel_button.click()
        gate.set()
    assert blocker.args == [False]
    assert window.maps is None or int(window.maps.done.sum()) < window.cube.nx * window.cube.ny
    assert not window.inference_running
    assert not window.status.progress_bar.isVisible()
    # the window stays usable: run again to completion
    with qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
    assert blocker.args == [True]


def test_model_error_is_a_message_not_a_crash(qtbot, make_window, messages, cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    window.model_name = str(tmp_path / "missing-model.onnx")
    with qtbot.waitSignal(window.inference_finished, timeout=30000) as blocker:
        window.start_inference(explicit=True)
    assert blocker.args == [False]
    assert messages and "missing-model" in messages[-1][1]


def test_unexpected_worker_error_goes_to_the_hook(qtbot, make_window, cube_path, monkeypatch, unexpected_errors):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)

    def broken(*args, **kwargs):
        raise RuntimeError("worker exploded")
        yield  # pragma: no cover

    monkeypatch.setattr("mirabelle.session.session.Session.run", broken)
    window.model_name = None
    with qtbot.waitSignal(window.inference_finished, timeout=30000) as blocker:
        window.start_inference()
    assert blocker.args == [False]
    qtbot.waitUntil(lambda: len(unexpected_errors) == 1, timeout=5000)
    assert str(unexpected_errors.pop()) == "worker exploded"  # handled: the fixture sees none left
    assert not window.inference_running and not window.status.progress_bar.isVisible()


def test_double_score_hint_layer(qtbot, make_window, cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _model_for(window, tmp_path)
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference(use_cache=False)
    window.state.flag_hint_threshold = 0.0
    window.menus.hint_action.trigger()  # H
    assert window.state.flag_hint_visible
    hint = window.image_view.hint_item
    assert hint.isVisible() and window.image_view.hint_shadow.isVisible()
    scored = np.argwhere(window.maps.double_score >= 0.0)  # outlined: the scored pixels' extent
    bounds = hint.path().boundingRect()
    assert (bounds.left(), bounds.top()) == tuple(float(v) for v in scored.min(axis=0))
    assert (bounds.right(), bounds.bottom()) == tuple(float(v) + 1 for v in scored.max(axis=0))
    window.menus.hint_action.trigger()
    assert not hint.isVisible()


def test_reopening_during_inference_ignores_the_old_run(qtbot, make_window, cube_path, tiny_cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _model_for(window, tmp_path)
    window.start_inference(use_cache=False)
    open_and_wait(qtbot, window, tiny_cube_path)  # stops the first run, maybe with signals queued
    assert window.maps is None and not window.inference_running
    with qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
    assert blocker.args == [True]
    assert window.maps.velocity.shape == (24, 20)
