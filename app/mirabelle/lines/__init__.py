"""The SN3 line model: line list, kinematics, instrument line shape, spectrum models."""

from mirabelle.lines.constants import C_KMS, HALPHA_CM1, LINE_LABELS, LINE_NAMES, NII_AMPLITUDE_RATIO, REST_NM, SN3_BAND_NM
from mirabelle.lines.instrument import (
    ORB_SINC_FWHM,
    axis_cm1,
    axis_step_cm1,
    resolving_power,
    sinc_fwhm_cm1,
)
from mirabelle.lines.kinematics import (
    broadening_from_sigma,
    compose_velocities,
    composed_velocity_error,
    doppler_factor,
    line_position_cm1,
    sigma_cm1,
    velocity_from_position,
)
from mirabelle.lines.profiles import gaussian, sinc, sincgauss, sincgauss_flux
from mirabelle.lines.model import LineFit, line_fluxes, model_spectrum, solve_amplitudes
from mirabelle.lines.fit import refine_fit

__all__ = [
    "C_KMS", "HALPHA_CM1", "LINE_LABELS", "LINE_NAMES", "NII_AMPLITUDE_RATIO", "REST_NM", "SN3_BAND_NM",
    "ORB_SINC_FWHM", "axis_cm1", "axis_step_cm1", "resolving_power", "sinc_fwhm_cm1",
    "broadening_from_sigma", "compose_velocities", "composed_velocity_error", "doppler_factor",
    "line_position_cm1", "sigma_cm1", "velocity_from_position",
    "gaussian", "sinc", "sincgauss", "sincgauss_flux",
    "LineFit", "line_fluxes", "model_spectrum", "solve_amplitudes", "refine_fit",
]
