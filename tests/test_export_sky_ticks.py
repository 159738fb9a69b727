"""RA/Dec ticks of the exported figure: where round sky values cross the image's bottom and left edges."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import Angle
from astropy.wcs import WCS

from mirabelle.export.sky_ticks import edge_ticks, frame_name


def sitelle_wcs(rotation_deg=0.0, crval=(23.4621, 30.66)):
    """A SITELLE-like TAN WCS, 0.32″ pixels on 200 × 180, rotated by ``rotation_deg``."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix = list(crval), [100.0, 90.0]
    scale, theta = 0.32 / 3600.0, np.deg2rad(rotation_deg)
    wcs.wcs.cd = scale * np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    wcs.wcs.radesys, wcs.wcs.equinox = "FK5", 2000.0
    return wcs


@pytest.mark.parametrize("rotation_deg", [0.0, 25.0])
def test_each_label_is_the_sky_value_at_its_edge_position(rotation_deg):
    wcs = sitelle_wcs(rotation_deg)
    ra, dec = edge_ticks(wcs, 200, 180, "ra", max_ticks=4), edge_ticks(wcs, 200, 180, "dec", max_ticks=4)
    assert 2 <= len(ra) <= 5 and 2 <= len(dec) <= 5
    for x, label in ra:
        at_edge = wcs.pixel_to_world(x, -0.5).ra
        assert Angle(label, unit=u.hourangle).hour == pytest.approx(at_edge.hour, abs=1e-3 / 3600)
        assert -0.5 <= x <= 199.5
    for y, label in dec:
        at_edge = wcs.pixel_to_world(-0.5, y).dec
        assert Angle(label.replace("°", "d").replace("′", "m").replace("″", "s")).deg == pytest.approx(
            at_edge.deg, abs=1e-3 / 3600)
    assert ra[0][1].endswith("s") and dec[0][1].startswith("+30°")
    assert frame_name(wcs) == "FK5 J2000"


def test_a_dec_peaking_along_the_edge_gives_no_ticks_and_bad_coordinates_one_sentence():
    wcs = sitelle_wcs(crval=(23.4621, 89.99))
    wcs.wcs.cd = wcs.wcs.cd * 300  # 96″ pixels: the pole is in the image, Dec peaks halfway up the left edge
    assert edge_ticks(wcs, 200, 180, "dec") == []
    assert len(edge_ticks(wcs, 200, 180, "ra")) >= 2  # the bottom edge passes by the pole: RA is monotonic
    with pytest.raises(ValueError, match="expected 'ra' or 'dec'"):
        edge_ticks(wcs, 200, 180, "glon")
