"""The display's zscale limits are astropy's ZScaleInterval's, computed without importing astropy."""

import numpy as np
import pytest
from astropy.visualization import ZScaleInterval

from mirabelle.ui.display import compute_limits, zscale_limits


@pytest.mark.parametrize("case", ["galaxy", "noise", "stars", "few", "flat", "nan"])
def test_zscale_equals_astropys(case):
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:180, 0:200]
    images = {
        "galaxy": 3000.0 * np.exp(-((x - 100.0) ** 2 + (y - 90.0) ** 2) / 900.0) + rng.normal(200.0, 15.0, x.shape),
        "noise": rng.normal(0.0, 1.0, (513, 77)),
        "stars": np.where(rng.random(x.shape) < 0.01, 5e4, rng.normal(100.0, 3.0, x.shape)),
        "few": rng.normal(5.0, 2.0, 4),
        "flat": np.full((20, 20), 7.5),
        "nan": np.where(rng.random(x.shape) < 0.3, np.nan, rng.gamma(2.0, 50.0, x.shape)),
    }
    image = images[case]
    expected = ZScaleInterval().get_limits(image[np.isfinite(image)])
    assert zscale_limits(image) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_window_limits_use_it_and_never_collapse():
    image = np.random.default_rng(3).normal(100.0, 5.0, (60, 40)).astype(np.float32)
    assert compute_limits(image, "zscale") == pytest.approx(zscale_limits(image))
    low, high = compute_limits(np.full((10, 10), 3.0, np.float32), "zscale")
    assert low < 3.0 < high
