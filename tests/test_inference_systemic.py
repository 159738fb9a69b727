"""The systemic velocity found from a cube's own spectra, with no option."""

import numpy as np
import pytest

from mirabelle.cube import open_cube
from mirabelle.errors import MirabelleError
from mirabelle.inference.systemic import detect_systemic_velocity
from mirabelle.synthetic import read_truth, write_synthetic_cube


@pytest.mark.parametrize("velocity, resolution, calibrated", [(1500.0, 3000.0, False), (4500.0, 1000.0, True),
                                                              (-900.0, 7000.0, True)])
def test_detected_velocity_is_the_median_of_the_gas(tmp_path, velocity, resolution, calibrated):
    path = tmp_path / "cube.hdf5"
    write_synthetic_cube(path, 32, 30, resolution=resolution, systemic_velocity=velocity, calibrated=calibrated,
                         seed=4)
    truth = read_truth(path)
    with open_cube(path) as cube:
        found = detect_systemic_velocity(cube)
    # Within a quarter of the ±800 km/s the networks cover around it (the disk rotates ±100).
    assert found.velocity_kms == pytest.approx(float(np.median(truth.velocity[truth.valid])), abs=60.0)
    assert found.significance > 10 and found.method == "contrast"


def test_a_cube_without_lines_says_so(tmp_path):
    path = tmp_path / "flat.hdf5"
    write_synthetic_cube(path, 16, 16, resolution=3000.0, seed=1)
    import h5py

    with h5py.File(path, "r+") as f:
        shape = f["data"].shape
        f["data"][...] = (5.0 + np.random.default_rng(0).normal(0, 0.01, shape)).astype(np.complex64)
    with open_cube(path) as cube:
        with pytest.raises(MirabelleError, match="found none above .* sigma; give it with --vsys"):
            detect_systemic_velocity(cube)
