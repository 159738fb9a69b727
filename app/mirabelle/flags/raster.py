"""Rasterise brush disks, brush segments and polygons onto ``[x, y]`` pixel grids (numpy only).

Pixel ``[i, j]`` has its centre at (x, y) = (i, j) (0-based, as ``regions.PixCoord`` and
``wcs.pixel_to_world``); a shape covers a pixel when it covers the pixel's centre. Each
function returns ``(window, covered)``: ``window`` a pair of slices into the ``(nx, ny)``
grid (the shape's bounding box clipped to the grid) and ``covered`` a bool array of that
window's shape, or ``None`` when the shape misses the grid.
"""

from __future__ import annotations

import math

import numpy as np

Window = tuple[slice, slice]


def _window(nx: int, ny: int, xmin: float, xmax: float, ymin: float, ymax: float) -> Window | None:
    x0, x1 = max(math.floor(xmin), 0), min(math.ceil(xmax) + 1, nx)
    y0, y1 = max(math.floor(ymin), 0), min(math.ceil(ymax) + 1, ny)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(x0, x1), slice(y0, y1)


def _centres(window: Window) -> tuple[np.ndarray, np.ndarray]:
    xs = np.arange(window[0].start, window[0].stop, dtype=float)[:, None]
    ys = np.arange(window[1].start, window[1].stop, dtype=float)[None, :]
    return xs, ys


def segment(nx: int, ny: int, x0: float, y0: float, x1: float, y1: float, radius: float):
    """Pixels whose centres lie within ``radius`` (pixels) of the segment (x0, y0)–(x1, y1).

    A segment of zero length is a disk. The pixel nearest to each end point is always
    covered, so a tiny brush still paints the pixel under the cursor.
    """
    radius = max(float(radius), 0.0)
    window = _window(nx, ny, min(x0, x1) - radius, max(x0, x1) + radius,
                     min(y0, y1) - radius, max(y0, y1) + radius)
    if window is None:
        return None, None
    xs, ys = _centres(window)
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros(np.broadcast_shapes(xs.shape, ys.shape))
    dist2 = (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2
    covered = dist2 <= radius * radius + 1e-9
    for px, py in ((x0, y0), (x1, y1)):
        i, j = int(round(px)) - window[0].start, int(round(py)) - window[1].start
        if 0 <= i < covered.shape[0] and 0 <= j < covered.shape[1]:
            covered[i, j] = True
    return window, covered


def disk(nx: int, ny: int, x: float, y: float, radius: float):
    """Pixels whose centres lie within ``radius`` (pixels) of (x, y); see :func:`segment`."""
    return segment(nx, ny, x, y, x, y, radius)


def polygon(nx: int, ny: int, vertices_xy):
    """Pixels whose centres are inside the polygon by the even-odd rule.

    ``vertices_xy``: (n, 2) array-like of (x, y) pixel coordinates, n ≥ 3; the polygon closes
    itself. Vectorised over the polygon's bounding box, one pass per edge.
    """
    vertices = np.asarray(vertices_xy, dtype=float).reshape(-1, 2)
    if len(vertices) < 3 or not np.all(np.isfinite(vertices)):
        return None, None
    window = _window(nx, ny, vertices[:, 0].min(), vertices[:, 0].max(),
                     vertices[:, 1].min(), vertices[:, 1].max())
    if window is None:
        return None, None
    xs, ys = _centres(window)
    inside = np.zeros((xs.shape[0], ys.shape[1]), dtype=bool)
    xa, ya = vertices[:, 0], vertices[:, 1]
    xb, yb = np.roll(xa, -1), np.roll(ya, -1)
    for ax, ay, bx, by in zip(xa, ya, xb, yb):
        if ay == by:
            continue  # a horizontal edge never crosses a horizontal ray
        straddles = (ay > ys) != (by > ys)  # (1, ny')
        x_cross = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= straddles & (xs < x_cross)
    return window, inside
