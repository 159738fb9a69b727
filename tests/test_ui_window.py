"""The main window on a small synthetic cube: open, see, read out, stretch, infer, click, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from mirabelle.ui import errors as ui_errors
from mirabelle.ui import settings
from mirabelle.ui.main_window import MainWindow
from mirabelle.ui.window_layout import STATE_VERSION
from ui_support import (  # noqa: F401  (fixtures)
    cube_path, make_window, messages, open_and_wait, tiny_cube_path, unexpected_errors, write_tiny_cube,
)


# ---------------------------------------------------------------------------------------
def test_open_shows_deep_image_and_title(qtbot, make_window, cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    assert window.image_view.deep_image is not None
    assert window.image_view.image_item.image.shape == (window.cube.nx, window.cube.ny)
    assert window.state.cube_path is not None
    assert window.state.limits is not None
    assert "Mirabelle" in window.windowTitle()
    assert settings.recent_files()[0].endswith(cube_path.split("/")[-1])


def test_deep_image_computed_in_worker_when_not_stored(qtbot, make_window, tmp_path):
    path = write_tiny_cube(tmp_path / "nodeep.hdf5", with_deep=False)
    window = make_window()
    open_and_wait(qtbot, window, path)
    deep = window.image_view.deep_image
    assert deep.shape == (24, 20) and np.isfinite(deep).all()


def test_readout_of_known_pixel(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    text = window.readout_text(5, 7)
    assert text.startswith("x 5  y 7 (0-based; DS9 6, 8)")  # the convention said, DS9's pixel beside it
    assert "RA " in text and "Dec +41:" in text
    # the bright pixel is the image maximum: the deep value shown is that maximum
    deep = window.image_view.deep_image
    assert np.unravel_index(np.argmax(deep), deep.shape) == (5, 7)
    assert f"deep {deep[5, 7]:.4g}" in text


def test_bright_pixel_displayed_at_its_xy(qtbot, make_window, tiny_cube_path):
    """The bright pixel [5, 7] maps to view coordinates x 5..6, y 7..8 (y up, no transpose)."""
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view = window.image_view
    scene = view.view_box.mapViewToScene(QPointF(5.5, 7.5))
    assert view.pixel_at_scene(scene) == (5, 7)
    rect = view.image_item.mapRectToView(view.image_item.boundingRect())
    assert (rect.width(), rect.height()) == (24, 20)


def test_stretch_and_limits_change_levels(qtbot, make_window, cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    item = window.image_view.image_item
    window.state.limits_mode = "minmax"
    deep = window.image_view.deep_image
    assert item.getLevels()[0] == pytest.approx(float(np.nanmin(deep)))
    assert item.getLevels()[1] == pytest.approx(float(np.nanmax(deep)))
    window.state.limits_mode = "99.5"
    assert item.getLevels()[1] < float(np.nanmax(deep))
    lut_linear = np.array(item.lut if not callable(item.lut) else item.lut(item.image))
    window.state.stretch = "log"
    lut_log = np.array(item.lut if not callable(item.lut) else item.lut(item.image))
    assert lut_log[len(lut_log) // 8, 0] > lut_linear[len(lut_linear) // 8, 0]  # log brightens faint values
    window.state.limits = (1.0, 2.0)
    assert tuple(item.getLevels()) == (1.0, 2.0)
    assert window.controls.low_spin.value() == 1.0
    # histogram edits write the state (manual mode)
    window.image_view.histogram.setLevels(3.0, 4.0)
    assert window.state.limits == (3.0, 4.0) and window.state.limits_mode == "manual"


def test_controls_mirror_state_both_ways(qtbot, make_window):
    window = make_window()
    window.state.stretch = "asinh"
    assert window.controls.stretch_combo.currentData() == "asinh"
    window.controls.colormap_combo.setCurrentIndex(window.controls.colormap_combo.findData("magma"))
    assert window.state.colormap == "magma"
    window.state.overlay_map = "broadening"
    assert window.controls.map_combo.currentData() == "broadening"
    assert window.menus.overlay_actions["broadening"].isChecked()


def test_bad_file_shows_message_and_window_stays_usable(qtbot, make_window, messages, tmp_path, cube_path):
    bad = tmp_path / "broken.hdf5"
    bad.write_bytes(b"this is not an HDF5 file")
    window = make_window()
    assert not window.open_path(str(bad))
    assert len(messages) == 1
    title, text, details = messages[0]
    assert "broken.hdf5" in text and "Traceback" not in text
    assert window.cube is None
    open_and_wait(qtbot, window, cube_path)  # still usable
    assert window.cube is not None


def test_drag_and_drop_opens_file(qtbot, make_window, cube_path):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(cube_path)])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.deep_image_shown, timeout=10000):
        window.dropEvent(event)
    assert window.state.cube_path is not None


def test_second_open_replaces_first(qtbot, make_window, cube_path, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    first = window.cube
    open_and_wait(qtbot, window, tiny_cube_path)
    assert window.cube is not first and window.state.cube_path.endswith("tiny_bright.hdf5")


def test_click_requests_pixel_and_panel_gets_data(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view = window.image_view
    scene = view.view_box.mapViewToScene(QPointF(5.5, 7.5))
    widget_pos = view.mapFromScene(scene)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(widget_pos.x(), widget_pos.y()))
    data = blocker.args[0]
    assert (data.x, data.y) == (5, 7) == window.state.selected_pixel
    assert data.values.shape == data.axis_cm1.shape and np.nanmax(data.values) > 500
    # arrow keys move the selection (y up)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Up)
    assert (blocker.args[0].x, blocker.args[0].y) == (5, 8)


def test_newest_pixel_request_wins(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    shown = []
    window.pixel_data_shown.connect(lambda d: shown.append((d.x, d.y)))
    for x in range(10):
        window.state.selected_pixel = (x, 3)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == (9, 3), timeout=10000)
    assert shown.count((9, 3)) == 1
    assert len(shown) < 10  # stale requests were skipped


def test_settings_round_trip(qtbot, make_window):
    window = make_window()
    window.state.stretch = "sqrt"
    window.state.colormap = "inferno"
    window.state.overlay_map = "velocity"
    window.state.set_overlay_colormap("velocity", "viridis")
    window.main_splitter.setSizes([500, 300])
    window.save_settings()
    window2 = make_window()
    assert window2.state.stretch == "sqrt"
    assert window2.state.colormap == "inferno"
    assert window2.state.overlay_map == "velocity"
    assert window2.state.overlay_colormap_for("velocity") == "viridis"
    assert settings.splitter_sizes("main") == window.main_splitter.sizes()


def test_unexpected_exception_goes_to_hook(qtbot):
    caught = []
    old = ui_errors.set_unexpected_hook(caught.append)
    try:
        ui_errors._excepthook(RuntimeError, RuntimeError("boom"), None)
    finally:
        ui_errors.set_unexpected_hook(old)
    assert len(caught) == 1 and str(caught[0]) == "boom"


def test_mirabelle_error_shows_sentence_with_details(messages):
    from mirabelle.errors import CubeError

    try:
        raise CubeError("x.hdf5: expected a cube, found a table")
    except CubeError as exc:
        ui_errors.show_error(None, exc)
    title, text, details = messages[0]
    assert text == "x.hdf5: expected a cube, found a table"
    assert "Traceback" in details


def test_macos_file_open_event_opens_in_the_window(qtbot, make_window, cube_path):
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from mirabelle.ui.app import FileOpenFilter

    window = make_window()
    event_filter = FileOpenFilter(lambda: window)
    app = QApplication.instance()
    app.installEventFilter(event_filter)
    try:
        with qtbot.waitSignal(window.deep_image_shown, timeout=10000):
            QApplication.sendEvent(app, QFileOpenEvent(cube_path))
    finally:
        app.removeEventFilter(event_filter)
    assert window.state.cube_path.endswith(cube_path.split("/")[-1])


def test_file_open_event_before_any_window_is_kept(qtbot):
    from PySide6.QtGui import QFileOpenEvent

    from mirabelle.ui.app import FileOpenFilter

    event_filter = FileOpenFilter(lambda: None)
    assert event_filter.eventFilter(None, QFileOpenEvent("/data/cube.hdf5"))
    assert event_filter.pending == ["/data/cube.hdf5"]


def test_window_geometry_and_inference_switch_persist(qtbot, make_window, cube_path):
    window = make_window()
    window.resize(1300, 820)
    assert not window.menus.auto_action.isChecked()  # the factory's windows do not infer on open
    window.menus.auto_action.trigger()  # Kinematics ▸ Run inference when a cube opens: on
    assert settings.run_inference_on_open() is True
    window.menus.auto_action.trigger()  # and off again
    assert settings.run_inference_on_open() is False
    window.save_settings()
    assert settings.window_geometry("main") == window.saveGeometry()
    assert settings.window_state("main") == window.saveState(STATE_VERSION)
    window2 = MainWindow()  # run_inference=None: from settings
    qtbot.addWidget(window2)
    try:
        assert window2.run_inference_on_open is False
        assert not window2.menus.auto_action.isChecked()
        assert window2.restoreGeometry(settings.window_geometry("main"))
    finally:
        window2.shutdown()


def test_inference_starts_on_open_when_enabled(qtbot, make_window, cube_path, tmp_path):
    from inference_models import write_model

    window = make_window(run_inference=True)
    window.model_name = str(write_model(tmp_path / "models", "test-r5000"))
    with qtbot.waitSignal(window.inference_finished, timeout=60000):
        window.open_path(cube_path)
        assert not window.inference_running  # it starts once the deep image is painted
    assert window.maps is not None


def test_last_dir_remembered(qtbot, make_window, cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    from pathlib import Path

    assert settings.last_dir() == str(Path(cube_path).resolve().parent)


def test_fits_cube_opens_with_deep_image_computed(qtbot, make_window, tmp_path):
    from cube_files import WCS_KEYS, write_fits_cube

    rng = np.random.default_rng(3)
    data = rng.normal(10.0, 1.0, (12, 10, 40)).astype(np.float32)
    data[4, 6] += 50.0
    cards = dict(CTYPE3="WAVENUMBER", CUNIT3="cm-1", CRVAL3=15000.0, CDELT3=2.09832, CRPIX3=1.0,
                 STEP=2943.025792, ORDER=8, STEP_NB=840, ZPDINDEX=168, FILTER="SN3", **WCS_KEYS)
    path = tmp_path / "cube.fits"
    write_fits_cube(path, data, cards)
    window = make_window()
    open_and_wait(qtbot, window, str(path))
    deep = window.image_view.deep_image
    assert deep.shape == (12, 10)
    assert np.unravel_index(np.argmax(deep), deep.shape) == (4, 6)  # [x, y] orientation kept


def test_hover_updates_the_readout(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view = window.image_view
    view.pixel_hovered.emit((5, 7))
    qtbot.waitUntil(lambda: window.status.readout_label.text().startswith("x 5  y 7"), timeout=3000)
    assert "deep" in window.status.readout_label.text()


def test_reader_bug_goes_to_the_hook_and_window_survives(qtbot, make_window, unexpected_errors, monkeypatch,
                                                          cube_path):
    import mirabelle.cube

    real_open = mirabelle.cube.open_cube
    calls = []

    def broken_once(path):
        calls.append(path)
        if len(calls) == 1:
            raise KeyError("reader bug")
        return real_open(path)

    window = make_window()
    monkeypatch.setattr(mirabelle.cube, "open_cube", broken_once)  # what the session opens with
    assert not window.open_path(cube_path)
    assert isinstance(unexpected_errors.pop(), KeyError)
    open_and_wait(qtbot, window, cube_path)  # the next open works


def test_recent_files_menu_reopens(qtbot, make_window, cube_path, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    open_and_wait(qtbot, window, tiny_cube_path)
    window.menus.fill_recent_menu()
    labels = [a.text() for a in window.menus.recent_menu.actions() if a.text()]
    assert labels[0].endswith("tiny_bright.hdf5") and labels[1].endswith(cube_path.split("/")[-1])
    with qtbot.waitSignal(window.deep_image_shown, timeout=10000):
        window.menus.recent_menu.actions()[1].trigger()
    assert window.state.cube_path.endswith(cube_path.split("/")[-1])


def test_drag_enter_accepts_files_only(qtbot, make_window, cube_path):
    from PySide6.QtGui import QDragEnterEvent

    window = make_window()
    with_file, text_only = QMimeData(), QMimeData()
    with_file.setUrls([QUrl.fromLocalFile(cube_path)])
    text_only.setText("hello")
    for mime, accepted in ((with_file, True), (text_only, False)):
        event = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
        window.dragEnterEvent(event)
        assert event.isAccepted() == accepted


def test_python_dash_m_command_line_opens_the_cube(qapp, cube_path, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer

    from mirabelle.cli import main
    from mirabelle.ui import app as ui_app

    settings.use_file(tmp_path / "settings.ini")
    seen = []

    def check_and_close():
        window = ui_app._windows[-1]
        if window.cube is None:  # the cube opens after the window's first paint
            QTimer.singleShot(20, check_and_close)
            return
        seen.append((window.state.cube_path, window.run_inference_on_open))
        window.close()

    QTimer.singleShot(0, check_and_close)
    try:
        assert main([cube_path, "--no-inference"]) == 0
    finally:
        settings.use_file(None)
    assert seen[0][0].endswith(cube_path.split("/")[-1]) and seen[0][1] is False


def test_opening_while_the_deep_image_is_computed_cancels_it(qtbot, make_window, tmp_path, tiny_cube_path):
    slow = write_tiny_cube(tmp_path / "nodeep_big.hdf5", nx=40, ny=36, with_deep=False)
    window = make_window()
    assert window.open_path(slow)  # the deep image is being computed in a worker
    open_and_wait(qtbot, window, tiny_cube_path)
    assert window.image_view.deep_image.shape == (24, 20)
    assert window.state.cube_path.endswith("tiny_bright.hdf5")


def test_letter_and_digit_shortcuts_do_not_steal_typing(qtbot, make_window, cube_path):
    window = make_window()
    open_and_wait(qtbot, window, cube_path)  # the limit fields take input once an image is shown
    window.state.overlay_map = None  # the default is velocity: "1" below must not bring it back
    window.activateWindow()
    spin = window.controls.low_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=3000)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "17")
    assert "17" in spin.lineEdit().text()
    assert window.state.overlay_map is None  # "1" did not choose the velocity overlay
    window.image_view.setFocus()
    qtbot.waitUntil(window.image_view.hasFocus, timeout=3000)
    qtbot.keyClick(window.image_view, Qt.Key.Key_1)
    assert window.state.overlay_map == "velocity"  # but it does from the image
