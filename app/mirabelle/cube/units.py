"""The physical unit of a cube's values and of its line fluxes.

Which unit the stored values are in, in this order:

1. a ``BUNIT`` attribute or keyword that astropy reads as a flux density per wavelength
   (e.g. ``1e-17 erg/cm2/s/Angstrom``), or ORB's ``FLUX``: the values are flux densities;
2. an ORB ``flambda`` vector (erg/cm²/s/Å per count, one value per channel) with values of
   count-like size: the values are counts and ``flambda`` converts them;
3. otherwise counts, said so (no flux calibration).

Line fluxes come out of the line solve in value units × cm⁻¹ (the integral over
wavenumber). With a flux density ``f_λ`` per Å the line flux in erg/cm²/s is
``F_σ · f · 1e8 / σ²`` (``dλ[Å] = 1e8 dσ / σ²``, σ the line's wavenumber in cm⁻¹, ``f``
the conversion of the values to erg/cm²/s/Å); in counts it is ``F_σ / Δσ``, the counts
summed over the channels (Δσ the channel width).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

FLUX_DENSITY_LABEL = "erg/cm²/s/Å"
LINE_FLUX_LABEL = "erg/cm²/s"
COUNTS_LABEL = "counts"
FITS_UNITS = {FLUX_DENSITY_LABEL: "erg/cm2/s/Angstrom", LINE_FLUX_LABEL: "erg/cm2/s", COUNTS_LABEL: "counts"}
"""FITS ``BUNIT`` spelling of each label."""
COUNT_LIKE_MINIMUM = 1e-10
"""Stored values whose typical size is below this cannot be counts: they are already fluxes."""


@dataclass(frozen=True)
class FluxUnits:
    """Units of one cube.

    Attributes
    ----------
    spectrum : label of the stored values: ``'erg/cm²/s/Å'`` or ``'counts'`` (spectrum axis,
        readout, info box).
    line_flux : label of line fluxes after :meth:`line_flux_factor`: ``'erg/cm²/s'`` or ``'counts'``.
    calibrated : True when line fluxes are physical fluxes.
    source : how the unit was found (shown by ``mirabelle info``).
    to_flux_density : (nz,) factor from the stored values to erg/cm²/s/Å, or None for counts.
    """

    spectrum: str
    line_flux: str
    calibrated: bool
    source: str
    to_flux_density: np.ndarray | None = None

    @property
    def spectrum_bunit(self) -> str:
        """FITS ``BUNIT`` of the stored values."""
        return FITS_UNITS[self.spectrum]

    @property
    def line_flux_bunit(self) -> str:
        """FITS ``BUNIT`` of the line-flux maps."""
        return FITS_UNITS[self.line_flux]

    def line_flux_factor(self, cube, position_cm1: np.ndarray) -> np.ndarray:
        """Factor from solver fluxes (value units × cm⁻¹) to ``line_flux`` at line wavenumbers.

        ``position_cm1`` broadcasts against the cube's ``[x, y]`` maps (e.g. (nx, ny, 5));
        for counts the factor is 1 / the pixel's channel width.
        """
        position = np.asarray(position_cm1, dtype=np.float64)
        axis = cube.base_axis_cm1
        if self.to_flux_density is None:
            width = float((axis[-1] - axis[0]) / max(axis.size - 1, 1))
            corr = cube.corr_map() / cube.axis_corr if not cube.calibrated else np.ones((cube.nx, cube.ny))
            corr = corr.reshape(corr.shape + (1,) * (position.ndim - corr.ndim))
            return np.broadcast_to(1.0 / (width * corr), np.broadcast_shapes(position.shape, corr.shape))
        density = np.interp(position, axis, self.to_flux_density)
        return density * 1e8 / position**2


def flux_units(cube) -> FluxUnits:
    """The units of ``cube`` (cached on the cube after the first call; see module docstring)."""
    cached = getattr(cube, "_mirabelle_flux_units", None)
    if cached is None:
        cached = _find_units(cube)
        cube._mirabelle_flux_units = cached
    return cached


def line_flux_maps(fluxes, velocity_kms, cube) -> tuple[np.ndarray, str]:
    """(nx, ny, 5) line fluxes in the cube's physical unit and that unit's label.

    ``fluxes`` are the solver's (value units × cm⁻¹, ``KinematicMaps.fluxes``); each line
    is converted at its observed wavenumber (velocity ``velocity_kms`` (nx, ny), km/s).
    """
    from mirabelle.lines import LINE_NAMES, REST_NM, line_position_cm1

    units = flux_units(cube)
    rest = np.array([REST_NM[name] for name in LINE_NAMES])
    velocity = np.where(np.isfinite(velocity_kms), velocity_kms, 0.0)
    position = line_position_cm1(rest, np.asarray(velocity, dtype=np.float64)[..., None])
    factor = units.line_flux_factor(cube, position)
    return (np.asarray(fluxes, dtype=np.float64) * factor).astype(np.float32), units.line_flux


def pixel_line_fluxes(cube, x: int, y: int, fluxes, velocity_kms: float) -> tuple[np.ndarray, str]:
    """(5,) line fluxes of pixel (x, y) in the cube's physical unit and its label (as `line_flux_maps`)."""
    from mirabelle.lines import LINE_NAMES, REST_NM, line_position_cm1

    units = flux_units(cube)
    rest = np.array([REST_NM[name] for name in LINE_NAMES])
    position = line_position_cm1(rest, velocity_kms if np.isfinite(velocity_kms) else 0.0)
    if units.to_flux_density is None:
        axis = cube.base_axis_cm1
        width = float((axis[-1] - axis[0]) / max(axis.size - 1, 1))
        corr = 1.0 if cube.calibrated else float(cube.corr_map()[x, y]) / cube.axis_corr
        factor = np.full(rest.size, 1.0 / (width * corr))
    else:
        factor = np.interp(position, cube.base_axis_cm1, units.to_flux_density) * 1e8 / position**2
    return np.asarray(fluxes, dtype=np.float64) * factor, units.line_flux


def _find_units(cube) -> FluxUnits:
    counts = FluxUnits(COUNTS_LABEL, COUNTS_LABEL, False, "no flux calibration: counts")
    bunit_text = _keyword(cube.keywords, ("BUNIT", "bunit"))
    if bunit_text:
        factor = _flux_density_factor(bunit_text)
        if factor is not None:
            return FluxUnits(FLUX_DENSITY_LABEL, LINE_FLUX_LABEL, True, f"BUNIT = {bunit_text!r}",
                             np.full(cube.nz, factor))
    if cube.flambda is not None:
        if _typical_value(cube) < COUNT_LIKE_MINIMUM:
            return FluxUnits(FLUX_DENSITY_LABEL, LINE_FLUX_LABEL, True,
                             "values already in erg/cm²/s/Å (too small for counts; flambda not applied)",
                             np.ones(cube.nz))
        return FluxUnits(COUNTS_LABEL, LINE_FLUX_LABEL, True, "counts × ORB flambda (erg/cm²/s/Å per count)",
                         np.asarray(cube.flambda, dtype=np.float64))
    return counts


def _keyword(keywords, names) -> str:
    for name in names:
        if name in keywords:
            value = keywords[name]
            value = value.decode(errors="replace") if isinstance(value, bytes) else value
            return str(np.asarray(value).ravel()[0]).strip() if not isinstance(value, str) else value.strip()
    return ""


def _flux_density_factor(text: str) -> float | None:
    """Factor from ``text``'s unit to erg/cm²/s/Å, or None when it is not a flux density per wavelength."""
    import astropy.units as u

    if text.upper() == "FLUX":  # ORB's flux-calibrated spectra
        return 1.0
    target = u.erg / u.cm**2 / u.s / u.AA
    with warnings.catch_warnings():  # 'erg/cm2/s/Angstrom' is common if not FITS-standard
        warnings.simplefilter("ignore", u.UnitsWarning)
        for fmt in ("fits", None):
            try:
                return float(u.Unit(text.replace("Å", "Angstrom"), format=fmt).to(target))
            except (ValueError, u.UnitConversionError, TypeError):
                continue
    return None


def _typical_value(cube) -> float:
    """Median absolute finite value of the centre spectrum (or of the deep frame), inf when unknown."""
    try:
        values = cube.spectrum(cube.nx // 2, cube.ny // 2).values
    except Exception:  # an unreadable pixel: the caller falls back on counts
        return float("inf")
    finite = np.abs(values[np.isfinite(values) & (values != 0)])
    return float(np.median(finite)) if finite.size else float("inf")
