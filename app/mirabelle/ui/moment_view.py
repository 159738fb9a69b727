"""Line (moment) maps in the window: a band picked on the spectrum plot, or a line ± a width
about the systemic velocity or each pixel's CNN velocity; moments 0, 1 and 2 computed in the
background tile by tile (`mirabelle.analysis.moments.iter_moments`), drawn as they fill in,
shown in the dock with a colour bar in their unit and optionally over the image.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)
from shiboken6 import isValid

from mirabelle.analysis.bands import DEFAULT_WIDTH_KMS, LineBand, WavenumberBand
from mirabelle.analysis.moments import iter_moments
from mirabelle.lines.constants import LINE_LABELS, LINE_NAMES, REST_NM
from mirabelle.lines.kinematics import line_position_cm1
from mirabelle.ui import tasks
from mirabelle.ui.display import colormap, compute_limits

MOMENTS = {"moment0": ("Moment 0", "ct cm⁻¹", "inferno"), "moment1": ("Moment 1", "km/s", "coolwarm"),
           "moment2": ("Moment 2", "km/s", "viridis")}
BAND_RGB = (0, 170, 255, 50)


def plot_x_to_cm1(value: float, unit: str) -> float:
    """Spectrum-plot x (in the panel's unit 'cm1', 'nm' or 'kms' about Hα) → wavenumber (cm⁻¹)."""
    if unit == "nm":
        return 1e7 / value
    if unit == "kms":
        return float(line_position_cm1(REST_NM["Halpha"], value))
    return float(value)


class MomentView(QWidget):
    """The Line maps dock. ``maps_ready(MomentMaps)`` when a computation ends."""

    maps_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, image_view, spectrum_plot, unit=lambda: "cm1", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_view, self.spectrum_plot, self.unit = image_view, spectrum_plot, unit
        self.cube: Any = None
        self.velocity_map: np.ndarray | None = None
        self.maps = None
        self._cancel: threading.Event | None = None
        self.source_combo = QComboBox()
        self.source_combo.addItem("Line about the systemic velocity", "line")
        self.source_combo.addItem("Line about each pixel's CNN velocity", "pixel")
        self.source_combo.addItem("Band selected on the spectrum", "band")
        self.line_combo = QComboBox()
        for name in LINE_NAMES:
            self.line_combo.addItem(LINE_LABELS[name], name)
        self.line_combo.setCurrentIndex(LINE_NAMES.index("Halpha"))
        self.width_spin = QDoubleSpinBox(minimum=20, maximum=2000, value=DEFAULT_WIDTH_KMS, suffix=" km/s")
        self.width_spin.setToolTip("Half-width of the line band")
        self.velocity_spin = QDoubleSpinBox(minimum=-5000, maximum=20000, value=0.0, suffix=" km/s")
        self.velocity_spin.setToolTip("Systemic velocity the band is centred on (the median CNN velocity once known)")
        self.compute_button = QPushButton("Compute line maps")
        self.compute_button.clicked.connect(self.compute)
        self.moment_combo = QComboBox()
        for name, (label, unit, _cmap) in MOMENTS.items():
            self.moment_combo.addItem(f"{label} ({unit})", name)
        self.moment_combo.currentIndexChanged.connect(lambda _i: self._draw())
        self.overlay_box = QCheckBox("Show over the image")
        self.overlay_box.toggled.connect(lambda _on: self._draw())
        self.status = QLabel("")
        grid = QGridLayout()
        grid.addWidget(self.source_combo, 0, 0, 1, 2)
        grid.addWidget(self.line_combo, 1, 0)
        grid.addWidget(self.width_spin, 1, 1)
        grid.addWidget(QLabel("Systemic velocity"), 2, 0)
        grid.addWidget(self.velocity_spin, 2, 1)
        grid.addWidget(self.compute_button, 3, 0, 1, 2)
        grid.addWidget(self.moment_combo, 4, 0)
        grid.addWidget(self.overlay_box, 4, 1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot()
        self.plot.setAspectLocked(True)
        self.image_item = pg.ImageItem(axisOrder="col-major")
        self.plot.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(values=(0, 1), width=14, interactive=False)
        self.colorbar.axis.enableAutoSIPrefix(False)
        self.colorbar.setImageItem(self.image_item)
        self.graphics.addItem(self.colorbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(grid)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.status)
        self.overlay = pg.ImageItem(axisOrder="col-major", opacity=0.75)
        self.overlay.setZValue(25)
        image_view.view_box.addItem(self.overlay)
        self.band_region = pg.LinearRegionItem(brush=pg.mkBrush(*BAND_RGB))
        self.band_region.setZValue(-5)
        self.band_region.setVisible(False)
        spectrum_plot.addItem(self.band_region, ignoreBounds=True)
        self.source_combo.currentIndexChanged.connect(self._on_view_source)

    def set_cube(self, cube) -> None:
        self.cancel()
        self.cube, self.maps = cube, None
        self.image_item.clear()
        self.overlay.clear()
        if cube is not None:  # a band around Hα at the middle of the plot to start from
            centre = float(np.median(cube.base_axis_cm1))
            self._place_band(centre - 15, centre + 15)

    def set_velocity_map(self, velocity_kms: np.ndarray | None) -> None:
        """CNN velocities (km/s): their median becomes the systemic velocity."""
        self.velocity_map = velocity_kms
        if velocity_kms is not None and np.isfinite(velocity_kms).any():
            self.velocity_spin.setValue(float(np.nanmedian(velocity_kms)))

    def _place_band(self, lo_cm1: float, hi_cm1: float) -> None:
        from mirabelle.ui.spectrum_format import to_unit

        ends = to_unit(np.array([lo_cm1, hi_cm1]), self.unit())
        self.band_region.setRegion(sorted(float(v) for v in ends))

    def _on_view_source(self, _index: int) -> None:
        self.band_region.setVisible(self.source_combo.currentData() == "band")

    def band(self):
        """The band the controls describe."""
        source = self.source_combo.currentData()
        if source == "band":
            lo, hi = (plot_x_to_cm1(v, self.unit()) for v in self.band_region.getRegion())
            return WavenumberBand(lo, hi)
        if source == "pixel":
            if self.velocity_map is None:
                raise ValueError("no CNN velocities yet: run the kinematics, or use the systemic velocity")
            velocity = np.where(np.isfinite(self.velocity_map), self.velocity_map, self.velocity_spin.value())
            return LineBand(self.line_combo.currentData(), self.width_spin.value(), velocity.astype(float))
        return LineBand(self.line_combo.currentData(), self.width_spin.value(), self.velocity_spin.value())

    def compute(self) -> None:
        """Start the moment maps of `band` in the background (a running computation is cancelled)."""
        if self.cube is None:
            return
        self.cancel()
        try:
            band = self.band()
        except ValueError as exc:
            self.failed.emit(str(exc))
            self.status.setText(str(exc))
            return
        self._cancel = threading.Event()
        self.status.setText(f"computing {band.describe()} …")
        tasks.run_generator(iter_moments(self.cube, band), cancel=self._cancel, on_yield=self._on_tile,
                            on_error=self._on_error, on_return=lambda _value: self._on_done())

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def _on_tile(self, tile) -> None:
        if not isValid(self.image_item):
            return
        self.maps = tile.maps
        self.status.setText(f"{tile.fraction:.0%} of the cube")
        if tile.fraction >= 1.0 or int(tile.fraction * 100) % 10 == 0:
            self._draw()

    def _on_error(self, exc: BaseException) -> None:
        if isValid(self.status):
            self.status.setText(str(exc))
        self.failed.emit(str(exc))

    def _on_done(self) -> None:
        if self.maps is None or not isValid(self.image_item):
            return
        self._draw()
        self.status.setText(f"{self.maps.band.describe()}: done")
        self.maps_ready.emit(self.maps)

    def _draw(self) -> None:
        if self.maps is None:
            return
        name = self.moment_combo.currentData()
        label, unit, cmap = MOMENTS[name]
        data = getattr(self.maps, name)
        levels = compute_limits(data, "99.5") if np.isfinite(data).any() else (0.0, 1.0)
        self.image_item.setImage(data, autoLevels=False, levels=levels)
        self.colorbar.setColorMap(colormap(cmap))
        self.colorbar.setLevels(levels)
        self.colorbar.axis.setLabel(f"{label} ({unit})")
        if self.overlay_box.isChecked():
            self.overlay.setImage(data, autoLevels=False, levels=levels, lut=colormap(cmap).getLookupTable())
            self.overlay.setVisible(True)
        else:
            self.overlay.setVisible(False)

    def shutdown(self) -> None:
        self.cancel()
        self.cube = None
