"""What the network sees and says: the unit OH sky handed to prepare(), the instrumental line
width of the models that read it, the prediction, and its velocities composed with the systemic
velocity into the observed frame."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mirabelle.inference.model import DEFAULT_BATCH, KinematicsModel
from mirabelle.inference.preprocess import prepare
from mirabelle.lines import compose_velocities, composed_velocity_error, doppler_factor
from mirabelle.lines.sky import sky_on_axes


FWHM_BIN = 0.002
"""Relative width of the FWHM bins of the sky template (0.2 %): each pixel gets the template of
its own bin, so the result does not depend on which pixels share a tile."""


def unit_sky(model: KinematicsModel, axis_cm1, fwhm_cm1) -> tuple[np.ndarray, np.ndarray] | None:
    """The unit OH sky on ``axis_cm1`` ((nchan,) or (N, nchan)) for a model that fits the sky
    (card ``input.sky == "fit"``), each spectrum's at its FWHM rounded to ``FWHM_BIN``: (K, nchan)
    templates and (N,) the template of each spectrum — one per FWHM bin on a common axis
    (kept between tiles), one per spectrum on per-pixel axes; None for other models or without
    a FWHM."""
    if fwhm_cm1 is None or model.card["input"].get("sky") != "fit":
        return None
    axis = np.asarray(axis_cm1, dtype=np.float64)
    fwhm = np.atleast_1d(np.asarray(fwhm_cm1, dtype=np.float64))
    n = fwhm.size if axis.ndim == 1 else axis.shape[0]
    fwhm = np.broadcast_to(fwhm, (n,))
    bins, index = np.unique(np.round(np.log(np.where(fwhm > 0, fwhm, 1.0)) / FWHM_BIN), return_inverse=True)
    if axis.ndim == 1:
        key = axis.tobytes()
        return np.stack([_sky_on_common_axis(key, float(value)) for value in bins]), index
    out = np.empty((n, axis.shape[-1]), np.float32)
    for k, value in enumerate(bins):
        rows = np.nonzero(index == k)[0]
        out[rows] = sky_on_axes(axis[rows], float(np.exp(value * FWHM_BIN)))
    return out, np.arange(n)


@lru_cache(maxsize=256)
def _sky_on_common_axis(axis_bytes: bytes, fwhm_bin: float) -> np.ndarray:
    """:func:`sky_on_axes` on a common axis (its float64 bytes) at one FWHM bin, float32: every tile of
    a calibrated cube shares it."""
    sky = sky_on_axes(np.frombuffer(axis_bytes), float(np.exp(fwhm_bin * FWHM_BIN))).astype(np.float32)
    sky.flags.writeable = False
    return sky


def network_input(card: dict, values, axis_cm1, vsys_kms=0.0, sky=None, sky_index=None, fwhm_cm1=None) -> np.ndarray:
    """What the network reads: :func:`~mirabelle.inference.preprocess.prepare`'s (N, L) spectra
    and, for cards with ``input.fwhm_input``, one more column: each spectrum's sinc FWHM in model
    channels of the network frame (``fwhm_cm1`` observed, a number or (N,); ``vsys_kms`` a number
    or (N,)). Given the width the instrument makes, the network need not guess the resolving
    power from the line shape: over R 3700-6000 that guess cost ~8 % of the broadening RMSE."""
    x = prepare(values, axis_cm1, card, vsys_kms, sky, sky_index)
    if not card["input"].get("fwhm_input"):
        return x
    if fwhm_cm1 is None:
        raise ValueError(f"model {card.get('name')} reads the instrumental FWHM: fwhm_cm1 is required")
    step = float(card["input"]["axis_cm1"][1])
    fwhm = np.broadcast_to(np.asarray(fwhm_cm1, dtype=np.float64), (x.shape[0],))
    channels = fwhm / np.asarray(doppler_factor(vsys_kms), dtype=np.float64) / step  # observed -> network frame
    return np.concatenate([x, channels.astype(np.float32)[:, None]], axis=1)


def predict_kinematics(model: KinematicsModel, values, axis_cm1, vsys_kms: float = 0.0,
                       fwhm_cm1=None, batch: int = DEFAULT_BATCH) -> np.ndarray:
    """Network kinematics of spectra ``values`` (N, nchan) on ``axis_cm1`` (cm⁻¹, observed),
    seen from the systemic velocity ``vsys_kms``: (N, 4) float32 velocity, broadening and
    their 1-sigma errors (km/s), the velocity in the observed frame.

    ``fwhm_cm1`` (sinc FWHM, a number or (N,)): for models that subtract the OH sky, the
    unit sky at each spectrum's FWHM bin (:func:`unit_sky`) is handed to prepare(); models that
    read the FWHM (:func:`network_input`) require it.
    """
    sky, sky_index = unit_sky(model, axis_cm1, fwhm_cm1) or (None, None)
    out = model.predict(network_input(model.card, values, axis_cm1, vsys_kms, sky, sky_index, fwhm_cm1), batch=batch)
    if vsys_kms:
        velocity = out[:, 0].astype(np.float64)
        out[:, 2] = composed_velocity_error(vsys_kms, velocity, out[:, 2])
        out[:, 0] = compose_velocities(vsys_kms, velocity)
    return out
