"""Flag tools on the real image view: brush drags, polygon, eraser, undo, autosave, restore, panel."""

import gc
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import weakref

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from mirabelle.flags import FlagMask, load_mask, sidecar_path
from mirabelle.ui.flag_layer import FlagLayer
from mirabelle.ui.flag_panel import FlagPanel
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.state import ViewState

NX, NY = 60, 50


@pytest.fixture(autouse=True)
def _user_flags_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRABELLE_FLAGS_DIR", str(tmp_path / "user-flags"))


@pytest.fixture(autouse=True)
def _every_mouse_move(monkeypatch):
    """pyqtgraph drops moves closer than 10 ms apart; synthetic events come faster."""
    import pyqtgraph as pg

    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    yield
    pg.setConfigOptions(mouseRateLimit=old)


@pytest.fixture
def cube_path(tmp_path):
    path = tmp_path / "cube.hdf5"
    path.write_bytes(b"")
    return path


@pytest.fixture
def view(qtbot):
    state = ViewState()
    view = ImageView(state)
    qtbot.addWidget(view)
    view.resize(520, 460)
    view.set_deep_image(np.random.default_rng(0).random((NX, NY)).astype(np.float32))
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def layer(view, cube_path):
    layer = FlagLayer(view.view_box, view.state, parent=view)
    layer.set_cube(cube_path, (NX, NY))
    yield layer
    layer.flush()


def _widget_pos(view, px, py) -> QPoint:
    """Viewport position of the centre of image pixel (px, py)."""
    scene = view.view_box.mapViewToScene(QPointF(px + 0.5, py + 0.5))
    return view.mapFromScene(scene)


def _mouse(view, kind, pos, buttons=Qt.MouseButton.NoButton, button=Qt.MouseButton.NoButton):
    viewport = view.viewport()
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def _drag(view, pixels):
    left = Qt.MouseButton.LeftButton
    start = _widget_pos(view, *pixels[0])
    _mouse(view, QEvent.Type.MouseMove, start)  # hover first, as a real pointer does
    _mouse(view, QEvent.Type.MouseButtonPress, start, left, left)
    for px, py in pixels[1:]:
        _mouse(view, QEvent.Type.MouseMove, _widget_pos(view, px, py), left)
    _mouse(view, QEvent.Type.MouseButtonRelease, _widget_pos(view, *pixels[-1]), Qt.MouseButton.NoButton, left)


def _click(view, px, py, double=False):
    left = Qt.MouseButton.LeftButton
    pos = _widget_pos(view, px, py)
    _mouse(view, QEvent.Type.MouseMove, pos)
    _mouse(view, QEvent.Type.MouseButtonPress, pos, left, left)
    _mouse(view, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton, left)
    if double:
        _mouse(view, QEvent.Type.MouseButtonDblClick, pos, left, left)
        _mouse(view, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton, left)


def test_brush_drag_paints_along_the_path_as_one_undo_step(view, layer):
    view.state.flag_mode = "brush"
    view.state.brush_radius = 1.5
    range_before = view.view_box.viewRange()
    _drag(view, [(10, 10), (20, 12), (30, 14), (40, 16)])
    flags = layer.flags
    assert flags[10, 10] and flags[20, 12] and flags[40, 16] and flags[25, 13]
    assert not flags[10, 30]
    assert view.state.selected_pixel is None  # the drag neither selected a pixel...
    assert view.view_box.viewRange() == range_before  # ...nor panned
    assert layer.mask_item.image is not None and layer.mask_item.image[20, 12] > 0
    assert layer.undo() and flags.count == 0 and not flags.can_undo


def test_clicks_and_drags_belong_to_the_view_when_flag_mode_is_off(view, layer):
    assert view.state.flag_mode == "off"
    _click(view, 12, 7)
    assert view.state.selected_pixel == (12, 7)
    assert layer.flags.count == 0


def test_brush_click_and_eraser(view, layer):
    view.state.flag_mode = "brush"
    view.state.brush_radius = 3
    _click(view, 30, 25)
    assert layer.flags[30, 25] and layer.flags[32, 25] and not layer.flags[34, 25]
    assert 25 <= layer.flags.count <= 33  # a radius-3 disk around the click
    view.state.flag_mode = "eraser"
    view.state.brush_radius = 0.5
    _click(view, 30, 25)
    assert not layer.flags[30, 25] and layer.flags[32, 25]
    assert view.state.selected_pixel is None


def test_polygon_clicks_then_double_click_or_enter_fill_it(view, layer, qtbot):
    view.state.flag_mode = "polygon"
    for px, py in [(5, 5), (25, 5), (25, 20)]:
        _click(view, px, py)
    assert layer.polygon_in_progress and layer.flags.count == 0
    _click(view, 5, 20, double=True)
    assert not layer.polygon_in_progress
    assert layer.flags[15, 12] and layer.flags[6, 6] and layer.flags[24, 19]
    assert not layer.flags[30, 12] and not layer.flags[3, 12] and not layer.flags[15, 22]
    assert 20 * 15 <= layer.flags.count <= 22 * 17  # the rectangle x 5..25, y 5..20, give or take its edges
    layer.undo()
    for px, py in [(40, 30), (50, 30), (45, 40)]:
        _click(view, px, py)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert layer.flags[45, 33] and not layer.flags[15, 12]
    for px, py in [(5, 5), (25, 5), (25, 20)]:
        _click(view, px, py)
    layer.escape()  # Esc cancels the polygon first...
    assert not layer.polygon_in_progress and view.state.flag_mode == "polygon"
    layer.escape()  # ...then leaves flag mode
    assert view.state.flag_mode == "off"


def test_brush_cursor_follows_the_pointer_with_the_radius(view, layer):
    view.state.flag_mode = "brush"
    view.state.brush_radius = 4
    _mouse(view, QEvent.Type.MouseMove, _widget_pos(view, 20, 20))
    assert layer.brush_cursor.isVisible()
    rect = layer.brush_cursor.rect()
    assert rect.width() == pytest.approx(8) and rect.center().x() == pytest.approx(20.5, abs=0.5)
    view.state.flag_mode = "off"
    assert not layer.brush_cursor.isVisible()


def test_autosave_within_a_second_and_reopen_restores(view, layer, cube_path, qtbot):
    path = sidecar_path(cube_path)
    assert layer.autosave_file == path and not path.exists()
    view.state.flag_mode = "brush"
    layer.paint_path([QPointF(20.5, 20.5), QPointF(30.5, 20.5)])
    qtbot.waitUntil(lambda: path.exists() and load_mask(path)[25, 20], timeout=1000)
    layer.paint_path([QPointF(5.5, 40.5)])
    layer.flush()  # on close: nothing pending is lost
    saved = load_mask(path, (NX, NY))
    np.testing.assert_array_equal(saved, layer.flags.data)

    other = FlagLayer(view.view_box, view.state, parent=view)
    message = other.set_cube(cube_path, (NX, NY))
    assert "Restored" in message
    np.testing.assert_array_equal(other.flags.data, saved)
    other.set_cube(None)


def test_read_only_cube_folder_autosaves_in_the_user_folder(view, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr("mirabelle.flags.storage._folder_writable", lambda folder: False)
    cube = tmp_path / "ro" / "c.hdf5"
    layer = FlagLayer(view.view_box, view.state, parent=view)
    layer.set_cube(cube, (NX, NY))
    assert layer.autosave_file.parent == tmp_path / "user-flags"
    view.state.flag_mode = "brush"
    layer.paint_path([QPointF(3.5, 3.5)])
    qtbot.waitUntil(lambda: layer.autosave_file.exists(), timeout=1000)
    reopened = FlagLayer(view.view_box, view.state, parent=view)
    reopened.set_cube(cube, (NX, NY))
    assert reopened.flags[3, 3]


def test_restore_refuses_a_mask_of_another_shape(view, cube_path):
    FlagMask(7, 7).save(sidecar_path(cube_path))
    layer = FlagLayer(view.view_box, view.state, parent=view)
    message = layer.set_cube(cube_path, (NX, NY))
    assert "not restored" in message and "expected 60×50" in message and "kept as" in message
    assert layer.flags.count == 0
    backup = sidecar_path(cube_path).with_name(sidecar_path(cube_path).name + ".bak")
    assert load_mask(backup).shape == (7, 7)  # the other mask is not overwritten by the next autosave


def test_panel_mirrors_state_lists_regions_and_exports(view, layer, tmp_path, qtbot):
    panel = FlagPanel(layer)
    qtbot.addWidget(panel)
    panel.show()
    panel.mode_buttons["brush"].click()
    assert view.state.flag_mode == "brush"
    view.state.flag_mode = "polygon"
    assert panel.mode_buttons["polygon"].isChecked() and not panel.mode_buttons["brush"].isChecked()
    panel.mode_buttons["polygon"].click()
    assert view.state.flag_mode == "off"
    panel.size_spin.setValue(6)
    assert view.state.brush_radius == 6
    panel.actions_by_name["larger"].trigger()
    assert view.state.brush_radius > 6 and panel.size_spin.value() == view.state.brush_radius
    panel.hint_check.setChecked(True)
    assert view.state.flag_hint_visible
    view.state.flag_hint_threshold = 0.7
    assert panel.hint_spin.value() == pytest.approx(0.7)
    panel.actions_by_name["eraser"].trigger()
    assert view.state.flag_mode == "eraser" and panel.mode_buttons["eraser"].isChecked()
    panel.actions_by_name["escape"].trigger()
    assert view.state.flag_mode == "off"

    view.state.flag_mode = "brush"
    view.state.brush_radius = 1
    layer.paint_path([QPointF(10.5, 10.5)])
    layer.paint_path([QPointF(40.5, 30.5), QPointF(45.5, 30.5)])
    qtbot.waitUntil(lambda: panel.region_list.count() == 2, timeout=1000)
    assert "2 regions" in panel.summary_label.text()
    view.view_box.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    panel._on_view_region_clicked(panel.region_list.item(1))
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    assert x0 < 43 < x1 and y0 < 31 < y1

    panel.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: panel.region_list.count() == 1, timeout=1000)
    assert panel.redo_button.isEnabled()
    mask_path = panel.export_mask(tmp_path / "m.fits")
    assert load_mask(mask_path)[10, 10]
    from regions import PixCoord, Regions

    regions = Regions.read(panel.export_regions(tmp_path / "m.reg"), format="ds9")
    assert len(regions) == 1 and regions[0].contains(PixCoord(10, 10))


_CHILD = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import pyqtgraph as pg
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication
    from mirabelle.ui.flag_layer import FlagLayer
    from mirabelle.ui.state import ViewState

    app = QApplication([])
    state = ViewState()
    layer = FlagLayer(pg.ViewBox(), state)
    layer.set_cube(sys.argv[1], (60, 50))
    state.flag_mode = "brush"
    layer.paint_path([QPointF(20.5, 20.5), QPointF(30.5, 25.5)])
    print("PAINTED", flush=True)
    app.exec()
""")


def test_sigkill_right_after_flagging_loses_at_most_a_second(cube_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(cube_path)], stdout=subprocess.PIPE, env=env,
                             text=True)
    path = sidecar_path(cube_path)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)  # start-up only; never hang the suite
        assert ready, "the child app did not start within 120 s"
        assert child.stdout.readline().strip() == "PAINTED"
        painted = time.monotonic()
        while not path.exists() and time.monotonic() - painted < 1.0:
            time.sleep(0.01)  # polling another process's file: there is no Qt signal to wait on
        os.kill(child.pid, signal.SIGKILL)
        saved_within = time.monotonic() - painted
    finally:
        child.kill()
        child.wait(10)
    assert path.exists(), f"no flags on disk {saved_within:.2f} s after painting"
    mask = load_mask(path, (60, 50))
    assert mask[20, 20] and mask[30, 25] and mask[25, 23]


def test_region_list_jumps_deletes_and_shows_areas(view, cube_path, qtbot):
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-0.32 / 3600, 0.32 / 3600]  # SITELLE's 0.32″ pixels
    wcs.wcs.crval = [23.46, 30.66]
    layer = FlagLayer(view.view_box, view.state, parent=view)
    layer.set_cube(cube_path, (NX, NY), wcs)
    panel = FlagPanel(layer)
    qtbot.addWidget(panel)
    panel.show()
    view.state.flag_mode = "brush"
    view.state.brush_radius = 1
    layer.paint_path([QPointF(10.5, 10.5)])
    layer.paint_path([QPointF(40.5, 30.5), QPointF(45.5, 30.5)])
    qtbot.waitUntil(lambda: panel.region_list.count() == 2, timeout=1000)
    first, second = panel.regions
    assert f"2. {second.n_pixels} px ({second.n_pixels * 0.1024:.4g} arcsec²) at (42, 30)" == \
        panel.region_list.item(1).text()

    view.view_box.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    panel.region_list.setFocus()
    panel.region_list.setCurrentRow(0)
    qtbot.keyClick(panel.region_list, Qt.Key.Key_Down)  # the arrow keys walk the regions
    (x0, x1), (y0, y1) = view.view_box.viewRange()
    assert x0 < 43 < x1 and y0 < 31 < y1
    assert panel.delete_region_button.isEnabled()

    qtbot.keyClick(panel.region_list, Qt.Key.Key_Delete)
    assert panel.region_list.count() == 1 and panel.regions == [first]
    assert not layer.flags.data[43, 30] and layer.flags.data[10, 10]
    panel.actions_by_name["undo"].trigger()
    qtbot.waitUntil(lambda: panel.region_list.count() == 2, timeout=1000)
    assert layer.flags.data[43, 30]
    layer.flush()


def test_without_a_cube_the_tools_are_off_and_the_old_message_gone(view, layer, qtbot):
    panel = FlagPanel(layer)
    qtbot.addWidget(panel)
    view.state.flag_mode = "brush"
    layer.paint_path([QPointF(10.5, 10.5)])
    layer.message.emit("Restored 12 flagged pixels from x.fits.")
    qtbot.waitUntil(lambda: panel.region_list.count() == 1, timeout=1000)
    assert panel.clear_button.isEnabled() and panel.mode_buttons["brush"].isEnabled()
    layer.set_cube(None)  # File ▸ Close
    assert view.state.flag_mode == "off" and panel.save_label.text() == ""
    assert not any(button.isEnabled() for button in panel.mode_buttons.values())
    assert not panel.actions_by_name["brush"].isEnabled() and not panel.clear_button.isEnabled()
    assert panel.region_list.count() == 0 and "Open a cube" in panel.summary_label.text()


def test_a_closed_cube_s_mask_is_let_go(layer, tmp_path):
    closed_mask = weakref.ref(layer.flags)
    layer.set_cube(tmp_path / "next.hdf5", (NX, NY))
    gc.collect()
    assert closed_mask() is None
