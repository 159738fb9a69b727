"""Benchmark of the cube reader on a detector-sized ORB HDF5 cube.

Writes (once) a 2048 × 2064 × 840 float32 cube in ORB's layout (h5py automatic chunks, as
ORB writes) with a calibration laser map and no deep frame, then measures:

- ``mirabelle info`` in a fresh process: wall time and peak RSS (cold page cache);
- whole-cube tile iteration (all channels, then the Hα–[NII] band) in a fresh process:
  time, throughput, per-tile read time (median / max) and peak RSS;
- random single-pixel spectra: bare h5py and `Cube.spectrum`, in spectra/s (cold cache).

"Cold" means this file's pages were evicted with posix_fadvise(DONTNEED) (no root, other
processes' cache untouched). Run it niced on a shared machine::

    nice -n 10 python tests/bench/bench_cube_read.py [--dir /tmp] [--dimz 840] [--complex] [--delete]

The float32 cube is 14.2 GB (``--complex``: 28.4 GB, as ORBS writes calibrated cubes);
check ``df -h`` first, or use ``--size`` / ``--dimz`` for a smaller cube.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

M31 = dict(step=2943.025792, order=8, step_nb=840, zpd_index=168, nm_laser=543.5,
           axis_corr=1.0374712, exposure_time=13.7, filter_name="SN3", object_name="bench")
WCS = dict(CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRPIX1=1024.0, CRPIX2=1032.0, CRVAL1=10.6847,
           CRVAL2=41.2688, CDELT1=-8.9e-5, CDELT2=8.9e-5, CUNIT1="deg", CUNIT2="deg", RADESYS="ICRS")


def write_cube(path: Path, nx: int, ny: int, nz: int, complex_data: bool) -> float:
    """Write the benchmark cube tile by tile (chunk-aligned blocks); return seconds taken."""
    import h5py

    start = time.perf_counter()
    dtype = np.complex64 if complex_data else np.float32
    unit = M31["axis_corr"] * 1e7 / (2 * M31["step"])   # σ_k = unit · (order + k / step_nb)
    first = int(np.clip(round((14550 / unit - M31["order"]) * M31["step_nb"]), 0, M31["step_nb"] - nz))
    base = unit * (M31["order"] + (first + np.arange(nz)) / M31["step_nb"])
    spectrum = (1.0 + 5.0 * np.exp(-0.5 * ((base - 15230.0) / 2.0) ** 2)).astype(np.float32)
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    laser = (M31["nm_laser"] * M31["axis_corr"]
             * (1 + 2e-9 * ((x - nx / 2) ** 2 + (y - ny / 2) ** 2))).astype(np.float32)
    tmp = path.with_suffix(".part")
    with h5py.File(tmp, "w") as f:
        data = f.create_dataset("data", shape=(nx, ny, nz), dtype=dtype, chunks=True)
        cx, cy, _ = data.chunks
        bx, by = cx * max(1, 128 // cx), cy * max(1, 128 // cy)
        for x0 in range(0, nx, bx):
            for y0 in range(0, ny, by):
                x1, y1 = min(x0 + bx, nx), min(y0 + by, ny)
                scale = 1.0 + 1e-3 * (np.arange(x0, x1)[:, None] + np.arange(y0, y1)[None, :])
                data[x0:x1, y0:y1, :] = (scale[:, :, None] * spectrum).astype(dtype)
        f.create_dataset("calib_map", data=laser)
        for key, value in {**M31, **WCS, "base_axis": base, "level3": True}.items():
            f.attrs[key] = value
    tmp.rename(path)
    return time.perf_counter() - start


def evict(path: Path) -> None:
    """Drop this file's pages from the page cache so the next read comes from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run_child(args: list[str]) -> tuple[float, float, float, str]:
    """Run a process under /usr/bin/time; return (wall s, CPU s, its peak RSS in MB, stdout).

    CPU time (user + system) is the figure to compare on a loaded machine.

    /usr/bin/time forks from a tiny process: ``wait4`` from this one would count the
    parent's memory copied into the child before ``exec``.
    """
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KB %M CPU %U %S", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{args} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    rss_kb, _, user, system = result.stderr.rsplit("MAXRSS_KB", 1)[1].split()[:4]
    return wall, float(user) + float(system), int(rss_kb) / 1024, result.stdout


TILES = textwrap.dedent("""
    import sys, time, numpy as np
    from mirabelle.cube import open_cube
    band = None if sys.argv[2] == "all" else tuple(map(float, sys.argv[2].split(",")))
    reads, nbytes, shape = [], 0, None
    with open_cube(sys.argv[1]) as cube:
        start = time.perf_counter()
        tiles = cube.iter_tiles(band_cm1=band)
        while True:
            t0 = time.perf_counter()
            tile = next(tiles, None)
            if tile is None:
                break
            reads.append(time.perf_counter() - t0)
            nbytes += tile.data.nbytes
            shape = shape if reads[1:] else tile.data.shape
    total = time.perf_counter() - start
    ms = np.array(reads) * 1e3
    print(f"{len(reads)} tiles of {shape}, {total:.1f} s, {nbytes / total / 1e6:.0f} MB/s "
          f"(float32 out), tile read median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
          f"max {ms.max():.0f} ms")
""")


def spectra_rate(path: Path, count: int) -> tuple[float, float, float]:
    """Random-pixel spectra per second: bare h5py, `Cube.spectrum` (both cold), then
    `Cube.spectrum` again on the same pixels (page cache warm)."""
    import h5py

    from mirabelle.cube import open_cube

    rng = np.random.default_rng(1)
    with h5py.File(path, "r") as f:
        data = f["data"]
        nx, ny = data.shape[:2]
        pixels = list(zip(rng.integers(0, nx, count), rng.integers(0, ny, count)))
        evict(path)
        start = time.perf_counter()
        for x, y in pixels:
            data[x, y, :]
        bare = count / (time.perf_counter() - start)
    pixels = list(zip(rng.integers(0, nx, count), rng.integers(0, ny, count)))
    evict(path)
    with open_cube(path) as cube:
        start = time.perf_counter()
        for x, y in pixels:
            cube.spectrum(int(x), int(y))
        ours = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for x, y in pixels:
            cube.spectrum(int(x), int(y))
        warm = count / (time.perf_counter() - start)
    return bare, ours, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp"), help="where the cube is written (default /tmp)")
    parser.add_argument("--size", type=int, nargs=2, default=(2048, 2064), metavar=("NX", "NY"))
    parser.add_argument("--dimz", type=int, default=840, help="channels (≤ 840; default 840)")
    parser.add_argument("--complex", action="store_true", help="complex64 data, as ORBS writes (2× the size)")
    parser.add_argument("--spectra", type=int, default=200, help="random pixels for the spectra/s figures")
    parser.add_argument("--delete", action="store_true", help="delete the cube at the end")
    args = parser.parse_args()

    nx, ny = args.size
    nz = min(args.dimz, M31["step_nb"])
    kind = "c64" if args.complex else "f32"
    path = args.dir / f"mirabelle_bench_{nx}x{ny}x{nz}_{kind}.hdf5"
    gigabytes = nx * ny * nz * (8 if args.complex else 4) / 1e9
    if not path.exists():
        free = shutil.disk_usage(args.dir).free / 1e9
        if free < gigabytes * 1.2 + 2:
            raise SystemExit(f"{args.dir} has {free:.1f} GB free; the cube needs {gigabytes:.1f} GB")
        print(f"writing {path} ({gigabytes:.1f} GB) ...", flush=True)
        print(f"written in {write_cube(path, nx, ny, nz, args.complex):.0f} s")
    print(f"cube {path} {nx}x{ny}x{nz} {kind}, {path.stat().st_size / 1e9:.1f} GB on disk")

    from mirabelle.commands.info import describe
    from mirabelle.cube import open_cube

    mirabelle = [sys.executable, "-m", "mirabelle"]
    evict(path)
    wall, cpu, rss, out = run_child(mirabelle + ["info", str(path)])
    print(f"mirabelle info (cold): {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss:.0f} MB")
    print(textwrap.indent(out.strip(), "    "))
    wall, cpu, rss, _ = run_child([sys.executable, "-c", "import numpy, h5py, astropy.wcs"])
    print(f"(bare python + numpy + h5py + astropy.wcs: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MB)")

    for band in ("all", "14500,15500"):
        evict(path)
        wall, _, rss, out = run_child([sys.executable, "-c", TILES, str(path), band])
        print(f"iter_tiles band={band} (cold): {out.strip()}; process {wall:.1f} s, peak RSS {rss:.0f} MB")

    import astropy.coordinates  # noqa: F401  (time the reading, not the first imports)
    import astropy.io.fits  # noqa: F401
    import astropy.wcs  # noqa: F401

    evict(path)
    start = time.perf_counter()
    with open_cube(path) as cube:
        opened = time.perf_counter()
        describe(cube)
        described = time.perf_counter()
    print(f"in-process (cold, modules loaded): open_cube {1e3 * (opened - start):.0f} ms, "
          f"info summary {1e3 * (described - opened):.0f} ms")

    bare, ours, warm = spectra_rate(path, args.spectra)
    print(f"random spectra: cold bare h5py {bare:.0f} /s, cold Cube.spectrum {ours:.0f} /s, "
          f"warm Cube.spectrum {warm:.0f} /s")
    if args.delete:
        path.unlink()
        print(f"deleted {path}")


if __name__ == "__main__":
    main()
