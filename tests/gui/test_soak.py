"""Soak: one window, 1,000 probe moves by every input path, 20 problem changes in between.

Not a timing test: it checks that after a long, messy session the worker still runs, never
reported a failure, shows the numbers of the last x and the last valid problem, and that
neither threads nor child processes pile up. Moves are not awaited one by one: events are
processed between them, as a user's hand would leave time for, and the results catch up.
The worker and its two processes are real; the paths process answers with recorded
numbers (``fake_services.serve_recorded_paths``), so the soak imports no TensorFlow.

(Closing the window during the seed's reference solve is covered by
test_main_window.py::test_closing_during_the_seed_reference_solve_is_quick.)
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fake_services import serve_recorded_paths
from fake_workers import RecordedSweeps
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication, QComboBox, QWidget

from gradviz.core.io.presets import load_presets
from gradviz.core.numerics.results import ProbeReport
from gradviz.core.problem.kernels import KERNELS
from gradviz.core.problem.spec import SOLVERS, Problem
from gradviz.gui.app import open_window
from gradviz.gui.controls import FIELDS, field_texts
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import WindowModel
from gradviz.gui.panel_text import TSV_HEADER
from gradviz.worker.compute_worker import ComputeWorker

FAST = Problem(n=40, jitter=1e-6, solver="cholesky")
START_X = 2.0
MOVES = 1000
CHANGES = 20
FIRST_RESULTS_MS = 90_000
FINAL_RESULTS_MS = 120_000
STUCK_THREAD_MS = 120_000
CHILDREN_GONE_S = 5.0
CLOSE_LIMIT_S = 2.0
COMPUTE_CHILDREN = 2  # the TensorFlow process and the reference process
PROC_CHILDREN = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()

# Invalid entries (line edit, text): each must be flagged and never applied.
INVALID = [
    ("n", "abc"),
    ("jitter", "-1"),
    ("length_scale", "0"),
    ("seed", "1.5"),
    ("n", "1e9"),
    ("mean", "nan"),
    ("domain_lo", "99"),
    ("jitter", ""),
]


# ------------------------------------------------------------------------ helpers
def compute_children() -> list[int]:
    """PIDs of this process's multiprocessing spawn children, read from /proc (safe to call
    while the worker thread starts and ends them; the resource tracker is not counted)."""
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
    found = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.append(pid)
    return found


def table_rows(window: MainWindow) -> dict[str, list[str]]:
    lines = window.panel.table_text().splitlines()
    assert lines[0].split("\t") == list(TSV_HEADER)
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}


def type_into(qtbot, edit: QWidget, text: str, enter: bool = True) -> None:
    """Select everything, type ``text`` key by key and (optionally) press Enter."""
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    if enter:
        qtbot.keyClick(edit, Qt.Key.Key_Return)


def viewport_point(window: MainWindow, x: float) -> QPoint:
    """Viewport coordinates of data x at mid-height of the derivative plot."""
    stack = window.plots
    view = stack.plot_items()[1].vb
    _, (y_lo, y_hi) = view.viewRange()
    return stack.graphics().mapFromScene(view.mapViewToScene(QPointF(x, (y_lo + y_hi) / 2)))


def send_mouse(window: MainWindow, kind: QEvent.Type, point: QPoint, held: bool) -> None:
    viewport = window.plots.graphics().viewport()
    position = QPointF(point)
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left
    buttons = left if held else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        position,
        viewport.mapToGlobal(position),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def drag_marker(window: MainWindow, end: float, steps: int = 4) -> None:
    """Press on the marker where it is, move in a few steps to ``end``, release."""
    start = window.model.x
    send_mouse(window, QEvent.Type.MouseMove, viewport_point(window, start), held=False)
    send_mouse(window, QEvent.Type.MouseButtonPress, viewport_point(window, start), held=True)
    for x in np.linspace(start, end, steps + 1)[1:]:
        send_mouse(window, QEvent.Type.MouseMove, viewport_point(window, x), held=True)
    send_mouse(window, QEvent.Type.MouseButtonRelease, viewport_point(window, end), held=False)


def one_pixel(window: MainWindow) -> float:
    view = window.plots.plot_items()[1].vb
    (x_lo, x_hi), _ = view.viewRange()
    return (x_hi - x_lo) / view.width()


# ------------------------------------------------------------------------ the window
@dataclass
class Soak:
    window: MainWindow
    worker: ComputeWorker
    failures: list[object] = field(default_factory=list)
    reports: list[ProbeReport] = field(default_factory=list)
    close_seconds: float | None = None


@pytest.fixture
def soak(qtbot, no_mouse_rate_limit: None) -> Iterator[Soak]:
    """A shown window on the fast problem; teardown closes it and checks nothing survives."""
    assert multiprocessing.active_children() == []
    worker = ComputeWorker(paths_service=serve_recorded_paths)
    window = open_window(WindowModel(FAST, START_X), None, worker, RecordedSweeps())
    qtbot.addWidget(window)
    state = Soak(window, worker)
    worker.failed.connect(state.failures.append)
    window.model.report_changed.connect(state.reports.append)
    try:
        with qtbot.waitExposed(window):
            window.show()
        yield state
    finally:
        if state.close_seconds is None:
            window.close()
        running = worker.isRunning()
        if running:  # never destroy a running QThread: that aborts pytest
            worker.wait(STUCK_THREAD_MS)
        deadline = time.monotonic() + CHILDREN_GONE_S
        while (multiprocessing.active_children() or compute_children()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    assert not running, "the worker thread still ran after close()"
    assert multiprocessing.active_children() == []
    assert compute_children() == []


@dataclass
class Plan:
    """What the test did and what the window must therefore show."""

    problem: Problem
    moves: dict[str, int] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    drags_off: list[tuple[float, float]] = field(default_factory=list)
    most_children: int = 0


def random_problem(rng: np.random.Generator, small: bool = False) -> Problem:
    lo = float(rng.choice([-6.0, -5.0, -4.5, -3.0, -2.0]))
    hi = float(rng.choice([2.0, 3.5, 5.0, 6.0]))
    return Problem(
        n=int(rng.integers(20, 61 if small else 121)),
        domain=(lo, hi),
        length_scale=float(rng.choice([0.8, 1.0, 1.5, 2.0])),
        seed=int(rng.integers(0, 2**32)),
        mean=float(rng.choice([-1.0, 0.0, 1.0, 2.5])),
        jitter=1e-6 if small else float(rng.choice([1e-4, 1e-6, 1e-8])),
        solver="cholesky" if small else str(rng.choice(SOLVERS)),
    )


def enter_problem(qtbot, window: MainWindow, problem: Problem, typed: str) -> None:
    """Fill the editor with ``problem``: every field set, ``typed`` typed key by key, the
    solver chosen in its combo box, then Enter in the typed field."""
    texts = field_texts(problem)
    editor = window.editor
    for name, text in texts.items():
        if name != typed:
            editor.line_edit(name).setText(text)
    type_into(qtbot, editor.line_edit(typed), texts[typed], enter=False)
    kernel = editor.findChild(QComboBox, "kernel")
    assert kernel is not None
    kernel.setCurrentIndex(KERNELS.index(problem.kernel))  # a change applies at once
    solver = editor.findChild(QComboBox, "solver")
    assert solver is not None
    solver.setCurrentIndex(SOLVERS.index(problem.solver))  # a change applies at once
    qtbot.keyClick(editor.line_edit(typed), Qt.Key.Key_Return)


def change_problem(qtbot, window: MainWindow, plan: Plan, index: int, rng) -> None:
    """One problem change through the editor: a typed valid problem, an invalid entry, or a
    preset. The last change is a small valid problem so the final wait stays short."""
    editor = window.editor
    kind = "typed" if index == CHANGES - 1 else ("typed", "invalid", "preset")[index % 3]
    plan.changes[kind] = plan.changes.get(kind, 0) + 1
    if kind == "typed":
        problem = random_problem(rng, small=index == CHANGES - 1)
        typed = [name for name in FIELDS if field_texts(problem)[name]]  # the kernel's own
        enter_problem(qtbot, window, problem, typed=str(rng.choice(typed)))
        plan.problem = problem
    elif kind == "invalid":
        name, text = INVALID[(index // 3) % len(INVALID)]
        type_into(qtbot, editor.line_edit(name), text)
        field = "domain" if name.startswith("domain") else name  # both ends feed "domain"
        assert editor.field_error(field) is not None, (name, text)
        assert editor.line_edit(name).property("invalid") is True
        assert editor.problem() == plan.problem
    else:
        presets = editor.findChild(QComboBox, "presets")
        assert presets is not None
        choices = [
            i
            for i, preset in enumerate(load_presets())
            if preset.problem != plan.problem and i != presets.currentIndex()
        ]
        chosen = int(rng.choice(choices))
        presets.setCurrentIndex(chosen)
        plan.problem = load_presets()[chosen].problem
    # Valid or not, the window holds the last valid problem, at once.
    assert window.model.problem == plan.problem, kind


def move_probe(qtbot, window: MainWindow, plan: Plan, rng: np.random.Generator) -> None:
    """One probe move by a randomly chosen input path; checks the move landed."""
    lo, hi = window.model.problem.domain
    step = window.model.grid_step()
    before = window.model.x
    roll = rng.random()
    graphics = window.plots.graphics()
    if roll < 0.40:
        steps = int(rng.choice([-10, -1, 1, 10]))
        window.controller.nudge(steps)
        kind, expected = "nudge", min(max(before + steps * step, lo), hi)
    elif roll < 0.65:
        x = float(rng.uniform(lo - 1.0, hi + 1.0))  # some beyond the ends: clamped
        window.plots.x_requested.emit(x)
        kind, expected = "plots.x_requested", min(max(x, lo), hi)
    elif roll < 0.85:
        box = window.panel.x_box()
        typed = float(rng.uniform(lo, hi))
        box.setText(repr(typed))
        qtbot.keyClick(box, Qt.Key.Key_Return)
        kind, expected = "x box", typed
    elif roll < 0.97:
        if not window.plots.isAncestorOf(QApplication.focusWidget()):
            graphics.setFocus()
            qtbot.waitUntil(
                lambda: window.plots.isAncestorOf(QApplication.focusWidget()), timeout=2_000
            )
        steps = int(rng.choice([-10, -1, 1, 10]))
        key = Qt.Key.Key_Right if steps > 0 else Qt.Key.Key_Left
        shift = Qt.KeyboardModifier.ShiftModifier if abs(steps) == 10 else None
        qtbot.keyClick(graphics, key, shift or Qt.KeyboardModifier.NoModifier)
        kind, expected = "keyboard", min(max(before + steps * step, lo), hi)
    else:
        target = float(rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)))
        drag_marker(window, target)
        kind, expected = "mouse drag", target
        if abs(window.model.x - target) > 2 * one_pixel(window):
            plan.drags_off.append((target, window.model.x))
        expected = window.model.x
    plan.moves[kind] = plan.moves.get(kind, 0) + 1
    assert window.model.x == expected, (kind, before, expected, window.model.x)
    assert window.plots.marker_x() == window.model.x


def wait_for_last_results(qtbot, soak: Soak, plan: Plan) -> None:
    """Wait for complete, then check the window shows the last x of the last valid problem."""
    window = soak.window
    last_x = window.model.x
    waited = time.monotonic()
    qtbot.waitUntil(window.model.is_complete, timeout=FINAL_RESULTS_MS)
    print(f"final results {time.monotonic() - waited:.1f} s after the last move")
    assert soak.worker.isRunning()
    assert soak.failures == []
    assert window.model.problem == plan.problem == window.editor.problem()
    assert window.model.x == last_x == window.plots.marker_x()
    assert window.windowTitle() == f"gradviz — {plan.problem.summary()}"
    shown = soak.reports[-1]
    assert shown.result.problem == plan.problem and shown.result.x == last_x
    rows = table_rows(window)
    assert rows["x"] == [repr(last_x)]
    assert rows["problem"] == [plan.problem.description()]
    assert "stale" not in rows
    for row in ("function", "closed_form"):
        assert np.isfinite(float(rows[row][2])), rows[row]  # float64 numbers are shown


@pytest.mark.timeout(420)
def test_soak_a_thousand_moves_and_twenty_problem_changes(qtbot, soak: Soak) -> None:
    window, worker = soak.window, soak.worker
    rng = np.random.default_rng(20240514)
    qtbot.waitUntil(window.model.is_complete, timeout=FIRST_RESULTS_MS)
    threads_after_first = threading.active_count()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    window.plots.graphics().scene().minDragTime = 0

    plan = Plan(problem=FAST)
    change_every = MOVES // CHANGES
    for index in range(MOVES):
        if index % change_every == change_every // 2:
            change_problem(qtbot, window, plan, index // change_every, rng)
        move_probe(qtbot, window, plan, rng)
        qtbot.wait(1)
        if index % 20 == 0:
            plan.most_children = max(plan.most_children, len(compute_children()))

    print(plan)  # shown when the test fails
    # Every input path and every kind of change was exercised.
    assert set(plan.moves) == {"nudge", "plots.x_requested", "x box", "keyboard", "mouse drag"}
    assert sum(plan.moves.values()) == MOVES
    assert plan.changes == {"typed": 8, "invalid": 6, "preset": 6}
    assert len(plan.drags_off) <= plan.moves["mouse drag"] // 10, plan.drags_off

    # The results catch up with the last x of the last valid problem.
    wait_for_last_results(qtbot, soak, plan)

    # Nothing piled up.
    assert threading.active_count() <= threads_after_first
    if PROC_CHILDREN:  # the kernel lists children: they were seen, and never more than two
        assert 1 <= plan.most_children <= COMPUTE_CHILDREN
    assert len(multiprocessing.active_children()) <= COMPUTE_CHILDREN
    assert len(compute_children()) <= COMPUTE_CHILDREN

    started = time.monotonic()
    window.close()
    soak.close_seconds = time.monotonic() - started
    assert not worker.isRunning()
    assert soak.close_seconds < CLOSE_LIMIT_S
    deadline = time.monotonic() + CHILDREN_GONE_S
    while compute_children() and time.monotonic() < deadline:
        qtbot.wait(50)
    assert compute_children() == []
    assert multiprocessing.active_children() == []


def test_invalid_entries_name_fields_of_the_editor() -> None:
    # Keeps the soak's INVALID list honest when the editor's fields change.
    assert {name for name, _ in INVALID} <= set(FIELDS)
