"""Export kinematic maps as ORCS priors (docs/orcs-priors.md): FITS maps with the cube's WCS,
the ORCS "estimate" velocity files, double-component flags, a README and a JSON summary.

Conventions of the written files
--------------------------------
* Every FITS image is ``[y, x]`` (NAXIS1 = x, made by :func:`mirabelle.orientation.map_to_fits`)
  with the cube's celestial WCS, ``BUNIT`` and provenance keywords ``MODEL``, ``MODELVER``,
  ``MODELSHA``, ``CUBE``, ``DATE``.
* ``velocity.fits``, ``broadening.fits`` and their ``_err`` maps are NaN-free: pixels
  without a valid prior (``valid_mask.fits`` = 0) take the value of the nearest valid
  pixel. Broadening and the errors are at least ``BROADENING_FLOOR_KMS`` (ORCS needs a
  non-zero broadening guess).
* ``<project>.SpectralCube.estimated_velocity.0.fits``: the velocity where valid, NaN
  elsewhere (ORCS fits no component there). ``….1.fits`` (only with flags): inside flagged
  valid pixels the second velocity = velocity + the best second-component offset of the
  double score (``double_offset``), or + the cube's instrumental velocity FWHM ``c/R`` where
  the score found none; NaN elsewhere.
* ``flags_double.fits`` (uint8, 1 = flagged) and ``flags_double.reg`` (DS9, sky coordinates).
* With ``extras``: ``snr_halpha.fits``, ``double_score.fits``, ``quality.fits`` (bit flags,
  see ``mirabelle.inference.maps``) and ``flux_<line>.fits`` in the cube's physical unit
  (erg/cm²/s for flux-calibrated cubes, summed counts otherwise: ``mirabelle.cube.units``),
  NaN where unknown; ``velocity_helio.fits`` (barycentric frame) when the cube's date and
  target give the correction.
* Velocities are in the observed frame (what ORCS expects). Every FITS carries ``VSYS``
  (the systemic velocity the network worked around, when given), ``HELIOCOR`` (the
  barycentric correction to add, when known) and ``VELFRAME``.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mirabelle import __version__
from mirabelle.cube.heliocentric import barycentric_correction, heliocentric_velocity
from mirabelle.cube.units import FITS_UNITS, flux_units, line_flux_maps
from mirabelle.errors import ExportError
from mirabelle.export.staging import StagedFolder
from mirabelle.flags.export import ds9_text
from mirabelle.inference.maps import QUALITY_BITS, KinematicMaps
from mirabelle.lines import C_KMS
from mirabelle.orientation import map_to_fits
from mirabelle.session.registry import ALL, MAPS

BROADENING_FLOOR_KMS = 1.0
"""Smallest broadening (and uncertainty) written to the prior files, km/s."""
PRIOR_MAPS = tuple(spec for spec in MAPS if spec.prior)
"""The registry's ORCS priors: written NaN-free; all but the velocity are floored."""
EXTRA_MAPS = tuple(spec for spec in MAPS if spec.export and not spec.prior)
"""The registry's other exported maps (with ``extras``), NaN where unknown."""


def _estimate_name(cube, component: int) -> str:
    project = getattr(cube, "project_name", "") or Path(cube.path).stem
    return f"{project}.SpectralCube.estimated_velocity.{component}.fits"


def _as_mask(flags) -> np.ndarray:
    """A bool ``[x, y]`` array from an array or a FlagMask (its ``data``)."""
    return np.asarray(flags if isinstance(flags, np.ndarray) else getattr(flags, "data", flags), dtype=bool)


def _flag_array(flags, shape) -> np.ndarray | None:
    if flags is None:
        return None
    mask = _as_mask(flags)
    if mask.shape != shape:
        raise ExportError(f"flags: expected a mask of shape {shape} (nx, ny), found {mask.shape}.")
    return mask


def fill_nearest(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Copy of ``values`` (nx, ny) where pixels outside ``valid`` take the nearest valid value."""
    from scipy import ndimage

    if valid.all():
        return values.copy()
    indices = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return values[tuple(indices)]


def _frame_keywords(cube, vsys_kms: float | None) -> dict:
    """VSYS / HELIOCOR header cards: the systemic velocity used and the barycentric correction."""
    cards = {"VELFRAME": ("observed", "velocities in the observer's frame")}
    if vsys_kms is not None:
        cards["VSYS"] = (round(float(vsys_kms), 3), "km/s systemic velocity (observed frame)")
    correction, _ = barycentric_correction(cube)
    if correction is not None:
        cards["HELIOCOR"] = (round(correction.velocity_kms, 4), "km/s barycentric corr., add to velocities")
        cards["HELIOUTC"] = (correction.obstime_utc, "UTC of the observation used")
    return cards


def _provenance(maps: KinematicMaps, cube, model_card: dict | None) -> dict:
    card = model_card or {}
    return {
        "MODEL": (str(card.get("name", maps.model_name)), "kinematics model"),
        "MODELVER": (str(card.get("version", maps.model_version)), "model version"),
        "MODELSHA": str(card.get("onnx_sha256", maps.model_sha256)),
        "CUBE": Path(cube.path).name,
        "DATE": (datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), "UTC time of the export"),
        "BINNING": (int(maps.binning), "N x N spectra averaged before inference"),
        "ORIGIN": (f"Mirabelle {__version__}", "software"),
    }


def _fits_bytes(map_xy: np.ndarray, cube, bunit: str, description: str, provenance: dict,
                extra: dict | None = None) -> bytes:
    from astropy.io import fits

    header = fits.Header()
    if cube.wcs is not None:
        header.update(cube.wcs.to_header(relax=True))
    header["BUNIT"] = (bunit, description[:46])
    for key, value in {**provenance, **(extra or {})}.items():
        header[key] = value
    buffer = io.BytesIO()
    fits.PrimaryHDU(map_to_fits(map_xy), header=header).writeto(buffer)
    return buffer.getvalue()


def export_names(cube, flags=None, extras: bool = True) -> list[str]:
    """File names :func:`write_priors` writes for these options (in writing order)."""
    names = [spec.export for spec in PRIOR_MAPS] + ["valid_mask.fits", _estimate_name(cube, 0)]
    if flags is not None and _as_mask(flags).any():
        names.append(_estimate_name(cube, 1))
    if flags is not None:
        names += ["flags_double.fits", "flags_double.reg"]
    if extras:
        names += [spec.export for spec in EXTRA_MAPS] + ["quality.fits"]
        if _heliocentric(cube) is not None:
            names.append("velocity_helio.fits")
    return names + ["README.txt", "summary.json"]


def _heliocentric(cube):
    return barycentric_correction(cube)[0]


def check_free(cube, out_dir, flags=None, extras: bool = True,
               remedy: str = "overwrite=True replaces them") -> None:
    """Raise ExportError when ``out_dir`` already holds files :func:`write_priors` would write;
    ``remedy`` tells the caller's way to replace them (``--overwrite`` on the command line)."""
    existing = [name for name in export_names(cube, flags, extras) if (Path(out_dir) / name).exists()]
    if existing:
        raise ExportError(f"{out_dir}: expected no existing export files ({remedy}), "
                          f"found {', '.join(existing[:6])}{' and more' if len(existing) > 6 else ''}.")


def write_priors(maps: KinematicMaps, cube, out_dir, flags=None, model_card: dict | None = None,
                 overwrite: bool = False, extras: bool = True, vsys_kms: float | None = None,
                 vsys_source: str = "", extra_summary: dict | None = None) -> dict:
    """Write the ORCS priors of ``maps`` (from ``cube``) into ``out_dir``; returns the summary.

    Parameters
    ----------
    maps : KinematicMaps
        Complete or partial maps (pixels not done count as invalid).
    cube : mirabelle.cube.Cube
        The cube the maps come from (WCS, project name, resolution).
    out_dir : path
        Created when missing.
    flags : (nx, ny) bool array or FlagMask, optional
        Pixels flagged as double components.
    model_card : dict, optional
        The model card (provenance); default from the maps' metadata.
    overwrite : bool
        Replace existing files; otherwise an ExportError names them.
    extras : bool
        Also write SNR, double score, quality and flux maps.
    vsys_kms, vsys_source : float and str, optional
        The systemic velocity the maps were computed around (km/s, observed frame) and where
        it came from ('detected', 'user', ...): header keyword ``VSYS`` and the summary.
    extra_summary : dict, optional
        More entries for ``summary.json`` (e.g. the sky subtraction used).

    Returns
    -------
    dict
        The content of ``summary.json`` (``files`` lists the paths written).

    Raises
    ------
    ExportError
        Existing files without ``overwrite``, no valid prior at all, a wrong flag shape, or
        a folder that cannot be written (nothing new is left behind then).
    """
    shape = maps.shape
    if shape != (cube.nx, cube.ny):
        raise ExportError(f"{cube.path}: expected maps of the cube's shape {(cube.nx, cube.ny)}, found {shape}.")
    flag_mask = _flag_array(flags, shape)
    valid = maps.valid_mask()
    if not valid.any():
        raise ExportError(f"{cube.path}: expected at least one pixel with a valid prior to export, found none "
                          f"({maps.fraction_done:.0%} of the pixels processed).")
    out_dir = Path(out_dir)
    names = export_names(cube, flag_mask, extras)
    provenance = {**_provenance(maps, cube, model_card), **_frame_keywords(cube, vsys_kms)}
    resolution = float(np.nanmedian(cube.resolution_map()))
    second_offset = C_KMS / resolution
    estimate0 = np.where(valid, maps.velocity, np.nan).astype(np.float32)

    every = export_names(cube, np.ones(1, bool), extras=True)  # an older export's files go with it
    with StagedFolder(out_dir, names, overwrite=overwrite, owned=every) as staged:
        def fits_file(name, data, bunit, description, **extra):
            staged.write(name, _fits_bytes(data, cube, bunit, description, provenance, extra))

        for spec in PRIOR_MAPS:
            values = fill_nearest(np.asarray(spec.source(maps, ALL)), valid).astype(np.float32)
            floor = {}
            if spec.name != "velocity":  # widths and errors: ORCS needs them > 0
                np.maximum(values, BROADENING_FLOOR_KMS, out=values)
                floor = {"BFLOOR": (BROADENING_FLOOR_KMS, "km/s, smallest value written")}
            fits_file(spec.export, values, spec.unit, spec.description, **floor)
        fits_file("valid_mask.fits", valid.astype(np.uint8), "", "1 = real prior, 0 = filled")
        fits_file(_estimate_name(cube, 0), estimate0, "km/s", "component 0 velocity, NaN = not fitted")
        n_second = 0
        if flag_mask is not None and flag_mask.any():
            offset = np.where(np.isfinite(maps.double_offset), maps.double_offset, second_offset)
            second = flag_mask & valid
            n_second = int(second.sum())
            estimate1 = np.where(second, maps.velocity + offset, np.nan).astype(np.float32)
            fits_file(_estimate_name(cube, 1), estimate1, "km/s", "component 1 velocity in flagged pixels",
                      DEFOFF=(round(second_offset, 3), "km/s, offset used where no double offset"))
        if flag_mask is not None:
            fits_file("flags_double.fits", flag_mask.astype(np.uint8), "", "1 = flagged double component")
            staged.write("flags_double.reg", ds9_text(flag_mask, cube.wcs).encode())
        if extras:
            fluxes, flux_unit = line_flux_maps(maps.fluxes, maps.velocity, cube)
            physical = replace(maps, fluxes=fluxes)  # flux maps in the cube's physical unit
            for spec in EXTRA_MAPS:
                unit = FITS_UNITS[flux_unit] if spec.flux else spec.unit
                fits_file(spec.export, np.asarray(spec.source(physical, ALL), np.float32), unit, spec.description)
            bits = {f"QBIT{bit}": (name, "quality bit") for name, bit in QUALITY_BITS.items()}
            fits_file("quality.fits", maps.quality, "", "quality bits, 0 = good", **bits)
            helio = _heliocentric(cube)
            if helio is not None:
                velocity_helio = heliocentric_velocity(np.where(valid, maps.velocity, np.nan), helio.velocity_kms)
                fits_file("velocity_helio.fits", velocity_helio.astype(np.float32), "km/s",
                          "barycentric velocity, NaN = no prior", VELFRAME=("barycentric", "velocity frame"))
        summary = _summary(maps, cube, provenance, valid, flag_mask, n_second, second_offset,
                           [str(out_dir / name) for name in names])
        summary["systemic_velocity_kms"] = None if vsys_kms is None else round(float(vsys_kms), 3)
        summary["systemic_velocity_source"] = vsys_source or None
        summary["velocity_frame"] = "observed"
        helio = _heliocentric(cube)
        summary["barycentric_correction_kms"] = None if helio is None else round(helio.velocity_kms, 4)
        summary["flux_unit"] = flux_units(cube).line_flux
        summary.update(extra_summary or {})
        staged.write("README.txt", _readme(cube, out_dir, names).encode())
        staged.write("summary.json", json.dumps(summary, indent=2).encode())
        staged.commit()
    return summary


def _stats(values: np.ndarray) -> dict:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {}
    p5, p50, p95 = np.percentile(finite, [5, 50, 95])
    return {"p5": round(float(p5), 3), "median": round(float(p50), 3), "p95": round(float(p95), 3)}


def _summary(maps, cube, provenance, valid, flag_mask, n_second, second_offset, files) -> dict:
    quality_counts = {name: int(((maps.quality & bit) != 0).sum()) for name, bit in QUALITY_BITS.items()}
    return {
        "cube": str(cube.path),
        "shape_xy": [int(cube.nx), int(cube.ny)],
        "model": {"name": provenance["MODEL"][0], "version": provenance["MODELVER"][0],
                  "sha256": provenance["MODELSHA"]},
        "exported_utc": provenance["DATE"][0],
        "mirabelle_version": __version__,
        "binning": int(maps.binning),
        "complete": bool(maps.complete),
        "pixels": {"total": int(valid.size), "done": int(maps.done.sum()), "valid": int(valid.sum()),
                   "filled": int((~valid).sum()),
                   "flagged_double": int(flag_mask.sum()) if flag_mask is not None else 0,
                   "second_component": n_second},
        "quality_counts": quality_counts,
        "velocity_kms": _stats(maps.velocity[valid]),
        "broadening_kms": _stats(maps.broadening[valid]),
        "snr_halpha": _stats(maps.snr_halpha[valid]),
        "broadening_floor_kms": BROADENING_FLOOR_KMS,
        "second_component_default_offset_kms": round(second_offset, 3),
        "files": files,
    }


def _readme(cube, out_dir: Path, names: list[str]) -> str:
    out_dir = Path(os.path.abspath(out_dir))  # ORCS runs from another folder: no relative paths
    estimate = _estimate_name(cube, 0)
    two = _estimate_name(cube, 1) in names
    two_note = ", two where the second map is too" if two else ""
    lines_list = "['[NII]6548', 'Halpha', '[NII]6583', '[SII]6716', '[SII]6731']"
    text = f"""Mirabelle kinematic priors for {Path(cube.path).name}
Folder: {out_dir}

velocity.fits, broadening.fits (+ _err): km/s, NaN-free; pixels where valid_mask.fits = 0
carry the value of the nearest valid pixel (broadening and errors >= {BROADENING_FLOOR_KMS} km/s).
{estimate}: velocity where valid, NaN elsewhere (ORCS fits no component there).
{"Component 1 (second velocity) exists only in flagged pixels (flags_double.fits / .reg)." if two else ""}
summary.json lists the model, counts and every file.

Passing them to ORCS:

    from orcs.process import SpectralCube
    cube = SpectralCube({os.path.abspath(cube.path)!r})
    lines = {lines_list}

    # 1. Per-pixel starting values (restrict the region to pixels where valid_mask.fits = 1)
    cube.fit_lines_in_region('region.reg', lines, fmodel='sincgauss',
                             pos_def=['1'] * 5, pos_cov_map='{out_dir / "velocity.fits"}',
                             sigma_def=['1'] * 5, sigma_cov_map='{out_dir / "broadening.fits"}')

    # 2. The estimate folder: one component where {estimate} is defined{two_note}
    cube.fit_lines_in_region_from_estimate(1, folder='{out_dir}', lines=lines, fmodel='sincgauss',
                                           sigma_cov_map='{out_dir / "broadening.fits"}')
"""
    if two:
        text += f"""    cube.fit_lines_in_region_from_estimate(2, folder='{out_dir}', lines=lines, fmodel='sincgauss',
                                           sigma_cov_map='{out_dir / "broadening.fits"}')
"""
    text += """
ORCS reads one spectrum at pixel (1000, 1000) to set up route 2: it needs a cube larger than
1000 pixels a side.
"""
    return text
