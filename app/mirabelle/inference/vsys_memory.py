"""The systemic velocity of each cube, remembered between runs (CLI and GUI alike).

One small JSON file, ``systemic_velocity.json`` in the maps cache folder
(`mirabelle.inference.cache.cache_dir`), maps a cube's key (absolute path, size and
modification time: a rewritten cube is detected again) to ``{"vsys_kms", "source"}``.
A value the user gave (``--vsys``, the GUI field) is remembered and wins over detection
until the user gives another; a detected one saves the next run the detection.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "systemic_velocity.json"
USER = "user"
DETECTED = "detected"


@dataclass(frozen=True)
class ChosenVelocity:
    """The systemic velocity used for a run.

    Attributes
    ----------
    vsys_kms : km/s, observed frame.
    source : 'user' (given), 'detected' (found in the cube) or 'none' (no line found: 0 used).
    remembered : True when it came from an earlier run.
    detail : a short sentence for the user (significance, or why none was found).
    """

    vsys_kms: float
    source: str
    remembered: bool
    detail: str = ""

    def describe(self) -> str:
        """One line such as ``systemic velocity +1510.3 km/s (detected, remembered)``."""
        how = self.source + (", remembered" if self.remembered else "")
        return f"systemic velocity {self.vsys_kms:+.1f} km/s ({how}{'; ' + self.detail if self.detail else ''})"


def _store_path() -> Path:
    from mirabelle.inference.cache import cache_dir

    return cache_dir() / FILE_NAME


def cube_key(cube_path: str | os.PathLike) -> str:
    """The remembered entry's key: absolute path, size and modification time."""
    path = Path(cube_path).resolve()
    stat = path.stat()
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}"


def _load() -> dict:
    try:
        content = json.loads(_store_path().read_text())
        return content if isinstance(content, dict) else {}
    except (OSError, ValueError):
        return {}


def recall(cube_path) -> tuple[float, str] | None:
    """(vsys_kms, source) remembered for this cube file, or None."""
    try:
        entry = _load().get(cube_key(cube_path))
        return float(entry["vsys_kms"]), str(entry["source"])
    except (OSError, TypeError, KeyError, ValueError):
        return None


def remember(cube_path, vsys_kms: float, source: str) -> None:
    """Store the cube's systemic velocity (errors are ignored: remembering is a convenience)."""
    from mirabelle.atomic import write_atomic
    from mirabelle.errors import MirabelleError

    try:
        entries = _load()
        entries[cube_key(cube_path)] = {"vsys_kms": round(float(vsys_kms), 3), "source": source}
        write_atomic(_store_path(), json.dumps(entries, indent=1).encode(), fsync=False)
    except (OSError, MirabelleError):
        pass


def choose_systemic_velocity(cube, given_kms: float | None = None) -> ChosenVelocity:
    """The systemic velocity for a run on ``cube``: ``given_kms`` (then remembered), else the
    remembered one, else detected (`mirabelle.inference.systemic`) and remembered; 0 km/s
    with the reason when the cube shows no line."""
    from mirabelle.errors import MirabelleError
    from mirabelle.inference.systemic import detect_systemic_velocity

    if given_kms is not None:
        remember(cube.path, given_kms, USER)
        return ChosenVelocity(float(given_kms), USER, False)
    recalled = recall(cube.path)
    if recalled is not None:
        return ChosenVelocity(recalled[0], recalled[1], True)
    try:
        found = detect_systemic_velocity(cube)
    except MirabelleError as exc:
        return ChosenVelocity(0.0, "none", False, f"0 km/s used: {exc}")
    velocity = round(found.velocity_kms, 1)  # what is remembered: the same key for the maps cache
    remember(cube.path, velocity, DETECTED)
    return ChosenVelocity(velocity, DETECTED, False,
                          f"{found.significance:.0f} sigma over {found.pixels} line-bright pixels")
