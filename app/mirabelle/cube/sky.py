"""Sky positions of cube pixels, in the cube's own frame (its RADESYS/EQUINOX), for every display.

`mirabelle info` and the window's readout both use :func:`sky_position`, so they name and show
the same frame: a FK5 J2000 cube reads "FK5 J2000" everywhere, never ICRS in one place and
unlabelled FK5 in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SkyPosition:
    """RA and Dec of one pixel in sexagesimal text, and the frame they are in."""

    ra: str
    """hours, e.g. ``01:33:50.90``"""
    dec: str
    """degrees, e.g. ``+30:39:36.6``"""
    frame: str
    """e.g. ``ICRS``, ``FK5 J2000``, ``FK4 B1950``"""

    def __str__(self) -> str:
        return f"RA {self.ra}  Dec {self.dec} ({self.frame})"


def frame_label(frame: Any) -> str:
    """``ICRS``, or the frame's name with its equinox (``FK5 J2000``, ``FK4 B1950``)."""
    name = frame.name.upper()
    equinox = getattr(frame, "equinox", None)
    if equinox is None:
        return name
    text = equinox.byear_str if name == "FK4" else equinox.jyear_str
    return f"{name} {text.removesuffix('.000')}"


def sky_position(wcs: Any, x: float, y: float) -> SkyPosition | None:
    """The sky position of 0-based pixel (x, y) through ``wcs`` (astropy), in the WCS's own frame.

    None when there is no WCS, the WCS is not equatorial, or astropy cannot transform the pixel.
    Through the low-level API: a click asks for it twice, and a SkyCoord costs ~1.5 ms each.
    """
    if wcs is None:
        return None
    try:
        from astropy import units as u
        from astropy.coordinates import Angle
        from astropy.wcs.utils import wcs_to_celestial_frame

        if wcs.wcs.lngtyp != "RA":
            return None
        world = wcs.pixel_to_world_values(x, y)
        ra = Angle(float(world[wcs.wcs.lng]), u.deg).to_string(unit="hourangle", sep=":", precision=2, pad=True)
        dec = Angle(float(world[wcs.wcs.lat]), u.deg).to_string(unit="deg", sep=":", precision=1, alwayssign=True,
                                                                pad=True)
        return SkyPosition(ra, dec, frame_label(wcs_to_celestial_frame(wcs)))
    except Exception:  # noqa: BLE001 - a broken or non-equatorial WCS must not break the caller
        return None
