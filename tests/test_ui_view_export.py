"""Export view: the deep image and overlay at native resolution (PNG) or as FITS with the WCS."""

import types

import numpy as np
import pytest
from astropy.io import fits
from PySide6.QtGui import QImage

from ui_support import cube_path, make_window, messages, open_and_wait, unexpected_errors  # noqa: F401

from mirabelle.ui.image_view import ImageView
from mirabelle.ui.state import ViewState
from mirabelle.ui.view_export import AXES_FILTER, export_view, view_rgb


@pytest.fixture
def view(qtbot):
    state = ViewState()
    view = ImageView(state)
    qtbot.addWidget(view)
    view.resize(300, 200)  # the widget's size does not matter: one image pixel per cube pixel
    deep = np.zeros((30, 20), np.float32)
    deep[0, 19] = 100.0  # top-left corner on the sky image (x 0, y max)
    view.set_deep_image(deep)
    state.limits_mode = "manual"
    state.limits = (0.0, 100.0)
    view.show()
    return view


def test_png_is_the_cube_grid_north_up(view, tmp_path):
    path = export_view(view, None, tmp_path / "view.png")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (30, 20)
    assert image.pixelColor(0, 0).lightnessF() > 0.95 and image.pixelColor(1, 0).lightnessF() < 0.05


def test_the_overlay_is_blended_at_its_opacity(view):
    view.state.overlay_map = "velocity"
    view.state.overlay_opacity = 1.0
    view.state.set_overlay_limits("velocity", (-100.0, 100.0))
    velocity = np.full((30, 20), np.nan, np.float32)
    velocity[5:10, 5:10] = 100.0  # top of the colour map
    view.set_overlay_data("velocity", velocity)
    rgb = view_rgb(view)
    top = np.rint(np.asarray(view.colorbar.colorMap().map([1.0], mode="byte"))[0, :3])
    assert tuple(rgb[19 - 7, 7]) == tuple(top)  # opacity 1: exactly the colour bar's colour
    assert rgb[0, 29].max() < 20  # no map value there: the deep image (0, black)


def test_fits_has_the_deep_image_and_the_map(view, tmp_path):
    view.state.overlay_map = "velocity"
    view.set_overlay_data("velocity", np.full((30, 20), -120.0, np.float32))
    cube = types.SimpleNamespace(path=str(tmp_path / "c.hdf5"), wcs=None)
    with fits.open(export_view(view, cube, tmp_path / "view.fits")) as hdul:
        assert hdul[0].data.shape == (20, 30) and hdul[0].data[19, 0] == 100.0
        assert hdul["VELOCITY"].header["BUNIT"] == "km/s" and (hdul["VELOCITY"].data == -120.0).all()


def qimage_rgb(image):
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :3 * image.width()].reshape(image.height(), image.width(), 3).copy()  # outlives the QImage


def test_axes_png_holds_the_view_pixel_for_pixel_with_sky_ticks_and_the_maps_colour_bar(qtbot, tmp_path):
    from astropy.wcs import WCS

    from mirabelle.export.sky_ticks import edge_ticks
    from mirabelle.ui.view_figure import view_figure

    state = ViewState()
    view = ImageView(state)
    qtbot.addWidget(view)
    deep = np.random.default_rng(1).uniform(0.0, 100.0, (240, 200)).astype(np.float32)
    view.set_deep_image(deep)
    state.overlay_map = "velocity"
    view.set_overlay_data("velocity", np.where(deep > 50, -120.0, np.nan).astype(np.float32))
    wcs = WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.crval, wcs.wcs.crpix = ["RA---TAN", "DEC--TAN"], [23.46, 30.66], [120.0, 100.0]
    wcs.wcs.cdelt = [-0.32 / 3600, 0.32 / 3600]
    cube = types.SimpleNamespace(path=str(tmp_path / "c.hdf5"), wcs=wcs)
    figure = qimage_rgb(QImage(str(export_view(view, cube, tmp_path / "axes.png", axes=True))))
    rgb = view_rgb(view)
    assert figure.shape[0] > 240 and figure.shape[1] > 300  # room for the axes and the colour bar
    found = [(y, x) for y in range(figure.shape[0] - 200) for x in range(figure.shape[1] - 240)
             if (figure[y, x] == rgb[0, 0]).all() and (figure[y:y + 200, x:x + 240] == rgb).all()]
    assert len(found) == 1  # the view's pixels, copied one for one (not resampled)
    widget, _ = view_figure(view, cube)
    plot, bar = widget.ci.getItem(0, 0), widget.ci.getItem(0, 1)
    assert plot.getAxis("bottom")._tickLevels[0] == edge_ticks(wcs, 240, 200, "ra", max_ticks=2)
    assert plot.getAxis("left").labelText.startswith("Dec") and "km/s" in bar.axis.labelText
    assert tuple(bar.levels()) == tuple(view.overlay_item.getLevels())


def test_the_window_exports_view_and_spectrum_from_the_cube_folder(qtbot, make_window, cube_path, monkeypatch):
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    with qtbot.waitSignal(window.pixel_data_shown, timeout=20000):
        window.state.selected_pixel = (5, 6)
    asked = []
    folder = Path(cube_path).resolve().parent

    def answer(name):
        def get_save_file_name(parent, title, default, filters):
            asked.append(default)
            return str(folder / name), ""
        return get_save_file_name

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer("out_view.png"))
    window.export_view_image()
    image = QImage(str(folder / "out_view.png"))
    assert (image.width(), image.height()) == (window.cube.nx, window.cube.ny)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (asked.append(a[2]) or str(folder / "axes.png"),
                                                                     AXES_FILTER))
    window.export_view_image()
    image = QImage(str(folder / "axes.png"))
    assert image.width() > window.cube.nx + 50 and image.height() > window.cube.ny + 30
    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer("out_spectrum.csv"))
    window.export_spectrum_image()
    assert (folder / "out_spectrum.csv").read_text().count("\n") > 100
    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer("out_spectrum.svg"))
    window.spectrum_panel.export_button.click()  # the panel's button: the same names, folder and formats
    svg = (folder / "out_spectrum.svg").read_text()
    assert f"{Path(cube_path).name} — Pixel x 5, y 6" in svg  # the plot is titled with its cube and pixel
    assert not window.spectrum_panel.plot.titleLabel.isVisible()  # on screen, no title takes the plot's room
    stem = Path(cube_path).name.split(".")[0]
    spectrum_name = str(folder / f"{stem}_x5_y6_spectrum.png")
    view_name = str(folder / f"{stem}_view.png")
    assert asked == [view_name, view_name, spectrum_name, spectrum_name]


def test_axes_without_a_wcs_count_pixels_and_the_deep_image_bar_has_its_limits(view):
    from mirabelle.ui.view_figure import view_figure

    widget, box = view_figure(view, None)
    plot, bar = widget.ci.getItem(0, 0), widget.ci.getItem(0, 1)
    assert plot.getAxis("bottom").labelText == "x (pixel, 0-based)" and plot.getAxis("bottom")._tickLevels is None
    assert plot.getAxis("left").labelText == "y (pixel, 0-based)"
    assert tuple(bar.levels()) == (0.0, 100.0) and bar.axis.labelText == "Deep image"
