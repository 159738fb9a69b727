"""Regions drawn on the image: their spectrum is the region's sum or mean, updated as they move; pins."""

import numpy as np
import pytest
from regions import CirclePixelRegion, PixCoord

from mirabelle.analysis.region_spectra import region_spectrum, shape_mask
from mirabelle.cube import open_cube
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.region_tool import SHAPES, RegionTool, roi_to_region
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import ViewState
from mirabelle.ui.tasks import wait_for_workers


@pytest.fixture
def tool(qtbot, synthetic_cube_path):
    state = ViewState()
    image, panel = ImageView(state), SpectrumPanel(state)
    qtbot.addWidget(image)
    qtbot.addWidget(panel)
    tool = RegionTool(image, panel.plot, autosave=False)
    with open_cube(synthetic_cube_path) as cube:
        image.set_deep_image(cube.deep_image())
        tool.set_cube(cube)
        yield tool, cube
        tool.shutdown()
        assert wait_for_workers()


def _expected(cube, region, mean=True):
    return region_spectrum(cube, shape_mask(region, (cube.nx, cube.ny)), mean=mean)


def test_drawn_circle_gives_the_region_mean_and_follows_a_drag(qtbot, tool):
    tool, cube = tool
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000) as ready:
        roi = tool.add_shape("circle", centre=(20, 18), size=8)
    spectrum = ready.args[0]
    expected = _expected(cube, CirclePixelRegion(PixCoord(20, 18), 4))
    assert spectrum.pixels == expected.pixels and spectrum.combine == "mean"
    np.testing.assert_allclose(spectrum.values, expected.values, rtol=1e-6)
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000) as ready:
        roi.setPos((roi.pos().x() + 5, roi.pos().y() - 3))  # a drag moves the ROI like this
    moved = _expected(cube, CirclePixelRegion(PixCoord(25, 15), 4))
    np.testing.assert_allclose(ready.args[0].values, moved.values, rtol=1e-6)
    x, y = tool.live_curve.getData()
    np.testing.assert_allclose(y, moved.values[np.isfinite(moved.values)], rtol=1e-6)


@pytest.mark.parametrize("kind", SHAPES)
def test_every_shape_sums_its_pixels(qtbot, tool, kind):
    tool, cube = tool
    tool.set_mean(False)
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000) as ready:
        roi = tool.add_shape(kind, centre=(22, 19), size=10)
    expected = _expected(cube, roi_to_region(roi), mean=False)
    assert ready.args[0].pixels == expected.pixels > 3
    np.testing.assert_allclose(ready.args[0].values, expected.values, rtol=1e-6)


def test_pins_keep_spectra_and_ds9_round_trip(qtbot, tool, tmp_path):
    tool, cube = tool
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000):
        tool.add_shape("box", centre=(15, 15), size=6)
    first = tool.pin()
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000):
        tool.add_shape("circle", centre=(28, 22), size=6)
    tool.pin()
    assert len(tool.pinned) == 2 and first in tool.plot.items
    tool.unpin(0)
    assert len(tool.pinned) == 1 and first not in tool.plot.items
    path = tmp_path / "drawn.reg"
    path.write_text(tool.ds9_text())
    tool.clear()
    assert not tool.rois and not tool.pinned
    with qtbot.waitSignal(tool.spectrum_ready, timeout=10000):
        assert tool.load_ds9(path) == 2
    region = roi_to_region(tool.rois[1])
    assert (region.center.x, region.center.y) == pytest.approx((28, 22))


def test_regions_are_kept_with_the_cube(qtbot, tmp_path, synthetic_cube_path):
    import shutil

    from mirabelle.analysis.region_store import regions_path

    cube_path = tmp_path / "copy.hdf5"
    shutil.copy(synthetic_cube_path, cube_path)
    state = ViewState()
    image, panel = ImageView(state), SpectrumPanel(state)
    qtbot.addWidget(image)
    qtbot.addWidget(panel)
    tool = RegionTool(image, panel.plot)
    with open_cube(cube_path) as cube:
        tool.set_cube(cube)
        with qtbot.waitSignal(tool.spectrum_ready, timeout=10000):
            tool.add_shape("annulus", centre=(20, 18), size=10)
        tool.save()
        assert regions_path(cube_path).name == "copy.hdf5.mirabelle-regions.reg"
        assert "annulus" in regions_path(cube_path).read_text()
        tool.set_cube(None)
        tool.set_cube(cube)  # reopening restores them
        assert len(tool.rois) == 1
        tool.clear()
        tool.save()
        assert not regions_path(cube_path).exists()
    tool.shutdown()
    assert wait_for_workers()


def test_region_model_at_the_cnn_kinematics_of_its_spectrum(qtbot, tool, tmp_path):
    from inference_models import write_model

    from mirabelle.inference.model import load_model

    tool, cube = tool
    model = load_model(str(write_model(tmp_path, kinematics=(-180.0, 30.0, 4.0, 5.0))), threads=1)
    tool.model_provider = lambda: (model, 0.0)
    with qtbot.waitSignal(tool.spectrum_ready, timeout=20000):
        tool.add_shape("circle", centre=(20, 18), size=8)
    assert tool.live_kinematics["velocity_kms"] == pytest.approx(-180.0, abs=1.0)
    x, y = tool.model_curve.getData()
    assert x.size > 10 and np.isfinite(y).all()
    peak = x[np.argmax(y)]  # the model's Hα peak sits at the network's velocity
    assert abs(peak - 1e7 / 656.2819 * np.sqrt((1 + 180 / 299792.458) / (1 - 180 / 299792.458))) < 1.0
