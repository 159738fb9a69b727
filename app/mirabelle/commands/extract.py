"""Extract the spectrum of a pixel or of a DS9 region (summed, or mean with --mean) as a FITS
table that specutils reads (wavenumber in cm-1, flux in counts, the pixel or region in the header)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("cube", metavar="CUBE", help="SITELLE cube (ORB HDF5 or FITS)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--pixel", nargs=2, type=int, metavar=("X", "Y"), help="0-based pixel (x, y)")
    where.add_argument("--region", metavar="REG", help="DS9 region file (circle, box, polygon, annulus, ...)")
    parser.add_argument("--mean", action="store_true", help="mean spectrum per pixel instead of the sum")
    parser.add_argument("-o", "--output", metavar="OUT.fits", required=True, help="FITS file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.fits if it exists")


def run(args) -> int:
    from pathlib import Path

    from mirabelle.analysis.region_spectra import (pixel_spectrum, read_regions, region_spectrum,
                                                   regions_mask, serialize_ds9)
    from mirabelle.cube import open_cube
    from mirabelle.export.analysis_fits import write_spectrum

    with open_cube(args.cube) as cube:
        if args.pixel is not None:
            spectrum = pixel_spectrum(cube, *args.pixel)
        else:
            shapes = read_regions(args.region)
            mask = regions_mask(shapes, (cube.nx, cube.ny), cube.wcs)
            spectrum = region_spectrum(cube, mask, mean=args.mean, description=Path(args.region).name,
                                       ds9_text=serialize_ds9(shapes))
        path = write_spectrum(args.output, spectrum, cube, overwrite=args.overwrite)
    print(f"{spectrum.description}: {spectrum.combine} of {spectrum.pixels} pixel(s), "
          f"{spectrum.values.size} channels -> {path}")
    return 0
