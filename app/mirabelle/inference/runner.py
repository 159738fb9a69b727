"""Whole-cube inference: a generator that streams tiles through the network and the line solve.

``run_cube`` reads the cube tile by tile (only the channels of the model's band), maps every
spectrum onto the model axis in the frame of the systemic velocity
(:func:`mirabelle.inference.preprocess.prepare`), runs the network in large batches, turns
its velocities into the observed frame (relativistic composition with the systemic
velocity, :func:`mirabelle.lines.compose_velocities`: the maps are in the observed frame, as
ORCS expects), solves the line amplitudes at those kinematics
(:class:`~mirabelle.inference.linefit.LineSolver`) and writes everything into a
:class:`~mirabelle.inference.maps.KinematicMaps`. Each yield is one finished tile: the
maps are whole at every yield, so stopping there (``cancel``, or closing the generator)
leaves consistent partial maps whose ``done`` mask says what was computed. Qt-free; the
GUI runs it in a worker thread, the CLI drains it with a progress bar.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

import numpy as np

from mirabelle.cube.tiling import Tile
from mirabelle.inference import maps as quality
from mirabelle.inference import process_pool
from mirabelle.inference.binning import bin_pixels, unbin_pixels
from mirabelle.inference.linefit import LineSolver
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.network import predict_kinematics, unit_sky
from mirabelle.inference.outliers import velocity_outliers
from mirabelle.lines import C_KMS, compose_velocities, doppler_factor
from mirabelle.lines.sky import sky_amplitudes

SNR_THRESHOLD = 3.0
"""Hα SNR below which a pixel is flagged ``NO_LINE``."""
MIN_FINITE_FRACTION = 0.5
"""A spectrum with fewer finite channels than this fraction is flagged ``NO_DATA``."""
BAND_MARGIN_CHANNELS = 3
"""Channels read beyond the model axis on each side (cube channel widths)."""


def default_workers(workers: int | None = None) -> int:
    """Tiles computed at once: ``workers``, else 2 (1 on a single core)."""
    return max(1, int(workers or min(2, os.cpu_count() or 1)))


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def _cube_step_range(cube) -> tuple[float, float]:
    """Smallest and largest channel width (cm⁻¹) over the cube's pixels."""
    base = np.asarray(cube.base_axis_cm1)
    step = float((base[-1] - base[0]) / (base.size - 1))
    if cube.calibrated:
        return step, step
    corr = cube.corr_map()
    return step * float(corr.min()) / cube.axis_corr, step * float(corr.max()) / cube.axis_corr


def make_solver(cube, model: KinematicsModel, vsys_kms: float = 0.0) -> LineSolver:
    """The line solver for ``cube`` covering the model's training ranges (broadening × 1.5)
    around the systemic velocity ``vsys_kms``, in the observed frame."""
    ranges = model.card.get("ranges", {})
    v_lo, v_hi = ranges.get("velocity_kms", (-800.0, 800.0))
    b_hi = float(ranges.get("broadening_kms", (0.0, 50.0))[1])
    fwhm = cube.fwhm_map_cm1()
    observed = compose_velocities(vsys_kms, np.array([min(v_lo, -100.0) * 1.1, max(v_hi, 100.0) * 1.1]))
    return LineSolver(_cube_step_range(cube), (float(fwhm.min()), float(fwhm.max())),
                      (float(observed[0]), float(observed[1])), (0.0, 1.5 * b_hi))


def new_maps(cube, model: KinematicsModel, binning: int = 1) -> KinematicMaps:
    """Empty maps of ``cube``'s shape with the provenance of ``model`` (nothing done)."""
    return KinematicMaps.empty(cube.nx, cube.ny, binning=int(binning), model_name=model.name,
                               model_version=model.version, model_sha256=model.sha256, cube_path=str(cube.path))


def model_band_cm1(cube, model: KinematicsModel, vsys_kms: float = 0.0) -> tuple[float, float]:
    """Wavenumbers (cm⁻¹) read from the cube for ``model`` seen from ``vsys_kms``: its axis
    (observed wavenumbers) plus a few channels each side."""
    axis = model.axis_cm1 * float(doppler_factor(vsys_kms))
    base = cube.base_axis_cm1
    margin = BAND_MARGIN_CHANNELS * float(base[1] - base[0])
    return float(axis[0]) - margin, float(axis[-1]) + margin


@dataclass(frozen=True)
class RunOptions:
    """Settings of a run that change its results (part of the cache key with the model)."""

    binning: int = 1
    batch: int = DEFAULT_BATCH
    snr_threshold: float = SNR_THRESHOLD
    vsys_kms: float = 0.0
    """Systemic velocity (km/s) the network sees the spectra from (the maps are observed-frame)."""


@dataclass
class TileOutput:
    """What :func:`compute_tile` found for one tile, ready for :func:`write_tile`.

    ``arrays`` holds (tx, ty) / (tx, ty, 5) arrays named like the fields of
    :class:`KinematicMaps`, valid where ``todo``; ``continuum`` (tx, ty, 2) the constant
    continua of the two line windows (Hα+[NII], [SII]; spectrum units); ``spectra`` the
    spectra sent to the network (after binning).
    """

    x0: int
    y0: int
    todo: np.ndarray
    arrays: dict[str, np.ndarray]
    continuum: np.ndarray
    spectra: int

    @property
    def x_slice(self) -> slice:
        return slice(self.x0, self.x0 + self.todo.shape[0])

    @property
    def y_slice(self) -> slice:
        return slice(self.y0, self.y0 + self.todo.shape[1])


def compute_tile(tile: Tile, tile_axis_cm1: np.ndarray, fwhm_cm1: np.ndarray, todo: np.ndarray,
                 model: KinematicsModel, solver: LineSolver, options: RunOptions = RunOptions(),
                 kinematics: np.ndarray | None = None) -> TileOutput:
    """Network + line solve for the pixels ``todo`` of one tile: a pure function of its inputs.

    Parameters
    ----------
    tile : mirabelle.cube.Tile
        The tile's data (tx, ty, nband), from ``cube.iter_tiles`` or ``cube.read_tile``.
    tile_axis_cm1 : (nband,) or (tx, ty, nband) ndarray
        ``cube.tile_axis_cm1(tile)``, cm⁻¹.
    fwhm_cm1 : (tx, ty) ndarray
        Instrumental sinc FWHM of the tile's pixels, cm⁻¹.
    todo : (tx, ty) bool ndarray
        Pixels to compute.
    model, solver, options
        The network, ``make_solver(cube, model, options.vsys_kms)`` and the run settings.
    kinematics : (tx, ty, 4) ndarray, optional
        Known network outputs (velocity, broadening and their errors, km/s): the network
        is skipped and the lines are solved at them (the click path, from the maps).
    """
    binning = options.binning
    data = bin_pixels(tile.data, binning)
    if tile_axis_cm1.ndim == 3:
        tile_axis_cm1 = bin_pixels(tile_axis_cm1, binning)
    fwhm = bin_pixels(fwhm_cm1, binning)
    selected = bin_pixels(todo.astype(np.float32), binning) > 0  # blocks with any pixel to do
    known = None if kinematics is None else bin_pixels(np.asarray(kinematics, np.float32), binning)
    if selected.all():  # views, no copies
        values = data.reshape(-1, data.shape[-1])
        rows_axis = tile_axis_cm1.reshape(-1, tile_axis_cm1.shape[-1]) if tile_axis_cm1.ndim == 3 else tile_axis_cm1
        known = None if known is None else known.reshape(-1, 4)
    else:
        values = data[selected]
        rows_axis = tile_axis_cm1[selected] if tile_axis_cm1.ndim == 3 else tile_axis_cm1
        known = None if known is None else known[selected]
    rows = _process(values, rows_axis, fwhm[selected], model, solver, options, known)

    def place(name: str, fill) -> np.ndarray:
        block = np.full(selected.shape + rows[name].shape[1:], fill, rows[name].dtype)
        block[selected] = rows[name]
        return unbin_pixels(block, binning, todo.shape)

    kin = place("kinematics", np.nan)
    arrays = {"velocity": kin[..., 0], "broadening": kin[..., 1], "velocity_err": kin[..., 2],
              "broadening_err": kin[..., 3], "quality": place("quality", 0)}
    arrays.update({name: place(name, np.nan) for name in SOLVED_MAPS})
    if kinematics is None:  # known kinematics (a click) were judged with their neighbours in the maps
        usable = todo & ((arrays["quality"] & quality.INVALID_BITS) == 0)
        arrays["quality"][velocity_outliers(arrays["velocity"], arrays["snr_halpha"], usable)] |= quality.OUTLIER
    return TileOutput(tile.x0, tile.y0, todo, arrays, place("continuum", np.nan), int(values.shape[0]))


SOLVED_MAPS = ("snr_halpha", "double_score", "double_offset", "amplitudes", "fluxes")  # from the line solve


def write_tile(maps: KinematicMaps, output: TileOutput, lock=None) -> None:
    """Copy a tile's results into ``maps`` at its pixels to do and mark them done (under ``lock``)."""
    xs, ys, todo = output.x_slice, output.y_slice, output.todo
    with lock if lock is not None else nullcontext():
        for name, source in output.arrays.items():
            destination = getattr(maps, name)[xs, ys]
            mask = todo if source.ndim == 2 else todo[..., None]
            np.copyto(destination, source, where=np.broadcast_to(mask, source.shape))
        maps.done[xs, ys][todo] = True


def run_cube(cube, model: KinematicsModel, cancel: Callable[[], bool] | object | None = None,
             region_mask: np.ndarray | None = None, binning: int = 1, maps: KinematicMaps | None = None,
             tile: tuple[int, int] | None = None, batch: int = DEFAULT_BATCH,
             snr_threshold: float = SNR_THRESHOLD, workers: int | None = None,
             vsys_kms: float = 0.0, lock=None, processes: bool = False) -> Iterator[TileResult]:
    """Predict kinematics for every pixel of ``cube``, one finished tile per yield.

    Parameters
    ----------
    cube : mirabelle.cube.Cube
        An open cube.
    model : KinematicsModel
        From :func:`mirabelle.session.choose_model` (or ``inference.model.load_model``).
    cancel : callable returning bool, or an object with ``is_set()`` (threading.Event)
        Checked before each tile; when true the generator returns, maps stay consistent.
    region_mask : (nx, ny) bool, optional
        Pixels to compute; the others are marked done with the ``SKIPPED`` bit.
    binning : int
        Average N × N pixel blocks (anchored at each tile's origin) before the network;
        each block's results are repeated over its pixels.
    maps : KinematicMaps, optional
        Partial maps of the same cube and model to resume (done pixels are not recomputed),
        or empty ones from :func:`new_maps` to fill.
    tile : (tx, ty), optional
        Tile size in pixels (rounded to storage chunks); default about 64 × 64.
    batch : int
        Spectra per onnxruntime call.
    snr_threshold : float
        Hα SNR under which the ``NO_LINE`` bit is set.
    workers : int, optional
        Tiles processed concurrently in threads (default: 2, or 1 on a single core);
        results are still written and yielded in order.
    vsys_kms : float
        Systemic velocity (km/s): the network sees each spectrum in this frame; the maps'
        velocities are observed-frame. The model's velocity range (and the
        ``VELOCITY_OUT_OF_RANGE`` bit) applies around it.
    lock : context manager, optional
        Held while a tile is written into ``maps`` (a reader copying the maps under the
        same lock sees whole tiles only).
    processes : bool
        Compute the tiles in ``workers`` worker processes (:mod:`.process_pool`) instead of
        threads where they see the same cube (``process_pool.serves``): the maps are the
        same, and a GUI thread beside the run never waits for the GIL.

    Yields
    ------
    TileResult
        After each tile that held work; ``result.maps`` is the maps being filled.
    """
    binning = int(binning)
    if binning < 1:
        raise ValueError(f"binning must be a positive integer, got {binning}")
    nx, ny = cube.nx, cube.ny
    if maps is None:
        maps = new_maps(cube, model, binning)
    elif maps.shape != (nx, ny) or maps.model_sha256 != model.sha256 or maps.binning != binning:
        raise ValueError("maps to resume must come from the same cube shape, model and binning")
    if region_mask is not None:
        region_mask = np.asarray(region_mask, dtype=bool)
        if region_mask.shape != (nx, ny):
            raise ValueError(f"region mask has shape {region_mask.shape}, the cube {(nx, ny)}")
        outside = ~region_mask & ~maps.done
        with lock if lock is not None else nullcontext():
            maps.quality[outside] |= quality.SKIPPED
            maps.done[outside] = True
    total = int((~maps.done).sum())
    if total == 0:
        return

    options = RunOptions(binning=binning, batch=batch, snr_threshold=snr_threshold, vsys_kms=float(vsys_kms))
    started = time.perf_counter()
    progress = {"processed": 0, "spectra": 0}
    workers = default_workers(workers)
    pending: deque = deque()

    def finish(output: TileOutput) -> TileResult:
        write_tile(maps, output, lock)
        progress["processed"] += int(output.todo.sum())
        progress["spectra"] += output.spectra
        elapsed = time.perf_counter() - started
        fraction = progress["processed"] / total
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else float("inf")
        return TileResult(x0=output.x0, y0=output.y0, nx=output.todo.shape[0], ny=output.todo.shape[1],
                          maps=maps, fraction=fraction, elapsed_s=elapsed, eta_s=eta, spectra=progress["spectra"],
                          spectra_per_s=progress["processed"] / elapsed if elapsed > 0 else 0.0)

    # Tiles are read here (threads) or by the worker processes, in order; results are written
    # and yielded in reading order, so the maps hold only whole tiles at every yield.
    worker_processes = None
    if processes and process_pool.serves(cube, tile):
        worker_processes = process_pool.tile_pool(workers)  # None where processes cannot start: threads then
    if worker_processes is not None:
        executor, jobs = nullcontext(worker_processes), process_pool.tile_jobs(cube, model, options, tile)
        result_of = partial(process_pool.tile_output, cube_path=cube.path)
    else:  # numpy and onnxruntime release the GIL
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirabelle-inference")
        jobs = _thread_jobs(cube, model, options, tile)
        result_of = Future.result
    with executor as pool:
        try:
            for xs, ys, job in jobs:
                if _is_cancelled(cancel):
                    return
                todo = ~maps.done[xs, ys]
                if not todo.any():
                    continue
                pending.append(pool.submit(*job(todo)))
                while len(pending) > workers or (pending and pending[0].done()):
                    yield finish(result_of(pending.popleft()))
                    if _is_cancelled(cancel):
                        return
            while pending:
                yield finish(result_of(pending.popleft()))
                if pending and _is_cancelled(cancel):
                    return
        finally:
            for future in pending:
                future.cancel()


def _thread_jobs(cube, model, options, tile):
    """``(x slice, y slice, job)`` per tile read here, ``job(todo)`` the ``compute_tile`` call (the
    solver, line widths and band made here only: worker processes make their own)."""
    solver = make_solver(cube, model, options.vsys_kms)
    fwhm_map = cube.fwhm_map_cm1()
    for block in cube.iter_tiles(tile, band_cm1=model_band_cm1(cube, model, options.vsys_kms)):
        def job(todo, block=block):
            return (compute_tile, block, cube.tile_axis_cm1(block), fwhm_map[block.x_slice, block.y_slice], todo,
                    model, solver, options)

        yield block.x_slice, block.y_slice, job


def _process(values, axis, fwhm, model, solver, options: RunOptions, known=None) -> dict:
    """Network (unless ``known`` kinematics) + line solve for N spectra: dict of (N, ...) arrays
    (velocities observed-frame)."""
    n, nchan = values.shape
    n_finite = np.isfinite(values).sum(axis=1)
    no_data = (n_finite < MIN_FINITE_FRACTION * nchan) | ~values.any(axis=1)  # NaN counts as non-zero
    out = {
        "kinematics": np.full((n, 4), np.nan, np.float32),
        "amplitudes": np.full((n, 5), np.nan, np.float32),
        "fluxes": np.full((n, 5), np.nan, np.float32),
        "continuum": np.full((n, 2), np.nan, np.float32),
        "snr_halpha": np.full(n, np.nan, np.float32),
        "double_score": np.full(n, np.nan, np.float32),
        "double_offset": np.full(n, np.nan, np.float32),
        "quality": np.where(no_data, quality.NO_DATA, 0).astype(np.uint8),
    }
    ok = ~no_data
    if not ok.any():
        return out
    every = bool(ok.all())
    good_values = values if every else values[ok]
    good_axis = axis if axis.ndim == 1 or every else axis[ok]
    if known is None:
        kinematics = predict_kinematics(model, good_values, good_axis, options.vsys_kms, fwhm[ok], options.batch)
    else:
        kinematics = np.asarray(known if every else known[ok], np.float32)
    if axis.ndim == 2:
        start = good_axis[:, 0]
        step = (good_axis[:, -1] - good_axis[:, 0]) / (nchan - 1)
    else:
        start, step = axis[0], (axis[-1] - axis[0]) / (nchan - 1)
    velocity, broadening = kinematics[:, 0], kinematics[:, 1]
    sky = unit_sky(model, good_axis, fwhm[ok])
    if sky is not None:  # the line solve and its noise see the spectrum without the fitted OH sky
        templates, sky_index = sky  # (K, nchan) and each spectrum's
        good_values = good_values - templates[sky_index] * sky_amplitudes(good_values, *sky).astype(np.float32)[:, None]
    lines = solver.solve(good_values, start, step, fwhm[ok], velocity, broadening)
    ranges = model.card.get("ranges", {})
    flags = np.zeros(velocity.shape, np.uint8)
    flags[~(lines.snr_halpha >= options.snr_threshold)] |= quality.NO_LINE
    # the model's range holds in its own frame, around the systemic velocity
    velocity_range = np.clip(ranges.get("velocity_kms", (-np.inf, np.inf)), -0.99 * C_KMS, 0.99 * C_KMS)
    observed_range = compose_velocities(options.vsys_kms, velocity_range)
    flags[_outside(velocity, kinematics[:, 2], observed_range)] |= quality.VELOCITY_OUT_OF_RANGE
    flags[_outside(broadening, kinematics[:, 3], ranges.get("broadening_kms", (0.0, np.inf)))] \
        |= quality.BROADENING_OUT_OF_RANGE
    flags[lines.edge] |= quality.EDGE
    out["kinematics"][ok] = kinematics
    out["amplitudes"][ok] = lines.amplitudes
    out["fluxes"][ok] = lines.fluxes
    out["continuum"][ok] = lines.continuum
    out["snr_halpha"][ok] = lines.snr_halpha
    out["double_score"][ok] = lines.double_score
    out["double_offset"][ok] = lines.double_offset_kms
    out["quality"][ok] = flags
    return out


def _outside(value: np.ndarray, error: np.ndarray, value_range) -> np.ndarray:
    """True where ``value`` lies outside ``value_range`` by more than its 1-sigma ``error`` (or is NaN)."""
    slack = np.where(np.isfinite(error), np.abs(error), 0.0)
    return ~((value >= value_range[0] - slack) & (value <= value_range[1] + slack))
