"""Whole-cube inference throughput: end to end against a bare read of the same data, and peak memory.

    nice -n 10 python tests/bench/bench_throughput.py [--path CUBE | --size NX [NY]] [--keep]
                                                     [--model NAME_OR_PATH ... | --model all]
                                                     [--threads N] [--workers N] [--profile]

Without ``--path`` a calibrated synthetic cube (default 2048 × 2064, the full SITELLE frame)
is written to a temporary folder by a child process (so its memory does not count) and
deleted afterwards unless ``--keep``; with ``--model`` (repeatable; ``all`` = every shipped
model) one cube per model, at the centre of the model's resolving-power range, each model
measured in its own child process (a fresh start, as ``mirabelle predict``, and its own peak
RSS), and a summary row per model at the end with the 1-minute load average of the machine
when it finished. Then, in the process of the model:

1. the bare read: every tile of the model's band read through ``Cube.iter_tiles`` (h5py),
   nothing else, in spectra/s;
2. the end-to-end run: ``run_cube`` (read, preprocess, ONNX, line solve, double score,
   maps) over the whole cube, in spectra/s, with the ratio to the bare read;
3. the CPU time of the run (all threads), which is steadier than wall-clock time on a
   shared machine;
4. peak RSS of this process (``resource.getrusage``), MB.

Targets (issues 6, 10): ≥ 35,000 spectra/s end to end at every resolution and ≤ 2 GB peak.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _generate(path: Path, nx: int, ny: int, resolution: float = 5000.0) -> float:
    script = ("import sys; from mirabelle.synthetic import write_synthetic_cube; "
              f"write_synthetic_cube(sys.argv[1], {nx}, {ny}, seed=0, snr=20, resolution={resolution})")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    return time.perf_counter() - start


def _bare_read(cube, band) -> tuple[int, float]:
    start = time.perf_counter()
    spectra = 0
    for tile in cube.iter_tiles(band_cm1=band):
        spectra += tile.data.shape[0] * tile.data.shape[1]
    return spectra, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, help="an existing cube (default: write a synthetic one)")
    parser.add_argument("--size", type=int, nargs="+", default=[2048, 2064], metavar="N",
                        help="NX [NY] of the synthetic cube (default 2048 2064)")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the synthetic cube")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic cube")
    parser.add_argument("--model", action="append", default=None,
                        help="model name or path, repeatable, or 'all' (default: by resolution)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all cores)")
    parser.add_argument("--workers", type=int, default=None, help="tiles processed in parallel (default: runner's)")
    parser.add_argument("--profile", action="store_true", help="print the 20 most expensive functions")
    parser.add_argument("--row-json", type=Path, help=argparse.SUPPRESS)  # a child's figures, for its parent
    args = parser.parse_args(argv)
    from mirabelle.inference.model import available_models

    names = args.model or [None]
    if "all" in names:
        names = [card["name"] for card in sorted(available_models(), key=lambda c: c["resolution_range"][0])]
    if len(names) == 1:
        row = _measure(args, names[0])
        if args.row_json:
            args.row_json.write_text(json.dumps(row))
        return 0
    rows = [_measure_in_child(argv if argv is not None else sys.argv[1:], name) for name in names]
    print(f"\n{'model':12s} {'R':>6s} {'channels':>8s} {'spectra/s':>10s} {'per CPU-s':>10s} {'peak MB':>8s} "
          f"{'load':>5s}")
    for row in rows:
        print(f"{row['model']:12s} {row['resolution']:6.0f} {row['channels']:8d} {row['rate']:10,.0f} "
              f"{row['cpu_rate']:10,.0f} {row['peak_mb']:8.0f} {row['load']:5.1f}")
    return 0


def _measure_in_child(argv: list[str], model_name: str) -> dict:
    """:func:`_measure` of one model in a fresh process (its own start-up and peak RSS)."""
    kept = []
    skip = False
    for arg in argv:  # the same options without the model list
        if skip:
            skip = False
        elif arg == "--model":
            skip = True
        elif not arg.startswith("--model="):
            kept.append(arg)
    with tempfile.TemporaryDirectory(prefix="mirabelle-throughput-row-") as folder:
        row_path = Path(folder) / "row.json"
        subprocess.run([sys.executable, __file__, *kept, "--model", model_name, "--row-json", str(row_path)],
                       check=True)
        return json.loads(row_path.read_text())


def _measure(args, model_name) -> dict:
    """Write (or open) the cube, run the model over it, print the figures; return them."""
    from mirabelle.cube import open_cube
    from mirabelle.inference.model import load_model, select_model
    from mirabelle.inference.runner import BAND_MARGIN_CHANNELS, run_cube

    folder = None
    path = args.path
    if path is None:
        nx = args.size[0]
        ny = args.size[1] if len(args.size) > 1 else nx
        resolution = 5000.0
        if model_name is not None:
            resolution = float(np.mean(load_model(model_name, threads=1).card["resolution_range"]))
        folder = Path(tempfile.mkdtemp(prefix="mirabelle-throughput-", dir=args.workdir))
        path = folder / f"synthetic_{nx}x{ny}_r{resolution:.0f}.hdf5"
        seconds = _generate(path, nx, ny, resolution)
        print(f"wrote {path} ({path.stat().st_size / 1e9:.2f} GB) in {seconds:.0f} s", flush=True)
    try:
        with open_cube(path) as cube:
            model = load_model(model_name, threads=args.threads) if model_name else select_model(cube, args.threads)
            base = cube.base_axis_cm1
            margin = BAND_MARGIN_CHANNELS * float(base[1] - base[0])
            band = (float(model.axis_cm1[0]) - margin, float(model.axis_cm1[-1]) + margin)
            channels = cube.channels_in_band(band)
            resolution_at_centre = float(np.nanmedian(cube.resolution_map()))
            print(f"cube {cube.nx} x {cube.ny} x {cube.nz} ({channels.stop - channels.start} channels in the "
                  f"model band), model {model.name} {model.version}, {model.threads} onnxruntime threads",
                  flush=True)
            spectra, read_s = _bare_read(cube, band)
            print(f"bare read:  {read_s:8.2f} s  {spectra / read_s:10,.0f} spectra/s", flush=True)
            profiler = cProfile.Profile() if args.profile else None
            cpu_start = time.process_time()
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            result = None
            for result in run_cube(cube, model, workers=args.workers):
                pass
            if profiler:
                profiler.disable()
            run_s = time.perf_counter() - start
            cpu_s = time.process_time() - cpu_start
        rate = spectra / run_s
        print(f"end to end: {run_s:8.2f} s  {rate:10,.0f} spectra/s  ({run_s / read_s:.2f} x the bare read)")
        print(f"CPU time:   {cpu_s:8.2f} s  {spectra / cpu_s:10,.0f} spectra per CPU-second "
              f"(the machine is shared: wall-clock rates depend on its load)")
        print(f"maps complete: {result.maps.complete}, valid priors: {int(result.maps.valid_mask().sum()):,}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS:   {peak_mb:8.0f} MB, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"targets: >= 35,000 spectra/s {'met' if rate >= 35000 else 'NOT met'}, "
              f"<= 2048 MB {'met' if peak_mb <= 2048 else 'NOT met'}")
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {"model": model.name, "resolution": resolution_at_centre, "channels": channels.stop - channels.start,
            "rate": rate, "cpu_rate": spectra / cpu_s, "peak_mb": peak_mb, "load": os.getloadavg()[0]}


if __name__ == "__main__":
    sys.exit(main())
