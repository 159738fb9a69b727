"""The display state of one Mirabelle window: a plain QObject that widgets mirror both ways.

Every display choice (which cube, the selected pixel, stretch, limits, colormap, overlay,
flag mode, spectrum unit) lives here and nowhere else. Tests and ``mirabelle screenshot``
set it directly; widgets only observe it.

How to connect (for widget authors)
-----------------------------------
* Read a value: ``state.flag_mode``; write one: ``state.flag_mode = "brush"`` (or
  ``state.set("flag_mode", "brush")``). Values are validated (``ValueError`` for a bad
  choice) and a write that changes nothing emits nothing.
* Each field ``name`` has a typed signal ``name_changed(object)`` carrying the new value,
  and every change also emits the generic ``changed(str name)``. The per-map overlay
  settings emit ``overlay_limits_changed(str map_name)`` /
  ``overlay_colormap_changed(str map_name)``.
* Mirror both ways and block your own echo: when the state changes, update your Qt widget
  inside ``QSignalBlocker(widget)`` so the widget's own signal does not write back; when the
  user edits the widget, write the state. Because equal writes are no-ops, loops end anyway.
* Coordinates are Mirabelle's ``[x, y]`` 0-based pixel indices (see
  :mod:`mirabelle.orientation`); ``selected_pixel`` is ``(x, y)`` ints or ``None``.
* ``brush_radius`` is in image pixels; ``overlay_opacity`` in 0..1; limits are
  ``(low, high)`` floats in the map's own unit (km/s for velocities and broadenings).

What the main window gives the other widgets
--------------------------------------------
* ``SpectrumPanel(state, parent=None)`` is handed one :class:`PixelData` per selected pixel
  through ``panel.set_pixel_data(data)`` (``None`` clears it). The main window reads the
  spectrum, solves the model and the saliency off the GUI thread; the panel only draws.
* The flag layer lives on the main image view (``mirabelle.ui.image_view.ImageView``):
  ``view.view_box`` (a ``pg.ViewBox``, aspect locked, y up, items in ``[x, y]`` pixel
  coordinates, pixel (x, y) covers x..x+1, y..y+1), ``view.image_item`` (the deep image),
  ``view.add_layer(item, z)`` to put an item above the deep image (z 10 = overlay map,
  z 20 = flags, z 30 = selection marker). While ``state.flag_mode != "off"`` the view
  does not change the selected pixel on click and stops left-drag panning, so a flag
  item may accept left drags (``mouseDragEvent``) and clicks itself.

Example::

    state.flag_mode_changed.connect(self._on_model_flag_mode)
    def _on_model_flag_mode(self, mode):
        with QSignalBlocker(self.mode_combo):
            self.mode_combo.setCurrentText(mode)
    self.mode_combo.currentTextChanged.connect(lambda m: setattr(state, "flag_mode", m))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from mirabelle.session import MAP_NAMES, MAPS, PixelResult

STRETCHES = ("linear", "sqrt", "log", "asinh")
LIMITS_MODES = ("minmax", "99.5", "zscale", "manual")
COLORMAPS = ("gray", "viridis", "inferno", "magma", "plasma", "cividis", "coolwarm", "RdBu_r", "turbo")
MAP_LABELS = {spec.name: spec.label for spec in MAPS}
DEFAULT_MAP_COLORMAPS = {spec.name: spec.colormap for spec in MAPS}
FLAG_MODES = ("off", "brush", "polygon", "eraser")
SPECTRUM_UNITS = ("cm1", "nm", "kms")


def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}; found {value!r}")
        return value

    return check


def _optional_choice(options: tuple[str, ...]):
    inner = _choice(options)
    return lambda value: None if value is None else inner(value)


def _pixel(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    x, y = value
    return (int(x), int(y))


def _limits(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = (float(v) for v in value)
    return (low, high)


def _unit_float(value: Any) -> float:
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"expected an opacity between 0 and 1; found {value!r}")
    return v


def _radius(value: Any) -> float:
    v = float(value)
    if not 0.5 <= v <= 200:
        raise ValueError(f"expected a brush radius between 0.5 and 200 pixels; found {value!r}")
    return v


def _path(value: Any) -> str | None:
    return None if value is None else str(value)


class Field:
    """One declared display field of :class:`ViewState`: a default, a validator, a change signal.

    Reading ``state.name`` gives the value; writing it validates, stores and, when it
    differs, emits ``name_changed(value)`` and ``changed("name")`` (glue's callback
    properties, as plain descriptors).
    """

    def __init__(self, default: Any, validate: Callable[[Any], Any]) -> None:
        self.default, self.validate = default, validate

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, state, owner=None) -> Any:
        return self if state is None else state._values[self.name]

    def __set__(self, state, value: Any) -> None:
        state.set(self.name, value)


PixelData = PixelResult
"""What the spectrum panel draws for one pixel (:class:`mirabelle.session.PixelResult`)."""


class ViewState(QObject):
    """Display choices of one window, with one change signal per field.

    The fields are the :class:`Field` attributes below (:data:`FIELDS` maps their names to
    ``(default, validator)``); per-map overlay limits and colormaps are
    read with :meth:`overlay_limits_for` / :meth:`overlay_colormap_for` and written with
    :meth:`set_overlay_limits` / :meth:`set_overlay_colormap`.
    """

    cube_path = Field(None, _path)
    selected_pixel = Field(None, _pixel)
    stretch = Field("linear", _choice(STRETCHES))
    limits_mode = Field("zscale", _choice(LIMITS_MODES))  # 99.5 % lets bright stars hide the disk
    limits = Field(None, _limits)
    colormap = Field("gray", _choice(COLORMAPS))
    overlay_map = Field("velocity", _optional_choice(MAP_NAMES))  # shown as soon as maps fill
    overlay_opacity = Field(1.0, _unit_float)  # colours as on the colour bar; unmeasured pixels show the image
    overlay_visible = Field(True, bool)
    flag_mode = Field("off", _choice(FLAG_MODES))
    brush_radius = Field(3.0, _radius)
    flag_hint_visible = Field(False, bool)
    flag_hint_threshold = Field(0.5, float)
    spectrum_unit = Field("cm1", _choice(SPECTRUM_UNITS))

    changed = Signal(str)
    cube_path_changed = Signal(object)
    selected_pixel_changed = Signal(object)
    stretch_changed = Signal(object)
    limits_mode_changed = Signal(object)
    limits_changed = Signal(object)
    colormap_changed = Signal(object)
    overlay_map_changed = Signal(object)
    overlay_opacity_changed = Signal(object)
    overlay_visible_changed = Signal(object)
    flag_mode_changed = Signal(object)
    brush_radius_changed = Signal(object)
    flag_hint_visible_changed = Signal(object)
    flag_hint_threshold_changed = Signal(object)
    spectrum_unit_changed = Signal(object)
    overlay_limits_changed = Signal(str)
    overlay_colormap_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, Any] = {name: default for name, (default, _) in FIELDS.items()}
        self._overlay_limits: dict[str, tuple[float, float] | None] = {m: None for m in MAP_NAMES}
        self._overlay_colormaps: dict[str, str] = dict(DEFAULT_MAP_COLORMAPS)

    # generic access -------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The current value of field ``name``."""
        return self._values[name]

    def set(self, name: str, value: Any) -> bool:
        """Validate and store ``value``; emit the field's signal and ``changed`` if it differs.

        Returns True when the value changed.
        """
        if name not in FIELDS:
            raise AttributeError(f"ViewState has no field {name!r}")
        value = FIELDS[name][1](value)
        if self._values[name] == value:
            return False
        self._values[name] = value
        getattr(self, f"{name}_changed").emit(value)
        self.changed.emit(name)
        return True

    def as_dict(self) -> dict[str, Any]:
        """A copy of all fields plus the per-map overlay settings (for settings and tests)."""
        out = dict(self._values)
        out["overlay_limits"] = dict(self._overlay_limits)
        out["overlay_colormaps"] = dict(self._overlay_colormaps)
        return out

    # per-map overlay settings ---------------------------------------------------------
    def overlay_limits_for(self, map_name: str) -> tuple[float, float] | None:
        """User limits of one map, or None for automatic (robust percentiles)."""
        return self._overlay_limits[_choice(MAP_NAMES)(map_name)]

    def set_overlay_limits(self, map_name: str, limits: tuple[float, float] | None) -> None:
        map_name = _choice(MAP_NAMES)(map_name)
        limits = _limits(limits)
        if self._overlay_limits[map_name] != limits:
            self._overlay_limits[map_name] = limits
            self.overlay_limits_changed.emit(map_name)
            self.changed.emit("overlay_limits")

    def overlay_colormap_for(self, map_name: str) -> str:
        return self._overlay_colormaps[_choice(MAP_NAMES)(map_name)]

    def set_overlay_colormap(self, map_name: str, colormap: str) -> None:
        map_name = _choice(MAP_NAMES)(map_name)
        colormap = _choice(COLORMAPS)(colormap)
        if self._overlay_colormaps[map_name] != colormap:
            self._overlay_colormaps[map_name] = colormap
            self.overlay_colormap_changed.emit(map_name)
            self.changed.emit("overlay_colormap")


FIELDS: dict[str, tuple[Any, Any]] = {name: (field.default, field.validate) for name, field in vars(ViewState).items()
                                      if isinstance(field, Field)}
"""Every display field: name -> (default, validator)."""
