"""SAMP through an in-process hub on localhost: images and spectra sent, sky positions received."""

import threading

import numpy as np
import pytest

from mirabelle.export.samp import SampError, SampLink


@pytest.fixture
def hub():
    from astropy.samp import SAMPHubServer

    server = SAMPHubServer(web_profile=False, mode="multiple", addr="127.0.0.1")
    server.start()
    yield server
    server.stop()


def _listener(hub, mtype):
    from astropy.samp import SAMPIntegratedClient

    received, event = [], threading.Event()
    client = SAMPIntegratedClient(name="listener")
    client.connect(hub=hub)

    def handler(private_key, sender_id, mt, params, extra):
        received.append(params)
        event.set()

    client.bind_receive_notification(mtype, handler)
    return client, received, event


def test_fits_image_and_spectrum_reach_another_client(hub, synthetic_cube_path):
    from astropy.io import fits

    from mirabelle.analysis.region_spectra import pixel_spectrum
    from mirabelle.cube import open_cube
    from mirabelle.export.analysis_fits import fits_bytes, map_hdu, spectrum_hdus

    listener, received, event = _listener(hub, "image.load.fits")
    link = SampLink()
    link.connect(hub=hub)
    with open_cube(synthetic_cube_path) as cube:
        deep = cube.deep_image()
        link.send_fits_image("deep.fits", fits_bytes([map_hdu(deep, cube, "ct")]))
        assert event.wait(10)
        sent = received[0]
        with fits.open(sent["url"].replace("file://", "")) as hdus:
            np.testing.assert_allclose(hdus[0].data.T, deep)
        tables, got_table, table_event = _listener(hub, "table.load.fits")
        link.send_table("spectrum.fits", fits_bytes(spectrum_hdus(pixel_spectrum(cube, 20, 18), cube)))
        assert table_event.wait(10) and got_table[0]["name"] == "spectrum.fits"
    for client in (listener, tables):
        client.disconnect()
    link.disconnect()


def test_a_sky_position_from_another_client_is_received(hub):
    from astropy.samp import SAMPIntegratedClient

    points, event = [], threading.Event()
    link = SampLink(on_point=lambda ra, dec: (points.append((ra, dec)), event.set()))
    link.connect(hub=hub)
    sender = SAMPIntegratedClient(name="aladin-like")
    sender.connect(hub=hub)
    sender.notify_all({"samp.mtype": "coord.pointAt.sky", "samp.params": {"ra": "23.46", "dec": "30.66"}})
    assert event.wait(10)
    assert points == [(23.46, 30.66)]
    sender.disconnect()
    link.disconnect()


def test_without_a_hub_the_error_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path / 'missing.samp'}")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(SampError, match="expected a running SAMP hub"):
        SampLink().connect()
    with pytest.raises(SampError, match="connect first"):
        SampLink().send_table("x.fits", b"")
