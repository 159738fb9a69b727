"""Whole-cube tiles computed in worker processes, so a desktop window never waits for the GIL.

In threads, a run's Python work (preprocessing, line solve) holds the interpreter lock in
slices of up to 5 ms, and the GUI thread queues behind them on each call into Python: a click
drawn during a run took twice as long as one drawn before it. The window's runs therefore
compute their tiles in a pool of processes at lower priority, spawned once and kept while
the application lives. Each task opens the cube file itself and computes one tile with the
cluster's task function (:func:`mirabelle.cluster.tasks.predict_tile`, which is the runner's
``compute_tile``), so the maps are those of a run in threads, bit for bit.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mirabelle.errors import MirabelleError

NICENESS = 10
"""How much lower than the application the worker processes run (Linux, macOS)."""

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()  # a warm-up and a run may ask for the pool from two threads


def _lower_priority() -> None:
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):
        pass


def serves(cube, tile=None) -> bool:
    """Whether worker processes, which reopen the cube's file, see what ``cube`` holds (not a
    wrapper such as a sky-subtracted cube), and it has more than the one tile done in the
    caller before a worker starts."""
    from mirabelle.cube.base import Cube

    return isinstance(cube, Cube) and len(cube.tile_slices(tile)) > 1


def tile_pool(workers: int) -> ProcessPoolExecutor | None:
    """The shared pool of ``workers`` processes, started (on first use, or anew after a crash),
    with the task modules imported; None where processes cannot be started here."""
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is not None and (_pool_workers != workers or getattr(_pool, "_broken", False)):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
        if _pool is None:
            # spawn, not fork: the parent holds Qt, HDF5 and onnxruntime threads a fork would copy mid-state
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_lower_priority)
            try:
                for _ in range(workers):  # starts the processes now
                    pool.submit(_import_task_modules)
            except RuntimeError:  # a __main__ without the `if __name__ == "__main__"` guard spawn needs
                pool.shutdown(wait=False, cancel_futures=True)
                return None
            _pool, _pool_workers = pool, workers
        return _pool


def _import_task_modules() -> None:
    import mirabelle.cluster.tasks  # noqa: F401 - numpy, h5py, onnxruntime and the runner


def tile_jobs(cube, model, options, tile) -> Iterator[tuple[slice, slice, Callable]]:
    """``(x slice, y slice, job)`` per tile, ``job(todo)`` the call that computes it in a worker."""
    from mirabelle.cluster.tasks import TileTask, file_stamp, predict_tile

    path = str(cube.path.resolve())
    stamp = file_stamp(path)
    for xs, ys in cube.tile_slices(tile):
        yield xs, ys, lambda todo, xs=xs, ys=ys: (predict_tile, model.files, TileTask(path, stamp, xs, ys, todo,
                                                                                     options))


def tile_output(future: Future, cube_path) -> object:
    """The future's tile output; a worker process that died is said in one sentence."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise MirabelleError(f"{cube_path}: expected the inference worker processes to compute every tile, "
                             f"found one gone ({exc}); start the inference again.") from exc


def shutdown() -> None:
    """Stop the pool (at exit: queued tiles are dropped, running ones end with their process)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


atexit.register(shutdown)
