"""Exports of the kinematic maps: ORCS priors as FITS with WCS (`priors`), written all or
nothing (`staging`)."""
