"""ORCS prior export: orientation, WCS, NaN-free priors, estimate files, flags, refusals, atomicity."""

import errno
import json
import os

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from regions import PixCoord, Regions

from mirabelle.cube import open_cube
from mirabelle.errors import ExportError
from mirabelle.export import staging
from mirabelle.export.priors import BROADENING_FLOOR_KMS, write_priors
from mirabelle.inference import maps as quality
from mirabelle.inference.maps import KinematicMaps
from mirabelle.synthetic import write_synthetic_cube

NX, NY = 16, 12


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "cube.hdf5"
    write_synthetic_cube(path, NX, NY, seed=2)
    return path


@pytest.fixture
def cube(cube_path):
    with open_cube(cube_path) as opened:
        yield opened


def _maps():
    maps = KinematicMaps.empty(NX, NY, model_name="sn3-test", model_version="1.2", model_sha256="f" * 64)
    x, y = np.meshgrid(np.arange(NX), np.arange(NY), indexing="ij")
    maps.velocity[:] = -100.0 + x + 0.01 * y
    maps.broadening[:] = 20.0
    maps.broadening[0, 0] = 0.0  # below the floor
    maps.velocity_err[:] = 3.0
    maps.broadening_err[:] = 4.0
    maps.snr_halpha[:] = 12.0
    maps.amplitudes[:] = 1.0
    maps.fluxes[:] = 2.0
    maps.double_score[:] = 0.1
    maps.double_offset[:] = 70.0
    maps.done[:] = True
    maps.velocity[3, 7] = 250.0  # the bright pixel
    maps.quality[10:12, 4:6] = quality.NO_LINE
    maps.velocity[10:12, 4:6] = np.nan
    return maps


def test_bright_pixel_lands_at_fits_row_y_column_x_with_the_cube_wcs(cube, tmp_path):
    write_priors(_maps(), cube, tmp_path / "out")
    with fits.open(tmp_path / "out" / "velocity.fits") as hdul:
        data, header = hdul[0].data, hdul[0].header
    assert data.shape == (NY, NX) and header["NAXIS1"] == NX
    assert data[7, 3] == 250.0 and np.argmax(data) == np.ravel_multi_index((7, 3), data.shape)
    assert header["BUNIT"] == "km/s"
    assert header["MODEL"] == "sn3-test" and header["MODELVER"] == "1.2" and header["MODELSHA"] == "f" * 64
    assert header["CUBE"] == "cube.hdf5" and "DATE" in header
    expected = cube.wcs.pixel_to_world(3, 7)
    found = WCS(header).pixel_to_world(3, 7)
    assert expected.separation(found).arcsec < 1e-3


def test_priors_are_nan_free_with_the_validity_mask_and_floor(cube, tmp_path):
    summary = write_priors(_maps(), cube, tmp_path / "out")
    out = tmp_path / "out"
    for name in ("velocity", "broadening", "velocity_err", "broadening_err"):
        assert np.isfinite(fits.getdata(out / f"{name}.fits")).all(), name
    valid = fits.getdata(out / "valid_mask.fits")
    assert valid.dtype == np.uint8 and valid[5, 10] == 0 and valid.sum() == NX * NY - 4
    velocity = fits.getdata(out / "velocity.fits")
    assert velocity[5, 10] == pytest.approx(-100.0 + 10 + 0.01 * 5, abs=1.1)  # nearest valid neighbour
    assert fits.getdata(out / "broadening.fits").min() == BROADENING_FLOOR_KMS
    estimate = fits.getdata(out / "synthetic_SN3.SpectralCube.estimated_velocity.0.fits")
    assert np.isnan(estimate[5, 10]) and np.isfinite(estimate[valid == 1]).all()
    assert not (out / "synthetic_SN3.SpectralCube.estimated_velocity.1.fits").exists()
    assert summary["pixels"]["valid"] == NX * NY - 4 and summary["quality_counts"]["no_line"] == 4
    assert json.loads((out / "summary.json").read_text())["model"]["name"] == "sn3-test"
    readme = (out / "README.txt").read_text()
    assert "fit_lines_in_region(" in readme and "fit_lines_in_region_from_estimate(1" in readme
    assert fits.getdata(out / "flux_Halpha.fits").shape == (NY, NX)
    assert not list(out.glob(".*partial"))


def test_flags_give_a_second_velocity_and_ds9_regions_in_sky_coordinates(cube, tmp_path):
    flags = np.zeros((NX, NY), bool)
    flags[2:5, 6:9] = True
    flags[10, 4] = True  # flagged but without a valid prior
    write_priors(_maps(), cube, tmp_path / "out", flags=flags)
    out = tmp_path / "out"
    second = fits.getdata(out / "synthetic_SN3.SpectralCube.estimated_velocity.1.fits")
    first = fits.getdata(out / "synthetic_SN3.SpectralCube.estimated_velocity.0.fits")
    assert np.isfinite(second).sum() == 9
    assert second[7, 3] == pytest.approx(250.0 + 70.0)
    assert np.isfinite(first[np.isfinite(second)]).all()  # ORCS needs component 0 wherever 1 is defined
    mask = fits.getdata(out / "flags_double.fits")
    assert mask[7, 3] == 1 and mask.sum() == 10
    shapes = Regions.read(str(out / "flags_double.reg"), format="ds9")
    assert len(shapes) == 2 and hasattr(shapes[0], "vertices") and hasattr(shapes[0].vertices, "ra")
    pixel = shapes[0].to_pixel(cube.wcs)
    assert pixel.contains(PixCoord(3, 7))
    assert "fit_lines_in_region_from_estimate(2" in (out / "README.txt").read_text()


def test_existing_files_are_not_overwritten_unless_asked(cube, tmp_path):
    out = tmp_path / "out"
    write_priors(_maps(), cube, out)
    before = (out / "velocity.fits").read_bytes()
    with pytest.raises(ExportError, match="velocity.fits"):
        write_priors(_maps(), cube, out)
    assert (out / "velocity.fits").read_bytes() == before
    maps = _maps()
    maps.velocity[3, 7] = 99.0
    write_priors(maps, cube, out, overwrite=True)
    assert fits.getdata(out / "velocity.fits")[7, 3] == 99.0


def test_a_full_disk_leaves_nothing_behind(cube, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real_fdopen = staging.os.fdopen
    calls = []

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, payload):
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(handle, mode):
        calls.append(handle)
        stream = real_fdopen(handle, mode)
        return FullDisk(stream) if len(calls) >= 4 else stream

    monkeypatch.setattr(staging.os, "fdopen", fdopen)
    with pytest.raises(ExportError, match="No space left"):
        write_priors(_maps(), cube, out)
    assert os.listdir(tmp_path) == []  # neither the folder nor its staging folder


def test_unwritable_folder_and_empty_maps_are_refused(cube, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="folder"):
        write_priors(_maps(), cube, blocker / "out")
    with pytest.raises(ExportError, match="valid prior"):
        write_priors(KinematicMaps.empty(NX, NY), cube, tmp_path / "empty")
