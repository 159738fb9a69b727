"""Regions drawn on a cube are kept with it, like the flags: a DS9 file ``<cube>.mirabelle-regions.reg``
beside the cube (or in the user data folder when the cube's folder is read-only)."""

from __future__ import annotations

from pathlib import Path

from mirabelle.atomic import write_atomic
from mirabelle.flags.storage import autosave_path

SIDECAR_SUFFIX = ".mirabelle-regions.reg"


def regions_path(cube_path: str | Path) -> Path:
    """Where the regions of ``cube_path`` are saved (beside the flags' file, which follows the same rule)."""
    flags = autosave_path(cube_path)
    cube = Path(cube_path)
    if flags.parent == cube.absolute().parent:
        return flags.with_name(cube.name + SIDECAR_SUFFIX)
    return flags.with_suffix(".reg")


def save_regions(cube_path: str | Path, ds9_text: str) -> Path | None:
    """Write the cube's regions (DS9 text); no regions removes the file. Returns the path written."""
    path = regions_path(cube_path)
    if not ds9_text.strip() or "(" not in ds9_text:
        path.unlink(missing_ok=True)
        return None
    return write_atomic(path, ds9_text.encode(), fsync=False)


def load_regions(cube_path: str | Path) -> list:
    """The shapes saved for ``cube_path`` ([] when none were)."""
    from mirabelle.analysis.region_spectra import read_regions

    path = regions_path(cube_path)
    return read_regions(path) if path.exists() else []
