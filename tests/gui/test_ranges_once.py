"""The plots do not jump while the first results arrive: each default y range is set once
per problem, when what it follows is in (the data plot: the data; the derivative plot: the
truth over x, or the news that none will come). Later reports and probe moves never change
a range; View > Reset sets them again."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import Feed
from PyQt6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from records import Records, make_report

from gradviz.gui.model import WindowModel
from gradviz.gui.plots import PlotStack


def y_ranges(stack: PlotStack) -> list[tuple[float, float]]:
    return [tuple(plot.vb.viewRange()[1]) for plot in stack.plot_items()[:2]]


def shown_stack(qtbot: QtBot, model: WindowModel) -> PlotStack:
    stack = PlotStack(model)
    qtbot.addWidget(stack)
    stack.resize(900, 800)
    with qtbot.waitExposed(stack):
        stack.show()
    return stack


def test_each_range_is_set_once_when_what_it_follows_arrives(
    qtbot: QtBot, records: Records
) -> None:
    feed = Feed(WindowModel(records.problem, records.report.result.x))
    stack = shown_stack(qtbot, feed.model)
    seen = [y_ranges(stack)]

    def step(action: object) -> None:
        QApplication.processEvents()
        ranges = y_ranges(stack)
        if ranges != seen[-1]:
            seen.append(ranges)

    feed.data(records.data.grid, records.data.y)
    step("data")
    assert seen[-1][0] != seen[0][0] and seen[-1][1] == seen[0][1]  # the data plot only
    feed.curves(records.curves)  # float64 noise must not move either range
    step("curves")
    feed.report(records.report)
    step("report")
    assert len(seen) == 2
    feed.truth(records.truth)  # the derivative plot follows the truth: set now
    step("truth")
    assert len(seen) == 3 and seen[-1][0] == seen[1][0] and seen[-1][1] != seen[1][1]
    feed.precision(records.precision)
    for x in (-3.0, 0.5, 4.0):
        feed.x(x)
        feed.report(make_report(records.problem, x))
    step("moves")
    assert len(seen) == 3
    stack.plot_items()[1].setYRange(-100, 100)
    stack.reset_view()
    QApplication.processEvents()
    data_range, derivative_range = y_ranges(stack)
    assert derivative_range == seen[-1][1]
    assert data_range == pytest.approx(seen[-1][0], rel=1e-2)  # now with the truth's mu


def test_without_a_reference_the_derivative_range_follows_the_curves_once(
    qtbot: QtBot, records: Records
) -> None:
    feed = Feed(WindowModel(records.problem, records.report.result.x, advice=False))
    stack = shown_stack(qtbot, feed.model)
    before = y_ranges(stack)
    feed.data(records.data.grid, records.data.y)
    feed.curves(records.curves)
    QApplication.processEvents()
    assert y_ranges(stack)[1] == before[1]  # the reference may still come
    no_reference = dataclasses.replace(records.report, reference=None, reference_note="off")
    feed.report(no_reference)
    QApplication.processEvents()
    assert y_ranges(stack)[1] != before[1]
