"""ORB/ORCS one-spectrum HDF5 files open as 1 × 1 cubes, for `info`, `predict` and the runner."""

import json

import h5py
import numpy as np
import pytest
from astropy.io import fits
from inference_models import make_card, write_model

from mirabelle import lines
from mirabelle.cli import main
from mirabelle.cube import open_cube
from mirabelle.inference.model import load_model
from mirabelle.inference.runner import run_cube
from mirabelle.lines.fast import fast_line_templates

# The layout of ORB's example spectra (values like M57's, R ≈ 2650), written with h5py only.
STEP, ORDER, STEP_NB, ZPD, CORR = 2880.879435, 8, 593, 215, 1.0366454628924218


def write_one_spectrum(path, velocity=-20.0, broadening=15.0, edge=12, scale=1e-17):
    k = np.arange(STEP_NB)
    axis = CORR * 1e7 / (2 * STEP) * (ORDER + k / STEP_NB)
    fwhm = 1.20671 / (2 * STEP * (STEP_NB - ZPD) * 1e-7) * CORR
    amplitudes = np.array([[1.0, 5.0, 3.0, 0.8, 0.7]])
    spectrum = np.einsum("lk,l->k", fast_line_templates(axis, np.array([velocity]), np.array([broadening]),
                                                        np.array([fwhm]))[0, 0], amplitudes[0])
    spectrum = (spectrum + 0.2 + np.random.default_rng(0).normal(0, 0.05, axis.size)) * scale
    spectrum[:edge] = 0.0
    spectrum[-edge:] = 0.0
    with h5py.File(path, "w") as f:
        f.create_dataset("axis", data=axis)
        f.create_dataset("data", data=spectrum.astype(np.complex128))
        f.create_dataset("err", data=np.full(axis.size, 1.2e-15))
        f.attrs.update(dict(step=STEP, order=ORDER, step_nb=STEP_NB, zpd_index=ZPD, axis_corr=CORR,
                            apodization=1.0, nm_laser=543.5, flambda=8.2e-17, pixels=1, BUNIT="FLUX",
                            filter_name="/home/someone/orb/data/filter_SN3.hdf5", object_name="M57",
                            CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRPIX1=1024.0, CRPIX2=1032.0,
                            CRVAL1=283.36858, CRVAL2=33.04622, CDELT1=-8.9e-5, CDELT2=8.9e-5,
                            CUNIT1="deg", CUNIT2="deg", target_x=1023.0, target_y=1031.0,
                            obs_date=np.array([2015, 8, 8]), hour_ut=np.array([7.0, 30.0, 0.0])))
    return axis, fwhm


def test_one_spectrum_file_opens_as_a_1x1_cube(tmp_path):
    path = tmp_path / "spectrum.hdf5"
    axis, fwhm = write_one_spectrum(path, edge=12)
    with open_cube(path) as cube:
        assert cube.shape == (1, 1, STEP_NB) and cube.filter_name == "SN3" and cube.calibrated
        np.testing.assert_allclose(cube.base_axis_cm1, axis)
        assert cube.fwhm_cm1(0, 0) == pytest.approx(fwhm, rel=1e-9)
        assert cube.resolution(0, 0) == pytest.approx(2653, abs=2)
        spectrum = cube.spectrum(0, 0)
        assert np.isnan(spectrum.values[:12]).all() and np.isnan(spectrum.values[-12:]).all()
        assert np.isfinite(spectrum.values[12:-12]).all()
        tiles = list(cube.iter_tiles())
        assert len(tiles) == 1 and tiles[0].data.shape == (1, 1, STEP_NB)
        sky = cube.wcs.pixel_to_world(0, 0)  # pixel (0, 0) is the region's detector pixel
        assert sky.ra.deg == pytest.approx(283.36858, abs=1e-6) and sky.dec.deg == pytest.approx(33.04622, abs=1e-6)
        with pytest.raises(Exception, match="outside"):
            cube.spectrum(1, 0)


def test_runner_and_predict_on_a_one_spectrum_file(tmp_path, capsys):
    path = tmp_path / "m57_like.hdf5"
    write_one_spectrum(path)
    card = make_card("test-r2650", resolution_range=(2400.0, 2900.0))
    model_path = write_model(tmp_path / "models", "test-r2650", kinematics=(-20.0, 15.0, 2.0, 3.0), card=card)
    with open_cube(path) as cube:
        maps = list(run_cube(cube, load_model(model_path, threads=1)))[-1].maps
    assert maps.valid_mask()[0, 0] and maps.snr_halpha[0, 0] > 20
    assert maps.amplitudes[0, 0, 1] / maps.amplitudes[0, 0, 2] == pytest.approx(5.0 / 3.0, rel=0.05)

    code = main(["predict", str(path), "-o", str(tmp_path / "out"), "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    folder = tmp_path / "out" / "m57_like_priors"
    assert fits.getdata(folder / "velocity.fits").shape == (1, 1)
    assert json.loads((folder / "summary.json").read_text())["pixels"]["valid"] == 1


def test_info_prints_a_one_spectrum_file(tmp_path, capsys):
    path = tmp_path / "spectrum.hdf5"
    write_one_spectrum(path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "one-spectrum" in out and "1 × 1 pixels × 593 channels" in out and "R = 2653" in out


def test_mismatched_axis_and_data_is_one_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("axis", data=np.linspace(14400, 16000, 100))
        f.create_dataset("data", data=np.zeros(90, complex))
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.hdf5" in err and "same length" in err and "Traceback" not in err
