"""The display controls panel: stretch, limits, colormap and the map overlay, mirroring ViewState."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from mirabelle.ui.number_field import NumberSpinBox
from mirabelle.ui.state import COLORMAPS, MAP_LABELS, MAP_NAMES, STRETCHES, ViewState

LIMIT_LABELS = {"minmax": "min / max", "99.5": "99.5 %", "zscale": "z-scale", "manual": "manual"}


def _spin() -> NumberSpinBox:
    """A limit field: any magnitude (flux-calibrated cubes are ~1e-17), typed or stepped."""
    box = NumberSpinBox()
    box.setSpecialValueText("—")  # shown at the minimum: no limits yet
    box.setMinimumWidth(80)
    return box


def _set_combo(combo: QComboBox, data) -> None:
    with QSignalBlocker(combo):
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)


class DisplayControls(QWidget):
    """Widgets for the deep image display and the overlay; they read and write ``state``."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        image_box = QGroupBox("Deep image")
        form = QFormLayout(image_box)
        self.stretch_combo = QComboBox()
        for name in STRETCHES:
            self.stretch_combo.addItem(name, name)
        form.addRow("Stretch", self.stretch_combo)
        self.limits_combo = QComboBox()
        for mode, label in LIMIT_LABELS.items():
            self.limits_combo.addItem(label, mode)
        form.addRow("Limits", self.limits_combo)
        self.low_spin, self.high_spin = _spin(), _spin()
        row = QHBoxLayout()
        row.addWidget(self.low_spin)
        row.addWidget(self.high_spin)
        form.addRow("Low / high", row)
        self.colormap_combo = QComboBox()
        for name in COLORMAPS:
            self.colormap_combo.addItem(name, name)
        form.addRow("Colormap", self.colormap_combo)
        layout.addWidget(image_box)

        overlay_box = QGroupBox("Map overlay")
        form = QFormLayout(overlay_box)
        self.map_combo = QComboBox()
        self.map_combo.addItem("none", None)
        for name in MAP_NAMES:
            self.map_combo.addItem(MAP_LABELS[name], name)
        form.addRow("Map", self.map_combo)
        self.visible_check = QCheckBox("Show overlay (V)")
        form.addRow(self.visible_check)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        form.addRow("Opacity", self.opacity_slider)
        self.overlay_cmap_combo = QComboBox()
        for name in COLORMAPS:
            self.overlay_cmap_combo.addItem(name, name)
        form.addRow("Colormap", self.overlay_cmap_combo)
        self.overlay_auto_check = QCheckBox("Automatic limits")
        form.addRow(self.overlay_auto_check)
        self.overlay_low_spin, self.overlay_high_spin = _spin(), _spin()
        row = QHBoxLayout()
        row.addWidget(self.overlay_low_spin)
        row.addWidget(self.overlay_high_spin)
        form.addRow("Low / high", row)
        layout.addWidget(overlay_box)
        layout.addStretch(1)

        # view -> state
        self.stretch_combo.currentIndexChanged.connect(
            lambda _: setattr(state, "stretch", self.stretch_combo.currentData()))
        self.limits_combo.currentIndexChanged.connect(
            lambda _: setattr(state, "limits_mode", self.limits_combo.currentData()))
        self.low_spin.valueChanged.connect(self._on_view_limits)
        self.high_spin.valueChanged.connect(self._on_view_limits)
        self.colormap_combo.currentIndexChanged.connect(
            lambda _: setattr(state, "colormap", self.colormap_combo.currentData()))
        self.map_combo.currentIndexChanged.connect(
            lambda _: setattr(state, "overlay_map", self.map_combo.currentData()))
        self.visible_check.toggled.connect(lambda on: setattr(state, "overlay_visible", on))
        self.opacity_slider.valueChanged.connect(lambda v: setattr(state, "overlay_opacity", v / 100.0))
        self.overlay_cmap_combo.currentIndexChanged.connect(self._on_view_overlay_cmap)
        self.overlay_auto_check.toggled.connect(self._on_view_overlay_auto)
        self.overlay_low_spin.valueChanged.connect(self._on_view_overlay_limits)
        self.overlay_high_spin.valueChanged.connect(self._on_view_overlay_limits)

        # state -> view
        state.changed.connect(self._on_model_changed)
        self.sync_from_state()

    def set_overlay_auto_limits(self, map_name: str, low: float, high: float) -> None:
        """Show the automatic limits the view computed for ``map_name`` (display only)."""
        if map_name == self.state.overlay_map and self.state.overlay_limits_for(map_name) is None:
            for box, value in ((self.overlay_low_spin, low), (self.overlay_high_spin, high)):
                with QSignalBlocker(box):
                    box.setValue(value)

    def sync_from_state(self) -> None:
        s = self.state
        _set_combo(self.stretch_combo, s.stretch)
        _set_combo(self.limits_combo, s.limits_mode)
        _set_combo(self.colormap_combo, s.colormap)
        _set_combo(self.map_combo, s.overlay_map)
        with QSignalBlocker(self.visible_check):
            self.visible_check.setChecked(s.overlay_visible)
        with QSignalBlocker(self.opacity_slider):
            self.opacity_slider.setValue(round(s.overlay_opacity * 100))
        for box, value in zip((self.low_spin, self.high_spin), s.limits or (None, None)):
            with QSignalBlocker(box):  # no image: '—' rather than another cube's limits
                box.setValue(box.minimum() if value is None else value)
            box.setEnabled(value is not None)
        name = s.overlay_map
        enabled = name is not None
        for widget in (self.overlay_cmap_combo, self.overlay_auto_check, self.overlay_low_spin,
                       self.overlay_high_spin):
            widget.setEnabled(enabled)
        if enabled:
            _set_combo(self.overlay_cmap_combo, s.overlay_colormap_for(name))
            limits = s.overlay_limits_for(name)
            with QSignalBlocker(self.overlay_auto_check):
                self.overlay_auto_check.setChecked(limits is None)
            self.overlay_low_spin.setEnabled(limits is not None)
            self.overlay_high_spin.setEnabled(limits is not None)
            if limits is not None:
                for box, value in ((self.overlay_low_spin, limits[0]), (self.overlay_high_spin, limits[1])):
                    with QSignalBlocker(box):
                        box.setValue(value)

    MIRRORED = {"stretch", "limits_mode", "limits", "colormap", "overlay_map", "overlay_visible",
                "overlay_opacity", "overlay_limits", "overlay_colormap"}

    def _on_model_changed(self, name: str) -> None:
        if name in self.MIRRORED:  # not on every click (selected_pixel) or flag change
            self.sync_from_state()

    def _on_view_limits(self, _value: float) -> None:
        low, high = self.low_spin.value(), self.high_spin.value()
        if high > low:
            self.state.limits_mode = "manual"
            self.state.limits = (low, high)

    def _on_view_overlay_cmap(self, _index: int) -> None:
        if self.state.overlay_map is not None:
            self.state.set_overlay_colormap(self.state.overlay_map, self.overlay_cmap_combo.currentData())

    def _on_view_overlay_auto(self, auto: bool) -> None:
        name = self.state.overlay_map
        if name is None:
            return
        if auto:
            self.state.set_overlay_limits(name, None)
        else:
            self.state.set_overlay_limits(name, (self.overlay_low_spin.value(), self.overlay_high_spin.value()))

    def _on_view_overlay_limits(self, _value: float) -> None:
        name = self.state.overlay_map
        low, high = self.overlay_low_spin.value(), self.overlay_high_spin.value()
        if name is not None and high > low:
            self.state.set_overlay_limits(name, (low, high))
