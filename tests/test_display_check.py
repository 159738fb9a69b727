"""Without a display or Qt's X11 libraries, `mirabelle` and `mirabelle demo` say so in one sentence
(and how to run headless) instead of Qt's abort and core dump."""

import os
import subprocess
import sys

import pytest

from mirabelle.commands.display import XCB_LIBRARIES, display_problem


def _no_display_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


@pytest.mark.parametrize("command", [[], ["demo"]])
def test_without_a_display_the_app_says_what_is_missing(tmp_path, command):
    result = subprocess.run([sys.executable, "-m", "mirabelle", *command], env=_no_display_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "there is no display" in lines[0]
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "mirabelle predict" in lines[0]
    assert "xcb" not in lines[0] and "core dump" not in result.stderr
    assert not (tmp_path / "data").exists()  # the demo cube is not written first


def test_missing_xcb_libraries_are_named_with_their_packages():
    missing = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    problem = display_problem({"DISPLAY": ":0"}, "linux", loadable=lambda soname: soname not in missing)
    assert problem is not None
    for soname in missing:
        assert soname in problem
    assert "apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1)" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem


def test_a_usable_display_or_a_windowless_platform_passes():
    every = lambda soname: True  # noqa: E731
    none = lambda soname: False  # noqa: E731
    assert display_problem({"DISPLAY": ":0"}, "linux", loadable=every) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", loadable=none) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", loadable=none) is None
    assert display_problem({}, "win32", loadable=none) is None
    assert display_problem({}, "darwin", loadable=none) is None
    assert "WAYLAND_DISPLAY is unset" in display_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"},
                                                         "linux", loadable=every)
    assert set(XCB_LIBRARIES.values()) >= {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"}
