"""Optional test dependencies: a user's light install skips the tests that need them, CI does not.

The README's test command installs only the ``[test]`` extra, so PyTorch (``[train]``) may be
absent: the modules that need it skip. CI sets ``MIRABELLE_REQUIRE_ALL=1``: the imports are then
plain imports (a missing package fails collection) and any skipped test fails the run
(``conftest.pytest_sessionfinish``), so CI runs every test.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

REQUIRE_ALL_ENV = "MIRABELLE_REQUIRE_ALL"


def require_all() -> bool:
    """True when every optional dependency must be present and no test may skip (CI)."""
    return os.environ.get(REQUIRE_ALL_ENV) == "1"


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` (from the ``extra`` extra), or skip the calling test module without it."""
    if require_all():
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed (python3 -m pip install '.[{extra}]')")
