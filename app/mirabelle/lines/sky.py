"""OH night-sky emission lines of the SN3 band and the unresolved sky spectrum they make.

The line list ``sky_lines_sn3.txt`` is the SN3 part (644–690 nm) of the UVES sky atlas,
Hanuschik 2003, A&A 407, 1157 (VizieR J/A+A/407/1157), as ORB ships it in
``data/sky_lines.orb``: air wavelengths (Å) and relative fluxes.

Wavenumbers: by default ``1e7 / λ_air`` — the convention ORB uses for its sky lines
(``orb.core.Lines.get_sky_lines`` → ``nm2cm1``) and the one :mod:`mirabelle.lines` uses for
the emission lines (air rest wavelengths), so that a sky line and a nebular line of the same
air wavelength fall on the same channel, as they do on the sky (the OH line at 6562.8 Å sits
under Hα at rest). ``vacuum=True`` gives vacuum wavenumbers instead (Morton 2000 refraction
of air, the IAU standard, inverted as in VALD), 0.028 % lower (≈ 83 km/s).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from mirabelle.lines.constants import SN3_BAND_NM
from mirabelle.lines.instrument import ORB_SINC_FWHM

LINE_FILE = "sky_lines_sn3.txt"


def air_refractive_index(wavelength_air_angstrom):
    """Refractive index of standard air at an air wavelength (Å): Morton (2000) inverted
    (Piskunov's formula, as used by VALD and SDSS), valid 2000 Å – 100 µm."""
    s2 = (1e4 / np.asarray(wavelength_air_angstrom, dtype=float)) ** 2
    return (1.0 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 - s2)
            + 1.599740894897e-4 / (38.92568793293 - s2))


@lru_cache(maxsize=2)
def _table() -> tuple[np.ndarray, np.ndarray]:
    text = resources.files("mirabelle.lines").joinpath(LINE_FILE).read_text()
    rows = np.array([line.split()[:2] for line in text.splitlines() if line.strip() and not line.startswith("#")],
                    dtype=float)
    return rows[:, 0], rows[:, 1]


def sky_lines_cm1(vacuum: bool = False, band_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The OH lines: wavenumbers (cm⁻¹, ascending) and relative fluxes (file units).

    ``vacuum``: vacuum wavenumbers instead of ORB's ``1e7 / λ_air`` (module docstring);
    ``band_only``: only the lines inside the SN3 filter (647.7–685.0 nm).
    """
    air_angstrom, flux = _table()
    wavelength = air_angstrom * (air_refractive_index(air_angstrom) if vacuum else 1.0)
    keep = np.ones(air_angstrom.size, bool)
    if band_only:
        keep = (air_angstrom >= SN3_BAND_NM[0] * 10.0) & (air_angstrom <= SN3_BAND_NM[1] * 10.0)
    wavenumber = 1e8 / wavelength[keep]
    order = np.argsort(wavenumber)
    return wavenumber[order], flux[keep][order]


def brightest_band_flux() -> float:
    """Relative flux of the brightest OH line inside the SN3 filter (file units)."""
    return float(sky_lines_cm1(band_only=True)[1].max())


def sky_spectrum(axis_cm1, fwhm_cm1, peak=1.0, vacuum: bool = False) -> np.ndarray:
    """The unresolved OH sky (pure sinc lines of FWHM ``fwhm_cm1``) on ``axis_cm1``.

    Parameters
    ----------
    axis_cm1 : array (..., m)
        Wavenumbers (cm⁻¹) of the channels, one axis per leading index or one for all.
    fwhm_cm1 : float or array (...)
        Sinc FWHM (cm⁻¹) of each spectrum.
    peak : float or array (...)
        Peak amplitude given to the brightest line inside the SN3 filter (spectrum units);
        the others follow their relative fluxes (all lines share the sinc width, so
        amplitudes scale as fluxes).

    Returns
    -------
    ndarray (..., m) float64: every line of the list, wings included.
    """
    axis = np.asarray(axis_cm1, dtype=float)
    lead = np.broadcast_shapes(axis.shape[:-1], np.shape(fwhm_cm1), np.shape(peak))
    m = axis.shape[-1]
    axis = np.broadcast_to(axis, lead + (m,)).reshape(-1, m)
    width = np.broadcast_to(np.asarray(fwhm_cm1, dtype=float), lead).reshape(-1) / ORB_SINC_FWHM
    amplitude = np.broadcast_to(np.asarray(peak, dtype=float), lead).reshape(-1) / brightest_band_flux()
    wavenumber, flux = sky_lines_cm1(vacuum=vacuum)
    out = np.empty(axis.shape)
    # sin(π(σ − σ_l)/w) = sin(πσ/w)cos(πσ_l/w) − cos(πσ/w)sin(πσ_l/w): the sum over lines of
    # sinc((σ − σ_l)/w) needs only one division per line and channel (np.sinc is ~20× slower).
    for rows in np.array_split(np.arange(axis.shape[0]), max(1, axis.shape[0] // 64)):
        sub, w = axis[rows], width[rows, None]
        # float32 is enough away from the lines (terms cancel to 1e-7 of F/|σ − σ_l|); channels
        # within w/100 of a line take that line's sinc directly, in float64.
        offset = (sub[:, None, :] - wavenumber[None, :, None]).astype(np.float32)  # (r, l, m)
        near = np.abs(offset) < 0.01 * w[:, :, None]
        offset[near] = np.inf
        inverse = np.reciprocal(offset, out=offset)
        phase = np.pi * wavenumber[None, :] / w  # (r, l)
        # numpy's own loops, not BLAS: the same sums whatever BLAS's thread count
        cos_sum = np.einsum("rl,rlm->rm", (flux * np.cos(phase)).astype(np.float32), inverse)
        sin_sum = np.einsum("rl,rlm->rm", (flux * np.sin(phase)).astype(np.float32), inverse)
        own = np.pi * sub / w
        block = (np.sin(own) * cos_sum - np.cos(own) * sin_sum) * (w / np.pi)
        for row in range(sub.shape[0]):  # the channels next to each line: a sorted search, not a scan
            found = np.searchsorted(sub[row], wavenumber)
            left, right = np.clip(found - 1, 0, m - 1), np.clip(found, 0, m - 1)
            for k, other in ((left, True), (right, right != left)):
                delta = sub[row, k] - wavenumber
                close = (np.abs(delta) < 0.01 * w[row, 0]) & other
                block[row, k[close]] += flux[close] * np.sinc(delta[close] / w[row, 0])
        out[rows] = block * amplitude[rows, None]
    return out.reshape(lead + (m,))


def sky_on_axes(axis_cm1, fwhm_cm1: float) -> np.ndarray:
    """:func:`sky_spectrum` (unit peak) at one FWHM on any axis array (e.g. one axis per pixel,
    (N, nchan)): computed once on a grid of FWHM/20 and interpolated linearly (error < 0.3 % of
    the peak), so that per-pixel axes cost one interpolation."""
    axis = np.asarray(axis_cm1, dtype=float)
    step = float(fwhm_cm1) / 20.0
    grid = np.arange(np.nanmin(axis) - step, np.nanmax(axis) + 2 * step, step)
    return np.interp(axis, grid, sky_spectrum(grid, float(fwhm_cm1)))


def sky_amplitudes(values, sky, sky_index=None) -> np.ndarray:
    """Least-squares amplitude (≥ 0) of the unit sky ``sky`` ((nchan,) or (N, nchan), or (K, nchan)
    templates with ``sky_index`` (N,) the template of each row) in each spectrum of ``values``
    (N, nchan), with a straight continuum fitted alongside; NaN channels are ignored. Returns
    (N,) in spectrum units."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    n, nchan = values.shape
    sky = np.atleast_2d(np.asarray(sky, dtype=np.float64))
    if sky_index is None:
        sky_index = np.zeros(n, np.intp) if sky.shape[0] == 1 else np.arange(n)
    slope = np.linspace(-1.0, 1.0, nchan)
    complete = np.isfinite(values).all(axis=1)
    # rows without NaN: the normal matrix depends on the template only (numpy's own sums, not BLAS)
    plain = np.stack([sky, np.ones_like(sky), np.broadcast_to(slope, sky.shape)], axis=1)  # (K, 3, nchan)
    gram = np.einsum("kic,kjc->kij", plain, plain)[sky_index] + np.eye(3) * 1e-9
    # in the spectra's own precision (float32 tiles): a float64 copy and a gathered (N, nchan)
    # template array took ~8 % of a whole-cube run at R 9600; the sums stay in numpy's own loops
    y = values if complete.all() else np.where(complete[:, None], values, values.dtype.type(0))
    rhs = np.empty((n, 3))
    if sky.shape[0] == 1:
        rhs[:, 0] = np.einsum("nc,c->n", y, sky[0].astype(y.dtype))
    elif sky.shape[0] < n:  # a few templates on a common axis: one pass per template
        for k in range(sky.shape[0]):
            rows = np.flatnonzero(sky_index == k)
            rhs[rows, 0] = np.einsum("nc,c->n", y[rows], sky[k].astype(y.dtype))
    else:
        rhs[:, 0] = np.einsum("nc,nc->n", y, sky[sky_index].astype(y.dtype))
    rhs[:, 1] = y.sum(axis=1, dtype=np.float64)
    rhs[:, 2] = np.einsum("nc,c->n", y, slope.astype(y.dtype))
    holed = np.flatnonzero(~complete)
    if holed.size:  # the channels that hold data only
        finite = np.isfinite(values[holed])
        weight = finite.astype(np.float64)
        basis = plain[sky_index[holed]] * weight[:, None, :]
        gram[holed] = np.einsum("nik,njk->nij", basis, basis) + np.eye(3) * 1e-9
        rhs[holed] = np.einsum("nik,nk->ni", basis, np.where(finite, values[holed], 0.0))
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    return np.maximum(np.nan_to_num(coef[:, 0]), 0.0)
