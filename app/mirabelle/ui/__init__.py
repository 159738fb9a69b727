"""The Qt user interface (PySide6 + pyqtgraph); the core never imports it."""
