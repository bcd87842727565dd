"""The posterior variance on the top plot: mu +/- 2 sqrt(var) per dtype as a shaded band,
and a mark wherever a dtype's arithmetic made var negative.

Negative posterior variance is one of the most reported float32 GP failures: where var
< 0 there is no standard deviation, so the band has a gap there, and the gap is never
silent: a red tick at each such x along the bottom of the plot (a rug: float32's row
lowest, float64's above it; each tick's tooltip gives x and var) says why, and one legend
entry counts them ("negative var: float32 at 37 x" or "none"). Ticks on the curve
itself hid it (float32 went negative at 410 of 1000 x on the seed grid at n = 60, jitter
1e-6, inverse). The marks are drawn whether or not the band is shown, and on the
variance's own plot (variance-slope) too. The worker computes var
(``Curves.variance``); this module only places it. Every item is created once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QColor

from gradviz.core.numerics.results import DTYPES, Curves, DType
from gradviz.gui import style
from gradviz.gui.plot_items import Items, PlotLook, with_alpha
from gradviz.gui.plot_ranges import Box

BAND_ALPHA = 40  # of 255: the float64 band shows through the float32 one
# Each dtype's row of ticks, as a fraction of the plot's height above its bottom edge.
RUG_ROWS: dict[DType, float] = {"float32": 0.03, "float64": 0.08}


# Short: at 1280x720 a longer entry pushed the mean's legend into one column of five rows.
NEGATIVE_NAME = "negative var"


def negative_words(counts: dict[DType, int] | None) -> str:
    """The legend entry: which dtypes went negative where (None: no variance yet)."""
    if counts is None:
        return f"{NEGATIVE_NAME}: not computed yet"
    found = [f"{dtype} at {count} x" for dtype, count in counts.items() if count]
    return f"{NEGATIVE_NAME}: {', '.join(found) if found else 'none'}"


def band_edges(mu: np.ndarray, variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu + 2 sqrt(var) and mu - 2 sqrt(var); NaN where var is negative or not a number
    (the band has a gap there, which the negative-variance marks explain). [m], [m]"""
    variance = np.asarray(variance, dtype=float)
    with np.errstate(invalid="ignore"):
        sd = np.where(np.isfinite(variance) & (variance >= 0), np.sqrt(np.abs(variance)), np.nan)
    return mu + 2 * sd, mu - 2 * sd


def set_legend_entry(plot: Any, item: Any, text: str) -> None:
    """Say ``text`` in ``item``'s legend entry; "" takes the entry out (a hidden entry
    would leave an empty row). Entries come and go with the quantity only: within one
    quantity the text changes in place."""
    label = plot.legend.getLabel(item)
    if label is not None and text:
        label.setText(text)
    elif label is not None:
        plot.legend.removeItem(item)
    elif text:
        plot.legend.addItem(item, text)


def _tip(x: float, y: float, data: Any) -> str:
    """A mark's tooltip: where, and the negative var itself."""
    dtype, t, var = data
    return f"{NEGATIVE_NAME} ({dtype}) at {t:.6g}: var = {var:.3g}"


class VarianceBand:
    """The band and the negative-variance marks of one plot, per dtype."""

    def __init__(self, plot: Any, look: PlotLook) -> None:
        self.plot = plot
        self._edges: dict[DType, tuple[Any, Any]] = {}
        self.fills: Items = {}
        for dtype in DTYPES:
            upper, lower = (pg.PlotCurveItem(connect="finite") for _ in range(2))
            brush = with_alpha(QColor(style.DTYPE_COLORS[dtype]), BAND_ALPHA)
            fill = pg.FillBetweenItem(upper, lower, brush=brush, pen=None)
            fill.setZValue(-20 - DTYPES.index(dtype))  # under the data and the curves
            plot.addItem(fill)
            self._edges[dtype] = (upper, lower)
            self.fills[dtype] = fill
        self._found: list[tuple[DType, Any, Any, Any]] = []  # (dtype, at, t, var)
        self.negative = pg.ScatterPlotItem(
            size=look.size(12), symbol="|", hoverable=True, tip=_tip,
            pen=look.pen(style.ERROR_COLOR, 1), brush=style.ERROR_COLOR, name=NEGATIVE_NAME,
        )  # fmt: skip
        self.negative.setZValue(35)
        plot.addItem(self.negative, ignoreBounds=True)

    def show(self, curves: Curves | None, at: np.ndarray, band: bool, listed: bool) -> None:
        """The band around ``curves.mu`` (``band``) and the marks, at the view
        coordinates ``at`` of ``curves.x``; nothing without a variance. ``listed``: the
        plot has a variance to speak of (not along an LML quantity's theta), so the
        legend has the marks' entry."""
        found: list[tuple[DType, Any, Any, Any]] = []  # numpy scalars
        counts: dict[DType, int] | None = None
        for dtype in DTYPES:
            variance = None if curves is None else curves.variance.get(dtype)
            upper, lower = self._edges[dtype]
            if curves is None or variance is None or not len(variance):
                upper.setData([], [])
                lower.setData([], [])
                continue
            mu = np.asarray(curves.mu[dtype], dtype=float)
            high, low = band_edges(mu, variance) if band else (np.empty(0), np.empty(0))
            upper.setData(at[: len(high)], high)
            lower.setData(at[: len(low)], low)
            self.fills[dtype].setVisible(band)
            negative = np.flatnonzero(np.asarray(variance) < 0)
            counts = {**(counts or {}), dtype: len(negative)}
            found += [
                (dtype, float(at[i]), float(curves.x[i]), float(variance[i])) for i in negative
            ]
        self._found = found
        self.place_marks()
        self._label(negative_words(counts) if listed else "")

    def place_marks(self) -> None:
        """The ticks along the bottom of the visible y range (again when it changes)."""
        _, (y_lo, y_hi) = self.plot.vb.viewRange()
        self.negative.setData(
            [
                {
                    "pos": (float(at), y_lo + RUG_ROWS[dtype] * (y_hi - y_lo)),
                    "data": (dtype, float(t), float(var)),
                }
                for dtype, at, t, var in self._found
            ]
        )

    def _label(self, text: str) -> None:
        """The legend entry's text; hidden where there is no variance."""
        set_legend_entry(self.plot, self.negative, text)

    def edges(self, dtype: DType) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The band of ``dtype`` as drawn: view x, upper and lower edge (empty when off
        or without a variance). [m] each"""
        upper, lower = self._edges[dtype]
        if upper.xData is None or not self.fills[dtype].isVisible():
            return np.empty(0), np.empty(0), np.empty(0)
        return np.asarray(upper.xData), np.asarray(upper.yData), np.asarray(lower.yData)

    def negative_x(self, dtype: DType) -> np.ndarray:
        """Where the marks of ``dtype`` are (view coordinates). [k]"""
        x = [spot.pos().x() for spot in self.negative.points() if spot.data()[0] == dtype]
        return np.asarray(x, dtype=float)

    def legend_text(self) -> str:
        label = self.plot.legend.getLabel(self.negative)
        return "" if label is None else str(label.text)

    def clip(self, box: Box) -> None:
        """Cut the band to ``box`` for an SVG (its fill needs no clip path then)."""
        x_lo, x_hi, y_lo, y_hi = box
        for upper, lower in self._edges.values():
            if upper.xData is None or not len(upper.xData):
                continue
            x = np.asarray(upper.xData)
            keep = (x >= x_lo) & (x <= x_hi)
            for edge in (upper, lower):
                y = np.asarray(edge.yData)[keep]
                edge.setData(x[keep], np.clip(y, y_lo, y_hi))
