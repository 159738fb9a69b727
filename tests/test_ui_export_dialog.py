"""The ORCS priors export dialog: folder, options, snippet, export in a worker, refusals as sentences."""

import numpy as np
import pytest
from astropy.io import fits

from mirabelle.cube import open_cube
from mirabelle.errors import ExportError
from mirabelle.flags import FlagMask
from mirabelle.inference.maps import KinematicMaps
from mirabelle.synthetic import write_synthetic_cube
from mirabelle.ui.export_dialog import ExportDialog, ExportPriorsDialog

NX, NY = 12, 10


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("dialog") / "ngc.hdf5"
    write_synthetic_cube(path, NX, NY, seed=3)
    return path


@pytest.fixture
def cube(cube_path):
    with open_cube(cube_path) as opened:
        yield opened


def _maps():
    maps = KinematicMaps.empty(NX, NY, model_name="sn3-test", model_version="1", model_sha256="a" * 64)
    x, _ = np.meshgrid(np.arange(NX), np.arange(NY), indexing="ij")
    maps.velocity[:] = -120.0 + 2 * x
    maps.broadening[:] = 25.0
    maps.velocity_err[:] = 3.0
    maps.broadening_err[:] = 5.0
    maps.snr_halpha[:] = 10.0
    maps.amplitudes[:] = 1.0
    maps.fluxes[:] = 2.0
    maps.double_score[:] = 0.2
    maps.done[:] = True
    maps.velocity[4, 7] = 300.0  # one bright pixel
    return maps


@pytest.fixture
def flags():
    mask = FlagMask(NX, NY)
    mask.paint_disk(6, 5, 1)
    return mask


def _export(qtbot, dialog):
    with qtbot.waitSignal(dialog.exported, timeout=30000) as blocker:
        assert dialog.export()
    return blocker.args[0]


def test_export_writes_the_priors_with_flags_and_reports_it(qtbot, cube, flags, tmp_path):
    dialog = ExportPriorsDialog(cube, _maps(), flags=flags, model_card={"name": "sn3-test"})
    qtbot.addWidget(dialog)
    assert ExportDialog is ExportPriorsDialog
    assert dialog.flags_check.isChecked() and "5 pixels flagged" in dialog.flags_check.text()
    out = tmp_path / "priors"
    dialog.folder_edit.setText(str(out))
    assert str(out) in dialog.snippet_edit.toPlainText()
    assert "fit_lines_in_region_from_estimate(\n    2" in dialog.snippet_edit.toPlainText()
    summary = _export(qtbot, dialog)
    assert (out / "velocity.fits").exists() and (out / "flags_double.reg").exists()
    assert (out / "snr_halpha.fits").exists()
    with fits.open(out / "velocity.fits") as hdul:
        assert hdul[0].data[7, 4] == pytest.approx(300.0)
    with fits.open(out / "flags_double.fits") as hdul:
        assert hdul[0].data[5, 6] == 1
    assert summary["pixels"]["flagged_double"] == 5
    assert "Exported" in dialog.status_label.text() and str(out) in dialog.status_label.text()
    assert not dialog.busy and not dialog.progress.isVisible()


def test_options_leave_out_flags_and_extras(qtbot, cube, flags, tmp_path):
    dialog = ExportPriorsDialog(cube, _maps(), flags=flags)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "lean"))
    dialog.flags_check.setChecked(False)
    dialog.extras_check.setChecked(False)
    assert "fit_lines_in_region_from_estimate(\n    2" not in dialog.snippet_edit.toPlainText()
    _export(qtbot, dialog)
    written = {p.name for p in (tmp_path / "lean").iterdir()}
    assert "velocity_err.fits" in written and "broadening.fits" in written
    assert "flags_double.fits" not in written and "snr_halpha.fits" not in written


def test_existing_files_are_refused_first_then_overwritten_on_confirmation(qtbot, cube, tmp_path):
    out = tmp_path / "again"
    first = ExportPriorsDialog(cube, _maps())
    qtbot.addWidget(first)
    first.folder_edit.setText(str(out))
    _export(qtbot, first)
    (out / "velocity.fits").write_bytes(b"old")

    dialog = ExportPriorsDialog(cube, _maps())
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(out))
    with qtbot.waitSignal(dialog.failed, timeout=1000) as blocker:
        assert not dialog.export()
    message = blocker.args[0]
    assert message.startswith("Not exported:") and "velocity.fits" in message and "Overwrite" in message
    assert "Traceback" not in dialog.status_label.text()
    assert (out / "velocity.fits").read_bytes() == b"old"
    assert dialog.export_button.text() == "Overwrite"
    _export(qtbot, dialog)  # the second press confirms
    with fits.open(out / "velocity.fits") as hdul:
        assert hdul[0].data.shape == (NY, NX)


def test_changing_the_folder_withdraws_the_overwrite_confirmation(qtbot, cube, tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    (out / "velocity.fits").write_bytes(b"old")
    dialog = ExportPriorsDialog(cube, _maps())
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(out))
    assert not dialog.export()
    dialog.folder_edit.setText(str(tmp_path / "y"))
    assert dialog.export_button.text() == "Export"
    dialog.folder_edit.setText(str(out))
    assert not dialog.export()  # asks again
    assert (out / "velocity.fits").read_bytes() == b"old"


def test_export_errors_are_shown_as_one_sentence(qtbot, cube, tmp_path):
    def refuse(**kwargs):
        raise ExportError(f"{kwargs['out_dir']}: expected a writable folder, found a read-only one.")

    dialog = ExportPriorsDialog(cube, _maps(), export_function=refuse)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "ro"))
    with qtbot.waitSignal(dialog.failed, timeout=10000) as blocker:
        assert dialog.export()
    assert blocker.args[0] == f"Not exported: {tmp_path / 'ro'}: expected a writable folder, found a read-only one."
    assert dialog.status_label.text() == blocker.args[0]
    assert dialog.export_button.isEnabled()


def test_copy_puts_the_snippet_on_the_clipboard(qtbot, cube):
    from PySide6.QtGui import QGuiApplication

    dialog = ExportPriorsDialog(cube, _maps())
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert "from orcs.process import SpectralCube" in text and "velocity.fits" in text
    assert not dialog.flags_check.isEnabled()  # no flags given
