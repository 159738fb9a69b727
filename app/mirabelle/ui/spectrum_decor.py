"""What the spectrum plot draws around the data: the legend row, the line labels, the flux scale.

The legend sits in its own row above the plot, so it never covers a line or its label in any
unit; the line labels hang a fixed number of pixels below the top of the plot (two staggered
rows) whatever its height; flux and residual axes share one power-of-ten scale written in the
labels, instead of pyqtgraph's per-axis "(x0.001)".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from mirabelle.lines import LINE_LABELS, LINE_NAMES

LINE_RGB = (31, 150, 180)
LABEL_ROWS = {"NII6548": 1, "Halpha": 0, "NII6583": 1, "SII6716": 0, "SII6731": 0}
"""Row of each line label (0 at the top): Hα above the [NII] pair, whose labels (as the [SII]
pair's) are written away from each other (LABEL_AWAY_FROM), so no two texts meet."""
LABEL_AWAY_FROM = {"NII6548": "Halpha", "NII6583": "Halpha", "SII6716": "SII6731", "SII6731": "SII6716"}
LABEL_ROW_PX = 17.0
"""Height of one row of line labels (pixels), the label font's line height."""
LABEL_TOP_PX = 2.0
HEADROOM = 0.3
"""Extra y range above the data, as a fraction of its span: the peaks stay below the label rows."""
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class LegendRow(pg.LegendItem):
    """A one-row legend above the plot, as small as its entries (the plot lists its named items in
    it, the region tool its curves; short names keep four of them in a 1100 px window), after
    ``unit_label``: the flux unit and scale of both y axes, where matplotlib writes its offset."""

    def __init__(self, graphics: pg.GraphicsLayoutWidget, row: int, text_colour, axis_width_px: float) -> None:
        super().__init__(offset=None, labelTextColor=text_colour, colCount=6, verSpacing=-4)
        self.header = header = graphics.addLayout(row=row, col=0)
        header.setContentsMargins(0, 0, 0, 0)
        self.unit_label = pg.LabelItem("", color=text_colour, justify="left")
        self.unit_label.setMinimumWidth(axis_width_px)
        header.addItem(self.unit_label, row=0, col=0)
        header.addItem(self, row=0, col=1)
        header.layout.setColumnStretchFactor(2, 1)

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph name)
        """Left in its row at its entries' size: the grid cell would spread them over the width."""
        self.layout.activate()
        self.setMaximumHeight(self.layout.preferredHeight())
        self.setMaximumWidth(self.layout.preferredWidth())
        if hasattr(self, "header"):  # (called while LegendItem initialises too)
            self.header.setMaximumHeight(self.layout.preferredHeight())

    def show_item(self, item, shown: bool) -> None:
        """List ``item`` under its name or not (the refined fit only while one is drawn)."""
        listed = self.getLabel(item) is not None
        if shown and not listed:
            self.addItem(item, item.name())
        elif listed and not shown:
            self.removeItem(item)

    def names(self) -> list[str]:
        return [label.text for _sample, label in self.items]


def line_markers(plot: pg.PlotItem) -> list[pg.InfiniteLine]:
    """A dotted vertical line per line of ``LINE_NAMES`` with its label, hidden until placed."""
    lines = []
    for name in LINE_NAMES:
        line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(LINE_RGB, width=1, style=Qt.PenStyle.DotLine),
            label=LINE_LABELS[name], labelOpts={"position": 0.95, "color": LINE_RGB, "anchors": [(0.5, 0), (0.5, 0)]},
        )
        line.label.textItem.document().setDocumentMargin(1)  # Qt's 4 px would space the rows apart
        line.setVisible(False)
        plot.addItem(line, ignoreBounds=True)
        lines.append(line)
    view = plot.getViewBox()
    view.sigResized.connect(lambda _view: (place_labels(lines, view.height()), arrange_labels(lines, view)))
    view.sigXRangeChanged.connect(lambda *_args: arrange_labels(lines, view))
    place_labels(lines, view.height())
    return lines


def place_labels(lines: list[pg.InfiniteLine], view_height_px: float) -> None:
    """Hang each label's top ``LABEL_TOP_PX`` + its row × ``LABEL_ROW_PX`` below the plot's top."""
    height = max(float(view_height_px), 1.0)
    for name, line in zip(LINE_NAMES, lines):
        below_top = LABEL_TOP_PX + LABEL_ROWS[name] * LABEL_ROW_PX
        line.label.setPosition(min(max(1.0 - below_top / height, 0.0), 1.0))


def arrange_labels(lines: list[pg.InfiniteLine], view: pg.ViewBox) -> None:
    """Write each label beside its line, away from its neighbour (the [NII] lines away from Hα,
    the [SII] pair away from each other; Hα centred), unless the plot's edge would cut it there."""
    (x0, x1), _ = view.viewRange()
    if x1 == x0:
        return
    width_px = max(float(view.width()), 1.0)
    value = {name: line.value() for name, line in zip(LINE_NAMES, lines)}
    for name, line in zip(LINE_NAMES, lines):
        if not line.isVisible():
            continue
        text_px = line.label.textItem.boundingRect().width()
        at_px = (value[name] - x0) / (x1 - x0) * width_px
        neighbour = LABEL_AWAY_FROM.get(name)
        if neighbour is None:
            anchor_x = 0.5
        else:
            anchor_x = 1.0 if value[name] < value[neighbour] else 0.0
        if anchor_x == 1.0 and at_px < text_px or anchor_x == 0.5 and at_px < text_px / 2:
            anchor_x = 0.0  # cut by the left edge
        elif anchor_x == 0.0 and at_px > width_px - text_px or anchor_x == 0.5 and at_px > width_px - text_px / 2:
            anchor_x = 1.0  # cut by the right edge
        if line.label.anchors[0][0] != anchor_x:
            line.label.anchors = [(anchor_x, 0), (anchor_x, 0)]
            line.label.updatePosition()


def flux_scale(values) -> tuple[float, str]:
    """(factor, text) that write ``values`` with 1–4 digits: 1 and '' between 0.01 and 10⁵, else a
    power of ten ('×10⁻¹⁷') for calibrated fluxes; the same for the flux and residual axes."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if not finite.size:
        return 1.0, ""
    peak = float(finite.max())
    if 1e-2 <= peak < 1e5:
        return 1.0, ""
    exponent = math.floor(math.log10(peak))
    return 10.0 ** -exponent, f"×10{str(exponent).translate(_SUPERSCRIPT)}"


def fixed_scale_axis(axis: pg.AxisItem) -> None:
    """No automatic SI prefix on ``axis``: pyqtgraph keeps the factor it last computed when the
    prefix is switched off (the "(x0.001)" of an empty plot), so it is reset to 1 here."""
    axis.enableAutoSIPrefix(False)
    axis.autoSIPrefixScale = 1.0
    axis.labelUnitPrefix = ""


def label_flux_axes(plot: pg.PlotItem, residual_plot: pg.PlotItem, unit_label: pg.LabelItem, values,
                    value_unit: str | None) -> None:
    """Scale both y axes by `flux_scale` of ``values`` and write the scale and unit once, in
    ``unit_label`` (a short plot has no room for them along its axis; no unit without a pixel)."""
    factor, text = flux_scale(values if values is not None else [])
    for axis_plot in (plot, residual_plot):
        axis_plot.getAxis("left").setScale(factor)
    unit = " ".join(part for part in (text, value_unit or "") if part)
    if unit_label.text != unit:
        unit_label.setText(unit)


__all__ = ["HEADROOM", "LINE_RGB", "LegendRow", "arrange_labels", "fixed_scale_axis", "flux_scale", "label_flux_axes",
           "line_markers", "place_labels"]
