"""Regions drawn on the image (circle, box, polygon, annulus) or loaded from DS9, with their
spectrum recomputed live while a region is dragged, and pinned spectra for comparison.

A region is a pyqtgraph ROI on the image view; its `regions` shape is in 0-based pixel
coordinates whose integer values are pixel centres (the image item draws pixel (x, y) over
[x, x+1] × [y, y+1], hence the half-pixel shift). Spectra are computed by
`mirabelle.analysis.region_spectra` in a `LatestWorker`, changes throttled, newest winning.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from shiboken6 import isValid

from mirabelle.analysis.region_spectra import regions_mask, region_spectrum, serialize_ds9, shape_mask
from mirabelle.errors import MirabelleError
from mirabelle.ui.latest_worker import LatestWorker

SHAPES = ("circle", "box", "polygon", "annulus")
THROTTLE_MS = 60
SAVE_DELAY_MS = 500
"""Regions are saved with the cube this long after the last change."""
PIN_COLOURS = ((31, 119, 180), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194))
LIVE_RGB = (230, 60, 200)


class AnnulusROI(pg.CircleROI):
    """A circle ROI with an inner radius, a fixed fraction of the outer one."""

    def __init__(self, pos, size, inner_fraction: float = 0.5, **kwargs) -> None:
        super().__init__(pos, size, **kwargs)
        self.inner_fraction = inner_fraction

    def paint(self, painter, option, widget=None):  # noqa: D102 -- draws the hole too
        super().paint(painter, option, widget)
        r = self.boundingRect()
        inner = r.adjusted(*(s * (1 - self.inner_fraction) / 2 for s in (r.width(), r.height())),
                           *(-s * (1 - self.inner_fraction) / 2 for s in (r.width(), r.height())))
        painter.drawEllipse(inner)


def roi_to_region(roi):
    """The `regions` pixel shape of a ROI (0-based pixel centres)."""
    from regions import (CircleAnnulusPixelRegion, CirclePixelRegion, PixCoord, PolygonPixelRegion,
                         RectanglePixelRegion)

    if isinstance(roi, pg.PolyLineROI):
        points = [roi.mapToParent(handle["item"].pos()) for handle in roi.handles]
        return PolygonPixelRegion(PixCoord([p.x() - 0.5 for p in points], [p.y() - 0.5 for p in points]))
    pos, size = roi.pos(), roi.size()
    centre = PixCoord(pos.x() + size.x() / 2 - 0.5, pos.y() + size.y() / 2 - 0.5)
    if isinstance(roi, AnnulusROI):
        return CircleAnnulusPixelRegion(centre, inner_radius=size.x() / 2 * roi.inner_fraction,
                                        outer_radius=size.x() / 2)
    if isinstance(roi, pg.CircleROI):
        return CirclePixelRegion(centre, radius=size.x() / 2)
    return RectanglePixelRegion(centre, width=size.x(), height=size.y())


def region_to_roi(region, pen):
    """A ROI drawing a `regions` pixel shape (circle, rectangle, polygon, circle annulus)."""
    from regions import CircleAnnulusPixelRegion, CirclePixelRegion, PolygonPixelRegion, RectanglePixelRegion

    if isinstance(region, PolygonPixelRegion):
        return pg.PolyLineROI(list(zip(region.vertices.x + 0.5, region.vertices.y + 0.5)), closed=True, pen=pen)
    cx, cy = region.center.x + 0.5, region.center.y + 0.5
    if isinstance(region, CircleAnnulusPixelRegion):
        r = region.outer_radius
        return AnnulusROI((cx - r, cy - r), (2 * r, 2 * r), region.inner_radius / r, pen=pen)
    if isinstance(region, CirclePixelRegion):
        r = region.radius
        return pg.CircleROI((cx - r, cy - r), (2 * r, 2 * r), pen=pen)
    if isinstance(region, RectanglePixelRegion):
        w, h = region.width, region.height
        return pg.RectROI((cx - w / 2, cy - h / 2), (w, h), pen=pen)
    return None


def _compute(cube, shapes, mean: bool, name: str, model_provider, *, stale, progress):
    """(RegionSpectrum, model curve (axis, values) or None, kinematics dict or None), off the GUI thread."""
    mask = regions_mask(shapes, (cube.nx, cube.ny), cube.wcs)
    if stale():
        return None
    spectrum = region_spectrum(cube, mask, mean=mean, description=name, ds9_text=serialize_ds9(shapes),
                               progress=progress)
    provided = model_provider() if model_provider is not None else None
    if provided is None or provided[0] is None or stale():
        return spectrum, None, None
    return (spectrum,) + _model_at_cnn_kinematics(cube, mask, spectrum, *provided)


def _model_at_cnn_kinematics(cube, mask, spectrum, model, vsys_kms: float):
    """The line model of the region's spectrum at the network's kinematics of that spectrum
    (solved as a click is, with the region's mean instrumental FWHM)."""
    from mirabelle.inference.runner import predict_kinematics
    from mirabelle.session.pixel import KINEMATIC_KEYS, solved_pixel

    values = np.where(np.isfinite(spectrum.values), spectrum.values, 0.0)
    fwhm = float(np.mean(cube.fwhm_map_cm1()[mask]))  # the network fits the sky (and may read the width) at it
    kinematics = dict(zip(KINEMATIC_KEYS, (float(v) for v in predict_kinematics(
        model, values[None, :], spectrum.axis_cm1, vsys_kms, fwhm)[0])))
    result = solved_pixel(0, 0, spectrum.axis_cm1, values, kinematics, fwhm)
    if result.curve is None:
        return None, kinematics
    return (result.curve_axis_cm1, result.curve), kinematics


class RegionTool(QObject):
    """Regions on an `ImageView`; their spectrum drawn on a spectrum `plot` (a pyqtgraph PlotItem).

    ``spectrum_ready(RegionSpectrum)`` each time the live region's spectrum is recomputed;
    ``failed(str)`` with the sentence when it cannot be.
    """

    spectrum_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, image_view, plot, to_plot_x=None, autosave: bool = True, model_provider=None) -> None:
        super().__init__()
        self.image_view, self.plot = image_view, plot
        self.to_plot_x = to_plot_x or (lambda axis: np.asarray(axis, dtype=float))
        self.cube: Any = None
        self.mean = True
        self.rois: list = []
        self.live = None  # the RegionSpectrum of the selected region
        self.live_kinematics: dict | None = None  # the CNN kinematics of that spectrum
        # called in the worker thread: (KinematicsModel, systemic velocity km/s) or None
        self.model_provider = model_provider
        self.pinned: list[tuple[Any, pg.PlotDataItem]] = []
        self.live_curve = pg.PlotDataItem([], [], pen=pg.mkPen(LIVE_RGB, width=2))
        plot.addItem(self.live_curve)  # in the legend once it holds a spectrum
        self.model_curve = pg.PlotDataItem([], [], pen=pg.mkPen(LIVE_RGB, width=1.5, style=Qt.PenStyle.DashLine))
        plot.addItem(self.model_curve)
        self._model_xy = None
        self.worker = LatestWorker()
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(lambda _g, exc: self.failed.emit(str(exc)))
        self._timer = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self._timer.timeout.connect(self._recompute)
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save)
        self._selected = None
        self.autosave = autosave

    def set_cube(self, cube) -> None:
        """Show ``cube``'s saved regions (the previous cube's are saved first)."""
        self.save()
        self.cube = None
        self.clear()
        self.cube = cube
        if cube is not None and self.autosave:
            from mirabelle.analysis.region_store import load_regions

            try:
                for shape in load_regions(cube.path):
                    self.add_region(shape)
            except MirabelleError as exc:
                self.failed.emit(f"saved regions not restored: {exc}")

    def save(self) -> None:
        """Keep the regions with the cube (`mirabelle.analysis.region_store`)."""
        self._save_timer.stop()
        if self.cube is None or not self.autosave:
            return
        from mirabelle.analysis.region_store import save_regions

        try:
            save_regions(self.cube.path, self.ds9_text() if self.rois else "")
        except MirabelleError as exc:
            self.failed.emit(f"regions not saved: {exc}")

    def add_shape(self, kind: str, centre: tuple[float, float] | None = None, size: float = 8.0):
        """Draw a new ``kind`` region (in `SHAPES`) at ``centre`` (pixels; default the image centre)."""
        from regions import (CircleAnnulusPixelRegion, CirclePixelRegion, PixCoord, PolygonPixelRegion,
                             RectanglePixelRegion)

        if self.cube is None:
            return None
        cx, cy = centre if centre is not None else (self.cube.nx / 2, self.cube.ny / 2)
        r = size / 2
        shape = {"circle": lambda: CirclePixelRegion(PixCoord(cx, cy), r),
                 "box": lambda: RectanglePixelRegion(PixCoord(cx, cy), size, size * 0.75),
                 "polygon": lambda: PolygonPixelRegion(PixCoord([cx - r, cx + r, cx], [cy - r, cy - r, cy + r])),
                 "annulus": lambda: CircleAnnulusPixelRegion(PixCoord(cx, cy), r / 2, r)}[kind]()
        return self.add_region(shape)

    def add_region(self, region):
        """Draw a `regions` shape (sky shapes are converted with the cube's WCS) and select it."""
        from regions import SkyRegion

        if isinstance(region, SkyRegion):
            region = region.to_pixel(self.cube.wcs)
        roi = region_to_roi(region, pg.mkPen(LIVE_RGB, width=2))
        if roi is None:
            self.failed.emit(f"expected a circle, box, polygon or annulus region, found {type(region).__name__}")
            return None
        self.image_view.view_box.addItem(roi)
        roi.setZValue(40)
        roi.sigRegionChanged.connect(lambda r=roi: self.select(r))
        roi.sigClicked.connect(lambda r=roi, *_: self.select(r))
        self.rois.append(roi)
        self.select(roi)
        return roi

    def load_ds9(self, path) -> int:
        """Add the shapes of a DS9 file; returns how many were drawn."""
        from mirabelle.analysis.region_spectra import read_regions

        drawn = [self.add_region(shape) for shape in read_regions(path)]
        return sum(roi is not None for roi in drawn)

    def ds9_text(self) -> str:
        """Every drawn region as DS9 text (image coordinates)."""
        return serialize_ds9([roi_to_region(roi) for roi in self.rois])

    def select(self, roi) -> None:
        """Make ``roi`` the live region and recompute its spectrum (throttled); save soon after."""
        self._selected = roi
        self._timer.start()
        self._save_timer.start()

    def set_mean(self, mean: bool) -> None:
        self.mean = bool(mean)
        self._timer.start()

    def _recompute(self) -> None:
        if self.cube is None or self._selected is None:
            return
        region = roi_to_region(self._selected)
        if not shape_mask(region, (self.cube.nx, self.cube.ny)).any():
            self.failed.emit("the region lies outside the image")
            return
        name = f"{type(region).__name__.replace('PixelRegion', '').lower()} {len(self.rois)}"
        self.worker.request(_compute, self.cube, [region], self.mean, name, self.model_provider)

    def _on_result(self, _generation: int, value) -> None:
        if not isValid(self.live_curve):
            return  # a late answer after the widgets were deleted
        spectrum, model_xy, kinematics = value
        self.live, self._model_xy, self.live_kinematics = spectrum, model_xy, kinematics
        self._draw(self.live_curve, spectrum)
        self._draw_model()
        legend = getattr(self.plot, "legend", None)
        if legend is not None:
            legend.removeItem(self.live_curve)
            legend.addItem(self.live_curve, self._label(spectrum, kinematics))
        self._fit_y(spectrum.values)
        self.spectrum_ready.emit(spectrum)

    def _draw_model(self) -> None:
        if self._model_xy is None:
            self.model_curve.setData([], [])
            return
        axis, values = self._model_xy
        self.model_curve.setData(self.to_plot_x(axis), values)

    def _fit_y(self, values: np.ndarray) -> None:
        """Widen the plot's y range to hold ``values`` (the pixel spectrum's range is kept)."""
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return
        low, high = self.plot.vb.viewRange()[1]
        top = max(high, float(finite.max()) + 0.15 * float(np.ptp(finite)))
        self.plot.vb.setYRange(min(low, float(finite.min())), top, padding=0)

    def _label(self, spectrum, kinematics: dict | None = None) -> str:
        text = f"{spectrum.description}: {spectrum.combine} of {spectrum.pixels} px"
        if kinematics:
            text += f", v {kinematics['velocity_kms']:.0f}, σ {kinematics['broadening_kms']:.0f} km/s"
        return text

    def _draw(self, curve, spectrum) -> None:
        finite = np.isfinite(spectrum.values)
        curve.setData(self.to_plot_x(spectrum.axis_cm1)[finite], spectrum.values[finite])

    def set_unit(self, to_plot_x) -> None:
        """The spectrum plot changed its x unit: redraw every region curve."""
        self.to_plot_x = to_plot_x
        if self.live is not None:
            self._draw(self.live_curve, self.live)
        self._draw_model()
        for spectrum, curve in self.pinned:
            self._draw(curve, spectrum)

    def pin(self):
        """Keep the live spectrum on the plot in its own colour (with a legend entry)."""
        if self.live is None:
            return None
        colour = PIN_COLOURS[len(self.pinned) % len(PIN_COLOURS)]
        curve = pg.PlotDataItem([], [], pen=pg.mkPen(colour, width=1.5), name=f"pinned: {self._label(self.live)}")
        self.plot.addItem(curve)
        self._draw(curve, self.live)
        self.pinned.append((self.live, curve))
        return curve

    def unpin(self, index: int) -> None:
        spectrum, curve = self.pinned.pop(index)
        self.plot.removeItem(curve)

    def clear(self) -> None:
        """Remove every region and pinned spectrum."""
        for roi in self.rois:
            self.image_view.view_box.removeItem(roi)
        had_spectrum = self.live is not None
        self.rois, self._selected, self.live, self._model_xy = [], None, None, None
        self.live_curve.setData([], [])
        self.model_curve.setData([], [])
        legend = getattr(self.plot, "legend", None)
        if legend is not None:
            legend.removeItem(self.live_curve)
        if had_spectrum:  # the pixel spectrum gets its range back
            self.plot.vb.enableAutoRange(axis="y")
        while self.pinned:
            self.unpin(0)
        self._save_timer.start()

    def shutdown(self) -> None:
        self._timer.stop()
        self.save()
        self.cube = None
        self.worker.stop()
