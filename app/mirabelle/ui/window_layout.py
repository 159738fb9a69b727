"""The main window's layout: the image above the spectrum in the centre, and every tool panel
(Display, Flags, Regions, PV slice, Line ratios, Line maps) a tab of one column on the right.

A side panel beside the image plus a second column of docks needed 1150 px of width and left
the spectrum ~70 px of height at 1100 × 650; one column of scrollable tabs lets the window
shrink to 1100 × 650 and gives the spectrum the width of the image and ~40 % of the height.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QSplitter, QTabWidget, QWidget

TOOL_COLUMN_PX = 360
"""Initial width of the tool column."""
TOOL_COLUMN_MIN_PX = 345
"""Narrowest tool column: the widest panel (Line ratios, 328 px) and a vertical scroll bar, so no
panel scrolls sideways; at 1100 px the centre keeps 730 px."""
IMAGE_SHARE, SPECTRUM_SHARE = 1, 1
"""How the centre's height is shared between the image and the spectrum as the window resizes."""
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
STATE_VERSION = 1
"""Version of the saved dock arrangement (QMainWindow.saveState): 1 is the single tool column;
a state saved by the earlier layout (side panel + docks) is not restored."""


def tool_docks(window: QMainWindow) -> list[QDockWidget]:
    """The tool docks of the right column, in the order they were added (Qt's child order changes)."""
    docks = [dock for dock in window.findChildren(QDockWidget) if dock.property("tool_index") is not None]
    return sorted(docks, key=lambda dock: dock.property("tool_index"))


def add_tool_dock(window: QMainWindow, title: str, widget: QWidget) -> QDockWidget:
    """Add ``widget`` as a tab of the right column, scrolled when the window is shorter than it."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
    dock.setWidget(scroll)
    dock.setMinimumWidth(TOOL_COLUMN_MIN_PX)
    previous = tool_docks(window)
    dock.setProperty("tool_index", len(previous))
    window.addDockWidget(RIGHT, dock)
    if previous:
        window.tabifyDockWidget(previous[-1], dock)
    return dock


def central_splitter(image: QWidget, spectrum: QWidget) -> QSplitter:
    """The image above the spectrum, sharing the height IMAGE_SHARE : SPECTRUM_SHARE."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(image)
    splitter.addWidget(spectrum)
    splitter.setChildrenCollapsible(False)
    splitter.setStretchFactor(0, IMAGE_SHARE)
    splitter.setStretchFactor(1, SPECTRUM_SHARE)
    splitter.setSizes([IMAGE_SHARE * 100, SPECTRUM_SHARE * 100])
    return splitter


def finish_layout(window: QMainWindow) -> None:
    """Tabs along the window's right edge (six titles do not fit above the column: they were
    elided to "D…"), the first tool (Display) in front, the column TOOL_COLUMN_PX wide."""
    docks = tool_docks(window)
    window.setTabPosition(RIGHT, QTabWidget.TabPosition.East)
    docks[0].raise_()
    window.resizeDocks([docks[0]], [TOOL_COLUMN_PX], Qt.Orientation.Horizontal)


__all__ = ["STATE_VERSION", "TOOL_COLUMN_PX", "add_tool_dock", "central_splitter", "finish_layout", "tool_docks"]
