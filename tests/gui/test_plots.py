"""PlotStack: items updated in place, one probe marker across the plots, robust ranges."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pytest
from conftest import Feed
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QColor, QImage, QMouseEvent, QPalette
from PyQt6.QtWidgets import QApplication
from spec import legend_item, xy

from gradviz.core.numerics.results import DTYPES, Ball, FailureKind, ProbeReport, Reference, Spread
from gradviz.core.problem.spec import Problem
from gradviz.gui import style
from gradviz.gui.model import WindowModel
from gradviz.gui.plot_frame import LEGEND_COLUMNS
from gradviz.gui.plot_legend import legend_room
from gradviz.gui.plot_ranges import clip_polyline
from gradviz.gui.plots import PlotStack

if TYPE_CHECKING:
    from records import Records


def markers(stack: PlotStack) -> list[pg.InfiniteLine]:
    return [
        item
        for plot in stack.plot_items()
        for item in plot.items
        if isinstance(item, pg.InfiniteLine)
    ]


def one_pixel(stack: PlotStack) -> float:
    """Width of one screen pixel in x data units."""
    view = stack.plot_items()[0].vb
    (x_lo, x_hi), _ = view.viewRange()
    return (x_hi - x_lo) / view.width()


# ----------------------------------------------------------------- mouse events
def viewport_point(stack: PlotStack, plot_index: int, x: float) -> QPoint:
    """Viewport coordinates of data x at mid-height of one plot."""
    view = stack.plot_items()[plot_index].vb
    _, (y_lo, y_hi) = view.viewRange()
    scene = view.mapViewToScene(QPointF(x, (y_lo + y_hi) / 2))
    return stack.graphics().mapFromScene(scene)


def send_mouse(stack: PlotStack, kind: QEvent.Type, point: QPoint, held: bool) -> None:
    """One QMouseEvent to the GraphicsLayoutWidget's viewport, as pyqtgraph's ui_testing."""
    viewport = stack.graphics().viewport()
    position = QPointF(point)
    left = Qt.MouseButton.LeftButton
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left
    buttons = left if held else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind, position, viewport.mapToGlobal(position), button, buttons,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(viewport, event)


def drag(stack: PlotStack, plot_index: int, start: float, end: float, steps: int = 12) -> None:
    """Hover, press on the marker at ``start``, move in steps to ``end``, release."""
    stack.graphics().scene().minDragTime = 0
    begin = viewport_point(stack, plot_index, start)
    send_mouse(stack, QEvent.Type.MouseMove, begin, held=False)  # hover first
    send_mouse(stack, QEvent.Type.MouseButtonPress, begin, held=True)
    for x in np.linspace(start, end, steps)[1:]:
        send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, plot_index, x), held=True)
    finish = viewport_point(stack, plot_index, end)
    send_mouse(stack, QEvent.Type.MouseButtonRelease, finish, held=False)


def double_click(stack: PlotStack, plot_index: int, x: float) -> None:
    point = viewport_point(stack, plot_index, x)
    send_mouse(stack, QEvent.Type.MouseMove, point, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, point, held=True)
    send_mouse(stack, QEvent.Type.MouseButtonRelease, point, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonDblClick, point, held=True)
    send_mouse(stack, QEvent.Type.MouseButtonRelease, point, held=False)


@pytest.fixture
def emitted(stack: PlotStack) -> list[float]:
    """Every x_changed value, in order."""
    values: list[float] = []
    stack.x_requested.connect(values.append)
    return values


# ------------------------------------------------------------------------ tests
def test_api_shape(stack: PlotStack) -> None:
    plots = stack.plot_items()
    assert len(plots) == 3
    assert all(isinstance(plot, pg.PlotItem) for plot in plots)
    assert isinstance(stack.graphics(), pg.GraphicsLayoutWidget)
    titles = [plot.titleLabel.text for plot in plots]
    assert titles == ["Data and posterior mean", "Derivative d mu/dx", "Precision"]
    for plot in plots[1:]:
        assert plot.vb.linkedView(pg.ViewBox.XAxis) is plots[0].vb


def test_setters_update_the_items_created_once(
    qtbot, records: Records, records_factory: Callable[..., Records]
) -> None:
    feed = Feed(WindowModel(records.problem, 2.0))
    widget = PlotStack(feed.model)
    qtbot.addWidget(widget)
    scene = widget.graphics().scene()
    before = set(scene.items())
    other = records_factory(Problem(n=30, domain=(-3.0, 4.0), jitter=1e-6, solver="solve"))
    for current in (records, other):
        feed.records(current)
        assert set(scene.items()) == before
    top, middle, _ = widget.plot_items()
    for dtype in DTYPES:
        x, y = xy(legend_item(top, f"mu {dtype}"))
        np.testing.assert_array_equal(x, other.curves.x)
        np.testing.assert_array_equal(y, other.curves.mu[dtype])
        _, grad = xy(legend_item(middle, f"d mu/dx {dtype}"))
        np.testing.assert_array_equal(grad, other.curves.grad[dtype])
    np.testing.assert_array_equal(xy(legend_item(top, "data y"))[1], other.data.y)


def test_set_problem_clears_and_bounds(stack: PlotStack, records_factory, feed: Feed) -> None:
    other = records_factory(Problem(n=30, domain=(-3.0, 1.5), jitter=1e-6))
    feed.problem(other.problem)
    top, middle, bottom = stack.plot_items()
    for plot, name in ((top, "mu float64"), (top, "tangent float32"), (middle, "reference")):
        assert xy(legend_item(plot, name))[0].size == 0
    assert xy(legend_item(bottom, "float64 correct digits"))[0].size == 0
    assert stack.marker_x() == 1.5  # the old x = 2 is clamped into the new domain
    assert all(list(line.bounds()) == [-3.0, 1.5] for line in markers(stack))
    (x_lo, x_hi), _ = top.vb.viewRange()
    assert x_lo <= -3.0 and x_hi >= 1.5 and x_hi - x_lo < 5.0


def test_tangents_have_the_report_slopes(stack: PlotStack, records: Records) -> None:
    top = stack.plot_items()[0]
    (x_lo, x_hi), _ = top.vb.viewRange()
    for dtype in DTYPES:
        cell = records.report.result.cell("function", dtype)
        x, y = xy(legend_item(top, f"tangent {dtype}"))
        assert x.size == 2
        assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(cell.grad, rel=1e-9)
        assert x.mean() == pytest.approx(2.0) and y.mean() == pytest.approx(cell.mu)
        assert x[1] - x[0] == pytest.approx(0.08 * (x_hi - x_lo), rel=0.05)


def test_failed_cell_hides_its_tangent(
    stack: PlotStack, records: Records, report_factory, feed: Feed
) -> None:
    failed = report_factory(
        records.problem,
        errors={("function", "float32"): (FailureKind.CHOLESKY_NOT_PD, "NaN in Cholesky")},
    )
    feed.report(failed)
    top = stack.plot_items()[0]
    assert xy(legend_item(top, "tangent float32"))[0].size == 0
    assert xy(legend_item(top, "tangent float64"))[0].size == 2


def test_exact_reference_marker_and_digits(stack: PlotStack, records: Records) -> None:
    _, middle, bottom = stack.plot_items()
    reference = records.report.reference
    assert reference is not None and reference.grad is not None
    x, y = xy(legend_item(middle, "reference"))
    assert list(x) == [2.0] and list(y) == [reference.grad.mid]
    error_bars = [item for item in middle.items if isinstance(item, pg.ErrorBarItem)]
    assert len(error_bars) == 1 and error_bars[0].isVisible()
    assert xy(legend_item(middle, "jitter limit"))[0].size == 0
    digits = records.report.diagnosis.correct_digits
    for dtype in DTYPES:
        x, y = xy(legend_item(bottom, f"{dtype} at x"))
        assert list(x) == [2.0] and list(y) == [digits[("function", dtype)]]
    assert xy(legend_item(bottom, "other paths"))[0].size == 12  # 6 other paths x 2 dtypes


def test_the_precision_plot_has_one_axis_of_digits_over_x(
    stack: PlotStack, records: Records
) -> None:
    bottom = stack.plot_items()[2]
    assert not bottom.getAxis("right").style["showValues"]
    assert bottom.getAxis("left").labelText == "correct digits"
    _, (y_lo, y_hi) = bottom.vb.viewRange()
    assert y_lo <= 0 and 17 <= y_hi < 30
    eps = {"float32": 2.0**-23, "float64": 2.0**-52}
    for dtype in DTYPES:
        x, y = xy(legend_item(bottom, f"{dtype} correct digits"))
        np.testing.assert_array_equal(x, records.truth.x)
        np.testing.assert_array_equal(y, records.precision.digits[dtype])
        carried = -math.log10(eps[dtype])  # written out: the contract, not the code
        _, level = xy(legend_item(bottom, f"{dtype} digits carried"))
        assert level.tolist() == pytest.approx([carried, carried])
        x_spread, spread = xy(legend_item(bottom, f"{dtype} spread digits"))
        np.testing.assert_array_equal(x_spread, records.curves.x)
        np.testing.assert_array_equal(spread, records.curves.spread_digits[dtype])
        _, left = xy(legend_item(bottom, f"{dtype} left by cond(K)"))
        assert records.precision.left is not None
        assert left.tolist() == [records.precision.left[dtype]] * 2
        assert left[0] <= carried


def test_the_truth_line_is_drawn_and_named_after_its_jitter_limit(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    top, middle, bottom = stack.plot_items()
    np.testing.assert_array_equal(xy(legend_item(top, "exact"))[1], records.truth.mu)
    np.testing.assert_array_equal(xy(legend_item(middle, "exact"))[1], records.truth.grad)
    limit = dataclasses.replace(records.truth, jitter=1e-12, is_limit=True)
    feed.truth(limit)
    feed.precision(dataclasses.replace(records.precision, is_limit=True, reference_jitter=1e-12))
    labels = [label.text for _, label in middle.legend.items]
    assert "exact (jitter 1e-12 limit)" in labels
    assert bottom.getAxis("left").labelText == "digits vs the 1e-12 limit"


def test_curves_far_off_scale_are_clipped_with_edge_marks_and_a_legend_note(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    """The seed's float32 derivative runs to 1e6 while the truth is ~1: the view follows
    the truth, the noise is marked at the edge and the legend says how far it goes."""
    noisy = records.curves.grad["float32"].copy()
    noisy[::5] = 2.5e6
    noisy[2::5] = -1.5e6
    feed.curves(dataclasses.replace(records.curves, grad={**records.curves.grad, "float32": noisy}))
    middle = stack.plot_items()[1]
    _, (y_lo, y_hi) = middle.vb.viewRange()
    truth = records.truth.grad
    assert y_lo <= truth.min() and y_hi >= truth.max() and y_hi < 1e3
    labels = [label.text for _, label in middle.legend.items]
    assert "d mu/dx float32 (off-scale -1.5e+06 .. 2.5e+06)" in labels
    assert "d mu/dx float64" in labels
    marks = [
        item
        for item in middle.items
        if isinstance(item, pg.ScatterPlotItem)
        and item.data.size
        and item.isVisible()
        and {tuple(p) for p in np.c_[item.getData()]}
        and max(item.getData()[1]) > y_hi - 0.05 * (y_hi - y_lo)
    ]
    assert marks  # triangles sit on the top edge
    middle.vb.autoRange()
    assert middle.vb.viewRange()[1][1] >= 2.5e6
    assert "d mu/dx float32" in [label.text for _, label in middle.legend.items]


def test_undetermined_reference_shows_the_limit(
    stack: PlotStack, records: Records, report_factory, feed: Feed
) -> None:
    feed.report(report_factory(records.problem, reference="undetermined"))
    middle, bottom = stack.plot_items()[1:]
    assert xy(legend_item(middle, "reference"))[0].size == 0
    x, _ = xy(legend_item(middle, "jitter limit"))
    assert list(x) == [2.0]
    labels = [item for item in middle.items if isinstance(item, pg.TextItem)]
    assert [label.toPlainText() for label in labels if label.isVisible()] == ["jitter 1e-12 limit"]
    # The cells' digits are counted against the limit (issue 21.4), so they are drawn.
    assert xy(legend_item(bottom, "float32 at x"))[0].tolist() == [2.0]


def test_no_reference_shows_nothing(
    stack: PlotStack, records: Records, report_factory, feed: Feed
) -> None:
    feed.report(report_factory(records.problem, reference=None))
    middle = stack.plot_items()[1]
    assert xy(legend_item(middle, "reference"))[0].size == 0
    assert xy(legend_item(middle, "jitter limit"))[0].size == 0
    assert not any(item.isVisible() for item in middle.items if isinstance(item, pg.TextItem))
    assert not any(item.isVisible() for item in middle.items if isinstance(item, pg.ErrorBarItem))


def test_records_of_another_problem_are_ignored(
    stack: PlotStack, records: Records, records_factory, feed: Feed
) -> None:
    other = records_factory(Problem(n=40, jitter=1e-3, solver="cholesky"))
    feed.curves(other.curves)
    feed.report(other.report)
    top, middle, _ = stack.plot_items()
    np.testing.assert_array_equal(
        xy(legend_item(top, "mu float64"))[1], records.curves.mu["float64"]
    )
    reference = records.report.reference
    assert reference is not None and reference.grad is not None
    assert list(xy(legend_item(middle, "reference"))[1]) == [reference.grad.mid]


def test_non_finite_values_do_not_break_the_plots(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    curves = records.curves
    blown = np.zeros(curves.x.shape, dtype=bool)
    blown[::7] = True
    broken = dataclasses.replace(
        curves,
        mu={**curves.mu, "float32": np.full_like(curves.x, np.nan)},
        grad={**curves.grad, "float32": np.where(blown, np.inf, curves.grad["float32"])},
        errors={**curves.errors, "float32": "Cholesky failed"},
    )
    feed.curves(broken)
    QApplication.processEvents()
    assert not stack.grab().toImage().isNull()
    _, drawn = xy(legend_item(stack.plot_items()[1], "d mu/dx float32"))
    assert not np.isinf(drawn).any() and np.isnan(drawn[blown]).all()


def test_default_y_range_ignores_float32_blow_up(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    """An ill-conditioned float32 curve (values to 1e6) must not squash float64."""
    spikes = records.curves.grad["float32"].copy()
    spikes[::9] = 1e6
    feed.curves(
        dataclasses.replace(records.curves, grad={**records.curves.grad, "float32": spikes})
    )
    middle = stack.plot_items()[1]
    _, (y_lo, y_hi) = middle.vb.viewRange()
    f64 = records.curves.grad["float64"]
    assert y_lo <= f64.min() and y_hi >= np.percentile(f64, 99)
    assert y_hi - y_lo < 10 * (f64.max() - f64.min())
    middle.vb.autoRange()  # still one click away
    assert middle.vb.viewRange()[1][1] >= 1e6


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_drag_moves_every_marker_and_emits(qtbot, stack: PlotStack, emitted: list[float]) -> None:
    tolerance = 2 * one_pixel(stack)
    with qtbot.waitSignal(
        stack.x_requested, timeout=2000, check_params_cb=lambda x: abs(x - 0.5) < tolerance
    ):
        drag(stack, plot_index=1, start=2.0, end=0.5)
    assert stack.marker_x() == emitted[-1]
    assert all(float(line.value()) == stack.marker_x() for line in markers(stack))
    assert len(markers(stack)) == 3
    assert all(a != b for a, b in itertools.pairwise(emitted))
    assert emitted[0] < 2.0  # the first step already moved it


@pytest.mark.usefixtures("no_mouse_rate_limit")
@pytest.mark.parametrize(("end", "bound"), [(8.0, 5.0), (-8.0, -5.0)])
def test_marker_cannot_leave_the_domain(
    qtbot,
    stack: PlotStack,
    emitted: list[float],
    end: float,
    bound: float,
) -> None:
    stack.plot_items()[0].setXRange(-9.0, 9.0, padding=0)  # room to drag past the ends
    drag(stack, plot_index=2, start=2.0, end=end, steps=20)
    assert stack.marker_x() == bound
    assert emitted[-1] == bound
    assert emitted.count(bound) == 1  # repeated signals at the bound are deduplicated
    assert all(float(line.value()) == bound for line in markers(stack))


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_double_click_jumps_and_clamps(qtbot, stack: PlotStack, emitted: list[float]) -> None:
    tolerance = 2 * one_pixel(stack)
    with qtbot.waitSignal(stack.x_requested, timeout=2000):
        double_click(stack, plot_index=2, x=-2.5)
    assert emitted == [pytest.approx(-2.5, abs=tolerance)]
    assert all(float(line.value()) == emitted[0] for line in markers(stack))
    stack.plot_items()[0].setXRange(-9.0, 9.0, padding=0)
    double_click(stack, plot_index=0, x=-7.0)
    assert emitted[-1] == -5.0 and stack.marker_x() == -5.0


def test_set_marker_x_moves_silently(qtbot, stack: PlotStack, feed: Feed) -> None:
    with qtbot.assertNotEmitted(stack.x_requested):
        feed.x(-1.25)
        assert stack.marker_x() == -1.25
        assert all(float(line.value()) == -1.25 for line in markers(stack))
        feed.x(42.0)
        assert stack.marker_x() == 5.0
        assert all(float(line.value()) == 5.0 for line in markers(stack))
        feed.problem(Problem(n=40, domain=(-2.0, 2.0), jitter=1e-6))
        assert stack.marker_x() == 2.0


def test_marker_label_shows_x(stack: PlotStack, feed: Feed) -> None:
    feed.x(-1.5)
    labels = [
        child
        for line in markers(stack)
        for child in line.childItems()
        if isinstance(child, pg.InfLineLabel)
    ]
    assert [label.toPlainText() for label in labels] == ["x = -1.500"]


def _color_count(image: QImage, color: str, tolerance: int = 40) -> int:
    """Pixels within ``tolerance`` (per channel) of ``color``."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    bgr = pixels.reshape(image.height(), image.bytesPerLine() // 4, 4)[..., :3].astype(int)
    target = QColor(color)
    wanted = np.array([target.blue(), target.green(), target.red()])
    return int((np.abs(bgr - wanted).max(axis=2) <= tolerance).sum())


def test_rendering_is_not_blank(stack: PlotStack) -> None:
    image = stack.grab().toImage()
    assert image.width() >= 900
    pixels = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(pixels.constBits().asstring(pixels.sizeInBytes()), dtype=np.uint32)
    assert np.unique(raw).size > 100
    for color in (*style.DTYPE_COLORS.values(), style.REFERENCE_COLOR):
        assert _color_count(image, color) > 20, color


@pytest.fixture
def dark_palette() -> Iterator[QPalette]:
    """A dark application palette for one test, restored afterwards."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    previous = app.palette()
    dark = QPalette(previous)
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.Base, "#17181a"),
        (QPalette.ColorRole.Text, "#e8e8e8"),
        (QPalette.ColorRole.WindowText, "#e8e8e8"),
    ):
        dark.setColor(role, QColor(color))
    app.setPalette(dark)
    yield dark
    app.setPalette(previous)


def test_follows_a_dark_palette(stack: PlotStack, dark_palette: QPalette) -> None:
    QApplication.processEvents()
    background = stack.graphics().backgroundBrush().color()
    assert background == dark_palette.color(QPalette.ColorRole.Base)
    image = stack.grab().toImage()
    corner = image.pixelColor(image.width() // 2, image.height() - 3)
    assert corner.lightness() < 60
    for color in style.DTYPE_COLORS.values():
        assert _color_count(image, color) > 20, color


def test_report_at_another_x_is_drawn_there(stack: PlotStack, records: Records, feed: Feed) -> None:
    """A report at another x of the same problem is drawn at its own x (while the probe
    moved on and its own report is not in yet)."""
    report: ProbeReport = dataclasses.replace(
        records.report, result=dataclasses.replace(records.report.result, x=-1.0)
    )
    feed.x(3.0)
    feed.report(report)
    x, _ = xy(legend_item(stack.plot_items()[1], "reference"))
    assert list(x) == [-1.0]


def test_the_spread_is_a_bar_per_dtype_at_the_probe(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    spread = {
        "float32": Spread(16, -505.4, 101.9, -200.0, 150.0, 0.0),
        "float64": None,  # every copy failed: no bar
    }
    result = dataclasses.replace(records.report.result, spread=spread)
    feed.report(dataclasses.replace(records.report, result=result))
    middle = stack.plot_items()[1]
    x, y = xy(legend_item(middle, "spread float32"))
    assert x[0] == x[1] < 2.0 and x[0] > 1.9
    assert y.tolist() == [-505.4, 101.9]
    assert xy(legend_item(middle, "spread float64"))[0].size == 0
    assert "spread float32" not in [label.text for _, label in middle.legend.items]


def test_a_dtype_without_numbers_says_so_in_its_greyed_legend_entries(
    stack: PlotStack, records: Records, feed: Feed
) -> None:
    nothing = np.full_like(records.curves.x, np.nan)
    failed = dataclasses.replace(
        records.curves,
        mu={**records.curves.mu, "float32": nothing},
        grad={**records.curves.grad, "float32": nothing},
        errors={**records.curves.errors, "float32": "Cholesky failed in float32: NaN"},
    )
    feed.curves(failed)
    for plot, name in ((stack.plot_items()[0], "mu"), (stack.plot_items()[1], "d mu/dx")):
        labels = {label.text: label for _, label in plot.legend.items}
        text = f"{name} float32: no numbers (Cholesky failed in float32: NaN)"
        assert text in labels
        assert QColor(labels[text].opts["color"]) == QColor(style.muted_text())
        assert f"{name} float64" in labels
    feed.curves(records.curves)  # numbers again: the plain entry is back
    assert "mu float32" in [label.text for _, label in stack.plot_items()[0].legend.items]


def test_the_cursor_readout_names_the_plot_x_and_value(qtbot, stack: PlotStack) -> None:
    assert "point at a plot" in stack.readout()
    point = viewport_point(stack, plot_index=1, x=-1.25)
    send_mouse(stack, QEvent.Type.MouseMove, point, held=False)
    qtbot.waitUntil(lambda: stack.readout().startswith("cursor x = "))
    x_text = stack.readout().split("x = ")[1].split(",")[0]
    assert float(x_text) == pytest.approx(-1.25, abs=2 * one_pixel(stack))
    assert "d mu/dx = " in stack.readout()


def test_reset_view_returns_to_the_domain_and_the_default_ranges(stack: PlotStack) -> None:
    top, middle, _ = stack.plot_items()
    default_y = middle.vb.viewRange()[1]
    top.setXRange(1.0, 1.5, padding=0)
    middle.setYRange(-1e6, 1e6, padding=0)
    stack.reset_view()
    (x_lo, x_hi), y_range = middle.vb.viewRange()
    assert x_lo <= -5.0 and x_hi >= 5.0
    assert y_range == pytest.approx(default_y)


def test_legends_lose_columns_rather_than_entries_when_the_plots_are_narrow(
    qtbot, stack: PlotStack
) -> None:
    stack.resize(560, 800)
    QApplication.processEvents()
    for plot in stack.plot_items():
        assert plot.legend.boundingRect().width() <= legend_room(plot)
    stack.resize(1400, 800)
    QApplication.processEvents()
    assert stack.plot_items()[2].legend.columnCount == LEGEND_COLUMNS[2]


@pytest.mark.parametrize("size", [(560, 700), (900, 800), (1400, 1000)])
def test_legends_sit_above_the_data_areas_never_over_them(
    qtbot, stack: PlotStack, size: tuple[int, int]
) -> None:
    stack.resize(*size)
    QApplication.processEvents()
    for plot in stack.plot_items():
        legend, data_area = plot.legend.sceneBoundingRect(), plot.vb.sceneBoundingRect()
        assert legend.height() > 10 and not legend.intersects(data_area), (legend, data_area)
        assert legend.bottom() <= data_area.top()
        assert legend.width() <= legend_room(plot) + 1
        assert legend.left() >= data_area.left() - 1  # clear of the left axis and its label


def test_a_click_folds_a_legend_to_one_line_and_its_plot_gets_the_height(
    qtbot, stack: PlotStack
) -> None:
    plot = stack.plot_items()[2]
    legend = plot.legend
    height, area = legend.sceneBoundingRect().height(), plot.vb.height()
    center = stack.graphics().mapFromScene(legend.sceneBoundingRect().center())
    qtbot.mouseClick(stack.graphics().viewport(), Qt.MouseButton.LeftButton, pos=center)
    QApplication.processEvents()
    assert legend.folded
    assert legend.sceneBoundingRect().height() < min(height, 30)  # one line
    assert plot.vb.height() > area
    center = stack.graphics().mapFromScene(legend.sceneBoundingRect().center())
    qtbot.mouseClick(stack.graphics().viewport(), Qt.MouseButton.LeftButton, pos=center)
    QApplication.processEvents()
    assert not legend.folded and plot.vb.height() == pytest.approx(area, abs=1)


def test_clip_polyline_cuts_segments_at_the_box_edges() -> None:
    box = (0.0, 10.0, -1.0, 1.0)
    x = np.array([-5.0, 5.0, 6.0, 7.0, np.nan, 8.0, 9.0])
    y = np.array([0.0, 0.0, 3.0, 0.5, 0.0, 0.5, 0.5])
    cx, cy = clip_polyline(x, y, box)
    # (-5,0)-(5,0) enters at x=0; (5,0)-(6,3) leaves through y=1 at x=5+1/3; (6,3)-(7,0.5)
    # re-enters through y=1 at x=6.8; the NaN breaks the line; (8,.5)-(9,.5) is inside.
    expected_x = [0.0, 5.0, 5 + 1 / 3, np.nan, 6.8, 7.0, np.nan, 8.0, 9.0]
    expected_y = [0.0, 0.0, 1.0, np.nan, 1.0, 0.5, np.nan, 0.5, 0.5]
    np.testing.assert_allclose(cx, expected_x)
    np.testing.assert_allclose(cy, expected_y)
    assert clip_polyline(np.array([20.0, 30.0]), np.array([0.0, 0.0]), box)[0].size == 0


def test_values_that_all_underflow_to_zero_still_get_a_tickable_range(
    qtbot, stack: PlotStack, records: Records, report_factory, feed: Feed
) -> None:
    """--domain -1e6 1e6 --n 50: the truth and the reference are 0 +/- 5e-324; pyqtgraph
    divided by a subnormal tick spacing in every paint."""
    zero_ball = Ball(0.0, 5e-324)
    zero = Reference("exact", mu=zero_ball, grad=zero_ball, precision_bits=128)
    feed.report(report_factory(records.problem, reference=zero))
    flat = np.zeros_like(records.truth.x)
    feed.truth(dataclasses.replace(records.truth, mu=flat, grad=flat))
    _, (y_lo, y_hi) = stack.plot_items()[1].vb.viewRange()
    assert y_hi - y_lo > 1e-3


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_a_drag_begins_with_the_first_move_and_ends_on_release_or_a_resting_hand(
    qtbot, stack: PlotStack
) -> None:
    """Background work yields while the marker is dragged: the plots say when that is."""
    changes: list[bool] = []
    stack.drag_changed.connect(changes.append)
    stack.graphics().scene().minDragTime = 0
    start = viewport_point(stack, 1, 2.0)
    send_mouse(stack, QEvent.Type.MouseMove, start, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, start, held=True)
    assert changes == []  # a press alone is no drag
    send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, 1, 1.5), held=True)
    assert changes == [True]
    qtbot.waitUntil(lambda: changes == [True, False], timeout=3000)  # the hand rests
    send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, 1, 1.0), held=True)
    assert changes == [True, False, True]
    send_mouse(stack, QEvent.Type.MouseButtonRelease, viewport_point(stack, 1, 1.0), held=False)
    assert changes == [True, False, True, False]
