"""Double-component flags drawn by eye: a Qt-free mask with undo, its files and its exports."""

from mirabelle.flags.export import Outline, flag_regions, trace_outlines, write_ds9_regions, write_fits_mask
from mirabelle.flags.mask import FlagMask, FlagRegion
from mirabelle.flags.storage import autosave_path, find_saved, load_mask, save_mask, sidecar_path, user_path

__all__ = [
    "FlagMask", "FlagRegion", "Outline",
    "autosave_path", "find_saved", "load_mask", "save_mask", "sidecar_path", "user_path",
    "flag_regions", "trace_outlines", "write_ds9_regions", "write_fits_mask",
]
