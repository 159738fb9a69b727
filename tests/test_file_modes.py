"""Every file Mirabelle writes gets the user's umask (issue 11 item 2), and the atomic writer leaves
nothing behind: no temporary after a failure, a killed writer's temporaries removed at the next write."""

import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from mirabelle import atomic
from mirabelle.cube import open_cube
from mirabelle.errors import ExportError
from mirabelle.export.priors import write_priors
from mirabelle.flags.storage import save_mask
from mirabelle.inference import cache
from mirabelle.inference.maps import KinematicMaps
from mirabelle.synthetic import write_synthetic_cube


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_priors_flags_and_cache_are_world_readable_under_umask_022(tmp_path, umask_022, monkeypatch):
    cube_path = tmp_path / "cube.hdf5"
    write_synthetic_cube(cube_path, 8, 6, seed=3)
    maps = KinematicMaps.empty(8, 6, model_name="m", model_version="1", model_sha256="a" * 64)
    maps.velocity[:] = 10.0
    maps.broadening[:] = 20.0
    maps.velocity_err[:] = maps.broadening_err[:] = 3.0
    maps.done[:] = True
    flags = np.zeros((8, 6), bool)
    flags[2:4, 1:3] = True
    with open_cube(cube_path) as cube:
        summary = write_priors(maps, cube, tmp_path / "priors", flags=flags)
    written = [tmp_path / "priors" / os.path.basename(name) for name in summary["files"]]
    assert any(p.name == "README.txt" for p in written) and any(p.name == "summary.json" for p in written)

    written.append(save_mask(tmp_path / "cube.hdf5.mirabelle-flags.fits", flags))
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    written.append(cache.save_maps(maps, cube_path))
    assert {oct(_mode(p)) for p in written} == {oct(0o644)}
    assert _mode(tmp_path / "priors") == 0o755


def test_a_stricter_umask_is_respected(tmp_path):
    previous = os.umask(0o077)
    try:
        path = atomic.write_atomic(tmp_path / "a.txt", b"x")
    finally:
        os.umask(previous)
    assert _mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(target) as stream:
            stream.write(b"half")
            raise RuntimeError("render failed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["summary.json"]


def test_a_full_disk_is_one_sentence_naming_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ExportError, match=r"^Cannot write .*a\.fits: No space left on device\.$"):
        atomic.write_atomic(tmp_path / "a.fits", b"x")
    assert os.listdir(tmp_path) == []


def test_temporaries_of_killed_writers_are_cleaned_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".a.fits.{dead_pid}.0123abcd{atomic.TEMP_SUFFIX}"
    live = tmp_path / f".a.fits.{os.getpid()}.0123abcd{atomic.TEMP_SUFFIX}"
    other = tmp_path / f".b.fits.{dead_pid}.0123abcd{atomic.TEMP_SUFFIX}"
    legacy = tmp_path / ".a.fits.k3j_x9qz.partial"
    user_file = tmp_path / ".a.fits.notes"
    for path in (stale, live, other, legacy, user_file):
        path.write_bytes(b"x")
    os.utime(legacy, (0, 0))
    assert atomic.clean_stale(tmp_path, target="a.fits") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, other, user_file))
    assert atomic.clean_stale(tmp_path) == 1 and not other.exists()
