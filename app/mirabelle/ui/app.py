"""Start the Qt application: one QApplication, the error hook, macOS file-open events, windows."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from mirabelle import __version__
from mirabelle.memory import share_malloc_arenas
from mirabelle.ui import errors
from mirabelle.ui.color_scheme import follow_system
from mirabelle.ui.first_paint import after_next_paint
from mirabelle.ui.main_window import MainWindow

class FileOpenFilter(QObject):
    """Application event filter turning macOS QFileOpenEvent into ``window.open_path``."""

    def __init__(self, window_factory) -> None:
        super().__init__()
        self._window_factory = window_factory
        self.pending: list[str] = []

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.FileOpen:
            path = event.file() or event.url().toLocalFile()
            if path:
                window = self._window_factory()
                if window is None:
                    self.pending.append(path)
                else:
                    window.open_path(path)
                return True
        return False


_open_filter: FileOpenFilter | None = None
_windows: list[MainWindow] = []


def app_icon() -> QIcon:
    from mirabelle.package_data import resource

    icon_file = resource("mirabelle.svg")
    try:
        return QIcon(str(icon_file)) if icon_file.is_file() else QIcon()
    except Exception:  # noqa: BLE001 - a zipped resource: no icon rather than no app
        return QIcon()


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), with names, icon, error hook and file-open filter."""
    global _open_filter
    app = QApplication.instance()
    if app is None:
        share_malloc_arenas()  # before Qt's and our threads: what they free can go back to the system
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setOrganizationName("Mirabelle")
    app.setApplicationName("Mirabelle")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("mirabelle")
    app.setWindowIcon(app_icon())
    if app.property("mirabelle_scheme") is None:  # once per application
        follow_system(app)
        app.setProperty("mirabelle_scheme", True)
    errors.install_excepthook()
    if _open_filter is None:
        _open_filter = FileOpenFilter(lambda: _windows[-1] if _windows else None)
        if sys.platform == "darwin":  # the only platform sending FileOpen; elsewhere the filter would
            app.installEventFilter(_open_filter)  # run Python for every event of the app (~200 a click)
    return app


WARM_UP_MODULES = ("h5py", "astropy.wcs", "astropy.coordinates", "onnxruntime", "mirabelle.cube",
                   "mirabelle.inference.runner", "mirabelle.inference.saliency", "mirabelle.lines")


def warm_up_imports() -> None:
    """Import the heavy libraries in a background thread while the empty window waits
    (astropy alone takes ~0.5 s): the first File ▸ Open then shows its image at once."""
    import importlib
    import threading

    def run() -> None:
        for name in WARM_UP_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the real open reports any problem
                pass

    threading.Thread(target=run, name="mirabelle-warm-up", daemon=True).start()


def new_window(run_inference: bool | None = None) -> MainWindow:
    """Create and show a main window, then open files that arrived before it existed."""
    window = MainWindow(run_inference=run_inference)
    _windows.append(window)
    window.destroyed.connect(lambda *_: _windows.remove(window) if window in _windows else None)
    QApplication.instance().aboutToQuit.connect(window.shutdown)  # threads joined even on Ctrl+Q/SIGTERM
    window.show()
    if _open_filter is not None:
        for path in _open_filter.pending:
            window.open_path(path)
        _open_filter.pending.clear()
    return window


def launch(paths: list[str], run_inference: bool | None = None) -> int:
    """Open ``paths`` (the first one; a window opens one cube at a time) and run the event loop."""
    app = application()
    window = new_window(run_inference=run_inference)
    if paths:  # after the empty window is on screen: it shows at once, the cube fills it when read
        after_next_paint(window, lambda: _open_first(window, paths))
    else:
        warm_up_imports()
    return int(app.exec())


def _open_first(window: MainWindow, paths: list[str]) -> None:
    """Paint the deep frame the file stores (h5py alone: ~0.1 s), then open the cube (its reader,
    WCS and astropy: ~1 s more) after that paint; without a stored frame, open at once."""
    from mirabelle.cube.hdf5 import stored_deep_frame

    preview = stored_deep_frame(paths[0])
    if preview is None:
        _open(window, paths)
        return
    window.image_view.set_deep_image(preview)
    window.deep_image_shown.emit()
    window.status.readout_label.setText(f"Opening {paths[0]}…")
    after_next_paint(window.image_view.viewport(), lambda: _open(window, paths))


def _open(window: MainWindow, paths: list[str]) -> None:
    if not window.open_path(paths[0]) and window.cube is None:  # the preview of a file that did not open
        window.image_view.set_deep_image(None)
        window.status.reset()
    if len(paths) > 1:
        window.statusBar().showMessage(
            f"Mirabelle shows one cube per window: opened {paths[0]}, ignored {len(paths) - 1} more.", 8000)
