"""The main image view: the deep image with stretch/limits/colormap, a histogram, a map overlay
with its colour bar, the selected-pixel marker and the double-score hint layer.

Arrays are shown in Mirabelle's ``[x, y]`` order with pyqtgraph's default col-major axis
order: x to the right, y upwards; pixel (x, y) covers the square x..x+1, y..y+1.
Other widgets add items above the image with :meth:`ImageView.add_layer`; z 10 is the
overlay map, 15 the score hint, 20 flags, 30 the selection marker.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QWidget

from mirabelle.ui import display
from mirabelle.session.registry import auto_limits
from mirabelle.ui.state import FIELDS, MAP_LABELS, ViewState

Z_OVERLAY, Z_HINT, Z_FLAGS, Z_MARKER = 10, 15, 20, 30


SELECT_DRAG_MODIFIER = Qt.KeyboardModifier.ControlModifier
"""Held during a left drag, the drag moves the selected pixel along instead of panning."""


class _ImageViewBox(pg.ViewBox):
    """A ViewBox that leaves left drags to the flag tools while a flag mode is on, and reports
    Ctrl+left drags (``select_dragged``, scene positions) instead of panning."""

    select_dragged = Signal(object)

    def __init__(self, state: ViewState) -> None:
        super().__init__(lockAspect=True, invertY=False, enableMenu=False)
        self._state = state

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.LeftButton:
            if self._state.flag_mode != "off":
                ev.ignore()
                return
            if ev.modifiers() & SELECT_DRAG_MODIFIER:
                ev.accept()
                self.select_dragged.emit(ev.scenePos())
                return
        super().mouseDragEvent(ev, axis)


class ImageView(pg.GraphicsLayoutWidget):
    """Deep image + overlay + histogram + colour bar, mirroring a :class:`ViewState`."""

    pixel_hovered = Signal(object)  # (x, y) inside the image, or None
    overlay_limits_shown = Signal(str, float, float)  # map name, limits in use (auto or user)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
        self.ci.layout.setContentsMargins(2, 2, 2, 2)

        self.view_box = _ImageViewBox(state)
        self.view_box.setDefaultPadding(0.01)
        self.addItem(self.view_box, row=0, col=0)
        # autoDownsample: render at screen resolution, so a 2k × 2k cube draws as fast as a small one
        self.image_item = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.view_box.addItem(self.image_item)

        self.overlay_item = pg.ImageItem(axisOrder="col-major", autoDownsample=True)
        self.overlay_item.setNanPolicy("omit")  # a block with one unmeasured pixel still shows
        self.overlay_item.setZValue(Z_OVERLAY)
        self.overlay_item.setVisible(False)
        self.view_box.addItem(self.overlay_item, ignoreBounds=True)

        # the double-score hint: outlines in white over black, visible on every colormap and
        # leaving the overlay's colours (true to its colour bar) untouched inside
        self.hint_shadow = self._hint_path(QColor(0, 0, 0, 230), 3.0)
        self.hint_item = self._hint_path(QColor(255, 255, 255), 1.2)

        # the selection marker: a bright outline over a dark one, visible on any colormap
        self.marker_shadow = self._marker_rect(QColor(0, 0, 0, 200), 4.0)
        self.marker = self._marker_rect(QColor(255, 220, 0), 2.0)
        self.marker_cross_shadow = pg.ScatterPlotItem(
            size=26, symbol="+", pen=pg.mkPen(0, 0, 0, 200, width=4), brush=None, pxMode=True)
        self.marker_cross = pg.ScatterPlotItem(
            size=26, symbol="+", pen=pg.mkPen(255, 220, 0, width=1.5), brush=None, pxMode=True)
        for item in (self.marker_cross_shadow, self.marker_cross):
            item.setData([0.5], [0.5])  # pixel (0, 0)'s centre; a selection moves the item (setPos)
            item.setZValue(Z_MARKER)
            item.setVisible(False)
            self.view_box.addItem(item, ignoreBounds=True)

        self.colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=display.colormap("viridis"), interactive=True, width=18,
            label="", rounding=1e-6,
        )
        self.colorbar.setImageItem(self.overlay_item)
        self.colorbar.axis.enableAutoSIPrefix(False)  # dex, km/s: no "(x0.001)" rescaling of the label
        self.addItem(self.colorbar, row=0, col=1)
        self.colorbar.setVisible(state.overlay_map is not None)  # as _update_overlay_visibility: no re-layout later

        self.histogram = display.histogram_lut_item()
        self.histogram.gradient.setColorMap(display.colormap(state.colormap))
        self.histogram.gradient.showTicks(False)
        self.histogram.gradient.setEnabled(False)
        self.histogram.setMaximumWidth(110)
        self.addItem(self.histogram, row=0, col=2)

        self._deep: np.ndarray | None = None
        self._overlay_data: np.ndarray | None = None
        self._overlay_name: str | None = None
        self._hint_score: np.ndarray | None = None
        self._overlay_cmap_name: str | None = None
        self._overlay_label: str | None = None

        self.scene().sigMouseMoved.connect(self._on_view_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_view_mouse_clicked)
        self.view_box.select_dragged.connect(self._on_view_select_dragged)
        self.histogram.sigLevelsChanged.connect(self._on_view_levels_changed)
        self.colorbar.sigLevelsChangeFinished.connect(self._on_view_overlay_levels)

        state.stretch_changed.connect(self._apply_lut)
        state.colormap_changed.connect(self._on_model_colormap)
        state.limits_mode_changed.connect(self._on_model_limits_mode)
        state.limits_changed.connect(self._on_model_limits)
        state.cube_path_changed.connect(self._on_model_cube_path)
        state.selected_pixel_changed.connect(self._on_model_selected_pixel)
        state.overlay_map_changed.connect(lambda _: self.refresh_overlay())
        state.overlay_visible_changed.connect(lambda _: self._update_overlay_visibility())
        state.overlay_opacity_changed.connect(self.overlay_item.setOpacity)
        state.overlay_limits_changed.connect(self._on_model_overlay_limits)
        state.overlay_colormap_changed.connect(self._on_model_overlay_colormap)
        state.flag_hint_visible_changed.connect(lambda _: self._update_hint())
        state.flag_hint_threshold_changed.connect(lambda _: self._update_hint())
        self.overlay_item.setOpacity(state.overlay_opacity)
        self._apply_lut()

    def _marker_rect(self, color: QColor, width: float) -> QGraphicsRectItem:
        return self._outline(QGraphicsRectItem(QRectF(0, 0, 1, 1)), color, width, Z_MARKER)

    def _hint_path(self, color: QColor, width: float) -> QGraphicsPathItem:
        return self._outline(QGraphicsPathItem(), color, width, Z_HINT)

    def _outline(self, item, color: QColor, width: float, z: float):
        """``item`` drawn with a cosmetic pen (the same width on screen at every zoom), hidden until used."""
        pen = QPen(color)
        pen.setCosmetic(True)
        pen.setWidthF(width)
        item.setPen(pen)
        item.setZValue(z)
        item.setVisible(False)
        self.view_box.addItem(item, ignoreBounds=True)
        return item

    # layers ---------------------------------------------------------------------------
    def add_layer(self, item, z: float = Z_FLAGS) -> None:
        """Add a graphics item above the deep image, in pixel coordinates."""
        item.setZValue(z)
        self.view_box.addItem(item, ignoreBounds=True)

    @property
    def image_shape(self) -> tuple[int, int] | None:
        return None if self._deep is None else self._deep.shape

    @property
    def deep_image(self) -> np.ndarray | None:
        return self._deep

    # deep image --------------------------------------------------------------------------
    def set_deep_image(self, image: np.ndarray | None) -> None:
        """Show ``image`` ([x, y]); levels follow the state's limits mode."""
        self._deep = None if image is None else np.asarray(image, dtype=np.float32)
        if self._deep is None:  # no cube: the bars go back to the empty window's 0..1
            self.image_item.clear()
            self.histogram.plot.setData([], [])
            with QSignalBlocker(self.histogram), QSignalBlocker(self.colorbar):
                self.histogram.setHistogramRange(0.0, 1.0)
                self.histogram.setLevels(0.0, 1.0)
                self.colorbar.setLevels((0.0, 1.0))
            return
        self.image_item.setImage(self._deep, autoLevels=False)
        centres, counts = display.histogram(self._deep)
        self.histogram.plot.setData(centres, counts)
        self.histogram.setHistogramRange(float(centres[0]), float(centres[-1]), padding=0.05)
        self._on_model_limits_mode(self.state.limits_mode)
        self._apply_levels()
        self.view_box.autoRange(padding=0.01)
        self._on_model_selected_pixel(self.state.selected_pixel)

    def _on_model_limits_mode(self, mode: str) -> None:
        if self._deep is None:
            return
        if mode != "manual" or self.state.limits is None:
            self.state.limits = display.compute_limits(self._deep, mode)

    def _on_model_cube_path(self, path) -> None:
        """Manual limits belong to one cube: another cube starts on the automatic default, and
        no cube shows no limits."""
        if self.state.limits_mode == "manual":
            self.state.limits_mode = FIELDS["limits_mode"][0]
        if path is None:
            self.state.limits = None

    def _on_model_limits(self, _limits) -> None:
        self._apply_levels()

    def _apply_levels(self) -> None:
        limits = self.state.limits
        if self._deep is None or limits is None:
            return
        self.image_item.setLevels(limits)
        with QSignalBlocker(self.histogram):
            self.histogram.setLevels(*limits)

    def _on_view_levels_changed(self, _item) -> None:
        low, high = self.histogram.getLevels()
        if (low, high) == self.state.limits:
            return
        self.state.limits_mode = "manual"
        self.state.limits = (low, high)

    def _on_model_colormap(self, name: str) -> None:
        self.histogram.gradient.setColorMap(display.colormap(name))
        self.histogram.gradient.showTicks(False)
        self._apply_lut()

    def _apply_lut(self, *_args) -> None:
        self.image_item.setLookupTable(display.stretched_lut(self.state.colormap, self.state.stretch))

    # overlay -------------------------------------------------------------------------
    def set_overlay_data(self, name: str | None, data: np.ndarray | None) -> None:
        """Give the view the current array of map ``name`` ([x, y], NaN where not computed)."""
        self._overlay_name = name
        self._overlay_data = None if data is None else np.asarray(data, dtype=np.float32)
        self.refresh_overlay()

    def refresh_overlay(self) -> None:
        name = self.state.overlay_map
        data = self._overlay_data if name == self._overlay_name else None
        if name is None or data is None:
            self._update_overlay_visibility()
            return
        limits = self.state.overlay_limits_for(name) or _auto_overlay_limits(name, data)
        cmap_name = self.state.overlay_colormap_for(name)
        self.overlay_item.setImage(data, autoLevels=False, levels=limits)
        self.overlay_limits_shown.emit(name, float(limits[0]), float(limits[1]))
        with QSignalBlocker(self.colorbar):
            if self._overlay_cmap_name != cmap_name:
                self.colorbar.setColorMap(display.colormap(cmap_name))
                self._overlay_cmap_name = cmap_name
            self.colorbar.setLevels(limits)
            if self._overlay_label != name:
                self.colorbar.getAxis("right").setLabel(MAP_LABELS.get(name, name))
                self._overlay_label = name
        self._update_overlay_visibility()

    def _update_overlay_visibility(self) -> None:
        has = self.state.overlay_map is not None and self._overlay_data is not None \
            and self._overlay_name == self.state.overlay_map
        self.overlay_item.setVisible(bool(has and self.state.overlay_visible))
        # the colour bar shows as soon as a map is chosen, so no re-layout (a full repaint)
        # happens when the first tile of that map arrives
        self.colorbar.setVisible(self.state.overlay_map is not None)
        if self.state.overlay_map is not None and self._overlay_label != self.state.overlay_map:
            self.colorbar.getAxis("right").setLabel(MAP_LABELS.get(self.state.overlay_map, self.state.overlay_map))
            self._overlay_label = self.state.overlay_map

    def _on_model_overlay_limits(self, map_name: str) -> None:
        if map_name == self.state.overlay_map:
            self.refresh_overlay()

    def _on_model_overlay_colormap(self, map_name: str) -> None:
        if map_name == self.state.overlay_map:
            self.refresh_overlay()

    def _on_view_overlay_levels(self, _bar) -> None:
        name = self.state.overlay_map
        if name is not None:
            self.state.set_overlay_limits(name, tuple(float(v) for v in self.colorbar.levels()))

    # double-score hint -----------------------------------------------------------------
    def set_hint_score(self, score: np.ndarray | None) -> None:
        """The double-component score map ([x, y], 0..1, NaN unknown) for the hint layer."""
        self._hint_score = score
        self._update_hint()

    def _update_hint(self) -> None:
        score = self._hint_score
        if not self.state.flag_hint_visible or score is None:
            self.hint_shadow.setVisible(False)
            self.hint_item.setVisible(False)
            return
        with np.errstate(invalid="ignore"):
            high = np.asarray(score) >= self.state.flag_hint_threshold
        xs, ys = display.mask_edges(high)
        path = pg.arrayToQPath(xs, ys, connect="pairs")
        for item in (self.hint_shadow, self.hint_item):
            item.setPath(path)
            item.setVisible(True)

    # selection and mouse -------------------------------------------------------------
    def _on_model_selected_pixel(self, pixel) -> None:
        shown = pixel is not None and self._deep is not None
        # moved, not rebuilt: a held arrow key moves it up to 60 times a second
        for item in (self.marker_shadow, self.marker, self.marker_cross_shadow, self.marker_cross):
            item.setVisible(shown)
            if shown:
                item.setPos(pixel[0], pixel[1])

    def pixel_at_scene(self, scene_pos) -> tuple[int, int] | None:
        """The image pixel under a scene position, or None outside the image."""
        if self._deep is None or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view_box.mapSceneToView(scene_pos)
        x, y = math.floor(p.x()), math.floor(p.y())
        nx, ny = self._deep.shape
        if 0 <= x < nx and 0 <= y < ny:
            return (x, y)
        return None

    def _on_view_mouse_moved(self, scene_pos) -> None:
        self.pixel_hovered.emit(self.pixel_at_scene(scene_pos))

    def _on_view_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.state.flag_mode != "off":
            return
        pixel = self.pixel_at_scene(ev.scenePos())
        if pixel is not None:
            self.setFocus()
            self.state.selected_pixel = pixel

    def _on_view_select_dragged(self, scene_pos) -> None:
        pixel = self.pixel_at_scene(scene_pos)
        if pixel is not None and pixel != self.state.selected_pixel:
            self.state.selected_pixel = pixel

    def move_selection(self, dx: int, dy: int) -> None:
        """Move the selected pixel by (dx, dy), clamped to the image (y up)."""
        if self._deep is None:
            return
        nx, ny = self._deep.shape
        x, y = self.state.selected_pixel or (nx // 2, ny // 2)
        self.state.selected_pixel = (min(max(x + dx, 0), nx - 1), min(max(y + dy, 0), ny - 1))

    def keyPressEvent(self, ev: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        step = 10 if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        moves = {
            Qt.Key.Key_Left: (-step, 0), Qt.Key.Key_Right: (step, 0),
            Qt.Key.Key_Up: (0, step), Qt.Key.Key_Down: (0, -step),
        }
        if ev.key() in moves:
            self.move_selection(*moves[ev.key()])
            ev.accept()
            return
        super().keyPressEvent(ev)


def _auto_overlay_limits(name: str, data: np.ndarray) -> tuple[float, float]:
    return auto_limits(name, data, sample=display.finite_sample(data))
