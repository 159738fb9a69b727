"""The window's controller: it drives one :class:`~mirabelle.session.Session` off the GUI thread.

Every call of the session that may take time runs in the generic worker
(:mod:`mirabelle.ui.tasks`): the deep image, the whole-cube run (a generator of tile
results, redraws and progress throttled to ``REDRAW_INTERVAL_MS``) and the clicks (one in flight, the
newest waiting request replaces older ones, which are never computed; the one in flight is
finished and answered, so a held arrow key keeps the spectrum moving). The controller only
forwards results as signals; the window draws them. Tests give it a fake session factory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from superqt.utils import qthrottled

from mirabelle.errors import MirabelleError
from mirabelle.memory import release_free_memory
from mirabelle.session import Session
from mirabelle.ui.tasks import lower_thread_priority, run_function, run_generator

REDRAW_INTERVAL_MS = 200
"""Finished tiles and the progress are announced at most this often (~5 Hz) while a run fills the maps."""
PIXEL_INTERVAL_MS = 30
"""Click results are announced at most this often, the newest of those waiting (a held arrow key
answers faster than the spectrum redraws), so the event loop keeps time to paint."""


class _Cancelled(Exception):
    """Raised from the deep image's progress callback to stop it early."""


class SessionController(QObject):
    """Runs one session's work in workers and announces what to draw.

    Signals
    -------
    deep_image(ndarray), deep_progress(float): the cube's deep image and its progress 0..1.
    model_ready(model): the model of the run chosen (its ``card`` for the labels).
    maps_updated(list | None): the maps (``session.maps``) gained the listed windows
        ``(x slice, y slice)``, or changed everywhere (None); throttled.
    run_progress(done, total, eta_s): after each tile; run_finished(bool): True when complete.
    run_failed(exception), pixel_failed(exception), deep_failed(exception).
    pixel_ready(PixelResult): a click's result, each newer than the one before (``generation``),
        at most one per ``PIXEL_INTERVAL_MS``.
    message(str): a sentence from the session (a stale cache recomputed, ...).
    """

    deep_image = Signal(object)
    deep_progress = Signal(float)
    deep_failed = Signal(object)
    model_ready = Signal(object)
    maps_updated = Signal(object)
    run_progress = Signal(int, int, float)
    run_finished = Signal(bool)
    run_failed = Signal(object)
    pixel_ready = Signal(object)
    pixel_failed = Signal(object)
    message = Signal(str)

    def __init__(self, session_factory: Callable[..., Any] = Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = session_factory
        self.session: Any = None
        self.model_name: str | None = None
        self._run_id = 0
        self._cancel = threading.Event()
        self._run_done = threading.Event()
        self._run_done.set()
        self._deep_cancel = threading.Event()
        self._busy = threading.Lock()  # held while a click reads the cube: closing waits for it
        self._generation = 0
        self._pixel_in_flight = False
        self._pending: tuple[int, int, int] | None = None
        self._announce_pixel = qthrottled(self.pixel_ready.emit, timeout=PIXEL_INTERVAL_MS, parent=self)
        self._dirty: list | None = []
        self._progress: tuple[int, int, float] | None = None  # (done, total, ETA s) since the last redraw
        self._redraw = QTimer(self)
        self._redraw.setInterval(REDRAW_INTERVAL_MS)
        self._redraw.timeout.connect(self._flush)

    # opening and closing ---------------------------------------------------------------
    def open(self, path: str) -> Any:
        """Open ``path`` in a new session (closing the current one); returns its cube.

        Raises the reader's CubeError (a sentence) for a bad file.
        """
        session = self._factory(path, model_name=self.model_name, threads=_gui_threads(), vsys_kms=None,
                                notify=self.message.emit)  # vsys None: the cube's own, found on first use
        self.close()
        self.session = session
        return session.cube

    def close(self) -> None:
        """Stop the run and the deep image, wait for a click being read, close the session."""
        if self.session is None:
            return
        self.cancel_run()
        self._deep_cancel.set()
        self._run_done.wait(30)
        self._generation += 1
        self._pending = None
        self._announce_pixel.cancel()  # a result of this session waiting to be announced
        with self._busy:
            session, self.session = self.session, None
        self._redraw.stop()
        self._dirty, self._progress = [], None
        try:
            session.close()
        except Exception:  # noqa: BLE001 - closing a broken file must not block opening the next
            pass
        release_free_memory()  # the closed cube's chunk cache, the clicks' and the run's buffers

    def set_model_name(self, name: str | None) -> None:
        """The model of the next runs and clicks (shipped name or .onnx path; None: by resolution)."""
        self.model_name = name
        if self.session is not None:
            self.session.model_name, self.session._model, self.session._solver = name, None, None

    # deep image ------------------------------------------------------------------------
    def load_deep_image(self) -> None:
        """The deep image: read at once when the file stores one, else computed in a worker;
        ``deep_image`` when done."""
        session, cancel = self.session, threading.Event()
        self._deep_cancel = cancel
        if getattr(session.cube, "has_deep_frame", False):  # one plane read: no worker needed
            try:
                self.deep_image.emit(session.cube.deep_image())
            except MirabelleError as exc:
                self.deep_failed.emit(exc)
            return

        def progress(fraction: float) -> None:
            if cancel.is_set():
                raise _Cancelled
            self.deep_progress.emit(float(fraction))

        def compute():
            try:
                return session.cube.deep_image(progress=progress)
            except _Cancelled:
                return None

        def done(image) -> None:
            if image is not None and session is self.session:
                self.deep_image.emit(image)

        def failed(exc) -> None:
            if session is self.session and not cancel.is_set():
                self.deep_failed.emit(exc)

        run_function(compute, on_return=done, on_error=failed)

    # the whole-cube run ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return not self._run_done.is_set()

    def start_run(self, use_cache: bool = True, scheduler: str | None = None) -> bool:
        """Start the session's run in a worker (False when one runs or no cube is open);
        ``scheduler`` computes its tiles on that Dask cluster (``Session.run``)."""
        if self.session is None or self.running:
            return False
        self._run_id += 1
        run_id, session = self._run_id, self.session
        self._cancel = cancel = threading.Event()
        self._run_done.clear()
        done_flag = self._run_done
        self._dirty, self._progress = None, None

        def events():
            try:
                lower_thread_priority()  # before the model: its thread pool inherits it
                yield "model", session.model
                # in processes, so the GUI thread never waits for the GIL (mirabelle.inference.process_pool)
                where = {"scheduler": scheduler} if scheduler else {"processes": True}
                for result in session.run(use_cache=use_cache, cancel=cancel, **where):
                    yield "tile", result
            finally:
                release_free_memory()  # the tiles' buffers, freed in this run's threads
                done_flag.set()

        def current() -> bool:
            return run_id == self._run_id and session is self.session

        def on_event(event) -> None:
            kind, value = event
            if not current():
                return
            if kind == "model":
                self.model_ready.emit(value)
            else:
                if self._dirty is not None:
                    self._dirty.append((value.x_slice, value.y_slice))
                # told with the redraws: a progress bar repaints itself at once on each new value
                self._progress = (int(value.maps.done.sum()), value.maps.done.size, value.eta_s)

        def on_error(exc) -> None:
            if current():
                self.run_failed.emit(exc)

        def on_finish() -> None:
            done_flag.set()
            if not current():
                return
            self._redraw.stop()
            self._flush()  # the tiles since the last redraw (everything when none was drawn yet)
            maps = session.maps
            self.run_finished.emit(bool(maps is not None and maps.complete and not cancel.is_set()))

        self._redraw.start()
        run_generator(events(), cancel=cancel, on_yield=on_event, on_error=on_error, on_finish=on_finish)
        return True

    def cancel_run(self) -> None:
        """Ask the run to stop after its current tile (finished tiles stay, and are cached)."""
        self._cancel.set()

    def _flush(self) -> None:
        if self.session is None or self.session.maps is None:
            return
        dirty, self._dirty = self._dirty, []
        if dirty is None or dirty:
            self.maps_updated.emit(dirty)
        progress, self._progress = self._progress, None
        if progress is not None:
            self.run_progress.emit(*progress)

    # clicks ----------------------------------------------------------------------------
    def request_pixel(self, x: int, y: int) -> None:
        """Compute pixel (x, y) in a worker; requests waiting behind a newer one are dropped."""
        if self.session is None:
            return
        self._generation += 1
        self._pending = (self._generation, x, y)
        if not self._pixel_in_flight:
            self._next_pixel()

    def _next_pixel(self) -> None:
        if self._pending is None or self.session is None:
            return
        (generation, x, y), self._pending = self._pending, None
        session = self.session
        self._pixel_in_flight = True

        def stale() -> bool:
            return generation != self._generation

        # Not given ``stale``: a pixel once started is finished (a few ms) and answered even if a
        # newer request came meanwhile, else with key repeat faster than an answer (a held arrow
        # key, a busy machine) every pixel would be dropped and nothing drawn until the key is up.
        def compute():
            with self._busy:
                if session is not self.session:
                    return None
                try:
                    session.model  # noqa: B018 - loads it once, here, off the GUI thread
                except MirabelleError as exc:
                    result = session.pixel(x, y, with_model=False)
                    if result is not None:
                        result.notes.append(f"no kinematics: {exc}")
                    return result
                return session.pixel(x, y)

        def done(result) -> None:
            if result is not None and session is self.session:
                result.generation = generation
                self._announce_pixel(result)  # at once, or the newest at the end of the interval

        def failed(exc) -> None:
            if not stale():
                self.pixel_failed.emit(exc)

        def finished() -> None:
            self._pixel_in_flight = False
            self._next_pixel()

        run_function(compute, on_return=done, on_error=failed, on_finish=finished)

    def warm_up(self) -> None:
        """Load the model and start the run's worker processes now, so the first click and the
        first run do not wait for them."""
        session = self.session

        def load():
            try:
                session.model  # noqa: B018
            except MirabelleError:
                pass  # said when a run or a click needs it
            from mirabelle.inference import process_pool, runner

            if process_pool.serves(session.cube):
                process_pool.tile_pool(runner.default_workers())

        if session is not None:
            run_function(load)


def _gui_threads() -> int:
    """onnxruntime threads for the window's model: all cores but one, which the GUI keeps."""
    import os

    return max(1, (os.cpu_count() or 2) - 1)
