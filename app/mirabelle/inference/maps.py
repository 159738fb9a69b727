"""The kinematic maps of one cube (``[x, y]`` arrays) and the quality bits that qualify them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Quality bits (uint8); 0 = a good prior.
NO_DATA = 1
"""The spectrum is all NaN, all zero, or lacks most of its channels."""
NO_LINE = 2
"""Hα SNR below the threshold: the kinematics are a guess."""
VELOCITY_OUT_OF_RANGE = 4
"""The predicted velocity lies outside the model's training range by more than its 1-sigma error."""
BROADENING_OUT_OF_RANGE = 8
"""The predicted broadening lies outside the model's training range by more than its 1-sigma error."""
EDGE = 16
"""A line window runs past the end of the spectrum (a line at the band edge or beyond)."""
SKIPPED = 32
"""Outside the requested region: not computed."""
OUTLIER = 64
"""A low-SNR velocity its neighbours contradict ([NII]/Hα alias; :mod:`mirabelle.inference.outliers`)."""
QUALITY_BITS = {
    "no_data": NO_DATA,
    "no_line": NO_LINE,
    "velocity_out_of_range": VELOCITY_OUT_OF_RANGE,
    "broadening_out_of_range": BROADENING_OUT_OF_RANGE,
    "edge": EDGE,
    "skipped": SKIPPED,
    "outlier": OUTLIER,
}
INVALID_BITS = NO_DATA | NO_LINE | SKIPPED | OUTLIER
"""A pixel with any of these bits has no usable prior (``valid_mask`` is 0 there)."""

FLOAT_MAPS = ("velocity", "broadening", "velocity_err", "broadening_err", "snr_halpha", "double_score",
              "double_offset")
UNITS = {
    "velocity": "km/s", "broadening": "km/s", "velocity_err": "km/s", "broadening_err": "km/s",
    "snr_halpha": "", "double_score": "", "double_offset": "km/s",
}


@dataclass
class KinematicMaps:
    """Per-pixel results of a whole-cube run, every array indexed ``[x, y]``.

    Attributes
    ----------
    velocity, broadening : (nx, ny) float32, km/s (CNN prediction; broadening = gaussian sigma).
    velocity_err, broadening_err : (nx, ny) float32, km/s, the model's 1-sigma uncertainties.
    snr_halpha : (nx, ny) float32, Hα amplitude over the residual noise.
    amplitudes : (nx, ny, 5) float32, line peak amplitudes (cube units) in ``LINE_NAMES`` order.
    fluxes : (nx, ny, 5) float32, line fluxes (cube units × cm⁻¹).
    quality : (nx, ny) uint8, OR of the quality bits of this module (0 = good).
    double_score : (nx, ny) float32 in 0..1, evidence for a second kinematic component.
    double_offset : (nx, ny) float32, km/s, velocity of the best second component
        relative to ``velocity`` (NaN when none improves the fit).
    done : (nx, ny) bool, pixels already processed (True also for skipped ones).
    binning : N of the N × N averaging used (values repeated over each block).
    model_name, model_version, model_sha256, cube_path : provenance strings.
    barycentric_kms : the cube's heliocentric correction (km/s, added to velocities for the
        barycentric frame; None when the cube does not say when and where it was observed).
    """

    velocity: np.ndarray
    broadening: np.ndarray
    velocity_err: np.ndarray
    broadening_err: np.ndarray
    snr_halpha: np.ndarray
    amplitudes: np.ndarray
    fluxes: np.ndarray
    quality: np.ndarray
    double_score: np.ndarray
    double_offset: np.ndarray
    done: np.ndarray
    binning: int = 1
    model_name: str = ""
    model_version: str = ""
    model_sha256: str = ""
    cube_path: str = ""
    barycentric_kms: float | None = None

    @classmethod
    def empty(cls, nx: int, ny: int, **metadata) -> KinematicMaps:
        """Maps of NaN, quality 0 and nothing done."""
        def nan(*shape):
            return np.full(shape, np.nan, np.float32)
        return cls(
            velocity=nan(nx, ny), broadening=nan(nx, ny), velocity_err=nan(nx, ny), broadening_err=nan(nx, ny),
            snr_halpha=nan(nx, ny), amplitudes=nan(nx, ny, 5), fluxes=nan(nx, ny, 5),
            quality=np.zeros((nx, ny), np.uint8), double_score=nan(nx, ny), double_offset=nan(nx, ny),
            done=np.zeros((nx, ny), bool), **metadata,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(nx, ny)."""
        return self.velocity.shape

    @property
    def fraction_done(self) -> float:
        """Fraction of pixels processed, 0..1."""
        return float(self.done.mean()) if self.done.size else 1.0

    @property
    def complete(self) -> bool:
        """True when every pixel is done."""
        return bool(self.done.all())

    def valid_mask(self, window: tuple[slice, slice] = (slice(None), slice(None))) -> np.ndarray:
        """(nx, ny) bool, or the block ``window`` (x slice, y slice) of it: done, finite
        kinematics and none of ``INVALID_BITS``."""
        return (self.done[window] & ((self.quality[window] & INVALID_BITS) == 0)
                & np.isfinite(self.velocity[window]) & np.isfinite(self.broadening[window]))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by field name (for saving)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}

    def metadata(self) -> dict:
        """The provenance fields (JSON-compatible)."""
        return {"binning": self.binning, "model_name": self.model_name, "model_version": self.model_version,
                "model_sha256": self.model_sha256, "cube_path": self.cube_path,
                "barycentric_kms": self.barycentric_kms}


@dataclass(frozen=True)
class TileResult:
    """One finished tile of a run, yielded by :func:`mirabelle.inference.runner.run_cube`.

    Attributes
    ----------
    x0, y0 : int, the tile's first pixel; ``x_slice``, ``y_slice`` its footprint.
    nx, ny : int, tile size in pixels.
    maps : the run's :class:`KinematicMaps`, already holding this tile.
    fraction : float, fraction of the run's pixels done, 0..1.
    elapsed_s, eta_s : seconds since the start, estimated seconds left.
    spectra : spectra sent to the network so far (after binning).
    spectra_per_s : throughput so far (spectra of the cube per second, before binning).
    """

    x0: int
    y0: int
    nx: int
    ny: int
    maps: KinematicMaps
    fraction: float
    elapsed_s: float
    eta_s: float
    spectra: int
    spectra_per_s: float

    @property
    def x_slice(self) -> slice:
        return slice(self.x0, self.x0 + self.nx)

    @property
    def y_slice(self) -> slice:
        return slice(self.y0, self.y0 + self.ny)

    def tile(self, name: str) -> np.ndarray:
        """This tile's part of map ``name`` (a view of ``maps``, e.g. ``result.tile("velocity")``)."""
        return getattr(self.maps, name)[self.x_slice, self.y_slice]
