"""The position–velocity view: a path drawn on the image, its PV slice beside it, CNN velocities on top.

The path is a pyqtgraph `PolyLineROI` (open) on the image view; moving it recomputes the slice
(`mirabelle.analysis.pv.pv_slice`) in a `LatestWorker`, throttled, newest winning. The PV image
has the offset along the path (pixels) across and the velocity about the chosen line (km/s) up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget
from shiboken6 import isValid

from mirabelle.analysis.pv import pv_slice
from mirabelle.lines.constants import LINE_LABELS, LINE_NAMES
from mirabelle.ui.display import compute_limits
from mirabelle.ui.latest_worker import LatestWorker

THROTTLE_MS = 80
PATH_RGB = (0, 200, 255)
VELOCITY_WINDOW_KMS = 500.0
"""Half-height of the velocity range shown about the median velocity of the slice's line."""


def uniform_velocity_image(pv, centre_kms: float) -> tuple[np.ndarray, np.ndarray]:
    """(velocities, data) of the slice resampled (linear interpolation) onto evenly spaced
    velocities within `VELOCITY_WINDOW_KMS` of ``centre_kms``: channels are even in
    wavenumber, and over a whole band the relativistic velocity is far enough from linear
    in them (about 100 km/s across SN3) that an image drawn on a linear scale would be off."""
    order = np.argsort(pv.velocity_kms)
    velocity, data = pv.velocity_kms[order], pv.data[:, order]
    step = float(np.median(np.diff(velocity)))
    grid = np.arange(centre_kms - VELOCITY_WINDOW_KMS, centre_kms + VELOCITY_WINDOW_KMS + step, step)
    grid = grid[(grid >= velocity[0]) & (grid <= velocity[-1])]
    position = np.interp(grid, velocity, np.arange(velocity.size))
    below = np.clip(np.floor(position).astype(int), 0, velocity.size - 2)
    weight = position - below
    return grid, data[:, below] * (1 - weight) + data[:, below + 1] * weight


def _compute(cube, vertices, width, line, *, stale, progress):
    return None if stale() else pv_slice(cube, vertices, width_px=width, line=line)


class PVView(QWidget):
    """PV slice of the path drawn on ``image_view``. ``slice_ready(PVSlice)`` after each redraw."""

    slice_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, image_view, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_view = image_view
        self.cube: Any = None
        self.velocity_map: np.ndarray | None = None
        self.pv = None
        self.roi: pg.PolyLineROI | None = None
        self.width_spin = QSpinBox(minimum=1, maximum=101, value=3, suffix=" px")
        self.width_spin.setToolTip("Pixels averaged across the path")
        self.line_combo = QComboBox()
        for name in LINE_NAMES:
            self.line_combo.addItem(LINE_LABELS[name], name)
        self.line_combo.setCurrentIndex(LINE_NAMES.index("Halpha"))
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Width"))
        controls.addWidget(self.width_spin)
        controls.addWidget(QLabel("Velocity about"))
        controls.addWidget(self.line_combo)
        controls.addStretch(1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot()
        self.plot.setLabel("bottom", "offset along the path (pixels)")
        self.plot.setLabel("left", "velocity about Hα (km/s)")
        self.image_item = pg.ImageItem(axisOrder="col-major")
        self.plot.addItem(self.image_item)
        self.cnn_curve = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=4,
                                         symbolBrush=(255, 80, 80), symbolPen=None, name="CNN velocity")
        self.plot.addItem(self.cnn_curve)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.worker = LatestWorker()
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(lambda _g, exc: self.failed.emit(str(exc)))
        self._timer = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self._timer.timeout.connect(self._recompute)
        self.width_spin.valueChanged.connect(lambda _v: self._timer.start())
        self.line_combo.currentIndexChanged.connect(lambda _i: self._timer.start())

    def set_cube(self, cube) -> None:
        self.cube = cube
        if self.roi is not None:
            self.image_view.view_box.removeItem(self.roi)
            self.roi = None
        self.image_item.clear()

    def set_velocity_map(self, velocity_kms: np.ndarray | None) -> None:
        """(nx, ny) CNN velocities (km/s, observed frame) drawn over the slice."""
        self.velocity_map = velocity_kms
        self._draw_cnn()

    def set_path(self, vertices) -> None:
        """Draw (or replace) the path through ``vertices`` ((x, y) pixel centres)."""
        if self.roi is not None:
            self.image_view.view_box.removeItem(self.roi)
        self.roi = pg.PolyLineROI([(x + 0.5, y + 0.5) for x, y in vertices], closed=False,
                                  pen=pg.mkPen(PATH_RGB, width=2))
        self.roi.setZValue(40)
        self.image_view.view_box.addItem(self.roi)
        self.roi.sigRegionChanged.connect(lambda *_: self._timer.start())
        self._timer.start()

    def vertices(self) -> list[tuple[float, float]]:
        """The path's vertices in 0-based pixel centres."""
        if self.roi is None:
            return []
        points = [self.roi.mapToParent(handle["item"].pos()) for handle in self.roi.handles]
        return [(p.x() - 0.5, p.y() - 0.5) for p in points]

    def _recompute(self) -> None:
        if self.cube is None or self.roi is None:
            return
        self.worker.request(_compute, self.cube, self.vertices(), self.width_spin.value(),
                            self.line_combo.currentData())

    def _on_result(self, _generation: int, pv) -> None:
        if not isValid(self.image_item):
            return  # a late answer after the widgets were deleted
        self.pv = pv
        self._draw_cnn()
        centre = self._centre_velocity()
        velocity, data = uniform_velocity_image(pv, centre)
        levels = compute_limits(data, "99.5") if np.isfinite(data).any() else (0.0, 1.0)
        self.image_item.setImage(data, autoLevels=False, levels=levels)
        span = pv.offsets_px[-1] - pv.offsets_px[0] if len(pv.offsets_px) > 1 else 1.0
        step = span / max(len(pv.offsets_px) - 1, 1)
        dv = velocity[1] - velocity[0]
        self.image_item.setRect(pv.offsets_px[0] - step / 2, velocity[0] - dv / 2, span + step, dv * len(velocity))
        self.plot.setLabel("left", f"velocity about {LINE_LABELS[pv.line]} (km/s)")
        self.plot.setYRange(centre - VELOCITY_WINDOW_KMS, centre + VELOCITY_WINDOW_KMS, padding=0)
        self.plot.setXRange(pv.offsets_px[0], pv.offsets_px[-1], padding=0.02)
        self.slice_ready.emit(pv)

    def _cnn_along_path(self) -> np.ndarray | None:
        if self.pv is None or self.velocity_map is None:
            return None
        pix = np.rint(self.pv.samples_xy).astype(int)
        nx, ny = self.velocity_map.shape
        inside = (pix[:, 0] >= 0) & (pix[:, 0] < nx) & (pix[:, 1] >= 0) & (pix[:, 1] < ny)
        values = np.full(len(pix), np.nan)
        values[inside] = self.velocity_map[pix[inside, 0], pix[inside, 1]]
        return values

    def _centre_velocity(self) -> float:
        values = self._cnn_along_path()
        if values is not None and np.isfinite(values).any():
            return float(np.nanmedian(values))
        return 0.0

    def _draw_cnn(self) -> None:
        values = self._cnn_along_path()
        if values is None:
            self.cnn_curve.setData([], [])
            return
        finite = np.isfinite(values)
        self.cnn_curve.setData(self.pv.offsets_px[finite], values[finite])

    def shutdown(self) -> None:
        self._timer.stop()
        self.cube = None
        self.worker.stop()
