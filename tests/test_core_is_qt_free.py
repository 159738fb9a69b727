"""The numeric core and the headless commands never load Qt."""

import subprocess
import sys

SCRIPT = r"""
import importlib, pkgutil, sys
import mirabelle
from mirabelle import cli
SKIP = ("mirabelle.ui", "mirabelle.training", "mirabelle.__main__")
def walk(path, prefix):
    # pkgutil.walk_packages would import the skipped packages to recurse into them
    for info in pkgutil.iter_modules(path, prefix):
        if info.name.startswith(SKIP):
            continue
        yield info.name
        if info.ispkg:
            yield from walk(importlib.import_module(info.name).__path__, info.name + ".")
names = list(walk(mirabelle.__path__, "mirabelle."))
for name in names:
    importlib.import_module(name)
for command in ("info", "predict", "demo"):
    cli._build_parser(command)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"))
print(len(names), loaded)
assert not loaded, loaded
"""


def test_core_modules_and_headless_commands_do_not_import_qt():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[0]) > 10  # the walk really found the core modules
