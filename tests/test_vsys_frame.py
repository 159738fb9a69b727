"""The network's frame: spectra are seen from the systemic velocity, maps are observed-frame."""

import numpy as np
import pytest

from mirabelle.cube import open_cube
from mirabelle.inference.preprocess import model_axis, prepare
from mirabelle.lines import C_KMS, REST_NM, compose_velocities, composed_velocity_error, doppler_factor
from mirabelle.lines import line_position_cm1, sincgauss


def test_composition_multiplies_the_doppler_factors():
    vsys, v = 4500.0, np.array([-800.0, 0.0, 350.0])
    observed = compose_velocities(vsys, v)
    np.testing.assert_allclose(doppler_factor(observed), doppler_factor(vsys) * doppler_factor(v), rtol=1e-13)
    assert compose_velocities(0.0, 123.0) == pytest.approx(123.0)
    assert observed[1] == pytest.approx(4500.0)
    # the composed error is the derivative times the error
    h = 1e-3
    slope = (compose_velocities(vsys, v + h) - compose_velocities(vsys, v - h)) / (2 * h)
    np.testing.assert_allclose(composed_velocity_error(vsys, v, 2.0), 2.0 * slope, rtol=1e-6)
    assert np.all(np.abs(observed - vsys) <= np.abs(v))  # relativistic addition: less than the sum


def test_prepare_sees_the_lines_in_the_systemic_frame_and_moves_the_filter_edge():
    card = {"input": {"axis_cm1": [14700.0, 1.8, 400], "normalisation": "linear-max",
                      "continuum_cm1": [[14700.0, 14780.0], [15330.0, 15418.0]], "band_cm1": [14598.5, 15439.2]}}
    vsys, v = 4500.0, 60.0
    axis = np.arange(14300.0, 15500.0, 1.3)
    halpha = line_position_cm1(REST_NM["Halpha"], compose_velocities(vsys, v))
    values = sincgauss(axis, halpha, 3.0, 0.3)[None, :]
    x = prepare(values, axis, card, vsys_kms=vsys)[0]
    target = model_axis(card)
    assert target[np.argmax(x)] == pytest.approx(float(line_position_cm1(REST_NM["Halpha"], v)), abs=1.0)
    # channels observed below the SN3 band are blank (0 after normalisation) at +4500, not at rest
    edge = 14598.5 / float(doppler_factor(vsys))
    assert np.all(x[target < edge - 1.0] == 0.0)
    assert prepare(values, axis, card)[0][target < edge - 1.0].std() > 0
    # one vsys per row gives the same rows as one call per vsys
    rows = prepare(np.repeat(values, 2, 0), axis, card, vsys_kms=np.array([vsys, 0.0]))
    np.testing.assert_array_equal(rows[0], x)
    np.testing.assert_array_equal(rows[1], prepare(values, axis, card, 0.0)[0])


@pytest.fixture(scope="module")
def receding_cube(tmp_path_factory):
    from mirabelle.synthetic import read_truth, write_synthetic_cube

    path = tmp_path_factory.mktemp("vsys") / "receding.hdf5"
    write_synthetic_cube(path, nx=24, ny=20, resolution=5000.0, snr=25.0, seed=3, systemic_velocity=4500.0)
    return path, read_truth(path)


def test_a_galaxy_at_4500_kms_gives_observed_velocities(receding_cube):
    from mirabelle.inference.model import select_model
    from mirabelle.inference import maps as quality
    from mirabelle.inference.runner import run_cube

    path, truth = receding_cube
    with open_cube(path) as cube:
        model = select_model(cube, threads=2)
        maps = list(run_cube(cube, model, vsys_kms=4500.0))[-1].maps
        rest = list(run_cube(cube, model))[-1].maps
    good = truth.valid & ~truth.double & (truth.snr_map > 10)
    assert good.sum() > 50
    error = maps.velocity[good] - truth.velocity[good]
    assert np.sqrt(np.mean(error ** 2)) < 6.0
    assert np.sqrt(np.mean((maps.broadening[good] - truth.broadening[good]) ** 2)) < 8.0
    # all five lines stay inside SN3: no EDGE, no out-of-range flags where the gas is
    assert (maps.quality[good] & (quality.EDGE | quality.VELOCITY_OUT_OF_RANGE)).sum() == 0
    assert np.median(maps.amplitudes[..., 1][good] / truth.amplitudes[..., 1][good]) == pytest.approx(1, abs=0.05)
    # without the systemic velocity the network cannot reach the lines
    assert np.sqrt(np.nanmean((rest.velocity[good] - truth.velocity[good]) ** 2)) > 1000.0 or \
        (rest.quality[good] & quality.VELOCITY_OUT_OF_RANGE).mean() > 0.5
    assert C_KMS > 0
