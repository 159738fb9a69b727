"""Export flag masks: a uint8 FITS mask with the cube's WCS and a DS9 region file of region outlines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mirabelle.atomic import write_atomic
from mirabelle.errors import ExportError
from mirabelle.flags.storage import _fits_bytes

# Direction vectors on the pixel-corner lattice, counter-clockwise order: +x, +y, -x, -y.
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))


@dataclass(frozen=True)
class Outline:
    """A closed outline of flagged pixels, as the union of their pixel squares.

    vertices: (n, 2) pixel coordinates (x, y) of the corners, pixel centres at integers
    (so corners at half-integers); counter-clockwise for an outer edge, clockwise for a
    hole. label: the connected region (1-based, as :meth:`FlagMask.regions`) it bounds.
    """

    vertices: np.ndarray
    is_hole: bool
    label: int

    @property
    def area(self) -> float:
        """Signed area in pixels (positive outer edges, negative holes)."""
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _edges(mask: np.ndarray) -> dict[tuple[int, int], list[int]]:
    """Boundary edges on the corner lattice (corner (a, b) is pixel coordinate (a − ½, b − ½)).

    Returns start corner -> list of direction indices, oriented with the flagged pixel on
    the left (counter-clockwise around regions, clockwise around holes).
    """
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    out: dict[tuple[int, int], list[int]] = {}
    # (neighbour offset, start corner offset, direction index)
    sides = (((0, -1), (0, 0), 0), ((1, 0), (1, 0), 1), ((0, 1), (1, 1), 2), ((-1, 0), (0, 1), 3))
    nx, ny = mask.shape
    for (dx, dy), (sx, sy), direction in sides:
        neighbour = padded[1 + dx:1 + dx + nx, 1 + dy:1 + dy + ny]
        xs, ys = np.nonzero(inner & ~neighbour)
        for a, b in zip((xs + sx).tolist(), (ys + sy).tolist()):
            out.setdefault((a, b), []).append(direction)
    return out


def trace_outlines(mask_xy: np.ndarray) -> list[Outline]:
    """Outlines (outer edges and holes) of the 4-connected regions of a bool ``[x, y]`` mask.

    Where two pixels touch only at a corner the outline turns left, keeping them apart,
    consistent with 4-connectivity. Collinear corners are dropped.
    """
    from scipy import ndimage  # deferred: scipy would delay the window's first paint

    mask = np.asarray(mask_xy, dtype=bool)
    labels, _ = ndimage.label(mask)
    edges = _edges(mask)
    outlines: list[Outline] = []
    while edges:
        start = next(iter(edges))
        first = edges[start].pop(0)
        if not edges[start]:
            del edges[start]
        corners, directions = [start], [first]
        corner = (start[0] + _DIRS[first][0], start[1] + _DIRS[first][1])
        previous = first
        while True:
            options = list(edges.get(corner, ()))
            if corner == start:
                options.append(first)
            direction = next((previous + turn) % 4 for turn in (1, 0, 3) if (previous + turn) % 4 in options)
            if corner == start and direction == first:
                break
            edges[corner].remove(direction)
            if not edges[corner]:
                del edges[corner]
            corners.append(corner)
            directions.append(direction)
            corner = (corner[0] + _DIRS[direction][0], corner[1] + _DIRS[direction][1])
            previous = direction
        # keep corners where the direction changes (the incoming one is the previous step's)
        keep = [k for k in range(len(corners)) if directions[k] != directions[k - 1]]
        vertices = np.asarray([corners[k] for k in keep], dtype=float) - 0.5
        label = int(labels[_left_pixel(start, first)])
        area = Outline(vertices, False, label).area
        outlines.append(Outline(vertices, area < 0, label))
    return outlines


def _left_pixel(corner: tuple[int, int], direction: int) -> tuple[int, int]:
    """Index of the pixel on the left of the unit edge leaving ``corner`` in ``direction``.

    Corner (a, b) sits at pixel coordinate (a − ½, b − ½); the pixel centre is the edge's
    middle plus half a pixel along the left normal (−dy, dx).
    """
    dx, dy = _DIRS[direction]
    return (corner[0] + (dx - dy - 1) // 2, corner[1] + (dy + dx - 1) // 2)


def write_fits_mask(path: str | Path, mask_xy: np.ndarray, wcs=None, extra_header: dict | None = None) -> Path:
    """Write a ``[x, y]`` mask as a uint8 FITS image (1 = flagged; NAXIS1 = x) with ``wcs``.

    Written atomically (temporary file + rename); raises ExportError when it cannot be.
    """
    return write_atomic(path, _fits_bytes(np.asarray(mask_xy, dtype=bool), wcs, extra_header))


def flag_regions(mask_xy: np.ndarray, wcs=None) -> list:
    """``regions`` shapes outlining the flagged pixels: one polygon per region edge.

    Outer edges are include polygons, holes exclude polygons (``-polygon`` in DS9), listed
    after their region; regions in decreasing area. Sky polygons (ICRS/the WCS frame) when
    ``wcs`` is given, pixel polygons otherwise.
    """
    from regions import PixCoord, PolygonPixelRegion, RegionMeta, RegionVisual

    outlines = trace_outlines(mask_xy)
    outer_area = {o.label: o.area for o in outlines if not o.is_hole}
    outlines.sort(key=lambda o: (-outer_area.get(o.label, 0.0), o.label, o.is_hole))
    shapes = []
    for outline in outlines:
        meta = RegionMeta({"text": f"flag {outline.label}"} if not outline.is_hole else {})
        meta["include"] = 0 if outline.is_hole else 1
        visual = RegionVisual({"color": "magenta"})
        vertices = PixCoord(outline.vertices[:, 0], outline.vertices[:, 1])
        pixel_region = PolygonPixelRegion(vertices, meta=meta, visual=visual)
        shapes.append(pixel_region.to_sky(wcs) if wcs is not None else pixel_region)
    return shapes


def ds9_text(mask_xy: np.ndarray, wcs=None) -> str:
    """The outlines of the flagged regions as DS9 region text (sky coordinates with a WCS).

    Readable by ``regions.Regions.parse(text, format="ds9")``; see :func:`flag_regions`.
    """
    from regions import Regions

    shapes = flag_regions(mask_xy, wcs)
    if not shapes:
        frame = "icrs" if wcs is not None else "image"
        return f"# Region file format: DS9 astropy/regions\n# no flagged pixels\n{frame}\n"
    try:
        return Regions(shapes).serialize(format="ds9", precision=8)
    except Exception as exc:  # regions raises various errors for unserialisable frames
        raise ExportError(f"Cannot write the flags as DS9 regions: {exc}.") from exc


def write_ds9_regions(path: str | Path, mask_xy: np.ndarray, wcs=None) -> Path:
    """Write :func:`ds9_text` of the flags to ``path``."""
    return write_atomic(path, ds9_text(mask_xy, wcs).encode("utf-8"))
