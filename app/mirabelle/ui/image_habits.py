"""Habits astronomers bring from DS9: right-drag contrast/bias, +/− zoom keys and zoom-to-fit,
an N/E compass and a scale bar from the WCS, and an RA/Dec grid over the image.

`install(image_view)` adds them to an `ImageView` without changing its class: a right drag
changes the image levels (horizontal: bias, the centre of the levels; vertical: contrast,
their width), ``+``/``-`` zoom about the centre, ``0`` fits the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QTransform

ZOOM_STEP = 1.25
OVERLAY_RGB = (120, 220, 255)
GRID_RGB = (255, 255, 255, 110)


def levels_after_drag(levels: tuple[float, float], dx_fraction: float, dy_fraction: float) -> tuple[float, float]:
    """DS9 contrast/bias: shift the centre by ``dx_fraction`` of the width, scale the width by
    ``exp(dy_fraction · 2)`` (drag up: more contrast, a narrower range)."""
    low, high = levels
    width = max(high - low, 1e-12)
    centre = (low + high) / 2 - dx_fraction * width
    width *= float(np.exp(-2.0 * dy_fraction))
    return centre - width / 2, centre + width / 2


class _KeyFilter(QObject):
    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
                zoom(self.view, 1 / ZOOM_STEP)
                return True
            if key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
                zoom(self.view, ZOOM_STEP)
                return True
            if key == Qt.Key.Key_0:
                zoom_to_fit(self.view)
                return True
        return False


def zoom(image_view, factor: float) -> None:
    """Scale the visible range by ``factor`` about its centre (< 1 zooms in)."""
    box = image_view.view_box
    (x0, x1), (y0, y1) = box.viewRange()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box.setRange(xRange=(cx - (x1 - x0) * factor / 2, cx + (x1 - x0) * factor / 2),
                 yRange=(cy - (y1 - y0) * factor / 2, cy + (y1 - y0) * factor / 2), padding=0)


def zoom_to_fit(image_view) -> None:
    """Show the whole image."""
    image_view.view_box.autoRange(items=[image_view.image_item])


def _install_contrast_drag(image_view) -> None:
    box = image_view.view_box
    original = box.mouseDragEvent
    start: dict = {}

    def drag(ev, axis=None):
        if ev.button() != Qt.MouseButton.RightButton:
            return original(ev, axis)
        ev.accept()
        item = image_view.image_item
        if ev.isStart():
            start["levels"] = tuple(float(v) for v in item.getLevels())
            start["pos"] = ev.buttonDownScreenPos()
        if "levels" not in start:
            return None
        delta = ev.screenPos() - start["pos"]
        size = box.screenGeometry() if hasattr(box, "screenGeometry") else None
        width = max(box.boundingRect().width(), 1.0) if size is None else max(size.width(), 1)
        height = max(box.boundingRect().height(), 1.0) if size is None else max(size.height(), 1)
        levels = levels_after_drag(start["levels"], delta.x() / width, -delta.y() / height)
        item.setLevels(levels)
        histogram = getattr(image_view, "histogram", None)
        if histogram is not None:
            histogram.setLevels(*levels)
        if ev.isFinish():
            start.clear()
        return None

    box.mouseDragEvent = drag


def compass_vectors(wcs, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (dx, dy) in pixels pointing North and East at pixel (x, y)."""
    from astropy.coordinates import SkyCoord
    import astropy.units as u

    sky = wcs.pixel_to_world(x, y)
    step = 5 * u.arcsec
    out = []
    for offset in ((0 * u.arcsec, step), (step, 0 * u.arcsec)):  # north: +Dec; east: +RA
        moved = SkyCoord(sky.spherical_offsets_by(*offset))
        px, py = wcs.world_to_pixel(moved)
        vector = np.array([float(px) - x, float(py) - y])
        out.append(vector / np.hypot(*vector))
    return out[0], out[1]


def pixel_scale_arcsec(wcs) -> float:
    from astropy.wcs.utils import proj_plane_pixel_scales

    return float(np.mean(proj_plane_pixel_scales(wcs))) * 3600.0


def nice_length_arcsec(pixels: float, scale_arcsec: float) -> float:
    """A round length (1, 2, 5 × 10ⁿ arcsec) near ``pixels`` pixels."""
    target = pixels * scale_arcsec
    exponent = np.floor(np.log10(target))
    for mantissa in (5, 2, 1):
        if mantissa * 10**exponent <= target:
            return float(mantissa * 10**exponent)
    return float(10**exponent)


class SkyOverlay:
    """Compass (N, E arrows), scale bar and RA/Dec grid drawn in the image view for a cube's WCS."""

    def __init__(self, image_view) -> None:
        self.image_view = image_view
        self.items: list = []
        self.grid_items: list = []

    def set_wcs(self, wcs, shape_xy: tuple[int, int] | None) -> None:
        """Draw for ``wcs`` over an image of ``shape_xy`` (None: remove everything)."""
        box = self.image_view.view_box
        for item in self.items + self.grid_items:
            box.removeItem(item)
        self.items, self.grid_items = [], []
        if wcs is None or shape_xy is None:
            return
        nx, ny = shape_xy
        pen = pg.mkPen(OVERLAY_RGB, width=2)
        # compass at the top-left corner, 8 % of the image long
        length = 0.08 * max(nx, ny)
        ox, oy = 0.2 * nx, 0.82 * ny
        north, east = compass_vectors(wcs, ox, oy)
        for vector, text in ((north, "N"), (east, "E")):
            tip = np.array([ox, oy]) + length * vector
            self.items.append(pg.PlotCurveItem([ox, tip[0]], [oy, tip[1]], pen=pen))
            label = pg.TextItem(text, color=OVERLAY_RGB, anchor=(0.5, 0.5))
            label.setPos(*(np.array([ox, oy]) + 1.3 * length * vector))
            self.items.append(label)
        # scale bar at the bottom-left corner
        scale = pixel_scale_arcsec(wcs)
        arcsec = nice_length_arcsec(0.2 * nx, scale)
        bar_px = arcsec / scale
        x0, y0 = 0.06 * nx, 0.06 * ny
        self.items.append(pg.PlotCurveItem([x0, x0 + bar_px], [y0, y0], pen=pg.mkPen(OVERLAY_RGB, width=3)))
        text = f"{arcsec / 60:g}′" if arcsec >= 60 and arcsec % 60 == 0 else f"{arcsec:g}″"
        label = pg.TextItem(text, color=OVERLAY_RGB, anchor=(0.5, 1.0))
        label.setPos(x0 + bar_px / 2, y0 + 0.01 * ny)
        self.items.append(label)
        for item in self.items:
            item.setZValue(45)
            box.addItem(item, ignoreBounds=True)
        self._draw_grid(wcs, nx, ny)

    def _draw_grid(self, wcs, nx: int, ny: int) -> None:
        """RA/Dec isocurves at round values (a coarse world-coordinate map, contoured)."""
        step = max(1, int(max(nx, ny) / 128))
        xs, ys = np.arange(0, nx + step, step), np.arange(0, ny + step, step)
        grid_x, grid_y = np.meshgrid(xs, ys, indexing="ij")
        sky = wcs.pixel_to_world(grid_x, grid_y)
        ra, dec = sky.spherical.lon.deg, sky.spherical.lat.deg
        box = self.image_view.view_box
        for values, unit in ((ra, 15.0), (dec, 1.0)):  # RA in hours' seconds, Dec in arcsec
            span = np.ptp(values) * 3600 / unit
            spacing = nice_length_arcsec(span / 4, 1.0) * unit / 3600
            for level in np.arange(np.ceil(values.min() / spacing), np.floor(values.max() / spacing) + 1) * spacing:
                curve = pg.IsocurveItem(data=values, level=level, pen=pg.mkPen(GRID_RGB, width=1))
                transform = QTransform()
                transform.translate(0.5, 0.5)  # world values are at pixel centres
                transform.scale(step, step)
                curve.setTransform(transform)
                curve.setZValue(44)
                box.addItem(curve, ignoreBounds=True)
                self.grid_items.append(curve)

    def set_grid_visible(self, visible: bool) -> None:
        for item in self.grid_items:
            item.setVisible(visible)


def install(image_view) -> SkyOverlay:
    """Add the habits to ``image_view``; returns its `SkyOverlay` (call ``set_wcs`` per cube)."""
    image_view.installEventFilter(_KeyFilter(image_view))
    _install_contrast_drag(image_view)
    return SkyOverlay(image_view)
