"""The cube-viewer tools of the main window: channel slider and spectrum cursor, regions with
live spectra, PV slices, the line-ratio diagram, DS9 habits on the image, and SAMP.

`ViewerTools(window)` adds docks and a *Viewer* menu to a `MainWindow` and follows its
``cube_opened`` and ``inference_finished`` signals; it reads only the window's ``cube``,
``maps``, ``image_view``, ``spectrum_panel`` and ``state``; the window calls `close_document`
and `shutdown`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QDockWidget, QFileDialog, QGridLayout, QPushButton, QVBoxLayout,
                               QWidget)

from mirabelle.errors import MirabelleError
from mirabelle.ui import image_habits
from mirabelle.ui.channel_browser import ChannelBrowser
from mirabelle.ui.channel_slider import ChannelSlider
from mirabelle.ui.moment_view import MomentView
from mirabelle.ui.pv_view import PVView
from mirabelle.ui.ratio_scatter import RatioScatter
from mirabelle.ui.region_tool import SHAPES, RegionTool
from mirabelle.ui.spectral_cursor import SpectralCursor
from mirabelle.ui.spectrum_format import to_unit
from mirabelle.ui.window_layout import add_tool_dock
from mirabelle.ui.view_export import default_export_path, export_folder


def _dock(window, title: str, widget: QWidget, area) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


class ViewerTools(QObject):
    """Everything of issue 12 the window shows; see the module docstring."""

    _point_received = Signal(float, float)  # SAMP thread -> GUI thread

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        panel, image = window.spectrum_panel, window.image_view
        unit = lambda: (lambda axis: to_unit(axis, window.state.spectrum_unit))  # noqa: E731
        self.slider = ChannelSlider()
        self.cursor = SpectralCursor(panel.plot, unit())
        self.channels = ChannelBrowser(self.slider, self.cursor, image)
        self.regions = RegionTool(image, panel.plot, unit(), model_provider=self._loaded_model)
        self.pv = PVView(image)
        self.ratios = RatioScatter(image)
        self.moments = MomentView(image, panel.plot, lambda: window.state.spectrum_unit)
        self.sky = image_habits.install(image)
        self.samp = None
        self._closed = False
        window.state.spectrum_unit_changed.connect(lambda _u: (self.cursor.set_unit(unit()),
                                                               self.regions.set_unit(unit())))
        self.channels.status.connect(self._message)
        self.regions.failed.connect(self._message)
        self.pv.failed.connect(self._message)
        self.moments.failed.connect(self._message)
        self._point_received.connect(self._on_samp_point)

        channel_row = QWidget()
        row = QGridLayout(channel_row)
        row.setContentsMargins(2, 2, 2, 2)
        row.addWidget(self.slider, 0, 0)
        deep = QPushButton("Deep image")
        deep.setToolTip("Show the deep image again instead of a channel")
        deep.clicked.connect(self.channels.show_deep_image)
        row.addWidget(deep, 0, 1)
        self.channel_dock = _dock(window, "Channels", channel_row, Qt.DockWidgetArea.BottomDockWidgetArea)
        # tabs of the window's tool column, after Display and Flags (window_layout)
        self.region_dock = add_tool_dock(window, "Regions", self._region_panel())
        self.pv_dock = add_tool_dock(window, "PV slice", self.pv)
        self.ratio_dock = add_tool_dock(window, "Line ratios", self.ratios)
        self.moment_dock = add_tool_dock(window, "Line maps", self.moments)
        # the brushed selection is drawn on the image only while the diagram is in view
        self.ratio_dock.visibilityChanged.connect(self.ratios.overlay.setVisible)
        self.ratio_dock.visibilityChanged.connect(lambda seen: seen and self.ratios.came_into_view())
        self.ratios.overlay.setVisible(False)
        self._build_menu()
        window.cube_opened.connect(self._on_cube_opened)
        window.inference_finished.connect(lambda _complete: self.refresh_maps())

    # --- panels and menu ----------------------------------------------------------------
    def _region_panel(self) -> QWidget:
        widget = QWidget()
        grid = QGridLayout(widget)
        for i, kind in enumerate(SHAPES):
            button = QPushButton(kind.capitalize())
            button.setToolTip(f"Draw a {kind} region at the selected pixel; drag it to update its spectrum")
            button.clicked.connect(lambda _c=False, k=kind: self.add_region(k))
            grid.addWidget(button, i // 2, i % 2)
        self.mean_box = QCheckBox("Mean per pixel (else sum)")
        self.mean_box.setChecked(True)
        self.mean_box.toggled.connect(self.regions.set_mean)
        grid.addWidget(self.mean_box, 2, 0, 1, 2)
        for i, (text, slot) in enumerate((("Pin spectrum", self.regions.pin), ("Clear", self.regions.clear),
                                          ("Load DS9…", self._load_ds9), ("Save DS9…", self._save_ds9))):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=slot: s())
            grid.addWidget(button, 3 + i // 2, i % 2)
        path = QPushButton("PV path here")
        path.setToolTip("Draw a PV path through the selected pixel (drag its ends on the image)")
        path.clicked.connect(self.add_pv_path)
        grid.addWidget(path, 5, 0, 1, 2)
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.addWidget(widget)
        layout.addStretch(1)
        return holder

    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("Vie&wer")
        for text, shortcut, slot in (("Next channel", ".", lambda: self.slider.step(1)),
                                     ("Previous channel", ",", lambda: self.slider.step(-1)),
                                     ("Next channel ×10", ">", lambda: self.slider.step(10)),
                                     ("Previous channel ×10", "<", lambda: self.slider.step(-10)),
                                     ("Zoom in (+ on the image)", None,
                                      lambda: image_habits.zoom(self.window.image_view, 1 / image_habits.ZOOM_STEP)),
                                     ("Zoom out (− on the image)", None,
                                      lambda: image_habits.zoom(self.window.image_view, image_habits.ZOOM_STEP)),
                                     ("Zoom to fit (0 on the image)", None,
                                      lambda: image_habits.zoom_to_fit(self.window.image_view))):
            action = QAction(text, self.window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.window.addAction(action)
        grid = QAction("RA/Dec grid", self.window, checkable=True, checked=True)
        grid.toggled.connect(self.sky.set_grid_visible)
        menu.addAction(grid)
        samp = menu.addMenu("SAMP")
        for text, slot in (("Connect to hub", self.samp_connect), ("Send deep image", self.samp_send_deep),
                           ("Send overlay map", self.samp_send_map),
                           ("Send channel image", self.samp_send_channel),
                           ("Send region spectrum", self.samp_send_spectrum)):
            samp.addAction(text, slot)

    def _loaded_model(self):
        """(kinematics model, systemic velocity km/s) already loaded by the window, or None."""
        model = getattr(self.window, "model", None)
        if model is None:
            return None
        session = getattr(getattr(self.window, "controller", None), "session", None)
        return model, float(session.vsys_kms) if session is not None else 0.0

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)

    # --- model ----------------------------------------------------------------------------
    def _on_cube_opened(self, _path) -> None:
        cube = self.window.cube
        self.channels.set_cube(cube)
        self.regions.set_cube(cube)
        self.pv.set_cube(cube)
        self.moments.set_cube(cube)
        self.sky.set_wcs(None if cube is None else cube.wcs, None if cube is None else (cube.nx, cube.ny))
        self.refresh_maps()

    def refresh_maps(self) -> None:
        """Hand the current kinematic maps to the PV view and the ratio diagram."""
        from mirabelle.session.registry import map_array

        maps = getattr(self.window, "maps", None)
        self.pv.set_velocity_map(map_array(maps, "velocity"))
        self.moments.set_velocity_map(map_array(maps, "velocity"))
        self.ratios.set_ratios(map_array(maps, "log_nii_halpha"), map_array(maps, "log_sii_halpha"))
        self.ratios.set_doublet(map_array(maps, "sii_doublet"))

    def _anchor(self) -> tuple[float, float]:
        cube = self.window.cube
        pixel = self.window.state.selected_pixel
        return (float(pixel[0]), float(pixel[1])) if pixel else (cube.nx / 2, cube.ny / 2)

    def add_region(self, kind: str):
        if self.window.cube is None:
            return None
        size = max(4.0, min(self.window.cube.nx, self.window.cube.ny) / 8)
        return self.regions.add_shape(kind, self._anchor(), size)

    def add_pv_path(self) -> None:
        cube = self.window.cube
        if cube is None:
            return
        x, y = self._anchor()
        half = min(cube.nx, cube.ny) / 3
        self.pv.set_path([(max(0.0, x - half), y), (min(cube.nx - 1.0, x + half), y)])
        self.pv_dock.raise_()

    def _load_ds9(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Load DS9 regions", str(export_folder(self.window.cube)),
                                              "DS9 regions (*.reg);;All (*)")
        if path:
            try:
                self._message(f"{self.regions.load_ds9(path)} regions loaded from {path}")
            except MirabelleError as exc:
                self._message(str(exc))

    def _save_ds9(self) -> None:
        from mirabelle.atomic import write_atomic

        if not self.regions.rois:
            self._message("no region to save: draw one first")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Save DS9 regions", str(default_export_path(
            self.window.cube, "regions.reg")), "DS9 regions (*.reg)")
        if path:
            try:
                write_atomic(path, self.regions.ds9_text().encode())
                self._message(f"regions saved to {path}")
            except MirabelleError as exc:
                self._message(str(exc))

    # --- SAMP -----------------------------------------------------------------------------
    def samp_connect(self, hub=None) -> bool:
        from mirabelle.export.samp import SampLink

        if self.samp is None:
            self.samp = SampLink(on_point=lambda ra, dec: self._point_received.emit(ra, dec))
        try:
            if not self.samp.connected:
                self.samp.connect(hub=hub)
            self._message("connected to the SAMP hub")
            return True
        except MirabelleError as exc:
            self._message(str(exc))
            return False

    def _samp_image(self, name: str, values, unit: str) -> None:
        from mirabelle.export.analysis_fits import fits_bytes, map_hdu

        cube = self.window.cube
        if cube is None or values is None:
            self._message(f"nothing to send: no {name}")
            return
        if (self.samp is None or not self.samp.connected) and not self.samp_connect():
            return
        try:
            self.samp.send_fits_image(f"{name}.fits", fits_bytes([map_hdu(values, cube, unit)]))
            self._message(f"{name} sent over SAMP")
        except MirabelleError as exc:
            self._message(str(exc))

    def samp_send_deep(self) -> None:
        self._samp_image("deep_image", self.window.image_view.deep_image, "ct")

    def samp_send_map(self) -> None:
        from mirabelle.session.registry import map_array, map_spec

        name = self.window.state.overlay_map
        maps = getattr(self.window, "maps", None)
        self._samp_image(name or "map", map_array(maps, name) if name else None,
                         map_spec(name).unit if name else "")

    def samp_send_channel(self) -> None:
        image = self.window.image_view.image_item.image if self.channels.active else None
        self._samp_image(f"channel_{self.slider.channel()}", image, "ct")

    def samp_send_spectrum(self) -> None:
        from mirabelle.export.analysis_fits import fits_bytes, spectrum_hdus

        spectrum = self.regions.live
        if spectrum is None:
            self._message("nothing to send: draw a region first")
            return
        if (self.samp is None or not self.samp.connected) and not self.samp_connect():
            return
        try:
            self.samp.send_table("region_spectrum.fits", fits_bytes(spectrum_hdus(spectrum, self.window.cube)))
            self._message("region spectrum sent over SAMP")
        except MirabelleError as exc:
            self._message(str(exc))

    def _on_samp_point(self, ra_deg: float, dec_deg: float) -> None:
        """Move the selected pixel to a sky position another application pointed at."""
        from astropy.coordinates import SkyCoord

        cube = self.window.cube
        if cube is None or cube.wcs is None:
            return
        x, y = cube.wcs.world_to_pixel(SkyCoord(ra_deg, dec_deg, unit="deg", frame="icrs"))
        x, y = int(round(float(x))), int(round(float(y)))
        if 0 <= x < cube.nx and 0 <= y < cube.ny:
            self.window.state.selected_pixel = (x, y)
            self._message(f"SAMP: RA {ra_deg:.5f}° Dec {dec_deg:+.5f}° is pixel ({x}, {y})")
        else:
            self._message(f"SAMP: RA {ra_deg:.5f}° Dec {dec_deg:+.5f}° is outside the cube")

    # --- life cycle -----------------------------------------------------------------------
    def close_document(self) -> None:
        """The window closes its cube: drop it everywhere (the cache pass stops)."""
        for tool in (self.channels, self.regions, self.pv, self.moments):
            tool.set_cube(None)
        self.sky.set_wcs(None, None)

    def shutdown(self) -> None:
        """Stop every thread and leave the SAMP hub (the window is closing)."""
        if self._closed:
            return
        self._closed = True
        for tool in (self.channels, self.regions, self.pv, self.moments):
            tool.shutdown()
        if self.samp is not None:
            self.samp.disconnect()
