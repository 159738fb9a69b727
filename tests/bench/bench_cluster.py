"""`predict --scheduler`: throughput of the local run and of 1 and 2 local Dask workers, the
cluster path's per-tile overhead, and a projection for a survey on a real cluster.

    nice -n 10 python tests/bench/bench_cluster.py [--path CUBE | --size NX [NY]] [--workers 64]
                                                  [--cubes 40] [--frame 2048 2064]

Without ``--path`` a calibrated synthetic cube (default 256 × 256) is written to a
temporary folder and deleted afterwards. In this process, on the same cube and tiles:

1. the local run (``run_cube``, its default threads) and the local run on one thread
   (one onnxruntime thread, one tile at a time: what one Dask worker does);
2. ``LocalCluster`` with 1 and then 2 single-threaded worker processes
   (``run_plans``, results written on the client), cluster start-up excluded;
3. per-tile overhead = (1-worker time − 1-thread local time) / tiles: opening the file in
   the task, shipping the task and its result, the client's bookkeeping;
   the client's own time per tile (writing results into the maps) is timed apart, since
   one client serves every worker;
4. the projection for ``--cubes`` full frames on ``--workers`` workers: compute-bound time
   = spectra / (workers × 1-worker rate × 2-worker scaling efficiency), client-bound time
   = tiles × client time per tile; the larger is the projection. The read bandwidth the
   shared file system must sustain is printed too.

Every cluster run is checked bit for bit against the local run (``np.array_equal``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _generate(path: Path, nx: int, ny: int) -> None:
    script = ("import sys; from mirabelle.synthetic import write_synthetic_cube; "
              f"write_synthetic_cube(sys.argv[1], {nx}, {ny}, seed=0, snr=20)")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)


def _local(path, threads, workers):
    from mirabelle.cube import open_cube
    from mirabelle.inference.model import select_model
    from mirabelle.inference.runner import run_cube

    with open_cube(path) as cube:
        model = select_model(cube, threads=threads)
        start = time.perf_counter()
        for result in run_cube(cube, model, workers=workers):
            pass
        return result.maps, time.perf_counter() - start


def _on_cluster(path, n_workers, client_times):
    import distributed

    from mirabelle.cluster import tile_queue
    from mirabelle.cluster.predict import plan_cube
    from mirabelle.cluster.tasks import TileTask, predict_tile

    record = tile_queue._record

    def timed(*args):
        start = time.perf_counter()
        result = record(*args)
        client_times.append(time.perf_counter() - start)
        return result

    tile_queue._record = timed
    try:
        with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            plan = plan_cube(path, recompute=True)
            # Start-up, not work: imports, the model's session and the cube's solver, on every worker.
            xs, ys = plan.tiles[0]
            warm = TileTask(plan.path, plan.stamp, slice(xs.start, xs.start + 1), slice(ys.start, ys.start + 1),
                            np.ones((1, 1), bool))
            client.run(predict_tile, plan.model.files, warm)
            with distributed.get_task_stream(client) as stream:
                start = time.perf_counter()
                for _ in tile_queue.run_plans(client, [plan]):
                    pass
                seconds = time.perf_counter() - start
            in_task = [sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
                       for task in stream.data]
            return plan, seconds, float(np.median(in_task))
    finally:
        tile_queue._record = record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, help="an existing cube (default: write a synthetic one)")
    parser.add_argument("--size", type=int, nargs="+", default=[256, 256], metavar="N",
                        help="NX [NY] of the synthetic cube (default 256 256)")
    parser.add_argument("--workers", type=int, default=64, help="workers of the projected cluster (default 64)")
    parser.add_argument("--cubes", type=int, default=40, help="cubes of the projected survey (default 40)")
    parser.add_argument("--frame", type=int, nargs=2, default=[2048, 2064], help="pixels of a projected cube")
    args = parser.parse_args(argv)

    from mirabelle.cube import open_cube
    from mirabelle.inference.model import select_model
    from mirabelle.inference.runner import BAND_MARGIN_CHANNELS

    folder = None
    path = args.path
    if path is None:
        nx, ny = args.size[0], args.size[-1]
        folder = Path(tempfile.mkdtemp(prefix="mirabelle-cluster-bench-"))
        path = folder / f"synthetic_{nx}x{ny}.hdf5"
        _generate(path, nx, ny)
    try:
        with open_cube(path) as cube:
            spectra = cube.nx * cube.ny
            tiles = len(cube.tile_slices())
            model = select_model(cube, threads=1)
            margin = BAND_MARGIN_CHANNELS * float(cube.base_axis_cm1[1] - cube.base_axis_cm1[0])
            band = cube.channels_in_band((model.axis_cm1[0] - margin, model.axis_cm1[-1] + margin))
            bytes_per_spectrum = (band.stop - band.start) * (8 if cube.calibrated else 4)
        print(f"cube {path.name}: {spectra} spectra in {tiles} tiles, {bytes_per_spectrum} bytes read per spectrum")
        expected, local_s = _local(path, threads=None, workers=None)
        print(f"local run (default threads):   {spectra / local_s:9.0f} spectra/s ({local_s:.2f} s)")
        _, single_s = _local(path, threads=1, workers=1)
        print(f"local run (1 thread, 1 tile):  {spectra / single_s:9.0f} spectra/s ({single_s:.2f} s)")
        rates, client_times, task_s = {}, [], {}
        for n in (1, 2):
            plan, seconds, task_s[n] = _on_cluster(path, n, client_times)
            same = all(np.array_equal(getattr(plan.maps, k), v, equal_nan=True) for k, v in expected.arrays().items())
            rates[n] = spectra / seconds
            print(f"LocalCluster, {n} worker{'s' if n > 1 else ' '}:     {rates[n]:9.0f} spectra/s ({seconds:.2f} s), "
                  f"median task {task_s[n] * 1e3:.0f} ms, maps equal to the local run: {same}")
        overhead = (spectra / rates[1] - single_s) / tiles
        in_task = task_s[1] - single_s / tiles
        client_tile = float(np.median(client_times))
        efficiency = rates[2] / (2 * rates[1])
        print(f"per-tile overhead of the cluster path: {overhead * 1e3:.1f} ms "
              f"({overhead * tiles / single_s:.0%} of the 1-thread compute of a tile), of which "
              f"{in_task * 1e3:.1f} ms inside the task (opening the file); client time per tile "
              f"{client_tile * 1e3:.2f} ms; 2-worker scaling efficiency {efficiency:.0%}")
        fx, fy = args.frame
        survey_spectra = args.cubes * fx * fy
        survey_tiles = args.cubes * -(-fx // 64) * -(-fy // 64)
        compute_s = survey_spectra / (args.workers * rates[1] * min(1.0, efficiency))
        client_s = survey_tiles * client_tile
        projected = max(compute_s, client_s)
        print(f"projection, {args.cubes} cubes of {fx} x {fy} on {args.workers} workers: {projected / 3600:.2f} h "
              f"(compute-bound {compute_s / 3600:.2f} h, client-bound {client_s / 3600:.2f} h over "
              f"{survey_tiles} tiles); the shared file system must deliver "
              f"{survey_spectra * bytes_per_spectrum / projected / 1e6:.0f} MB/s")
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
