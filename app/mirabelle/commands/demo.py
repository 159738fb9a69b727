"""Write a synthetic SITELLE SN3 demo cube (a rotating disk with HII regions, some double
components, R 5000, Hα SNR 25) to the user's data directory if absent, and open it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_NAME = "demo_sn3.hdf5"
DEFAULT_SIZE = 200
"""Demo cube width in pixels; its height is 0.9 times that."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=_size, default=DEFAULT_SIZE, metavar="N",
                        help=f"cube width in pixels, height 0.9 N (default {DEFAULT_SIZE})")
    parser.add_argument("--force", action="store_true", help="rewrite the demo cube even if it exists")
    parser.add_argument("--no-gui", action="store_true", help="only write the cube and print its path")


def _size(text: str) -> int:
    """``--size`` value: an integer of at least 8 pixels."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of pixels, found {text!r}") from None
    if size < 8:
        raise argparse.ArgumentTypeError(f"{size} is too small: the demo cube needs at least 8 pixels across")
    return size


def demo_path() -> Path:
    """``<user data dir>/demo/demo_sn3.hdf5`` (platformdirs, e.g. ~/.local/share/mirabelle on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("mirabelle")) / "demo" / DEMO_NAME


def write_demo(path: Path, size: int) -> None:
    """Write the demo cube to ``path`` through a temporary file, with a progress line on stderr."""
    from mirabelle.errors import ExportError
    from mirabelle.synthetic import write_synthetic_cube

    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)

        def progress(fraction: float) -> None:
            print(f"\rwriting the demo cube {path} … {fraction:4.0%}", end="", file=sys.stderr, flush=True)

        write_synthetic_cube(partial, nx=size, ny=max(1, round(0.9 * size)), resolution=5000.0, snr=25.0,
                             seed=0, calibrated=True, double_fraction=0.08, progress=progress)
        partial.replace(path)
        print(file=sys.stderr)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write the demo cube {path} ({exc.strerror or exc})") from None


def run(args: argparse.Namespace) -> int:
    path = demo_path()
    if args.force or not path.exists():
        write_demo(path, args.size)
    if args.no_gui:
        print(path)
        return 0
    from mirabelle.commands.gui import launch

    return launch([str(path)])
