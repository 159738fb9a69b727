"""Reader of 3-D FITS spectral cubes (CADC products, user exports).

The cube is the primary HDU or the first image extension with NAXIS = 3: NAXIS1 = x,
NAXIS2 = y, NAXIS3 = spectral (numpy order ``[channel, y, x]``, converted through
`mirabelle.orientation`). The spectral axis comes from CRVAL3, CRPIX3 and CDELT3 (or
CD3_3, or CDELT3 · PC3_3), CTYPE3 (WAVENUMBER/WAVN, WAVE/AWAV, FREQ) and CUNIT3 (cm-1,
nm, Angstrom, m, ...), converted with ``σ = 1/λ`` (no air/vacuum change, as ORB converts
nm and cm⁻¹). Channels are exposed in ascending wavenumber: a wavelength axis (or a
descending one) is read in reverse channel order, so cube channel ``k`` is file plane
``nz − 1 − k``; the resulting axis is not evenly spaced for a wavelength cube, which is
why callers always use the axis rather than assume a step.

SITELLE keywords STEP, ORDER, STEP_NB, ZPDINDEX / ZPD_INDEX, FILTER, AXISCORR, CALIBNM,
APODIZ, EXPTIME, OBJECT are used when present; without STEP, STEP_NB and ZPDINDEX the line
FWHM is estimated from the channel width (see `Cube.warnings`).

Data are read through ``hdu.section`` from an unmapped file: only the requested bytes are
read (scaled by BSCALE/BZERO), never the whole cube, and memory stays bounded.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np

from mirabelle.cube.base import Cube
from mirabelle.cube.limits import check_shape
from mirabelle.cube.metadata import (
    DEFAULT_NM_LASER,
    Parameters,
    binning_from_shape,
    celestial_wcs,
    infer_filter_from_axis,
    normalise_filter_name,
)
from mirabelle.errors import CubeError
from mirabelle.orientation import cube_from_fits

_WAVENUMBER_TYPES = ("WAVENUMBER", "WAVN")
_WAVELENGTH_TYPES = ("WAVE", "AWAV", "LAMBDA")
_FREQUENCY_TYPES = ("FREQ",)
_BITPIX = (8, 16, 32, 64, -32, -64)


class FITSCube(Cube):
    """A 3-D FITS cube opened read-only (use `mirabelle.cube.open_cube`)."""

    def __init__(self, path: str | Path):
        from astropy.io import fits
        from astropy.utils.exceptions import AstropyUserWarning

        path = Path(path)
        with warnings.catch_warnings():  # truncation is checked and reported as a CubeError
            warnings.simplefilter("ignore", AstropyUserWarning)
            try:
                self._hdul = fits.open(path, memmap=False, lazy_load_hdus=True)
            except (OSError, ValueError, KeyError, IndexError) as exc:
                reason = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
                raise CubeError(f"{path} cannot be read as FITS: the file is truncated or its header is corrupt "
                                f"({reason.rstrip('.')})") from None
            try:
                self._hdu = _cube_hdu(self._hdul, path)
            except BaseException:
                self._hdul.close()
                raise
        try:
            self._lock = threading.Lock()  # one file handle: serialise seeks and reads
            kwargs, self._reversed = _describe(self._hdu, path)
            super().__init__(**kwargs)
        except BaseException:
            self._hdul.close()
            raise

    def _read_block(self, xs: slice, ys: slice, channels: slice) -> np.ndarray:
        planes = self._file_planes(channels)
        block = cube_from_fits(self._section((planes, ys, xs), f"pixels x {xs.start}–{xs.stop - 1}, "
                                             f"y {ys.start}–{ys.stop - 1}"))
        if self._reversed:
            block = block[:, :, ::-1]
        return np.ascontiguousarray(block, dtype=np.float32)

    def _read_spectrum(self, x: int, y: int) -> np.ndarray:
        values = np.asarray(self._section((slice(None), y, x), f"pixel ({x}, {y})"), dtype=np.float64)
        return values[::-1].copy() if self._reversed else values

    def _close_file(self) -> None:
        self._hdul.close()

    def _file_planes(self, channels: slice) -> slice:
        """File planes holding cube channels ``channels`` (ascending wavenumber)."""
        if not self._reversed:
            return channels
        return slice(self.nz - channels.stop, self.nz - channels.start)

    def _section(self, key: tuple, what: str) -> np.ndarray:
        try:
            with self._lock:
                return np.asarray(self._hdu.section[key])
        except (OSError, ValueError, TypeError) as exc:
            raise CubeError(f"{self.path}: cannot read {what}; the file is truncated or corrupt ({exc})") from None


def _cube_hdu(hdul, path: Path):
    """First image HDU with three axes; a CubeError saying what the file holds otherwise."""
    from astropy.io.fits.verify import VerifyError

    found = []
    try:
        for hdu in hdul:
            naxis = int(hdu.header.get("NAXIS", 0))
            if hdu.is_image and naxis == 3:
                _check_complete(hdu, path)
                return hdu
            if hdu.is_image and naxis > 0:
                found.append(tuple(hdu.header.get(f"NAXIS{i}", 0) for i in range(1, naxis + 1)))
    except CubeError:
        raise
    except (OSError, ValueError, KeyError, TypeError, VerifyError) as exc:
        reason = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise CubeError(f"{path} cannot be read as FITS: the file is truncated or its header is corrupt "
                        f"({reason.rstrip('.')})") from None
    if found:
        shapes = ", ".join(" × ".join(str(n) for n in shape) for shape in found)
        raise CubeError(f"{path} holds {len(found[0])}-D image data ({shapes}) where a 3-D cube "
                        "(NAXIS1 = x, NAXIS2 = y, NAXIS3 = spectral) was expected")
    raise CubeError(f"{path} has no image data: expected a 3-D spectral cube")


def _check_complete(hdu, path: Path) -> None:
    """CubeError when the file ends before the cube's last byte (uncompressed images)."""
    from astropy.io import fits

    if isinstance(hdu, fits.CompImageHDU):
        return
    header = hdu.header
    if header["BITPIX"] not in _BITPIX:
        raise CubeError(f"{path} has BITPIX = {header['BITPIX']}: expected one of "
                        f"{', '.join(str(b) for b in _BITPIX)} (the FITS data types)")
    size = abs(int(header["BITPIX"])) // 8
    for i in (1, 2, 3):
        size *= int(header[f"NAXIS{i}"])
    if size == 0:
        raise CubeError(f"{path}: the 3-D image is empty (NAXIS1-3 = "
                        f"{header['NAXIS1']}, {header['NAXIS2']}, {header['NAXIS3']})")
    end = hdu.fileinfo()["datLoc"] + size
    actual = os.path.getsize(path)
    if actual < end:
        raise CubeError(f"{path} is truncated: its cube needs {end} bytes, the file has {actual}")


def _spectral_axis(header: dict, nz: int, path: Path, warnings: list[str]) -> np.ndarray:
    """(nz,) wavenumbers (cm⁻¹) of the file's planes, in file order (``header``: parsed cards)."""
    import astropy.units as u

    crval = _card_number(header, "CRVAL3", "the first channel's coordinate", path)
    delta = _card_number(header, "CDELT3", "the channel width", path)
    if delta is not None:
        delta = delta * _card_number(header, "PC3_3", "the spectral scaling", path, default=1.0)
    else:
        delta = _card_number(header, "CD3_3", "the channel width", path)
    if crval is None or delta is None:
        raise CubeError(f"{path} has no spectral axis: CRVAL3 and CDELT3 (or CD3_3) are required")
    values = crval + (np.arange(nz) + 1.0 - _card_number(header, "CRPIX3", "the reference channel", path,
                                                         default=1.0)) * delta

    ctype = str(header.get("CTYPE3", "")).strip().upper()
    cunit = str(header.get("CUNIT3", "")).strip()
    if ctype.startswith(_WAVENUMBER_TYPES):
        kind = "wavenumber"
    elif ctype.startswith(_WAVELENGTH_TYPES):
        kind = "wavelength"
    elif ctype.startswith(_FREQUENCY_TYPES):
        kind = "frequency"
    elif cunit:
        kind = "given by CUNIT3"
    else:
        raise CubeError(f"{path}: CTYPE3 = {ctype!r} is not a spectral axis; expected WAVENUMBER, "
                        "WAVN, WAVE or AWAV (or a CUNIT3)")
    if cunit:
        unit = _parse_unit(cunit, path)
    else:
        unit = _guess_unit(kind, values, path)
        warnings.append(f"CUNIT3 is missing: the {kind} axis is assumed to be in {unit}")
    try:
        sigma = (values * unit).to_value(u.cm**-1, equivalencies=u.spectral())
    except u.UnitConversionError:
        raise CubeError(f"{path}: CUNIT3 = {cunit!r} is not a wavenumber, wavelength or frequency unit") from None
    if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise CubeError(f"{path}: the spectral axis (CRVAL3 {crval}, CDELT3 {delta} {cunit}) gives "
                        "non-positive wavenumbers")
    if nz > 1 and np.any(np.diff(sigma) == 0):
        raise CubeError(f"{path}: the spectral axis has a zero step (CDELT3 = {delta})")
    return sigma


def _card_number(header: dict, key: str, what: str, path: Path, default: float | None = None) -> float | None:
    """Card ``key`` as a finite float, ``default`` when absent; a CubeError for anything else."""
    value = header.get(key, default)
    if isinstance(value, _Unparsable):
        raise CubeError(f"{path}: the {key} card cannot be parsed ({value!r}); expected a number "
                        f"({what})")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
        raise CubeError(f"{path} has {key} = {value!r} where a finite number ({what}) was expected")
    return float(value)


class _Unparsable:
    """A header card astropy cannot parse; ``raw`` is its value field."""

    def __init__(self, raw: str):
        self.raw = raw

    def __repr__(self) -> str:
        return repr(self.raw.strip().strip("'").strip())


def _parsed_cards(header, path: Path, problems: list[str]) -> dict:
    """Keyword -> value of every card; unparsable ones become `_Unparsable` (and a warning)."""
    from astropy.io.fits.verify import VerifyError

    from astropy.io.fits.verify import VerifyWarning

    values, bad = {}, []
    with warnings.catch_warnings():  # reported once, below, as one sentence
        warnings.simplefilter("ignore", VerifyWarning)
        for card in header.cards:
            try:
                values[card.keyword] = card.value
            except (VerifyError, ValueError):
                values[card.keyword] = _Unparsable(card.image[10:].split("/")[0])
                bad.append(card.keyword)
    if bad:
        problems.append(f"header cards {', '.join(bad)} cannot be parsed and are ignored")
    return values


def _parse_unit(text: str, path: Path):
    import astropy.units as u

    for fmt in ("fits", None):
        try:
            return u.Unit(text, format=fmt)
        except ValueError:
            continue
    raise CubeError(f"{path}: CUNIT3 = {text!r} is not a unit astropy understands")


def _guess_unit(kind: str, values: np.ndarray, path: Path):
    """Unit of an axis without CUNIT3, from its kind and the magnitude of its values."""
    import astropy.units as u

    typical = float(np.nanmedian(np.abs(values)))
    if kind == "wavenumber":
        return u.cm**-1 if typical < 1e5 else u.m**-1
    if kind == "wavelength":
        if typical < 1e-3:
            return u.m
        return u.nm if typical < 3000 else u.AA
    if kind == "frequency":
        return u.Hz
    raise CubeError(f"{path}: cannot tell the unit of the spectral axis (no CUNIT3)")


def _describe(hdu, path: Path) -> tuple[dict, bool]:
    """`Cube` constructor arguments and whether file planes are in descending wavenumber."""
    nx, ny, nz = (int(hdu.header[f"NAXIS{i}"]) for i in (1, 2, 3))
    check_shape((nx, ny, nz), path)
    warnings: list[str] = []
    header = _parsed_cards(hdu.header, path, warnings)
    params = Parameters({k: v for k, v in header.items() if not isinstance(v, _Unparsable)}, str(path))
    file_axis = _spectral_axis(header, nz, path, warnings)
    reversed_ = bool(nz > 1 and file_axis[0] > file_axis[-1])
    base_axis = file_axis[::-1].copy() if reversed_ else file_axis

    def integer(name: str) -> int | None:
        value = params.number(name)
        return None if value is None else int(value)

    axis_corr = params.number("axis_corr")
    if axis_corr is None or axis_corr <= 0:
        axis_corr = 1.0
    filter_name = normalise_filter_name(params.text("filter_name"))
    if not filter_name:
        filter_name = infer_filter_from_axis(base_axis)
        warnings.append(f"no FILTER keyword: filter {filter_name or 'unknown'} inferred from the axis")
    wcs, problem = celestial_wcs(params.keywords, (nx, ny))
    if problem:
        warnings.append(problem)
    apodization = params.number("apodization")
    nm_laser = params.number("nm_laser")
    binning = params.number("binning")
    zpd = integer("zpd_index")
    step_nb = integer("step_nb")
    if zpd is not None and step_nb is not None and not 0 <= zpd < step_nb:
        warnings.append(f"ZPD index {zpd} is not below STEP_NB {step_nb}: both are ignored")
        zpd = step_nb = None
    kwargs = dict(
        path=path, file_format="FITS", shape=(nx, ny, nz), chunk_xy=(nx, 1),
        filter_name=filter_name, step_nm=params.number("step"), order=integer("order"),
        step_nb=step_nb, zpd_index=zpd, nm_laser=nm_laser if nm_laser and nm_laser > 0 else DEFAULT_NM_LASER,
        axis_corr=axis_corr, apodization=apodization if apodization and apodization > 0 else 1.0,
        exposure_time_s=params.number("exposure_time"), calibrated=True,
        project_name=params.text("project_name"), object_name=params.text("object_name"),
        binning=int(binning) if binning and binning >= 1 else binning_from_shape((nx, ny)),
        wcs=wcs, warnings=warnings, base_axis_cm1=base_axis, unit_axis_cm1=None, flambda=None,
        has_deep_frame=False, has_calib_map=False, keywords=dict(header.items()),
    )
    return kwargs, reversed_
