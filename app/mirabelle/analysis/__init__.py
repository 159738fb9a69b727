"""Cube analysis without Qt: spectral frames, region spectra, moment maps, PV slices, line ratios.

Each module computes plain numpy results from a `mirabelle.cube.Cube`; long work (moments)
is a generator of finished tiles. The CLI commands `extract`, `moments` and `pv` and the
desktop viewer call the same functions.
"""
