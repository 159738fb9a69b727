"""The whole window workflow: open, infer, click (panel items), flag, reopen, export priors, launch."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer

from test_ui_inference import _model_for
from ui_support import cube_path, make_window, messages, open_and_wait, tiny_cube_path, unexpected_errors  # noqa: F401


def _infer(qtbot, window, tmp_path) -> None:
    _model_for(window, tmp_path)
    with qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
    assert blocker.args == [True]


def test_click_shows_spectrum_model_and_saliency_in_the_panel(qtbot, make_window, cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _infer(qtbot, window, tmp_path)
    x, y = np.argwhere(window.maps.valid_mask())[len(np.argwhere(window.maps.valid_mask())) // 2]
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000):
        window.state.selected_pixel = (int(x), int(y))
    panel = window.spectrum_panel
    data_x, data_y = panel.data_curve.getData()
    model_x, model_y = panel.model_curve.getData()
    assert data_x is not None and data_x.size == window.cube.nz
    assert model_x is not None and model_x.size > 0 and np.isfinite(model_y).any()
    saliency_points = panel.saliency_scatter.data
    assert len(saliency_points) > 0  # the strongest saliency points are drawn (weight ≥ 0.25)
    assert panel.pixel_data.x == x and panel.pixel_data.y == y


def test_flags_painted_are_restored_on_reopen(qtbot, make_window, cube_path, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    layer = window.flag_layer
    window.state.flag_mode = "brush"
    window.state.brush_radius = 3
    layer.paint_path([(10.5, 10.5), (20.5, 12.5)])
    flagged = layer.flags.data.copy()
    assert flagged.sum() > 10
    window.state.flag_mode = "off"
    open_and_wait(qtbot, window, tiny_cube_path)  # flags of the first cube are saved first
    assert layer.flags.data.sum() == 0 or layer.flags.data.shape != flagged.shape
    open_and_wait(qtbot, window, cube_path)
    np.testing.assert_array_equal(layer.flags.data, flagged)
    layer.undo()  # undo history is per session: nothing to undo after a reopen, nothing breaks


def test_export_priors_from_the_window_reads_back_with_astropy(qtbot, make_window, cube_path, tmp_path):
    from astropy.io import fits

    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _infer(qtbot, window, tmp_path)
    window.state.flag_mode = "brush"
    window.flag_layer.paint_path([(15.5, 15.5)])
    window.state.flag_mode = "off"
    dialog = window.export_priors()
    assert dialog is not None
    out = tmp_path / "priors"
    dialog.folder_edit.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=60000):
        assert dialog.export()
    fits_files = sorted(out.glob("*.fits"))
    assert fits_files
    velocity_file = next(p for p in fits_files if "velocity" in p.name.lower())
    with fits.open(velocity_file) as hdul:
        data = hdul[0].data
        assert data.shape == (window.cube.ny, window.cube.nx)  # FITS [y, x]
        valid = window.maps.valid_mask()
        np.testing.assert_allclose(data.T[valid], window.maps.velocity[valid], rtol=1e-5)
    dialog.close()


def test_export_without_maps_says_what_to_do(qtbot, make_window, messages, cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    assert window.export_priors() is None
    assert "inference" in messages[-1][1]


def test_about_lists_the_model_card_and_help_lists_shortcuts(qtbot, make_window, cube_path, tmp_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    _infer(qtbot, window, tmp_path)
    text = window.menus.about_text()
    assert window.model.card["name"] in text and "sha256" in text
    window.menus.show_shortcuts()  # opens a non-modal box, does not block


def test_launch_opens_command_line_file(qapp, cube_path, tmp_path, monkeypatch):
    from mirabelle.commands import gui
    from mirabelle.ui import app as ui_app
    from mirabelle.ui import settings

    settings.use_file(tmp_path / "settings.ini")
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    seen = []

    def check_and_close():
        window = ui_app._windows[-1]
        if window.cube is None:  # the cube opens after the window's first paint
            QTimer.singleShot(20, check_and_close)
            return
        seen.append((window.state.cube_path, window.image_view.deep_image is not None))
        window.close()

    QTimer.singleShot(0, check_and_close)
    try:
        assert gui.launch([cube_path], run_inference=False) == 0
    finally:
        settings.use_file(None)
    assert seen and seen[0][0].endswith(cube_path.split("/")[-1]) and seen[0][1]


def test_export_view_and_spectrum_images(qtbot, make_window, cube_path, tmp_path):
    from PySide6.QtGui import QImage

    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000):
        window.state.selected_pixel = (20, 20)
    png, svg = tmp_path / "view.png", tmp_path / "view.svg"
    window.export_item_image(window.image_view.ci, str(png))
    window.export_item_image(window.image_view.ci, str(svg))
    assert not QImage(str(png)).isNull() and QImage(str(png)).width() > 100
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    window.spectrum_panel.export_image(tmp_path / "spectrum.png")
    assert (tmp_path / "spectrum.png").stat().st_size > 1000
