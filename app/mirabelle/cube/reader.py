"""`open_cube`: recognise a cube file by its first bytes and open it with the right reader."""

from __future__ import annotations

from pathlib import Path

from mirabelle.cube.base import Cube
from mirabelle.errors import CubeError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_FITS_SIGNATURE = b"SIMPLE  "
_GZIP_SIGNATURE = b"\x1f\x8b"


def open_cube(path: str | Path) -> Cube:
    """Open a SITELLE spectral cube read-only: ORB HDF5 (level ≥ 2), 3-D FITS, or an ORB/ORCS
    one-spectrum HDF5 file (as a 1 × 1 cube).

    Only metadata are read here; data are read on demand. Use as a context manager or
    call ``close()``.

    Raises
    ------
    CubeError
        Naming the file and the problem: missing, not HDF5/FITS, truncated, not 3-D,
        missing STEP/ORDER, ORB level-1 layout, ...
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CubeError(f"{path} does not exist")
    if not path.is_file():
        raise CubeError(f"{path} is not a file: expected an HDF5 or FITS cube")
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise CubeError(f"{path} cannot be read ({exc.strerror})") from None
    if not head:
        raise CubeError(f"{path} is empty: expected an HDF5 or FITS cube")
    if head == _HDF5_SIGNATURE or _is_hdf5_with_userblock(path):
        from mirabelle.cube.hdf5 import HDF5Cube
        from mirabelle.cube.spectrum_file import OneSpectrumCube

        if _holds_one_spectrum(path):
            return _guarded(OneSpectrumCube, path, "an ORB one-spectrum file")
        return _guarded(HDF5Cube, path, "an ORB HDF5 cube")
    if head == _FITS_SIGNATURE:
        from mirabelle.cube.fits import FITSCube

        return _guarded(FITSCube, path, "a FITS cube")
    if head.startswith(_GZIP_SIGNATURE):
        raise CubeError(f"{path} is gzip-compressed: decompress it first (cubes are read in place, "
                        "a part at a time)")
    raise CubeError(f"{path} is neither an HDF5 nor a FITS file (it starts with {head!r})")


def _guarded(reader, path: Path, what: str) -> Cube:
    """``reader(path)``; a hostile file's surprise (h5py and astropy raise many types) is a CubeError."""
    try:
        return reader(path)
    except (CubeError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 (the file is the cause; the sentence names it)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CubeError(f"{path} cannot be read as {what}: its content is corrupt ({text})") from None


def _holds_one_spectrum(path: Path) -> bool:
    """True for ORB/ORCS one-spectrum files (1-D ``axis`` and ``data``); the cube reader reports
    every other problem."""
    from mirabelle.cube.hdf5 import open_hdf5
    from mirabelle.cube.spectrum_file import is_one_spectrum_file

    try:
        file, _ = open_hdf5(path)
    except CubeError:
        return False
    with file:
        try:
            return is_one_spectrum_file(file)
        except Exception:  # noqa: BLE001 (broken links and the like: the cube reader names them)
            return False


def _is_hdf5_with_userblock(path: Path) -> bool:
    """HDF5 files may start after a user block (512, 1024, ... bytes)."""
    import h5py

    try:
        return bool(h5py.is_hdf5(path))
    except OSError:
        return False
