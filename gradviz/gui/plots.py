"""Three linked plots of one problem: data and mu, d mu/dx, and precision.

Every number drawn here arrives in a record from :mod:`gradviz.core.numerics.results`;
this module only places it. Items are created once in ``__init__`` and
updated with ``setData``, so an update never rebuilds the scene.

One probe marker runs through all three plots: a movable vertical line per
plot, kept in sync by value. ``InfiniteLine.sigPositionChanged`` fires for
drags, for ``setValue`` and repeatedly at a bound, so every handler
deduplicates on ``float(line.value())``.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPen, QResizeEvent
from PyQt6.QtWidgets import QApplication, QGraphicsItem, QLabel, QVBoxLayout, QWidget
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

from gradviz.core.numerics.results import (
    CURVE_PATH,
    DTYPES,
    PATHS,
    Curves,
    PrecisionCurves,
    ProbeReport,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui import style

TITLES = ("Data and posterior mean", "Derivative d mu/dx", "Precision")
LEFT_LABELS = ("mu(x)", "d mu/dx", "correct digits")
# Three rows at most, so each legend fits in the headroom above the curves; the top two
# have long entries (off-scale notes), the precision plot many short ones.
LEGEND_COLUMNS = (2, 2, 3)
TITLE_SIZE = "11pt"
LABEL_SIZE = "10pt"
LEGEND_SIZE = "9pt"
AXIS_WIDTH = 64  # fixed left/right axis width so the three plot areas line up
GRID_ALPHA = 0.15
DENSE_DATA = 100  # above this many sample points they are drawn smaller
TANGENT_HALF_WIDTH = 0.04  # fraction of the visible x range
BEAM_WIDTH = 0.015  # error-bar beam, fraction of the visible x range
SPREAD_OFFSET = 0.006  # spread bars beside the probe, fraction of the visible x range
RANGE_PERCENTILES = (1.0, 99.0)
RANGE_PADDING = 0.06
MIN_SPAN = 1e-12  # relative to the values' magnitude
TINY = 1e-290  # below this pyqtgraph's tick spacing underflows
TRUTH_NAME = "exact"
READOUT_HINT = "Move the mouse over a plot to read x and the value under the cursor"
LEGEND_HEADROOM = 0.4  # extra space above the data, as a fraction of its span, for the legend
DIGITS_RANGE = (0.0, 17.0)  # the precision plot's axis, decimal digits
DIGITS_TICKS = (0, 3, 6, 9, 12, 15)
TRUTH_WIDTH = 2.5
FAILURE_CHARS = 36  # a failed dtype's reason in its legend entry; the panel has the rest
READOUT_RATE_HZ = 30
OFF_SCALE_MARKS = 48  # at most this many edge marks per curve and edge
OFF_SCALE_INSET = 0.012  # edge marks sit this fraction of the y span inside the edge


def _width(dtype: str) -> float:
    """Line width: float32 on top and thinner than float64 (see _dtype_curves)."""
    return 3.0 if dtype == "float64" else 1.0


# Qt's raster engine strokes antialiased pens wider than one pixel ~200x slower than
# hairlines (measured here: 650 ms against 1.5 ms for one noisy 1000-point curve), which
# froze the window for a second per frame while dragging. So the wide float64 curve is
# drawn without antialiasing (3 ms) and every antialiased long curve is a 1-pixel line.
def _antialiased(dtype: str) -> bool:
    return _width(dtype) <= 1.0


def _cache_as_pixmap(item: QGraphicsItem) -> None:
    """Repaint ``item`` from a pixmap until it changes. Moving the probe marker repaints a
    strip through every plot, and each axis (its grid spans the plot) and each 1000-point
    curve crossing that strip would otherwise be replayed or stroked in full, every frame;
    caching took a drag frame from ~14 ms to ~11 ms here. Only for items that change when
    the problem does, not on every probe."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _with_alpha(color: QColor, alpha: int) -> QColor:
    faded = QColor(color)
    faded.setAlpha(alpha)
    return faded


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    """Display mask: +-inf becomes NaN so ``connect="finite"`` leaves a gap."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _at(x: float, values: list[float]) -> tuple[list[float], list[float]]:
    """Scatter data for several values at one x."""
    return [x] * len(values), values


def _with_headroom(lo: float, hi: float) -> tuple[float, float]:
    """Pad a range and leave room above it, so the top-left legend covers no data. A span
    too small to tick (values that all underflow to about 0, a flat curve) becomes the
    values' magnitude, or 1: pyqtgraph divides by zero on subnormal tick spacings."""
    span, size = hi - lo, max(abs(lo), abs(hi))
    if not (span > MIN_SPAN * size and span > TINY):
        span = size if size > TINY else 1.0
    return lo - RANGE_PADDING * span, hi + (RANGE_PADDING + LEGEND_HEADROOM) * span


def _robust_range(curve: np.ndarray, always: list[float]) -> tuple[float, float] | None:
    """Default y range: the 1st..99th percentile of ``curve`` plus every value in ``always``.

    Why: an ill-conditioned problem gives float32 derivatives of 1e3..1e6 that would squash
    the float64 curve and the reference to a flat line under plain autorange. The float64
    curve and the reference decide the default view; float32 excursions beyond it are
    clipped, and "View all" / the autorange button still shows everything.
    """
    finite = np.asarray(curve, dtype=float)
    finite = finite[np.isfinite(finite)]
    points = [v for v in always if np.isfinite(v)]
    if finite.size:
        points.extend(float(p) for p in np.percentile(finite, RANGE_PERCENTILES))
    return _with_headroom(min(points), max(points)) if points else None


def _wider(pen: object, ratio: float) -> QPen:
    wide = pg.mkPen(pen)
    wide.setWidthF(max(1.0, wide.widthF()) * ratio)
    return wide


def _widen(item: object, ratio: float) -> list[Callable[[], None]]:
    """Scale ``item``'s pen (and symbol size) by ``ratio``; return how to undo it."""
    if isinstance(item, pg.PlotDataItem):
        pen, size = item.opts["pen"], item.opts["symbolSize"]
        item.setPen(_wider(pen, ratio))
        item.setSymbolSize(size * ratio)
        return [lambda: item.setPen(pen), lambda: item.setSymbolSize(size)]
    if isinstance(item, pg.ScatterPlotItem):
        scatter_size = item.opts["size"]
        item.setSize(scatter_size * ratio)
        return [lambda: item.setSize(scatter_size)]
    if isinstance(item, pg.InfiniteLine):
        line_pen = item.pen
        item.setPen(_wider(line_pen, ratio))
        return [lambda: item.setPen(line_pen)]
    if isinstance(item, pg.ErrorBarItem):
        bar_pen = item.opts["pen"]
        item.setData(pen=_wider(bar_pen, ratio))
        return [lambda: item.setData(pen=bar_pen)]
    return []


Box = tuple[float, float, float, float]  # x_lo, x_hi, y_lo, y_hi


def clip_polyline(x: np.ndarray, y: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """The parts of the polyline inside ``box``, each segment cut where it crosses an edge
    (Liang-Barsky), pieces separated by NaN. Segments touching a NaN are dropped. [k]"""
    x_lo, x_hi, y_lo, y_hi = box
    out_x: list[float] = []
    out_y: list[float] = []
    for x0, y0, x1, y1 in zip(x[:-1], y[:-1], x[1:], y[1:], strict=True):
        if not np.isfinite([x0, y0, x1, y1]).all():
            continue
        dx, dy = x1 - x0, y1 - y0
        t0, t1 = 0.0, 1.0
        inside = True
        for p, q in ((-dx, x0 - x_lo), (dx, x_hi - x0), (-dy, y0 - y_lo), (dy, y_hi - y0)):
            if p == 0:
                inside = inside and q >= 0
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
        if not inside or t0 > t1:
            continue
        start = (x0 + t0 * dx, y0 + t0 * dy)
        if not out_x or (out_x[-1], out_y[-1]) != start:
            if out_x:
                out_x.append(np.nan)
                out_y.append(np.nan)
            out_x.append(start[0])
            out_y.append(start[1])
        out_x.append(x0 + t1 * dx)
        out_y.append(y0 + t1 * dy)
    return np.array(out_x), np.array(out_y)


def _spot(spot: Any) -> dict[str, object]:
    """A scatter point (pyqtgraph's SpotItem) as the keywords ScatterPlotItem.setData
    takes back."""
    keys = ("pos", "brush", "pen", "symbol", "size")
    return {key: getattr(spot, key)() for key in keys}


def _clip(item: object, box: Box) -> list[Callable[[], None]]:
    """Cut a curve's line (or a scatter's points) to ``box``; return how to undo it."""
    x_lo, x_hi, y_lo, y_hi = box
    if isinstance(item, pg.PlotDataItem) and item.xData is not None and len(item.xData) > 1:
        x, y = item.xData, item.yData
        if item.opts["pen"] is not None and item.opts["symbol"] is None:
            item.setData(*clip_polyline(x, y, box))
            return [lambda: item.setData(x, y)]
    if isinstance(item, pg.ScatterPlotItem) and len(item.data):
        points = item.getData()
        keep = (points[0] >= x_lo) & (points[0] <= x_hi)
        keep &= (points[1] >= y_lo) & (points[1] <= y_hi)
        if not keep.all():
            spots = [_spot(spot) for spot in item.points()]
            item.setData([spot for spot, kept in zip(spots, keep, strict=True) if kept])
            return [lambda: item.setData(spots)]
    return []


def _edge_spots(xs: np.ndarray, y: float, symbol: str) -> list[dict[str, object]]:
    """At most OFF_SCALE_MARKS evenly chosen marks at height ``y``."""
    step = max(1, len(xs) // OFF_SCALE_MARKS)
    return [{"pos": (float(x), y), "symbol": symbol} for x in xs[::step]]


def _off_scale_note(values: np.ndarray) -> str:
    """Legend note for a clipped curve: how far beyond the view it goes."""
    if not values.size:
        return ""
    return f" (off-scale {values.min():.3g} .. {values.max():.3g})"


class PlotStack(QWidget):
    """Data and mu, d mu/dx and precision of the current problem, over x, with one probe."""

    x_changed = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._problem: Problem | None = None
        self._report: ProbeReport | None = None
        self._curves: Curves | None = None
        self._data_y = np.empty(0)
        self._x = DEFAULT_X
        self._truth: ReferenceCurve | None = None
        self._precision: PrecisionCurves | None = None
        self._graphics = pg.GraphicsLayoutWidget(self)
        self._readout = QLabel(READOUT_HINT)
        self._readout.setObjectName("readout")
        self._readout.setContentsMargins(8, 0, 8, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._graphics)
        layout.addWidget(self._readout)
        self._plots = self._build_plots()
        self._build_data_items(self._plots[0])
        self._build_derivative_items(self._plots[1])
        self._build_precision_items(self._plots[2])
        self._lines = self._build_markers()
        self._plots[0].sigXRangeChanged.connect(self._on_x_range_changed)
        for plot in self._plots[:2]:
            plot.sigYRangeChanged.connect(self._on_y_range_changed)
        self._graphics.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._mouse_proxy = pg.SignalProxy(
            self._graphics.scene().sigMouseMoved, rateLimit=READOUT_RATE_HZ,
            slot=self._on_mouse_moved,
        )  # fmt: skip
        self._apply_palette()

    # ----------------------------------------------------------------- building
    def _build_plots(self) -> tuple[pg.PlotItem, pg.PlotItem, pg.PlotItem]:
        """Three stacked plots, x linked to the top one; only the bottom labels x."""
        self._graphics.ci.setContentsMargins(6, 4, 10, 6)
        self._graphics.ci.setSpacing(2)
        plots = tuple(self._graphics.addPlot(row=row, col=0) for row in range(3))
        for plot, label, columns in zip(plots, LEFT_LABELS, LEGEND_COLUMNS, strict=True):
            self._style_plot(plot, label, columns)
        for plot in plots[1:]:
            plot.setXLink(plots[0])
        for plot in plots[:2]:
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("right").setStyle(showValues=False)
        plots[2].setLabel("bottom", "x", **{"font-size": LABEL_SIZE})
        return plots

    def _style_plot(self, plot: pg.PlotItem, left_label: str, legend_columns: int) -> None:
        """Light grid, readable fonts, equal axis widths, a legend in the top-left corner."""
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
        plot.showAxis("right")
        plot.getAxis("right").setGrid(False)  # one grid per plot, from the left axis
        plot.setLabel("left", left_label, **{"font-size": LABEL_SIZE})
        tick_font = QFont(QApplication.font())
        tick_font.setPointSizeF(9.0)
        for name in ("left", "right", "bottom"):
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setStyle(tickFont=tick_font)
            _cache_as_pixmap(axis)
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        plot.getAxis("right").setWidth(AXIS_WIDTH)
        plot.addLegend(
            offset=(6, 4), labelTextSize=LEGEND_SIZE, colCount=legend_columns, verSpacing=-6
        )

    def _build_data_items(self, plot: pg.PlotItem) -> None:
        """Sample points, mu per dtype, and the tangent at the probe per dtype."""
        self._data_points = plot.plot(
            [], [], pen=None, symbol="o", name="data y",
            symbolBrush=style.DATA_COLOR, symbolPen=None,
        )  # fmt: skip
        self._data_points.setZValue(-10)  # under the curves, which pass through it
        _cache_as_pixmap(self._data_points.scatter)
        self._mu = self._dtype_curves(plot, "mu")
        self._truth_mu = self._truth_curve(plot)
        self._mu_marks = self._off_scale_marks(plot)
        self._tangents: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            tangent = pg.PlotDataItem(
                [], [], pen=pg.mkPen(style.DTYPE_COLORS[dtype], width=_width(dtype) + 1),
                name=f"tangent {dtype}",
            )  # fmt: skip
            tangent.setZValue(20 - DTYPES.index(dtype))
            plot.addItem(tangent, ignoreBounds=True)
            plot.legend.removeItem(tangent)  # short segments at the probe: see the guide
            self._tangents[dtype] = tangent

    def _dtype_curves(self, plot: pg.PlotItem, what: str) -> dict[str, pg.PlotDataItem]:
        """One curve per dtype; float32 thin on top of a wider float64, so both show where
        they coincide."""
        curves = {}
        for dtype in DTYPES:
            pen = pg.mkPen(style.DTYPE_COLORS[dtype], width=_width(dtype))
            curves[dtype] = plot.plot(
                [], [], pen=pen, connect="finite", name=f"{what} {dtype}",
                antialias=_antialiased(dtype),
            )  # fmt: skip
            _cache_as_pixmap(curves[dtype].curve)
            curves[dtype].setZValue(-DTYPES.index(dtype))
        return curves

    def _truth_curve(self, plot: pg.PlotItem) -> pg.PlotDataItem:
        """The reference over x (or its jitter limit): a dashed line in the reference
        colour, above the dtype curves so the noise is seen around it."""
        pen = pg.mkPen(style.REFERENCE_COLOR, width=TRUTH_WIDTH, style=Qt.PenStyle.DashLine)
        truth = plot.plot([], [], pen=pen, connect="finite", name=TRUTH_NAME, antialias=False)
        truth.setZValue(10)
        _cache_as_pixmap(truth.curve)
        return truth

    def _off_scale_marks(self, plot: pg.PlotItem) -> dict[str, pg.ScatterPlotItem]:
        """Per dtype, small triangles on the plot's edge where its curve leaves the view."""
        marks = {}
        for dtype in DTYPES:
            mark = pg.ScatterPlotItem(size=7, pen=None, brush=style.DTYPE_COLORS[dtype])
            mark.setZValue(30)
            _cache_as_pixmap(mark)  # up to 96 marks, repainted whenever the probe moves
            plot.addItem(mark, ignoreBounds=True)
            marks[dtype] = mark
        return marks

    def _build_derivative_items(self, plot: pg.PlotItem) -> None:
        """d mu/dx per dtype, the exact reference with its ball, or the jitter limit."""
        self._grad = self._dtype_curves(plot, "d mu/dx")
        self._truth_grad = self._truth_curve(plot)
        self._grad_marks = self._off_scale_marks(plot)
        self._spread_bars: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            color = _with_alpha(QColor(style.DTYPE_COLORS[dtype]), 150)
            bar = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=5), name=f"spread {dtype}")
            bar.setZValue(25)
            plot.addItem(bar, ignoreBounds=True)
            plot.legend.removeItem(bar)  # explained by the panel's spread lines and the guide
            self._spread_bars[dtype] = bar
        self._error_bar = pg.ErrorBarItem(pen=pg.mkPen(style.REFERENCE_COLOR, width=2))
        plot.addItem(self._error_bar)
        self._reference = pg.ScatterPlotItem(
            size=10, symbol="o", brush=style.REFERENCE_COLOR, pen=None, name="reference"
        )
        plot.addItem(self._reference)
        self._limit = pg.ScatterPlotItem(
            size=11, symbol="o", brush=None, name="jitter limit",
            pen=pg.mkPen(style.REFERENCE_COLOR, width=2),
        )  # fmt: skip
        plot.addItem(self._limit)
        plot.legend.removeItem(self._limit)  # it carries its own label on the plot
        self._limit_text = pg.TextItem("", color=style.REFERENCE_COLOR, anchor=(-0.08, 0.5))
        plot.addItem(self._limit_text, ignoreBounds=True)
        self._limit_text.setVisible(False)

    def _build_precision_items(self, plot: pg.PlotItem) -> None:
        """One axis, correct digits 0..17: the curve path's digits over x per dtype, the
        digits each dtype carries (dashed) and what cond(K) leaves of them (dotted), and
        every path's digits at the probe as markers."""
        plot.getAxis("right").setStyle(showValues=False)  # kept, so the plots line up
        plot.getAxis("left").setTicks([[(value, str(value)) for value in DIGITS_TICKS]])
        plot.setYRange(*_with_headroom(*DIGITS_RANGE), padding=0)
        self._digits: dict[str, pg.PlotDataItem] = {}
        self._correct: dict[str, pg.ScatterPlotItem] = {}
        self._carried: dict[str, pg.PlotDataItem] = {}
        self._left: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            self._digits[dtype] = plot.plot(
                [], [], pen=pg.mkPen(style.DTYPE_COLORS[dtype], width=1.5), connect="finite",
                name=f"{dtype} correct digits",
            )  # fmt: skip
            _cache_as_pixmap(self._digits[dtype].curve)
        for dtype in DTYPES:
            color = style.DTYPE_COLORS[dtype]
            self._carried[dtype] = plot.plot(
                [], [], pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                name=f"{dtype} digits carried",
            )  # fmt: skip
            self._left[dtype] = plot.plot(
                [], [], pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DotLine),
                name=f"{dtype} left by cond(K)",
            )  # fmt: skip
        self._spread_digits: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            self._spread_digits[dtype] = plot.plot(
                [], [], pen=pg.mkPen(style.DTYPE_COLORS[dtype], width=1), connect="finite",
                name=f"{dtype} spread digits",
            )  # fmt: skip
            _cache_as_pixmap(self._spread_digits[dtype].curve)
        # The probe's markers are explained by the guide and their tooltips, not the
        # legend, which must fit in three rows above the curves.
        for dtype in DTYPES:
            self._correct[dtype] = pg.ScatterPlotItem(
                size=11, symbol="o", brush=style.DTYPE_COLORS[dtype], name=f"{dtype} at x"
            )
            plot.addItem(self._correct[dtype])
            plot.legend.removeItem(self._correct[dtype])
        self._other_paths = pg.ScatterPlotItem(size=7, symbol="d", pen=None, name="other paths")
        plot.addItem(self._other_paths)
        plot.legend.removeItem(self._other_paths)

    def _build_markers(self) -> tuple[pg.InfiniteLine, ...]:
        """One movable vertical line per plot; the top one shows its x."""
        lines = []
        for index, plot in enumerate(self._plots):
            label = "x = {value:.3f}" if index == 0 else None
            line = pg.InfiniteLine(
                pos=self._x, angle=90, movable=True, label=label,
                # Low on the line: the legends sit in the top-left corners.
                labelOpts={"position": 0.07, "anchors": [(-0.05, 0.5), (-0.05, 0.5)]},
            )  # fmt: skip
            line.setZValue(50)
            plot.addItem(line, ignoreBounds=True)
            line.sigPositionChanged.connect(self._on_line_moved)
            lines.append(line)
        return tuple(lines)

    # ------------------------------------------------------------------- theme
    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._fit_legends()

    def _fit_legends(self) -> None:
        """Fewer legend columns where a plot is too narrow for them (1280 px windows), so
        no entry is cut off; back to LEGEND_COLUMNS where there is room."""
        for plot, columns in zip(self._plots, LEGEND_COLUMNS, strict=True):
            room = plot.vb.width() - 12
            legend = plot.legend
            for count in range(columns, 0, -1):
                legend.setColumnCount(count)
                legend.updateSize()
                if count == 1 or legend.boundingRect().width() <= room:
                    break

    def changeEvent(self, event: QEvent | None) -> None:
        """Follow a light/dark palette switch while the app runs."""
        super().changeEvent(event)
        if event is not None and event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        """Background, axes, titles, legends and markers from the palette."""
        background, foreground = style.plot_colors()
        self._graphics.setBackground(background)
        for plot, title in zip(self._plots, TITLES, strict=True):
            plot.setTitle(title, color=foreground.name(), size=TITLE_SIZE)
            for name in ("left", "right", "bottom"):
                plot.getAxis(name).setPen(foreground)
                plot.getAxis(name).setTextPen(foreground)
            plot.legend.setLabelTextColor(foreground)
            for _, label in plot.legend.items:
                label.setText(label.text)  # setLabelTextColor alone does not re-render
            plot.legend.setBrush(_with_alpha(background, 170))
            plot.legend.setPen(_with_alpha(foreground, 60))
        marker_pen = pg.mkPen(_with_alpha(foreground, 150), width=1.5)
        for line in self._lines:
            line.setPen(marker_pen)
            line.setHoverPen(pg.mkPen(foreground, width=3))
        label = self._lines[0].label
        label.setColor(foreground)
        label.fill = pg.mkBrush(_with_alpha(background, 200))  # TextItem has no setter
        label.update()
        self._update_off_scale_marks()  # the legend notes' colours
        for dtype in DTYPES:
            self._correct[dtype].setPen(pg.mkPen(foreground, width=1))
        self._reference.setPen(pg.mkPen(foreground, width=1))
        # Legend sample of the other paths: neutral, since each point has its dtype colour.
        self._other_paths.setBrush(_with_alpha(foreground, 140), update=False)

    # -------------------------------------------------------------- public API
    def graphics(self) -> pg.GraphicsLayoutWidget:
        """The widget holding the scene, for export and tests."""
        return self._graphics

    def plot_items(self) -> tuple[pg.PlotItem, pg.PlotItem, pg.PlotItem]:
        """Data, derivative and precision plots, top to bottom."""
        return self._plots

    def view_x_range(self) -> tuple[float, float]:
        """The visible x interval (shared by the three linked plots)."""
        lo, hi = self._plots[0].vb.viewRange()[0]
        return float(lo), float(hi)

    @contextlib.contextmanager
    def scaled_for_export(self, ratio: float) -> Iterator[None]:
        """Widen every curve, marker and probe line, and grow the legends, by ``ratio``
        while the scene is rendered ``ratio`` times the screen's size: pyqtgraph's pens are
        cosmetic (fixed in device pixels) and its legends ignore the scene's transform, so
        without this a 4K export draws hairlines and stamp-sized legends."""
        restore: list[Callable[[], None]] = []
        if ratio != 1.0:
            for plot in self._plots:
                # A scatter's legend sample is drawn at its size, then grown with the
                # legend: widening it too would double it there.
                in_legend = {sample.item for sample, _ in plot.legend.items}
                for item in plot.items:
                    if not (isinstance(item, pg.ScatterPlotItem) and item in in_legend):
                        restore += _widen(item, ratio)
                # Legends ignore the scene's transform (they keep their screen size).
                legend, scale = plot.legend, plot.legend.scale()
                legend.setScale(scale * ratio)
                restore.append(functools.partial(legend.setScale, scale))
        try:
            yield
        finally:
            for undo in reversed(restore):
                undo()

    @contextlib.contextmanager
    def clipped_to_views(self) -> Iterator[None]:
        """Cut every curve and scatter to its plot's visible rectangle for the duration,
        so that an SVG needs no clip paths: Qt's own SVG renderer ignores them and would
        draw the off-scale noise over the titles."""
        restore: list[Callable[[], None]] = []
        for plot in self._plots:
            (x_lo, x_hi), (y_lo, y_hi) = plot.vb.viewRange()
            box = (x_lo, x_hi, y_lo, y_hi)
            for item in plot.items:
                restore += _clip(item, box)
        try:
            yield
        finally:
            for undo in reversed(restore):
                undo()

    def reset_view(self) -> None:
        """The default view: the whole domain in x, the default y ranges (View > Reset)."""
        if self._problem is not None:
            self._plots[0].setXRange(*self._problem.domain, padding=0.02)
        self._apply_default_y_ranges()
        self._plots[2].setYRange(*_with_headroom(*DIGITS_RANGE), padding=0)

    def readout(self) -> str:
        """What the cursor readout under the plots says."""
        return self._readout.text()

    def set_view_x_range(self, lo: float, hi: float) -> None:
        """Zoom all plots to [lo, hi] in x (a session's saved view)."""
        self._plots[0].setXRange(lo, hi, padding=0)

    def marker_x(self) -> float:
        """Where the probe marker is (clamped to the domain)."""
        return self._x

    def set_marker_x(self, x: float) -> None:
        """Move every marker to ``x`` (clamped to the domain) without emitting x_changed."""
        self._move_lines(self._clamp(x))

    def set_problem(self, problem: Problem) -> None:
        """Start over on a new domain: bounds, x range, and no curves, data or report."""
        self._problem = problem
        self._report = None
        self._curves = None
        self._data_y = np.empty(0)
        self._x = self._clamp(self._x)  # setBounds re-clamps; this value dedupes it
        for line in self._lines:
            line.setBounds(problem.domain)
        self._plots[0].setXRange(*problem.domain, padding=0.02)
        self._data_points.setData([], [])
        self._truth = None
        self._precision = None
        for item in (self._truth_mu, self._truth_grad):
            item.setData([], [])
        for dtype in DTYPES:
            for item in (
                self._mu[dtype],
                self._grad[dtype],
                self._digits[dtype],
                self._spread_digits[dtype],
            ):
                item.setData([], [])
            self._carried[dtype].setData([], [])
            self._left[dtype].setData([], [])
        self._set_truth_label()
        self._clear_report_items()
        self._update_off_scale_marks()

    def set_data(self, grid: np.ndarray, y: np.ndarray) -> None:
        """The sampled y values at the grid points."""
        self._data_points.setData(np.asarray(grid), np.asarray(y))
        # Dense grids (the seed has 300 points) would hide mu under a grey band.
        self._data_points.setSymbolSize(5 if len(grid) <= DENSE_DATA else 3)
        self._data_y = np.asarray(y, dtype=float)
        self._apply_default_y_ranges()

    def set_curves(self, curves: Curves) -> None:
        """mu and d mu/dx over x per dtype (ignored for another problem)."""
        if curves.problem != self._problem:
            return
        self._curves = curves
        for dtype in DTYPES:
            self._mu[dtype].setData(curves.x, _finite_or_nan(curves.mu[dtype]))
            self._grad[dtype].setData(curves.x, _finite_or_nan(curves.grad[dtype]))
            digits = curves.spread_digits.get(dtype)
            self._spread_digits[dtype].setData(
                *(([], []) if digits is None else (curves.x, digits))
            )
        self._apply_default_y_ranges()

    def set_reference_curve(self, curve: ReferenceCurve) -> None:
        """The truth over x: the reference, or its jitter limit, labelled as such."""
        if curve.problem != self._problem:
            return
        self._truth = curve
        self._truth_mu.setData(curve.x, _finite_or_nan(curve.mu))
        self._truth_grad.setData(curve.x, _finite_or_nan(curve.grad))
        self._set_truth_label()
        self._apply_default_y_ranges()

    def set_precision(self, precision: PrecisionCurves) -> None:
        """Correct digits over x per dtype, and the carried and cond-left levels."""
        if precision.problem != self._problem or self._problem is None:
            return
        self._precision = precision
        domain = list(self._problem.domain)
        for dtype in DTYPES:
            self._digits[dtype].setData(precision.x, precision.digits[dtype])
            self._carried[dtype].setData(domain, [precision.carried[dtype]] * 2)
            left = None if precision.left is None else precision.left[dtype]
            self._left[dtype].setData(*(([], []) if left is None else (domain, [left] * 2)))
        what = f"digits vs the {precision.reference_jitter:g} limit"
        label = what if precision.is_limit else "correct digits"
        self._plots[2].setLabel("left", label, **{"font-size": LABEL_SIZE})

    def truth_label(self) -> str:
        """What the truth line is called in the legends: exact, or which jitter limit."""
        if self._truth is None or not self._truth.is_limit:
            return TRUTH_NAME
        return f"{TRUTH_NAME} (jitter {self._truth.jitter:g} limit)"

    def _set_truth_label(self) -> None:
        for plot, item in ((self._plots[0], self._truth_mu), (self._plots[1], self._truth_grad)):
            label = plot.legend.getLabel(item)
            if label is not None:
                label.setText(self.truth_label())

    def set_report(self, report: ProbeReport) -> None:
        """Tangents, reference and digits at the report's x (ignored for another problem).

        Reports arrive on every probe move, so they never change the view range.
        """
        if report.result.problem != self._problem:
            return
        self._report = report
        self._update_tangents()
        self._update_reference(report.reference, report.result.x)
        self._update_digits(report)
        self._update_spread(report)

    # ------------------------------------------------------------------ ranges
    def _apply_default_y_ranges(self) -> None:
        """Default y ranges follow the truth and the data, not the noise: the data and the
        truth's mu, the truth's d mu/dx (or, before it exists, the float64 curve's
        1st..99th percentile, see :func:`_robust_range`). Curves beyond are clipped at the
        edge with marks, and the legend says how far they go."""
        f64 = DTYPES[-1]
        finite_y = self._data_y[np.isfinite(self._data_y)]
        data = [float(finite_y.min()), float(finite_y.max())] if finite_y.size else []
        for plot, truth, fallback, always in (
            (self._plots[0], self._truth_mu, self._mu[f64], data),
            (self._plots[1], self._truth_grad, self._grad[f64], self._reference_values()),
        ):
            follow = truth.yData if truth.yData is not None and len(truth.yData) else None
            curve = follow if follow is not None else fallback.yData
            y_range = _robust_range(np.empty(0) if curve is None else curve, always)
            if y_range is not None:
                plot.setYRange(*y_range, padding=0)
        self._update_off_scale_marks()

    def _update_off_scale_marks(self) -> None:
        """Edge marks where a dtype's curve leaves the visible y range, and a legend note
        with its extreme value; recomputed whenever the view or the curves change."""
        for plot, curves, marks in (
            (self._plots[0], self._mu, self._mu_marks),
            (self._plots[1], self._grad, self._grad_marks),
        ):
            (x_lo, x_hi), (y_lo, y_hi) = plot.vb.viewRange()
            inset = OFF_SCALE_INSET * (y_hi - y_lo)
            for dtype in DTYPES:
                xs, ys = curves[dtype].xData, curves[dtype].yData
                label = plot.legend.getLabel(curves[dtype])
                name = curves[dtype].name() or ""
                failure = self._failure(dtype)
                if failure and label is not None:
                    marks[dtype].setData([], [])
                    label.setText(f"{name}: no numbers ({failure})", color=style.muted_text())
                    continue
                if xs is None or ys is None or not len(xs):
                    marks[dtype].setData([], [])
                    if label is not None:
                        label.setText(name, color=style.plot_colors()[1].name())
                    continue
                shown = (xs >= x_lo) & (xs <= x_hi) & np.isfinite(ys)
                above, below = shown & (ys > y_hi), shown & (ys < y_lo)
                spots = [
                    *_edge_spots(xs[above], y_hi - inset, "t"),
                    *_edge_spots(xs[below], y_lo + inset, "t1"),
                ]
                marks[dtype].setData(spots)
                if label is not None:
                    text = name + _off_scale_note(ys[above | below])
                    label.setText(text, color=style.plot_colors()[1].name())
        self._fit_legends()  # the notes change the entries' widths

    def _failure(self, dtype: str) -> str:
        """Why a dtype's curves have no numbers, in a few words; empty when they have."""
        curves = self._curves
        if curves is None or not curves.errors.get(dtype):
            return ""
        if np.isfinite(curves.grad[dtype]).any():
            return ""
        return textwrap.shorten(str(curves.errors[dtype]), FAILURE_CHARS, placeholder="…")

    def _reference_values(self) -> list[float]:
        """Reference or limit gradient of the current report, to keep it in view."""
        reference = self._report.reference if self._report is not None else None
        if reference is None:
            return []
        ball = reference.grad if reference.status == "exact" else None
        if ball is None and reference.limit is not None:
            ball = reference.limit.grad
        return [] if ball is None else [ball.mid - ball.radius, ball.mid + ball.radius]

    def _on_x_range_changed(self) -> None:
        """Tangent length, beam width and the edge marks follow the visible x range."""
        self._update_tangents()
        self._update_off_scale_marks()
        if self._report is not None:
            self._update_reference(self._report.reference, self._report.result.x)

    def _on_y_range_changed(self) -> None:
        self._update_off_scale_marks()

    def _visible_width(self) -> float:
        x_lo, x_hi = self._plots[0].vb.viewRange()[0]
        return x_hi - x_lo

    # ------------------------------------------------------------ report items
    def _clear_report_items(self) -> None:
        for dtype in DTYPES:
            self._tangents[dtype].setData([], [])
            self._correct[dtype].setData([], [])
            self._spread_bars[dtype].setData([], [])
        self._other_paths.setData([], [])
        self._update_reference(None, self._x)

    def _update_tangents(self) -> None:
        """Segment through (x, mu) with slope grad, per dtype; empty for a failed cell."""
        if self._report is None:
            return
        x = self._report.result.x
        half = TANGENT_HALF_WIDTH * self._visible_width()
        for dtype in DTYPES:
            cell = self._report.result.cell(CURVE_PATH, dtype)
            usable = cell.error is None and cell.mu is not None and cell.grad is not None
            if not usable or not np.isfinite([cell.mu, cell.grad]).all():
                self._tangents[dtype].setData([], [])
                continue
            xs = np.array([x - half, x + half])
            self._tangents[dtype].setData(xs, cell.mu + cell.grad * (xs - x))

    def _update_reference(self, reference: Reference | None, x: float) -> None:
        """Exact: filled marker with its ball as error bar. Undetermined: hollow marker at
        the jitter limit, labelled. None: nothing."""
        ball = reference.grad if reference is not None and reference.status == "exact" else None
        limit = reference.limit if reference is not None and ball is None else None
        if ball is not None:
            beam = BEAM_WIDTH * self._visible_width()
            self._reference.setData([x], [ball.mid])
            self._error_bar.setData(
                x=np.array([x]), y=np.array([ball.mid]), height=np.array([2 * ball.radius]),
                beam=beam,
            )  # fmt: skip
        else:
            self._reference.setData([], [])
            self._error_bar.setData(x=None, y=None)
        if limit is not None:
            self._limit.setData([x], [limit.grad.mid])
            self._limit_text.setText(f"jitter {limit.jitter:g} limit")
            self._limit_text.setPos(x, limit.grad.mid)
        else:
            self._limit.setData([], [])
        self._limit_text.setVisible(limit is not None)

    def _update_spread(self, report: ProbeReport) -> None:
        """What equivalent programs print at x: a bar per dtype from the smallest to the
        largest gradient of the perturbed copies, float32 just left of x, float64 right."""
        x = report.result.x
        offset = SPREAD_OFFSET * self._visible_width()
        for side, dtype in zip((-1, 1), DTYPES, strict=True):
            spread = report.result.spread.get(dtype)
            if spread is None:
                self._spread_bars[dtype].setData([], [])
                continue
            at = x + side * offset
            self._spread_bars[dtype].setData([at, at], [spread.grad_min, spread.grad_max])

    def _update_digits(self, report: ProbeReport) -> None:
        """Correct digits at x per dtype: the curve path large, other paths small, in the
        dtype colour."""
        x = report.result.x
        digits = report.diagnosis.correct_digits
        others, brushes = [], []
        for dtype in DTYPES:
            value = digits.get((CURVE_PATH, dtype))
            self._correct[dtype].setData(*_at(x, [] if value is None else [value]))
            for path in PATHS:
                value = digits.get((path, dtype))
                if path != CURVE_PATH and value is not None:
                    others.append(value)
                    brushes.append(pg.mkBrush(style.DTYPE_COLORS[dtype]))
        self._other_paths.setData(*_at(x, others), brush=brushes)

    # ------------------------------------------------------------------ marker
    def _clamp(self, x: float) -> float:
        """Clamp to the domain exactly as InfiniteLine.setPos does, so values compare equal."""
        if self._problem is None:
            return float(x)
        lo, hi = self._problem.domain
        return min(max(float(x), lo), hi)

    def _move_lines(self, value: float) -> None:
        """Record ``value`` first, then move the lines: their echoes compare equal and stop."""
        self._x = value
        for line in self._lines:
            if float(line.value()) != value:
                line.setValue(value)

    def _move_by_user(self, x: float) -> None:
        value = self._clamp(x)
        if value != self._x:
            self._move_lines(value)
            self.x_changed.emit(value)

    def _on_line_moved(self, line: pg.InfiniteLine) -> None:
        self._move_by_user(float(line.value()))

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        """The cursor readout: which plot, x and the value under the cursor."""
        position = event[0]
        for plot, title, what in zip(self._plots, TITLES, LEFT_LABELS, strict=True):
            if plot.vb.sceneBoundingRect().contains(position):
                point = plot.vb.mapSceneToView(position)
                label = plot.getAxis("left").labelText or what
                self._readout.setText(f"{title}: x = {point.x():.6g}, {label} = {point.y():.6g}")
                return

    def _on_scene_clicked(self, event: MouseClickEvent) -> None:
        """A left double-click in any plot moves the probe there (clamped to the domain)."""
        if not event.double() or event.button() != Qt.MouseButton.LeftButton:
            return
        position: QPointF = event.scenePos()
        for plot in self._plots:
            if plot.vb.sceneBoundingRect().contains(position):
                self._move_by_user(plot.vb.mapSceneToView(position).x())
                event.accept()
                return
