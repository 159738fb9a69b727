"""Manual display limits belong to one cube: not carried to the next cube nor to the next start."""

import numpy as np
from PySide6.QtCore import Qt

from mirabelle.ui import settings
from mirabelle.ui.controls import DisplayControls
from mirabelle.ui.image_view import ImageView
from mirabelle.ui.state import FIELDS, ViewState


def test_manual_limits_end_with_their_cube(qtbot):
    state = ViewState()
    view, controls = ImageView(state), DisplayControls(state)
    qtbot.addWidget(view)
    qtbot.addWidget(controls)
    state.cube_path = "/data/first.hdf5"
    view.set_deep_image(np.linspace(0.0, 1000.0, 400).reshape(20, 20))
    controls.high_spin.lineEdit().selectAll()
    qtbot.keyClicks(controls.high_spin, "5")
    qtbot.keyClick(controls.high_spin, Qt.Key.Key_Return)
    assert state.limits_mode == "manual" and state.limits[1] == 5.0

    state.cube_path = "/data/second.hdf5"  # another cube opens
    view.set_deep_image(np.linspace(0.0, 2000.0, 400).reshape(20, 20))
    assert state.limits_mode == FIELDS["limits_mode"][0] != "manual"
    assert state.limits[1] > 1000.0 and controls.high_spin.value() == state.limits[1]

    state.cube_path = None  # closed: no limits shown, none to type
    view.set_deep_image(None)
    assert state.limits is None
    assert controls.low_spin.text() == "—" and not controls.high_spin.isEnabled()


def test_manual_mode_is_not_restored_at_the_next_start(tmp_path):
    settings.use_file(tmp_path / "settings.ini")
    try:
        state = ViewState()
        state.stretch = "sqrt"
        state.limits_mode = "manual"
        settings.save_display(state)
        restored = ViewState()
        settings.restore_display(restored)
        assert restored.stretch == "sqrt"  # the other choices persist
        assert restored.limits_mode == FIELDS["limits_mode"][0]
    finally:
        settings.use_file(None)
