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
