"""The double-score hint: outlines of the high-score pixels that stay visible on every colormap."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from mirabelle.ui.display import mask_edges
from mirabelle.ui.state import COLORMAPS, ViewState


def test_edges_outline_the_mask():
    mask = np.zeros((4, 3), bool)
    mask[1:3, 1] = True  # pixels (1, 1) and (2, 1): a 2 x 1 block, x 1..3, y 1..2
    xs, ys = mask_edges(mask)
    segments = {tuple(sorted(((xs[i], ys[i]), (xs[i + 1], ys[i + 1])))) for i in range(0, len(xs), 2)}
    assert segments == {((1, 1), (1, 2)), ((3, 1), (3, 2)),  # left, right
                        ((1, 1), (2, 1)), ((2, 1), (3, 1)), ((1, 2), (2, 2)), ((2, 2), (3, 2))}
    assert mask_edges(np.zeros((3, 3), bool))[0].size == 0


@pytest.mark.parametrize("colormap", COLORMAPS)
def test_the_hint_shows_on_every_overlay_colormap(qtbot, colormap):
    from mirabelle.ui.image_view import ImageView

    state = ViewState()
    view = ImageView(state)
    qtbot.addWidget(view)
    view.resize(500, 400)
    n = 40
    view.set_deep_image(np.random.default_rng(0).normal(100.0, 10.0, (n, n)))
    field = np.tile(np.linspace(-200.0, 200.0, n)[:, None], (1, n))  # every colour of the map
    state.overlay_map = "velocity"
    state.overlay_opacity = 1.0
    state.set_overlay_colormap("velocity", colormap)
    view.set_overlay_data("velocity", field)
    score = np.zeros((n, n))
    score[8:32, 12:28] = 1.0
    view.set_hint_score(score)
    state.flag_hint_threshold = 0.5
    state.flag_hint_visible = True
    view.show()
    qtbot.waitExposed(view)
    image = view.grab().toImage()
    box = view.view_box
    for x in (8.0, 32.0):  # the outline's left and right sides, crossed at several heights
        for y in np.linspace(14.0, 26.0, 7):
            centre = view.mapFromScene(box.mapViewToScene(QPointF(x, y)))
            across = [image.pixelColor(centre.x() + dx, centre.y()).lightnessF() for dx in range(-4, 5)]
            # a white core on a dark rim: both extremes, whatever the map's colour beside it
            assert max(across) > 0.9 and min(across) < 0.12, (x, y, across)
