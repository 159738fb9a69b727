"""What the network sees and says: the unit OH sky handed to prepare(), the prediction, and its
velocities composed with the systemic velocity into the observed frame."""

from __future__ import annotations

import numpy as np

from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.preprocess import prepare
from mirabelle.lines import compose_velocities, composed_velocity_error
from mirabelle.lines.sky import sky_on_axes


FWHM_BIN = 0.002
"""Relative width of the FWHM bins of the sky template (0.2 %): each pixel gets the template of
its own bin, so the result does not depend on which pixels share a tile."""


def unit_sky(model: KinematicsModel, axis_cm1, fwhm_cm1) -> np.ndarray | None:
    """The unit OH sky on ``axis_cm1`` ((nchan,) or (N, nchan)) for a model that fits the sky
    (card ``input.sky == "fit"``), one row per spectrum at its FWHM rounded to ``FWHM_BIN``;
    None for other models or without a FWHM."""
    if fwhm_cm1 is None or model.card["input"].get("sky") != "fit":
        return None
    axis = np.asarray(axis_cm1, dtype=np.float64)
    fwhm = np.atleast_1d(np.asarray(fwhm_cm1, dtype=np.float64))
    n = fwhm.size if axis.ndim == 1 else axis.shape[0]
    fwhm = np.broadcast_to(fwhm, (n,))
    bins = np.round(np.log(np.where(fwhm > 0, fwhm, 1.0)) / FWHM_BIN)
    out = np.empty((n, axis.shape[-1]), np.float32)
    for value in np.unique(bins):
        rows = np.nonzero(bins == value)[0]
        out[rows] = sky_on_axes(axis if axis.ndim == 1 else axis[rows], float(np.exp(value * FWHM_BIN)))
    return out


def predict_kinematics(model: KinematicsModel, values, axis_cm1, vsys_kms: float = 0.0,
                       fwhm_cm1=None, batch: int = DEFAULT_BATCH) -> np.ndarray:
    """Network kinematics of spectra ``values`` (N, nchan) on ``axis_cm1`` (cm⁻¹, observed),
    seen from the systemic velocity ``vsys_kms``: (N, 4) float32 velocity, broadening and
    their 1-sigma errors (km/s), the velocity in the observed frame.

    ``fwhm_cm1`` (sinc FWHM, a number or (N,)): for models that subtract the OH sky, the
    unit sky spectrum at its mean (:func:`unit_sky`) is handed to prepare().
    """
    sky = unit_sky(model, axis_cm1, fwhm_cm1)
    out = model.predict(prepare(values, axis_cm1, model.card, vsys_kms, sky), batch=batch)
    if vsys_kms:
        velocity = out[:, 0].astype(np.float64)
        out[:, 2] = composed_velocity_error(vsys_kms, velocity, out[:, 2])
        out[:, 0] = compose_velocities(vsys_kms, velocity)
    return out
