"""The one generic worker of the window: core functions and generators run on superqt workers.

:func:`run_generator` drives a core generator (a whole-cube run, a deep image) in a pool
thread, handing every yielded value to ``on_yield`` on the GUI thread; :func:`run_function`
runs one call (a click, an export, a refinement) and hands back its result. Callbacks run
on the GUI thread (a relay object living there receives the worker's signals). Our errors
(:class:`~mirabelle.errors.MirabelleError`) go to ``on_error`` only; anything else also goes
to :func:`mirabelle.ui.errors.report_exception`. A ``cancel`` event given to
:func:`run_generator` ends the generator at its next yield, in its own thread, so its
``finally`` clauses (the cache checkpoint) run there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Slot
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

from mirabelle.errors import MirabelleError
from mirabelle.ui.errors import report_exception

MIN_POOL_THREADS = 6
"""Pool threads at least: a run, a click, a deep image and a refinement never wait for each other."""
_relays: set[_Relay] = set()
_own_pools: set[QThreadPool] = set()


class _Failure(Exception):
    """Carries an exception out of a superqt worker (which turns a RuntimeError into a warning)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


class _Relay(QObject):
    """Lives on the GUI thread; the worker's signals reach the callbacks through its slots."""

    def __init__(self, worker: WorkerBase, on_yield, on_return, on_error, on_finish) -> None:
        super().__init__()
        self.worker = worker
        self._on_yield, self._on_return, self._on_error, self._on_finish = on_yield, on_return, on_error, on_finish
        if isinstance(worker, GeneratorWorker):
            worker.yielded.connect(self.yielded)
        worker.returned.connect(self.returned)
        worker.errored.connect(self.errored)
        worker.finished.connect(self.finished)
        _relays.add(self)

    @Slot(object)
    def yielded(self, value: Any) -> None:
        if self._on_yield is not None:
            self._on_yield(value)

    @Slot(object)
    def returned(self, value: Any) -> None:
        if self._on_return is not None:
            self._on_return(value)

    @Slot(object)
    def errored(self, exc: BaseException) -> None:
        exc = exc.exc if isinstance(exc, _Failure) else exc
        if self._on_error is not None:
            self._on_error(exc)
        if not isinstance(exc, MirabelleError):
            report_exception(exc)

    @Slot()
    def finished(self) -> None:
        try:
            if self._on_finish is not None:
                self._on_finish()
        finally:
            _relays.discard(self)
            _drop_work(self.worker)
            pool = getattr(self, "pool", None)
            if pool is not None:
                pool.waitForDone()  # finished was emitted: the thread is returning
                _own_pools.discard(pool)


def _drop_work(worker: WorkerBase) -> None:
    """Forget what a finished worker ran. superqt's ``run`` installs ``warnings.showwarning`` as a
    lambda holding the worker, inside ``warnings.catch_warnings``, which is not thread-safe: with
    two workers at once, a finished one's lambda can stay installed, and it kept that worker's
    session, cube and maps alive (+8 MB per cube opened and clicked in ``bench_soak.py``)."""
    for name in ("_func", "_args", "_kwargs", "_gen", "_relay"):
        if hasattr(worker, name):
            setattr(worker, name, None)


def _pool() -> None:
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < MIN_POOL_THREADS:
        pool.setMaxThreadCount(MIN_POOL_THREADS)


def _guarded_generator(generator: Iterator, cancel: threading.Event | None) -> Iterator:
    try:
        for value in generator:
            yield value
            if cancel is not None and cancel.is_set():
                return
    except Exception as exc:  # noqa: BLE001 - delivered to on_error on the GUI thread
        raise _Failure(exc) from exc
    finally:
        generator.close()  # in the worker thread: the generator's own clean-up runs here


def _guarded_call(function: Callable, args: tuple, kwargs: dict) -> Any:
    try:
        return function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise _Failure(exc) from exc


def run_generator(generator: Iterator, *, cancel: threading.Event | None = None, on_yield=None, on_return=None,
                  on_error=None, on_finish=None) -> GeneratorWorker:
    """Drain ``generator`` in a thread of its own (a long run may lower that thread's priority
    without slowing the shared pool); callbacks on the GUI thread (module docstring)."""
    worker = GeneratorWorker(_guarded_generator, generator, cancel)
    relay = _Relay(worker, on_yield, on_return, on_error, on_finish)
    relay.pool = QThreadPool()
    relay.pool.setMaxThreadCount(1)
    relay.pool.setExpiryTimeout(0)  # the thread ends with the generator
    _own_pools.add(relay.pool)
    worker._relay = relay
    worker._worker_set.add(worker)
    worker._finished.connect(worker._set_discard)
    relay.pool.start(worker)
    return worker


def run_function(function: Callable, *args, on_return=None, on_error=None, on_finish=None,
                 **kwargs) -> FunctionWorker:
    """``function(*args, **kwargs)`` in a pool thread; its result to ``on_return`` on the GUI thread."""
    _pool()
    worker = FunctionWorker(_guarded_call, function, args, kwargs)
    worker._relay = _Relay(worker, None, on_return, on_error, on_finish)
    worker.start()
    return worker


def running_workers() -> int:
    """Workers started here that have not finished (their GUI-side callbacks included)."""
    return len(_relays)


def wait_for_workers(timeout_ms: int = 10000) -> bool:
    """Wait for every worker started here to finish (tests, shutdown); True if they did."""
    done = all(pool.waitForDone(timeout_ms) for pool in list(_own_pools))
    return QThreadPool.globalInstance().waitForDone(timeout_ms) and done


def lower_thread_priority(niceness: int = 10) -> None:
    """Lower the calling thread's scheduling priority (Linux; elsewhere nothing happens).

    Threads it creates afterwards (onnxruntime's pool) inherit it, so the GUI thread wins
    the CPU on a busy machine.
    """
    import os

    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):
        pass
