"""Three linked plots of the model's problem: data and mu, d mu/dx, and precision; or
for another quantity its value (var(x), LML(theta)), its derivative and precision.

A view of the :class:`~gradviz.gui.model.WindowModel`: every number drawn arrives in a
record the model holds; this module only places it (``plot_items.py`` owns the items,
``plot_ranges.py`` the default ranges and clipping). One probe marker runs through all
three plots: a movable vertical line per plot, kept in sync by value.
``InfiniteLine.sigPositionChanged`` fires for drags, for ``setValue`` and repeatedly at a
bound, so every handler deduplicates on ``float(line.value())``. A moved marker is a
request (``x_requested``); the marker follows the model's x. Along an LML quantity's
theta the plots draw log10 theta (the model's :class:`~gradviz.gui.probe_axis.ProbeAxis`
converts, here and nowhere else in the plots).
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QHideEvent, QResizeEvent
from PyQt6.QtWidgets import QApplication, QHBoxLayout, QVBoxLayout, QWidget

from gradviz.core.numerics.results import CURVE_PATH, DTYPES, ProbeReport
from gradviz.core.problem.spec import Problem
from gradviz.gui import style
from gradviz.gui.fixed_text import FixedText
from gradviz.gui.model import WindowModel
from gradviz.gui.plot_backdrop import BackdropView
from gradviz.gui.plot_band import VarianceBand, set_legend_entry
from gradviz.gui.plot_frame import (
    DIGITS_RANGE,
    LABEL_SIZE,
    build_plots,
    color_frame,
    fit_legends,
    left_labels,
    show_axis,
)
from gradviz.gui.plot_items import (
    TRUTH_NAME,
    DataPlot,
    DerivativePlot,
    PlotLook,
    PrecisionPlot,
    failures,
    with_alpha,
)
from gradviz.gui.plot_marker import ProbeMarker
from gradviz.gui.plot_ranges import (
    Box,
    clip_polyline,
    inside_box,
    robust_range,
    with_headroom,
)

READOUT_HINT = "cursor: point at a plot to read {axis} and the value there"
READOUT_RATE_HZ = 30
BAND_TEXT = "&Variance band (mu ± 2 sd)"
BAND_TIP = (
    "Shade mu +/- 2 sqrt(var) per dtype, var the posterior variance; where a dtype's var "
    "is negative the band has a gap and a red mark says so (shown on the mean's plot)"
)
ViewRanges = tuple[tuple[float, float], ...]  # (x range, y range of each plot)


class PlotStack(style.PaletteFollower):
    """Data and mu, d mu/dx and precision of the model's problem over x, with one probe.

    ``x_requested`` carries where the user put the marker (drag or double-click);
    ``drag_changed`` says when a drag of it begins (True) and ends.
    """

    x_requested = pyqtSignal(float)
    drag_changed = pyqtSignal(bool)
    band_toggled = pyqtSignal(bool)  # the user turned the variance band on or off

    def __init__(
        self, model: WindowModel, look: PlotLook | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._look = look or PlotLook()
        self._ranged = [False, False]  # data, derivative plot: default y range set
        self._graphics = BackdropView(self)
        # Under the plots: the probe's x and value (what the marker shows, greyed while it
        # is computed), and the value under the cursor. One line each, repainted on every
        # drag step without a new layout.
        self._probe_readout = FixedText(lines=1)
        self._probe_readout.setObjectName("probe_readout")
        self._readout = FixedText(lines=1)
        self._readout.setObjectName("readout")
        readouts = QHBoxLayout()
        readouts.setContentsMargins(8, 0, 8, 2)
        readouts.addWidget(self._probe_readout, 1)
        readouts.addWidget(self._readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # A checkable action (View menu): under the plots there is no room left beside
        # the two readouts at 1280 px.
        self.band_action = QAction(BAND_TEXT, self)
        self.band_action.setObjectName("band")
        self.band_action.setCheckable(True)
        self.band_action.setChecked(True)
        self.band_action.setToolTip(BAND_TIP)
        self.band_action.toggled.connect(self._on_band_toggled)
        layout.addWidget(self._graphics)
        layout.addLayout(readouts)
        self._plots = build_plots(self._graphics, self._look)
        self.data = DataPlot(self._plots[0], self._look)
        self.band = VarianceBand(self._plots[0], self._look)
        self.derivative = DerivativePlot(self._plots[1], self._look)
        self.precision = PrecisionPlot(self._plots[2], self._look)
        self.marker = ProbeMarker(self._plots, self._graphics.scene(), model.x, self._look)
        self.marker.x_requested.connect(self.x_requested)
        self.marker.drag_changed.connect(self.drag_changed)
        self._picture_while_dragging()
        self._plots[0].sigXRangeChanged.connect(self._on_x_range_changed)
        for plot in self._plots[:2]:
            plot.sigYRangeChanged.connect(self._on_y_range_changed)
        self._mouse_proxy = pg.SignalProxy(
            self._graphics.scene().sigMouseMoved, rateLimit=READOUT_RATE_HZ,
            slot=self._on_mouse_moved,
        )  # fmt: skip
        self.apply_palette()
        model.problem_changed.connect(self._on_problem_changed)
        model.probe_moved.connect(self._on_probe_moved)
        model.data_changed.connect(self._on_data_changed)
        model.curves_changed.connect(self._on_curves_changed)
        model.truth_changed.connect(self._on_truth_changed)
        model.precision_changed.connect(self._on_precision_changed)
        model.report_changed.connect(self._on_report_changed)
        model.stale_changed.connect(self._show_probe_readout)
        model.settled.connect(self._apply_default_y_ranges)
        self._show_problem()

    def _picture_while_dragging(self) -> None:
        """On screen, a drag paints the still items as one picture (plot_backdrop.py);
        whatever changes them drops it."""
        if not self._look.cached:
            return
        graphics = self._graphics
        graphics.follow(self._probe_items)
        self.marker.drag_changed.connect(graphics.set_dragging)
        model = self._model
        for signal in (
            model.problem_changed, model.data_changed, model.curves_changed,
            model.truth_changed, model.precision_changed, self.band_toggled,
            *(plot.vb.sigStateChanged for plot in self._plots),
        ):  # fmt: skip
            signal.connect(graphics.invalidate)

    def _probe_items(self) -> list[Any]:
        return [
            *self.marker.lines,
            *self.data.probe_items(),
            *self.derivative.probe_items(),
            *self.precision.probe_items(),
        ]

    # ------------------------------------------------------------------- theme
    def hideEvent(self, event: QHideEvent | None) -> None:
        """A drag cannot go on out of sight (a release may never come)."""
        super().hideEvent(event)
        self.marker.end_drag()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._graphics.invalidate()
        self._fit_legends()

    def _fit_legends(self) -> None:
        fit_legends(self._plots)

    def apply_palette(self) -> None:
        """Background, axes, titles, legends and markers from the palette."""
        background, foreground = style.plot_colors()
        self._graphics.invalidate()
        color_frame(
            self._graphics, self._plots, background, foreground, self._model.problem.measured
        )
        self.marker.apply_palette(foreground, background)
        self._update_off_scale_marks()  # the legend notes' colours
        for dtype in DTYPES:
            self.precision.correct[dtype].setPen(self._look.pen(foreground, 1))
        self.derivative.reference.setPen(self._look.pen(foreground, 1))
        # Legend sample of the other paths: neutral, since each point has its dtype colour.
        self.precision.other_paths.setBrush(with_alpha(foreground, 140), update=False)

    # -------------------------------------------------------------- public API
    @property
    def model(self) -> WindowModel:
        return self._model

    def copy(self, look: PlotLook) -> PlotStack:
        """A new stack over the same model, drawn with ``look``, laid out off screen at this
        one's size and showing this one's view: exports render a copy, never the items on
        screen (no flicker, nothing to put back if an export fails)."""
        twin = PlotStack(self._model, look)
        twin.set_band_shown(self.band_shown())
        twin.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        twin.resize(self.size())
        twin.show()
        QApplication.processEvents()  # laid out: an unlaid-out scene exports at size 0
        twin.set_view_ranges(self.view_ranges())
        twin._fit_legends()  # at the laid-out width, as on screen
        return twin

    def graphics(self) -> Any:
        """The pyqtgraph widget holding the scene, for export and tests."""
        return self._graphics

    def plot_items(self) -> tuple[Any, Any, Any]:
        """Data, derivative and precision plots, top to bottom."""
        return self._plots

    def view_x_range(self) -> tuple[float, float]:
        """The visible interval of the probe's axis (shared by the three linked plots): x,
        or theta for an LML quantity (drawn as log10 theta)."""
        lo, hi = self._drawn_x_range()
        axis = self._model.axis
        return axis.probe(lo), axis.probe(hi)

    def _drawn_x_range(self) -> tuple[float, float]:
        lo, hi = self._plots[0].vb.viewRange()[0]
        return float(lo), float(hi)

    def view_ranges(self) -> ViewRanges:
        """The visible x interval as drawn, then each plot's y interval."""
        ranges = [self._drawn_x_range()]
        for plot in self._plots:
            lo, hi = plot.vb.viewRange()[1]
            ranges.append((float(lo), float(hi)))
        return tuple(ranges)

    def set_view_ranges(self, ranges: ViewRanges) -> None:
        """Show exactly ``ranges`` (as :meth:`view_ranges` gives them)."""
        self._plots[0].setXRange(*ranges[0], padding=0)
        for plot, y_range in zip(self._plots, ranges[1:], strict=True):
            plot.setYRange(*y_range, padding=0)

    def set_view_x_range(self, lo: float, hi: float) -> None:
        """Zoom all plots to [lo, hi] of the probe's axis (a session's saved view); a
        theta range that is not positive cannot be drawn on its log axis and is ignored."""
        axis = self._model.axis
        if axis.log and not 0 < lo < hi:
            return
        self._plots[0].setXRange(axis.view(lo), axis.view(hi), padding=0)

    def reset_view(self) -> None:
        """The default view: the whole domain in x, the default y ranges (View > Reset)."""
        self._plots[0].setXRange(*self._model.axis.view_domain, padding=0.02)
        self._apply_default_y_ranges(force=True)
        self._plots[2].setYRange(*with_headroom(*DIGITS_RANGE), padding=0)

    def clip_to_views(self) -> None:
        """Cut every curve and scatter to its plot's visible rectangle, so that an SVG
        needs no clip paths: Qt's own SVG renderer ignores them and would draw the
        off-scale noise over the titles. For export copies: the data shown changes."""
        for plot in self._plots:
            (x_lo, x_hi), (y_lo, y_hi) = plot.vb.viewRange()
            for item in plot.items:
                _clip(item, (x_lo, x_hi, y_lo, y_hi))
            if plot is self._plots[0]:
                self.band.clip((x_lo, x_hi, y_lo, y_hi))

    def band_shown(self) -> bool:
        """Whether the variance band is asked for (View > Variance band; drawn around mu
        only)."""
        return self.band_action.isChecked()

    def set_band_shown(self, shown: bool) -> None:
        """Turn the band on or off without saying so (settings, export copies)."""
        with QSignalBlocker(self.band_action):
            self.band_action.setChecked(shown)
        self._show_band()

    def _on_band_toggled(self, shown: bool) -> None:
        self._show_band()
        self.band_toggled.emit(shown)

    def _show_band(self) -> None:
        """The band around mu on the mean's plot, and the negative-variance marks on
        whichever plot shows mu or var."""
        curves = self._model.results.curves
        around_mu = self._model.problem.quantity == "mean-slope"
        self.band_action.setEnabled(around_mu)
        at = np.empty(0) if curves is None else self._model.axis.views(curves.x)
        listed = not self._model.problem.measured.is_lml
        self.band.show(curves, at, band=around_mu and self.band_shown(), listed=listed)

    def readout(self) -> str:
        """What the cursor readout under the plots says, as plain text."""
        return _plain(self._readout.text())

    def marker_x(self) -> float:
        """Where the probe marker is (clamped to the domain)."""
        return self.marker.x

    def truth_label(self) -> str:
        """What the truth line is called in the legends: exact, or which jitter limit."""
        truth = self._model.results.truth
        if truth is None or not truth.is_limit:
            return TRUTH_NAME
        return f"{TRUTH_NAME} (jitter {truth.jitter:g} limit)"

    # ----------------------------------------------------------- model to view
    def _show_problem(self) -> None:
        """Start over from the model: bounds, x range, and whatever results it holds."""
        axis = self._model.axis
        self._ranged = [False, False]
        for plot in self._plots[:2]:
            plot.disableAutoRange(axis="y")  # no jumps while the results arrive
        self._readout.setText(READOUT_HINT.format(axis=axis.symbol))  # the last one's values
        self._show_quantity()
        self.marker.reset(axis, self._model.x)
        self._plots[0].setXRange(*axis.view_domain, padding=0.02)
        results = self._model.results
        self._show_data()
        self._show_curves()
        self._show_truth()
        self.precision.show_precision(results.precision, axis)
        self._show_precision_label()
        self._show_report(self._model.report)
        self._apply_default_y_ranges()

    def _show_quantity(self) -> None:
        """Titles, labels, legend names and axes of the model's quantity."""
        quantity = self._model.problem.measured
        show_axis(self._plots, self._model.axis)
        self.data.rename(quantity.value)
        self.derivative.rename(quantity.slope)
        self.apply_palette()  # the titles

    def _show_data(self) -> None:
        """The data points, on the mean's plot only (they are y over x: neither a
        variance nor a likelihood)."""
        data = self._model.results.data
        shown = self._model.problem.quantity == "mean-slope"
        set_legend_entry(self._plots[0], self.data.points, "data y" if shown else "")
        if data is None or not shown:
            self.data.points.setData([], [])
        else:
            self.data.show_data(data.grid, data.y)

    def _on_problem_changed(self, _problem: Problem) -> None:
        self._show_problem()

    def _on_probe_moved(self, x: float) -> None:
        self.marker.show(x)
        self._show_probe_readout()

    def _show_probe_readout(self) -> None:
        """The marker's x and the curve path's value there per dtype, once the report of
        that x is in; until then "computing at x = ...", greyed."""
        model = self._model
        # One line beside the cursor's: 7 digits (every digit is in the x box).
        at = html.escape(f"{model.axis.name} = {model.x:.7g}")
        report = model.report
        if report is None or not model.report_is_current():
            muted = style.muted_text()
            self._probe_readout.setText(f"<i style='color:{muted}'>computing at {at}…</i>")
            return
        label = html.escape(left_labels(model.problem.measured)[1])
        values = []
        for dtype in DTYPES:
            cell = report.result.cell(CURVE_PATH, dtype)
            value = "no number" if cell.grad is None else f"{cell.grad:.7g}"
            values.append(f"<span style='color:{style.DTYPE_COLORS[dtype]}'>{value}</span>")
        self._probe_readout.setText(f"probe {at}: {label} = {' / '.join(values)}")

    def probe_readout(self) -> str:
        """What the probe's readout under the plots says, as plain text."""
        return _plain(self._probe_readout.text())

    def _on_data_changed(self) -> None:
        self._show_data()
        self._apply_default_y_ranges()

    def _on_curves_changed(self) -> None:
        self._show_curves()
        self._apply_default_y_ranges()

    def _on_truth_changed(self) -> None:
        self._show_truth()
        self._apply_default_y_ranges()

    def _on_precision_changed(self) -> None:
        self.precision.show_precision(self._model.results.precision, self._model.axis)
        self._show_precision_label()

    def _on_report_changed(self, report: ProbeReport) -> None:
        """Tangents, reference and digits at the report's x. Reports arrive on every probe
        move, so they never change the view range."""
        self._show_report(report)
        self._show_probe_readout()

    def _show_curves(self) -> None:
        curves = self._model.results.curves
        if curves is None:
            empty = dict.fromkeys(DTYPES, np.empty(0))
            self.data.show_curves(np.empty(0), empty)
            self.derivative.show_curves(np.empty(0), empty)
        else:
            at = self._model.axis.views(curves.x)
            self.data.show_curves(at, dict(curves.mu))
            self.derivative.show_curves(at, dict(curves.grad))
        self.precision.show_spread_digits(curves, self._model.axis)
        self._show_band()

    def _show_truth(self) -> None:
        truth = self._model.results.truth
        at = None if truth is None else self._model.axis.views(truth.x)
        self.data.show_truth(at, None if truth is None else truth.mu)
        self.derivative.show_truth(at, None if truth is None else truth.grad)
        for plot in (self.data, self.derivative):
            plot.set_truth_label(self.truth_label())

    def _show_precision_label(self) -> None:
        precision = self._model.results.precision
        label = left_labels(self._model.problem.measured)[2]
        if precision is not None and precision.is_limit:
            label = f"digits vs the {precision.reference_jitter:g} limit"
        self._plots[2].setLabel("left", label, **{"font-size": LABEL_SIZE})

    def _show_report(self, report: ProbeReport | None) -> None:
        width = self._visible_width()
        axis = self._model.axis
        self.data.show_tangents(report, width, axis)
        x = self._model.x if report is None else report.result.x
        reference = None if report is None else report.reference
        self.derivative.show_reference(reference, axis.view(x), width)
        self.derivative.show_spread(report, width, axis)
        self.precision.show_digits(report, axis)

    # ------------------------------------------------------------------ ranges
    def _apply_default_y_ranges(self, force: bool = False) -> None:
        """Default y ranges follow the truth and the data, not the noise: the data and the
        truth's mu, the truth's d mu/dx (without a reference, the float64 curve's
        1st..99th percentile, see :func:`robust_range`). Curves beyond are clipped at the
        edge with marks, and the legend says how far they go.

        Each plot's range is set once per problem, when what it follows is in (the data
        plot: the data; the derivative plot: the truth, or the news that none will come),
        so the plots never jump while the first results arrive; ``force`` (View > Reset)
        sets both from whatever is in."""
        results = self._model.results
        f64 = DTYPES[-1]
        y = np.empty(0) if results.data is None else np.asarray(results.data.y, dtype=float)
        finite_y = y[np.isfinite(y)]
        data = [float(finite_y.min()), float(finite_y.max())] if finite_y.size else []
        ready = (results.data is not None, self._derivative_range_ready())
        if self._model.problem.quantity != "mean-slope":
            # var(x) or LML(theta): no data on that plot; it follows its truth, like the
            # derivative's plot.
            data, ready = [], (ready[1], ready[1])
        for index, plot, drawn, always in (
            (0, self._plots[0], self.data, data),
            (1, self._plots[1], self.derivative, self._reference_values()),
        ):
            if not force and (self._ranged[index] or not ready[index]):
                continue
            follow = drawn.truth.yData
            if follow is None or not len(follow):
                follow = drawn.curves[f64].yData
            y_range = robust_range(np.empty(0) if follow is None else follow, always)
            if y_range is not None:
                plot.setYRange(*y_range, padding=0)
                self._ranged[index] = True
        self._update_off_scale_marks()

    def _derivative_range_ready(self) -> bool:
        """The truth over x is in, or none will come (the reference is off or has no
        value, and the curves are in)."""
        model = self._model
        if model.results.truth is not None:
            return True
        report = model.report
        no_truth = (
            report is not None
            and model.report_is_current()
            and not report.reference_pending
            and (report.reference is None or model.is_settled())
        )
        return no_truth and model.results.curves is not None

    def _update_off_scale_marks(self) -> None:
        """Edge marks and legend notes follow the view and the curves."""
        foreground = style.plot_colors()[1].name()
        failed = failures(self._model.results.curves)
        for drawn in (self.data, self.derivative):
            drawn.update_off_scale_marks(failed, foreground)
        self.band.place_marks()
        self._fit_legends()  # the notes change the entries' widths

    def _reference_values(self) -> list[float]:
        """Reference or limit gradient of the current report, to keep it in view."""
        report = self._model.report
        reference = None if report is None else report.reference
        if reference is None:
            return []
        ball = reference.grad if reference.status == "exact" else None
        if ball is None and reference.limit is not None:
            ball = reference.limit.grad
        return [] if ball is None else [ball.mid - ball.radius, ball.mid + ball.radius]

    def _on_x_range_changed(self) -> None:
        """Tangent length, beam width and the edge marks follow the visible x range."""
        self._show_report(self._model.report)
        self._update_off_scale_marks()

    def _on_y_range_changed(self) -> None:
        self._update_off_scale_marks()

    def _visible_width(self) -> float:
        x_lo, x_hi = self._plots[0].vb.viewRange()[0]
        return float(x_hi - x_lo)

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        """The cursor readout: the probe and the value under the cursor, named by its
        plot's axis (one line beside the probe's)."""
        position = event[0]
        axis = self._model.axis
        for plot, what in zip(self._plots, left_labels(self._model.problem.measured), strict=True):
            if plot.vb.sceneBoundingRect().contains(position):
                point = plot.vb.mapSceneToView(position)
                label = plot.getAxis("left").labelText or what
                t = axis.probe(point.x())
                text = f"cursor {axis.symbol} = {t:.6g}, {label} = {point.y():.6g}"
                self._readout.setText(html.escape(text))
                return


def _clip(item: Any, box: Box) -> None:
    """Cut a curve's line (or a scatter's points) to ``box``."""
    is_curve = isinstance(item, pg.PlotDataItem) and item.xData is not None
    if is_curve and len(item.xData) > 1 and _is_line(item):
        item.setData(*clip_polyline(item.xData, item.yData, box))
    if isinstance(item, pg.ScatterPlotItem) and len(item.data):
        x, y = item.getData()
        keep = inside_box(np.asarray(x), np.asarray(y), box)
        if not keep.all():
            keys = ("pos", "brush", "pen", "symbol", "size")
            spots = [{key: getattr(spot, key)() for key in keys} for spot in item.points()]
            item.setData([spot for spot, kept in zip(spots, keep, strict=True) if kept])


def _is_line(item: Any) -> bool:
    """A curve drawn as a line, not as symbols."""
    return item.opts["pen"] is not None and item.opts["symbol"] is None


def _plain(rich: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", rich))
