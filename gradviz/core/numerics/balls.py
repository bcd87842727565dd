"""Ball arithmetic (python-flint) shared by the references: precision, CPU-time budgets,
the kernels in balls, and when a ball fixes a value.

Every input (points, y, parameters, jitter, x) is taken as the exact value of its float64.
A value is "exact" only when its ball fixes it to TIGHT_RELATIVE (2^-64, finer than any
float64 error it judges). Budgets are CPU time of this process (``time.process_time``):
the same problem gets the same steps, and so the same answer and reason, whether the
machine is busy or idle. ``ctx.prec`` is process-global: :func:`precision` sets it for
one block.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flint import arb, arb_mat, ctx

from gradviz.core.numerics.results import Ball
from gradviz.core.problem.kernels import Form, Kernel, NotDifferentiableError

PRECISIONS: tuple[int, ...] = (128, 256, 512, 1024, 2048)
DEFAULT_BUDGET_S = 10.0

# Measured at n = 300: build + solve grows x2.0-2.1 per precision doubling, and a solve that
# certifies costs up to ~1.2x one that fails. Predictions err high: a step predicted too dear is
# skipped, one predicted too cheap overruns the budget.
COST_RATIO_PER_DOUBLING = 2.1
MARGIN = 1.3
# The first step's cost is predicted from a solve this small (a few ms) scaled as n^3.
PROBE_N = 40
# A value is fixed once its ball's radius is within 2^-64 of its midpoint's magnitude:
# finer than any float64 error it judges.
TIGHT_RELATIVE = 2.0**-64
# Above this precision a step is tried only when it is cheap, at most CHEAP_SHARE of the
# budget (small n). A K that 512 bits cannot certify is nearly singular, and a further
# doubling at n = 300 (6 s of CPU here) would take most of the budget for little chance;
# a step predicted far from the threshold either way also keeps the outcome the same on a
# busy machine and an idle one.
COSTLY_BITS = 512
CHEAP_SHARE = 0.1


@contextmanager
def precision(bits: int) -> Iterator[None]:
    """ctx.prec is process-global: set it for one block and always restore it."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


class Budget:
    """CPU seconds a group of steps may spend, and what they have spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def left(self) -> float:
        return self.seconds - self.spent

    @contextmanager
    def charged(self) -> Iterator[None]:
        start = time.process_time()
        try:
            yield
        finally:
            self.spent += time.process_time() - start


class ArbMath:
    """python-flint balls for the kernels' formulas, one ball at a time; every function is
    rigorous. ``sign`` of a ball that may be 0 raises NotDifferentiableError, unless
    ``zero_sign`` (-1 or +1) names the side from which an exact 0 is approached: the
    one-sided slopes at a kink."""

    def __init__(self, zero_sign: int | None = None) -> None:
        self._zero_sign = zero_sign

    def exp(self, a: arb) -> arb:
        return a.exp()

    def log(self, a: arb) -> arb:
        return a.log()

    def sin(self, a: arb) -> arb:
        return a.sin()

    def cos(self, a: arb) -> arb:
        return a.cos()

    def abs(self, a: arb) -> arb:
        return abs(a)

    def sign(self, a: arb) -> arb:
        if not a.contains(0):
            return a.sgn()
        if self._zero_sign is None:
            raise NotDifferentiableError("the slope jumps at d = 0")
        return arb(self._zero_sign) if a.is_zero() else a.sgn()

    def power(self, a: arb, b: arb) -> arb:
        return a**b

    def constant(self, value: arb) -> arb:
        return value

    def number(self, value: float) -> arb:
        return arb(value)

    def sqrt(self, value: arb) -> arb:
        return value.sqrt()

    def pi(self) -> arb:
        return arb.pi()


def ball_form(kernel: Kernel, zero_sign: int | None = None) -> Form:
    """The kernel in ball arithmetic at the current precision (constants derived exactly
    from the parameters' float64 values); with ``zero_sign``, its one-sided slopes."""
    math_ = ArbMath(zero_sign)
    return Form(kernel, math_, math_)


def kernel_balls(points: Sequence[arb], form: Form) -> arb_mat:
    """K without jitter at the current precision; symmetric, so half the values. [n, n]"""
    n = len(points)
    rows: list[list[arb]] = [[arb(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = form.value(points[i] - points[j])
    return arb_mat(rows)


def has_kink(kernel: Kernel) -> bool:
    """The kernel's slope jumps at d = 0 (matern12): mu is not differentiable at a data
    point. Any other x differs from every point by at least an ulp, which no ball at
    PRECISIONS[0] bits blurs, so there the slope exists."""
    with precision(PRECISIONS[0]):
        form, zero = ball_form(kernel), arb(0)
        try:
            form.slope(zero, form.value(zero))
        except NotDifferentiableError:
            return True
    return False


def norm(values: Sequence[arb]) -> arb:
    """Euclidean norm of a vector of balls, enclosing that of every point in them."""
    total = arb(0)
    for value in values:
        bound = value.abs_upper()  # exact and >= 0, so the sum's square root exists
        total += bound * bound
    return total.sqrt()


def dot(left: Sequence[arb], right: Sequence[arb]) -> arb:
    """sum_i left_i right_i in ball arithmetic."""
    total = arb(0)
    for a, b in zip(left, right, strict=True):
        total += a * b
    return total


def tight(value: arb) -> bool:
    """The ball's radius is within TIGHT_RELATIVE of its midpoint's magnitude: it fixes the
    value to finer than any float64 error it judges (and so does not contain 0)."""
    return bool(value.rad() <= arb(TIGHT_RELATIVE) * abs(value.mid()))


def to_ball(value: arb) -> Ball:
    """A float Ball that rigorously encloses the arb ``value``.

    float(value.mid()) rounds the arb midpoint to a double, so the radius must
    cover that rounding as well as the arb radius: we bound |value - mid|
    in ball arithmetic (abs_upper rounds up) and round the float conversion of
    that bound up by one ulp (float() may round down).
    """
    mid = float(value.mid())
    return Ball(mid, math.nextafter(float((value - arb(mid)).abs_upper()), math.inf))


def refusal(label: str, bits: int, need: float, budget: Budget) -> str | None:
    """Why a step predicted to cost ``need`` CPU seconds is not started, or None."""
    if bits > COSTLY_BITS and need > CHEAP_SHARE * budget.seconds:
        return (
            f"{label} at {bits} bits would take more than {CHEAP_SHARE:.0%} of the "
            f"{budget.seconds:g} s budget"
        )
    if need > budget.left():
        return (
            f"out of time: {label} at {bits} bits would need ~{need:.2g} s, "
            f"{max(budget.left(), 0):.2g} s of the {budget.seconds:g} s budget left"
        )
    return None
