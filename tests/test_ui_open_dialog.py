"""File ▸ Open lists cubes and folders but not Mirabelle's own flag sidecars."""

from PySide6.QtWidgets import QListView

from mirabelle.flags import sidecar_path
from mirabelle.ui.open_dialog import open_cube_dialog


def _listed(dialog) -> set[str]:
    view = dialog.findChild(QListView, "listView")
    model, root = view.model(), view.rootIndex()
    return {model.index(row, 0, root).data() for row in range(model.rowCount(root))}


def test_the_fits_filter_leaves_out_flag_sidecars(qtbot, tmp_path):
    for name in ("m31.hdf5", "m33.fits", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    sidecar_path(tmp_path / "m31.hdf5").write_bytes(b"")
    sidecar_path(tmp_path / "m33.fits").write_bytes(b"")
    (tmp_path / "older cubes").mkdir()

    dialog = open_cube_dialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "m31.hdf5" in _listed(dialog), timeout=5000)
    assert _listed(dialog) == {"m31.hdf5", "m33.fits", "older cubes"}

    dialog.selectNameFilter("FITS cubes (*.fits *.fit *.fts)")
    qtbot.waitUntil(lambda: "m31.hdf5" not in _listed(dialog), timeout=5000)
    assert _listed(dialog) == {"m33.fits", "older cubes"}

    dialog.selectNameFilter("All files (*)")
    qtbot.waitUntil(lambda: "notes.txt" in _listed(dialog), timeout=5000)
    assert "m33.fits.mirabelle-flags.fits" not in _listed(dialog)
