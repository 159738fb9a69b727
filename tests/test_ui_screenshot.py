"""`mirabelle screenshot` writes a PNG of the real window, default 1400×900."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtGui import QImage

from ui_support import cube_path, write_tiny_cube  # noqa: F401


def test_screenshot_command_writes_png(cube_path, tmp_path, monkeypatch):
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "shot.png"
    from mirabelle.cli import main

    assert main(["screenshot", cube_path, str(out), "--pixel", "20", "15", "--map", "broadening"]) == 0
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1280 and image.height() >= 800


def test_screenshot_bad_cube_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.hdf5"
    bad.write_bytes(b"nope")
    result = subprocess.run([sys.executable, "-m", "mirabelle", "screenshot", str(bad), str(tmp_path / "x.png")],
                            capture_output=True, text=True, timeout=120,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path), "MIRABELLE_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2
    assert "bad.hdf5" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()
