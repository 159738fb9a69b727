"""THE preprocessing shared by training and inference (numpy only, vectorised).

``prepare(values, axis_cm1, card, vsys_kms)`` maps spectra from their own wavenumber axes onto
the model's input axis, in the frame of the systemic velocity, and normalises them:

1. Frame: the network works in the frame of the systemic velocity ``vsys_kms`` (one value,
   or one per row): a model channel at ``σ`` is read at the observed wavenumber
   ``σ · sqrt((1 − β)/(1 + β))``, β = vsys/c (relativistic, as ORB), so a line at velocity
   ``v`` in that frame is observed at ``compose_velocities(vsys, v)``
   (:mod:`mirabelle.lines.kinematics`). Channels observed outside the filter band
   ``card["input"]["band_cm1"] = [lo, hi]`` (cm⁻¹, observer frame; cards without it: no
   limit) are NaN, so the filter edges move across the model axis with ``vsys``, as they do
   on the sky.
2. Resampling: linear interpolation of each spectrum from its axis (one axis ``(nchan,)``
   for all rows — calibrated cubes — or one per row ``(N, nchan)`` — uncalibrated cubes,
   per-pixel calibration) onto the model axis ``start + step · arange(length)`` given by
   ``card["input"]["axis_cm1"] = [start, step, length]`` (cm⁻¹, systemic frame). Axes may be
   ascending or descending and need not be uniform. A model channel takes NaN when either
   neighbouring input sample is NaN or when it lies outside the input axis.
3. Continuum ``c`` (per channel): with ``normalisation == "linear-max"`` or ``"baseline-max"``
   the least-squares straight line through the finite resampled channels inside the ranges
   ``card["input"]["continuum_cm1"] = [[lo, hi], ...]`` — the axis ends and the gap between
   [SII]6716 and [NII]6583, which no line reaches at any velocity of the model's range
   (a constant when the finite channels cannot fix a slope, the row median when none is
   finite); ``"continuum-max"``: the mean of those channels; ``"median-max"``: the median
   of the finite resampled channels.
4. NaN channels are set to ``c`` (so they become 0 after normalisation).
5. Smooth baseline (``"baseline-max"`` only): ``y − c`` minus its least-squares projection
   on gaussians of sigma ``card["input"]["baseline_sigma_cm1"]`` spaced one sigma apart
   along the model axis. Lines are a few cm⁻¹ wide and keep most of their shape; a
   stellar continuum's broad Hα absorption (σ 5–25 Å ≈ 12–58 cm⁻¹) or a curved continuum
   is removed, so that it neither hides Hα from the network's matched filter nor sets the
   normalisation.
6. Normalisation: ``(y − c) / (max(y) − c)``, i.e. the paper's divide-by-maximum after
   removing the continuum level, so that the line peak is ~1 whatever the continuum;
   rows that are all NaN, or flat, become zeros.

The result is float32 ``(N, length)``. Deterministic, no per-spectrum Python loop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mirabelle.lines.kinematics import doppler_factor

NORMALISATION = "linear-max"
NORMALISATIONS = ("linear-max", "baseline-max", "continuum-max", "median-max")


def model_axis(card) -> np.ndarray:
    """The model's input axis (cm⁻¹) from ``card["input"]["axis_cm1"] = [start, step, length]``."""
    start, step, length = card["input"]["axis_cm1"]
    return float(start) + float(step) * np.arange(int(length))


def _weights_common(axis: np.ndarray, target: np.ndarray):
    """Left index and weight for linear interpolation of ascending ``axis`` at ``target``."""
    n = axis.size
    idx = np.searchsorted(axis, target, side="right") - 1
    inside = (target >= axis[0]) & (target <= axis[-1])
    idx = np.clip(idx, 0, n - 2)
    w = (target - axis[idx]) / (axis[idx + 1] - axis[idx])
    return idx, np.clip(w, 0.0, 1.0), inside


def _weights_rows(axis: np.ndarray, target: np.ndarray):
    """Per-row version of :func:`_weights_common` for ascending (N, nchan) axes."""
    n_rows, n = axis.shape
    first, last = axis[:, :1], axis[:, -1:]
    step = (last - first) / (n - 1)
    step = np.where(step > 0, step, 1.0)
    frac = (target[None, :] - first) / step
    idx = np.clip(np.floor(frac).astype(np.int64), 0, n - 2)
    inside = (target[None, :] >= first) & (target[None, :] <= last)
    diffs = np.diff(axis, axis=1)
    if np.all(np.abs(diffs - step) <= 1e-6 * step):  # uniform axes (the SITELLE case): exact
        return idx, np.clip(frac - idx, 0.0, 1.0), inside
    rows = np.arange(n_rows)[:, None]
    for _ in range(8):  # correct the uniform guess by a few steps
        up = (axis[rows, idx + 1] < target) & (idx < n - 2)
        down = (axis[rows, idx] > target) & (idx > 0)
        if not (up.any() or down.any()):
            break
        idx = idx + up - down
    else:  # very non-uniform axis: exact search row by row
        idx = np.stack([np.clip(np.searchsorted(a, target, side="right") - 1, 0, n - 2) for a in axis])
    lo = axis[rows, idx]
    hi = axis[rows, idx + 1]
    w = (target[None, :] - lo) / np.where(hi > lo, hi - lo, 1.0)
    return idx, np.clip(w, 0.0, 1.0), inside


def resample(values, axis_cm1, target) -> np.ndarray:
    """Linear interpolation of ``values`` (N, nchan) from ``axis_cm1`` onto ``target`` (L,).

    NaN where a neighbour is NaN or outside the axis. Returns float32 (N, L).
    """
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[None, :]
    values = values.astype(np.float32, copy=False)
    axis = np.asarray(axis_cm1, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n_rows, nchan = values.shape
    if axis.shape[-1] != nchan:
        raise ValueError(f"axis has {axis.shape[-1]} channels, spectra have {nchan}")
    if nchan < 2:
        return np.full((n_rows, target.size), np.nan, np.float32)
    if axis.ndim == 1:
        if axis[0] > axis[-1]:
            axis, values = axis[::-1], values[:, ::-1]
        idx, w, inside = _weights_common(axis, target)
        w = w.astype(np.float32)
        out = values.take(idx, axis=1)  # C order (values[:, idx] is not: every later pass would stride)
        hi = values.take(idx + 1, axis=1)
        hi -= out
        hi *= w
        out += hi
        if not inside.all():
            out[:, ~inside] = np.nan
        return out
    axis = np.broadcast_to(axis, (n_rows, nchan))
    if axis[0, 0] > axis[0, -1]:
        axis, values = axis[:, ::-1], values[:, ::-1]
    idx, w, inside = _weights_rows(axis, target)
    flat = np.ascontiguousarray(values).ravel()
    fidx = idx + (np.arange(n_rows, dtype=np.int64) * nchan)[:, None]
    w = w.astype(np.float32)
    out = flat.take(fidx)
    hi = flat.take(fidx + 1)
    hi -= out
    hi *= w
    out += hi
    out[~inside] = np.nan
    return out


def _row_median(y: np.ndarray) -> np.ndarray:
    if not np.isnan(y).any():
        return np.median(y, axis=1).astype(np.float32)
    out = np.zeros(y.shape[0], np.float32)
    ok = np.isfinite(y).any(axis=1)
    if ok.any():
        out[ok] = np.nanmedian(y[ok], axis=1)
    return out


def continuum_coefficients(y: np.ndarray, mode: str, mask=None, rows_with_nan=None) -> np.ndarray:
    """Continuum ``c0 + c1 · t`` (t from −1 to 1 along the model axis) of resampled spectra
    ``y`` (N, L), NaN allowed: returns (N, 2) float64.

    ``linear-max``: least-squares line through the finite channels where ``mask`` (L,) is True
    (a constant when they cannot fix a slope; the row median when there are none);
    ``continuum-max``: their mean; ``median-max``: the row median.
    """
    n, length = y.shape
    coef = np.zeros((n, 2))
    if mode == "median-max":
        coef[:, 0] = _row_median(y)
        return coef
    if mode not in ("linear-max", "baseline-max", "continuum-max"):
        raise ValueError(f"unknown normalisation {mode!r}")
    t_all = np.linspace(-1.0, 1.0, length)
    idx = np.nonzero(mask)[0]
    t = t_all[idx] if mode != "continuum-max" else np.zeros(idx.size)
    basis = np.stack([np.ones_like(t), t], axis=1)  # (nc, 2)
    weights = np.zeros((2, length), np.float32)
    weights[:, idx] = np.linalg.pinv(basis)  # least-squares projector, zero off the ranges
    if rows_with_nan is None:
        rows_with_nan = np.isnan(y).any(axis=1)
    good = ~rows_with_nan
    # row by row (not a BLAS matrix product, whose order depends on the batch): a row's result is its own
    if good.all():
        return _row_dots(y, weights).astype(np.float64)
    if good.any():
        coef[good] = _row_dots(y[good], weights)
    bad = np.nonzero(rows_with_nan)[0]
    seg = y[bad][:, idx]
    fin = np.isfinite(seg)
    w = fin.astype(np.float64)
    ys = np.where(fin, seg, 0.0).astype(np.float64)
    s0, s1, s2 = w.sum(1), w @ t, w @ (t * t)
    sy, sty = ys.sum(1), ys @ t
    det = s0 * s2 - s1 * s1
    slope_ok = det > 1e-9 * np.maximum(s0 * s2, 1e-300)
    c0 = np.where(slope_ok, (s2 * sy - s1 * sty) / np.where(slope_ok, det, 1.0), sy / np.maximum(s0, 1))
    c1 = np.where(slope_ok, (s0 * sty - s1 * sy) / np.where(slope_ok, det, 1.0), 0.0)
    coef[bad, 0], coef[bad, 1] = c0, c1
    none = bad[s0 == 0]
    if none.size:
        coef[none, 0] = _row_median(y[none])
        coef[none, 1] = 0.0
    return coef


@lru_cache(maxsize=8)
def _baseline_operator(length: int, step_cm1: float, sigma_cm1: float) -> np.ndarray:
    """(k, L) float32 orthonormal rows spanning the smooth gaussian basis (projection ``y @ Qᵀ @ Q``)."""
    x = np.arange(length) * step_cm1
    centres = np.arange(-sigma_cm1, x[-1] + 1.5 * sigma_cm1, sigma_cm1)
    basis = np.exp(-0.5 * ((x[:, None] - centres[None, :]) / sigma_cm1) ** 2)
    # Cholesky of the k × k normal matrix, with numpy's sums: LAPACK's QR of the (L, k) basis runs
    # threaded BLAS that waits ~0.3 s for a busy second core; same span where no column is dropped.
    lower = np.linalg.cholesky(np.einsum("lk,lj->kj", basis, basis))
    if np.diag(lower).min() > 1e-4 * lower[0, 0]:
        return np.ascontiguousarray(np.einsum("lj,kj->kl", basis, np.linalg.inv(lower)), np.float32)
    q, r = np.linalg.qr(basis)
    keep = np.abs(np.diag(r)) > 1e-8 * np.abs(r[0, 0])  # the basis is nearly collinear at the ends
    return np.ascontiguousarray(q[:, keep].T, np.float32)


def _project(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(y @ rows.T) @ rows`` without BLAS matrix products, whose sums run in an order that depends
    on the thread count and the batch, and the runner's results must not depend on where they are
    computed (cluster workers run BLAS on one thread, tiles differ): one dot product per row and
    basis vector (BLAS dots of fewer than 10,000 channels run on one thread), then numpy's own
    loops along contiguous channels."""
    return np.einsum("nk,kl->nl", _row_dots(y, rows), rows)


def _row_dots(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(N, k): the dot product of every row of ``y`` (N, L) with every row of ``rows`` (k, L), one
    vector-vector product each (numpy's matmul makes those BLAS dots)."""
    return np.matmul(y[:, None, None, :], rows[:, :, None])[..., 0, 0]


def normalise(resampled: np.ndarray, mode: str = "median-max", mask=None,
              baseline: tuple[float, float] | None = None, sky: np.ndarray | None = None,
              sky_index: np.ndarray | None = None) -> np.ndarray:
    """Normalise in place (see module docstring); returns the array.

    ``baseline``: (model step, baseline sigma) in cm⁻¹ for ``"baseline-max"``; ``sky``: the
    resampled unit sky spectrum, (L,) or (N, L) — or (K, L) with ``sky_index`` (N,) naming each
    row's — whose fitted amplitude is subtracted.
    """
    y = resampled
    n, length = y.shape
    bad = np.isnan(y)
    rows_with_nan = bad.any(axis=1)
    any_nan = bool(rows_with_nan.any())
    coef = continuum_coefficients(y, mode, mask, rows_with_nan).astype(np.float32)
    t_all = np.linspace(-1.0, 1.0, length, dtype=np.float32)
    if any_nan:
        r = np.nonzero(rows_with_nan)[0]
        sub = y[r]
        cont = coef[r, :1] + coef[r, 1:] * t_all[None, :]
        sub[bad[r]] = cont[bad[r]]
        y[r] = sub
    if mode in ("linear-max", "baseline-max"):
        y -= np.multiply.outer(coef[:, 1], t_all) + coef[:, :1]
    else:
        y -= coef[:, :1]
    if mode == "baseline-max":
        rows = _baseline_operator(length, float(baseline[0]), float(baseline[1]))
        y -= _project(y, rows)
    if sky is not None:
        template = np.nan_to_num(np.atleast_2d(sky).astype(np.float32))
        if mode == "baseline-max":
            template -= _project(template, rows)
        if sky_index is None:
            sky_index = np.zeros(n, np.intp) if template.shape[0] == 1 else np.arange(n)
        # least-squares amplitude (≥ 0) on the channels that hold data, then subtracted; nothing
        # is subtracted where there is no data (band edges, NaN)
        on_rows = template[sky_index]  # (N, L) copy, reused for the subtraction
        product = np.einsum("nl,nl->n", y, on_rows)
        norm = np.einsum("kl,kl->k", template, template)[sky_index]
        if any_nan:  # row by row as the rows without NaN, whatever else the batch holds
            on_rows[bad] = 0.0
            r = np.nonzero(rows_with_nan)[0]
            norm[r] = np.einsum("nl,nl->n", on_rows[r], on_rows[r])
        amplitude = np.where(norm > 0, np.maximum(product, 0.0) / np.where(norm > 0, norm, 1.0), 0.0)
        on_rows *= amplitude.astype(np.float32)[:, None]
        y -= on_rows
    scale = y.max(axis=1)
    ok = np.isfinite(scale) & (scale > 0)
    y *= np.where(ok, 1.0 / np.where(ok, scale, 1.0), 0.0).astype(np.float32)[:, None]
    if not ok.all():
        y[~ok] = 0.0
    return y


def continuum_mask(card) -> np.ndarray | None:
    """(L,) bool: the model channels inside the card's ``input.continuum_cm1`` range(s)."""
    ranges = card["input"].get("continuum_cm1")
    if ranges is None:
        return None
    ranges = np.asarray(ranges, dtype=float).reshape(-1, 2)
    axis = model_axis(card)
    mask = np.zeros(axis.size, bool)
    for lo, hi in ranges:
        mask |= (axis >= lo - 1e-6) & (axis <= hi + 1e-6)
    if not mask.any():
        raise ValueError(f"continuum ranges {ranges.tolist()} cm-1 lie outside the model axis")
    return mask


def prepare(values, axis_cm1, card, vsys_kms=0.0, sky=None, sky_index=None) -> np.ndarray:
    """Spectra ``values`` (N, nchan) on ``axis_cm1`` ((nchan,) or (N, nchan), cm⁻¹, observed) -> the
    model input float32 (N, L): seen from the systemic velocity ``vsys_kms`` (km/s, a number
    or (N,)), resampled onto the card's axis and normalised (module doc).

    ``sky``: the unit OH sky spectrum (:func:`mirabelle.lines.sky.sky_spectrum`) on the same
    channels, (nchan,) for every row (on the first row's axis) or (N, nchan), or (K, nchan)
    templates with ``sky_index`` (N,) the template of each row (on each row's axis); used when
    the card's ``input.sky`` is ``"fit"`` (ignored otherwise; None: no sky subtracted).
    """
    inputs = card["input"]
    norm = inputs.get("normalisation", NORMALISATION)
    if norm not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {norm!r} (expected one of {NORMALISATIONS})")
    target = model_axis(card)
    factor = doppler_factor(vsys_kms)  # observed / systemic-frame wavenumber
    axis = np.asarray(axis_cm1, dtype=np.float64)
    if factor.ndim == 0:
        out = resample(values, axis if factor == 1.0 else axis / float(factor), target)
        observed = target[None, :] * float(factor)
    else:
        rows = np.broadcast_to(axis, (factor.size, axis.shape[-1]))
        out = resample(values, rows / factor[:, None], target)
        observed = target[None, :] * factor[:, None]
    band = inputs.get("band_cm1")
    if band is not None:
        outside = (observed < band[0]) | (observed > band[1])
        if outside.any():
            out[np.broadcast_to(outside, out.shape)] = np.nan
    template = None
    if sky is not None and inputs.get("sky") == "fit":
        sky = np.asarray(sky, dtype=np.float32)
        if sky_index is not None and (axis.ndim > 1 or factor.ndim > 0):  # one axis per row
            sky, sky_index = sky[sky_index], None
        if sky_index is not None:  # the templates on the common axis, resampled once each
            template = resample(sky, axis / float(factor), target)
        elif sky.ndim == 1:
            first = axis if axis.ndim == 1 else axis.reshape(-1, axis.shape[-1])[0]
            own = first / float(factor.ravel()[0]) if factor.ndim == 0 else first / factor.ravel()[:, None]
            template = resample(sky[None, :] if own.ndim == 1 else np.broadcast_to(sky, own.shape), own, target)
        else:
            template = resample(sky, (axis if factor.ndim == 0 else np.broadcast_to(axis, sky.shape))
                                / (float(factor) if factor.ndim == 0 else factor[:, None]), target)
    baseline = (float(inputs["axis_cm1"][1]), float(inputs["baseline_sigma_cm1"])) if norm == "baseline-max" else None
    return normalise(out, norm, continuum_mask(card) if norm != "median-max" else None, baseline, template,
                     sky_index)
