"""Freed memory goes back to the operating system (mirabelle.memory), checked on a process's RSS.

Each check runs in a fresh interpreter: what glibc keeps depends on what the process freed before.
"""

import os
import subprocess
import sys

MIB = 2**20

PRELUDE = """
import threading
import numpy as np
from mirabelle import memory

def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
"""


def rss_figures(script: str) -> list[int]:
    """The RSS figures (bytes) ``script`` prints, run after PRELUDE in a new Python."""
    # with glibc's defaults: a Dask nanny of an earlier test sets MALLOC_TRIM_THRESHOLD_ here
    env = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", PRELUDE + script], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr
    return [int(word) for word in done.stdout.split()]


def test_memory_freed_in_a_finished_thread_is_released():
    # A freed 24 MiB array raises glibc's own trim threshold to 48 MiB, as the window's first
    # tiles do: of the 25 MiB a worker thread then frees, malloc_trim would return about 15
    # (the top of the thread's arena stays), were the arenas not shared.
    freed, released = rss_figures("""
assert memory.share_malloc_arenas()
large = np.ones(24 * 2**20, np.uint8)
del large

def tiles():
    arrays = [np.ones(64 * 1024, np.uint8) for _ in range(400)]
    del arrays

worker = threading.Thread(target=tiles)
worker.start()
worker.join()
freed = rss_bytes()
memory.release_free_memory()
print(freed, rss_bytes())
""")
    assert freed - released > 20 * MIB


def test_free_pages_inside_the_heap_are_released():
    # The last of 400 arrays of 64 KiB stays, so the freed ones lie below it, where glibc's own
    # trimming (at the top of the heap only) cannot reach.
    freed, released = rss_figures("""
arrays = [np.ones(64 * 1024, np.uint8) for _ in range(400)]
last = arrays.pop()
del arrays
freed = rss_bytes()
assert memory.release_free_memory()
print(freed, rss_bytes())
""")
    assert freed - released > 16 * MIB


def test_the_long_lived_objects_are_frozen_once_per_process():
    import gc

    from mirabelle.memory import freeze_long_lived_objects

    freeze_long_lived_objects()
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # the modules and everything else alive
    later = [[i] for i in range(1000)]  # made after the freeze
    freeze_long_lived_objects()
    assert gc.get_freeze_count() == frozen  # a second call freezes nothing: later objects stay collectable
    del later
