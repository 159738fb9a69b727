"""`predict` on a Dask cluster: two local worker processes give the local run's maps bit for bit,
a worker killed mid-run costs nothing but time, a stopped client resumes, a bad cube fails alone."""

import os
import shutil
import signal
import sys

import numpy as np
import pytest
from astropy.io import fits
from optional_deps import require
from ui_support import cube_path, make_window, messages, open_and_wait, unexpected_errors  # noqa: F401

distributed = require("distributed", "cluster")

from mirabelle.cli import _build_parser, main  # noqa: E402
from mirabelle.cluster.connect import Connection, parse_scheduler, unreadable_cubes  # noqa: E402
from mirabelle.cluster.predict import plan_cube, predict_on_cluster  # noqa: E402
from mirabelle.cluster.tile_queue import run_plans  # noqa: E402
from mirabelle.commands.predict import _flags_for  # noqa: E402
from mirabelle.cube import open_cube  # noqa: E402
from mirabelle.errors import MirabelleError  # noqa: E402
from mirabelle.inference.runner import run_cube  # noqa: E402
from mirabelle.session import Session, choose_model  # noqa: E402

TILE = (12, 10)  # 16 tiles of the 48 x 40 cubes, so a run has a middle to interrupt


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def local_maps(path, binning=1, vsys_kms=0.0):
    """The maps of today's local run (threads, onnxruntime on all cores)."""
    with open_cube(path) as cube:
        result = None
        for result in run_cube(cube, choose_model(cube), tile=TILE, binning=binning, vsys_kms=vsys_kms):
            pass
    return result.maps


def assert_maps_equal(found, expected):
    for name, array in expected.arrays().items():
        assert np.array_equal(getattr(found, name), array, equal_nan=True), name


def test_two_cubes_on_two_workers_equal_the_local_run_bit_for_bit(client, synthetic_cube_path,
                                                                  synthetic_cube_uncalibrated_path):
    plans = [plan_cube(synthetic_cube_path, tile=TILE),
             plan_cube(synthetic_cube_uncalibrated_path, binning=2, tile=TILE, vsys_kms=-180.0)]
    events = list(run_plans(client, plans, window=3))
    assert [e.kind for e in events].count("tile") == 32
    assert [e.plan for e in events if e.kind == "done"] == plans
    assert events[-1].result is None and all(p.maps.complete for p in plans)
    assert_maps_equal(plans[0].maps, local_maps(synthetic_cube_path))
    assert_maps_equal(plans[1].maps, local_maps(synthetic_cube_uncalibrated_path, binning=2, vsys_kms=-180.0))


def test_a_session_runs_its_tiles_on_the_cluster_like_here(client, synthetic_cube_path):
    with Session(synthetic_cube_path, vsys_kms=-180.0) as here, Session(synthetic_cube_path, vsys_kms=-180.0) as there:
        assert len(list(here.run(use_cache=False, tile=TILE))) == 16
        results = list(there.run(tile=TILE, scheduler=client.scheduler.address))
        assert len(results) == 16 and results[-1].fraction == 1.0
        assert_maps_equal(there.maps, here.maps)
        assert not list(there.run(scheduler=client.scheduler.address)) and there.reused  # cached like a local run


def test_a_cube_changed_under_the_workers_fails_alone(client, synthetic_cube_path, tmp_path):
    doomed = tmp_path / "doomed.hdf5"
    shutil.copy(synthetic_cube_path, doomed)
    plans = [plan_cube(doomed, tile=TILE), plan_cube(synthetic_cube_path, tile=TILE)]
    with open(doomed, "ab") as stream:  # now the workers see another file than the one planned
        stream.write(b"\0" * 16)
    events = list(run_plans(client, plans, window=2))
    failed = [e for e in events if e.kind == "failed"]
    assert len(failed) == 1 and failed[0].plan is plans[0]
    assert "doomed.hdf5" in str(failed[0].error) and "another one" in str(failed[0].error)
    assert plans[1].maps.complete and not plans[0].maps.complete


def test_a_cube_the_workers_cannot_read_is_named_with_the_reason(client, tmp_path):
    missing = str(tmp_path / "only_on_my_laptop.hdf5")
    problems = unreadable_cubes(Connection(client, None, "test"), {missing: (1, 1)})
    assert list(problems) == [missing]
    assert "readable from every Dask worker" in problems[missing] and "FileNotFoundError" in problems[missing]


def test_same_stem_cubes_on_the_cluster_get_distinct_folders(client, synthetic_cube_path, tmp_path, capsys):
    copies = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        copies.append(str(shutil.copy(synthetic_cube_path, tmp_path / folder / "cube.hdf5")))
    assert main(["predict", *copies, "-o", str(tmp_path / "out"), "--scheduler", client.scheduler.address]) == 0
    capsys.readouterr()
    for folder in ("cube_priors", "cube-2_priors"):
        assert (tmp_path / "out" / folder / "velocity.fits").exists(), folder


def test_a_client_stopped_mid_run_resumes_from_the_computed_tiles(client, synthetic_cube_path, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setattr("mirabelle.cube.base.default_tile", lambda chunk, shape: TILE)
    parser, _ = _build_parser("predict")
    args = parser.parse_args([str(synthetic_cube_path), "-o", str(tmp_path), "--scheduler", client.scheduler.address])
    updates = []

    class Bar:
        def __init__(self, label, stop_after=None):
            self.stop_after = stop_after

        def update(self, result):
            updates.append(result)
            if len(updates) == self.stop_after:
                raise KeyboardInterrupt  # Ctrl-C while tiles are in flight

        def finish(self, message):
            pass

    with pytest.raises(KeyboardInterrupt):
        list(predict_on_cluster(args, lambda label: Bar(label, stop_after=5), _flags_for, sys.stderr))
    assert "run the same command again to resume" in capsys.readouterr().err
    assert not (tmp_path / "synthetic_sn3_priors").exists()
    del updates[:]
    outcomes = list(predict_on_cluster(args, Bar, _flags_for, sys.stderr))
    assert "resuming, 31% already computed" in capsys.readouterr().err  # 5 of 16 tiles
    assert len(updates) == 11 and isinstance(outcomes[0][1], dict)
    assert main(["predict", str(synthetic_cube_path), "-o", str(tmp_path / "local")]) == 0
    written = sorted((tmp_path / "synthetic_sn3_priors").glob("*.fits"))
    local = {path.name for path in (tmp_path / "local" / "synthetic_sn3_priors").glob("*.fits")}
    assert len(written) >= 14 and {path.name for path in written} == local  # as many as the registry exports
    for found in written:
        expected = fits.getdata(tmp_path / "local" / "synthetic_sn3_priors" / found.name)
        assert np.array_equal(fits.getdata(found), expected, equal_nan=True), found.name
    del updates[:]
    args.overwrite = True
    outcomes = list(predict_on_cluster(args, Bar, _flags_for, sys.stderr))  # the finished maps are reused
    assert outcomes[0][1]["reused_cache"] and not updates


def test_a_worker_killed_mid_run_costs_only_time(client, synthetic_cube_path):
    plan = plan_cube(synthetic_cube_path, tile=(6, 5))  # 64 tiles
    before = client.run(os.getpid)
    killed = False
    for event in run_plans(client, [plan], window=2):
        busy = [worker for worker, keys in client.processing().items() if keys]
        if not killed and event.kind == "tile" and busy:
            os.kill(before[busy[0]], signal.SIGKILL)  # a worker holding a tile in flight
            killed = True
    assert killed
    assert plan.maps.complete and plan.error is None
    assert set(client.run(os.getpid).values()) != set(before.values())  # the nanny started a new worker
    assert_maps_equal(plan.maps, local_maps(synthetic_cube_path))


def test_without_the_extra_the_scheduler_option_says_what_to_install(synthetic_cube_path, tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    assert main(["predict", str(synthetic_cube_path), "-o", str(tmp_path), "--scheduler", "local:2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'mirabelle[cluster]'" in err[0]


def test_scheduler_text_is_local_with_a_count_or_an_address():
    assert parse_scheduler("local") == ("local", None)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("address", None)
    with pytest.raises(MirabelleError, match="positive number of workers"):
        parse_scheduler("local:0")


def test_the_desktop_app_runs_the_cube_on_the_scheduler_of_its_setting(client, qtbot, make_window, cube_path):
    from mirabelle.ui import settings

    window = make_window()
    open_and_wait(qtbot, window, cube_path)
    dialog = window.menus.ask_scheduler_address()  # Kinematics ▸ Compute on a Dask cluster…
    dialog.setTextValue(client.scheduler.address)
    dialog.accept()
    assert settings.scheduler_address() == client.scheduler.address
    with distributed.get_task_stream(client) as stream, \
            qtbot.waitSignal(window.inference_finished, timeout=120000) as blocker:
        window.start_inference(use_cache=False)
    assert blocker.args == [True]
    assert any(task["key"].startswith("mirabelle-synthetic_sn3") for task in stream.data)  # the workers did it
    with Session(cube_path, vsys_kms=window.controller.session.vsys_kms) as here:  # the app's systemic velocity
        list(here.run(use_cache=False))
        assert_maps_equal(window.maps, here.maps)
