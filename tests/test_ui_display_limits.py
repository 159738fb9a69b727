"""The display's automatic limits: zscale (astropy's) sees through stars, and no limits collapse."""

import numpy as np
import pytest

from mirabelle.ui.display import compute_limits


def test_zscale_frames_the_sky_not_the_stars():
    rng = np.random.default_rng(7)
    sky = rng.normal(100.0, 3.0, (180, 200))
    stars = np.where(rng.random(sky.shape) < 0.01, 5e4, sky)
    low, high = compute_limits(stars, "zscale")
    assert 80.0 < low < 100.0 < high < 130.0
    assert compute_limits(stars, "minmax")[1] == pytest.approx(5e4)


def test_limits_never_collapse_and_ignore_nan():
    low, high = compute_limits(np.full((10, 10), 3.0, np.float32), "zscale")
    assert low < 3.0 < high
    image = np.where(np.random.default_rng(3).random((60, 40)) < 0.3, np.nan, 5.0 + np.arange(2400).reshape(60, 40))
    low, high = compute_limits(image, "zscale")
    assert np.isfinite([low, high]).all() and low < high
