"""Plot axes whose grid costs a few milliseconds less per repaint, and a one-paint update helper.

Measured on the spectrum panel (offscreen, 2 cores): pyqtgraph draws its grid as tick lines with
a translucent pen, and Qt's raster engine blends such long lines slowly — 15–25 ms of a 25–34 ms
repaint. :class:`OpaqueGridAxis` draws the same lines in the colour they would have after
blending onto the background, behind the data instead of over it. It also stops re-setting the
axis label's HTML on every range change when the text stays the same (a text relayout each click),
and keeps its cached picture when the range did not change.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPen

BEHIND_VIEW_Z = -200.0
"""z of the axes: below the ViewBox (z −100), so the data and the legend are drawn over the grid."""


class OpaqueGridAxis(pg.AxisItem):
    """An AxisItem drawing translucent grid and tick lines as opaque lines pre-blended on ``background``."""

    def __init__(self, orientation: str, background, **kwargs) -> None:
        self._background = QColor(background)
        self._pens: dict[int, QPen] = {}
        self._shown_label: str | None = None  # AxisItem.__init__ already sets the label
        super().__init__(orientation, **kwargs)

    def _opaque(self, pen: QPen) -> QPen:
        colour = pen.color()
        key = colour.rgba()
        if key not in self._pens:
            a = colour.alphaF()
            bg = self._background
            blended = QColor.fromRgbF(a * colour.redF() + (1 - a) * bg.redF(),
                                      a * colour.greenF() + (1 - a) * bg.greenF(),
                                      a * colour.blueF() + (1 - a) * bg.blueF())
            opaque = QPen(pen)
            opaque.setColor(blended)
            self._pens[key] = opaque
        return self._pens[key]

    def setTickPen(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph name)
        self._pens.clear()
        super().setTickPen(*args, **kwargs)

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph name)
        self._pens.clear()  # the tick pen follows the axis pen unless set on its own
        super().setPen(*args, **kwargs)

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph name)
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis_spec, tick_specs, text_specs = specs
        tick_specs = [(self._opaque(pen) if pen.color().alpha() < 255 else pen, p1, p2)
                      for pen, p1, p2 in tick_specs]
        return axis_spec, tick_specs, text_specs

    def setRange(self, mn: float, mx: float) -> None:  # noqa: N802 (pyqtgraph name)
        if self.picture is not None and [mn, mx] == list(self.range):
            return  # same ticks: keep the cached picture (the x axis on most clicks)
        super().setRange(mn, mx)

    def _updateLabel(self) -> None:  # noqa: N802 (pyqtgraph name)
        text = self.labelString()
        if text == self._shown_label:
            self.picture = None  # the ticks still follow the new range
            self.update()
            return
        self._shown_label = text
        super()._updateLabel()


def opaque_grid_axes(background, names: tuple[str, ...] = ("left", "bottom")) -> dict:
    """``axisItems`` for :class:`pyqtgraph.PlotItem`: an :class:`OpaqueGridAxis` for each of ``names``
    (PlotItem shows the axes it is given)."""
    return {name: OpaqueGridAxis(name, background) for name in names}


def put_axes_behind(plot: pg.PlotItem) -> None:
    """Stack the plot's axes (and so their grid) below its ViewBox."""
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).setZValue(BEHIND_VIEW_Z)


def settle(scene) -> None:
    """Apply pending view-range transforms now, so items that follow them (text labels) move
    before the next repaint instead of during it, which would queue a second repaint."""
    scene.prepareForPaint()


__all__ = ["OpaqueGridAxis", "opaque_grid_axes", "put_axes_behind", "settle"]
