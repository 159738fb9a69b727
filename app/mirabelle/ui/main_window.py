"""The Mirabelle main window: one cube at a time, its deep image, maps, spectrum and flags.

Opening a second file replaces the first in the same window: the flags of the first are
saved, its inference is cancelled and its file closed before the new one opens (no
question asked). Slow work runs in :mod:`mirabelle.ui.workers`; the window only draws.
Its menus and status bar are built in :mod:`mirabelle.ui.window_menus`, its inference
slots live in :mod:`mirabelle.ui.window_inference`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QSplitter, QTabWidget, QWidget

from mirabelle.errors import MirabelleError
from mirabelle.ui import core_api, readout, settings
from mirabelle.ui.controls import DisplayControls
from mirabelle.ui.errors import report_exception, show_error
from mirabelle.ui.flag_layer import FlagLayer
from mirabelle.ui.flag_panel import FlagPanel
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.open_dialog import FILE_FILTERS, choose_cube
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import PixelData, ViewState
from mirabelle.ui.window_inference import InferenceMixin
from mirabelle.ui.window_menus import MenusMixin
from mirabelle.ui.workers import DeepImageWorker, InferenceWorker, PixelThread, start_in_thread, wait_for_threads

CUBE_SUFFIXES = (".hdf5", ".h5", ".hdf", ".fits", ".fit", ".fts", ".fits.gz")
REDRAW_INTERVAL_MS = 200  # ~5 Hz while inference fills the maps


class MainWindow(InferenceMixin, MenusMixin, QMainWindow):
    """The application window; :attr:`state` is the display state tests and scripts drive."""

    cube_opened = Signal(str)
    deep_image_shown = Signal()
    inference_finished = Signal(bool)  # True when the whole cube was covered
    pixel_data_shown = Signal(object)  # the PixelData handed to the spectrum panel

    def __init__(self, run_inference: bool | None = None, restore_settings: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("Mirabelle")
        self.setAcceptDrops(True)
        self.state = ViewState(self)
        if restore_settings:
            settings.restore_display(self.state)
        self.run_inference_on_open = settings.run_inference_on_open() if run_inference is None else run_inference
        self.cube: Any = None
        self.model: Any = None
        self.maps: Any = None
        self.model_error: str | None = None
        self._model_name: str | None = None
        self._deep_thread = None
        self._deep_worker: DeepImageWorker | None = None
        self._inference_thread = None
        self._inference_worker: InferenceWorker | None = None
        self._maps_dirty = False
        self._shown_maps: dict[str, np.ndarray] = {}
        self._dirty_regions: list[tuple[int, int, int, int]] = []
        self._inference_explicit = False
        self.export_dialog: QWidget | None = None
        self._generation = 0
        self._hover: tuple[int, int] | None = None

        self.image_view = ImageView(self.state)
        self.controls = DisplayControls(self.state)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.controls, "Display")
        self.flag_layer = FlagLayer(self.image_view.view_box, self.state, parent=self)
        self.flag_panel = FlagPanel(self.flag_layer)
        self.side_tabs.addTab(self.flag_panel, "Flags")
        self.addActions(self.flag_panel.actions)  # B, P, E, [, ], undo/redo work from any tab
        self.flag_layer.message.connect(self._show_message)
        self.side_tabs.setMinimumWidth(240)

        self.spectrum_panel = SpectrumPanel(self.state)

        self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter.addWidget(self.image_view)
        self.top_splitter.addWidget(self.side_tabs)
        self.top_splitter.setStretchFactor(0, 1)
        self.top_splitter.setStretchFactor(1, 0)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.addWidget(self.top_splitter)
        self.main_splitter.addWidget(self.spectrum_panel)
        self.main_splitter.setStretchFactor(0, 3)
        self.main_splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.main_splitter)
        self.top_splitter.setSizes([900, 300])
        self.main_splitter.setSizes([560, 340])

        self._build_status_bar()
        self._build_menus()

        self.pixel_thread = PixelThread()
        self.pixel_thread.worker.result.connect(self._on_pixel_result)
        self.pixel_thread.worker.failed.connect(self._on_pixel_failed)

        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(self._redraw_maps)

        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(25)
        self._hover_timer.timeout.connect(self._show_hover_readout)
        self.image_view.pixel_hovered.connect(self._on_view_hover)
        self.image_view.overlay_limits_shown.connect(self.controls.set_overlay_auto_limits)
        self.state.selected_pixel_changed.connect(self._on_model_selected_pixel)
        self.state.overlay_map_changed.connect(lambda _: self._redraw_maps(force=True))
        self.state.changed.connect(self._on_model_changed)

        self.resize(1400, 900)
        if restore_settings:
            self._restore_window()

    # opening -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = choose_cube(self, settings.last_dir())
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> bool:
        """Open ``path`` in this window, replacing the current cube; False (and a message) on failure."""
        path = str(path)
        try:
            cube = core_api.open_cube(path)
        except MirabelleError as exc:
            show_error(self, exc, "Cannot open the cube")
            return False
        except OSError as exc:
            show_error(self, f"{path}: expected a readable SITELLE cube file, found an error: {exc}.",
                       "Cannot open the cube")
            return False
        except Exception as exc:  # noqa: BLE001 - a reader bug must not take the window down
            report_exception(exc)
            return False
        self.close_document()
        self.cube = cube
        self.model_name = self._model_name  # the pixel worker loads the model for this cube
        self.pixel_thread.worker.cube = cube
        self.pixel_thread.worker.warm_up()
        settings.add_recent_file(path)
        settings.set_last_dir(str(Path(path).resolve().parent))
        self.state.selected_pixel = None
        self.state.cube_path = str(Path(path).resolve())
        name = getattr(cube, "object_name", "") or ""
        self.setWindowTitle(f"{Path(path).name} — {name + ' — ' if name else ''}Mirabelle")
        warnings = list(getattr(cube, "warnings", []) or [])
        self.readout_label.setText(
            f"{Path(path).name}: {cube.nx} × {cube.ny} pixels, {cube.nz} channels, filter {cube.filter_name}"
            + (f" — {warnings[0]}" if warnings else ""))
        self._show_deep_image()
        self.image_view.setFocus()  # arrow keys move the selection right away
        self.flag_layer.set_cube(self.state.cube_path, (cube.nx, cube.ny), getattr(cube, "wcs", None))
        self.cube_opened.emit(self.state.cube_path)
        if self.run_inference_on_open:
            self.start_inference()
        return True

    def close_document(self) -> None:
        """Save flags, stop workers and close the current cube (nothing asked)."""
        if self.cube is None:
            return
        try:
            self.flag_layer.set_cube(None)  # flushes the flags of this cube first
        except MirabelleError as exc:
            show_error(self, exc, "Flags not saved")
        self._stop_inference(wait=True)
        if self._deep_thread is not None:
            self._deep_worker.cancel()  # stops at its next progress report
            self._deep_thread.wait()
            self._deep_thread = None
        self.redraw_timer.stop()
        self._generation += 1
        with self.pixel_thread.worker.busy:  # a pixel being read finishes first (milliseconds)
            self.pixel_thread.worker.latest = self._generation
            self.pixel_thread.worker.cube = None
            self.pixel_thread.worker.maps = None
        self.maps = None
        self._shown_maps.clear()
        self._dirty_regions.clear()
        self.image_view.set_overlay_data(None, None)
        self.image_view.set_hint_score(None)
        self.image_view.set_deep_image(None)
        self._set_panel_data(None)
        try:
            self.cube.close()
        except Exception:  # noqa: BLE001 - closing a broken file must not block opening the next
            pass
        self.cube = None
        self.state.cube_path = None
        self.state.selected_pixel = None
        self._hover = None
        self.setWindowTitle("Mirabelle")

    def _show_deep_image(self) -> None:
        cube = self.cube
        if getattr(cube, "has_deep_frame", False):
            try:
                self._on_deep_image(cube.deep_image())
                return
            except MirabelleError as exc:
                show_error(self, exc, "No deep image")
                return
        # cross-thread signals go to bound methods only: they run on the GUI thread (queued)
        self._deep_worker = DeepImageWorker(cube)
        self._deep_worker.progress.connect(self._on_deep_progress)
        self._deep_worker.result.connect(self._on_deep_result)
        self._deep_worker.failed.connect(self._on_deep_failed)
        self._deep_worker.finished.connect(self._hide_progress)
        self._deep_thread = start_in_thread(self._deep_worker)

    def _on_deep_result(self, payload: tuple) -> None:
        cube, image = payload
        if cube is self.cube:  # not a late answer for a cube closed meanwhile
            self._on_deep_image(image)

    def _on_deep_progress(self, fraction: float) -> None:
        self._show_progress("Deep image", fraction, float("nan"))

    def _on_deep_failed(self, exc: BaseException) -> None:
        if isinstance(exc, MirabelleError):
            show_error(self, exc, "No deep image")

    def _on_deep_image(self, image: np.ndarray) -> None:
        if self.cube is None or tuple(np.shape(image)) != (self.cube.nx, self.cube.ny):
            return
        self.image_view.set_deep_image(image)
        self.deep_image_shown.emit()

    # selection, spectrum -------------------------------------------------------------------
    def _on_model_selected_pixel(self, pixel) -> None:
        if pixel is None:
            return
        self._request_pixel(*pixel)

    def _request_pixel(self, x: int, y: int) -> None:
        if self.cube is None:
            return
        self._generation += 1
        self.pixel_thread.worker.request(self._generation, x, y)

    def _on_pixel_result(self, data: PixelData) -> None:
        if data.generation != self._generation or self.cube is None:
            return  # a newer request is on its way
        self._set_panel_data(data)
        self.pixel_data_shown.emit(data)

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _on_pixel_failed(self, exc: BaseException) -> None:
        if isinstance(exc, MirabelleError):
            self.statusBar().showMessage(str(exc), 8000)

    def _set_panel_data(self, data: PixelData | None) -> None:
        self.spectrum_panel.set_pixel_data(data)

    # readout -----------------------------------------------------------------------------
    def _on_view_hover(self, pixel) -> None:
        """Mouse moves come faster than the readout needs: show the newest pixel at ≤ 40 Hz."""
        if pixel is None or self.cube is None or pixel == self._hover:
            return
        self._hover = pixel
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _show_hover_readout(self) -> None:
        if self._hover is not None and self.cube is not None:
            self.readout_label.setText(self.readout_text(*self._hover))

    def readout_text(self, x: int, y: int) -> str:
        """The status-bar readout of pixel (x, y): position, RA/Dec, deep value, map values."""
        return readout.readout_text(self.cube, self.image_view.deep_image, self.maps, self.state.overlay_map, x, y)

    # export --------------------------------------------------------------------------------
    def export_priors(self) -> QWidget | None:
        """Open the ORCS priors export dialog on the current maps (and flags); returns it."""
        if self.cube is None or self.maps is None:
            show_error(self, "Expected kinematic maps to export, found none: open a cube and let the "
                             "kinematics inference run (Kinematics ▸ Run inference) first.", "Nothing to export")
            return None
        from mirabelle.ui.export_dialog import ExportPriorsDialog

        flags = getattr(self.flag_layer, "flags", None)
        self.export_dialog = ExportPriorsDialog(self.cube, self.maps, flags=flags,
                                                model_card=core_api.model_card(self.model), parent=self)
        self.export_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog.exported.connect(lambda summary: self.statusBar().showMessage("ORCS priors exported.", 8000))
        self.export_dialog.open()
        return self.export_dialog

    def _save_image_dialog(self, title: str, default_name: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(settings.last_dir()) / default_name),
                                              "PNG image (*.png);;SVG image (*.svg)")
        return path or None

    def export_view_image(self) -> None:
        path = self._save_image_dialog("Export the view", "mirabelle_view.png")
        if path:
            self.export_item_image(self.image_view.ci, path)

    def export_spectrum_image(self) -> None:
        path = self._save_image_dialog("Export the spectrum plot", "mirabelle_spectrum.png")
        if path:
            try:
                self.spectrum_panel.export_image(path)
            except MirabelleError as exc:
                show_error(self, exc, "Export failed")

    def export_item_image(self, item: Any, path: str) -> bool:
        """Save a pyqtgraph item (or scene) as PNG, or as SVG by the suffix; False after a message."""
        import pyqtgraph.exporters as exporters

        from mirabelle.ui.image_export import save_scene_svg

        try:
            if path.lower().endswith(".svg"):
                scene = item if hasattr(item, "views") else item.scene()
                save_scene_svg(scene, path)
            else:
                exporters.ImageExporter(item).export(path)
        except (OSError, ValueError) as exc:
            show_error(self, f"{path}: expected a writable image file, found: {exc}.", "Export failed")
            return False
        return True

    # drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = _local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            # open after the drop returns so the drag source is not kept waiting
            QTimer.singleShot(0, lambda p=paths[0]: self.open_path(p))

    # settings and closing ------------------------------------------------------------------
    def _restore_window(self) -> None:
        geometry = settings.window_geometry("main")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.window_state("main")
        if state is not None:
            self.restoreState(state)
        for key, splitter in (("main", self.main_splitter), ("top", self.top_splitter)):
            sizes = settings.splitter_sizes(key)
            if sizes and len(sizes) == splitter.count():
                splitter.setSizes(sizes)

    def save_settings(self) -> None:
        settings.save_window("main", self.saveGeometry(), self.saveState())
        settings.save_splitter("main", self.main_splitter.sizes())
        settings.save_splitter("top", self.top_splitter.sizes())
        settings.save_display(self.state)

    def shutdown(self) -> None:
        """Save flags and settings, stop every thread (idempotent)."""
        self.close_document()
        self.redraw_timer.stop()
        self.pixel_thread.stop()
        wait_for_threads()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)


def _local_paths(mime) -> list[str]:
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


__all__ = ["MainWindow", "CUBE_SUFFIXES", "FILE_FILTERS"]
