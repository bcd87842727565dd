"""The items of the three plots, created once and updated with ``setData``.

Each class owns one plot's items and draws what a record says, nothing more: the data and
the quantity's value (mu, var or LML) with tangents at the probe (:class:`DataPlot`), its
derivative with the reference, its jitter limit and the spread at the probe
(:class:`DerivativePlot`), and correct digits over the probe's axis with every path's
digits at the probe (:class:`PrecisionPlot`). Positions on the probe's axis arrive as
probes (x or theta) with the :class:`~gradviz.gui.probe_axis.ProbeAxis` that draws
them. Line widths and symbol sizes come from a :class:`PlotLook`: 1 on screen, larger
for an export drawn larger.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QPen
from PyQt6.QtWidgets import QGraphicsItem

from gradviz.core.numerics.results import (
    CURVE_PATH,
    DTYPES,
    PATHS,
    Curves,
    DType,
    PrecisionCurves,
    ProbeReport,
    Reference,
)
from gradviz.gui import style
from gradviz.gui.plot_ranges import edge_spots, finite_or_nan, off_scale_note
from gradviz.gui.probe_axis import ProbeAxis

TRUTH_NAME = "exact"
TRUTH_WIDTH = 2.5
DENSE_DATA = 100  # above this many sample points they are drawn smaller
TANGENT_HALF_WIDTH = 0.04  # fraction of the visible x range
BEAM_WIDTH = 0.015  # error-bar beam, fraction of the visible x range
SPREAD_OFFSET = 0.006  # spread bars beside the probe, fraction of the visible x range
FAILURE_CHARS = 36  # a failed dtype's reason in its legend entry; the panel has the rest
OFF_SCALE_INSET = 0.012  # edge marks sit this fraction of the y span inside the edge
Items = dict[DType, Any]  # pyqtgraph items per dtype (pyqtgraph has no type information)


def with_alpha(color: QColor, alpha: int) -> QColor:
    faded = QColor(color)
    faded.setAlpha(alpha)
    return faded


def _width(dtype: DType) -> float:
    """Line width: float32 on top and thinner than float64 (see DataPlot)."""
    return 3.0 if dtype == "float64" else 1.0


def cache_as_pixmap(item: QGraphicsItem) -> None:
    """Repaint ``item`` from a pixmap until it changes. Moving the probe marker repaints a
    strip through every plot, and each axis (its grid spans the plot) and each 1000-point
    curve crossing that strip would otherwise be replayed or stroked in full, every frame;
    caching took a drag frame from ~14 ms to ~11 ms here. Only for items that change when
    the problem does, not on every probe."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


@dataclass(frozen=True)
class PlotLook:
    """Line widths and symbol sizes, times ``scale``: pyqtgraph's pens and symbols are
    cosmetic (fixed in device pixels), so a plot rendered ``scale`` times the screen's size
    is built with them ``scale`` times as large, or it would draw hairlines."""

    scale: float = 1.0
    cached: bool = True  # on screen; an export is drawn once, scaled: nothing to cache

    def cache_as_pixmap(self, item: QGraphicsItem) -> None:
        if self.cached:
            cache_as_pixmap(item)

    def pen(self, color: object, width: float = 1.0, line: Qt.PenStyle | None = None) -> QPen:
        pen: QPen = pg.mkPen(color, width=width * self.scale)
        if line is not None:
            pen.setStyle(line)
        return pen

    def size(self, pixels: float) -> float:
        return pixels * self.scale

    def antialiased(self, dtype: DType) -> bool:
        """Qt's raster engine strokes antialiased pens wider than one pixel ~200x slower
        than hairlines (650 ms against 1.5 ms for one noisy 1000-point curve, measured
        here), which froze the window for a second per frame while dragging: the wide
        float64 curve is drawn without antialiasing and every antialiased long curve is a
        1-pixel line (on screen; an export is drawn once)."""
        return _width(dtype) <= 1.0


class CurvesPlot:
    """A plot of one quantity over x per dtype, with the truth and off-scale marks."""

    def __init__(self, plot: Any, look: PlotLook, what: str) -> None:
        self.plot, self.look = plot, look
        self.curves: Items = {}
        for dtype in DTYPES:
            curve = plot.plot(
                [], [], pen=look.pen(style.DTYPE_COLORS[dtype], _width(dtype)),
                connect="finite", name=f"{what} {dtype}", antialias=look.antialiased(dtype),
            )  # fmt: skip
            look.cache_as_pixmap(curve.curve)
            curve.setZValue(-DTYPES.index(dtype))
            self.curves[dtype] = curve
        # The reference over x (or its jitter limit): dashed, above the dtype curves so
        # the noise is seen around it.
        pen = look.pen(style.REFERENCE_COLOR, TRUTH_WIDTH, Qt.PenStyle.DashLine)
        self.truth = plot.plot([], [], pen=pen, connect="finite", name=TRUTH_NAME, antialias=False)
        self.truth.setZValue(10)
        look.cache_as_pixmap(self.truth.curve)
        self.marks: Items = {}
        for dtype in DTYPES:  # small triangles on the edge where a curve leaves the view
            mark = pg.ScatterPlotItem(size=look.size(7), pen=None, brush=style.DTYPE_COLORS[dtype])
            mark.setZValue(30)
            look.cache_as_pixmap(mark)  # up to 96 marks, repainted whenever the probe moves
            plot.addItem(mark, ignoreBounds=True)
            self.marks[dtype] = mark

    def show_curves(self, x: np.ndarray, values: dict[DType, np.ndarray]) -> None:
        """``x`` in view coordinates (see ProbeAxis.views)."""
        for dtype in DTYPES:
            self.curves[dtype].setData(x, finite_or_nan(values[dtype]))

    def show_truth(self, x: np.ndarray | None, values: np.ndarray | None) -> None:
        """The reference curve at ``x`` (view coordinates), or nothing."""
        if x is None or values is None:
            self.truth.setData([], [])
        else:
            self.truth.setData(x, finite_or_nan(values))

    def rename(self, what: str) -> None:
        """Call the dtype curves ``<what> <dtype>`` (mu, var, LML, d mu/dx...); the legend
        follows at the next :meth:`update_off_scale_marks`."""
        for dtype in DTYPES:
            self.curves[dtype].opts["name"] = f"{what} {dtype}"

    def set_truth_label(self, text: str) -> None:
        label = self.plot.legend.getLabel(self.truth)
        if label is not None:
            label.setText(text)

    def update_off_scale_marks(self, failures: dict[DType, str], foreground: str) -> None:
        """Edge marks where a dtype's curve leaves the visible y range, and a legend note
        with its extreme value (or the reason the dtype has no numbers)."""
        (x_lo, x_hi), (y_lo, y_hi) = self.plot.vb.viewRange()
        inset = OFF_SCALE_INSET * (y_hi - y_lo)
        for dtype in DTYPES:
            curve, marks = self.curves[dtype], self.marks[dtype]
            xs, ys = curve.xData, curve.yData
            label = self.plot.legend.getLabel(curve)
            name = curve.name() or ""
            if failures.get(dtype) and label is not None:
                marks.setData([], [])
                label.setText(f"{name}: no numbers ({failures[dtype]})", color=style.muted_text())
                continue
            if xs is None or ys is None or not len(xs):
                marks.setData([], [])
                if label is not None:
                    label.setText(name, color=foreground)
                continue
            shown = (xs >= x_lo) & (xs <= x_hi) & np.isfinite(ys)
            above, below = shown & (ys > y_hi), shown & (ys < y_lo)
            marks.setData(
                [
                    *edge_spots(xs[above], y_hi - inset, "t"),
                    *edge_spots(xs[below], y_lo + inset, "t1"),
                ]
            )
            if label is not None:
                label.setText(name + off_scale_note(ys[above | below]), color=foreground)


def failures(curves: Curves | None) -> dict[DType, str]:
    """Why a dtype's curves have no numbers, in a few words, per dtype that has none."""
    if curves is None:
        return {}
    found = {}
    for dtype in DTYPES:
        error = curves.errors.get(dtype)
        if error and not np.isfinite(curves.grad[dtype]).any():
            found[dtype] = textwrap.shorten(str(error), FAILURE_CHARS, placeholder="…")
    return found


class DataPlot(CurvesPlot):
    """The sampled data, mu per dtype (float32 thin on top of a wider float64, so both show
    where they coincide), the truth, and each dtype's tangent at the probe."""

    def __init__(self, plot: Any, look: PlotLook) -> None:
        self.points = plot.plot(
            [], [], pen=None, symbol="o", name="data y", symbolBrush=style.DATA_COLOR,
            symbolPen=None, symbolSize=look.size(5),
        )  # fmt: skip
        self.points.setZValue(-10)  # under the curves, which pass through it
        look.cache_as_pixmap(self.points.scatter)
        super().__init__(plot, look, "mu")
        self.tangents: Items = {}
        for dtype in DTYPES:
            tangent = pg.PlotDataItem(
                [], [], pen=look.pen(style.DTYPE_COLORS[dtype], _width(dtype) + 1),
                name=f"tangent {dtype}",
            )  # fmt: skip
            tangent.setZValue(20 - DTYPES.index(dtype))
            plot.addItem(tangent, ignoreBounds=True)
            plot.legend.removeItem(tangent)  # short segments at the probe: see the guide
            self.tangents[dtype] = tangent

    def probe_items(self) -> list[Any]:
        """What moves with the probe (see plot_backdrop.py)."""
        return list(self.tangents.values())

    def show_data(self, grid: np.ndarray, y: np.ndarray) -> None:
        self.points.setData(np.asarray(grid), np.asarray(y))
        # Dense grids (the seed has 300 points) would hide mu under a grey band.
        self.points.setSymbolSize(self.look.size(5 if len(grid) <= DENSE_DATA else 3))

    def show_tangents(
        self, report: ProbeReport | None, visible_width: float, axis: ProbeAxis
    ) -> None:
        """Segment through (t, value) with slope grad, per dtype, drawn in view
        coordinates (on a log axis its slope is grad * t * ln 10, so it touches the drawn
        curve); empty for a failed cell."""
        for dtype in DTYPES:
            tangent = self.tangents[dtype]
            if report is None:
                tangent.setData([], [])
                continue
            t = report.result.x
            cell = report.result.cell(CURVE_PATH, dtype)
            if cell.mu is None or cell.grad is None or not np.isfinite([cell.mu, cell.grad]).all():
                tangent.setData([], [])
                continue
            half = TANGENT_HALF_WIDTH * visible_width
            u = axis.view(t)
            xs = np.array([u - half, u + half])
            tangent.setData(xs, cell.mu + axis.view_slope(t, cell.grad) * (xs - u))


class DerivativePlot(CurvesPlot):
    """d mu/dx per dtype, the truth, and at the probe the reference with its ball (or the
    jitter limit, hollow and labelled) and a bar per dtype for the spread."""

    def __init__(self, plot: Any, look: PlotLook) -> None:
        super().__init__(plot, look, "d mu/dx")
        self.spread_bars: Items = {}
        for dtype in DTYPES:
            color = with_alpha(QColor(style.DTYPE_COLORS[dtype]), 150)
            bar = pg.PlotDataItem([], [], pen=look.pen(color, 5), name=f"spread {dtype}")
            bar.setZValue(25)
            plot.addItem(bar, ignoreBounds=True)
            plot.legend.removeItem(bar)  # explained by the panel's spread lines and the guide
            self.spread_bars[dtype] = bar
        self.error_bar = pg.ErrorBarItem(pen=look.pen(style.REFERENCE_COLOR, 2))
        plot.addItem(self.error_bar)
        # In the legend: its sample grows with the legend, so its size is not scaled.
        self.reference = pg.ScatterPlotItem(
            size=10, symbol="o", brush=style.REFERENCE_COLOR, pen=None, name="reference"
        )
        plot.addItem(self.reference)
        self.limit = pg.ScatterPlotItem(
            size=look.size(11), symbol="o", brush=None, name="jitter limit",
            pen=look.pen(style.REFERENCE_COLOR, 2),
        )  # fmt: skip
        plot.addItem(self.limit)
        plot.legend.removeItem(self.limit)  # it carries its own label on the plot
        self.limit_text = pg.TextItem("", color=style.REFERENCE_COLOR, anchor=(-0.08, 0.5))
        plot.addItem(self.limit_text, ignoreBounds=True)
        self.limit_text.setVisible(False)

    def probe_items(self) -> list[Any]:
        """What moves with the probe (see plot_backdrop.py)."""
        fixed = [self.error_bar, self.reference, self.limit, self.limit_text]
        return [*self.spread_bars.values(), *fixed]

    def show_reference(self, reference: Reference | None, x: float, visible_width: float) -> None:
        """Exact: filled marker with its ball as error bar. Undetermined: hollow marker at
        the jitter limit, labelled. None: nothing."""
        ball = reference.grad if reference is not None and reference.status == "exact" else None
        limit = reference.limit if reference is not None and ball is None else None
        if ball is not None:
            self.reference.setData([x], [ball.mid])
            self.error_bar.setData(
                x=np.array([x]), y=np.array([ball.mid]), height=np.array([2 * ball.radius]),
                beam=BEAM_WIDTH * visible_width,
            )  # fmt: skip
        else:
            self.reference.setData([], [])
            self.error_bar.setData(x=None, y=None)
        if limit is not None:
            self.limit.setData([x], [limit.grad.mid])
            self.limit_text.setText(f"jitter {limit.jitter:g} limit")
            self.limit_text.setPos(x, limit.grad.mid)
        else:
            self.limit.setData([], [])
        self.limit_text.setVisible(limit is not None)

    def show_spread(
        self, report: ProbeReport | None, visible_width: float, axis: ProbeAxis
    ) -> None:
        """What equivalent programs print at x: a bar per dtype from the smallest to the
        largest gradient of the perturbed copies, float32 just left of x, float64 right."""
        for side, dtype in zip((-1, 1), DTYPES, strict=True):
            spread = None if report is None else report.result.spread.get(dtype)
            if report is None or spread is None:
                self.spread_bars[dtype].setData([], [])
                continue
            at = axis.view(report.result.x) + side * SPREAD_OFFSET * visible_width
            self.spread_bars[dtype].setData([at, at], [spread.grad_min, spread.grad_max])


class PrecisionPlot:
    """One axis of correct digits (0..17): the curve path's digits over x per dtype, the
    digits each dtype carries (dashed), what cond(K) leaves of them (dotted), the spread's
    digits (thin), and every path's digits at the probe as markers."""

    def __init__(self, plot: Any, look: PlotLook) -> None:
        self.plot = plot
        self.digits: Items = {}
        self.carried: Items = {}
        self.left: Items = {}
        self.spread_digits: Items = {}
        self.correct: Items = {}
        for dtype in DTYPES:
            self.digits[dtype] = plot.plot(
                [], [], pen=look.pen(style.DTYPE_COLORS[dtype], 1.5), connect="finite",
                name=f"{dtype} correct digits",
            )  # fmt: skip
            look.cache_as_pixmap(self.digits[dtype].curve)
        for dtype in DTYPES:
            color = style.DTYPE_COLORS[dtype]
            self.carried[dtype] = plot.plot(
                [], [], pen=look.pen(color, 1.5, Qt.PenStyle.DashLine),
                name=f"{dtype} digits carried",
            )  # fmt: skip
            self.left[dtype] = plot.plot(
                [], [], pen=look.pen(color, 2, Qt.PenStyle.DotLine),
                name=f"{dtype} left by cond(K)",
            )  # fmt: skip
        for dtype in DTYPES:
            self.spread_digits[dtype] = plot.plot(
                [], [], pen=look.pen(style.DTYPE_COLORS[dtype], 1), connect="finite",
                name=f"{dtype} spread digits",
            )  # fmt: skip
            look.cache_as_pixmap(self.spread_digits[dtype].curve)
        # The probe's markers are explained by the guide and their tooltips, not the
        # legend, which must fit in three rows above the curves.
        for dtype in DTYPES:
            self.correct[dtype] = pg.ScatterPlotItem(
                size=look.size(11), symbol="o", brush=style.DTYPE_COLORS[dtype],
                name=f"{dtype} at x",
            )  # fmt: skip
            plot.addItem(self.correct[dtype])
            plot.legend.removeItem(self.correct[dtype])
        self.other_paths = pg.ScatterPlotItem(
            size=look.size(7), symbol="d", pen=None, name="other paths"
        )
        plot.addItem(self.other_paths)
        plot.legend.removeItem(self.other_paths)

    def probe_items(self) -> list[Any]:
        """What moves with the probe (see plot_backdrop.py)."""
        return [*self.correct.values(), self.other_paths]

    def show_spread_digits(self, curves: Curves | None, axis: ProbeAxis) -> None:
        for dtype in DTYPES:
            digits = None if curves is None else curves.spread_digits.get(dtype)
            item = self.spread_digits[dtype]
            if curves is None or digits is None:
                item.setData([], [])
            else:
                item.setData(axis.views(curves.x), digits)

    def show_precision(self, precision: PrecisionCurves | None, axis: ProbeAxis) -> None:
        """Correct digits over the probe's axis per dtype, and the carried and cond-left
        levels across its whole span."""
        ends = list(axis.view_domain)
        for dtype in DTYPES:
            if precision is None:
                for item in (self.digits[dtype], self.carried[dtype], self.left[dtype]):
                    item.setData([], [])
                continue
            self.digits[dtype].setData(axis.views(precision.x), precision.digits[dtype])
            self.carried[dtype].setData(ends, [precision.carried[dtype]] * 2)
            left = None if precision.left is None else precision.left[dtype]
            self.left[dtype].setData(*(([], []) if left is None else (ends, [left] * 2)))

    def show_digits(self, report: ProbeReport | None, axis: ProbeAxis) -> None:
        """Correct digits at x per dtype: the curve path large, other paths small, in the
        dtype colour."""
        if report is None:
            for dtype in DTYPES:
                self.correct[dtype].setData([], [])
            self.other_paths.setData([], [])
            return
        x = axis.view(report.result.x)
        digits = report.diagnosis.correct_digits
        others: list[float] = []
        brushes = []
        for dtype in DTYPES:
            value = digits.get((CURVE_PATH, dtype))
            self.correct[dtype].setData([x] * (value is not None), [] if value is None else [value])
            for path in PATHS:
                value = digits.get((path, dtype))
                if path != CURVE_PATH and value is not None:
                    others.append(value)
                    brushes.append(pg.mkBrush(style.DTYPE_COLORS[dtype]))
        self.other_paths.setData([x] * len(others), others, brush=brushes)
