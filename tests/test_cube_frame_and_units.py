"""The barycentric correction from a cube's date and target, and the physical unit of its values."""

import h5py
import numpy as np
import pytest
from cube_files import write_orb_cube

from mirabelle.cube import open_cube
from mirabelle.cube.heliocentric import barycentric_correction, heliocentric_velocity
from mirabelle.cube.units import flux_units, line_flux_maps


def _cube_with(tmp_path, name="cube.hdf5", **attrs):
    path = tmp_path / name
    write_orb_cube(path, nx=4, ny=5, extra_attrs=attrs)
    return path


@pytest.mark.parametrize("ra_deg, dec_deg, expected", [(270.0, -23.44, 29.8), (90.0, 23.44, -29.8)])
def test_correction_is_the_earth_orbit_towards_and_away_from_the_target(tmp_path, ra_deg, dec_deg, expected):
    # At the March equinox the Earth moves towards ecliptic longitude 270°: a star there is
    # approached at ~29.8 km/s, so +29.8 km/s must be added to its observed velocities.
    path = _cube_with(tmp_path, target_ra=ra_deg, target_dec=dec_deg, obs_date=np.array([2021, 3, 20]),
                      hour_ut=np.array([10.0, 0.0, 0.0]))
    with open_cube(path) as cube:
        correction, reason = barycentric_correction(cube)
    assert reason == "" and correction.time_source == "obs_date + hour_ut"
    assert correction.obstime_utc.startswith("2021-03-20T10:00:00")
    assert correction.velocity_kms == pytest.approx(expected, abs=0.8)


def test_date_obs_and_obs_date_agree_and_a_missing_date_is_said(tmp_path):
    orb = _cube_with(tmp_path, "orb.hdf5", target_ra=10.68, target_dec=41.27, obs_date=np.array([2019, 10, 5]),
                     hour_ut=np.array([6.0, 30.0, 0.0]))
    fits_style = _cube_with(tmp_path, "fits.hdf5", target_ra=10.68, target_dec=41.27,
                            **{"DATE-OBS": "2019-10-05", "TIME-OBS": "06:30:00"})
    undated = _cube_with(tmp_path, "undated.hdf5")
    with open_cube(orb) as a, open_cube(fits_style) as b, open_cube(undated) as c:
        first, second = barycentric_correction(a)[0], barycentric_correction(b)[0]
        assert first.velocity_kms == pytest.approx(second.velocity_kms, abs=1e-6)
        assert second.time_source == "DATE-OBS + TIME-OBS"
        missing, reason = barycentric_correction(c)
    assert missing is None and "observation date" in reason
    assert heliocentric_velocity(100.0, 10.0) == pytest.approx(110.0 + 1000.0 / 299792.458)


def test_units_of_counts_flambda_bunit_and_small_values(tmp_path):
    nz = 840
    flambda = np.linspace(2e-18, 3e-18, nz)
    plain = _cube_with(tmp_path, "plain.hdf5")
    counts = _cube_with(tmp_path, "counts.hdf5", flambda=flambda)
    bunit = _cube_with(tmp_path, "bunit.hdf5", BUNIT="1e-17 erg/cm2/s/Angstrom")
    small = tmp_path / "small.hdf5"
    write_orb_cube(small, nx=4, ny=5, extra_attrs={"flambda": flambda},
                   values=np.full((4, 5, nz), 3e-17, np.float32))
    with open_cube(plain) as cube:
        units = flux_units(cube)
        assert (units.spectrum, units.line_flux, units.calibrated) == ("counts", "counts", False)
        fluxes, label = line_flux_maps(np.full((4, 5, 5), 6.0), np.zeros((4, 5)), cube)
        width = cube.base_axis_cm1[1] - cube.base_axis_cm1[0]
        assert label == "counts" and fluxes[0, 0, 1] == pytest.approx(6.0 / width, rel=1e-5)
    with open_cube(counts) as cube:
        units = flux_units(cube)
        assert (units.spectrum, units.line_flux) == ("counts", "erg/cm²/s") and "flambda" in units.source
        fluxes, _ = line_flux_maps(np.full((4, 5, 5), 2.0), np.zeros((4, 5)), cube)
        sigma = 1e7 / 656.2819
        expected = 2.0 * np.interp(sigma, cube.base_axis_cm1, flambda) * 1e8 / sigma**2
        assert fluxes[1, 1, 1] == pytest.approx(expected, rel=1e-4)
    with open_cube(bunit) as cube:
        units = flux_units(cube)
        assert units.spectrum == "erg/cm²/s/Å" and units.to_flux_density[0] == pytest.approx(1e-17)
        assert units.line_flux_bunit == "erg/cm2/s"
    with open_cube(small) as cube:
        assert flux_units(cube).spectrum == "erg/cm²/s/Å" and "too small" in flux_units(cube).source


def test_exported_maps_carry_units_and_frame_keywords(tmp_path, synthetic_cube_path):
    from astropy.io import fits

    from mirabelle.export.priors import write_priors
    from mirabelle.inference.maps import KinematicMaps

    dated = tmp_path / "dated.hdf5"
    dated.write_bytes(synthetic_cube_path.read_bytes())
    with h5py.File(dated, "r+") as f:
        f.attrs["obs_date"] = np.array([2019, 10, 5])
        f.attrs["hour_ut"] = np.array([6.0, 30.0, 0.0])
    with open_cube(dated) as cube:
        maps = KinematicMaps.empty(cube.nx, cube.ny)
        for name in ("velocity", "broadening", "velocity_err", "broadening_err", "snr_halpha"):
            getattr(maps, name)[...] = 10.0
        maps.fluxes[...] = 1.0
        maps.done[...] = True
        summary = write_priors(maps, cube, tmp_path / "out", vsys_kms=-180.0, vsys_source="detected")
        correction = barycentric_correction(cube)[0].velocity_kms
    header = fits.getheader(tmp_path / "out" / "velocity.fits")
    assert header["VSYS"] == -180.0 and header["HELIOCOR"] == pytest.approx(correction, abs=1e-3)
    assert header["VELFRAME"] == "observed"
    assert fits.getheader(tmp_path / "out" / "flux_Halpha.fits")["BUNIT"] == "erg/cm2/s"  # flambda cube
    helio = fits.open(tmp_path / "out" / "velocity_helio.fits")[0]
    assert helio.header["VELFRAME"] == "barycentric"
    assert np.nanmedian(helio.data) == pytest.approx(10.0 + correction, abs=1e-3)
    assert summary["systemic_velocity_kms"] == -180.0 and summary["flux_unit"] == "erg/cm²/s"
    assert summary["barycentric_correction_kms"] == pytest.approx(correction, abs=1e-3)


def test_a_click_reports_units_fluxes_and_the_heliocentric_velocity(tmp_path):
    from inference_models import write_model

    from mirabelle.session import Session
    from mirabelle.synthetic import write_synthetic_cube
    from mirabelle.ui.spectrum_format import info_html

    path = tmp_path / "flux.hdf5"
    write_synthetic_cube(path, 16, 16, resolution=5000.0, seed=2, flux_scale=1e-17, obs_date=(2020, 1, 15))
    model = write_model(tmp_path / "models", kinematics=(-180.0, 30.0, 4.0, 5.0))
    with Session(path, model_name=str(model), threads=1) as session:
        pixel = session.pixel(8, 8)
        correction = barycentric_correction(session.cube)[0].velocity_kms
    assert pixel.value_unit == "erg/cm²/s/Å" and pixel.line_flux_unit == "erg/cm²/s"
    assert 1e-19 < pixel.line_fluxes[1] < 1e-12  # physical, not ~1e-17 × cm⁻¹ counts
    text = info_html(pixel)
    assert "(erg/cm²/s)" in text and f"correction {correction:+.2f}" in text


def test_the_heliocentric_map_of_a_dated_cube(tmp_path):
    from inference_models import write_model

    from mirabelle.session import Session
    from mirabelle.session.registry import map_array
    from mirabelle.synthetic import write_synthetic_cube

    path = tmp_path / "dated.hdf5"
    write_synthetic_cube(path, 16, 16, resolution=5000.0, seed=2, obs_date=(2020, 1, 15))
    model = write_model(tmp_path / "models", kinematics=(-180.0, 30.0, 4.0, 5.0))
    with Session(path, model_name=str(model), threads=1) as session:
        list(session.run(use_cache=False))
        correction = barycentric_correction(session.cube)[0].velocity_kms
        helio, observed = map_array(session.maps, "velocity_helio"), map_array(session.maps, "velocity")
    valid = np.isfinite(observed)
    assert valid.any() and session.maps.barycentric_kms == pytest.approx(correction)
    np.testing.assert_allclose(helio[valid], heliocentric_velocity(observed[valid], correction), rtol=1e-6)
