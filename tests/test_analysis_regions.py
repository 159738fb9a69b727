"""Region spectra: the sum over a region equals the sum of its pixels' spectra, and `extract`
writes a file specutils reads."""

import numpy as np
import pytest
from regions import (CirclePixelRegion, CircleAnnulusPixelRegion, PixCoord, PolygonPixelRegion,
                     RectanglePixelRegion)

from mirabelle.analysis.region_spectra import (RegionError, pixel_spectrum, read_regions, region_spectrum,
                                               regions_mask, shape_mask)
from mirabelle.cli import main
from mirabelle.cube import open_cube

try:
    from specutils import Spectrum
except ImportError:  # specutils < 2
    from specutils import Spectrum1D as Spectrum

SHAPES = {
    "circle": CirclePixelRegion(PixCoord(20, 18), radius=5),
    "box": RectanglePixelRegion(PixCoord(30, 22), width=7, height=4),
    "polygon": PolygonPixelRegion(PixCoord([10, 22, 16], [8, 10, 20])),
    "annulus": CircleAnnulusPixelRegion(PixCoord(24, 20), inner_radius=3, outer_radius=6),
}


@pytest.fixture
def cube(synthetic_cube_path):
    with open_cube(synthetic_cube_path) as opened:
        yield opened


def _sum_of_pixel_spectra(cube, mask):
    spectra = [cube.spectrum(x, y).values for x, y in zip(*np.nonzero(mask))]
    spectra = [s for s in spectra if np.isfinite(s).any()]
    return np.nansum(spectra, axis=0), len(spectra)


@pytest.mark.parametrize("name", SHAPES)
def test_region_sum_equals_the_sum_of_its_pixels_spectra(cube, name):
    mask = shape_mask(SHAPES[name], (cube.nx, cube.ny))
    expected, count = _sum_of_pixel_spectra(cube, mask)
    result = region_spectrum(cube, mask)
    assert result.pixels == count > 5
    np.testing.assert_allclose(result.values, expected, rtol=1e-6)
    np.testing.assert_array_equal(result.axis_cm1, cube.base_axis_cm1)
    mean = region_spectrum(cube, mask, mean=True)
    np.testing.assert_allclose(mean.values, expected / count, rtol=1e-6)


def test_annulus_excludes_its_hole_and_mask_is_x_y(cube):
    mask = shape_mask(SHAPES["annulus"], (cube.nx, cube.ny))
    assert not mask[24, 20] and mask[24 + 5, 20] and mask[24, 20 + 5]
    assert mask.shape == (cube.nx, cube.ny)


def test_uncalibrated_region_is_summed_on_the_base_axis(synthetic_cube_uncalibrated_path):
    with open_cube(synthetic_cube_uncalibrated_path) as cube:
        x, y = 21, 17
        mask = np.zeros((cube.nx, cube.ny), bool)
        mask[x, y] = True
        result = region_spectrum(cube, mask)
        own = cube.spectrum(x, y)
        expected = np.interp(cube.base_axis_cm1, own.axis_cm1, own.values, left=np.nan, right=np.nan)
        np.testing.assert_allclose(result.values[np.isfinite(expected)], expected[np.isfinite(expected)], rtol=1e-6)


def test_ds9_file_with_an_excluded_circle(cube, tmp_path):
    path = tmp_path / "r.reg"
    path.write_text("# Region file format: DS9\nimage\nbox(21,19,11,9,0)\n-circle(21,19,2.5)\n")
    mask = regions_mask(read_regions(path), (cube.nx, cube.ny))
    assert mask[16, 16] and not mask[20, 18]
    assert mask.sum() == 99 - shape_mask(CirclePixelRegion(PixCoord(20, 18), 2.5), (cube.nx, cube.ny)).sum()


def test_region_outside_the_cube_is_one_sentence(cube):
    mask = shape_mask(CirclePixelRegion(PixCoord(500, 500), 3), (cube.nx, cube.ny))
    with pytest.raises(RegionError, match="entirely outside"):
        region_spectrum(cube, mask, description="far.reg")
    nan_only = np.zeros((cube.nx, cube.ny), bool)
    nan_only[0, 0] = True  # the synthetic cube's NaN border
    with pytest.raises(RegionError, match="only NaN"):
        region_spectrum(cube, nan_only)


def test_extract_region_writes_a_spectrum_specutils_reads(cube, synthetic_cube_path, tmp_path):
    from astropy.io import fits
    region = tmp_path / "c.reg"
    region.write_text("image\ncircle(21,19,4)\n")  # DS9 pixels are 1-based: centre (20, 18)
    out = tmp_path / "spec.fits"
    assert main(["extract", str(synthetic_cube_path), "--region", str(region), "-o", str(out)]) == 0
    spectrum = Spectrum.read(out)
    mask = shape_mask(CirclePixelRegion(PixCoord(20, 18), 4), (cube.nx, cube.ny))
    expected, count = _sum_of_pixel_spectra(cube, mask)
    assert spectrum.spectral_axis.unit.to_string() == "1 / cm"
    np.testing.assert_allclose(spectrum.spectral_axis.value, cube.base_axis_cm1)
    assert spectrum.flux.unit.to_string() == "ct"
    np.testing.assert_allclose(spectrum.flux.value, expected, rtol=1e-6)
    header = fits.getheader(out)
    assert header["NPIX"] == count and header["COMBINE"] == "sum" and header["REGION"] == "c.reg"
    assert any("circle" in str(card) for card in header["COMMENT"])


def test_extract_pixel_names_the_pixel_and_its_sky_position(cube, synthetic_cube_path, tmp_path):
    from astropy.io import fits
    out = tmp_path / "pix.fits"
    assert main(["extract", str(synthetic_cube_path), "--pixel", "20", "18", "-o", str(out)]) == 0
    np.testing.assert_allclose(Spectrum.read(out).flux.value, cube.spectrum(20, 18).values)
    header = fits.getheader(out)
    sky = cube.wcs.pixel_to_world(20, 18).icrs
    assert (header["PIXX"], header["PIXY"], header["NPIX"]) == (20, 18, 1)
    assert header["RA"] == pytest.approx(sky.ra.deg) and header["DEC"] == pytest.approx(sky.dec.deg)
    assert pixel_spectrum(cube, 20, 18).pixel == (20, 18)


def test_extract_errors_are_one_line(synthetic_cube_path, tmp_path, capsys):
    region = tmp_path / "bad.reg"
    region.write_text("not a region\n")
    assert main(["extract", str(synthetic_cube_path), "--region", str(region), "-o", str(tmp_path / "o.fits")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mirabelle: error:") and "bad.reg" in err and "\n" not in err
    assert main(["extract", str(synthetic_cube_path), "--pixel", "999", "0", "-o", str(tmp_path / "o.fits")]) == 2
    assert "outside" in capsys.readouterr().err
