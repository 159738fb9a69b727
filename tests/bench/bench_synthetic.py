"""Speed of the fast line templates and of the synthetic cube writer.

    nice -n 10 python tests/bench/bench_synthetic.py [--nx 2048 --ny 2064] [--dimz N] [--out PATH] [--keep]

Prints (1) ``fast_line_templates`` against the exact ``line_templates`` on 500 spectra of
the SN3 band at R 5000 (ns per sample, speed-up, max error of the unit peak), and
(2) the time, throughput and peak memory of writing an ``nx × ny`` calibrated synthetic
cube (deleted afterwards unless ``--keep``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mirabelle.lines.fast import fast_line_templates
from mirabelle.lines.model import line_templates
from mirabelle.synthetic import write_synthetic_cube


def bench_templates(repeats: int = 3) -> None:
    rng = np.random.default_rng(0)
    axis = np.linspace(14598.5, 15439.2, 400)
    n = 500
    velocity, broadening = rng.uniform(-300, 300, n), rng.uniform(10, 50, n)
    fwhm = rng.uniform(3.0, 3.2, n)
    for label, b in (("b 10-50 km/s", broadening), ("b 0-300 km/s", rng.uniform(0, 300, n))):
        exact_t, fast_t = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            exact = line_templates(axis, velocity, b, fwhm)
            exact_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            fast = fast_line_templates(axis, velocity, b, fwhm)
            fast_t.append(time.perf_counter() - start)
        size = exact.size
        print(f"templates {label}: exact {min(exact_t) / size * 1e9:.0f} ns/sample, fast "
              f"{min(fast_t) / size * 1e9:.1f} ns/sample, speed-up {min(exact_t) / min(fast_t):.0f}x, "
              f"max |error| {np.abs(exact - fast).max():.1e} of the peak")


def bench_cube(nx: int, ny: int, dimz: int | None, out: Path | None, keep: bool) -> None:
    folder = None
    if out is None:
        folder = tempfile.mkdtemp(prefix="mirabelle-bench-")
        out = Path(folder) / "synthetic.hdf5"
    start = time.perf_counter()
    last = [0.0]

    def progress(fraction):
        if fraction - last[0] >= 0.1 or fraction == 1.0:
            last[0] = fraction
            print(f"  {fraction:4.0%} after {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    truth = write_synthetic_cube(out, nx=nx, ny=ny, dimz=dimz, resolution=5000.0, snr=20.0, seed=0,
                                 progress=progress)
    elapsed = time.perf_counter() - start
    size = out.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"synthetic cube {nx}x{ny}: {size / 1e9:.2f} GB written in {elapsed:.0f} s "
          f"({nx * ny / elapsed:.0f} spectra/s), peak RSS {peak_mb:.0f} MB, R {truth.resolution:.0f}")
    if keep:
        print(f"kept {out}")
    else:
        out.unlink()
        if folder:
            os.rmdir(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nx", type=int, default=2048)
    parser.add_argument("--ny", type=int, default=2064)
    parser.add_argument("--dimz", type=int, default=None, help="channels (default: the SN3 band)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-cube", action="store_true")
    args = parser.parse_args()
    bench_templates()
    if not args.skip_cube:
        bench_cube(args.nx, args.ny, args.dimz, args.out, args.keep)


if __name__ == "__main__":
    main()
