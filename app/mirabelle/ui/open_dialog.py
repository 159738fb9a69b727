"""File ▸ Open: a file dialog listing SITELLE cubes, without Mirabelle's own flag sidecars.

``*.fits`` also matches ``<cube>.mirabelle-flags.fits``, which no name filter can leave out,
so the dialog's list goes through a proxy model that hides them. Qt applies a proxy model only
to its own (non-native) dialog, which this one therefore is.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel
from PySide6.QtWidgets import QFileDialog, QFileSystemModel, QWidget

from mirabelle.flags.storage import SIDECAR_SUFFIX

FILE_FILTERS = ("SITELLE cubes (*.hdf5 *.h5 *.hdf *.fits *.fit *.fts);;HDF5 cubes (*.hdf5 *.h5 *.hdf);;"
                "FITS cubes (*.fits *.fit *.fts);;All files (*)")


class HideFlagSidecars(QSortFilterProxyModel):
    """Rows of a QFileSystemModel, less the files named ``*.mirabelle-flags.fits``."""

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        if isinstance(model, QFileSystemModel) and model.isDir(index):
            return True
        return not str(model.data(index) or "").lower().endswith(SIDECAR_SUFFIX)


def open_cube_dialog(parent: QWidget | None, folder: str) -> QFileDialog:
    """The File ▸ Open dialog in ``folder`` (not yet shown): existing files, cube filters, no sidecars."""
    dialog = QFileDialog(parent, "Open a SITELLE cube", folder, FILE_FILTERS)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setProxyModel(HideFlagSidecars(dialog))
    return dialog


def choose_cube(parent: QWidget | None, folder: str) -> str | None:
    """Ask for a cube file (modal); its path, or None when cancelled."""
    dialog = open_cube_dialog(parent, folder)
    if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return dialog.selectedFiles()[0]
