"""Line profiles: sinc, gaussian and ORB's sincgauss (sinc convolved with a gaussian), and fluxes."""

from __future__ import annotations

import numpy as np

from mirabelle.lines.instrument import ORB_SINC_FWHM

SINC_LIMIT = 0.01
"""Below sigma/fwhm = SINC_LIMIT the sincgauss is a pure sinc (ORB's threshold)."""
GAUSS_LIMIT = 7.0
"""Above sigma/fwhm = GAUSS_LIMIT the sincgauss is a gaussian to better than 1e-4."""


def sinc(x, x0, fwhm, amp=1.0):
    """``amp · sin(πu)/(πu)``, u = (x − x0)/(fwhm/1.20671): peak ``amp``, FWHM ``fwhm``."""
    return amp * np.sinc((np.asarray(x) - x0) / (np.asarray(fwhm) / ORB_SINC_FWHM))


def gaussian(x, x0, sigma, amp=1.0):
    """``amp · exp(−(x − x0)² / (2 sigma²))``."""
    return amp * np.exp(-0.5 * ((np.asarray(x) - x0) / sigma) ** 2)


def sincgauss(x, x0, fwhm, sigma, amp=1.0):
    """ORB's sincgauss: a sinc of FWHM ``fwhm`` convolved with a gaussian of sigma ``sigma``,
    scaled to peak ``amp`` at ``x0``. All arguments broadcast; units cm⁻¹.

    ``w = fwhm/1.20671/π, a = s/(√2 w), b = (x − x0)/(√2 s)``,
    ``f = A · Re[(D(ia + b)e^{2iab} + D(ia − b)e^{−2iab}) / (2 D(ia))]`` with D Dawson's function.
    """
    from scipy import special  # deferred: scipy costs `mirabelle info` a third of its start-up

    x, x0, fwhm, sigma, amp = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, x0, fwhm, sigma, amp)))
    ratio = sigma / fwhm
    out = np.empty(x.shape)
    is_sinc = ratio < SINC_LIMIT
    is_gauss = ratio > GAUSS_LIMIT
    mixed = ~(is_sinc | is_gauss)
    out[is_sinc] = sinc(x[is_sinc], x0[is_sinc], fwhm[is_sinc], amp[is_sinc])
    out[is_gauss] = gaussian(x[is_gauss], x0[is_gauss], sigma[is_gauss], amp[is_gauss])
    if mixed.any():
        w = fwhm[mixed] / ORB_SINC_FWHM / np.pi
        s = sigma[mixed]
        a = s / (np.sqrt(2.0) * w)
        b = (x[mixed] - x0[mixed]) / (np.sqrt(2.0) * s)
        num = special.dawsn(1j * a + b) * np.exp(2j * a * b) + special.dawsn(1j * a - b) * np.exp(-2j * a * b)
        out[mixed] = amp[mixed] * np.real(num / (2.0 * special.dawsn(1j * a)))
    return out


def sincgauss_flux(amp, fwhm, sigma):
    """Integral (cm⁻¹ · amplitude units) of a sincgauss of peak ``amp`` (ORB's sincgauss1d_flux).

    ``F = A · √(2π) · s / erf(a)``, a = s/(√2 w), w = fwhm/1.20671/π; equal to
    ``A · fwhm/1.20671`` for a pure sinc (s → 0). Broadcasts.
    """
    from scipy import special

    amp, fwhm, sigma = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (amp, fwhm, sigma)))
    w = fwhm / ORB_SINC_FWHM / np.pi
    a = sigma / (np.sqrt(2.0) * w)
    small = a < 1e-6
    safe_a = np.where(small, 1.0, a)
    flux = amp * np.sqrt(2.0 * np.pi) * sigma / special.erf(safe_a)
    return np.where(small, amp * fwhm / ORB_SINC_FWHM, flux)
