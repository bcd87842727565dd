"""Sessions in the window: session() captures what is shown, apply_session() shows a session.

A real ComputeWorker (TensorFlow and reference processes) on the fast problem; each test
waits for its own window's first complete results. Teardown closes the window and insists
that the worker thread and the child processes are gone.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox

from gradviz.core.io.session import Session, View, load_session, save_session
from gradviz.core.numerics.results import ProbeReport
from gradviz.core.problem.spec import Problem
from gradviz.gui.main_window import MainWindow
from gradviz.gui.panel import TSV_HEADER
from gradviz.worker.compute_worker import ComputeWorker

FAST = Problem(n=40, jitter=1e-6, solver="cholesky")
START_X = 2.0
FIRST_RESULTS_MS = 90_000
RESULTS_MS = 60_000
STUCK_THREAD_MS = 120_000
CHILDREN_GONE_S = 5.0


@dataclass
class Lab:
    window: MainWindow
    worker: ComputeWorker
    failures: list[str] = field(default_factory=list)
    reports: list[ProbeReport] = field(default_factory=list)


@pytest.fixture
def lab(qtbot) -> Iterator[Lab]:
    """A shown MainWindow(FAST, 2.0, ComputeWorker(), settings=None) with complete results."""
    assert multiprocessing.active_children() == []
    worker = ComputeWorker()
    window = MainWindow(FAST, START_X, worker, settings=None)
    qtbot.addWidget(window)
    lab = Lab(window, worker)
    worker.failed.connect(lab.failures.append)
    window.report_shown.connect(lab.reports.append)
    try:
        with (
            qtbot.waitSignal(window.complete, timeout=FIRST_RESULTS_MS),
            qtbot.waitExposed(window),
        ):
            window.show()
        yield lab
    finally:
        window.close()
        running = worker.isRunning()
        if running:  # a QThread destroyed while running aborts the whole process
            worker.wait(STUCK_THREAD_MS)
        deadline = time.monotonic() + CHILDREN_GONE_S
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.05)
        children = multiprocessing.active_children()
    assert not running, "the worker thread still ran after close()"
    assert children == [], children
    assert lab.failures == []


def table_rows(window: MainWindow) -> dict[str, list[str]]:
    lines = window.panel.table_text().splitlines()
    assert lines[0].split("\t") == list(TSV_HEADER)
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}


def show_mu_box(window: MainWindow) -> QCheckBox:
    box = window.panel.findChild(QCheckBox, "show_mu")
    assert box is not None
    return box


def assert_range(actual: tuple[float, float] | None, expected: tuple[float, float]) -> None:
    assert actual is not None
    assert actual == pytest.approx(expected, abs=1e-9 * (expected[1] - expected[0]))


@pytest.mark.timeout(180)
def test_session_reflects_what_the_window_shows(qtbot, lab: Lab, tmp_path: Path) -> None:
    window = lab.window
    session = window.session()
    assert session.problem == FAST
    assert session.x == START_X
    assert session.view.show_mu is True and window.panel.shows_mu()
    assert session.view.x_range == window.plots.view_x_range()
    lo, hi = session.view.x_range
    assert lo <= FAST.domain[0] < FAST.domain[1] <= hi  # the whole domain is in view

    # The user hides mu, zooms, and steps the probe: the session follows each change.
    qtbot.mouseClick(show_mu_box(window), Qt.MouseButton.LeftButton)
    assert not window.panel.shows_mu()
    window.plots.set_view_x_range(-1.0, 1.5)
    window.nudge(3)
    session = window.session()
    assert session.view.show_mu is False
    assert_range(session.view.x_range, (-1.0, 1.5))
    assert session.x == START_X + 3 * window.grid_step() == window.x
    assert session.problem == FAST

    # Through a file and back: the same session.
    path = tmp_path / "lab.json"
    save_session(path, session)
    assert load_session(path) == session


@pytest.mark.timeout(180)
def test_apply_session_shows_another_problem_x_and_view(qtbot, lab: Lab) -> None:
    window = lab.window
    other = Session(
        problem=FAST.replace(n=41, seed=7, length_scale=1.2),
        x=-1.25,
        view=View(show_mu=False, x_range=(-3.0, 0.5)),
    )
    assert other.problem != window.problem
    with qtbot.waitSignal(window.complete, timeout=RESULTS_MS):
        window.apply_session(other)
        assert not window.is_complete()
        assert window.problem == other.problem
        assert window.x == other.x
    assert window.is_complete()
    assert window.problem == other.problem
    assert window.editor.problem() == other.problem
    assert window.windowTitle() == f"gradviz — {other.problem.summary()}"
    assert window.x == other.x == window.plots.marker_x()
    assert not window.panel.shows_mu() and not show_mu_box(window).isChecked()
    # The zoom survives the data and curves of the new problem arriving.
    assert_range(window.plots.view_x_range(), (-3.0, 0.5))
    shown = lab.reports[-1]
    assert shown.result.problem == other.problem and shown.result.x == other.x
    rows = table_rows(window)
    assert rows["x"] == [repr(other.x)]
    assert rows["problem"] == [other.problem.description()]
    assert "stale" not in rows

    session = window.session()
    assert session.problem == other.problem and session.x == other.x
    assert session.view.show_mu is False
    assert_range(session.view.x_range, (-3.0, 0.5))

    # The same problem again, with another x and mu shown: only x and the view change.
    again = Session(other.problem, 0.75, View(show_mu=True, x_range=None))
    zoom = window.plots.view_x_range()
    with qtbot.waitSignal(window.complete, timeout=RESULTS_MS):
        window.apply_session(again)
    assert window.problem == other.problem and window.x == 0.75
    assert window.panel.shows_mu()
    assert window.plots.view_x_range() == zoom  # no saved zoom: the view stays as it is
    assert table_rows(window)["x"] == [repr(0.75)]


@pytest.mark.timeout(180)
def test_a_session_x_outside_its_domain_is_clamped_with_a_note(qtbot, lab: Lab) -> None:
    window = lab.window
    narrow = Session(FAST.replace(domain=(-1.0, 1.0)), x=3.0, view=View(True, None))
    with qtbot.waitSignal(window.complete, timeout=RESULTS_MS):
        window.apply_session(narrow)
    assert window.problem == narrow.problem
    assert window.x == 1.0 == window.plots.marker_x()
    message = window.statusBar().currentMessage()
    assert "outside the new domain" in message and "3" in message and "1" in message
    assert table_rows(window)["x"] == [repr(1.0)]
    lo, hi = window.plots.view_x_range()
    assert lo <= -1.0 < 1.0 <= hi and hi - lo < 3  # the view shows the new, narrow domain
    assert window.session().x == 1.0

    # Below the domain: clamped to the low end.
    low = Session(FAST.replace(domain=(0.0, 4.0)), x=-7.5, view=View(True, None))
    with qtbot.waitSignal(window.complete, timeout=RESULTS_MS):
        window.apply_session(low)
    assert window.x == 0.0
    assert "outside the new domain" in window.statusBar().currentMessage()


@pytest.mark.timeout(180)
def test_a_zoom_beyond_any_coordinate_is_not_kept_in_the_session(
    qtbot, lab: Lab, tmp_path: Path
) -> None:
    """Loading refuses such a zoom (see test_session.py); a user can still zoom out that far
    with the mouse, and the session then keeps no x range rather than a meaningless one."""
    window = lab.window
    window.plots.set_view_x_range(-1e300, 1e300)
    qtbot.wait(100)
    assert window.session().view.x_range is None
    save_session(tmp_path / "lab.json", window.session())
    assert load_session(tmp_path / "lab.json").view.x_range is None
