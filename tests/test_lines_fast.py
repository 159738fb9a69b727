"""The fast template evaluator against the exact sincgauss."""

import numpy as np
import pytest

from mirabelle.lines import sincgauss, solve_amplitudes
from mirabelle.lines.fast import BROAD_LIMIT, CORE_HALF_WIDTH, fast_line_templates, fast_sincgauss
from mirabelle.lines.model import line_templates
from mirabelle.lines.profiles import GAUSS_LIMIT, SINC_LIMIT

TOLERANCE = 1e-4  # of the unit peak


def _compare(u, r):
    """Max |fast − exact| for rows of sorted u (L, K) with ratios r (L,) at fwhm 1."""
    fast = fast_sincgauss(u, np.zeros((len(r), 1)), 1.0, r[:, None])[:, 0]
    exact = sincgauss(u, 0.0, 1.0, r[:, None])
    return np.max(np.abs(fast - exact))


@pytest.mark.parametrize("r_range", [
    (0.0, SINC_LIMIT),  # pure sinc
    (SINC_LIMIT * 0.9, SINC_LIMIT * 1.1),  # ORB's sinc threshold
    (0.0, BROAD_LIMIT),  # tabulated core + oscillating tail
    (BROAD_LIMIT * 0.95, BROAD_LIMIT * 1.05),  # switch to the gaussian part
    (BROAD_LIMIT, GAUSS_LIMIT),
    (GAUSS_LIMIT, 12.0),  # pure gaussian
])
@pytest.mark.parametrize("u_max", [CORE_HALF_WIDTH * 1.5, 400.0])
def test_matches_exact_profile(r_range, u_max):
    rng = np.random.default_rng(7)
    r = rng.uniform(*r_range, 400)
    u = np.sort(rng.uniform(-u_max, u_max, (r.size, 300)), axis=1)
    assert _compare(u, r) < TOLERANCE


def test_core_boundary_and_centre():
    # u exactly at 0 (0/0 in the tail formula) and around ±CORE_HALF_WIDTH.
    r = np.array([0.0, 0.3, 0.8, 1.19])
    u = np.tile(np.concatenate([[-CORE_HALF_WIDTH - 1e-9, -CORE_HALF_WIDTH], np.linspace(-1, 1, 5),
                                [CORE_HALF_WIDTH, CORE_HALF_WIDTH + 1e-9]]), (r.size, 1))
    fast = fast_sincgauss(u, np.zeros((r.size, 1)), 1.0, r[:, None])[:, 0]
    assert np.all(np.isfinite(fast))
    np.testing.assert_allclose(fast[:, 4], 1.0, atol=TOLERANCE)  # unit peak
    assert _compare(u, r) < TOLERANCE


def test_line_templates_match_exact_per_pixel_axes_and_fwhm():
    rng = np.random.default_rng(3)
    n = 60
    corr = rng.uniform(1.01, 1.04, n)
    axis = 14600.0 + 2.1 * np.arange(400)[None, :] * corr[:, None] + 5.0 * corr[:, None]
    velocity = rng.uniform(-400, 400, (n, 2))
    broadening = np.column_stack([rng.uniform(0, 60, n), rng.uniform(40, 300, n)])
    fwhm = rng.uniform(2.5, 8.0, n)
    fast = fast_line_templates(axis, velocity, broadening, fwhm)
    exact = line_templates(axis, velocity, broadening, fwhm)
    assert fast.shape == exact.shape == (n, 2, 5, 400)
    assert np.max(np.abs(fast - exact)) < TOLERANCE


def test_shared_axis_scalar_fwhm_single_component():
    axis = np.linspace(14598.5, 15439.2, 350)
    velocity = np.array([-180.0, 0.0, 250.0])
    broadening = np.array([0.0, 25.0, 80.0])
    fast = fast_line_templates(axis, velocity, broadening, 3.165)
    exact = line_templates(axis, velocity, broadening, 3.165)
    assert fast.shape == (3, 1, 5, 350)
    assert np.max(np.abs(fast - exact)) < TOLERANCE


def test_solve_amplitudes_with_fast_templates():
    axis = np.linspace(14598.5, 15439.2, 400)
    velocity, broadening, fwhm = np.array([-120.0]), np.array([30.0]), 3.2
    truth = np.array([[[10.0 / 2.95, 10.0, 10.0, 4.0, 3.0]]])
    templates = fast_line_templates(axis, velocity, broadening, fwhm)
    spectrum = np.einsum("nclk,ncl->nk", line_templates(axis, velocity, broadening, fwhm), truth) + 2.0
    fit = solve_amplitudes(spectrum, axis, velocity, broadening, fwhm, templates=templates)
    np.testing.assert_allclose(fit.amplitudes, truth, atol=2e-3)


def test_rejects_decreasing_axis():
    with pytest.raises(ValueError, match="increasing"):
        fast_line_templates(np.linspace(15400, 14600, 100), np.zeros(1), np.zeros(1), 3.0)
