"""The maps cache: instant reopening, partial runs kept, a changed cube or model misses."""

import os

import numpy as np
import pytest

from mirabelle.inference import cache
from mirabelle.inference.maps import KinematicMaps


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _maps(done_rows=3):
    maps = KinematicMaps.empty(5, 4, model_name="m", model_version="1", model_sha256="abc", cube_path="c")
    maps.velocity[:done_rows] = 12.5
    maps.amplitudes[:done_rows] = 2.0
    maps.quality[0, 0] = 3
    maps.done[:done_rows] = True
    return maps


def test_roundtrip_keeps_partial_maps_and_metadata(tmp_path, cache_folder):
    cube = tmp_path / "cube.hdf5"
    cube.write_bytes(b"x" * 10)
    maps = _maps()
    written = cache.save_maps(maps, cube)
    assert written.parent == cache_folder and written.suffix == ".npz"
    loaded = cache.load_maps(cube, "abc")
    assert loaded is not None and loaded.fraction_done == pytest.approx(3 / 5)
    for name, array in maps.arrays().items():
        np.testing.assert_array_equal(getattr(loaded, name), array)
    assert loaded.metadata() == maps.metadata()
    assert not list(cache_folder.glob("*.tmp"))


def test_changed_model_cube_or_settings_miss(tmp_path):
    cube = tmp_path / "cube.hdf5"
    cube.write_bytes(b"x" * 10)
    cache.save_maps(_maps(), cube)
    assert cache.load_maps(cube, "other-sha") is None
    assert cache.load_maps(cube, "abc", binning=2) is None
    assert cache.load_maps(cube, "abc", region_mask=np.ones((5, 4), bool)) is None
    stat = cube.stat()
    os.utime(cube, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.load_maps(cube, "abc") is None


def test_corrupt_or_missing_entries_read_as_none(tmp_path):
    cube = tmp_path / "cube.hdf5"
    cube.write_bytes(b"x")
    assert cache.load_maps(cube, "abc") is None
    path = cache.save_maps(_maps(), cube)
    path.write_bytes(b"not an npz")
    assert cache.load_maps(cube, "abc") is None
