"""Synthetic SITELLE SN3 cubes in ORB's HDF5 layout, with their truth, for demos, tests and benchmarks."""

from mirabelle.synthetic.scene import Truth
from mirabelle.synthetic.writer import read_truth, write_synthetic_cube

__all__ = ["Truth", "read_truth", "write_synthetic_cube"]
