"""Physical constants and the SN3 line list (air rest wavelengths of ORB's line table)."""

from __future__ import annotations

C_KMS = 299792.458
"""Speed of light, km/s."""

# Order used for every per-line array (amplitudes, fluxes): shape (..., 5).
LINE_NAMES = ("NII6548", "Halpha", "NII6583", "SII6716", "SII6731")
LINE_LABELS = {
    "NII6548": "[NII]6548",
    "Halpha": "Hα",
    "NII6583": "[NII]6583",
    "SII6716": "[SII]6716",
    "SII6731": "[SII]6731",
}
# NIST Ritz air wavelengths (nm) as ORB computes with them; 0.001 nm is 0.46 km/s.
REST_NM = {
    "NII6548": 654.805,
    "Halpha": 656.2819,
    "NII6583": 658.345,
    "SII6716": 671.6440,
    "SII6731": 673.0816,
}

# [NII]6583/[NII]6548 is fixed by atomic physics (2.94-3.05 in flux); both lines share
# velocity and broadening, so the amplitude ratio equals the flux ratio to 0.5%.
NII_AMPLITUDE_RATIO = 2.95

HALPHA_CM1 = 1e7 / REST_NM["Halpha"]
"""Hα rest wavenumber, cm⁻¹ (where resolving powers are quoted)."""

SN3_BAND_NM = (647.7, 685.0)
"""SN3 filter bandpass (ORB filter_SN3.hdf5 bandpass_min/max_nm)."""
