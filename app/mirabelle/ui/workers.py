"""Background work for the window: QThreads running worker objects over core generators.

Only signals cross threads. Each worker catches its own exceptions: ours
(:class:`~mirabelle.errors.MirabelleError`) come back as a ``failed`` signal for a dialog,
anything else goes to :func:`mirabelle.ui.errors.report_exception` as well.

* :class:`DeepImageWorker` — computes the deep image with progress when the cube lacks one.
* :class:`InferenceWorker` — drains ``run_cube`` tile by tile; cancel is an Event it checks.
* :class:`PixelWorker` — one long-lived thread answering pixel requests; each request has a
  generation number and stale ones are skipped, so the newest click wins.
* :class:`FunctionTask` — one short call (an export, a refinement) on Qt's thread pool.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThread, Signal, Slot

from mirabelle.errors import MirabelleError
from mirabelle.ui.errors import report_exception
from mirabelle.ui.state import PixelData


def _report(worker: QObject, exc: BaseException) -> None:
    worker.failed.emit(exc)
    if not isinstance(exc, MirabelleError):
        report_exception(exc)


class _Worker(QObject):
    failed = Signal(object)
    finished = Signal()


_running: dict[QThread, QObject] = {}  # thread -> worker, alive until the thread has ended


def start_in_thread(worker: QObject, run_slot: str = "run") -> QThread:
    """Move ``worker`` to a new QThread, run ``worker.<run_slot>`` there, clean up at the end.

    The thread stops itself when the worker emits ``finished`` (no GUI round trip). A
    module-level table keeps the thread and the worker alive until the thread has ended,
    so dropping the returned reference is safe: Python never deletes a worker that is still
    running, nor a QThread that has not finished.
    """
    thread = QThread()
    thread.setObjectName(type(worker).__name__)
    worker.moveToThread(thread)
    thread.started.connect(getattr(worker, run_slot))
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    _running[thread] = worker
    thread.finished.connect(lambda: _release(thread), Qt.ConnectionType.QueuedConnection)
    thread.start()
    return thread


def _release(thread: QThread) -> None:
    thread.wait()  # finished was emitted: the thread is ending, this returns at once
    _running.pop(thread, None)


def wait_for_threads(timeout_ms: int = 10000) -> bool:
    """Wait for every worker thread started here to end (tests, shutdown); True if all ended."""
    ok = True
    for thread in list(_running):
        ok = thread.wait(timeout_ms) and ok
    return ok


class _Cancelled(Exception):
    """Raised from a progress callback to stop a core computation early."""


class DeepImageWorker(_Worker):
    """Compute ``cube.deep_image(progress)`` off the GUI thread; :meth:`cancel` stops it.

    ``result((cube, image))`` names the cube, so a late answer for a closed cube is dropped.
    """

    progress = Signal(float)
    result = Signal(object)

    def __init__(self, cube: Any) -> None:
        super().__init__()
        self.cube = cube
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Stop at the next progress report (thread-safe)."""
        self.cancel_event.set()

    def _progress(self, fraction: float) -> None:
        if self.cancel_event.is_set():
            raise _Cancelled
        self.progress.emit(float(fraction))

    @Slot()
    def run(self) -> None:
        try:
            image = self.cube.deep_image(progress=self._progress)
            if not self.cancel_event.is_set():
                self.result.emit((self.cube, np.asarray(image, dtype=np.float32)))
        except _Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI
            if not self.cancel_event.is_set():  # a closed file while cancelling is expected
                _report(self, exc)
        finally:
            self.finished.emit()


class InferenceWorker(_Worker):
    """Run the whole-cube inference generator; emit progress after each finished tile.

    ``progress(done_pixels, total_pixels, eta_s)`` follows every tile; ``maps_ready(maps)``
    hands over the shared :class:`KinematicMaps` being filled (once, or again if the object
    changes; the GUI reads it on its redraw timer); ``completed(bool)`` says whether the
    run covered the whole cube.
    """

    progress = Signal(int, int, float)
    tile_done = Signal(int, int, int, int)  # x0, x1, y0, y1 of the finished tile
    maps_ready = Signal(object)
    completed = Signal(bool)
    model_ready = Signal(object)

    def __init__(self, cube: Any, model_name: str | None = None, use_cache: bool = True) -> None:
        super().__init__()
        self.cube = cube
        self.model_name = model_name
        self.use_cache = use_cache
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Ask the run to stop at the next tile (thread-safe, callable from the GUI)."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        complete = False
        try:
            from mirabelle.ui import core_api

            core_api.lower_thread_priority()  # before the model: its thread pool inherits it
            model = core_api.load_model_for(self.cube, self.model_name)
            self.model_ready.emit(model)
            total = int(self.cube.nx * self.cube.ny)
            start = time.monotonic()
            done = 0
            last_maps = None
            for maps, done, region in core_api.iterate_inference(self.cube, model, self.cancel_event,
                                                                 self.use_cache):
                if maps is not last_maps:
                    self.maps_ready.emit(maps)
                    last_maps = maps
                elif region is not None:
                    self.tile_done.emit(*region)
                elapsed = time.monotonic() - start
                eta = elapsed / done * (total - done) if done else float("nan")
                self.progress.emit(int(done), total, float(eta))
                if self.cancel_event.is_set():
                    break
            complete = (not self.cancel_event.is_set()) and done >= total
        except BaseException as exc:  # noqa: BLE001
            _report(self, exc)
        finally:
            self.completed.emit(complete)
            self.finished.emit()


class _TaskSignals(QObject):
    done = Signal(object, object)  # tag, result
    failed = Signal(object, object)  # tag, exception


class FunctionTask(QRunnable):
    """``function(**kwargs)`` on Qt's thread pool, answered by ``signals.done(tag, result)`` or
    ``signals.failed(tag, exception)`` in the receivers' thread.

    ``tag`` lets a receiver drop stale answers (a generation number). Connect to methods of a
    QObject (not lambdas, which would run in the pool thread) and keep ``signals`` referenced
    until an answer arrives.
    """

    def __init__(self, function, kwargs: dict, tag: Any = None) -> None:
        super().__init__()
        self.function, self.kwargs, self.tag = function, kwargs, tag
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result = self.function(**self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread, which reports it
            self.signals.failed.emit(self.tag, exc)
            return
        self.signals.done.emit(self.tag, result)


class PixelWorker(QObject):
    """Answer pixel requests in a long-lived thread; the newest request wins.

    Set :attr:`cube`, :attr:`model` and :attr:`maps` from the GUI thread (plain attribute
    writes); call :meth:`request` with a generation number; stale requests are dropped.
    """

    request_signal = Signal(int, int, int)
    warm_up_signal = Signal()
    result = Signal(object)
    failed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.cube: Any = None
        self.model: Any = None
        self.model_name: str | None = None
        self.model_problem: str | None = None  # why no model could be loaded for this cube
        self.maps: Any = None
        self.latest = 0
        self.busy = threading.RLock()  # held while the worker reads the cube: close waits for it
        self.request_signal.connect(self._compute)
        self.warm_up_signal.connect(self._load_model)

    def warm_up(self) -> None:
        """Load the model in the worker thread now, so the first click does not wait for it."""
        self.warm_up_signal.emit()

    @Slot()
    def _load_model(self) -> None:
        with self.busy:
            self._load_model_locked()

    def _load_model_locked(self) -> None:
        if self.cube is None or self.model is not None or self.model_problem is not None:
            return
        from mirabelle.ui import core_api

        try:
            self.model = core_api.load_model_for(self.cube, self.model_name)
        except MirabelleError as exc:
            self.model_problem = str(exc)
        except Exception as exc:  # noqa: BLE001
            self.model_problem = str(exc)
            report_exception(exc)

    def request(self, generation: int, x: int, y: int) -> None:
        """Queue a request (from the GUI thread); marks older ones stale."""
        self.latest = generation
        self.request_signal.emit(generation, x, y)

    @Slot(int, int, int)
    def _compute(self, generation: int, x: int, y: int) -> None:
        with self.busy:
            self._compute_locked(generation, x, y)

    def _compute_locked(self, generation: int, x: int, y: int) -> None:
        if generation != self.latest or self.cube is None:
            return
        try:
            from mirabelle.ui import core_api

            self._load_model()  # normally done by warm_up when the cube opened
            data = core_api.pixel_data(self.cube, x, y, self.model, self.maps,
                                       stale=lambda: generation != self.latest)
            if data is None or generation != self.latest:
                return
            data.generation = generation
            if self.model is None and self.model_problem:
                data.notes.append(f"no kinematics: {self.model_problem}")
            self.result.emit(data)
        except BaseException as exc:  # noqa: BLE001
            self.failed.emit(exc)
            if not isinstance(exc, MirabelleError):
                report_exception(exc)


class PixelThread:
    """Owns the :class:`PixelWorker` and its thread; :meth:`stop` joins it."""

    def __init__(self) -> None:
        self.thread = QThread()
        self.thread.setObjectName("PixelWorker")
        self.worker = PixelWorker()
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        self.thread.quit()
        self.thread.wait(5000)


__all__ = ["DeepImageWorker", "InferenceWorker", "PixelData", "PixelThread", "PixelWorker", "start_in_thread"]
