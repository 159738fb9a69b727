"""Position–velocity slices: spectra sampled along a line or polyline, averaged across a width.

The path is sampled every pixel along each segment (vertices included once). At each
sample the spectra of the ``width`` pixels nearest the perpendicular through it
(offsets −(w−1)/2 … (w−1)/2 pixels, rounded to the nearest pixel centre) are averaged,
NaN ignored; a sample with no data is NaN. Spectra are on the cube's base axis
(`mirabelle.analysis.pixels`); velocities are about ``line`` (relativistic, as ORB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.analysis.pixels import iter_pixel_spectra
from mirabelle.analysis.spectral_frames import line_name
from mirabelle.errors import MirabelleError
from mirabelle.lines.constants import REST_NM
from mirabelle.lines.kinematics import velocity_from_position


class PathError(MirabelleError, ValueError):
    """A PV path with too few points, zero length or outside the cube."""


@dataclass(frozen=True, eq=False)
class PVSlice:
    """A position–velocity image.

    Attributes
    ----------
    data : (npos, nz) float64, ``[position, channel]``, mean spectrum across the width (cube units).
    offsets_px : (npos,) distance along the path from its first vertex (pixels).
    samples_xy : (npos, 2) float sample positions (x, y) in pixels.
    axis_cm1 : (nz,) base axis (cm⁻¹, ascending).
    velocity_kms : (nz,) velocity of each channel about ``line``, km/s.
    line : `LINE_NAMES` name of the reference line.
    width_px : pixels averaged across the path.
    vertices : ((x, y), ...) the path as given.
    """

    data: np.ndarray
    offsets_px: np.ndarray
    samples_xy: np.ndarray
    axis_cm1: np.ndarray
    velocity_kms: np.ndarray
    line: str
    width_px: int
    vertices: tuple[tuple[float, float], ...]


def sample_path(vertices, step_px: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(samples (n, 2), offsets (n,), unit normals (n, 2)) every ``step_px`` along a polyline."""
    points = np.asarray(vertices, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
        raise PathError(f"expected a path of at least two (x, y) points, found {np.asarray(vertices).tolist()}")
    samples, offsets, normals = [], [], []
    travelled = 0.0
    for start, end in zip(points[:-1], points[1:]):
        length = float(np.hypot(*(end - start)))
        if length == 0:
            continue
        direction = (end - start) / length
        count = max(1, int(np.floor(length / step_px)))
        t = np.arange(count) * step_px
        samples.append(start + t[:, None] * direction)
        offsets.append(travelled + t)
        normals.append(np.tile([-direction[1], direction[0]], (count, 1)))
        travelled += length
    if not samples:
        raise PathError(f"expected a path of non-zero length, found all points at {points[0].tolist()}")
    samples.append(points[-1:])
    offsets.append([travelled])
    normals.append(normals[-1][-1:])
    return np.vstack(samples), np.concatenate(offsets), np.vstack(normals)


def pv_slice(cube, vertices, *, width_px: int = 1, line: str = "Halpha") -> PVSlice:
    """The position–velocity image of ``cube`` along ``vertices`` ((x, y) pixels, 0-based).

    Raises
    ------
    PathError
        When the path is degenerate, the width is not a positive integer, or no sample
        falls on the cube.
    """
    line = line_name(line)
    if int(width_px) != width_px or width_px < 1:
        raise PathError(f"expected a positive whole number of pixels for the PV width, found {width_px}")
    width_px = int(width_px)
    samples, offsets, normals = sample_path(vertices)
    across = np.arange(width_px) - (width_px - 1) / 2
    points = samples[:, None, :] + across[None, :, None] * normals[:, None, :]  # (n, w, 2)
    pix = np.rint(points).astype(int)
    inside = (pix[..., 0] >= 0) & (pix[..., 0] < cube.nx) & (pix[..., 1] >= 0) & (pix[..., 1] < cube.ny)
    if not inside.any():
        raise PathError(f"expected a path over {cube.path.name} (x 0–{cube.nx - 1}, y 0–{cube.ny - 1}), "
                        f"found it entirely outside: {np.asarray(vertices).tolist()}")
    mask = np.zeros((cube.nx, cube.ny), bool)
    mask[pix[inside][:, 0], pix[inside][:, 1]] = True
    index = -np.ones((cube.nx, cube.ny), int)
    spectra = np.full((int(mask.sum()), cube.nz), np.nan)
    filled = 0
    for x, y, block in iter_pixel_spectra(cube, mask):
        index[x, y] = np.arange(filled, filled + len(x))
        spectra[filled:filled + len(x)] = block
        filled += len(x)
    rows = np.where(inside, index[np.clip(pix[..., 0], 0, cube.nx - 1), np.clip(pix[..., 1], 0, cube.ny - 1)], -1)
    gathered = np.where((rows >= 0)[..., None], spectra[np.maximum(rows, 0)], np.nan)  # (n, w, nz)
    with np.errstate(invalid="ignore"):
        count = np.isfinite(gathered).sum(axis=1)
        data = np.where(count > 0, np.nansum(gathered, axis=1) / np.maximum(count, 1), np.nan)
    axis = np.asarray(cube.base_axis_cm1, dtype=np.float64).copy()
    return PVSlice(data=data, offsets_px=offsets, samples_xy=samples, axis_cm1=axis,
                   velocity_kms=velocity_from_position(REST_NM[line], axis), line=line, width_px=width_px,
                   vertices=tuple((float(x), float(y)) for x, y in np.asarray(vertices, dtype=float)))
