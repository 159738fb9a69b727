"""The systemic velocity of an SN3 cube, found from its spectra with no option (Qt-free).

1. Sample: up to ``MAX_SPECTRA`` pixels, whole tiles spread over the field, their spectra
   resampled onto the reference axis (each pixel's own axis in an uncalibrated cube).
2. Combine: each spectrum loses its continuum (a running median ``CONTINUUM_WIDTH_FWHM``
   line widths wide, which follows sloped continua and broad Hα absorption but not the
   narrow lines); the pixels whose residual peaks highest above their noise are the
   line-bright ones. Their median residual minus the median residual of the whole field
   is the "contrast" spectrum: sky lines, the same in every pixel, cancel there. (The
   field's plain bright-pixel median is used instead when the contrast holds no line, e.g.
   a 1 × 1 cube.)
3. Match: on a velocity grid over ``VELOCITY_RANGE_KMS`` (steps of a quarter of the
   instrumental velocity FWHM), the combined spectrum is fitted with non-negative
   amplitudes of four templates — Hα, the [NII] pair (6548 tied at 1/2.95 of 6583),
   [SII]6716, [SII]6731 — plus a constant; the velocity that most reduces χ² wins, refined
   by a parabola. All five lines must then sit where the data are, so [NII]6583 taken for
   Hα (+920 km/s) loses against the velocity that explains the whole group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.errors import MirabelleError
from mirabelle.lines import C_KMS, NII_AMPLITUDE_RATIO, REST_NM, line_position_cm1

VELOCITY_RANGE_KMS = (-1000.0, 5500.0)
"""Systemic velocities searched (km/s, observed frame)."""
MAX_SPECTRA = 24000
"""Spectra sampled at most (whole tiles spread over the field)."""
BRIGHT_FRACTION = 0.05
"""Fraction of the sampled pixels (at least ``MIN_BRIGHT``) kept as line-bright."""
MIN_BRIGHT = 16
CONTINUUM_WIDTH_FWHM = 12.0
"""Width of the running-median continuum, in instrumental line FWHMs (at least 40 cm⁻¹)."""
TEMPLATE_BROADENING_KMS = 30.0
"""Gaussian broadening of the templates (km/s): a typical HII-region line."""
MIN_SIGNIFICANCE = 8.0
"""A best fit improving χ² by less than this many sigmas is not a detection (noise reaches ~5)."""
SEARCH_BAND_CM1 = (14500.0, 15500.0)
"""Wavenumbers read (cm⁻¹): every line at every searched velocity, plus margins."""


@dataclass(frozen=True)
class SystemicVelocity:
    """A detected systemic velocity.

    Attributes
    ----------
    velocity_kms : observed-frame systemic velocity (km/s, relativistic convention as ORB).
    significance : square root of the χ² improvement of the best fit over a flat spectrum
        (in noise units: ~ the combined lines' SNR).
    pixels : spectra combined (line-bright pixels).
    method : 'contrast' (bright minus field median) or 'bright median'.
    """

    velocity_kms: float
    significance: float
    pixels: int
    method: str


def detect_systemic_velocity(cube, max_spectra: int = MAX_SPECTRA) -> SystemicVelocity:
    """Find the systemic velocity of an open SN3 cube (module docstring).

    Raises
    ------
    MirabelleError
        When the cube has no finite spectrum in the SN3 lines' band or no line is found.
    """
    axis, spectra = _sample(cube, max_spectra)
    fwhm = float(np.nanmedian(cube.fwhm_map_cm1()))
    step = float(np.median(np.diff(axis)))
    width = max(CONTINUUM_WIDTH_FWHM * fwhm, 40.0) / step
    # Ranking on spectra binned so that the running median spans ~9 bins (it is the cost).
    factor = max(1, int(round(width / 9)))
    binned = spectra[:, :spectra.shape[1] // factor * factor].reshape(spectra.shape[0], -1, factor).mean(axis=2)
    residual = _remove_continuum(binned, width / factor)
    peak = _smooth(residual, max(1, int(round(fwhm / step / factor)))).max(axis=1) / _noise(residual)
    order = np.argsort(-peak)
    n_bright = int(min(peak.size, max(MIN_BRIGHT, round(BRIGHT_FRACTION * peak.size))))
    bright_median = _remove_continuum(np.median(spectra[order[:n_bright]], axis=0), width)
    field_median = _remove_continuum(np.median(spectra, axis=0), width)
    candidates = []
    if peak.size >= 4 * n_bright:
        candidates.append(("contrast", bright_median - field_median))
    candidates.append(("bright median", bright_median))
    for method, spectrum in candidates:
        found = _match(axis, spectrum, fwhm)
        if found is not None and found[1] >= MIN_SIGNIFICANCE:
            return SystemicVelocity(found[0], found[1], n_bright, method)
    raise MirabelleError(f"{cube.path}: expected emission lines to find the systemic velocity from, found none "
                         f"above {MIN_SIGNIFICANCE:g} sigma; give it with --vsys KM_S")


def _sample(cube, max_spectra: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference axis (cm⁻¹) of the band and (N, nband) spectra of finite pixels resampled onto it."""
    from mirabelle.inference.preprocess import resample

    channels = cube.channels_in_band(SEARCH_BAND_CM1)
    axis = np.asarray(cube.base_axis_cm1[channels], dtype=np.float64)
    rows = []
    for tile in _sampled_tiles(cube, channels, max_spectra):
        data = tile.data.reshape(-1, tile.data.shape[-1])
        tile_axis = cube.tile_axis_cm1(tile)
        keep = np.isfinite(data).mean(axis=1) > 0.8
        if not keep.any():
            continue
        if tile_axis.ndim == 3:
            rows.append(resample(data[keep], tile_axis.reshape(-1, tile_axis.shape[-1])[keep], axis))
        else:
            rows.append(resample(data[keep], tile_axis, axis))
    if not rows:
        raise MirabelleError(f"{cube.path}: expected finite spectra in the SN3 lines' band to find the systemic "
                             "velocity, found none")
    spectra = np.concatenate(rows).astype(np.float64)
    missing = np.isnan(spectra)
    if missing.any():  # channels outside a pixel's axis: the row's mean (no line, no NaN slow paths)
        spectra = np.where(missing, np.nanmean(spectra, axis=1, keepdims=True), spectra)
    return axis, spectra


def _sampled_tiles(cube, channels: slice, max_spectra: int):
    """Chunk-aligned tiles of about 64 × 64 pixels spread over the field, ~``max_spectra`` pixels in all."""
    from mirabelle.cube.base import Tile
    from mirabelle.cube.tiling import default_tile, tile_origins

    origins = list(tile_origins((cube.nx, cube.ny), default_tile(cube.chunk_xy, (cube.nx, cube.ny))))
    every = max(1, int(np.ceil(cube.nx * cube.ny / max(max_spectra, 1))))
    for xs, ys in origins[::every]:
        yield Tile(x0=xs.start, y0=ys.start, data=cube.read_block(xs, ys, channels), channels=channels)


def _remove_continuum(spectra: np.ndarray, width_channels: float) -> np.ndarray:
    """Spectra (finite) minus their running median over ``width_channels`` channels."""
    from scipy.ndimage import median_filter

    width = max(3, int(round(width_channels)) | 1)
    size = (1, width) if spectra.ndim == 2 else width
    return spectra - median_filter(spectra, size=size, mode="nearest")


def _noise(residual: np.ndarray) -> np.ndarray:
    """Per-row noise: robust RMS of first differences / √2 (tiny positive floor for flat rows)."""
    difference = np.diff(residual, axis=-1)
    mad = np.median(np.abs(difference - np.median(difference, axis=-1, keepdims=True)), axis=-1)
    scale = np.max(np.abs(residual), axis=-1)
    return np.maximum(1.4826 * mad / np.sqrt(2.0), 1e-6 * np.where(scale > 0, scale, 1.0))


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(values, size=width, axis=-1)


def _templates(axis: np.ndarray, velocity_kms: np.ndarray, fwhm: float) -> np.ndarray:
    """(G, 4, nchan) unit-peak templates: Hα, [NII] pair, [SII]6716, [SII]6731."""
    from mirabelle.lines.fast import fast_line_templates

    lines = fast_line_templates(axis, velocity_kms, np.full(velocity_kms.size, TEMPLATE_BROADENING_KMS),
                                fwhm)[:, 0]  # (G, 5, nchan) in LINE_NAMES order
    return np.stack([lines[:, 1], lines[:, 2] + lines[:, 0] / NII_AMPLITUDE_RATIO, lines[:, 3], lines[:, 4]],
                    axis=1)


def _match(axis: np.ndarray, spectrum: np.ndarray, fwhm: float) -> tuple[float, float] | None:
    """(velocity, significance) of the best non-negative four-template fit, or None."""
    good = np.isfinite(spectrum)
    if good.sum() < 20:
        return None
    y = spectrum[good] - spectrum[good].mean()
    noise = float(_noise(spectrum[None, :])[0])
    velocity_fwhm = C_KMS * fwhm / float(line_position_cm1(REST_NM["Halpha"], 0.0))
    grid = np.arange(VELOCITY_RANGE_KMS[0], VELOCITY_RANGE_KMS[1] + 1e-6, velocity_fwhm / 4.0)
    templates = _templates(axis, grid, fwhm)[:, :, good]
    templates -= templates.mean(axis=2, keepdims=True)  # the constant of the fit, eliminated
    gram = np.einsum("gkc,glc->gkl", templates, templates)
    rhs = templates @ y
    active = np.ones(rhs.shape, bool)
    for _ in range(templates.shape[1]):  # drop negative amplitudes until none is left (active set)
        mask = active[:, :, None] & active[:, None, :]
        system = np.where(mask, gram, 0.0) + np.eye(gram.shape[1]) * (~active[:, :, None])
        amplitudes = np.linalg.solve(system, np.where(active, rhs, 0.0)[..., None])[..., 0]
        negative = active & (amplitudes < 0)
        if not negative.any():
            break
        active &= ~negative
    gain = np.einsum("gk,gk->g", np.where(active, amplitudes, 0.0), rhs)  # χ² reduction of each fit
    best = int(np.argmax(gain))
    if gain[best] <= 0:
        return None
    velocity = grid[best]
    if 0 < best < grid.size - 1:  # parabola through the peak and its neighbours
        left, centre, right = gain[best - 1:best + 2]
        curvature = left - 2 * centre + right
        if curvature < 0:
            velocity += 0.5 * (left - right) / curvature * (grid[1] - grid[0])
    return float(velocity), float(np.sqrt(gain[best]) / noise)
