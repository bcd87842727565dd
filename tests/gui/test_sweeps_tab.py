"""The Sweeps tab as a new user meets it: a click on a point or the star applies exactly
that (jitter, solver), the nearest in screen space (where points coincide, the one drawn
on top); the library lines' labels do not overlap; the status line fits, with the rest in
its tooltip, and says the wall time; a change of the problem's own jitter or solver, which
every sweep measures anyway, re-runs nothing and the advice is read off the sweep."""

from __future__ import annotations

import dataclasses
import math

import pytest
from conftest import FAST, Lab
from fake_workers import RecordedSweeps
from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from records import make_jitter_sweep
from test_window import full_sweeps

from gradviz.core.analysis.advice import advice_from
from gradviz.core.analysis.sweep import SweepRow, best_per_dtype
from gradviz.core.problem.spec import SOLVERS, Problem
from gradviz.gui import model as model_module
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import WindowModel
from gradviz.gui.sweep_plots import DtypePlot, log_jitter
from gradviz.gui.sweeps import SweepsView
from gradviz.worker.messages import SweepNote, SweepResult

SMALL = Problem(n=20)
X = 1.5


def click(plot: DtypePlot, scene_point: QPointF) -> None:
    """Hover, press and release the left button at ``scene_point`` of ``plot``."""
    widget = plot.plot.getViewWidget()
    point = QPointF(widget.mapFromScene(scene_point))
    viewport = widget.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, button, held in (
        (QEvent.Type.MouseMove, none, none),
        (QEvent.Type.MouseButtonPress, left, left),
        (QEvent.Type.MouseButtonRelease, left, none),
    ):
        event = QMouseEvent(
            kind, point, viewport.mapToGlobal(point), button, held,
            Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
        QApplication.sendEvent(viewport, event)
        QApplication.processEvents()


def scene_of(plot: DtypePlot, jitter: float, digits: float) -> QPointF:
    return plot.plot.vb.mapViewToScene(QPointF(log_jitter(jitter), digits))


@pytest.fixture
def shown(qtbot: QtBot) -> tuple[SweepsView, list[tuple[float, str]]]:
    """A shown tab with a final sweep in which two solvers' points coincide at 1e-4."""
    sweep = make_jitter_sweep(SMALL, X)
    inverse = {(row.jitter, row.dtype): row.digits for row in sweep.rows if row.solver == "inverse"}
    rows = tuple(
        dataclasses.replace(row, digits=inverse[(row.jitter, row.dtype)])
        if row.solver == "solve" and row.jitter == 1e-4
        else row
        for row in sweep.rows
    )
    sweep = dataclasses.replace(sweep, rows=rows, best=best_per_dtype(rows))
    view = SweepsView(WindowModel(SMALL, X))
    qtbot.addWidget(view)
    view.resize(1000, 1000)
    with qtbot.waitExposed(view):
        view.show()
    view.model.start_sweep()
    view.model.receive_sweep_result(SweepResult(sweep, final=True))
    view.model.receive_sweep_note(SweepNote(SMALL, X, "done", "done in 9 s"))
    QApplication.processEvents()
    chosen: list[tuple[float, str]] = []
    view.jitter_chosen.connect(lambda jitter, solver: chosen.append((jitter, solver)))
    return view, chosen


def test_a_click_applies_the_nearest_point_and_the_star_its_own(
    shown: tuple[SweepsView, list[tuple[float, str]]],
) -> None:
    view, chosen = shown
    sweep = view.model.sweep.jitter
    assert sweep is not None
    plot = view.plots["float64"]
    drawn = [r for r in sweep.rows if r.dtype == "float64" and r.digits is not None]
    best = sweep.best["float64"]

    def apart(row: SweepRow) -> bool:
        """No other point within 2 px of ``row``'s on screen: a click there (rounded to a
        pixel) is nearest to it."""
        at = scene_of(plot, row.jitter, row.digits)
        others = (scene_of(plot, r.jitter, r.digits) for r in drawn if r is not row)
        return all(math.hypot(o.x() - at.x(), o.y() - at.y()) > 2 for o in others)

    alone = [row for row in drawn if apart(row)]
    assert len(alone) >= 5
    for row in alone:
        chosen.clear()
        click(plot, scene_of(plot, row.jitter, row.digits))
        assert chosen == [(row.jitter, row.solver)], row
    # Two solvers' points in one place: the one drawn on top (the later curve) is applied.
    digits = next(
        r.digits
        for r in sweep.rows
        if (r.dtype, r.solver, r.jitter) == ("float64", "inverse", 1e-4)
    )
    same_place = [r for r in drawn if (r.jitter, r.digits) == (1e-4, digits)]
    assert {r.solver for r in same_place} >= {"inverse", "solve"}
    starred = [r for r in same_place if (r.jitter, r.solver) == (best.jitter, best.solver)]
    on_top = starred[0] if starred else max(same_place, key=lambda r: SOLVERS.index(r.solver))
    chosen.clear()
    click(plot, scene_of(plot, 1e-4, digits))
    assert chosen == [(1e-4, on_top.solver)]
    chosen.clear()
    click(plot, scene_of(plot, best.jitter, best.digits) + QPointF(3, -3))
    assert chosen == [(best.jitter, best.solver)]
    chosen.clear()
    click(plot, scene_of(plot, 1e-4, 16.5) + QPointF(0, -40))  # nothing near
    assert chosen == []


def test_library_labels_do_not_overlap_and_the_status_fits(
    shown: tuple[SweepsView, list[tuple[float, str]]],
) -> None:
    view, _ = shown
    view.resize(560, 700)  # the narrowest tab: library lines two decades apart are close
    QApplication.processEvents()
    for plot in view.plots.values():
        labels = [
            item.label.sceneBoundingRect()
            for item in plot.plot.items
            if getattr(item, "label", None) is not None and item.label.isVisible()
        ]
        assert len(labels) >= 3
        for index, first in enumerate(labels):
            for second in labels[index + 1 :]:
                assert not first.intersects(second), (first, second)
    view.model.receive_sweep_note(SweepNote(SMALL, X, "failed", "sweep failed: " + "why " * 80))
    for width in (500, 1200):
        view.resize(width, 700)
        QApplication.processEvents()
        status = view.status
        assert status.fontMetrics().horizontalAdvance(status.text()) <= status.width()
        assert status.toolTip().endswith("why ")


def test_done_says_the_wall_time_since_the_sweep_was_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = WindowModel(SMALL, X)
    clock = [1000.0]
    monkeypatch.setattr(model_module.time, "monotonic", lambda: clock[0])
    model.start_sweep()
    clock[0] += 21.2  # the worker's own count started late: it says 13 s
    model.receive_sweep_note(SweepNote(SMALL, X, "done", "done in 13 s"))
    assert model.sweep.text == "done in 21 s"


def show_sweeps(qtbot: QtBot, lab: Lab) -> tuple[MainWindow, RecordedSweeps]:
    """Show the Sweeps tab and wait for its one full sweep of (FAST, x) to be asked."""
    window, sweeps = lab.window, lab.sweeps
    window.tabs.setCurrentWidget(window.sweeps)
    qtbot.waitUntil(lambda: full_sweeps(sweeps) == [(FAST, lab.model.x)], timeout=3000)
    return window, sweeps


def test_a_change_of_jitter_or_solver_re_runs_no_sweep_and_the_advice_is_read_off_it(
    qtbot: QtBot, lab: Lab
) -> None:
    window, sweeps = show_sweeps(qtbot, lab)
    sweeps.answer(final=True)
    swept = lab.model.sweep.jitter
    assert swept is not None
    for problem in (FAST.replace(solver="solve"), FAST.replace(jitter=1e-8, solver="inverse")):
        window.controller.apply_problem(problem)
        lab.settle(qtbot)
        qtbot.waitUntil(lambda: lab.model.advice.phase == "done", timeout=3000)
        qtbot.wait(600)  # longer than the sweep's debounce
        assert full_sweeps(sweeps) == [(FAST, lab.model.x)]  # no new sweep
        advice = lab.model.advice.advice
        assert advice is not None and advice.problem == problem
        expected = advice_from(swept, problem.solver, problem.jitter)
        assert advice.as_given == expected.as_given and advice.advised == expected.advised
        assert advice.cause == expected.cause
    # A change the sweep does measure (the length scale) sweeps again.
    window.controller.apply_problem(FAST.replace(length_scale=0.9))
    qtbot.waitUntil(lambda: len(full_sweeps(sweeps)) == 2, timeout=3000)
    assert math.isclose(full_sweeps(sweeps)[-1][0].length_scale, 0.9)


def test_a_sweep_waiting_after_failures_is_not_asked_again_by_the_tab(
    qtbot: QtBot, lab: Lab
) -> None:
    # The tab's debounced "sweep if needed" may fire after the process failed three
    # times: asking again then would skip the back-off that only Retry or new work skip.
    window, sweeps = show_sweeps(qtbot, lab)
    text = "the sweep process failed 3 times in a row; retrying in 5 s"
    sweeps.note.emit(SweepNote(FAST, lab.model.x, "waiting", text, retry=True))
    assert lab.model.sweep.phase == "waiting"
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentWidget(window.sweeps)  # shown again: the debounce runs
    qtbot.wait(600)  # longer than the sweep's debounce
    assert full_sweeps(sweeps) == [(FAST, lab.model.x)] and lab.model.sweep.phase == "waiting"
    # New work is worth a fresh try.
    window.controller.move_to(lab.model.x + 0.25)
    qtbot.waitUntil(lambda: len(full_sweeps(sweeps)) == 2, timeout=3000)
