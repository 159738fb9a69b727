"""The [NII]/Hα against [SII]/Hα diagram of the pixels in view (or in a region), with a brushed
selection drawn back on the image.

Points are the registry's ``log_nii_halpha`` and ``log_sii_halpha`` maps (dex) of the pixels
with both ratios, at most `MAX_POINTS` of them (a strided sample). Dragging the brush box
selects pixels (`mirabelle.analysis.ratios.select_in_ratio_box`), shown in colour on the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from shiboken6 import isValid

from mirabelle.analysis.ratios import (DEFAULT_TEMPERATURE_K, density_table_ready, electron_density_cm3,
                                       select_in_ratio_box)
from mirabelle.ui.tasks import run_function

MAX_POINTS = 20000
SELECTION_RGBA = (60, 255, 120, 190)
BRUSH_RGB = (60, 255, 120)
NO_RATIOS_TEXT = "no line ratios yet (they come with the kinematics run)"


class RatioScatter(QWidget):
    """The diagram; ``selection_changed(mask)`` with the (nx, ny) bool mask of brushed pixels."""

    selection_changed = Signal(object)

    def __init__(self, image_view, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_view = image_view
        self.nii = self.sii = None
        self.window_mask: np.ndarray | None = None
        self.selection: np.ndarray | None = None
        self._tables_asked: set[float] = set()  # temperatures whose density table a worker computes
        self._stale = False  # points set while hidden, drawn once shown
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "log [NII]6583/Hα (dex)")
        self.plot.setLabel("left", "log [SII]6716+6731/Hα (dex)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.scatter = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(120, 170, 255, 120))
        self.plot.addItem(self.scatter)
        self.brush = pg.RectROI((-0.6, -0.6), (0.3, 0.3), pen=pg.mkPen(BRUSH_RGB, width=2))
        self.brush.setVisible(False)
        self.plot.addItem(self.brush)
        self.label = QLabel(NO_RATIOS_TEXT)
        self.temperature_spin = QDoubleSpinBox(minimum=3000, maximum=30000, value=DEFAULT_TEMPERATURE_K,
                                               singleStep=1000, decimals=0, suffix=" K")
        self.temperature_spin.setToolTip("Electron temperature of the [SII] density of the selection (PyNeb)")
        self.temperature_spin.valueChanged.connect(lambda _t: self._describe_selection())
        self.density_label = QLabel("")
        self.density_label.setWordWrap(True)  # a long density line wraps instead of widening the tool column
        row = QHBoxLayout()
        row.addWidget(QLabel("T_e"))
        row.addWidget(self.temperature_spin)
        row.addWidget(self.density_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.sii_doublet: np.ndarray | None = None
        self.overlay = pg.ImageItem(axisOrder="col-major")
        self.overlay.setZValue(30)
        image_view.view_box.addItem(self.overlay)
        self._timer = QTimer(self, singleShot=True, interval=60)
        self._timer.timeout.connect(self._select)
        self.brush.sigRegionChanged.connect(lambda *_: self._timer.start())

    def set_ratios(self, log_nii_halpha: np.ndarray | None, log_sii_halpha: np.ndarray | None) -> None:
        """The two log-ratio maps ((nx, ny), dex; NaN where unknown)."""
        self.nii, self.sii = log_nii_halpha, log_sii_halpha
        self._refresh_when_seen()

    def set_doublet(self, sii_doublet: np.ndarray | None) -> None:
        """The [SII]6716/6731 map: the selection's electron density is given at the chosen T_e."""
        self.sii_doublet = sii_doublet
        self._describe_selection()

    def _describe_selection(self) -> None:
        if self.sii_doublet is None or self.selection is None or not self.selection.any():
            self.density_label.setText("")
            return
        ratio = self.sii_doublet[self.selection]
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size == 0:
            self.density_label.setText("no [SII] ratio in the selection")
            return
        median = float(np.median(ratio))
        temperature = self.temperature_spin.value()
        if not density_table_ready(temperature):  # PyNeb's first use: ~2-3 s of CPU, not on the GUI thread
            self.density_label.setText(f"[SII] 6716/6731 = {median:.2f}: n_e …")
            # and only once the panel is seen: its worker holds the GIL, and clicks would wait behind it
            if temperature not in self._tables_asked and self.in_view():
                self._tables_asked.add(temperature)
                run_function(electron_density_cm3, 1.0, temperature,
                             on_return=lambda _n: isValid(self) and self._describe_selection(),
                             on_error=lambda exc: isValid(self) and self.density_label.setText(
                                 f"no electron density: {exc}"))
            return
        density = float(electron_density_cm3(median, temperature))
        text = (f"[SII] 6716/6731 = {median:.2f}: n_e ≈ {density:.0f} cm⁻³" if np.isfinite(density)
                else f"[SII] 6716/6731 = {median:.2f}: beyond the density limits")
        self.density_label.setText(text)

    def in_view(self) -> bool:
        """Shown, and not behind another tab of the tool column (a tabbed dock stays 'visible')."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def came_into_view(self) -> None:
        """Draw what waited while hidden: the points, then the electron density."""
        if self._stale:
            self._stale = False
            self.refresh()  # describes the selection too
        else:
            self._describe_selection()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.came_into_view()

    def set_window(self, mask: np.ndarray | None) -> None:
        """Limit the points to ``mask`` ((nx, ny) bool: the pixels in view or in a region; None: all)."""
        self.window_mask = mask
        self._refresh_when_seen()

    def _refresh_when_seen(self) -> None:
        """A hidden diagram waits until shown: handing pyqtgraph 20,000 points takes 20-50 ms of
        the GUI thread, which a click at the end of each run would queue behind."""
        self._stale = not self.in_view() and self.nii is not None
        if not self._stale:
            self.refresh()

    def view_mask(self) -> np.ndarray | None:
        """(nx, ny) bool of the pixels inside the image view's visible range."""
        if self.nii is None:
            return None
        (x0, x1), (y0, y1) = self.image_view.view_box.viewRange()
        nx, ny = self.nii.shape
        mask = np.zeros((nx, ny), bool)
        mask[max(0, int(x0)):max(0, int(np.ceil(x1))), max(0, int(y0)):max(0, int(np.ceil(y1)))] = True
        return mask

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) log ratios drawn (after the window and the sample)."""
        both = np.isfinite(self.nii) & np.isfinite(self.sii)
        if self.window_mask is not None:
            both &= self.window_mask
        index = np.flatnonzero(both.ravel())[:: max(1, int(both.sum()) // MAX_POINTS)]
        return self.nii.ravel()[index], self.sii.ravel()[index]

    def refresh(self) -> None:
        if self.nii is None or self.sii is None:  # no maps (yet, or the cube was closed)
            self.scatter.setData([], [])
            self.brush.setVisible(False)
            self.overlay.clear()
            self.selection = None
            self.label.setText(NO_RATIOS_TEXT)
            self.density_label.setText("")
            return
        x, y = self.points()
        self.scatter.setData(x, y)
        self.label.setText(f"{x.size} pixels" + (" in the window" if self.window_mask is not None else ""))
        if x.size and not self.brush.isVisible():
            cx, cy = float(np.median(x)), float(np.median(y))
            self.brush.setPos((cx - 0.05, cy - 0.05))
            self.brush.setSize((0.1, 0.1))
            self.brush.setVisible(True)
        self._select()

    def brush_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        pos, size = self.brush.pos(), self.brush.size()
        return (pos.x(), pos.x() + size.x()), (pos.y(), pos.y() + size.y())

    def _select(self) -> None:
        if self.nii is None or not self.brush.isVisible() or not isValid(self.overlay):
            return  # (the image view may be gone while a throttled brush move is pending)
        nii_range, sii_range = self.brush_ranges()
        mask = select_in_ratio_box(self.nii, self.sii, nii_range, sii_range)
        if self.window_mask is not None:
            mask &= self.window_mask
        self.selection = mask
        rgba = np.zeros(mask.shape + (4,), np.uint8)
        rgba[mask] = SELECTION_RGBA
        self.overlay.setImage(rgba, autoLevels=False)
        self.label.setText(f"{int(mask.sum())} pixels selected")
        self._describe_selection()
        self.selection_changed.emit(mask)
