"""Write a set of files into a folder all or nothing: temporary files first, renames at the end."""

from __future__ import annotations

import os
from pathlib import Path

from mirabelle.atomic import create_exclusive, temporary_path
from mirabelle.errors import ExportError


class StagedFolder:
    """Files staged as hidden temporaries in ``folder`` and renamed into place by :meth:`commit`.

    Use as a context manager: leaving it with an exception (a full disk, a failed render)
    deletes every temporary, so the folder holds either the complete new set or nothing
    new. Existing files are refused unless ``overwrite``.

    Parameters
    ----------
    folder : path
        Created (with parents) when missing.
    names : iterable of str
        Every file name that will be written, checked against existing files up front.
    overwrite : bool
        Replace existing files of the same names.
    """

    def __init__(self, folder: str | os.PathLike, names, overwrite: bool = False):
        self.folder = Path(folder)
        self.names = list(names)
        existing = [name for name in self.names if (self.folder / name).exists()]
        if existing and not overwrite:
            shown = ", ".join(existing[:6]) + (f" and {len(existing) - 6} more" if len(existing) > 6 else "")
            raise ExportError(f"{self.folder}: expected no existing export files (use overwrite to replace them), "
                              f"found {shown}.")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"{self.folder}: expected a folder that can be created, "
                              f"found {exc.strerror or exc}.") from exc
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise ExportError(f"{self.folder}: expected a writable folder, found it read-only.")
        self._staged: dict[str, str] = {}

    def write(self, name: str, payload: bytes) -> None:
        """Stage ``payload`` as file ``name`` (raises ExportError when it cannot be written)."""
        if name not in self.names:
            raise ValueError(f"{name} was not announced to the staged folder")
        try:
            temporary = str(temporary_path(self.folder / name))
            handle = create_exclusive(temporary)
        except OSError as exc:
            raise ExportError(f"{self.folder / name}: could not be written ({exc.strerror or exc}).") from exc
        self._staged[name] = temporary
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(payload)
        except OSError as exc:
            raise ExportError(f"{self.folder / name}: could not be written ({exc.strerror or exc}).") from exc

    def commit(self) -> list[Path]:
        """Rename every staged file into place; returns the final paths."""
        missing = [name for name in self.names if name not in self._staged]
        if missing:
            raise ValueError(f"files announced but not written: {missing}")
        done = []
        try:
            for name in self.names:
                os.replace(self._staged.pop(name), self.folder / name)
                done.append(self.folder / name)
        except OSError as exc:
            raise ExportError(f"{self.folder}: could not rename the exported files into place "
                              f"({exc.strerror or exc}); {len(done)} of {len(self.names)} were.") from exc
        return done

    def abort(self) -> None:
        """Delete every staged temporary."""
        for temporary in self._staged.values():
            try:
                os.unlink(temporary)
            except OSError:
                pass
        self._staged.clear()

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.abort()
