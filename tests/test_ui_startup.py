"""What the window costs at start-up (the timings themselves: tests/bench/bench_launch.py)."""

import subprocess
import sys


def test_building_the_window_does_not_import_matplotlib():
    """pyqtgraph's gradient menu would import matplotlib.pyplot (~0.5 s of every launch)."""
    script = ("import sys; from mirabelle.ui.app import application; from mirabelle.ui.main_window import "
              "MainWindow; app = application(); w = MainWindow(run_inference=False, restore_settings=False); "
              "print(sorted(m for m in sys.modules if m.startswith('matplotlib'))); w.shutdown()")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
