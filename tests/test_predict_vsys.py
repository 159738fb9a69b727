"""`mirabelle predict` finds the systemic velocity with no option, takes --vsys, and remembers it."""

import json

import numpy as np
import pytest
from astropy.io import fits
from inference_models import write_model

from mirabelle.cli import main
from mirabelle.synthetic import write_synthetic_cube


@pytest.fixture()
def receding_cube(tmp_path, monkeypatch):
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "virgo.hdf5"
    write_synthetic_cube(path, 24, 24, resolution=5000.0, systemic_velocity=1500.0, seed=3)
    model = write_model(tmp_path / "models", kinematics=(0.0, 30.0, 4.0, 5.0))  # network frame: +0 km/s
    return path, model


def _predict(path, model, out, *options):
    code = main(["predict", str(path), "-o", str(out), "--model", str(model), "--overwrite", *options])
    folder = out / f"{path.stem}_priors"
    return code, json.loads((folder / "summary.json").read_text()), folder


def test_detected_then_given_then_remembered(receding_cube, tmp_path, capsys):
    path, model = receding_cube
    code, summary, folder = _predict(path, model, tmp_path / "a")
    assert code == 0
    assert summary["systemic_velocity_kms"] == pytest.approx(1500.0, abs=60.0)
    assert summary["systemic_velocity_source"] == "detected"
    # The network's 0 km/s is the systemic velocity: the observed-frame maps sit there.
    assert summary["velocity_kms"]["median"] == pytest.approx(summary["systemic_velocity_kms"], abs=0.5)
    assert fits.getheader(folder / "velocity.fits")["VSYS"] == pytest.approx(summary["systemic_velocity_kms"])
    assert "systemic velocity +1" in capsys.readouterr().err

    code, summary, _ = _predict(path, model, tmp_path / "b", "--vsys", "1400")
    assert code == 0 and summary["systemic_velocity_kms"] == 1400.0
    assert summary["systemic_velocity_source"] == "user"
    code, summary, _ = _predict(path, model, tmp_path / "c")
    assert summary["systemic_velocity_kms"] == 1400.0 and "remembered" in capsys.readouterr().err

    assert main(["info", str(path)]) == 0
    assert "+1400.0 km/s (user, remembered)" in capsys.readouterr().out


def test_a_session_without_a_systemic_velocity_finds_it(receding_cube):
    from mirabelle.session import Session

    path, model = receding_cube
    with Session(path, model_name=str(model), threads=1, vsys_kms=None) as session:
        assert session.vsys_kms == pytest.approx(1500.0, abs=60.0)
        assert session.vsys_choice.source == "detected"
        maps = list(session.run(use_cache=False))[-1].maps
    assert np.nanmedian(maps.velocity[maps.valid_mask()]) == pytest.approx(session.vsys_kms, abs=0.5)
