"""SAMP: send FITS images, tables and spectra to DS9, Aladin or TOPCAT, receive sky positions.

A thin layer over ``astropy.samp.SAMPIntegratedClient``: `SampLink.connect` registers with
the running hub (DS9, Aladin and TOPCAT start or join one), `send_fits_image` / `send_table`
broadcast ``image.load.fits`` / ``table.load.fits`` of a file written for the purpose,
and a ``coord.pointAt.sky`` from any client calls ``on_point(ra_deg, dec_deg)`` — in the
SAMP thread, so a GUI must hand it over to its own thread.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from mirabelle.errors import MirabelleError

CLIENT_NAME = "Mirabelle"


class SampError(MirabelleError, ConnectionError):
    """No SAMP hub, or a message that could not be sent."""


class SampLink:
    """One registration with a SAMP hub."""

    def __init__(self, on_point: Callable[[float, float], None] | None = None) -> None:
        self.on_point = on_point
        self.client = None
        self.folder = Path(tempfile.mkdtemp(prefix="mirabelle-samp-"))
        self._sent = 0

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    def connect(self, hub=None) -> None:
        """Register with ``hub`` (a `SAMPHubServer`, or None: the hub named by the standard lock file)."""
        from astropy.samp import SAMPIntegratedClient

        client = SAMPIntegratedClient(name=CLIENT_NAME, description="SITELLE cube viewer",
                                      metadata={"samp.description.text": "Mirabelle"})
        try:
            client.connect(hub=hub)
        except Exception as exc:  # astropy raises SAMPHubError, ConnectionRefusedError, OSError...
            raise SampError(f"expected a running SAMP hub (start DS9, Aladin or TOPCAT), found none ({exc})") from None
        client.bind_receive_notification("coord.pointAt.sky", self._receive_point)
        client.bind_receive_call("coord.pointAt.sky", self._receive_point_call)
        self.client = client

    def disconnect(self) -> None:
        """Leave the hub and delete the files sent (receivers have loaded them by now)."""
        import shutil

        if self.connected:
            self.client.disconnect()
        self.client = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _receive_point(self, private_key, sender_id, mtype, params, extra) -> None:
        if self.on_point is not None:
            self.on_point(float(params["ra"]), float(params["dec"]))

    def _receive_point_call(self, private_key, sender_id, msg_id, mtype, params, extra) -> None:
        self._receive_point(private_key, sender_id, mtype, params, extra)
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def _file(self, name: str, payload: bytes) -> Path:
        self._sent += 1
        path = self.folder / f"{self._sent:03d}_{name}"
        path.write_bytes(payload)
        return path

    def _notify(self, mtype: str, params: dict, recipient: str | None) -> None:
        if not self.connected:
            raise SampError("expected a connection to a SAMP hub, found none: connect first")
        message = {"samp.mtype": mtype, "samp.params": params}
        try:
            if recipient:
                self.client.notify(recipient, message)
            else:
                self.client.notify_all(message)
        except Exception as exc:  # noqa: BLE001 -- the hub's error, as a sentence
            raise SampError(f"SAMP could not send {mtype} ({exc})") from None

    def send_fits_image(self, name: str, payload: bytes, recipient: str | None = None) -> Path:
        """Broadcast (or send to ``recipient``) a FITS image given as bytes; returns the file sent."""
        path = self._file(name, payload)
        self._notify("image.load.fits", {"url": path.as_uri(), "name": name}, recipient)
        return path

    def send_table(self, name: str, payload: bytes, recipient: str | None = None) -> Path:
        """Broadcast a FITS table (a spectrum) given as bytes; returns the file sent."""
        path = self._file(name, payload)
        self._notify("table.load.fits", {"url": path.as_uri(), "name": name}, recipient)
        return path
