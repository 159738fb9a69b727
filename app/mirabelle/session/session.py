"""The Qt-free session behind the CLI and the GUI: one open cube, its model, its maps.

Data path: ``Session(path)`` opens the cube; :attr:`Session.model` is the one model choice
(:func:`~mirabelle.session.models.choose_model`); :meth:`Session.run` is the cached,
resumable whole-cube run (the runner's tile results, unchanged, one per yield, the maps
checkpointed to the cache); :meth:`Session.pixel` is a click, computed like the maps;
:meth:`Session.snapshot` and :meth:`Session.export_priors` read a consistent copy of the
maps even while a run writes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np

from mirabelle.cube.heliocentric import barycentric_correction
from mirabelle.inference import cache, runner
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.inference.model import KinematicsModel
from mirabelle.session.models import choose_model
from mirabelle.session.pixel import PixelResult, compute_pixel

CHECKPOINT_S = 60.0
"""A run stores its partial maps in the cache at most this often (s), so a killed run resumes."""
_log = logging.getLogger(__name__)


class Session:
    """One open cube and what was computed for it.

    Parameters
    ----------
    cube : path or an open :class:`mirabelle.cube.Cube`
        A path is opened here (CubeError with a sentence for a bad file) and closed by
        :meth:`close`; an open cube is borrowed.
    model_name : str, optional
        Shipped model name or .onnx path; None picks by the cube's resolving power.
    threads : int, optional
        onnxruntime threads of the model (default all cores).
    vsys_kms : float or None
        Systemic velocity (km/s) the network sees the spectra from (maps stay observed-frame);
        None: the cube's remembered or detected one, found on first use
        (`mirabelle.inference.vsys_memory`; :attr:`vsys_choice` says which).
    model : KinematicsModel, optional
        A model already chosen for this cube (else :attr:`model` chooses one on first use).
    notify : callable, optional
        Receives one-sentence messages (a stale cache recomputed, ...); default: logged.

    Attributes
    ----------
    cube : the open cube.
    maps : the :class:`KinematicMaps` of the last run (being filled while it runs), or None.
    reused : True when the last run found complete maps in the cache (nothing computed).
    """

    def __init__(self, cube, model_name: str | None = None, threads: int | None = None,
                 vsys_kms: float | None = 0.0,
                 model: KinematicsModel | None = None, notify: Callable[[str], None] | None = None) -> None:
        if isinstance(cube, (str, Path)):
            from mirabelle.cube import open_cube

            cube, self._owns_cube = open_cube(cube), True
        else:
            self._owns_cube = False
        self.cube = cube
        self.model_name = model_name
        self.threads = threads
        self._vsys_kms = None if vsys_kms is None else float(vsys_kms)
        self.vsys_choice = None
        self.notify = notify or _log.warning
        self.maps: KinematicMaps | None = None
        self.reused = False
        self._model = model
        self._solver = None
        self._lock = threading.RLock()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the cube if the session opened it."""
        if self._owns_cube:
            self.cube.close()

    @property
    def vsys_kms(self) -> float:
        """The systemic velocity of the run (km/s; found on first use when given as None)."""
        if self._vsys_kms is None:
            from mirabelle.inference.vsys_memory import choose_systemic_velocity

            self.vsys_choice = choose_systemic_velocity(self.cube)
            self._vsys_kms = self.vsys_choice.vsys_kms
        return self._vsys_kms

    @vsys_kms.setter
    def vsys_kms(self, value: float) -> None:
        self._vsys_kms = float(value)
        self._solver = None  # the solver's velocity range follows the systemic velocity

    # model ----------------------------------------------------------------------------
    @property
    def model(self) -> KinematicsModel:
        """The model of this cube (loaded on first use; ModelError when none fits)."""
        if self._model is None:
            self._model = choose_model(self.cube, self.model_name, self.threads)
        return self._model

    def _line_solver(self):
        if self._solver is None:
            self._solver = runner.make_solver(self.cube, self.model, self.vsys_kms)
        return self._solver

    # the whole-cube run -----------------------------------------------------------------
    def run(self, *, recompute: bool = False, use_cache: bool = True, region_mask: np.ndarray | None = None,
            binning: int = 1, cancel=None, scheduler: str | None = None, **runner_options) -> Iterator[TileResult]:
        """The whole-cube run, one finished tile per yield (``runner.run_cube``'s results).

        Maps cached for this cube, model and settings are reused: complete ones yield
        nothing (:attr:`reused` is then True), partial ones resume where they stopped.
        ``recompute`` ignores the cache (and replaces it); ``use_cache=False`` neither reads
        nor writes it. Whatever was reached is cached when the generator ends, stops or is
        closed, and every ``CHECKPOINT_S`` seconds on the way. ``cancel`` and
        ``runner_options`` (tile, batch, workers, ...) go to ``run_cube``. ``scheduler`` (a Dask
        scheduler address or ``local[:N]``, the ``[cluster]`` extra) computes the tiles on a
        cluster (:func:`mirabelle.cluster.run.run_cube_on_cluster`), in the order they finish.
        """
        model = self.model
        cached = None
        if use_cache and not recompute:
            cached = cache.load_maps(self.cube.path, model.sha256, binning, region_mask, self.vsys_kms,
                                      notify=self.notify)
        with self._lock:
            self.maps = cached if cached is not None else runner.new_maps(self.cube, model, binning)
            correction, _ = barycentric_correction(self.cube)
            self.maps.barycentric_kms = None if correction is None else correction.velocity_kms
            self.reused = cached is not None and cached.complete
        if self.reused:
            return
        maps = self.maps
        last_saved = time.monotonic()
        try:
            for result in _run_function(scheduler)(self.cube, model, cancel=cancel, region_mask=region_mask,
                                                   binning=binning, maps=maps, lock=self._lock,
                                                   vsys_kms=self.vsys_kms, **runner_options):
                yield result
                if use_cache and time.monotonic() - last_saved > CHECKPOINT_S:
                    self._store(maps, binning, region_mask)
                    last_saved = time.monotonic()
        finally:
            if use_cache and maps.done.any():
                self._store(maps, binning, region_mask)

    def _store(self, maps: KinematicMaps, binning: int, region_mask) -> None:
        try:
            cache.save_maps(self.snapshot(maps), self.cube.path, binning, region_mask, self.vsys_kms)
        except OSError as exc:  # the cache is an optimisation: a read-only folder costs a rerun
            self.notify(f"could not cache the maps of {self.cube.path} ({exc}); a later run recomputes them.")

    # reading the maps -------------------------------------------------------------------
    def snapshot(self, maps: KinematicMaps | None = None) -> KinematicMaps | None:
        """A copy of the maps (default: the current ones) holding whole tiles only, taken under
        the lock the run writes with, so it stays consistent while the run goes on."""
        with self._lock:
            maps = self.maps if maps is None else maps
            if maps is None:
                return None
            return KinematicMaps(**{f.name: (value.copy() if isinstance(value, np.ndarray) else value)
                                    for f in fields(maps) for value in [getattr(maps, f.name)]})

    def pixel(self, x: int, y: int, stale: Callable[[], bool] = lambda: False,
              with_model: bool = True) -> PixelResult | None:
        """Spectrum, kinematics, solver model, fluxes, masks and saliency of pixel (x, y)
        (see :mod:`mirabelle.session.pixel`); None when ``stale()`` turns true on the way.

        ``with_model=False`` returns the spectrum alone (no model could be loaded).
        """
        model = self.model if with_model else None
        solver = self._line_solver() if with_model else None
        return compute_pixel(self.cube, x, y, model, solver, self.maps, self._lock, stale,
                             runner.RunOptions(vsys_kms=self.vsys_kms))

    def export_priors(self, out_dir, flags=None, overwrite: bool = False, extras: bool = True,
                      **write_options) -> dict:
        """Write the ORCS priors of a snapshot of the maps into ``out_dir`` (``export.write_priors``,
        with the session's systemic velocity; ``write_options`` such as ``vsys_source`` go to it)."""
        from mirabelle.errors import ExportError
        from mirabelle.export.priors import write_priors

        maps = self.snapshot()
        if maps is None:
            raise ExportError(f"{self.cube.path}: expected kinematic maps to export, found none (run first).")
        card = self._model.card if self._model is not None else None
        return write_priors(maps, self.cube, out_dir, flags=flags, model_card=card, overwrite=overwrite,
                            extras=extras, vsys_kms=self.vsys_kms, **write_options)


def _run_function(scheduler: str | None) -> Callable:
    """``runner.run_cube``, or its cluster twin bound to ``scheduler`` (Dask imported only then)."""
    if scheduler is None:
        return runner.run_cube
    from functools import partial

    from mirabelle.cluster.run import run_cube_on_cluster

    return partial(run_cube_on_cluster, scheduler=scheduler)
