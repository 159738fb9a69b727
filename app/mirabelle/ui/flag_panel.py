"""The flags side panel: mode buttons, brush size, undo/redo, flagged regions, hint toggle, exports.

:class:`FlagPanel` drives a :class:`~mirabelle.ui.flag_layer.FlagLayer` and mirrors the
state's flag fields (mode, brush radius, double-score hint); the region list is
recomputed debounced after edits, and a click on a region centres the view on it.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirabelle.errors import FlagsError, MirabelleError
from mirabelle.flags import FlagMask, FlagRegion, write_ds9_regions, write_fits_mask
from mirabelle.ui.flag_layer import FlagLayer

REGIONS_DELAY_MS = 150
MODE_KEYS = {"brush": "B", "polygon": "P", "eraser": "E"}


def _tool_button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setMinimumWidth(64)
    return button


class FlagPanel(QWidget):
    """Side panel driving a :class:`FlagLayer` and mirroring the state's flag fields.

    Shortcuts (window-wide while the panel is shown; ``actions`` lists them): B brush,
    P polygon, E eraser, Esc cancel polygon / leave flag mode, [ and ] brush size,
    Ctrl+Z undo, Ctrl+Shift+Z (and Ctrl+Y) redo.
    """

    def __init__(self, layer: FlagLayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.state = layer.state
        self._regions: list[FlagRegion] = []

        self.mode_buttons: dict[str, QToolButton] = {}
        modes = QHBoxLayout()
        modes.setSpacing(4)
        for mode, label in (("brush", "Brush"), ("polygon", "Polygon"), ("eraser", "Eraser")):
            key = MODE_KEYS[mode]
            button = _tool_button(f"{label} ({key})", f"{label} tool — press {key}; again or Esc to stop", True)
            button.clicked.connect(self._on_view_mode_button)
            button.setProperty("flag_mode", mode)
            self.mode_buttons[mode] = button
            modes.addWidget(button)
        modes.addStretch(1)

        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(1, 60)
        self.size_slider.setToolTip("Brush radius in image pixels ([ and ] keys)")
        self.size_spin = QDoubleSpinBox()
        self.size_spin.setRange(0.5, 200.0)
        self.size_spin.setSingleStep(0.5)
        self.size_spin.setDecimals(1)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip(self.size_slider.toolTip())
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Brush radius"))
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_spin)

        self.undo_button = _tool_button("Undo", "Undo the last stroke (Ctrl+Z)")
        self.redo_button = _tool_button("Redo", "Redo (Ctrl+Shift+Z)")
        self.clear_button = _tool_button("Clear all", "Unflag every pixel (can be undone)")
        history = QHBoxLayout()
        for button in (self.undo_button, self.redo_button, self.clear_button):
            history.addWidget(button)
        history.addStretch(1)

        self.hint_check = QCheckBox("Highlight likely doubles, score ≥")
        self.hint_check.setToolTip("Outline pixels whose double-component score (CNN) is at least the threshold")
        self.hint_spin = QDoubleSpinBox()
        self.hint_spin.setRange(0.0, 1.0)
        self.hint_spin.setSingleStep(0.05)
        self.hint_spin.setDecimals(2)
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.hint_check)
        hint_row.addWidget(self.hint_spin)
        hint_row.addStretch(1)

        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.region_list = QListWidget()
        self.region_list.setToolTip("Select a region to centre the view on it; Delete unflags it")
        self.region_list.setMinimumHeight(72)
        self.region_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.region_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.delete_region_button = QPushButton("Delete region")
        self.delete_region_button.setToolTip("Unflag the selected region (Delete; undo with Ctrl+Z)")
        self.delete_region_button.setEnabled(False)
        self.save_label = QLabel()
        self.save_label.setWordWrap(True)
        self.save_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_label.setStyleSheet("color: palette(mid);")

        self.export_mask_button = QPushButton("Export mask (FITS)…")
        self.export_regions_button = QPushButton("Export regions (DS9)…")
        exports = QGridLayout()  # one button a row: no label truncated at any window width
        exports.addWidget(self.delete_region_button, 0, 0)
        exports.addWidget(self.export_mask_button, 1, 0)
        exports.addWidget(self.export_regions_button, 2, 0)

        tools = QGroupBox("Flag double components")
        grid = QGridLayout(tools)
        grid.addLayout(modes, 0, 0)
        grid.addLayout(size_row, 1, 0)
        grid.addLayout(history, 2, 0)
        grid.addLayout(hint_row, 3, 0)
        regions_box = QGroupBox("Flagged regions")
        regions_layout = QVBoxLayout(regions_box)
        regions_layout.addWidget(self.summary_label)
        regions_layout.addWidget(self.region_list, 1)
        regions_layout.addLayout(exports)
        regions_layout.addWidget(self.save_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(tools)
        layout.addWidget(regions_box, 1)

        self.actions_by_name: dict[str, QAction] = {}
        self._add_action("brush", "B", self._toggle_brush)
        self._add_action("polygon", "P", self._toggle_polygon)
        self._add_action("eraser", "E", self._toggle_eraser)
        self._add_action("escape", "Esc", self.layer.escape)
        self._add_action("smaller", "[", self._brush_smaller)
        self._add_action("larger", "]", self._brush_larger)
        self._add_action("undo", QKeySequence.StandardKey.Undo, self.layer.undo)
        self._add_action("redo", "Ctrl+Shift+Z", self.layer.redo)
        self.actions_by_name["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])

        self._regions_timer = QTimer(self)
        self._regions_timer.setSingleShot(True)
        self._regions_timer.setInterval(REGIONS_DELAY_MS)
        self._regions_timer.timeout.connect(self.refresh_regions)

        self.size_slider.valueChanged.connect(self._on_view_slider)
        self.size_spin.valueChanged.connect(self._on_view_radius)
        self.undo_button.clicked.connect(self.layer.undo)
        self.redo_button.clicked.connect(self.layer.redo)
        self.clear_button.clicked.connect(self._on_view_clear)
        self.hint_check.toggled.connect(self._on_view_hint_visible)
        self.hint_spin.valueChanged.connect(self._on_view_hint_threshold)
        self.region_list.itemClicked.connect(self._on_view_region_clicked)
        self.region_list.currentRowChanged.connect(self._on_view_region_selected)
        self.delete_region_button.clicked.connect(self.delete_selected_region)
        delete = QAction("Delete region", self.region_list)
        delete.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence(Qt.Key.Key_Backspace)])
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete_selected_region)
        self.region_list.addAction(delete)
        self.export_mask_button.clicked.connect(self._ask_and_export_mask)
        self.export_regions_button.clicked.connect(self._ask_and_export_regions)
        self.state.flag_mode_changed.connect(self._on_model_flag_mode)
        self.state.brush_radius_changed.connect(self._on_model_radius)
        self.state.flag_hint_visible_changed.connect(self._on_model_hint)
        self.state.flag_hint_threshold_changed.connect(self._on_model_hint)
        layer.flags_changed.connect(self._on_model_flags_changed)
        layer.cube_changed.connect(self.refresh_regions)
        layer.saved.connect(self._on_model_saved)
        layer.message.connect(self.save_label.setText)

        self._on_model_flag_mode(self.state.flag_mode)
        self._on_model_radius(self.state.brush_radius)
        self._on_model_hint()
        self.refresh_regions()

    @property
    def actions(self) -> list[QAction]:
        return list(self.actions_by_name.values())

    def _add_action(self, name: str, key, slot) -> None:
        action = QAction(name.capitalize(), self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        self.actions_by_name[name] = action

    # view -> state ------------------------------------------------------------------------
    def _on_view_mode_button(self) -> None:
        button = self.sender()
        mode = button.property("flag_mode")
        self.state.flag_mode = mode if button.isChecked() else "off"

    def _on_view_clear(self) -> None:
        if self.layer.flags is not None:
            self.layer.flags.clear()

    def _on_view_hint_visible(self, visible: bool) -> None:
        self.state.flag_hint_visible = bool(visible)

    def _on_view_hint_threshold(self, value: float) -> None:
        self.state.flag_hint_threshold = float(value)

    def _on_view_slider(self, value: int) -> None:
        self._on_view_radius(float(value))

    def _toggle_mode(self, mode: str) -> None:
        self.state.flag_mode = "off" if self.state.flag_mode == mode else mode

    def _toggle_brush(self) -> None:
        self._toggle_mode("brush")

    def _toggle_polygon(self) -> None:
        self._toggle_mode("polygon")

    def _toggle_eraser(self) -> None:
        self._toggle_mode("eraser")

    def _brush_smaller(self) -> None:
        self.step_brush(-1)

    def _brush_larger(self) -> None:
        self.step_brush(+1)

    def _on_view_radius(self, radius: float) -> None:
        self.state.brush_radius = min(max(radius, 0.5), 200.0)

    def step_brush(self, direction: int) -> None:
        """Grow (+1) or shrink (−1) the brush by about 20 %, at least half a pixel."""
        r = self.state.brush_radius
        step = max(0.5, round(0.2 * r * 2) / 2)
        self.state.brush_radius = min(max(r + direction * step, 0.5), 200.0)

    def _on_view_region_clicked(self, item: QListWidgetItem) -> None:
        self._on_view_region_selected(self.region_list.row(item))

    def _on_view_region_selected(self, index: int) -> None:
        """Centre the view on the selected region (click or arrow keys)."""
        self.delete_region_button.setEnabled(0 <= index < len(self._regions))
        if 0 <= index < len(self._regions):
            self.layer.center_on_region(self._regions[index])

    def delete_selected_region(self) -> None:
        """Unflag the selected region (one undo step); the list refreshes after the edit."""
        index = self.region_list.currentRow()
        flags = self.layer.flags
        if flags is not None and 0 <= index < len(self._regions) and flags.erase_region(self._regions[index]):
            self.refresh_regions()
            self.region_list.setCurrentRow(min(index, len(self._regions) - 1))

    # state -> view ------------------------------------------------------------------------
    def _on_model_flag_mode(self, mode: str) -> None:
        for name, button in self.mode_buttons.items():
            with QSignalBlocker(button):
                button.setChecked(name == mode)

    def _on_model_radius(self, radius: float) -> None:
        with QSignalBlocker(self.size_spin), QSignalBlocker(self.size_slider):
            self.size_spin.setValue(radius)
            self.size_slider.setValue(int(round(min(max(radius, 1), 60))))

    def _on_model_hint(self, *_args) -> None:
        with QSignalBlocker(self.hint_check), QSignalBlocker(self.hint_spin):
            self.hint_check.setChecked(bool(self.state.flag_hint_visible))
            self.hint_spin.setValue(float(self.state.flag_hint_threshold))

    def _on_model_flags_changed(self) -> None:
        flags = self.layer.flags
        self.undo_button.setEnabled(bool(flags and flags.can_undo))
        self.redo_button.setEnabled(bool(flags and flags.can_redo))
        self._regions_timer.start()

    def _on_model_saved(self, path: str) -> None:
        self.save_label.setText(f"Autosaved {time.strftime('%H:%M:%S')} to {path}")

    def refresh_regions(self) -> None:
        """Recompute the list of flagged regions (debounced after edits)."""
        self._regions_timer.stop()
        flags = self.layer.flags
        self._regions = flags.regions() if flags is not None else []
        pixel_arcsec2 = _pixel_area_arcsec2(self.layer.wcs)
        with QSignalBlocker(self.region_list):  # rebuilding the list is no selection
            self.region_list.clear()
            for region in self._regions:
                x, y = region.centroid
                sky = f" ({region.n_pixels * pixel_arcsec2:.4g} arcsec²)" if pixel_arcsec2 else ""
                self.region_list.addItem(f"{region.label}. {region.n_pixels} px{sky} at ({x:.0f}, {y:.0f})")
        self.delete_region_button.setEnabled(False)
        if flags is None:
            self.summary_label.setText("Open a cube to flag pixels.")
        elif not self._regions:
            self.summary_label.setText("No pixels flagged. Pick Brush (B) or Polygon (P) and paint on the image.")
        else:
            n = len(self._regions)
            self.summary_label.setText(f"{flags.count} pixels flagged in {n} region{'s' if n > 1 else ''}.")
        has_cube = flags is not None  # no cube: nothing to paint, nothing restored
        for mode, button in self.mode_buttons.items():
            button.setEnabled(has_cube)
            self.actions_by_name[mode].setEnabled(has_cube)
        self.clear_button.setEnabled(bool(flags and flags.count))
        if not has_cube:
            self.state.flag_mode = "off"
            self.save_label.clear()
        has = bool(self._regions)
        self.export_mask_button.setEnabled(flags is not None)
        self.export_regions_button.setEnabled(has)
        self.undo_button.setEnabled(bool(flags and flags.can_undo))
        self.redo_button.setEnabled(bool(flags and flags.can_redo))

    @property
    def regions(self) -> list[FlagRegion]:
        return list(self._regions)

    # exports ---------------------------------------------------------------------------------
    def export_mask(self, path: str | Path) -> Path:
        """Write the flags as a uint8 FITS mask with the cube's WCS (raises ExportError)."""
        return write_fits_mask(path, self._require_flags().data, self.layer.wcs)

    def export_regions(self, path: str | Path) -> Path:
        """Write the flagged regions' outlines as a DS9 region file (raises ExportError)."""
        return write_ds9_regions(path, self._require_flags().data, self.layer.wcs)

    def _require_flags(self) -> FlagMask:
        if self.layer.flags is None:
            raise FlagsError("No cube is open; expected flags to export, found none.")
        return self.layer.flags

    def _ask_and_export_mask(self) -> None:
        self._ask_and_export("mask")

    def _ask_and_export_regions(self) -> None:
        self._ask_and_export("regions")

    def _ask_and_export(self, kind: str) -> None:
        from mirabelle.ui.errors import show_error

        cube = self.layer.cube_path
        folder = str(cube.parent) if cube is not None else ""
        stem = cube.name.split(".")[0] if cube is not None else "flags"
        if kind == "mask":
            default, filters = f"{folder}/{stem}_flags_double.fits", "FITS mask (*.fits)"
        else:
            default, filters = f"{folder}/{stem}_flags_double.reg", "DS9 regions (*.reg)"
        path, _ = QFileDialog.getSaveFileName(self, "Export flags", default, filters)
        if not path:
            return
        try:
            written = self.export_mask(path) if kind == "mask" else self.export_regions(path)
        except MirabelleError as exc:
            show_error(self, exc, "Export flags")
            return
        self.save_label.setText(f"Exported {written}")


def _pixel_area_arcsec2(wcs) -> float | None:
    """Sky area of one pixel in arcsec² from a celestial WCS, or None without one."""
    if wcs is None:
        return None
    try:
        from astropy.wcs.utils import proj_plane_pixel_area

        return float(proj_plane_pixel_area(wcs.celestial)) * 3600.0 ** 2
    except Exception:  # noqa: BLE001 - an odd WCS only loses the area in arcsec²
        return None
