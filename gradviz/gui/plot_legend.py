"""Legends that never cover data: laid out in their plot's frame, above the data area.

pyqtgraph anchors a legend inside the view box, over the curves; on the seed the float32
and float64 noise fills every corner, so no corner is free. A :class:`FrameLegend` sits in
the plot's own layout, in the row above the view box (where a top axis would go), so the
data area is what is left below it. A click on it folds it to one line (its plot gets the
height back) and a second click opens it again. Its size is its entries', asked of its
own layout: pyqtgraph's ``updateSize`` added up entries its layout had stretched to the
previous box, so every change of columns grew a legend ~1.6x (1.39e7 px after a session).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QSizePolicy

FOLDED_TEXT = "legend ▸ (click to show)"
LEGEND_ROW = 1  # the PlotItem layout's row above the view box (its hidden top axis)
DATA_COLUMN = 1  # the view box's; the right axis is the next


class FrameLegend(pg.LegendItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """A legend in the layout of ``plot``, above its view box; click to fold or open."""

    def __init__(self, plot: Any, **options: Any) -> None:
        super().__init__(offset=None, **options)
        # Drawn with the scene, so an export drawn larger grows it like the rest.
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.layout.setContentsMargins(4, 1, 4, 1)  # the plot's height is scarce
        self.folded = False
        self.columnCount: int = options.get("colCount", 1)
        self._fold_label = pg.LabelItem(FOLDED_TEXT, size=options.get("labelTextSize", "9pt"))
        self._fold_label.setParentItem(self)
        self._fold_label.hide()
        self.setToolTip("Click to fold the legend to one line, or to open it")
        plot.legend = self  # PlotItem.addItem puts named items here
        top = plot.getAxis("top")  # never shown: its cell is the legend's
        plot.layout.removeItem(top)
        top.hide()
        # Over the data area and the right axis (the left axis' label may run up beside
        # it): long entries keep two columns at 1280 px.
        plot.layout.addItem(self, LEGEND_ROW, DATA_COLUMN, 1, 2)
        plot.layout.setAlignment(self, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)

    def updateSize(self) -> None:
        """As large as the entries: the plot's layout asks the legend's own layout."""
        self.layout.invalidate()
        self.updateGeometry()

    def preferred_width(self) -> float:
        return float(self.effectiveSizeHint(Qt.SizeHint.PreferredSize).width())

    def set_folded(self, folded: bool) -> None:
        """One line saying how to open it, or every entry in its columns."""
        if folded == self.folded:
            return
        self.folded = folded
        self._relayout()

    def setColumnCount(self, columnCount: int) -> None:  # noqa: N803 (pyqtgraph's name)
        if columnCount != self.columnCount:
            self.columnCount = columnCount
            self._relayout()

    def _relayout(self) -> None:
        for index in range(self.layout.count() - 1, -1, -1):
            self.layout.removeAt(index)
        self._fold_label.setVisible(self.folded)
        if self.folded:
            for sample, label in self.items:
                sample.hide()
                label.hide()
            self.layout.addItem(self._fold_label, 0, 0)
        else:
            self.rowCount = 1
            for sample, label in self.items:
                sample.show()
                label.show()
                self._addItemToLayout(sample, label)
        self.updateSize()

    def addItem(self, item: Any, name: str) -> None:
        super().addItem(item, name)
        if self.folded:
            self._relayout()

    def mouseClickEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self.set_folded(not self.folded)

    def mouseDragEvent(self, event: Any) -> None:
        event.ignore()  # it stays in its row

    def hoverEvent(self, event: Any) -> None:
        """No drag to accept: the row is its place."""


def legend_room(plot: Any) -> float:
    """The width a legend of ``plot`` may take: its data area and right axis."""
    return float(plot.vb.width() + plot.getAxis("right").width())
