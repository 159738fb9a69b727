"""What runs on a Dask worker: check the cubes are readable, and compute one tile.

Each tile task opens the cube file itself and closes it before returning (h5py handles
cannot cross processes), reads only its tile and the model's band, runs the network and
the line solve exactly as :func:`mirabelle.inference.runner.run_cube` does, and returns
the per-spectrum results for the client to write. Per-process caches keep the loaded
model and, per cube, its line solver and FWHM map, so a tile costs its read and compute.
Qt-free and Dask-free: the functions are plain Python that Dask ships by reference.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import numpy as np

from mirabelle.errors import CubeError
from mirabelle.inference.model import KinematicsModel, ModelFiles
from mirabelle.inference.runner import BAND_MARGIN_CHANNELS, _bin, _process, make_solver
from mirabelle.lines import doppler_factor

ONNX_THREADS = 1
"""onnxruntime threads per task: the worker's own threads run tiles in parallel."""
_MODELS: dict[str, KinematicsModel] = {}
_CUBES: dict[tuple, dict] = {}
_CUBES_KEPT = 4
"""Cubes whose solver a worker keeps (many cubes share the cluster; a solver is small)."""


@dataclass(frozen=True)
class TileTask:
    """One tile of one cube to compute.

    Attributes
    ----------
    cube_path : absolute path of the cube, as the workers must see it (shared file system).
    stamp : (size in bytes, mtime in ns) of the file the client planned; a worker seeing
        another file refuses it.
    x_slice, y_slice : the tile's pixels.
    todo : (tx, ty) bool, pixels still to compute (resume, region).
    binning : N of the N × N averaging.
    batch : spectra per onnxruntime call.
    snr_threshold : Hα SNR under which ``NO_LINE`` is set.
    vsys_kms : systemic velocity (km/s) the network sees each spectrum from.
    """

    cube_path: str
    stamp: tuple[int, int]
    x_slice: slice
    y_slice: slice
    todo: np.ndarray
    binning: int
    batch: int
    snr_threshold: float
    vsys_kms: float = 0.0


def file_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """(size in bytes, modification time in ns) of a file."""
    stat = os.stat(path)
    return int(stat.st_size), int(stat.st_mtime_ns)


def probe_cubes(paths: dict[str, tuple[int, int]]) -> dict[str, str]:
    """On a worker: for each path, '' when it reads the same file the client planned, else why not."""
    problems = {}
    for path, stamp in paths.items():
        try:
            with open(path, "rb") as stream:
                stream.read(8)
            if file_stamp(path) != tuple(stamp):
                problems[path] = "another file (size or modification time differ from the client's)"
        except OSError as exc:
            problems[path] = f"{type(exc).__name__}: {exc.strerror or exc}"
    return problems


def worker_host() -> str:
    """This process's host name (for messages)."""
    return platform.node()


def _model(files: ModelFiles) -> KinematicsModel:
    key = files.card.get("onnx_sha256") or files.label
    if key not in _MODELS:
        _MODELS[key] = KinematicsModel(files, threads=ONNX_THREADS)
    return _MODELS[key]


def _cube_context(cube, model: KinematicsModel, stamp: tuple[int, int], vsys_kms: float) -> dict:
    """Solver, FWHM map, band and model ranges of a cube, computed once per process (as ``run_cube``)."""
    key = (str(cube.path), tuple(stamp), model.sha256, vsys_kms)
    if key not in _CUBES:
        while len(_CUBES) >= _CUBES_KEPT:
            _CUBES.pop(next(iter(_CUBES)))
        ranges = model.card.get("ranges", {})
        base = cube.base_axis_cm1
        margin = BAND_MARGIN_CHANNELS * float(base[1] - base[0])
        axis = model.axis_cm1 * float(doppler_factor(vsys_kms))  # observed wavenumbers of the model axis
        _CUBES[key] = {
            "solver": make_solver(cube, model, vsys_kms), "fwhm": cube.fwhm_map_cm1(),
            "band": (float(axis[0]) - margin, float(axis[-1]) + margin),
            "velocity_range": tuple(ranges.get("velocity_kms", (-np.inf, np.inf))),
            "broadening_range": tuple(ranges.get("broadening_kms", (0.0, np.inf))),
        }
    return _CUBES[key]


def predict_tile(files: ModelFiles, task: TileTask) -> dict[str, np.ndarray]:
    """Network + line solve for the pixels of ``task``: the runner's per-spectrum result dict.

    Rows are the N × N blocks with any pixel to do, in C order of the binned tile
    (``selected`` of :func:`tile_selection`), as ``run_cube`` computes them.

    Raises
    ------
    CubeError
        The file is missing or unreadable here, or is not the file the client planned.
    """
    from mirabelle.cube import open_cube

    try:
        stamp = file_stamp(task.cube_path)
    except OSError as exc:
        raise CubeError(f"{task.cube_path}: expected the cube to be readable from the Dask worker on "
                        f"{worker_host()}, found {type(exc).__name__} ({exc.strerror or exc}).") from exc
    if stamp != tuple(task.stamp):
        raise CubeError(f"{task.cube_path}: expected the file the client planned, found another one on the "
                        f"worker {worker_host()} (size or modification time differ).")
    model = _model(files)
    with open_cube(task.cube_path) as cube:
        context = _cube_context(cube, model, task.stamp, float(task.vsys_kms))
        block = cube.read_tile(task.x_slice, task.y_slice, band_cm1=context["band"])
        tile_axis = cube.tile_axis_cm1(block)
    # The same inputs run_cube builds for a tile (binning anchored at the tile's origin).
    binning, todo = task.binning, task.todo
    data = _bin(block.data, binning)
    if tile_axis.ndim == 3:
        tile_axis = _bin(tile_axis, binning)
    fwhm = _bin(context["fwhm"][task.x_slice, task.y_slice], binning)
    selected = tile_selection(todo, binning)
    if selected.all():
        values = data.reshape(-1, data.shape[-1])
        rows_axis = tile_axis.reshape(-1, tile_axis.shape[-1]) if tile_axis.ndim == 3 else tile_axis
    else:
        values = data[selected]
        rows_axis = tile_axis[selected] if tile_axis.ndim == 3 else tile_axis
    return _process(values, rows_axis, fwhm[selected], model, context["solver"], task.batch,
                    task.snr_threshold, context["velocity_range"], context["broadening_range"], float(task.vsys_kms))


def tile_selection(todo: np.ndarray, binning: int) -> np.ndarray:
    """(bx, by) bool: the N × N blocks of a tile holding any pixel to do (the rows computed)."""
    return _bin(todo.astype(np.float32), binning) > 0
