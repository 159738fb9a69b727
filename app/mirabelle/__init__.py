"""Mirabelle: SITELLE cubes, CNN kinematic priors and ORCS exports."""

__version__ = "0.1.0"
