"""Sky positions name the cube's own frame (RADESYS), the same in `mirabelle info` and the window."""

import pytest
from astropy.io import fits
from astropy.wcs import WCS

from mirabelle.cli import main
from mirabelle.cube import open_cube
from mirabelle.cube.sky import sky_position


def _wcs(**frame) -> WCS:
    header = fits.Header()
    header.update(NAXIS=2, CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRVAL1=23.4621, CRVAL2=30.66, CRPIX1=1.0,
                  CRPIX2=1.0, CDELT1=-1e-4, CDELT2=1e-4, CUNIT1="deg", CUNIT2="deg", **frame)
    return WCS(header)


@pytest.mark.parametrize("frame, label", [(dict(RADESYS="ICRS"), "ICRS"),
                                          (dict(RADESYS="FK5", EQUINOX=2000.0), "FK5 J2000"),
                                          (dict(RADESYS="FK4", EQUINOX=1950.0), "FK4 B1950")])
def test_the_frame_is_the_wcs_own(frame, label):
    position = sky_position(_wcs(**frame), 0, 0)
    assert position.frame == label
    assert position.ra == "01:33:50.90" and position.dec == "+30:39:36.0"  # CRVAL, not converted
    assert str(position) == f"RA 01:33:50.90  Dec +30:39:36.0 ({label})"


def test_no_or_broken_wcs_gives_no_position():
    assert sky_position(None, 0, 0) is None
    assert sky_position(object(), 0, 0) is None


def test_info_and_the_window_readout_agree_on_an_fk5_cube(synthetic_cube_path, capsys):
    from mirabelle.ui.readout import readout_text

    assert main(["info", str(synthetic_cube_path)]) == 0
    centre = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("WCS centre"))
    with open_cube(synthetic_cube_path) as cube:
        x, y = cube.nx // 2, cube.ny // 2
        position = sky_position(cube.wcs, x, y)
        readout = readout_text(cube, None, None, None, x, y)
    assert position.frame == "FK5 J2000"  # the synthetic cubes' RADESYS
    assert centre.endswith(f"{position} at pixel ({x}, {y})")
    assert str(position) in readout
