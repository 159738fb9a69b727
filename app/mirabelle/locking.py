"""Exclusive locks between processes writing the same output (an export folder, a flag sidecar).

A lock is a hidden file beside the output, held with ``fcntl.flock`` and holding the owner's
pid and command line, so a second writer is refused with a sentence naming the first. The
kernel drops a killed owner's lock, so a kill never leaves a folder locked. Within one
process the lock is re-entrant: a command may reserve its output folder before computing and
the writer take it again at the end. Where ``fcntl`` is missing (Windows) the lock file is
created exclusively and a dead owner's file is taken over.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from mirabelle.atomic import discard, pid_alive
from mirabelle.errors import ExportError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_SUFFIX = ".mirabelle-lock"

_held: dict[str, list] = {}  # lock path -> [fd, count]
_held_guard = threading.Lock()


def lock_path(target: str | os.PathLike) -> Path:
    """The lock file of ``target``: ``.<name>.mirabelle-lock`` in the same folder."""
    target = Path(os.path.abspath(target))
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


class OutputLock:
    """Exclusive lock on writing ``target`` (a file or folder); a context manager.

    ``what`` names the output in the refusal, e.g. "the export folder /data/m31_priors";
    ``path`` overrides the lock file (default :func:`lock_path`).
    """

    def __init__(self, target: str | os.PathLike, what: str, path: str | os.PathLike | None = None):
        self.path = lock_path(target) if path is None else Path(os.path.abspath(path))
        self.what = what
        self._owned = False

    def acquire(self) -> OutputLock:
        """Take the lock or raise ExportError naming the process holding it."""
        key = str(self.path)
        with _held_guard:
            if key in _held:
                _held[key][1] += 1
                self._owned = True
                return self
            fd = _take(self.path, self.what)
            _held[key] = [fd, 1]
        self._owned = True
        return self

    def release(self) -> None:
        """Give the lock back (the lock file goes with the last holder in this process)."""
        if not self._owned:
            return
        self._owned = False
        key = str(self.path)
        with _held_guard:
            entry = _held.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _held[key]
            discard(self.path)  # unlinked while still locked: a waiting process then retries
            if entry[0] is not None:
                os.close(entry[0])

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _owner_text(path: Path) -> str:
    # the holder stamps its pid right after taking the lock: give it a moment to appear
    text = ""
    for _attempt in range(20):
        try:
            text = path.read_text(errors="replace").strip()
        except OSError:
            return "another process"
        if text:
            break
        time.sleep(0.01)
    pid, _, command = text.partition(" ")
    return f"process {pid} ({command[:80]})" if pid.isdigit() else "another process"


def _refusal(what: str, path: Path) -> ExportError:
    return ExportError(f"{what} is being written by {_owner_text(path)}: wait until it has finished, "
                       "or write elsewhere.")


def _stamp(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200]}\n".encode())


def _take(path: Path, what: str) -> int | None:
    """Open and lock ``path``; the fd stays open while the lock is held."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot write {what}: expected a folder that can be created, "
                          f"found {exc.strerror or exc}.") from None
    if fcntl is None:
        return _take_exclusive(path, what)
    for _attempt in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise ExportError(f"Cannot write {what}: expected a writable folder, "
                              f"found {exc.strerror or exc}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _refusal(what, path) from None
        except OSError:  # a file system without locks: write unguarded rather than not at all
            _stamp(fd)
            return fd
        try:  # the previous holder may have unlinked the file between our open and our lock
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except OSError:
            same = False
        if same:
            _stamp(fd)
            return fd
        os.close(fd)
    raise _refusal(what, path)


def _take_exclusive(path: Path, what: str) -> None:  # pragma: no cover - Windows
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            owner = _owner_text(path).split(" ")
            if len(owner) > 1 and owner[1].isdigit() and not pid_alive(int(owner[1])):
                discard(path)
                continue
            raise _refusal(what, path) from None
        _stamp(fd)
        os.close(fd)
        return None
    raise _refusal(what, path)
