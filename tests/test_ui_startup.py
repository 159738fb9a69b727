"""What the window costs at start-up (the timings themselves: tests/bench/bench_launch.py)."""

import subprocess
import sys


def test_building_the_window_imports_neither_matplotlib_nor_scipy_nor_onnxruntime():
    """pyqtgraph's gradient menu would import matplotlib.pyplot (~0.5 s of every launch); scipy,
    onnxruntime, h5py and astropy tables would delay the first paint (they load with the cube)."""
    heavy = "('matplotlib', 'scipy', 'onnxruntime', 'h5py', 'asdf')"
    script = ("import sys; from mirabelle.ui.app import application; from mirabelle.ui.main_window import "
              "MainWindow; app = application(); w = MainWindow(run_inference=False, restore_settings=False); "
              f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy} or m == 'astropy.table')); "
              "w.shutdown()")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_launch_paints_the_window_before_it_reads_the_cube(qapp, synthetic_cube_path, tmp_path, monkeypatch):
    from PySide6.QtCore import QEvent, QObject, QTimer

    from mirabelle.ui import app as ui_app
    from mirabelle.ui import settings
    from mirabelle.ui.main_window import MainWindow

    events = []

    class Painted(QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.Paint and isinstance(obj, MainWindow):
                events.append("painted")
            return False

    open_path = MainWindow.open_path

    def traced_open(window, path):
        events.append("open")
        QTimer.singleShot(0, window.close)
        return open_path(window, path)

    monkeypatch.setattr(MainWindow, "open_path", traced_open)
    settings.use_file(tmp_path / "settings.ini")
    painted = Painted()
    qapp.installEventFilter(painted)
    try:
        assert ui_app.launch([str(synthetic_cube_path)], run_inference=False) == 0
    finally:
        qapp.removeEventFilter(painted)
        settings.use_file(None)
    assert events[:2] == ["painted", "open"]
