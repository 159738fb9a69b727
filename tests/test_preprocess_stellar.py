"""The smooth-baseline normalisation survives stellar continua; the OH sky is fitted and removed."""

import numpy as np
import pytest

from mirabelle.inference.preprocess import model_axis, prepare
from mirabelle.lines import REST_NM, line_position_cm1, sincgauss
from mirabelle.lines.sky import sky_spectrum

AXIS = np.arange(14600.0, 15440.0, 1.2)  # native channels, R ≈ 5000 sampling
FWHM = 3.0
CARD = {"input": {"axis_cm1": [14750.0, 1.6, 395], "normalisation": "baseline-max", "baseline_sigma_cm1": 10.0,
                  "continuum_cm1": [[14750.0, 14800.0], [14920.0, 15140.0], [15330.0, 15380.0]],
                  "band_cm1": [14598.5, 15439.2], "sky": "fit"}}


def _lines(velocity=40.0):
    rest = np.array([REST_NM[k] for k in ("NII6548", "Halpha", "NII6583", "SII6716", "SII6731")])
    amplitudes = np.array([0.1, 1.0, 0.3, 0.25, 0.2])
    position = line_position_cm1(rest, velocity)
    return (sincgauss(AXIS[:, None], position, FWHM, position * 20.0 / 299792.458) * amplitudes).sum(1)


def _stellar(depth_fraction=1 / 3, sigma_angstrom=12.0, level=4.0):
    halpha = float(line_position_cm1(REST_NM["Halpha"], 40.0))
    sigma = sigma_angstrom * 1e8 / 6562.8 ** 2
    continuum = level * (1.0 + 0.3 * (AXIS - 15000.0) / 500.0)
    return continuum - depth_fraction * level * np.exp(-0.5 * ((AXIS - halpha) / sigma) ** 2)


def test_broad_halpha_absorption_is_removed_with_the_baseline():
    lines = _lines()
    clean = prepare(lines[None, :], AXIS, CARD)[0]
    star = prepare((lines + _stellar())[None, :], AXIS, CARD)[0]
    target = model_axis(CARD)
    assert target[np.argmax(star)] == pytest.approx(target[np.argmax(clean)], abs=1.6)
    # the absorption (depth 1.3 × Hα) leaves less than 15 % of the Hα peak anywhere
    assert np.abs(star - clean).max() < 0.15
    # a straight continuum fit alone cannot: the trough stays under Hα
    straight = dict(CARD, input=dict(CARD["input"], normalisation="linear-max"))
    plain = prepare(lines[None, :], AXIS, straight)[0]
    assert np.abs(prepare((lines + _stellar())[None, :], AXIS, straight)[0] - plain).max() > 0.5


def test_unresolved_sky_is_fitted_and_subtracted():
    lines = _lines()
    sky = sky_spectrum(AXIS, FWHM)
    clean = prepare(lines[None, :], AXIS, CARD, sky=sky)[0]
    with_sky = prepare((lines + 3.0 * sky)[None, :], AXIS, CARD, sky=sky)[0]
    assert np.abs(with_sky - clean).max() < 0.05
    # without the template the brightest sky line (3 × Hα) dominates the normalised spectrum
    unsubtracted = prepare((lines + 3.0 * sky)[None, :], AXIS, CARD)[0]
    assert np.abs(unsubtracted - clean).max() > 0.5


def test_a_row_prepares_the_same_alone_or_in_any_batch_and_with_shared_sky_templates():
    rng = np.random.default_rng(4)
    skies = np.stack([sky_spectrum(AXIS, FWHM), sky_spectrum(AXIS, 1.1 * FWHM)])
    sky_index = rng.integers(0, 2, 40)
    values = (_lines() + _stellar() + 2.0 * skies[sky_index] + rng.normal(0.0, 0.02, (40, AXIS.size)))
    values[3, 100:140] = np.nan  # a row with a hole: other rows must not take its path
    values[7] = np.nan
    batch = prepare(values, AXIS, CARD, sky=skies, sky_index=sky_index)
    for rows in ([0], [3], [0, 1, 2], [5, 7, 11]):
        alone = prepare(values[rows], AXIS, CARD, sky=skies, sky_index=sky_index[rows])
        assert np.array_equal(alone, batch[rows]), rows
    # one template per row gives the same as shared templates, to float32 rounding
    np.testing.assert_allclose(prepare(values, AXIS, CARD, sky=skies[sky_index]), batch, atol=1e-6)
    assert np.abs(prepare(values, AXIS, CARD) - batch).max() > 0.1  # the sky was subtracted
