"""The Sweeps tab's plots: correct digits against jitter per dtype, and the central
difference's error against its step h.

Jitter runs on a log axis, with jitter 0 one decade left of 1e-16. A failed factor is a
cross below the axis, never zero digits. The best (jitter, solver) is starred only once
the sweep is final: before, every digit is measured against the best jitter-free answer
found so far, which may still change.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt

from gradviz.core.analysis.sweep import (
    JITTER_DECADES,
    LIBRARY_JITTERS,
    JitterSweep,
    StepSweep,
    SweepRow,
)
from gradviz.core.numerics.results import DTYPES, DType
from gradviz.core.problem.spec import SOLVERS, Solver
from gradviz.gui import style
from gradviz.gui.plot_legend import FrameLegend

LEGEND_COLUMNS = 4  # one or two rows above the data
ZERO_AT = JITTER_DECADES[0] - 1  # where jitter 0 sits on the log10 axis
FAILED_AT = -0.6  # digits axis position of a failed cell's cross
CLICK_PX = 12.0  # a click this close to a point (in screen pixels) picks it
LABEL_TOP = 0.98  # the library lines' labels' first row, as a share of the height
SYMBOLS = {"inverse": "o", "solve": "s", "cholesky": "t"}
LINES = {
    "inverse": Qt.PenStyle.SolidLine,
    "solve": Qt.PenStyle.DashLine,
    "cholesky": Qt.PenStyle.DashDotLine,
}


def log_jitter(jitter: float) -> float:
    """Position on the plots' x axis: log10(jitter), ZERO_AT for jitter 0."""
    return math.log10(jitter) if jitter > 0 else float(ZERO_AT)


def _ticks() -> list[tuple[float, str]]:
    lo, hi = JITTER_DECADES
    return [(float(ZERO_AT), "0")] + [(float(k), f"1e{k}") for k in range(lo, hi + 1, 2)]


class DtypePlot:
    """One dtype's plot: a curve per solver, the prediction, failures, best, libraries."""

    def __init__(self, widget: Any, dtype: DType) -> None:
        self.plot = widget.getPlotItem()
        self.dtype = dtype
        color = style.DTYPE_COLORS[dtype]
        self.plot.setTitle(f"{dtype}: correct digits about the jitter-free answer")
        self.plot.setLabel("bottom", "jitter")
        self.plot.setLabel("left", "digits")
        self.plot.getAxis("bottom").setTicks([_ticks()])
        self.plot.setYRange(FAILED_AT - 0.4, 17, padding=0)
        FrameLegend(self.plot, colCount=LEGEND_COLUMNS)
        self.curves: dict[Solver, Any] = {}
        for solver in SOLVERS:
            self.curves[solver] = self.plot.plot(
                [], [], name=solver, pen=pg.mkPen(color, width=2, style=LINES[solver]),
                symbol=SYMBOLS[solver], symbolBrush=color, symbolPen=None, symbolSize=8,
                connect="finite",
            )  # fmt: skip
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
        libraries = [
            (name, jitter)
            for name, jitter in LIBRARY_JITTERS
            if not name.startswith("GPyTorch") or name.endswith(dtype)
        ]
        for index, (name, jitter) in enumerate(libraries):
            line = pg.InfiniteLine(
                log_jitter(jitter),
                angle=90,
                pen=pg.mkPen(style.DATA_COLOR, style=Qt.PenStyle.DashLine),
                label=name.split(" ")[0],  # each plot is one dtype: GPyTorch's shows its own
                # Neighbours alternate between two rows, one label height apart: the
                # lines are two decades or more apart, wider than a label.
                labelOpts={"position": LABEL_TOP, "anchors": [(0, -1.1 * (index % 2))] * 2},
                name=name,
            )
            self.plot.addItem(line, ignoreBounds=True)
        self._shown: list[SweepRow] = []  # the rows drawn (with digits), for clicks
        self._best: SweepRow | None = None

    def show(self, sweep: JitterSweep | None, final: bool) -> None:
        """The rows of ``sweep`` (none: empty); the best is starred only when ``final``."""
        rows = [] if sweep is None else [row for row in sweep.rows if row.dtype == self.dtype]
        self._shown = [row for row in rows if row.digits is not None]
        for solver, curve in self.curves.items():
            mine = [row for row in rows if row.solver == solver]
            # Only rows with digits: a symbol at NaN makes pyqtgraph take nanmin of an
            # all-NaN slice (a RuntimeWarning). A row without digits still breaks the line.
            kept = [i for i, row in enumerate(mine) if row.digits is not None]
            curve.setData(
                [log_jitter(mine[i].jitter) for i in kept],
                [mine[i].digits for i in kept],
                data=[mine[i].jitter for i in kept],
                connect=np.append(np.diff(kept) == 1, False)[: len(kept)],
            )
        predicted = {row.jitter: row.predicted_digits for row in rows}
        self.predicted.setData([log_jitter(j) for j in predicted], list(predicted.values()))
        failed = [row for row in rows if row.failure_kind is not None]
        self.failed.setData([log_jitter(row.jitter) for row in failed], [FAILED_AT] * len(failed))
        best = None if sweep is None or not final else sweep.best.get(self.dtype)
        self._best = None
        if best is not None:
            self._best = next(
                (r for r in self._shown if (r.jitter, r.solver) == (best.jitter, best.solver)),
                None,
            )
        if best is None:
            self.best.setData([], [])
            self.best_text.setText("")
            return
        self.best.setData([log_jitter(best.jitter)], [best.digits])
        self.best_text.setText(f"best: {best.solver}, jitter {best.jitter:g}, {best.digits:.1f}")
        self.best_text.setPos(log_jitter(best.jitter), best.digits)

    def point_at(self, scene_x: float, scene_y: float) -> tuple[float, Solver] | None:
        """The (jitter, solver) of the point drawn nearest to a click in scene coordinates
        (the star's where it is drawn on top), or None when none is within CLICK_PX.
        Where points coincide, the one drawn on top wins: the star, then the later curve."""
        view = self.plot.vb
        ranked = []
        for row in self._shown:
            if row.digits is None:
                continue
            at = view.mapViewToScene(QPointF(log_jitter(row.jitter), row.digits))
            distance = math.hypot(at.x() - scene_x, at.y() - scene_y)
            on_top = (row is self._best, SOLVERS.index(row.solver))
            ranked.append((distance, tuple(-rank for rank in on_top), row))
        near = [entry for entry in ranked if entry[0] <= CLICK_PX]
        if not near:
            return None
        _, _, row = min(near, key=lambda entry: entry[:2])
        return row.jitter, row.solver


class StepPlot:
    """|error| of the central difference against h, log-log, a curve per dtype, with the
    asymptotes |mu^(3)| h^2 / 6 + eps |mu| / h dotted and each dtype's default h as a
    vertical line."""

    def __init__(self, widget: Any) -> None:
        self.plot = widget.getPlotItem()
        self.plot.setTitle("central difference at x: |error| against the step h")
        self.plot.setLabel("bottom", "h")
        self.plot.setLabel("left", "|error|")
        self.plot.setLogMode(x=True, y=True)
        for side in ("bottom", "left"):  # an SI prefix on a log axis misreads as a scale
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        FrameLegend(self.plot, colCount=LEGEND_COLUMNS)
        self.curves: dict[DType, Any] = {}
        self.asymptotes: dict[DType, Any] = {}
        self.defaults: dict[DType, Any] = {}
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
                # One row per dtype: the two defaults may be close (or unset, both at 0).
                labelOpts={"position": 0.92 - 0.12 * DTYPES.index(dtype), "color": color},
                name=f"default h {dtype}",
            )
            self.plot.addItem(self.defaults[dtype], ignoreBounds=True)

    def show(self, sweep: StepSweep | None) -> None:
        for dtype in DTYPES:
            if sweep is None:
                self.curves[dtype].setData([], [])
                self.asymptotes[dtype].setData([], [])
                continue
            rows = [row for row in sweep.rows if row.dtype == dtype]
            h = np.array([row.h for row in rows])
            error = np.array([np.nan if row.abs_error is None else row.abs_error for row in rows])
            shown = error > 0  # a log axis has no place for an exact 0 (or NaN)
            self.curves[dtype].setData(h[shown], error[shown])
            c_t, c_r = sweep.truncation[dtype], sweep.rounding[dtype]
            model = (0 if c_t is None else c_t) * h**2 + (0 if c_r is None else c_r) / h
            self.asymptotes[dtype].setData(h[model > 0], model[model > 0])
            self.defaults[dtype].setValue(math.log10(sweep.default_h[dtype]))
