"""What a cube file may declare: checked before anything is allocated from it.

A header is only a claim; a 55 kB file declaring ``step_nb = 2**31`` or 100000 × 100000
pixels must be refused with a sentence, not answered with a 16 GiB allocation. The bounds
are generous for SITELLE (a 2048 × 2064 detector, ~100–2000 steps, a 2943 nm SN3 step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mirabelle.errors import CubeError

MAX_PIXELS = 4 * 2048 * 2064
"""Most spatial pixels a cube may declare (four SITELLE detectors)."""
MIN_CHANNELS = 2
"""Fewest channels of a spectral cube."""
MAX_STEPS = 100_000
"""Most mirror steps (and channels) a cube may declare."""
STEP_RANGE_NM = (100.0, 100_000.0)
"""Plausible mirror step (nm); SITELLE's are ~1000–4000."""
AXIS_RANGE_CM1 = (2_000.0, 50_000.0)
"""Plausible wavenumbers (cm⁻¹): 200 nm – 5 µm, every SITELLE filter inside."""


def check_shape(shape: tuple[int, ...], path: str | Path) -> None:
    """CubeError when an (nx, ny, nz) shape is implausible for a spectral cube."""
    nx, ny, nz = (int(n) for n in shape)
    if nx * ny > MAX_PIXELS:
        raise CubeError(f"{path} declares {nx} × {ny} pixels: expected at most {MAX_PIXELS:,} "
                        "(a SITELLE frame is 2048 × 2064)")
    if nz < MIN_CHANNELS:
        raise CubeError(f"{path} has {nz} channel{'s' if nz != 1 else ''}: expected a spectral cube of at "
                        f"least {MIN_CHANNELS} channels")
    if nz > MAX_STEPS:
        raise CubeError(f"{path} declares {nz:,} channels: expected at most {MAX_STEPS:,}")


def check_interferometer(step_nm: float, step_nb: float, path: str | Path) -> None:
    """CubeError when the mirror step (nm) or the number of steps is implausible."""
    lo, hi = STEP_RANGE_NM
    if not lo <= step_nm <= hi:
        raise CubeError(f"{path} has step = {step_nm:.6g} nm: expected a mirror step between {lo:g} and "
                        f"{hi:g} nm (SITELLE's SN3 step is 2943 nm)")
    if not 1 <= step_nb <= MAX_STEPS:
        raise CubeError(f"{path} has step_nb = {step_nb:.6g}: expected 1 to {MAX_STEPS:,} mirror steps")


def check_axis(axis_cm1: np.ndarray, path: str | Path) -> None:
    """CubeError when a spectral axis is not finite, ascending wavenumbers in the optical range."""
    lo, hi = AXIS_RANGE_CM1
    if not np.all(np.isfinite(axis_cm1)):
        raise CubeError(f"{path}: its spectral axis holds non-finite values")
    first, last = float(axis_cm1[0]), float(axis_cm1[-1])
    if first < lo or last > hi:
        raise CubeError(f"{path}: its spectral axis spans {first:.6g}–{last:.6g} cm-1, outside the optical "
                        f"range {lo:g}–{hi:g} cm-1 (check the axis unit and the step)")
