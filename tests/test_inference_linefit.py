"""The vectorised line solve: amplitudes, noise, SNR and the double-component score."""

import numpy as np
import pytest

from mirabelle import lines
from mirabelle.cube import open_cube
from mirabelle.inference.linefit import LineSolver
from mirabelle.lines.fast import fast_line_templates
from mirabelle.synthetic import read_truth

STEP_NM, ORDER, STEP_NB, ZPD, CORR = 2943.025792, 8, 840, 168, 1.0374712


def _spectra(n, noise, seed=0):
    axis = lines.axis_cm1(STEP_NM, ORDER, STEP_NB, CORR)
    axis = axis[(axis > 14550) & (axis < 15500)]
    fwhm = float(lines.sinc_fwhm_cm1(STEP_NM, STEP_NB, ZPD, CORR))
    rng = np.random.default_rng(seed)
    velocity, broadening = rng.uniform(-300, 300, n), rng.uniform(0, 50, n)
    amplitudes = np.zeros((n, 5))
    amplitudes[:, 1] = rng.uniform(2, 10, n)
    amplitudes[:, 2] = amplitudes[:, 1] * rng.uniform(0.1, 0.6, n)
    amplitudes[:, 0] = amplitudes[:, 2] / lines.NII_AMPLITUDE_RATIO
    amplitudes[:, 3:] = amplitudes[:, 1:2] * rng.uniform(0.1, 0.3, (n, 2))
    templates = fast_line_templates(axis, velocity, broadening, fwhm)[:, 0]
    spectra = np.einsum("nlk,nl->nk", templates, amplitudes) + 5.0 + rng.normal(0, noise, (n, axis.size))
    return axis, fwhm, velocity, broadening, amplitudes, spectra.astype(np.float32)


def test_amplitudes_noise_and_snr_at_the_true_kinematics():
    axis, fwhm, velocity, broadening, amplitudes, spectra = _spectra(2000, noise=0.3)
    step = axis[1] - axis[0]
    solver = LineSolver((step, step), (fwhm, fwhm), (-800, 800), (0, 75))
    solution = solver.solve(spectra, axis[0], step, fwhm, velocity, broadening)
    error = solution.amplitudes - amplitudes
    assert np.abs(error.mean(axis=0)).max() < 0.02  # unbiased (noise 0.3)
    assert error.std(axis=0).max() < 0.35
    assert np.median(solution.noise) == pytest.approx(0.3, rel=0.05)
    np.testing.assert_allclose(np.median(solution.snr_halpha / (amplitudes[:, 1] / 0.3)), 1.0, atol=0.06)
    exact = lines.line_fluxes(amplitudes, velocity, broadening, fwhm)
    assert np.median(np.abs(solution.fluxes[:, 1] / exact[:, 1] - 1)) < 0.05
    assert not solution.edge.any()


def test_a_stellar_halpha_absorption_under_the_lines_is_fitted_beside_them():
    """A continuum of 5 x Hα whose broad absorption (sigma 5-25 Å, depth up to a third) sits under
    the emission: Hα is still found, at its amplitude, and not taken for an absorption line."""
    from mirabelle.synthetic.contaminants import stellar_spectra

    axis, fwhm, velocity, broadening, amplitudes, spectra = _spectra(400, noise=0.3, seed=3)
    rng = np.random.default_rng(4)
    level = 5.0 * amplitudes[:, 1]
    spectra = spectra + stellar_spectra(axis, velocity, level, rng.uniform(-0.3, 0.3, 400),
                                        rng.uniform(0.2, 1 / 3, 400), rng.uniform(5, 25, 400)).astype(np.float32)
    step = axis[1] - axis[0]
    solver = LineSolver((step, step), (fwhm, fwhm), (-800, 800), (0, 75))
    solution = solver.solve(spectra, axis[0], step, fwhm, velocity, broadening)
    assert (solution.snr_halpha >= 3).mean() > 0.99
    assert np.median(np.abs(solution.amplitudes[:, 1] / amplitudes[:, 1] - 1)) < 0.05


def test_nan_channels_and_rows():
    axis, fwhm, velocity, broadening, amplitudes, spectra = _spectra(50, noise=0.1)
    spectra[:, ::7] = np.nan
    spectra[3] = np.nan
    velocity[5] = np.nan
    step = axis[1] - axis[0]
    solver = LineSolver((step, step), (fwhm, fwhm), (-800, 800), (0, 75))
    solution = solver.solve(spectra, axis[0], step, fwhm, velocity, broadening)
    good = np.ones(50, bool)
    good[[3, 5]] = False
    assert np.isnan(solution.amplitudes[~good]).all()
    np.testing.assert_allclose(solution.amplitudes[good, 1], amplitudes[good, 1], atol=0.4)
    assert np.isfinite(solution.noise[good]).all() and np.isfinite(solution.double_score[good]).all()


def test_double_score_separates_the_synthetic_doubles(synthetic_cube_path):
    truth = read_truth(synthetic_cube_path)
    nx, ny = truth.valid.shape
    with open_cube(synthetic_cube_path) as cube:
        (tile,) = list(cube.iter_tiles(tile=(nx, ny)))
        axis = cube.base_axis_cm1
        step = axis[1] - axis[0]
        fwhm = cube.fwhm_map_cm1()
        solver = LineSolver((step, step), (fwhm.min(), fwhm.max()), (-800, 800), (0, 75))
    # What a single-component estimator sees in a double: the flux-weighted mean velocity.
    a1, a2 = truth.amplitudes[..., 1], truth.amplitudes2[..., 1]
    blended = np.where(truth.double, (a1 * truth.velocity + a2 * np.nan_to_num(truth.velocity2)) / (a1 + a2),
                       truth.velocity)
    solution = solver.solve(tile.data.reshape(-1, axis.size), axis[0], step, fwhm.ravel(), blended.ravel(),
                            truth.broadening.ravel())
    score = solution.double_score.reshape(nx, ny)
    valid = truth.valid & (truth.snr_map > 10)
    doubles, singles = score[valid & truth.double], score[valid & ~truth.double]
    assert doubles.size > 20 and singles.size > 100
    auc = (doubles[:, None] > singles[None, :]).mean() + 0.5 * (doubles[:, None] == singles[None, :]).mean()
    assert auc > 0.9
    assert ((score >= 0) & (score <= 1))[truth.valid].all()
    assert np.median(singles) < 0.5 < np.median(doubles)


def test_template_blocks_built_on_demand_in_any_order_equal_one_whole_build():
    from mirabelle.inference.templates import ChannelProfiles

    first, second = ChannelProfiles((0.5, 0.52), 1.5, 40), ChannelProfiles((0.5, 0.52), 1.5, 40)
    block = first.r_stride * first.row_length
    blocks = first.flat.size // block
    first._build(np.arange(blocks) * block)  # every block at once
    rng = np.random.default_rng(3)
    for _ in range(20):  # a few blocks at a time, as tiles need them
        second._build(rng.integers(0, blocks, 5) * block + rng.integers(0, block, 5))
    built = np.flatnonzero(second._built)
    assert 0 < built.size < blocks and np.all(first._built)
    for b in built:
        assert np.array_equal(second.flat[b * block:(b + 1) * block], first.flat[b * block:(b + 1) * block])
    assert not second.flat[np.flatnonzero(~second._built)[0] * block:][:block].any()  # unread: not built
    # the gathered templates are the built values
    k0, row = first.locate(np.array([10.3]), np.array([0.4]), np.array([0.51]))
    assert np.array_equal(second.gather(row, np.array([-5]), 11), first.gather(row, np.array([-5]), 11))
