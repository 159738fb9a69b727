"""Low-SNR velocity outliers: an [NII]/Hα alias of the neighbours' velocity, or far off them, is no prior."""

import numpy as np
import pytest

from mirabelle.inference import maps as quality
from mirabelle.inference.outliers import MAX_SNR, velocity_outliers
from mirabelle.lines import REST_NM, line_position_cm1, velocity_from_position


def alias_of(velocity_kms, line):
    """The velocity the network reads when it takes ``line`` of a source at ``velocity_kms`` for Hα."""
    return velocity_from_position(REST_NM["Halpha"], line_position_cm1(REST_NM[line], velocity_kms))


def smooth_field(vsys_kms=0.0, shape=(40, 32)):
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return vsys_kms + 3.0 * (x - shape[0] / 2) - 2.0 * (y - shape[1] / 2)  # a rotating disk's gradient


LOW_SNR = np.full((40, 32), 4.0)


@pytest.mark.parametrize("vsys", [0.0, 4500.0])
def test_aliases_and_far_offsets_at_low_snr_are_flagged_and_nothing_else(vsys):
    field = smooth_field(vsys)
    valid = np.ones(field.shape, bool)
    velocity = field.copy()
    velocity[10, 10] = alias_of(field[10, 10], "NII6583")  # about +940 km/s (more at +4500)
    velocity[20, 5] = alias_of(field[20, 5], "NII6548")  # about -670 km/s
    velocity[30, 20] = field[30, 20] + 450.0  # locked onto noise
    velocity[5, 25] = field[5, 25] + 250.0  # off, but within what a real feature may do
    snr = LOW_SNR.copy()
    flagged = velocity_outliers(velocity, snr, valid)
    assert set(zip(*np.nonzero(flagged))) == {(10, 10), (20, 5), (30, 20)}
    assert alias_of(vsys, "NII6583") - vsys > 940.0 and alias_of(vsys, "NII6548") - vsys < -670.0
    snr[10, 10] = snr[30, 20] = MAX_SNR  # bright pixels keep their velocity: a real high-velocity feature
    assert set(zip(*np.nonzero(velocity_outliers(velocity, snr, valid)))) == {(20, 5)}


def test_a_rough_field_or_too_few_neighbours_is_not_judged():
    rng = np.random.default_rng(1)
    rough = rng.uniform(-800.0, 800.0, (40, 32))  # independent velocities: no neighbourhood to trust
    assert not velocity_outliers(rough, LOW_SNR, np.ones(rough.shape, bool)).any()
    field = smooth_field()
    velocity = field.copy()
    velocity[10, 10] = alias_of(field[10, 10], "NII6583")
    valid = np.zeros(field.shape, bool)
    valid[10, 10] = True
    valid[9, 9:12] = valid[10, 9] = valid[10, 11] = True  # five valid neighbours in the 5 x 5 window...
    assert velocity_outliers(velocity, LOW_SNR, valid)[10, 10]
    valid[9, 9] = False  # ...four are too few
    assert not velocity_outliers(velocity, LOW_SNR, valid).any()
    velocity[10, 11] = np.nan  # NaN velocities are never flagged nor used
    assert not velocity_outliers(velocity, LOW_SNR, np.ones(field.shape, bool))[10, 11]


def test_an_outlier_has_no_usable_prior_in_the_maps_and_in_a_click(synthetic_cube_path, tmp_path):
    from inference_models import write_model

    from mirabelle.session import Session
    from mirabelle.session.pixel import agrees_with_maps

    model_path = write_model(tmp_path, kinematics=(-150.0, 25.0, 4.0, 5.0))

    assert quality.OUTLIER & quality.INVALID_BITS and quality.QUALITY_BITS["outlier"] == quality.OUTLIER
    with Session(synthetic_cube_path, model_name=str(model_path), threads=1) as session:
        maps = list(session.run(use_cache=False))[-1].maps
        assert not (maps.quality & quality.OUTLIER).any()  # the test model's field is uniform
        x, y = (int(v[0]) for v in np.nonzero(maps.valid_mask()))
        shown = session.pixel(x, y)
        assert shown.valid and agrees_with_maps(shown, maps)  # the window need not ask it again
        maps.quality[x, y] |= quality.OUTLIER
        assert not maps.valid_mask()[x, y] and not agrees_with_maps(shown, maps)  # it must: now an outlier
        click = session.pixel(x, y)
        maps.done[x, y] = False
        assert not agrees_with_maps(click, maps)  # maps without that pixel hold nothing to agree with
    assert click.quality & quality.OUTLIER and not click.valid
