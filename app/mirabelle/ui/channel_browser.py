"""Channel browsing: the slider, the spectrum cursor and the image, linked through one channel.

Moving either the slider or the cursor sets the channel; the other follows without echo.
Channel images are read off the GUI thread, the newest request winning: from the
channel-major cache once its pass is complete, else from the cube in blocks with
progress. The cache pass starts in the background the first time a channel is shown.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Signal, Slot
from shiboken6 import isValid

from mirabelle.cube.channels import ChannelCache, read_channel_image
from mirabelle.errors import MirabelleError
from mirabelle.ui.display import compute_limits
from mirabelle.ui.errors import report_exception
from mirabelle.ui.latest_worker import LatestWorker
from mirabelle.ui.tasks import run_function


class CacheBuildWorker(QObject):
    """Drain `ChannelCache.build` in a thread; `cancel` stops it after the current tile."""

    progress = Signal(float)
    done = Signal(bool)  # True when the cache is complete
    failed = Signal(object)
    finished = Signal()

    def __init__(self, cache: ChannelCache) -> None:
        super().__init__()
        self.cache = cache
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        try:
            for fraction in self.cache.build(self.cancel_event):
                self.progress.emit(fraction)
            self.done.emit(self.cache.complete)
        except Exception as exc:  # noqa: BLE001 -- ours become a status line, others are reported too
            self.failed.emit(exc)
            if not isinstance(exc, MirabelleError):
                report_exception(exc)
        finally:
            self.finished.emit()


def _load_channel(cube, cache: ChannelCache | None, channel: int, *, stale, progress):
    image = cache.channel_image(channel) if cache is not None else None
    if image is None:
        image = read_channel_image(cube, channel, progress=progress)
    return None if stale() else (channel, image)


class ChannelBrowser(QObject):
    """Links a `ChannelSlider`, a `SpectralCursor` and an image view's image item.

    ``image_shown(channel, image)`` after each channel image is drawn; ``status(text)``
    reports loading and caching progress.
    """

    image_shown = Signal(int, object)
    status = Signal(str)

    def __init__(self, slider, cursor, image_view, cache_folder=None) -> None:
        super().__init__()
        self.slider, self.cursor, self.image_view = slider, cursor, image_view
        self.cache_folder = cache_folder
        self.cube: Any = None
        self.cache: ChannelCache | None = None
        self.builder: CacheBuildWorker | None = None
        self.active = False  # True while the image shows a channel rather than the deep image
        self.worker = LatestWorker()
        self.worker.result.connect(self._on_image)
        self.worker.progress.connect(lambda _g, f: self.status.emit(f"reading the channel image… {f:.0%}"))
        self.worker.failed.connect(lambda _g, exc: self.status.emit(f"channel image: {exc}"))
        slider.channel_changed.connect(self._on_view_channel)
        cursor.channel_changed.connect(self._on_view_cursor)

    def set_cube(self, cube) -> None:
        """Browse ``cube`` (None: nothing); stops a cache pass of the previous cube."""
        self.stop()
        self.cube = cube
        axis = None if cube is None else cube.base_axis_cm1
        self.slider.set_axis(axis)
        self.cursor.set_axis(axis)
        self.active = False
        if cube is not None:
            middle = cube.nz // 2
            with QSignalBlocker(self.slider):
                self.slider.set_channel(middle)
            self.slider._update_label()
            self.cursor.set_channel(middle)

    def show_channel(self, channel: int) -> None:
        """Show ``channel`` in the image (loads in the background)."""
        if self.cube is None:
            return
        self.active = True
        self._ensure_cache()
        self.worker.request(_load_channel, self.cube, self.cache, int(channel))

    def show_deep_image(self) -> None:
        """Go back to the deep image."""
        self.active = False
        deep = self.image_view.deep_image
        if deep is not None:
            self.image_view.set_deep_image(deep)

    def _on_view_channel(self, channel: int) -> None:
        self.cursor.set_channel(channel)
        self.show_channel(channel)

    def _on_view_cursor(self, channel: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.set_channel(channel)
        self.slider._update_label()
        self.show_channel(channel)

    def _on_image(self, _generation: int, value) -> None:
        channel, image = value
        if not self.active or self.cube is None or not isValid(self.image_view.image_item):
            return  # a late answer: the cube or the widgets are gone
        levels = compute_limits(image, "99.5") if np.isfinite(image).any() else (0.0, 1.0)
        self.image_view.image_item.setImage(image, autoLevels=False, levels=levels)
        cached = self.cache is not None and self.cache.complete
        self.status.emit(f"channel {channel} ({'from the channel cache' if cached else 'read from the cube'})")
        self.image_shown.emit(channel, image)

    def _ensure_cache(self) -> None:
        if self.cache is not None or self.cube is None:
            return
        try:
            self.cache = ChannelCache(self.cube, self.cache_folder)
        except MirabelleError as exc:
            self.status.emit(f"no channel cache: {exc}")
            return
        if not self.cache.complete:
            self.builder = CacheBuildWorker(self.cache)
            self.builder.progress.connect(lambda f: self.status.emit(f"caching channels for fast browsing… {f:.0%}"))
            self.builder.done.connect(self._on_cache_done)
            self.builder.failed.connect(lambda exc: self.status.emit(f"channel cache: {exc}"))
            run_function(self.builder.run)  # in a pool thread; its signals reach the GUI thread

    def _on_cache_done(self, complete: bool) -> None:
        if complete:
            self.status.emit("channel cache ready")

    def stop(self) -> None:
        """Cancel the cache pass and close the cache (the window closes or the cube changes)."""
        if self.builder is not None:
            self.builder.cancel()
            self.builder = None
        if self.cache is not None:
            cache, self.cache = self.cache, None
            cache.close()

    def shutdown(self) -> None:
        """Stop every thread; late answers are dropped (the widgets may be gone)."""
        self.stop()
        self.cube, self.active = None, False
        self.worker.result.disconnect(self._on_image)
        self.worker.stop()
