"""The PV view: a path drawn on the image gives the slice `pv_slice` computes, with CNN velocities on it."""

import numpy as np
import pytest

from mirabelle.analysis.pv import pv_slice
from mirabelle.cube import open_cube
from mirabelle.synthetic import read_truth
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.pv_view import PVView, uniform_velocity_image
from mirabelle.ui.state import ViewState
from mirabelle.ui.tasks import wait_for_workers


@pytest.fixture
def view(qtbot, synthetic_cube_path):
    image = ImageView(ViewState())
    qtbot.addWidget(image)
    view = PVView(image)
    qtbot.addWidget(view)
    view.truth = read_truth(synthetic_cube_path)  # before the cube is open: h5py's locking flags differ
    with open_cube(synthetic_cube_path) as cube:
        image.set_deep_image(cube.deep_image())
        view.set_cube(cube)
        yield view, cube
        view.shutdown()
        assert wait_for_workers()


def test_drawn_path_shows_the_pv_slice_and_follows_width(qtbot, view, synthetic_cube_path):
    view, cube = view
    with qtbot.waitSignal(view.slice_ready, timeout=10000) as ready:
        view.set_path([(5, 20), (40, 25)])
    expected = pv_slice(cube, [(5, 20), (40, 25)], width_px=3)
    np.testing.assert_allclose(ready.args[0].data, expected.data, rtol=1e-6, equal_nan=True)
    grid, image = uniform_velocity_image(expected, 0.0)  # no CNN velocities: centred on 0 km/s
    np.testing.assert_allclose(view.image_item.image, image, rtol=1e-6, equal_nan=True)
    assert np.allclose(np.diff(grid), grid[1] - grid[0]) and grid[0] < 0 < grid[-1]
    order = np.argsort(expected.velocity_kms)
    row = np.interp(grid, expected.velocity_kms[order], expected.data[10, order])
    np.testing.assert_allclose(image[10], row, rtol=1e-6)
    with qtbot.waitSignal(view.slice_ready, timeout=10000) as ready:
        view.width_spin.setValue(1)
    assert ready.args[0].width_px == 1
    assert np.allclose(view.vertices(), [(5, 20), (40, 25)])  # pytest 9.2 approx takes no nested tuples


def test_cnn_velocities_are_drawn_along_the_path(qtbot, view, synthetic_cube_path):
    view, cube = view
    truth = view.truth
    view.set_velocity_map(truth.velocity)
    with qtbot.waitSignal(view.slice_ready, timeout=10000):
        view.set_path([(10, 20), (38, 20)])
    x, y = view.cnn_curve.getData()
    np.testing.assert_allclose(y, truth.velocity[10:39, 20], rtol=1e-6)
    low, high = view.plot.viewRange()[1]
    assert low < np.median(y) < high
