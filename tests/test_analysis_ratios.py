"""Diagnostic ratio maps and the [SII] electron density (PyNeb) from per-line fluxes."""

import numpy as np

from mirabelle.analysis.ratios import (diagnostic_maps, electron_density_cm3, fluxes_by_line,
                                       select_in_ratio_box)
from mirabelle.synthetic import read_truth


def test_ratio_maps_recover_the_synthetic_scene(synthetic_cube_path):
    truth = read_truth(synthetic_cube_path)
    amplitudes = truth.amplitudes.copy()  # same width for every line: flux ratio = amplitude ratio
    maps = diagnostic_maps(fluxes_by_line(amplitudes))
    a = truth.amplitudes
    valid = truth.valid & (a[..., 1] > 0)
    np.testing.assert_allclose(maps.nii_halpha[valid], (a[..., 2] / a[..., 1])[valid], rtol=1e-5)
    np.testing.assert_allclose(maps.sii_halpha[valid], ((a[..., 3] + a[..., 4]) / a[..., 1])[valid], rtol=1e-5)
    np.testing.assert_allclose(maps.sii_doublet[valid], (a[..., 3] / a[..., 4])[valid], rtol=1e-5)
    assert maps.nii_halpha.shape == truth.valid.shape


def test_snr_masks_the_ratios_of_weak_lines():
    fluxes = {name: np.full((3, 2), 10.0) for name in ("NII6548", "Halpha", "NII6583", "SII6716", "SII6731")}
    snr = {"Halpha": np.array([[10.0, 10.0], [2.0, 10.0], [10.0, 10.0]]),
           "SII6716": np.array([[10.0, 1.0], [10.0, 10.0], [10.0, 10.0]])}
    fluxes["NII6583"][2, 1] = -1.0
    maps = diagnostic_maps(fluxes, snr, min_snr=3)
    assert np.isnan(maps.nii_halpha[1, 0]) and np.isnan(maps.nii_halpha[2, 1]) and maps.nii_halpha[0, 0] == 1.0
    assert np.isnan(maps.sii_doublet[0, 1]) and maps.sii_doublet[1, 0] == 1.0
    assert np.isnan(maps.sii_halpha[0, 1])


def test_electron_density_matches_pyneb_and_depends_on_temperature():
    import pyneb as pn

    ratios = np.array([0.6, 1.0, 1.3])
    direct = pn.Atom("S", 2).getTemDen(ratios, tem=1e4, wave1=6717, wave2=6731)
    np.testing.assert_allclose(electron_density_cm3(ratios, 1e4), direct, rtol=0.02)
    assert electron_density_cm3(1.0, 5000.0) < electron_density_cm3(1.0, 20000.0)
    assert np.isnan(electron_density_cm3(2.0)) and np.isnan(electron_density_cm3(0.2))


def test_brushed_box_selects_pixels_in_the_diagram():
    nii = np.array([[0.1, 0.5], [np.nan, 0.3]])
    sii = np.array([[0.2, 0.4], [0.3, 0.9]])
    selected = select_in_ratio_box(nii, sii, (0.05, 0.6), (0.1, 0.5))
    np.testing.assert_array_equal(selected, [[True, True], [False, False]])


def test_registry_ratio_maps_are_the_log_ratios_masked_by_halpha_snr():
    from mirabelle.inference.maps import KinematicMaps
    from mirabelle.session.registry import map_array

    maps = KinematicMaps.empty(4, 3)
    maps.done[:] = True
    maps.velocity[:], maps.broadening[:] = -180.0, 20.0
    maps.snr_halpha[:] = 10.0
    maps.snr_halpha[0, 0] = 1.0
    rng = np.random.default_rng(2)
    maps.fluxes[:] = rng.uniform(0.5, 2.0, (4, 3, 5))
    expected = diagnostic_maps(fluxes_by_line(maps.fluxes), {"Halpha": maps.snr_halpha})
    np.testing.assert_allclose(map_array(maps, "log_nii_halpha"), np.log10(expected.nii_halpha), rtol=1e-5,
                               equal_nan=True)
    np.testing.assert_allclose(map_array(maps, "log_sii_halpha"), np.log10(expected.sii_halpha), rtol=1e-5,
                               equal_nan=True)
    np.testing.assert_allclose(map_array(maps, "sii_doublet"), expected.sii_doublet, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(map_array(maps, "log_electron_density"),
                               np.log10(expected.electron_density_cm3), rtol=1e-5, equal_nan=True)
    assert np.isnan(map_array(maps, "log_nii_halpha")[0, 0])
