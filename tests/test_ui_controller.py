"""The window's controller with the session faked: throttled redraws, newest click wins, cancel, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mirabelle.errors import ModelError
from mirabelle.inference.maps import KinematicMaps, TileResult
from mirabelle.session import PixelResult
from mirabelle.ui import tasks
from mirabelle.ui.controller import REDRAW_INTERVAL_MS, SessionController

NX, NY, TILE = 8, 6, 2


class FakeCube:
    nx, ny, has_deep_frame, path = NX, NY, False, "fake.hdf5"

    def deep_image(self, progress=None):
        for fraction in (0.5, 1.0):
            progress(fraction)
        return np.ones((NX, NY), np.float32)

    def close(self):
        pass


class FakeSession:
    """The surface of :class:`mirabelle.session.Session` the controller uses, recorded."""

    instances: list[FakeSession] = []
    tile_delay_s = 0.0
    model_problem: Exception | None = None

    def __init__(self, path, model_name=None, threads=None, vsys_kms=0.0, notify=None):
        self.cube, self.maps, self.closed, self.run_closed_in = FakeCube(), None, False, None
        self.pixel_calls: list[tuple[int, int]] = []
        self.notify = notify
        FakeSession.instances.append(self)

    @property
    def model(self):
        if FakeSession.model_problem is not None:
            raise FakeSession.model_problem
        return "fake model"

    def run(self, use_cache=True, cancel=None, processes=False):
        self.maps = KinematicMaps.empty(NX, NY)
        self.notify("a sentence from the session")
        try:
            for y0 in range(0, NY, TILE):
                for x0 in range(0, NX, TILE):
                    if cancel is not None and cancel.is_set():
                        return
                    time.sleep(FakeSession.tile_delay_s)
                    self.maps.done[x0:x0 + TILE, y0:y0 + TILE] = True
                    fraction = float(self.maps.done.mean())
                    yield TileResult(x0, y0, TILE, TILE, self.maps, fraction, 0.0, 1.0, 0, 0.0)
        finally:
            self.run_closed_in = threading.current_thread().name

    def pixel(self, x, y, stale=lambda: False, with_model=True):
        self.pixel_calls.append((x, y))
        time.sleep(0.05)  # a click takes a while: requests pile up meanwhile
        if stale():
            return None
        return PixelResult(x=x, y=y, axis_cm1=np.arange(3.0), values=np.zeros(3))

    def close(self):
        self.closed = True


@pytest.fixture
def controller(qtbot):
    FakeSession.instances.clear()
    FakeSession.tile_delay_s, FakeSession.model_problem = 0.0, None
    controller = SessionController(session_factory=FakeSession)
    yield controller
    controller.close()
    assert tasks.wait_for_workers(5000)
    qtbot.waitUntil(lambda: tasks.running_workers() == 0, timeout=5000)


def test_a_run_reports_every_tile_and_throttles_the_redraws_and_progress(qtbot, controller):
    FakeSession.tile_delay_s = 0.03  # 12 tiles in ~0.4 s: about two redraw periods
    controller.open("fake.hdf5")
    progress, redraws, messages = [], [], []
    controller.run_progress.connect(lambda done, total, eta: progress.append(done))
    controller.maps_updated.connect(lambda windows: redraws.append((time.monotonic(), windows)))
    controller.message.connect(messages.append)
    with qtbot.waitSignal(controller.run_finished, timeout=10000) as finished:
        assert controller.start_run()
        assert not controller.start_run()  # one run at a time
    assert finished.args == [True] and not controller.running
    assert progress[-1] == 48 and progress == sorted(set(progress))  # told with the redraws, up to the end
    assert len(progress) <= len(redraws) and len(progress) < 12  # not one per tile
    times = [t for t, _ in redraws]
    gaps = np.diff(times[:-1])  # the last one is the flush at the end of the run
    assert len(redraws) >= 1 and (gaps >= 0.8 * REDRAW_INTERVAL_MS / 1000).all()  # throttled
    assert redraws[0][1] is None  # new maps: drawn whole first, then only the tiles finished since
    listed = [(w[0].start, w[1].start) for _, batch in redraws[1:] for w in batch]
    assert len(listed) == len(set(listed))
    assert messages == ["a sentence from the session"]
    assert FakeSession.instances[-1].run_closed_in != threading.current_thread().name  # ended in its worker


def test_the_newest_click_wins(qtbot, controller):
    controller.open("fake.hdf5")
    shown = []
    controller.pixel_ready.connect(shown.append)
    for x in range(6):
        controller.request_pixel(x, 1)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].x == 5, timeout=5000)
    qtbot.wait(200)
    # the one in flight (x 0) may be answered first, never one of those that waited (1..4)
    assert [result.x for result in shown] in ([5], [0, 5])
    calls = FakeSession.instances[-1].pixel_calls
    assert calls[-1] == (5, 1) and len(calls) <= 2  # one in flight, then only the newest


def test_cancel_stops_after_the_current_tile_and_the_generator_closes(qtbot, controller):
    FakeSession.tile_delay_s = 0.05
    controller.open("fake.hdf5")
    controller.run_progress.connect(lambda *args: controller.cancel_run())
    with qtbot.waitSignal(controller.run_finished, timeout=10000) as finished:
        controller.start_run()
    session = FakeSession.instances[-1]
    assert finished.args == [False]
    assert 0 < session.maps.done.sum() < NX * NY
    assert session.run_closed_in is not None


def test_a_model_problem_is_a_run_failure_and_clicks_still_show_the_spectrum(qtbot, controller):
    FakeSession.model_problem = ModelError("expected an SN3 cube, found SN2.")
    controller.open("fake.hdf5")
    failures, shown = [], []
    controller.run_failed.connect(failures.append)
    controller.pixel_ready.connect(shown.append)
    with qtbot.waitSignal(controller.run_finished, timeout=10000) as finished:
        controller.start_run()
    assert finished.args == [False] and isinstance(failures[0], ModelError)
    with qtbot.waitSignal(controller.pixel_ready, timeout=5000):
        controller.request_pixel(2, 3)
    assert shown[0].notes == ["no kinematics: expected an SN3 cube, found SN2."]


def test_reopening_closes_the_old_session_and_drops_its_late_answers(qtbot, controller):
    controller.open("fake.hdf5")
    first = FakeSession.instances[-1]
    shown = []
    controller.pixel_ready.connect(shown.append)
    controller.request_pixel(1, 1)
    controller.open("other.hdf5")  # waits for the click being read, then closes the first
    assert first.closed and controller.session is FakeSession.instances[-1]
    qtbot.wait(300)
    assert shown == []


def test_the_deep_image_comes_with_its_progress(qtbot, controller):
    controller.open("fake.hdf5")
    fractions = []
    controller.deep_progress.connect(fractions.append)
    with qtbot.waitSignal(controller.deep_image, timeout=5000) as image:
        controller.load_deep_image()
    assert image.args[0].shape == (NX, NY)
    qtbot.waitUntil(lambda: fractions == [0.5, 1.0], timeout=2000)


def test_freed_memory_goes_back_to_the_system_after_a_run_and_after_closing(qtbot, controller, monkeypatch):
    released = []  # what was finished when memory was released
    monkeypatch.setattr("mirabelle.ui.controller.release_free_memory",
                        lambda: released.append((session.run_closed_in is not None, session.closed)))
    controller.open("fake.hdf5")
    session = FakeSession.instances[-1]
    with qtbot.waitSignal(controller.run_finished, timeout=10000):
        controller.start_run()
    assert released == [(True, False)]  # the run's generator (its tiles) was closed first
    controller.close()
    assert released[-1] == (True, True)
