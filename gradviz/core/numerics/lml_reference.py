"""Rigorous reference values of the log marginal likelihood and its gradient in theta.

At each theta, with A = K(theta) + jitter I (for lml-jitter, A = K + theta I)::

    alpha      = A^-1 y                                      certified inverse, arb_mat.inv
    LML        = -1/2 y^T alpha - 1/2 log det A - n/2 log 2 pi   det A from arb_mat.det
    dLML/dtheta = 1/2 alpha^T (dA/dtheta) alpha - 1/2 tr(A^-1 dA/dtheta)

in ball arithmetic (python-flint), with dA/dtheta from the kernel's ball form
(:meth:`~gradviz.core.problem.kernels.Kernel.parameter_slope`; the identity for the
jitter). ``arb_mat.inv`` and ``arb_mat.det`` are Arb's rigorous Gaussian elimination
(an LU with certified error bounds): ``inv`` raises where it cannot certify A invertible,
and ``det`` gives a ball, whose logarithm exists only where the ball lies above 0. A
theta where either fails at every precision the budget allows is "undetermined", with the
reason, never a guess; so is one whose balls do not fix the LML and its gradient to 2^-64
(:data:`~gradviz.core.numerics.balls.TIGHT_RELATIVE`).

Unlike the slopes in x, every theta is a new A: an O(n^3) inverse and determinant per
theta and precision (~1 s at n = 300, 128 bits, here), raised 128 -> 2048 bits as the
values need it within a CPU-time budget per call. There is no jitter limit: where K is
singular, log det (K + jitter I) goes to -infinity as the jitter goes to 0, so the LML
has no limit to stand for it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence

from flint import arb, arb_mat

from gradviz.core.numerics.balls import (
    COST_RATIO_PER_DOUBLING,
    DEFAULT_BUDGET_S,
    MARGIN,
    PRECISIONS,
    PROBE_N,
    Budget,
    ball_form,
    precision,
    refusal,
    tight,
    to_ball,
)
from gradviz.core.numerics.results import Ball, Reference
from gradviz.core.problem.data import ProblemData

_Pair = tuple[Ball, Ball]


class LmlReferenceSolver:
    """LML(theta) and d LML/dtheta in ball arithmetic at any theta of the problem's LML
    quantity, with the interface of :class:`~gradviz.core.numerics.reference.ReferenceSolver`
    (the probe is theta). Each theta's answer is kept; each call of :meth:`evaluate_many`
    (and so each :meth:`evaluate`) has ``budget_s`` of CPU time for all its thetas."""

    def __init__(
        self,
        data: ProblemData,
        budget_s: float = DEFAULT_BUDGET_S,
        on_progress: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._data = data
        self._problem = data.problem
        theta = self._problem.measured.theta
        assert theta is not None, "an LML quantity has a theta"
        self._theta = theta
        self._budget_s = budget_s
        self._on_progress = on_progress
        self._points: list[float] = data.grid.tolist()  # [n]
        self._y: list[float] = data.y.tolist()  # [n]
        self._found: dict[tuple[float, float], Reference] = {}
        self._step_s: dict[int, float] = {}  # bits -> measured CPU seconds of one step

    def solve(self) -> None:
        """Nothing is shared between thetas: each is solved when asked for."""

    def evaluate(self, x: float) -> Reference:
        """The reference at theta = x."""
        return self.evaluate_many([x])[0]

    def evaluate_many(self, xs: Sequence[float]) -> list[Reference]:
        """The reference at every theta, within one budget for them all (in order: the
        ones that do not fit are undetermined, "out of time")."""
        budget = Budget(self._budget_s)
        return [self._at(theta, self._problem.jitter, budget) for theta in xs]

    def evaluate_jitters(
        self,
        jitters: Sequence[float],
        x: float,
        on_reference: Callable[[float, Reference], None] = lambda jitter, reference: None,
        budget_s: float | None = None,
    ) -> dict[float, Reference]:
        """The reference at theta = x of K(theta) + j I for every j, largest jitter first
        (the cheap ones), within ``budget_s`` for them all. For lml-jitter the jitter is
        the probe itself: j is the theta."""
        budget = Budget(self._budget_s if budget_s is None else budget_s)
        found: dict[float, Reference] = {}
        for jitter in sorted(set(jitters), reverse=True):
            theta = jitter if self._theta == "jitter" else x
            found[jitter] = self._at(theta, jitter, budget)
            on_reference(jitter, found[jitter])
        return {jitter: found[jitter] for jitter in jitters}

    def _label(self, theta: float, jitter: float) -> str:
        if self._theta == "jitter":
            return f"K + {theta:g} I"
        return f"K({self._problem.measured.axis} = {theta:g}) + {jitter:g} I"

    def _at(self, theta: float, jitter: float, budget: Budget) -> Reference:
        """The reference at (theta, jitter), from the lowest precision whose balls are
        tight, or why none within the budget is."""
        key = (theta, jitter)
        if key in self._found:
            return self._found[key]
        label = self._label(theta, jitter)
        why = f"{label} was not tried"
        for bits in PRECISIONS:
            with budget.charged():
                need = self._predict(bits)
            stop = refusal(label, bits, need, budget)
            if stop is not None:
                why = f"{why}; {stop}" if bits > PRECISIONS[0] else stop
                break
            self._on_progress(f"reference: {bits} bits for {label}")
            with budget.charged():
                start = time.process_time()
                pair, why = self._step(theta, jitter, bits, label)
                self._step_s[bits] = time.process_time() - start
            if pair is not None:
                lml, grad = pair
                reference = Reference("exact", mu=lml, grad=grad, precision_bits=bits)
                self._found[key] = reference
                return reference
        else:
            why = f"{why} ({PRECISIONS[-1]} bits is the highest precision tried)"
        reference = Reference("undetermined", reason=why)
        if not why.startswith("out of time") and "out of time" not in why:
            self._found[key] = reference  # a budget that ran out may do better next time
        return reference

    def _step(self, theta: float, jitter: float, bits: int, label: str) -> tuple[_Pair | None, str]:
        """(LML, gradient) balls at ``bits``, or None and why they are not fixed."""
        with precision(bits):
            matrix, slope = self._matrices(theta, jitter)
            try:
                inverse = matrix.inv()  # [n, n]
            except ZeroDivisionError:
                return None, f"{label} is singular to {bits}-bit ball arithmetic"
            det = matrix.det()
            if not det > 0:
                return None, (
                    f"det({label}) is not certified positive at {bits} bits (its ball "
                    "contains 0): log det does not exist to that precision"
                )
            y = arb_mat([[v] for v in self._y])  # [n, 1]
            alpha = inverse * y  # [n, 1]
            n = len(self._y)
            quad = (y.transpose() * alpha)[0, 0]
            lml = -quad / 2 - det.log() / 2 - arb(n) * (2 * arb.pi()).log() / 2
            fit = (alpha.transpose() * (slope * alpha))[0, 0]
            grad = fit / 2 - (inverse * slope).trace() / 2
            if not (tight(lml) and tight(grad)):
                return (
                    None,
                    f"{label} at {bits} bits does not fix the LML and its gradient to 2^-64",
                )
            return (to_ball(lml), to_ball(grad)), ""

    def _matrices(self, theta: float, jitter: float) -> tuple[arb_mat, arb_mat]:
        """A = K(theta) + jitter I and dA/dtheta at the current precision. [n, n] each"""
        n = len(self._points)
        name = self._theta
        kernel = self._problem.covariance
        if name != "jitter":
            kernel = dataclasses.replace(kernel, **{name: theta})
        form = ball_form(kernel)
        points = [arb(p) for p in self._points]
        values = [[arb(0)] * n for _ in range(n)]
        slopes = [[arb(0)] * n for _ in range(n)]
        for i in range(n):
            for j in range(i, n):
                d = points[i] - points[j]
                k = form.value(d)
                values[i][j] = values[j][i] = k
                if name != "jitter":
                    slopes[i][j] = slopes[j][i] = form.parameter_slope(d, k, name)
        if name == "jitter":
            slopes = [[arb(int(i == j)) for j in range(n)] for i in range(n)]
        added = theta if name == "jitter" else jitter
        return arb_mat(values) + arb(added), arb_mat(slopes)

    def _predict(self, bits: int) -> float:
        """CPU seconds one step at ``bits`` is expected to take."""
        lower = [b for b in self._step_s if b <= bits]
        if lower:
            b = max(lower)
            return MARGIN * self._step_s[b] * math.pow(COST_RATIO_PER_DOUBLING, math.log2(bits / b))
        return self._probe(bits)

    def _probe(self, bits: int) -> float:
        """Time a PROBE_N-point step (inverse and determinant) and scale it as n^3."""
        n = len(self._points)
        m = min(n, PROBE_N)
        with precision(bits):
            matrix = arb_mat([[arb(1 + (i == j) * m) for j in range(m)] for i in range(m)])
            start = time.process_time()
            matrix.inv()
            matrix.det()
            done = time.process_time()
        build = 2e-5 * n * n  # the kernel and its slope, ~10 us an entry here
        return (done - start) * (n / m) ** 3 + build
