"""What the spectrum plot shows around the data (issue 11, item 11): legend, line labels, one flux
scale for both axes, x-only wheel zoom, the right-click menu and the zoom lock."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from test_ui_spectrum_panel import KINEMATICS, panel, show, spectrum  # noqa: F401

from mirabelle.lines import LINE_NAMES
from mirabelle.ui.spectrum_decor import LABEL_ROWS, LABEL_ROW_PX, LABEL_TOP_PX, flux_scale


def _settle(panel, qtbot):
    qtbot.waitExposed(panel)
    panel.graphics.ci.layout.activate()
    QApplication.processEvents()


@pytest.mark.parametrize("unit", ["cm1", "nm", "kms"])
def test_every_line_label_is_inside_the_plot_apart_from_the_others_and_the_legend(panel, spectrum, qtbot, unit):
    axis, values, fwhm = spectrum
    panel.show()
    panel.state.spectrum_unit = unit
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    _settle(panel, qtbot)
    view = panel.plot.getViewBox().sceneBoundingRect()
    legend = panel.legend.sceneBoundingRect()
    assert legend.bottom() <= view.top() + 1  # the legend is above the plot, not over it
    low, high = panel.plot.viewRange()[0]
    shown = {name: line.label.sceneBoundingRect() for name, line in zip(LINE_NAMES, panel.line_labels)
             if line.isVisible() and low <= line.value() <= high}
    expected = {"cm1": 5, "nm": 5, "kms": 3}[unit]  # ±1500 km/s around Hα: [NII]6548, Hα, [NII]6583
    assert len(shown) == expected, sorted(shown)
    for name, rect in shown.items():
        assert view.contains(rect), f"{name} label cut by the plot's edge: {rect} not in {view}"
        assert not rect.intersects(legend)
        assert rect.top() == pytest.approx(view.top() + LABEL_TOP_PX + LABEL_ROWS[name] * LABEL_ROW_PX, abs=1.5)
    names = sorted(shown)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not shown[a].intersects(shown[b]), f"labels {a} and {b} overlap"


def test_the_labels_keep_their_pixel_rows_when_the_plot_is_short(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    panel.resize(1000, 220)
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    _settle(panel, qtbot)
    top = panel.plot.getViewBox().sceneBoundingRect().top()
    halpha = panel.line_labels[LINE_NAMES.index("Halpha")].label.sceneBoundingRect()
    assert halpha.top() == pytest.approx(top + LABEL_TOP_PX, abs=1.5)


def test_the_refined_fit_is_in_the_legend_only_while_one_is_drawn(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    assert panel.legend.names() == ["Data", "CNN prior", "Saliency ≥ 0.25"]
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    assert "Refined fit" not in panel.legend.names()
    with qtbot.waitSignal(panel.refined, timeout=30000):
        panel.refine_button.click()
    assert "Refined fit" in panel.legend.names()
    panel.resize(720, 360)  # the legend wraps rather than run off the plot
    _settle(panel, qtbot)
    visible = panel.graphics.width()
    for _sample, label in panel.legend.items:
        assert label.sceneBoundingRect().right() <= visible, f"{label.text} cut"
    show(panel, 2, 2, axis, values, KINEMATICS, None, fwhm)  # another pixel: its fit is not drawn
    assert "Refined fit" not in panel.legend.names()


def test_flux_and_residual_axes_share_one_scale_written_once(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    flux, residual = panel.plot.getAxis("left"), panel.residual_plot.getAxis("left")
    _settle(panel, qtbot)
    for each in (flux, residual):  # the empty panel: no pyqtgraph "(x0.001)" on a 0..1 axis
        assert "(x" not in each.labelString() and each.autoSIPrefixScale * each.scale == 1.0
    show(panel, 1, 2, axis, values * 1e-17, KINEMATICS, None, fwhm)  # a calibrated cube's fluxes
    _settle(panel, qtbot)
    assert flux_scale(values * 1e-17) == (pytest.approx(1e16), "×10⁻¹⁶")
    for each in (flux, residual):
        assert each.scale == pytest.approx(1e16) and each.autoSIPrefixScale == 1.0
        assert "(x" not in each.labelString()
    assert panel.unit_label.text == "×10⁻¹⁶ counts"
    ticks = [value for level in residual.tickValues(*residual.range, residual.height()) for value in level[1]]
    assert max(abs(t) for t in ticks) * residual.scale < 10  # ±0.x in units of 10⁻¹⁶, not ±400
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    assert flux.scale == 1.0 and panel.unit_label.text == "counts"


def _wheel(panel, steps: int) -> None:
    view = panel.plot.getViewBox()
    centre = panel.graphics.mapFromScene(view.sceneBoundingRect().center())
    global_pos = panel.graphics.viewport().mapToGlobal(centre)
    event = QWheelEvent(QPointF(centre), QPointF(global_pos), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(panel.graphics.viewport(), event)


def test_the_wheel_zooms_x_only_and_the_menu_offers_reset_and_lock(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    _settle(panel, qtbot)
    (x0, x1), y = panel.plot.viewRange()
    _wheel(panel, 3)
    (zx0, zx1), zy = panel.plot.viewRange()
    assert zx1 - zx0 < 0.8 * (x1 - x0)  # zoomed in along x...
    assert zy == pytest.approx(y)  # ...the flux range (and so every peak) stays
    texts = [action.text() for action in panel.plot.getViewBox().menu.actions()]
    assert panel.zoom.lock_action.text() in texts and panel.zoom.reset_action.text() in texts
    assert panel.plot.getViewBox().menuEnabled() and not panel.plot.menuEnabled()  # no FFT / log options
    panel.zoom.reset_action.trigger()
    assert panel.plot.viewRange()[0] == pytest.approx([x0, x1])


def test_a_locked_zoom_stays_on_the_next_pixel(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    framed = panel.plot.viewRange()
    panel.plot.setRange(xRange=(15200.0, 15280.0), yRange=(-1.0, 12.0), padding=0)
    zoomed = panel.plot.viewRange()
    panel.lock_button.click()  # the toolbar's "Keep zoom", the menu's lock action
    assert panel.zoom.locked and panel.lock_button.isChecked()
    show(panel, 3, 4, axis, 2.0 * values, KINEMATICS, None, fwhm)
    assert panel.plot.viewRange() == [pytest.approx(zoomed[0]), pytest.approx(zoomed[1])]
    panel.zoom.lock_action.trigger()  # the menu's lock: off again
    assert not panel.lock_button.isChecked()
    show(panel, 5, 6, axis, values, KINEMATICS, None, fwhm)
    assert panel.plot.viewRange() == [pytest.approx(framed[0]), pytest.approx(framed[1])]
    assert np.all(np.isfinite(panel.plot.viewRange()))
