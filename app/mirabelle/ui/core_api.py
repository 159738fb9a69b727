"""The window's only doorway into the core: opening cubes, models, inference, one pixel's data.

Everything here runs in worker threads (no Qt); the functions are small adapters over
``mirabelle.cube``, ``mirabelle.inference`` and ``mirabelle.lines`` so the widgets never
depend on core details.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from mirabelle.session.pixel import PixelResult as PixelData


def open_cube(path: str) -> Any:
    """Open a cube read-only (raises CubeError with a sentence for a bad file)."""
    from mirabelle.cube import open_cube as _open

    return _open(path)


def load_model_for(cube: Any, name: str | None = None) -> Any:
    """The model of ``cube`` (:func:`mirabelle.session.choose_model`), using all cores but one
    so the GUI keeps one; raises ModelError."""
    import os

    from mirabelle.session import choose_model

    return choose_model(cube, name, threads=max(1, (os.cpu_count() or 2) - 1))


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


def model_card(model: Any) -> dict | None:
    return None if model is None else getattr(model, "card", None)


def done_count(maps: Any) -> int:
    done = getattr(maps, "done", None)
    return 0 if done is None else int(np.count_nonzero(done))


Region = tuple[int, int, int, int]  # x0, x1, y0, y1 (end exclusive)


def iterate_inference(cube: Any, model: Any, cancel: threading.Event,
                      use_cache: bool = True) -> Iterator[tuple[Any, int, Region | None]]:
    """Yield ``(maps, done_pixels, region)`` after each finished tile (region None: everything).

    Drives :meth:`mirabelle.session.Session.run`: complete cached maps are yielded once,
    partial ones are resumed, and the maps reached are cached when it ends.
    """
    from mirabelle.session import Session

    session = Session(cube, model=model)
    results = session.run(use_cache=use_cache, cancel=cancel)
    try:
        first = next(results, None)
        if session.maps is not None:
            yield session.maps, done_count(session.maps), None
        if first is None:
            return
        for result in results:
            yield result.maps, done_count(result.maps), (result.x0, result.x0 + result.nx,
                                                         result.y0, result.y0 + result.ny)
            if cancel.is_set():
                return
    finally:
        results.close()


def map_array(maps: Any, name: str, region: Region | None = None) -> np.ndarray | None:
    """The registry's :func:`~mirabelle.session.registry.map_array` with an (x0, x1, y0, y1) region."""
    from mirabelle.session.registry import ALL
    from mirabelle.session.registry import map_array as registry_array

    window = ALL if region is None else (slice(region[0], region[1]), slice(region[2], region[3]))
    return registry_array(maps, name, window)


def map_value(maps: Any, name: str, x: int, y: int) -> float | None:
    """One pixel's value of map ``name`` as the overlay shows it (None if hidden or not computed)."""
    from mirabelle.session.registry import map_value as registry_value

    return registry_value(maps, name, x, y)


def pixel_data(cube: Any, x: int, y: int, model: Any = None, maps: Any = None,
               stale: Callable[[], bool] = lambda: False, vsys_kms: float = 0.0) -> PixelData | None:
    """Spectrum, kinematics, solver model, fluxes and saliency of pixel (x, y), computed like the maps
    (:func:`mirabelle.session.pixel.compute_pixel`, network seen from ``vsys_kms``, km/s);
    None when ``stale()`` turns true."""
    from mirabelle.inference.runner import RunOptions, make_solver
    from mirabelle.session.pixel import compute_pixel

    solver = None
    if model is not None:
        key = (id(cube), model.sha256, vsys_kms)
        solver = _solvers.get(key)
        if solver is None:
            solver = _solvers[key] = make_solver(cube, model, vsys_kms)
    return compute_pixel(cube, x, y, model, solver, maps, stale=stale, options=RunOptions(vsys_kms=vsys_kms))


_solvers: dict[tuple, Any] = {}


def format_radec(wcs: Any, x: float, y: float) -> str | None:
    """Sexagesimal RA/Dec of 0-based pixel (x, y) (None without a usable WCS)."""
    from mirabelle.session.pixel import format_radec as radec

    return radec(wcs, x, y)
