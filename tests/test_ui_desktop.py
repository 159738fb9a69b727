"""Desktop integration: the shipped packaging files, --install-desktop, the CLI entry."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mirabelle.ui import desktop

ROOT = Path(__file__).resolve().parents[1]


def test_packaging_files_match_the_installed_ones(tmp_path):
    written = desktop.write_packaging_files(tmp_path)
    for path in written:
        assert (ROOT / "packaging" / path.name).read_text() == path.read_text(), \
            f"packaging/{path.name} is stale: regenerate with mirabelle.ui.desktop.write_packaging_files('packaging')"


def test_mime_xml_claims_hdf5_and_fits_cubes():
    root = ET.fromstring(desktop.mime_xml())
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    types = {t.get("type"): t for t in root.findall("m:mime-type", ns)}
    hdf5 = types[desktop.MIME_HDF5]
    assert {g.get("pattern") for g in hdf5.findall("m:glob", ns)} == {"*.hdf5", "*.h5"}
    assert hdf5.find("m:magic/m:match", ns).get("value") == "\\211HDF\\r\\n\\032\\n"
    fits = types[desktop.MIME_FITS]
    assert fits.find("m:magic/m:match/m:match", ns).get("value").startswith("NAXIS   =")
    entry = desktop.desktop_entry()
    assert "Exec=mirabelle %F" in entry and desktop.MIME_HDF5 in entry and "Icon=mirabelle" in entry


def test_install_desktop_writes_user_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    from mirabelle.cli import main

    assert main(["--install-desktop"]) == 0
    entry = (tmp_path / "applications" / "mirabelle.desktop").read_text()
    assert "MimeType=" in entry and "%F" in entry
    assert (tmp_path / "mime" / "packages" / "mirabelle.xml").read_text() == desktop.mime_xml()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "mirabelle.svg").read_bytes().startswith(b"<?xml")
    assert "installed" in capsys.readouterr().out


def test_gui_arguments():
    import argparse

    from mirabelle.commands import gui

    parser = argparse.ArgumentParser()
    gui.add_arguments(parser)
    args = parser.parse_args(["a.hdf5", "--no-inference"])
    assert args.files == ["a.hdf5"] and args.no_inference and not args.install_desktop
