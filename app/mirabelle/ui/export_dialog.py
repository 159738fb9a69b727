"""The "Export ORCS priors" dialog: pick a folder and options, see the ORCS snippet, export off the GUI thread.

It calls the same function as ``mirabelle predict``
(:func:`mirabelle.export.priors.write_priors`), in a worker thread, and reports the result
as one sentence (our :class:`~mirabelle.errors.MirabelleError` text; never a traceback).
Existing files are never replaced silently: the first attempt names them and turns the
button into "Overwrite".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mirabelle.errors import MirabelleError
from mirabelle.lines import LINE_LABELS, LINE_NAMES
from mirabelle.ui.tasks import run_function

ERROR_STYLE = "color: #d62728;"
OK_STYLE = "color: #2ca02c;"


def orcs_snippet(cube_path: str | Path, out_dir: str | Path, project_name: str, two_components: bool) -> str:
    """The Python lines that pass the exported priors to ORCS (see docs/orcs-priors.md)."""
    lines = [LINE_LABELS[name].replace("Hα", "Halpha") for name in LINE_NAMES]
    folder = os.path.abspath(out_dir)  # ORCS runs from another folder: no relative paths
    cube_path = os.path.abspath(cube_path)
    text = f"""from orcs.process import SpectralCube

cube = SpectralCube({str(cube_path)!r})
lines = {lines!r}
priors = {folder!r}

# 1. Per-pixel starting velocity and broadening (km/s). Fit only pixels where
#    valid_mask.fits = 1: the other pixels hold filled-in values.
cube.fit_lines_in_region(
    'region.reg', lines, fmodel='sincgauss',
    pos_def=['1'] * len(lines), pos_cov_map=priors + '/velocity.fits',
    sigma_def=['1'] * len(lines), sigma_cov_map=priors + '/broadening.fits')

# 2. The estimate folder ({project_name}.SpectralCube.estimated_velocity.<k>.fits):
#    one component wherever map 0 is defined.
cube.fit_lines_in_region_from_estimate(
    1, folder=priors, lines=lines, fmodel='sincgauss',
    sigma_cov_map=priors + '/broadening.fits')
"""
    if two_components:
        text += """
# ... and two components in the pixels flagged by eye (map 1 defined there only).
cube.fit_lines_in_region_from_estimate(
    2, folder=priors, lines=lines, fmodel='sincgauss',
    sigma_cov_map=priors + '/broadening.fits')
"""
    text += """
# Route 2 reads the spectrum at pixel (1000, 1000): it needs a cube larger than
# 1000 pixels a side.
"""
    return text


def _default_export() -> Callable[..., Any]:
    from mirabelle.export.priors import write_priors

    return write_priors


def _flag_array(flags) -> np.ndarray | None:
    if flags is None:
        return None
    return np.asarray(getattr(flags, "data", flags), dtype=bool)



class ExportPriorsDialog(QDialog):
    """Export ORCS priors of ``maps`` (from ``cube``) into a folder.

    Parameters
    ----------
    cube : Cube
        Needs ``path``, ``project_name`` (and what the export function reads).
    maps : KinematicMaps
    flags : FlagMask or bool ``[x, y]`` array, optional
        The double-component flags; exported when "Double-component flags" is ticked.
    model_card : dict, optional
        Provenance written into every file.
    export_function : callable, optional
        Defaults to :func:`mirabelle.export.priors.write_priors` (tests may pass another).

    Signals: ``exported(summary)`` after a successful export, ``failed(message)``.
    Widgets (tests): ``folder_edit``, ``browse_button``, ``uncertainties_check``,
    ``flags_check``, ``extras_check``, ``snippet_edit``, ``copy_button``,
    ``export_button``, ``status_label``, ``progress``.
    """

    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, cube, maps, flags=None, model_card: dict | None = None, parent: QWidget | None = None,
                 export_function: Callable[..., Any] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export ORCS priors")
        self.cube = cube
        self.maps = maps
        self.flags = flags
        self.model_card = model_card
        self._export_function = export_function
        self._confirmed_overwrite: tuple | None = None
        self.busy = False

        cube_path = Path(getattr(cube, "path", "cube"))
        flag_mask = _flag_array(flags)
        n_flagged = int(flag_mask.sum()) if flag_mask is not None else 0

        intro = QLabel(
            f"Velocity and broadening priors of <b>{cube_path.name}</b> as FITS maps with the cube's WCS, "
            "in the two forms ORCS reads (per-pixel maps and the estimate folder) — the same files as "
            "<code>mirabelle predict</code>.")
        intro.setWordWrap(True)
        coverage = self._coverage_text()

        self.folder_edit = QLineEdit(str(self._default_folder(cube_path)))
        self.folder_edit.setToolTip("Created if missing; existing export files are only replaced after you confirm")
        self.browse_button = QPushButton("Choose…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)

        self.uncertainties_check = QCheckBox("Uncertainty maps (velocity_err, broadening_err) — always written")
        self.uncertainties_check.setChecked(True)
        self.uncertainties_check.setEnabled(False)
        self.uncertainties_check.setToolTip("ORCS needs the broadening map; the 1-sigma maps come with it")
        self.flags_check = QCheckBox(
            f"Double-component flags ({n_flagged} pixel{'s' if n_flagged != 1 else ''} flagged): mask, DS9 regions "
            "and a second velocity component there")
        self.flags_check.setEnabled(flag_mask is not None)
        self.flags_check.setChecked(n_flagged > 0)
        self.extras_check = QCheckBox("Fluxes, Hα SNR, double-component score and quality maps")
        self.extras_check.setChecked(True)
        options = QGroupBox("Write")
        options_layout = QVBoxLayout(options)
        for widget in (self.uncertainties_check, self.flags_check, self.extras_check):
            options_layout.addWidget(widget)

        self.snippet_edit = QPlainTextEdit()
        self.snippet_edit.setReadOnly(True)
        self.snippet_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.snippet_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.snippet_edit.setMinimumHeight(200)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the snippet to the clipboard")
        snippet_box = QGroupBox("Use them in ORCS")
        snippet_layout = QVBoxLayout(snippet_box)
        snippet_layout.addWidget(self.snippet_edit)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        snippet_layout.addLayout(copy_row)

        self.status_label = QLabel(coverage)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setVisible(False)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_folder_button = self.buttons.addButton("Open folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_folder_button.setVisible(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(folder_row)
        layout.addWidget(options)
        layout.addWidget(snippet_box, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.resize(720, 640)

        self.browse_button.clicked.connect(self._on_view_browse)
        self.copy_button.clicked.connect(self.copy_snippet)
        self.export_button.clicked.connect(self.export)
        self.close_button.clicked.connect(self.reject)
        self.open_folder_button.clicked.connect(self._on_view_open_folder)
        self.folder_edit.textChanged.connect(self._on_view_options_changed)
        self.flags_check.toggled.connect(self._on_view_options_changed)
        self.extras_check.toggled.connect(self._on_view_options_changed)
        self._on_view_options_changed()

    # helpers ------------------------------------------------------------------------
    def _coverage_text(self) -> str:
        fraction = getattr(self.maps, "fraction_done", None)
        if fraction is None or fraction >= 1.0:
            return ""
        return (f"The inference covered {fraction:.0%} of the pixels so far; the others are exported as "
                "invalid (valid_mask = 0).")

    @staticmethod
    def _default_folder(cube_path: Path) -> Path:
        stem = cube_path.name.split(".")[0] or "cube"
        folder = cube_path.parent if cube_path.parent != Path("") else Path.cwd()
        if not os.access(folder, os.W_OK):
            folder = Path.home()
        return folder / f"{stem}_priors"

    @property
    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def _options(self) -> tuple:
        return (str(self.folder), self.flags_check.isChecked(), self.extras_check.isChecked())

    def _export_flags(self) -> np.ndarray | None:
        """A snapshot of the flags to export (the live mask may change while the worker runs)."""
        if not self.flags_check.isChecked() or self.flags is None:
            return None
        return _flag_array(self.flags).copy()

    def _names(self) -> list[str]:
        try:
            from mirabelle.export.priors import export_names
        except ImportError:
            return []
        return export_names(self.cube, _flag_array(self._export_flags()), self.extras_check.isChecked())

    def existing_files(self) -> list[str]:
        """Export files already present in the chosen folder."""
        folder = self.folder
        return [name for name in self._names() if (folder / name).exists()]

    def snippet(self) -> str:
        flags = _flag_array(self._export_flags())
        project = getattr(self.cube, "project_name", "") or Path(getattr(self.cube, "path", "cube")).stem
        return orcs_snippet(getattr(self.cube, "path", "cube.hdf5"), self.folder, project,
                            two_components=flags is not None and bool(flags.any()))

    # view -> dialog -----------------------------------------------------------------------
    def _on_view_options_changed(self, *_args) -> None:
        self.snippet_edit.setPlainText(self.snippet())
        if self._confirmed_overwrite is not None and self._confirmed_overwrite != self._options():
            self._confirmed_overwrite = None
        self.export_button.setText("Overwrite" if self._confirmed_overwrite else "Export")
        self.export_button.setEnabled(bool(self.folder_edit.text().strip()) and not self.busy)

    def _on_view_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export priors into", str(self.folder.parent))
        if folder:
            self.folder_edit.setText(folder)

    def _on_view_open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def copy_snippet(self) -> None:
        QGuiApplication.clipboard().setText(self.snippet_edit.toPlainText())
        self._show(f"Snippet copied ({len(self.snippet_edit.toPlainText().splitlines())} lines).", ok=True)

    def _show(self, text: str, ok: bool | None = None) -> None:
        self.status_label.setStyleSheet("" if ok is None else (OK_STYLE if ok else ERROR_STYLE))
        self.status_label.setText(text)

    # export ------------------------------------------------------------------------------------
    def export(self) -> bool:
        """Start the export (in a worker thread); False when refused before starting.

        Existing files: the first call names them and asks for a second click ("Overwrite").
        """
        if self.busy:
            return False
        if not self.folder_edit.text().strip():
            self._show("Choose a folder to export into.", ok=False)
            return False
        existing = self.existing_files()
        overwrite = bool(existing) and self._confirmed_overwrite == self._options()
        if existing and not overwrite:
            shown = ", ".join(existing[:4]) + (f" and {len(existing) - 4} more" if len(existing) > 4 else "")
            self._confirmed_overwrite = self._options()
            self.export_button.setText("Overwrite")
            self._show(f"Not exported: {self.folder} already holds {shown}. Press “Overwrite” to replace them, "
                       "or choose another folder.", ok=False)
            self.failed.emit(self.status_label.text())
            return False
        function = self._export_function or _default_export()
        self._set_busy(True)
        self._show(f"Exporting to {self.folder}…")
        run_function(function, maps=self.maps, cube=self.cube, out_dir=self.folder, flags=self._export_flags(),
                     model_card=self.model_card, overwrite=overwrite, extras=self.extras_check.isChecked(),
                     on_return=self._on_done, on_error=self._on_failed)
        return True

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        for widget in (self.folder_edit, self.browse_button, self.flags_check, self.extras_check):
            widget.setEnabled(not busy and (widget is not self.flags_check or self.flags is not None))
        self.export_button.setEnabled(not busy)

    def _on_done(self, summary) -> None:
        self._set_busy(False)
        self._confirmed_overwrite = None
        self.export_button.setText("Export")
        files = summary.get("files", []) if isinstance(summary, dict) else []
        pixels = summary.get("pixels", {}) if isinstance(summary, dict) else {}
        text = f"Exported {len(files) or 'the'} files to {self.folder}"
        if pixels:
            text += (f": {pixels.get('valid', 0)} pixels with a prior, {pixels.get('filled', 0)} filled"
                     + (f", {pixels.get('second_component', 0)} with a second component"
                        if pixels.get("second_component") else ""))
        self._show(text + ".", ok=True)
        self.open_folder_button.setVisible(True)
        self.exported.emit(summary)

    def _on_failed(self, exc: BaseException) -> None:  # the worker reports unexpected errors too
        self._set_busy(False)
        if isinstance(exc, MirabelleError):
            text = f"Not exported: {exc}"
        else:
            text = f"Not exported: an unexpected {type(exc).__name__} occurred ({exc})."
        self._show(text, ok=False)
        self.failed.emit(text)

    def reject(self) -> None:  # noqa: D102 - Esc/Close: wait for nothing, the worker finishes on its own
        if self.busy:
            self._show("Still exporting; close the dialog when it is done.", ok=False)
            return
        super().reject()


ExportDialog = ExportPriorsDialog
"""The name the main window imports."""
