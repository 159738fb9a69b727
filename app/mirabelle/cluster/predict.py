"""`mirabelle predict --scheduler`: plan every cube, run all their tiles on the cluster, export.

The client opens each cube only to plan it (model, output check, region, partial maps
from the cache to resume) and again to write its priors; the workers read the data. Maps
are checkpointed to the cache (atomically) every ``CHECKPOINT_S`` and whenever the run
stops before a cube is finished (Ctrl-C, a failed cube), so the same command resumes
from the tiles already computed. Exports are staged, so no half-written file is left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mirabelle.cluster.tile_queue import CubePlan, run_plans
from mirabelle.errors import MirabelleError
from mirabelle.inference import maps as quality
from mirabelle.inference.maps import KinematicMaps

CHECKPOINT_S = 60.0
"""Seconds between cache checkpoints of the maps of unfinished cubes."""


def plan_cube(path, model: Callable, binning: int = 1, region_file: str | None = None,
              tile: tuple[int, int] | None = None, check_output: Callable | None = None,
              flags_for: Callable | None = None, vsys_kms: float = 0.0) -> CubePlan:
    """Open ``path`` and plan it: the model, the tiles, and the maps (resumed from the cache).

    Parameters
    ----------
    path : the cube file; its absolute path is what the workers open.
    model : callable(cube) → KinematicsModel (the model choice, cached by the caller).
    binning : N of the N × N averaging.
    region_file : DS9 region file; pixels outside are skipped.
    tile : (tx, ty) pixels, default the runner's.
    check_output : callable(cube, flags), raising when the outputs cannot be written.
    flags_for : callable(path, cube) → (flag mask or None, its source): the flags to export.
    vsys_kms : systemic velocity (km/s), as ``run_cube``'s.
    """
    from mirabelle.cube import open_cube
    from mirabelle.inference.cache import load_maps
    from mirabelle.inference.region import region_mask_from_file

    source = Path(path)
    path = source.resolve()
    with open_cube(source) as cube:
        chosen = model(cube)
        flags, flags_source = flags_for(source, cube) if flags_for is not None else (None, None)
        if check_output is not None:
            check_output(cube, flags)
        region = region_mask_from_file(region_file, cube) if region_file else None
        maps = load_maps(path, chosen.sha256, binning, region)
        if maps is None or maps.shape != (cube.nx, cube.ny):
            maps = KinematicMaps.empty(cube.nx, cube.ny, binning=binning, model_name=chosen.name,
                                       model_version=chosen.version, model_sha256=chosen.sha256,
                                       cube_path=str(path))
        if region is not None:
            outside = ~region & ~maps.done
            maps.quality[outside] |= quality.SKIPPED
            maps.done[outside] = True
        if region is not None and not region.any():
            raise MirabelleError(f"{path}: expected pixels to compute, found none.")
        return CubePlan(str(path), chosen, maps, cube.tile_slices(tile), binning, region, float(vsys_kms), flags,
                        flags_source)


def save_checkpoint(plan: CubePlan) -> None:
    """Store the plan's partial maps in the cache (errors ignored: the cache is an optimisation)."""
    from mirabelle.inference.cache import save_maps

    try:
        save_maps(plan.maps, plan.path, plan.binning, plan.region)
    except OSError:
        pass


def drop_checkpoint(plan: CubePlan) -> None:
    """Forget a finished cube's checkpoint (its priors are on disk)."""
    from mirabelle.inference.cache import cache_path

    try:
        cache_path(plan.path, plan.maps.model_sha256, plan.binning, plan.region).unlink(
            missing_ok=True)
    except OSError:
        pass


def predict_on_cluster(args, make_bar: Callable, flags_for: Callable | None = None,
                       stream=None) -> Iterator[tuple[str, dict | MirabelleError]]:
    """Run ``mirabelle predict`` with ``args.scheduler``: yield (cube, summary or error) per cube.

    ``make_bar(label)`` gives the progress bar of a cube (``update(result)``, ``finish(text)``);
    ``flags_for(path, cube, args)`` the flags to export, as the local run's (``predict._flags_for``).

    Raises
    ------
    MirabelleError
        The cluster extra is missing or the scheduler cannot be reached (before any cube).
    """
    from mirabelle.cluster.connect import connect, unreadable_cubes
    from mirabelle.export.priors import check_free
    from mirabelle.inference.model import load_model, select_model

    stream = stream or sys.stderr
    models: dict = {}

    def choose(cube):
        if not args.model:
            return select_model(cube, threads=1)
        if args.model not in models:
            models[args.model] = load_model(args.model, threads=1)
        if not cube.is_sn3:
            raise MirabelleError(f"{cube.path}: expected an SN3 cube for the kinematics models, "
                                 f"found filter '{cube.filter_name}'.")
        return models[args.model]

    def flags(path, cube):
        return flags_for(path, cube, args) if flags_for is not None else (None, None)

    def check(cube, flags):
        if not args.overwrite:
            check_free(cube, output_dir(cube.path, args.output), flags=flags, extras=not args.no_extras,
                       remedy="--overwrite replaces them")

    connection = connect(args.scheduler)
    try:
        stream.write(f"mirabelle predict: running on {connection.description}, "
                     f"{connection.threads()} worker threads; dashboard: {connection.dashboard_link or 'none'}\n")
        planned = []
        for path in args.cubes:
            try:
                planned.append((str(path), plan_cube(path, choose, args.binning, args.region, check_output=check,
                                                     flags_for=flags)))
            except MirabelleError as exc:
                yield str(path), exc
        problems = unreadable_cubes(connection, {plan.path: plan.stamp for _, plan in planned})
        plans, sources = [], {}
        for path, plan in planned:
            if plan.path in problems:
                yield path, MirabelleError(problems[plan.path])
                continue
            if plan.maps.done.any() and not plan.maps.complete:
                stream.write(f"{Path(path).name}: resuming, {plan.maps.fraction_done:.0%} already computed\n")
            plans.append(plan)
            sources[id(plan)] = path
        yield from _drive(connection.client, plans, sources, args, make_bar, stream)
    finally:
        connection.close()


def _drive(client, plans, sources, args, make_bar, stream) -> Iterator[tuple[str, dict | MirabelleError]]:
    bars = {id(plan): make_bar(Path(plan.path).name) for plan in plans}
    last = {id(plan): None for plan in plans}
    checkpoint_at = time.monotonic() + CHECKPOINT_S
    open_plans = set(bars)
    try:
        for event in run_plans(client, plans):
            plan, key = event.plan, id(event.plan)
            if event.kind == "tile":
                last[key] = event.result
                bars[key].update(event.result)
            elif event.kind == "failed":
                open_plans.discard(key)
                save_checkpoint(plan)
                yield sources[key], event.error
            else:
                open_plans.discard(key)
                try:
                    summary = _export(plan, last[key], args, bars[key])
                except MirabelleError as exc:
                    save_checkpoint(plan)
                    yield sources[key], exc
                    continue
                drop_checkpoint(plan)
                yield sources[key], summary
            if time.monotonic() > checkpoint_at:
                for waiting in plans:
                    if id(waiting) in open_plans and waiting.processed:
                        save_checkpoint(waiting)
                checkpoint_at = time.monotonic() + CHECKPOINT_S
    finally:
        for plan in plans:
            if id(plan) in open_plans and plan.processed:
                save_checkpoint(plan)
                stream.write(f"\n{Path(plan.path).name}: stopped at {plan.maps.fraction_done:.0%}; the computed "
                             f"tiles are kept, run the same command again to resume.\n")


def _export(plan: CubePlan, last, args, bar) -> dict:
    from mirabelle.cube import open_cube
    from mirabelle.export.priors import write_priors

    out_dir = output_dir(plan.path, args.output)
    with open_cube(plan.path) as cube:
        summary = write_priors(plan.maps, cube, out_dir, flags=plan.flags, model_card=plan.model.card,
                               overwrite=args.overwrite, extras=not args.no_extras)
    rate = last.spectra_per_s if last is not None else 0.0
    elapsed = last.elapsed_s if last is not None else 0.0
    summary.update(output_dir=str(out_dir), spectra_per_s=round(rate, 1), elapsed_s=round(elapsed, 3))
    flagged = f", {int(plan.flags.sum())} flagged pixels from {plan.flags_source}" if plan.flags is not None else ""
    bar.finish(f"{summary['pixels']['valid']} valid priors{flagged}, {rate:.0f} spectra/s, {elapsed:.1f} s "
               f"-> {out_dir}")
    return summary


def output_dir(cube_path, output_parent) -> Path:
    """``<cube stem>_priors`` beside the cube, or under ``output_parent``."""
    path = Path(cube_path)
    return (Path(output_parent) if output_parent else path.parent) / f"{path.stem}_priors"
