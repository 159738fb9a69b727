"""Dark mode follows the system's colour scheme."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from mirabelle.ui.color_scheme import apply_scheme, follow_system


def test_dark_scheme_gives_a_dark_palette_and_light_restores_it(qtbot):
    app = QApplication.instance()
    original, style = app.palette(), app.style().name()
    try:
        apply_scheme(app, Qt.ColorScheme.Dark)
        assert app.palette().window().color().lightness() < 60
        assert app.palette().text().color().lightness() > 180
        apply_scheme(app, Qt.ColorScheme.Light)
        assert app.palette().window().color().lightness() > 150
        follow_system(app)  # offscreen: the platform reports light or unknown
        if app.styleHints().colorScheme() != Qt.ColorScheme.Dark:
            assert app.palette().window().color().lightness() > 150
    finally:
        app.setStyle(style)
        app.setPalette(original)
