"""The Sweeps tab: correct digits against jitter, one plot per dtype, one curve per solver.

Each plot shows the digits about the jitter-free answer per solver (a point per jitter;
a failed factor as a cross below the axis, never as zero digits), what cond(K + jitter I)
leaves of the dtype's digits (dotted), each library's default jitter (a labelled vertical
line) and the best (jitter, solver) with its digits. Jitter runs on a log axis, with
jitter 0 one decade left of 1e-16. Clicking a point emits ``jitter_chosen(jitter, solver)``.
Below them, the central difference's |error| against its step h per dtype (log-log). The
sweeps run in :class:`~gradviz.worker.sweep_worker.SweepWorker`; this view computes nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QShowEvent
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gradviz.core.analysis.sweep import JITTER_DECADES, LIBRARY_JITTERS, JitterSweep, StepSweep
from gradviz.core.io.files import SaveError, save_text
from gradviz.core.io.sweep_export import JITTER_COLUMNS, jitter_records, to_csv
from gradviz.core.numerics.results import DTYPES
from gradviz.core.problem.spec import SOLVERS, Problem
from gradviz.gui import style
from gradviz.gui.export import export_window
from gradviz.worker.sweep_worker import SweepWorker

ZERO_AT = JITTER_DECADES[0] - 1  # where jitter 0 sits on the log10 axis
FAILED_AT = -0.6  # digits axis position of a failed cell's cross
SYMBOLS = {"inverse": "o", "solve": "s", "cholesky": "t"}
LINES = {
    "inverse": Qt.PenStyle.SolidLine,
    "solve": Qt.PenStyle.DashLine,
    "cholesky": Qt.PenStyle.DashDotLine,
}
EXPORT_FILTERS = "The rows as CSV (*.csv);;The tab as PNG (*.png)"
DEBOUNCE_MS = 400


def log_jitter(jitter: float) -> float:
    """Position on the plots' x axis: log10(jitter), ZERO_AT for jitter 0."""
    return math.log10(jitter) if jitter > 0 else float(ZERO_AT)


def _ticks() -> list[tuple[float, str]]:
    lo, hi = JITTER_DECADES
    return [(float(ZERO_AT), "0")] + [(float(k), f"1e{k}") for k in range(lo, hi + 1, 2)]


class _DtypePlot:
    """One dtype's plot: a curve per solver, the prediction, failures, best, libraries."""

    def __init__(self, widget: pg.PlotWidget, dtype: str) -> None:
        self.plot = widget.getPlotItem()
        self.dtype = dtype
        color = style.DTYPE_COLORS[dtype]
        self.plot.setTitle(f"{dtype}: correct digits about the jitter-free answer")
        self.plot.setLabel("bottom", "jitter")
        self.plot.setLabel("left", "digits")
        self.plot.getAxis("bottom").setTicks([_ticks()])
        self.plot.setYRange(FAILED_AT - 0.4, 17, padding=0)
        self.plot.addLegend(offset=(-10, 10))
        self.curves = {
            solver: self.plot.plot(
                [],
                [],
                name=solver,
                pen=pg.mkPen(color, width=2, style=LINES[solver]),
                symbol=SYMBOLS[solver],
                symbolBrush=color,
                symbolPen=None,
                symbolSize=8,
                connect="finite",
            )
            for solver in SOLVERS
        }
        self.predicted = self.plot.plot(
            [], [], name="cond(K + jI) leaves", pen=pg.mkPen(color, style=Qt.PenStyle.DotLine)
        )
        self.failed = pg.ScatterPlotItem(
            size=10, symbol="x", brush=style.ERROR_COLOR, pen=None, name="failed factorisation"
        )
        self.plot.addItem(self.failed)
        self.best = pg.ScatterPlotItem(size=18, symbol="star", brush=style.REFERENCE_COLOR)
        self.plot.addItem(self.best, ignoreBounds=True)
        self.best_text = pg.TextItem("", color=style.REFERENCE_COLOR, anchor=(0.5, 1.3))
        self.plot.addItem(self.best_text, ignoreBounds=True)
        for name, jitter in LIBRARY_JITTERS:
            if name.endswith("float32") != (dtype == "float32") and name.startswith("GPyTorch"):
                continue
            line = pg.InfiniteLine(
                log_jitter(jitter),
                angle=90,
                pen=pg.mkPen(style.DATA_COLOR, style=Qt.PenStyle.DashLine),
                label=name.split(" ")[0],  # each plot is one dtype: GPyTorch's shows its own
                labelOpts={"position": 0.97, "anchors": [(0, 0), (0, 0)]},
                name=name,
            )
            self.plot.addItem(line, ignoreBounds=True)

    def show(self, sweep: JitterSweep) -> None:
        rows = [row for row in sweep.rows if row.dtype == self.dtype]
        for solver, curve in self.curves.items():
            mine = [row for row in rows if row.solver == solver]
            curve.setData(
                [log_jitter(row.jitter) for row in mine],
                [math.nan if row.digits is None else row.digits for row in mine],
                data=[row.jitter for row in mine],
            )
        predicted = {row.jitter: row.predicted_digits for row in rows}
        self.predicted.setData([log_jitter(j) for j in predicted], list(predicted.values()))
        failed = [row for row in rows if row.failure_kind is not None]
        self.failed.setData([log_jitter(row.jitter) for row in failed], [FAILED_AT] * len(failed))
        best = sweep.best.get(self.dtype)
        if best is None:
            self.best.setData([], [])
            self.best_text.setText("")
            return
        self.best.setData([log_jitter(best.jitter)], [best.digits])
        self.best_text.setText(f"best: {best.solver}, jitter {best.jitter:g}, {best.digits:.1f}")
        self.best_text.setPos(log_jitter(best.jitter), best.digits)


class _StepPlot:
    """|error| of the central difference against h, log-log, a curve per dtype, with the
    asymptotes |mu^(3)| h^2 / 6 + eps |mu| / h dotted and each dtype's default h as a
    vertical line."""

    def __init__(self, widget: pg.PlotWidget) -> None:
        self.plot = widget.getPlotItem()
        self.plot.setTitle("central difference at x: |error| against the step h")
        self.plot.setLabel("bottom", "h")
        self.plot.setLabel("left", "|error|")
        self.plot.setLogMode(x=True, y=True)
        for side in ("bottom", "left"):  # an SI prefix on a log axis misreads as a scale
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.addLegend(offset=(-10, 10))
        self.curves, self.asymptotes, self.defaults = {}, {}, {}
        for dtype in DTYPES:
            color = style.DTYPE_COLORS[dtype]
            self.curves[dtype] = self.plot.plot(
                [], [], name=dtype, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
                symbolBrush=color, symbolPen=None, connect="finite",
            )  # fmt: skip
            self.asymptotes[dtype] = self.plot.plot(
                [], [], pen=pg.mkPen(color, style=Qt.PenStyle.DotLine), connect="finite"
            )
            self.defaults[dtype] = pg.InfiniteLine(
                angle=90,
                pen=pg.mkPen(color, style=Qt.PenStyle.DashLine),
                label=f"default h ({dtype})",
                labelOpts={"position": 0.9, "color": color},
                name=f"default h {dtype}",
            )
            self.plot.addItem(self.defaults[dtype], ignoreBounds=True)

    def show(self, sweep: StepSweep) -> None:
        for dtype in DTYPES:
            rows = [row for row in sweep.rows if row.dtype == dtype]
            h = np.array([row.h for row in rows])
            error = np.array([np.nan if row.abs_error is None else row.abs_error for row in rows])
            shown = error > 0  # a log axis has no place for an exact 0 (or NaN)
            self.curves[dtype].setData(h[shown], error[shown])
            c_t, c_r = sweep.truncation[dtype], sweep.rounding[dtype]
            model = (0 if c_t is None else c_t) * h**2 + (0 if c_r is None else c_r) / h
            self.asymptotes[dtype].setData(h[model > 0], model[model > 0])
            self.defaults[dtype].setValue(math.log10(sweep.default_h[dtype]))


class SweepsView(QWidget):
    """Digits against jitter for the current problem and x, computed in the background."""

    jitter_chosen = pyqtSignal(float, str)  # jitter, solver of a clicked point

    def __init__(self, worker: SweepWorker | None = None) -> None:
        super().__init__()
        self._worker = SweepWorker() if worker is None else worker
        self._target: tuple[Problem, float] | None = None
        self._shown: tuple[Problem, float] | None = None
        self.sweep: JitterSweep | None = None
        self.status = QLabel("no sweep yet")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.start_button = QPushButton("Sweep again")
        self.start_button.clicked.connect(self._submit)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The sweep's rows as CSV, or this tab as PNG")
        self.export_button.clicked.connect(self._on_export_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.export_button)
        bar.addWidget(self.start_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.plots: dict[str, _DtypePlot] = {}
        self._dtype_widgets: list[pg.PlotWidget] = []
        for dtype in DTYPES:
            widget = pg.PlotWidget()
            layout.addWidget(widget, 1)
            self.plots[dtype] = _DtypePlot(widget, dtype)
            self._dtype_widgets.append(widget)
        step_widget = pg.PlotWidget()
        layout.addWidget(step_widget, 1)
        self.step_plot = _StepPlot(step_widget)
        self._widgets = [*self._dtype_widgets, step_widget]
        self._apply_palette()
        for dtype in DTYPES:
            for solver, curve in self.plots[dtype].curves.items():
                curve.sigPointsClicked.connect(
                    lambda _, points, __, solver=solver: self._on_point_clicked(points, solver)
                )
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._submit)
        self._worker.progress.connect(self._on_progress)
        self._worker.partial.connect(self._on_sweep)
        self._worker.step_ready.connect(self.step_plot.show)
        self._worker.finished_sweep.connect(self._on_finished)
        self._worker.errored.connect(self._on_errored)
        self._worker.cancelled.connect(lambda: self._set_running(False, "cancelled"))

    def set_target(self, problem: Problem, x: float) -> None:
        """The problem and x to sweep; swept (latest wins) while the tab is visible."""
        self._target = (problem, x)
        if self.isVisible():
            self._debounce.start()

    def changeEvent(self, event: QEvent | None) -> None:
        """Follow a light/dark palette switch, as the main plots do."""
        super().changeEvent(event)
        if event is not None and event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        background, foreground = style.plot_colors()
        for widget in self._widgets:
            widget.setBackground(background)
            plot = widget.getPlotItem()
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(foreground)
                plot.getAxis(name).setTextPen(foreground)
            plot.titleLabel.setText(plot.titleLabel.text, color=foreground.name())
            if plot.legend is not None:
                plot.legend.setLabelTextColor(foreground)
                for _, label in plot.legend.items:
                    label.setText(label.text)  # the colour alone does not re-render

    def showEvent(self, event: QShowEvent | None) -> None:
        super().showEvent(event)
        if self._target is not None and self._target != self._shown:
            self._debounce.start()

    def stop(self) -> None:
        """End the worker and any sweep it runs (the window calls this on close)."""
        self._debounce.stop()
        self._worker.stop()

    def _submit(self) -> None:
        if self._target is None:
            return
        self._shown = self._target
        problem, x = self._target
        self._set_running(True, f"sweeping x = {x:g}, {problem.summary()}")
        # Started by the first sweep: a window whose tab is never shown runs no thread for it.
        if not self._worker.isRunning():
            self._worker.start()
        self._worker.submit(problem, x)

    def _set_running(self, running: bool, text: str) -> None:
        self.cancel_button.setEnabled(running)
        self.status.setText(text)

    def _on_cancel_clicked(self) -> None:
        self._shown = None
        self._worker.cancel()

    def _on_progress(self, text: str) -> None:
        self.status.setText(f"sweeping: {text}")

    def _on_sweep(self, sweep: JitterSweep) -> None:
        self.sweep = sweep
        for plot in self.plots.values():
            plot.show(sweep)

    def _on_finished(self, sweep: JitterSweep) -> None:
        self._on_sweep(sweep)
        base = "none" if sweep.bias_jitter is None else f"jitter {sweep.bias_jitter:g}"
        self._set_running(
            False, f"done in {sweep.seconds:.1f} s; jitter-free answer: the reference at {base}"
        )

    def export(self, path: Path) -> None:
        """The jitter sweep's rows as CSV (as `gradviz sweep jitter --format csv` writes
        them), or the tab as PNG; raises SaveError with the reason."""
        if path.suffix.lower() == ".csv":
            if self.sweep is None:
                raise SaveError(f"Cannot save {path}: no sweep has finished yet.")
            save_text(path, to_csv(jitter_records(self.sweep), JITTER_COLUMNS))
        else:
            export_window(self, path)

    def _on_export_clicked(self) -> None:
        chosen, chosen_filter = QFileDialog.getSaveFileName(
            self, "Export the sweep", "sweep.csv", EXPORT_FILTERS
        )
        if not chosen:
            return
        path = Path(chosen)
        if not path.suffix:
            path = path.with_name(path.name + (".png" if "PNG" in chosen_filter else ".csv"))
        try:
            self.export(path)
        except SaveError as error:
            QMessageBox.warning(self, "Cannot export the sweep", str(error))
            return
        self.status.setText(f"exported {path}")

    def _on_errored(self, reason: str) -> None:
        self._set_running(False, f"sweep failed: {reason}")

    def _on_point_clicked(self, points: list[pg.SpotItem], solver: str) -> None:
        if points:
            self.jitter_chosen.emit(float(points[0].data()), solver)
