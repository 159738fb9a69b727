"""Vectorised line amplitudes, Hα SNR and double-component score at given kinematics.

For N spectra on uniform wavenumber axes, with velocity and broadening fixed (the CNN's),
the spectrum is linear in the line amplitudes: two channel windows are solved exactly,
window A = [NII]6548 + Hα + [NII]6583 (free: Hα, [NII] with 6548 tied at
``1/NII_AMPLITUDE_RATIO``, a constant continuum and stellar Hα absorption troughs, gaussians
of ``TROUGH_SIGMA_ANGSTROM`` at Hα, where they are much wider than the lines) and window B = the
[SII] doublet (free: 6716, 6731, a constant continuum), each a batched normal-equation solve on
templates read from :class:`~mirabelle.inference.templates.ChannelProfiles`. Without the
troughs, a stellar continuum of 5 × Hα with its absorption left 89-96 % of a cube's pixels with a
valid prior (the absorption lowered Hα or read as an absorption line); with them, 99.5-100 %.

Noise ``σ``: RMS of the first differences of the spectrum over channels no line can reach
(velocity range + margins), divided by √2 (per channel, spectrum units); Hα SNR = Hα
amplitude / σ.

Double-component score, on the channels around Hα (continuum and [NII] of the fit
subtracted), where the Hα SNR reaches ``MIN_SNR_DOUBLE``: Hα templates of the given width
on a velocity grid around the given velocity (± ``OFFSET_REACH_FWHM`` instrumental
velocity FWHMs ``c/R``, steps of ``OFFSET_STEP_FWHM``). ``M1`` = the best single
template, ``M2`` = the best pair straddling the given velocity (separations
``PAIR_SEPARATION_FWHM``), amplitudes positive, solved exactly. With ``Δχ² = χ²(M1) −
χ²(M2)``, ``ΔAIC = Δχ²/σ² − 4`` (two more parameters: an amplitude and a velocity) and the
score is ``1 − exp(−max(ΔAIC, 0)/2)``, one minus the paper's relative likelihood of the
simpler model: 0 = one component suffices, → 1 = two components are much better. The
fainter member of the best pair gives ``double_offset_kms``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mirabelle.inference.templates import ChannelProfiles
from mirabelle.lines import C_KMS, LINE_NAMES, NII_AMPLITUDE_RATIO, REST_NM, line_fluxes, line_position_cm1

REST = np.array([REST_NM[name] for name in LINE_NAMES])
GROUP_A = (0, 1, 2)  # [NII]6548, Hα, [NII]6583
GROUP_B = (3, 4)  # [SII]6716, [SII]6731
HALPHA = 1
OFFSET_STEP_FWHM = 0.5
"""Step of the velocity grid of the double-component test, in instrumental velocity FWHMs c/R."""
OFFSET_REACH_FWHM = 2.5
"""The grid spans ± this many velocity FWHMs around the given velocity."""
PAIR_SEPARATION_FWHM = (0.75, 3.0)
"""Separations of the two components tried, in velocity FWHMs."""
NOISE_CHANNELS = 96
"""About this many line-free channel differences estimate the noise."""
MIN_SNR_DOUBLE = 3.0
"""The double score is computed only where the Hα SNR reaches this (0 elsewhere)."""
MARGIN_FWHM = 3.0
"""Window margin beyond the outermost line centres, in sinc FWHMs (plus 3 gaussian sigmas)."""


ABSORPTION_SNR = 5.0
"""A dip below the continuum deeper than this many noise levels (and than any peak) is absorption."""
TROUGH_SIGMA_ANGSTROM = (6.0, 15.0)
"""Gaussian sigmas of the stellar Hα absorption troughs fitted in window A (stellar: 5-25 Å)."""
TROUGH_MIN_FWHM = 3.0
"""A trough is fitted only where it is this many sinc FWHMs wide (R ≳ 3300 at 6 Å, 1300 at 15 Å)."""


@dataclass
class LineSolution:
    """Per-spectrum results of :meth:`LineSolver.solve` (N spectra).

    amplitudes, fluxes : (N, 5) float32, peak amplitudes (spectrum units) and fluxes
        (spectrum units × cm⁻¹) in ``LINE_NAMES`` order;
    noise : (N,) float32 noise per channel (spectrum units, module docstring); snr_halpha : (N,) float32,
        negative where absorption dominates the Hα window (see ``_absorption_snr``);
    edge : (N,) bool, a line window was cut by the end of the spectrum;
    continuum : (N, 2) float32, the constant continuum of window A (Hα + [NII], beside its
        stellar troughs) and of window B ([SII]), spectrum units;
    double_score : (N,) float32 in 0..1; double_offset_kms : (N,) float32, velocity of the
        best second component relative to the given velocity (km/s).
    """

    amplitudes: np.ndarray
    fluxes: np.ndarray
    noise: np.ndarray
    snr_halpha: np.ndarray
    edge: np.ndarray
    double_score: np.ndarray
    double_offset_kms: np.ndarray
    continuum: np.ndarray


def _line_span_cm1(lines: tuple[int, ...], velocity_kms: float) -> float:
    position = line_position_cm1(REST[list(lines)], velocity_kms)
    return float(position.max() - position.min())


class LineSolver:
    """Window sizes and template table for one cube and one model.

    Parameters
    ----------
    step_range_cm1 : (float, float)
        Smallest and largest channel width (cm⁻¹) over the cube's pixels.
    fwhm_range_cm1 : (float, float)
        Smallest and largest sinc FWHM (cm⁻¹) over the cube's pixels.
    velocity_range_kms, broadening_range_kms : (float, float)
        Kinematics the solver must handle (the model's training ranges); values outside
        are clipped for the templates only.
    """

    def __init__(self, step_range_cm1, fwhm_range_cm1, velocity_range_kms, broadening_range_kms):
        step_lo, step_hi = (float(v) for v in step_range_cm1)
        fwhm_lo, fwhm_hi = (float(v) for v in fwhm_range_cm1)
        v_lo, v_hi = (float(v) for v in velocity_range_kms)
        self.broadening_max = float(max(broadening_range_kms))
        self.velocity_range = (v_lo, v_hi)
        halpha_max = float(line_position_cm1(REST[HALPHA], v_lo))
        sigma_max = halpha_max * self.broadening_max / C_KMS
        margin = int(np.ceil((MARGIN_FWHM * fwhm_hi + 3.0 * sigma_max) / step_lo))
        self.margin = margin
        self.length_a = int(np.ceil(_line_span_cm1(GROUP_A, v_lo) / step_lo)) + 2 * margin + 2
        self.length_b = int(np.ceil(_line_span_cm1(GROUP_B, v_lo) / step_lo)) + 2 * margin + 2
        # Velocity FWHM of the sinc at Hα (km/s): the scale of resolvable second components.
        velocity_fwhm = C_KMS * fwhm_hi / halpha_max
        steps = int(round(OFFSET_REACH_FWHM / OFFSET_STEP_FWHM))
        self.grid_kms = np.arange(-steps, steps + 1) * OFFSET_STEP_FWHM * velocity_fwhm
        first, second = np.triu_indices(self.grid_kms.size, k=1)
        separation = (second - first) * OFFSET_STEP_FWHM
        keep = ((self.grid_kms[first] <= 0) & (self.grid_kms[second] >= 0)
                & (separation >= PAIR_SEPARATION_FWHM[0]) & (separation <= PAIR_SEPARATION_FWHM[1]))
        self.pairs = (first[keep], second[keep])
        reach = np.abs(self.grid_kms).max() / C_KMS * halpha_max
        self.half_double = int(np.ceil((reach + 2.0 * fwhm_hi + 2.0 * sigma_max) / step_lo))
        # Wavenumbers a line can reach (with margin): outside them the spectrum is continuum.
        reach_cm1 = margin * step_hi
        self.line_zones = [(float(line_position_cm1(REST[list(group)].max(), v_hi)) - reach_cm1,
                            float(line_position_cm1(REST[list(group)].min(), v_lo)) + reach_cm1)
                           for group in (GROUP_A, GROUP_B)]
        r_max = sigma_max / fwhm_lo * 1.05
        self.table = ChannelProfiles((step_lo / fwhm_hi, step_hi / fwhm_lo), r_max,
                                     max(self.length_a, self.length_b) + 1)

    def solve(self, values: np.ndarray, start_cm1: np.ndarray, step_cm1: np.ndarray, fwhm_cm1: np.ndarray,
              velocity_kms: np.ndarray, broadening_kms: np.ndarray) -> LineSolution:
        """Amplitudes, fluxes, noise, SNR and double score of N spectra.

        Parameters
        ----------
        values : ndarray (N, nchan)
            Spectra on uniform ascending axes ``start_cm1 + step_cm1 · k`` (NaN allowed).
        start_cm1, step_cm1, fwhm_cm1 : ndarray (N,) or scalars
            First wavenumber, channel width and sinc FWHM, cm⁻¹.
        velocity_kms, broadening_kms : ndarray (N,)
            Kinematics at which to solve (km/s); NaN rows give NaN results.
        """
        values = np.asarray(values, dtype=np.float32)
        n, nchan = values.shape
        # Each spectrum in units of its largest value, so that nothing but the amplitudes,
        # fluxes and noise depends on the data's scale (flux-calibrated cubes hold ~1e-17)
        # and a spectrum's results do not depend on the others in the batch.
        unit = _row_scale(values)
        values = values * (1.0 / unit)[:, None]
        start = np.broadcast_to(np.asarray(start_cm1, dtype=np.float64), (n,))
        step = np.broadcast_to(np.asarray(step_cm1, dtype=np.float64), (n,))
        fwhm = np.broadcast_to(np.asarray(fwhm_cm1, dtype=np.float64), (n,))
        velocity = np.asarray(velocity_kms, dtype=np.float64)
        broadening = np.asarray(broadening_kms, dtype=np.float64)
        velocity = np.clip(np.where(np.isfinite(velocity), velocity, 0.0), *self.velocity_range)
        broadening = np.clip(np.where(np.isfinite(broadening), broadening, 0.0), 0.0, self.broadening_max)
        position = line_position_cm1(REST, velocity[:, None])  # (N, 5)
        centre = (position - start[:, None]) / step[:, None]
        ratio = position * (broadening / C_KMS / fwhm)[:, None]
        k0, row = self.table.locate(centre, ratio, (step / fwhm)[:, None])

        first_a = k0[:, 2] - self.margin  # [NII]6583 is the lowest wavenumber of window A
        first_b = k0[:, 4] - self.margin
        win_a, edge_a = self._clip_window(first_a, self.length_a, nchan)
        win_b, edge_b = self._clip_window(first_b, self.length_b, nchan)
        y_a = _windows(values, win_a, self.length_a)
        y_b = _windows(values, win_b, self.length_b)
        t_a = self.table.gather(row[:, GROUP_A], (win_a[:, None] - k0[:, GROUP_A]), self.length_a)
        t_b = self.table.gather(row[:, GROUP_B], (win_b[:, None] - k0[:, GROUP_B]), self.length_b)
        nii = t_a[:, 2] + t_a[:, 0] * np.float32(1.0 / NII_AMPLITUDE_RATIO)
        halpha = position[:, HALPHA]
        troughs = [_trough(win_a, self.length_a, start, step, halpha, fwhm, s) for s in TROUGH_SIGMA_ANGSTROM]
        troughs = [trough for trough in troughs if trough is not None]
        coef_a, used_a, clean_a = _solve_lines(y_a, (t_a[:, 1], nii, *troughs))
        coef_b, _, _ = _solve_lines(y_b, (t_b[:, 0], t_b[:, 1]))
        smooth_a = coef_a[:, -1:].astype(np.float32)  # window A's continuum, with the troughs
        for k, trough in enumerate(troughs):
            smooth_a = smooth_a + coef_a[:, 2 + k:3 + k].astype(np.float32) * trough

        amplitudes = np.empty((n, 5), np.float32)
        amplitudes[:, 0] = coef_a[:, 1] / NII_AMPLITUDE_RATIO
        amplitudes[:, 1] = coef_a[:, 0]
        amplitudes[:, 2] = coef_a[:, 1]
        amplitudes[:, 3] = coef_b[:, 0]
        amplitudes[:, 4] = coef_b[:, 1]
        noise = self._noise(values, start, step)
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = np.where(noise > 0, amplitudes[:, 1] / noise, np.nan).astype(np.float32)
        snr = _absorption_snr(y_a - smooth_a, noise, snr)
        fluxes = line_fluxes(amplitudes, velocity, broadening, fwhm).astype(np.float32)
        continuum = np.stack([coef_a[:, -1], coef_b[:, -1]], axis=1).astype(np.float32)

        # Hα alone: window A minus its continuum and [NII] fit, where Hα is detected.
        score = np.zeros(n, np.float32)
        offset = np.full(n, np.nan, np.float32)
        rows = np.flatnonzero(snr >= MIN_SNR_DOUBLE)
        if rows.size:
            half = self.half_double
            length = 2 * half + 1
            sub_first = np.clip(k0[rows, HALPHA] - half - win_a[rows], 0, self.length_a - length)
            halpha_only = (_windows(clean_a[rows] - smooth_a[rows], sub_first, length)
                           - coef_a[rows, 1:2].astype(np.float32) * _windows(nii[rows], sub_first, length))
            score[rows], offset[rows] = self._double_score(
                halpha_only, win_a[rows] + sub_first, noise[rows], velocity[rows], start[rows], step[rows],
                fwhm[rows], ratio[rows, HALPHA])
        bad = ~np.isfinite(np.asarray(velocity_kms, dtype=np.float64)) | (used_a == 0)
        for array in (amplitudes, fluxes, noise, snr, score, offset, continuum):
            array[bad] = np.nan
        for array in (amplitudes, fluxes, noise, continuum):
            array *= unit.reshape((n,) + (1,) * (array.ndim - 1))
        return LineSolution(amplitudes, fluxes, noise, snr, edge_a | edge_b, score, offset, continuum)

    @staticmethod
    def _clip_window(first: np.ndarray, length: int, nchan: int):
        clipped = np.clip(first, 0, max(nchan - length, 0))
        return clipped, clipped != first

    def _noise(self, values: np.ndarray, start: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Noise per channel (N,): RMS of first differences over line-free channels / √2."""
        nchan = values.shape[1]
        wavenumber = float(np.mean(start)) + float(np.mean(step)) * np.arange(nchan)
        free = np.ones(nchan, bool)
        for lo, hi in self.line_zones:
            free &= (wavenumber < lo) | (wavenumber > hi)
        if free.sum() < 10:  # a spectrum cut to the lines: use every channel
            free[:] = True
        # Runs of free channels, longest first, until about NOISE_CHANNELS differences (slices, no copies).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], free.astype(np.int8), [0]])))
        runs = sorted(zip(edges[::2], edges[1::2]), key=lambda run: run[0] - run[1])
        total = np.zeros(values.shape[0], np.float64)
        count = np.zeros(values.shape[0], np.int64)
        budget = NOISE_CHANNELS
        for lo, hi in runs:
            hi = min(hi, lo + budget + 1)
            if hi - lo < 2 or budget <= 0:
                continue
            difference = values[:, lo + 1:hi] - values[:, lo:hi - 1]
            good = np.isfinite(difference)
            if good.all():
                count += hi - lo - 1
            else:
                difference = np.where(good, difference, np.float32(0.0))
                count += good.sum(axis=1)
            total += _dot(difference, difference)
            budget -= hi - lo - 1
        return np.sqrt(total / np.maximum(count, 1) / 2.0).astype(np.float32)

    def _double_score(self, target, first_channel, noise, velocity, start, step, fwhm, ratio):
        """Score and second-component offset for N Hα-only spectra (module docstring).

        ``target`` (N, L) holds channels ``first_channel …`` of each spectrum.
        """
        table = self.table
        length = target.shape[1]
        shifted = line_position_cm1(REST[HALPHA], velocity[:, None] + self.grid_kms)
        k_grid, row_grid = table.locate((shifted - start[:, None]) / step[:, None], ratio[:, None],
                                        (step / fwhm)[:, None])
        templates = table.gather(row_grid, first_channel[:, None] - k_grid, length)  # (N, G, L)
        # (N, G) sums in float64: the score is a small difference of large χ² terms.
        projection = np.einsum("ngl,nl->ng", templates, target).astype(np.float64)
        norm = np.einsum("ngl,ngl->ng", templates, templates).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            single = np.where((projection > 0) & (norm > 0), projection * projection / norm, 0.0).max(axis=1)
        # Cross products of the pairs, one einsum per grid separation (views, no copies).
        first, second = self.pairs
        cross = np.empty(first.shape + (target.shape[0],), np.float64)
        for lag in np.unique(second - first):
            at_lag = np.flatnonzero(second - first == lag)
            products = np.einsum("ngl,ngl->gn", templates[:, :-lag], templates[:, lag:])
            cross[at_lag] = products[first[at_lag]]
        cross = cross.T
        g11, g22 = norm[:, first], norm[:, second]
        b1, b2 = projection[:, first], projection[:, second]
        det = g11 * g22 - cross * cross
        with np.errstate(divide="ignore", invalid="ignore"):
            a1 = (g22 * b1 - cross * b2) / det
            a2 = (g11 * b2 - cross * b1) / det
            pair = np.where((a1 > 0) & (a2 > 0) & (det > 1e-6 * g11 * g22), a1 * b1 + a2 * b2, 0.0)
        best = np.argmax(pair, axis=1)
        rows = np.arange(target.shape[0])
        gain = np.maximum(pair[rows, best] - single, 0.0).astype(np.float64)
        # The second component is the fainter of the pair.
        fainter = np.where(a1[rows, best] < a2[rows, best], first[best], second[best])
        offset = self.grid_kms[fainter].astype(np.float32)
        sigma2 = np.maximum(noise.astype(np.float64) ** 2, 1e-30)  # spectra are in units of their maximum
        delta_aic = gain / sigma2 - 4.0
        score = (1.0 - np.exp(-0.5 * np.maximum(delta_aic, 0.0))).astype(np.float32)
        offset[gain <= 0] = np.nan
        return score, offset


def _row_scale(values: np.ndarray) -> np.ndarray:
    """(N,) float32 largest finite absolute value of each row (1 where there is none or it is 0)."""
    with np.errstate(invalid="ignore"):
        largest = np.fmax.reduce(np.abs(values), axis=1) if values.shape[1] else np.zeros(values.shape[0])
    ok = np.isfinite(largest) & (largest > 0)
    return np.where(ok, largest, 1.0).astype(np.float32)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product of (N, n) arrays."""
    return np.einsum("nk,nk->n", a, b)


def _windows(values: np.ndarray, first: np.ndarray, length: int) -> np.ndarray:
    """``values[i, first[i]:first[i] + length]`` for every row i: (N, length) copy."""
    view = sliding_window_view(values, length, axis=1)
    return view[np.arange(values.shape[0]), first]


def _absorption_snr(residual: np.ndarray, noise: np.ndarray, snr: np.ndarray) -> np.ndarray:
    """``snr`` where the window (less its continuum and troughs) holds emission; minus the dip's
    significance where its deepest dip outweighs its highest peak by ``ABSORPTION_SNR`` noise
    (absorption lines, a sign-flipped cube): fitted emission kinematics mean nothing there."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        dip = -np.nanmin(residual, axis=1)
        peak = np.nanmax(residual, axis=1)
        significance = dip / noise
    absorbed = (dip > peak) & (significance > ABSORPTION_SNR)
    return np.where(absorbed, -significance, snr).astype(np.float32)


def _trough(first: np.ndarray, length: int, start: np.ndarray, step: np.ndarray, halpha_cm1: np.ndarray,
            fwhm: np.ndarray, sigma_angstrom: float) -> np.ndarray | None:
    """(N, length) float32 unit gaussian of ``sigma_angstrom`` at Hα on window A's channels: a
    stellar Hα absorption, fitted beside the lines; zero where it is not ``TROUGH_MIN_FWHM`` sinc
    FWHMs wide (there it would take the emission line's own flux); None where no row is."""
    sigma = sigma_angstrom * halpha_cm1 ** 2 * 1e-8
    wide = sigma >= TROUGH_MIN_FWHM * fwhm
    if not wide.any():
        return None
    wavenumber = start[:, None] + step[:, None] * (first[:, None] + np.arange(length))
    shape = np.exp(-0.5 * ((wavenumber - halpha_cm1[:, None]) / sigma[:, None]) ** 2)
    return (shape * wide[:, None]).astype(np.float32)


def _solve_lines(y: np.ndarray, templates: tuple[np.ndarray, ...]):
    """Least squares ``y ≈ Σ p_k·template_k + c`` per row, NaN channels ignored; an all-zero
    template gets coefficient 0.

    Returns coefficients (N, k + 1) float64 [p_1 … p_k, c], the number of channels used (N,)
    and ``y`` with NaN set to 0 (N, n) float32.
    """
    good = np.isfinite(y)
    if good.all():
        used = np.full(y.shape[0], y.shape[1])
        ones = None
    else:
        ones = good.astype(np.float32)
        y = np.where(good, y, np.float32(0.0))
        templates = tuple(template * ones for template in templates)
        used = good.sum(axis=1)
    # Remove the mean first so that float32 sums keep the noise level's precision.
    mean = y.sum(axis=1) / np.maximum(used, 1)
    centred = y - mean[:, None].astype(np.float32)
    if ones is not None:
        centred *= ones
    k = len(templates)
    gram = np.empty((y.shape[0], k + 1, k + 1))
    rhs = np.empty((y.shape[0], k + 1))
    for i, a in enumerate(templates):
        for j in range(i, k):
            gram[:, i, j] = gram[:, j, i] = _dot(a, templates[j])
        gram[:, i, k] = gram[:, k, i] = a.sum(axis=1)
        rhs[:, i] = _dot(a, centred)
    gram[:, k, k] = used
    rhs[:, k] = centred.sum(axis=1)
    coef = _solve_symmetric(gram, rhs)
    coef[:, k] += mean
    return coef, used, y


def _solve_symmetric(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve N symmetric systems, each on its own (LAPACK per matrix: no dependence on the batch);
    singular ones give NaN, a zero template's row and column a zero coefficient."""
    diagonal = np.einsum("nii->ni", gram)
    empty = diagonal == 0
    gram = gram + np.einsum("ni,ij->nij", empty.astype(np.float64), np.eye(gram.shape[1]))
    scale = np.sqrt(np.where(empty, 1.0, diagonal))  # equilibrated: the templates differ in norm
    scaled = gram / (scale[:, :, None] * scale[:, None, :])
    coef = np.full(rhs.shape, np.nan)
    ok = np.abs(np.linalg.det(scaled)) > 1e-9  # unit diagonal: det ≤ 1, → 0 as the rows align
    if ok.any():
        coef[ok] = np.linalg.solve(scaled[ok], (rhs / scale)[ok][..., None])[..., 0] / scale[ok]
    return coef


