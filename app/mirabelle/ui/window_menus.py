"""The main window's menus and help boxes, their checkable actions kept in step with the state.

:class:`WindowMenus` builds the menu bar of a :class:`~mirabelle.ui.main_window.MainWindow`
from its public methods (open, export, run, cancel, close) and its :attr:`state`; it keeps
``recent_menu``, ``toggle_overlay_action``, ``overlay_actions``, ``hint_action``,
``run_action``, ``cancel_action`` and ``auto_action`` for tests, blocking their own echo.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMessageBox

from mirabelle.session.registry import MAPS
from mirabelle.ui import help_texts, settings
from mirabelle.ui.frame_actions import FrameActions
from mirabelle.ui.state import STRETCHES


class WindowMenus(QObject):
    """The menus of ``window`` (see the module docstring)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        open_action = self._action(file_menu, "&Open…", window.open_dialog, "Ctrl+O")
        open_action.setStatusTip("Open a cube in this window; it replaces the current cube, whose flags are saved first")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        file_menu.addSeparator()
        self.export_priors_action = self._action(file_menu, "Export ORCS &priors…", window.export_priors, "Ctrl+E")
        self._action(file_menu, "Export &view as image…", window.export_view_image)
        self._action(file_menu, "Export &spectrum (plot or data)…", window.export_spectrum_image)
        window.spectrum_panel.export_requested.connect(window.export_spectrum_image)  # the same, from its button
        file_menu.addSeparator()
        self._action(file_menu, "&Close cube", window.close_document, "Ctrl+W")
        self._action(file_menu, "&Quit", window.close, "Ctrl+Q")

        view_menu = bar.addMenu("&View")
        self.toggle_overlay_action = self._action(view_menu, "Show map &overlay", self._toggle_overlay, "V",
                                                  checkable=True)
        self.toggle_overlay_action.setChecked(self.state.overlay_visible)
        overlay_menu = view_menu.addMenu("Overlay &map")
        group = QActionGroup(self)
        self.overlay_actions: dict[str | None, QAction] = {}
        # number keys for the first nine maps of the registry
        entries = [("0", None, "None")] + [(str(i + 1) if i < 9 else None, spec.name, spec.label)
                                           for i, spec in enumerate(MAPS)]
        for key, name, label in entries:
            action = self._action(overlay_menu, label, lambda _=False, n=name: setattr(self.state, "overlay_map", n),
                                  key, checkable=True)
            group.addAction(action)
            self.overlay_actions[name] = action
        self.overlay_actions[self.state.overlay_map].setChecked(True)
        self._action(view_menu, "Cycle &stretch", self._cycle_stretch, "S")
        self.hint_action = self._action(view_menu, "&Highlight high double-component score",
                                        lambda on: setattr(self.state, "flag_hint_visible", on), "H",
                                        checkable=True)
        self._action(view_menu, "Show &whole image",
                     lambda: window.image_view.view_box.autoRange(padding=0.01), "Home")

        kin_menu = bar.addMenu("&Kinematics")
        self.run_action = self._action(kin_menu, "&Run inference", lambda: window.start_inference(explicit=True),
                                       "Ctrl+R")
        self.cancel_action = self._action(kin_menu, "&Cancel inference", window.cancel_inference, "Shift+Esc")
        self.auto_action = self._action(kin_menu, "Run inference when a cube &opens",
                                        self._set_auto_inference, checkable=True)
        self.auto_action.setChecked(window.run_inference_on_open)
        self.frame_actions = FrameActions(window, kin_menu)  # systemic velocity, sky subtraction
        self.scheduler_action = self._action(kin_menu, "Compute on a &Dask cluster…", self.ask_scheduler_address)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Mirabelle", self.show_about)
        self.state.changed.connect(self._on_model_changed)

    def _action(self, menu, text: str, slot, shortcut: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.window.open_path(p))
            action.setEnabled(os.path.exists(path))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(settings.clear_recent_files)

    # state mirroring -------------------------------------------------------------------
    def _on_model_changed(self, name: str) -> None:
        if name == "overlay_visible":
            with QSignalBlocker(self.toggle_overlay_action):
                self.toggle_overlay_action.setChecked(self.state.overlay_visible)
        elif name == "overlay_map":
            action = self.overlay_actions.get(self.state.overlay_map)
            if action is not None:
                with QSignalBlocker(action):
                    action.setChecked(True)
            if self.state.overlay_map is not None and not self.state.overlay_visible:
                self.state.overlay_visible = True
        elif name == "flag_hint_visible":
            with QSignalBlocker(self.hint_action):
                self.hint_action.setChecked(self.state.flag_hint_visible)

    def _toggle_overlay(self, on: bool) -> None:
        self.state.overlay_visible = on
        if on and self.state.overlay_map is None:
            self.state.overlay_map = "velocity"

    def _cycle_stretch(self) -> None:
        i = STRETCHES.index(self.state.stretch)
        self.state.stretch = STRETCHES[(i + 1) % len(STRETCHES)]

    def ask_scheduler_address(self) -> QInputDialog:
        """Ask for the Dask scheduler of the whole-cube runs (empty: run here); clicks stay local."""
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Compute on a Dask cluster")
        dialog.setLabelText("Scheduler address (tcp://host:8786 or local:N), empty to compute here.\n"
                            "Needs pip install 'mirabelle[cluster]'; the cube must be readable by the workers.")
        dialog.setTextValue(settings.scheduler_address())
        dialog.textValueSelected.connect(self._set_scheduler_address)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _set_scheduler_address(self, address: str) -> None:
        settings.set_scheduler_address(address)
        where = settings.scheduler_address()
        self.window.statusBar().showMessage(f"Whole-cube inference runs on {where}." if where else
                                            "Whole-cube inference runs here.", 8000)

    def _set_auto_inference(self, on: bool) -> None:
        self.window.run_inference_on_open = on
        settings.set_run_inference_on_open(on)

    # help ----------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", help_texts.shortcuts_html(),
                          QMessageBox.StandardButton.Close, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def about_text(self) -> str:
        """The About box text: version and the model card."""
        model = self.window.model
        return help_texts.about_html(None if model is None else getattr(model, "card", None))

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About Mirabelle", self.about_text(),
                          QMessageBox.StandardButton.Close, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
