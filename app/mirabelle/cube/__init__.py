"""Reading SITELLE spectral cubes (ORB HDF5 and 3-D FITS) lazily, a pixel or a tile at a time.

``open_cube(path)`` returns a read-only `Cube`; `Cube.spectrum` gives a `Spectrum`,
`Cube.iter_tiles` yields `Tile` blocks. Orientation: `mirabelle.orientation`.
"""

from mirabelle.cube.base import Cube, Spectrum, Tile
from mirabelle.cube.reader import open_cube

__all__ = ["Cube", "Spectrum", "Tile", "open_cube"]
