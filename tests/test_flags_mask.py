"""The Qt-free flag mask: painting, polygons, strokes, undo/redo, regions."""

import numpy as np
import pytest

from mirabelle.errors import FlagsError
from mirabelle.flags import FlagMask


def test_disk_covers_pixel_centres_within_radius():
    flags = FlagMask(20, 10)
    assert flags.paint_disk(5, 4, 2.0)
    xs, ys = np.nonzero(flags.data)
    assert np.all((xs - 5) ** 2 + (ys - 4) ** 2 <= 4)
    assert flags.count == 13  # the radius-2 digital disk
    assert flags.data.shape == (20, 10)  # [x, y]


def test_tiny_brush_paints_the_pixel_under_the_cursor_and_clips_at_edges():
    flags = FlagMask(5, 5)
    flags.paint_disk(2.3, 1.8, 0.1)
    assert flags.count == 1 and flags[2, 2]
    flags.paint_disk(0, 0, 3)  # partly outside: clipped, no error
    assert flags[0, 0] and flags[0, 3]
    assert not flags.paint_disk(-50, -50, 3)  # entirely outside


def test_segment_paints_a_capsule_along_the_drag():
    flags = FlagMask(30, 30)
    flags.paint_segment(2, 5, 20, 5, 1.0)
    assert all(flags[x, 5] for x in range(2, 21))
    assert flags[10, 4] and flags[10, 6]
    assert not flags[10, 7] and not flags[22, 5]


def test_polygon_even_odd_rule():
    flags = FlagMask(30, 30)
    square = [(2, 2), (12, 2), (12, 12), (2, 12)]
    flags.paint_polygon(square)
    assert flags[7, 7] and flags[3, 3] and not flags[13, 7]
    # a self-intersecting pentagram: its centre is crossed twice, so it stays out
    star = FlagMask(40, 40)
    angles = np.pi / 2 + np.arange(5) * 4 * np.pi / 5
    vertices = np.c_[20 + 15 * np.cos(angles), 20 + 15 * np.sin(angles)]
    star.paint_polygon(vertices)
    assert not star[20, 20]
    assert star[20, 32]  # inside the top point
    assert not FlagMask(5, 5).paint_polygon([(1, 1), (3, 3)])  # fewer than 3 vertices


def test_a_stroke_is_one_undo_step_and_redo_restores_it():
    flags = FlagMask(40, 40)
    flags.paint_disk(5, 5, 1)
    flags.begin_stroke()
    flags.paint_segment(10, 10, 20, 10, 2)
    flags.paint_segment(20, 10, 20, 30, 2)
    flags.paint_segment(20, 30, 10, 30, 2, value=True)
    flags.end_stroke()
    after_stroke = flags.data.copy()
    assert flags.undo()
    assert flags.count == 5 and flags[5, 5]
    assert flags.can_redo
    assert flags.redo()
    np.testing.assert_array_equal(flags.data, after_stroke)
    assert flags.undo() and flags.undo()
    assert flags.count == 0 and not flags.can_undo
    assert not flags.undo()


def test_eraser_and_new_edit_clears_redo():
    flags = FlagMask(10, 10)
    flags.paint_disk(5, 5, 3)
    flags.paint_disk(5, 5, 1, value=False)
    assert not flags[5, 5] and flags[5, 8]
    flags.undo()
    assert flags[5, 5]
    flags.paint_disk(0, 0, 0.5)
    assert not flags.can_redo


def test_steps_store_only_the_touched_box_and_history_is_bounded():
    flags = FlagMask(500, 500, history_steps=5)
    flags.paint_disk(100, 100, 2)
    step = flags._undo[-1]
    assert step.box == (98, 103, 98, 103) and step.values.shape == (5, 5)
    for k in range(10):
        flags.paint_disk(10 + 5 * k, 10, 1)
    assert len(flags._undo) == 5


def test_unchanged_stroke_adds_no_step_and_changed_callbacks_fire():
    flags = FlagMask(10, 10)
    boxes = []
    flags.changed.append(boxes.append)
    flags.begin_stroke()
    flags.paint_disk(5, 5, 1, value=False)  # nothing to erase
    flags.end_stroke()
    assert not flags.can_undo and boxes == []
    flags.paint_disk(5, 5, 1)
    flags.undo()
    assert len(boxes) == 2 and boxes[0] == (4, 7, 4, 7)


def test_regions_are_connected_components_with_size_box_and_centroid():
    flags = FlagMask(30, 20)
    flags.paint_polygon([(1.5, 1.5), (4.5, 1.5), (4.5, 3.5), (1.5, 3.5)])  # x 2..4, y 2..3
    flags.paint_disk(20, 10, 0.5)
    regions = flags.regions()
    assert [r.n_pixels for r in regions] == [6, 1]
    assert regions[0].box == (2, 5, 2, 4)
    assert regions[0].centroid == pytest.approx((3.0, 2.5))
    assert regions[1].centroid == (20.0, 10.0)
    assert FlagMask(3, 3).regions() == []


def test_set_data_checks_shape():
    flags = FlagMask(4, 3)
    with pytest.raises(FlagsError, match=r"\(4, 3\)"):
        flags.set_data(np.zeros((3, 4)))


def test_a_region_is_erased_in_one_undo_step():
    from mirabelle.flags import FlagMask

    mask = FlagMask(30, 20)
    mask.paint_disk(5, 5, 2)
    mask.paint_disk(20, 12, 3)
    first, second = mask.regions()
    before = mask.data.copy()
    assert mask.erase_region(second)
    assert [r.n_pixels for r in mask.regions()] == [first.n_pixels]
    assert not mask.data[20, 12] and mask.data[5, 5]
    assert not mask.erase_region(second)  # stale: that region is gone
    assert mask.undo()
    assert (mask.data == before).all()
