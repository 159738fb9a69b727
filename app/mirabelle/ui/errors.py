"""Show our errors as readable dialogs and send every other exception to one switchable hook.

* :func:`show_error` presents a :class:`~mirabelle.errors.MirabelleError` (or any message)
  as a non-blocking ``QMessageBox``: the sentence on top, details behind "Show Details…".
* :func:`report_exception` is the single entry for unexpected exceptions: from
  ``sys.excepthook`` (Qt slots, event handlers) and from worker threads. By default it
  prints the traceback to stderr and shows a short dialog (never a bare traceback).
  Tests replace the behaviour with :func:`set_unexpected_hook` (e.g. to collect and fail).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from mirabelle.errors import MirabelleError

UnexpectedHook = Callable[[BaseException], None]

_unexpected_hook: UnexpectedHook | None = None
_previous_excepthook = None


def message_box(parent: QWidget | None, title: str, text: str, details: str | None = None,
                icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> QMessageBox:
    """Create and open a window-modal message box without blocking the event loop.

    Tests monkeypatch this function to capture messages.
    """
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)  # Qt adds the "Show Details…" button
    box.open()
    return box


def show_error(parent: QWidget | None, error: BaseException | str, title: str = "Mirabelle") -> None:
    """Show one of our errors as its sentence; causes and the traceback go behind a button."""
    if isinstance(error, str):
        message_box(parent, title, error)
        return
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    if cause is not None and not isinstance(error, MirabelleError):
        text = f"{text} ({cause})"
    message_box(parent, title, text, details)


def set_unexpected_hook(hook: UnexpectedHook | None) -> UnexpectedHook | None:
    """Route unexpected exceptions to ``hook`` (None restores the default); returns the old one."""
    global _unexpected_hook
    old, _unexpected_hook = _unexpected_hook, hook
    return old


class _MainThreadRelay(QObject):
    """Carries exceptions raised in worker threads to the GUI thread."""

    raised = Signal(object)

    @Slot(object)
    def deliver(self, exc: BaseException) -> None:
        _handle_on_gui_thread(exc)


_relay: _MainThreadRelay | None = None


def report_exception(exc: BaseException) -> None:
    """Hand one unexpected exception to the hook, on the GUI thread. Safe from any thread."""
    global _relay
    app = QApplication.instance()
    if app is None:
        _default_unexpected(exc)
        return
    if _relay is None:
        _relay = _MainThreadRelay()
        _relay.moveToThread(app.thread())
        _relay.raised.connect(_relay.deliver, Qt.ConnectionType.QueuedConnection)
    if QThread.currentThread() == app.thread():  # already on the GUI thread
        _handle_on_gui_thread(exc)
    else:
        _relay.raised.emit(exc)


def _handle_on_gui_thread(exc: BaseException) -> None:
    if isinstance(exc, MirabelleError):
        show_error(QApplication.activeWindow(), exc)
        return
    if _unexpected_hook is not None:
        _unexpected_hook(exc)
    else:
        _default_unexpected(exc)


def _default_unexpected(exc: BaseException) -> None:
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if QApplication.instance() is None:
        return
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message_box(
        QApplication.activeWindow(),
        "Mirabelle: unexpected error",
        f"Something went wrong inside Mirabelle ({type(exc).__name__}: {exc}). "
        "The window stays usable; please report this with the details.",
        details,
        QMessageBox.Icon.Critical,
    )


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        QApplication.quit()
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    report_exception(exc)


def install_excepthook() -> None:
    """Make ``sys.excepthook`` (exceptions escaping Qt slots and handlers) use the hook."""
    global _previous_excepthook
    if sys.excepthook is not _excepthook:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook


def uninstall_excepthook() -> None:
    if sys.excepthook is _excepthook and _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
