"""A vertical cursor in the spectrum plot linked to the channel shown in the image.

Dragging the cursor, or clicking in the plot, moves the channel (``channel_changed``);
`set_channel` moves the cursor without echoing. The plot's x unit is given by a function
from wavenumber (cm⁻¹) to plot x, so the cursor follows the spectrum panel's unit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

CURSOR_RGB = (0, 170, 255)


class SpectralCursor(QObject):
    """An `InfiniteLine` on ``plot`` snapping to the channels of ``axis_cm1``."""

    channel_changed = Signal(int)

    def __init__(self, plot: pg.PlotItem, to_plot_x: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        super().__init__()
        self.plot = plot
        self.to_plot_x = to_plot_x or (lambda axis: np.asarray(axis, dtype=float))
        self.axis_cm1 = np.zeros(0)
        self.channel = 0
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(CURSOR_RGB, width=2),
                                    hoverPen=pg.mkPen(CURSOR_RGB, width=4),
                                    label="", labelOpts={"position": 0.02, "color": CURSOR_RGB,
                                                               "anchors": [(0, 1), (0, 1)]})
        self.line.setZValue(50)
        self.line.setVisible(False)
        plot.addItem(self.line, ignoreBounds=True)
        self.line.sigDragged.connect(self._on_view_dragged)
        self.line.sigPositionChangeFinished.connect(self._on_view_dragged)
        plot.scene().sigMouseClicked.connect(self._on_view_clicked)

    def set_axis(self, axis_cm1: np.ndarray | None) -> None:
        self.axis_cm1 = np.zeros(0) if axis_cm1 is None else np.asarray(axis_cm1, dtype=float)
        self.line.setVisible(self.axis_cm1.size > 0)
        self._place()

    def set_unit(self, to_plot_x: Callable[[np.ndarray], np.ndarray]) -> None:
        """The spectrum plot changed its x unit."""
        self.to_plot_x = to_plot_x
        self._place()

    def set_channel(self, channel: int) -> None:
        """Move the cursor (from the model; no signal)."""
        self.channel = int(channel)
        self._place()

    def _plot_x(self) -> np.ndarray:
        return np.asarray(self.to_plot_x(self.axis_cm1), dtype=float)

    def _place(self) -> None:
        if self.axis_cm1.size == 0:
            return
        self.channel = int(np.clip(self.channel, 0, self.axis_cm1.size - 1))
        self.line.blockSignals(True)
        self.line.setValue(float(self._plot_x()[self.channel]))
        self.line.blockSignals(False)
        self.line.label.setFormat(f"ch {self.channel}")

    def channel_at(self, plot_x: float) -> int:
        """Channel whose plot x is nearest ``plot_x``."""
        return int(np.nanargmin(np.abs(self._plot_x() - plot_x)))

    def _move_to(self, plot_x: float) -> None:
        if self.axis_cm1.size == 0:
            return
        channel = self.channel_at(plot_x)
        moved = channel != self.channel
        self.channel = channel
        self._place()
        if moved:
            self.channel_changed.emit(channel)

    def _on_view_dragged(self, *_args) -> None:
        self._move_to(float(self.line.value()))

    def _on_view_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if not self.plot.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.plot.vb.mapSceneToView(event.scenePos())
        self._move_to(float(point.x()))
