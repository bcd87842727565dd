"""The window over its model, driven by recorded workers: no process, no TensorFlow.

Every test opens its own window (``open_lab`` in conftest.py) whose workers answer from
``records.py`` on the next turn of the event loop, as the real worker's queued signals
arrive. What the real workers and their processes do is tested in
``test_window_processes.py`` and ``tests/worker``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FAST, Lab
from fake_workers import RecordedSweeps
from PyQt6.QtCore import QEvent, QLocale, QPoint, QPointF, QRect, QSettings, Qt
from PyQt6.QtGui import QAction, QImage, QKeySequence, QMouseEvent, QPalette, QTextDocument
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QWidget,
)
from records import CURVE_POINTS
from spec import legend_item, xy

from gradviz.core.numerics.results import DTYPES, PATHS
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui.export_dialog import ExportChoice
from gradviz.gui.main_window import MainWindow
from gradviz.gui.model import STALE_AFTER_MS
from gradviz.gui.panel_text import TSV_HEADER
from gradviz.gui.plots import PlotStack
from gradviz.gui.settings import WindowSettings
from gradviz.gui.x_box import XBox
from gradviz.worker.messages import Progress

GPFLOW = Problem(jitter=1e-6, solver="cholesky")  # n = 300: float32 Cholesky fails
GPFLOW_PRESET = "GPflow default (cholesky, jitter 1e-6)"
QUIET_MS = 300


# -------------------------------------------------------------- view helpers
def status_text(window: MainWindow) -> str:
    """Everything the status bar shows: the permanent labels and the temporary message."""
    labels = [label.text() for label in window.statusBar().findChildren(QLabel)]
    return " | ".join([*labels, window.statusBar().currentMessage()])


def plotted(window: MainWindow, plot_index: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    return xy(legend_item(window.plots.plot_items()[plot_index], name))


def table_rows(window: MainWindow) -> dict[str, list[str]]:
    """panel.table_text() as {first field: the other fields} (the last row of a name wins)."""
    lines = window.panel.table_text().splitlines()
    assert lines[0].split("\t") == list(TSV_HEADER)
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def cell_text(window: MainWindow, path: str, dtype: str) -> str:
    label = window.panel.findChild(QLabel, f"cell_{path}_{dtype}")
    assert label is not None
    return label.text()


def plain(rich: str) -> str:
    """The visible text of rich text."""
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText().strip()


def distinct_colors(image: QImage) -> int:
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(rgb.constBits().asstring(rgb.sizeInBytes()), dtype=np.uint32)
    return int(np.unique(raw).size)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Select everything in a line edit, type ``text``, press Enter."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if not text.isascii():  # QTest types Latin-1 only (it aborts on others): paste it
        widget.insert(text)
    elif text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def assert_shows_numbers(window: MainWindow, dtypes: tuple[str, ...] = tuple(DTYPES)) -> None:
    """Every path has a gradient and a mu in each of ``dtypes``, and a digit count."""
    rows = table_rows(window)
    for path in PATHS:
        grads = dict(zip(DTYPES, rows[path][0:4:2], strict=True))
        digits = dict(zip(DTYPES, rows[path][1:4:2], strict=True))
        mus = dict(zip(DTYPES, rows[path][4:6], strict=True))
        for dtype in dtypes:
            assert is_number(grads[dtype]), (path, dtype, grads[dtype])
            assert is_number(mus[dtype]), (path, dtype, mus[dtype])
            assert is_number(digits[dtype]), (path, dtype, digits[dtype])


def activate(qtbot, window: MainWindow) -> None:
    """Shortcuts need an active window (the offscreen platform activates on request)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)


def menu_actions(window: MainWindow, title: str) -> dict[str, QAction]:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    return {a.text(): a for a in menus[title].actions()}


# --------------------------------------------------------------- mouse events
def viewport_point(stack: PlotStack, plot_index: int, x: float) -> QPoint:
    """Viewport coordinates of data x at mid-height of one plot."""
    view = stack.plot_items()[plot_index].vb
    _, (y_lo, y_hi) = view.viewRange()
    return stack.graphics().mapFromScene(view.mapViewToScene(QPointF(x, (y_lo + y_hi) / 2)))


def send_mouse(stack: PlotStack, kind: QEvent.Type, point: QPoint, held: bool) -> None:
    """One QMouseEvent to the GraphicsLayoutWidget's viewport, as pyqtgraph's ui_testing."""
    viewport = stack.graphics().viewport()
    position = QPointF(point)
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left
    event = QMouseEvent(
        kind, position, viewport.mapToGlobal(position), button,
        left if held else Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(viewport, event)


def drag(stack: PlotStack, plot_index: int, start: float, end: float, steps: int = 12) -> None:
    """Hover, press on the marker at ``start``, move in steps to ``end``, release."""
    stack.graphics().scene().minDragTime = 0
    begin = viewport_point(stack, plot_index, start)
    send_mouse(stack, QEvent.Type.MouseMove, begin, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, begin, held=True)
    for x in np.linspace(start, end, steps)[1:]:
        send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, plot_index, x), held=True)
    send_mouse(
        stack, QEvent.Type.MouseButtonRelease, viewport_point(stack, plot_index, end), held=False
    )


def one_pixel(stack: PlotStack) -> float:
    view = stack.plot_items()[0].vb
    (x_lo, x_hi), _ = view.viewRange()
    return (x_hi - x_lo) / view.width()


# ------------------------------------------------------------------ opening
def test_the_window_paints_at_once_and_fills_in_from_its_model(
    qtbot, open_lab: Callable[..., Lab]
) -> None:
    lab = open_lab(show=False)
    window, model = lab.window, lab.model
    lab.compute.hold()
    with qtbot.waitExposed(window):
        window.show()
    assert window.windowTitle() == f"gradviz — {FAST.summary()}"
    assert lab.compute.asked.submitted == [(FAST, DEFAULT_X)]
    assert "Loading TensorFlow" in status_text(window)
    assert not model.is_complete()
    rows = table_rows(window)
    assert rows["tape"] == [""] * 6  # placeholders until a report arrives
    QApplication.processEvents()
    assert distinct_colors(window.grab().toImage()) > 50  # painted, not a blank frame

    lab.compute.release()
    lab.settle(qtbot)
    assert "Loading TensorFlow" not in status_text(window)
    report = model.report
    assert report is not None and report.reference is not None
    assert report.reference.status == "exact"
    assert_shows_numbers(window)
    rows = table_rows(window)
    assert rows["x"] == [repr(DEFAULT_X)]
    assert rows["problem"] == [FAST.description()]
    assert "stale" not in rows
    assert window.panel.x_box().text() == "2.0"
    for plot_index, name in ((0, "mu"), (1, "d mu/dx")):
        for dtype in DTYPES:
            xs, ys = plotted(window, plot_index, f"{name} {dtype}")
            assert xs.size == CURVE_POINTS and np.isfinite(ys).all(), (name, dtype)
            assert xs[0] == FAST.domain[0] and xs[-1] == FAST.domain[1]
    function64 = report.result.cell("function", "float64")
    tangent_x, tangent_y = plotted(window, 0, "tangent float64")
    assert tangent_x.size == 2 and tangent_x[0] < DEFAULT_X < tangent_x[1]
    slope = (tangent_y[1] - tangent_y[0]) / (tangent_x[1] - tangent_x[0])
    assert slope == pytest.approx(function64.grad, rel=1e-9)
    ref_x, ref_y = plotted(window, 1, "reference")
    assert list(ref_x) == [DEFAULT_X]
    assert ref_y[0] == pytest.approx(report.reference.grad.mid, rel=1e-12)
    assert window.plots.marker_x() == DEFAULT_X


def test_a_start_x_outside_the_domain_is_clamped_everywhere(open_lab) -> None:
    window = open_lab(FAST, x=7.5).window
    assert window.model.x == FAST.domain[1]
    assert window.plots.marker_x() == FAST.domain[1]
    assert window.panel.x_box().text() == repr(FAST.domain[1])


def test_without_the_reference_the_window_still_completes(qtbot, open_lab) -> None:
    lab = open_lab(reference=False)
    lab.settle(qtbot)
    report = lab.model.report
    assert report is not None and report.reference is None and not report.reference_pending
    assert table_rows(lab.window)["reference"] == ["reference off"]


# ------------------------------------------------------------------ the probe
@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_dragging_the_marker_probes_the_new_x_and_background_work_yields(qtbot, lab: Lab) -> None:
    window, model = lab.window, lab.model
    stack = window.plots
    tolerance = 2 * one_pixel(stack)
    drag(stack, plot_index=1, start=DEFAULT_X, end=0.5)
    assert model.x == pytest.approx(0.5, abs=tolerance) and model.x != DEFAULT_X
    assert stack.marker_x() == model.x
    # While the marker was held, background work was told to yield, then to resume.
    assert lab.compute.asked.dragging == [True, False]
    assert lab.sweeps.asked.paused == [True, False]
    assert lab.compute.asked.submitted[-1] == (FAST, model.x)  # exactly the marker's x
    lab.settle(qtbot)
    assert model.report is not None and model.report.result.x == model.x
    rows = table_rows(window)
    assert rows["x"] == [repr(model.x)] and "stale" not in rows
    assert_shows_numbers(window)
    title = window.panel.findChild(QLabel, "title")
    assert f"Gradients at x = {model.x!r}" in title.text()
    assert window.panel.x_box().text() == repr(model.x)
    assert list(plotted(window, 1, "reference")[0]) == [model.x]
    assert window.controller.undo_stack.count() == 1  # a drag is one step


def test_arrow_keys_step_the_grid(qtbot, lab: Lab) -> None:
    window, model = lab.window, lab.model
    step = model.grid_step()
    assert step == (FAST.domain[1] - FAST.domain[0]) / (FAST.n - 1)
    activate(qtbot, window)
    window.plots.graphics().setFocus()
    qtbot.waitUntil(lambda: window.plots.isAncestorOf(QApplication.focusWidget()), timeout=2_000)
    x0 = model.x
    qtbot.keyClick(window.plots.graphics(), Qt.Key.Key_Right)
    assert model.x == x0 + step
    x1 = model.x
    qtbot.keyClick(window.plots.graphics(), Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert model.x == x1 + 10 * step
    x2 = model.x
    qtbot.keyClick(window.plots.graphics(), Qt.Key.Key_Left)
    assert model.x == x2 - step
    assert window.plots.marker_x() == model.x
    lab.settle(qtbot)
    assert table_rows(window)["x"] == [repr(model.x)]
    # Up and Down in the x box step the grid too.
    box = window.panel.x_box()
    box.setFocus()
    before = model.x
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert model.x == before + step


@pytest.mark.parametrize(
    ("typed", "x"),
    [
        ("1e-3", 1e-3),
        ("-2.5E+0", -2.5),
        ("2.0000009", 2.0000009),
        ("x = 1.234567", 1.234567),
        ("  -0.75 ", -0.75),
    ],
)
def test_the_x_box_takes_what_people_type_every_digit_kept(
    qtbot, lab: Lab, typed: str, x: float
) -> None:
    box = lab.window.panel.x_box()
    type_into(qtbot, box, typed)
    assert box.error() is None
    assert lab.model.x == x  # exactly: not rounded to a number of decimals
    assert lab.compute.asked.submitted[-1] == (FAST, x)
    assert lab.window.plots.marker_x() == x
    lab.settle(qtbot)
    assert table_rows(lab.window)["x"] == [repr(x)]
    assert box.text() == repr(x)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("abc", "x: 'abc' is not allowed; x must be a finite number with |x| <= 1e+06"),
        ("1e9", "x: 1000000000.0 is not allowed"),
        ("nan", "x must be a finite number"),
        ("1,5.2", "one decimal separator"),
        ("", "x: '' is not allowed"),
        ("\uff11\uff12", "is not allowed"),  # fullwidth digits: not ASCII, not a number
    ],
)
def test_the_x_box_refuses_text_with_the_reason_on_the_field(
    qtbot, lab: Lab, typed: str, reason: str
) -> None:
    box = lab.window.panel.x_box()
    if typed == "1,5.2":
        box.setLocale(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    asked = len(lab.compute.asked.submitted)
    type_into(qtbot, box, typed)
    assert box.error() is not None and reason in box.error()
    assert box.property("invalid") is True and box.toolTip() == box.error()
    shown = lab.window.panel.findChild(QLabel, "x_error")
    assert shown.isVisible() and shown.text() == box.error()
    assert lab.model.x == DEFAULT_X  # the probe stays
    assert len(lab.compute.asked.submitted) == asked
    qtbot.keyClicks(box, "1")  # typing again clears the flag
    assert box.error() is None and not shown.isVisible()


def test_the_x_box_takes_the_locales_decimal_separator(qtbot, lab: Lab) -> None:
    box: XBox = lab.window.panel.x_box()
    box.setLocale(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    type_into(qtbot, box, "-1,25")
    assert lab.model.x == -1.25
    assert box.text() == "-1,25"
    type_into(qtbot, box, "0.5")  # "." is read as a decimal point everywhere
    assert lab.model.x == 0.5


def test_typing_an_x_outside_the_domain_clamps_it_and_says_so(qtbot, lab: Lab) -> None:
    window = lab.window
    type_into(qtbot, window.panel.x_box(), "100")
    lo, hi = FAST.domain
    assert lab.model.x == hi and window.plots.marker_x() == hi
    assert window.panel.x_box().text() == repr(hi)
    message = window.statusBar().currentMessage()
    assert message == f"x = 100 lies outside the domain [{lo:g}, {hi:g}]; the probe is at {hi:g}"


def test_a_late_report_for_an_earlier_x_never_poses_as_current(qtbot, lab: Lab) -> None:
    """A report for the previous x routinely arrives after the user moved on (a drag
    shows several): the panel may show it, labelled with its own x, but the marker and
    the x box stay on the current x; once the current x's answer is overdue
    (STALE_AFTER_MS) the panel says it is computing that x."""
    window, model = lab.window, lab.model
    previous = model.report
    assert previous is not None and previous.result.x == DEFAULT_X
    lab.compute.hold()
    window.controller.nudge(1)
    current = model.x
    lab.compute.emit(previous)
    assert window.plots.marker_x() == current
    assert not model.is_complete()
    assert window.panel.x_box().text() == repr(current)
    title = window.panel.findChild(QLabel, "title")
    assert f"x = {DEFAULT_X!r}" in title.text() and f"x = {current!r}" not in title.text()
    qtbot.waitUntil(lambda: model.stale, timeout=STALE_AFTER_MS * 10)
    rows = table_rows(window)
    assert rows.get("stale") == [f"computing at x = {current!r}"]
    assert f"Computing at x = {current!r}" in title.text()
    lab.compute.release()
    lab.settle(qtbot)
    assert "stale" not in table_rows(window) and not model.stale


# ---------------------------------------------------------------- the problem
def test_invalid_field_is_flagged_and_never_applied(qtbot, lab: Lab) -> None:
    window, editor = lab.window, lab.window.editor
    title = window.windowTitle()
    asked = len(lab.compute.asked.submitted)
    type_into(qtbot, editor.line_edit("n"), "abc")
    message = editor.field_error("n")
    assert message is not None and message.startswith("n:") and "'abc'" in message
    assert editor.line_edit("n").property("invalid") is True
    qtbot.wait(QUIET_MS)
    assert lab.model.problem == FAST and editor.problem() == FAST
    assert window.windowTitle() == title
    assert len(lab.compute.asked.submitted) == asked
    assert lab.model.is_complete()  # the shown results still belong to the problem
    type_into(qtbot, editor.line_edit("n"), "41")  # a valid value goes through
    assert lab.model.problem == FAST.replace(n=41)
    assert editor.field_error("n") is None
    lab.settle(qtbot)
    assert plotted(window, 0, "data y")[0].size == 41


def test_preset_recomputes_and_failed_float32_cells_say_why(qtbot, lab: Lab) -> None:
    window, model = lab.window, lab.model
    presets = window.editor.findChild(QComboBox, "presets")
    index = presets.findText(GPFLOW_PRESET)
    assert index >= 0
    mark = lab.mark()
    presets.setCurrentIndex(index)
    assert not model.is_complete()
    assert model.problem == GPFLOW and model.x == DEFAULT_X  # inside the new domain: kept
    assert window.windowTitle() == f"gradviz — {GPFLOW.summary()}"
    lab.settle(qtbot)
    assert plotted(window, 0, "data y")[0].size == GPFLOW.n
    assert [p for p in lab.since(mark, "problem_changed")] == [GPFLOW]
    assert presets.currentText() == GPFLOW_PRESET
    # float32 Cholesky fails on this K: each float32 cell says so in a few words.
    for path in PATHS:
        text = " ".join(plain(cell_text(window, path, "float32")).split())
        assert text == "Cholesky failed", (path, text)
    rows = table_rows(window)
    for path in PATHS:
        assert rows[path][0].startswith("error: Cholesky failed"), rows[path]
    assert_shows_numbers(window, dtypes=("float64",))
    assert not np.isfinite(plotted(window, 0, "mu float32")[1]).any()
    assert np.isfinite(plotted(window, 0, "mu float64")[1]).all()
    # A domain that leaves x outside: x moves to the nearest end and the status bar says so.
    window.editor.line_edit("domain_lo").setText("-1")
    type_into(qtbot, window.editor.line_edit("domain_hi"), "1")
    assert model.problem == GPFLOW.replace(domain=(-1.0, 1.0))
    assert model.x == 1.0 == window.plots.marker_x()
    assert window.panel.x_box().text() == "1.0"
    message = window.statusBar().currentMessage()
    assert "x = 2 lies outside the new domain" in message and "moved to 1" in message
    assert presets.currentText() == "Custom"
    lab.settle(qtbot)


def test_a_long_problem_is_announced_and_cancel_returns_to_the_previous_one(
    qtbot, lab: Lab
) -> None:
    window, model = lab.window, lab.model
    large = FAST.replace(n=2000)
    lab.compute.hold()
    window.editor.problem_applied.emit(large)
    assert "the first results will take about" in window.statusBar().currentMessage()
    cancel = window.statusBar().findChild(QPushButton, "cancel")
    assert not cancel.isVisible()
    lab.compute.emit(Progress("data", "Sampling the data (n = 2000)…", busy=True))
    assert cancel.isVisible()
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert model.problem == FAST and window.editor.problem() == FAST
    assert window.statusBar().currentMessage() == f"Cancelled: back to {FAST.summary()}"
    assert lab.compute.asked.submitted[-1] == (FAST, DEFAULT_X)
    lab.compute.emit(Progress("data", "", busy=False))
    assert not cancel.isVisible()


def test_repeated_failures_show_why_and_retry_asks_every_worker(qtbot, lab: Lab) -> None:
    window = lab.window
    retry = window.statusBar().findChild(QPushButton, "retry")
    assert not retry.isVisible()
    why = "TensorFlow failed 3 times in a row (last: exit code -9); retrying in 5 s"
    lab.compute.emit(Progress("tensorflow", why, busy=False, retry=True))
    assert retry.isVisible() and why in status_text(window)
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    assert lab.compute.asked.retries == 1 and lab.sweeps.asked.retries == 1
    lab.compute.emit(Progress("tensorflow", "Restarting TensorFlow (retry)…", busy=True))
    assert not retry.isVisible() and "Restarting TensorFlow" in status_text(window)


def test_a_task_running_long_says_for_how_long(qtbot, lab: Lab) -> None:
    lab.compute.emit(Progress("reference", "Reference: 256 bits…", busy=True))
    qtbot.waitUntil(lambda: "Reference: 256 bits… (2 s)" in status_text(lab.window), timeout=3000)


def test_a_sweep_point_applies_its_jitter_and_solver_as_one_undoable_change(lab: Lab) -> None:
    window = lab.window
    tabs = window.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Plots", "Sweeps"]
    window.sweeps.jitter_chosen.emit(1e-8, "solve")
    assert lab.model.problem == FAST.replace(jitter=1e-8, solver="solve")
    window.controller.undo_stack.undo()
    assert lab.model.problem == FAST


def test_undo_and_redo_walk_back_through_probe_moves_and_problem_changes(lab: Lab) -> None:
    window, model = lab.window, lab.model
    stack = window.controller.undo_stack
    assert stack.count() == 0
    window.controller.nudge(1)
    window.controller.nudge(1)  # within a second of the first: one step, as a drag is
    moved = model.x
    assert stack.count() == 1
    other = FAST.replace(length_scale=0.9)
    window.editor.problem_applied.emit(other)
    assert model.problem == other and stack.count() == 2
    stack.undo()
    assert model.problem == FAST and model.x == moved
    stack.undo()
    assert model.x == DEFAULT_X and window.plots.marker_x() == DEFAULT_X
    assert not stack.canUndo()
    stack.redo()
    stack.redo()
    assert model.problem == other and model.x == moved
    assert stack.count() == 2  # replaying does not record new steps
    shortcuts = [a.shortcut() for a in menu_actions(window, "&Edit").values()]
    assert QKeySequence(QKeySequence.StandardKey.Undo) in shortcuts
    assert QKeySequence("Ctrl+Shift+Z") in shortcuts


# ------------------------------------------------------------- the Sweeps tab
def full_sweeps(sweeps: RecordedSweeps) -> list[tuple[Problem, float]]:
    """The whole sweeps asked for (not the requests for the advice alone)."""
    asked = sweeps.asked
    return [key for key, full in zip(asked.submitted, asked.full, strict=True) if full]


def test_the_sweeps_tab_sweeps_while_shown_and_stars_only_final_results(qtbot, lab: Lab) -> None:
    window, sweeps = lab.window, lab.sweeps
    view = window.sweeps
    assert full_sweeps(sweeps) == []  # never shown: nothing swept
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: full_sweeps(sweeps) == [(FAST, DEFAULT_X)], timeout=3000)
    assert "sweeping: starting" in view.status.text()
    sweeps.answer(final=False)
    assert all(xy(plot.best)[0].size == 0 for plot in view.plots.values())
    assert "provisional" in view.status.toolTip()
    qtbot.waitUntil(lambda: " s);" in view.status.toolTip(), timeout=3000)  # a clock
    sweeps.answer(final=True)
    assert all(xy(plot.best)[0].size == 1 for plot in view.plots.values())
    assert re.fullmatch(r"done in \d+ s", view.status.toolTip())  # the wall time here
    window.tabs.setCurrentWidget(window.plots)
    window.controller.nudge(1)
    qtbot.wait(600)
    assert len(full_sweeps(sweeps)) == 1  # hidden: no new sweep
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: len(full_sweeps(sweeps)) == 2, timeout=3000)
    assert all(xy(plot.best)[0].size == 0 for plot in view.plots.values())  # another x's


@pytest.mark.parametrize("phase", ["failed", "restarted"])
def test_a_failed_or_restarted_sweep_keeps_no_provisional_mark(qtbot, lab: Lab, phase: str) -> None:
    from gradviz.worker.messages import SweepNote

    window, sweeps = lab.window, lab.sweeps
    window.tabs.setCurrentWidget(window.sweeps)
    qtbot.waitUntil(lambda: sweeps.current is not None and sweeps.full, timeout=3000)
    sweeps.answer(final=False)
    curves = window.sweeps.plots["float64"].curves
    assert any(xy(curve)[0].size for curve in curves.values())
    if phase == "failed":
        note = SweepNote(FAST, DEFAULT_X, "failed", "sweep failed: ValueError: bad")
    else:
        text = "the sweep process ended (code -9); restarting it"
        note = SweepNote(FAST, DEFAULT_X, "running", text, restarted=True)
    sweeps.note.emit(note)
    assert all(xy(curve)[0].size == 0 for curve in curves.values())
    assert all(xy(plot.best)[0].size == 0 for plot in window.sweeps.plots.values())
    assert note.text in window.sweeps.status.toolTip()


# ------------------------------------------------------- one model signal per view
def test_probe_moved_moves_the_marker_and_the_x_box(lab: Lab) -> None:
    lab.model.move_probe(-3.25)
    assert lab.window.plots.marker_x() == -3.25
    assert lab.window.panel.x_box().text() == "-3.25"


def test_report_changed_redraws_the_panel_and_the_plots(lab: Lab) -> None:
    report = lab.compute.report(FAST, -1.5)
    lab.model.move_probe(-1.5)
    lab.model.receive_report(report)
    assert table_rows(lab.window)["x"] == ["-1.5"]
    assert list(plotted(lab.window, 1, "reference")[0]) == [-1.5]


def test_problem_changed_resets_every_view(lab: Lab) -> None:
    other = FAST.replace(n=30, domain=(-2.0, 1.0))
    lab.model.set_problem(other, 0.5)
    window = lab.window
    assert window.windowTitle() == f"gradviz — {other.summary()}"
    assert window.editor.problem() == other
    assert plotted(window, 0, "mu float64")[0].size == 0
    assert table_rows(window)["tape"] == [""] * 6
    assert window.plots.marker_x() == 0.5


def test_tasks_changed_fills_the_status_bar(lab: Lab) -> None:
    lab.model.receive_progress(Progress("curves", "Computing curves…", busy=True))
    bar = lab.window.statusBar()
    assert "Computing curves…" in status_text(lab.window)
    assert bar.findChild(QWidget, "tasks").isVisible()


def test_sweep_changed_redraws_the_sweeps_tab(lab: Lab) -> None:
    from records import make_jitter_sweep

    from gradviz.worker.messages import SweepResult

    lab.model.start_sweep()
    lab.model.receive_sweep_result(SweepResult(make_jitter_sweep(FAST, DEFAULT_X), True))
    plot = lab.window.sweeps.plots["float64"]
    assert sum(xy(curve)[0].size for curve in plot.curves.values()) > 0
    assert xy(plot.best)[0].size == 1


# ----------------------------------------------------------------- geometry
def test_the_first_window_fits_a_small_screen(open_lab) -> None:
    """Without a window manager the first geometry is used as is: it must fit."""
    window = open_lab(show=False).window
    window.fit_on_screen(QRect(0, 0, 1280, 720))
    assert QRect(0, 0, 1280, 720).contains(window.frameGeometry())
    assert window.width() >= 1100 and window.plots.minimumWidth() > 0
    window.resize(1600, 960)
    window.move(400, 300)
    window.fit_on_screen(QRect(0, 0, 1920, 1080))  # room: the size stays, it moves in
    assert (window.width(), window.height()) == (1600, 960)
    assert QRect(0, 0, 1920, 1080).contains(window.frameGeometry())


def test_a_geometry_that_no_longer_fits_is_shrunk_and_moved_in(open_lab) -> None:
    """A stored geometry from a larger screen (or off to its side) on a 1280x720 one."""
    window = open_lab(show=False).window
    window.setGeometry(900, 500, 2400, 1500)
    window.fit_on_screen(QRect(0, 0, 1280, 720))
    assert QRect(0, 0, 1280, 720).contains(window.frameGeometry())
    assert (window.width(), window.height()) == (1280, 720)


def test_a_stored_geometry_below_the_minimum_size_falls_back_to_the_default(
    open_lab: Callable[..., Lab], qtbot, tmp_path: Path
) -> None:
    tiny = QWidget()
    qtbot.addWidget(tiny)
    tiny.setGeometry(0, 0, 1200, 116)
    raw = QSettings(str(tmp_path / "gradviz.ini"), QSettings.Format.IniFormat)
    raw.setValue("geometry", tiny.saveGeometry())
    raw.sync()
    window = open_lab().window
    assert window.width() >= 1100 and window.height() >= 640


def test_the_plots_get_most_of_the_width_and_the_window_has_a_minimum(lab: Lab) -> None:
    window = lab.window
    window.resize(200, 150)
    assert window.width() >= 1100 and window.height() >= 640
    for size in ((1280, 720), (1600, 960), (3840, 2160)):
        window.resize(*size)
        QApplication.processEvents()
        assert window.plots.width() > 0.5 * window.width(), size
        side = window.centralWidget().widget(1)
        assert side.width() >= side.minimumSizeHint().width()  # nothing clipped


def test_plots_and_marker_are_visible_in_the_smallest_window(qtbot, open_lab) -> None:
    lab = open_lab(show=False)
    window = lab.window
    window.resize(1200, 700)
    with qtbot.waitExposed(window):
        window.show()
    lab.settle(qtbot)  # the filled panel is wider
    QApplication.processEvents()
    assert (window.width(), window.height()) == (1200, 700)
    graphics = window.plots.graphics()
    visible = graphics.mapToScene(graphics.viewport().rect()).boundingRect()
    top = window.plots.plot_items()[0]
    marker = top.vb.mapViewToScene(QPointF(lab.model.x, sum(top.vb.viewRange()[1]) / 2))
    assert visible.contains(marker), (visible, marker)


# ------------------------------------------------------------------ menus
def test_export_from_the_window(lab: Lab, tmp_path: Path) -> None:
    window = lab.window
    folder = tmp_path / "shots"
    folder.mkdir()
    aspect = window.height() / window.width()
    window.files.export(ExportChoice("window", folder / "window.png", 800))
    image = QImage(str(folder / "window.png"))
    assert image.width() == 800 and abs(image.height() - 800 * aspect) <= 1
    assert distinct_colors(image) > 100
    window.files.export(ExportChoice("plots", folder / "plots.png", 600))
    image = QImage(str(folder / "plots.png"))
    assert image.width() == 600 and distinct_colors(image) > 50
    window.files.export(ExportChoice("plots", folder / "plots.svg", None))
    root = ET.parse(folder / "plots.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10
    assert sorted(os.listdir(folder)) == ["plots.png", "plots.svg", "window.png"]


def test_export_data_writes_the_curves_as_csv_with_its_suffix(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = lab.window
    chosen = tmp_path / "curves"  # typed without ".csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(chosen), ""))
    menu_actions(window, "&File")["Export &data…"].trigger()
    written = tmp_path / "curves.csv"
    rows = list(csv.DictReader(io.StringIO(written.read_text())))
    assert len(rows) == CURVE_POINTS and [p.name for p in tmp_path.iterdir()] == ["curves.csv"]
    assert all(row["reference_grad"] and row["float64_correct_digits"] for row in rows)
    assert float(rows[0]["x"]) == FAST.domain[0]
    assert window.statusBar().currentMessage() == f"Exported {CURVE_POINTS} rows to {written}"


def test_closing_saves_the_problem_and_x(qtbot, lab: Lab) -> None:
    window, model = lab.window, lab.model
    reread = WindowSettings(QSettings(str(lab.settings_file), QSettings.Format.IniFormat))
    assert reread.problem() == Problem()  # nothing saved yet: the default comes back
    type_into(qtbot, window.editor.line_edit("seed"), "7")
    window.controller.nudge(3)
    problem, x = model.problem, model.x
    assert problem == FAST.replace(seed=7) and x == DEFAULT_X + 3 * model.grid_step()
    window.close()
    assert not lab.compute.isRunning() and not lab.sweeps.isRunning()
    saved = WindowSettings(QSettings(str(lab.settings_file), QSettings.Format.IniFormat))
    assert saved.problem() == problem and saved.x() == x
    assert saved.geometry() is not None and saved.splitter() is not None


def test_open_recent_lists_the_last_sessions_newest_first_and_opens_them(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window, model = lab.window, lab.model
    saved = []
    for index in range(10):
        chosen = tmp_path / f"run{index}"  # without ".json": the suffix is appended
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *_a, c=chosen, **_k: (str(c), "")
        )
        window.controller.nudge(1)
        window.findChild(QAction, "save_session").trigger()
        saved.append(tmp_path / f"run{index}.json")
    assert all(path.is_file() for path in saved)
    recent = menu_actions(window, "&File")["Open &Recent"].menu()
    recent.aboutToShow.emit()
    entries = [a.toolTip() for a in recent.actions()]
    assert entries == [str(path) for path in reversed(saved)][:8]
    first_x = model.x
    window.controller.nudge(5)
    [oldest] = [a for a in recent.actions() if a.toolTip() == str(saved[2])]
    oldest.trigger()
    assert model.x == pytest.approx(first_x - 7 * model.grid_step())
    assert window.statusBar().currentMessage() == f"Opened {saved[2]}"


def test_a_recent_name_with_a_nul_byte_is_a_message_not_a_traceback(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-edited settings file can remember a name no file can have (issue 22.5)."""
    window, model = lab.window, lab.model
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    lab.settings.add_recent_session(tmp_path / "lab\0.json")
    recent = menu_actions(window, "&File")["Open &Recent"].menu()
    recent.aboutToShow.emit()
    problem, x = model.problem, model.x
    [entry] = [a for a in recent.actions() if "\0" in a.toolTip()]
    entry.trigger()
    [message] = shown
    assert "NUL byte" in message and "\0" not in message
    assert (model.problem, model.x) == (problem, x)


def test_view_menu_resets_the_view_and_switches_the_theme(qtbot, lab: Lab) -> None:
    window = lab.window
    view = menu_actions(window, "&View")
    assert view["&Reset view"].shortcut() == QKeySequence("Ctrl+0")
    window.plots.plot_items()[0].setXRange(0.5, 1.0, padding=0)
    view["&Reset view"].trigger()
    x_lo, x_hi = window.plots.view_x_range()
    assert x_lo <= FAST.domain[0] and x_hi >= FAST.domain[1]
    themes = {a.text(): a for a in view["&Theme"].menu().actions()}
    assert set(themes) == {"System", "Light", "Dark"} and themes["System"].isChecked()
    app = QApplication.instance()
    previous = app.palette()
    try:
        themes["Dark"].trigger()
        base = app.palette().color(QPalette.ColorRole.Base)
        assert base.lightness() < 60
        graphics = window.plots.graphics()
        qtbot.waitUntil(lambda: graphics.backgroundBrush().color() == base, timeout=2_000)
        field = window.editor.line_edit("n")  # styled by a sheet: it must follow too
        assert field.palette().color(QPalette.ColorRole.Base) == base
        themes["Light"].trigger()
        assert app.palette().color(QPalette.ColorRole.Base).lightness() > 200
    finally:
        app.setPalette(previous)


def test_about_shows_the_versions_and_copies_them(lab: Lab) -> None:
    window = lab.window
    box = window.about_dialog()
    shown = plain(box.text())
    for name in ("gradviz:", "python:", "tensorflow:", "numpy:", "python-flint:", "qt:"):
        assert name in shown
    assert "BLAS:" in shown and "platform:" in shown
    [copy] = [b for b in box.buttons() if b.text() == "Copy versions"]
    copy.click()
    copied = QApplication.clipboard().text()
    assert copied.splitlines()[0].startswith("gradviz: ") and "tensorflow: 2." in copied
    assert window.statusBar().currentMessage() == "Copied the versions"
    box.close()


def test_help_menu_opens_the_guide_with_f1_and_the_shortcuts_page(lab: Lab) -> None:
    window = lab.window
    help_actions = menu_actions(window, "&Help")
    assert set(help_actions) >= {"&Guide", "&Keyboard shortcuts", "&About gradviz"}
    assert help_actions["&Guide"].shortcut() == QKeySequence("F1")
    help_actions["&Keyboard shortcuts"].trigger()
    guide = window.findChild(QDialog, "guide")
    assert guide is not None and guide.isVisible()
    text = guide.findChild(QTextBrowser, "guide_text").toPlainText()
    assert "Shift+Left" in text and "Ctrl+Shift+S" in text
    assert guide.findChild(QTextBrowser).verticalScrollBar().value() > 0
    help_actions["&Guide"].trigger()
    assert window.findChildren(QDialog, "guide") == [guide]  # one guide, reused
