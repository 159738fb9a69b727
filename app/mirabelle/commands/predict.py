"""Predict kinematics for whole cubes and export ORCS priors (FITS maps with WCS + JSON summary).

One output folder per cube (default <cube stem>_priors beside the cube, or under -o DIR).
A failing cube prints a one-line reason and the next cube is processed; the exit status
is non-zero when any cube failed.
"""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("cubes", nargs="+", metavar="CUBE", help="SITELLE SN3 cubes (ORB HDF5 or FITS)")
    parser.add_argument("-o", "--output", metavar="DIR", default=None,
                        help="parent folder of the <cube stem>_priors folders (default: beside each cube)")
    parser.add_argument("--binning", type=int, default=1, metavar="N", help="average N x N pixels (default 1)")
    parser.add_argument("--region", metavar="REG", default=None,
                        help="DS9 region file: only pixels inside are computed")
    parser.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                        help="model name or .onnx path (default: chosen from the cube's resolution)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing export files")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="onnxruntime threads (default: all cores)")
    parser.add_argument("--no-extras", action="store_true", help="skip the flux, SNR, score and quality maps")
    parser.add_argument("--flags", metavar="FITS", default=None,
                        help="double-component flag mask (default: the flags painted in the desktop app for "
                             "this cube, its .mirabelle-flags.fits autosave, when there is one)")
    parser.add_argument("--no-flags", action="store_true", help="export no flags even if some were painted")
    parser.add_argument("--recompute", action="store_true",
                        help="ignore maps cached for this cube and model (by the GUI or an interrupted run)")
    parser.add_argument("--scheduler", metavar="ADDRESS|local[:N]", default=None,
                        help="run the tiles on a Dask cluster: a scheduler address (tcp://host:8786) or "
                             "local[:N] worker processes (needs pip install 'mirabelle[cluster]')")
    parser.add_argument("--sky-region", metavar="REG", default=None,
                        help="DS9 region file of sky pixels: their median spectrum is subtracted from every pixel")
    parser.add_argument("--vsys", type=float, default=None, metavar="KM_S",
                        help="systemic velocity (km/s, observed frame; default: found in the cube and remembered)")


class ProgressBar:
    """A one-line text progress bar on a stream: tiles, spectra/s and ETA."""

    def __init__(self, label: str, stream=None, width: int = 28):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tiles = 0

    def update(self, result) -> None:
        self.tiles += 1
        filled = int(round(result.fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        eta = f"{result.eta_s:5.0f}s" if result.eta_s != float("inf") else "    ?"
        self.stream.write(f"\r{self.label} [{bar}] {result.fraction:6.1%} {self.tiles} tiles "
                          f"{result.spectra_per_s:8.0f} spectra/s ETA {eta}")
        self.stream.flush()

    def finish(self, message: str) -> None:
        self.stream.write(f"\r{self.label}: {message}\033[K\n")
        self.stream.flush()


def _flags_for(path, cube, args):
    """The flag mask to export and where it came from: ``--flags``, else the desktop app's autosave
    for this cube (so both paths export the same flags), else (None, None)."""
    from pathlib import Path

    from mirabelle.flags import find_saved, load_mask

    if args.no_flags:
        return None, None
    source = Path(args.flags) if args.flags else find_saved(path)
    if source is None:
        return None, None
    return load_mask(source, expected_shape=(cube.nx, cube.ny)), source


def _predict_one(path, args, out_dir) -> dict:
    from pathlib import Path

    from mirabelle.errors import MirabelleError
    from mirabelle.export.priors import check_free
    from mirabelle.export.staging import reserve
    from mirabelle.inference.region import region_mask_from_file
    from mirabelle.inference.sky_region import SkySubtractedCube, sky_spectrum
    from mirabelle.inference.vsys_memory import choose_systemic_velocity
    from mirabelle.session import Session

    path = Path(path)
    bar = ProgressBar(path.name)
    with Session(path, model_name=args.model, threads=args.threads,
                 notify=lambda message: print(f"mirabelle predict: {message}", file=sys.stderr)) as session, \
            reserve(out_dir):  # locked, cleaned and known writable before the inference
        cube = session.cube
        session.model  # noqa: B018 - a model problem is reported before any file check
        flags, flags_source = _flags_for(path, cube, args)
        if not args.overwrite:
            check_free(cube, out_dir, flags=flags, extras=not args.no_extras, remedy="--overwrite replaces them")
        region = region_mask_from_file(args.region, cube) if args.region else None
        sky_note = None
        if args.sky_region:
            sky = sky_spectrum(cube, region_mask_from_file(args.sky_region, cube), Path(args.sky_region).name)
            cube = session.cube = SkySubtractedCube(cube, sky)
            sky_note = {"region": str(args.sky_region), "pixels": sky.pixels}
            print(f"{path.name}: sky = median of {sky.pixels} pixels in {sky.label}, subtracted", file=sys.stderr)
        vsys = choose_systemic_velocity(cube, args.vsys)
        session.vsys_kms = vsys.vsys_kms
        print(f"{path.name}: {vsys.describe()}", file=sys.stderr)
        result = None
        # maps of a sky-subtracted run are not the cube's: never taken from or put in the cache
        for result in session.run(recompute=args.recompute, use_cache=not args.sky_region, region_mask=region,
                                  binning=args.binning):
            bar.update(result)
        if result is None and not session.reused:
            raise MirabelleError(f"{path}: expected pixels to compute, found none.")
        summary = session.export_priors(out_dir, flags=flags, overwrite=args.overwrite, extras=not args.no_extras,
                                        vsys_source=vsys.source, extra_summary={"sky_subtraction": sky_note})
        summary["output_dir"] = str(out_dir)
        summary["reused_cache"] = session.reused
        if result is not None:
            summary["spectra_per_s"] = round(result.spectra_per_s, 1)
            summary["elapsed_s"] = round(result.elapsed_s, 3)
            how = f"{result.spectra_per_s:.0f} spectra/s, {result.elapsed_s:.1f} s"
        else:
            how = "maps reused from the cache (--recompute to run again)"
        flagged = f", {int(flags.sum())} flagged pixels from {flags_source}" if flags is not None else ""
        bar.finish(f"{summary['pixels']['valid']} valid priors{flagged}, {how} -> {out_dir}")
    return summary


def _outcomes(args):
    """(cube, summary or MirabelleError) per cube, on the cluster with --scheduler, else here."""
    from mirabelle.errors import MirabelleError

    if args.scheduler:
        from mirabelle.cluster.predict import predict_on_cluster

        if args.sky_region:
            raise MirabelleError("--sky-region runs here only: expected no --scheduler with it, found "
                                 f"--scheduler {args.scheduler}")

        yield from predict_on_cluster(args, ProgressBar, _flags_for)
        return
    from mirabelle.export.staging import output_folders

    for path, out_dir in zip(args.cubes, output_folders(args.cubes, args.output)):
        try:
            yield path, _predict_one(path, args, out_dir)
        except MirabelleError as exc:
            yield path, exc


def run(args) -> int:
    import json

    from mirabelle.errors import MirabelleError

    if args.binning < 1:
        raise MirabelleError(f"--binning must be a positive integer, found {args.binning}")
    failures = 0
    summaries = []
    for path, outcome in _outcomes(args):
        if isinstance(outcome, dict):
            summaries.append(outcome)
        else:
            exc = outcome
            failures += 1
            where = "" if str(path) in str(exc) else f"{path}: "  # our messages usually name the file
            print(f"\nmirabelle predict: {where}{exc}", file=sys.stderr)
    print(json.dumps({"cubes": len(args.cubes), "failed": failures,
                      "outputs": [s["output_dir"] for s in summaries]}, indent=1))
    return 1 if failures else 0
