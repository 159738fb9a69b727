"""Fixtures and helpers shared by the main-window tests: tiny cubes, window factory, error capture."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mirabelle.ui import errors as ui_errors
from mirabelle.ui import settings, tasks
from mirabelle.ui.main_window import MainWindow


def write_tiny_cube(path, nx: int = 24, ny: int = 20, bright=(5, 7), with_deep: bool = True) -> str:
    """A calibrated ORB-layout SN3 HDF5 cube: Hα + [NII] with a velocity gradient, one bright pixel."""
    import h5py

    from mirabelle.lines import C_KMS, REST_NM, axis_cm1, line_position_cm1, sinc_fwhm_cm1, sincgauss

    step, order, step_nb, zpd = 2943.025792, 8, 840, 168
    full = axis_cm1(step, order, step_nb, 1.0)
    keep = (full > 14600) & (full < 15440)
    axis = full[keep]
    fwhm = float(sinc_fwhm_cm1(step, step_nb, zpd, 1.0))
    rng = np.random.default_rng(0)
    data = np.zeros((nx, ny, axis.size), dtype=np.complex64)
    for x in range(nx):
        for y in range(ny):
            v = -100.0 + 10.0 * x
            spec = np.full(axis.size, 5.0)
            for name, amp in (("Halpha", 100.0), ("NII6583", 40.0), ("NII6548", 13.0)):
                x0 = float(line_position_cm1(REST_NM[name], v))
                spec += sincgauss(axis, x0, fwhm, x0 * 30.0 / C_KMS, amp)
            data[x, y].real = spec + rng.normal(0, 2.0, axis.size)
    data[bright[0], bright[1]].real *= 10.0
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data, chunks=True)
        if with_deep:
            f.create_dataset("deep_frame", data=data.real.sum(axis=2).astype(np.float32))
        attrs = dict(step=step, order=order, step_nb=step_nb, zpd_index=zpd, filter_name="SN3",
                     nm_laser=543.5, axis_corr=1.0, base_axis=axis, apodization=1.0,
                     exposure_time=13.7, object_name="TINY", wavenumber=True,
                     CTYPE1="RA---TAN", CTYPE2="DEC--TAN", CRPIX1=12.0, CRPIX2=10.0,
                     CRVAL1=10.684, CRVAL2=41.269, CDELT1=-0.000089, CDELT2=0.000089,
                     CUNIT1="deg", CUNIT2="deg", RADESYS="FK5", EQUINOX=2000.0)
        for key, value in attrs.items():
            f.attrs[key] = value
    return str(path)


@pytest.fixture
def cube_path(synthetic_cube_path):
    """The shared small synthetic cube (tests/conftest.py) as a string."""
    return str(synthetic_cube_path)


@pytest.fixture
def tiny_cube_path(tmp_path):
    return write_tiny_cube(tmp_path / "tiny_bright.hdf5")


@pytest.fixture
def unexpected_errors():
    """Collect unexpected exceptions instead of showing dialogs; the test fails on any."""
    caught: list[BaseException] = []
    old = ui_errors.set_unexpected_hook(caught.append)
    yield caught
    ui_errors.set_unexpected_hook(old)
    assert not caught, f"unexpected exceptions: {caught!r}"


@pytest.fixture
def messages(monkeypatch):
    """Capture message boxes (title, text, details) instead of showing them."""
    shown: list[tuple[str, str, str | None]] = []

    def fake(parent, title, text, details=None, icon=None):
        shown.append((title, text, details))

    monkeypatch.setattr(ui_errors, "message_box", fake)
    monkeypatch.setattr("mirabelle.ui.main_window.message_box", fake, raising=False)
    return shown


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, unexpected_errors, messages):
    """Factory of main windows with settings and map cache in temp dirs; closes them, waits for
    their workers and fails when a worker or an inference thread outlives them."""
    settings.use_file(tmp_path / "settings.ini")
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    windows: list[MainWindow] = []

    def factory(run_inference: bool = False) -> MainWindow:
        window = MainWindow(run_inference=run_inference)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.shutdown()
        assert not window.inference_running
    assert tasks.wait_for_workers(10000), "workers still running 10 s after the windows closed"
    qtbot.waitUntil(lambda: tasks.running_workers() == 0, timeout=5000)  # their callbacks ran too
    leaked = [thread.name for thread in threading.enumerate() if thread.name.startswith("mirabelle-")]
    assert not leaked, f"threads left running: {leaked}"
    settings.use_file(None)


def open_and_wait(qtbot, window: MainWindow, path: str) -> None:
    with qtbot.waitSignal(window.deep_image_shown, timeout=10000):
        assert window.open_path(path)
