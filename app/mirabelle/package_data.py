"""Locate the shipped models and resources through importlib.resources (wheel and bundle alike)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def models_dir() -> Traversable:
    """The folder holding the shipped ONNX models and their JSON cards."""
    return resources.files("mirabelle.models")


def resource(name: str) -> Traversable:
    """A file shipped in ``resources/`` (icons, the desktop file's icon, help text)."""
    return resources.files("mirabelle.resources").joinpath(name)
