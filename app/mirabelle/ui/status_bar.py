"""The main window's status bar: the readout, the progress of long work with its Cancel, the model."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSizePolicy, QStatusBar

from mirabelle.ui.readout import format_duration

NO_CUBE_TEXT = "Open a SITELLE cube: File ▸ Open, or drop it here."
PROGRESS_FORMAT = "{what} {percent:.0f}\u00a0%"
"""The progress bar's text; the no-break space keeps "%" beside its number."""


class WindowStatus:
    """Widgets of a status bar: ``readout_label``, ``progress_label``, ``progress_bar``,
    ``cancel_button`` (hidden until long work shows its progress) and ``model_label``."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.readout_label = QLabel(NO_CUBE_TEXT)
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long readout is cut at the window's edge instead of squeezing the progress into two lines
        self.readout_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.readout_label, 1)
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        metrics = self.progress_bar.fontMetrics()
        widest = max(metrics.horizontalAdvance(PROGRESS_FORMAT.format(what=what, percent=100))
                     for what in ("Deep image", "Kinematics"))
        self.progress_bar.setFixedWidth(widest + 40)  # room for the text and the style's frame
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the kinematics inference (Shift+Esc); finished tiles stay")
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.setVisible(False)
        self.model_label = QLabel()
        bar.addPermanentWidget(self.model_label)
        # a constant height: showing the progress widgets must not resize (and fully
        # repaint) the image view while inference runs
        bar.setFixedHeight(max(self.cancel_button.sizeHint().height(), self.progress_bar.sizeHint().height()) + 6)

    def show_progress(self, what: str, fraction: float, eta_s: float, cancellable: bool = False) -> None:
        """Show ``what`` at ``fraction`` (0..1) with its ETA (s, NaN: unknown)."""
        self.progress_bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        self.progress_bar.setFormat(PROGRESS_FORMAT.format(what=what, percent=100 * fraction))
        eta = "" if not math.isfinite(eta_s) else f"ETA {format_duration(eta_s)}"
        self.progress_label.setText(eta)
        self.progress_label.setVisible(bool(eta))
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(cancellable)

    def hide_progress(self) -> None:
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(False)

    def reset(self) -> None:
        """Back to the empty window: no progress, no pixel readout, no model."""
        self.hide_progress()
        self.readout_label.setText(NO_CUBE_TEXT)
        self.model_label.clear()
        self.model_label.setToolTip("")

    def message(self, text: str, timeout_ms: int = 8000) -> None:
        self.bar.showMessage(text, timeout_ms)
