"""The main window's menus, status bar (readout, progress, cancel) and help boxes.

:class:`MenusMixin` is mixed into :class:`~mirabelle.ui.main_window.MainWindow`: it builds
the menu actions and status-bar widgets as attributes of the window (``recent_menu``,
``toggle_overlay_action``, ``overlay_actions``, ``hint_action``, ``run_action``,
``cancel_action``, ``auto_action``, ``readout_label``, ``progress_bar``...) and keeps the
checkable actions in step with the window's ``state``, blocking their own echo.
"""

from __future__ import annotations

import math
import os

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton

from mirabelle.ui import core_api, help_texts, readout, settings
from mirabelle.ui.state import MAP_LABELS, MAP_NAMES, STRETCHES


class MenusMixin:
    """Menus, status bar and help of the main window (see the module docstring)."""

    # construction ----------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.readout_label = QLabel("Open a SITELLE cube: File ▸ Open, or drop it here.")
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.readout_label, 1)
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(200)
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the kinematics inference (Shift+Esc); finished tiles stay")
        self.cancel_button.clicked.connect(self.cancel_inference)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.setVisible(False)
        self.model_label = QLabel()
        bar.addPermanentWidget(self.model_label)
        # a constant height: showing the progress widgets must not resize (and fully
        # repaint) the image view while inference runs
        bar.setFixedHeight(max(self.cancel_button.sizeHint().height(), self.progress_bar.sizeHint().height()) + 6)

    def _action(self, menu, text: str, slot, shortcut: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        open_action = self._action(file_menu, "&Open…", self.open_dialog, "Ctrl+O")
        open_action.setStatusTip("Open a cube in this window; it replaces the current cube, whose flags are saved first")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.export_priors_action = self._action(file_menu, "Export ORCS &priors…", self.export_priors, "Ctrl+E")
        self._action(file_menu, "Export &view as image…", self.export_view_image)
        self._action(file_menu, "Export &spectrum plot as image…", self.export_spectrum_image)
        file_menu.addSeparator()
        self._action(file_menu, "&Close cube", self.close_document, "Ctrl+W")
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")

        view_menu = bar.addMenu("&View")
        self.toggle_overlay_action = self._action(view_menu, "Show map &overlay", self._toggle_overlay, "V",
                                                  checkable=True)
        self.toggle_overlay_action.setChecked(self.state.overlay_visible)
        overlay_menu = view_menu.addMenu("Overlay &map")
        group = QActionGroup(self)
        self.overlay_actions: dict[str | None, QAction] = {}
        # number keys for the first nine maps of the registry
        for key, name in [("0", None)] + [(str(i + 1) if i < 9 else None, n) for i, n in enumerate(MAP_NAMES)]:
            label = "None" if name is None else MAP_LABELS[name]
            action = self._action(overlay_menu, label, lambda _=False, n=name: setattr(self.state, "overlay_map", n),
                                  key, checkable=True)
            group.addAction(action)
            self.overlay_actions[name] = action
        self.overlay_actions[self.state.overlay_map].setChecked(True)
        self._action(view_menu, "Cycle &stretch", self._cycle_stretch, "S")
        self.hint_action = self._action(view_menu, "&Highlight high double-component score",
                                        lambda on: setattr(self.state, "flag_hint_visible", on), "H",
                                        checkable=True)
        self._action(view_menu, "Show &whole image", lambda: self.image_view.view_box.autoRange(padding=0.01),
                     "Home")

        kin_menu = bar.addMenu("&Kinematics")
        self.run_action = self._action(kin_menu, "&Run inference", lambda: self.start_inference(explicit=True),
                                       "Ctrl+R")
        self.cancel_action = self._action(kin_menu, "&Cancel inference", self.cancel_inference, "Shift+Esc")
        self.auto_action = self._action(kin_menu, "Run inference when a cube &opens",
                                        self._set_auto_inference, checkable=True)
        self.auto_action.setChecked(self.run_inference_on_open)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Mirabelle", self.show_about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
            action.setEnabled(os.path.exists(path))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(settings.clear_recent_files)

    # progress ----------------------------------------------------------------------------
    def _show_progress(self, what: str, fraction: float, eta_s: float, cancellable: bool = False) -> None:
        self.progress_bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.progress_bar.setFormat(f"{what} {100 * fraction:.0f} %")
        eta = "" if not math.isfinite(eta_s) else f"ETA {readout.format_duration(eta_s)}"
        self.progress_label.setText(eta)
        self.progress_label.setVisible(bool(eta))
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(cancellable)

    def _hide_progress(self) -> None:
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(False)

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
            if self.state.flag_hint_visible:
                self._redraw_maps(force=True)

    def _toggle_overlay(self, on: bool) -> None:
        self.state.overlay_visible = on
        if on and self.state.overlay_map is None:
            self.state.overlay_map = "velocity"

    def _cycle_stretch(self) -> None:
        i = STRETCHES.index(self.state.stretch)
        self.state.stretch = STRETCHES[(i + 1) % len(STRETCHES)]

    def _set_auto_inference(self, on: bool) -> None:
        self.run_inference_on_open = on
        settings.set_run_inference_on_open(on)

    # help ----------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", help_texts.shortcuts_html(),
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def about_text(self) -> str:
        """The About box text: version and the model card(s)."""
        return help_texts.about_html(core_api.model_card(self.model))

    def show_about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About Mirabelle", self.about_text(),
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
