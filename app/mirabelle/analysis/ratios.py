"""Diagnostic line-ratio maps: [NII]6583/Hα, ([SII]6716+6731)/Hα, [SII]6716/6731 and the
electron density it implies (PyNeb's S⁺ atom at a chosen electron temperature).

Fluxes are ``[x, y]`` maps of any one unit (CNN line fluxes or moment-0 maps). A ratio
is NaN where a flux it uses is not positive or, when SNR maps are given, where one of
its lines is below ``min_snr``. The density is NaN where the doublet ratio lies outside
the range PyNeb can invert (the low- and high-density limits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirabelle.lines.constants import LINE_NAMES

MIN_SNR = 3.0
"""Line SNR below which a ratio using that line is masked."""
DEFAULT_TEMPERATURE_K = 1e4
"""Electron temperature of HII regions assumed for the [SII] density (K)."""
RATIOS = {
    "nii_halpha": (("NII6583",), ("Halpha",)),
    "sii_halpha": (("SII6716", "SII6731"), ("Halpha",)),
    "sii_doublet": (("SII6716",), ("SII6731",)),
}
"""Ratio name -> (numerator lines, denominator lines)."""
LABELS = {"nii_halpha": "[NII]6583/Hα", "sii_halpha": "[SII]6716+6731/Hα", "sii_doublet": "[SII]6716/6731",
          "electron_density": "n_e (cm⁻³)"}
_TABLE_RATIOS = np.linspace(0.40, 1.50, 111)


@dataclass
class DiagnosticMaps:
    """Ratio maps (dimensionless) and the [SII] electron density (cm⁻³), ``[x, y]`` float32."""

    nii_halpha: np.ndarray
    sii_halpha: np.ndarray
    sii_doublet: np.ndarray
    electron_density_cm3: np.ndarray
    temperature_k: float


_DENSITY_TABLES: dict[float, tuple[np.ndarray, np.ndarray]] = {}
"""PyNeb's tables by temperature (K), each computed once (a user picks a few temperatures)."""


def density_table_ready(temperature_k: float) -> bool:
    """True when the density at ``temperature_k`` is a table lookup; the first one at each
    temperature asks PyNeb (about 3 s of CPU with its import: the window does it in a worker)."""
    return float(temperature_k) in _DENSITY_TABLES


def _density_table(temperature_k: float) -> tuple[np.ndarray, np.ndarray]:
    table = _DENSITY_TABLES.get(temperature_k)
    if table is None:
        table = _DENSITY_TABLES[temperature_k] = _pyneb_table(temperature_k)
    return table


def _pyneb_table(temperature_k: float) -> tuple[np.ndarray, np.ndarray]:
    """(ratios ascending, densities cm⁻³) from PyNeb's getTemDen on a grid of 6716/6731 ratios."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyneb as pn

        densities = np.asarray(pn.Atom("S", 2).getTemDen(_TABLE_RATIOS, tem=temperature_k,
                                                          wave1=6717, wave2=6731), dtype=float)
    # PyNeb returns NaN, or its search bounds, outside the invertible range
    usable = np.isfinite(densities) & (densities > 1.0) & (densities < 1e7)
    return _TABLE_RATIOS[usable], densities[usable]


def electron_density_cm3(sii_doublet, temperature_k: float = DEFAULT_TEMPERATURE_K) -> np.ndarray:
    """Electron density (cm⁻³) from the [SII]6716/6731 flux ratio at ``temperature_k`` (K).

    NaN outside the ratio range PyNeb inverts (about 0.45–1.43 at 10⁴ K).
    """
    if not temperature_k > 0:
        from mirabelle.errors import MirabelleError

        raise MirabelleError(f"expected a positive electron temperature in K, found {temperature_k}")
    ratios, densities = _density_table(float(temperature_k))
    values = np.asarray(sii_doublet, dtype=float)
    # density falls as the ratio rises: interpolate log density, NaN outside the table
    log_density = np.interp(values, ratios, np.log10(densities), left=np.nan, right=np.nan)
    return 10.0 ** log_density


def line_ratio(fluxes: dict, numerator, denominator, snr: dict | None = None,
               min_snr: float = MIN_SNR) -> np.ndarray:
    """Σ numerator fluxes / Σ denominator fluxes, NaN where a flux ≤ 0 or a given SNR < ``min_snr``."""
    top = sum(np.asarray(fluxes[n], dtype=float) for n in numerator)
    bottom = sum(np.asarray(fluxes[n], dtype=float) for n in denominator)
    bad = ~(bottom > 0)
    for name in (*numerator, *denominator):
        bad |= ~(np.asarray(fluxes[name], dtype=float) > 0)
        if snr is not None and name in snr:
            bad |= ~(np.asarray(snr[name], dtype=float) >= min_snr)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bad, np.nan, top / bottom)


def diagnostic_maps(fluxes: dict, snr: dict | None = None, *, min_snr: float = MIN_SNR,
                    temperature_k: float = DEFAULT_TEMPERATURE_K) -> DiagnosticMaps:
    """The three ratio maps and the density map from per-line flux maps.

    Parameters
    ----------
    fluxes : line name (`LINE_NAMES`) -> (nx, ny) flux map, same unit for every line.
    snr : optional line name -> (nx, ny) SNR map (lines absent are not SNR-masked).
    """
    ratios = {name: line_ratio(fluxes, top, bottom, snr, min_snr).astype(np.float32)
              for name, (top, bottom) in RATIOS.items()}
    density = electron_density_cm3(ratios["sii_doublet"], temperature_k).astype(np.float32)
    return DiagnosticMaps(**ratios, electron_density_cm3=density, temperature_k=float(temperature_k))


def fluxes_by_line(fluxes_xy5: np.ndarray) -> dict:
    """(nx, ny, 5) flux array in `LINE_NAMES` order (`KinematicMaps.fluxes`) -> line name -> map."""
    return {name: fluxes_xy5[..., i] for i, name in enumerate(LINE_NAMES)}


def select_in_ratio_box(nii_halpha: np.ndarray, sii_halpha: np.ndarray,
                        nii_range: tuple[float, float], sii_range: tuple[float, float]) -> np.ndarray:
    """(nx, ny) bool: pixels whose two ratios lie inside the ranges (a brushed selection of the
    [NII]/Hα–[SII]/Hα diagram); NaN pixels are never selected."""
    with np.errstate(invalid="ignore"):
        return ((nii_halpha >= min(nii_range)) & (nii_halpha <= max(nii_range))
                & (sii_halpha >= min(sii_range)) & (sii_halpha <= max(sii_range)))
