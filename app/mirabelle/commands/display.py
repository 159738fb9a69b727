"""Can Qt open a window here? Checked before the QApplication exists, because Qt's answer to a
missing display or a missing X11 library is an abort with a core dump, not an exception."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

from mirabelle.errors import MirabelleError

XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
"""Libraries Qt's xcb (X11) platform plugin links against that desktops often lack, with their
Debian/Ubuntu package names (ldd of PySide6's libqxcb.so and libQt6XcbQpa.so.6)."""

HEADLESS = ("run it headless with QT_QPA_PLATFORM=offscreen (`mirabelle screenshot` does so), "
            "use `mirabelle predict CUBE` for the priors, or start it under `xvfb-run`")

WINDOWLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay", "minimalegl")


class DisplayError(MirabelleError):
    """Qt cannot open a window on this machine."""


def _loadable(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (the same search Qt's plugin load does)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def display_problem(environ: Mapping[str, str] | None = None, platform: str | None = None,
                    loadable: Callable[[str], bool] = _loadable) -> str | None:
    """One sentence saying why Qt could not open a window here, or None when it can.

    ``environ`` defaults to ``os.environ``, ``platform`` to ``sys.platform``; ``loadable`` tells
    whether a shared library loads (tests pass a fake).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their native platform plugin
    requested = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if requested in WINDOWLESS_PLATFORMS:
        return None
    wayland = requested.startswith("wayland") or (not requested and environ.get("WAYLAND_DISPLAY"))
    if wayland:
        if environ.get("WAYLAND_DISPLAY"):
            return None
        return f"Cannot open a window: QT_QPA_PLATFORM asks for Wayland but WAYLAND_DISPLAY is unset; {HEADLESS}."
    if not environ.get("DISPLAY"):
        return f"Cannot open a window: there is no display (DISPLAY and WAYLAND_DISPLAY are unset); {HEADLESS}."
    missing = [soname for soname in XCB_LIBRARIES if not loadable(soname)]
    if missing:
        packages = " ".join(XCB_LIBRARIES[soname] for soname in missing)
        return (f"Cannot open a window: Qt's X11 platform needs libraries that are not installed "
                f"({', '.join(missing)}); install them (Debian/Ubuntu: sudo apt-get install {packages}) "
                f"or {HEADLESS}.")
    return None


def check_display() -> None:
    """Raise DisplayError (one sentence) when Qt could not open a window here."""
    problem = display_problem()
    if problem:
        raise DisplayError(problem)
