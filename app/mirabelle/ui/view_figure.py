"""File ▸ Export view with axes: what the view shows at native resolution (one image pixel per cube
pixel) inside RA/Dec axes from the cube's WCS, with the colour bar of the overlay (or of the deep
image when no map is shown), black on white as for a paper; drawn by pyqtgraph and written by its
ImageExporter. Without a WCS the axes count 0-based pixels."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from mirabelle.errors import ExportError
from mirabelle.ui import display
from mirabelle.ui.plot_axes import BEHIND_VIEW_Z
from mirabelle.ui.state import MAP_LABELS

INK, PAPER = "k", "w"
RA_LABEL_SPACING_PX = 90
"""At least this many image pixels between RA labels (``01h33m50s`` is ~60 px wide)."""
DEC_LABEL_SPACING_PX = 40


def colour_bar(view: Any) -> pg.ColorBarItem:
    """The colour bar of what ``view`` shows on top: the overlay's map, else the stretched deep image."""
    state = view.state
    overlay = view.overlay_item
    if overlay.isVisible() and overlay.image is not None and state.overlay_map is not None:
        cmap = display.colormap(state.overlay_colormap_for(state.overlay_map))
        levels, label = overlay.getLevels(), MAP_LABELS.get(state.overlay_map, state.overlay_map)
    else:
        lut = display.stretched_lut(state.colormap, state.stretch)
        cmap = pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)
        levels = state.limits or display.compute_limits(view.deep_image, state.limits_mode)
        label = f"Deep image ({state.stretch} stretch)" if state.stretch != "linear" else "Deep image"
    bar = pg.ColorBarItem(values=tuple(float(v) for v in levels), colorMap=cmap, interactive=False, width=18,
                          pen=INK, colorMapMenu=False)
    _ink(bar.axis, label)
    bar.axis.enableAutoSIPrefix(False)
    return bar


def _ink(axis: pg.AxisItem, label: str | None = None) -> None:
    axis.setZValue(BEHIND_VIEW_Z)  # the antialiased edge of a tick mark must not tint the image's edge pixels
    axis.setPen(INK)
    axis.setTextPen(INK)
    if label is not None:
        axis.setLabel(label, color=INK)


def _sky_axes(plot: pg.PlotItem, cube: Any, nx: int, ny: int) -> None:
    from mirabelle.export.sky_ticks import edge_ticks, frame_name

    wcs = getattr(cube, "wcs", None)
    ra = dec = []
    if wcs is not None:
        ra = edge_ticks(wcs, nx, ny, "ra", max_ticks=max(1, nx // RA_LABEL_SPACING_PX))
        dec = edge_ticks(wcs, nx, ny, "dec", max_ticks=max(1, ny // DEC_LABEL_SPACING_PX))
    frame = f" ({frame_name(wcs)})" if wcs is not None and frame_name(wcs) else ""
    for side, ticks, sky, pixel in (("bottom", ra, "RA", "x"), ("left", dec, "Dec", "y")):
        axis = plot.getAxis(side)
        if ticks:
            axis.setTicks([ticks, []])
        axis.setStyle(tickLength=6)  # outwards: no tick covers an image pixel
        _ink(axis, sky + frame if ticks else f"{pixel} (pixel, 0-based)")
    for side in ("top", "right"):  # a closed frame around the image, without ticks
        plot.showAxis(side)
        plot.getAxis(side).setTicks([[], []])
        plot.getAxis(side).setStyle(showValues=False)
        _ink(plot.getAxis(side))


def view_figure(view: Any, cube: Any) -> tuple[pg.GraphicsLayoutWidget, pg.ViewBox]:
    """A hidden widget drawing the exported figure of ``view``, and its ViewBox (the image area),
    sized so that the ViewBox is exactly nx × ny screen pixels."""
    from mirabelle.ui.view_export import view_rgb

    rgb = view_rgb(view)  # [row, column], north up
    ny, nx, _ = rgb.shape
    widget = pg.GraphicsLayoutWidget()
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.setBackground(PAPER)
    widget.ci.setContentsMargins(8, 12, 8, 8)
    plot = widget.addPlot(row=0, col=0)
    image = pg.ImageItem(np.ascontiguousarray(rgb[::-1].transpose(1, 0, 2)), axisOrder="col-major",
                         levels=(0, 255))  # the colours as they are: no auto-levels stretch
    image.setRect(QRectF(-0.5, -0.5, nx, ny))  # view coordinates = 0-based pixel coordinates
    plot.addItem(image)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setAspectLocked(True)
    plot.setRange(xRange=(-0.5, nx - 0.5), yRange=(-0.5, ny - 0.5), padding=0)
    _sky_axes(plot, cube, nx, ny)
    widget.addItem(colour_bar(view), row=0, col=1)
    widget.ci.layout.setColumnSpacing(0, 14)
    return widget, plot.getViewBox()


def _whole_pixels(layout_item: pg.GraphicsLayout) -> None:
    """Round every axis's measured width or height up to whole pixels, so that the image area
    starts on a pixel boundary and its pixels are copied, not resampled."""
    for axis in layout_item.scene().items():
        if isinstance(axis, pg.AxisItem) and axis.isVisible():
            if axis.orientation in ("left", "right"):
                axis.setWidth(math.ceil(axis.width()))
            else:
                axis.setHeight(math.ceil(axis.height()))


def export_view_figure(view: Any, cube: Any, path: str | Path) -> Path:
    """Write the figure of :func:`view_figure` to ``path`` (PNG, TIFF, JPEG); raises ExportError."""
    import pyqtgraph.exporters as exporters

    widget, box = view_figure(view, cube)
    plot = widget.ci.getItem(0, 0)
    nx, ny = view.deep_image.shape
    widget.resize(nx + 400, ny + 300)
    widget.show()  # never on screen (WA_DontShowOnScreen): lays the items out
    for _ in range(2):  # paints: the axes measure their labels and take the room they need
        widget.grab()
        for layout in (plot.layout, widget.ci.layout):
            layout.activate()
    _whole_pixels(widget.ci)
    box.setMinimumSize(nx, ny)
    box.setMaximumSize(nx, ny)
    for layout in (plot.layout, widget.ci.layout):
        layout.invalidate()  # the size hints change with the image area fixed
    hint = widget.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)
    width, height = math.ceil(hint.width()), math.ceil(hint.height())
    widget.resize(width, height)
    widget.ci.setGeometry(QRectF(0, 0, width, height))
    widget.ci.layout.activate()
    if box.size().toSize().width() != nx or box.size().toSize().height() != ny:
        raise ExportError(f"{path}: expected the image drawn at {nx} × {ny} pixels, found "
                          f"{box.size().width():.1f} × {box.size().height():.1f}; export it without axes.")
    exporter = exporters.ImageExporter(widget.ci)
    exporter.parameters()["width"] = width
    path = Path(path)
    try:
        exporter.export(str(path))
    finally:
        widget.close()
        widget.deleteLater()
    if not path.exists():
        raise ExportError(f"{path}: expected a writable .png, .tif or .jpg file; Qt could not write it.")
    return path
