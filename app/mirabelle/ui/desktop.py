"""Desktop integration: the freedesktop entry, the MIME types claiming SITELLE cubes, the icon.

The texts live here (so a wheel or a bundle can install them without the source tree);
``packaging/`` holds the same files for distributors, kept equal by a test.
``mirabelle --install-desktop`` calls :func:`install_desktop`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DESKTOP_ID = "mirabelle"
MIME_HDF5 = "application/x-sitelle-hdf5"
MIME_FITS = "application/x-sitelle-fits-cube"
MIME_TYPES = (MIME_HDF5, MIME_FITS, "application/x-hdf", "application/x-hdf5", "application/fits", "image/fits")

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Version=1.5
Name=Mirabelle
GenericName=SITELLE cube viewer
Comment=View SITELLE spectral cubes, CNN kinematic maps and ORCS priors
Exec={exec} %F
TryExec={try_exec}
Icon=mirabelle
Terminal=false
StartupNotify=true
StartupWMClass=mirabelle
Categories=Science;Astronomy;Education;Qt;
Keywords=astronomy;SITELLE;spectroscopy;FTS;ORCS;kinematics;
MimeType={mime_types};
"""

MIME_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Mirabelle: SITELLE spectral cubes. Installed by the install-desktop option of mirabelle,
     or copy to ~/.local/share/mime/packages/ and run update-mime-database. -->
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-sitelle-hdf5">
    <comment>SITELLE spectral cube (HDF5)</comment>
    <sub-class-of type="application/x-hdf"/>
    <icon name="mirabelle"/>
    <magic priority="60">
      <match type="string" offset="0" value="\\211HDF\\r\\n\\032\\n"/>
    </magic>
    <glob pattern="*.hdf5" weight="60"/>
    <glob pattern="*.h5" weight="60"/>
  </mime-type>
  <mime-type type="application/x-sitelle-fits-cube">
    <comment>SITELLE spectral cube (FITS)</comment>
    <sub-class-of type="application/fits"/>
    <icon name="mirabelle"/>
    <magic priority="60">
      <match type="string" offset="0" value="SIMPLE  =">
        <match type="string" offset="160" value="NAXIS   =                    3"/>
      </match>
    </magic>
  </mime-type>
</mime-info>
"""


def desktop_entry(exec_command: str = "mirabelle", try_exec: str = "mirabelle") -> str:
    """The ``.desktop`` text launching ``exec_command`` with the files as arguments."""
    return DESKTOP_ENTRY.format(exec=exec_command, try_exec=try_exec, mime_types=";".join(MIME_TYPES))


def mime_xml() -> str:
    return MIME_XML


def icon_svg() -> bytes:
    from mirabelle.package_data import resource

    return resource("mirabelle.svg").read_bytes()


def launch_command() -> tuple[str, str]:
    """(Exec, TryExec) for this installation: the frozen app, the `mirabelle` script or python -m."""
    if getattr(sys, "frozen", False):
        return _quote(sys.executable), sys.executable
    script = Path(sys.executable).with_name("mirabelle")
    found = str(script) if script.is_file() else shutil.which("mirabelle")
    if found:
        return _quote(found), found
    return f"{_quote(sys.executable)} -m mirabelle", sys.executable


def _quote(path: str) -> str:
    return f'"{path}"' if any(c in path for c in ' "\'\\') else path


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install_desktop(data_dir: str | os.PathLike | None = None, run_tools: bool = True) -> list[str]:
    """Install the desktop entry, MIME types and icon for this user; return what was done.

    Files go under ``data_dir`` (default ``$XDG_DATA_HOME`` or ``~/.local/share``):
    ``applications/mirabelle.desktop``, ``mime/packages/mirabelle.xml``,
    ``icons/hicolor/scalable/apps/mirabelle.svg``; then ``update-mime-database`` and
    ``update-desktop-database`` run when present.
    """
    from mirabelle.errors import ExportError

    root = Path(data_dir) if data_dir is not None else data_home()
    exec_command, try_exec = launch_command()
    targets = {
        root / "applications" / f"{DESKTOP_ID}.desktop": desktop_entry(exec_command, try_exec).encode(),
        root / "mime" / "packages" / f"{DESKTOP_ID}.xml": mime_xml().encode(),
        root / "icons" / "hicolor" / "scalable" / "apps" / f"{DESKTOP_ID}.svg": icon_svg(),
    }
    done = []
    for path, payload in targets.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        except OSError as exc:
            raise ExportError(f"{path}: expected a writable file for the desktop integration, found: {exc}") from exc
        done.append(f"installed {path}")
    if run_tools:
        for tool, folder in (("update-mime-database", root / "mime"),
                             ("update-desktop-database", root / "applications")):
            exe = shutil.which(tool)
            if exe is None:
                done.append(f"{tool} not found: skipped")
                continue
            result = subprocess.run([exe, str(folder)], capture_output=True, text=True, check=False)
            done.append(f"ran {tool} {folder}" + ("" if result.returncode == 0 else f" (exit {result.returncode})"))
    return done


def write_packaging_files(folder: str | os.PathLike) -> list[Path]:
    """Write ``mirabelle.desktop`` and ``mirabelle.xml`` as shipped in ``packaging/``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    desktop = folder / f"{DESKTOP_ID}.desktop"
    xml = folder / f"{DESKTOP_ID}.xml"
    desktop.write_text(desktop_entry())
    xml.write_text(mime_xml())
    return [desktop, xml]
