"""`mirabelle demo`: writes the demo cube once under the user data dir, then opens it."""

import h5py
import pytest

from mirabelle import cli
from mirabelle.commands import demo
from mirabelle.synthetic import read_truth


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path


def test_demo_no_gui_writes_once_and_prints_path(data_home, capsys):
    assert cli.main(["demo", "--no-gui", "--size", "24"]) == 0
    out, err = capsys.readouterr()
    path = data_home / "mirabelle" / "demo" / "demo_sn3.hdf5"
    assert out.strip() == str(path) and demo.demo_path() == path
    assert "100%" in err
    with h5py.File(path, "r") as f:
        assert f["data"].shape[:2] == (24, 22) and "axis_corr" in f.attrs
    assert read_truth(path).double.any()
    assert not list(path.parent.glob("*.partial"))

    mtime = path.stat().st_mtime_ns
    assert cli.main(["demo", "--no-gui", "--size", "30"]) == 0  # present: kept as is
    assert path.stat().st_mtime_ns == mtime
    assert capsys.readouterr().err == ""
    assert cli.main(["demo", "--no-gui", "--size", "30", "--force"]) == 0
    with h5py.File(path, "r") as f:
        assert f["data"].shape[:2] == (30, 27)


def test_demo_opens_the_gui_on_the_cube(data_home, monkeypatch):
    from mirabelle.commands import gui

    opened = []
    monkeypatch.setattr(gui, "launch", lambda paths: opened.append(paths) or 7)
    assert cli.main(["demo", "--size", "16"]) == 7
    assert opened == [[str(data_home / "mirabelle" / "demo" / "demo_sn3.hdf5")]]


def test_demo_too_small_is_a_clear_error(data_home, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--no-gui", "--size", "3"])
    assert exit_info.value.code == 2
    assert "3 is too small" in capsys.readouterr().err
    assert not (data_home / "mirabelle").exists()


def test_demo_on_a_full_disk_is_one_sentence_and_leaves_nothing(data_home, monkeypatch, capsys):
    import errno

    import mirabelle.synthetic

    def disk_fills(path, **_kwargs):  # runs in the writer's child process
        with h5py.File(path, "w") as f:
            f.create_dataset("data", shape=(4, 4, 4))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mirabelle.synthetic, "write_synthetic_cube", disk_fills)
    assert cli.main(["demo", "--no-gui", "--size", "16"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("demo_sn3.hdf5 (no space left on the disk)") and "Traceback" not in err
    assert list((data_home / "mirabelle" / "demo").iterdir()) == []


def test_demo_refuses_before_writing_when_the_disk_is_too_small(data_home, monkeypatch, capsys):
    import collections
    import shutil

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _folder: usage(2**21, 2**20, 2**20))
    assert cli.main(["demo", "--no-gui", "--size", "40"]) == 2
    assert "the disk has 1.0 MB free" in capsys.readouterr().err
    assert list((data_home / "mirabelle" / "demo").iterdir()) == []
