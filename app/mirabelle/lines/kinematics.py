"""Velocity and broadening (km/s) <-> line position and gaussian sigma (cm⁻¹), relativistic as in ORB."""

from __future__ import annotations

import numpy as np

from mirabelle.lines.constants import C_KMS


def line_position_cm1(rest_nm, velocity_kms):
    """Observed wavenumber (cm⁻¹) of a line of air rest wavelength ``rest_nm`` at ``velocity_kms``.

    ``σ_obs = σ_rest · sqrt((1 − β)/(1 + β))``, β = v/c, positive velocity = receding.
    Broadcasts over both arguments.
    """
    beta = np.asarray(velocity_kms, dtype=float) / C_KMS
    return 1e7 / np.asarray(rest_nm, dtype=float) * np.sqrt((1.0 - beta) / (1.0 + beta))


def velocity_from_position(rest_nm, position_cm1):
    """Velocity (km/s) that puts a line of rest wavelength ``rest_nm`` at ``position_cm1``."""
    r = (1e7 / np.asarray(rest_nm, dtype=float) / np.asarray(position_cm1, dtype=float)) ** 2
    return C_KMS * (r - 1.0) / (r + 1.0)


def sigma_cm1(position_cm1, broadening_kms):
    """Gaussian sigma (cm⁻¹) of a line at ``position_cm1`` broadened by ``broadening_kms``."""
    return np.asarray(position_cm1, dtype=float) * np.asarray(broadening_kms, dtype=float) / C_KMS


def broadening_from_sigma(position_cm1, sigma_cm1_):
    """Broadening (km/s, gaussian sigma) from a sigma in cm⁻¹ at ``position_cm1``."""
    return np.asarray(sigma_cm1_, dtype=float) / np.asarray(position_cm1, dtype=float) * C_KMS


def doppler_factor(velocity_kms):
    """Observed over emitted wavenumber, ``sqrt((1 − β)/(1 + β))``, of a source at ``velocity_kms``."""
    beta = np.asarray(velocity_kms, dtype=float) / C_KMS
    return np.sqrt((1.0 - beta) / (1.0 + beta))


def compose_velocities(frame_kms, velocity_kms):
    """Observed velocity (km/s) of a source moving at ``velocity_kms`` in a frame that itself
    recedes at ``frame_kms`` (the systemic velocity): relativistic addition
    ``β = (β_frame + β_v) / (1 + β_frame β_v)``, so that the Doppler factors multiply as in ORB."""
    b1 = np.asarray(frame_kms, dtype=float) / C_KMS
    b2 = np.asarray(velocity_kms, dtype=float) / C_KMS
    return C_KMS * (b1 + b2) / (1.0 + b1 * b2)


def composed_velocity_error(frame_kms, velocity_kms, error_kms):
    """1-sigma error (km/s) of :func:`compose_velocities` given the error of ``velocity_kms``:
    the derivative ``(1 − β_frame²) / (1 + β_frame β_v)²`` times ``error_kms``."""
    b1 = np.asarray(frame_kms, dtype=float) / C_KMS
    b2 = np.asarray(velocity_kms, dtype=float) / C_KMS
    return np.asarray(error_kms, dtype=float) * (1.0 - b1 * b1) / (1.0 + b1 * b2) ** 2
