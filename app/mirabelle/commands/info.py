"""Print what Mirabelle reads from a SITELLE cube: dimensions, filter, interferometer
parameters, wavenumber axis, line width and resolution, WCS centre, stored maps, warnings."""

from __future__ import annotations

import argparse

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cube", help="ORB HDF5 (.hdf5) or 3-D FITS cube")


def run(args: argparse.Namespace) -> int:
    from mirabelle.cube import open_cube

    with open_cube(args.cube) as cube:
        print(describe(cube))
    return 0


def describe(cube) -> str:
    """Multi-line, human-readable summary of an open `Cube` (reads metadata and 2-D maps only)."""
    from mirabelle.lines import HALPHA_CM1

    nx, ny, nz = cube.shape
    axis = cube.base_axis_cm1
    steps = np.diff(axis)
    if steps.size and np.ptp(steps) <= 1e-6 * abs(steps.mean()):
        step_text = f"step {steps.mean():.5f} cm-1"
    elif steps.size:
        step_text = f"uneven steps {steps.min():.5f}–{steps.max():.5f} cm-1"
    else:
        step_text = "one channel"
    cx, cy = nx // 2, ny // 2
    fwhm = cube.fwhm_map_cm1()
    estimate = "" if cube.fwhm_from_parameters else " (estimate)"

    rows = [
        ("file", f"{cube.path} ({cube.file_format})"),
        ("dimensions", f"{nx} × {ny} pixels × {nz} channels (x, y, channel); binning {cube.binning}"),
        ("object", " / ".join(t for t in (cube.object_name, cube.project_name) if t) or "-"),
        ("filter", f"{cube.filter_name or 'unknown'}"
                   + ("" if cube.is_sn3 else " (not SN3: the kinematics models do not apply)")),
        ("calibrated", "yes: every pixel on the base axis" if cube.calibrated
         else "no: each pixel on its own axis (calibration laser map)"),
        ("interferometer", f"step {_num(cube.step_nm, '.3f')} nm, order {_num(cube.order)}, "
                           f"step_nb {_num(cube.step_nb)}, zpd_index {_num(cube.zpd_index)}, "
                           f"axis_corr {cube.axis_corr:.7g}, apodization {cube.apodization:g}"),
        ("exposure", "-" if cube.exposure_time_s is None else f"{cube.exposure_time_s:g} s per step"),
        ("axis", f"{axis[0]:.3f} – {axis[-1]:.3f} cm-1, {step_text} (reference pixel)"),
        ("sinc FWHM" + estimate, f"{cube.fwhm_cm1(cx, cy):.3f} cm-1 at centre pixel ({cx}, {cy}); "
                                 f"{np.nanmin(fwhm):.3f} – {np.nanmax(fwhm):.3f} over the field"),
        ("resolution" + estimate, f"R = {cube.resolution(cx, cy):.0f} at Hα ({HALPHA_CM1:.1f} cm-1) at "
                                  f"the centre; {HALPHA_CM1 / np.nanmax(fwhm):.0f} – "
                                  f"{HALPHA_CM1 / np.nanmin(fwhm):.0f} over the field"),
        ("WCS centre", _wcs_centre(cube.wcs, cx, cy)),
        ("deep frame", "stored" if cube.has_deep_frame else "absent (computed on demand)"),
        ("calibration map", "stored" if cube.has_calib_map else "absent"),
        ("flux calibration", "flambda stored" if cube.flambda is not None else "absent"),
        ("units", _units_text(cube)),
        ("barycentric corr.", _barycentric_text(cube)),
        ("systemic velocity", _systemic_text(cube)),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    warnings = cube.warnings or ["none"]
    lines.append(f"{'warnings':<{width}}  {warnings[0]}")
    lines += [f"{'':<{width}}  {text}" for text in warnings[1:]]
    return "\n".join(lines)


def _units_text(cube) -> str:
    from mirabelle.cube.units import flux_units

    units = flux_units(cube)
    return f"values in {units.spectrum}, line fluxes in {units.line_flux} ({units.source})"


def _barycentric_text(cube) -> str:
    """The heliocentric correction, its date and target, or why it cannot be computed."""
    from mirabelle.cube.heliocentric import barycentric_correction

    correction, reason = barycentric_correction(cube)
    if correction is None:
        return f"unknown: {reason}"
    return (f"{correction.velocity_kms:+.3f} km/s to add to observed velocities (CFHT, "
            f"{correction.obstime_utc} UTC from {correction.time_source}; target from {correction.target_source})")


def _systemic_text(cube) -> str:
    """The detected (or remembered) systemic velocity, or why there is none (non-SN3 cubes)."""
    if not cube.is_sn3:
        return "-"
    from mirabelle.inference.vsys_memory import choose_systemic_velocity

    chosen = choose_systemic_velocity(cube)
    return chosen.describe().removeprefix("systemic velocity ") + " (override: predict --vsys KM_S)"


def _num(value, fmt: str = "") -> str:
    return "-" if value is None else format(value, fmt)


def _wcs_centre(wcs, x: int, y: int) -> str:
    """RA/Dec of pixel (x, y) in sexagesimal, in the cube's own frame (RADESYS), or why there is none."""
    from mirabelle.cube.sky import sky_position

    if wcs is None:
        return "no celestial WCS"
    position = sky_position(wcs, x, y)
    if position is None:
        return "cannot be computed from the cube's WCS"
    return f"{position} at pixel ({x}, {y})"
