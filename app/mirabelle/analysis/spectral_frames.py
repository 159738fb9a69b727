"""Spectral coordinates of a cube's channels: channel, wavenumber, air wavelength, velocity about a line.

ORB's cubes are in wavenumber (cm⁻¹) and ORB converts to wavelength by ``λ = 1e7 / σ``
with the air rest wavelengths of its line table, so "air nm" here is ``1e7 / σ`` and a
velocity about a line uses `mirabelle.lines.velocity_from_position` (relativistic, as ORB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.errors import MirabelleError
from mirabelle.lines.constants import LINE_LABELS, REST_NM
from mirabelle.lines.kinematics import line_position_cm1, velocity_from_position

FRAMES = ("channel", "wavenumber", "wavelength", "velocity")
"""Spectral frames a channel can be named in."""
FRAME_UNITS = {"channel": "", "wavenumber": "cm-1", "wavelength": "nm", "velocity": "km/s"}


class LineNameError(MirabelleError, KeyError):
    """A line name that is not in the SN3 line list."""

    def __str__(self) -> str:  # KeyError would quote the sentence
        return str(self.args[0])


def _normalised(name: str) -> str:
    text = name.strip().lower().replace("[", "").replace("]", "").replace("hα", "halpha")
    return "halpha" if text == "ha" else text


def line_name(line: str) -> str:
    """The `LINE_NAMES` name of an SN3 line given as 'Halpha', 'Hα', 'Ha', 'NII6583',
    '[NII]6583', ... (case-insensitive)."""
    wanted = _normalised(line)
    for name in REST_NM:
        if wanted in (_normalised(name), _normalised(LINE_LABELS[name])):
            return name
    raise LineNameError(f"expected a line among {', '.join(REST_NM)}, found '{line}'")


def rest_nm(line: str) -> float:
    """Air rest wavelength (nm) of an SN3 line (any spelling `line_name` accepts)."""
    return REST_NM[line_name(line)]


@dataclass(frozen=True)
class SpectralFrame:
    """How a channel is named: ``frame`` in `FRAMES`; ``line`` the reference line of a
    velocity frame (a `LINE_NAMES` name)."""

    frame: str = "wavenumber"
    line: str = "Halpha"

    def __post_init__(self):
        if self.frame not in FRAMES:
            raise MirabelleError(f"expected a spectral frame among {', '.join(FRAMES)}, found '{self.frame}'")
        rest_nm(self.line)

    @property
    def label(self) -> str:
        """Axis label naming the frame and unit, e.g. 'velocity about Hα (km/s)'."""
        if self.frame == "channel":
            return "channel"
        if self.frame == "velocity":
            return f"velocity about {LINE_LABELS[line_name(self.line)]} (km/s)"
        if self.frame == "wavelength":
            return "air wavelength (nm)"
        return f"wavenumber ({FRAME_UNITS[self.frame]})"

    def values(self, axis_cm1: np.ndarray) -> np.ndarray:
        """The channels of ``axis_cm1`` (cm⁻¹, ascending) in this frame."""
        axis_cm1 = np.asarray(axis_cm1, dtype=np.float64)
        if self.frame == "channel":
            return np.arange(axis_cm1.shape[-1], dtype=np.float64)
        if self.frame == "wavenumber":
            return axis_cm1.copy()
        if self.frame == "wavelength":
            return 1e7 / axis_cm1
        return velocity_from_position(rest_nm(self.line), axis_cm1)

    def to_wavenumber(self, value: float, axis_cm1: np.ndarray) -> float:
        """Wavenumber (cm⁻¹) of ``value`` given in this frame (channels interpolate ``axis_cm1``)."""
        if self.frame == "channel":
            return float(np.interp(value, np.arange(len(axis_cm1)), axis_cm1))
        if self.frame == "wavenumber":
            return float(value)
        if self.frame == "wavelength":
            return 1e7 / float(value)
        return float(line_position_cm1(rest_nm(self.line), value))


def nearest_channel(axis_cm1: np.ndarray, wavenumber_cm1: float) -> int:
    """Index of the channel of ``axis_cm1`` (ascending cm⁻¹) closest to ``wavenumber_cm1``."""
    return int(np.argmin(np.abs(np.asarray(axis_cm1) - wavenumber_cm1)))


def channel_widths_cm1(axis_cm1: np.ndarray) -> np.ndarray:
    """Width (cm⁻¹) of every channel of an ascending axis (last axis of any shape)."""
    axis_cm1 = np.asarray(axis_cm1, dtype=np.float64)
    if axis_cm1.shape[-1] < 2:
        return np.ones_like(axis_cm1)
    return np.gradient(axis_cm1, axis=-1)
