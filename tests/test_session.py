"""The Qt-free session: clicks equal the maps, consistent snapshots during a run, resume, cache versions."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from inference_models import SN3_AXIS, write_model

from mirabelle.errors import ModelError
from mirabelle.inference import cache
from mirabelle.inference.maps import INVALID_BITS
from mirabelle.session import MAP_NAMES, Session, choose_model, map_value
from mirabelle.session.pixel import agrees_with_maps
from mirabelle.session.registry import map_array
from mirabelle.synthetic import read_truth

TILE = (16, 16)  # 48 x 40 cube: 3 x 3 tiles


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, synthetic_cube_path):
    """A model near the scene's kinematics that depends on the spectrum (the network path matters)."""
    truth = read_truth(synthetic_cube_path)
    v0, b0 = float(np.median(truth.velocity[truth.valid])), float(np.median(truth.broadening[truth.valid]))
    weights = np.random.default_rng(3).normal(0.0, 0.3, (SN3_AXIS[2], 4)).astype(np.float32)
    weights[:, 2:] = 0.0
    return write_model(tmp_path_factory.mktemp("models"), weights=weights, kinematics=(v0, b0, 4.0, 5.0))


def _session(cube_path, model_path, **options):
    return Session(cube_path, model_name=str(model_path), threads=1, **options)


def test_a_click_equals_the_maps_at_that_pixel(synthetic_cube_path, model_path):
    valid = read_truth(synthetic_cube_path).valid
    with _session(synthetic_cube_path, model_path) as session:
        before = session.pixel(20, 17)  # no maps yet: the network runs on this one pixel
        list(session.run(tile=TILE))
        maps = session.maps
        assert maps.complete and np.ptp(maps.velocity[valid]) > 1.0  # kinematics vary over the field
        valid_pixels = np.argwhere(maps.valid_mask())
        invalid_pixel = np.argwhere(~maps.valid_mask() & valid)[:1]
        assert len(valid_pixels) > 100 and len(invalid_pixel)
        for x, y in list(valid_pixels[::len(valid_pixels) // 3][:3]) + list(invalid_pixel) + [(20, 17)]:
            click = session.pixel(x, y)
            np.testing.assert_allclose(click.fluxes, maps.fluxes[x, y], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(click.amplitudes, maps.amplitudes[x, y], rtol=1e-5, atol=1e-6)
            assert click.kinematics["velocity_kms"] == pytest.approx(float(maps.velocity[x, y]))
            assert click.snr_halpha == pytest.approx(float(maps.snr_halpha[x, y]), rel=1e-5)
            assert click.quality == maps.quality[x, y]
            assert click.valid == bool(maps.valid_mask()[x, y])
            shown = map_value(maps, "flux_halpha", x, y)  # what the overlay and the readout show
            assert shown == pytest.approx(click.fluxes[1], rel=1e-5) if click.valid else shown is None
            assert click.model.shape == click.values.shape and click.curve.size > click.values.size
        np.testing.assert_allclose(before.fluxes, maps.fluxes[20, 17], rtol=1e-4, atol=1e-5)
        assert before.kinematics["velocity_kms"] == pytest.approx(float(maps.velocity[20, 17]), abs=1e-3)
        assert agrees_with_maps(before, maps)  # what a click showed during the run is what the maps hold


def test_masked_maps_hide_the_same_pixels_in_the_overlay_and_the_readout(synthetic_cube_path, model_path):
    with _session(synthetic_cube_path, model_path) as session:
        list(session.run(tile=TILE))
        maps = session.maps
    hidden = np.argwhere(((maps.quality & INVALID_BITS) != 0) & np.isfinite(maps.velocity))
    assert hidden.size
    x, y = hidden[0]
    assert np.isfinite(maps.velocity[x, y])  # the network answered, but the prior is not usable
    assert map_value(maps, "velocity", x, y) is None and map_value(maps, "snr_halpha", x, y) is not None


def test_an_export_during_a_run_reads_a_consistent_snapshot(synthetic_cube_path, model_path, tmp_path):
    with _session(synthetic_cube_path, model_path) as session:
        snapshots, tiles, running = [], [], threading.Event()

        def drive():
            for result in session.run(tile=TILE, use_cache=False):
                tiles.append((result.x_slice, result.y_slice))
                running.set()

        worker = threading.Thread(target=drive)
        worker.start()
        running.wait(30)
        while worker.is_alive() or not snapshots:
            snapshots.append(session.snapshot())
        worker.join()
        summary = session.export_priors(tmp_path / "out")
        for snap in snapshots:
            for xs, ys in tiles:
                block = snap.done[xs, ys]
                assert block.all() or not block.any()  # whole tiles only
            assert np.isnan(snap.velocity[~snap.done]).all()
        assert snapshots[0].done.sum() < session.maps.done.sum() or len(snapshots) == 1
        mask = fits.getdata(tmp_path / "out" / "valid_mask.fits").T.astype(bool)
        np.testing.assert_array_equal(mask, session.maps.valid_mask())
        assert summary["pixels"]["done"] == 48 * 40


def test_an_interrupted_run_resumes_from_the_cache(synthetic_cube_path, model_path):
    with _session(synthetic_cube_path, model_path) as counting:
        tiles = len(list(counting.run(tile=TILE, use_cache=False)))
    with _session(synthetic_cube_path, model_path) as first:
        run = first.run(tile=TILE)
        for _ in range(4):
            next(run)
        run.close()  # an interrupted run (Ctrl-C, window closed)
        done_before = first.maps.done.copy()
    assert 0 < done_before.sum() < done_before.size
    with _session(synthetic_cube_path, model_path) as second:
        resumed = list(second.run(tile=TILE))
        assert second.maps.done[done_before].all() and second.maps.complete
        assert len(resumed) == tiles - 4
        fresh = _session(synthetic_cube_path, model_path)
        list(fresh.run(tile=TILE, recompute=True))
        np.testing.assert_allclose(second.maps.fluxes, fresh.maps.fluxes, rtol=1e-5, equal_nan=True)
        fresh.close()
    with _session(synthetic_cube_path, model_path) as third:
        assert list(third.run(tile=TILE)) == [] and third.reused and third.maps.complete


def test_a_cache_of_another_format_version_is_recomputed_with_a_message(synthetic_cube_path, model_path):
    with _session(synthetic_cube_path, model_path) as session:
        list(session.run(tile=TILE))
        sha = session.model.sha256
    target = cache.cache_path(synthetic_cube_path, sha)
    with np.load(target) as data:
        arrays = {name: data[name] for name in data.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    metadata["format_version"] = 1
    del arrays["double_offset"]  # an older layout
    np.savez(target, metadata=np.array(json.dumps(metadata)), **arrays)
    messages = []
    with _session(synthetic_cube_path, model_path, notify=messages.append) as session:
        results = list(session.run(tile=TILE))
    assert len(results) > 4 and session.maps.complete and not session.reused
    assert len(messages) == 1 and "version" in messages[0] and "recomputed" in messages[0]
    with np.load(target) as data:
        assert json.loads(str(data["metadata"]))["format_version"] == cache.FORMAT_VERSION


def test_a_version_1_cache_file_is_reported_and_replaced(synthetic_cube_path, model_path):
    with _session(synthetic_cube_path, model_path) as session:
        sha = session.model.sha256
    legacy = cache.cache_dir() / (f"{synthetic_cube_path.stem}-"
                                  f"{cache.cache_key(synthetic_cube_path, sha, legacy_version=1)}.npz")
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(b"old maps")
    messages = []
    with _session(synthetic_cube_path, model_path, notify=messages.append) as session:
        assert len(list(session.run(tile=TILE))) > 4 and session.maps.complete
    assert len(messages) == 1 and "version 1" in messages[0] and not legacy.exists()


def test_the_model_choice_is_checked_once_and_cached(synthetic_cube_path, model_path, tmp_path):
    from mirabelle.cube import open_cube

    with open_cube(synthetic_cube_path) as cube:
        assert choose_model(cube, str(model_path), threads=1) is choose_model(cube, str(model_path), threads=1)

    class OtherFilter:
        is_sn3, filter_name, path = False, "SN2", "sn2.hdf5"

    with pytest.raises(ModelError, match="SN3"):
        choose_model(OtherFilter(), str(model_path))


def test_every_registry_map_reads_from_finished_maps(synthetic_cube_path, model_path):
    with _session(synthetic_cube_path, model_path) as session:
        list(session.run(tile=TILE))
        for name in MAP_NAMES:
            if name == "log_electron_density":  # NaN beyond the [SII] low-density limit, as here
                assert np.isfinite(map_array(session.maps, name)).any()
                continue
            if name == "velocity_helio":  # the synthetic cube has no observation date: unknown
                assert session.maps.barycentric_kms is None and map_value(session.maps, name, 20, 17) is None
                continue
            value = map_value(session.maps, name, 20, 17)
            assert value is not None and np.isfinite(value), name


def test_every_exported_registry_map_is_written_as_the_registry_says(synthetic_cube_path, model_path, tmp_path):
    from mirabelle.session import MAPS
    from mirabelle.session.registry import ALL

    from dataclasses import replace

    from mirabelle.cube.units import line_flux_maps

    with _session(synthetic_cube_path, model_path) as session:
        list(session.run(tile=TILE))
        summary = session.export_priors(tmp_path / "out")
        maps = session.maps
        physical = replace(maps, fluxes=line_flux_maps(maps.fluxes, maps.velocity, session.cube)[0])
    written = {Path(name).name for name in summary["files"]}
    for spec in MAPS:
        if spec.export is None:
            continue
        assert spec.export in written, spec.name
        if not spec.prior:  # the others: the map's values (fluxes in the cube's unit), NaN where unknown
            data = fits.getdata(tmp_path / "out" / spec.export).T
            np.testing.assert_allclose(data, np.asarray(spec.source(physical, ALL), np.float32), equal_nan=True)
