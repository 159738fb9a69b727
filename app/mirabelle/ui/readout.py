"""The status-bar readout: pixel, RA/Dec (sexagesimal), deep value and map values under the cursor."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mirabelle.cube.sky import sky_position
from mirabelle.session.registry import MAPS, map_spec, map_value

def readout_text(cube: Any, deep: np.ndarray | None, maps: Any, overlay: str | None, x: int, y: int) -> str:
    """One line for pixel (x, y): ``x 5  y 7 (0-based; DS9 6, 8)   RA … Dec …   deep …   v … ± … km/s …``.

    Pixels are 0-based as everywhere in Mirabelle; DS9's 1-based pixel is given beside them.

    The maps shown are the registry's readout maps plus the overlay, valued as the overlay
    shows them (hidden where the map is masked).
    """
    parts = [f"x {x}  y {y} (0-based; DS9 {x + 1}, {y + 1})"]
    sky = sky_position(getattr(cube, "wcs", None), x, y)
    if sky is not None:
        parts.append(str(sky))  # names the cube's frame (RADESYS), as `mirabelle info` does
    if deep is not None and 0 <= x < deep.shape[0] and 0 <= y < deep.shape[1]:
        parts.append(f"deep {format_value(float(deep[x, y]))}")
    if maps is not None:
        for spec in MAPS:
            if not spec.readout:
                continue
            value = map_value(maps, spec.name, x, y)
            if value is None:
                continue
            err = map_value(maps, spec.error, x, y) if spec.error else None
            text = f"{spec.short} {value:.{spec.digits}f}" + (f" ± {err:.1f}" if err is not None else "")
            parts.append(text + (f" {spec.unit}" if spec.unit else ""))
        if overlay is not None and not map_spec(overlay).readout:
            value = map_value(maps, overlay, x, y)
            if value is not None:
                parts.append(f"{map_spec(overlay).short} {format_value(value)}")
    return "   ".join(parts)


def format_value(value: float) -> str:
    if not math.isfinite(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-2):
        return f"{value:.3e}"
    return f"{value:.4g}"


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


