"""Write a set of files as a unit: staged in a hidden folder, switched in by one rename.

A kill at any point leaves the previous set or the new one, never a mix:

* **Swap** (the folder is absent, or holds only files of this export): the set is written
  into ``.<folder>.mirabelle-staging-<pid>`` beside it, which then replaces the folder in
  one atomic exchange (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames, the
  old set kept as ``.<folder>.mirabelle-old-<pid>`` until the new one is in place).
* **In place** (the folder also holds the user's own files, e.g. a cube folder): the set is
  staged in ``<folder>/.mirabelle-staging-<pid>``, a marker ``.mirabelle-export-incomplete``
  is written, the files are renamed in, the marker removed. A kill between leaves the marker,
  and the next export into the folder finishes the renames (roll forward) first.

An :class:`~mirabelle.locking.OutputLock` on the folder is held from :func:`reserve` (before
computing) to the commit, so a second writer is refused with the first one's pid; holding it
also makes every staging or old folder of this name stale, and they are removed or restored.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from mirabelle.atomic import clean_stale, create_exclusive, discard, fsync_folder
from mirabelle.errors import ExportError
from mirabelle.locking import OutputLock

STAGING = ".mirabelle-staging-"
OLD = ".mirabelle-old-"
INCOMPLETE = ".mirabelle-export-incomplete"
"""Marker file of an in-place export whose renames were interrupted."""


def _real_folder(folder) -> Path:
    return Path(os.path.realpath(os.path.expanduser(folder)))


def _lock(folder: Path) -> OutputLock:
    """The folder's lock: beside it, or inside it when its parent is read-only (then never swapped)."""
    inside = folder.is_dir() and not _parent_writable(folder)
    return OutputLock(folder, f"the export folder {folder}", path=folder / ".mirabelle-lock" if inside else None)


def _parent_writable(folder: Path) -> bool:
    return os.access(folder.parent, os.W_OK | os.X_OK)


def recover(folder: Path) -> None:
    """Undo what a killed export of ``folder`` left (call with the folder's lock held)."""
    parent, prefix = folder.parent, f".{folder.name}"
    try:
        siblings = sorted(os.listdir(parent))
    except OSError:
        siblings = []
    for name in siblings:
        path = parent / name
        if name.startswith(prefix + OLD):
            if folder.exists():
                shutil.rmtree(path, ignore_errors=True)
            else:  # killed between the two renames of the fallback swap: the old set goes back
                os.rename(path, folder)
        elif name.startswith(prefix + STAGING):
            shutil.rmtree(path, ignore_errors=True)
    if not folder.is_dir():
        return
    marker = folder / INCOMPLETE
    for name in sorted(os.listdir(folder)):
        if name.startswith(STAGING):
            staged = folder / name
            if marker.exists() and _is_ready(staged):
                _move_in(staged, folder)
            shutil.rmtree(staged, ignore_errors=True)
    discard(marker)
    clean_stale(folder)


def _is_ready(staged: Path) -> bool:
    """True when a staging folder was complete (its list of names was written last)."""
    return (staged / INCOMPLETE).is_file()


def _move_in(staged: Path, folder: Path) -> None:
    """Rename every staged file of an in-place export into ``folder``; its marker last."""
    names = json.loads((staged / INCOMPLETE).read_text())
    for name in names["write"]:
        if (staged / name).exists():
            os.replace(staged / name, folder / name)
    for name in names["remove"]:
        discard(folder / name)
    fsync_folder(folder)


@contextmanager
def reserve(folder):
    """Hold ``folder``'s export lock, clean what killed runs left and check that the folder can be
    created and written: before computing, so neither a second writer nor a read-only disk is
    found only after the inference. A :class:`StagedFolder` inside takes the same lock again."""
    folder = _real_folder(folder)
    with _lock(folder):
        recover(folder)
        _probe(folder)
        yield folder


def _check_names(folder: Path, names, overwrite: bool) -> None:
    existing = [name for name in names if (folder / name).exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:6]) + (f" and {len(existing) - 6} more" if len(existing) > 6 else "")
        raise ExportError(f"{folder}: expected no existing export files (use overwrite to replace them), "
                          f"found {shown}.")


def _probe(folder: Path) -> None:
    """ExportError unless a staging folder can be made where this export would make one."""
    where = folder if _in_place(folder, ()) else folder.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        probe = where / f"{STAGING}{os.getpid()}-probe"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise ExportError(f"{folder}: expected a folder that can be created and written, "
                          f"found {exc.strerror or exc}.") from None


def _in_place(folder: Path, owned) -> bool:
    """True when ``folder`` holds entries that are not this export's own files (or cannot be
    swapped: its parent is read-only)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    if not _parent_writable(folder):
        return True
    ours = {".mirabelle-lock", INCOMPLETE}
    return any(name not in owned and name not in ours and not name.startswith(STAGING) for name in entries)


class StagedFolder:
    """The files of one export, staged and committed as a unit (see the module docstring).

    Use as a context manager; leaving it with an exception (a full disk, a failed render)
    deletes the staging folder, so ``folder`` keeps its previous set. Existing files of
    ``names`` are refused unless ``overwrite``. ``owned`` lists every name an export of this
    kind may write (default ``names``): with only those present the whole folder is swapped,
    and older files of the set that this export does not write go with it.
    """

    def __init__(self, folder: str | os.PathLike, names, overwrite: bool = False, owned=None):
        self.folder = _real_folder(folder)
        self.names = list(names)
        self._owned = set(self.names) | set(owned or ())
        self._lock = _lock(self.folder).acquire()
        try:
            recover(self.folder)
            _check_names(self.folder, self.names, overwrite)
            self._in_place = _in_place(self.folder, self._owned)
            parent = self.folder if self._in_place else self.folder.parent
            prefix = "" if self._in_place else f".{self.folder.name}"
            self._staging = parent / f"{prefix}{STAGING}{os.getpid()}"
            parent.mkdir(parents=True, exist_ok=True)
            self._staging.mkdir()
        except OSError as exc:
            self._lock.release()
            if isinstance(exc, ExportError):
                raise
            raise ExportError(f"{self.folder}: expected a folder that can be created and written, "
                              f"found {exc.strerror or exc}.") from None
        except BaseException:
            self._lock.release()
            raise
        self._written: set[str] = set()

    def write(self, name: str, payload: bytes) -> None:
        """Stage ``payload`` as file ``name`` (raises ExportError when it cannot be written)."""
        if name not in self.names:
            raise ValueError(f"{name} was not announced to the staged folder")
        try:
            with os.fdopen(create_exclusive(self._staging / name), "wb") as stream:
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise ExportError(f"{self.folder / name}: could not be written ({exc.strerror or exc}).") from None
        self._written.add(name)

    def commit(self) -> list[Path]:
        """Switch the staged set in; returns the final paths."""
        missing = [name for name in self.names if name not in self._written]
        if missing:
            raise ValueError(f"files announced but not written: {missing}")
        try:
            if self._in_place:
                self._commit_in_place()
            else:
                self._swap()
        except OSError as exc:
            raise ExportError(f"{self.folder}: could not switch the exported files in "
                              f"({exc.strerror or exc}); the previous files are kept.") from None
        finally:
            self._close()
        return [self.folder / name for name in self.names]

    def _swap(self) -> None:
        fsync_folder(self._staging)
        parent = self.folder.parent
        if not self.folder.exists():
            os.rename(self._staging, self.folder)
        elif _exchange(self._staging, self.folder):
            shutil.rmtree(self._staging, ignore_errors=True)  # now the previous set
        else:
            old = parent / f".{self.folder.name}{OLD}{os.getpid()}"
            os.rename(self.folder, old)
            os.rename(self._staging, self.folder)
            shutil.rmtree(old, ignore_errors=True)
        fsync_folder(parent)

    def _commit_in_place(self) -> None:
        stale = sorted(name for name in self._owned - set(self.names) if (self.folder / name).exists())
        plan = {"write": self.names, "remove": stale}
        with os.fdopen(create_exclusive(self._staging / INCOMPLETE), "w") as stream:
            json.dump(plan, stream)
            stream.flush()
            os.fsync(stream.fileno())
        fsync_folder(self._staging)
        with os.fdopen(create_exclusive(self.folder / INCOMPLETE), "w") as stream:
            stream.write("Mirabelle was interrupted while replacing the exported files here; the next export "
                         "into this folder completes it.\n")
        _move_in(self._staging, self.folder)
        discard(self.folder / INCOMPLETE)

    def abort(self) -> None:
        """Delete the staged files; the folder keeps its previous set."""
        self._close()

    def _close(self) -> None:
        shutil.rmtree(self._staging, ignore_errors=True)
        self._lock.release()

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def output_folders(cubes, output_parent) -> list:
    """``<stem>_priors`` per cube (beside it or under ``output_parent``); cubes whose folders
    would coincide (same stem) get ``<stem>-2_priors``, ``-3``, ... in the order given."""
    folders, taken = [], set()
    for cube in cubes:
        cube = Path(cube)
        parent = Path(output_parent) if output_parent else cube.parent
        folder, number = parent / f"{cube.stem}_priors", 1
        while str(folder.absolute()) in taken:
            number += 1
            folder = parent / f"{cube.stem}-{number}_priors"
        taken.add(str(folder.absolute()))
        folders.append(folder)
    return folders
