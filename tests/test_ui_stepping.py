"""Continuous selection: Ctrl+drag moves the selected pixel, held arrow keys keep the spectrum following."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

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
