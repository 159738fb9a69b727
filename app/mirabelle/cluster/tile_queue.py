"""The tiles of many cubes in one queue on a Dask cluster, a bounded window of them in flight.

:func:`run_plans` submits tile tasks (:func:`mirabelle.cluster.tasks.predict_tile`) cube
after cube, keeps about two per worker thread in flight (so the client's and the
workers' memory stay flat however many cubes are queued), writes each result into its
cube's maps as it arrives and yields the same :class:`~mirabelle.inference.maps.TileResult`
the local runner yields. A task that raises is retried (``retries``); a worker that dies
costs only the tiles it held, which the scheduler re-runs elsewhere. A cube whose tile
fails for good is reported once and its other tiles are dropped; the other cubes go on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mirabelle.cluster.tasks import TileTask, file_stamp, predict_tile
from mirabelle.errors import MirabelleError
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.runner import SNR_THRESHOLD, RunOptions, TileOutput, write_tile

TASK_RETRIES = 2
"""Re-runs of a tile whose task raised (a file system hiccup) before its cube is failed."""
TASKS_PER_THREAD = 2
"""Tiles in flight per worker thread: one running, one queued so no worker waits for the client."""
WINDOW_REFRESH_S = 5.0
"""How often the window follows the number of workers (adaptive clusters grow and shrink)."""


@dataclass(eq=False)
class CubePlan:
    """One cube to compute on the cluster, and its progress.

    Attributes
    ----------
    path : absolute path of the cube (as the workers see it).
    model : the model (its files are shipped to the workers).
    maps : the maps to fill; pixels already ``done`` (resume, region) are not recomputed.
    tiles : (x slice, y slice) of every tile, from ``Cube.tile_slices``.
    binning : N of the N × N averaging.
    region : (nx, ny) bool of the pixels requested, or None (part of the cache key).
    vsys_kms : systemic velocity (km/s), as ``run_cube``'s.
    flags : (nx, ny) bool double-component flags to export, or None; ``flags_source`` their file.
    lock : held while a tile is written into ``maps`` (a session's snapshot sees whole tiles).
    error : why the cube failed, once it has.
    """

    path: str
    model: KinematicsModel
    maps: KinematicMaps
    tiles: list[tuple[slice, slice]]
    binning: int = 1
    region: np.ndarray | None = None
    vsys_kms: float = 0.0
    flags: np.ndarray | None = None
    flags_source: object = None
    lock: object = None
    error: MirabelleError | None = None
    stamp: tuple[int, int] = field(init=False)
    total: int = field(init=False)
    tiles_left: int = field(init=False)
    processed: int = 0
    spectra: int = 0
    started: float | None = None

    def __post_init__(self) -> None:
        self.stamp = file_stamp(self.path)
        self.total = int((~self.maps.done).sum())
        self.tiles_left = sum(1 for xs, ys in self.tiles if not self.maps.done[xs, ys].all())

    @property
    def finished(self) -> bool:
        """Every tile written (or nothing was left to do)."""
        return self.tiles_left == 0


@dataclass(frozen=True)
class Event:
    """What :func:`run_plans` yields: ``kind`` is 'tile' (``result`` set), 'done' or 'failed' (``error`` set)."""

    kind: str
    plan: CubePlan
    result: TileResult | None = None
    error: MirabelleError | None = None


def run_plans(client, plans: list[CubePlan], *, batch: int = DEFAULT_BATCH, snr_threshold: float = SNR_THRESHOLD,
              retries: int = TASK_RETRIES, window: int | None = None) -> Iterator[Event]:
    """Compute every plan's remaining tiles on ``client``'s cluster, yielding as tiles finish.

    Parameters
    ----------
    client : distributed.Client
    plans : the cubes, queued in this order (their tiles form one queue).
    batch, snr_threshold : as in :func:`~mirabelle.inference.runner.run_cube`.
    retries : re-runs of a task that raised.
    window : tiles in flight; default ``TASKS_PER_THREAD`` per worker thread, followed as
        workers come and go.

    Yields
    ------
    Event
        'tile' after each tile written into its plan's maps (``result`` as the local
        runner's), 'done' when a plan's last tile is written, 'failed' once per failed plan.
        Closing the generator cancels the tiles in flight; the maps hold only whole tiles.
    """
    from distributed import wait

    for plan in plans:
        if plan.finished:
            yield Event("done", plan)
    shipped = {}
    for plan in plans:
        if plan.model.sha256 not in shipped:
            shipped[plan.model.sha256] = client.scatter(plan.model.files, broadcast=True, hash=False)
    queue = ((index, plan, xs, ys) for index, plan in enumerate(plans) if not plan.finished
             for xs, ys in plan.tiles)
    run = uuid.uuid4().hex[:8]  # task keys unique to this run: Dask reuses results by key
    in_flight: dict[str, tuple] = {}
    limit = _Window(client, window)

    def top_up() -> None:
        while len(in_flight) < limit.size():
            item = next(queue, None)
            if item is None:
                return
            index, plan, xs, ys = item
            todo = ~plan.maps.done[xs, ys]
            if plan.error is not None or not todo.any():
                continue
            options = RunOptions(binning=plan.binning, batch=batch, snr_threshold=snr_threshold,
                                 vsys_kms=plan.vsys_kms)
            task = TileTask(plan.path, plan.stamp, xs, ys, todo.copy(), options)
            key = f"mirabelle-{Path(plan.path).stem}-{index}-x{xs.start}-y{ys.start}-{run}"
            future = client.submit(predict_tile, shipped[plan.model.sha256], task, key=key, retries=retries,
                                   pure=False)
            if plan.started is None:
                plan.started = time.perf_counter()
            in_flight[future.key] = (future, plan, xs, ys)

    top_up()
    try:
        # The loop ends when nothing is in flight and the queue is empty, not when an iterator
        # says so: distributed.as_completed once ended early here after a worker was killed.
        while in_flight:
            finished, _ = wait([entry[0] for entry in in_flight.values()], return_when="FIRST_COMPLETED")
            for future in finished:
                entry = in_flight.pop(future.key, None)
                if entry is None or entry[1].error is not None:
                    continue
                plan, xs, ys = entry[1:]
                try:
                    output = future.result()
                except Exception as exc:  # the worker's exception, KilledWorker or a cancellation
                    plan.error = _failure(plan, xs, ys, exc)
                    dropped = [key for key, entry in in_flight.items() if entry[1] is plan]
                    client.cancel([in_flight.pop(key)[0] for key in dropped])  # wait() refuses cancelled ones
                    yield Event("failed", plan, error=plan.error)
                else:
                    yield Event("tile", plan, result=_record(plan, output))
                    if plan.finished:
                        yield Event("done", plan)
            del finished
            top_up()
    finally:
        client.cancel([entry[0] for entry in in_flight.values()])


def _record(plan: CubePlan, output: TileOutput) -> TileResult:
    """Write one tile's output into the plan's maps; the progress as the local runner reports it."""
    write_tile(plan.maps, output, plan.lock)
    plan.tiles_left -= 1
    plan.processed += int(output.todo.sum())
    plan.spectra += output.spectra
    elapsed = time.perf_counter() - plan.started
    fraction = plan.processed / plan.total
    eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else float("inf")
    return TileResult(x0=output.x0, y0=output.y0, nx=output.todo.shape[0], ny=output.todo.shape[1],
                      maps=plan.maps, fraction=fraction, elapsed_s=elapsed, eta_s=eta, spectra=plan.spectra,
                      spectra_per_s=plan.processed / elapsed if elapsed > 0 else 0.0)


def _failure(plan: CubePlan, xs: slice, ys: slice, exc: Exception) -> MirabelleError:
    from distributed import KilledWorker

    where = f"tile x {xs.start}–{xs.stop - 1}, y {ys.start}–{ys.stop - 1}"
    if isinstance(exc, MirabelleError):
        return exc
    if isinstance(exc, KilledWorker):
        return MirabelleError(f"{plan.path}: expected the Dask workers to survive {where}, found it killed "
                              f"several in a row (give the workers more memory).")
    return MirabelleError(f"{plan.path}: expected {where} to compute on the Dask workers, found "
                          f"{type(exc).__name__}: {exc}.")


class _Window:
    """Tiles in flight: fixed when given, else ``TASKS_PER_THREAD`` per worker thread, refreshed."""

    def __init__(self, client, fixed: int | None):
        self.client, self.fixed = client, fixed
        self.value, self.checked = 0, -float("inf")

    def size(self) -> int:
        if self.fixed is not None:
            return max(1, int(self.fixed))
        now = time.monotonic()
        if now - self.checked > WINDOW_REFRESH_S:
            threads = sum(self.client.nthreads().values())
            self.value, self.checked = max(2, TASKS_PER_THREAD * threads), now
        return self.value
