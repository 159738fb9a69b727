"""Flag files: atomic save/load, autosave locations, FITS mask with WCS, DS9 regions."""

import os
import stat

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from mirabelle.errors import FlagsError
from mirabelle.flags import (
    FlagMask,
    autosave_path,
    find_saved,
    sidecar_path,
    trace_outlines,
    write_ds9_regions,
    write_fits_mask,
)


@pytest.fixture
def wcs():
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [10.68, 41.27]
    w.wcs.crpix = [20.0, 15.0]
    w.wcs.cdelt = [-0.0001, 0.0001]
    return w


def test_save_load_round_trip(tmp_path):
    flags = FlagMask(13, 7)
    flags.paint_disk(3, 2, 1.5)
    flags.paint_disk(12, 6, 0.5)
    path = flags.save(tmp_path / "f.fits")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temp file left
    other = FlagMask(13, 7)
    other.paint_disk(8, 3, 1)
    other.load(path)
    np.testing.assert_array_equal(other.data, flags.data)
    assert not other.can_undo
    np.testing.assert_array_equal(FlagMask.from_file(path).data, flags.data)


def test_load_refuses_a_mask_of_another_shape(tmp_path):
    path = FlagMask(13, 7).save(tmp_path / "f.fits")
    with pytest.raises(FlagsError, match=r"13×7.*expected 7×13"):
        FlagMask(7, 13).load(path)
    with pytest.raises(FlagsError, match="does not exist"):
        FlagMask(7, 13).load(tmp_path / "missing.fits")
    (tmp_path / "junk.fits").write_bytes(b"not a fits file at all")
    with pytest.raises(FlagsError, match="junk.fits"):
        FlagMask(7, 13).load(tmp_path / "junk.fits")


def test_autosave_goes_next_to_the_cube_or_to_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRABELLE_FLAGS_DIR", str(tmp_path / "user"))
    cube = tmp_path / "data" / "m31.hdf5"
    cube.parent.mkdir()
    cube.write_bytes(b"")
    assert autosave_path(cube) == sidecar_path(cube) == cube.with_name("m31.hdf5.mirabelle-flags.fits")
    assert find_saved(cube) is None
    if os.geteuid() == 0:
        monkeypatch.setattr("mirabelle.flags.storage._folder_writable", lambda folder: False)
    else:
        cube.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        fallback = autosave_path(cube)
        assert fallback.parent == tmp_path / "user" and fallback.name.startswith("m31-")
        FlagMask(2, 2).save(fallback)
        assert find_saved(cube) == fallback
        assert autosave_path(tmp_path / "elsewhere" / "m31.hdf5") != fallback  # hash of the full path
    finally:
        cube.parent.chmod(stat.S_IRWXU)


def test_fits_mask_has_wcs_and_x_along_naxis1(tmp_path, wcs):
    mask = np.zeros((40, 30), dtype=bool)
    mask[31, 7] = True  # one bright pixel at x=31, y=7
    path = write_fits_mask(tmp_path / "mask.fits", mask, wcs)
    with fits.open(path) as hdul:
        header, data = hdul[0].header, hdul[0].data
    assert data.dtype == np.uint8
    assert (header["NAXIS1"], header["NAXIS2"]) == (40, 30)
    assert data[7, 31] == 1 and data.sum() == 1
    back = WCS(header)
    assert back.pixel_to_world(31, 7).separation(wcs.pixel_to_world(31, 7)).arcsec < 1e-6


def test_outlines_trace_outer_edges_and_holes():
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:8, 2:8] = True
    mask[4:6, 4:6] = False
    mask[1, 1] = True  # touches the square only at a corner: its own region
    outlines = trace_outlines(mask)
    assert sorted((o.label, o.is_hole, o.area) for o in outlines) == [
        (1, False, 1.0), (2, False, 36.0), (2, True, -4.0)]
    square = next(o for o in outlines if o.label == 2 and not o.is_hole)
    assert sorted(map(tuple, square.vertices)) == [(1.5, 1.5), (1.5, 7.5), (7.5, 1.5), (7.5, 7.5)]


def test_ds9_regions_are_readable_and_contain_the_flagged_pixel(tmp_path, wcs):
    from regions import PixCoord, Regions

    flags = FlagMask(40, 30)
    flags.paint_polygon([(4, 3), (12, 3), (12, 10), (4, 10)])
    flags.paint_disk(31, 7, 0.5)
    path = write_ds9_regions(tmp_path / "flags.reg", flags.data, wcs)
    regions = Regions.read(path, format="ds9")
    assert len(regions) == len(flags.regions()) == 2
    target = wcs.pixel_to_world(31, 7)
    containing = [r for r in regions if r.contains(target, wcs)]
    assert len(containing) == 1 and containing[0].meta["include"] == 1
    assert not any(r.contains(wcs.pixel_to_world(20, 20), wcs) for r in regions)
    # every flagged pixel centre is inside some polygon, every other one outside all
    xs, ys = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    pixel_regions = [r.to_pixel(wcs) for r in regions]
    inside = np.zeros((40, 30), dtype=bool)
    for region in pixel_regions:
        inside |= region.contains(PixCoord(xs, ys))
    np.testing.assert_array_equal(inside, flags.data)


def test_ds9_pixel_regions_without_wcs_and_empty_mask(tmp_path):
    from regions import PixCoord, Regions

    mask = np.zeros((10, 10), dtype=bool)
    mask[3, 4] = True
    regions = Regions.read(write_ds9_regions(tmp_path / "p.reg", mask), format="ds9")
    assert len(regions) == 1 and regions[0].contains(PixCoord(3, 4))
    assert len(Regions.read(write_ds9_regions(tmp_path / "e.reg", mask & False), format="ds9")) == 0
