"""The Qt-free session the CLI and the GUI drive: cube → model → cached tiles → maps → clicks, exports.

* :class:`Session` — the open cube, its model, the resumable run, clicks and exports;
* :func:`choose_model` — the one model choice;
* :mod:`mirabelle.session.registry` — every map, declared once;
* :class:`PixelResult` — what a click returns.
"""

from mirabelle.session.models import choose_model
from mirabelle.session.pixel import PixelResult
from mirabelle.session.registry import MAP_NAMES, MAPS, MapSpec, map_array, map_spec, map_value
from mirabelle.session.session import Session

__all__ = ["MAP_NAMES", "MAPS", "MapSpec", "PixelResult", "Session", "choose_model", "map_array", "map_spec",
           "map_value"]
