"""Saliency of one spectrum as in Rhea et al. (2020): perturb one input channel at a time.

The prepared spectrum (model input, line peak normalised to 1, seen from the systemic velocity
and with the OH sky fitted as the maps' network saw it) is copied L times, copy i
has channel i raised by ``PERTURBATION``, and the batch of L + 1 rows goes through the
network in one call. The weight of channel i is the change of the outputs, each measured
in units of the model's own 1-sigma uncertainty at this spectrum:
``sqrt((Δv/σ_v)² + (Δb/σ_b)²)``, divided by its maximum (0..1). The paper draws points
above 0.25 of the maximum on the spectrum.
"""

from __future__ import annotations

import numpy as np

from mirabelle.inference.model import KinematicsModel
from mirabelle.inference.network import network_input, unit_sky
from mirabelle.lines import doppler_factor

PERTURBATION = 0.05
"""Added to one normalised input channel (the line peak is 1)."""
DRAW_THRESHOLD = 0.25
"""Weights below this are not drawn (the paper's figure)."""


def saliency(model: KinematicsModel, axis_cm1: np.ndarray, values: np.ndarray, vsys_kms: float = 0.0,
             fwhm_cm1: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel saliency of one spectrum.

    Parameters
    ----------
    model : KinematicsModel
    axis_cm1 : ndarray (nchan,)
        The spectrum's own wavenumber axis, cm⁻¹.
    values : ndarray (nchan,)
        The spectrum (NaN allowed).
    vsys_kms, fwhm_cm1 : float
        The systemic velocity the maps' network saw the spectrum from (km/s) and the pixel's
        sinc FWHM (cm⁻¹, for models that fit the OH sky or read the FWHM), as
        ``predict_kinematics`` takes them.

    Returns
    -------
    axis_points_cm1 : ndarray (M,)
        Observed wavenumbers (cm⁻¹, the spectrum's frame) of the model input channels that
        fall on the spectrum's axis.
    weights : ndarray (M,) float32
        Saliency 0..1 (all 0 when no channel changes the output).
    """
    axis = np.asarray(axis_cm1, dtype=np.float64)
    sky, sky_index = unit_sky(model, axis, fwhm_cm1) or (None, None)
    prepared = network_input(model.card, np.asarray(values, dtype=np.float32)[None, :], axis, vsys_kms, sky,
                             sky_index, fwhm_cm1)
    length = model.input_length  # the spectrum's channels (a FWHM column after them is not perturbed)
    batch = np.repeat(prepared, length + 1, axis=0)
    batch[np.arange(1, length + 1), np.arange(length)] += np.float32(PERTURBATION)
    out = model.predict(batch, batch=length + 1).astype(np.float64)
    base = out[0]
    scale = np.where(np.isfinite(base[2:4]) & (base[2:4] > 0), base[2:4], 1.0)
    change = np.hypot((out[1:, 0] - base[0]) / scale[0], (out[1:, 1] - base[1]) / scale[1])
    peak = change.max()
    weights = (change / peak if peak > 0 else np.zeros_like(change)).astype(np.float32)
    points = model.axis_cm1 * float(doppler_factor(vsys_kms))  # the input channels, observed
    inside = (points >= axis.min()) & (points <= axis.max())
    return points[inside], weights[inside]
