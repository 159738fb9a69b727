"""File ▸ Export view / spectrum. The view: the deep image and its overlay at native resolution (one
image pixel per cube pixel) as PNG/TIFF/JPEG, optionally inside RA/Dec axes with its colour bar
(:mod:`mirabelle.ui.view_figure`), or as FITS with the cube's WCS — not a screen grab of the widgets. The spectrum: the plot (PNG, SVG) or the data (FITS table, CSV). Every export starts in
the cube's folder with a name from the cube (and pixel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from mirabelle.errors import ExportError, MirabelleError
from mirabelle.ui import display

AXES_FILTER = "PNG with RA/Dec axes and colour bar (*.png)"
IMAGE_FILTERS = ";;".join(("PNG image (*.png)", AXES_FILTER, "FITS image with WCS (*.fits)", "TIFF image (*.tif *.tiff)",
                           "JPEG image (*.jpg)"))


def _levels_index(values: np.ndarray, low: float, high: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Lookup-table indices of ``values`` between ``low`` and ``high``, and where they are finite."""
    finite = np.isfinite(values)
    span = high - low if high > low else 1.0
    with np.errstate(invalid="ignore"):
        t = np.clip((np.where(finite, values, low) - low) / span, 0.0, 1.0)
    return np.rint(t * (size - 1)).astype(np.intp), finite


def view_rgb(view: Any) -> np.ndarray:
    """What ``view`` (a :class:`mirabelle.ui.image_view.ImageView`) shows of the deep image and the
    overlay, as ``[row, column, rgb]`` uint8 with one pixel per cube pixel, north (y max) on top."""
    deep = view.deep_image
    if deep is None:
        raise ExportError("No image to export: open a cube first.")
    state = view.state
    low, high = state.limits or display.compute_limits(deep, state.limits_mode)
    lut = display.stretched_lut(state.colormap, state.stretch).astype(np.float64)
    index, finite = _levels_index(deep, low, high, len(lut))
    rgb = np.where(finite[..., None], lut[index], 0.0)
    overlay = view.overlay_item
    if overlay.isVisible() and overlay.image is not None and overlay.image.shape == deep.shape:
        o_low, o_high = overlay.getLevels()
        o_lut = display.colormap(state.overlay_colormap_for(state.overlay_map)).getLookupTable(
            nPts=256, alpha=False).astype(np.float64)
        o_index, o_finite = _levels_index(np.asarray(overlay.image, dtype=np.float64), o_low, o_high, len(o_lut))
        alpha = float(state.overlay_opacity) * o_finite[..., None]
        rgb = (1.0 - alpha) * rgb + alpha * o_lut[o_index]
    return np.ascontiguousarray(np.rint(rgb).astype(np.uint8).transpose(1, 0, 2)[::-1])


def export_view(view: Any, cube: Any, path: str | Path, axes: bool = False) -> Path:
    """Write what ``view`` shows to ``path``: FITS (deep image + overlay map, WCS) or an image, at one
    image pixel per cube pixel; with ``axes``, inside RA/Dec axes and beside its colour bar."""
    path = Path(path)
    if path.suffix.lower() in (".fits", ".fit", ".fts"):
        from mirabelle.export.view_fits import write_view_fits  # astropy: off the launch's path

        if view.deep_image is None:
            raise ExportError("No image to export: open a cube first.")
        name = view.state.overlay_map if view.overlay_item.isVisible() else None
        data = view.overlay_item.image if name is not None else None
        return write_view_fits(path, cube, view.deep_image, name, data, _unit(name))
    if axes:
        from mirabelle.ui.view_figure import export_view_figure

        return export_view_figure(view, cube, path)
    rgb = view_rgb(view)
    height, width, _ = rgb.shape
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    if not image.save(str(path)):
        raise ExportError(f"{path}: expected a writable .png, .tif or .jpg file; Qt could not write it.")
    return path


def _unit(map_name: str | None) -> str:
    if map_name is None:
        return ""
    from mirabelle.session.registry import map_spec

    try:
        return map_spec(map_name).unit
    except (KeyError, ValueError):
        return ""


def export_folder(cube: Any) -> Path:
    """The folder every export starts in: the cube's (else the last folder used)."""
    from mirabelle.ui import settings

    cube_path = getattr(cube, "path", None)
    return Path(cube_path).resolve().parent if cube_path else Path(settings.last_dir())


def default_export_path(cube: Any, what: str) -> Path:
    """``<cube stem>_<what>`` in :func:`export_folder`, e.g. ``M31_SN3_view.png``."""
    cube_path = getattr(cube, "path", None)
    stem = Path(cube_path).name.split(".")[0] if cube_path else "mirabelle"
    return export_folder(cube) / f"{stem}_{what}"


def open_priors_dialog(window: Any) -> Any:
    """File ▸ Export ORCS priors: the dialog on a snapshot of the maps (and the flags), opened and
    returned; None after a message when there are no maps yet."""
    from PySide6.QtCore import Qt

    from mirabelle.ui.errors import show_error
    from mirabelle.ui.export_dialog import ExportPriorsDialog

    if window.cube is None or window.maps is None:
        show_error(window, "Expected kinematic maps to export, found none: open a cube and let the "
                           "kinematics inference run (Kinematics ▸ Run inference) first.", "Nothing to export")
        return None
    card = None if window.model is None else getattr(window.model, "card", None)
    dialog = ExportPriorsDialog(window.cube, window.controller.session.snapshot(),
                                flags=getattr(window.flag_layer, "flags", None), model_card=card, parent=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.exported.connect(lambda summary: window.status.message("ORCS priors exported."))
    dialog.open()
    return dialog


def ask_and_export_view(window: Any) -> None:
    """File ▸ Export view: ask for a file (``<cube stem>_view.png`` in the cube's folder), write it."""
    from PySide6.QtWidgets import QFileDialog

    from mirabelle.ui.errors import show_error

    if window.cube is None:
        return
    path, chosen = QFileDialog.getSaveFileName(window, "Export the view", str(default_export_path(window.cube, "view.png")),
                                               IMAGE_FILTERS)
    if path:
        try:
            export_view(window.image_view, window.cube, path, axes=chosen == AXES_FILTER)
        except MirabelleError as exc:
            show_error(window, exc, "Export failed")


def ask_and_export_spectrum(window: Any) -> None:
    """File ▸ Export spectrum (and the spectrum's Export button): ``<cube stem>_x<X>_y<Y>_spectrum.png``
    in the cube's folder; the plot as PNG/SVG titled with the cube and pixel, the data as FITS/CSV
    by the suffix chosen."""
    from PySide6.QtWidgets import QFileDialog

    from mirabelle.export.spectrum import SPECTRUM_FORMATS, default_spectrum_name, write_spectrum
    from mirabelle.ui.errors import show_error

    panel = window.spectrum_panel
    data = panel.pixel_data
    if window.cube is None or data is None:
        return
    name = default_spectrum_name(window.cube.path, data.x, data.y, ".png")
    filters = "PNG image (*.png);;SVG image (*.svg);;FITS table (*.fits);;CSV table (*.csv)"
    path, _ = QFileDialog.getSaveFileName(window, "Export the spectrum", str(export_folder(window.cube) / name), filters)
    if not path:
        return
    try:
        if Path(path).suffix.lower() in SPECTRUM_FORMATS:
            write_spectrum(path, data, window.cube)
        else:
            panel.export_image(path, title=f"{Path(window.cube.path).name} — {panel.title_label.text()}")
    except MirabelleError as exc:
        show_error(window, exc, "Export failed")
