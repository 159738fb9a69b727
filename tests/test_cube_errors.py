"""Every kind of bad input gives a CubeError that names the file and the problem."""

import gzip

import h5py
import numpy as np
import pytest
from astropy.io import fits
from cube_files import write_fits_cube, write_orb_cube

from mirabelle.cube import open_cube
from mirabelle.errors import CubeError


def assert_cube_error(path, *fragments):
    with pytest.raises(CubeError) as info:
        open_cube(path).close()
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_empty_and_foreign_files(tmp_path):
    assert_cube_error(tmp_path / "nope.hdf5", "does not exist")
    assert_cube_error(tmp_path, "is not a file")
    (tmp_path / "empty.hdf5").write_bytes(b"")
    assert_cube_error(tmp_path / "empty.hdf5", "is empty")
    (tmp_path / "notes.txt").write_text("hello, not a cube")
    assert_cube_error(tmp_path / "notes.txt", "neither an HDF5 nor a FITS file")
    (tmp_path / "cube.fits.gz").write_bytes(gzip.compress(b"SIMPLE  = T"))
    assert_cube_error(tmp_path / "cube.fits.gz", "gzip-compressed")


def test_truncated_hdf5_and_fits(tmp_path):
    h5 = tmp_path / "cut.hdf5"
    write_orb_cube(h5, nz=100, first=0)
    h5.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])
    assert_cube_error(h5, "truncated or corrupt")
    fit = tmp_path / "cut.fits"
    write_fits_cube(fit, np.ones((5, 6, 50), np.float32),
                    dict(CTYPE3="WAVN", CUNIT3="cm-1", CRVAL3=15000.0, CDELT3=2.0))
    fit.write_bytes(fit.read_bytes()[:5000])
    assert_cube_error(fit, "truncated")


def test_two_dimensional_data(tmp_path):
    h5 = tmp_path / "image.hdf5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("data", data=np.ones((4, 5)))
        f.attrs["step"], f.attrs["order"] = 2943.0, 8
    assert_cube_error(h5, "2-D data", "3-D")
    fit = tmp_path / "image.fits"
    fits.PrimaryHDU(np.ones((5, 4), np.float32)).writeto(fit)
    assert_cube_error(fit, "2-D image data", "3-D cube")


def test_hdf5_without_data_and_orb_level1_cubes(tmp_path):
    other = tmp_path / "other.hdf5"
    with h5py.File(other, "w") as f:
        f.create_dataset("table", data=np.arange(3))
    assert_cube_error(other, "no 'data' dataset", "table")
    level1 = tmp_path / "level1.hdf5"
    with h5py.File(level1, "w") as f:
        f.create_dataset("frame00000", data=np.ones((4, 4)))
        f.create_dataset("frame_header_0", data=np.array([b"x"]))
    assert_cube_error(level1, "level-1", "export it with ORB first")


@pytest.mark.parametrize("key", ["step", "order"])
def test_missing_step_or_order_is_named(tmp_path, key):
    path = tmp_path / f"no_{key}.hdf5"
    write_orb_cube(path, nx=2, ny=2, nz=10, drop=(key,))
    message = assert_cube_error(path, f"{key} / {key.upper()}")
    upper = tmp_path / f"no_{key}_upper.hdf5"
    write_orb_cube(upper, nx=2, ny=2, nz=10, drop=(key,), upper_case=True)
    assert assert_cube_error(upper) == message.replace(str(path), str(upper))


def test_inconsistent_parameters(tmp_path):
    bad_step = tmp_path / "bad_step.hdf5"
    write_orb_cube(bad_step, nx=2, ny=2, nz=10, extra_attrs={"step": "abc"})
    assert_cube_error(bad_step, "step = 'abc'", "number")
    no_axis = tmp_path / "no_axis.hdf5"
    write_orb_cube(no_axis, nx=2, ny=2, nz=10, with_base_axis=False)
    assert_cube_error(no_axis, "10 of 840 channels", "base_axis")
    short_axis = tmp_path / "short_axis.hdf5"
    write_orb_cube(short_axis, nx=2, ny=2, nz=10, extra_attrs={"base_axis": np.arange(5.0)})
    assert_cube_error(short_axis, "base_axis of 5 values for 10 channels")
    no_spectral = tmp_path / "no_spectral.fits"
    write_fits_cube(no_spectral, np.ones((3, 3, 4), np.float32), dict(CTYPE3="STOKES", CRVAL3=1.0, CDELT3=1.0))
    assert_cube_error(no_spectral, "not a spectral axis")


def test_sn1_cube_opens_but_is_not_sn3(tmp_path):
    path = tmp_path / "sn1.hdf5"
    write_orb_cube(path, nx=2, ny=2, nz=10, filter_name="filter_SN1.hdf5")
    with open_cube(path) as cube:
        assert cube.filter_name == "SN1" and not cube.is_sn3


def test_nan_pixels_read_as_nan_and_an_all_nan_cube_has_no_deep_image(tmp_path):
    path = tmp_path / "nan.hdf5"
    write_orb_cube(path, nx=3, ny=4, nz=10, values=np.full((3, 4, 10), np.nan, np.float32))
    with open_cube(path) as cube:
        spectrum = cube.spectrum(1, 1)
        assert np.isnan(spectrum.values).all() and not spectrum.is_valid
        with pytest.raises(CubeError, match="no valid pixel: every spectrum is NaN") as info:
            cube.deep_image()
        assert str(path) in str(info.value)


def test_bad_requests_on_an_open_cube(tmp_path):
    path = tmp_path / "ok.hdf5"
    write_orb_cube(path, nx=3, ny=4, nz=10)
    cube = open_cube(path)
    with pytest.raises(CubeError, match=r"pixel \(3, 0\) is outside ok.hdf5"):
        cube.spectrum(3, 0)
    with pytest.raises(CubeError, match="no channel in the band 1000.00–2000.00 cm-1"):
        next(cube.iter_tiles(band_cm1=(2000, 1000)))
    cube.close()
    with pytest.raises(CubeError, match="was closed"):
        cube.spectrum(0, 0)


def test_corrupt_chunk_is_reported_on_read(tmp_path):
    path = tmp_path / "corrupt.hdf5"
    write_orb_cube(path, nx=2, ny=2, nz=10)
    with h5py.File(path, "a") as f:  # replace data by a compressed one with two chunks
        del f["data"]
        f.create_dataset("data", data=np.ones((8, 4, 10), np.complex64), chunks=(4, 4, 10), compression="gzip")
    with h5py.File(path, "r") as f:
        chunk = f["data"].id.get_chunk_info(1)
    raw = bytearray(path.read_bytes())
    raw[chunk.byte_offset:chunk.byte_offset + chunk.size] = b"\xff" * chunk.size
    path.write_bytes(bytes(raw))
    with open_cube(path) as cube:
        assert cube.spectrum(1, 1).values[0] == 1.0
        with pytest.raises(CubeError, match=r"cannot read pixel \(5, 1\); the file is truncated or corrupt") as info:
            cube.spectrum(5, 1)
        assert str(path) in str(info.value)
