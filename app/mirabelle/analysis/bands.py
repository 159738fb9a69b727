"""Spectral bands of moment maps and their continuum side bands, per channel and per pixel.

A `LineBand` is a velocity window about a line (its centre a systemic velocity or a
per-pixel velocity map); its continuum side bands are the windows just outside it,
minus the channels where another SN3 line falls at the same velocity. A `WavenumberBand`
is a fixed cm⁻¹ range with explicit or adjacent side bands. Both turn a tile's channel
axis into boolean masks of band and continuum channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.analysis.spectral_frames import line_name, rest_nm
from mirabelle.errors import MirabelleError
from mirabelle.lines.constants import REST_NM
from mirabelle.lines.kinematics import line_position_cm1, velocity_from_position

DEFAULT_WIDTH_KMS = 300.0
"""Half-width of a line band about the systemic velocity: a disk's rotation (±250 km/s)
and the line width fit, [NII]6583 (+943 km/s from Hα) stays out."""
SIDE_FACTOR = 1.0
"""Each continuum side band is this many band widths wide."""


class BandError(MirabelleError, ValueError):
    """A band that is empty, reversed, or outside the cube."""


@dataclass(frozen=True)
class LineBand:
    """``line`` ± ``width_kms`` about ``velocity_kms`` (a number, or an (nx, ny) map in km/s)."""

    line: str
    width_kms: float = DEFAULT_WIDTH_KMS
    velocity_kms: float | np.ndarray = 0.0

    def __post_init__(self):
        object.__setattr__(self, "line", line_name(self.line))
        if not self.width_kms > 0:
            raise BandError(f"expected a positive line half-width in km/s, found {self.width_kms}")

    @property
    def reference_line(self) -> str:
        """Line whose velocity frame moment 1 and 2 are in."""
        return self.line

    def _velocity_range(self) -> tuple[float, float]:
        v = np.asarray(self.velocity_kms, dtype=float)
        if not np.isfinite(v).any():
            raise BandError("expected a finite velocity for the line band, found none (all NaN)")
        return float(np.nanmin(v)), float(np.nanmax(v))

    def read_range_cm1(self) -> tuple[float, float]:
        """cm⁻¹ range holding the band and side bands of every pixel."""
        v_lo, v_hi = self._velocity_range()
        reach = self.width_kms * (1 + SIDE_FACTOR)
        edges = line_position_cm1(rest_nm(self.line), [v_hi + reach, v_lo - reach])
        return float(edges[0]), float(edges[1])

    def masks(self, axis_cm1: np.ndarray, centre_kms) -> tuple[np.ndarray, np.ndarray]:
        """(in_band, in_continuum) bool masks shaped like ``axis_cm1`` (nband,) or (tx, ty, nband);
        ``centre_kms`` is the tile's velocity (scalar or (tx, ty))."""
        centre = np.asarray(centre_kms, dtype=float)[..., None] if np.ndim(centre_kms) else float(centre_kms)
        offset = velocity_from_position(REST_NM[self.line], axis_cm1) - centre
        in_band = np.abs(offset) <= self.width_kms
        side = (np.abs(offset) > self.width_kms) & (np.abs(offset) <= self.width_kms * (1 + SIDE_FACTOR))
        for other, rest in REST_NM.items():
            if other != self.line:
                side &= np.abs(velocity_from_position(rest, axis_cm1) - centre) > self.width_kms
        return in_band, side

    def describe(self) -> str:
        """One ASCII line naming the band (for FITS headers and progress)."""
        v = self.velocity_kms
        centre = f"{v:.1f} km/s" if np.ndim(v) == 0 else "each pixel's velocity"
        return f"{self.line} +/- {self.width_kms:g} km/s about {centre}"


@dataclass(frozen=True)
class WavenumberBand:
    """A fixed band ``lo_cm1``–``hi_cm1`` (cm⁻¹); continuum from ``continuum_cm1`` ranges or,
    by default, one band width on each side. Moments 1 and 2 are velocities about
    ``line`` (default: the SN3 line whose rest wavenumber is nearest the band centre)."""

    lo_cm1: float
    hi_cm1: float
    continuum_cm1: tuple[tuple[float, float], ...] = ()
    line: str = ""

    def __post_init__(self):
        lo, hi = sorted((float(self.lo_cm1), float(self.hi_cm1)))
        if not hi > lo:
            raise BandError(f"expected a band of positive width in cm-1, found {self.lo_cm1}–{self.hi_cm1}")
        object.__setattr__(self, "lo_cm1", lo)
        object.__setattr__(self, "hi_cm1", hi)
        if not self.continuum_cm1:
            width = hi - lo
            object.__setattr__(self, "continuum_cm1", ((lo - width * SIDE_FACTOR, lo), (hi, hi + width * SIDE_FACTOR)))
        centre = (lo + hi) / 2
        name = line_name(self.line) if self.line else min(REST_NM, key=lambda n: abs(1e7 / REST_NM[n] - centre))
        object.__setattr__(self, "line", name)

    @property
    def reference_line(self) -> str:
        return self.line

    def read_range_cm1(self) -> tuple[float, float]:
        edges = [self.lo_cm1, self.hi_cm1] + [v for pair in self.continuum_cm1 for v in pair]
        return min(edges), max(edges)

    def masks(self, axis_cm1: np.ndarray, centre_kms=None) -> tuple[np.ndarray, np.ndarray]:
        in_band = (axis_cm1 >= self.lo_cm1) & (axis_cm1 <= self.hi_cm1)
        side = np.zeros(np.shape(axis_cm1), bool)
        for lo, hi in self.continuum_cm1:
            side |= (axis_cm1 >= min(lo, hi)) & (axis_cm1 <= max(lo, hi))
        return in_band, side & ~in_band

    def describe(self) -> str:
        """One ASCII line naming the band (for FITS headers and progress)."""
        return f"{self.lo_cm1:.2f}-{self.hi_cm1:.2f} cm-1 (velocities about {self.line})"
