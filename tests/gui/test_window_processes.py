"""The window with its real compute worker and processes: faults, restarts, closing.

The processes are real (spawned, killed, stopped, restarted by the real scheduler); the
paths process answers with recorded numbers (``fake_services.serve_recorded_paths``), so
these tests spend no time importing TensorFlow. The problem process is the real one
(numpy's sample, python-flint's reference). The one test that starts TensorFlow, end to
end, is the last.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import FAST
from fake_services import serve_recorded_paths
from fake_workers import RecordedSweeps
from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication, QLabel, QPushButton

from gradviz.core.numerics.results import DTYPES, PATHS
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui.app import open_window
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import WindowModel
from gradviz.worker.child import Child
from gradviz.worker.compute_worker import ComputeWorker
from gradviz.worker.messages import Failure, Progress
from gradviz.worker.services import CURVE_NICENESS

FIRST_RESULTS_MS = 90_000  # the real TensorFlow's cold start, on a busy machine
RESULTS_MS = 30_000
CLOSE_LIMIT_S = 2.0
STUCK_THREAD_MS = 120_000
CHILDREN_GONE_S = 5.0
LARGE_N = 4000  # its sample (an SVD) takes tens of seconds here


@dataclass
class Run:
    """A window over a real ComputeWorker, and its failures and progress since it opened."""

    window: MainWindow
    worker: ComputeWorker
    failures: list[str] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)

    @property
    def model(self) -> WindowModel:
        return self.window.model

    def status(self) -> str:
        bar = self.window.statusBar()
        labels = [label.text() for label in bar.findChildren(QLabel)]
        return " | ".join([*labels, bar.currentMessage()])

    def complete(self, qtbot, timeout: int = RESULTS_MS) -> None:
        qtbot.waitUntil(self.model.is_complete, timeout=timeout)


def children(name: str) -> list[multiprocessing.Process]:
    return [c for c in multiprocessing.active_children() if c.name == f"gradviz {name}"]


def state(pid: int) -> str:
    """The process's state letter from /proc (R, S, T for stopped, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]


@pytest.fixture
def open_run(qtbot) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []
    assert multiprocessing.active_children() == []

    def open_(
        problem: Problem = FAST,
        recorded: bool = True,
        reference: bool = True,
        early: Child | None = None,
    ) -> Run:
        paths = serve_recorded_paths if recorded else None
        worker = (
            ComputeWorker(with_reference=reference, paths_service=paths, paths=early)
            if paths is not None
            else ComputeWorker(with_reference=reference, paths=early)
        )
        window = open_window(WindowModel(problem, DEFAULT_X), None, worker, RecordedSweeps())
        qtbot.addWidget(window)
        run = Run(window, worker)
        worker.failed.connect(lambda failure: run.failures.append(failure.message))
        worker.progress.connect(run.progress.append)
        runs.append(run)
        with qtbot.waitExposed(window):
            window.show()
        return run

    yield open_
    for run in runs:
        close(run)
    assert multiprocessing.active_children() == []


def close(run: Run) -> tuple[float, bool]:
    """Close the window; how long it took and whether the worker thread still ran. Waits
    for a stuck thread (a QThread destroyed while running aborts pytest) and the children."""
    started = time.monotonic()
    run.window.close()
    seconds = time.monotonic() - started
    running = run.worker.isRunning()
    if running:
        run.worker.wait(STUCK_THREAD_MS)
    deadline = time.monotonic() + CHILDREN_GONE_S
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return seconds, running


def test_a_crashed_paths_process_is_reported_and_replaced(qtbot, open_run) -> None:
    run = open_run()
    run.complete(qtbot)
    [killed] = children("paths")
    pid = killed.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(run.failures), timeout=10_000)
    assert "TensorFlow process exited" in run.failures[0] and "restarting" in run.failures[0]
    run.window.controller.nudge(1)
    run.complete(qtbot)
    assert run.model.report.result.x == DEFAULT_X + run.model.grid_step()
    assert [c.pid for c in children("paths")] != [pid]
    assert "Restarting TensorFlow" not in run.status()


def test_a_stopped_paths_process_is_detected_killed_and_replaced(qtbot, open_run) -> None:
    """SIGSTOP: the process lives but never answers. A warm probe gets ten times its
    measured time, at least five seconds; then the worker restarts it."""
    run = open_run()
    run.complete(qtbot)
    [stopped] = children("paths")
    pid = stopped.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        run.window.controller.nudge(1)
        qtbot.waitUntil(lambda: bool(run.failures), timeout=30_000)
        assert "did not answer within" in run.failures[0]
        run.complete(qtbot)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert run.model.report.result.x == run.model.x
    assert [c.pid for c in children("paths")] != [pid]


def test_failing_three_times_offers_retry_which_brings_the_numbers_back(qtbot, open_run) -> None:
    run = open_run()
    run.complete(qtbot)
    for count in range(1, 4):
        qtbot.waitUntil(lambda: len(children("paths")) == 1, timeout=RESULTS_MS)
        os.kill(children("paths")[0].pid, signal.SIGKILL)
        qtbot.waitUntil(lambda count=count: len(run.failures) == count, timeout=10_000)
    retry = run.window.statusBar().findChild(QPushButton, "retry")
    qtbot.waitUntil(retry.isVisible, timeout=5_000)
    assert "failed 3 times in a row" in run.status() and "retrying in" in run.status()
    run.window.controller.nudge(1)
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    run.complete(qtbot)
    assert run.model.report.result.x == run.model.x
    assert not retry.isVisible() and "failed 3 times" not in run.status()


def test_a_paths_process_started_before_the_window_is_adopted(qtbot, open_run) -> None:
    """``gradviz`` starts TensorFlow's process before Qt loads; the worker takes that very
    process as its first, and ends it on close (closing it again is a no-op)."""
    early = Child("gradviz paths", serve_recorded_paths)
    run = open_run(early=early)
    run.complete(qtbot)
    assert [c.pid for c in children("paths")] == [early.pid]
    assert run.failures == []
    close(run)
    assert early.closed
    early.close()


def test_an_early_paths_process_that_died_is_replaced(qtbot, open_run) -> None:
    early = Child("gradviz paths", serve_recorded_paths)
    os.kill(early.pid, signal.SIGKILL)
    early.process.join(5)
    run = open_run(early=early)
    run.complete(qtbot)
    [paths] = children("paths")
    assert paths.pid != early.pid and early.closed


def test_the_reference_curve_runs_at_a_lower_priority(qtbot, open_run) -> None:
    """Once solved, the problem process yields the CPU to TensorFlow and the window: its
    reference curve is background work."""
    run = open_run()
    run.complete(qtbot)
    [problem] = children("problem")
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, problem.pid) == min(mine + CURVE_NICENESS, 19)
    [paths] = children("paths")
    assert os.getpriority(os.PRIO_PROCESS, paths.pid) == mine


def test_a_problem_process_killed_while_sampling_is_restarted(qtbot, open_run) -> None:
    run = open_run(FAST.replace(n=800))
    qtbot.waitUntil(lambda: "Sampling" in run.status(), timeout=10_000)
    qtbot.waitUntil(lambda: len(children("problem")) == 1, timeout=10_000)
    os.kill(children("problem")[0].pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(run.failures), timeout=10_000)
    assert "problem process ended" in run.failures[0] and "restarting" in run.failures[0]
    run.complete(qtbot, timeout=FIRST_RESULTS_MS)
    assert "Sampling" not in run.status()


def test_closing_during_the_seed_reference_solve_is_quick(qtbot, open_run) -> None:
    run = open_run(Problem())
    # The seed's reference takes seconds of ball arithmetic in its process: close meanwhile.
    qtbot.waitUntil(
        lambda: any(p.task == "reference" and p.busy and "bits" in p.message for p in run.progress),
        timeout=30_000,
    )
    assert not run.model.is_complete()
    assert len(multiprocessing.active_children()) == 2
    seconds, running = close(run)
    assert seconds < CLOSE_LIMIT_S and not running
    assert multiprocessing.active_children() == []


def test_closing_while_sampling_a_large_problem_stops_the_worker(qtbot, open_run) -> None:
    """Drawing the sample of n = 4000 is an SVD taking tens of seconds here; it runs in
    the problem's process, so closing meanwhile kills it instead of waiting."""
    run = open_run()
    run.complete(qtbot)
    run.window.controller.apply_problem(FAST.replace(n=LARGE_N))
    qtbot.waitUntil(lambda: f"n = {LARGE_N}" in run.status(), timeout=5_000)
    seconds, running = close(run)
    assert seconds < CLOSE_LIMIT_S + 0.5 and not running
    assert multiprocessing.active_children() == []


def drag(window: MainWindow, xs: np.ndarray, between: Callable[[], None]) -> None:
    """Press on the marker at xs[0], move through xs (calling ``between`` midway),
    release at xs[-1]: real mouse events to the top plot's viewport."""
    graphics = window.plots.graphics()
    graphics.scene().minDragTime = 0
    view = window.plots.plot_items()[0].vb

    def send(kind: QEvent.Type, x: float, held: bool) -> None:
        _, (y_lo, y_hi) = view.viewRange()
        point = QPointF(graphics.mapFromScene(view.mapViewToScene(QPointF(x, (y_lo + y_hi) / 2))))
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        button = none if kind == QEvent.Type.MouseMove else left
        event = QMouseEvent(
            kind, point, graphics.viewport().mapToGlobal(point), button,
            left if held else none, Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
        QApplication.sendEvent(graphics.viewport(), event)

    send(QEvent.Type.MouseMove, xs[0], held=False)
    send(QEvent.Type.MouseButtonPress, xs[0], held=True)
    for index, x in enumerate(xs[1:]):
        send(QEvent.Type.MouseMove, x, held=True)
        QApplication.processEvents()
        if index == len(xs) // 2:
            between()
    send(QEvent.Type.MouseButtonRelease, xs[-1], held=False)


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_a_drag_pauses_the_problem_process_and_its_release_resumes_it(qtbot, open_run) -> None:
    """While the marker is held only the probe's paths run: the reference process is
    stopped (and its silence does not count), then continued; the released x gets its
    reference."""
    run = open_run()
    run.complete(qtbot)
    [problem] = children("problem")
    pid = problem.pid
    seen: list[str] = []

    def look() -> None:
        qtbot.waitUntil(lambda: state(pid) == "T", timeout=5_000)
        seen.append(state(pid))

    drag(run.window, np.linspace(DEFAULT_X, 0.5, 30), look)
    assert seen == ["T"]
    qtbot.waitUntil(lambda: state(pid) != "T", timeout=5_000)
    run.complete(qtbot)
    report = run.model.report
    assert report.result.x == run.model.x and report.reference is not None
    assert run.failures == [] and children("problem")[0].pid == pid


@pytest.mark.timeout(240)
def test_end_to_end_with_tensorflow_the_window_paints_first_then_fills_in(qtbot, open_run) -> None:
    """The real paths process: the window paints while TensorFlow loads, then every cell
    of both dtypes, the reference and the curves arrive."""
    started = time.monotonic()
    run = open_run(recorded=False)
    assert time.monotonic() - started < 5.0
    qtbot.waitUntil(lambda: run.model.results.data is not None, timeout=10_000)
    assert "TensorFlow" in run.status()
    run.complete(qtbot, timeout=FIRST_RESULTS_MS)
    report = run.model.report
    assert report.reference is not None and report.reference.status == "exact"
    for path in PATHS:
        for dtype in DTYPES:
            cell = report.result.cell(path, dtype)
            assert cell.error is None and np.isfinite(cell.grad), (path, dtype)
    assert run.model.results.curves is not None
    assert not any(isinstance(f, Failure) for f in run.failures)
    assert "Loading TensorFlow" not in run.status()
