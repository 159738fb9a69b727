"""Nothing but fluxes depends on the data's scale: a cube × 1e-17 or × 1e+5 gives the same maps."""

import shutil

import h5py
import numpy as np
import pytest
from inference_models import SN3_AXIS, write_model

from mirabelle.cube import open_cube
from mirabelle.inference.model import load_model
from mirabelle.inference.runner import run_cube


@pytest.fixture(scope="module")
def sensitive_model(tmp_path_factory):
    """A linear model whose outputs depend on the normalised spectrum (random weights)."""
    weights = np.random.default_rng(3).normal(0.0, 2.0, (SN3_AXIS[2], 4))
    folder = tmp_path_factory.mktemp("models")
    return load_model(write_model(folder, kinematics=(-180.0, 25.0, 4.0, 5.0), weights=weights), threads=1)


def _scaled_copy(source, target, factor):
    shutil.copy(source, target)
    with h5py.File(target, "r+") as f:
        f["data"][...] = f["data"][()] * factor
    return target


def _maps(path, model):
    with open_cube(path) as cube:
        return list(run_cube(cube, model, tile=(16, 16), workers=1))[-1].maps


@pytest.mark.parametrize("factor", [1e-17, 1e5])
def test_scaled_cube_gives_the_same_kinematics_snr_score_and_quality(synthetic_cube_path, sensitive_model,
                                                                     tmp_path, factor):
    reference = _maps(synthetic_cube_path, sensitive_model)
    scaled = _maps(_scaled_copy(synthetic_cube_path, tmp_path / "scaled.hdf5", factor), sensitive_model)
    valid = reference.valid_mask()
    # the model does see the data; its kinematics are off, and the line check flags about half
    assert valid.mean() > 0.4 and np.ptp(reference.velocity[valid]) > 1.0
    np.testing.assert_array_equal(scaled.quality, reference.quality)
    for name in ("velocity", "broadening", "velocity_err", "broadening_err"):
        np.testing.assert_allclose(getattr(scaled, name)[valid], getattr(reference, name)[valid],
                                   rtol=1e-4, atol=1e-3, err_msg=name)
    np.testing.assert_allclose(scaled.snr_halpha[valid], reference.snr_halpha[valid], rtol=1e-3)
    np.testing.assert_allclose(scaled.double_score[valid], reference.double_score[valid], atol=1e-3)
    assert (reference.double_score[valid] > 0.5).any()  # the score is not trivially zero
    fluxes = reference.fluxes[valid]
    np.testing.assert_allclose(scaled.fluxes[valid] / factor, fluxes, rtol=1e-3,
                               atol=1e-3 * float(np.median(np.abs(fluxes))))
