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

from gradviz.core.numerics.results import Ball, Limit, Reference, ReferenceCurve
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.spec import Problem

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
# A jittered reference is certified once its radius is within 2^-64 of its value: finer
# than any float64 error it judges.
CERTIFIED_RELATIVE = 2.0**-64


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


def _norm(values: Sequence[arb]) -> arb:
    """Euclidean norm of a vector of balls, enclosing that of every point in them."""
    total = arb(0)
    for value in values:
        bound = value.abs_upper()  # exact and >= 0, so the sum's square root exists
        total += bound * bound
    return total.sqrt()


def _tight(value: arb) -> bool:
    """The ball's radius is within CERTIFIED_RELATIVE of its midpoint's magnitude."""
    return bool(value.rad() <= arb(CERTIFIED_RELATIVE) * abs(value.mid()))


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
        self._approx_s: dict[int, float] = {}  # bits -> seconds of one residual-certified step
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
            self._kernel_at(bits)
            start = time.perf_counter()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]; + scalar adds to the diagonal
            try:
                return matrix.solve(arb_mat([[v] for v in self._y]))  # [n, 1]
            except ZeroDivisionError:  # flint's "cannot certify K is invertible"
                return None
            finally:
                self._solve_s[bits] = time.perf_counter() - start

    def _kernel_at(self, bits: int) -> None:
        """Build K without jitter at ``bits`` (the current precision) once, timed."""
        if bits not in self._kernels:
            start = time.perf_counter()
            self._kernels[bits] = _kernel(self._points, 2 * self._l2())  # [n, n]
            self._build_s[bits] = time.perf_counter() - start

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

    def _rows(self, xs: Sequence[float]) -> list[list[arb]]:
        """k(x) rows for every x, then dk(x) rows, at the current precision. [2m, n]"""
        l2 = self._l2()
        k_rows, dk_rows = [], []
        for x in xs:
            d = [arb(x) - p for p in self._points]  # [n], x - p_i
            k = [_rbf(di, 2 * l2) for di in d]  # [n]
            k_rows.append(k)
            dk_rows.append([-di / l2 * ki for di, ki in zip(d, k, strict=True)])  # [n]
        return k_rows + dk_rows

    def _balls(self, solved: _Solved, xs: Sequence[float]) -> list[tuple[Ball, Ball]]:
        """(mu, mu') balls at each x: stack k(x) and dk(x) rows, one product with alpha."""
        m = len(xs)
        if m == 0:
            return []
        with _precision(solved.bits):
            values = arb_mat(self._rows(xs)) * solved.alpha  # [2m, n] @ [n, 1] -> [2m, 1]
            return [(_to_ball(values[i, 0]), _to_ball(values[m + i, 0])) for i in range(m)]

    def evaluate_jitters(
        self,
        jitters: Sequence[float],
        x: float,
        on_reference: Callable[[float, Reference], None] = lambda jitter, reference: None,
    ) -> dict[float, Reference]:
        """The reference at x of K + j I for every j, within the budget for them all.

        Positive jitters go from the largest down (each starts at the precision that
        certified the one before: a smaller jitter never needs fewer bits), so the cheap
        ones come first; each reuses this solver's K per precision. Jitter 0 comes last,
        by certified solves. Each result is passed to
        ``on_reference`` as it is found; one that does not fit the budget is undetermined.
        """
        deadline = time.perf_counter() + self._budget_s
        found: dict[float, Reference] = {}
        start = 0
        for jitter in sorted({j for j in jitters if j > 0}, reverse=True):
            reference, start = self._jittered(jitter, x, start, deadline)
            found[jitter] = reference
            on_reference(jitter, reference)
        if 0 in jitters:
            found[0.0] = self._unjittered(x, deadline)
            on_reference(0.0, found[0.0])
        return {jitter: found[jitter] for jitter in jitters}

    def _unjittered(self, x: float, deadline: float) -> Reference:
        """K itself by certified solves, raising the precision until mu'(x)'s enclosure is
        within CERTIFIED_RELATIVE of its value (a certified solve of a nearly singular K
        can still leave a ball wider than the number)."""
        for bits in PRECISIONS:
            need = self._predict(bits)
            if time.perf_counter() + need > deadline:
                reason = f"out of time: K at {bits} bits would need ~{need:.2g} s"
                return Reference("undetermined", reason=reason)
            self._on_progress(f"reference: {bits} bits for K")
            alpha = self._try_solve(bits, 0.0)
            if alpha is None:
                continue
            with _precision(bits):
                values = arb_mat(self._rows([x])) * alpha  # [2, 1]
                if _tight(values[1, 0]):
                    mu, grad = _to_ball(values[0, 0]), _to_ball(values[1, 0])
                    return Reference("exact", mu=mu, grad=grad, precision_bits=bits)
        reason = f"K cannot be certified within 2^-64 at {PRECISIONS[-1]} bits"
        return Reference("undetermined", reason=reason)

    def _jittered(
        self, jitter: float, x: float, start: int, deadline: float
    ) -> tuple[Reference, int]:
        """(reference, index into PRECISIONS that certified it) for K + jitter I, jitter > 0."""
        label = f"K + {jitter:g} I"
        for index in range(start, len(PRECISIONS)):
            bits = PRECISIONS[index]
            measured = self._approx_s.get(bits)
            need = self._predict(bits) if measured is None else MARGIN * measured
            if time.perf_counter() + need > deadline:
                reason = f"out of time: {label} at {bits} bits would need ~{need:.2g} s"
                return Reference("undetermined", reason=reason), index
            self._on_progress(f"reference: {bits} bits for {label}")
            found = self._residual_balls(bits, jitter, x)
            if found is not None:
                mu, grad = found
                return Reference("exact", mu=mu, grad=grad, precision_bits=bits), index
        reason = f"{label}: the {PRECISIONS[-1]}-bit bound is wider than 2^-64 of the value"
        return Reference("undetermined", reason=reason), len(PRECISIONS) - 1

    def _residual_balls(self, bits: int, jitter: float, x: float) -> tuple[Ball, Ball] | None:
        """(mu, mu') at x for K + jitter I, jitter > 0, from an approximate solve; None
        when mu'(x)'s enclosure is wider than CERTIFIED_RELATIVE of its value.

        The exact K is the Gram matrix of a positive definite kernel, so
        ||(K + jI)^-1||_2 <= 1 / j. With any approximation a of alpha and the residual
        r = y - (K + jI) a enclosed in ball arithmetic, |alpha - a|_2 <= |r|_2 / j, so
        |mu'(x) - dk(x) . a| <= |dk(x)|_2 |r|_2 / j (and the same for mu with k(x)):
        an O(n^2) certificate after one uncertified O(n^3) solve.
        """
        with _precision(bits):
            self._kernel_at(bits)
            start = time.perf_counter()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]
            y = arb_mat([[v] for v in self._y])  # [n, 1]
            approx = matrix.solve(y, algorithm="approx")  # [n, 1], radii not tracked
            alpha = arb_mat([[arb(approx[i, 0].mid())] for i in range(approx.nrows())])
            residual = y - matrix * alpha  # [n, 1], a rigorous enclosure
            error = _norm([residual[i, 0] for i in range(residual.nrows())]) / arb(jitter)
            rows = self._rows([x])  # [2, n]
            values = arb_mat(rows) * alpha  # [2, 1]
            mu, grad = (values[i, 0] + _norm(rows[i]) * error * arb(0, 1) for i in range(2))
            self._approx_s[bits] = time.perf_counter() - start
            if not _tight(grad):
                return None
            return _to_ball(mu), _to_ball(grad)


def mu_and_grad(reference: Reference) -> tuple[Ball, Ball] | None:
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
    pairs = [mu_and_grad(reference) for reference in references]
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
