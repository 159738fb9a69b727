"""Whole-cube inference on a Dask cluster (the optional ``mirabelle[cluster]`` extra).

Data path: the client (:mod:`.predict`) opens each cube only to plan it (model, region,
tiles, resume from the cache), :mod:`.tile_queue` keeps a bounded window of tile tasks of all
cubes in flight on the cluster, each task (:mod:`.tasks`) opens the cube file on its
worker, reads its tile and returns the tile's per-spectrum results, and the client writes
them into the maps as they finish. :mod:`.connect` reaches the scheduler (or starts a
local one) and checks that the workers can read the cubes. Dask is imported only here,
on use, so the core never needs it.
"""

from __future__ import annotations

from mirabelle.errors import MirabelleError

INSTALL_HINT = "install the cluster extra: pip install 'mirabelle[cluster]'"


def require_distributed():
    """The ``distributed`` module, or a MirabelleError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise MirabelleError(f"--scheduler expected dask.distributed to be installed, found none ({exc}); "
                             f"{INSTALL_HINT}.") from exc
    return distributed
