"""Continuous selection: Ctrl+drag moves the selected pixel, held arrow keys keep the spectrum following."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from mirabelle.session import Session

from ui_support import make_window, messages, open_and_wait, tiny_cube_path, unexpected_errors  # noqa: F401


def _widget_pos(view, x: float, y: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(x, y))
    pos = view.mapFromScene(scene)
    return QPoint(pos.x(), pos.y())


def _drag(qtbot, view, pixels, modifiers) -> None:
    """A left-button drag through the centres of ``pixels`` (QTest's moves carry no buttons),
    one move per 20 ms since pyqtgraph drops mouse moves above 60 Hz."""
    viewport = view.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    points = [QPointF(_widget_pos(view, x + 0.5, y + 0.5)) for x, y in pixels]
    steps = [(QEvent.Type.MouseButtonPress, points[0], left, left)]
    steps += [(QEvent.Type.MouseMove, p, none, left) for p in points[1:]]
    steps.append((QEvent.Type.MouseButtonRelease, points[-1], left, none))
    for kind, point, button, buttons in steps:
        event = QMouseEvent(kind, point, viewport.mapToGlobal(point), button, buttons, modifiers)
        QApplication.sendEvent(viewport, event)
        qtbot.wait(20)


def test_ctrl_drag_moves_the_selection_without_panning(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view = window.image_view
    view_range = view.view_box.viewRange()
    visited = []
    window.state.selected_pixel_changed.connect(visited.append)
    _drag(qtbot, view, [(x, 3) for x in range(2, 12)], Qt.KeyboardModifier.ControlModifier)
    assert window.state.selected_pixel == (11, 3)
    assert len(set(visited)) >= 8  # the selection moved along the drag, not only at its end
    assert view.view_box.viewRange() == view_range
    qtbot.waitUntil(lambda: window.spectrum_panel.pixel_data is not None
                    and (window.spectrum_panel.pixel_data.x, window.spectrum_panel.pixel_data.y) == (11, 3),
                    timeout=10000)


def test_plain_drag_still_pans(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view = window.image_view
    window.state.selected_pixel = (1, 1)
    view_range = view.view_box.viewRange()
    _drag(qtbot, view, [(x, 3) for x in range(2, 12)], Qt.KeyboardModifier.NoModifier)
    assert window.state.selected_pixel == (1, 1)
    assert view.view_box.viewRange() != view_range


def test_held_arrow_key_keeps_the_spectrum_moving(qtbot, make_window, tiny_cube_path, monkeypatch):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    view, panel = window.image_view, window.spectrum_panel
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000):
        window.state.selected_pixel = (0, 5)
    compute = Session.pixel

    def slow_pixel(*args, **kwargs):  # 45 ms a pixel at least: three auto-repeat steps per answer
        time.sleep(0.045)
        return compute(*args, **kwargs)

    monkeypatch.setattr(Session, "pixel", slow_pixel)
    shown = []
    window.pixel_data_shown.connect(lambda data: shown.append((data.x, data.y)))
    for n in range(23):  # the right arrow held: auto-repeat presses every 15 ms, up to the last column
        press = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, "", n > 0)
        QApplication.sendEvent(view, press)
        qtbot.wait(15)
    assert len(set(shown)) >= 2  # drawn while the key was held (before: nothing until it was released)
    assert shown == sorted(shown)  # never an older pixel after a newer one
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == (23, 5), timeout=10000)
    assert window.state.selected_pixel == (23, 5)
    assert len(shown) < 20  # stale steps were dropped, not queued
    assert (panel.pixel_data.x, panel.pixel_data.y) == (23, 5)
    assert window.status.readout_label.text().startswith("x 23  y 5")  # readout and spectrum in step
