"""How the spectrum panel writes things: x-axis units, saliency colours and the info box text."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from mirabelle.cube.heliocentric import heliocentric_velocity
from mirabelle.lines import LINE_LABELS, LINE_NAMES, REST_NM, velocity_from_position
from mirabelle.session.pixel import PixelResult

SALIENCY_MIN_WEIGHT = 0.25
"""Saliency points below this weight are not drawn (as in Rhea et al. 2020, Fig. 5)."""
UNIT_LABELS = {"cm1": "Wavenumber (cm⁻¹)", "nm": "Wavelength (nm)", "kms": "Velocity of Hα (km/s)"}
UNIT_CHOICES = {"cm1": "cm⁻¹", "nm": "nm", "kms": "km/s (Hα)"}
REFINED_RGB = (44, 160, 44)
_SALIENCY_CMAP = pg.colormap.get("plasma")
_BRUSH_LEVELS = 16
_brush_cache: list = []


def to_unit(axis_cm1: np.ndarray, unit: str) -> np.ndarray:
    """Wavenumbers (cm⁻¹) expressed in ``unit``: 'cm1', 'nm' (1e7/σ) or 'kms' (Hα velocity)."""
    axis = np.asarray(axis_cm1, dtype=float)
    if unit == "nm":
        return 1e7 / axis
    if unit == "kms":
        return velocity_from_position(REST_NM["Halpha"], axis)
    return axis


def saliency_brushes(weights: np.ndarray) -> list:
    """Brushes for saliency weights (0.25..1 → plasma 0..0.85), quantised to 16 shared colours.

    Shared brushes let pyqtgraph render each symbol once instead of once per point.
    """
    if not _brush_cache:
        colours = _SALIENCY_CMAP.map(np.linspace(0.0, 0.85, _BRUSH_LEVELS), mode="qcolor")
        _brush_cache.extend(pg.mkBrush(c) for c in colours)
    t = (np.asarray(weights, dtype=float) - SALIENCY_MIN_WEIGHT) / (1.0 - SALIENCY_MIN_WEIGHT)
    levels = np.clip(np.rint(t * (_BRUSH_LEVELS - 1)), 0, _BRUSH_LEVELS - 1).astype(int)
    return [_brush_cache[k] for k in levels]


def _fmt(value, digits: int = 1) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.{digits}f}"


def _fmt_flux(value) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3g}"


def info_html(data: PixelResult | None, refined: dict | None = None) -> str:
    """The info box of one click: pixel, sky position, kinematics, SNR, score, fluxes, refinement, notes."""
    if data is None:
        return "<i>No pixel selected.</i>"
    kin = data.kinematics or {}
    rows = [f"<b>Pixel</b> ({data.x}, {data.y})"]
    if data.ra_dec:
        rows.append(data.ra_dec)
    if kin:
        rows.append(f"<b>Velocity</b> {_fmt(kin.get('velocity_kms'))} ± {_fmt(kin.get('velocity_err_kms'))} km/s")
        rows.append(f"<b>Broadening σ</b> {_fmt(kin.get('broadening_kms'))} ± "
                    f"{_fmt(kin.get('broadening_err_kms'))} km/s")
    else:
        rows.append("<i>No kinematics yet (inference not run here).</i>")
    if data.valid is False:
        rows.append("<i>No usable prior here (quality flags): the maps hide this pixel.</i>")
    rows.append(f"<b>Hα SNR</b> {_fmt(data.snr_halpha)}")
    rows.append(f"<b>Double score</b> {_fmt(data.double_score, 2)}")
    if kin and data.barycentric_kms is not None and kin.get("velocity_kms") is not None:
        helio = float(heliocentric_velocity(kin["velocity_kms"], data.barycentric_kms))
        rows.append(f"<b>Heliocentric</b> {_fmt(helio)} km/s <small>(correction {data.barycentric_kms:+.2f})</small>")
    if data.fluxes is not None:
        physical = data.line_fluxes is not None
        fluxes = np.asarray(data.line_fluxes if physical else data.fluxes, dtype=float).reshape(-1)[:5]
        unit = data.line_flux_unit if physical else "cube units × cm⁻¹"
        rows.append(f"<b>Fluxes</b> <small>({unit})</small>")
        rows += [f"&nbsp;&nbsp;{LINE_LABELS[n]} {_fmt_flux(f)}" for n, f in zip(LINE_NAMES, fluxes)]
    if refined is not None:
        comps = ", ".join(f"{v:.1f}" for v in refined["velocity_kms"])
        widths = ", ".join(f"{b:.1f}" for b in refined["broadening_kms"])
        rows.append(f"<span style='color: rgb{REFINED_RGB}'><b>Refined</b> v {comps} km/s, σ {widths} km/s</span>")
    rows += [f"<i>{note}</i>" for note in data.notes]
    return "<br>".join(rows)
