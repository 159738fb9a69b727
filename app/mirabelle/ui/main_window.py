"""The Mirabelle main window: one cube at a time, its deep image, maps, spectrum and flags.

Opening a second file replaces the first in the same window: the flags of the first are
saved, its inference is cancelled and its file closed before the new one opens (no
question asked). Slow work runs in :mod:`mirabelle.ui.workers`; the window only draws.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QWidget,
)

from mirabelle.errors import MirabelleError
from mirabelle.ui import core_api, help_texts, readout, settings
from mirabelle.ui.controls import DisplayControls
from mirabelle.ui.errors import report_exception, show_error
from mirabelle.ui.flag_tools import FlagLayer, FlagPanel
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import MAP_LABELS, MAP_NAMES, STRETCHES, PixelData, ViewState
from mirabelle.ui.workers import DeepImageWorker, InferenceWorker, PixelThread, start_in_thread, wait_for_threads

CUBE_SUFFIXES = (".hdf5", ".h5", ".hdf", ".fits", ".fit", ".fts", ".fits.gz")
FILE_FILTERS = "SITELLE cubes (*.hdf5 *.h5 *.hdf *.fits *.fit *.fts);;HDF5 cubes (*.hdf5 *.h5 *.hdf);;" \
               "FITS cubes (*.fits *.fit *.fts);;All files (*)"
REDRAW_INTERVAL_MS = 200  # ~5 Hz while inference fills the maps



class MainWindow(QMainWindow):
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

    # construction ----------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.readout_label = QLabel("Open a SITELLE cube: File ▸ Open, or drop it here.")
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.readout_label, 1)
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(200)
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the kinematics inference (Shift+Esc); finished tiles stay")
        self.cancel_button.clicked.connect(self.cancel_inference)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.setVisible(False)
        self.model_label = QLabel()
        bar.addPermanentWidget(self.model_label)
        # a constant height: showing the progress widgets must not resize (and fully
        # repaint) the image view while inference runs
        bar.setFixedHeight(max(self.cancel_button.sizeHint().height(), self.progress_bar.sizeHint().height()) + 6)

    def _action(self, menu, text: str, slot, shortcut: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        open_action = self._action(file_menu, "&Open…", self.open_dialog, "Ctrl+O")
        open_action.setStatusTip("Open a cube in this window; it replaces the current cube, whose flags are saved first")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.export_priors_action = self._action(file_menu, "Export ORCS &priors…", self.export_priors, "Ctrl+E")
        self._action(file_menu, "Export &view as image…", self.export_view_image)
        self._action(file_menu, "Export &spectrum plot as image…", self.export_spectrum_image)
        file_menu.addSeparator()
        self._action(file_menu, "&Close cube", self.close_document, "Ctrl+W")
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")

        view_menu = bar.addMenu("&View")
        self.toggle_overlay_action = self._action(view_menu, "Show map &overlay", self._toggle_overlay, "V",
                                                  checkable=True)
        self.toggle_overlay_action.setChecked(self.state.overlay_visible)
        overlay_menu = view_menu.addMenu("Overlay &map")
        group = QActionGroup(self)
        self.overlay_actions: dict[str | None, QAction] = {}
        for key, name in [("0", None)] + [(str(i + 1), n) for i, n in enumerate(MAP_NAMES)]:
            label = "None" if name is None else MAP_LABELS[name]
            action = self._action(overlay_menu, label, lambda _=False, n=name: setattr(self.state, "overlay_map", n),
                                  key, checkable=True)
            group.addAction(action)
            self.overlay_actions[name] = action
        self.overlay_actions[self.state.overlay_map].setChecked(True)
        self._action(view_menu, "Cycle &stretch", self._cycle_stretch, "S")
        self.hint_action = self._action(view_menu, "&Highlight high double-component score",
                                        lambda on: setattr(self.state, "flag_hint_visible", on), "H",
                                        checkable=True)
        self._action(view_menu, "Show &whole image", lambda: self.image_view.view_box.autoRange(padding=0.01),
                     "Home")

        kin_menu = bar.addMenu("&Kinematics")
        self.run_action = self._action(kin_menu, "&Run inference", lambda: self.start_inference(explicit=True),
                                       "Ctrl+R")
        self.cancel_action = self._action(kin_menu, "&Cancel inference", self.cancel_inference, "Shift+Esc")
        self.auto_action = self._action(kin_menu, "Run inference when a cube &opens",
                                        self._set_auto_inference, checkable=True)
        self.auto_action.setChecked(self.run_inference_on_open)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Mirabelle", self.show_about)

    # opening -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a SITELLE cube", settings.last_dir(), FILE_FILTERS)
        if path:
            self.open_path(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
            action.setEnabled(os.path.exists(path))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(settings.clear_recent_files)

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

    # inference -------------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        """The model to use: a shipped name or an .onnx path; None picks by the cube's resolution."""
        return self._model_name

    @model_name.setter
    def model_name(self, name: str | None) -> None:
        self._model_name = name
        worker = self.pixel_thread.worker
        worker.model, worker.model_problem, worker.model_name = None, None, name

    @property
    def inference_running(self) -> bool:
        return self._inference_thread is not None and self._inference_thread.isRunning()

    def start_inference(self, use_cache: bool = True, explicit: bool = False) -> None:
        """Run the kinematics network over the cube in a worker thread (cached maps load at once).

        Model problems show a dialog when ``explicit`` (menu), else a status-bar message.
        """
        if self.cube is None or self.inference_running:
            return
        self._inference_explicit = explicit
        worker = InferenceWorker(self.cube, model_name=self.model_name, use_cache=use_cache)
        worker.model_ready.connect(self._on_model_ready)
        worker.maps_ready.connect(self._on_maps_ready)
        worker.progress.connect(self._on_inference_progress)
        worker.tile_done.connect(self._on_tile_done)
        worker.failed.connect(self._on_inference_failed)
        worker.completed.connect(self._on_inference_completed)
        self._inference_worker = worker
        self._show_progress("Kinematics", 0.0, float("nan"), cancellable=True)
        self._inference_thread = start_in_thread(worker)
        self.redraw_timer.start()

    def cancel_inference(self) -> None:
        if self._inference_worker is not None:
            self._inference_worker.cancel()

    def _stop_inference(self, wait: bool) -> None:
        if self._inference_worker is not None:
            self._inference_worker.cancel()
        if self._inference_thread is not None and wait:
            self._inference_thread.quit()
            self._inference_thread.wait()
        self._inference_thread = None
        self._inference_worker = None

    def _from_current_inference(self) -> bool:
        """False for a queued signal of a run that was stopped (its cube closed) before delivery."""
        sender = self.sender()
        return sender is None or sender is self._inference_worker

    def _on_model_ready(self, model: Any) -> None:
        if not self._from_current_inference():
            return
        self.model = model
        self.pixel_thread.worker.model = model
        card = core_api.model_card(model) or {}
        self.model_label.setText(f"model {card.get('name', '?')} v{card.get('version', '?')}")

    def _on_maps_ready(self, maps: Any) -> None:
        if not self._from_current_inference():
            return
        self.maps = maps
        self.pixel_thread.worker.maps = maps
        self._shown_maps.clear()
        self._dirty_regions.clear()
        self._maps_dirty = True

    def _on_tile_done(self, x0: int, x1: int, y0: int, y1: int) -> None:
        if not self._from_current_inference():
            return
        self._dirty_regions.append((x0, x1, y0, y1))
        self._maps_dirty = True

    def _on_inference_progress(self, done: int, total: int, eta_s: float) -> None:
        if not self._from_current_inference():
            return
        self._maps_dirty = True
        self._show_progress("Kinematics", done / max(total, 1), eta_s, cancellable=True)

    def _on_inference_failed(self, exc: BaseException) -> None:
        if not self._from_current_inference():
            return
        self.model_error = str(exc)
        if isinstance(exc, MirabelleError):
            self.model_label.setText("no kinematics")
            self.model_label.setToolTip(str(exc))
            if self._inference_explicit:
                show_error(self, exc, "No kinematics")
            else:
                self.statusBar().showMessage(f"No kinematics: {exc}", 15000)

    def _on_inference_completed(self, complete: bool) -> None:
        if not self._from_current_inference():
            return
        self.redraw_timer.stop()
        self._hide_progress()
        self._redraw_maps(force=True)
        self._inference_thread = None  # the thread ends by itself (workers.start_in_thread)
        self._inference_worker = None
        if self.maps is not None:
            done = core_api.done_count(self.maps)
            total = self.cube.nx * self.cube.ny if self.cube is not None else 0
            self.statusBar().showMessage(
                "Kinematics done." if complete else f"Kinematics stopped: {done} of {total} pixels.", 5000)
        if self.state.selected_pixel is not None:
            self._request_pixel(*self.state.selected_pixel)
        self.inference_finished.emit(complete)

    def _redraw_maps(self, force: bool = False) -> None:
        if self.maps is None or not (self._maps_dirty or force):
            return
        self._maps_dirty = False
        regions, self._dirty_regions = self._dirty_regions, []
        for name, shown in self._shown_maps.items():  # only the tiles finished since the last redraw
            for x0, x1, y0, y1 in regions:
                shown[x0:x1, y0:y1] = core_api.map_array(self.maps, name, (x0, x1, y0, y1))
        name = self.state.overlay_map
        if name is not None:
            self.image_view.set_overlay_data(name, self._shown_map(name))
        if self.state.flag_hint_visible:
            self.image_view.set_hint_score(self._shown_map("double_score"))

    def _shown_map(self, name: str) -> np.ndarray | None:
        """The display array of map ``name``, kept current tile by tile while inference runs."""
        if name not in self._shown_maps:
            array = core_api.map_array(self.maps, name)
            if array is None:
                return None
            self._shown_maps[name] = array
        return self._shown_maps[name]

    def map_array(self, name: str) -> np.ndarray | None:
        """The current array of map ``name`` (NaN where not computed), for other widgets."""
        return core_api.map_array(self.maps, name)

    # progress ----------------------------------------------------------------------------
    def _show_progress(self, what: str, fraction: float, eta_s: float, cancellable: bool = False) -> None:
        self.progress_bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.progress_bar.setFormat(f"{what} {100 * fraction:.0f} %")
        eta = "" if not math.isfinite(eta_s) else f"ETA {readout.format_duration(eta_s)}"
        self.progress_label.setText(eta)
        self.progress_label.setVisible(bool(eta))
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(cancellable)

    def _hide_progress(self) -> None:
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(False)

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

    # state mirroring -------------------------------------------------------------------
    def _on_model_changed(self, name: str) -> None:
        if name == "overlay_visible":
            with QSignalBlocker(self.toggle_overlay_action):
                self.toggle_overlay_action.setChecked(self.state.overlay_visible)
        elif name == "overlay_map":
            action = self.overlay_actions.get(self.state.overlay_map)
            if action is not None:
                with QSignalBlocker(action):
                    action.setChecked(True)
            if self.state.overlay_map is not None and not self.state.overlay_visible:
                self.state.overlay_visible = True
        elif name == "flag_hint_visible":
            with QSignalBlocker(self.hint_action):
                self.hint_action.setChecked(self.state.flag_hint_visible)
            if self.state.flag_hint_visible:
                self._redraw_maps(force=True)

    def _toggle_overlay(self, on: bool) -> None:
        self.state.overlay_visible = on
        if on and self.state.overlay_map is None:
            self.state.overlay_map = "velocity"

    def _cycle_stretch(self) -> None:
        i = STRETCHES.index(self.state.stretch)
        self.state.stretch = STRETCHES[(i + 1) % len(STRETCHES)]

    def _set_auto_inference(self, on: bool) -> None:
        self.run_inference_on_open = on
        settings.set_run_inference_on_open(on)

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

        from mirabelle.ui.spectrum_panel import save_scene_svg

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

    # help ----------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", help_texts.shortcuts_html(),
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def about_text(self) -> str:
        """The About box text: version and the model card(s)."""
        return help_texts.about_html(core_api.model_card(self.model))

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About Mirabelle", self.about_text(),
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

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
