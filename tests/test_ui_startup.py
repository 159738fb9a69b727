"""What the window costs at start-up (the timings themselves: tests/bench/bench_launch.py)."""

import subprocess
import sys

from ui_support import messages, write_tiny_cube  # noqa: F401


def test_building_the_window_imports_neither_matplotlib_nor_astropy_nor_scipy():
    """pyqtgraph's gradient menu would import matplotlib.pyplot (~0.5 s of every launch); astropy,
    scipy, onnxruntime and h5py would delay the first paint (they load with the cube)."""
    heavy = "('matplotlib', 'astropy', 'scipy', 'onnxruntime', 'h5py', 'asdf')"
    script = ("import sys; from mirabelle.ui.app import application; from mirabelle.ui.main_window import "
              "MainWindow; app = application(); w = MainWindow(run_inference=False, restore_settings=False); "
              f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})); "
              "w.shutdown()")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def launch_and_trace(qapp, cube, settings_file, monkeypatch):
    """Launch on ``cube``; return what happened in order: window paints, paints of the image with a
    deep image, the call of ``open_path`` and its result, then whether a deep image is shown when
    the window closes (next event loop turn)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    from mirabelle.ui import app as ui_app
    from mirabelle.ui import settings
    from mirabelle.ui.main_window import MainWindow

    events = []

    class Painted(QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                window = next((w for w in ui_app._windows if obj is w or obj is w.image_view.viewport()), None)
                if obj is window:
                    events.append("window painted")
                elif window is not None and window.image_view.deep_image is not None:
                    events.append("deep image painted")
            return False

    open_path = MainWindow.open_path

    def traced_open(window, path):
        events.append(("readout", window.status.readout_label.text()))
        events.append("open")
        QTimer.singleShot(0, lambda: (events.append(("closing", window.image_view.deep_image is not None,
                                                     window.status.readout_label.text())), window.close()))
        opened = open_path(window, path)
        events.append(("opened", opened))
        return opened

    monkeypatch.setattr(MainWindow, "open_path", traced_open)
    settings.use_file(settings_file)
    painted = Painted()
    qapp.installEventFilter(painted)
    try:
        assert ui_app.launch([str(cube)], run_inference=False) == 0
    finally:
        qapp.removeEventFilter(painted)
        settings.use_file(None)
    return events


def test_launch_paints_the_window_then_the_stored_deep_frame_then_opens_the_cube(
        qapp, synthetic_cube_path, tmp_path, monkeypatch):
    events = launch_and_trace(qapp, synthetic_cube_path, tmp_path / "settings.ini", monkeypatch)
    assert events.index("window painted") < events.index("deep image painted") < events.index("open")
    assert ("readout", f"Opening {synthetic_cube_path}…") in events
    assert events[-2] == ("opened", True) and events[-1][:2] == ("closing", True)


def test_a_launch_on_a_cube_that_cannot_open_takes_its_preview_away(qapp, tmp_path, monkeypatch, messages):
    import h5py

    cube = write_tiny_cube(tmp_path / "no_order.hdf5")
    with h5py.File(cube, "a") as f:
        del f.attrs["order"]  # the deep frame reads, the cube does not open
    events = launch_and_trace(qapp, cube, tmp_path / "settings.ini", monkeypatch)
    from mirabelle.ui.status_bar import NO_CUBE_TEXT

    assert "deep image painted" in events and events[-2:] == [("opened", False), ("closing", False, NO_CUBE_TEXT)]
    assert messages and "order" in messages[0][1]
