"""What real SN3 cubes add to the emission lines: unsubtracted OH sky and stellar continua.

* Sky: the OH lines of `mirabelle.lines.sky` (Hanuschik 2003), unresolved (pure sinc of the
  pixel's FWHM), at fixed observed wavenumbers, the same in every pixel: level-3 SITELLE
  cubes are not sky-subtracted.
* Stellar continuum: a sloped continuum carrying a broad Hα absorption at the stars'
  velocity (the gas's here), ``C · (1 + s·t) · (1 − d · exp(−(σ − σ_Hα)² / 2w²))`` with
  ``t`` from −1 to 1 along the axis, per pixel: ``C`` up to ``level`` times the pixel's
  Hα amplitude, slope ``s`` in ±0.3, depth ``d`` up to a third, ``w`` a gaussian sigma of
  5–25 Å.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.lines import REST_NM, line_position_cm1

ABSORPTION_SIGMA_ANGSTROM = (5.0, 25.0)
MAX_DEPTH = 1.0 / 3.0
MAX_SLOPE = 0.3


@dataclass(frozen=True)
class StellarContinuum:
    """Per-pixel parameters ``[x, y]`` of the stellar continuum (see module docstring)."""

    level: np.ndarray
    slope: np.ndarray
    depth: np.ndarray
    sigma_angstrom: np.ndarray


def stellar_parameters(rng: np.random.Generator, halpha: np.ndarray, level: float) -> StellarContinuum:
    """Random continuum parameters for the (nx, ny) Hα amplitude map; ``level`` = largest C / A(Hα)."""
    shape = halpha.shape
    return StellarContinuum(
        level=(halpha * rng.uniform(0.0, level, shape)).astype(np.float32),
        slope=rng.uniform(-MAX_SLOPE, MAX_SLOPE, shape).astype(np.float32),
        depth=rng.uniform(0.0, MAX_DEPTH, shape).astype(np.float32),
        sigma_angstrom=rng.uniform(*ABSORPTION_SIGMA_ANGSTROM, shape).astype(np.float32),
    )


def stellar_spectra(axis_cm1: np.ndarray, velocity_kms: np.ndarray, level, slope, depth,
                    sigma_angstrom) -> np.ndarray:
    """(N, nz) stellar continua on ``axis_cm1`` ((nz,) or (N, nz)) for N pixels' parameters."""
    axis = np.asarray(axis_cm1, dtype=np.float64)
    t = np.linspace(-1.0, 1.0, axis.shape[-1])
    centre = line_position_cm1(REST_NM["Halpha"], np.asarray(velocity_kms, dtype=np.float64))[:, None]
    width = centre**2 * np.asarray(sigma_angstrom, dtype=np.float64)[:, None] * 1e-8  # Å → cm⁻¹ at Hα
    absorption = 1.0 - np.asarray(depth)[:, None] * np.exp(-0.5 * ((axis - centre) / width) ** 2)
    return np.asarray(level)[:, None] * (1.0 + np.asarray(slope)[:, None] * t) * absorption


def sky_spectra(axis_cm1: np.ndarray, fwhm_cm1: np.ndarray, peak: float) -> np.ndarray:
    """(N, nz) unresolved OH sky whose brightest SN3 line peaks at ``peak`` (spectrum units)."""
    from mirabelle.lines.sky import sky_spectrum

    fwhm = np.asarray(fwhm_cm1, dtype=np.float64)
    axis = np.asarray(axis_cm1, dtype=np.float64)
    if axis.ndim == 1:
        axis = np.broadcast_to(axis, fwhm.shape + axis.shape)
    return sky_spectrum(axis, fwhm, peak=peak)
