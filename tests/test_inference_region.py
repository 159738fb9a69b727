"""DS9 region files as pixel masks for `predict --region`."""

import numpy as np
import pytest

from mirabelle.cube import open_cube
from mirabelle.errors import FlagsError
from mirabelle.inference.region import region_mask_from_file


@pytest.fixture
def cube(synthetic_cube_path):
    with open_cube(synthetic_cube_path) as opened:
        yield opened


def test_pixel_box_minus_an_excluded_circle(cube, tmp_path):
    path = tmp_path / "r.reg"
    path.write_text("# Region file format: DS9\nimage\nbox(8.5,6.5,6,4,0)\n-circle(8,6,1.5)\n")
    mask = region_mask_from_file(path, cube)
    assert mask.shape == (cube.nx, cube.ny)
    assert mask.sum() == 24 - 9 and mask[5, 4] and not mask[7, 5]


def test_sky_circle_uses_the_cube_wcs(cube, tmp_path):
    centre = cube.wcs.pixel_to_world(20, 10)
    path = tmp_path / "sky.reg"
    radius = 2.5 * abs(cube.wcs.proj_plane_pixel_scales()[0].to_value("arcsec"))
    path.write_text(f"# Region file format: DS9\nicrs\ncircle({centre.ra.deg},{centre.dec.deg},{radius}\")\n")
    mask = region_mask_from_file(path, cube)
    assert mask[20, 10] and 15 <= mask.sum() <= 25
    xs, ys = np.nonzero(mask)
    assert abs(xs.mean() - 20) < 0.5 and abs(ys.mean() - 10) < 0.5


def test_unreadable_or_empty_regions_are_refused(cube, tmp_path):
    garbage = tmp_path / "bad.reg"
    garbage.write_text("this is not ds9\x00")
    with pytest.raises(FlagsError, match="bad.reg"):
        region_mask_from_file(garbage, cube)
    outside = tmp_path / "outside.reg"
    outside.write_text("# Region file format: DS9\nimage\ncircle(500,500,3)\n")
    with pytest.raises(FlagsError, match="none inside"):
        region_mask_from_file(outside, cube)
