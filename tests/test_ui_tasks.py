"""The generic worker (mirabelle.ui.tasks): a finished worker lets go of what it ran."""

import gc
import weakref

from mirabelle.ui import tasks


class Cube:
    """Stands for the session and cube a click worker's call holds."""


def test_a_finished_worker_no_longer_holds_its_call(qtbot):
    cube = Cube()
    alive = weakref.ref(cube)
    answers = []
    # kept, as superqt's leftover warnings.showwarning lambda keeps a finished worker
    worker = tasks.run_function(lambda held: held, cube, on_return=answers.append)
    qtbot.waitUntil(lambda: tasks.running_workers() == 0, timeout=5000)
    assert answers == [cube]
    del cube, answers
    gc.collect()
    assert alive() is None and worker is not None


def test_a_finished_generator_worker_no_longer_holds_its_generator(qtbot):
    cube = Cube()
    alive = weakref.ref(cube)

    def tiles(held):
        yield held

    yielded = []
    worker = tasks.run_generator(tiles(cube), on_yield=yielded.append)
    qtbot.waitUntil(lambda: tasks.running_workers() == 0, timeout=5000)
    assert yielded == [cube]
    del cube, yielded
    gc.collect()
    assert alive() is None and worker is not None
