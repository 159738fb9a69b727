"""Dark mode following the system: the Fusion style with a dark palette while the desktop's
colour scheme is dark (Qt's ``styleHints().colorScheme()``), the platform look otherwise.

Widgets built afterwards (pyqtgraph plots read the palette when they are made) match it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_DARK = {
    QPalette.ColorRole.Window: (37, 37, 38), QPalette.ColorRole.WindowText: (220, 220, 220),
    QPalette.ColorRole.Base: (24, 24, 24), QPalette.ColorRole.AlternateBase: (45, 45, 48),
    QPalette.ColorRole.Text: (220, 220, 220), QPalette.ColorRole.Button: (45, 45, 48),
    QPalette.ColorRole.ButtonText: (220, 220, 220), QPalette.ColorRole.ToolTipBase: (45, 45, 48),
    QPalette.ColorRole.ToolTipText: (220, 220, 220), QPalette.ColorRole.Highlight: (38, 110, 180),
    QPalette.ColorRole.HighlightedText: (255, 255, 255), QPalette.ColorRole.Link: (90, 160, 255),
    QPalette.ColorRole.PlaceholderText: (140, 140, 140),
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, rgb in _DARK.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return palette


def apply_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    """Dark palette for ``Qt.ColorScheme.Dark``, the style's own palette otherwise."""
    if scheme == Qt.ColorScheme.Dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    else:
        app.setPalette(app.style().standardPalette())


def follow_system(app: QApplication) -> None:
    """Apply the system's colour scheme now and whenever it changes."""
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
