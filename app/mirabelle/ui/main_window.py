"""The Mirabelle main window: one cube at a time, its deep image, maps, spectrum and flags.

The window only draws and forwards: its :class:`~mirabelle.ui.controller.SessionController`
runs the session (cube → model → tiles → maps, clicks, exports) off the GUI thread and
signals what to draw. Opening a second file replaces the first in the same window: the
flags of the first are saved, its run cancelled and its file closed first (no question
asked). Menus: :mod:`mirabelle.ui.window_menus`; status bar: :mod:`mirabelle.ui.status_bar`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from mirabelle.errors import MirabelleError
from mirabelle.memory import freeze_long_lived_objects
from mirabelle.session.pixel import agrees_with_maps
from mirabelle.ui import readout, settings, window_layout
from mirabelle.ui.controller import SessionController
from mirabelle.ui.controls import DisplayControls
from mirabelle.ui.errors import report_exception, show_error
from mirabelle.ui.flag_layer import FlagLayer
from mirabelle.ui.first_paint import after_next_paint
from mirabelle.ui.flag_panel import FlagPanel
from mirabelle.ui.image_export import save_scene_image
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.map_display import MapDisplay
from mirabelle.ui.open_dialog import choose_cube
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import ViewState
from mirabelle.ui.status_bar import WindowStatus
from mirabelle.ui.tasks import wait_for_workers
from mirabelle.ui.view_export import ask_and_export_spectrum, ask_and_export_view, open_priors_dialog
from mirabelle.ui.viewer_tools import ViewerTools
from mirabelle.ui.window_menus import WindowMenus

class MainWindow(QMainWindow):
    """The application window; :attr:`state` is the display state tests and scripts drive,
    :attr:`controller` the session behind it."""

    cube_opened = Signal(str)
    deep_image_shown = Signal()
    inference_finished = Signal(bool)  # True when the whole cube was covered
    pixel_data_shown = Signal(object)  # the PixelResult handed to the spectrum panel

    def __init__(self, run_inference: bool | None = None, restore_settings: bool = True,
                 controller: SessionController | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Mirabelle")
        self.setAcceptDrops(True)
        self.state = ViewState(self)
        if restore_settings:
            settings.restore_display(self.state)
        self.run_inference_on_open = settings.run_inference_on_open() if run_inference is None else run_inference
        self.controller = controller or SessionController(parent=self)
        self.cube: Any = None
        self.model: Any = None
        self.model_error: str | None = None
        self.export_dialog: QWidget | None = None
        self._explicit_run = False
        self._hover: tuple[int, int] | None = None
        self.map_display = MapDisplay()

        self.image_view = ImageView(self.state)
        self.controls = DisplayControls(self.state)
        self.display_dock = window_layout.add_tool_dock(self, "Display", self.controls)
        self.flag_layer = FlagLayer(self.image_view.view_box, self.state, parent=self)
        self.flag_panel = FlagPanel(self.flag_layer)
        self.flags_dock = window_layout.add_tool_dock(self, "Flags", self.flag_panel)
        self.addActions(self.flag_panel.actions)  # B, P, E, [, ], undo/redo work from any tab
        self.spectrum_panel = SpectrumPanel(self.state)
        self.main_splitter = window_layout.central_splitter(self.image_view, self.spectrum_panel)
        self.setCentralWidget(self.main_splitter)

        self.status = WindowStatus(self.statusBar())
        self.status.cancel_button.clicked.connect(self.cancel_inference)
        self.menus = WindowMenus(self)

        c = self.controller
        c.deep_image.connect(self._on_deep_image)
        c.deep_progress.connect(lambda f: self.status.show_progress("Deep image", f, float("nan")))
        c.deep_failed.connect(self._on_deep_failed)
        c.model_ready.connect(self._on_model_ready)
        c.maps_updated.connect(self._on_maps_updated)
        c.run_progress.connect(self._on_run_progress)
        c.run_failed.connect(self._on_run_failed)
        c.run_finished.connect(self._on_run_finished)
        c.pixel_ready.connect(self._on_pixel_result)
        c.pixel_failed.connect(self._on_pixel_failed)
        c.message.connect(self.status.message)
        self.flag_layer.message.connect(self.status.message)

        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(25)
        self._hover_timer.timeout.connect(self._show_hover_readout)
        self.image_view.pixel_hovered.connect(self._on_view_hover)
        self.image_view.overlay_limits_shown.connect(self.controls.set_overlay_auto_limits)
        self.state.selected_pixel_changed.connect(self._on_model_selected_pixel)
        self.state.overlay_map_changed.connect(lambda _: self._redraw_maps())
        self.state.flag_hint_visible_changed.connect(lambda _: self._redraw_maps())
        self.viewer = ViewerTools(self)  # channels, regions, PV, line maps and ratios, DS9 habits, SAMP
        window_layout.finish_layout(self)

        self.resize(1400, 900)
        if restore_settings:
            self._restore_window()

    @property
    def maps(self):
        """The maps of the open cube (being filled while a run goes on), or None."""
        return None if self.controller.session is None else self.controller.session.maps

    @property
    def model_name(self) -> str | None:
        """The model to use: a shipped name or an .onnx path; None picks by the cube's resolution."""
        return self.controller.model_name

    @model_name.setter
    def model_name(self, name: str | None) -> None:
        self.controller.set_model_name(name)

    @property
    def inference_running(self) -> bool:
        return self.controller.running

    # opening -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = choose_cube(self, settings.last_dir())
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> bool:
        """Open ``path`` in this window, replacing the current cube; False (and a message) on failure."""
        path = str(path)
        try:
            cube = self.controller.open(path)
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
        self._save_flags()  # of the cube replaced
        self._clear_views()
        self.cube = cube
        settings.add_recent_file(path)
        settings.set_last_dir(str(Path(path).resolve().parent))
        self.state.cube_path = str(Path(path).resolve())
        name = getattr(cube, "object_name", "") or ""
        self.setWindowTitle(f"{Path(path).name} — {name + ' — ' if name else ''}Mirabelle")
        warnings = list(getattr(cube, "warnings", []) or [])
        self.status.readout_label.setText(
            f"{Path(path).name}: {cube.nx} × {cube.ny} pixels, {cube.nz} channels, filter {cube.filter_name}"
            + (f" — {warnings[0]}" if warnings else ""))
        self.controller.load_deep_image()
        self.image_view.setFocus()  # arrow keys move the selection right away
        self.flag_layer.set_cube(self.state.cube_path, (cube.nx, cube.ny), getattr(cube, "wcs", None))
        self.cube_opened.emit(self.state.cube_path)
        # model and cached maps once the deep image is on screen: their threads would slow its paint
        after_next_paint(self.image_view.viewport(), lambda: self._after_open(cube))
        return True

    def _after_open(self, cube: Any) -> None:
        if cube is not self.cube:
            return
        if self.run_inference_on_open:  # the run loads the model, and starts worker processes only if
            self.start_inference()       # it computes tiles: cached maps are not slowed by their start-up
        else:
            self.controller.warm_up()

    def close_document(self) -> None:
        """Save flags, stop the session's work and close the current cube (nothing asked)."""
        if self.cube is None:
            return
        self._save_flags()
        self.viewer.close_document()
        self.controller.close()
        self._clear_views()
        self.state.cube_path = None
        self.setWindowTitle("Mirabelle")

    def _save_flags(self) -> None:
        try:
            if self.cube is not None:
                self.flag_layer.set_cube(None)  # flushes the flags of this cube first
        except MirabelleError as exc:
            show_error(self, exc, "Flags not saved")

    def _clear_views(self) -> None:
        self.cube = self.model = self.model_error = None
        self.map_display.reset(None)
        self.status.reset()
        self.viewer.refresh_maps()  # PV, line maps and ratio diagram lose the old maps
        self.image_view.set_overlay_data(None, None)
        self.image_view.set_hint_score(None)
        self.image_view.set_deep_image(None)
        self.spectrum_panel.set_pixel_data(None)
        self.state.selected_pixel = None
        self._hover = None

    def _on_deep_image(self, image: np.ndarray) -> None:
        self.status.hide_progress()
        if self.cube is None or tuple(np.shape(image)) != (self.cube.nx, self.cube.ny):
            return
        self.image_view.set_deep_image(np.asarray(image, dtype=np.float32))
        self.deep_image_shown.emit()

    def _on_deep_failed(self, exc: BaseException) -> None:
        self.status.hide_progress()
        if isinstance(exc, MirabelleError):
            show_error(self, exc, "No deep image")

    # the kinematics run ------------------------------------------------------------------
    def start_inference(self, use_cache: bool = True, explicit: bool = False) -> None:
        """Run the kinematics network over the cube (cached maps load at once).

        Model problems show a dialog when ``explicit`` (menu), else a status-bar message.
        """
        self._explicit_run = explicit
        if self.controller.start_run(use_cache=use_cache, scheduler=settings.scheduler_address() or None):
            self.status.show_progress("Kinematics", 0.0, float("nan"), cancellable=True)

    def cancel_inference(self) -> None:
        self.controller.cancel_run()

    def _on_model_ready(self, model: Any) -> None:
        self.model = model
        card = getattr(model, "card", None) or {}
        self.status.model_label.setText(f"model {card.get('name', '?')} v{card.get('version', '?')}")

    def _on_run_progress(self, done: int, total: int, eta_s: float) -> None:
        self.status.show_progress("Kinematics", done / max(total, 1), eta_s, cancellable=True)

    def _on_maps_updated(self, windows) -> None:
        if self.map_display.maps is not self.maps:
            self.map_display.reset(self.maps)
        else:
            self.map_display.update(windows)
        self._redraw_maps()

    def _redraw_maps(self) -> None:
        name = self.state.overlay_map
        if name is not None:
            self.image_view.set_overlay_data(name, self.map_display.array(name))
        if self.state.flag_hint_visible:
            self.image_view.set_hint_score(self.map_display.array("double_score"))

    def _on_run_failed(self, exc: BaseException) -> None:
        self.model_error = str(exc)
        if isinstance(exc, MirabelleError):
            self.status.model_label.setText("no kinematics")
            self.status.model_label.setToolTip(str(exc))
            if self._explicit_run:
                show_error(self, exc, "No kinematics")
            else:
                self.status.message(f"No kinematics: {exc}", 15000)

    def _on_run_finished(self, complete: bool) -> None:
        freeze_long_lived_objects()  # everything is imported and built by now
        self.status.hide_progress()
        maps = self.maps
        if maps is not None:
            done, total = int(maps.done.sum()), maps.done.size
            self.status.message("Kinematics done." if complete else f"Kinematics stopped: {done} of {total} pixels.",
                                5000)
        # the selected pixel again from the finished maps (its neighbours may flag it an outlier),
        # unless it shows that already: the redraw would only delay a click made meanwhile
        shown = self.spectrum_panel.pixel_data
        if self.state.selected_pixel is not None and not (
                shown is not None and (shown.x, shown.y) == self.state.selected_pixel and agrees_with_maps(shown, maps)):
            self.controller.request_pixel(*self.state.selected_pixel)
        self.inference_finished.emit(complete)

    # selection, spectrum, readout ----------------------------------------------------------
    def _on_model_selected_pixel(self, pixel) -> None:
        if pixel is not None:
            self.controller.request_pixel(*pixel)

    def _on_pixel_result(self, data) -> None:
        self.spectrum_panel.set_pixel_data(data)
        self.status.readout_label.setText(self.readout_text(data.x, data.y))  # readout and spectrum in step
        self.pixel_data_shown.emit(data)

    def _on_pixel_failed(self, exc: BaseException) -> None:
        if isinstance(exc, MirabelleError):
            self.status.message(str(exc))

    def _on_view_hover(self, pixel) -> None:
        """Mouse moves come faster than the readout needs: show the newest pixel at ≤ 40 Hz."""
        if pixel is None or self.cube is None or pixel == self._hover:
            return
        self._hover = pixel
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _show_hover_readout(self) -> None:
        if self._hover is not None and self.cube is not None:
            self.status.readout_label.setText(self.readout_text(*self._hover))

    def readout_text(self, x: int, y: int) -> str:
        """The status-bar readout of pixel (x, y): position, RA/Dec, deep value, map values."""
        return readout.readout_text(self.cube, self.image_view.deep_image, self.maps, self.state.overlay_map, x, y)

    # export --------------------------------------------------------------------------------
    def export_priors(self) -> QWidget | None:
        """Open the ORCS priors export dialog on a snapshot of the maps (and the flags); returns it."""
        dialog = open_priors_dialog(self)
        self.export_dialog = dialog or self.export_dialog
        return dialog

    def export_view_image(self) -> None:
        """The deep image and overlay at native resolution (PNG, TIFF, JPEG) or as FITS with the WCS."""
        ask_and_export_view(self)

    def export_spectrum_image(self) -> None:
        """The selected pixel's spectrum: the plot (PNG, SVG) or the data (FITS table, CSV)."""
        ask_and_export_spectrum(self)

    def export_item_image(self, item: Any, path: str) -> bool:
        """Save a pyqtgraph item (or scene) as PNG, or as SVG by the suffix; False after a message."""
        try:
            save_scene_image(item, path)
        except MirabelleError as exc:
            show_error(self, exc, "Export failed")
            return False
        return True

    # drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent  # noqa: N815 - the same test while the drag moves

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
            self.restoreState(state, window_layout.STATE_VERSION)  # an older layout's state is ignored
        sizes = settings.splitter_sizes("main")
        if sizes and len(sizes) == self.main_splitter.count():
            self.main_splitter.setSizes(sizes)

    def save_settings(self) -> None:
        settings.save_window("main", self.saveGeometry(), self.saveState(window_layout.STATE_VERSION))
        settings.save_splitter("main", self.main_splitter.sizes())
        settings.save_display(self.state)

    def shutdown(self) -> None:
        """Save flags and settings, stop every worker (idempotent)."""
        self.close_document()
        self.viewer.shutdown()
        wait_for_workers()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)


def _local_paths(mime) -> list[str]:
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
