"""The spectral slider: pick a channel by index, wavenumber, air wavelength or velocity about a line.

The frame and reference line are chosen in two combo boxes; the label always names the
frame and unit. Keyboard: the slider's arrows and Page Up/Down step 1 and 10 channels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from mirabelle.analysis.spectral_frames import FRAMES, SpectralFrame
from mirabelle.lines.constants import LINE_LABELS, LINE_NAMES

FRAME_TITLES = {"channel": "Channel", "wavenumber": "Wavenumber", "wavelength": "Air wavelength",
                "velocity": "Velocity about"}


class ChannelSlider(QWidget):
    """A slider over a cube's channels that emits ``channel_changed(int)`` (0-based)."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis_cm1 = np.zeros(0)
        self.frame_combo = QComboBox()
        for frame in FRAMES:
            self.frame_combo.addItem(FRAME_TITLES[frame], frame)
        self.frame_combo.setToolTip("Spectral frame the channel is named in")
        self.line_combo = QComboBox()
        for name in LINE_NAMES:
            self.line_combo.addItem(LINE_LABELS[name], name)
        self.line_combo.setCurrentIndex(LINE_NAMES.index("Halpha"))
        self.line_combo.setToolTip("Rest line (air) of the velocity frame")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(10)
        self.slider.setToolTip("Channel shown in the image (arrows: ±1, Page Up/Down: ±10)")
        self.label = QLabel()
        self.label.setMinimumWidth(260)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.frame_combo)
        layout.addWidget(self.line_combo)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_view_slider)
        self.frame_combo.currentIndexChanged.connect(self._update_label)
        self.line_combo.currentIndexChanged.connect(self._update_label)
        self.setEnabled(False)

    @property
    def frame(self) -> SpectralFrame:
        """The frame the label names the channel in."""
        return SpectralFrame(self.frame_combo.currentData(), self.line_combo.currentData())

    def set_frame(self, frame: str, line: str = "Halpha") -> None:
        self.frame_combo.setCurrentIndex(FRAMES.index(frame))
        self.line_combo.setCurrentIndex(LINE_NAMES.index(line))

    def set_axis(self, axis_cm1: np.ndarray | None) -> None:
        """The cube's channels (cm⁻¹, ascending; None disables the slider)."""
        self.axis_cm1 = np.zeros(0) if axis_cm1 is None else np.asarray(axis_cm1, dtype=float)
        self.setEnabled(self.axis_cm1.size > 0)
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(0, self.axis_cm1.size - 1))
        self._update_label()

    def channel(self) -> int:
        return int(self.slider.value())

    def set_channel(self, channel: int) -> None:
        """Move to ``channel`` (clamped); emits ``channel_changed`` only when it moved."""
        self.slider.setValue(int(np.clip(channel, 0, max(0, self.axis_cm1.size - 1))))

    def step(self, channels: int) -> None:
        self.set_channel(self.channel() + channels)

    def _on_view_slider(self, value: int) -> None:
        self._update_label()
        self.channel_changed.emit(int(value))

    def _update_label(self, *_args) -> None:
        self.line_combo.setVisible(self.frame_combo.currentData() == "velocity")
        if self.axis_cm1.size == 0:
            self.label.setText("no cube")
            return
        k = self.channel()
        sigma = self.axis_cm1[k]
        frame = self.frame
        value = frame.values(self.axis_cm1)[k]
        text = {"channel": f"channel {k}", "wavenumber": f"{value:.2f} cm⁻¹",
                "wavelength": f"{value:.3f} nm (air)",
                "velocity": f"{value:+.1f} km/s about {LINE_LABELS[frame.line]}"}[frame.frame]
        others = f"channel {k} · {sigma:.2f} cm⁻¹" if frame.frame != "channel" else f"{sigma:.2f} cm⁻¹"
        self.label.setText(f"{text}  ({others})")
