"""Channel images equal the cube's data, read directly or from the channel-major cache."""

import threading

import numpy as np
import pytest

from mirabelle.cube import open_cube
from mirabelle.cube.channels import ChannelCache, cache_key, channel_image, read_channel_image
from mirabelle.errors import CubeError


def _plane(cube, channel):
    return cube.read_block(slice(None), slice(None), slice(channel, channel + 1))[:, :, 0]


@pytest.mark.parametrize("which", ["synthetic_cube_path", "synthetic_cube_uncalibrated_path"])
def test_channel_images_equal_the_cube_data(request, which, tmp_path):
    with open_cube(request.getfixturevalue(which)) as cube, ChannelCache(cube, tmp_path) as cache:
        channels = [cache.channels.start, cube.nz // 2, cache.channels.stop - 1]
        for k in channels:
            np.testing.assert_array_equal(read_channel_image(cube, k), _plane(cube, k))
        assert cache.channel_image(channels[1]) is None  # nothing cached yet
        fractions = list(cache.build())
        assert fractions[-1] == 1.0 and cache.complete
        for k in channels:
            np.testing.assert_array_equal(cache.channel_image(k), _plane(cube, k))
        x, y = 20, 17
        np.testing.assert_allclose(cache.channel_image(channels[1])[x, y], cube.spectrum(x, y).values[channels[1]],
                                   rtol=1e-6)


def test_cache_build_is_resumable_and_survives_reopening(synthetic_cube_path, tmp_path, monkeypatch):
    from mirabelle.cube import channels as module

    monkeypatch.setattr(module, "CACHE_TILE", (16, 16))  # several tiles on the small cube
    with open_cube(synthetic_cube_path) as cube:
        with ChannelCache(cube, tmp_path) as cache:
            assert len(cache.origins) > 1
            cancel = threading.Event()
            for _ in cache.build(cancel):
                cancel.set()
            assert 0 < cache.fraction_done < 1 and cache.channel_image(100) is None
        with ChannelCache(cube, tmp_path) as cache:
            assert 0 < cache.fraction_done < 1
            list(cache.build())
            np.testing.assert_array_equal(cache.channel_image(100), _plane(cube, 100))


def test_channel_image_falls_back_to_the_cube_and_reports_progress(synthetic_cube_path, tmp_path):
    seen = []
    with open_cube(synthetic_cube_path) as cube, ChannelCache(cube, tmp_path) as cache:
        image = channel_image(cube, 7, cache, progress=seen.append)
        np.testing.assert_array_equal(image, _plane(cube, 7))
        assert seen and seen[-1] == 1.0
        with pytest.raises(CubeError, match="expected a channel 0"):
            channel_image(cube, cube.nz, cache)


def test_a_modified_cube_misses_the_cache(tmp_path):
    path = tmp_path / "cube.hdf5"
    path.write_bytes(b"one")
    first = cache_key(path)
    path.write_bytes(b"two!")
    assert cache_key(path) != first


def test_one_channel_is_contiguous_in_the_cache_file(synthetic_cube_path, tmp_path, monkeypatch):
    from mirabelle.cube import channels as module

    monkeypatch.setattr(module, "CACHE_TILE", (16, 16))
    with open_cube(synthetic_cube_path) as cube, ChannelCache(cube, tmp_path) as cache:
        list(cache.build())
        dataset = cache._file["channels"]
        per_channel = len(cache.origins)
        infos = [dataset.id.get_chunk_info(i) for i in range(2 * per_channel)]
        assert [info.chunk_offset[0] for info in infos] == [0] * per_channel + [1] * per_channel
        offsets = np.array([info.byte_offset for info in infos])
        assert np.all(np.diff(offsets) == infos[0].size)  # back to back, channel after channel
