"""Exports stay sane after any sequence of problems: a problem whose curves have no
numbers at all (every value NaN, every cell failed) and then the jitter 1e-12 Cholesky
problem that once produced a legend box 1.39e7 px wide in a window export. Every size in
the SVG (its page, each rect, each legend) stays within the plots' own size."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from conftest import Feed
from PyQt6.QtWidgets import QApplication
from records import make_records

from gradviz.core.numerics.results import DTYPES, Cell, FailureKind
from gradviz.core.problem.spec import Problem
from gradviz.gui.export import export_plots
from gradviz.gui.plot_legend import legend_room
from gradviz.gui.plots import PlotStack

SVG = "{http://www.w3.org/2000/svg}"
NO_NUMBERS = Problem(n=40, jitter=0.0, solver="cholesky")
SEED_LIMIT = Problem(n=40, jitter=1e-12, solver="cholesky")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def feed_no_numbers(feed: Feed) -> None:
    """Curves and a report in which no dtype has a single number."""
    records = make_records(NO_NUMBERS)
    nan = np.full_like(records.curves.x, np.nan)
    curves = dataclasses.replace(
        records.curves,
        mu=dict.fromkeys(DTYPES, nan),
        grad=dict.fromkeys(DTYPES, nan),
        errors=dict.fromkeys(DTYPES, "Cholesky failed: not positive definite"),
        spread_digits={},
    )
    report = records.report
    failed = tuple(
        Cell(c.path, c.dtype, None, None, "not positive definite", FailureKind.CHOLESKY_NOT_PD)
        for c in report.result.cells
    )
    report = dataclasses.replace(report, result=dataclasses.replace(report.result, cells=failed))
    feed.problem(NO_NUMBERS)
    feed.data(records.data.grid, records.data.y)
    feed.curves(curves)
    feed.report(report)


def sizes(path: Path) -> tuple[float, float, float]:
    """The page's width and height (its viewBox), and the largest width or height of any element."""
    root = ET.parse(path).getroot()
    _, _, page_w, page_h = (float(v) for v in root.get("viewBox", "0 0 0 0").split())
    largest = 0.0
    for element in root.iter():
        for key in ("width", "height"):
            value = element.get(key)
            if value is not None and (match := _NUMBER.match(value)):
                largest = max(largest, abs(float(match[0])))
    return page_w, page_h, largest


def test_svg_sizes_are_bounded_after_a_problem_without_numbers(
    stack: PlotStack, feed: Feed, tmp_path: Path
) -> None:
    bound = 2 * max(stack.width(), stack.height())
    feed_no_numbers(feed)
    export_plots(stack, tmp_path / "none.svg")
    feed.records(make_records(SEED_LIMIT))
    for name in ("limit.svg", "again.svg"):
        export_plots(stack, tmp_path / name)
        width, height, largest = sizes(tmp_path / name)
        assert 0 < width <= bound and 0 < height <= bound, (name, width, height)
        assert largest <= bound, (name, largest)
        legends = [item.legend for item in stack.plot_items()]
        for legend in legends:
            box = legend.boundingRect()
            assert box.width() * legend.scale() <= stack.width(), box
    width, height, largest = sizes(tmp_path / "none.svg")
    assert largest <= bound and 0 < width <= bound


def test_legends_keep_their_size_through_view_changes_and_resizes(
    stack: PlotStack, feed: Feed
) -> None:
    """Every resize and range change re-fits the legends' columns; pyqtgraph used to grow
    a legend ~1.6x per change of its columns (1.39e7 px after a session)."""
    feed.records(make_records(SEED_LIMIT))
    stack.resize(900, 800)
    stack.reset_view()
    QApplication.processEvents()
    before = [item.legend.boundingRect().width() for item in stack.plot_items()]
    for step in range(20):
        stack.resize((560, 900)[step % 2], 800)  # a narrow plot takes fewer columns
        stack.reset_view()
        stack.plot_items()[0].setXRange(-4 + step * 0.1, 4, padding=0)
    stack.resize(900, 800)
    stack.reset_view()
    QApplication.processEvents()
    after = [item.legend.boundingRect().width() for item in stack.plot_items()]
    assert after == before
    for item in stack.plot_items():
        assert item.legend.boundingRect().width() <= legend_room(item)
