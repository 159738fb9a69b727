"""Sky subtraction from a region: the median sky of its pixels leaves every other pixel's lines."""

import json

import h5py
import numpy as np
import pytest
from inference_models import write_model

from mirabelle.cli import main
from mirabelle.cube import open_cube
from mirabelle.inference.sky_region import SkySubtractedCube, sky_spectrum
from mirabelle.synthetic import write_synthetic_cube

N = 24
BOX = (slice(2, 9), slice(2, 9))  # the "sky" pixels (0-based), inside the valid field
REGION = "# Region file format: DS9\nimage\nbox(6,6,7,7,0)\n"  # 1-based centre: pixels 2..8


def _pair(tmp_path, calibrated):
    """A cube with unsubtracted sky whose BOX pixels hold only sky, and the same cube without sky."""
    with_sky, without = tmp_path / "sky.hdf5", tmp_path / "clean.hdf5"
    for path, sky in ((with_sky, 3.0), (without, 0.0)):
        write_synthetic_cube(path, N, N, resolution=5000.0, seed=2, sky=sky, calibrated=calibrated)
    with h5py.File(with_sky, "r+") as a, h5py.File(without, "r") as b:
        a["data"][BOX] = a["data"][BOX] - b["data"][BOX]  # same seed, same noise: pure sky left
    return with_sky, without


@pytest.mark.parametrize("calibrated, tolerance", [(True, 0.1), (False, 0.2)])
def test_subtracted_spectra_lose_the_sky(tmp_path, calibrated, tolerance):
    with_sky, without = _pair(tmp_path, calibrated)
    mask = np.zeros((N, N), bool)
    mask[BOX] = True
    with open_cube(with_sky) as cube, open_cube(without) as clean:
        sky = sky_spectrum(cube, mask, "box")
        assert sky.pixels == mask.sum()
        subtracted = SkySubtractedCube(cube, sky)
        for x, y in ((15, 15), (20, 12)):
            before = cube.spectrum(x, y).values - clean.spectrum(x, y).values
            after = subtracted.spectrum(x, y).values - clean.spectrum(x, y).values
            assert np.nanstd(after) < tolerance * np.nanstd(before)
        tile = next(subtracted.iter_tiles(tile=(N, N)))
        direct = subtracted.spectrum(15, 15).values
        np.testing.assert_allclose(tile.data[15, 15], direct.astype(np.float32), rtol=1e-4, atol=1e-3)


def test_predict_with_a_sky_region(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MIRABELLE_CACHE_DIR", str(tmp_path / "cache"))
    with_sky, _ = _pair(tmp_path, True)
    region = tmp_path / "sky.reg"
    region.write_text(REGION)
    model = write_model(tmp_path / "models", kinematics=(0.0, 30.0, 4.0, 5.0))
    code = main(["predict", str(with_sky), "-o", str(tmp_path / "out"), "--model", str(model),
                 "--sky-region", str(region), "--vsys", "-180"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "sky_priors" / "summary.json").read_text())
    assert summary["sky_subtraction"] == {"region": str(region), "pixels": 49}
    assert "sky = median of 49 pixels in sky.reg" in capsys.readouterr().err
