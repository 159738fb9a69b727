"""Read and write flag masks as uint8 FITS images, atomically, and find where a cube's flags autosave."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from mirabelle.atomic import clean_stale, create_exclusive, discard, temporary_path, write_atomic
from mirabelle.errors import FlagsError
from mirabelle.locking import OutputLock
from mirabelle.orientation import map_from_fits, map_to_fits

SIDECAR_SUFFIX = ".mirabelle-flags.fits"
FLAGS_DIR_ENV = "MIRABELLE_FLAGS_DIR"
"""Environment variable overriding the fallback folder (tests, portable installs)."""


def _fits_bytes(mask_xy: np.ndarray, wcs=None, extra: dict | None = None) -> bytes:
    import io

    # On use, not at import: the window's first paint must not wait for astropy (opening a cube loads it
    # anyway, for its WCS, so the first autosave does not wait for it either).
    from astropy.io import fits

    header = fits.Header()
    if wcs is not None:
        header.update(wcs.to_header())
    header["BUNIT"] = ("", "1 = flagged as double component, 0 = not")
    header["CONTENT"] = ("FLAGS", "Mirabelle double-component flags")
    for key, value in (extra or {}).items():
        header[key] = value
    hdu = fits.PrimaryHDU(map_to_fits(np.asarray(mask_xy).astype(np.uint8)), header=header)
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


def save_mask(path: str | Path, mask_xy: np.ndarray, wcs=None, fsync: bool = False) -> Path:
    """Write a ``[x, y]`` bool mask atomically as a uint8 FITS image (NAXIS1 = x, optional WCS).

    Temporaries a killed writer left for this file are removed first; while another process
    holds the file's lock (:func:`flags_lock`) an ExportError names it and nothing is written.
    """
    path = Path(path)
    with flags_lock(path):
        clean_stale(path.parent, target=path.name)
        return write_atomic(path, _fits_bytes(mask_xy, wcs), fsync=fsync)


def flags_lock(path: str | Path) -> OutputLock:
    """The lock of a flag file: another process saving it meanwhile is refused with our pid."""
    return OutputLock(path, f"the flag file {path}")


def load_mask(path: str | Path, expected_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a flag mask FITS image as a bool ``[x, y]`` array.

    Any non-zero, finite pixel is flagged. Raises FlagsError when the file is missing,
    not a 2-D FITS image, or (with ``expected_shape`` = (nx, ny)) of another shape.
    """
    from astropy.io import fits

    path = Path(path)
    try:
        with fits.open(path, memmap=False) as hdul:
            image = next((h.data for h in hdul if getattr(h, "data", None) is not None and h.data.ndim == 2), None)
            if image is None:
                raise FlagsError(f"{path} holds no 2-D image; expected a flag mask (uint8 FITS image).")
            image = np.array(image)
    except FlagsError:
        raise
    except FileNotFoundError as exc:
        raise FlagsError(f"{path} does not exist; expected a flag mask FITS file.") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise FlagsError(f"{path} cannot be read as a flag mask: expected a FITS image, found {exc}.") from exc
    mask = map_from_fits(np.nan_to_num(image.astype(float), nan=0.0) != 0)
    if expected_shape is not None and mask.shape != tuple(expected_shape):
        nx, ny = expected_shape
        raise FlagsError(
            f"{path} is a {mask.shape[0]}×{mask.shape[1]} (x×y) mask; expected {nx}×{ny} to match the cube."
        )
    return mask


def _folder_writable(folder: Path) -> bool:
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:  # os.access can be wrong on network and read-only mounts: probe
        probe = temporary_path(folder / ".mirabelle-probe")
        os.close(create_exclusive(probe))
        discard(probe)
        return True
    except OSError:
        return False


def fallback_dir() -> Path:
    """The per-user folder for flags of cubes in read-only folders."""
    override = os.environ.get(FLAGS_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("mirabelle")) / "flags"


def sidecar_path(cube_path: str | Path) -> Path:
    """``<cube>.mirabelle-flags.fits`` next to the cube."""
    cube = Path(cube_path).absolute()
    return cube.with_name(cube.name + SIDECAR_SUFFIX)


def user_path(cube_path: str | Path) -> Path:
    """``<user data>/flags/<cube stem>-<hash of its absolute path>.fits``."""
    cube = Path(os.path.abspath(cube_path))
    digest = hashlib.sha256(str(cube).encode("utf-8")).hexdigest()[:16]
    return fallback_dir() / f"{cube.stem}-{digest}.fits"


def autosave_path(cube_path: str | Path) -> Path:
    """Where the flags of ``cube_path`` are saved.

    An existing sidecar ``<cube>.mirabelle-flags.fits`` wins; otherwise the sidecar when the
    cube's folder is writable, else :func:`user_path` in the user data folder.
    """
    sidecar = sidecar_path(cube_path)
    if sidecar.exists() and os.access(sidecar, os.W_OK):
        return sidecar
    if _folder_writable(sidecar.parent):
        return sidecar
    return user_path(cube_path)


def find_saved(cube_path: str | Path) -> Path | None:
    """The newest existing flag file of ``cube_path`` (sidecar or user folder), or None."""
    found = [c for c in (sidecar_path(cube_path), user_path(cube_path)) if c.is_file()]
    return max(found, key=lambda c: c.stat().st_mtime_ns) if found else None
