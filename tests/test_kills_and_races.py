"""Kills and races (issue 13): a writer killed at a random point leaves the old export set or the
new one (never a mix), a readable flag file and cache, and nothing the next write does not remove;
of two concurrent writers at most one succeeds and the other names it. Longer runs:
tests/bench/bench_kills.py."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from inference_models import write_model

from mirabelle import atomic, cli
from mirabelle.cube import open_cube
from mirabelle.errors import ExportError
from mirabelle.export import staging
from mirabelle.export.priors import write_priors
from mirabelle.flags.storage import flags_lock, load_mask, save_mask
from mirabelle.inference import cache
from mirabelle.inference.maps import KinematicMaps
from mirabelle.synthetic import write_synthetic_cube

NX, NY = 10, 8
KILLS = 2


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("kills") / "cube.hdf5"
    write_synthetic_cube(path, NX, NY, seed=6)
    return path


def maps_for(binning: int) -> KinematicMaps:
    maps = KinematicMaps.empty(NX, NY, model_name="m", model_version="1", model_sha256="b" * 64, binning=binning)
    maps.velocity[:] = 10.0 * binning
    maps.broadening[:] = 20.0
    maps.velocity_err[:] = maps.broadening_err[:] = 2.0
    maps.done[:] = True
    return maps


WRITER = """
import sys, itertools
sys.path.insert(0, {tests!r})
from test_kills_and_races import maps_for, NX, NY
from mirabelle.cube import open_cube
from mirabelle.export.priors import write_priors
import numpy as np
with open_cube({cube!r}) as cube:
    for n in itertools.count():
        flags = np.zeros((NX, NY), bool) if n % 2 else None
        flags = None if flags is None else (flags.__setitem__((slice(0, 3), slice(0, 2)), True) or flags)
        write_priors(maps_for(1 + n % 2), cube, {out!r}, flags=flags, overwrite=True)
        if n == 0:
            print("ready", flush=True)
"""


def _run_and_kill(script: str, delay_s: float) -> None:
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay_s)
    child.send_signal(signal.SIGKILL)
    child.wait()


def assert_one_export(out: Path) -> int:
    """The folder holds exactly one run's set: every file of its summary, one BINNING; returns it."""
    summary = json.loads((out / "summary.json").read_text())
    names = {Path(name).name for name in summary["files"]}
    present = {name for name in os.listdir(out)}
    assert names == present, (names ^ present)
    binnings = {fits.getheader(out / name)["BINNING"] for name in names if name.endswith(".fits")}
    assert binnings == {summary["binning"]}
    return summary["binning"]


def leftovers(folder: Path) -> list[str]:
    names = os.listdir(folder)
    return [n for n in names if staging.STAGING in n or staging.OLD in n or n.endswith(atomic.TEMP_SUFFIX)
            or n.endswith(".mirabelle-lock") or n == staging.INCOMPLETE]


def test_a_killed_overwrite_leaves_one_whole_set_and_the_next_run_cleans_up(cube_path, tmp_path):
    out = tmp_path / "priors"
    script = WRITER.format(tests=str(Path(__file__).parent), cube=str(cube_path), out=str(out))
    rng = np.random.default_rng(0)
    for _kill in range(KILLS):
        _run_and_kill(script, float(rng.uniform(0.0, 0.4)))
        assert_one_export(out)
    with open_cube(cube_path) as cube:
        write_priors(maps_for(2), cube, out, overwrite=True)
    assert assert_one_export(out) == 2
    assert leftovers(tmp_path) == [] and leftovers(out) == []


def test_an_in_place_export_interrupted_mid_renames_is_marked_and_completed_next_time(cube_path, tmp_path,
                                                                                       monkeypatch):
    out = tmp_path / "shared"
    out.mkdir()
    (out / "my notes.txt").write_text("mine")
    with open_cube(cube_path) as cube:
        write_priors(maps_for(1), cube, out)
        calls = []
        real_replace = os.replace

        def killed_after_three(source, target):
            calls.append(target)
            if len(calls) > 3:
                raise KeyboardInterrupt  # stands for a kill: no cleanup code runs after it in a real one
            real_replace(source, target)

        monkeypatch.setattr(staging.os, "replace", killed_after_three)
        monkeypatch.setattr(staging.shutil, "rmtree", lambda *a, **k: None)  # a killed run removes nothing
        with pytest.raises(KeyboardInterrupt):
            write_priors(maps_for(2), cube, out, overwrite=True)
        monkeypatch.undo()
        assert (out / staging.INCOMPLETE).exists()  # the mix is marked
        with staging.reserve(out):  # the next run rolls the interrupted set forward first
            pass
    assert assert_one_export_in_place(out) == 2 and (out / "my notes.txt").read_text() == "mine"
    assert leftovers(out) == []


def assert_one_export_in_place(out: Path) -> int:
    summary = json.loads((out / "summary.json").read_text())
    names = {Path(name).name for name in summary["files"]}
    assert names <= set(os.listdir(out))
    assert {fits.getheader(out / n)["BINNING"] for n in names if n.endswith(".fits")} == {summary["binning"]}
    return summary["binning"]


def test_without_an_atomic_exchange_a_kill_between_renames_restores_the_old_set(cube_path, tmp_path,
                                                                              monkeypatch):
    out = tmp_path / "priors"
    with open_cube(cube_path) as cube:
        write_priors(maps_for(1), cube, out)
        monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
        real_rename = os.rename

        def killed_between(source, target):
            real_rename(source, target)
            if staging.OLD in str(target):
                raise KeyboardInterrupt

        monkeypatch.setattr(staging.os, "rename", killed_between)
        monkeypatch.setattr(staging.shutil, "rmtree", lambda *a, **k: None)
        with pytest.raises(KeyboardInterrupt):
            write_priors(maps_for(2), cube, out, overwrite=True)
        monkeypatch.undo()
        assert not out.exists()
        write_priors(maps_for(2), cube, out, overwrite=True)
    assert assert_one_export(out) == 2 and leftovers(tmp_path) == []


FLAGS_WRITER = """
import itertools, numpy as np
from mirabelle.flags.storage import save_mask
masks = [np.zeros(({nx}, {ny}), bool), np.ones(({nx}, {ny}), bool)]
for n in itertools.count():
    save_mask({path!r}, masks[n % 2])
    if n == 0:
        print("ready", flush=True)
"""

CACHE_WRITER = """
import itertools, sys
sys.path.insert(0, {tests!r})
from test_kills_and_races import maps_for
from mirabelle.inference import cache
for n in itertools.count():
    cache.save_maps(maps_for(1), {cube!r})
    if n == 0:
        print("ready", flush=True)
"""


def test_killed_flag_and_cache_writers_leave_readable_files_and_no_temporaries(cube_path, tmp_path):
    flags = tmp_path / "cube.hdf5.mirabelle-flags.fits"
    rng = np.random.default_rng(1)
    for _kill in range(KILLS):
        _run_and_kill(FLAGS_WRITER.format(nx=NX, ny=NY, path=str(flags)), float(rng.uniform(0.0, 0.2)))
        mask = load_mask(flags, expected_shape=(NX, NY))
        assert not mask.any() or mask.all()
    save_mask(flags, np.zeros((NX, NY), bool))
    assert leftovers(tmp_path) == []

    cache_dir = Path(os.environ["MIRABELLE_CACHE_DIR"])
    script = CACHE_WRITER.format(tests=str(Path(__file__).parent), cube=str(cube_path))
    for _kill in range(KILLS):
        _run_and_kill(script, float(rng.uniform(0.0, 0.2)))
        assert cache.load_maps(cube_path, "b" * 64).complete
    cache.save_maps(maps_for(1), cube_path)
    assert leftovers(cache_dir) == []


def test_a_second_flag_writer_is_refused_naming_the_first(tmp_path):
    path = tmp_path / "cube.hdf5.mirabelle-flags.fits"
    with flags_lock(path):
        save_mask(path, np.ones((NX, NY), bool))  # the holder itself writes
        done = subprocess.run([sys.executable, "-c", FLAGS_WRITER.format(nx=NX, ny=NY, path=str(path))],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and f"is being written by process {os.getpid()}" in done.stderr
    assert load_mask(path).all() and leftovers(tmp_path) == []
    save_mask(path, np.zeros((NX, NY), bool))  # free again


def test_two_predicts_into_one_folder_exactly_one_succeeds(cube_path, tmp_path):
    model = write_model(tmp_path / "models", kinematics=(-170.0, 30.0, 4.0, 5.0))
    # The constant model answers in the observed frame: --vsys 0 keeps its velocity on the lines.
    command = [sys.executable, "-m", "mirabelle", "predict", str(cube_path), "-o", str(tmp_path / "out"),
               "--model", str(model), "--threads", "1", "--vsys", "0"]
    env = dict(os.environ, MIRABELLE_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert sorted(code for code, _ in results) == [0, 1], results
    loser = next(err for code, err in results if code)
    assert "is being written by process" in loser or "expected no existing export files" in loser, loser
    assert assert_one_export(tmp_path / "out" / "cube_priors") == 1


def test_an_unwritable_destination_is_refused_before_the_inference(cube_path, tmp_path, capsys, monkeypatch):
    from mirabelle.session import Session

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(Session, "run", lambda *a, **k: pytest.fail("the inference ran"))
    model = write_model(tmp_path / "models")
    assert cli.main(["predict", str(cube_path), "-o", str(blocker), "--model", str(model)]) == 1
    assert "expected a folder that can be created" in capsys.readouterr().err


def test_same_stem_cubes_in_one_call_get_distinct_folders(cube_path, tmp_path, capsys):
    from mirabelle.export.staging import output_folders

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "cube.hdf5", tmp_path / "b" / "cube.hdf5"
    for path in (first, second):
        path.write_bytes(cube_path.read_bytes())
    assert output_folders([first, second], tmp_path / "out") == [tmp_path / "out" / "cube_priors",
                                                                   tmp_path / "out" / "cube-2_priors"]
    assert output_folders([first, second], None) == [tmp_path / "a" / "cube_priors",
                                                     tmp_path / "b" / "cube_priors"]


def test_a_reserved_folder_refuses_another_process_naming_this_one(tmp_path):
    script = f"from mirabelle.export.staging import reserve\nwith reserve({str(tmp_path / 'out')!r}):\n    pass\n"
    with staging.reserve(tmp_path / "out"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and f"is being written by process {os.getpid()}" in done.stderr
    assert subprocess.run([sys.executable, "-c", script], timeout=120).returncode == 0
    assert leftovers(tmp_path) == []


def test_a_channel_cache_a_killed_builder_left_broken_is_rebuilt_and_one_builder_at_a_time(cube_path, tmp_path):
    from mirabelle.cube.channels import ChannelCache

    with open_cube(cube_path) as cube:
        with ChannelCache(cube, tmp_path) as first:
            broken = first.path
        broken.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\xff" * 3000)  # what a kill mid-flush can leave
        with ChannelCache(cube, tmp_path) as cache:
            assert list(cache.build())[-1] == 1.0 and cache.complete
            script = ("import sys\nfrom mirabelle.cube import open_cube\nfrom mirabelle.cube.channels import "
                      f"ChannelCache\nwith open_cube({str(cube_path)!r}) as c:\n    ChannelCache(c, {str(tmp_path)!r})\n")
            done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and f"is being written by process {os.getpid()}" in done.stderr
    assert leftovers(tmp_path) == []
