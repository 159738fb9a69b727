"""One pixel's click result, computed by the runner's own tile function on a one-pixel tile.

The kinematics come from the maps where that pixel is done (else from one network call);
the line amplitudes, fluxes, SNR, double score and quality bits come from
:func:`mirabelle.inference.runner.compute_tile` with the same solver, band and options as
the maps, so a click shows what the maps hold at that pixel. The model curve is the
solver's model (two constant continua, one per line window), oversampled near the lines.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from mirabelle.cube.heliocentric import barycentric_correction
from mirabelle.cube.sky import sky_position
from mirabelle.cube.units import flux_units, pixel_line_fluxes
from mirabelle.inference import runner
from mirabelle.inference.maps import INVALID_BITS, OUTLIER, KinematicMaps
from mirabelle.inference.model import KinematicsModel
from mirabelle.lines import C_KMS, LINE_NAMES, REST_NM, line_position_cm1
from mirabelle.lines.model import model_spectrum

KINEMATIC_KEYS = ("velocity_kms", "broadening_kms", "velocity_err_kms", "broadening_err_kms")
"""Keys of :attr:`PixelResult.kinematics`, in the network's output order (km/s)."""
MODEL_OVERSAMPLING = 8
"""Model curve samples per channel near the lines."""
_REST = np.array([REST_NM[name] for name in LINE_NAMES])


@dataclass
class PixelResult:
    """Everything the spectrum panel draws for one pixel (computed off the GUI thread).

    Arrays are on the pixel's own wavenumber axis ``axis_cm1`` (cm⁻¹, ascending) unless
    named otherwise. ``kinematics`` keys are :data:`KINEMATIC_KEYS`; ``amplitudes`` and
    ``fluxes`` (5,) follow ``mirabelle.lines.LINE_NAMES``; ``continuum`` (2,) the constant
    continua of the Hα+[NII] and [SII] windows; ``model`` the solver's model on
    ``axis_cm1``; ``curve_axis_cm1``/``curve`` the same model oversampled near the lines
    (what is drawn); ``quality`` the quality bits (``mirabelle.inference.maps``) and
    ``valid`` whether the pixel has a usable prior; ``saliency_weights`` are 0..1 at
    ``saliency_axis_cm1``. ``value_unit`` is the unit of ``values`` (``mirabelle.cube.units``),
    ``line_fluxes`` the fluxes in ``line_flux_unit`` (erg/cm²/s or counts), ``barycentric_kms``
    the cube's heliocentric correction. Missing pieces are None (no model, ...).
    """

    x: int
    y: int
    axis_cm1: np.ndarray
    values: np.ndarray
    error: np.ndarray | None = None
    fwhm_cm1: float | None = None
    model: np.ndarray | None = None
    curve_axis_cm1: np.ndarray | None = None
    curve: np.ndarray | None = None
    continuum: np.ndarray | None = None
    kinematics: dict[str, float] | None = None
    amplitudes: np.ndarray | None = None
    fluxes: np.ndarray | None = None
    snr_halpha: float | None = None
    double_score: float | None = None
    quality: int | None = None
    valid: bool | None = None
    value_unit: str = "counts"
    line_fluxes: np.ndarray | None = None
    line_flux_unit: str = ""
    barycentric_kms: float | None = None
    saliency_axis_cm1: np.ndarray | None = None
    saliency_weights: np.ndarray | None = None
    ra_dec: str | None = None
    notes: list[str] = field(default_factory=list)
    generation: int = 0


def compute_pixel(cube, x: int, y: int, model: KinematicsModel | None, solver, maps: KinematicMaps | None = None,
                  lock=None, stale: Callable[[], bool] = lambda: False,
                  options: runner.RunOptions = runner.RunOptions()) -> PixelResult | None:
    """The click result of pixel (x, y); None when ``stale()`` turns true between steps.

    ``solver`` is ``runner.make_solver(cube, model, options.vsys_kms)`` and ``options`` those
    of the maps; ``maps`` (read under ``lock``) give the kinematics where that pixel is done.
    """
    from mirabelle.inference.saliency import saliency

    spectrum = cube.spectrum(x, y)
    axis = np.asarray(spectrum.axis_cm1, dtype=float)
    values = np.asarray(spectrum.values, dtype=float)
    result = PixelResult(x=x, y=y, axis_cm1=axis, values=values,
                         error=None if spectrum.error is None else np.asarray(spectrum.error, dtype=float),
                         ra_dec=format_radec(getattr(cube, "wcs", None), x, y))
    result.value_unit = flux_units(cube).spectrum
    correction, _ = barycentric_correction(cube)
    result.barycentric_kms = None if correction is None else correction.velocity_kms
    try:
        result.fwhm_cm1 = float(cube.fwhm_cm1(x, y))
    except Exception:  # noqa: BLE001 - the panel still shows the spectrum
        result.notes.append("no instrumental line width for this pixel")
    if model is None or result.fwhm_cm1 is None or stale():
        return None if stale() else result
    known, judged_by_neighbours = None, 0
    with lock if lock is not None else nullcontext():
        if maps is not None and maps.done[x, y] and maps.binning == 1:
            known = np.array([[[maps.velocity[x, y], maps.broadening[x, y], maps.velocity_err[x, y],
                                maps.broadening_err[x, y]]]], np.float32)
            judged_by_neighbours = int(maps.quality[x, y]) & OUTLIER
        elif maps is not None and maps.binning > 1:
            result.notes.append(f"maps binned {maps.binning} x {maps.binning}: this pixel alone differs")
    tile = cube.read_tile(slice(x, x + 1), slice(y, y + 1), runner.model_band_cm1(cube, model, options.vsys_kms))
    out = runner.compute_tile(tile, cube.tile_axis_cm1(tile), np.array([[result.fwhm_cm1]]), np.ones((1, 1), bool),
                              model, solver, options, kinematics=known)
    if stale():
        return None
    pixel = {name: np.asarray(array[0, 0]) for name, array in out.arrays.items()}
    kinematics = {key: float(pixel[name]) for key, name in
                  zip(KINEMATIC_KEYS, ("velocity", "broadening", "velocity_err", "broadening_err"))}
    result.kinematics = kinematics
    result.quality = int(pixel["quality"]) | judged_by_neighbours
    result.valid = bool((result.quality & INVALID_BITS) == 0 and np.isfinite(kinematics["velocity_kms"])
                        and np.isfinite(kinematics["broadening_kms"]))
    result.snr_halpha = _finite_or_none(pixel["snr_halpha"])
    result.double_score = _finite_or_none(pixel["double_score"])
    amplitudes, continuum = pixel["amplitudes"].astype(float), out.continuum[0, 0].astype(float)
    if np.isfinite(amplitudes).all() and np.isfinite(continuum).all():
        result.amplitudes, result.fluxes, result.continuum = amplitudes, pixel["fluxes"].astype(float), continuum
        v, b = kinematics["velocity_kms"], kinematics["broadening_kms"]
        result.line_fluxes, result.line_flux_unit = pixel_line_fluxes(cube, x, y, result.fluxes, v)
        result.model = solver_model(axis, v, b, result.fwhm_cm1, amplitudes, continuum)
        result.curve_axis_cm1, result.curve = oversampled_model(axis, result.model, v, b, result.fwhm_cm1,
                                                                amplitudes, continuum)
    if stale():
        return None
    points, weights = saliency(model, axis, values, options.vsys_kms, result.fwhm_cm1)
    result.saliency_axis_cm1 = np.asarray(points, dtype=float)
    result.saliency_weights = np.asarray(weights, dtype=float)
    return result


def solved_pixel(x: int, y: int, axis_cm1, values, kinematics: dict | None, fwhm_cm1: float | None,
                 saliency: tuple | None = None) -> PixelResult:
    """A click result for a given spectrum and kinematics (no cube, no network): the lines solved
    by the maps' :class:`~mirabelle.inference.linefit.LineSolver` at ``kinematics`` (keys of
    :data:`KINEMATIC_KEYS`, optionally ``snr_halpha`` and ``double_score``), for scripts and tests.

    ``axis_cm1`` (cm⁻¹, sorted here) and ``values`` are the spectrum; ``saliency`` is
    ``(axis_points_cm1, weights)``.
    """
    from mirabelle.inference.linefit import LineSolver

    axis = np.asarray(axis_cm1, dtype=float)
    order = np.argsort(axis)
    axis, values = axis[order], np.asarray(values, dtype=float)[order]
    result = PixelResult(x=int(x), y=int(y), axis_cm1=axis, values=values, fwhm_cm1=fwhm_cm1)
    if saliency is not None:
        result.saliency_axis_cm1 = np.asarray(saliency[0], dtype=float)
        result.saliency_weights = np.asarray(saliency[1], dtype=float)
    if not kinematics:
        return result
    result.kinematics = {key: float(kinematics[key]) for key in KINEMATIC_KEYS if key in kinematics}
    result.snr_halpha, result.double_score = kinematics.get("snr_halpha"), kinematics.get("double_score")
    v, b = result.kinematics.get("velocity_kms"), result.kinematics.get("broadening_kms")
    if fwhm_cm1 is None or v is None or b is None or not (np.isfinite(v) and np.isfinite(b)) or axis.size < 2:
        return result
    step = (axis[-1] - axis[0]) / (axis.size - 1)
    solver = LineSolver((step, step), (fwhm_cm1, fwhm_cm1), (min(v, -100.0) * 1.1, max(v, 100.0) * 1.1),
                        (0.0, max(1.5 * b, 50.0)))
    lines = solver.solve(values[None, :], axis[0], step, fwhm_cm1, np.array([v]), np.array([b]))
    amplitudes, continuum = lines.amplitudes[0].astype(float), lines.continuum[0].astype(float)
    if np.isfinite(amplitudes).all() and np.isfinite(continuum).all():
        result.amplitudes, result.fluxes, result.continuum = amplitudes, lines.fluxes[0].astype(float), continuum
        result.model = solver_model(axis, v, b, fwhm_cm1, amplitudes, continuum)
        result.curve_axis_cm1, result.curve = oversampled_model(axis, result.model, v, b, fwhm_cm1, amplitudes,
                                                                continuum)
    return result


def refine_pixel(result: PixelResult, components: int = 1) -> dict:
    """Least-squares velocity and broadening of 1 or 2 components from the click's kinematics
    (:func:`mirabelle.lines.fit.refine_fit`; ``model`` is on ``result.axis_cm1``)."""
    from mirabelle.lines.fit import refine_fit

    kinematics = result.kinematics or {}
    return refine_fit(np.asarray(result.axis_cm1, dtype=float), np.asarray(result.values, dtype=float),
                      velocity_kms=float(kinematics["velocity_kms"]), broadening_kms=float(kinematics["broadening_kms"]),
                      fwhm_cm1=float(result.fwhm_cm1), components=int(components))


def agrees_with_maps(result: PixelResult | None, maps: KinematicMaps | None) -> bool:
    """Whether a shown click ``result`` already holds what the (finished) ``maps`` hold at its
    pixel: the same kinematics (within 0.01 km/s) and quality bits, so asking again would only
    redraw the same spectrum. False when the maps do not have that pixel alone (not done, binned)."""
    if result is None or result.kinematics is None or maps is None or maps.binning != 1:
        return False
    x, y = result.x, result.y
    if not maps.done[x, y]:
        return False
    shown = [result.kinematics["velocity_kms"], result.kinematics["broadening_kms"]]
    mapped = [float(maps.velocity[x, y]), float(maps.broadening[x, y])]
    return result.quality == int(maps.quality[x, y]) and bool(np.allclose(shown, mapped, atol=0.01, equal_nan=True))


def can_refine(result: PixelResult | None) -> bool:
    """True when ``result`` has finite kinematics and a line width to refine from."""
    kinematics = (result.kinematics or {}) if result is not None else {}
    v, b = kinematics.get("velocity_kms"), kinematics.get("broadening_kms")
    return (result is not None and result.fwhm_cm1 is not None and v is not None and b is not None
            and bool(np.isfinite(v) and np.isfinite(b)))


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _continuum(axis_cm1: np.ndarray, velocity_kms: float, continuum: np.ndarray) -> np.ndarray:
    """The solver's continuum on ``axis_cm1``: window A's above the gap between [NII]6583 and
    [SII]6716, window B's below (cm⁻¹ grow towards Hα)."""
    gap = 0.5 * float(line_position_cm1(REST_NM["NII6583"], velocity_kms)
                      + line_position_cm1(REST_NM["SII6716"], velocity_kms))
    return np.where(axis_cm1 > gap, continuum[0], continuum[1])


def solver_model(axis_cm1, velocity_kms, broadening_kms, fwhm_cm1, amplitudes, continuum) -> np.ndarray:
    """The line solver's model spectrum on ``axis_cm1`` (cm⁻¹): five sincgauss lines + two continua."""
    axis = np.asarray(axis_cm1, dtype=float)
    lines = model_spectrum(axis, velocity_kms, broadening_kms, fwhm_cm1, amplitudes, (0.0,))
    return lines + _continuum(axis, velocity_kms, continuum)


def oversampled_model(axis_cm1, model, velocity_kms, broadening_kms, fwhm_cm1, amplitudes, continuum):
    """``(axis, values)`` of the model, ``MODEL_OVERSAMPLING`` samples per channel within ± 6 sinc
    FWHM + 4 gaussian sigmas of each line and the channel values elsewhere (a few hundred samples)."""
    axis = np.asarray(axis_cm1, dtype=float)
    if axis.size < 2:
        return axis, np.asarray(model, dtype=float)
    centres = line_position_cm1(_REST, velocity_kms)
    half_width = 6 * fwhm_cm1 + 4 * centres * broadening_kms / C_KMS
    fine = np.linspace(axis[0], axis[-1], MODEL_OVERSAMPLING * (axis.size - 1) + 1)
    fine = fine[np.any(np.abs(fine[:, None] - centres) < half_width, axis=1)]
    near_channels = np.any(np.abs(axis[:, None] - centres) < half_width, axis=1)
    merged_axis = np.concatenate([axis[~near_channels], fine])
    merged = np.concatenate([np.asarray(model, dtype=float)[~near_channels],
                             solver_model(fine, velocity_kms, broadening_kms, fwhm_cm1, amplitudes, continuum)])
    order = np.argsort(merged_axis, kind="stable")
    return merged_axis[order], merged[order]


def format_radec(wcs, x: float, y: float) -> str | None:
    """Sexagesimal RA/Dec of 0-based pixel (x, y) and the cube's frame, e.g.
    '01:33:50.90 +30:39:36.6 (FK5 J2000)' (None without a usable WCS)."""
    position = sky_position(wcs, x, y)
    return None if position is None else f"{position.ra} {position.dec} ({position.frame})"
