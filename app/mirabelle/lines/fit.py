"""Least-squares refinement of 1 or 2 kinematic components, line amplitudes solved linearly."""

from __future__ import annotations

import numpy as np

from mirabelle.lines.constants import C_KMS, LINE_NAMES, REST_NM
from mirabelle.lines.kinematics import line_position_cm1
from mirabelle.lines.model import model_spectrum, solve_amplitudes


def refine_fit(axis_cm1: np.ndarray, values: np.ndarray, velocity_kms: float, broadening_kms: float,
               fwhm_cm1: float, components: int = 1, second_offset_kms: float | None = None) -> dict:
    """Least-squares velocity and broadening of 1 or 2 components, amplitudes solved linearly.

    Starts from the given (CNN) kinematics; a second component starts at ``velocity_kms +
    second_offset_kms`` (default: the instrumental velocity FWHM). Only channels near the
    lines enter the fit. Returns ``velocity_kms``, ``broadening_kms`` (arrays of length
    ``components``), ``amplitudes`` (C, 5), ``continuum``, ``model`` (nchan,) on ``axis_cm1``,
    ``chi2``, ``success``.
    """
    from scipy.optimize import least_squares

    axis = np.asarray(axis_cm1, dtype=float)
    values = np.asarray(values, dtype=float)
    halpha_cm1 = float(line_position_cm1(REST_NM["Halpha"], velocity_kms))
    fwhm_v = C_KMS * fwhm_cm1 / halpha_cm1  # instrumental FWHM as a velocity, km/s
    offset = fwhm_v if second_offset_kms is None else float(second_offset_kms)
    centres = line_position_cm1(np.array([REST_NM[n] for n in LINE_NAMES]), velocity_kms)
    # channels a line can reach: sinc wings, the gaussian width and the velocity search range
    reach_kms = 4 * max(broadening_kms, 1.0) + 5 * fwhm_v + abs(offset)
    reach = 3 * fwhm_cm1 + centres * reach_kms / C_KMS
    near = np.any(np.abs(axis[:, None] - centres[None, :]) < reach[None, :], axis=1) & np.isfinite(values)
    if near.sum() < 8:
        near = np.isfinite(values)
    x, y = axis[near], values[near]
    b_floor = 1.0
    if components == 1:
        start = np.array([velocity_kms, max(broadening_kms, b_floor)])
        lower, upper = [velocity_kms - 5 * fwhm_v, b_floor], [velocity_kms + 5 * fwhm_v, 500.0]
    else:
        width = max(broadening_kms, b_floor)
        start = np.array([velocity_kms, width, velocity_kms + offset, width])
        lower = [velocity_kms - 5 * fwhm_v, b_floor, velocity_kms - 8 * fwhm_v, b_floor]
        upper = [velocity_kms + 5 * fwhm_v, 500.0, velocity_kms + 8 * fwhm_v, 500.0]
    start = np.clip(start, np.array(lower) + 1e-6, np.array(upper) - 1e-6)

    def kinematics(p):
        return p[0::2][None, :], p[1::2][None, :]

    def residual(p):
        v, b = kinematics(p)
        return y - solve_amplitudes(y[None, :], x, v, b, fwhm_cm1).model[0]

    result = least_squares(residual, start, bounds=(lower, upper), x_scale=[fwhm_v, 10.0] * components,
                           diff_step=1e-4, max_nfev=60 * (components + 1))
    v, b = kinematics(result.x)
    fit = solve_amplitudes(y[None, :], x, v, b, fwhm_cm1)
    amplitudes = fit.amplitudes[0]
    # the continuum basis is normalised on the fitted channels' span: evaluate the model there
    model = np.full(axis.shape, np.nan)
    span = (axis >= x.min()) & (axis <= x.max())
    model[span] = model_spectrum(axis[span], v[0], b[0], fwhm_cm1, amplitudes, fit.continuum[0])
    return {"velocity_kms": v[0], "broadening_kms": b[0], "amplitudes": amplitudes,
            "continuum": fit.continuum[0], "model": model, "chi2": float(fit.chi2[0]),
            "success": bool(result.success)}
