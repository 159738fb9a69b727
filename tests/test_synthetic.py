"""Synthetic cubes: ORB layout read with plain h5py, spectra equal to the line model, truth."""

import h5py
import numpy as np
import pytest
from astropy.wcs import WCS
from conftest import SYNTHETIC

from mirabelle.lines import (
    NII_AMPLITUDE_RATIO,
    REST_NM,
    SN3_BAND_NM,
    axis_cm1,
    model_spectrum,
    sinc_fwhm_cm1,
)
from mirabelle.synthetic import read_truth, write_synthetic_cube
from mirabelle.synthetic import writer as synthetic_writer

HALPHA_CM1 = 1e7 / REST_NM["Halpha"]
BAND_CM1 = (1e7 / SN3_BAND_NM[1], 1e7 / SN3_BAND_NM[0])
REQUIRED_ATTRS = ("step", "order", "step_nb", "zpd_index", "nm_laser", "filter_name", "filter_nm_min",
                  "filter_nm_max", "filter_cm1_min", "filter_cm1_max", "base_axis", "exposure_time",
                  "apodization", "wavenumber", "wavenumber_calibration", "flambda", "object_name",
                  "project_name", "instrument", "binning", "CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1",
                  "CRVAL2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2", "CUNIT1", "CUNIT2",
                  "RADESYS", "EQUINOX")


@pytest.fixture(scope="module")
def noise_free(tmp_path_factory):
    """Noise-free calibrated and uncalibrated versions of the shared scene: {calibrated: path}."""
    folder = tmp_path_factory.mktemp("noise_free")
    paths = {}
    for calibrated in (True, False):
        paths[calibrated] = folder / f"cube_{calibrated}.hdf5"
        write_synthetic_cube(paths[calibrated], calibrated=calibrated, noise=False, **SYNTHETIC)
    return paths


def _pixel_axis(f, corr):
    """Axis of a pixel from the file's attributes, per the spec (not via mirabelle.cube)."""
    a = f.attrs
    if "axis_corr" in a:
        return a["base_axis"]
    full = axis_cm1(a["step"], a["order"], a["step_nb"], corr)
    # locate the first kept channel from base_axis and its step
    unit = axis_cm1(a["step"], a["order"], a["step_nb"], 1.0)
    corr_ref = (a["base_axis"][1] - a["base_axis"][0]) / (unit[1] - unit[0])
    start = int(round((a["base_axis"][0] / corr_ref - unit[0]) / (unit[1] - unit[0])))
    return full[start:start + a["base_axis"].size]


def _model(f, truth, x, y):
    corr = truth.corr[x, y]
    axis = _pixel_axis(f, corr)
    fwhm = float(sinc_fwhm_cm1(f.attrs["step"], f.attrs["step_nb"], f.attrs["zpd_index"], corr))
    velocity, broadening, amplitudes = [truth.velocity[x, y]], [truth.broadening[x, y]], [truth.amplitudes[x, y]]
    if truth.double[x, y]:
        velocity.append(truth.velocity2[x, y])
        broadening.append(truth.broadening2[x, y])
        amplitudes.append(truth.amplitudes2[x, y])
    return axis, model_spectrum(axis, velocity, broadening, fwhm, np.array(amplitudes), (truth.continuum[x, y],))


@pytest.mark.parametrize("calibrated", [True, False])
def test_orb_layout_and_attributes(synthetic_cube_path, synthetic_cube_uncalibrated_path, calibrated):
    path = synthetic_cube_path if calibrated else synthetic_cube_uncalibrated_path
    nx, ny = SYNTHETIC["nx"], SYNTHETIC["ny"]
    with h5py.File(path, "r") as f:
        a = f.attrs
        for key in REQUIRED_ATTRS:
            assert key in a, key
        data = f["data"]
        assert data.chunks is not None
        assert data.dtype == (np.complex64 if calibrated else np.float32)
        nz = data.shape[2]
        assert data.shape[:2] == (nx, ny) and nz < a["step_nb"]
        assert ("axis_corr" in a) == calibrated
        assert bool(a["wavenumber_calibration"]) == calibrated
        assert a["order"] == 8 and a["nm_laser"] == 543.5 and a["filter_name"] == "SN3"
        assert a["instrument"] == "sitelle" and a["apodization"] == 1.0
        assert a["zpd_index"] == round(0.2 * a["step_nb"])
        base = a["base_axis"]
        assert base.shape == (nz,) and a["flambda"].shape == (nz,)
        # base_axis is a run of channels of the interferometer axis at corr_ref
        unit = axis_cm1(a["step"], a["order"], a["step_nb"], 1.0)
        corr_ref = a["axis_corr"] if calibrated else (base[1] - base[0]) / (unit[1] - unit[0])
        full = corr_ref * unit
        start = int(np.argmin(np.abs(full - base[0])))
        np.testing.assert_allclose(base, full[start:start + nz], rtol=1e-12)
        assert base[0] <= BAND_CM1[0] + (base[1] - base[0]) and base[-1] >= BAND_CM1[1] - (base[1] - base[0])
        # the line FWHM at the centre gives the requested resolution
        fwhm = sinc_fwhm_cm1(a["step"], a["step_nb"], a["zpd_index"], corr_ref)
        assert HALPHA_CM1 / fwhm == pytest.approx(SYNTHETIC["resolution"], rel=0.01)
        # laser map: 1/cos θ with θ between 9.5° (centre) and 15.5° (corners)
        corr = f["calib_map"][()] / a["nm_laser"]
        assert corr.shape == (nx, ny)
        assert 1 / np.cos(np.radians(9.5)) - 1e-6 <= corr.min() < corr[nx // 2, ny // 2] + 1e-4
        assert corr.max() <= 1 / np.cos(np.radians(15.5)) and corr.max() > corr.min() + 0.01
        assert corr[0, 0] > corr[nx // 2, ny // 2]
        assert f["deep_frame"].shape == (nx, ny) and f["mask"].shape == (nx, ny)
        wcs = WCS({k: a[k] for k in REQUIRED_ATTRS if k[:2] in ("CT", "CR", "PC", "CD", "CU", "RA", "EQ")})
        centre = wcs.pixel_to_world(nx / 2 - 0.5, ny / 2 - 0.5)
        assert centre.ra.deg == pytest.approx(23.462, abs=1e-3) and centre.dec.deg == pytest.approx(30.660, abs=1e-3)


@pytest.mark.parametrize("calibrated", [True, False])
def test_noise_free_spectra_equal_the_line_model(noise_free, calibrated):
    truth = read_truth(noise_free[calibrated])
    rng = np.random.default_rng(0)
    singles = np.argwhere(truth.valid & ~truth.double)
    doubles = np.argwhere(truth.double)
    pixels = np.concatenate([singles[rng.choice(len(singles), 6)], doubles[rng.choice(len(doubles), 6)]])
    with h5py.File(noise_free[calibrated], "r") as f:
        for x, y in pixels:
            axis, model = _model(f, truth, x, y)
            stored = f["data"][x, y]
            peak = truth.amplitudes[x, y].max()
            np.testing.assert_allclose(stored.real, model, atol=2e-4 * peak + 1e-6 * np.abs(model).max())
            if calibrated:
                assert np.all(stored.imag == 0)
            # Hα of component 1 is where the velocity puts it
            lines = np.abs(axis - HALPHA_CM1 * np.sqrt((1 - truth.velocity[x, y] / 299792.458)
                                                       / (1 + truth.velocity[x, y] / 299792.458)))
            assert lines.min() < axis[1] - axis[0]


def test_noise_level_and_snr(synthetic_cube_path, noise_free):
    truth = read_truth(synthetic_cube_path)
    with h5py.File(synthetic_cube_path, "r") as f, h5py.File(noise_free[True], "r") as g:
        residual = f["data"][10:30, 10:30].real - g["data"][10:30, 10:30].real
        imag = f["data"][10:30, 10:30].imag
    assert np.nanstd(residual) == pytest.approx(truth.noise_sigma, rel=0.03)
    assert np.nanstd(imag) == pytest.approx(truth.noise_sigma, rel=0.03)
    assert np.median(truth.snr_map[truth.valid]) == pytest.approx(SYNTHETIC["snr"], rel=1e-4)
    assert truth.snr == SYNTHETIC["snr"] and truth.seed == SYNTHETIC["seed"]


def test_nan_borders(synthetic_cube_path):
    truth = read_truth(synthetic_cube_path)
    with h5py.File(synthetic_cube_path, "r") as f:
        data = f["data"][()]
        deep = f["deep_frame"][()]
        mask = f["mask"][()]
    assert not truth.valid[0].any() and not truth.valid[:, -1].any()
    assert np.all(np.isnan(data[~truth.valid].real))
    assert np.all(np.isfinite(data[truth.valid]))
    assert np.array_equal(np.isfinite(deep), truth.valid) and np.array_equal(mask, truth.valid)
    assert 0.7 < truth.valid.mean() < 0.95


def test_physics_of_the_scene(synthetic_cube_path):
    t = read_truth(synthetic_cube_path)
    v = t.valid
    amps = t.amplitudes[v]
    halpha = amps[:, 1]
    assert np.all(halpha > 0)
    nii = amps[:, 2] / halpha
    assert 0.1 - 1e-6 <= nii.min() and nii.max() <= 0.6 + 1e-6
    np.testing.assert_allclose(amps[:, 0] * NII_AMPLITUDE_RATIO, amps[:, 2], rtol=1e-6)
    doublet = amps[:, 3] / amps[:, 4]
    assert 1.0 - 1e-6 <= doublet.min() and doublet.max() <= 1.45 + 1e-6
    # [SII]/Hα is higher in the diffuse gas than in the brightest HII regions
    sii = (amps[:, 3] + amps[:, 4]) / halpha
    bright = halpha > np.percentile(halpha, 90)
    faint = halpha < np.percentile(halpha, 30)
    assert sii[faint].mean() > sii[bright].mean() + 0.1
    assert 10 <= t.broadening[v].min() and t.broadening[v].max() <= 50
    # a rotating disk around the systemic velocity
    assert np.median(t.velocity[v]) == pytest.approx(-180, abs=30)
    assert 120 < np.ptp(t.velocity[v]) < 260
    # double components: present, offset 60-150 km/s, fainter, absent elsewhere
    assert t.double.sum() >= 20 and not (t.double & ~v).any()
    offset = np.abs(t.velocity2 - t.velocity)[t.double]
    assert offset.min() >= 60 - 1e-3 and offset.max() <= 150 + 1e-3
    assert np.all(t.amplitudes2[t.double][:, 1] < t.amplitudes[t.double][:, 1])
    assert np.all(t.amplitudes2[~t.double] == 0) and np.all(np.isnan(t.velocity2[~t.double]))
    assert 20 <= np.nanmin(t.broadening2) and np.nanmax(t.broadening2) <= 50


def test_tiles_do_not_change_the_cube(tmp_path, noise_free, monkeypatch):
    monkeypatch.setattr(synthetic_writer, "WORK_BYTES", 2e5)  # many small tiles
    path = tmp_path / "tiled.hdf5"
    fractions = []
    write_synthetic_cube(path, calibrated=True, noise=False, progress=fractions.append, **SYNTHETIC)
    assert len(fractions) > 4 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    with h5py.File(path, "r") as f, h5py.File(noise_free[True], "r") as g:
        np.testing.assert_array_equal(f["data"][()], g["data"][()])


def test_seed_and_dimz_options(tmp_path):
    a = write_synthetic_cube(tmp_path / "a.hdf5", nx=20, ny=16, seed=3, resolution=2000.0, dimz=900)
    b = write_synthetic_cube(tmp_path / "b.hdf5", nx=20, ny=16, seed=4, resolution=2000.0)
    assert not np.allclose(a.velocity, b.velocity)
    assert a.resolution == pytest.approx(2000.0, rel=0.01)
    with h5py.File(tmp_path / "a.hdf5", "r") as f:
        assert f["data"].shape[2] == f.attrs["step_nb"]  # dimz beyond step_nb keeps the whole axis
    with h5py.File(tmp_path / "b.hdf5", "r") as f:
        assert f["data"].shape[2] < f.attrs["step_nb"]
    c = write_synthetic_cube(tmp_path / "c.hdf5", nx=12, ny=10, step_nb=840, dimz=840, calibrated=False)
    with h5py.File(tmp_path / "c.hdf5", "r") as f:
        assert f["data"].shape == (12, 10, 840) and f.attrs["step_nb"] == 840 and f.attrs["zpd_index"] == 168
    assert c.resolution == pytest.approx(4814 * 1.0374712 / c.corr[6, 5], rel=1e-3)  # R of the M31 header


def test_read_truth_equals_returned_truth(tmp_path):
    truth = write_synthetic_cube(tmp_path / "c.hdf5", nx=16, ny=12, seed=2)
    again = read_truth(tmp_path / "c.hdf5")
    for name in ("velocity", "broadening", "velocity2", "amplitudes", "amplitudes2", "double", "valid", "corr"):
        np.testing.assert_array_equal(getattr(again, name), getattr(truth, name))
    assert again.noise_sigma == truth.noise_sigma and again.resolution == truth.resolution


@pytest.mark.parametrize("calibrated", [True, False])
def test_round_trip_through_open_cube(synthetic_cube_path, synthetic_cube_uncalibrated_path, calibrated):
    from mirabelle.cube import open_cube

    path = synthetic_cube_path if calibrated else synthetic_cube_uncalibrated_path
    truth = read_truth(path)
    pixels = [(5, 7), (24, 20), (40, 30)]
    with h5py.File(path, "r") as f:  # read first: HDF5 refuses a second open with other locking flags
        a = dict(f.attrs)
        shape = f["data"].shape
        axes = [_pixel_axis(f, truth.corr[x, y]) for x, y in pixels]
        spectra = [f["data"][x, y].real.astype(np.float64) for x, y in pixels]
        deep = f["deep_frame"][()]
    ours = WCS({k: a[k] for k in REQUIRED_ATTRS if k[:2] in ("CT", "CR", "PC", "CD", "CU", "RA", "EQ")})
    fwhm = sinc_fwhm_cm1(a["step"], a["step_nb"], a["zpd_index"], truth.corr)
    with open_cube(path) as cube:
        assert cube.shape == shape and cube.calibrated == calibrated
        assert cube.is_sn3 and cube.step_nb == a["step_nb"] and cube.zpd_index == a["zpd_index"]
        np.testing.assert_allclose(cube.base_axis_cm1, a["base_axis"], rtol=1e-12)
        np.testing.assert_allclose(cube.corr_map(), truth.corr, rtol=1e-12)
        np.testing.assert_allclose(cube.fwhm_map_cm1(), fwhm, rtol=1e-12)
        for (x, y), axis, values in zip(pixels, axes, spectra):
            spectrum = cube.spectrum(x, y)
            np.testing.assert_allclose(spectrum.axis_cm1, axis, rtol=1e-12)
            np.testing.assert_array_equal(spectrum.values, values)
        assert not cube.spectrum(0, 0).is_valid
        for x, y in [(0, 0), (47, 39), (10, 30)]:
            assert cube.wcs.pixel_to_world(x, y).separation(ours.pixel_to_world(x, y)).arcsec < 1e-6
        np.testing.assert_array_equal(cube.deep_image(), deep)
