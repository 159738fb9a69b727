"""The one model choice of the CLI and the GUI: named or picked by resolution, checked once, cached."""

from __future__ import annotations

import os
import threading

from mirabelle.inference.model import KinematicsModel, load_model, require_sn3, shipped_model_name

_models: dict[tuple, KinematicsModel] = {}
_lock = threading.Lock()


def choose_model(cube, name: str | os.PathLike | None = None, threads: int | None = None) -> KinematicsModel:
    """The kinematics model for ``cube``: ``name`` (shipped name or .onnx path) or the shipped
    model of the cube's resolving power.

    The filter is checked here (every model is an SN3 model). Loaded models are shared
    (onnxruntime sessions are thread-safe) and reused while the file is unchanged, since
    building a session costs ~50 ms with the GIL held.

    Raises
    ------
    ModelError
        Not an SN3 cube, no model for its resolution, or a bad model file.
    """
    require_sn3(cube)
    if name is None:
        name = shipped_model_name(cube)
    text = os.fspath(name)
    path = os.path.abspath(text) if os.path.exists(text) else text
    key = (path, _mtime(path), threads)
    with _lock:
        if key not in _models:
            _models[key] = load_model(text, threads=threads)
        return _models[key]


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
