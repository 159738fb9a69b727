"""File ▸ Close puts every panel back as the empty window shows it (issue 11, item 9)."""

from __future__ import annotations

from test_ui_inference import _model_for
from ui_support import cube_path, make_window, messages, open_and_wait, unexpected_errors  # noqa: F401

from mirabelle.ui.status_bar import NO_CUBE_TEXT


def _empty(curve) -> bool:
    x = curve.getData()[0]
    return x is None or len(x) == 0


def test_close_resets_colour_bar_histogram_status_flags_spectrum_and_ratios(qtbot, make_window, cube_path,
                                                                             tmp_path):
    window = make_window()
    view, status, panel, flags = window.image_view, window.status, window.spectrum_panel, window.flag_panel
    empty_window = tuple(view.colorbar.levels()), tuple(view.histogram.getLevels())
    open_and_wait(qtbot, window, cube_path)
    window.flag_layer.flags.paint_disk(10, 10, 3)  # saved on close, restored on the next open
    window.close_document()
    open_and_wait(qtbot, window, cube_path)
    assert flags.save_label.text().startswith("Restored ")
    _model_for(window, tmp_path)
    window.state.overlay_map = "velocity"
    with qtbot.waitSignal(window.inference_finished, timeout=120000):
        window.start_inference(use_cache=False)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000):
        window.state.selected_pixel = (10, 10)
    window.viewer.refresh_maps()
    assert tuple(view.colorbar.levels()) != empty_window[0] and tuple(view.histogram.getLevels()) != empty_window[1]
    assert status.model_label.text() and "v " in status.readout_label.text()
    ratios = window.viewer.ratios
    assert not ratios.in_view() and len(ratios.scatter.data) == 0  # behind another tab: not drawn yet
    window.viewer.ratio_dock.raise_()
    qtbot.waitUntil(lambda: len(ratios.scatter.data) > 0, timeout=5000)
    assert panel.unit_label.text != ""

    window.close_document()

    assert (tuple(view.colorbar.levels()), tuple(view.histogram.getLevels())) == empty_window  # no old levels
    assert _empty(view.histogram.plot)
    assert status.readout_label.text() == NO_CUBE_TEXT and status.model_label.text() == ""
    assert not status.progress_bar.isVisible()
    assert flags.save_label.text() == "" and flags.summary_label.text() == "Open a cube to flag pixels."
    assert not any(button.isEnabled() for button in flags.mode_buttons.values())
    assert window.state.flag_mode == "off"
    assert not window.controls.low_spin.isEnabled() and window.controls.low_spin.text() == "—"
    assert window.state.selected_pixel is None and panel.pixel_data is None
    assert _empty(panel.data_curve) and not any(line.isVisible() for line in panel.line_labels)
    assert panel.unit_label.text == ""  # no cube, no unit
    assert panel.plot.viewRange()[1] == [0.0, 1.0]  # no flux range left from the closed cube
    assert len(window.viewer.ratios.scatter.data) == 0 and not window.viewer.ratios.brush.isVisible()
    assert window.viewer.pv.velocity_map is None and window.viewer.moments.velocity_map is None
    assert not view.overlay_item.isVisible()
    assert window.windowTitle() == "Mirabelle"
