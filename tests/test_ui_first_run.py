"""What a first-time user sees: a stretch that shows the diffuse emission next to bright stars."""

import numpy as np

from mirabelle.ui import display
from mirabelle.ui.state import ViewState


def _disk_with_bright_stars(n: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A faint disk (+200 over a sky of 100) with 30 stars 10³–10⁴ times brighter; and the disk's pixels."""
    rng = np.random.default_rng(4)
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    disk = 200.0 * np.exp(-((x - n / 2) ** 2 + (y - n / 2) ** 2) / (2 * (n / 5) ** 2))
    image = 100.0 + disk + rng.normal(0.0, 5.0, (n, n))
    stars = np.zeros((n, n), bool)
    for _ in range(30):
        sx, sy = rng.uniform(0, n, 2)
        r2 = (x - sx) ** 2 + (y - sy) ** 2
        image += 10 ** rng.uniform(5.3, 6.3) * np.exp(-r2 / (2 * 1.5 ** 2))
        stars |= r2 < 36
    return image, (disk > 100.0) & ~stars


def _shown(image: np.ndarray, stretch: str, mode: str) -> np.ndarray:
    low, high = display.compute_limits(image, mode)
    return display.stretch_curve(np.clip((image - low) / (high - low), 0, 1), stretch)


def test_the_first_run_stretch_shows_the_disk_beside_bright_stars():
    state = ViewState()
    image, disk = _disk_with_bright_stars()
    sky = np.zeros_like(disk)
    sky[:15, :15] = True
    shown = _shown(image, state.stretch, state.limits_mode)
    assert np.median(shown[disk]) - np.median(shown[sky]) > 0.25  # the disk stands out of the sky
    old = _shown(image, "linear", "99.5")  # the former default: the stars take the whole range
    assert np.median(old[disk]) - np.median(old[sky]) < 0.05


def test_velocity_shows_as_soon_as_maps_fill_in_the_colour_bar_colours():
    state = ViewState()
    assert state.overlay_map == "velocity" and state.overlay_visible
    assert state.overlay_opacity == 1.0  # blended colours would not be the colour bar's
