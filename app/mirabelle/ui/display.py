"""Display arithmetic: robust limits from a bounded sample, stretches and lookup tables.

Stretches act through the lookup table, so the image keeps its data values and levels
(``[low, high]`` in data units): the colour of a value v is
``colormap(stretch((v - low) / (high - low)))``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

MAX_SAMPLE = 250_000
LUT_SIZE = 512
_ALIASES = {"gray": "CET-L1", "coolwarm": "CET-D1", "RdBu_r": "CET-D1A", "turbo": "turbo"}


def finite_sample(image: np.ndarray, max_size: int = MAX_SAMPLE) -> np.ndarray:
    """Finite values of a strided sample of ``image`` (at most about ``max_size`` of them)."""
    flat = np.asarray(image).ravel()
    step = max(1, flat.size // max_size)
    sample = flat[::step]
    return sample[np.isfinite(sample)]


def compute_limits(image: np.ndarray, mode: str) -> tuple[float, float]:
    """Display limits of ``image`` for ``mode`` in 'minmax', '99.5', 'zscale'.

    Returns ``(0, 1)`` for an image with no finite value; never returns low == high.
    """
    sample = finite_sample(image)
    if sample.size == 0:
        return (0.0, 1.0)
    if mode == "minmax":
        low, high = float(sample.min()), float(sample.max())
    elif mode == "zscale":
        from astropy.visualization import ZScaleInterval  # on use: ~0.2 s of imports, not with the window

        low, high = (float(v) for v in ZScaleInterval().get_limits(sample))
    else:  # '99.5' (and fallback for 'manual' without limits)
        low, high = (float(v) for v in np.percentile(sample, [0.25, 99.75]))
    if not high > low:
        pad = abs(low) * 1e-3 or 1.0
        low, high = low - pad, high + pad
    return (low, high)


def stretch_curve(t: np.ndarray, stretch: str) -> np.ndarray:
    """Map normalised values ``t`` in 0..1 to 0..1 (DS9's definitions)."""
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if stretch == "sqrt":
        return np.sqrt(t)
    if stretch == "log":
        a = 1000.0
        return np.log10(a * t + 1.0) / np.log10(a + 1.0)
    if stretch == "asinh":
        return np.arcsinh(10.0 * t) / np.arcsinh(10.0)
    return t


def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph colormap from one of :data:`mirabelle.ui.state.COLORMAPS`."""
    cmap = pg.colormap.get(_ALIASES.get(name, name))
    if cmap is None:  # pragma: no cover - every listed name ships with pyqtgraph
        cmap = pg.colormap.get("viridis")
    return cmap


def histogram_lut_item() -> pg.HistogramLUTItem:
    """A ``pg.HistogramLUTItem`` (fill, gradient on the right) built without scanning matplotlib.

    pyqtgraph builds its gradient's colour-map menu at construction, and where matplotlib is
    installed that menu's scan for extra maps imports ``matplotlib.pyplot`` (about half a
    second of every launch). The gradient is disabled here (the colormap has its own combo
    box), so its menu never opens: the scan is skipped while the item is built.
    """
    from pyqtgraph.widgets import ColorMapMenu as menu_module

    scan = getattr(menu_module, "find_mpl_leftovers", None)
    if scan is not None:
        menu_module.find_mpl_leftovers = lambda: []
    try:
        return pg.HistogramLUTItem(fillHistogram=True, gradientPosition="right")
    finally:
        if scan is not None:
            menu_module.find_mpl_leftovers = scan


def mask_edges(mask_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pixel edges between a ``[x, y]`` bool mask's True and False pixels, as segment end
    points for ``pg.arrayToQPath(xs, ys, connect="pairs")``: pixel (x, y) covers x..x+1, y..y+1."""
    padded = np.pad(np.asarray(mask_xy, dtype=bool), 1)
    across_x = padded[1:, 1:-1] != padded[:-1, 1:-1]  # edge x = i, from y = j to j + 1
    ix, jy = np.nonzero(across_x)
    across_y = padded[1:-1, 1:] != padded[1:-1, :-1]  # edge y = j, from x = i to i + 1
    kx, ly = np.nonzero(across_y)
    xs = np.concatenate([np.repeat(ix, 2), np.stack([kx, kx + 1], axis=1).ravel()]).astype(float)
    ys = np.concatenate([np.stack([jy, jy + 1], axis=1).ravel(), np.repeat(ly, 2)]).astype(float)
    return xs, ys


def stretched_lut(cmap_name: str, stretch: str, size: int = LUT_SIZE, alpha: bool = False) -> np.ndarray:
    """Lookup table (size, 3 or 4) uint8 showing ``colormap(stretch(t))`` for t linear in 0..1."""
    t = np.linspace(0.0, 1.0, size)
    positions = stretch_curve(t, stretch)
    lut = colormap(cmap_name).map(positions, mode="byte")
    return lut if alpha else lut[:, :3]


def histogram(image: np.ndarray, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and log10(1 + counts) of a finite sample of ``image`` (histogram display).

    Log counts keep faint structure visible next to the sky peak.
    """
    sample = finite_sample(image)
    if sample.size == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 0.0])
    low, high = np.percentile(sample, [0.25, 99.75])  # the default '99.5' limits, padded
    pad = 0.15 * (high - low)
    low, high = low - pad, high + pad
    if not high > low:
        low, high = float(sample.min()), float(sample.max()) + 1.0
    counts, edges = np.histogram(sample, bins=bins, range=(low, high))
    return 0.5 * (edges[:-1] + edges[1:]), np.log10(1.0 + counts.astype(float))
