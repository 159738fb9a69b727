"""Compute moment maps (0: continuum-subtracted integrated line, 1: mean velocity, 2: velocity
dispersion) of a line about the systemic velocity or of a band, tile by tile, and write them as
FITS with the cube's WCS (moment0, moment1, moment2, snr, continuum) in DIR."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("cube", metavar="CUBE", help="SITELLE cube (ORB HDF5 or FITS)")
    band = parser.add_mutually_exclusive_group(required=True)
    band.add_argument("--line", metavar="NAME", help="line (Halpha, NII6583, NII6548, SII6716, SII6731)")
    band.add_argument("--band", nargs=2, type=float, metavar=("LO", "HI"), help="band limits (see --unit)")
    parser.add_argument("--width", type=float, default=None, metavar="KM_S",
                        help="half-width of the line band about the velocity (default 300 km/s)")
    parser.add_argument("--velocity", type=float, default=None, metavar="KM_S",
                        help="systemic velocity the line band is centred on (km/s; default: detected in the cube)")
    parser.add_argument("--velocity-map", metavar="FITS", default=None,
                        help="velocity map (km/s, e.g. velocity.fits from predict): the band follows each pixel")
    parser.add_argument("--unit", choices=("cm-1", "nm"), default="cm-1", help="unit of --band (default cm-1)")
    parser.add_argument("--rest-line", default=None, metavar="NAME",
                        help="line the moment-1/2 velocities of --band are about (default: nearest the band)")
    parser.add_argument("--min-snr", type=float, default=None, metavar="S",
                        help="moment-0 SNR below which moments 1 and 2 are NaN (default 3)")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="folder for the FITS maps")
    parser.add_argument("--overwrite", action="store_true", help="replace existing maps in DIR")


def _velocity(args, cube):
    """The band's centre: a velocity map, the given systemic velocity, or the one detected in the cube."""
    if args.velocity_map:
        from mirabelle.analysis.maps_io import read_map

        return read_map(args.velocity_map, (cube.nx, cube.ny))
    if args.velocity is not None:
        return args.velocity
    import sys

    from mirabelle.inference.systemic import detect_systemic_velocity

    found = detect_systemic_velocity(cube)  # MirabelleError with the reason when the cube shows no line
    print(f"systemic velocity {found.velocity_kms:.1f} km/s detected ({found.significance:.0f} sigma over "
          f"{found.pixels} line-bright pixels); give --velocity to override", file=sys.stderr)
    return found.velocity_kms


def run(args) -> int:
    import sys

    from mirabelle.analysis.bands import DEFAULT_WIDTH_KMS, LineBand, WavenumberBand
    from mirabelle.analysis.moments import MIN_SNR, iter_moments
    from mirabelle.commands.predict import ProgressBar
    from mirabelle.cube import open_cube
    from mirabelle.errors import MirabelleError
    from mirabelle.export.analysis_fits import write_moment_maps

    if args.band is not None and (args.width is not None or args.velocity is not None or args.velocity_map):
        raise MirabelleError("expected --width/--velocity/--velocity-map only with --line, found them with --band")
    with open_cube(args.cube) as cube:
        if args.line:
            band = LineBand(args.line, args.width or DEFAULT_WIDTH_KMS, _velocity(args, cube))
        else:
            lo, hi = args.band if args.unit == "cm-1" else (1e7 / args.band[0], 1e7 / args.band[1])
            band = WavenumberBand(lo, hi, line=args.rest_line or "")
        bar = ProgressBar(f"moments {band.describe()}")
        result = None
        for result in iter_moments(cube, band, min_snr=MIN_SNR if args.min_snr is None else args.min_snr):
            bar.update(_Progress(result.fraction, result.elapsed_s, cube.nx * cube.ny))
        paths = write_moment_maps(args.output, result.maps, cube, overwrite=args.overwrite)
        bar.finish(f"{len(paths)} maps -> {args.output}")
    print("\n".join(str(p) for p in paths), file=sys.stdout)
    return 0


class _Progress:
    """What `ProgressBar.update` reads from a run's tile (fraction, throughput, ETA)."""

    def __init__(self, fraction: float, elapsed_s: float, pixels: int):
        self.fraction = fraction
        self.spectra_per_s = fraction * pixels / elapsed_s if elapsed_s > 0 else 0.0
        self.eta_s = elapsed_s / fraction * (1 - fraction) if fraction > 0 else float("inf")
