"""The axis the probe moves along: x for the slopes in x, theta (log scale) for an LML
quantity, and how the window names, draws and steps it.

The plots draw in *view* coordinates: x itself, or log10(theta) for an LML quantity, whose
axes then label their ticks as powers of ten (pyqtgraph's ``AxisItem.setLogMode`` without
the plot's log mode, which would transform only some item types). Every value on the
probe's axis goes through :meth:`ProbeAxis.view` on its way to a plot and through
:meth:`ProbeAxis.probe` on its way back, in this one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradviz.core.problem.quantity import Quantity
from gradviz.core.problem.spec import Problem

# What each LML quantity's theta is called in sentences ("at length scale l = 1.5").
THETA_NAMES = {
    "length_scale": "length scale",
    "signal_variance": "signal variance",
    "jitter": "jitter",
    "alpha": "alpha",
    "period": "period",
}
# Up/Down and Left/Right step this fraction of a decade along a log axis.
LOG_STEPS_PER_DECADE = 50


@dataclass(frozen=True)
class ProbeAxis:
    """The probe's axis of one problem: its quantity and the span the probe may take."""

    quantity: Quantity
    domain: tuple[float, float]  # in probe units (x, or theta)
    grid_step: float  # one grid step in x (unused along theta)

    @classmethod
    def of(cls, problem: Problem) -> ProbeAxis:
        lo, hi = problem.domain
        return cls(problem.measured, problem.probe_domain, (hi - lo) / max(problem.n - 1, 1))

    @property
    def log(self) -> bool:
        return self.quantity.is_lml

    @property
    def symbol(self) -> str:
        """``x``, ``l``, ``S``, ``jitter``, ``A``, ``P``."""
        return self.quantity.axis

    @property
    def name(self) -> str:
        """``x`` or ``length scale l``: the axis in words."""
        theta = self.quantity.theta
        if theta is None:
            return "x"
        words = THETA_NAMES[theta]
        return words if words == self.symbol else f"{words} {self.symbol}"

    @property
    def span(self) -> str:
        """Where the probe may go, in words: ``domain``, ``length scale l range``."""
        return f"{self.name} range" if self.log else "domain"

    @property
    def label(self) -> str:
        """The bottom axis's label."""
        return f"{self.name} (log scale)" if self.log else "x"

    def at(self, t: float) -> str:
        """``x = 2.0`` or ``length scale l = 1.5``: every digit of the probe."""
        return f"{self.name} = {float(t)!r}"

    def headline(self, t: float) -> str:
        """The quantity and where it is taken, in one line: ``d mu/dx at x = 2.0``,
        ``d LML/dl at length scale l = 1.5``."""
        return f"{self.quantity.slope} at {self.at(t)}"

    def view(self, t: float) -> float:
        """Where the probe t is drawn."""
        return math.log10(t) if self.log else float(t)

    def views(self, t: np.ndarray) -> np.ndarray:
        """:meth:`view` of every probe in ``t`` (NaN where theta <= 0)."""
        t = np.asarray(t, dtype=float)
        if not self.log:
            return t
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(t > 0, np.log10(np.where(t > 0, t, 1.0)), np.nan)

    def probe(self, u: float) -> float:
        """The probe drawn at view coordinate u."""
        return float(10.0**u) if self.log else float(u)

    @property
    def view_domain(self) -> tuple[float, float]:
        lo, hi = self.domain
        return self.view(lo), self.view(hi)

    def view_slope(self, t: float, slope: float) -> float:
        """The slope d value/du of the drawn curve, u = view(t): d/dt t * ln 10 on a log
        axis (so a tangent drawn in view coordinates touches the drawn curve)."""
        return float(slope * t * math.log(10.0)) if self.log else float(slope)

    def clamped(self, t: float) -> float:
        lo, hi = self.domain
        return float(min(max(float(t), lo), hi))

    def nudged(self, t: float, steps: int) -> float:
        """``steps`` grid steps along x, or 1/LOG_STEPS_PER_DECADE decades each along
        theta (not clamped: the controller says when a step leaves the domain)."""
        if self.log:
            return float(t * 10.0 ** (steps / LOG_STEPS_PER_DECADE))
        return t + steps * self.grid_step
