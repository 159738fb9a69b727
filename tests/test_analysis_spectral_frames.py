"""Channels named in channel, wavenumber, air wavelength or velocity about a line."""

import numpy as np
import pytest

from mirabelle.analysis.spectral_frames import LineNameError, SpectralFrame, line_name, nearest_channel, rest_nm
from mirabelle.errors import MirabelleError


def test_line_names_in_every_spelling():
    assert line_name("Hα") == line_name("ha") == line_name("HALPHA") == "Halpha"
    assert line_name("[NII]6583") == "NII6583" and rest_nm("SII6731") == 673.0816
    with pytest.raises(LineNameError, match="found 'OIII'"):
        rest_nm("OIII")


@pytest.mark.parametrize("frame", ["channel", "wavenumber", "wavelength", "velocity"])
def test_frames_round_trip_to_wavenumber(frame):
    axis = np.linspace(15100.0, 15300.0, 101)
    spectral = SpectralFrame(frame, "Halpha")
    values = spectral.values(axis)
    for k in (0, 37, 100):
        assert spectral.to_wavenumber(values[k], axis) == pytest.approx(axis[k], abs=1e-6)
        assert nearest_channel(axis, spectral.to_wavenumber(values[k], axis)) == k


def test_velocity_frame_is_zero_at_the_rest_line_and_labelled():
    spectral = SpectralFrame("velocity", "NII6583")
    assert spectral.values(np.array([1e7 / 658.345]))[0] == pytest.approx(0.0, abs=1e-6)
    assert spectral.label == "velocity about [NII]6583 (km/s)"
    assert SpectralFrame("wavelength").label == "air wavelength (nm)"
    with pytest.raises(MirabelleError, match="spectral frame"):
        SpectralFrame("redshift")
