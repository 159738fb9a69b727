"""The one place that defines array orientation.

Convention used everywhere inside Mirabelle (the ORB convention):
- cube data are indexed ``[x, y, channel]``, shape ``(nx, ny, nz)``;
- 2-D maps and masks are indexed ``[x, y]``, shape ``(nx, ny)``;
- x and y are 0-based pixel indices; FITS pixel (1, 1) is ``[0, 0]``;
- pyqtgraph's default ``imageAxisOrder='col-major'`` displays ``[x, y]`` arrays directly,
  x to the right and y upwards (the viewer does not invert y), as DS9 shows FITS images.

FITS files (and numpy arrays read by astropy) are row-major: an image is ``[y, x]`` and
a cube ``[channel, y, x]``. Convert only through the functions below.
"""

from __future__ import annotations

import numpy as np


def map_to_fits(map_xy: np.ndarray) -> np.ndarray:
    """``[x, y]`` map -> ``[y, x]`` array to write as a FITS image (NAXIS1 = x)."""
    return np.ascontiguousarray(np.asarray(map_xy).T)


def map_from_fits(image_yx: np.ndarray) -> np.ndarray:
    """``[y, x]`` FITS image data -> ``[x, y]`` map."""
    return np.ascontiguousarray(np.asarray(image_yx).T)


def cube_from_fits(data_zyx: np.ndarray) -> np.ndarray:
    """``[channel, y, x]`` FITS cube data -> ``[x, y, channel]`` view (no copy)."""
    return np.asarray(data_zyx).transpose(2, 1, 0)


def cube_to_fits(data_xyz: np.ndarray) -> np.ndarray:
    """``[x, y, channel]`` cube -> ``[channel, y, x]`` array to write as FITS."""
    return np.ascontiguousarray(np.asarray(data_xyz).transpose(2, 1, 0))
