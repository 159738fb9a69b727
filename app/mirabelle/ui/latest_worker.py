"""A long-lived worker thread that answers requests one at a time, the newest winning.

Used for channel images, region spectra and PV slices: each `request` carries a new
generation number; requests queued behind a newer one are skipped, and a function may
call ``stale()`` to give up midway. Only signals cross threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from mirabelle.errors import MirabelleError
from mirabelle.ui.errors import report_exception
from mirabelle.ui.workers import start_in_thread


class LatestWorker(QObject):
    """Run ``function(*args, stale=..., progress=...)`` in its own thread for each request.

    Signals: ``result(generation, value)``, ``failed(generation, exception)``,
    ``progress(generation, fraction)``.
    """

    result = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, float)
    finished = Signal()
    _request = Signal(int, object, object)
    _stop = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.latest = 0
        self.busy = threading.Lock()
        self._request.connect(self._run)
        self._stop.connect(self.finished)
        self.thread = start_in_thread(self, run_slot="_started")

    @Slot()
    def _started(self) -> None:
        """The thread's event loop now runs the queued requests."""

    def request(self, function: Callable[..., Any], *args) -> int:
        """Queue ``function(*args)`` (from the GUI thread); returns its generation number."""
        self.latest += 1
        self._request.emit(self.latest, function, args)
        return self.latest

    def stop(self) -> None:
        """End the thread after the request in progress (older ones are dropped)."""
        self.latest += 1
        self._stop.emit()

    @Slot(int, object, object)
    def _run(self, generation: int, function, args) -> None:
        if generation != self.latest:
            return
        with self.busy:
            try:
                value = function(*args, stale=lambda: generation != self.latest,
                                 progress=lambda f: self.progress.emit(generation, float(f)))
            except MirabelleError as exc:
                self.failed.emit(generation, exc)
                return
            except Exception as exc:  # noqa: BLE001 -- one hook reports the unexpected
                self.failed.emit(generation, exc)
                report_exception(exc)
                return
        if generation == self.latest and value is not None:
            self.result.emit(generation, value)
