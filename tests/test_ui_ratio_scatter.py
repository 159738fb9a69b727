"""The [NII]/Hα–[SII]/Hα diagram: points are the ratio maps, the brush selects pixels shown on the image."""

import numpy as np
import pytest

from mirabelle.ui.image_view import ImageView
from mirabelle.ui.ratio_scatter import RatioScatter
from mirabelle.ui.state import ViewState


@pytest.fixture
def scatter(qtbot):
    image = ImageView(ViewState())
    qtbot.addWidget(image)
    image.set_deep_image(np.ones((30, 20), np.float32))
    widget = RatioScatter(image)
    qtbot.addWidget(widget)
    widget.show()  # the diagram is in view
    rng = np.random.default_rng(0)
    nii = rng.uniform(-1.0, 0.0, (30, 20))
    sii = rng.uniform(-1.0, 0.0, (30, 20))
    nii[0, :] = np.nan
    widget.set_ratios(nii, sii)
    return widget, nii, sii


def test_points_are_the_pixels_with_both_ratios(scatter):
    widget, nii, sii = scatter
    x, y = widget.scatter.getData()
    assert x.size == 29 * 20
    np.testing.assert_allclose(np.sort(x), np.sort(nii[np.isfinite(nii)]))


def test_a_hidden_diagram_draws_its_points_once_shown(qtbot):
    image = ImageView(ViewState())
    qtbot.addWidget(image)
    widget = RatioScatter(image)
    qtbot.addWidget(widget)
    nii = np.full((4, 3), -0.5)
    widget.set_ratios(nii, nii)
    assert widget.scatter.getData()[0].size == 0  # not drawn while nobody looks
    widget.show()
    assert widget.scatter.getData()[0].size == 12 and widget.label.text() == "12 pixels selected"
    widget.hide()
    widget.set_ratios(None, None)  # a closed cube clears it at once, seen or not
    assert widget.scatter.getData()[0].size == 0


def test_brushed_box_selects_those_pixels_on_the_image(qtbot, scatter):
    widget, nii, sii = scatter
    with qtbot.waitSignal(widget.selection_changed, timeout=5000) as selected:
        widget.brush.setPos((-0.5, -0.5))
        widget.brush.setSize((0.5, 0.5))
    mask = selected.args[0]
    expected = (nii >= -0.5) & (nii <= 0.0) & (sii >= -0.5) & (sii <= 0.0)
    np.testing.assert_array_equal(mask, expected)
    assert widget.overlay.image[mask][:, 3].min() > 0 and widget.overlay.image[~mask][:, 3].max() == 0


def test_window_limits_the_points(scatter):
    widget, nii, sii = scatter
    window = np.zeros(nii.shape, bool)
    window[10:15, 5:10] = True
    widget.set_window(window)
    assert widget.scatter.getData()[0].size == 25
    assert not widget.selection[~window].any()


def test_selection_density_follows_the_temperature_computed_off_the_gui_thread(qtbot, scatter):
    from mirabelle.analysis.ratios import density_table_ready, electron_density_cm3

    widget, nii, sii = scatter
    widget.set_doublet(np.full(nii.shape, 1.0))
    widget.brush.setPos((-0.5, -0.5))
    widget.brush.setSize((0.5, 0.5))
    qtbot.waitUntil(lambda: "cm⁻³" in widget.density_label.text(), timeout=30000)
    assert f"{electron_density_cm3(1.0, 1e4):.0f}" in widget.density_label.text()
    temperature = 12345.0  # no table yet at this temperature: PyNeb runs in a worker, the label waits
    assert not density_table_ready(temperature)
    widget.temperature_spin.setValue(temperature)
    assert widget.density_label.text().endswith("n_e …")
    qtbot.waitUntil(lambda: "cm⁻³" in widget.density_label.text(), timeout=30000)
    assert f"{electron_density_cm3(1.0, temperature):.0f}" in widget.density_label.text()


def test_a_hidden_panel_asks_pyneb_only_once_shown(qtbot, scatter):
    """PyNeb's table holds the GIL for seconds in its worker: clicks would wait behind it while
    nobody looks at the density."""
    from mirabelle.analysis.ratios import density_table_ready

    widget, nii, sii = scatter
    widget.hide()
    temperature = 11111.0
    widget.temperature_spin.setValue(temperature)
    widget.set_doublet(np.full(nii.shape, 1.0))
    widget.brush.setPos((-0.5, -0.5))
    widget.brush.setSize((0.5, 0.5))
    qtbot.wait(300)
    assert widget.density_label.text().endswith("n_e …") and not density_table_ready(temperature)
    widget.show()
    qtbot.waitUntil(lambda: "cm⁻³" in widget.density_label.text(), timeout=30000)
    assert density_table_ready(temperature)
