"""Drive the real main window to a chosen view and save it as a PNG (used by `mirabelle screenshot`)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer

from mirabelle.errors import CubeError, ExportError


def wait_for_signal(signal, timeout_s: float) -> bool:
    """Run the event loop until ``signal`` fires or ``timeout_s`` passes; True if it fired."""
    loop = QEventLoop()
    fired = []

    def done(*_args) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(done)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(done)
    return bool(fired)


def take_screenshot(cube_path: str, out_png: str, pixel: tuple[int, int] | None = None,
                    map_name: str | None = "velocity", size: tuple[int, int] = (1400, 900),
                    stretch: str = "asinh", inference: bool = True, timeout_s: float = 600.0,
                    log: Callable[[str], None] = lambda _text: None, model: str | None = None) -> tuple[int, int]:
    """Open ``cube_path`` in a main window, wait for the deep image and inference, select
    ``pixel`` (default: brightest deep pixel), overlay ``map_name`` and save the window.

    Returns the PNG's (width, height). Raises CubeError / ExportError with a sentence.
    """
    from mirabelle.cube import open_cube
    from mirabelle.ui import errors, settings
    from mirabelle.ui.app import application
    from mirabelle.ui.main_window import MainWindow

    app = application()
    messages: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        settings.use_file(Path(scratch) / "settings.ini")  # never touch the user's settings
        old_box = errors.message_box
        errors.message_box = lambda parent, title, text, details=None, icon=None: messages.append(text)
        try:
            open_cube(cube_path).close()  # a bad file raises CubeError here, before any window
            window = MainWindow(run_inference=False, restore_settings=False)
            window.resize(*size)
            window.model_name = model
            window.state.stretch = stretch
            window.show()
            app.processEvents()
            if not window.open_path(cube_path):
                raise CubeError(messages[-1] if messages else f"{cube_path}: cannot be opened")
            if window.image_view.deep_image is None and not wait_for_signal(window.deep_image_shown, timeout_s):
                raise CubeError(f"{cube_path}: the deep image was not ready after {timeout_s:.0f} s")
            if inference:
                finished = []
                window.inference_finished.connect(finished.append)
                window.start_inference()
                if window.inference_running and not finished:
                    wait_for_signal(window.inference_finished, timeout_s)
                if window.maps is None:
                    log(f"mirabelle screenshot: no kinematics ({window.model_error or 'inference did not run'})")
            window.state.overlay_map = map_name if window.maps is not None else None
            if pixel is None:
                deep = window.image_view.deep_image
                pixel = tuple(int(v) for v in np.unravel_index(np.nanargmax(deep), deep.shape))
            nx, ny = window.cube.nx, window.cube.ny
            if not (0 <= pixel[0] < nx and 0 <= pixel[1] < ny):
                raise CubeError(f"--pixel: expected 0 ≤ x < {nx} and 0 ≤ y < {ny}, found {pixel}")
            shown = []
            window.pixel_data_shown.connect(shown.append)
            window.state.selected_pixel = pixel
            if not shown:
                wait_for_signal(window.pixel_data_shown, 60.0)
            window.statusBar().clearMessage()
            window.status.readout_label.setText(window.readout_text(*pixel))
            for _ in range(3):  # let layouts and pyqtgraph settle
                app.processEvents()
            image = window.grab().toImage()
            if not image.save(out_png, "PNG"):
                raise ExportError(f"{out_png}: expected a writable PNG file, Qt could not write it")
            width, height = image.width(), image.height()
            window.close()
            return width, height
        finally:
            errors.message_box = old_box
            settings.use_file(None)
