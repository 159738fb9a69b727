"""RA and Dec ticks on the edges of a cube's image, for an exported figure with sky axes.

As WCSAxes places edge ticks, a tick sits where a line of constant RA crosses the bottom edge
(or one of constant Dec the left edge), at a round sexagesimal step: on a rotated or distorted
field the labels stay exact where they touch the edge. Positions are 0-based pixel coordinates
(pixel centres at integers, the image's edges at −0.5 and n − 0.5), as Mirabelle counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RA_STEPS_S = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
"""Candidate RA steps, seconds of time (1 s = 15″ on the equator)."""
DEC_STEPS_ARCSEC = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000)
"""Candidate Dec steps, arcseconds."""
SAMPLES_PER_PIXEL = 4


def edge_ticks(wcs: Any, nx: int, ny: int, coordinate: str, max_ticks: int = 5) -> list[tuple[float, str]]:
    """``(position, label)`` of the RA ticks on the bottom edge (``"ra"``: x positions) or the Dec
    ticks on the left edge (``"dec"``: y positions), at most ``max_ticks`` + 1 of them, through the
    celestial part of ``wcs`` (astropy). Empty when the coordinate is not monotonic along that edge
    (a pole or a discontinuity in the field): the figure then keeps pixel ticks there."""
    if coordinate not in ("ra", "dec"):
        raise ValueError(f"coordinate: expected 'ra' or 'dec', found {coordinate!r}")
    n = int(nx if coordinate == "ra" else ny)
    along = np.linspace(-0.5, n - 0.5, SAMPLES_PER_PIXEL * n + 1)
    edge = np.full_like(along, -0.5)
    x, y = (along, edge) if coordinate == "ra" else (edge, along)
    lon_deg, lat_deg = wcs.celestial.pixel_to_world_values(x, y)
    if coordinate == "ra":
        values, steps = np.rad2deg(np.unwrap(np.deg2rad(lon_deg))) * 240.0, RA_STEPS_S  # 1° = 240 s of time
    else:
        values, steps = np.asarray(lat_deg) * 3600.0, DEC_STEPS_ARCSEC
    change = np.diff(values)
    if not np.all(np.isfinite(values)) or not (np.all(change > 0) or np.all(change < 0)):
        return []
    low, high = float(values.min()), float(values.max())
    step = next((s for s in steps if (high - low) / s <= max_ticks), steps[-1])
    ticks = np.arange(np.ceil(low / step), np.floor(high / step) + 1) * step
    order = np.argsort(values)
    positions = np.interp(ticks, values[order], along[order])
    decimals = 1 if step < 1 else 0
    return [(float(p), str(_label(float(t), coordinate, decimals))) for p, t in zip(positions, ticks)]


def _label(value: float, coordinate: str, decimals: int) -> str:
    """``01h33m50s`` (RA, ``value`` in seconds of time) or ``+30°39′36″`` (Dec, in arcseconds)."""
    import astropy.units as u
    from astropy.coordinates import Angle

    if coordinate == "ra":
        return Angle((value / 3600.0) % 24.0, u.hourangle).to_string(sep="hms", precision=decimals, pad=True)
    return Angle(value / 3600.0, u.deg).to_string(sep="°′″", precision=decimals, alwayssign=True, pad=True)


def frame_name(wcs: Any) -> str:
    """The WCS's celestial frame for the axis titles (``ICRS``, ``FK5 J2000``), or ``""``."""
    from astropy.wcs.utils import wcs_to_celestial_frame

    from mirabelle.cube.sky import frame_label

    try:
        return frame_label(wcs_to_celestial_frame(wcs.celestial))
    except ValueError:  # no celestial frame astropy knows
        return ""
