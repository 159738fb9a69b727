"""The whole-cube runner: tiles, partial maps on cancel, regions, binning, quality bits."""

import threading

import numpy as np
import pytest
from inference_models import write_model

from mirabelle.cube import open_cube
from mirabelle.inference import maps as quality
from mirabelle.inference.model import load_model
from mirabelle.inference.runner import run_cube
from mirabelle.synthetic import read_truth

NX, NY = 48, 40  # conftest.SYNTHETIC


@pytest.fixture(scope="module")
def cube_and_truth(synthetic_cube_path):
    return synthetic_cube_path, read_truth(synthetic_cube_path)


@pytest.fixture(scope="module")
def fixed_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return load_model(write_model(folder, kinematics=(-150.0, 25.0, 4.0, 5.0)), threads=1)


def _run(path, model, **options):
    with open_cube(path) as cube:
        results = list(run_cube(cube, model, tile=(16, 16), **options))
    return results


def test_tiles_cover_the_cube_once_and_fill_every_map(cube_and_truth, fixed_model):
    path, truth = cube_and_truth
    results = _run(path, fixed_model)
    maps = results[-1].maps
    covered = np.zeros((NX, NY), int)
    for result in results:
        covered[result.x_slice, result.y_slice] += 1
    assert (covered == 1).all()
    fractions = [r.fraction for r in results]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert results[-1].eta_s == pytest.approx(0.0, abs=1e-9)
    assert maps.complete
    last = results[-1]
    np.testing.assert_array_equal(last.tile("quality"), maps.quality[last.x_slice, last.y_slice])
    valid = truth.valid
    np.testing.assert_allclose(maps.velocity[valid], -150.0)
    assert np.isfinite(maps.amplitudes[valid]).all() and np.isfinite(maps.double_score[valid]).all()
    assert maps.model_name == "test-r5000" and maps.cube_path == str(path)


def test_nan_pixels_are_flagged_no_data(cube_and_truth, fixed_model):
    path, truth = cube_and_truth
    maps = _run(path, fixed_model)[-1].maps
    border = ~truth.valid
    assert border.any()
    assert (maps.quality[border] & quality.NO_DATA).all()
    assert np.isnan(maps.velocity[border]).all()
    assert not (maps.quality[truth.valid] & quality.NO_DATA).any()
    assert not maps.valid_mask()[border].any()


def test_amplitudes_and_snr_follow_the_truth_at_the_true_velocity(cube_and_truth, tmp_path):
    # A model that returns the scene's systemic velocity and typical broadening: where the
    # truth is close to it, the linear solve must recover the Hα amplitude and SNR.
    path, truth = cube_and_truth
    v0, b0 = float(np.median(truth.velocity[truth.valid])), float(np.median(truth.broadening[truth.valid]))
    model = load_model(write_model(tmp_path, kinematics=(v0, b0, 4.0, 5.0)), threads=1)
    maps = _run(path, model)[-1].maps
    near = truth.valid & ~truth.double & (np.abs(truth.velocity - v0) < 6) & (np.abs(truth.broadening - b0) < 6)
    near &= truth.snr_map > 10
    assert near.sum() >= 10
    ratio = maps.amplitudes[..., 1][near] / truth.amplitudes[..., 1][near]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.05)
    snr_ratio = maps.snr_halpha[near] / truth.snr_map[near]
    assert np.median(snr_ratio) == pytest.approx(1.0, abs=0.15)


def test_cancel_leaves_consistent_partial_maps_that_resume(cube_and_truth, fixed_model):
    path, _ = cube_and_truth
    stop = threading.Event()
    with open_cube(path) as cube:
        results = []
        for result in run_cube(cube, fixed_model, cancel=stop, tile=(16, 16)):
            results.append(result)
            if len(results) == 2:
                stop.set()
        assert len(results) == 2
        maps = results[-1].maps
        assert 0 < maps.fraction_done < 1
        done = maps.done
        assert (np.isfinite(maps.velocity[done]) | ((maps.quality[done] & quality.NO_DATA) > 0)).all()
        assert np.isnan(maps.velocity[~done]).all() and (maps.quality[~done] == 0).all()
        rest = list(run_cube(cube, fixed_model, maps=maps, tile=(16, 16)))
    full_run = _run(path, fixed_model)
    assert len(rest) == len(full_run) - 2 and rest[-1].maps.complete
    full = full_run[-1].maps
    np.testing.assert_array_equal(rest[-1].maps.quality, full.quality)
    np.testing.assert_allclose(rest[-1].maps.amplitudes, full.amplitudes, equal_nan=True)


def test_closing_the_generator_is_a_cancel(cube_and_truth, fixed_model):
    path, _ = cube_and_truth
    with open_cube(path) as cube:
        generator = run_cube(cube, fixed_model, tile=(16, 16))
        first = next(generator)
        generator.close()
    assert first.maps.done.sum() == first.nx * first.ny < NX * NY


def test_region_mask_restricts_the_computed_pixels(cube_and_truth, fixed_model):
    path, _ = cube_and_truth
    region = np.zeros((NX, NY), bool)
    region[10:20, 12:30] = True
    results = _run(path, fixed_model, region_mask=region)
    maps = results[-1].maps
    assert maps.complete
    assert (maps.quality[~region] & quality.SKIPPED).all()
    assert np.isnan(maps.velocity[~region]).all()
    assert np.isfinite(maps.velocity[region]).all()
    assert not maps.valid_mask()[~region].any()
    touched = {(r.x0, r.y0) for r in results}
    assert len(touched) < len(_run(path, fixed_model))  # only tiles holding region pixels are processed


def test_binning_repeats_block_values(cube_and_truth, fixed_model):
    path, truth = cube_and_truth
    maps = _run(path, fixed_model, binning=2)[-1].maps
    assert maps.binning == 2
    amplitude = maps.amplitudes[..., 1]
    blocks = amplitude.reshape(NX // 2, 2, NY // 2, 2).transpose(0, 2, 1, 3).reshape(NX // 2, NY // 2, 4)
    inner = truth.valid.reshape(NX // 2, 2, NY // 2, 2).all(axis=(1, 3))
    assert np.isfinite(blocks[inner]).all()
    assert np.all(np.ptp(blocks[inner], axis=1) == 0)
    # averaging 4 spectra halves the noise: SNR about doubles
    single = _run(path, fixed_model)[-1].maps
    good = truth.valid & (single.snr_halpha > 5)
    assert np.median(maps.snr_halpha[good] / single.snr_halpha[good]) == pytest.approx(2.0, rel=0.25)


@pytest.mark.parametrize("calibrated", [True, False], ids=["calibrated", "per-pixel-axes"])
def test_shipped_model_recovers_the_synthetic_kinematics_and_doubles(request, calibrated):
    from mirabelle.inference.model import select_model

    fixture = "synthetic_cube_path" if calibrated else "synthetic_cube_uncalibrated_path"
    path = request.getfixturevalue(fixture)
    truth = read_truth(path)
    with open_cube(path) as cube:
        assert cube.calibrated == calibrated
        model = select_model(cube, threads=2)
        maps = list(run_cube(cube, model))[-1].maps
    good = truth.valid & ~truth.double & (truth.snr_map > 10)
    assert good.sum() > 200
    velocity_error = maps.velocity[good] - truth.velocity[good]
    broadening_error = maps.broadening[good] - truth.broadening[good]
    assert np.sqrt(np.mean(velocity_error**2)) < 4.0
    assert np.sqrt(np.mean(broadening_error**2)) < 5.0
    assert 0.5 < np.mean(np.abs(velocity_error) < maps.velocity_err[good]) < 0.95
    assert np.median(maps.amplitudes[..., 1][good] / truth.amplitudes[..., 1][good]) == pytest.approx(1, abs=0.03)
    assert (maps.quality[good] == 0).mean() > 0.9
    detectable = truth.valid & (truth.snr_map > 10)
    doubles, singles = maps.double_score[detectable & truth.double], maps.double_score[detectable & ~truth.double]
    assert doubles.size > 30
    auc = (doubles[:, None] > singles[None, :]).mean() + 0.5 * (doubles[:, None] == singles[None, :]).mean()
    assert auc > 0.85
