"""The main window's kinematics inference: start and cancel it, take its tiles, redraw the maps.

:class:`InferenceMixin` is mixed into :class:`~mirabelle.ui.main_window.MainWindow`, which
owns the attributes it uses (``cube``, ``maps``, ``model``, ``pixel_thread``,
``redraw_timer``, ``image_view``, ``model_label``, the ``_inference_*`` fields and the
``inference_finished`` signal). The inference itself runs in
:class:`~mirabelle.ui.workers.InferenceWorker`; these slots only keep the newest run's
results and redraw the finished tiles, throttled by ``redraw_timer``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mirabelle.errors import MirabelleError
from mirabelle.ui import core_api
from mirabelle.ui.errors import show_error
from mirabelle.ui.workers import InferenceWorker, start_in_thread


class InferenceMixin:
    """Inference slots and map redraws of the main window (see the module docstring)."""

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
