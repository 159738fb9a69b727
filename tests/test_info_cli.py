"""`mirabelle info CUBE` prints what was read, or one error line and exit status 2."""

import numpy as np
from cube_files import M31_AXIS_START, write_fits_cube, write_orb_cube

from mirabelle.cli import main


def test_info_prints_dimensions_filter_axis_resolution_and_sky_centre(tmp_path, capsys):
    path = tmp_path / "m31.hdf5"
    x, y = np.meshgrid(np.arange(9), np.arange(11), indexing="ij")
    laser = 543.5 * 1.0374712 * (1 + 1e-4 * ((x - 4) ** 2 + (y - 5) ** 2))
    write_orb_cube(path, with_base_axis=False, deep_frame=True, calib_map=laser)
    assert main(["info", str(path)]) == 0
    rows = info_rows(capsys.readouterr().out)
    assert rows["dimensions"].startswith("9 × 11 pixels × 840 channels")
    assert rows["filter"] == "SN3"
    assert rows["calibrated"].startswith("yes")
    assert rows["interferometer"].startswith("step 2943.026 nm, order 8, step_nb 840, zpd_index 168")
    assert rows["axis"].startswith(f"{M31_AXIS_START:.3f} – 15861.237 cm-1, step 2.09832 cm-1")
    assert rows["sinc FWHM"].startswith("3.165 cm-1 at centre pixel (4, 5); 3.165 – 3.178")
    assert rows["resolution"].startswith("R = 4814 at Hα")
    # CRPIX is at pixel (3, 7); the centre (4, 5) is 1 pixel west and 2 south of it
    assert rows["WCS centre"] == "RA 00:42:44.30  Dec +41:16:06.9 (ICRS) at pixel (4, 5)"
    assert rows["deep frame"] == "stored" and rows["calibration map"] == "stored"
    assert rows["warnings"] == "none"


def info_rows(out):
    """``name  value`` lines -> {name: value}."""
    rows = {}
    for line in out.splitlines():
        name, _, value = line.partition("  ")
        rows[name.strip()] = value.strip()
    return rows


def test_info_on_a_fits_cube_lists_its_warnings(tmp_path, capsys):
    path = tmp_path / "bare.fits"
    write_fits_cube(path, np.ones((4, 5, 30), np.float32),
                    dict(CTYPE3="WAVE", CUNIT3="nm", CRVAL3=650.0, CDELT3=0.1, FILTER="SN2"))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    rows = info_rows(out)
    assert rows["file"].endswith("(FITS)") and rows["filter"].startswith("SN2 (not SN3")
    assert "uneven steps" in rows["axis"] and rows["WCS centre"] == "no celestial WCS"
    assert "sinc FWHM (estimate)" in rows and "sinc FWHM is assumed" in out


def test_info_on_a_bad_file_prints_one_error_line_and_exits_2(tmp_path, capsys):
    path = tmp_path / "notes.hdf5"
    path.write_text("not a cube")
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirabelle: error: ") and str(path) in lines[0]
    assert main(["info", str(tmp_path / "missing.hdf5")]) == 2
    assert "does not exist" in capsys.readouterr().err
