"""What runs on a Dask worker: check the cubes are readable, and compute one tile.

Each tile task opens the cube file itself and closes it before returning (h5py handles
cannot cross processes), reads only its tile and the model's band, runs the network and
the line solve with the runner's own per-tile function
(:func:`mirabelle.inference.runner.compute_tile`), and returns its output for the client to
write. Per-process caches keep the loaded model and, per cube, its line solver and FWHM
map, so a tile costs its read and compute.
Qt-free and Dask-free: the functions are plain Python that Dask ships by reference.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import numpy as np

from mirabelle.errors import CubeError
from mirabelle.inference.model import KinematicsModel, ModelFiles
from mirabelle.inference.runner import RunOptions, TileOutput, compute_tile, make_solver, model_band_cm1

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
    options : the run's settings (binning, batch, SNR threshold, systemic velocity).
    """

    cube_path: str
    stamp: tuple[int, int]
    x_slice: slice
    y_slice: slice
    todo: np.ndarray
    options: RunOptions = RunOptions()


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
    """Line solver, FWHM map and band of a cube, computed once per process (as ``run_cube``)."""
    key = (str(cube.path), tuple(stamp), model.sha256, vsys_kms)
    if key not in _CUBES:
        while len(_CUBES) >= _CUBES_KEPT:
            _CUBES.pop(next(iter(_CUBES)))
        _CUBES[key] = {"solver": make_solver(cube, model, vsys_kms), "fwhm": cube.fwhm_map_cm1(),
                       "band": model_band_cm1(cube, model, vsys_kms)}
    return _CUBES[key]


def predict_tile(files: ModelFiles, task: TileTask) -> TileOutput:
    """Network + line solve for the pixels ``task.todo`` of one tile: ``runner.compute_tile``'s output.

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
        context = _cube_context(cube, model, task.stamp, float(task.options.vsys_kms))
        tile = cube.read_tile(task.x_slice, task.y_slice, band_cm1=context["band"])
        tile_axis = cube.tile_axis_cm1(tile)
    return compute_tile(tile, tile_axis, context["fwhm"][task.x_slice, task.y_slice], task.todo, model,
                        context["solver"], task.options)
