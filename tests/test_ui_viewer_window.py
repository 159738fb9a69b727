"""The viewer tools in the real main window: channel slider and cursor, regions, PV, ratios, SAMP."""


import numpy as np
import pytest

from tests.ui_support import make_window, messages, open_and_wait, unexpected_errors  # noqa: F401


@pytest.fixture
def window(make_window, synthetic_cube_path, qtbot):  # noqa: F811
    window = make_window()
    open_and_wait(qtbot, window, str(synthetic_cube_path))
    return window


def test_channel_slider_shows_the_channel_and_moves_the_spectrum_cursor(qtbot, window):
    tools = window.viewer
    with qtbot.waitSignal(tools.channels.image_shown, timeout=10000) as shown:
        tools.slider.set_channel(210)
    expected = window.cube.read_block(slice(None), slice(None), slice(210, 211))[:, :, 0]
    np.testing.assert_array_equal(shown.args[1], expected)
    assert tools.cursor.channel == 210 and tools.cursor.line in window.spectrum_panel.plot.items
    with qtbot.waitSignal(tools.channels.image_shown, timeout=10000) as shown:
        window.findChild(type(tools.slider)).step(1)
    assert shown.args[0] == 211


def test_region_dock_draws_a_region_at_the_selected_pixel(qtbot, window):
    tools = window.viewer
    window.state.selected_pixel = (20, 18)
    with qtbot.waitSignal(tools.regions.spectrum_ready, timeout=10000) as ready:
        tools.add_region("circle")
    spectrum = ready.args[0]
    assert spectrum.pixels > 10 and spectrum.combine == "mean"
    assert tools.regions.live_curve in window.spectrum_panel.plot.items
    with qtbot.waitSignal(tools.pv.slice_ready, timeout=10000) as pv:
        tools.add_pv_path()
    assert pv.args[0].data.shape[1] == window.cube.nz


def test_saving_regions_starts_in_the_cube_folder_with_its_name(qtbot, window, monkeypatch):
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    asked = []
    cube = Path(window.cube.path).resolve()
    out = cube.parent / "saved.reg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (asked.append(a[2]) or str(out), ""))
    window.state.selected_pixel = (20, 18)
    window.viewer.add_region("circle")
    window.viewer._save_ds9()
    assert asked == [str(cube.parent / f"{cube.name.split('.')[0]}_regions.reg")]
    assert "circle(" in out.read_text()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: (asked.append(a[2]) or str(out), ""))
    before = len(window.viewer.regions.rois)
    window.viewer._load_ds9()  # loading starts in the same folder
    assert asked[-1] == str(cube.parent) and len(window.viewer.regions.rois) > before


def test_closing_the_cube_stops_the_tools_and_reopening_works(qtbot, window, synthetic_cube_path):
    tools = window.viewer
    with qtbot.waitSignal(tools.channels.image_shown, timeout=10000):
        tools.slider.set_channel(150)
    window.close_document()
    assert tools.channels.cube is None and tools.regions.cube is None
    open_and_wait(qtbot, window, str(synthetic_cube_path))
    assert tools.channels.cube is window.cube


def test_a_samp_position_moves_the_selected_pixel(qtbot, window):
    from astropy.samp import SAMPHubServer, SAMPIntegratedClient

    hub = SAMPHubServer(web_profile=False, mode="multiple", addr="127.0.0.1")
    hub.start()
    try:
        assert window.viewer.samp_connect(hub=hub)
        sky = window.cube.wcs.pixel_to_world(30, 12).icrs
        sender = SAMPIntegratedClient(name="ds9-like")
        sender.connect(hub=hub)
        with qtbot.waitSignal(window.state.selected_pixel_changed, timeout=10000):
            sender.notify_all({"samp.mtype": "coord.pointAt.sky",
                               "samp.params": {"ra": str(sky.ra.deg), "dec": str(sky.dec.deg)}})
        assert window.state.selected_pixel == (30, 12)
        sender.disconnect()
    finally:
        window.viewer.samp.disconnect()
        hub.stop()
