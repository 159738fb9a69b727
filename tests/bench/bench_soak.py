"""Soak benchmark: the real window, offscreen, in a loop for a given time: open the cube, run the
whole-cube inference, click pixels (10,000 over the run by default), paint flags (autosaved), export
the ORCS priors (``write_priors``, what the export dialog's worker calls), close the cube.

Prints, per loop and at the end: resident memory (RSS), Python threads and OS threads, open file
descriptors; the growth of RSS from the end of the first loop (warm: models, Qt and caches loaded)
to the end (target ≤ 5 %), and whether threads and open files came back to their first-loop level.
The RSS before the first open is printed too: from there the first loop loads the model, its
onnxruntime arena and Qt's caches, which is no growth of the soak::

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_soak.py [--minutes 10] [--clicks 10000] [--nx 64]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def process_figures() -> dict:
    """RSS (MB), OS threads and open file descriptors of this process (Linux /proc)."""
    status = Path("/proc/self/status").read_text().splitlines()
    values = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    return {"rss_mb": int(values["VmRSS"].split()[0]) / 1024, "os_threads": int(values["Threads"]),
            "py_threads": threading.active_count(), "fds": len(os.listdir("/proc/self/fd"))}


def wait_until(predicate, timeout_s: float) -> bool:
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.005)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to loop (default 10)")
    parser.add_argument("--clicks", type=int, default=10000, help="pixel clicks over the whole run")
    parser.add_argument("--nx", type=int, default=64, help="synthetic cube width (height 0.9 nx)")
    args = parser.parse_args()

    from mirabelle.export.priors import write_priors
    from mirabelle.synthetic import write_synthetic_cube
    from mirabelle.ui import settings
    from mirabelle.ui.app import application
    from mirabelle.ui.main_window import MainWindow

    scratch = Path(tempfile.mkdtemp(prefix="mirabelle-soak-"))
    os.environ["MIRABELLE_CACHE_DIR"] = str(scratch / "cache")
    settings.use_file(scratch / "settings.ini")
    cube_path = scratch / "soak.hdf5"
    write_synthetic_cube(cube_path, nx=args.nx, ny=int(0.9 * args.nx), seed=3)

    app = application()
    window = MainWindow(run_inference=False, restore_settings=False)
    window.resize(1280, 800)
    window.show()
    rng = np.random.default_rng(0)
    before = process_figures()
    end = time.monotonic() + 60.0 * args.minutes
    start = time.monotonic()
    loops, clicks, exports, first = 0, 0, 0, None
    clicks_per_loop = 500
    while time.monotonic() < end or loops == 0:
        assert window.open_path(str(cube_path)), "open failed"
        assert wait_until(lambda: window.image_view.deep_image is not None, 60), "no deep image"
        window.start_inference(use_cache=False)
        assert wait_until(lambda: not window.inference_running, 600), "inference did not finish"
        nx, ny = window.cube.nx, window.cube.ny
        for _ in range(clicks_per_loop):
            if clicks >= args.clicks:
                break
            window.state.selected_pixel = (int(rng.integers(0, nx)), int(rng.integers(0, ny)))
            wait_until(lambda: False, 0.002)
            clicks += 1
        flags = window.flag_layer.flags
        flags.begin_stroke()
        flags.paint_disk(float(rng.uniform(0, nx)), float(rng.uniform(0, ny)), 3.0, value=bool(loops % 2 == 0))
        flags.end_stroke()
        assert window.flag_layer.flush(), "flags not autosaved"
        write_priors(window.maps, window.cube, scratch / "priors", flags=flags.data, overwrite=True)
        exports += 1
        window.close_document()
        wait_until(lambda: False, 0.05)
        gc.collect()
        loops += 1
        figures = process_figures()
        if first is None:
            first = figures
        print(f"loop {loops:3d} at {time.monotonic() - start:6.0f} s: clicks {clicks}, RSS {figures['rss_mb']:.0f} MB, "
              f"threads {figures['py_threads']} py / {figures['os_threads']} os, open files {figures['fds']}",
              flush=True)
        if clicks >= args.clicks and time.monotonic() >= end:
            break
    last = process_figures()
    growth = 100.0 * (last["rss_mb"] - first["rss_mb"]) / first["rss_mb"]
    print(f"soak {time.monotonic() - start:.0f} s: {loops} loops (open, infer {args.nx}×{int(0.9 * args.nx)}, "
          f"clicks, flag, export, close), {clicks} clicks, {exports} exports")
    print(f"RSS before the first open {before['rss_mb']:.0f} MB, after loop 1 {first['rss_mb']:.0f} MB, "
          f"at the end {last['rss_mb']:.0f} MB: growth {growth:+.1f} % "
          f"(target ≤ 5 %); threads {first['py_threads']}→{last['py_threads']} py, "
          f"{first['os_threads']}→{last['os_threads']} os; open files {first['fds']}→{last['fds']}")
    window.shutdown()
    window.close()
    app.processEvents()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0 if growth <= 5.0 and last["fds"] <= first["fds"] + 2 else 1


if __name__ == "__main__":
    sys.exit(main())
