"""Write a synthetic SITELLE SN3 demo cube (a rotating disk with HII regions, some double
components, R 5000, Hα SNR 25) to the user's data directory if absent, and open it."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

DEMO_NAME = "demo_sn3.hdf5"
DEFAULT_SIZE = 200
"""Demo cube width in pixels; its height is 0.9 times that."""
DEMO_BYTES_PER_PIXEL = 4700
"""Bytes per pixel of the demo cube (3770 measured: complex64, ~400 channels at R 5000) plus 25 %."""


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
    """Write the demo cube to ``path`` through a temporary file, with a progress line on stderr.

    The HDF5 writing runs in a child process: when the disk fills, HDF5 fails to close the
    file and h5py's cleanup can then crash the interpreter, which must not be ours.
    """
    from mirabelle.atomic import clean_stale, discard, temporary_path
    from mirabelle.errors import ExportError

    partial = temporary_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(path.parent, target=path.name)
        _check_free_space(path.parent, size)
        problem = _write_in_child(partial, path, size)
        print(file=sys.stderr)
        if problem is None:
            partial.replace(path)
    except ExportError:
        raise
    except OSError as exc:
        problem = exc.strerror or str(exc)
    if problem is not None:
        discard(partial)
        raise ExportError(f"cannot write the demo cube {path} ({problem})")


def _write_in_child(partial: Path, path: Path, size: int) -> str | None:
    """Write the cube into ``partial`` in a child process; None on success, else the reason."""
    import multiprocessing

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_writes, args=(partial, path, size, send), daemon=True)
    child.start()
    send.close()
    problem = None
    try:
        while True:  # progress fractions, then an error text if any, until the child closes the pipe
            message = receive.recv()
            if isinstance(message, float):
                print(f"\rwriting the demo cube {path} … {message:4.0%}", end="", file=sys.stderr, flush=True)
            else:
                problem = message
    except EOFError:
        pass
    finally:
        receive.close()
        child.join()
    if child.exitcode == 0:
        return None
    return problem or f"the writer stopped with exit status {child.exitcode}"


def _child_writes(partial: Path, path: Path, size: int, send) -> None:
    """Child process body: write the cube, report an error as one line, exit without h5py cleanup."""
    from mirabelle.synthetic import write_synthetic_cube

    def progress(fraction: float) -> None:
        send.send(float(fraction))

    try:
        write_synthetic_cube(partial, nx=size, ny=max(1, round(0.9 * size)), resolution=5000.0, snr=25.0,
                             seed=0, calibrated=True, double_fraction=0.08, progress=progress)
    except BaseException as exc:  # noqa: BLE001 (reported as one line by the parent)
        full = isinstance(exc, OSError) and (exc.errno == errno.ENOSPC or "No space left" in str(exc))
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        send.send("no space left on the disk" if full else text.splitlines()[0])
        os._exit(1)  # here, while the traceback still holds h5py's objects: their finalisers crash
    os._exit(0)


def _check_free_space(folder: Path, size: int) -> None:
    """ExportError before writing when the disk cannot hold a demo cube ``size`` pixels wide."""
    import shutil

    from mirabelle.errors import ExportError

    needed = DEMO_BYTES_PER_PIXEL * size * max(1, round(0.9 * size)) + 2**20
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ExportError(f"cannot write the demo cube in {folder}: it needs about {needed / 2**20:.0f} MB, "
                          f"the disk has {free / 2**20:.1f} MB free")


def run(args: argparse.Namespace) -> int:
    if not args.no_gui:
        from mirabelle.commands.display import check_display

        check_display()  # say so before writing the cube, not after
    path = demo_path()
    if args.force or not path.exists():
        write_demo(path, args.size)
    if args.no_gui:
        print(path)
        return 0
    from mirabelle.commands.gui import launch

    return launch([str(path)])
