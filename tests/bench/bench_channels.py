"""Benchmark of channel images on a detector-sized ORB HDF5 cube, before and after the cache pass.

Writes (once, as `bench_cube_read.py` does) a 2048 × 2064 × 840 float32 cube with h5py's
automatic chunks, then in a fresh process measures:

- a channel image read from the cube itself (`read_channel_image`), cold page cache
  (this file's pages evicted) and warm;
- the channel-major cache pass (`ChannelCache.build`): time and throughput;
- a channel image from the cache, cold (cache file evicted) and warm, over random channels;
- the process's peak RSS.

Full-frame runs must hold the shared lock and delete the files afterwards::

    flock /tmp/mirabelle-bigbench.lock nice -n 10 python tests/bench/bench_channels.py --dir /tmp --delete

``--size NX NY`` / ``--dimz`` for a smaller cube.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cube_read import evict, write_cube  # noqa: E402


def measure(cube_path: Path, cache_folder: Path, repeats: int) -> None:
    """Print the latencies and the peak RSS of this process (run in a fresh child)."""
    import resource

    import numpy as np

    from mirabelle.cube import open_cube
    from mirabelle.cube.channels import ChannelCache, read_channel_image

    rng = np.random.default_rng(0)
    with open_cube(cube_path) as cube:
        cache = ChannelCache(cube, cache_folder)
        band = cache.channels
        picks = rng.integers(band.start, band.stop, repeats)
        cold, warm = [], []
        for k in picks[:3]:
            evict(cube_path)
            t0 = time.perf_counter()
            read_channel_image(cube, int(k))
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            read_channel_image(cube, int(k))
            warm.append(time.perf_counter() - t0)
        print(f"cube {cube.nx} x {cube.ny} x {cube.nz} ({cube_path.stat().st_size / 1e9:.1f} GB), chunks "
              f"{cube.chunk_xy}; cached band: channels {band.start}-{band.stop - 1}")
        print(f"before the pass: channel image from the cube {np.median(cold):.2f} s median cold "
              f"(max {max(cold):.2f}), {np.median(warm):.2f} s warm page cache")
        t0 = time.perf_counter()
        for _ in cache.build():
            pass
        build = time.perf_counter() - t0
        size = cache.path.stat().st_size
        print(f"cache pass: {build:.1f} s, {cube.nx * cube.ny / build:,.0f} spectra/s, cache file {size / 1e9:.1f} GB")
        cold, warm = [], []
        for k in picks:
            evict(cache.path)
            t0 = time.perf_counter()
            cache.channel_image(int(k))
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            cache.channel_image(int(k))
            warm.append(time.perf_counter() - t0)
        print(f"after the pass: channel image from the cache {np.median(cold) * 1e3:.0f} ms median cold "
              f"(max {max(cold) * 1e3:.0f} ms), {np.median(warm) * 1e3:.0f} ms warm, over {repeats} channels")
        cache.close()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="folder of the benchmark files")
    parser.add_argument("--size", nargs=2, type=int, default=(2048, 2064), metavar=("NX", "NY"))
    parser.add_argument("--dimz", type=int, default=840)
    parser.add_argument("--repeats", type=int, default=8, help="channels timed after the pass")
    parser.add_argument("--delete", action="store_true", help="delete the cube and cache afterwards")
    parser.add_argument("--measure", nargs=2, metavar=("CUBE", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure[0]), Path(args.measure[1]), args.repeats)
        return
    nx, ny = args.size
    folder = Path(args.dir)
    cube_path = folder / f"mirabelle_bench_channels_{nx}x{ny}x{args.dimz}.hdf5"
    cache_folder = folder / f"mirabelle_bench_channels_cache_{nx}x{ny}"
    try:
        if not cube_path.exists():
            print(f"writing {cube_path} ...", flush=True)
            print(f"written in {write_cube(cube_path, nx, ny, args.dimz, False):.0f} s", flush=True)
        shutil.rmtree(cache_folder, ignore_errors=True)
        subprocess.run([sys.executable, __file__, "--measure", str(cube_path), str(cache_folder),
                        "--repeats", str(args.repeats)], check=True)
    finally:
        if args.delete:
            cube_path.unlink(missing_ok=True)
            shutil.rmtree(cache_folder, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
