"""A certified lower bound on cond(K + jitter I), cheap enough to ask before a costly solve.

Why: a ball solve at p bits of a matrix much worse conditioned than 2^p fails, and the
failure costs the whole O(n^3) step (the seed's K fails at 128, 256 and 512 bits: ~4 s
of CPU here). A bound that costs O(m^2) kernel values, m << n, says in advance which
steps are hopeless.

For A = K + jitter I, symmetric positive semidefinite K (every kernel here is a positive
definite function, so its Gram matrix is):

    lambda_max(A) >= A_ii = k(0) + jitter                  (the Rayleigh quotient of e_i)
    lambda_min(A) <= v^T A v / v^T v  for any v != 0
    cond_2(A) = lambda_max / lambda_min >= (k(0) + jitter) v^T v / v^T A v

Everything is computed in ball arithmetic from the exact float64 inputs, and v is an exact
vector (ball midpoints), so the bound holds for the exact matrix. It is tight only when
v^T K v is tiny: v is the divided-difference functional of order m on m + 1 neighbouring
points, v_i = 1 / prod_{j != i} (t_i - t_j), which annihilates every polynomial of degree
< m for any distinct points. For a smooth kernel (rbf, rational-quadratic, matern52, ...)
on points much closer than the length scale, v^T K v is an m-th mixed derivative of k
times (spacing / length)^(2m): the seed's K (n = 300, l = 1.5, spacing 0.033) gets
cond >= 2^600 from m = 128 in ~0.05 s. Repeated points give v = e_i - e_j and
v^T K v = 0 exactly: K without jitter is exactly singular (the bound is infinite).

Where the kernel is rough (matern12) or the points far apart, the bound is weak and
nothing is skipped: a weak bound is still a true one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from flint import arb, arb_mat

from gradviz.core.numerics.balls import ball_form, kernel_balls, precision
from gradviz.core.problem.kernels import Form, Kernel

# Bits of working precision above the bound sought: v^T K v cancels ~ log2(|v|_1^2 /
# v^T K v) bits, so a bound of 2^b needs about b + log2(m) bits; this leaves room.
GUARD_BITS = 64
# Orders of the divided difference tried, while each doubling still gains this many bits.
FIRST_ORDER = 4
MIN_GAIN_BITS = 4.0


def cond_lower_bound_bits(
    points: Sequence[float], kernel: Kernel, jitter: float, target_bits: int
) -> float:
    """The largest integer b (or inf) with cond_2(K + jitter I) >= 2^b certified, K the
    ``kernel``'s matrix at ``points``, in balls at ``target_bits + GUARD_BITS``. Stops as
    soon as the bound reaches ``target_bits``, or when doubling the order m gains less
    than MIN_GAIN_BITS. Deterministic: the same inputs give the same bound, whatever the
    machine's load."""
    distinct = sorted(set(points))
    with precision(target_bits + GUARD_BITS):
        form = ball_form(kernel)
        if len(distinct) < len(points):  # a repeated point: two equal rows of K
            repeated = next(p for p in distinct if points.count(p) > 1)
            return _bound([repeated, repeated], [arb(1), arb(-1)], form, jitter)
        best = -math.inf
        order = FIRST_ORDER
        while True:
            order = min(order, len(distinct) - 1)
            if order < 1:
                return best
            window = _densest(distinct, order)
            found = _bound(window, _divided_difference(window), form, jitter)
            gained = found - best
            best = max(best, found)
            if best >= target_bits or gained < MIN_GAIN_BITS or order == len(distinct) - 1:
                return best
            order *= 2


def _densest(points: Sequence[float], order: int) -> list[float]:
    """The order + 1 consecutive (sorted, distinct) points of least span: where K's rows
    are closest to dependent."""
    spans = [points[i + order] - points[i] for i in range(len(points) - order)]
    start = min(range(len(spans)), key=spans.__getitem__)
    return list(points[start : start + order + 1])


def _divided_difference(window: Sequence[float]) -> list[arb]:
    """v_i = 1 / prod_{j != i} (t_i - t_j), each rounded to an exact ball midpoint (v need
    only be some exact vector: the Rayleigh quotient bounds lambda_min for any)."""
    balls = [arb(t) for t in window]
    weights = []
    for i, ti in enumerate(balls):
        product = arb(1)
        for j, tj in enumerate(balls):
            if j != i:
                product *= ti - tj
        weights.append(arb((1 / product).mid()))
    return weights


def _bound(window: Sequence[float], v: Sequence[arb], form: Form, jitter: float) -> float:
    """log2 of (k(0) + jitter) v^T v / v^T (K + jitter I) v, rounded down to a certified
    integer; inf when v^T (K + jitter I) v is exactly 0."""
    kernel = kernel_balls([arb(t) for t in window], form)  # [m+1, m+1]
    column = arb_mat([[vi] for vi in v])  # [m+1, 1]
    norm2 = sum((vi * vi for vi in v), arb(0))
    quadratic = (column.transpose() * kernel * column)[0, 0] + arb(jitter) * norm2
    upper = quadratic.upper()
    if upper == 0:
        return math.inf
    cond = (form.value(arb(0)) + arb(jitter)) * norm2 / upper
    if not cond > 1:
        return 0.0
    bits = math.floor(float((cond.log() / arb(2).log()).mid()))
    while bits > 0 and not cond >= arb(2) ** bits:  # certify the integer, not the float
        bits -= 1
    return float(bits)
