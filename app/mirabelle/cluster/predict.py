"""`mirabelle predict --scheduler`: plan every cube, run all their tiles on the cluster, export.

The client opens each cube only to plan it (the session's model choice, output check,
region, maps from the session's cache: complete ones are reused, partial ones resumed)
and again to write its priors; the workers read the data. Maps are stored in the cache
(atomically) every ``CHECKPOINT_S``, when a cube ends and whenever the run stops (Ctrl-C,
a failed cube), so the same command resumes from the tiles already computed, exactly as
the local run does. Exports are staged, so no half-written file is left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

from mirabelle.cluster.tile_queue import CubePlan, run_plans
from mirabelle.errors import MirabelleError
from mirabelle.inference import maps as quality
from mirabelle.session.session import CHECKPOINT_S



def plan_cube(path, model_name: str | None = None, binning: int = 1, region_file: str | None = None, *,
              tile: tuple[int, int] | None = None, vsys_kms: float | None = 0.0, recompute: bool = False,
              check_output: Callable | None = None, flags_for: Callable | None = None,
              notify: Callable[[str], None] | None = None) -> CubePlan:
    """Open ``path`` and plan it: the model, the tiles, and the maps (resumed from the cache).

    Parameters
    ----------
    path : the cube file; its absolute path is what the workers open.
    model_name : shipped model name or .onnx path; None picks by the cube's resolving power
        (:func:`mirabelle.session.choose_model`, the local run's choice).
    binning : N of the N × N averaging.
    region_file : DS9 region file; pixels outside are skipped.
    tile : (tx, ty) pixels, default the runner's.
    vsys_kms : systemic velocity (km/s), as ``run_cube``'s; None: the cube's remembered or
        detected one (`mirabelle.inference.vsys_memory`), as the local run's.
    recompute : ignore maps cached for this cube, model and settings.
    check_output : callable(cube, flags), raising when the outputs cannot be written.
    flags_for : callable(path, cube) → (flag mask or None, its source): the flags to export.
    notify : receives one-sentence messages of the cache (a stale file recomputed).
    """
    from mirabelle.cube import open_cube
    from mirabelle.inference.cache import load_maps
    from mirabelle.inference.region import region_mask_from_file
    from mirabelle.inference.runner import new_maps
    from mirabelle.session import choose_model

    source = Path(path)
    with open_cube(source) as cube:
        model = choose_model(cube, model_name, threads=1)  # the client only ships it
        flags, flags_source = flags_for(source, cube) if flags_for is not None else (None, None)
        if check_output is not None:
            check_output(cube, flags)
        region = region_mask_from_file(region_file, cube) if region_file else None
        if vsys_kms is None:
            from mirabelle.inference.vsys_memory import choose_systemic_velocity

            chosen = choose_systemic_velocity(cube)
            vsys_kms = chosen.vsys_kms
            if notify is not None:
                notify(f"{source.name}: {chosen.describe()}")
        if region is not None and not region.any():
            raise MirabelleError(f"{source}: expected pixels to compute, found none.")
        maps = None if recompute else load_maps(source, model.sha256, binning, region, vsys_kms, notify=notify)
        maps = maps if maps is not None else new_maps(cube, model, binning)
        if region is not None:  # as run_cube marks them
            outside = ~region & ~maps.done
            maps.quality[outside] |= quality.SKIPPED
            maps.done[outside] = True
        return CubePlan(str(source.resolve()), model, maps, cube.tile_slices(tile), binning, region,
                        float(vsys_kms), flags, flags_source)


def save_checkpoint(plan: CubePlan, notify: Callable[[str], None]) -> None:
    """Store the plan's maps (partial or complete) in the cache, as the local run does."""
    from mirabelle.inference.cache import save_maps

    try:
        save_maps(plan.maps, plan.path, plan.binning, plan.region, plan.vsys_kms)
    except OSError as exc:  # the cache is an optimisation: a read-only folder costs a rerun
        notify(f"could not cache the maps of {plan.path} ({exc}); a later run recomputes them.")


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
    from mirabelle.cluster.connect import connect
    from mirabelle.export.priors import check_free
    from mirabelle.export.staging import output_folders

    stream = stream or sys.stderr

    def notify(message: str) -> None:
        stream.write(f"mirabelle predict: {message}\n")

    def flags(path, cube):
        return flags_for(path, cube, args) if flags_for is not None else (None, None)

    folders = dict(zip(map(str, args.cubes), output_folders(args.cubes, args.output)))

    def checker(folder):
        def check(cube, flags):
            if not args.overwrite:
                check_free(cube, folder, flags=flags, extras=not args.no_extras, remedy="--overwrite replaces them")
        return check

    connection = connect(args.scheduler)
    try:
        notify(f"running on {connection.description}, {connection.threads()} worker threads; "
               f"dashboard: {connection.dashboard_link or 'none'}")
        yield from _plan_and_drive(connection, folders, args, make_bar, notify, flags, checker)
    finally:
        connection.close()


def _plan_and_drive(connection, folders, args, make_bar, notify, flags, checker):
    """Plan every cube with its output folder reserved (locked, cleaned and known writable
    before the inference, as the local run does), then run and export them."""
    from mirabelle.cluster.connect import unreadable_cubes
    from mirabelle.export.staging import reserve

    with ExitStack() as reserved:
        planned = []
        for path in map(str, args.cubes):
            try:
                reserved.enter_context(reserve(folders[path]))
                planned.append((path, plan_cube(path, args.model, args.binning, args.region,
                                                recompute=args.recompute, check_output=checker(folders[path]),
                                                flags_for=flags, notify=notify,
                                                vsys_kms=getattr(args, "vsys", None))))
            except MirabelleError as exc:
                yield path, exc
        problems = unreadable_cubes(connection, {plan.path: plan.stamp for _, plan in planned})
        plans, sources = [], {}
        for path, plan in planned:
            if plan.path in problems:
                yield path, MirabelleError(problems[plan.path])
                continue
            if plan.maps.done.any() and not plan.maps.complete:
                notify(f"{Path(path).name}: resuming, {plan.maps.fraction_done:.0%} already computed")
            plans.append(plan)
            sources[id(plan)] = path
        yield from _drive(connection.client, plans, sources, folders, args, make_bar, notify)


def _drive(client, plans, sources, folders, args, make_bar, notify) -> Iterator[tuple[str, dict | MirabelleError]]:
    """Run the plans, export each finished cube, checkpoint the others (also when stopped)."""
    reused = {id(plan) for plan in plans if plan.finished}
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
                if time.monotonic() > checkpoint_at:
                    for waiting in plans:
                        if id(waiting) in open_plans and waiting.processed:
                            save_checkpoint(waiting, notify)
                    checkpoint_at = time.monotonic() + CHECKPOINT_S
                continue
            open_plans.discard(key)
            if key not in reused:
                save_checkpoint(plan, notify)  # complete maps are reused by the next run, partial ones resumed
            if event.kind == "failed":
                yield sources[key], event.error
                continue
            try:
                yield sources[key], _export(plan, folders[sources[key]], last[key], key in reused, args, bars[key])
            except MirabelleError as exc:
                yield sources[key], exc
    finally:
        for plan in plans:
            if id(plan) in open_plans and plan.processed:
                save_checkpoint(plan, notify)
                notify(f"{Path(plan.path).name}: stopped at {plan.maps.fraction_done:.0%}; the computed tiles are "
                       f"kept, run the same command again to resume.")


def _export(plan: CubePlan, out_dir: Path, last, reused: bool, args, bar) -> dict:
    """Write a finished cube's priors (staged: all files or none) and finish its progress line."""
    from mirabelle.cube import open_cube
    from mirabelle.export.priors import write_priors

    with open_cube(plan.path) as cube:
        summary = write_priors(plan.maps, cube, out_dir, flags=plan.flags, model_card=plan.model.card,
                               overwrite=args.overwrite, extras=not args.no_extras, vsys_kms=plan.vsys_kms)
    summary.update(output_dir=str(out_dir), reused_cache=reused)
    if last is not None:
        summary.update(spectra_per_s=round(last.spectra_per_s, 1), elapsed_s=round(last.elapsed_s, 3))
        how = f"{last.spectra_per_s:.0f} spectra/s, {last.elapsed_s:.1f} s on the cluster"
    else:
        how = "maps reused from the cache (--recompute to run again)"
    flagged = f", {int(plan.flags.sum())} flagged pixels from {plan.flags_source}" if plan.flags is not None else ""
    bar.finish(f"{summary['pixels']['valid']} valid priors{flagged}, {how} -> {out_dir}")
    return summary
