"""The spectrum of the selected pixel: data, the prior model, residual, lines, saliency, an info box.

:class:`SpectrumPanel` draws a :class:`~mirabelle.session.PixelResult` as it is (the session
computed its model curve, fluxes and saliency off the GUI thread) and computes nothing. The
x axis follows ``state.spectrum_unit``: wavenumber (cm⁻¹), wavelength (nm, ``1e7/σ``) or the
velocity an Hα line would have at that wavenumber (km/s). The "Refine" button runs the core's
:func:`~mirabelle.session.pixel.refine_pixel` in a worker and draws its fit beside the prior.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mirabelle.lines import LINE_NAMES, REST_NM, SN3_BAND_NM, line_position_cm1
from mirabelle.session.pixel import PixelResult, can_refine, refine_pixel
from mirabelle.ui.image_export import save_titled_plot
from mirabelle.ui.plot_axes import opaque_grid_axes, put_axes_behind, settle
from mirabelle.ui.spectrum_decor import (HEADROOM, LegendRow, arrange_labels, fixed_scale_axis, label_flux_axes,
                                         line_markers)
from mirabelle.ui.spectrum_format import (
    REFINED_RGB,
    SALIENCY_MIN_WEIGHT,
    UNIT_CHOICES,
    UNIT_LABELS,
    info_html,
    saliency_brushes,
    to_unit,
)
from mirabelle.ui.spectrum_zoom import SpectrumZoom
from mirabelle.ui.state import SPECTRUM_UNITS
from mirabelle.ui.tasks import run_function

MODEL_RGB = (255, 127, 14)
VELOCITY_HALF_WINDOW_KMS = 1500.0


class SpectrumPanel(QWidget):
    """Spectrum, model, residual, line markers, saliency and an info box for one pixel.

    Public items (tests, the main window): ``plot`` / ``plot_item`` (main ``PlotItem``),
    ``residual_plot``, ``data_curve``, ``model_curve``, ``refined_curve``,
    ``residual_curve``, ``saliency_scatter``, ``line_labels`` (five ``InfiniteLine`` in
    ``LINE_NAMES`` order), ``info_label`` (QLabel), ``unit_combo``, ``refine_button``, ``zoom``
    (:class:`~mirabelle.ui.spectrum_zoom.SpectrumZoom`, its lock also on ``lock_button``).
    """

    refined = Signal(object)  # the refine_fit result drawn
    export_requested = Signal()  # the Export button: the window asks where (it knows the cube)

    def __init__(self, state=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.pixel_data: PixelResult | None = None
        self._model_axis: np.ndarray | None = None  # cm⁻¹ of model_curve's points
        self._model_values: np.ndarray | None = None
        self._refined: dict | None = None
        self._refine_generation = 0
        self._unit = state.spectrum_unit if state is not None else "cm1"

        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(background)
        self.graphics.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.graphics.ci.layout.setSpacing(0)
        self.plot = self.graphics.addPlot(row=1, col=0, axisItems=opaque_grid_axes(background))
        self.plot_item = self.plot
        self.residual_plot = self.graphics.addPlot(row=2, col=0, axisItems=opaque_grid_axes(background))
        self.graphics.ci.layout.setRowStretchFactor(1, 4)
        self.graphics.ci.layout.setRowStretchFactor(2, 1)
        self.residual_plot.setXLink(self.plot)
        self.residual_plot.setMaximumHeight(90)  # the flux plot keeps most of a short panel
        for plot in (self.plot, self.residual_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
            put_axes_behind(plot)
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
            plot.getAxis("left").setWidth(62)
            fixed_scale_axis(plot.getAxis("left"))  # label_flux_axes writes one scale for both
        self.plot.getAxis("bottom").setStyle(showValues=False)
        self.plot.setLabel("left", "Flux")
        self.residual_plot.setLabel("left", "Residual", **{"font-size": "8pt"})  # fits its short axis
        self.zoom = SpectrumZoom(self.plot, self.residual_plot, self.reset_range)
        self.legend = self.plot.legend = LegendRow(self.graphics, 0, foreground, 62)  # regions add theirs
        self.unit_label = self.legend.unit_label

        data_pen = pg.mkPen(foreground, width=1)
        self.data_curve = pg.PlotDataItem([], [], pen=data_pen, name="Data")
        self.model_curve = pg.PlotDataItem([], [], pen=pg.mkPen(MODEL_RGB, width=2), name="CNN prior")
        self.refined_curve = pg.PlotDataItem([], [], pen=pg.mkPen(REFINED_RGB, width=2, style=Qt.PenStyle.DashLine),
                                             name="Refined fit")
        self.saliency_scatter = pg.ScatterPlotItem([], [], size=9, pen=pg.mkPen(foreground, width=0.5),
                                                   name="Saliency ≥ 0.25")
        self.saliency_scatter.setZValue(10)
        for item in (self.data_curve, self.model_curve, self.refined_curve, self.saliency_scatter):
            self.plot.addItem(item)
        self.legend.show_item(self.refined_curve, False)
        self.line_labels: list[pg.InfiniteLine] = line_markers(self.plot)
        self.residual_curve = pg.PlotDataItem([], [], pen=pg.mkPen(foreground, width=1))
        self.refined_residual_curve = pg.PlotDataItem([], [], pen=pg.mkPen(REFINED_RGB, width=1))
        self.residual_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(MODEL_RGB, width=1)))
        self.residual_plot.addItem(self.residual_curve)
        self.residual_plot.addItem(self.refined_residual_curve)

        self.title_label = QLabel("Click a pixel to see its spectrum.")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # cut rather than widen the window: the info box repeats the pixel and its RA/Dec
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.unit_combo = QComboBox()
        for unit in SPECTRUM_UNITS:
            self.unit_combo.addItem(UNIT_CHOICES[unit], unit)
        self.unit_combo.setToolTip("Spectrum x axis: wavenumber, wavelength, or the Hα velocity")
        self.components_spin = QSpinBox()
        self.components_spin.setRange(1, 2)
        self.components_spin.setPrefix("Components: ")
        self.components_spin.setToolTip("Components of the least-squares refinement")
        self.refine_button = QPushButton("Refine")
        self.refine_button.setToolTip("Least-squares fit of velocity and broadening from the CNN prior "
                                      "(amplitudes solved exactly); drawn dashed beside the prior")
        self.refine_button.setEnabled(False)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the plot (PNG, SVG) or the data (FITS, CSV) in the cube's folder")
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.title_label, 1)
        toolbar.addWidget(QLabel("x axis"))
        toolbar.addWidget(self.unit_combo)
        self.lock_button = QToolButton()
        self.lock_button.setDefaultAction(self.zoom.lock_action)
        self.lock_button.setText("Keep zoom")
        toolbar.addWidget(self.lock_button)
        toolbar.addWidget(self.components_spin)
        toolbar.addWidget(self.refine_button)
        toolbar.addWidget(self.export_button)

        self.info_label = QLabel()
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setFixedWidth(230)  # a refinement's line wraps instead of narrowing the plot
        self.info_label.setWordWrap(True)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        body = QHBoxLayout()
        body.addWidget(self.graphics, 1)
        body.addWidget(self.info_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(toolbar)
        layout.addLayout(body, 1)

        self.unit_combo.currentIndexChanged.connect(self._on_view_unit)
        self.refine_button.clicked.connect(self.refine)
        self.export_button.clicked.connect(self.export_requested)
        if state is not None:
            state.spectrum_unit_changed.connect(self._on_model_unit)
        self._on_model_unit(self._unit)
        self._update_info()

    # state <-> view ---------------------------------------------------------------------
    @property
    def unit(self) -> str:
        """The x-axis unit: 'cm1', 'nm' or 'kms'."""
        return self._unit

    def set_unit(self, unit: str) -> None:
        """Change the x-axis unit (writes the state when there is one)."""
        if self.state is not None:
            self.state.spectrum_unit = unit
        else:
            self._on_model_unit(unit)

    def _on_view_unit(self, index: int) -> None:
        self.set_unit(self.unit_combo.itemData(index))

    def _on_model_unit(self, unit: str) -> None:
        if unit not in SPECTRUM_UNITS:
            raise ValueError(f"expected a spectrum unit in {SPECTRUM_UNITS}; found {unit!r}")
        self._unit = unit
        with QSignalBlocker(self.unit_combo):
            self.unit_combo.setCurrentIndex(SPECTRUM_UNITS.index(unit))
        self.residual_plot.setLabel("bottom", UNIT_LABELS[unit])
        self._redraw()
        self.reset_range()

    # input --------------------------------------------------------------------------------
    def set_pixel_data(self, data: PixelResult | None) -> None:
        """Draw one pixel (None clears). The panel keeps ``data`` as ``pixel_data``."""
        self.pixel_data = data
        self._refined = None
        self._refine_generation += 1
        self._take_model_curve()
        self._redraw()
        if not self.zoom.locked:
            self.reset_range()
        self._update_info()
        self.refine_button.setEnabled(can_refine(self.pixel_data))
        settle(self.graphics.scene())

    # drawing ------------------------------------------------------------------------------------
    def _kinematics(self) -> tuple[float, float] | None:
        data = self.pixel_data
        kin = data.kinematics if data is not None else None
        if not kin:
            return None
        v, b = kin.get("velocity_kms"), kin.get("broadening_kms")
        if v is None or b is None or not (np.isfinite(v) and np.isfinite(b)):
            return None
        return float(v), float(b)

    def _take_model_curve(self) -> None:
        """The model curve as the session made it: oversampled near the lines, else at the channels."""
        data = self.pixel_data
        self._model_axis = self._model_values = None
        if data is not None and data.curve is not None:
            self._model_axis, self._model_values = np.asarray(data.curve_axis_cm1), np.asarray(data.curve)
        elif data is not None and data.model is not None:
            self._model_axis, self._model_values = np.asarray(data.axis_cm1), np.asarray(data.model)

    def _redraw(self) -> None:
        data = self.pixel_data
        unit = self._unit
        if data is None:
            for curve in (self.data_curve, self.model_curve, self.refined_curve, self.residual_curve,
                          self.refined_residual_curve):
                curve.setData([], [])
            self.saliency_scatter.setData([], [])
            for line in self.line_labels:
                line.setVisible(False)
            label_flux_axes(self.plot, self.residual_plot, self.unit_label, None, None)  # no cube, no unit
            self.legend.show_item(self.refined_curve, False)
            self.title_label.setText("Click a pixel to see its spectrum.")
            return
        axis = np.asarray(data.axis_cm1, dtype=float)
        values = np.asarray(data.values, dtype=float)
        label_flux_axes(self.plot, self.residual_plot, self.unit_label, values, data.value_unit)
        x = to_unit(axis, unit)
        self.data_curve.setData(x, values, connect="finite")
        if self._model_values is not None:
            self.model_curve.setData(to_unit(self._model_axis, unit), self._model_values, connect="finite")
        else:
            self.model_curve.setData([], [])
        residual_model = data.model if data.model is not None else None
        if residual_model is None and self._model_values is not None and self._model_axis is not None:
            residual_model = np.interp(axis, self._model_axis, self._model_values)
        if residual_model is not None:
            self.residual_curve.setData(x, values - np.asarray(residual_model, dtype=float), connect="finite")
        else:
            self.residual_curve.setData([], [])
        if self._refined is not None:
            self.refined_curve.setData(x, self._refined["model"], connect="finite")
            self.refined_residual_curve.setData(x, values - self._refined["model"], connect="finite")
        else:
            self.refined_curve.setData([], [])
            self.refined_residual_curve.setData([], [])
        self.legend.show_item(self.refined_curve, self._refined is not None)
        self._draw_saliency(axis, values, unit)
        self._draw_lines(unit)
        where = f"Pixel x {data.x}, y {data.y}"
        if data.ra_dec:
            where += f"  ·  {data.ra_dec}"
        self.title_label.setText(where)

    def reset_range(self) -> None:
        """Frame the plot: the SN3 band (cm⁻¹, nm) or ± 1500 km/s around the prior (km/s); without
        a pixel, that frame with fluxes 0..1 (no range left from a closed cube)."""
        data = self.pixel_data
        if data is None:
            band = to_unit(1e7 / np.array(SN3_BAND_NM), self._unit) if self._unit != "kms" else \
                np.array([-VELOCITY_HALF_WINDOW_KMS, VELOCITY_HALF_WINDOW_KMS])
            self.plot.setRange(xRange=(float(band.min()), float(band.max())), yRange=(0.0, 1.0), padding=0)
            self.residual_plot.setYRange(-1.0, 1.0, padding=0)
            return
        axis = np.asarray(data.axis_cm1, dtype=float)
        values = np.asarray(data.values, dtype=float)
        x = to_unit(axis, self._unit)
        if self._unit == "kms":
            kin = self._kinematics()
            centre = kin[0] if kin is not None else 0.0
            low, high = centre - VELOCITY_HALF_WINDOW_KMS, centre + VELOCITY_HALF_WINDOW_KMS
        else:
            band = to_unit(1e7 / np.array(SN3_BAND_NM), self._unit)
            low, high = float(band.min()), float(band.max())
        finite_x = x[np.isfinite(values)]
        if finite_x.size:
            low, high = max(low, float(finite_x.min())), min(high, float(finite_x.max()))
        if not high > low:
            low, high = float(np.nanmin(x)), float(np.nanmax(x))
        inside = (x >= low) & (x <= high)
        shown = [values[inside]]
        if self._model_values is not None:
            mx = to_unit(self._model_axis, self._unit)
            shown.append(self._model_values[(mx >= low) & (mx <= high)])
        shown = np.concatenate(shown)
        shown = shown[np.isfinite(shown)]
        self.plot.setXRange(low, high, padding=0.01)
        if shown.size:
            ymin, ymax = float(shown.min()), float(shown.max())
            span = (ymax - ymin) or max(abs(ymax), 1.0)
            self.plot.setYRange(ymin - 0.05 * span, ymax + HEADROOM * span, padding=0)
        residual = self.residual_curve.getData()[1]
        if residual is not None and len(residual) == len(inside):
            r = np.asarray(residual)[inside]
            r = r[np.isfinite(r)]
            if r.size:
                extent = float(np.max(np.abs(r))) or 1.0
                self.residual_plot.setYRange(-1.1 * extent, 1.1 * extent, padding=0)

    def _draw_saliency(self, axis: np.ndarray, values: np.ndarray, unit: str) -> None:
        data = self.pixel_data
        if data.saliency_axis_cm1 is None or data.saliency_weights is None:
            self.saliency_scatter.setData([], [])
            return
        points = np.asarray(data.saliency_axis_cm1, dtype=float)
        weights = np.asarray(data.saliency_weights, dtype=float)
        keep = np.isfinite(points) & np.isfinite(weights) & (weights >= SALIENCY_MIN_WEIGHT)
        points, weights = points[keep], weights[keep]
        good = np.isfinite(values)
        if good.sum() >= 2:
            heights = np.interp(points, axis[good], values[good])
        else:
            heights = np.zeros_like(points)
        order = np.argsort(weights)  # strongest drawn last, on top
        points, weights, heights = points[order], weights[order], heights[order]
        brushes = saliency_brushes(weights)
        self.saliency_scatter.setData(to_unit(points, unit), heights, brush=brushes, data=weights)

    def _draw_lines(self, unit: str) -> None:
        kin = self._kinematics()
        for name, line in zip(LINE_NAMES, self.line_labels):
            if kin is None:
                line.setVisible(False)
                continue
            position = float(line_position_cm1(REST_NM[name], kin[0]))
            line.setValue(float(to_unit(np.array([position]), unit)[0]))
            line.setVisible(True)
        arrange_labels(self.line_labels, self.plot.getViewBox())  # a locked zoom keeps its range

    def _update_info(self) -> None:
        self.info_label.setText(info_html(self.pixel_data, self._refined))

    # refinement ----------------------------------------------------------------------------
    def refine(self) -> None:
        """Fit ``components_spin`` components from the prior in a worker thread; draws when done."""
        if not can_refine(self.pixel_data):
            return
        self._refine_generation += 1
        generation = self._refine_generation
        self.refine_button.setEnabled(False)
        self.refine_button.setText("Refining…")
        run_function(refine_pixel, self.pixel_data, self.components_spin.value(),
                     on_return=lambda result: self._on_refined(generation, result),
                     on_error=lambda exc: self._on_refine_failed(generation, exc))

    def _on_refined(self, generation: int, result: dict) -> None:
        if generation != self._refine_generation:
            return  # another pixel since
        self._refined = result
        self.refine_button.setText("Refine")
        self.refine_button.setEnabled(True)
        self._redraw()
        self._update_info()
        self.refined.emit(result)

    def _on_refine_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._refine_generation:
            return
        self.refine_button.setText("Refine")
        self.refine_button.setEnabled(True)
        self.pixel_data.notes.append(f"Refinement failed: {exc}")
        self._update_info()

    # export -----------------------------------------------------------------------------------------
    def export_image(self, path: str | Path, title: str | None = None) -> Path:
        """Save both plots as PNG (or SVG by the suffix) under ``title`` (default: the pixel line
        above the plot, so the file says which pixel it shows); raises ExportError."""
        return save_titled_plot(self.plot, self.graphics, path, title or self.title_label.text(),
                                width=max(int(self.graphics.width()), 800))
