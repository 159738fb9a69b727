"""Give the memory freed in worker threads back to the operating system (the window lives long).

glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core), returns
nothing from the top of a thread's arena until up to 64 MB lie free there (the trim threshold
rises with the first large frees), and nothing from inside any arena. The window's run, tile and
click threads come and go, so the numpy tiles and HDF5 chunk caches they freed stayed resident
in eight or nine arenas: RSS grew +26 % over seven open-run-click-close loops of
``tests/bench/bench_soak.py`` (540 → 680 MB, malloc holding 415 MB of which 148 MB in use).
With one arena for the process and ``malloc_trim`` after each run and each close, the free
pages go back: malloc keeps 15–50 MB free after a loop instead of 140–300 MB. A low fixed mmap
threshold also returns them but costs the whole-cube run 1.7 × its CPU time in page faults;
one shared arena costs 2 % more CPU time. Elsewhere than glibc (macOS, Windows, musl) nothing
happens. Also here: keeping the cyclic garbage collector's full passes short
(:func:`freeze_long_lived_objects`), which would otherwise stall the GUI thread.
"""

from __future__ import annotations

import ctypes
import gc

MALLOC_ARENAS = 1
"""glibc malloc arenas of the process: the main one alone, which ``malloc_trim`` empties whole."""
_M_ARENA_MAX = -8  # mallopt parameter number, glibc <malloc.h>


def _glibc():
    try:
        libc = ctypes.CDLL(None)  # the C library the process already uses
    except (OSError, TypeError):  # Windows has no such handle
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_libc = _glibc()


def share_malloc_arenas() -> bool:
    """Limit glibc to ``MALLOC_ARENAS`` arenas; True if applied. Call it before threads start:
    glibc fixes the limit when a second thread first allocates."""
    return _libc is not None and _libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) == 1


def release_free_memory() -> bool:
    """Return the free pages of glibc's arenas to the system; True if any were."""
    return _libc is not None and _libc.malloc_trim(0) == 1


_long_lived_frozen = False


def freeze_long_lived_objects() -> None:
    """Put the objects alive now (modules, the window, the libraries' tables) out of the cyclic
    garbage collector's reach, so that a full collection scans only what came after: during a run
    with clicks, full collections took 120–127 ms of the GUI thread (a click waited behind them),
    18–30 ms with the ~200,000 objects alive after the first run frozen. Once per process, so
    what later cubes leave behind is still collected."""
    global _long_lived_frozen
    if not _long_lived_frozen:
        _long_lived_frozen = True
        gc.collect()
        gc.freeze()
