"""Fuzz benchmark: every hostile cube of ``tests/fuzz_cases.py`` plus random byte flips and
truncations of good HDF5 and FITS cubes, each through ``mirabelle info`` (and the named cases
through ``mirabelle predict``) in a fresh process with a 2 GB address-space limit and a timeout.

Prints one line per failure and the totals: inputs, tracebacks, internal errors (the CLI
boundary's catch-all), multi-line errors, hangs (timeouts), crashes (signals), peak RSS::

    python tests/bench/bench_fuzz.py [--flips 150] [--cuts 40] [--timeout 60] [--jobs 2]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fuzz_cases  # noqa: E402 (after the path insert)

MEMORY_LIMIT = 2 * 2**30
PREDICT_CASES = ("fits_freq_axis", "calib_map_wrong_shape", "nan_crval1", "data_all_nan", "fits_inf_step")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_one(command: list[str], timeout: float) -> dict:
    """Run a mirabelle command: its exit status, stderr lines, whether it hung, wall time (s)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mirabelle", *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory)
    try:
        _, err = process.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        hung = True
    lines = [line.split("\r")[-1] for line in err.splitlines() if line.split("\r")[-1].strip()]
    return {"rc": process.returncode, "lines": lines, "hung": hung, "s": time.perf_counter() - start}


def classify(result: dict) -> str:
    """'' for a clean outcome, else what went wrong."""
    text = "\n".join(result["lines"])
    if result["hung"]:
        return "hang"
    if result["rc"] is not None and result["rc"] < 0:
        return f"crash (signal {-result['rc']})"
    if "Traceback" in text:
        return "traceback"
    if "internal error" in text:
        return "internal error"
    errors = [line for line in result["lines"] if line.startswith("mirabelle")]
    if result["rc"] not in (0, 1, 2):
        return f"exit status {result['rc']}"
    if result["rc"] != 0 and len(errors) != 1:
        return f"{len(errors)} error lines"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=150, help="byte-flipped copies per good file")
    parser.add_argument("--cuts", type=int, default=40, help="truncated copies per good file")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before an input counts as a hang")
    parser.add_argument("--jobs", type=int, default=2, help="inputs run at once")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mirabelle-fuzz-"))
    inputs = [(name, make(folder)) for name, make in fuzz_cases.CASES.items()]
    from mirabelle.synthetic import write_synthetic_cube

    good = folder / "good.hdf5"
    write_synthetic_cube(good, 12, 10, seed=5)
    good_fits = fuzz_cases._fits(folder, "good")
    for base in (good, good_fits):
        inputs += [(path.name, path) for path in fuzz_cases.byte_flips(base, folder, args.flips)]
        inputs += [(path.name, path) for path in fuzz_cases.truncations(base, folder, args.cuts)]
    commands = [(name, ["info", str(path)]) for name, path in inputs]
    commands += [(f"predict {name}", ["predict", str(folder / f"{name}.{'fits' if name.startswith('fits') else 'hdf5'}"),
                                      "-o", str(folder / "out")]) for name in PREDICT_CASES]

    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda item: (item[0], run_one(item[1], args.timeout)), commands))
    counts: dict[str, int] = {}
    for name, result in results:
        problem = classify(result)
        if problem:
            counts[problem] = counts.get(problem, 0) + 1
            print(f"FAIL {name}: {problem}: {' | '.join(result['lines'])[:300]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    slowest = max(results, key=lambda item: item[1]["s"])
    print(f"inputs {len(results)} (info {len(inputs)}, predict {len(PREDICT_CASES)}) in "
          f"{time.perf_counter() - start:.0f} s; tracebacks {counts.get('traceback', 0)}, "
          f"internal errors {counts.get('internal error', 0)}, hangs {counts.get('hang', 0)}, "
          f"crashes {sum(v for k, v in counts.items() if k.startswith('crash'))}, other {sum(counts.values())}")
    print(f"largest child peak RSS {peak_mb:.0f} MB (limit {MEMORY_LIMIT / 2**30:.0f} GB); slowest input "
          f"{slowest[0]} {slowest[1]['s']:.1f} s")
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
