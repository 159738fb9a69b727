# Replaces the contrib astropy hook: collect astropy's submodules except its test suites and
# the matplotlib-only wcsaxes package, whose import calls pytest.importorskip (a
# BaseException that aborts PyInstaller's collection when pytest is installed).
from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata


def _wanted(name: str) -> bool:
    return not (name.startswith("astropy.visualization.wcsaxes") or ".tests" in name
                or name.startswith("astropy.conftest"))


datas = collect_data_files("astropy")
hiddenimports = collect_submodules("astropy", filter=_wanted)
hiddenimports += ["numpy.lib.recfunctions"]
datas += [(path, target) for path, target in collect_data_files("astropy", include_py_files=True)
          if path.endswith(("_parsetab.py", "_lextab.py"))]
datas += copy_metadata("astropy")
datas += copy_metadata("numpy")
