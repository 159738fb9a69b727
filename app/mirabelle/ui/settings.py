"""Everything Mirabelle remembers between sessions, through one QSettings store.

Window geometry and dock state, splitter sizes, the last directory, recent files, the
"run inference on open" switch and the display choices of :class:`ViewState`.
Tests point the store at a temporary INI file with :func:`use_file`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from mirabelle.ui.state import FIELDS, MAP_NAMES, ViewState

ORGANIZATION = "Mirabelle"
APPLICATION = "Mirabelle"
MAX_RECENT = 10
# display fields persisted (not the cube or the selection: those belong to a session)
PERSISTED_FIELDS = (
    "stretch", "limits_mode", "colormap", "overlay_map", "overlay_opacity", "overlay_visible",
    "brush_radius", "flag_hint_visible", "flag_hint_threshold", "spectrum_unit",
)

_file_override: str | None = None


def use_file(path: str | os.PathLike | None) -> None:
    """Store settings in the INI file ``path`` (None: the platform's default store)."""
    global _file_override
    _file_override = None if path is None else str(path)


def store() -> QSettings:
    """The QSettings object (INI file when overridden, else the platform store)."""
    if _file_override is not None:
        return QSettings(_file_override, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def _get(key: str, default: Any = None) -> Any:
    return store().value(key, default)


def _set(key: str, value: Any) -> None:
    s = store()
    s.setValue(key, value)
    s.sync()


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


# plain values ---------------------------------------------------------------------------
def last_dir() -> str:
    """The folder of the last opened file (home when unknown or gone)."""
    value = _get("paths/last_dir")
    if value and Path(str(value)).is_dir():
        return str(value)
    return str(Path.home())


def set_last_dir(path: str | os.PathLike) -> None:
    _set("paths/last_dir", str(path))


def recent_files() -> list[str]:
    """Most recent first, at most :data:`MAX_RECENT`."""
    raw = _get("paths/recent", "[]")
    try:
        items = json.loads(raw) if isinstance(raw, str) else list(raw)
    except (TypeError, ValueError):
        items = []
    return [str(p) for p in items][:MAX_RECENT]


def add_recent_file(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_files() if p != path]
    _set("paths/recent", json.dumps(items[:MAX_RECENT]))
    return items[:MAX_RECENT]


def clear_recent_files() -> None:
    _set("paths/recent", "[]")


def run_inference_on_open() -> bool:
    return _as_bool(_get("inference/run_on_open"), True)


def set_run_inference_on_open(value: bool) -> None:
    _set("inference/run_on_open", bool(value))


def scheduler_address() -> str:
    """The Dask scheduler the whole-cube inference runs on ('' = here, in this process)."""
    return str(_get("inference/scheduler", "") or "").strip()


def set_scheduler_address(address: str) -> None:
    _set("inference/scheduler", str(address).strip())


# window -----------------------------------------------------------------------------
def save_window(key: str, geometry: QByteArray, state: QByteArray | None = None) -> None:
    s = store()
    s.setValue(f"window/{key}/geometry", geometry)
    if state is not None:
        s.setValue(f"window/{key}/state", state)
    s.sync()


def window_geometry(key: str) -> QByteArray | None:
    value = _get(f"window/{key}/geometry")
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def window_state(key: str) -> QByteArray | None:
    value = _get(f"window/{key}/state")
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def save_splitter(key: str, sizes: list[int]) -> None:
    _set(f"splitters/{key}", json.dumps([int(s) for s in sizes]))


def splitter_sizes(key: str) -> list[int] | None:
    raw = _get(f"splitters/{key}")
    try:
        sizes = json.loads(raw) if raw else None
    except (TypeError, ValueError):
        return None
    return [int(s) for s in sizes] if sizes else None


# display state ----------------------------------------------------------------------------
def save_display(state: ViewState) -> None:
    """Persist the display choices of ``state`` (JSON, one key)."""
    data = {name: state.get(name) for name in PERSISTED_FIELDS}
    if data.get("limits_mode") == "manual":  # one cube's limits: the next start is automatic
        del data["limits_mode"]
    data["overlay_colormaps"] = {m: state.overlay_colormap_for(m) for m in MAP_NAMES}
    _set("display/state", json.dumps(data))


def restore_display(state: ViewState) -> None:
    """Apply saved display choices to ``state``; unknown or invalid values are skipped."""
    raw = _get("display/state")
    if not raw:
        return
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return
    for name in PERSISTED_FIELDS:
        if name in data and name in FIELDS:
            try:
                state.set(name, data[name])
            except (TypeError, ValueError):
                pass
    for map_name, cmap in (data.get("overlay_colormaps") or {}).items():
        try:
            state.set_overlay_colormap(map_name, cmap)
        except (TypeError, ValueError):
            pass
