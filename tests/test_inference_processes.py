"""The runner's tiles computed in worker processes (the desktop app's runs): same maps, priority, crashes."""

import os
import signal

import numpy as np
import pytest
from inference_models import write_model

from mirabelle.cube import open_cube
from mirabelle.errors import MirabelleError
from mirabelle.inference import process_pool
from mirabelle.inference.model import load_model
from mirabelle.inference.runner import run_cube

@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(write_model(tmp_path_factory.mktemp("models"), kinematics=(-150.0, 25.0, 4.0, 5.0)),
                      threads=1)


def _maps(path, model, processes, **options):
    with open_cube(path) as cube:
        results = list(run_cube(cube, model, tile=(16, 16), processes=processes, **options))
    return results[-1].maps, len(results)


@pytest.mark.parametrize("binning", [1, 2])
def test_tiles_in_processes_equal_the_threads_bit_for_bit(synthetic_cube_path, model, binning):
    in_threads, tiles = _maps(synthetic_cube_path, model, False, binning=binning)
    in_processes, tiles_processes = _maps(synthetic_cube_path, model, True, binning=binning)
    assert tiles == tiles_processes > 1 and in_processes.complete
    for name, array in in_threads.arrays().items():
        np.testing.assert_array_equal(getattr(in_processes, name), array, err_msg=name)


def test_a_cancelled_run_in_processes_resumes_to_the_same_maps(synthetic_cube_path, model):
    whole, tiles = _maps(synthetic_cube_path, model, False)
    with open_cube(synthetic_cube_path) as cube:
        run = run_cube(cube, model, tile=(16, 16), processes=True)
        partial = [next(run) for _ in range(3)][-1].maps
        run.close()
        assert 0 < partial.done.sum() < partial.done.size
        rest = list(run_cube(cube, model, tile=(16, 16), maps=partial, processes=True))
    assert len(rest) == tiles - 3 and rest[-1].maps.complete
    np.testing.assert_array_equal(rest[-1].maps.velocity, whole.velocity)


def test_the_workers_run_at_lower_priority(synthetic_cube_path, model):
    _maps(synthetic_cube_path, model, True)
    pool = process_pool.tile_pool(2)
    pids = list(pool._processes)  # noqa: SLF001 - the processes the run used
    assert pids
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert all(os.getpriority(os.PRIO_PROCESS, pid) >= min(19, mine + process_pool.NICENESS) for pid in pids)


def test_a_worker_killed_mid_run_is_one_sentence_and_the_next_run_works(synthetic_cube_path, model):
    whole, _ = _maps(synthetic_cube_path, model, False)
    with open_cube(synthetic_cube_path) as cube:
        run = run_cube(cube, model, tile=(16, 16), processes=True)
        next(run)
        for pid in list(process_pool.tile_pool(2)._processes):  # noqa: SLF001
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(MirabelleError, match="worker processes .* start the inference again"):
            list(run)
    again, _ = _maps(synthetic_cube_path, model, True)
    np.testing.assert_array_equal(again.velocity, whole.velocity)


def test_where_processes_cannot_start_the_run_uses_threads(synthetic_cube_path, model, monkeypatch):
    whole, _ = _maps(synthetic_cube_path, model, False)
    process_pool.shutdown()

    def refuse(*args, **kwargs):  # what spawn raises under a __main__ without the __name__ guard
        raise RuntimeError("An attempt has been made to start a new process before ... bootstrapping phase.")

    monkeypatch.setattr(process_pool.ProcessPoolExecutor, "submit", refuse)
    assert process_pool.tile_pool(2) is None
    in_threads, _ = _maps(synthetic_cube_path, model, True)
    np.testing.assert_array_equal(in_threads.velocity, whole.velocity)


def test_a_sky_subtracted_cube_runs_here_where_workers_would_read_the_raw_file(synthetic_cube_path, model):
    from mirabelle.inference.sky_region import SkySubtractedCube, sky_spectrum

    with open_cube(synthetic_cube_path) as cube:
        sky = sky_spectrum(cube, np.ones((cube.nx, cube.ny), bool), "whole field")
        subtracted = SkySubtractedCube(cube, sky)
        assert process_pool.serves(cube, (16, 16)) and not process_pool.serves(subtracted, (16, 16))
        in_threads = list(run_cube(subtracted, model, tile=(16, 16)))[-1].maps
        asked_processes = list(run_cube(subtracted, model, tile=(16, 16), processes=True))[-1].maps
    raw, _ = _maps(synthetic_cube_path, model, False)
    np.testing.assert_array_equal(asked_processes.amplitudes, in_threads.amplitudes)
    assert not np.array_equal(asked_processes.amplitudes, raw.amplitudes, equal_nan=True)
