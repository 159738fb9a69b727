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
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mirabelle.inference import maps as quality
from mirabelle.inference.linefit import LineSolver
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.preprocess import prepare
from mirabelle.lines import C_KMS, compose_velocities, composed_velocity_error, doppler_factor

SNR_THRESHOLD = 3.0
"""Hα SNR below which a pixel is flagged ``NO_LINE``."""
MIN_FINITE_FRACTION = 0.5
"""A spectrum with fewer finite channels than this fraction is flagged ``NO_DATA``."""
BAND_MARGIN_CHANNELS = 3
"""Channels read beyond the model axis on each side (cube channel widths)."""


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def _bin(array: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor`` × ``factor`` blocks of the first two axes, NaN ignored.

    Partial blocks at the end are averaged over the pixels they hold.
    """
    if factor == 1:
        return array
    tx, ty = array.shape[:2]
    bx, by = -(-tx // factor), -(-ty // factor)
    dtype = np.result_type(array.dtype, np.float32)
    padded = np.full((bx * factor, by * factor) + array.shape[2:], np.nan, dtype)
    padded[:tx, :ty] = array
    blocks = padded.reshape((bx, factor, by, factor) + array.shape[2:])
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    count = finite.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(dtype)


def _unbin(array: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Repeat block values over their pixels and cut to ``shape`` (tx, ty)."""
    if factor == 1:
        return array
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)[: shape[0], : shape[1]]


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


def predict_kinematics(model: KinematicsModel, values, axis_cm1, vsys_kms: float = 0.0,
                       batch: int = DEFAULT_BATCH) -> np.ndarray:
    """Network kinematics of spectra ``values`` (N, nchan) on ``axis_cm1`` (cm⁻¹, observed),
    seen from the systemic velocity ``vsys_kms``: (N, 4) float32 velocity, broadening and
    their 1-sigma errors (km/s), the velocity in the observed frame."""
    out = model.predict(prepare(values, axis_cm1, model.card, vsys_kms), batch=batch)
    if vsys_kms:
        velocity = out[:, 0].astype(np.float64)
        out[:, 2] = composed_velocity_error(vsys_kms, velocity, out[:, 2])
        out[:, 0] = compose_velocities(vsys_kms, velocity)
    return out


def run_cube(cube, model: KinematicsModel, cancel: Callable[[], bool] | object | None = None,
             region_mask: np.ndarray | None = None, binning: int = 1, maps: KinematicMaps | None = None,
             tile: tuple[int, int] | None = None, batch: int = DEFAULT_BATCH,
             snr_threshold: float = SNR_THRESHOLD, workers: int | None = None,
             vsys_kms: float = 0.0) -> Iterator[TileResult]:
    """Predict kinematics for every pixel of ``cube``, one finished tile per yield.

    Parameters
    ----------
    cube : mirabelle.cube.Cube
        An open cube.
    model : KinematicsModel
        From :func:`~mirabelle.inference.model.load_model` or ``select_model``.
    cancel : callable returning bool, or an object with ``is_set()`` (threading.Event)
        Checked before each tile; when true the generator returns, maps stay consistent.
    region_mask : (nx, ny) bool, optional
        Pixels to compute; the others are marked done with the ``SKIPPED`` bit.
    binning : int
        Average N × N pixel blocks (anchored at each tile's origin) before the network;
        each block's results are repeated over its pixels.
    maps : KinematicMaps, optional
        Partial maps of the same cube and model to resume: done pixels are not recomputed.
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
        maps = KinematicMaps.empty(nx, ny, binning=binning, model_name=model.name, model_version=model.version,
                                   model_sha256=model.sha256, cube_path=str(cube.path))
    elif maps.shape != (nx, ny) or maps.model_sha256 != model.sha256 or maps.binning != binning:
        raise ValueError("maps to resume must come from the same cube shape, model and binning")
    if region_mask is not None:
        region_mask = np.asarray(region_mask, dtype=bool)
        if region_mask.shape != (nx, ny):
            raise ValueError(f"region mask has shape {region_mask.shape}, the cube {(nx, ny)}")
        outside = ~region_mask & ~maps.done
        maps.quality[outside] |= quality.SKIPPED
        maps.done[outside] = True
    total = int((~maps.done).sum())
    if total == 0:
        return

    card = model.card
    v_lo, v_hi = card.get("ranges", {}).get("velocity_kms", (-np.inf, np.inf))
    b_lo, b_hi = card.get("ranges", {}).get("broadening_kms", (0.0, np.inf))
    vsys_kms = float(vsys_kms)
    solver = make_solver(cube, model, vsys_kms)
    fwhm_map = cube.fwhm_map_cm1()
    axis = model.axis_cm1 * float(doppler_factor(vsys_kms))  # observed wavenumbers of the model axis
    base = cube.base_axis_cm1
    margin = BAND_MARGIN_CHANNELS * float(base[1] - base[0])
    band = (float(axis[0]) - margin, float(axis[-1]) + margin)

    started = time.perf_counter()
    progress = {"processed": 0, "spectra": 0}
    workers = max(1, int(workers or min(2, os.cpu_count() or 1)))
    pending: deque = deque()

    def finish(job) -> TileResult:
        future, selected, xs, ys, todo, n_spectra = job
        _write(maps, future.result(), selected, binning, xs, ys, todo)
        progress["processed"] += int(todo.sum())
        progress["spectra"] += n_spectra
        elapsed = time.perf_counter() - started
        fraction = progress["processed"] / total
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else float("inf")
        return TileResult(x0=xs.start, y0=ys.start, nx=todo.shape[0], ny=todo.shape[1], maps=maps,
                          fraction=fraction, elapsed_s=elapsed, eta_s=eta, spectra=progress["spectra"],
                          spectra_per_s=progress["processed"] / elapsed if elapsed > 0 else 0.0)

    # Tiles are read here, in order, and processed by `workers` threads (numpy and onnxruntime
    # release the GIL); results are written and yielded in reading order, so the maps hold
    # only whole tiles at every yield.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirabelle-inference") as pool:
        try:
            for block in cube.iter_tiles(tile, band_cm1=band):
                if _is_cancelled(cancel):
                    return
                xs, ys = block.x_slice, block.y_slice
                todo = ~maps.done[xs, ys]
                if not todo.any():
                    continue
                data = _bin(block.data, binning)
                tile_axis = cube.tile_axis_cm1(block)
                if tile_axis.ndim == 3:
                    tile_axis = _bin(tile_axis, binning)
                fwhm = _bin(fwhm_map[xs, ys], binning)
                selected = _bin(todo.astype(np.float32), binning) > 0  # blocks with any pixel to do
                if selected.all():  # views, no copies
                    values = data.reshape(-1, data.shape[-1])
                    rows_axis = tile_axis.reshape(-1, tile_axis.shape[-1]) if tile_axis.ndim == 3 else tile_axis
                else:
                    values = data[selected]
                    rows_axis = tile_axis[selected] if tile_axis.ndim == 3 else tile_axis
                future = pool.submit(_process, values, rows_axis, fwhm[selected], model, solver, batch,
                                     snr_threshold, (v_lo, v_hi), (b_lo, b_hi), vsys_kms)
                pending.append((future, selected, xs, ys, todo, values.shape[0]))
                while len(pending) > workers or (pending and pending[0][0].done()):
                    yield finish(pending.popleft())
                    if _is_cancelled(cancel):
                        return
            while pending:
                yield finish(pending.popleft())
                if pending and _is_cancelled(cancel):
                    return
        finally:
            for job in pending:
                job[0].cancel()


def _process(values, axis, fwhm, model, solver, batch, snr_threshold, velocity_range, broadening_range,
             vsys_kms=0.0):
    """Network + line solve for N spectra: dict of (N,) / (N, 5) arrays (velocities observed-frame)."""
    n, nchan = values.shape
    n_finite = np.isfinite(values).sum(axis=1)
    no_data = (n_finite < MIN_FINITE_FRACTION * nchan) | ~values.any(axis=1)  # NaN counts as non-zero
    out = {
        "kinematics": np.full((n, 4), np.nan, np.float32),
        "amplitudes": np.full((n, 5), np.nan, np.float32),
        "fluxes": np.full((n, 5), np.nan, np.float32),
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
    kinematics = predict_kinematics(model, good_values, good_axis, vsys_kms, batch)
    if axis.ndim == 2:
        start = good_axis[:, 0]
        step = (good_axis[:, -1] - good_axis[:, 0]) / (nchan - 1)
    else:
        start, step = axis[0], (axis[-1] - axis[0]) / (nchan - 1)
    velocity, broadening = kinematics[:, 0], kinematics[:, 1]
    lines = solver.solve(good_values, start, step, fwhm[ok], velocity, broadening)
    flags = np.zeros(velocity.shape, np.uint8)
    flags[~(lines.snr_halpha >= snr_threshold)] |= quality.NO_LINE
    # the model's range holds in its own frame, around the systemic velocity
    observed_range = compose_velocities(vsys_kms, np.clip(velocity_range, -0.99 * C_KMS, 0.99 * C_KMS))
    flags[_outside(velocity, kinematics[:, 2], observed_range)] |= quality.VELOCITY_OUT_OF_RANGE
    flags[_outside(broadening, kinematics[:, 3], broadening_range)] |= quality.BROADENING_OUT_OF_RANGE
    flags[lines.edge] |= quality.EDGE
    out["kinematics"][ok] = kinematics
    out["amplitudes"][ok] = lines.amplitudes
    out["fluxes"][ok] = lines.fluxes
    out["snr_halpha"][ok] = lines.snr_halpha
    out["double_score"][ok] = lines.double_score
    out["double_offset"][ok] = lines.double_offset_kms
    out["quality"][ok] = flags
    return out


def _outside(value: np.ndarray, error: np.ndarray, value_range) -> np.ndarray:
    """True where ``value`` lies outside ``value_range`` by more than its 1-sigma ``error`` (or is NaN)."""
    slack = np.where(np.isfinite(error), np.abs(error), 0.0)
    return ~((value >= value_range[0] - slack) & (value <= value_range[1] + slack))


def _write(maps: KinematicMaps, results: dict, selected: np.ndarray, binning: int, xs: slice, ys: slice,
           todo: np.ndarray) -> None:
    """Scatter per-spectrum results into the maps' pixels that were to do."""
    def place(rows: np.ndarray, fill) -> np.ndarray:
        block = np.full(selected.shape + rows.shape[1:], fill, rows.dtype)
        block[selected] = rows
        return _unbin(block, binning, todo.shape)

    kinematics = results["kinematics"]
    targets = {
        "velocity": kinematics[:, 0], "broadening": kinematics[:, 1],
        "velocity_err": kinematics[:, 2], "broadening_err": kinematics[:, 3],
        "snr_halpha": results["snr_halpha"], "double_score": results["double_score"],
        "double_offset": results["double_offset"], "amplitudes": results["amplitudes"],
        "fluxes": results["fluxes"],
    }
    for name, rows in targets.items():
        destination = getattr(maps, name)[xs, ys]
        source = place(rows, np.nan)
        mask = todo if source.ndim == 2 else todo[..., None]
        np.copyto(destination, source, where=np.broadcast_to(mask, source.shape))
    maps.quality[xs, ys][todo] = place(results["quality"], 0)[todo]
    maps.done[xs, ys][todo] = True
