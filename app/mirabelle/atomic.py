"""Every file Mirabelle writes goes through here: a temporary beside the target, fsync, one rename.

A reader, a crash or a kill sees the old file or the new one, never half of one. Temporaries
are created with mode 0o666 so the kernel applies the user's umask (``tempfile.mkstemp``
would force 0o600 and hide priors from collaborators). Their names carry the writer's pid
(``.<name>.<pid>.<random>.mirabelle-tmp``), so :func:`clean_stale` can remove the ones a
killed process left without touching those of a live writer.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from mirabelle.errors import ExportError

TEMP_SUFFIX = ".mirabelle-tmp"
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + "$")
# Temporaries of Mirabelle versions before this module (mkstemp names, no pid): removed when old.
_LEGACY_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.(partial|tmp)$")
LEGACY_AGE_S = 3600.0
"""A pid-less temporary older than this (s) belongs to no running writer."""


def temporary_path(target: str | os.PathLike) -> Path:
    """A fresh hidden temporary name beside ``target`` tagged with this process's pid."""
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def create_exclusive(path: str | os.PathLike) -> int:
    """Open a new file for writing (fails if it exists); mode 0o666 less the umask. Returns the fd."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: str | os.PathLike, fsync: bool = True) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` when the block ends without error.

    The folder is created when missing. On an exception (a full disk, a failed render)
    the temporary is deleted and ``path`` is left as it was.

    Raises
    ------
    ExportError
        Naming ``path`` and the system's reason when the folder or the disk refuses it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_path(path)
        fd = create_exclusive(temporary)
    except OSError as exc:
        raise ExportError(f"Cannot write {path}: expected a writable folder, found {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            if fsync:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        discard(temporary)
        if isinstance(exc, OSError) and not isinstance(exc, ExportError):
            raise ExportError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        raise
    if fsync:
        fsync_folder(path.parent)


def write_atomic(path: str | os.PathLike, payload: bytes, fsync: bool = True) -> Path:
    """Write ``payload`` to ``path`` atomically (see :func:`atomic_open`); returns the path."""
    with atomic_open(path, fsync=fsync) as stream:
        stream.write(payload)
    return Path(path)


def discard(path: str | os.PathLike) -> None:
    """Delete a file if it exists, ignoring every error (cleanup on a failure path)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this machine (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def is_stale_temporary(name: str, folder: str | os.PathLike, target: str | None = None) -> bool:
    """True for a Mirabelle temporary (of ``target`` if given) whose writer is gone."""
    match = _TEMP_NAME.match(name)
    if match:
        return (target is None or match["target"] == target) and not pid_alive(int(match["pid"]))
    legacy = _LEGACY_NAME.match(name)
    if legacy and (target is None or legacy["target"] == target):
        try:
            return time.time() - os.lstat(os.path.join(folder, name)).st_mtime > LEGACY_AGE_S
        except OSError:
            return False
    return False


def clean_stale(folder: str | os.PathLike, target: str | None = None) -> int:
    """Delete the temporaries killed writers left in ``folder`` (only ``target``'s if given).

    Returns how many were removed; an unreadable folder removes none.
    """
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if is_stale_temporary(name, folder, target):
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                continue
            discard(path)
            removed += 1
    return removed
