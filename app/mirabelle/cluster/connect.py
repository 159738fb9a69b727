"""Reach a Dask scheduler (or start a local cluster) and check what the workers can read."""

from __future__ import annotations

import os
from dataclasses import dataclass

from mirabelle.cluster import require_distributed
from mirabelle.errors import MirabelleError

CONNECT_TIMEOUT_S = 30.0
"""Seconds to reach a scheduler, and to wait for its first worker (batch jobs may be queued)."""


@dataclass
class Connection:
    """A Dask client and the local cluster it owns (None for a remote scheduler)."""

    client: object
    cluster: object | None
    description: str

    @property
    def dashboard_link(self) -> str:
        """The scheduler's dashboard URL ('' when it has none)."""
        try:
            return str(self.client.dashboard_link or "")
        except (KeyError, AttributeError):
            return ""

    def threads(self) -> int:
        """Worker threads connected now (tiles computed at once)."""
        return int(sum(self.client.nthreads().values()))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def parse_scheduler(text: str) -> tuple[str, int | None]:
    """``('local', N or None)`` for ``local`` / ``local:N``, else ``('address', None)``.

    Raises
    ------
    MirabelleError
        ``local:N`` with N not a positive integer.
    """
    text = text.strip()
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2]
        if not count:
            return "local", None
        if not count.isdigit() or int(count) < 1:
            raise MirabelleError(f"--scheduler expected local or local:N with N a positive number of workers, "
                                 f"found '{text}'.")
        return "local", int(count)
    return "address", None


def connect(scheduler: str) -> Connection:
    """A client for ``scheduler``: ``local[:N]`` starts N single-threaded worker processes
    (default: one per core), anything else is a scheduler address (``tcp://host:8786``).

    Raises
    ------
    MirabelleError
        dask.distributed missing, no scheduler at the address, or no worker joined in time.
    """
    distributed = require_distributed()
    kind, count = parse_scheduler(scheduler)
    if kind == "local":
        workers = count or os.cpu_count() or 1
        # Processes, not threads: the line solve holds the GIL part of the time.
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        return Connection(distributed.Client(cluster), cluster, f"a local cluster of {workers} worker processes")
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise MirabelleError(f"--scheduler expected a Dask scheduler at '{scheduler}', found none "
                             f"({type(exc).__name__}: {exc}).") from exc
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError as exc:
        client.close()
        raise MirabelleError(f"--scheduler {scheduler}: expected at least one worker, found none after "
                             f"{CONNECT_TIMEOUT_S:.0f} s (are the worker jobs running?).") from exc
    return Connection(client, None, f"the scheduler at {scheduler}")


def unreadable_cubes(connection: Connection, stamps: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Ask every worker to open each cube: path → one sentence for those some worker cannot read.

    Raises
    ------
    MirabelleError
        The workers cannot run mirabelle's code (not installed in their environment).
    """
    from mirabelle.cluster.tasks import probe_cubes

    try:
        answers = connection.client.run(probe_cubes, stamps)
    except (ImportError, AttributeError) as exc:
        raise MirabelleError(f"expected mirabelle installed on the Dask workers (the client's environment), "
                             f"found it missing ({exc}).") from exc
    problems: dict[str, str] = {}
    for worker, found in sorted(answers.items()):
        for path, why in found.items():
            problems.setdefault(path, f"{path}: expected the cube to be readable from every Dask worker "
                                      f"(a shared file system), found {why} on worker {worker}; put the cube "
                                      f"on a folder the workers mount, or run without --scheduler.")
    return problems
