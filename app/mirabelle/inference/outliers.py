"""Low-SNR velocities that their neighbours contradict (the network's failures at low SNR).

At low Hα SNR the network sometimes takes [NII]6583 or [NII]6548 for Hα, and its velocity
is then off by the separation of the two lines (about +940 or −670 km/s), or it locks onto
noise hundreds of km/s away. Measured on 64 × 64 synthetic cubes at median Hα SNR 8: at
R5000, 4 of 3106 valid pixels (fitted Hα SNR 3.3–4.8) took the velocity RMSE from 5.5 to
29 km/s; at R3000 one pixel 535 km/s off did most of 21 km/s. One spectrum cannot tell which
line it holds when only one is detected; its neighbours can. A pixel of Hα SNR below
``MAX_SNR`` whose velocity sits one such separation, or more than ``MAX_OFFSET_KMS``, from the
median of its valid neighbours, in a field smooth around it, has no usable prior (the
``OUTLIER`` quality bit); bright pixels are left alone, so real high-velocity features keep
their priors. Computed per tile from the tile's own pixels, so the maps do not depend on where
the tiles were computed.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mirabelle.lines import REST_NM, line_position_cm1, velocity_from_position

HALF_WINDOW = 2
"""Neighbours within ± this many pixels (a 5 × 5 window)."""
MIN_NEIGHBOURS = 5
"""Valid neighbours needed for a median to judge by."""
MAX_SPREAD_KMS = 100.0
"""Median absolute deviation of the neighbours above which the field is too rough to judge."""
TOLERANCE_KMS = 150.0
"""How close to an alias separation the offset from the neighbours must be."""
MAX_OFFSET_KMS = 300.0
"""Any larger offset from the neighbours is an outlier too."""
MAX_SNR = 6.0
"""Only pixels of lower Hα SNR are judged."""
CONFUSED_LINES = ("NII6583", "NII6548")
"""Lines the network takes for Hα."""


def velocity_outliers(velocity_kms: np.ndarray, snr_halpha: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(tx, ty) bool: valid pixels of low Hα SNR whose velocity (km/s, observed) the median of
    their valid neighbours contradicts (module docstring)."""
    valid = np.asarray(valid, bool) & np.isfinite(velocity_kms)
    flagged = np.zeros(valid.shape, bool)
    if valid.sum() <= MIN_NEIGHBOURS:
        return flagged
    size = 2 * HALF_WINDOW + 1
    values = np.pad(np.where(valid, velocity_kms, np.inf).astype(np.float64), HALF_WINDOW, constant_values=np.inf)
    windows = sliding_window_view(values, (size, size)).reshape(valid.shape + (size * size,)).copy()
    windows[..., size * size // 2] = np.inf  # the pixel itself
    median, count = _finite_median(windows)
    spread, _ = _finite_median(np.abs(windows - median[..., None]))
    judged = valid & (count >= MIN_NEIGHBOURS) & (spread < MAX_SPREAD_KMS) & ~(snr_halpha >= MAX_SNR)
    if not judged.any():
        return flagged
    offset = velocity_kms[judged] - median[judged]
    contradicted = np.abs(offset) > MAX_OFFSET_KMS
    for line in CONFUSED_LINES:  # Hα read where this line of a neighbour-like velocity sits
        alias = velocity_from_position(REST_NM["Halpha"], line_position_cm1(REST_NM[line], median[judged]))
        contradicted |= np.abs(offset - (alias - median[judged])) < TOLERANCE_KMS
    flagged[judged] = contradicted
    return flagged


def _finite_median(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over the last axis of its finite values (inf and NaN left out), and their count."""
    windows = np.where(np.isfinite(windows), windows, np.inf)
    ordered = np.sort(windows, axis=-1)
    count = np.isfinite(windows).sum(axis=-1)
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[..., None] // 2, axis=-1)[..., 0]
    high = np.take_along_axis(ordered, (count // 2)[..., None], axis=-1)[..., 0]
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, 0.5 * (low + high), np.nan), count
