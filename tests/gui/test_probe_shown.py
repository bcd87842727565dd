"""The answer, the panel and the readout under the plots describe the x the marker shows:
while its results are pending they say "computing at x = ..." (greyed), never an old x's
numbers as if current; a release computes at exactly the marker's x. Recorded workers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST, Lab
from PyQt6.QtCore import QEvent
from PyQt6.QtGui import QTextDocument
from PyQt6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from test_window import drag, send_mouse, table_rows, viewport_point

from gradviz.core.numerics.results import CURVE_PATH, DTYPES
from gradviz.gui.plots import PlotStack


def plain(rich: str) -> str:
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText().replace("\xa0", " ")


def summary(lab: Lab) -> str:
    label = lab.window.panel.findChild(QLabel, "summary")
    assert label is not None
    return plain(label.text())


def title(lab: Lab) -> str:
    label = lab.window.panel.findChild(QLabel, "title")
    assert label is not None
    return plain(label.text())


def hold_at(stack: PlotStack, plot_index: int, away: float, end: float) -> None:
    """Press on the marker, drag it to ``away``, then to ``end``, and keep holding."""
    stack.graphics().scene().minDragTime = 0
    point = viewport_point(stack, plot_index, stack.marker_x())
    send_mouse(stack, QEvent.Type.MouseMove, point, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, point, held=True)
    for x in (away, end):
        send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, plot_index, x), held=True)


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_a_release_computes_at_exactly_the_markers_x(qtbot: QtBot, lab: Lab) -> None:
    stack, model = lab.window.plots, lab.model
    # pyqtgraph maps the release through the moved line's own transform: a hand released
    # where it last moved lands ~1e-15 away (39 releases of 60 here, before this was
    # fixed). That is no move, and no new computation.
    rng = np.random.default_rng(21)
    for away, end in rng.uniform(-4.5, 4.5, (20, 2)):
        hold_at(stack, 1, away, end)
        shown, asked = model.x, len(lab.compute.asked.submitted)
        assert lab.compute.asked.submitted[-1][1] == shown
        send_mouse(stack, QEvent.Type.MouseButtonRelease, viewport_point(stack, 1, end), False)
        assert not model.dragging
        assert len(lab.compute.asked.submitted) == asked
        assert model.x == shown
        for line in stack.marker.lines:
            assert float(line.value()).hex() == shown.hex()
    # A real move of the hand is a new x, computed exactly where the marker is.
    drag(stack, plot_index=1, start=model.x, end=-1.3)
    requested = lab.compute.asked.submitted[-1][1]
    assert requested.hex() == model.x.hex() == stack.marker_x().hex()
    assert {float(line.value()).hex() for line in stack.marker.lines} == {requested.hex()}
    lab.settle(qtbot)
    report = model.report
    assert report is not None and report.result.x.hex() == requested.hex()


def test_pending_results_say_computing_at_the_markers_x(qtbot: QtBot, lab: Lab) -> None:
    window, model, stack = lab.window, lab.model, lab.window.plots
    window.panel.flush()
    assert "computing" not in summary(lab)
    assert stack.probe_readout().startswith(f"probe x = {model.x:.7g}: d mu/dx = ")
    lab.compute.hold()
    window.controller.nudge(3)
    x = model.x
    window.panel.flush()
    # At once: the readout and the answer name the x being computed.
    assert stack.probe_readout() == f"computing at x = {x:.7g}…"
    assert summary(lab).endswith(f"answer: computing at x = {x!r}…")
    # Once overdue, the table is greyed and its header says so too.
    qtbot.waitUntil(lambda: model.stale, timeout=3000)
    assert title(lab).startswith(f"Computing at x = {x!r}…")
    assert table_rows(window)["stale"] == [f"computing at x = {x!r}"]
    lab.compute.release()
    lab.settle(qtbot)
    window.panel.flush()
    assert title(lab).startswith(f"Gradients at x = {x!r}")
    assert "computing" not in summary(lab)
    report = model.report
    assert report is not None
    values = [f"{report.result.cell(CURVE_PATH, dtype).grad:.7g}" for dtype in DTYPES]
    assert stack.probe_readout() == f"probe x = {x:.7g}: d mu/dx = {' / '.join(values)}"


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_while_dragging_the_answer_says_which_x_it_waits_for(qtbot: QtBot, lab: Lab) -> None:
    window, model, stack = lab.window, lab.model, lab.window.plots
    stack.graphics().scene().minDragTime = 0
    start = viewport_point(stack, 1, model.x)
    send_mouse(stack, QEvent.Type.MouseMove, start, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, start, held=True)
    send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, 1, 0.4), held=True)
    assert model.dragging
    assert summary(lab).endswith(f"answer: computing at x = {model.x!r}…")
    send_mouse(stack, QEvent.Type.MouseButtonRelease, viewport_point(stack, 1, 0.4), held=False)
    lab.settle(qtbot)
    window.panel.flush()
    assert not model.dragging and "computing" not in summary(lab)
    assert FAST.summary() in summary(lab)
