"""Flag autosave: a mask written at most a moment after it changes, and unusable flag files kept aside."""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from mirabelle.errors import MirabelleError
from mirabelle.flags import FlagMask
from mirabelle.flags.storage import flags_lock, save_mask

AUTOSAVE_DELAY_MS = 300


class FlagAutosave(QObject):
    """Writes a mask to ``path`` at most ``delay_ms`` after the first unsaved change.

    The timer is not restarted by later changes, so continuous painting is still saved
    every ``delay_ms``. Each write is atomic (temporary file + rename). ``saved(path)``
    after each write; ``failed(message)`` when the folder refuses it.
    """

    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, flags: FlagMask, path: str | Path, wcs=None, delay_ms: int = AUTOSAVE_DELAY_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        # astropy writes the mask: loaded now, as a cube gets its flags, so the first save does not wait
        # ~0.4 s for it (not with the window either: that would delay the launch's first paint)
        import astropy.io.fits  # noqa: F401

        self.flags = flags
        self.path = Path(path)
        self.wcs = wcs
        self.last_saved: float | None = None
        self._dirty = False
        self._hold = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)
        flags.changed.append(self._on_model_changed)

    @property
    def pending(self) -> bool:
        """True while a change waits to be written."""
        return self._dirty

    def _on_model_changed(self, _box) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> bool:
        """Write now if anything is unsaved; True on success (or nothing to do)."""
        self._timer.stop()
        if not self._dirty:
            return True
        try:
            if self._hold is None:  # kept until detach: a second app on this cube is refused
                self._hold = flags_lock(self.path).acquire()
            save_mask(self.path, self.flags.data, wcs=self.wcs)
        except MirabelleError as exc:
            self.failed.emit(str(exc))
            return False
        self._dirty = False
        self.last_saved = time.time()
        self.saved.emit(str(self.path))
        return True

    def detach(self) -> None:
        """Flush and stop listening to the mask."""
        self.flush()
        if self._hold is not None:
            self._hold.release()
            self._hold = None
        if self._on_model_changed in self.flags.changed:
            self.flags.changed.remove(self._on_model_changed)


def keep_aside(path: Path) -> str:
    """Rename an unusable flag file so the next autosave does not replace it; says where it went."""
    backup = path.with_name(path.name + ".bak")
    try:
        os.replace(path, backup)
    except OSError:
        return ""
    return f" It was kept as {backup}."
