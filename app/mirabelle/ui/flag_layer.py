"""The flag mask on the main image's ViewBox: tinted layer, brush/polygon/eraser input, autosave.

:class:`FlagLayer` puts a :class:`~mirabelle.flags.FlagMask` on the main image's
``pg.ViewBox``: a tinted layer (cyan, brighter outline) above the map overlay, an input
item that takes left clicks and drags only while ``state.flag_mode != "off"``, a brush
circle and the polygon being drawn. It restores a cube's flags on
:meth:`FlagLayer.set_cube` and autosaves them (debounced, ≤ 0.3 s after a change,
:class:`~mirabelle.ui.flag_autosave.FlagAutosave`). The side panel driving it is :mod:`mirabelle.ui.flag_panel`.

Coordinates: the view shows pixel ``(x, y)`` over the square x..x+1, y..y+1, so a view
position ``(vx, vy)`` is the pixel coordinate ``(vx − ½, vy − ½)`` of the mask, whose
pixel centres are integers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem

from mirabelle.errors import FlagsError, MirabelleError
from mirabelle.flags import FlagMask, FlagRegion, autosave_path, find_saved
from mirabelle.ui.flag_autosave import AUTOSAVE_DELAY_MS, FlagAutosave, keep_aside

Z_FLAGS = 20
FLAG_RGB = (0, 229, 255)
FLAG_FILL_ALPHA = 80
FLAG_EDGE_ALPHA = 235


class _FlagInputItem(pg.GraphicsObject):
    """Invisible item over the image (and a margin) taking left clicks/drags in flag modes only."""

    def __init__(self, layer: FlagLayer) -> None:
        super().__init__()
        self._layer = layer
        self._rect = QRectF()
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, True)

    def set_image_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        margin = 0.25 * max(rect.width(), rect.height())
        self._rect = rect.adjusted(-margin, -margin, margin, margin)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._rect

    def paint(self, painter, option, widget=None) -> None:
        pass

    def _active(self) -> bool:
        return self._layer.mode != "off" and self._layer.flags is not None

    def hoverEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.isExit():
            self._layer._on_view_hover(None)
            return
        if self._active():
            ev.acceptDrags(Qt.MouseButton.LeftButton)
            ev.acceptClicks(Qt.MouseButton.LeftButton)
        self._layer._on_view_hover(ev.pos())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if not self._active() or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._layer._on_view_click(ev.pos(), double=ev.double())

    def mouseDragEvent(self, ev) -> None:  # noqa: N802
        if not self._active() or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._layer.begin_brush(ev.buttonDownPos())
        self._layer.continue_brush(ev.pos())
        if ev.isFinish():
            self._layer.end_brush()

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if ev.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._layer.polygon_in_progress:
            self._layer.close_polygon()
            ev.accept()
        elif ev.key() == Qt.Key.Key_Escape and self._layer.polygon_in_progress:
            self._layer.cancel_polygon()
            ev.accept()
        else:
            ev.ignore()


class FlagLayer(QObject):
    """The flag mask drawn on, and edited from, the main image's ViewBox.

    Parameters
    ----------
    view_box : pg.ViewBox
        The image view's box (items in ``[x, y]`` pixel coordinates, y up).
    state : ViewState
        Read: ``flag_mode``, ``brush_radius``. The layer never writes it except
        :meth:`escape` (polygon cancelled or mode set to "off").
    autosave_delay_ms : int
        Debounce of the autosave (≤ 1000 so a crash loses at most a second).

    Signals: ``flags_changed()`` after each change of the mask (painting, undo, restore);
    ``cube_changed()`` after :meth:`set_cube`; ``saved(path)``; ``message(text)`` for the
    status bar (restored flags, autosave failures).
    """

    flags_changed = Signal()
    cube_changed = Signal()
    saved = Signal(str)
    message = Signal(str)

    def __init__(self, view_box: pg.ViewBox, state, parent: QObject | None = None,
                 autosave_delay_ms: int = AUTOSAVE_DELAY_MS, z: float = Z_FLAGS) -> None:
        super().__init__(parent)
        self.view_box = view_box
        self.state = state
        self.flags: FlagMask | None = None
        self.cube_path: Path | None = None
        self.wcs = None
        self.autosave: FlagAutosave | None = None
        self._autosave_delay_ms = autosave_delay_ms
        self._brush_last: tuple[float, float] | None = None
        self._brush_value = True
        self._polygon: list[tuple[float, float]] = []
        self._hover: QPointF | None = None

        lut = np.zeros((3, 4), dtype=np.uint8)
        lut[1] = (*FLAG_RGB, FLAG_FILL_ALPHA)
        lut[2] = (*FLAG_RGB, FLAG_EDGE_ALPHA)
        self._lut = lut
        self._codes: np.ndarray | None = None  # uint8 [x, y]: 0 none, 1 flagged, 2 outline
        self.mask_item = pg.ImageItem(axisOrder="col-major")
        self.mask_item.setZValue(z)
        view_box.addItem(self.mask_item, ignoreBounds=True)

        self.input_item = _FlagInputItem(self)
        self.input_item.setZValue(z + 1)
        view_box.addItem(self.input_item, ignoreBounds=True)

        pen = QPen(QColor(*FLAG_RGB))
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        self.brush_cursor = QGraphicsEllipseItem()
        self.brush_cursor.setPen(pen)
        self.brush_cursor.setZValue(z + 2)
        self.brush_cursor.setVisible(False)
        view_box.addItem(self.brush_cursor, ignoreBounds=True)

        self.polygon_item = pg.PlotDataItem(
            [], [], pen=pg.mkPen(FLAG_RGB, width=1.5, style=Qt.PenStyle.DashLine),
            symbol="o", symbolSize=6, symbolBrush=pg.mkBrush(FLAG_RGB), symbolPen=None,
        )
        self.polygon_item.setZValue(z + 2)
        view_box.addItem(self.polygon_item, ignoreBounds=True)

        state.flag_mode_changed.connect(self._on_model_flag_mode)
        state.brush_radius_changed.connect(self._on_model_brush_radius)
        self._on_model_flag_mode(state.flag_mode)

    # cube -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.state.flag_mode

    def set_cube(self, cube_path: str | Path | None, shape: tuple[int, int] | None = None, wcs=None) -> str:
        """Show the flags of a new cube (``shape`` = (nx, ny)), restoring its saved flags.

        The previous cube's flags are flushed to disk first. Returns a one-line message
        (also emitted as ``message``) saying what was restored; ``cube_path=None`` clears.
        """
        self.flush()
        if self.autosave is not None:
            self.autosave.detach()
            self.autosave.setParent(None)  # else this layer keeps it, and the closed cube's mask, for good
            self.autosave = None
        self._polygon = []
        self.cube_path = None if cube_path is None else Path(cube_path)
        self.wcs = wcs
        text = ""
        if cube_path is None or shape is None:
            self.flags = None
        else:
            nx, ny = (int(v) for v in shape)
            self.flags = FlagMask(nx, ny)
            saved = find_saved(cube_path)
            if saved is not None:
                try:
                    self.flags.load(saved)
                    text = f"Restored {self.flags.count} flagged pixels from {saved}."
                except FlagsError as exc:
                    text = f"Flags not restored: {exc}{keep_aside(saved)}"
            self.flags.changed.append(self._on_model_changed)
            self.autosave = FlagAutosave(self.flags, autosave_path(cube_path), wcs=wcs,
                                         delay_ms=self._autosave_delay_ms, parent=self)
            self.autosave.saved.connect(self.saved)
            self.autosave.failed.connect(self._on_model_autosave_failed)
            self.input_item.set_image_rect(QRectF(0, 0, nx, ny))
        self._redraw_all()
        self._update_polygon_item()
        self._update_cursor()
        self.cube_changed.emit()
        self.flags_changed.emit()
        if text:
            self.message.emit(text)
        return text

    def _on_model_autosave_failed(self, text: str) -> None:
        self.message.emit(f"Flags not autosaved: {text}")

    def flush(self) -> bool:
        """Write unsaved flags now (call on close and before opening another cube)."""
        return True if self.autosave is None else self.autosave.flush()

    @property
    def autosave_file(self) -> Path | None:
        return None if self.autosave is None else self.autosave.path

    # drawing the mask -------------------------------------------------------------------
    def _on_model_changed(self, box) -> None:
        self._redraw_box(box)
        self.flags_changed.emit()

    def _redraw_all(self) -> None:
        if self.flags is None:
            self._codes = None
            self.mask_item.clear()
            return
        self._codes = np.zeros(self.flags.shape, dtype=np.uint8)
        self._redraw_box((0, self.flags.nx, 0, self.flags.ny))

    def _redraw_box(self, box) -> None:
        if self.flags is None or self._codes is None:
            return
        nx, ny = self.flags.shape
        x0, x1, y0, y1 = max(box[0] - 1, 0), min(box[1] + 1, nx), max(box[2] - 1, 0), min(box[3] + 1, ny)
        mask = _window_with_border(self.flags.data, x0, x1, y0, y1)
        inner = mask[1:-1, 1:-1]
        interior = inner & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
        self._codes[x0:x1, y0:y1] = inner.astype(np.uint8) + (inner & ~interior)
        self.mask_item.setImage(self._codes, autoLevels=False, levels=(0, 2), lut=self._lut)

    # editing from the view ------------------------------------------------------------
    @staticmethod
    def _pixel_coords(view_pos) -> tuple[float, float]:
        return float(view_pos.x()) - 0.5, float(view_pos.y()) - 0.5

    def begin_brush(self, view_pos) -> None:
        """Start a brush or eraser stroke at a view position (one undo step until :meth:`end_brush`)."""
        if self.flags is None or self.mode not in ("brush", "eraser"):
            return
        self._brush_value = self.mode == "brush"
        self.flags.begin_stroke()
        x, y = self._pixel_coords(view_pos)
        self._brush_last = (x, y)
        self.flags.paint_disk(x, y, self.state.brush_radius, self._brush_value)

    def continue_brush(self, view_pos) -> None:
        """Paint from the last brush position to ``view_pos``."""
        if self.flags is None or self._brush_last is None:
            return
        x, y = self._pixel_coords(view_pos)
        x0, y0 = self._brush_last
        self.flags.paint_segment(x0, y0, x, y, self.state.brush_radius, self._brush_value)
        self._brush_last = (x, y)
        self._on_view_hover(view_pos)

    def end_brush(self) -> None:
        if self.flags is not None and self._brush_last is not None:
            self.flags.end_stroke()
        self._brush_last = None

    def paint_path(self, view_points) -> None:
        """Paint a whole stroke along view positions, as a drag would (tests, scripting)."""
        points = [QPointF(*p) if not isinstance(p, QPointF) else p for p in view_points]
        if not points:
            return
        self.begin_brush(points[0])
        for p in points[1:]:
            self.continue_brush(p)
        self.end_brush()

    def _on_view_click(self, view_pos, double: bool = False) -> None:
        if self.mode == "polygon":
            if double:
                self.close_polygon()
            else:
                self.add_polygon_vertex(view_pos)
        elif self.mode in ("brush", "eraser"):
            self.paint_path([view_pos])

    @property
    def polygon_in_progress(self) -> bool:
        return bool(self._polygon)

    def add_polygon_vertex(self, view_pos) -> None:
        if self.flags is None:
            return
        self._polygon.append(self._pixel_coords(view_pos))
        self._update_polygon_item()

    def close_polygon(self) -> bool:
        """Fill the polygon drawn so far (even-odd rule) as one undo step; True if it had ≥ 3 vertices."""
        vertices, self._polygon = self._polygon, []
        self._update_polygon_item()
        if self.flags is None or len(vertices) < 3:
            return False
        self.flags.paint_polygon(vertices, True)
        return True

    def cancel_polygon(self) -> None:
        self._polygon = []
        self._update_polygon_item()

    def escape(self) -> None:
        """Esc: cancel a polygon being drawn, else leave flag mode."""
        if self.polygon_in_progress:
            self.cancel_polygon()
        else:
            self.state.flag_mode = "off"

    def undo(self) -> bool:
        return bool(self.flags and self.flags.undo())

    def redo(self) -> bool:
        return bool(self.flags and self.flags.redo())

    # cursor, polygon preview, mode ----------------------------------------------------------
    def _on_model_flag_mode(self, mode: str) -> None:
        if mode != "polygon":
            self.cancel_polygon()
        if mode == "off":
            self.input_item.unsetCursor()
            self.end_brush()
        else:
            self.input_item.setCursor(Qt.CursorShape.CrossCursor)
        self._update_cursor()

    def _on_model_brush_radius(self, _radius) -> None:
        self._update_cursor()

    def _on_view_hover(self, view_pos) -> None:
        self._hover = None if view_pos is None else QPointF(view_pos)
        self._update_cursor()
        if self._polygon:
            self._update_polygon_item()

    def _update_cursor(self) -> None:
        show = self._hover is not None and self.flags is not None and self.mode in ("brush", "eraser")
        self.brush_cursor.setVisible(show)
        if show:
            r = self.state.brush_radius
            self.brush_cursor.setRect(QRectF(self._hover.x() - r, self._hover.y() - r, 2 * r, 2 * r))
            pen = self.brush_cursor.pen()
            pen.setStyle(Qt.PenStyle.DashLine if self.mode == "eraser" else Qt.PenStyle.SolidLine)
            self.brush_cursor.setPen(pen)

    def _update_polygon_item(self) -> None:
        points = [(x + 0.5, y + 0.5) for x, y in self._polygon]
        if points and self._hover is not None:
            points.append((self._hover.x(), self._hover.y()))
        if points:
            points.append(points[0])
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        self.polygon_item.setData(xs, ys)

    def center_on(self, x: float, y: float, box=None) -> None:
        """Centre the view on pixel (x, y), zooming out to show ``box`` (x0, x1, y0, y1) if needed."""
        (vx0, vx1), (vy0, vy1) = self.view_box.viewRange()
        width, height = vx1 - vx0, vy1 - vy0
        if box is not None:
            width = max(width, 1.3 * (box[1] - box[0]))
            height = max(height, 1.3 * (box[3] - box[2]))
        cx, cy = x + 0.5, y + 0.5
        self.view_box.setRange(QRectF(cx - width / 2, cy - height / 2, width, height), padding=0)

    def center_on_region(self, region: FlagRegion) -> None:
        self.center_on(*region.centroid, box=region.box)


def _window_with_border(data: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    """``data[x0:x1, y0:y1]`` with a one-pixel border of neighbours (False outside ``data``)."""
    nx, ny = data.shape
    out = np.zeros((x1 - x0 + 2, y1 - y0 + 2), dtype=bool)
    sx0, sx1, sy0, sy1 = max(x0 - 1, 0), min(x1 + 1, nx), max(y0 - 1, 0), min(y1 + 1, ny)
    out[sx0 - x0 + 1:sx1 - x0 + 1, sy0 - y0 + 1:sy1 - y0 + 1] = data[sx0:sx1, sy0:sy1]
    return out
