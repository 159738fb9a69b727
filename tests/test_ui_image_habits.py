"""DS9 habits on the image: right-drag contrast/bias, +/− zoom keys, zoom to fit, compass, scale bar, grid."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from mirabelle.cube import open_cube
from mirabelle.ui import image_habits
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.state import ViewState


@pytest.fixture
def view(qtbot, synthetic_cube_path):
    image = ImageView(ViewState())
    qtbot.addWidget(image)
    image.resize(600, 500)
    image.show()
    with open_cube(synthetic_cube_path) as cube:
        image.set_deep_image(cube.deep_image())
        overlay = image_habits.install(image)
        overlay.set_wcs(cube.wcs, (cube.nx, cube.ny))
        yield image, overlay, cube


def test_plus_minus_zoom_and_zero_fits(qtbot, view):
    image, _overlay, cube = view
    image_habits.zoom_to_fit(image)
    width = np.diff(image.view_box.viewRange()[0])[0]
    qtbot.keyClick(image, Qt.Key.Key_Plus)
    assert np.diff(image.view_box.viewRange()[0])[0] == pytest.approx(width / image_habits.ZOOM_STEP, rel=0.05)
    qtbot.keyClick(image, Qt.Key.Key_Minus)
    qtbot.keyClick(image, Qt.Key.Key_Minus)
    assert np.diff(image.view_box.viewRange()[0])[0] > width
    qtbot.keyClick(image, Qt.Key.Key_0)
    assert np.diff(image.view_box.viewRange()[0])[0] == pytest.approx(width, rel=0.05)


class _Drag:
    """What pyqtgraph's mouse drag event offers the view box's handler."""

    def __init__(self, start, now, first=False, last=False):
        self._start, self._now, self._first, self._last = QPointF(*start), QPointF(*now), first, last

    def button(self):
        return Qt.MouseButton.RightButton

    def isStart(self):  # noqa: N802
        return self._first

    def isFinish(self):  # noqa: N802
        return self._last

    def buttonDownScreenPos(self):  # noqa: N802
        return self._start

    def screenPos(self):  # noqa: N802
        return self._now

    def accept(self):
        pass


def test_right_drag_changes_bias_and_contrast_as_in_ds9(view):
    image, _overlay, _cube = view
    image.image_item.setLevels((0.0, 100.0))
    image.view_box.mouseDragEvent(_Drag((100, 100), (100, 100), first=True))
    image.view_box.mouseDragEvent(_Drag((100, 100), (100, 40), last=True))  # drag up: more contrast
    low, high = image.image_item.getLevels()
    assert high - low < 100 and (low + high) / 2 == pytest.approx(50.0)
    image.view_box.mouseDragEvent(_Drag((100, 100), (100, 100), first=True))
    image.view_box.mouseDragEvent(_Drag((100, 100), (160, 100), last=True))  # drag right: lower bias
    assert sum(image.image_item.getLevels()) / 2 < (low + high) / 2
    assert image_habits.levels_after_drag((0, 10), 0.0, 0.0) == (0.0, 10.0)


def test_compass_points_north_and_east_and_scale_bar_is_round(view):
    _image, overlay, cube = view
    north, east = image_habits.compass_vectors(cube.wcs, 20, 20)
    assert north[1] > 0.99 and east[0] < -0.99  # RA grows to the left, as on the sky
    scale = image_habits.pixel_scale_arcsec(cube.wcs)
    assert scale == pytest.approx(0.321 * 2048 / cube.nx, rel=1e-3)
    labels = [item.toPlainText() for item in overlay.items if hasattr(item, "toPlainText")]
    assert labels[:2] == ["N", "E"] and labels[2].endswith(("″", "′"))
    assert len(overlay.grid_items) >= 2
    overlay.set_wcs(None, None)
    assert not overlay.items and not overlay.grid_items
