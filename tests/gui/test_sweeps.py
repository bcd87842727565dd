"""The Sweeps tab as a view of the model's sweep: what is drawn is the sweep's rows, the
best is starred only once the sweep is final, a click asks for a point's jitter and
solver. Recorded sweeps (``records.py``): no TensorFlow; the sweep worker and its
process are tested in ``tests/worker/test_sweep_worker.py``."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QColor, QImage, QPalette
from PyQt6.QtWidgets import QApplication
from records import make_jitter_sweep, make_step_sweep
from spec import DTYPES
from test_sweeps_tab import click

from gradviz.core.analysis.sweep import best_per_dtype
from gradviz.core.io.files import SaveError
from gradviz.core.problem.spec import Problem
from gradviz.gui.model import WindowModel
from gradviz.gui.sweep_plots import FAILED_AT, ZERO_AT, log_jitter
from gradviz.gui.sweeps import SweepsView
from gradviz.worker.messages import SweepNote, SweepResult

SMALL = Problem(n=20)
X = 1.5


@pytest.fixture(scope="module")
def sweep():
    return make_jitter_sweep(SMALL, X)


@pytest.fixture(scope="module")
def step():
    return make_step_sweep(SMALL, X)


@pytest.fixture
def view(qtbot):
    widget = SweepsView(WindowModel(SMALL, X))
    qtbot.addWidget(widget)
    return widget


def finish(view, sweep) -> None:
    """The sweep of the view's model arrives, complete."""
    model = view.model
    model.start_sweep()
    model.receive_sweep_result(SweepResult(sweep, final=True))
    model.receive_sweep_note(SweepNote(SMALL, X, "done", "done in 9 s"))


def test_log_axis_positions() -> None:
    assert log_jitter(1e-6) == pytest.approx(-6) and log_jitter(0.0) == ZERO_AT == -17


def test_curves_failures_and_best_are_the_sweeps_rows(view, sweep) -> None:
    finish(view, sweep)
    assert "done" in view.status.text()
    for dtype in DTYPES:
        plot = view.plots[dtype]
        rows = [row for row in sweep.rows if row.dtype == dtype]
        for solver, curve in plot.curves.items():
            mine = [row for row in rows if row.solver == solver and row.digits is not None]
            x, y = curve.getData()  # rows without digits are left out, never drawn as NaN
            assert list(x) == [log_jitter(row.jitter) for row in mine]
            np.testing.assert_array_equal(y, [row.digits for row in mine])
        failed = [row for row in rows if row.failure_kind is not None]
        fx, fy = plot.failed.getData()
        assert sorted(fx) == sorted(log_jitter(row.jitter) for row in failed)
        assert all(value == FAILED_AT for value in fy)  # below the axis, not at 0 digits
        best = best_per_dtype(sweep.rows)[dtype]
        bx, by = plot.best.getData()
        assert (bx[0], by[0]) == (log_jitter(best.jitter), best.digits)
        assert f"{best.digits:.1f}" in plot.best_text.textItem.toPlainText()
    lines = {
        item.name(): item.value()
        for item in view.plots["float64"].plot.items
        if hasattr(item, "label") and hasattr(item, "name") and item.name()
    }
    assert lines["GPflow"] == pytest.approx(-6) and lines["seed"] == ZERO_AT
    assert lines["scikit-learn"] == pytest.approx(-10) and "GPyTorch float32" not in lines
    assert math.isclose(
        next(
            item.value()
            for item in view.plots["float32"].plot.items
            if getattr(item, "name", lambda: None)() == "GPyTorch float32"
        ),
        -4,
    )


def test_the_step_plot_is_the_step_sweeps_rows(view, step) -> None:
    view.model.start_sweep()
    view.model.receive_step(step)
    plot = view.step_plot
    for dtype in DTYPES:
        rows = [r for r in step.rows if r.dtype == dtype and r.abs_error]
        curve = plot.curves[dtype]
        assert list(curve.xData) == [r.h for r in rows]
        assert list(curve.yData) == [r.abs_error for r in rows]
        h = np.array([r.h for r in step.rows if r.dtype == dtype])
        model = step.truncation[dtype] * h**2 + step.rounding[dtype] / h
        np.testing.assert_allclose(plot.asymptotes[dtype].yData, model, rtol=1e-12)
        assert plot.defaults[dtype].value() == pytest.approx(math.log10(step.default_h[dtype]))


def test_clicking_a_point_emits_its_jitter_and_solver(qtbot, view, sweep) -> None:
    view.resize(900, 700)
    with qtbot.waitExposed(view):
        view.show()
    finish(view, sweep)
    QApplication.processEvents()  # the view range follows the new data when laid out
    plot = view.plots["float64"]
    row = next(
        r for r in sweep.rows if r.dtype == "float64" and r.solver == "solve" and r.jitter == 1e-4
    )
    scene_point = plot.plot.vb.mapViewToScene(QPointF(log_jitter(row.jitter), row.digits))
    with qtbot.waitSignal(view.jitter_chosen, timeout=2000) as blocker:
        click(plot, scene_point)
    jitter, solver = blocker.args
    # the topmost curve's point there: solvers whose digits coincide overlap
    clicked = next(
        r for r in sweep.rows if (r.dtype, r.solver, r.jitter) == ("float64", solver, jitter)
    )
    assert jitter == 1e-4 and clicked.digits == pytest.approx(row.digits, abs=0.05)


def test_the_sweeps_follow_the_palette_like_the_plots(qtbot, view) -> None:
    app = QApplication.instance()
    previous = app.palette()
    dark = QPalette(previous)
    dark.setColor(QPalette.ColorRole.Base, QColor("#17181a"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8e8e8"))
    try:
        app.setPalette(dark)
        widgets = view.findChildren(pg.PlotWidget)
        assert len(widgets) == 3
        qtbot.waitUntil(
            lambda: all(w.backgroundBrush().color() == QColor("#17181a") for w in widgets)
        )
        axis = widgets[0].getPlotItem().getAxis("left")
        assert axis.textPen().color() == QColor("#e8e8e8")
    finally:
        app.setPalette(previous)


def test_the_sweep_exports_its_rows_as_csv_and_the_tab_as_png(view, sweep, tmp_path) -> None:
    with pytest.raises(SaveError, match="no sweep has finished yet"):
        view.export(tmp_path / "early.csv")
    finish(view, sweep)
    QApplication.processEvents()
    view.export(tmp_path / "rows.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "rows.csv").read_text())))
    assert len(rows) == len(sweep.rows)
    first = sweep.rows[0]
    assert float(rows[0]["jitter"]) == first.jitter and rows[0]["solver"] == first.solver
    view.resize(800, 900)
    view.export(tmp_path / "tab.png")
    assert QImage(str(tmp_path / "tab.png")).width() == view.width()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "tab.png"]
