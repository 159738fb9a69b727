"""The window's systemic-velocity field and sky subtraction from a region (issue 10).

`FrameActions(window)` adds to the *Kinematics* menu:

* *Systemic velocity…*: the value the network works around (found in the cube when it was
  opened, or remembered), editable; a new value is remembered for the cube and the maps
  are computed again around it.
* *Subtract sky from the selected region* / *Stop subtracting the sky*: the median spectrum
  of the region selected in the Regions dock (any drawn shape, annulus included) becomes
  the sky, is drawn on the spectrum plot, and is subtracted from every pixel before the
  network (the maps are recomputed, and not cached).

It reads the window's ``controller`` (its ``session``), ``status``, ``spectrum_panel``,
``state`` and, for the region, ``viewer.regions``; long work (the sky's median) runs in a
worker. After each run the status bar says which systemic velocity was used.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu

from mirabelle.errors import MirabelleError

SKY_RGB = (0, 150, 170)


class FrameActions:
    """Systemic velocity and sky subtraction for a `MainWindow` (module docstring)."""

    def __init__(self, window, menu: QMenu) -> None:
        self.window = window
        # on the plot (and in its legend) only while a sky is subtracted
        self.sky_curve = pg.PlotDataItem([], [], pen=pg.mkPen(SKY_RGB, width=1.5), name="Sky (subtracted)")
        self._original_cube = None
        self._sky = None
        menu.addSeparator()
        self.vsys_action = QAction("&Systemic velocity…", window)
        self.vsys_action.triggered.connect(self.ask_systemic_velocity)
        menu.addAction(self.vsys_action)
        self.sky_action = QAction("Subtract sky from the selected &region", window)
        self.sky_action.triggered.connect(self.subtract_sky_from_selection)
        menu.addAction(self.sky_action)
        self.no_sky_action = QAction("Stop subtracting the sky", window)
        self.no_sky_action.triggered.connect(self.stop_sky)
        self.no_sky_action.setEnabled(False)
        menu.addAction(self.no_sky_action)
        window.cube_opened.connect(lambda _path: self.cube_closed())
        window.controller.run_finished.connect(self._say_systemic_velocity)

    # systemic velocity ----------------------------------------------------------------
    def _say_systemic_velocity(self, _complete: bool) -> None:
        text = self.describe()
        if text:
            self.window.status.message(f"Kinematics around the systemic velocity {text} "
                                       "(Kinematics ▸ Systemic velocity… to change it).", 8000)

    def _stop_run(self) -> None:
        """Cancel the run and wait for its worker to stop (it checks between tiles)."""
        self.window.cancel_inference()
        self.window.controller._run_done.wait(10)

    @property
    def session(self):
        return getattr(self.window.controller, "session", None)

    def describe(self) -> str:
        """``'+1510.3 km/s (detected)'`` for the open cube, '' before any was chosen."""
        session = self.session
        if session is None or getattr(session, "_vsys_kms", None) is None:
            return ""
        choice = getattr(session, "vsys_choice", None)
        how = "" if choice is None else f" ({choice.source}{', remembered' if choice.remembered else ''})"
        return f"{session.vsys_kms:+.1f} km/s{how}"

    def ask_systemic_velocity(self) -> None:
        """Ask for the systemic velocity (km/s) and recompute the maps around it."""
        session = self.session
        if session is None:
            return
        current = session._vsys_kms if session._vsys_kms is not None else 0.0
        value, ok = QInputDialog.getDouble(
            self.window, "Systemic velocity",
            "Systemic velocity (km/s, observed frame) the network works around:\n"
            f"now {self.describe() or 'not found yet'}", current, -1000.0, 5500.0, 1)
        if ok:
            self.set_systemic_velocity(value)

    def set_systemic_velocity(self, value_kms: float) -> None:
        """Use ``value_kms`` (remembered for the cube) and run the maps again."""
        from mirabelle.inference.vsys_memory import USER, ChosenVelocity, remember

        session = self.session
        if session is None:
            return
        self._stop_run()
        remember(session.cube.path, value_kms, USER)
        session.vsys_kms = float(value_kms)
        session.vsys_choice = ChosenVelocity(float(value_kms), USER, False)
        self.window.status.message(f"Systemic velocity {value_kms:+.1f} km/s: computing the maps again.", 5000)
        self.window.start_inference(use_cache=self._sky is None, explicit=True)

    # sky subtraction -------------------------------------------------------------------
    def _selected_mask(self, cube) -> np.ndarray | None:
        from mirabelle.analysis.region_spectra import regions_mask
        from mirabelle.ui.region_tool import roi_to_region

        tools = getattr(self.window, "viewer", None)
        regions = getattr(tools, "regions", None)
        roi = getattr(regions, "_selected", None)
        if roi is None:
            return None
        return regions_mask([roi_to_region(roi)], (cube.nx, cube.ny), cube.wcs)

    def subtract_sky_from_selection(self) -> None:
        """Median sky of the selected region, shown and subtracted (off the GUI thread)."""
        from mirabelle.inference.sky_region import sky_spectrum
        from mirabelle.ui.tasks import run_function

        session = self.session
        if session is None:
            return
        cube = self._original_cube or session.cube
        try:
            mask = self._selected_mask(cube)
        except MirabelleError as exc:
            self.window.status.message(f"No sky: {exc}", 10000)
            return
        if mask is None or not mask.any():
            self.window.status.message("No sky: draw and select a region (Regions dock) on sky pixels first.", 10000)
            return
        self.window.status.message(f"Sky: median of {int(mask.sum())} pixels…")
        run_function(sky_spectrum, cube, mask, "selected region", on_return=self._use_sky,
                     on_error=lambda exc: self.window.status.message(f"No sky: {exc}", 10000))

    def _use_sky(self, sky) -> None:
        from mirabelle.inference.sky_region import SkySubtractedCube
        from mirabelle.ui.spectrum_format import to_unit

        session = self.session
        if session is None:
            return
        self._stop_run()
        self._original_cube = self._original_cube or session.cube
        self._sky = sky
        session.cube = SkySubtractedCube(self._original_cube, sky)
        session.maps, session._solver = None, None
        self.sky_curve.setData(to_unit(sky.axis_cm1, self.window.state.spectrum_unit), sky.values, connect="finite")
        if self.sky_curve.getViewBox() is None:
            self.window.spectrum_panel.plot.addItem(self.sky_curve)
        self.no_sky_action.setEnabled(True)
        self.window.status.message(f"Sky of {sky.pixels} pixels subtracted: computing the maps again.", 8000)
        self.window.start_inference(use_cache=False, explicit=True)

    def stop_sky(self) -> None:
        """Back to the cube as stored (cached maps come back)."""
        session = self.session
        if session is None or self._original_cube is None:
            return
        self._stop_run()
        session.cube, self._original_cube, self._sky = self._original_cube, None, None
        session.maps, session._solver = None, None
        self._hide_sky()
        self.window.start_inference(use_cache=True, explicit=True)

    def cube_closed(self) -> None:
        """Forget the sky of the previous cube."""
        self._original_cube, self._sky = None, None
        self._hide_sky()

    def _hide_sky(self) -> None:
        self.sky_curve.setData([], [])
        if self.sky_curve.getViewBox() is not None:
            self.window.spectrum_panel.plot.removeItem(self.sky_curve)
        self.no_sky_action.setEnabled(False)
