"""ORB HDF5 cubes written to the spec by the test read back with the same spectra and axes."""

import tracemalloc

import h5py
import numpy as np
import pytest
from cube_files import (
    M31,
    M31_AXIS_START,
    M31_AXIS_STEP,
    M31_FWHM,
    WCS_KEYS,
    spec_axis,
    spec_fwhm,
    write_orb_cube,
)

from mirabelle.cube import Spectrum, Tile, open_cube
from mirabelle.cube.tiling import aligned_tile, default_tile
from mirabelle.lines import REST_NM


def laser_map(nx, ny, corr_centre=M31["axis_corr"]):
    """Laser map (nm) growing away from the centre, as the off-axis angle does."""
    x, y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    r2 = (x - nx // 2) ** 2 + (y - ny // 2) ** 2
    return M31["nm_laser"] * corr_centre * (1 + 1e-4 * r2)


def test_m31_header_gives_the_reference_axis_fwhm_and_resolution(tmp_path):
    path = tmp_path / "m31.hdf5"
    write_orb_cube(path, nx=2, ny=3, with_base_axis=False)
    with open_cube(path) as cube:
        axis = cube.base_axis_cm1
        assert cube.calibrated and cube.shape == (2, 3, 840)
        assert axis[0] == pytest.approx(M31_AXIS_START, abs=1e-3)
        assert np.diff(axis) == pytest.approx(np.full(839, M31_AXIS_STEP), abs=1e-5)
        assert axis[-1] == pytest.approx(15861.237, abs=2e-3)
        assert cube.fwhm_cm1(1, 2) == pytest.approx(M31_FWHM, abs=1e-3)
        assert cube.resolution(0, 0) == pytest.approx(1e7 / REST_NM["Halpha"] / M31_FWHM, rel=1e-3)
        assert 4700 < cube.resolution(0, 0) < 4900
        assert (cube.step_nm, cube.order, cube.step_nb, cube.zpd_index) == (2943.025792, 8, 840, 168)
        assert cube.exposure_time_s == 13.7 and cube.nm_laser == 543.5
        assert cube.is_sn3 and cube.filter_name == "SN3"


def test_calibrated_complex_cube_round_trips_real_part_on_base_axis(tmp_path):
    path = tmp_path / "calibrated.hdf5"
    real = write_orb_cube(path, first=300, nz=120, calib_map=laser_map(9, 11))
    with open_cube(path) as cube:
        expected_axis = spec_axis(M31["step"], 8, 840, M31["axis_corr"])[300:420]
        assert cube.base_axis_cm1 == pytest.approx(expected_axis, rel=1e-12)
        spectrum = cube.spectrum(4, 6)
        assert isinstance(spectrum, Spectrum) and spectrum.values.dtype == np.float64
        np.testing.assert_array_equal(spectrum.values, real[4, 6].astype(np.float64))
        np.testing.assert_array_equal(spectrum.axis, expected_axis)  # calibrated: base axis everywhere
        np.testing.assert_array_equal(cube.pixel_axis_cm1(0, 0), expected_axis)
        # the line width still follows each pixel's own corr
        corr = laser_map(9, 11) / 543.5
        np.testing.assert_allclose(cube.corr_map(), corr)
        np.testing.assert_allclose(cube.fwhm_map_cm1(), spec_fwhm(M31["step"], 840, 168, corr))
        assert cube.has_calib_map and not cube.has_deep_frame
        assert not any("calibration" in w for w in cube.warnings)


def test_uncalibrated_cube_gives_each_pixel_its_own_axis_from_the_laser_map(tmp_path):
    path = tmp_path / "uncalibrated.hdf5"
    laser = laser_map(9, 11)
    real = write_orb_cube(path, calibrated=False, calib_map=laser, with_base_axis=False)
    with open_cube(path) as cube:
        assert not cube.calibrated
        for x, y in [(0, 0), (4, 5), (8, 10)]:
            corr = laser[x, y] / 543.5
            spectrum = cube.spectrum(x, y)
            np.testing.assert_allclose(spectrum.axis_cm1, spec_axis(M31["step"], 8, 840, corr), rtol=1e-12)
            np.testing.assert_array_equal(spectrum.values, real[x, y])
            assert cube.fwhm_cm1(x, y) == pytest.approx(spec_fwhm(M31["step"], 840, 168, corr))
        # the centre pixel (reference) has the M31 axis
        assert cube.pixel_axis_cm1(4, 5)[0] == pytest.approx(M31_AXIS_START, abs=1e-3)
        assert cube.axis_corr == pytest.approx(M31["axis_corr"])


def test_upper_case_keys_odd_order_and_a_cut_axis(tmp_path):
    path = tmp_path / "upper.hdf5"
    params = dict(M31, order=9, step=2600.0, axis_corr=1.02)  # base_axis at corr 1.02
    laser = laser_map(9, 11, corr_centre=1.02)
    real = write_orb_cube(path, params=params, calibrated=False, calib_map=laser, first=100, nz=200,
                          upper_case=True, filter_name="/data/orb/filters/filter_SN3.hdf5")
    with h5py.File(path, "r") as f:
        assert "STEP" in f.attrs and "step" not in f.attrs and "AXISCORR" not in f.attrs
    with open_cube(path) as cube:
        assert cube.filter_name == "SN3" and cube.order == 9 and cube.step_nm == 2600.0
        assert not cube.calibrated and cube.nz == 200
        corr = laser[2, 9] / 543.5
        expected = spec_axis(2600.0, 9, 840, corr)[100:300]
        np.testing.assert_allclose(cube.pixel_axis_cm1(2, 9), expected, rtol=1e-12)
        np.testing.assert_array_equal(cube.spectrum(2, 9).values, real[2, 9])


def test_uncalibrated_cube_without_laser_map_uses_axis_corr_and_warns(tmp_path):
    path = tmp_path / "nomap.hdf5"
    write_orb_cube(path, nx=3, ny=4, calibrated=False)
    with open_cube(path) as cube:
        assert not cube.has_calib_map
        assert any("no calibration laser map" in w for w in cube.warnings)
        np.testing.assert_allclose(cube.corr_map(), np.full((3, 4), M31["axis_corr"]))
        assert cube.pixel_axis_cm1(2, 3)[0] == pytest.approx(M31_AXIS_START, abs=1e-3)


def test_deep_image_uses_stored_frame_or_sums_chunk_by_chunk_keeping_nan_pixels(tmp_path):
    stored_path, computed_path = tmp_path / "stored.hdf5", tmp_path / "computed.hdf5"
    real = write_orb_cube(stored_path, nz=50, first=400, deep_frame=True)
    values = np.random.default_rng(1).normal(5, 1, (70, 66, 8)).astype(np.float32)
    values[0, :, :] = np.nan          # NaN border column
    values[5, 5, :3] = np.nan         # a few NaN channels
    write_orb_cube(computed_path, nx=70, ny=66, nz=8, first=400, values=values, chunks=(8, 8, 8))
    with open_cube(stored_path) as cube:
        np.testing.assert_allclose(cube.deep_image(), np.nansum(real, axis=2) + 1.0, rtol=1e-6)
    fractions = []
    with open_cube(computed_path) as cube:
        image = cube.deep_image(progress=fractions.append)
        assert image.dtype == np.float32 and image.shape == (70, 66)
        assert np.all(np.isnan(image[0]))
        np.testing.assert_allclose(image[1:], np.nansum(values[1:], axis=2), rtol=1e-5)
        assert not cube.is_valid_pixel(0, 3) and cube.is_valid_pixel(5, 5)
    assert len(fractions) > 1 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_the_stored_deep_frame_reads_alone_as_the_cube_gives_it_and_is_none_otherwise(tmp_path):
    from mirabelle.cube.hdf5 import stored_deep_frame

    stored, computed, broken = tmp_path / "stored.hdf5", tmp_path / "computed.hdf5", tmp_path / "broken.hdf5"
    write_orb_cube(stored, nz=50, first=400, deep_frame=True)
    write_orb_cube(computed, nz=50, first=400)
    write_orb_cube(broken, nz=50, first=400, deep_frame=True)
    with h5py.File(broken, "a") as f:  # a deep frame of another shape is ignored, as the cube ignores it
        del f["deep_frame"]
        f["deep_frame"] = np.ones((3, 3), np.float32)
    with open_cube(stored) as cube:
        expected = cube.deep_image()
    preview = stored_deep_frame(stored)
    assert preview.dtype == np.float32 and np.array_equal(preview, expected)
    (tmp_path / "notes.txt").write_text("not a cube")
    for path in (computed, broken, tmp_path / "notes.txt", tmp_path / "missing.hdf5"):
        assert stored_deep_frame(path) is None


def test_tiles_are_chunk_aligned_cover_every_pixel_once_and_restrict_to_a_band(tmp_path):
    path = tmp_path / "tiles.hdf5"
    real = write_orb_cube(path, nx=23, ny=17, nz=60, first=500, chunks=(4, 3, 20))
    axis = spec_axis(M31["step"], 8, 840, M31["axis_corr"])[500:560]
    with open_cube(path) as cube:
        seen = np.zeros((23, 17), dtype=int)
        for tile in cube.iter_tiles(tile=(6, 5)):
            assert isinstance(tile, Tile)
            assert tile.x0 % 8 == 0 and tile.y0 % 6 == 0        # (6, 5) rounded up to chunks (4, 3)
            assert tile.data.dtype == np.float32
            np.testing.assert_array_equal(tile.data, real[tile.x_slice, tile.y_slice])
            seen[tile.x_slice, tile.y_slice] += 1
        assert np.all(seen == 1)

        band = (axis[10] - 0.1, axis[19] + 0.1)
        tiles = list(cube.iter_tiles(band_cm1=band))
        assert sum(t.data.shape[0] * t.data.shape[1] for t in tiles) == 23 * 17
        for tile in tiles:
            assert tile.channels == slice(10, 20)
            np.testing.assert_array_equal(tile.data, real[tile.x_slice, tile.y_slice, 10:20])
            np.testing.assert_array_equal(cube.tile_axis_cm1(tile), axis[10:20])


def test_uncalibrated_tile_axis_is_per_pixel(tmp_path):
    path = tmp_path / "tiles_uncal.hdf5"
    laser = laser_map(10, 8)
    write_orb_cube(path, nx=10, ny=8, calibrated=False, calib_map=laser, nz=40, first=600, chunks=(5, 4, 40))
    with open_cube(path) as cube:
        band = (15425.0, 15435.0)
        tile = next(cube.iter_tiles(band_cm1=band))
        axes = cube.tile_axis_cm1(tile)
        assert axes.shape == tile.data.shape
        np.testing.assert_allclose(axes[1, 2], cube.pixel_axis_cm1(tile.x0 + 1, tile.y0 + 2)[tile.channels])
        # the channel range is the union over pixels of the channels inside the band
        every = np.array([[cube.pixel_axis_cm1(x, y) for y in range(8)] for x in range(10)])
        inside = ((every >= band[0]) & (every <= band[1])).any(axis=(0, 1))
        assert tile.channels == slice(np.flatnonzero(inside)[0], np.flatnonzero(inside)[-1] + 1)


def test_bright_pixel_keeps_its_place_in_spectrum_deep_image_and_sky(tmp_path):
    path = tmp_path / "orientation.hdf5"
    values = np.ones((9, 11, 30), dtype=np.float32)
    values[3, 7, :] = 100.0
    write_orb_cube(path, values=values, nz=30, first=400)
    with open_cube(path) as cube:
        assert cube.spectrum(3, 7).values.max() == 100.0
        assert cube.spectrum(7, 3).values.max() == 1.0
        image = cube.deep_image()
        assert np.unravel_index(np.argmax(image), image.shape) == (3, 7)
        sky = cube.wcs.pixel_to_world(3, 7)   # WCS_KEYS put CRPIX (1-based 4, 8) at pixel (3, 7)
        assert sky.ra.deg == pytest.approx(WCS_KEYS["CRVAL1"], abs=1e-9)
        assert sky.dec.deg == pytest.approx(WCS_KEYS["CRVAL2"], abs=1e-9)
        east = cube.wcs.pixel_to_world(4, 7)  # CDELT1 < 0: x grows to the west
        assert east.ra.deg < sky.ra.deg and east.dec.deg == pytest.approx(sky.dec.deg, abs=1e-6)


def test_optional_parameters_and_old_style_header_cards(tmp_path):
    path = tmp_path / "old_header.hdf5"
    write_orb_cube(path, nx=4, ny=4, nz=20, first=0, with_base_axis=False,
                   drop=("step", "order", "zpd_index"), params=dict(M31, step_nb=20),
                   extra_attrs={"flambda": np.linspace(1, 2, 20), "binning": 2, "apodization": 1.5})
    cards = [("STEP", "2943.025792", "step nm", "<class 'float'>"),
             ("ORDER", "8", "order", "<class 'int'>"),
             ("ZPDINDEX", "4", "zpd", "<class 'int'>")]
    with h5py.File(path, "a") as f:
        f.create_dataset("header", data=np.array(cards, dtype="S300"))
    with open_cube(path) as cube:
        assert (cube.step_nm, cube.order, cube.zpd_index) == (2943.025792, 8, 4)
        assert cube.binning == 2 and cube.apodization == 1.5
        np.testing.assert_allclose(cube.flambda, np.linspace(1, 2, 20))
        assert cube.fwhm_cm1(0, 0) == pytest.approx(spec_fwhm(2943.025792, 20, 4, M31["axis_corr"], 1.5))


def test_a_detector_sized_cube_opens_without_reading_its_data(tmp_path):
    path = tmp_path / "big.hdf5"
    with h5py.File(path, "w") as f:  # 28 GB of complex64 declared, no chunk written
        f.create_dataset("data", shape=(2048, 2064, 840), dtype=np.complex64, chunks=True,
                         fillvalue=np.complex64(complex(np.nan, 0)))
        for key, value in dict(M31, filter_name="SN3", **WCS_KEYS).items():
            f.attrs[key] = value
        f.attrs["base_axis"] = spec_axis(M31["step"], 8, 840, M31["axis_corr"])
    tracemalloc.start()  # numpy reports its buffers here: reading the data would need 28 GB
    try:
        with open_cube(path) as cube:
            assert cube.shape == (2048, 2064, 840) and cube.binning == 1
            assert np.isnan(cube.spectrum(1000, 2000).values).all()
            assert cube.resolution_map().shape == (2048, 2064)
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak_bytes < 200e6


@pytest.mark.parametrize("chunk, expected", [
    ((32, 65), (64, 65)),      # h5py's automatic chunks of a 2048 x 2064 x 840 cube
    ((1, 2064), (2, 2064)),    # contiguous HDF5: rows of spectra
    ((2048, 1), (2048, 2)),    # FITS: image rows in every plane
    ((128, 128), (128, 128)),  # big chunks: one per tile
])
def test_default_tiles_are_whole_chunks_of_about_4096_pixels(chunk, expected):
    assert default_tile(chunk, (2048, 2064)) == expected
    assert aligned_tile((50, 50), chunk)[0] % chunk[0] == 0
