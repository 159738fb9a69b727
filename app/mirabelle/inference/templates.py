"""Channel-sampled sincgauss templates read from a table, for the whole-cube line solves.

On a uniform axis ``σ_k = a₀ + k·Δσ`` a unit-peak sincgauss line centred at fractional
channel ``c = (σ₀ − a₀)/Δσ = k₀ + φ`` takes at channel ``k₀ + j`` the value
``f((j − φ)·Δσ/fwhm, sigma/fwhm)``. This module tabulates that for a grid of phases φ,
ratios ``r = sigma/fwhm`` and channel-width ratios ``d = Δσ/fwhm`` (one value per
uncalibrated cube, a narrow range per calibrated cube), so a template over a window of
channels is one contiguous read of a table row. Nearest-grid errors: a phase of 1/64
channel (≈ 0.7 km/s at R 5000), r within 0.01, d within 0.2 %: amplitudes change by
less than 0.5 % of the peak. Rows are built with :func:`mirabelle.lines.fast.fast_sincgauss`.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mirabelle.lines.fast import fast_sincgauss

N_PHASE = 32
"""Phase steps per channel."""
R_STEP = 0.02
"""Grid step of r = sigma / fwhm."""
D_REL_STEP = 0.004
"""Relative grid step of d = channel width / fwhm."""


class ChannelProfiles:
    """Table of unit-peak line profiles sampled at whole channels around the line.

    Parameters
    ----------
    d_range : (float, float)
        Smallest and largest channel width over sinc FWHM in the cube.
    r_max : float
        Largest sigma/fwhm needed; larger ratios read the last row.
    half_width : int
        J: templates cover channels ``k₀ − J … k₀ + J`` of the line's reference channel.

    Notes
    -----
    Rows are ordered (d, r, phase) with one padding phase on each side and one padding r
    on each side, so that neighbouring rows give finite differences in position and width
    (:meth:`row_index` steps ``PHASE_STRIDE`` and ``self.r_stride``).
    """

    PHASE_STRIDE = 1

    def __init__(self, d_range: tuple[float, float], r_max: float, half_width: int):
        d_lo, d_hi = float(min(d_range)), float(max(d_range))
        self.n_d = max(1, int(np.ceil(np.log(d_hi / d_lo) / np.log1p(D_REL_STEP))) + 1)
        self.d_lo = d_lo
        self.d_values = d_lo * (1.0 + D_REL_STEP) ** np.arange(self.n_d)
        self.n_r = int(np.ceil(r_max / R_STEP)) + 1
        self.half_width = int(half_width)
        self.row_length = 2 * self.half_width + 1
        phases = (np.arange(-1, N_PHASE + 1)) / N_PHASE  # padded: -1/N .. 1
        ratios = np.arange(-1, self.n_r + 1) * R_STEP  # padded; the profile is even in r
        self.r_stride = phases.size
        self.d_stride = ratios.size * phases.size
        # In channel units: axis j, centre φ, sinc FWHM 1/d, sigma r/d; rows (d, r), lines φ.
        # Blocks (d, r) are built when a line first reads them: a run needs the ratios its
        # broadenings reach, and the workers build them instead of the run's start.
        self._j = np.arange(-self.half_width, self.half_width + 1, dtype=float)
        self._phases = phases
        self._block_d = np.repeat(self.d_values, ratios.size)
        self._block_r = np.tile(np.abs(ratios), self.n_d)
        self._built = np.zeros(self._block_d.size, bool)
        self._lock = threading.Lock()
        self.flat = np.zeros(self.n_d * self.d_stride * self.row_length, np.float32)

    def _build(self, flat_index: np.ndarray) -> None:
        """Fill the (d, r) blocks holding the table values ``flat_index`` that are not built yet."""
        needed = np.zeros(self._built.size, bool)
        needed[flat_index.ravel() // (self.r_stride * self.row_length)] = True
        needed &= ~self._built
        if not needed.any():
            return
        with self._lock:
            blocks = np.flatnonzero(needed & ~self._built)
            if blocks.size == 0:
                return
            d, r = self._block_d[blocks], self._block_r[blocks]
            rows = fast_sincgauss(self._j, np.broadcast_to(self._phases, (blocks.size, self._phases.size)),
                                  1.0 / d, (r / d)[:, None]).astype(np.float32)
            size = self.r_stride * self.row_length
            for block, values in zip(blocks, rows.reshape(blocks.size, size)):
                self.flat[block * size:(block + 1) * size] = values
            self._built[blocks] = True

    def locate(self, centre_channel: np.ndarray, ratio: np.ndarray, d: np.ndarray):
        """Reference channel and table row of lines.

        Parameters
        ----------
        centre_channel : ndarray (...)
            Fractional channel index of each line centre.
        ratio : ndarray (...)
            sigma / fwhm of each line.
        d : ndarray broadcasting against the others
            Channel width / fwhm.

        Returns
        -------
        k0 : ndarray int64 (...)
            Reference channel (nearest-phase floor of the centre).
        row : ndarray int64 (...)
            Flat index of the table value for ``j = 0`` in that line's row.
        """
        scaled = np.asarray(centre_channel, dtype=np.float64) * N_PHASE
        nearest = np.rint(scaled).astype(np.int64)
        k0 = nearest // N_PHASE
        phase = nearest - k0 * N_PHASE
        r_index = np.clip(np.rint(np.asarray(ratio) / R_STEP).astype(np.int64), 0, self.n_r - 1)
        d_index = np.clip(np.rint(np.log(np.asarray(d) / self.d_lo) / np.log1p(D_REL_STEP)).astype(np.int64),
                          0, self.n_d - 1)
        row = d_index * self.d_stride + (r_index + 1) * self.r_stride + (phase + 1)
        return k0, row * self.row_length + self.half_width

    def gather(self, row: np.ndarray, first: np.ndarray, length: int, shift: int = 0) -> np.ndarray:
        """Template values on ``length`` channels starting ``first`` channels from ``k₀``.

        Parameters
        ----------
        row : ndarray int64 (...)
            From :meth:`locate`.
        first : ndarray int64 (...)
            First channel of the window minus the line's ``k₀``; clipped to the table.
        length : int
            Window length in channels.
        shift : int
            Row offset: ``±PHASE_STRIDE`` or ``±r_stride`` reads a neighbouring phase or
            width, for finite differences.

        Returns
        -------
        ndarray float32 (..., length)
        """
        first = np.clip(first, -self.half_width, self.half_width - length + 1)
        start = (row + shift * self.row_length) + first
        self._build(start)
        # Whole rows of a sliding-window view: one contiguous copy per template.
        return sliding_window_view(self.flat, length)[start]
