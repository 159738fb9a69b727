"""Write a position–velocity slice along a line or polyline (pixels averaged across --width)
as FITS: position along NAXIS1, velocity about --line along NAXIS2."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("cube", metavar="CUBE", help="SITELLE cube (ORB HDF5 or FITS)")
    parser.add_argument("--line", dest="path", nargs="+", type=float, required=True, metavar="X Y",
                        help="path vertices X0 Y0 X1 Y1 [X2 Y2 ...] in 0-based pixels")
    parser.add_argument("--width", type=int, default=1, metavar="N", help="pixels averaged across the path (default 1)")
    parser.add_argument("--rest-line", default="Halpha", metavar="NAME",
                        help="line the velocities are about (default Halpha; NII6583, SII6716, ...)")
    parser.add_argument("-o", "--output", metavar="OUT.fits", required=True, help="FITS file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.fits if it exists")


def run(args) -> int:
    from mirabelle.analysis.pv import PathError, pv_slice
    from mirabelle.cube import open_cube
    from mirabelle.export.analysis_fits import write_pv

    if len(args.path) < 4 or len(args.path) % 2:
        raise PathError(f"expected --line X0 Y0 X1 Y1 [X2 Y2 ...] (an even number of at least 4 values), "
                        f"found {len(args.path)} values")
    vertices = list(zip(args.path[0::2], args.path[1::2]))
    with open_cube(args.cube) as cube:
        pv = pv_slice(cube, vertices, width_px=args.width, line=args.rest_line)
        path = write_pv(args.output, pv, cube, overwrite=args.overwrite)
    print(f"PV slice: {pv.data.shape[0]} positions × {pv.data.shape[1]} channels, width {pv.width_px} px, "
          f"velocities about {pv.line} -> {path}")
    return 0
