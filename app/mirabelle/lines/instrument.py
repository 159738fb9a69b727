"""SITELLE instrument relations: wavenumber axis, sinc FWHM and resolving power (ORB's formulas)."""

from __future__ import annotations

import numpy as np

ORB_SINC_FWHM = 1.20671
"""FWHM of sin(πu)/(πu) in units of u, ORB's constant."""


def axis_step_cm1(step_nm: float, step_nb: int, corr=1.0):
    """Channel width in cm⁻¹: ``corr · 1e7 / (2 · step · step_nb)``."""
    return np.asarray(corr) * 1e7 / (2.0 * step_nm * step_nb)


def axis_cm1(step_nm: float, order: int, step_nb: int, corr: float = 1.0) -> np.ndarray:
    """Wavenumber axis (cm⁻¹, ascending, length ``step_nb``) of a pixel with this ``corr``.

    ``σ_k = corr · 1e7 / (2 · step) · (order + k / step_nb)``; ORB starts odd orders one
    channel later.
    """
    step_cm1 = float(axis_step_cm1(step_nm, step_nb, corr))
    start = corr * 1e7 / (2.0 * step_nm) * order
    if int(order) % 2 == 1:
        start += step_cm1
    return start + step_cm1 * np.arange(step_nb)


def sinc_fwhm_cm1(step_nm: float, step_nb: int, zpd_index: int, corr=1.0, apodization: float = 1.0):
    """Instrumental sinc FWHM in cm⁻¹: ``1.20671 / (2 · MPD) · corr · apod``.

    ``MPD = step · (step_nb − zpd_index)`` is the maximum optical path difference; ``corr``
    may be an array (per-pixel calibration), the result has its shape.
    """
    mpd_cm = step_nm * (step_nb - zpd_index) * 1e-7
    if mpd_cm <= 0:
        raise ValueError(f"step_nb ({step_nb}) must exceed zpd_index ({zpd_index})")
    return ORB_SINC_FWHM / (2.0 * mpd_cm) * np.asarray(corr, dtype=float) * apodization


def resolving_power(wavenumber_cm1, fwhm_cm1):
    """Resolving power ``R = σ / FWHM`` (dimensionless)."""
    return np.asarray(wavenumber_cm1) / np.asarray(fwhm_cm1)
