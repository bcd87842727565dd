"""The quantities gradviz differentiates, and the axis along which each one's probe moves.

With A = K + jitter I (K the kernel matrix of the points, y the data)::

    mean-slope       mu(x)   = k(x)^T A^-1 y                      d mu/dx     (probe: x)
    variance-slope   var(x)  = k(x, x) - k(x)^T A^-1 k(x)         d var/dx    (probe: x)
    lml-<theta>      LML(theta) = -1/2 y^T A^-1 y - 1/2 log det A - n/2 log 2 pi,
                     d LML/d theta = 1/2 alpha^T (dA/dtheta) alpha - 1/2 tr(A^-1 dA/dtheta),
                     alpha = A^-1 y                                (probe: theta, log axis)

for theta one of the kernel's parameters (length scale, signal variance, and alpha or
period where the kernel has them) or the jitter itself (dA/djitter = I). For an LML
quantity the probe moves along theta: every other field of the problem stays, and y (the
data) is the same at every theta, so the curve over theta is the likelihood a fit climbs.

The quantity is a field of :class:`~gradviz.core.problem.spec.Problem`, not an option
beside it: it decides what every path computes, what the reference certifies and what
a result is keyed on, so a cached result, a session and a worker request for one
quantity can never be taken for another's. Which quantities a kernel has is validated
with the kernel, as its parameters are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from gradviz.core.problem.kernels import Parameter

QuantityName = Literal[
    "mean-slope",
    "variance-slope",
    "lml-lengthscale",
    "lml-signal-variance",
    "lml-jitter",
    "lml-alpha",
    "lml-period",
]
QUANTITIES: tuple[QuantityName, ...] = get_args(QuantityName)
# What an LML quantity differentiates: one of the kernel's parameters, or the jitter.
Theta = Parameter | Literal["jitter"]
# The probe of an LML quantity spans this many decades either side of the problem's theta.
THETA_DECADES = 2.0


@dataclass(frozen=True)
class Quantity:
    """One quantity: its name, what it differentiates and how it is written.

    ``theta`` is None for the two slopes in x; for an LML quantity it names the field of
    the problem the probe moves along. ``value`` and ``slope`` are the symbols the
    tables, plots and help texts print; ``help`` explains it in one line.
    """

    name: QuantityName
    theta: Theta | None
    value: str  # "mu", "var", "LML"
    axis: str  # "x", "l", "S", "jitter", "A", "P"
    help: str

    @property
    def is_lml(self) -> bool:
        return self.theta is not None

    @property
    def slope(self) -> str:
        """``d mu/dx``, ``d var/dx``, ``d LML/dl``."""
        return (
            f"d {self.value}/d{self.axis}"
            if len(self.axis) == 1
            else (f"d {self.value}/d {self.axis}")
        )

    @property
    def value_at(self) -> str:
        """``mu(x)``, ``LML(l)``."""
        return f"{self.value}({self.axis})"


QUANTITY: Mapping[QuantityName, Quantity] = {
    q.name: q
    for q in (
        Quantity(
            "mean-slope",
            None,
            "mu",
            "x",
            "slope of the posterior mean mu(x) = k(x)^T A^-1 y at the probe x",
        ),
        Quantity(
            "variance-slope",
            None,
            "var",
            "x",
            "slope of the posterior variance var(x) = k(x, x) - k(x)^T A^-1 k(x) at the probe x",
        ),
        Quantity(
            "lml-lengthscale",
            "length_scale",
            "LML",
            "l",
            "d LML/dl: the log marginal likelihood's gradient in the length scale l",
        ),
        Quantity(
            "lml-signal-variance",
            "signal_variance",
            "LML",
            "S",
            "d LML/dS: the log marginal likelihood's gradient in the signal variance S",
        ),
        Quantity(
            "lml-jitter",
            "jitter",
            "LML",
            "jitter",
            "d LML/d jitter: the log marginal likelihood's gradient in the jitter (noise) "
            "added to K's diagonal",
        ),
        Quantity(
            "lml-alpha",
            "alpha",
            "LML",
            "A",
            "d LML/dA: the log marginal likelihood's gradient in the rational-quadratic's alpha",
        ),
        Quantity(
            "lml-period",
            "period",
            "LML",
            "P",
            "d LML/dP: the log marginal likelihood's gradient in the periodic kernel's period",
        ),
    )
}
if tuple(QUANTITY) != QUANTITIES:
    raise ImportError("every QuantityName needs exactly one Quantity, in QUANTITIES order")


def quantities_of(parameters: tuple[Parameter, ...]) -> tuple[QuantityName, ...]:
    """The quantities a kernel with these parameters has: the two slopes in x, the jitter's
    and one LML gradient per parameter."""
    return tuple(q.name for q in QUANTITY.values() if q.theta in (None, "jitter", *parameters))


def step_scale(quantity: Quantity, t: float) -> float:
    """What a finite-difference step at the probe t is relative to: max(1, |x|) in x, theta
    itself along an LML quantity's theta (positive, on a log axis: t - h stays above 0
    for every step below t)."""
    return abs(t) if quantity.is_lml else max(1.0, abs(t))


def central_step(quantity: Quantity, eps: float, t: float) -> float:
    """The central difference's default step h = cbrt(eps) :func:`step_scale`."""
    return math.cbrt(eps) * step_scale(quantity, t)


def theta_range(theta: float) -> tuple[float, float]:
    """The probe's span around the problem's theta: THETA_DECADES either side (log axis)."""
    factor = 10.0**THETA_DECADES
    return theta / factor, theta * factor
