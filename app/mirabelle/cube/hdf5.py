"""Reader of ORB/ORBS HDF5 spectral cubes ("level ≥ 2": one `data` dataset).

Layout (see docs/sitelle-cubes.md): ``data`` (nx, ny, nz), spectra ascending in cm⁻¹;
parameters in file attributes under ORB names or FITS keywords (`metadata.PARAMETER_KEYS`),
completed by the cards of an old-style ``header`` dataset; optional ``deep_frame`` and
``calib_map`` (nx, ny). As in ORB, the cube is *calibrated* exactly when an ``axis_corr``
attribute is present: all pixels are then on ``base_axis`` and complex data are reduced
to their real part. The optional ``mask`` dataset is not applied (ORB multiplies spectra
by it; Mirabelle returns the stored values and keeps NaN borders as they are).

Nothing but attributes is read at open: a 14 GB cube opens in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mirabelle.cube.base import Cube
from mirabelle.cube.limits import check_interferometer, check_shape
from mirabelle.cube.metadata import (
    DEFAULT_NM_LASER,
    Parameters,
    _plain,
    binning_from_shape,
    celestial_wcs,
    infer_filter_from_axis,
    normalise_filter_name,
)
from mirabelle.errors import CubeError
from mirabelle.lines.instrument import axis_step_cm1

CHUNK_CACHE_BYTES = 16 * 2**20
"""h5py chunk cache per open cube: holds the chunk column of a pixel, so clicks on
neighbouring pixels do not reread the disk."""

_LEVEL1_PREFIXES = ("frame", "quad")


class HDF5Cube(Cube):
    """An ORB HDF5 cube opened read-only (use `mirabelle.cube.open_cube`)."""

    def __init__(self, path: str | Path):
        import h5py

        path = Path(path)
        self._file, lock_warning = open_hdf5(path)
        try:
            self._data = _data_dataset(self._file, path)
            super().__init__(**_describe(self._file, self._data, path))
            if lock_warning:
                self.warnings.append(lock_warning)
        except BaseException:
            self._file.close()
            raise

    def _read_block(self, xs: slice, ys: slice, channels: slice) -> np.ndarray:
        block = self._guarded_read(self._data, (xs, ys, channels),
                                   f"pixels x {xs.start}–{xs.stop - 1}, y {ys.start}–{ys.stop - 1}")
        return np.ascontiguousarray(block.real, dtype=np.float32)

    def _read_spectrum(self, x: int, y: int) -> np.ndarray:
        values = self._guarded_read(self._data, (x, y, slice(None)), f"pixel ({x}, {y})")
        return np.array(values.real, dtype=np.float64)

    def _read_deep_frame(self) -> np.ndarray:
        return self._guarded_read(self._file["deep_frame"], (), "the deep frame").real

    def _read_calib_map(self) -> np.ndarray:
        return self._guarded_read(self._file["calib_map"], (), "the calibration map")

    def _close_file(self) -> None:
        self._file.close()

    def _guarded_read(self, dataset, key: tuple, what: str) -> np.ndarray:
        """``dataset[key]``; a read failure (corrupt chunk, closed file) becomes a CubeError."""
        try:
            return np.asarray(dataset[key])
        except (OSError, RuntimeError, ValueError) as exc:
            raise CubeError(f"{self.path}: cannot read {what}; the file is truncated or corrupt ({exc})") from None


def open_hdf5(path: Path):
    """``(h5py.File, warning)`` opened read-only with HDF5's file locking.

    Locking is what lets a plain ``h5py.File(path, 'r')`` work beside an open cube in the same
    process and keeps a writer's file from being read half-written. Without locks only where
    they cannot work: a file system that refuses them (the warning says so), or the file already
    open in this process without locking (h5py requires the same flags).
    """
    import h5py

    def attempt(locking):
        return h5py.File(path, "r", locking=locking, rdcc_nbytes=CHUNK_CACHE_BYTES, rdcc_nslots=10007)

    try:
        return attempt(None), ""
    except OSError as exc:
        text = str(exc)
        if "unable to lock file" in text and ("errno = 11" in text or "Resource temporarily" in text):
            raise CubeError(f"{path} is locked by a program writing it (HDF5 file lock): wait until it has "
                            "finished, then open it again") from None
        if "file locking flag values don't match" in text:
            warning = ""
        elif "unable to lock file" in text or "file locking disabled" in text:
            warning = (f"the file system of {path.parent} refuses file locks ({_errno_text(text)}): the cube "
                       "is read without HDF5 locking, so a program writing it at the same time is not noticed")
        else:
            raise CubeError(f"{path} cannot be read as HDF5: the file is truncated or corrupt "
                            f"({text.splitlines()[0]})") from None
    try:
        return attempt(False), warning
    except OSError as exc:
        raise CubeError(f"{path} cannot be read as HDF5: the file is truncated or corrupt "
                        f"({str(exc).splitlines()[0]})") from None


def stored_deep_frame(path: str | Path) -> np.ndarray | None:
    """The ``(nx, ny)`` float32 deep frame an ORB HDF5 cube stores, as its ``deep_image()`` gives it,
    read with h5py alone (no parameter checked, no WCS, no astropy): a launch paints it while the
    cube opens. None for any file that is not such a cube; opening it then says why."""
    import h5py

    path = Path(path)
    try:
        if not h5py.is_hdf5(path):
            return None
        file, _ = open_hdf5(path)
    except (CubeError, OSError):
        return None
    try:
        frame = _entry(file, "deep_frame", path)
        if frame is None or getattr(frame, "shape", None) != tuple(_data_dataset(file, path).shape[:2]):
            return None
        image = np.asarray(frame[()].real, dtype=np.float32)
        return image if np.isfinite(image).any() else None
    except (CubeError, OSError, ValueError, TypeError):
        return None
    finally:
        file.close()


def _errno_text(text: str) -> str:
    """'errno = 38, error message = ...' of an HDF5 lock failure, or the first line."""
    import re

    match = re.search(r"errno = \d+, error message = '([^']*)'", text)
    return match.group(1) if match else text.splitlines()[0]


def _entry(file, name: str, path: Path, required: bool = False):
    """``file[name]`` or None; a link that cannot be followed is a CubeError when ``required``."""
    import h5py

    try:
        link = file.get(name, getlink=True)
    except (KeyError, RuntimeError, OSError, ValueError):
        link = None
    if link is None:
        return None
    try:
        return file[name]
    except (KeyError, RuntimeError, OSError, ValueError) as exc:
        if not required:
            return None
        if isinstance(link, h5py.ExternalLink):
            where = f"an external link to {link.filename}:{link.path}, which cannot be opened"
        elif isinstance(link, h5py.SoftLink):
            where = f"a link to {link.path} that leads nowhere (missing target or a loop)"
        else:
            where = f"unreadable ({str(exc).splitlines()[0]})"
        raise CubeError(f"{path}: its '{name}' dataset is {where}") from None


def _data_dataset(file, path: Path):
    """The 3-D ``data`` dataset, or a CubeError saying what the file holds instead."""
    import h5py

    data = _entry(file, "data", path, required=True)
    if data is None:
        names = list(file.keys())
        if any(name.startswith(_LEVEL1_PREFIXES) for name in names):
            raise CubeError(
                f"{path} is an ORB level-1 cube (frames in frame…/quad… datasets), which Mirabelle "
                "does not read: export it with ORB first (orb.cube.HDFCube(path).writeto(new_path)) "
                "and open the exported file")
        shown = ", ".join(names[:6]) or "nothing"
        raise CubeError(f"{path} has no 'data' dataset: expected an ORB spectral cube, found {shown}")
    if not isinstance(data, h5py.Dataset):
        raise CubeError(f"{path}: 'data' is a group, expected a 3-D (x, y, channel) dataset")
    if data.ndim != 3:
        raise CubeError(f"{path} holds {data.ndim}-D data of shape {data.shape} where a 3-D "
                        "(x, y, channel) cube was expected")
    if data.dtype.kind not in "fciu":
        raise CubeError(f"{path}: 'data' has dtype {data.dtype}, expected float or complex values")
    if min(data.shape) == 0:
        raise CubeError(f"{path}: 'data' is empty (shape {data.shape})")
    check_shape(data.shape, path)
    if data.id.get_storage_size() == 0 and data.fillvalue == 0:
        raise CubeError(f"{path} declares a {' × '.join(str(n) for n in data.shape)} cube but stores none "
                        "of its data (an unfinished or empty file)")
    return data


def _keywords(file) -> dict:
    """File attributes, completed by the cards of an old-style ``header`` dataset."""
    keywords = dict(_header_cards(file))
    for key in file.attrs:
        try:
            keywords[key] = file.attrs[key]
        except (TypeError, OSError, ValueError):  # exotic attribute types ORB also skips
            continue
    return keywords


def _header_cards(file) -> dict:
    """``header`` dataset (n, 4) of bytes: keyword, value, comment, type (ORB's old layout)."""
    header = _entry(file, "header", Path(file.filename))
    if header is None or getattr(header, "ndim", 0) != 2 or header.shape[1] < 4 or header.dtype.kind != "S":
        return {}
    cards = {}
    try:
        rows = header[()]
    except (OSError, RuntimeError, ValueError):
        return {}
    for key, value, _comment, kind in rows:
        key, value, kind = (text.decode("utf-8", "replace").strip() for text in (key, value, kind))
        try:
            cards[key] = float(value) if ("float" in kind or "int" in kind) else value
        except ValueError:
            cards[key] = value
    return cards


def _dataset_is_map(file, name: str, shape_xy: tuple[int, int], warnings: list[str]) -> bool:
    """True when an optional (nx, ny) dataset exists with the cube's spatial shape."""
    dataset = _entry(file, name, Path(file.filename))
    if dataset is None:
        return False
    if getattr(dataset, "shape", None) != shape_xy:
        warnings.append(f"'{name}' has shape {getattr(dataset, 'shape', None)}, not the cube's "
                        f"{shape_xy}: it is ignored")
        return False
    return True


def _describe(file, data, path: Path) -> dict:
    """Every `Cube` constructor argument, from the file's attributes and datasets."""
    nx, ny, nz = data.shape
    params = Parameters(_keywords(file), str(path))
    warnings: list[str] = []

    step = params.number("step", required=True, what="the mirror step in nm")
    order = params.number("order", required=True, what="the folding order")
    step_nb = params.number("step_nb", required=True, what="the number of mirror steps")
    if order < 0 or step_nb < 1 or order != int(order) or step_nb != int(step_nb):
        raise CubeError(f"{path} has order {order:g}, step_nb {step_nb:g}: expected a non-negative integer "
                        "order and a positive integer step_nb")
    check_interferometer(step, step_nb, path)
    order, step_nb = int(order), int(step_nb)
    if nz > step_nb:
        raise CubeError(f"{path} has {nz} channels but step_nb = {step_nb}: expected at most step_nb channels")
    zpd = params.number("zpd_index")
    if zpd is not None and not 0 <= zpd < step_nb:
        raise CubeError(f"{path} has zpd_index {zpd:g}, expected 0 ≤ zpd_index < step_nb ({step_nb})")

    has_calib_map = _dataset_is_map(file, "calib_map", (nx, ny), warnings)
    has_deep_frame = _dataset_is_map(file, "deep_frame", (nx, ny), warnings)
    nm_laser = params.number("nm_laser")
    if nm_laser is None or nm_laser <= 0:
        nm_laser = DEFAULT_NM_LASER
        if has_calib_map:
            warnings.append(f"no nm_laser attribute: the calibration laser is assumed at {nm_laser} nm")

    calibrated = params.has("axis_corr")
    base_axis, unit_axis, axis_corr = _axes(params, file, path, (nx, ny, nz), step, order, step_nb,
                                            nm_laser, has_calib_map, calibrated, warnings)

    filter_name = normalise_filter_name(params.text("filter_name"))
    if not filter_name:
        filter_name = infer_filter_from_axis(base_axis)
        warnings.append(f"no filter_name attribute: filter {filter_name or 'unknown'} inferred from the axis")

    wcs, problem = celestial_wcs(params.keywords, (nx, ny))
    if problem:
        warnings.append(problem)

    binning = params.number("binning")
    flambda = params.array("flambda")
    if flambda is not None and flambda.size == 1:
        flambda = np.full(nz, flambda[0])
    elif flambda is not None and flambda.size != nz:
        warnings.append(f"flambda has {flambda.size} values for {nz} channels: it is ignored")
        flambda = None
    apodization = params.number("apodization")
    chunks = data.chunks[:2] if data.chunks else (1, ny)  # contiguous: rows of spectra
    return dict(
        path=path, file_format="ORB HDF5", shape=(nx, ny, nz), chunk_xy=chunks,
        filter_name=filter_name, step_nm=step, order=order, step_nb=step_nb,
        zpd_index=None if zpd is None else int(zpd), nm_laser=nm_laser, axis_corr=axis_corr,
        apodization=1.0 if apodization is None or apodization <= 0 else apodization,
        exposure_time_s=params.number("exposure_time"), calibrated=calibrated,
        project_name=params.text("project_name"), object_name=params.text("object_name"),
        binning=int(binning) if binning and binning >= 1 else binning_from_shape((nx, ny)),
        wcs=wcs, warnings=warnings, base_axis_cm1=base_axis, unit_axis_cm1=unit_axis,
        flambda=flambda, has_deep_frame=has_deep_frame, has_calib_map=has_calib_map,
        keywords=params.keywords,
    )


def _axes(params: Parameters, file, path: Path, shape, step: float, order: int, step_nb: int,
          nm_laser: float, has_calib_map: bool, calibrated: bool, warnings: list[str]):
    """(base axis, unit axis or None, axis_corr) of the cube.

    The unit axis (corr = 1) of an uncalibrated cube is cut to the stored channels: when
    the cube was cut to the filter (nz < step_nb) the first stored channel is located from
    ``base_axis``, whose step also gives the reference correction when ``axis_corr`` is absent.
    """
    nx, ny, nz = shape
    base = params.array("base_axis")
    if base is None and params.has("base_axis"):
        shown = repr(_plain(params.keywords[params.key("base_axis")]))
        raise CubeError(f"{path} has base_axis = {shown[:40]}: expected {nz} wavenumbers (cm-1)")
    if base is not None:
        if base.size != nz:
            raise CubeError(f"{path} has a base_axis of {base.size} values for {nz} channels")
        if not (np.all(np.isfinite(base)) and np.all(np.diff(base) > 0)):
            raise CubeError(f"{path} has a base_axis that is not finite and ascending (cm-1)")
    elif nz != step_nb:
        raise CubeError(f"{path} has {nz} of {step_nb} channels and no base_axis attribute: "
                        "the wavenumber of its first channel is unknown")
    unit_step = float(axis_step_cm1(step, step_nb, 1.0))
    # channel 0 of `axis_cm1(step, order, step_nb)`, without building an axis of step_nb values
    unit_start = 1e7 / (2.0 * step) * order + (unit_step if order % 2 == 1 else 0.0)

    axis_corr = params.number("axis_corr") if calibrated else None
    if axis_corr is None and base is not None and nz > 1:
        axis_corr = float(base[-1] - base[0]) / (nz - 1) / unit_step
    elif axis_corr is None and has_calib_map:
        axis_corr = float(file["calib_map"][nx // 2, ny // 2]) / nm_laser
    if axis_corr is None or not np.isfinite(axis_corr) or axis_corr <= 0:
        axis_corr = 1.0
        warnings.append("no axis_corr, base_axis or calibration map: wavenumber correction 1 assumed")

    first = 0
    if base is not None and not calibrated:
        first = int(round((base[0] / axis_corr - unit_start) / unit_step))
        if not 0 <= first <= step_nb - nz:
            raise CubeError(f"{path}: base_axis starts at {base[0]:.3f} cm-1, which is not a channel of "
                            f"the axis given by step {step} nm, order {order}, step_nb {step_nb}")
    unit = unit_start + unit_step * np.arange(first, first + nz)
    if calibrated:
        return (base if base is not None else axis_corr * unit), None, axis_corr
    return (base if base is not None else axis_corr * unit), unit, axis_corr
