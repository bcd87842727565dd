"""Where the plots look and what they cut: default y ranges, off-scale marks, clipping.

Plain numpy, no Qt: the plots call these with their data and view boxes.
"""

from __future__ import annotations

import numpy as np

RANGE_PERCENTILES = (1.0, 99.0)
RANGE_PADDING = 0.06
MIN_SPAN = 1e-12  # relative to the values' magnitude
TINY = 1e-290  # below this pyqtgraph's tick spacing underflows
LEGEND_HEADROOM = 0.4  # extra space above the data, as a fraction of its span, for the legend
OFF_SCALE_MARKS = 48  # at most this many edge marks per curve and edge

Box = tuple[float, float, float, float]  # x_lo, x_hi, y_lo, y_hi


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """Display mask: +-inf becomes NaN so ``connect="finite"`` leaves a gap."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def with_headroom(lo: float, hi: float) -> tuple[float, float]:
    """Pad a range and leave room above it, so the top-left legend covers no data. A span
    too small to tick (values that all underflow to about 0, a flat curve) becomes the
    values' magnitude, or 1: pyqtgraph divides by zero on subnormal tick spacings."""
    span, size = hi - lo, max(abs(lo), abs(hi))
    if not (span > MIN_SPAN * size and span > TINY):
        span = size if size > TINY else 1.0
    return lo - RANGE_PADDING * span, hi + (RANGE_PADDING + LEGEND_HEADROOM) * span


def robust_range(curve: np.ndarray, always: list[float]) -> tuple[float, float] | None:
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
    return with_headroom(min(points), max(points)) if points else None


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


def inside_box(x: np.ndarray, y: np.ndarray, box: Box) -> np.ndarray:
    """Which points lie in ``box`` (edges included). [k] bool"""
    x_lo, x_hi, y_lo, y_hi = box
    keep: np.ndarray = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
    return keep


def edge_spots(xs: np.ndarray, y: float, symbol: str) -> list[dict[str, object]]:
    """At most OFF_SCALE_MARKS evenly chosen marks at height ``y``."""
    step = max(1, len(xs) // OFF_SCALE_MARKS)
    return [{"pos": (float(x), y), "symbol": symbol} for x in xs[::step]]


def off_scale_note(values: np.ndarray) -> str:
    """Legend note for a clipped curve: how far beyond the view it goes."""
    if not values.size:
        return ""
    return f" (off-scale {values.min():.3g} .. {values.max():.3g})"
