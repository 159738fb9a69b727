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

from mirabelle.ui.state import MAP_NAMES, PixelData

# map name -> (KinematicMaps attribute, line index for (nx, ny, 5) arrays or None)
_MAP_SOURCES = {
    "velocity": ("velocity", None),
    "broadening": ("broadening", None),
    "velocity_err": ("velocity_err", None),
    "broadening_err": ("broadening_err", None),
    "snr_halpha": ("snr_halpha", None),
    "flux_halpha": ("fluxes", 1),
    "double_score": ("double_score", None),
}


def open_cube(path: str) -> Any:
    """Open a cube read-only (raises CubeError with a sentence for a bad file)."""
    from mirabelle.cube import open_cube as _open

    return _open(path)


_models: dict[tuple, Any] = {}
_models_lock = threading.Lock()


def load_model_for(cube: Any, name: str | None = None) -> Any:
    """The shipped model for ``cube`` (by resolution) or the named one; raises ModelError.

    Loaded models are shared (onnxruntime sessions are thread-safe) between the pixel and
    inference workers and reused, since building a session holds the GIL for ~50 ms. They
    use all cores but one, so the GUI keeps one.
    """
    import os

    from mirabelle.inference.model import cube_resolution, load_model, select_model

    threads = max(1, (os.cpu_count() or 2) - 1)
    with _models_lock:
        if name:
            path = os.path.abspath(name) if os.path.exists(name) else name
            key: tuple = ("named", path, _mtime(path))
            if key not in _models:
                _models[key] = load_model(name, threads=threads)
            return _models[key]
        key = ("shipped", str(cube.filter_name), round(cube_resolution(cube)))
        if key not in _models:
            _models[key] = select_model(cube, threads=threads)
        return _models[key]


def _mtime(path: str) -> float:
    import os

    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


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


def cached_maps(cube: Any, model: Any) -> Any | None:
    """Maps cached for this cube file and model (complete or partial), or None."""
    from mirabelle.inference import cache

    return cache.load_maps(cube.path, model.sha256)


def _store_cache(cube: Any, maps: Any) -> None:
    from mirabelle.inference import cache

    try:
        cache.save_maps(maps, cube.path)
    except OSError:  # the cache is an optimisation: a read-only cache folder costs a rerun
        pass


def done_count(maps: Any) -> int:
    done = getattr(maps, "done", None)
    return 0 if done is None else int(np.count_nonzero(done))


Region = tuple[int, int, int, int]  # x0, x1, y0, y1 (end exclusive)


def iterate_inference(cube: Any, model: Any, cancel: threading.Event,
                      use_cache: bool = True) -> Iterator[tuple[Any, int, Region | None]]:
    """Yield ``(maps, done_pixels, region)`` after each finished tile (region None: everything).

    With ``use_cache``, complete cached maps are yielded once (reopening is instant),
    partial ones are resumed, and the maps reached (complete or not) are cached at the end.
    """
    from mirabelle.inference import runner

    cached = cached_maps(cube, model) if use_cache else None
    if cached is not None and cached.complete:
        yield cached, done_count(cached), None
        return
    maps = cached
    if maps is not None:
        yield maps, done_count(maps), None  # show the resumed part at once
    try:
        for result in runner.run_cube(cube, model, cancel=cancel, maps=maps):
            maps = result.maps
            region = (result.x0, result.x0 + result.nx, result.y0, result.y0 + result.ny)
            yield maps, done_count(maps), region
            if cancel.is_set():
                return
    finally:
        if use_cache and maps is not None and done_count(maps):
            _store_cache(cube, maps)


KINEMATIC_MAPS = ("velocity", "broadening", "velocity_err", "broadening_err", "flux_halpha")


def map_array(maps: Any, name: str, region: Region | None = None) -> np.ndarray | None:
    """The ``[x, y]`` array of map ``name`` with NaN where not yet computed (a copy).

    Kinematic maps are also NaN where the quality flags say no line or no data, so the
    overlay shows only measured pixels (the SNR and double-score maps show every pixel).
    ``region`` (x0, x1, y0, y1) returns only that block (for incremental redraws).
    """
    if maps is None or name not in MAP_NAMES:
        return None
    attr, line = _MAP_SOURCES[name]
    source = getattr(maps, attr, None)
    if source is None:
        return None
    window = (slice(None), slice(None)) if region is None else (slice(region[0], region[1]),
                                                                slice(region[2], region[3]))
    data = np.array(source[window + ((line,) if line is not None else ())], dtype=np.float32)
    done = getattr(maps, "done", None)
    if done is not None:
        data[~np.asarray(done[window], dtype=bool)] = np.nan
    if name in KINEMATIC_MAPS and getattr(maps, "quality", None) is not None:
        from mirabelle.inference.maps import INVALID_BITS

        velocity, broadening = maps.velocity[window], maps.broadening[window]
        valid = ((maps.quality[window] & INVALID_BITS) == 0) & np.isfinite(velocity) & np.isfinite(broadening)
        data[~valid] = np.nan
    return data


def map_value(maps: Any, name: str, x: int, y: int) -> float | None:
    """One pixel's value of map ``name`` (None if not computed)."""
    if maps is None:
        return None
    done = getattr(maps, "done", None)
    if done is not None and not done[x, y]:
        return None
    attr, line = _MAP_SOURCES[name]
    source = getattr(maps, attr, None)
    if source is None:
        return None
    value = float(source[x, y, line] if line is not None else source[x, y])
    return value if np.isfinite(value) else None


def _find_saliency() -> Callable | None:
    from mirabelle.inference.saliency import saliency

    return saliency


def pixel_data(cube: Any, x: int, y: int, model: Any = None, maps: Any = None,
               stale: Callable[[], bool] = lambda: False, vsys_kms: float = 0.0) -> PixelData | None:
    """Spectrum, CNN kinematics, fitted model and saliency of pixel (x, y).

    Kinematics come from the maps when that pixel is done, else from one model call seen
    from the systemic velocity ``vsys_kms`` (km/s; velocities observed-frame).
    Returns None when ``stale()`` turns true between steps (a newer request came).
    """
    spectrum = cube.spectrum(x, y)
    axis = np.asarray(spectrum.axis_cm1, dtype=float)
    values = np.asarray(spectrum.values, dtype=float)
    data = PixelData(x=x, y=y, axis_cm1=axis, values=values,
                     error=None if spectrum.error is None else np.asarray(spectrum.error, dtype=float))
    try:
        data.fwhm_cm1 = float(cube.fwhm_cm1(x, y))
    except Exception:  # noqa: BLE001 - the panel still shows the spectrum
        data.notes.append("no instrumental line width for this pixel")
    if stale():
        return None
    kin = None
    if maps is not None and (getattr(maps, "done", None) is None or maps.done[x, y]):
        kin = {
            "velocity_kms": float(maps.velocity[x, y]),
            "broadening_kms": float(maps.broadening[x, y]),
            "velocity_err_kms": float(maps.velocity_err[x, y]),
            "broadening_err_kms": float(maps.broadening_err[x, y]),
        }
        data.snr_halpha = map_value(maps, "snr_halpha", x, y)
        data.double_score = map_value(maps, "double_score", x, y)
    elif model is not None:
        from mirabelle.inference.runner import predict_kinematics

        out = np.asarray(predict_kinematics(model, values[None, :], axis, vsys_kms))[0]
        kin = dict(zip(("velocity_kms", "broadening_kms", "velocity_err_kms", "broadening_err_kms"),
                       (float(v) for v in out)))
    data.kinematics = kin
    if stale():
        return None
    if kin is not None and data.fwhm_cm1 is not None and np.isfinite(kin["velocity_kms"]):
        from mirabelle.lines import line_fluxes, solve_amplitudes

        fit = solve_amplitudes(values[None, :], axis, kin["velocity_kms"], kin["broadening_kms"], data.fwhm_cm1)
        data.model = np.asarray(fit.model[0])
        amplitudes = np.asarray(fit.amplitudes[0, 0])
        data.amplitudes = amplitudes
        data.continuum = np.asarray(fit.continuum[0])
        try:
            data.fluxes = np.asarray(line_fluxes(amplitudes, kin["velocity_kms"], kin["broadening_kms"],
                                                 data.fwhm_cm1))
        except Exception:  # noqa: BLE001
            data.fluxes = None
    if stale():
        return None
    if model is not None:
        fn = _find_saliency()
        if fn is not None:
            points, weights = fn(model, axis, values)
            data.saliency_axis_cm1 = np.asarray(points, dtype=float)
            data.saliency_weights = np.asarray(weights, dtype=float)
    wcs = getattr(cube, "wcs", None)
    if wcs is not None:
        data.ra_dec = format_radec(wcs, x, y)
    return data


def format_radec(wcs: Any, x: float, y: float) -> str | None:
    """Sexagesimal RA/Dec of 0-based pixel (x, y) and the cube's frame, e.g. '01:33:50.90 +30:39:36.6 (FK5 J2000)'."""
    from mirabelle.cube.sky import sky_position

    position = sky_position(wcs, x, y)
    return None if position is None else f"{position.ra} {position.dec} ({position.frame})"
