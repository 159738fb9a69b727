"""Position–velocity slices equal the cube's spectra along the path and carry an exact velocity axis."""

import numpy as np
import pytest

from mirabelle.analysis.pv import PathError, pv_slice, sample_path
from mirabelle.cli import main
from mirabelle.cube import open_cube
from mirabelle.lines.kinematics import velocity_from_position


@pytest.fixture
def cube(synthetic_cube_path):
    with open_cube(synthetic_cube_path) as opened:
        yield opened


def test_horizontal_slice_of_width_one_is_the_row_of_spectra(cube):
    pv = pv_slice(cube, [(5, 20), (40, 20)])
    assert pv.data.shape == (36, cube.nz)
    np.testing.assert_allclose(pv.offsets_px, np.arange(36))
    for i, x in enumerate(range(5, 41)):
        np.testing.assert_allclose(pv.data[i], cube.spectrum(x, 20).values, rtol=1e-6)


def test_width_three_averages_the_neighbouring_rows(cube):
    pv = pv_slice(cube, [(5, 20), (40, 20)], width_px=3)
    expected = np.mean([cube.spectrum(12, y).values for y in (19, 20, 21)], axis=0)
    np.testing.assert_allclose(pv.data[7], expected, rtol=1e-6)


def test_vertical_polyline_offsets_are_continuous(cube):
    samples, offsets, normals = sample_path([(10, 5), (10, 15), (20, 15)])
    assert len(samples) == 21 and offsets[-1] == pytest.approx(20.0)
    assert np.all(np.diff(offsets) == pytest.approx(1.0))
    pv = pv_slice(cube, [(10, 5), (10, 15), (20, 15)])
    np.testing.assert_allclose(pv.data[10], cube.spectrum(10, 15).values, rtol=1e-6)
    np.testing.assert_allclose(pv.data[-1], cube.spectrum(20, 15).values, rtol=1e-6)


def test_velocity_axis_is_about_the_chosen_line(cube):
    pv = pv_slice(cube, [(5, 20), (10, 20)], line="NII6583")
    np.testing.assert_allclose(pv.velocity_kms, velocity_from_position(658.345, cube.base_axis_cm1))


def test_bad_paths_are_refused_with_a_sentence(cube):
    with pytest.raises(PathError, match="non-zero length"):
        pv_slice(cube, [(3, 3), (3, 3)])
    with pytest.raises(PathError, match="outside"):
        pv_slice(cube, [(500, 500), (600, 500)])
    with pytest.raises(PathError, match="positive whole number"):
        pv_slice(cube, [(3, 3), (9, 3)], width_px=0)


def test_pv_command_writes_a_velocity_axis_astropy_reads(cube, synthetic_cube_path, tmp_path):
    from astropy.io import fits
    from astropy.wcs import WCS

    out = tmp_path / "pv.fits"
    assert main(["pv", str(synthetic_cube_path), "--line", "5", "20", "40", "25", "--width", "3",
                 "-o", str(out)]) == 0
    with fits.open(out) as hdus:
        image, header, table = hdus[0].data, hdus[0].header, hdus["SPECTRAL"].data
    expected = pv_slice(cube, [(5, 20), (40, 25)], width_px=3)
    np.testing.assert_allclose(image.T, expected.data, rtol=1e-6, equal_nan=True)  # FITS [channel, position]
    velocity_ms = WCS(header).sub([2]).pixel_to_world_values(np.arange(cube.nz))
    np.testing.assert_allclose(np.asarray(velocity_ms) / 1e3, expected.velocity_kms, atol=1e-3)
    np.testing.assert_allclose(table["velocity"], expected.velocity_kms)
    assert header["CTYPE2"] == "VELO-F2V" and header["PVWIDTH"] == 3 and header["CUNIT1"] == "arcsec"
    assert main(["pv", str(synthetic_cube_path), "--line", "5", "20", "40", "25", "-o", str(out)]) == 2  # exists
