"""While the marker is dragged the still items stand in as one picture: it looks the same,
the probe's items keep moving, and every item comes back as it was."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pytest
from conftest import Feed
from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QImage
from test_plots import send_mouse, viewport_point

from gradviz.gui import plot_backdrop
from gradviz.gui.plots import PlotStack

if TYPE_CHECKING:
    from records import Records

pytestmark = pytest.mark.usefixtures("no_mouse_rate_limit")  # every synthetic move counts


def image(stack: PlotStack) -> QImage:
    return stack.graphics().viewport().grab().toImage()


def opacities(stack: PlotStack) -> dict[int, float]:
    return {id(item): item.opacity() for item in stack.graphics().scene().items()}


def still_items(stack: PlotStack) -> list[object]:
    """Items drawn in the picture's place: fully transparent now."""
    return [item for item in stack.graphics().scene().items() if item.opacity() == 0.0]


def begin_drag(stack: PlotStack, x: float) -> None:
    stack.graphics().scene().minDragTime = 0
    start = viewport_point(stack, 1, stack.marker_x())
    send_mouse(stack, QEvent.Type.MouseMove, start, held=False)
    send_mouse(stack, QEvent.Type.MouseButtonPress, start, held=True)
    send_mouse(stack, QEvent.Type.MouseMove, viewport_point(stack, 1, x), held=True)


def release(stack: PlotStack, x: float) -> None:
    send_mouse(stack, QEvent.Type.MouseButtonRelease, viewport_point(stack, 1, x), held=False)


def test_a_drag_draws_the_still_items_as_one_picture_that_looks_the_same(
    qtbot, stack: PlotStack
) -> None:
    graphics = stack.graphics()
    before = opacities(stack)
    begin_drag(stack, 1.5)
    assert graphics.is_pictured()
    faded = still_items(stack)
    curves = stack.data.curves["float64"].curve
    assert faded and any(item is curves or item.isAncestorOf(curves) for item in faded)
    for item in stack._probe_items():
        assert item.opacity() == 1.0
    # With the probe's items out of the way, the picture and the items look alike.
    for item in stack._probe_items():
        item.setOpacity(0.0)
    pictured = image(stack)
    graphics.invalidate()
    assert not graphics.is_pictured()
    assert pictured == image(stack)
    for item in stack._probe_items():
        item.setOpacity(1.0)
    release(stack, 1.5)
    assert opacities(stack) == before


def test_the_picture_lingers_after_a_release_then_every_item_comes_back(
    qtbot, stack: PlotStack
) -> None:
    before = opacities(stack)
    begin_drag(stack, 1.5)
    release(stack, 1.5)
    assert stack.graphics().is_pictured()  # the next drag of the gesture pays nothing
    qtbot.waitUntil(lambda: not stack.graphics().is_pictured(), timeout=plot_backdrop.LINGER_MS * 3)
    assert opacities(stack) == before


def test_the_picture_is_taken_ahead_and_a_drag_only_swaps_it_in(
    qtbot, stack: PlotStack, monkeypatch
) -> None:
    graphics = stack.graphics()
    qtbot.waitUntil(graphics.has_picture, timeout=plot_backdrop.PRETAKE_MS * 10)
    viewport = graphics.viewport()
    monkeypatch.setattr(viewport, "grab", lambda: pytest.fail("a full paint at the drag's start"))
    begin_drag(stack, 1.5)
    assert graphics.is_pictured()
    release(stack, 1.5)
    monkeypatch.undo()
    stack.plot_items()[0].setXRange(-2.0, 2.0, padding=0)  # a zoom: the picture is old
    assert not graphics.has_picture()
    qtbot.waitUntil(graphics.has_picture, timeout=plot_backdrop.PRETAKE_MS * 10)


def test_the_probe_items_follow_a_report_during_the_drag(
    qtbot, stack: PlotStack, feed: Feed, records: Records, report_factory
) -> None:
    begin_drag(stack, 1.5)
    x = feed.model.x
    feed.report(report_factory(records.problem, x=x))
    tangent = stack.data.tangents["float64"]
    assert stack.graphics().is_pictured()
    assert tangent.opacity() == 1.0
    assert float(np.mean(tangent.xData)) == x  # the tangent stands at the new probe
    release(stack, x)


def test_new_curves_during_a_drag_drop_the_picture_and_it_is_taken_again(
    qtbot, stack: PlotStack, feed: Feed, records: Records
) -> None:
    before = opacities(stack)
    begin_drag(stack, 1.5)
    shifted = {dtype: mu + 1.0 for dtype, mu in records.curves.mu.items()}
    feed.curves(dataclasses.replace(records.curves, mu=shifted))
    assert not stack.graphics().is_pictured()
    assert opacities(stack) == before  # the new curves are drawn as items at once
    qtbot.waitUntil(stack.graphics().is_pictured, timeout=plot_backdrop.RETAKE_MS * 10)
    release(stack, 1.5)


def test_zoom_resize_and_a_legend_click_drop_the_picture(qtbot, stack: PlotStack) -> None:
    graphics = stack.graphics()

    def click_legend(stack: PlotStack) -> None:
        legend = stack.plot_items()[2].legend
        center = graphics.mapFromScene(legend.sceneBoundingRect().center())
        qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=center)
        assert legend.folded

    for to, change in (
        (1.0, lambda: stack.plot_items()[0].setXRange(-2.0, 2.0, padding=0)),
        (0.5, lambda: stack.resize(stack.width() - 40, stack.height())),
        (0.0, lambda: click_legend(stack)),
    ):
        begin_drag(stack, to)
        release(stack, to)
        assert graphics.is_pictured()
        change()
        qtbot.waitUntil(lambda: not graphics.is_pictured(), timeout=1000)


def test_export_copies_never_take_a_picture(qtbot, stack: PlotStack) -> None:
    from gradviz.gui.plot_items import PlotLook

    twin = stack.copy(PlotLook(cached=False))
    try:
        twin.marker.drag_changed.emit(True)
        assert not twin.graphics().is_pictured()
        assert not still_items(twin)
    finally:
        twin.deleteLater()
