"""The frame of the three plots: axes, titles, grids and legends, and their colours.

Three stacked plots with x linked to the top one and equal axis widths so the plot areas
line up; only the bottom one labels x. Legends sit above the data areas (never over a
curve, see ``plot_legend.py``) and lose columns (never entries) where a plot is narrow.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QColor, QFont
from PyQt6.QtWidgets import QApplication

from gradviz.core.problem.quantity import QUANTITY, Quantity
from gradviz.gui.plot_items import PlotLook, with_alpha
from gradviz.gui.plot_legend import FrameLegend, legend_room
from gradviz.gui.plot_ranges import with_headroom
from gradviz.gui.probe_axis import ProbeAxis

TITLES = ("Data and posterior mean", "Derivative d mu/dx", "Precision")
LEFT_LABELS = ("mu(x)", "d mu/dx", "correct digits")
_VALUE_TITLES = {"mu": TITLES[0], "var": "Posterior variance var(x)"}
# Three rows at most above each data area; the top two have long entries (off-scale
# notes), the precision plot many short ones.
LEGEND_COLUMNS = (4, 4, 4)
TITLE_SIZE = "11pt"
LABEL_SIZE = "10pt"
LEGEND_SIZE = "9pt"
AXIS_WIDTH = 64  # fixed left/right axis width so the three plot areas line up
GRID_ALPHA = 0.15
DIGITS_RANGE = (0.0, 17.0)  # the precision plot's axis, decimal digits
DIGITS_TICKS = (0, 3, 6, 9, 12, 15)


def titles(quantity: Quantity) -> tuple[str, str, str]:
    """The three plots' titles for ``quantity``: its value, its derivative, precision."""
    value = _VALUE_TITLES.get(quantity.value, f"Log marginal likelihood {quantity.value_at}")
    return value, f"Derivative {quantity.slope}", TITLES[2]


def left_labels(quantity: Quantity) -> tuple[str, str, str]:
    return quantity.value_at, quantity.slope, LEFT_LABELS[2]


def show_axis(plots: tuple[Any, ...], axis: ProbeAxis) -> None:
    """Titles, left labels and the bottom axes of ``axis``'s quantity: powers of ten
    along an LML quantity's theta (the plots draw log10 theta, see ProbeAxis)."""
    for plot, label in zip(plots, left_labels(axis.quantity), strict=True):
        plot.setLabel("left", label, **{"font-size": LABEL_SIZE})
    for plot in plots:
        plot.getAxis("bottom").setLogMode(axis.log)
    plots[-1].setLabel("bottom", axis.label, **{"font-size": LABEL_SIZE})


def build_plots(graphics: Any, look: PlotLook) -> tuple[Any, Any, Any]:
    """Three stacked plots in ``graphics`` (a GraphicsLayoutWidget), styled."""
    graphics.ci.setContentsMargins(6, 4, 10, 6)
    graphics.ci.setSpacing(2)
    plots = tuple(graphics.addPlot(row=row, col=0) for row in range(3))
    for plot, label, columns in zip(plots, LEFT_LABELS, LEGEND_COLUMNS, strict=True):
        _style_plot(plot, label, columns, look)
    for plot in plots[1:]:
        plot.setXLink(plots[0])
    for plot in plots[:2]:
        plot.getAxis("bottom").setStyle(showValues=False)
        plot.getAxis("right").setStyle(showValues=False)
    plots[2].setLabel("bottom", "x", **{"font-size": LABEL_SIZE})
    plots[2].getAxis("right").setStyle(showValues=False)  # kept, so the plots line up
    plots[2].getAxis("left").setTicks([[(value, str(value)) for value in DIGITS_TICKS]])
    plots[2].setYRange(*with_headroom(*DIGITS_RANGE), padding=0)
    return plots[0], plots[1], plots[2]


def _style_plot(plot: Any, left_label: str, legend_columns: int, look: PlotLook) -> None:
    """Light grid, readable fonts, equal axis widths, a legend above the data area."""
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
        look.cache_as_pixmap(axis)
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.getAxis("right").setWidth(AXIS_WIDTH)
    FrameLegend(plot, labelTextSize=LEGEND_SIZE, colCount=legend_columns, verSpacing=-6)


def fit_legends(plots: tuple[Any, ...]) -> None:
    """Fewer legend columns where a plot is too narrow for them (1280 px windows), so no
    entry is cut off; back to LEGEND_COLUMNS where there is room."""
    for plot, columns in zip(plots, LEGEND_COLUMNS, strict=True):
        room = legend_room(plot)
        legend = plot.legend
        for count in range(columns, 0, -1):
            legend.setColumnCount(count)
            if count == 1 or legend.preferred_width() <= room:
                break


def color_frame(
    graphics: Any,
    plots: tuple[Any, ...],
    background: QColor,
    foreground: QColor,
    quantity: Quantity = QUANTITY["mean-slope"],
) -> None:
    """Background, axes, titles (of ``quantity``) and legends from the palette's colours."""
    graphics.setBackground(background)
    for plot, title in zip(plots, titles(quantity), strict=True):
        plot.setTitle(title, color=foreground.name(), size=TITLE_SIZE)
        color_plot(plot, foreground, ("left", "right", "bottom"))
        plot.legend.setBrush(with_alpha(background, 170))
        plot.legend.setPen(with_alpha(foreground, 60))


def color_plot(plot: Any, foreground: QColor, axes: tuple[str, ...]) -> None:
    """A plot's ``axes`` and legend text in ``foreground`` (the Sweeps tab's plots too)."""
    for name in axes:
        plot.getAxis(name).setPen(foreground)
        plot.getAxis(name).setTextPen(foreground)
    if plot.legend is not None:
        plot.legend.setLabelTextColor(foreground)
        for _, label in plot.legend.items:
            label.setText(label.text)  # setLabelTextColor alone does not re-render
