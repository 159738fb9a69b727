"""Save a PNG of the real Mirabelle window on a cube, after inference (works offscreen)."""

from __future__ import annotations

import argparse
import os
import sys


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1400x900, found {text!r}") from None
    if width < 1024 or height < 600:  # the window is laid out for 1100x650 and up
        raise argparse.ArgumentTypeError(f"expected at least 1024x600, found {text}")
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cube", metavar="CUBE", help="SITELLE cube (HDF5 or FITS)")
    parser.add_argument("out", metavar="OUT.png", help="PNG file to write")
    parser.add_argument("--pixel", nargs=2, type=int, metavar=("X", "Y"),
                        help="pixel to select (0-based x y); default: the brightest pixel of the deep image")
    parser.add_argument("--map", default="velocity", metavar="NAME",
                        help="map to overlay: velocity, broadening, velocity_err, broadening_err, snr_halpha, "
                             "flux_halpha, double_score or none (default velocity)")
    parser.add_argument("--size", type=_size, default=(1400, 900), metavar="WxH",
                        help="window size in pixels, at least 1024x600 (default 1400x900)")
    parser.add_argument("--stretch", default=None, help="linear, sqrt, log or asinh (default: asinh)")
    parser.add_argument("--model", default=None, metavar="NAME_OR_PATH",
                        help="kinematics model (shipped name or .onnx path); default: chosen by resolution")
    parser.add_argument("--no-inference", action="store_true", help="do not wait for (or run) the inference")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for inference (default 600)")


def run(args: argparse.Namespace) -> int:
    from mirabelle.errors import CubeError, ExportError
    from mirabelle.ui.state import MAP_NAMES, STRETCHES

    map_name = None if args.map in (None, "none") else args.map
    if map_name is not None and map_name not in MAP_NAMES:
        raise CubeError(f"--map: expected one of {', '.join(MAP_NAMES)} or none, found {args.map!r}")
    if args.stretch is not None and args.stretch not in STRETCHES:
        raise CubeError(f"--stretch: expected one of {', '.join(STRETCHES)}, found {args.stretch!r}")
    from mirabelle.commands.display import display_problem

    if display_problem():  # no display or no X11 libraries: the screenshot needs neither
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    out = os.path.abspath(args.out)
    if not os.path.isdir(os.path.dirname(out)):
        raise ExportError(f"{out}: expected an existing folder for the PNG, found none")

    from mirabelle.ui.screenshot import take_screenshot

    width, height = take_screenshot(
        args.cube, out, pixel=tuple(args.pixel) if args.pixel else None, map_name=map_name, size=args.size,
        stretch=args.stretch or "asinh", inference=not args.no_inference, timeout_s=args.timeout, model=args.model,
        log=lambda text: print(text, file=sys.stderr),
    )
    print(f"{out}: {width}×{height} PNG")
    return 0
