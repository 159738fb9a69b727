"""Launch → deep image: where the seconds go when a user types ``mirabelle CUBE``.

Run: ``python tests/bench/bench_launch.py [--sizes 200x180 600x540] [--runs 3] [--importtime] [--deep-only]``
(offscreen unless DISPLAY is set and ``--platform xcb``). Writes the demo-like synthetic cubes
into a temporary folder, runs inference once so its maps are cached (the "even when cached" case),
then starts a fresh process per run that goes through the real start-up (`mirabelle.cli` →
`commands.gui.launch` → `ui.app`), stamping each milestone against the moment the parent spawned
it. Prints the median time at each milestone and the step since the previous one:

python started, CLI parsed, Qt imported, pyqtgraph imported, UI modules imported, QApplication,
window built, window first painted, deep image set (the stored deep frame, shown before the cube
is opened), deep image painted, cube opened (open_path returned), cached maps shown. Beside each
wall time, the child's CPU seconds: on a machine other jobs load, the closer to what an idle one
takes in wall time.

``--importtime`` also prints the slowest imports of the UI start (``python -X importtime``).
Target (issue 11): deep image painted ≤ 2 s after launch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, sys, time
T0 = float(os.environ["BENCH_T0"])
marks = []
def mark(name):
    marks.append((name, time.time() - T0, time.process_time()))
mark("python started")
from mirabelle import cli
parser, module = cli._build_parser(None)
args = parser.parse_args([os.environ["BENCH_CUBE"]])
from mirabelle.commands.display import check_display
check_display()
mark("CLI parsed")
from PySide6 import QtWidgets
mark("Qt imported")
import pyqtgraph
mark("pyqtgraph imported")
from mirabelle.ui import app as ui_app
from mirabelle.ui.main_window import MainWindow
mark("UI modules imported")
from PySide6.QtCore import QEvent, QObject, QTimer
qapp = ui_app.application()
mark("QApplication")
state = {"window": None, "deep": False, "done": set()}
class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QtWidgets.QWidget):
            window = state["window"]
            if window is not None and obj.window() is window:
                if "window first painted" not in state["done"]:
                    state["done"].add("window first painted"); mark("window first painted")
                view = window.image_view
                if state["deep"] and "deep image painted" not in state["done"] and (
                        obj is view or view.isAncestorOf(obj)):
                    state["done"].add("deep image painted"); mark("deep image painted")
                    if os.environ.get("BENCH_MAPS") != "1":
                        QTimer.singleShot(0, qapp.quit)
        return False
painted = Painted()
qapp.installEventFilter(painted)
_init = MainWindow.__init__
def traced_init(self, *a, **k):
    _init(self, *a, **k)
    state["window"] = self
    mark("window built")
    def deep_shown():
        state["deep"] = True
        mark("deep image set")
    self.deep_image_shown.connect(deep_shown)
    def maps_shown(_complete):
        mark("cached maps shown")
        QTimer.singleShot(0, qapp.quit)
    self.inference_finished.connect(maps_shown)
MainWindow.__init__ = traced_init
_open = MainWindow.open_path
def traced_open(self, path):
    result = _open(self, path)
    mark("cube opened")
    return result
MainWindow.open_path = traced_open
QTimer.singleShot(60000, qapp.quit)
module.launch(args.files, run_inference=os.environ.get("BENCH_MAPS") == "1")
print("BENCH " + json.dumps(marks))
"""


def write_cube(folder: Path, nx: int, ny: int) -> Path:
    """A synthetic SN3 cube like the demo's (R 5000, Hα SNR 25, doubles), ``nx`` × ``ny`` pixels."""
    from mirabelle.synthetic import write_synthetic_cube

    path = folder / f"bench_{nx}x{ny}.hdf5"
    write_synthetic_cube(path, nx=nx, ny=ny, resolution=5000.0, snr=25.0, seed=0, calibrated=True,
                         double_fraction=0.08)
    return path


def child_env(home: Path, cube: Path, maps: bool) -> dict:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_DATA_HOME=str(home / "data"), BENCH_CUBE=str(cube), BENCH_MAPS="1" if maps else "0")
    return env


def run_child(env: dict, extra: list[str] | None = None) -> tuple[list, str]:
    env = dict(env, BENCH_T0=repr(time.time()))
    done = subprocess.run([sys.executable, *(extra or []), "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=600)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"launch failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(line[len("BENCH "):]), done.stderr


def fill_cache(env: dict) -> None:
    """Run the whole-cube inference once (``mirabelle screenshot``) so the launches below load
    cached maps, as a user's second launch on a cube does."""
    png = Path(env["XDG_CACHE_HOME"]) / "warm.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "mirabelle", "screenshot", env["BENCH_CUBE"], str(png)], env=env,
                   check=True, capture_output=True, timeout=1200)


def importtime(env: dict, top: int = 15) -> list[tuple[float, str]]:
    """The ``top`` slowest top-level imports (cumulative seconds) of one launch."""
    _, stderr = run_child(env, ["-X", "importtime"])
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if cumulative.isdigit() and not name.startswith(" ") and "." not in name.strip():
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def report(label: str, runs: list[list]) -> None:
    names = list(dict.fromkeys(mark[0] for mark in runs[0]))  # a milestone seen twice counts once, the first
    print(f"\n{label}: median of {len(runs)} launches (wall s after spawn, step since previous; the "
          f"process's CPU s, which a loaded machine inflates less)")
    previous = 0.0
    for name in names:
        values = [next((m[1:] for m in run if m[0] == name), None) for run in runs]
        values = [v for v in values if v is not None]
        if not values:
            continue
        median = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {name:<24} {median:6.3f}   +{median - previous:5.3f}   cpu {cpu:6.3f}")
        previous = median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["200x180", "600x540"], help="cube sizes NXxNY")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports")
    parser.add_argument("--deep-only", action="store_true", help="skip the launches with cached maps")
    parser.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM (default offscreen)")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    with tempfile.TemporaryDirectory(prefix="mirabelle-bench-launch-") as scratch:
        scratch = Path(scratch)
        for size in args.sizes:
            nx, ny = (int(v) for v in size.lower().split("x"))
            t = time.perf_counter()
            cube = write_cube(scratch, nx, ny)
            print(f"{cube.name}: written in {time.perf_counter() - t:.1f} s "
                  f"({cube.stat().st_size / 1e6:.0f} MB)", flush=True)
            home = scratch / f"home_{size}"
            env = child_env(home, cube, maps=False)
            run_child(env)  # page cache warm, settings written once, as on a user's second launch
            report(f"{cube.name}, deep image only", [run_child(env)[0] for _ in range(args.runs)])
            print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
            if args.importtime:
                print("  slowest imports (cumulative s):")
                for seconds, name in importtime(env):
                    print(f"    {seconds:6.3f}  {name}")
            if args.deep_only:
                continue
            env_maps = child_env(home, cube, maps=True)
            fill_cache(env_maps)
            report(f"{cube.name}, inference on open with cached maps",
                   [run_child(env_maps)[0] for _ in range(args.runs)])
            print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
