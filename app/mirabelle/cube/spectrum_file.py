"""ORB/ORCS one-spectrum HDF5 files (a region's integrated spectrum) read as 1 × 1 cubes.

Layout (docs/sitelle-cubes.md, "One-spectrum files"): datasets ``axis`` (cm⁻¹, the
spectrum's own axis), ``data`` (complex: the real part is the spectrum) and ``err``
(often meaningless: not used), with the cube's parameters as file attributes. The
spectrum is on its own axis, so the 1 × 1 cube is "calibrated" (one axis for every
pixel) with the reference correction ``axis_corr``. Runs of exactly zero channels at
both ends (ORB's edges outside the filter) are read as NaN, so that they count as missing
rather than as a flat continuum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mirabelle.cube.base import Cube
from mirabelle.cube.metadata import (
    DEFAULT_NM_LASER,
    Parameters,
    celestial_wcs,
    infer_filter_from_axis,
    normalise_filter_name,
)
from mirabelle.errors import CubeError


def is_one_spectrum_file(file) -> bool:
    """True when an open h5py file holds ORB's one-spectrum layout (1-D ``data`` and ``axis``)."""
    import h5py

    data, axis = file.get("data"), file.get("axis")
    return (isinstance(data, h5py.Dataset) and isinstance(axis, h5py.Dataset)
            and data.ndim == 1 and axis.ndim == 1)


class OneSpectrumCube(Cube):
    """A one-spectrum HDF5 file as a read-only 1 × 1 cube (use `mirabelle.cube.open_cube`)."""

    def __init__(self, path: str | Path):
        from mirabelle.cube.hdf5 import open_hdf5

        path = Path(path)
        file, lock_warning = open_hdf5(path)
        try:
            with file as f:
                axis = np.asarray(f["axis"][()], dtype=np.float64)
                values = np.asarray(f["data"][()])
                keywords = {}
                for key in f.attrs:
                    try:
                        keywords[key] = f.attrs[key]
                    except (TypeError, OSError, ValueError):
                        continue
        except OSError as exc:
            raise CubeError(f"{path} cannot be read as HDF5: the file is truncated or corrupt ({exc})") from None
        if axis.size != values.size or axis.size < 2:
            raise CubeError(f"{path}: expected 'axis' and 'data' of the same length (≥ 2), found "
                            f"{axis.size} and {values.size} values")
        if values.dtype.kind not in "fciu":
            raise CubeError(f"{path}: 'data' has dtype {values.dtype}, expected float or complex values")
        values = np.asarray(values.real, dtype=np.float64)
        if axis[0] > axis[-1]:
            axis, values = axis[::-1].copy(), values[::-1].copy()
        if not (np.all(np.isfinite(axis)) and np.all(np.diff(axis) > 0)):
            raise CubeError(f"{path}: 'axis' is not a finite, monotonic wavenumber axis (cm-1)")
        self._values = _edge_zeros_to_nan(values)
        described = _describe(keywords, axis, path)
        described["warnings"] += [lock_warning] if lock_warning else []
        super().__init__(**described)

    def _read_block(self, xs: slice, ys: slice, channels: slice) -> np.ndarray:
        block = np.zeros((xs.stop - xs.start, ys.stop - ys.start, 0), np.float32)
        if xs.start == 0 and ys.start == 0 and block.shape[:2] == (1, 1):
            block = self._values[channels].astype(np.float32)[None, None, :]
        return block

    def _read_spectrum(self, x: int, y: int) -> np.ndarray:
        return self._values.copy()

    def _close_file(self) -> None:  # everything was read at open
        pass


def _edge_zeros_to_nan(values: np.ndarray) -> np.ndarray:
    nonzero = np.flatnonzero(values != 0)
    out = values.copy()
    if nonzero.size:
        out[:nonzero[0]] = np.nan
        out[nonzero[-1] + 1:] = np.nan
    return out


def _centred_on_target(keywords: dict) -> dict:
    """WCS keywords moved so that pixel (0, 0) is the region's detector pixel (``target_x/y``,
    0-based), which the cube's WCS describes."""
    shifted = dict(keywords)
    for axis, key in ((1, "target_x"), (2, "target_y")):
        crpix, target = keywords.get(f"CRPIX{axis}"), keywords.get(key)
        if crpix is not None and target is not None:
            shifted[f"CRPIX{axis}"] = float(np.asarray(crpix).ravel()[0]) - float(np.asarray(target).ravel()[0])
    return shifted


def _describe(keywords: dict, axis: np.ndarray, path: Path) -> dict:
    params = Parameters(keywords, str(path))
    warnings: list[str] = []

    def integer(name: str) -> int | None:
        value = params.number(name)
        return None if value is None else int(value)

    step_nb, zpd = integer("step_nb"), integer("zpd_index")
    if zpd is not None and step_nb is not None and not 0 <= zpd < step_nb:
        warnings.append(f"zpd_index {zpd} is not below step_nb {step_nb}: both are ignored")
        zpd = step_nb = None
    axis_corr = params.number("axis_corr")
    if axis_corr is None or axis_corr <= 0:
        axis_corr = 1.0
        warnings.append("no axis_corr attribute: the wavenumber correction of the line width is assumed 1")
    filter_name = normalise_filter_name(params.text("filter_name")) or infer_filter_from_axis(axis)
    wcs, problem = celestial_wcs(_centred_on_target(keywords), (1, 1))
    if problem:
        warnings.append(problem)
    nm_laser = params.number("nm_laser")
    apodization = params.number("apodization")
    flambda = params.array("flambda")
    if flambda is not None and flambda.size == 1:
        flambda = np.full(axis.size, flambda[0])
    elif flambda is not None and flambda.size != axis.size:
        warnings.append(f"flambda has {flambda.size} values for {axis.size} channels: it is ignored")
        flambda = None
    pixels = params.keywords.get("pixels")
    warnings.append("a one-spectrum file"
                    + (f" (the sum of {int(np.asarray(pixels).ravel()[0])} pixels)" if pixels is not None else "")
                    + ": read as a 1 × 1 cube")
    return dict(
        path=path, file_format="ORB one-spectrum HDF5", shape=(1, 1, axis.size), chunk_xy=(1, 1),
        filter_name=filter_name, step_nm=params.number("step"), order=integer("order"), step_nb=step_nb,
        zpd_index=zpd, nm_laser=nm_laser if nm_laser and nm_laser > 0 else DEFAULT_NM_LASER,
        axis_corr=axis_corr, apodization=apodization if apodization and apodization > 0 else 1.0,
        exposure_time_s=params.number("exposure_time"), calibrated=True,
        project_name=params.text("project_name"), object_name=params.text("object_name"), binning=1,
        wcs=wcs, warnings=warnings, base_axis_cm1=axis, unit_axis_cm1=None, flambda=flambda,
        has_deep_frame=False, has_calib_map=False, keywords=keywords,
    )
