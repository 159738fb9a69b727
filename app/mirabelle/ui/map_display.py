"""The arrays the overlay and the hint layer show, kept current tile by tile while a run fills the maps."""

from __future__ import annotations

import numpy as np

from mirabelle.session.registry import ALL, map_array


class MapDisplay:
    """Display copies (:func:`mirabelle.session.registry.map_array`) of the maps shown so far.

    :meth:`update` copies only the windows finished since the last redraw into the copies
    already made; a map is copied whole the first time it is shown.
    """

    def __init__(self) -> None:
        self.maps = None
        self._shown: dict[str, np.ndarray] = {}

    def reset(self, maps=None) -> None:
        """Show ``maps`` (None: nothing) from scratch."""
        self.maps = maps
        self._shown.clear()

    def update(self, windows: list | None) -> None:
        """The maps gained ``windows`` ``[(x slice, y slice), ...]`` (None: changed everywhere)."""
        if windows is None:
            self._shown.clear()
            return
        for name, shown in self._shown.items():
            for window in windows:
                shown[window] = map_array(self.maps, name, window)

    def array(self, name: str) -> np.ndarray | None:
        """The display array of map ``name`` (NaN where hidden or not computed), or None."""
        if self.maps is None:
            return None
        if name not in self._shown:
            self._shown[name] = map_array(self.maps, name, ALL)
        return self._shown[name]
