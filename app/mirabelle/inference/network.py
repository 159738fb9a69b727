"""What the network sees and says: the unit OH sky handed to prepare(), the prediction, and its
velocities composed with the systemic velocity into the observed frame."""

from __future__ import annotations

import numpy as np

from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.preprocess import prepare
from mirabelle.lines import compose_velocities, composed_velocity_error
from mirabelle.lines.sky import sky_on_axes


def unit_sky(model: KinematicsModel, axis_cm1, fwhm_cm1) -> np.ndarray | None:
    """The unit OH sky on ``axis_cm1`` ((nchan,) or (N, nchan)) at the mean of ``fwhm_cm1`` for a
    model that fits the sky (card ``input.sky == "fit"``); None for other models or no FWHM."""
    if fwhm_cm1 is None or model.card["input"].get("sky") != "fit":
        return None
    return sky_on_axes(axis_cm1, float(np.nanmean(fwhm_cm1)))


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
