"""Channel browsing: slider and spectrum cursor linked both ways, channel images equal to the cube."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from mirabelle.cube import open_cube
from mirabelle.ui.channel_browser import ChannelBrowser
from mirabelle.ui.channel_slider import ChannelSlider
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.spectral_cursor import SpectralCursor
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import ViewState
from mirabelle.ui.tasks import wait_for_workers


@pytest.fixture
def browser(qtbot, synthetic_cube_path, tmp_path):
    state = ViewState()
    image = ImageView(state)
    panel = SpectrumPanel(state)
    slider = ChannelSlider()
    for widget in (image, panel, slider):
        qtbot.addWidget(widget)
    cursor = SpectralCursor(panel.plot)
    browser = ChannelBrowser(slider, cursor, image, cache_folder=tmp_path / "channels")
    with open_cube(synthetic_cube_path) as cube:
        image.set_deep_image(cube.deep_image())
        browser.set_cube(cube)
        yield browser, cube
        browser.shutdown()
        assert wait_for_workers()


def test_slider_shows_the_channel_image_and_moves_the_cursor(qtbot, browser):
    browser, cube = browser
    with qtbot.waitSignal(browser.image_shown, timeout=10000) as shown:
        browser.slider.set_channel(200)
    channel, image = shown.args
    assert channel == 200 and browser.cursor.channel == 200
    expected = cube.read_block(slice(None), slice(None), slice(200, 201))[:, :, 0]
    np.testing.assert_array_equal(image, expected)
    np.testing.assert_array_equal(browser.image_view.image_item.image, expected)
    assert browser.cursor.line.value() == pytest.approx(cube.base_axis_cm1[200])


def test_dragging_the_cursor_moves_the_slider(qtbot, browser):
    browser, cube = browser
    with qtbot.waitSignal(browser.image_shown, timeout=10000) as shown:
        browser.cursor.line.setValue(float(cube.base_axis_cm1[123]) + 0.3)
        browser.cursor.line.sigDragged.emit(browser.cursor.line)
    assert shown.args[0] == 123 and browser.slider.channel() == 123


def test_keyboard_steps_channels_and_label_names_the_frame(qtbot, browser):
    browser, cube = browser
    slider = browser.slider
    start = slider.channel()
    slider.slider.setFocus()
    qtbot.keyClick(slider.slider, Qt.Key.Key_Right)
    assert slider.channel() == start + 1
    qtbot.keyClick(slider.slider, Qt.Key.Key_PageUp)
    assert slider.channel() == start + 11
    slider.set_frame("velocity", "NII6583")
    assert "km/s about [NII]6583" in slider.label.text()
    slider.set_frame("wavelength")
    assert "nm (air)" in slider.label.text()


def test_after_the_cache_pass_images_come_from_the_cache(qtbot, browser):
    browser, cube = browser
    with qtbot.waitSignal(browser.image_shown, timeout=10000):
        browser.slider.set_channel(150)
    qtbot.waitUntil(lambda: browser.cache is not None and browser.cache.complete, timeout=20000)
    with qtbot.waitSignal(browser.status, timeout=10000,
                          check_params_cb=lambda text: "from the channel cache" in text):
        browser.slider.set_channel(160)
    expected = cube.read_block(slice(None), slice(None), slice(160, 161))[:, :, 0]
    np.testing.assert_array_equal(browser.image_view.image_item.image, expected)


def test_deep_image_button_restores_the_deep_image(qtbot, browser):
    browser, cube = browser
    with qtbot.waitSignal(browser.image_shown, timeout=10000):
        browser.slider.set_channel(100)
    browser.show_deep_image()
    np.testing.assert_array_equal(browser.image_view.image_item.image, cube.deep_image())
    assert not browser.active
