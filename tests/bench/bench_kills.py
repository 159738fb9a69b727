"""Kill and race benchmark: SIGKILL the export, flag and cache writers at random moments and check
what is left; run pairs of concurrent ``mirabelle predict`` into one folder.

After each export kill the folder must hold one whole run (every file of its summary, one
BINNING); after each flag or cache kill the file must load; after the next write no temporary,
staging folder, old set or lock may remain. Prints the counts::

    python tests/bench/bench_kills.py [--exports 30] [--flags 30] [--cache 30] [--races 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import numpy as np  # noqa: E402
import test_kills_and_races as kills  # noqa: E402 (after the path insert)
from inference_models import write_model  # noqa: E402

from mirabelle.cube import open_cube  # noqa: E402
from mirabelle.export.priors import write_priors  # noqa: E402
from mirabelle.flags.storage import load_mask, save_mask  # noqa: E402
from mirabelle.inference import cache  # noqa: E402
from mirabelle.synthetic import write_synthetic_cube  # noqa: E402


def _check(label: str, failures: list, action) -> None:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 (a benchmark counts every failure)
        failures.append(f"{label}: {type(exc).__name__}: {exc}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=int, default=30)
    parser.add_argument("--flags", type=int, default=30)
    parser.add_argument("--cache", type=int, default=30)
    parser.add_argument("--races", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="mirabelle-kills-"))
    os.environ["MIRABELLE_CACHE_DIR"] = str(folder / "cache")
    cube_path = folder / "cube.hdf5"
    write_synthetic_cube(cube_path, kills.NX, kills.NY, seed=6)
    failures: list[str] = []
    start = time.perf_counter()

    out = folder / "priors"
    script = kills.WRITER.format(tests=str(TESTS), cube=str(cube_path), out=str(out))
    for index in range(args.exports):
        kills._run_and_kill(script, float(rng.uniform(0.0, 0.5)))
        _check(f"export kill {index}", failures, lambda: kills.assert_one_export(out))
    with open_cube(cube_path) as cube:
        write_priors(kills.maps_for(2), cube, out, overwrite=True)
    leftover = kills.leftovers(folder) + kills.leftovers(out)

    flags = folder / "cube.hdf5.mirabelle-flags.fits"
    script = kills.FLAGS_WRITER.format(nx=kills.NX, ny=kills.NY, path=str(flags))
    for index in range(args.flags):
        kills._run_and_kill(script, float(rng.uniform(0.0, 0.3)))
        _check(f"flag kill {index}", failures, lambda: load_mask(flags, expected_shape=(kills.NX, kills.NY)))
    save_mask(flags, np.zeros((kills.NX, kills.NY), bool))
    leftover += kills.leftovers(folder)

    script = kills.CACHE_WRITER.format(tests=str(TESTS), cube=str(cube_path))
    for index in range(args.cache):
        kills._run_and_kill(script, float(rng.uniform(0.0, 0.3)))
        _check(f"cache kill {index}", failures, lambda: cache.load_maps(cube_path, "b" * 64).complete)
    cache.save_maps(kills.maps_for(1), cube_path)
    leftover += kills.leftovers(folder / "cache")

    model = write_model(folder / "models", kinematics=(-170.0, 30.0, 4.0, 5.0))
    both = 0
    for index in range(args.races):
        target = folder / f"race{index}"
        command = [sys.executable, "-m", "mirabelle", "predict", str(cube_path), "-o", str(target),
                   "--model", str(model), "--threads", "1", "--vsys", "0"]  # the constant test model
        runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        codes = [run.wait() for run in runs]
        both += codes.count(0) > 1
        _check(f"race {index}", failures, lambda: kills.assert_one_export(target / "cube_priors"))

    for line in failures:
        print("FAIL", line)
    print(f"export kills {args.exports}, flag kills {args.flags}, cache kills {args.cache}: "
          f"{len([f for f in failures if not f.startswith('race')])} left a mixed or unreadable result; "
          f"leftovers after the next write: {leftover or 'none'}")
    print(f"race pairs {args.races}: both succeeded in {both}; {time.perf_counter() - start:.0f} s in all")
    return 1 if failures or leftover or both else 0


if __name__ == "__main__":
    sys.exit(main())
