"""The spectrum panel draws the data, the prior model, residual, lines, saliency and the info box."""

import numpy as np
import pytest

from mirabelle.lines import REST_NM, axis_cm1, line_position_cm1, model_spectrum, sinc_fwhm_cm1
from mirabelle.session.pixel import PixelResult, solved_pixel
from mirabelle.ui.spectrum_format import to_unit
from mirabelle.ui.spectrum_panel import SpectrumPanel
from mirabelle.ui.state import ViewState

VELOCITY, BROADENING = -180.0, 25.0


@pytest.fixture(scope="module")
def spectrum():
    axis = axis_cm1(2943.0, 8, 842, 1.0)
    fwhm = float(sinc_fwhm_cm1(2943.0, 842, 170))
    amplitudes = np.array([[1.0, 10.0, 3.0, 2.0, 1.5]])
    truth = model_spectrum(axis, [VELOCITY], [BROADENING], fwhm, amplitudes, [1.0, 0.1])
    values = truth + np.random.default_rng(1).normal(0, 0.3, axis.size)
    values[:5] = np.nan  # NaN channels are kept and not drawn
    return axis, values, fwhm


KINEMATICS = {"velocity_kms": -175.0, "broadening_kms": 22.0, "velocity_err_kms": 4.2,
              "broadening_err_kms": 6.1, "snr_halpha": 31.5, "double_score": 0.37}


@pytest.fixture
def panel(qtbot):
    state = ViewState()
    panel = SpectrumPanel(state)
    qtbot.addWidget(panel)
    panel.resize(1000, 360)
    return panel


def show(panel, x, y, axis, values, kinematics, saliency, fwhm) -> PixelResult:
    """What the window does with a click: the session's result, handed to the panel."""
    data = solved_pixel(x, y, axis, values, kinematics, fwhm, saliency)
    panel.set_pixel_data(data)
    return data


def test_items_hold_the_data_model_residual_and_lines(panel, spectrum):
    axis, values, fwhm = spectrum
    data = show(panel, 12, 34, axis, values, KINEMATICS, None, fwhm)
    x, y = panel.data_curve.getData()
    np.testing.assert_array_equal(x, axis)
    np.testing.assert_array_equal(y, values)
    assert np.nanstd(values - data.model) < 0.5  # the solver's model fits the spectrum (noise 0.3)
    mx, my = panel.model_curve.getData()
    assert len(mx) > len(axis) and np.all(np.diff(mx) > 0)  # oversampled around the lines...
    np.testing.assert_allclose(np.interp(axis, mx, my), data.model, rtol=1e-7, atol=1e-7)  # ...through the fit
    rx, ry = panel.residual_curve.getData()
    np.testing.assert_allclose(ry, values - data.model)
    assert [line.label.format for line in panel.line_labels] == ["[NII]6548", "Hα", "[NII]6583", "[SII]6716",
                                                                 "[SII]6731"]
    halpha = panel.line_labels[1]
    assert halpha.isVisible() and halpha.value() == pytest.approx(line_position_cm1(REST_NM["Halpha"], -175.0))


def test_saliency_below_a_quarter_is_hidden_and_points_sit_on_the_spectrum(panel, spectrum):
    axis, values, fwhm = spectrum
    points = np.array([14900.0, 15000.0, 15100.0, 15236.0, 15240.0])
    weights = np.array([0.1, 0.24, 0.25, 0.9, 0.6])
    show(panel, 1, 2, axis, values, KINEMATICS, (points, weights), fwhm)
    drawn = panel.saliency_scatter.data
    assert len(drawn) == 3
    assert sorted(drawn["x"]) == [15100.0, 15236.0, 15240.0]
    assert sorted(drawn["data"]) == pytest.approx([0.25, 0.6, 0.9])
    for x, y in zip(drawn["x"], drawn["y"]):
        assert y == pytest.approx(np.interp(x, axis[5:], values[5:]))


def test_unit_switch_nm_and_velocity_follow_the_state(panel, spectrum):
    axis, values, fwhm = spectrum
    state = panel.state
    show(panel, 1, 2, axis, values, KINEMATICS, (np.array([15236.0]), np.array([1.0])), fwhm)
    state.spectrum_unit = "nm"
    assert panel.unit_combo.currentData() == "nm"
    np.testing.assert_allclose(panel.data_curve.getData()[0], 1e7 / axis)
    assert panel.saliency_scatter.data["x"][0] == pytest.approx(1e7 / 15236.0)
    assert panel.line_labels[1].value() == pytest.approx(1e7 / line_position_cm1(REST_NM["Halpha"], -175.0))
    panel.unit_combo.setCurrentIndex(panel.unit_combo.findData("kms"))
    assert state.spectrum_unit == "kms"
    assert panel.line_labels[1].value() == pytest.approx(-175.0, abs=1e-6)  # Hα sits at its velocity
    (x0, x1), _ = panel.plot.viewRange()
    assert x0 < -175 < x1 and x1 - x0 < 4000  # framed around Hα
    np.testing.assert_allclose(panel.data_curve.getData()[0], to_unit(axis, "kms"))
    assert "Velocity of Hα" in panel.residual_plot.getAxis("bottom").labelText


def test_info_box_lists_kinematics_snr_fluxes_and_score(panel, spectrum):
    axis, values, fwhm = spectrum
    show(panel, 12, 34, axis, values, KINEMATICS, None, fwhm)
    text = panel.info_label.text()
    for expected in ("(12, 34)", "-175.0 ± 4.2 km/s", "22.0 ± 6.1 km/s", "31.5", "0.37", "[SII]6731", "Hα"):
        assert expected in text
    panel.set_pixel_data(None)
    assert panel.data_curve.getData()[0] is None or len(panel.data_curve.getData()[0]) == 0
    assert not any(line.isVisible() for line in panel.line_labels)
    assert "No pixel" in panel.info_label.text()


def test_pixel_data_from_the_main_window_without_amplitudes_draws_its_model(panel, spectrum):
    axis, values, fwhm = spectrum
    model = np.full(axis.shape, 1.0)
    panel.set_pixel_data(PixelResult(x=3, y=4, axis_cm1=axis, values=values, model=model, kinematics=None,
                                   notes=["no instrumental line width for this pixel"]))
    np.testing.assert_array_equal(panel.model_curve.getData()[1], model)
    assert not panel.line_labels[0].isVisible()
    assert "No kinematics" in panel.info_label.text() and "no instrumental" in panel.info_label.text()
    assert not panel.refine_button.isEnabled()


def test_export_png_and_svg(panel, spectrum, tmp_path):
    axis, values, fwhm = spectrum
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    png = panel.export_image(tmp_path / "s.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = panel.export_image(tmp_path / "s.svg")
    assert b"<svg" in svg.read_bytes()[:2000]


def test_refine_fits_velocity_and_broadening_from_the_prior(panel, spectrum, qtbot):
    axis, values, fwhm = spectrum
    show(panel, 1, 2, axis, values, KINEMATICS, None, fwhm)
    assert panel.refine_button.isEnabled()
    with qtbot.waitSignal(panel.refined, timeout=30000) as blocker:
        panel.refine_button.click()
    result = blocker.args[0]
    assert result["velocity_kms"][0] == pytest.approx(VELOCITY, abs=5)
    assert result["broadening_kms"][0] == pytest.approx(BROADENING, abs=8)
    assert len(panel.refined_curve.getData()[0]) == len(axis)
    assert "Refined" in panel.info_label.text()
