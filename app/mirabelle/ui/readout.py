"""The status-bar readout: pixel, RA/Dec (sexagesimal), deep value and map values under the cursor."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mirabelle.cube.sky import sky_position
from mirabelle.ui import core_api

READOUT_UNITS = {"velocity": "km/s", "broadening": "km/s", "velocity_err": "km/s", "broadening_err": "km/s"}
SHORT_NAMES = {"velocity": "v", "broadening": "σ", "velocity_err": "δv", "broadening_err": "δσ",
               "snr_halpha": "SNR", "flux_halpha": "F(Hα)", "double_score": "double"}


def readout_text(cube: Any, deep: np.ndarray | None, maps: Any, overlay: str | None, x: int, y: int) -> str:
    """One line for pixel (x, y): ``x 5  y 7   RA … Dec …   deep …   v … ± … km/s …``."""
    parts = [f"x {x}  y {y}"]
    sky = sky_position(getattr(cube, "wcs", None), x, y)
    if sky is not None:
        parts.append(str(sky))  # names the cube's frame (RADESYS), as `mirabelle info` does
    if deep is not None and 0 <= x < deep.shape[0] and 0 <= y < deep.shape[1]:
        parts.append(f"deep {format_value(float(deep[x, y]))}")
    if maps is not None:
        for name in ("velocity", "broadening", "snr_halpha", "double_score"):
            value = core_api.map_value(maps, name, x, y)
            if value is None:
                continue
            err = core_api.map_value(maps, name + "_err", x, y) if name in ("velocity", "broadening") else None
            unit = READOUT_UNITS.get(name, "")
            digits = 2 if name == "double_score" else 1
            text = f"{SHORT_NAMES[name]} {value:.{digits}f}" + (f" ± {err:.1f}" if err is not None else "")
            parts.append(text + (f" {unit}" if unit else ""))
        if overlay in ("flux_halpha", "velocity_err", "broadening_err"):
            value = core_api.map_value(maps, overlay, x, y)
            if value is not None:
                parts.append(f"{SHORT_NAMES[overlay]} {format_value(value)}")
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


