"""Numeric fields take values of any magnitude (flux-calibrated cubes: ~1e-17)."""

import pytest
from PySide6.QtCore import Qt

from mirabelle.ui.number_field import NumberSpinBox, format_number


@pytest.mark.parametrize("value, text", [(1.2344e-17, "1.234e-17"), (0.0, "0"), (12.5, "12.5"),
                                         (-800.0, "-800"), (3.0e7, "3e7"), (0.01234, "0.01234"), (28066.766, "28067"), (105.34, "105.3"), (1000.0, "1000"),
                                         (float("nan"), "nan")])
def test_numbers_keep_their_significant_digits(value, text):
    assert format_number(value) == text


def test_a_tiny_value_is_kept_shown_and_typed(qtbot):
    box = NumberSpinBox()
    qtbot.addWidget(box)
    box.setValue(1.2344e-17)
    assert box.value() == 1.2344e-17  # not rounded to 0.000
    assert box.text() == "1.234e-17"
    seen = []
    box.valueChanged.connect(seen.append)
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "2.5e-17")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert seen and seen[-1] == pytest.approx(2.5e-17) and box.value() == pytest.approx(2.5e-17)


def test_steps_follow_the_value_decade(qtbot):
    box = NumberSpinBox()
    qtbot.addWidget(box)
    box.setValue(3.0e-17)
    box.stepBy(1)
    assert box.value() == pytest.approx(3.1e-17)
    box.setValue(250.0)
    box.stepBy(-2)
    assert box.value() == pytest.approx(230.0)


def test_deep_image_limits_of_a_flux_calibrated_cube(qtbot):
    from mirabelle.ui.controls import DisplayControls
    from mirabelle.ui.state import ViewState

    state = ViewState()
    controls = DisplayControls(state)
    qtbot.addWidget(controls)
    state.limits = (1.0e-18, 3.0e-17)
    assert (controls.low_spin.text(), controls.high_spin.text()) == ("1e-18", "3e-17")
    controls.low_spin.lineEdit().selectAll()
    qtbot.keyClicks(controls.low_spin, "2e-18")
    qtbot.keyClick(controls.low_spin, Qt.Key.Key_Return)
    assert state.limits_mode == "manual"
    assert state.limits == pytest.approx((2.0e-18, 3.0e-17), rel=1e-9)
