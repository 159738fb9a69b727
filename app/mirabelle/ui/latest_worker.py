"""Requests answered one at a time off the GUI thread, the newest winning.

Used for channel images, region spectra and PV slices: each `request` carries a new
generation number; a request waiting behind a newer one is skipped, and a function may
call ``stale()`` to give up midway. Each request runs in the generic worker
(:func:`mirabelle.ui.tasks.run_function`), one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirabelle.ui.tasks import run_function


class LatestWorker(QObject):
    """Run ``function(*args, stale=..., progress=...)`` for each request, newest first.

    Signals: ``result(generation, value)``, ``failed(generation, exception)``,
    ``progress(generation, fraction)``; ``finished`` after :meth:`stop`.
    """

    result = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, float)
    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.latest = 0
        self.busy = threading.Lock()  # held while a request runs: closing its data waits for it
        self._pending: tuple[int, Callable, tuple] | None = None
        self._in_flight = False
        self._stopped = False

    def request(self, function: Callable[..., Any], *args) -> int:
        """Queue ``function(*args)`` (from the GUI thread); returns its generation number."""
        self.latest += 1
        self._pending = (self.latest, function, args)
        if not self._in_flight:
            self._next()
        return self.latest

    def stop(self) -> None:
        """Drop the waiting requests; the one in progress ends unanswered."""
        self.latest += 1
        self._pending, self._stopped = None, True
        if not self._in_flight:
            self.finished.emit()

    def _next(self) -> None:
        if self._pending is None:
            return
        (generation, function, args), self._pending = self._pending, None
        self._in_flight = True

        def call():
            with self.busy:
                if generation != self.latest:
                    return None
                return function(*args, stale=lambda: generation != self.latest,
                                progress=lambda f: self.progress.emit(generation, float(f)))

        def done(value) -> None:
            if generation == self.latest and value is not None:
                self.result.emit(generation, value)

        def failed(exc) -> None:  # the worker also reports unexpected ones to the hook
            self.failed.emit(generation, exc)

        def finished() -> None:
            self._in_flight = False
            if self._stopped:
                self.finished.emit()
            else:
                self._next()

        run_function(call, on_return=done, on_error=failed, on_finish=finished)
