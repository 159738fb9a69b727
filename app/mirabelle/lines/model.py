"""Spectrum models of 1 or 2 kinematic components and the linear solve of line amplitudes.

Given velocity and broadening, a spectrum is linear in the line amplitudes and the
continuum, so those are solved exactly (batched normal equations) rather than fitted.
Free amplitudes per component: Hα, the [NII] doublet (6548 tied to 6583 by
``NII_AMPLITUDE_RATIO``), [SII]6716, [SII]6731. Per-line arrays follow ``LINE_NAMES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.lines.constants import LINE_NAMES, NII_AMPLITUDE_RATIO, REST_NM
from mirabelle.lines.kinematics import line_position_cm1, sigma_cm1
from mirabelle.lines.profiles import sincgauss, sincgauss_flux

REST = np.array([REST_NM[name] for name in LINE_NAMES])
# Free amplitude -> per-line amplitude (5 lines x 4 free): [NII]6548 follows [NII]6583.
FREE_TO_LINES = np.array([
    [0, 1 / NII_AMPLITUDE_RATIO, 0, 0],
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
])


@dataclass
class LineFit:
    """Result of :func:`solve_amplitudes` for N spectra and C components.

    amplitudes: (N, C, 5) peak amplitudes per line (``LINE_NAMES`` order), spectrum units;
    continuum: (N, degree + 1) polynomial coefficients in ``(axis − centre)/half_width``;
    model: (N, nchan) best model; chi2: (N,) sum of squared weighted residuals;
    n_used: (N,) number of finite channels; n_params: free parameters of the linear model.
    """

    amplitudes: np.ndarray
    continuum: np.ndarray
    model: np.ndarray
    chi2: np.ndarray
    n_used: np.ndarray
    n_params: int


def _as_components(values, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full((n, 1), float(arr))
    elif arr.ndim == 1:
        arr = arr[:, None]
    return np.broadcast_to(arr, (n, arr.shape[1]))


def line_templates(axis_cm1, velocity_kms, broadening_kms, fwhm_cm1) -> np.ndarray:
    """Unit-peak profiles of the five lines for each spectrum and component.

    axis_cm1: (nchan,) or (N, nchan); velocity_kms, broadening_kms: (N,) or (N, C) km/s;
    fwhm_cm1: scalar or (N,). Returns (N, C, 5, nchan).
    """
    axis = np.atleast_2d(np.asarray(axis_cm1, dtype=float))
    velocity = np.asarray(velocity_kms, dtype=float)
    n = velocity.shape[0] if velocity.ndim else axis.shape[0]
    velocity = _as_components(velocity, n)
    broadening = _as_components(broadening_kms, n)
    fwhm = np.broadcast_to(np.asarray(fwhm_cm1, dtype=float), (n,))
    position = line_position_cm1(REST, velocity[..., None])  # (N, C, 5)
    sigma = sigma_cm1(position, broadening[..., None])
    return sincgauss(axis[:, None, None, :], position[..., None], fwhm[:, None, None, None], sigma[..., None])


def _continuum_basis(axis: np.ndarray, degree: int) -> np.ndarray:
    centre = 0.5 * (axis[..., :1] + axis[..., -1:])
    half = np.maximum(0.5 * (axis[..., -1:] - axis[..., :1]), 1e-12)
    t = (axis - centre) / half
    return np.stack([t**k for k in range(degree + 1)], axis=-1)


def solve_amplitudes(spectra, axis_cm1, velocity_kms, broadening_kms, fwhm_cm1,
                     continuum_degree: int = 1, templates: np.ndarray | None = None) -> LineFit:
    """Least-squares line amplitudes and continuum at fixed kinematics.

    spectra: (N, nchan), NaN channels ignored; axis_cm1: (nchan,) or (N, nchan) cm⁻¹;
    velocity_kms/broadening_kms: (N,) for one component or (N, C); fwhm_cm1: scalar or (N,).
    ``templates`` (from :func:`line_templates`) may be passed to reuse them.
    """
    spectra = np.atleast_2d(np.asarray(spectra, dtype=float))
    n, nchan = spectra.shape
    axis = np.broadcast_to(np.asarray(axis_cm1, dtype=float), (n, nchan))
    if templates is None:
        templates = line_templates(axis, velocity_kms, broadening_kms, fwhm_cm1)
    ncomp = templates.shape[1]
    free = np.einsum("nclk,lf->ncfk", templates, FREE_TO_LINES).reshape(n, ncomp * 4, nchan)
    cont = np.moveaxis(_continuum_basis(axis, continuum_degree), -1, 1)  # (N, deg+1, nchan)
    design = np.concatenate([free, cont], axis=1)  # (N, k, nchan)
    good = np.isfinite(spectra)
    y = np.where(good, spectra, 0.0)
    dw = design * good[:, None, :]
    normal = np.einsum("nkc,njc->nkj", dw, dw)
    k = normal.shape[-1]
    # A tiny ridge keeps empty or degenerate spectra (lines off the axis) solvable.
    normal += np.eye(k) * (1e-10 * np.trace(normal, axis1=1, axis2=2)[:, None, None] / k + 1e-30)
    coef = np.linalg.solve(normal, np.einsum("nkc,nc->nk", dw, y)[..., None])[..., 0]
    model = np.einsum("nkc,nk->nc", design, coef)
    chi2 = np.sum(np.where(good, spectra - model, 0.0) ** 2, axis=1)
    free_coef = coef[:, : ncomp * 4].reshape(n, ncomp, 4)
    amplitudes = np.einsum("lf,ncf->ncl", FREE_TO_LINES, free_coef)
    return LineFit(amplitudes, coef[:, ncomp * 4:], model, chi2, good.sum(axis=1), k)


def model_spectrum(axis_cm1, velocity_kms, broadening_kms, fwhm_cm1, amplitudes, continuum=(0.0,)):
    """Model spectrum of C components on ``axis_cm1`` (nchan,): returns (nchan,).

    velocity_kms, broadening_kms: scalars or (C,); amplitudes: (5,) or (C, 5);
    continuum: polynomial coefficients as in :class:`LineFit`.
    """
    axis = np.asarray(axis_cm1, dtype=float)
    velocity = np.atleast_1d(np.asarray(velocity_kms, dtype=float))[None, :]
    broadening = np.atleast_1d(np.asarray(broadening_kms, dtype=float))[None, :]
    templates = line_templates(axis[None, :], velocity, broadening, fwhm_cm1)[0]  # (C, 5, nchan)
    amps = np.asarray(amplitudes, dtype=float).reshape(templates.shape[0], 5)
    coef = np.asarray(continuum, dtype=float)
    basis = _continuum_basis(axis, len(coef) - 1)
    return np.einsum("clk,cl->k", templates, amps) + basis @ coef


def line_fluxes(amplitudes, velocity_kms, broadening_kms, fwhm_cm1):
    """Fluxes (amplitude units × cm⁻¹) of the five lines, shape of ``amplitudes`` (..., 5).

    velocity_kms, broadening_kms, fwhm_cm1 broadcast against ``amplitudes[..., 0]``.
    """
    amplitudes = np.asarray(amplitudes, dtype=float)
    position = line_position_cm1(REST, np.asarray(velocity_kms, dtype=float)[..., None])
    sigma = sigma_cm1(position, np.asarray(broadening_kms, dtype=float)[..., None])
    return sincgauss_flux(amplitudes, np.asarray(fwhm_cm1, dtype=float)[..., None], sigma)
