"""Three linked plots of one problem: data and mu, d mu/dx, and precision.

Every number drawn here arrives in a record from :mod:`gradviz.core.results`;
this module only places it. Items are created once in ``__init__`` and
updated with ``setData``, so an update never rebuilds the scene.

One probe marker runs through all three plots: a movable vertical line per
plot, kept in sync by value. ``InfiniteLine.sigPositionChanged`` fires for
drags, for ``setValue`` and repeatedly at a bound, so every handler
deduplicates on ``float(line.value())``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPalette
from PyQt6.QtWidgets import QApplication, QGraphicsItem, QVBoxLayout, QWidget
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

from gradviz.core.problem import DEFAULT_X, Problem
from gradviz.core.results import CURVE_PATH, DTYPES, PATHS, Curves, ProbeReport, Reference
from gradviz.gui import style

TITLES = ("Data and posterior mean", "Derivative d mu/dx", "Precision")
LEFT_LABELS = ("mu(x)", "d mu/dx", "log10 |f32 - f64|")
TITLE_SIZE = "11pt"
LABEL_SIZE = "10pt"
LEGEND_SIZE = "9pt"
AXIS_WIDTH = 64  # fixed left/right axis width so the three plot areas line up
GRID_ALPHA = 0.15
DENSE_DATA = 100  # above this many sample points they are drawn smaller
TANGENT_HALF_WIDTH = 0.04  # fraction of the visible x range
BEAM_WIDTH = 0.015  # error-bar beam, fraction of the visible x range
RANGE_PERCENTILES = (1.0, 99.0)
RANGE_PADDING = 0.06
LEGEND_HEADROOM = 0.4  # extra space above the data, as a fraction of its span, for the legend
DIGITS_RANGE = (0.0, 17.0)  # right axis of the precision plot, decimal digits
DIGITS_TICKS = (0, 5, 10, 15)


def _palette_colors() -> tuple[QColor, QColor]:
    """Background and foreground of the application palette (plots follow the theme)."""
    palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)


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
    """Pad a range and leave room above it, so the top-left legend covers no data."""
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
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
        self._carried_levels: dict[str, float | None] = {}  # dashed levels drawn, per dtype
        self._graphics = pg.GraphicsLayoutWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        self._plots = self._build_plots()
        self._build_data_items(self._plots[0])
        self._build_derivative_items(self._plots[1])
        self._build_precision_items(self._plots[2])
        self._lines = self._build_markers()
        self._plots[0].sigXRangeChanged.connect(self._on_x_range_changed)
        self._graphics.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._apply_palette()

    # ----------------------------------------------------------------- building
    def _build_plots(self) -> tuple[pg.PlotItem, pg.PlotItem, pg.PlotItem]:
        """Three stacked plots, x linked to the top one; only the bottom labels x."""
        self._graphics.ci.setContentsMargins(6, 4, 10, 6)
        self._graphics.ci.setSpacing(2)
        plots = tuple(self._graphics.addPlot(row=row, col=0) for row in range(3))
        for plot, label in zip(plots, LEFT_LABELS, strict=True):
            self._style_plot(plot, label)
        for plot in plots[1:]:
            plot.setXLink(plots[0])
        for plot in plots[:2]:
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("right").setStyle(showValues=False)
        plots[2].setLabel("bottom", "x", **{"font-size": LABEL_SIZE})
        return plots

    def _style_plot(self, plot: pg.PlotItem, left_label: str) -> None:
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
        plot.addLegend(offset=(6, 4), labelTextSize=LEGEND_SIZE, colCount=3, verSpacing=-6)

    def _build_data_items(self, plot: pg.PlotItem) -> None:
        """Sample points, mu per dtype, and the tangent at the probe per dtype."""
        self._data_points = plot.plot(
            [], [], pen=None, symbol="o", name="data y",
            symbolBrush=style.DATA_COLOR, symbolPen=None,
        )  # fmt: skip
        self._data_points.setZValue(-10)  # under the curves, which pass through it
        _cache_as_pixmap(self._data_points.scatter)
        self._mu = self._dtype_curves(plot, "mu")
        self._tangents: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            tangent = pg.PlotDataItem(
                [], [], pen=pg.mkPen(style.DTYPE_COLORS[dtype], width=_width(dtype) + 1),
                name=f"tangent {dtype}",
            )  # fmt: skip
            tangent.setZValue(20 - DTYPES.index(dtype))
            plot.addItem(tangent, ignoreBounds=True)
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

    def _build_derivative_items(self, plot: pg.PlotItem) -> None:
        """d mu/dx per dtype, the exact reference with its ball, or the jitter limit."""
        self._grad = self._dtype_curves(plot, "d mu/dx")
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
        self._limit_text = pg.TextItem("", color=style.REFERENCE_COLOR, anchor=(-0.08, 0.5))
        plot.addItem(self._limit_text, ignoreBounds=True)
        self._limit_text.setVisible(False)

    def _build_precision_items(self, plot: pg.PlotItem) -> None:
        """The gap on the left axis; correct and carried digits on a right-hand ViewBox."""
        self._gap = plot.plot([], [], connect="finite", name="log10 |f32 - f64|")
        _cache_as_pixmap(self._gap.curve)
        self._digits_view = self._build_digits_view(plot)
        self._correct: dict[str, pg.ScatterPlotItem] = {}
        self._carried: dict[str, pg.PlotDataItem] = {}
        for dtype in DTYPES:
            color = style.DTYPE_COLORS[dtype]
            self._correct[dtype] = pg.ScatterPlotItem(size=11, symbol="o", brush=color)
            self._carried[dtype] = pg.PlotDataItem(
                [], [], pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine)
            )
        self._other_paths = pg.ScatterPlotItem(size=7, symbol="d", pen=None)
        legend = plot.legend
        for dtype in DTYPES:
            self._digits_view.addItem(self._correct[dtype])
            legend.addItem(self._correct[dtype], f"{dtype} correct digits")
        self._digits_view.addItem(self._other_paths)
        legend.addItem(self._other_paths, "other paths")
        for dtype in DTYPES:
            self._digits_view.addItem(self._carried[dtype])
            legend.addItem(self._carried[dtype], f"{dtype} digits carried")

    def _build_digits_view(self, plot: pg.PlotItem) -> pg.ViewBox:
        """A second ViewBox on the right axis, x linked (pyqtgraph's MultiplePlotAxes)."""
        view = pg.ViewBox(enableMenu=False)
        view.setMouseEnabled(x=False, y=False)
        # Below the layout in z: the main ViewBox stays on top and keeps the
        # marker draggable; the overlay's items still show through.
        view.setZValue(-100)
        plot.scene().addItem(view)
        right = plot.getAxis("right")
        right.linkToView(view)
        right.setLabel("correct digits", **{"font-size": LABEL_SIZE})
        right.setTicks([[(value, str(value)) for value in DIGITS_TICKS]])
        view.setXLink(plot)
        view.setYRange(*_with_headroom(*DIGITS_RANGE), padding=0)
        plot.vb.sigResized.connect(self._sync_digits_view)
        return view

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
    def changeEvent(self, event: QEvent | None) -> None:
        """Follow a light/dark palette switch while the app runs."""
        super().changeEvent(event)
        if event is not None and event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _apply_palette(self) -> None:
        """Background, axes, titles, legends, markers and gap curve from the palette."""
        background, foreground = _palette_colors()
        self._graphics.setBackground(background)
        for plot, title in zip(self._plots, TITLES, strict=True):
            plot.setTitle(title, color=foreground.name(), size=TITLE_SIZE)
            for name in ("left", "right", "bottom"):
                plot.getAxis(name).setPen(foreground)
                plot.getAxis(name).setTextPen(foreground)
            plot.legend.setLabelTextColor(foreground)
            for _, label in plot.legend.items:
                label.setText(label.text)  # setLabelTextColor alone does not re-render
            plot.legend.setBrush(_with_alpha(background, 215))
            plot.legend.setPen(_with_alpha(foreground, 60))
        self._gap.setPen(pg.mkPen(_with_alpha(foreground, 180), width=1))
        marker_pen = pg.mkPen(_with_alpha(foreground, 150), width=1.5)
        for line in self._lines:
            line.setPen(marker_pen)
            line.setHoverPen(pg.mkPen(foreground, width=3))
        label = self._lines[0].label
        label.setColor(foreground)
        label.fill = pg.mkBrush(_with_alpha(background, 200))  # TextItem has no setter
        label.update()
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
        for dtype in DTYPES:
            self._mu[dtype].setData([], [])
            self._grad[dtype].setData([], [])
        self._gap.setData([], [])
        self._clear_report_items()

    def set_data(self, grid: np.ndarray, y: np.ndarray) -> None:
        """The sampled y values at the grid points."""
        self._data_points.setData(np.asarray(grid), np.asarray(y))
        # Dense grids (the seed has 300 points) would hide mu under a grey band.
        self._data_points.setSymbolSize(5 if len(grid) <= DENSE_DATA else 3)
        self._data_y = np.asarray(y, dtype=float)
        self._apply_default_y_ranges()

    def set_curves(self, curves: Curves) -> None:
        """mu, d mu/dx and their float32/float64 gap over x (ignored for another problem)."""
        if curves.problem != self._problem:
            return
        self._curves = curves
        for dtype in DTYPES:
            self._mu[dtype].setData(curves.x, _finite_or_nan(curves.mu[dtype]))
            self._grad[dtype].setData(curves.x, _finite_or_nan(curves.grad[dtype]))
        self._gap.setData(curves.x, _finite_or_nan(curves.gap))
        self._apply_default_y_ranges()

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

    # ------------------------------------------------------------------ ranges
    def _apply_default_y_ranges(self) -> None:
        """Robust y ranges for mu, d mu/dx and the gap (see :func:`_robust_range`)."""
        f64 = DTYPES[-1]
        mu = self._curves.mu[f64] if self._curves is not None else np.empty(0)
        grad = self._curves.grad[f64] if self._curves is not None else np.empty(0)
        finite_y = self._data_y[np.isfinite(self._data_y)]
        data = [float(finite_y.min()), float(finite_y.max())] if finite_y.size else []
        gap = self._curves.gap if self._curves is not None else np.empty(0)
        for plot, curve, always in (
            (self._plots[0], mu, data),
            (self._plots[1], grad, self._reference_values()),
            (self._plots[2], gap, []),
        ):
            y_range = _robust_range(curve, always)
            if y_range is not None:
                plot.setYRange(*y_range, padding=0)

    def _reference_values(self) -> list[float]:
        """Reference or limit gradient of the current report, to keep it in view."""
        reference = self._report.reference if self._report is not None else None
        if reference is None:
            return []
        ball = reference.grad if reference.status == "exact" else None
        if ball is None and reference.limit is not None:
            ball = reference.limit.grad
        return [] if ball is None else [ball.mid - ball.radius, ball.mid + ball.radius]

    def _sync_digits_view(self) -> None:
        """Keep the right-hand ViewBox over the precision plot's ViewBox (pyqtgraph's
        MultiplePlotAxes example)."""
        main = self._plots[2].vb
        self._digits_view.setGeometry(main.sceneBoundingRect())
        self._digits_view.linkedViewChanged(main, self._digits_view.XAxis)

    def _on_x_range_changed(self) -> None:
        """Tangent length and beam width follow the visible x range."""
        self._update_tangents()
        if self._report is not None:
            self._update_reference(self._report.reference, self._report.result.x)

    def _visible_width(self) -> float:
        x_lo, x_hi = self._plots[0].vb.viewRange()[0]
        return x_hi - x_lo

    # ------------------------------------------------------------ report items
    def _clear_report_items(self) -> None:
        self._carried_levels.clear()
        for dtype in DTYPES:
            self._tangents[dtype].setData([], [])
            self._correct[dtype].setData([], [])
            self._carried[dtype].setData([], [])
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

    def _update_digits(self, report: ProbeReport) -> None:
        """Correct digits at x per dtype (the curve path large, other paths small, in the
        dtype colour) and the digits each dtype carries as dashed levels over the domain."""
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
            carried = report.diagnosis.carried_digits.get(dtype)
            level = None if carried is None or self._problem is None else carried
            # These dashed lines span the whole plot: re-setting them on every report would
            # repaint all of it on every probe move.
            if self._carried_levels.get(dtype) != level:
                self._carried_levels[dtype] = level
                domain = [] if level is None else list(self._problem.domain)
                self._carried[dtype].setData(domain, [level] * len(domain))
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
