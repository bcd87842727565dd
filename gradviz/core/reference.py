"""Rigorous reference values of mu(x) and mu'(x) in ball arithmetic (python-flint).

    K_ij   = exp(-(p_i - p_j)^2 / (2 l^2)) + jitter delta_ij          # [n, n]
    alpha  = K^-1 y                                                   # [n]
    mu(x)  = sum_i k_i(x) alpha_i,  k_i(x) = exp(-(x - p_i)^2 / (2 l^2))
    mu'(x) = sum_i dk_i(x) alpha_i, dk_i(x) = -(x - p_i) / l^2 k_i(x)

Every input (grid, y, l, jitter, x) is taken as the exact value of its float64,
so a result is the exact maths of the problem the float paths were given. The
solve is O(n^3) and runs once per problem, raising the precision until
``arb_mat.solve`` certifies K; each x then costs O(n). A solve that cannot be
certified within the precisions and the time budget is "undetermined", never a guess.
python-flint holds the GIL throughout, so callers run this in another process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from flint import arb, arb_mat, ctx

from gradviz.core.data import ProblemData
from gradviz.core.problem import Problem
from gradviz.core.results import Ball, Limit, Reference, ReferenceCurve

PRECISIONS: tuple[int, ...] = (128, 256, 512)
LIMIT_JITTERS: tuple[float, ...] = (1e-12, 1e-10, 1e-8, 1e-6)
DEFAULT_BUDGET_S = 10.0

# Measured at n = 300: build + solve grows x2.0-2.1 per precision doubling, and a solve that
# certifies costs up to ~1.2x one that fails. Predictions err high: a step predicted too dear is
# skipped, one predicted too cheap overruns the budget.
COST_RATIO_PER_DOUBLING = 2.1
MARGIN = 1.3
# The first step's cost is predicted from a solve this small (a few ms) scaled as n^3.
PROBE_N = 40


@contextmanager
def _precision(bits: int) -> Iterator[None]:
    """ctx.prec is process-global: set it for one block and always restore it."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


def _rbf(d: arb, two_l2: arb) -> arb:
    return (-(d * d) / two_l2).exp()


def _kernel(points: Sequence[arb], two_l2: arb) -> arb_mat:
    """K without jitter at the current precision; symmetric, so half the exps. [n, n]"""
    n = len(points)
    rows: list[list[arb]] = [[arb(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            rows[i][j] = rows[j][i] = _rbf(points[i] - points[j], two_l2)
    return arb_mat(rows)


def _to_ball(value: arb) -> Ball:
    """A float Ball that rigorously encloses the arb ``value``.

    float(value.mid()) rounds the arb midpoint to a double, so the radius must
    cover that rounding as well as the arb radius: we bound |value - mid|
    in ball arithmetic (abs_upper rounds up) and round the float conversion of
    that bound up by one ulp (float() may round down).
    """
    mid = float(value.mid())
    return Ball(mid, math.nextafter(float((value - arb(mid)).abs_upper()), math.inf))


@dataclass(frozen=True)
class _Solved:
    bits: int
    jitter: float
    alpha: arb_mat  # [n, 1]


class ReferenceSolver:
    """Solves (K + jitter I) alpha = y once per problem in ball arithmetic; each x then costs O(n).

    Usable from a plain loop in another process: no threads, no Qt, only callbacks.
    """

    def __init__(
        self,
        data: ProblemData,
        budget_s: float = DEFAULT_BUDGET_S,
        on_progress: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._problem = data.problem
        self._budget_s = budget_s
        self._on_progress = on_progress
        self._points = [arb(p) for p in data.grid.tolist()]  # [n]; exact: arb(float) never rounds
        self._y: list[float] = data.y.tolist()  # [n]
        self._kernels: dict[int, arb_mat] = {}  # bits -> K without jitter, reused per jitter
        self._build_s: dict[int, float] = {}  # bits -> measured seconds to build K
        self._solve_s: dict[int, float] = {}  # bits -> measured seconds of one solve
        self._main: _Solved | None = None
        self._limit: _Solved | None = None
        self._reason: str | None = None
        self._solved = False

    def solve(self) -> None:
        """The expensive part; idempotent."""
        if self._solved:
            return
        main, reason = self._solve_jitter(self._problem.jitter, self._deadline())
        limit = None
        if main is None and self._problem.jitter == 0:
            # The limit gets a budget of its own: the failed precisions of an undetermined K
            # (4-5 s at n = 300) must not leave it too little time on a busy machine.
            deadline = self._deadline()
            for jitter in LIMIT_JITTERS:  # ascending: the smallest jitter that certifies
                limit, why = self._solve_jitter(jitter, deadline)
                if limit is not None:
                    break
            else:
                reason = f"{reason}; no jitter limit: {why}"
        self._main, self._limit, self._reason = main, limit, reason
        self._solved = True

    def _deadline(self) -> float:
        return time.perf_counter() + self._budget_s

    def _solve_jitter(self, jitter: float, deadline: float) -> tuple[_Solved | None, str | None]:
        """Raise the precision until K + jitter I certifies: (alpha, None), else (None, why)."""
        label = "K" if jitter == 0 else f"K + {jitter:g} I"
        failed: list[int] = []
        for bits in PRECISIONS:
            left = deadline - time.perf_counter()
            need = self._predict(bits)
            if need > left:
                return None, (
                    f"out of time: {label} at {bits} bits would need ~{need:.2g} s, "
                    f"{max(left, 0):.2g} s of the {self._budget_s:g} s budget left"
                )
            note = f", not certified at {failed[-1]} bits" if failed else ""
            self._on_progress(f"reference: {bits} bits for {label}{note}")
            alpha = self._try_solve(bits, jitter)
            if alpha is not None:
                self._on_progress(f"reference: {label} certified at {bits} bits")
                return _Solved(bits, jitter, alpha), None
            failed.append(bits)
        return None, (
            f"{label} is singular to {failed[-1]}-bit ball arithmetic (cannot certify the solve)"
        )

    def _try_solve(self, bits: int, jitter: float) -> arb_mat | None:
        """One step: K at ``bits`` (cached), then the certified solve, timed for prediction."""
        with _precision(bits):
            if bits not in self._kernels:
                start = time.perf_counter()
                self._kernels[bits] = _kernel(self._points, 2 * self._l2())  # [n, n]
                self._build_s[bits] = time.perf_counter() - start
            start = time.perf_counter()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]; + scalar adds to the diagonal
            try:
                return matrix.solve(arb_mat([[v] for v in self._y]))  # [n, 1]
            except ZeroDivisionError:  # flint's "cannot certify K is invertible"
                return None
            finally:
                self._solve_s[bits] = time.perf_counter() - start

    def _predict(self, bits: int) -> float:
        """Seconds the step at ``bits`` is expected to take, so none starts that would overrun."""
        if bits in self._solve_s:  # K is cached; only the solve repeats
            return MARGIN * self._solve_s[bits]
        lower = [b for b in self._solve_s if b < bits]
        if lower:
            b = max(lower)
            ratio = math.pow(COST_RATIO_PER_DOUBLING, math.log2(bits / b))
            return MARGIN * ratio * (self._build_s[b] + self._solve_s[b])
        return self._probe(bits)

    def _probe(self, bits: int) -> float:
        """Time a well-conditioned PROBE_N-point step and scale it: build as n^2, solve as n^3."""
        n = len(self._points)
        m = min(n, PROBE_N)
        points = self._points[:: max(1, n // m)][:m]
        with _precision(bits):
            start = time.perf_counter()
            kernel = _kernel(points, 2 * self._l2()) + arb(1)  # [m, m], cond <= m + 1
            built = time.perf_counter()
            kernel.solve(arb_mat([[1.0]] * m))  # [m, 1]
            done = time.perf_counter()
        return (built - start) * (n / m) ** 2 + (done - built) * (n / m) ** 3

    def _l2(self) -> arb:
        """l^2 at the current precision, from l's exact float64 value."""
        return arb(self._problem.length_scale) ** 2

    def evaluate(self, x: float) -> Reference:
        """The reference at one x; solves first if needed."""
        return self.evaluate_many([x])[0]

    def evaluate_many(self, xs: Sequence[float]) -> list[Reference]:
        """The reference at every x, with one arb_mat product per solved alpha."""
        self.solve()
        main, limit = self._main, self._limit
        if main is not None:
            return [
                Reference("exact", mu=mu, grad=grad, precision_bits=main.bits)
                for mu, grad in self._balls(main, xs)
            ]
        if limit is None:
            return [Reference("undetermined", reason=self._reason) for _ in xs]
        return [
            Reference("undetermined", reason=self._reason, limit=Limit(limit.jitter, mu, grad))
            for mu, grad in self._balls(limit, xs)
        ]

    def _balls(self, solved: _Solved, xs: Sequence[float]) -> list[tuple[Ball, Ball]]:
        """(mu, mu') balls at each x: stack k(x) and dk(x) rows, one product with alpha."""
        m = len(xs)
        if m == 0:
            return []
        with _precision(solved.bits):
            l2 = self._l2()
            k_rows, dk_rows = [], []
            for x in xs:
                d = [arb(x) - p for p in self._points]  # [n], x - p_i
                k = [_rbf(di, 2 * l2) for di in d]  # [n]
                k_rows.append(k)
                dk_rows.append([-di / l2 * ki for di, ki in zip(d, k, strict=True)])  # [n]
            values = arb_mat(k_rows + dk_rows) * solved.alpha  # [2m, n] @ [n, 1] -> [2m, 1]
            return [(_to_ball(values[i, 0]), _to_ball(values[m + i, 0])) for i in range(m)]


def _mu_and_grad(reference: Reference) -> tuple[Ball, Ball] | None:
    """The balls a curve draws: the exact reference's, else its jitter limit's."""
    if reference.limit is not None:
        return reference.limit.mu, reference.limit.grad
    if reference.mu is None or reference.grad is None:
        return None
    return reference.mu, reference.grad


def reference_curve(
    problem: Problem, xs: Sequence[float], references: Sequence[Reference], complete: bool
) -> ReferenceCurve | None:
    """The references at ``xs`` (or their jitter limit) as arrays; None when there is
    nothing to draw (the problem and every limit jitter are undetermined)."""
    pairs = [_mu_and_grad(reference) for reference in references]
    balls = [pair for pair in pairs if pair is not None]
    if not references or len(balls) != len(references):
        return None
    limit = references[0].limit
    return ReferenceCurve(
        problem=problem,
        x=np.asarray(xs, dtype=np.float64),
        mu=np.array([mu.mid for mu, _ in balls]),
        mu_radius=np.array([mu.radius for mu, _ in balls]),
        grad=np.array([grad.mid for _, grad in balls]),
        grad_radius=np.array([grad.radius for _, grad in balls]),
        jitter=problem.jitter if limit is None else limit.jitter,
        is_limit=limit is not None,
        complete=complete,
    )
