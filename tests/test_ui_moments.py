"""The Line maps dock: moment maps of a line or of a band picked on the spectrum, as the core computes them."""

import numpy as np
import pytest

from mirabelle.analysis.bands import LineBand, WavenumberBand
from mirabelle.analysis.moments import compute_moments
from mirabelle.cube import open_cube
from mirabelle.ui import tasks
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.moment_view import MomentView, plot_x_to_cm1
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import ViewState


@pytest.fixture
def view(qtbot, synthetic_cube_path):
    state = ViewState()
    image, panel = ImageView(state), SpectrumPanel(state)
    qtbot.addWidget(image)
    qtbot.addWidget(panel)
    view = MomentView(image, panel.plot)
    qtbot.addWidget(view)
    with open_cube(synthetic_cube_path) as cube:
        view.set_cube(cube)
        yield view, cube
        view.shutdown()
        assert tasks.wait_for_workers()


def test_line_maps_about_the_systemic_velocity_equal_the_core(qtbot, view):
    view, cube = view
    view.velocity_spin.setValue(-180.0)
    view.width_spin.setValue(250.0)
    with qtbot.waitSignal(view.maps_ready, timeout=20000) as ready:
        view.compute()
    expected = compute_moments(cube, LineBand("Halpha", 250.0, -180.0))
    np.testing.assert_allclose(ready.args[0].moment1, expected.moment1, rtol=1e-5, equal_nan=True)
    view.moment_combo.setCurrentIndex(1)
    np.testing.assert_allclose(view.image_item.image, expected.moment1, rtol=1e-5, equal_nan=True)
    assert view.colorbar.axis.labelText.startswith("Moment 1") and "km/s" in view.colorbar.axis.labelText
    view.overlay_box.setChecked(True)
    assert view.overlay.isVisible() and view.overlay.image.shape == (cube.nx, cube.ny)


def test_band_from_the_spectrum_plot_and_per_pixel_velocities(qtbot, view):
    view, cube = view
    view.source_combo.setCurrentIndex(2)
    assert view.band_region.isVisible()
    view.band_region.setRegion((15190.0, 15230.0))
    with qtbot.waitSignal(view.maps_ready, timeout=20000) as ready:
        view.compute()
    expected = compute_moments(cube, WavenumberBand(15190.0, 15230.0))
    np.testing.assert_allclose(ready.args[0].moment0, expected.moment0, rtol=1e-5, equal_nan=True)
    assert plot_x_to_cm1(656.0, "nm") == pytest.approx(1e7 / 656.0)
    view.source_combo.setCurrentIndex(1)
    with qtbot.waitSignal(view.failed, timeout=2000):
        view.compute()  # no CNN velocities yet: one sentence
    view.set_velocity_map(np.full((cube.nx, cube.ny), -170.0))
    assert view.velocity_spin.value() == pytest.approx(-170.0)
    with qtbot.waitSignal(view.maps_ready, timeout=20000):
        view.compute()
