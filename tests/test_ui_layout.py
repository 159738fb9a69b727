"""The window works at 1100 × 650 (issue 11, item 10): it fits, the spectrum plot keeps its height,
no button or progress text is cut, and a refinement does not narrow the plot."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton
from test_ui_spectrum_panel import KINEMATICS, panel, show, spectrum  # noqa: F401
from ui_support import make_window, messages, open_and_wait, tiny_cube_path, unexpected_errors  # noqa: F401

from mirabelle.ui.status_bar import PROGRESS_FORMAT
from mirabelle.ui import settings
from mirabelle.ui.main_window import MainWindow
from mirabelle.ui.window_layout import tool_docks


def _settle(window, width: int, height: int) -> None:
    window.resize(width, height)
    for _ in range(3):
        QApplication.processEvents()


def test_the_window_fits_1100_by_650_with_a_pixel_shown(qtbot, make_window, tiny_cube_path):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=10000):
        window.state.selected_pixel = (10, 10)
    window.status.readout_label.setText(window.readout_text(10, 10) + " and a long tail " * 8)
    _settle(window, 1100, 650)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1100 and hint.height() <= 650, hint
    assert (window.width(), window.height()) == (1100, 650)
    panel = window.spectrum_panel
    assert panel.plot.getViewBox().height() >= 100  # was ~70 px
    flux_label = panel.plot.getAxis("left").label.sceneBoundingRect()
    residual_label = panel.residual_plot.getAxis("left").label.sceneBoundingRect()
    assert not flux_label.intersects(residual_label)  # the y-axis titles no longer overlap
    flux_box = panel.plot.sceneBoundingRect()
    assert flux_box.top() <= flux_label.top() and flux_label.bottom() <= flux_box.bottom()
    flux_view = panel.plot.getViewBox().sceneBoundingRect()
    assert residual_label.top() >= flux_view.bottom() - 6  # at most half a tick text beside the flux plot
    assert residual_label.bottom() <= panel.residual_plot.sceneBoundingRect().bottom()
    assert window.image_view.height() >= 200
    docks = tool_docks(window)
    assert [dock.windowTitle() for dock in docks] == ["Display", "Flags", "Regions", "PV slice", "Line ratios",
                                                      "Line maps"]
    assert window.tabifiedDockWidgets(docks[0]) == docks[1:]  # one column of tabs
    assert docks[0].width() <= 0.35 * window.width()  # the image and the spectrum keep the rest
    for dock in docks:  # no panel scrolls sideways
        dock.raise_()
        QApplication.processEvents()
        assert not dock.widget().horizontalScrollBar().isVisible(), dock.windowTitle()


@pytest.mark.parametrize("width, height", [(1100, 650), (1300, 800), (1600, 1000)])
def test_no_flag_or_region_button_is_cut(qtbot, make_window, tiny_cube_path, width, height):
    window = make_window()
    open_and_wait(qtbot, window, tiny_cube_path)
    _settle(window, width, height)
    for dock in (window.flags_dock, window.viewer.region_dock):
        dock.raise_()
        _settle(window, width, height)
        buttons = dock.widget().findChildren(QPushButton) + dock.widget().findChildren(QToolButton)
        assert buttons
        for button in buttons:
            if button.isVisible():
                assert button.width() >= button.sizeHint().width(), f"{button.text()!r} cut at {width} px"
    assert "Export regions (DS9)…" in [b.text() for b in window.flag_panel.findChildren(QPushButton)]


def test_the_progress_text_stays_on_one_line_beside_a_long_readout(qtbot, make_window):
    window = make_window()
    _settle(window, 1100, 650)
    status = window.status
    status.readout_label.setText("x 100  y 90 (0-based; DS9 101, 91)  RA 01:33:50.77  Dec +30:39:38.4 " * 3)
    status.show_progress("Kinematics", 0.52, 75.0, cancellable=True)
    _settle(window, 1100, 650)
    text = PROGRESS_FORMAT.format(what="Kinematics", percent=52)
    assert status.progress_bar.format() == text and "\u00a0%" in text  # "%" never wraps off its number
    assert status.progress_bar.width() >= status.progress_bar.fontMetrics().horizontalAdvance(text) + 20
    assert status.progress_label.width() >= status.progress_label.sizeHint().width()  # "ETA 1 min 15 s"
    assert status.cancel_button.width() >= status.cancel_button.sizeHint().width()


def test_a_refinement_does_not_narrow_the_plot(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    panel.show()
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    qtbot.waitExposed(panel)
    QApplication.processEvents()
    before = panel.plot.getViewBox().width(), panel.plot.getViewBox().height()
    with qtbot.waitSignal(panel.refined, timeout=30000):
        panel.components_spin.setValue(2)
        panel.refine_button.click()
    QApplication.processEvents()
    assert "Refined" in panel.info_label.text()
    assert (panel.plot.getViewBox().width(), panel.plot.getViewBox().height()) == pytest.approx(before)


def test_a_dock_state_saved_by_the_earlier_layout_is_not_restored(qtbot, make_window):
    from PySide6.QtCore import Qt

    window = make_window()
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.flags_dock)
    settings.save_window("main", window.saveGeometry(), window.saveState())  # version 0: the earlier layout
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert again.dockWidgetArea(again.flags_dock) == Qt.DockWidgetArea.RightDockWidgetArea
        window.save_settings()  # this layout's state is restored
        third = MainWindow()
        qtbot.addWidget(third)
        try:
            assert third.dockWidgetArea(third.flags_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
        finally:
            third.shutdown()
    finally:
        again.shutdown()
