"""`mirabelle predict` end to end, in process: folders, files, progress, regions and failures."""

import json
import shutil

import numpy as np
import pytest
from astropy.io import fits
from inference_models import write_model

from mirabelle.cli import main

NX, NY = 48, 40  # conftest.SYNTHETIC


@pytest.fixture(scope="module")
def setup(synthetic_cube_path, tmp_path_factory):
    model = write_model(tmp_path_factory.mktemp("models"), kinematics=(-170.0, 30.0, 4.0, 5.0))
    return synthetic_cube_path, model


def test_predict_writes_one_priors_folder_per_cube(setup, tmp_path, capsys):
    cube, model = setup
    code = main(["predict", str(cube), "-o", str(tmp_path), "--model", str(model), "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = tmp_path / "synthetic_sn3_priors"
    velocity = fits.getdata(out / "velocity.fits")
    assert velocity.shape == (NY, NX) and np.isfinite(velocity).all()
    for name in ("broadening.fits", "velocity_err.fits", "broadening_err.fits", "valid_mask.fits",
                 "synthetic_SN3.SpectralCube.estimated_velocity.0.fits", "summary.json", "README.txt"):
        assert (out / name).exists(), name
    assert "spectra/s" in captured.err and "ETA" in captured.err
    report = json.loads(captured.out)
    assert report == {"cubes": 1, "failed": 0, "outputs": [str(out)]}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["model"]["name"] == "test-r5000"


def test_a_bad_file_fails_with_one_line_and_the_next_cube_still_runs(setup, tmp_path, capsys):
    cube, model = setup
    bad = tmp_path / "broken.hdf5"
    bad.write_bytes(b"not a cube at all")
    code = main(["predict", str(bad), str(cube), "-o", str(tmp_path), "--model", str(model)])
    captured = capsys.readouterr()
    assert code != 0
    errors = [line for line in captured.err.splitlines() if line.startswith("mirabelle predict: ")]
    assert len(errors) == 1 and "broken.hdf5" in errors[0]
    assert (tmp_path / "synthetic_sn3_priors" / "velocity.fits").exists()
    assert not (tmp_path / "broken_priors").exists()


def test_existing_output_is_refused_without_overwrite(setup, tmp_path, capsys):
    cube, model = setup
    args = ["predict", str(cube), "-o", str(tmp_path), "--model", str(model)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert "(--overwrite replaces them)" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--binning", "2"]) == 0


def test_region_file_restricts_the_pixels_with_the_model_chosen_by_resolution(setup, tmp_path, capsys):
    cube, _ = setup
    region = tmp_path / "box.reg"
    # 1-based centre (8.5, 6.5) = 0-based (7.5, 5.5): pixels x 5..10, y 4..7
    region.write_text("# Region file format: DS9\nimage\nbox(8.5,6.5,6,4,0)\n")
    assert main(["predict", str(cube), "-o", str(tmp_path), "--region", str(region)]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "synthetic_sn3_priors" / "summary.json").read_text())
    assert summary["model"]["name"] == "sn3-r5000" and summary["pixels"]["done"] == 48 * 40
    quality = fits.getdata(tmp_path / "synthetic_sn3_priors" / "quality.fits")
    computed = (quality & 32) == 0
    assert computed.sum() == 24
    assert computed[4:8, 5:11].all()  # FITS rows are y, columns x


def test_predict_exports_the_flags_painted_in_the_desktop_app(setup, tmp_path, monkeypatch, capsys):
    from mirabelle.flags import FlagMask, autosave_path, sidecar_path

    source, model = setup
    shutil.copy(source, tmp_path / "painted.hdf5")
    monkeypatch.chdir(tmp_path)  # the cube named by a relative path, as a user types it
    painted = FlagMask(NX, NY)
    painted.paint_disk(20, 15, 4)
    assert autosave_path("painted.hdf5") == sidecar_path("painted.hdf5")  # where the window autosaves
    painted.save(autosave_path("painted.hdf5"))

    assert main(["predict", "painted.hdf5", "-o", "out", "--model", str(model)]) == 0
    assert f"{painted.count} flagged pixels from" in capsys.readouterr().err
    out = tmp_path / "out" / "painted_priors"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pixels"]["flagged_double"] == painted.count > 0
    assert summary["pixels"]["second_component"] > 0
    assert (fits.getdata(out / "flags_double.fits").T.astype(bool) == painted.data).all()
    assert (out / "flags_double.reg").exists()
    assert (out / "synthetic_SN3.SpectralCube.estimated_velocity.1.fits").exists()
    assert f"SpectralCube({str(tmp_path / 'painted.hdf5')!r})" in (out / "README.txt").read_text()

    assert main(["predict", "painted.hdf5", "-o", "unflagged", "--model", str(model), "--no-flags"]) == 0
    summary = json.loads((tmp_path / "unflagged" / "painted_priors" / "summary.json").read_text())
    assert summary["pixels"]["flagged_double"] == 0
    assert not (tmp_path / "unflagged" / "painted_priors" / "flags_double.fits").exists()


def test_a_flag_file_of_another_shape_is_one_sentence(setup, tmp_path, capsys):
    from mirabelle.flags import FlagMask

    cube, model = setup
    FlagMask(NX + 1, NY).save(tmp_path / "other.fits")
    code = main(["predict", str(cube), "-o", str(tmp_path), "--model", str(model),
                 "--flags", str(tmp_path / "other.fits")])
    assert code == 1
    err = capsys.readouterr().err
    assert "other.fits is a 49×40 (x×y) mask; expected 48×40" in err and "Traceback" not in err
    assert not (tmp_path / "synthetic_sn3_priors").exists()


def test_a_second_predict_reuses_the_cached_maps_and_recompute_runs_again(setup, tmp_path, capsys):
    cube, model = setup
    args = ["predict", str(cube), "-o", str(tmp_path), "--model", str(model), "--threads", "1", "--overwrite"]
    assert main(args) == 0
    assert "ETA" in capsys.readouterr().err
    first = fits.getdata(tmp_path / "synthetic_sn3_priors" / "velocity.fits")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "reused from the cache" in err and "ETA" not in err
    np.testing.assert_array_equal(fits.getdata(tmp_path / "synthetic_sn3_priors" / "velocity.fits"), first)
    assert main(args + ["--recompute"]) == 0
    assert "ETA" in capsys.readouterr().err
