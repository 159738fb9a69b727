"""One open cube's whole-cube run on a Dask cluster, with ``runner.run_cube``'s contract.

:func:`run_cube_on_cluster` takes ``run_cube``'s arguments plus a scheduler and yields the
same :class:`~mirabelle.inference.maps.TileResult` per finished tile, so
:meth:`mirabelle.session.Session.run` (its cache, resume and snapshots, hence the desktop
app) can compute the tiles on a cluster by passing ``scheduler``. The tiles arrive in the
order they finish, not in reading order; the maps still hold whole tiles at every yield.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext

import numpy as np

from mirabelle.errors import CubeError
from mirabelle.inference import maps as quality
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.runner import SNR_THRESHOLD, _is_cancelled, new_maps


def run_cube_on_cluster(cube, model: KinematicsModel, cancel: Callable[[], bool] | object | None = None,
                        region_mask: np.ndarray | None = None, binning: int = 1, maps: KinematicMaps | None = None,
                        tile: tuple[int, int] | None = None, batch: int = DEFAULT_BATCH,
                        snr_threshold: float = SNR_THRESHOLD, workers: int | None = None, vsys_kms: float = 0.0,
                        lock=None, *, scheduler: str = "local") -> Iterator[TileResult]:
    """``run_cube`` (same arguments and yields) with the tiles computed on the cluster at ``scheduler``.

    ``workers`` is ignored (the cluster's workers compute); ``scheduler`` is an address
    (``tcp://host:8786``) or ``local[:N]``. The cube's file must be readable from every
    worker at the same path.

    Raises
    ------
    MirabelleError
        The cluster extra is missing, the scheduler cannot be reached, the workers cannot
        read the cube, or a tile fails for good.
    """
    from mirabelle.cluster.connect import connect, unreadable_cubes
    from mirabelle.cluster.tile_queue import CubePlan, run_plans

    binning = int(binning)
    if maps is None:
        maps = new_maps(cube, model, binning)
    if region_mask is not None:  # as run_cube marks them
        outside = ~np.asarray(region_mask, dtype=bool) & ~maps.done
        with lock if lock is not None else nullcontext():
            maps.quality[outside] |= quality.SKIPPED
            maps.done[outside] = True
    if maps.complete:
        return
    plan = CubePlan(str(cube.path.resolve()), model, maps, cube.tile_slices(tile), binning, region_mask,
                    float(vsys_kms), lock=lock)
    connection = connect(scheduler)
    try:
        problem = unreadable_cubes(connection, {plan.path: plan.stamp}).get(plan.path)
        if problem:
            raise CubeError(problem)
        for event in run_plans(connection.client, [plan], batch=batch, snr_threshold=snr_threshold):
            if event.kind == "failed":
                raise event.error
            if event.kind == "tile":
                yield event.result
                if _is_cancelled(cancel):
                    return
    finally:
        connection.close()

