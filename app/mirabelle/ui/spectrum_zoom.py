"""Zooming the spectrum plot: the wheel and drags act on x only, the right-click menu, a zoom lock.

With x and y together the wheel clipped the peaks it was meant to look at; x-only keeps the
whole flux range in view (the right-click menu's "Y axis" turns y zooming on). The lock keeps
the view range when the next pixel is drawn, so one line can be compared pixel to pixel.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction


class SpectrumZoom(QObject):
    """Zoom behaviour of ``plot`` (the residual plot follows its x); ``reset`` frames the pixel.

    ``lock_action`` (checkable) and ``reset_action`` are in the plot's right-click menu; the
    panel's toolbar shows the lock too.
    """

    def __init__(self, plot: pg.PlotItem, residual_plot: pg.PlotItem, reset: Callable[[], None]) -> None:
        super().__init__(plot)
        for each in (plot, residual_plot):
            each.setMouseEnabled(x=True, y=False)
            each.setMenuEnabled(enableMenu=False, enableViewBoxMenu=True)  # no FFT/log "Plot options"
        self.lock_action = QAction("Keep this zoom for the next pixels", self, checkable=True)
        self.lock_action.setToolTip("Keep the x and y range when another pixel is shown (compare one line)")
        self.reset_action = QAction("Frame the pixel (reset zoom)", self)
        self.reset_action.triggered.connect(reset)
        for view in (plot.getViewBox(), residual_plot.getViewBox()):
            menu = view.menu
            first = menu.actions()[0] if menu.actions() else None
            menu.insertAction(first, self.reset_action)
            menu.insertAction(first, self.lock_action)
            menu.insertSeparator(first)

    @property
    def locked(self) -> bool:
        return self.lock_action.isChecked()


__all__ = ["SpectrumZoom"]
