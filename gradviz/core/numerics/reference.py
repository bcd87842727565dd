"""Rigorous reference values of a slope in x in ball arithmetic (python-flint).

    K_ij    = k(p_i - p_j) + jitter delta_ij                          # [n, n]
    alpha   = K^-1 y                                                  # [n]
    mu(x)   = sum_i k_i(x) alpha_i,  k_i(x) = k(x - p_i)
    mu'(x)  = sum_i dk_i(x) alpha_i, dk_i(x) = dk/da (x - p_i)  (rbf: -(x - p_i) / l^2 k_i(x))
    var(x)  = k(x, x) - k(x)^T K^-1 k(x),  var'(x) = -2 dk(x)^T K^-1 k(x)

(the posterior mean for ``mean-slope``, the variance for ``variance-slope``; the log
marginal likelihood's quantities have their own solver,
:mod:`gradviz.core.numerics.lml_reference`, and :func:`reference_solver` picks) with the
problem's kernel in its ball form (:mod:`gradviz.core.problem.kernels`, every function
rigorous in arb). Where x is a data point and the kernel's slope jumps there (matern12),
the slope does not exist: the reference says so and gives the slopes from the left and
from the right instead of fixing a number.

Every input (points, y, parameters, jitter, x) is taken as the exact value of its float64,
so a result is the exact maths of the problem the float paths were given. The
solve is O(n^3) and runs once per precision, raising the precision until
``arb_mat.solve`` certifies K (against y for the mean, against I for the variance: its
certified inverse); each x then costs O(n) (the mean) or O(n^2) (the variance).

A certified solve is not yet an answer: with a nearly singular K the ball of mu'(x)
can be wider than the number itself (n = 20 on [-1, 1]: -3e14 +/- 2e22 at 256 bits,
-0.48 +/- 4e-21 at 512). A value is "exact" only when its ball fixes it to
TIGHT_RELATIVE (2^-64, finer than any float64 error it judges); an x whose ball is
wider raises the precision of the whole problem, within the budget, and an x that no
affordable precision fixes is "undetermined" there, never a guess.

The budget is CPU time of this process (``time.process_time``): the same problem
gets the same steps, and so the same answer and reason, whether the machine is busy
starting TensorFlow beside it or idle. python-flint holds the GIL throughout, so
callers run this in another process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from flint import arb, arb_mat

from gradviz.core.numerics.balls import (
    COST_RATIO_PER_DOUBLING,
    COSTLY_BITS,
    DEFAULT_BUDGET_S,
    MARGIN,
    PRECISIONS,
    PROBE_N,
    Budget,
    ball_form,
    dot,
    has_kink,
    kernel_balls,
    norm,
    precision,
    refusal,
    tight,
    to_ball,
)
from gradviz.core.numerics.cond_bound import cond_lower_bound_bits
from gradviz.core.numerics.lml_reference import LmlReferenceSolver
from gradviz.core.numerics.results import Ball, Limit, Reference, ReferenceCurve
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import Form
from gradviz.core.problem.spec import Problem

__all__ = [
    "DEFAULT_BUDGET_S",
    "LIMIT_JITTERS",
    "PRECISIONS",
    "BallSolver",
    "ReferenceSolver",
    "ball_form",
    "mu_and_grad",
    "reference_curve",
    "reference_solver",
]

LIMIT_JITTERS: tuple[float, ...] = (1e-12, 1e-10, 1e-8, 1e-6)
# A step at p bits is not tried when cond(K + jitter I) >= 2^(p + SKIP_MARGIN_BITS) is
# certified (cond_bound.py): measured on 258 random problems (kernels, n = 10..120, length
# scales 0.1..3), every p-bit solve that certified had a bound below 2^(p - 36), and every
# one with a bound above 2^(p - 1) failed. Such a step would cost its O(n^3) for nothing.
SKIP_MARGIN_BITS = 16


@dataclass(frozen=True)
class _Solved:
    """One certified solve: the solution's balls, or (jitter > 0, the mean) exact
    midpoints a with ``error`` >= |alpha - a|_2 from their residual (see
    :meth:`ReferenceSolver._residual_solve`)."""

    bits: int
    jitter: float
    solution: arb_mat  # [n, 1] alpha = K^-1 y (the mean), or [n, n] K^-1 (the variance)
    error: arb | None = None


@dataclass
class _Ladder:
    """The certified solves of K + jitter I so far, in rising precision, and how to go on:
    the next index into PRECISIONS, the last precision that could not certify the solve,
    the last one not tried because a certified bound on cond(K + jitter I) put it out of
    reach (with that bound, in bits), and why no further step will be taken (None while
    one may)."""

    jitter: float
    budget: Budget
    rungs: list[_Solved] = field(default_factory=list)
    next_index: int = 0
    singular_at: int | None = None
    beyond: tuple[int, float] | None = None
    stop: str | None = None

    @property
    def label(self) -> str:
        return "K" if self.jitter == 0 else f"K + {self.jitter:g} I"

    def why_not(self, x: float) -> str:
        """Why the value at x is not fixed: K is not certified at all, or its balls at x
        are too wide at every precision reached."""
        if self.rungs:
            return (
                f"{self.label} at {self.rungs[-1].bits} bits does not fix the value at "
                f"x = {x:.6g} to 2^-64 (its ball is wider); {self.stop}"
            )
        if self.singular_at is None and self.beyond is not None:
            bits, bound = self.beyond
            if math.isinf(bound):
                return f"{self.label} is singular: a repeated point gives it two equal rows"
            return (
                f"{self.label} is too ill-conditioned for {bits}-bit ball arithmetic "
                f"(certified cond >= 2^{bound:.0f})"
            )
        if self.singular_at is None:
            return self.stop or f"{self.label} was not solved"
        singular = (
            f"{self.label} is singular to {self.singular_at}-bit ball arithmetic "
            "(cannot certify the solve)"
        )
        # Running out of time says more than the plain fact; the other stops (the top
        # precision, a step too costly) would only add a number that varies run to run.
        if self.stop is not None and self.stop.startswith("out of time"):
            return f"{singular}; {self.stop}"
        return singular


# (precision, mu, mu') of one x whose balls are fixed
_Fixed = tuple[int, Ball, Ball]


class ReferenceSolver:
    """Solves (K + jitter I) alpha = y (the mean) or (K + jitter I) V = I (the variance) in
    ball arithmetic, raising the precision as the values need it; each x then costs O(n)
    (the mean) or O(n^2) (the variance) per precision.

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
        self._grid: list[float] = data.grid.tolist()  # [n]
        self._points = [arb(p) for p in self._grid]  # [n]; exact: arb(float) never rounds
        # The x where mu is not differentiable: the data points, if the kernel has a kink.
        kinked = has_kink(self._problem.covariance)
        self._kinks = frozenset(data.grid.tolist() if kinked else ())
        self._y: list[float] = data.y.tolist()  # [n]
        self._variance = self._problem.quantity == "variance-slope"
        self._kernels: dict[int, arb_mat] = {}  # bits -> K without jitter, reused per jitter
        self._build_s: dict[int, float] = {}  # bits -> measured CPU seconds to build K
        self._solve_s: dict[int, float] = {}  # bits -> measured CPU seconds of one solve
        self._approx_s: dict[int, float] = {}  # bits -> CPU seconds of a residual-certified step
        # jitter -> (target bits, certified lower bound on log2 cond(K + jitter I))
        self._bounds: dict[float, tuple[int, float]] = {}
        self._main = _Ladder(self._problem.jitter, Budget(budget_s))
        # The limit gets a budget of its own: the failed precisions of an undetermined K
        # (4-5 s at n = 300) must not leave it too little.
        self._limit_budget = Budget(budget_s)
        self._limit: _Ladder | None = None
        self._limit_reason: str | None = None
        self._limit_chosen = False
        self._solved = False

    def solve(self) -> None:
        """The expensive part: the first precision that certifies K + jitter I, and the
        jitter limit when none does; idempotent. Higher precisions follow when a value
        needs them."""
        if self._solved:
            return
        if self._climb(self._main) is None and self._main.jitter == 0:
            self._choose_limit()
        self._solved = True

    def _choose_limit(self) -> _Ladder | None:
        """The smallest of LIMIT_JITTERS whose K + jitter I certifies (chosen once)."""
        if not self._limit_chosen:
            self._limit_chosen = True
            why = "no jitter tried"
            for jitter in LIMIT_JITTERS:  # ascending: the smallest jitter that certifies
                ladder = _Ladder(jitter, self._limit_budget)
                if self._climb(ladder) is not None:
                    self._limit = ladder
                    break
                why = ladder.why_not(math.nan)
            else:
                self._limit_reason = f"no jitter limit: {why}"
        return self._limit

    def _climb(self, ladder: _Ladder) -> _Solved | None:
        """The next precision at which K + jitter I certifies, within the budget; None,
        with ``ladder.stop`` saying why, when no affordable precision does."""
        while ladder.stop is None:
            if ladder.next_index == len(PRECISIONS):
                ladder.stop = f"{PRECISIONS[-1]} bits is the highest precision tried"
                break
            bits = PRECISIONS[ladder.next_index]
            # Up to COSTLY_BITS the certified bound (~0.05 s there, the same whatever the
            # load) is asked before the step's cost, a prediction from CPU times measured
            # now, is weighed against the budget: a step the bound puts out of reach is
            # skipped, so the reason does not change with the machine's load. Above, the
            # cost rule comes first: the bound's own cost grows with the precision.
            bound_first = bits <= COSTLY_BITS and ladder.budget.left() > 0
            if not bound_first and self._refused(ladder, bits):
                break
            ladder.next_index += 1
            if self._beyond(ladder, bits):
                continue
            if bound_first and self._refused(ladder, bits):
                break
            self._on_progress(f"reference: {bits} bits for {ladder.label}{self._note(ladder)}")
            with ladder.budget.charged():
                solved = self._try_solve(bits, ladder.jitter)
            if solved is not None:
                self._on_progress(f"reference: {ladder.label} certified at {bits} bits")
                ladder.rungs.append(solved)
                return solved
            ladder.singular_at = bits
        return None

    def _refused(self, ladder: _Ladder, bits: int) -> bool:
        """Whether the step at ``bits`` is not affordable; ``ladder.stop`` says why."""
        measured = self._approx_s.get(bits) if self._by_residual(ladder.jitter) else None
        with ladder.budget.charged():
            need = self._predict(bits) if measured is None else MARGIN * measured
        ladder.stop = refusal(ladder.label, bits, need, ladder.budget)
        return ladder.stop is not None

    def _beyond(self, ladder: _Ladder, bits: int) -> bool:
        """Whether a certified bound on cond puts the step at ``bits`` out of reach."""
        with ladder.budget.charged():
            bound = self._cond_bound(ladder.jitter, bits + SKIP_MARGIN_BITS)
        if bound < bits + SKIP_MARGIN_BITS:
            return False
        ladder.beyond = (bits, bound)
        self._on_progress(f"reference: cond({ladder.label}) >= 2^{bound:.0f}, beyond {bits} bits")
        return True

    @staticmethod
    def _note(ladder: _Ladder) -> str:
        """What the step before showed: a solve it could not certify, or balls too wide."""
        if ladder.rungs and ladder.rungs[-1].bits > (ladder.singular_at or 0):
            return f", {ladder.rungs[-1].bits} bits too wide"
        return f", not certified at {ladder.singular_at} bits" if ladder.singular_at else ""

    def _cond_bound(self, jitter: float, target_bits: int) -> float:
        """A certified lower bound on log2 cond(K + jitter I), sought up to
        ``target_bits`` (cached per jitter: a bound found for a higher target, or one
        already past this target, answers without new work)."""
        cached = self._bounds.get(jitter)
        if cached is None or (cached[0] < target_bits and cached[1] < target_bits):
            bound = cond_lower_bound_bits(self._grid, self._problem.covariance, jitter, target_bits)
            cached = self._bounds[jitter] = (target_bits, bound)
        return cached[1]

    def _by_residual(self, jitter: float) -> bool:
        """Whether K + jitter I is solved approximately and certified by its residual
        (the mean with jitter > 0: ~5x cheaper than a certified solve at n = 300, 256
        bits) rather than by a certified solve (jitter 0, or the variance's inverse)."""
        return jitter > 0 and not self._variance

    def _try_solve(self, bits: int, jitter: float) -> _Solved | None:
        """One step: K at ``bits`` (cached), then the solve, certified (or by its
        residual), timed for prediction; None when it cannot be certified."""
        residual = self._by_residual(jitter)
        with precision(bits):
            self._kernel_at(bits)
            start = time.process_time()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]; + scalar adds to the diagonal
            try:
                if residual:
                    return _Solved(bits, jitter, *self._residual_solve(matrix, jitter))
                return _Solved(bits, jitter, matrix.solve(self._right_hand_side()))
            except ZeroDivisionError:  # flint's "cannot certify K is invertible"
                return None
            finally:
                times = self._approx_s if residual else self._solve_s
                times[bits] = time.process_time() - start

    def _residual_solve(
        self, matrix: arb_mat, jitter: float, b: arb_mat | None = None
    ) -> tuple[arb_mat, arb]:
        """(a, e) with |s - a|_2 <= e for s = (K + jitter I)^-1 b, jitter > 0 (b = y unless
        given): one uncertified O(n^3) solve, certified by its residual in O(n^2).

        The exact K is the Gram matrix of a positive definite kernel, so
        ||(K + jI)^-1||_2 <= 1 / j. With a the approximate solution's midpoints (exact
        numbers) and r = b - (K + jI) a enclosed in ball arithmetic (``matrix`` encloses
        the exact K + jI), |s - a|_2 <= |r|_2 / j. [n, 1], scalar"""
        b = self._right_hand_side() if b is None else b  # [n, 1]
        approx = matrix.solve(b, algorithm="approx")  # [n, 1], radii not tracked
        a = arb_mat([[arb(approx[i, 0].mid())] for i in range(approx.nrows())])  # [n, 1]
        residual = b - matrix * a  # [n, 1], a rigorous enclosure
        return a, norm([residual[i, 0] for i in range(residual.nrows())]) / arb(jitter)

    def _right_hand_side(self) -> arb_mat:
        """What K + jitter I is solved against: y (the mean), I (the variance). [n, 1] or [n, n]"""
        if self._variance:
            n = len(self._points)
            return arb_mat([[arb(int(i == j)) for j in range(n)] for i in range(n)])
        return arb_mat([[v] for v in self._y])

    def _kernel_at(self, bits: int) -> None:
        """Build K without jitter at ``bits`` (the current precision) once, timed."""
        if bits not in self._kernels:
            start = time.process_time()
            self._kernels[bits] = kernel_balls(self._points, self._form())  # [n, n]
            self._build_s[bits] = time.process_time() - start

    def _predict(self, bits: int) -> float:
        """CPU seconds the step at ``bits`` is expected to take, so none starts that would
        overrun."""
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
        with precision(bits):
            start = time.process_time()
            kernel = kernel_balls(points, self._form()) + arb(1)  # [m, m], cond <= m + 1
            built = time.process_time()
            kernel.solve(arb_mat([[1.0]] * m))  # [m, 1]
            done = time.process_time()
        return (built - start) * (n / m) ** 2 + (done - built) * (n / m) ** 3

    def _form(self, zero_sign: int | None = None) -> Form:
        """The kernel at the current precision, from the parameters' exact float64 values."""
        return ball_form(self._problem.covariance, zero_sign)

    def evaluate(self, x: float) -> Reference:
        """The reference at one x; solves first if needed."""
        return self.evaluate_many([x])[0]

    def evaluate_many(self, xs: Sequence[float]) -> list[Reference]:
        """The reference at every x, from the lowest precision whose balls fix the value
        there; where none does, undetermined, with the jitter limit at that x when the
        problem has no jitter and a limit fixes it. At a kink (a data point, for a kernel
        whose slope jumps there) undetermined, with the slopes from either side."""
        self.solve()
        smooth = [i for i, x in enumerate(xs) if x not in self._kinks]
        found = dict(zip(smooth, self._smooth([xs[i] for i in smooth]), strict=True))
        return [found[i] if i in found else self._kink(x) for i, x in enumerate(xs)]

    def _kink(self, x: float) -> Reference:
        """mu is not differentiable at x: the slopes from the left and from the right, of
        K itself or (when no precision fixes them and there is no jitter) of its jitter
        limit, and mu where K itself fixes it."""
        reason = (
            f"not differentiable at x = {float(x)!r}: x is a data point, where the "
            f"{self._problem.kernel} kernel's slope jumps"
        )
        ladder: _Ladder | None = self._main
        sides = [self._fixed(self._main, [x], sign)[0] for sign in (-1, +1)]
        if None in sides and self._main.jitter == 0:
            ladder = self._choose_limit()
            if ladder is not None:
                sides = [self._fixed(ladder, [x], sign)[0] for sign in (-1, +1)]
                reason += f" (slopes of K + {ladder.jitter:g} I: K alone is not fixed)"
        left, right = sides
        if left is None or right is None or ladder is None:
            why = self._main.why_not(x) if ladder is None else ladder.why_not(x)
            return Reference("undetermined", reason=f"{reason}; {why}")
        return Reference(
            "undetermined",
            mu=left[1] if ladder is self._main else None,
            precision_bits=max(left[0], right[0]),
            reason=reason,
            one_sided=(left[2], right[2]),
        )

    def _smooth(self, xs: Sequence[float]) -> list[Reference]:
        """:meth:`evaluate_many` at x where mu is differentiable."""
        main = self._fixed(self._main, xs)
        references: list[Reference | None] = [
            None
            if fixed is None
            else Reference("exact", mu=fixed[1], grad=fixed[2], precision_bits=fixed[0])
            for fixed in main
        ]
        pending = [i for i, fixed in enumerate(main) if fixed is None]
        limit = self._choose_limit() if pending and self._main.jitter == 0 else None
        limits = self._fixed(limit, [xs[i] for i in pending]) if limit else [None] * len(pending)
        for i, fixed in zip(pending, limits, strict=True):
            reason = self._main.why_not(xs[i])
            if limit is None and self._main.jitter == 0:
                reason = f"{reason}; {self._limit_reason}"
            elif limit is not None and fixed is None:
                reason = f"{reason}; no jitter limit: {limit.why_not(xs[i])}"
            found = (
                None if limit is None or fixed is None else Limit(limit.jitter, fixed[1], fixed[2])
            )
            references[i] = Reference("undetermined", reason=reason, limit=found)
        return [reference for reference in references if reference is not None]

    def _fixed(
        self, ladder: _Ladder, xs: Sequence[float], zero_sign: int | None = None
    ) -> list[_Fixed | None]:
        """Per x, (bits, mu, mu') at the lowest precision of ``ladder`` whose balls are
        tight, climbing to higher precisions (within its budget) while some x is not;
        None for an x that no affordable precision fixes. With ``zero_sign``, mu' is the
        slope from that side (-1 left, +1 right) at a kink."""
        found: list[_Fixed | None] = [None] * len(xs)
        pending = list(range(len(xs)))
        index = 0
        while pending:
            if index == len(ladder.rungs) and self._climb(ladder) is None:
                break
            solved = ladder.rungs[index]
            index += 1
            balls = self._balls(solved, [xs[i] for i in pending], zero_sign)
            for i, pair in zip(pending, balls, strict=True):
                if pair is not None:
                    found[i] = (solved.bits, *pair)
            pending = [i for i in pending if found[i] is None]
        return found

    def _rows(self, xs: Sequence[float], zero_sign: int | None = None) -> list[list[arb]]:
        """k(x) rows for every x, then dk(x) rows (from the side ``zero_sign`` at a kink),
        at the current precision; raises NotDifferentiableError at a kink without a side.
        [2m, n]"""
        form = self._form(zero_sign)
        k_rows, dk_rows = [], []
        for x in xs:
            d = [arb(x) - p for p in self._points]  # [n], x - p_i
            k = [form.value(di) for di in d]  # [n]
            k_rows.append(k)
            dk_rows.append([form.slope(di, ki) for di, ki in zip(d, k, strict=True)])  # [n]
        return k_rows + dk_rows

    def _balls(
        self, solved: _Solved, xs: Sequence[float], zero_sign: int | None = None
    ) -> list[tuple[Ball, Ball] | None]:
        """(value, slope) balls at each x, None where either is not tight: the k(x) and
        dk(x) rows against the solution."""
        if not xs:
            return []
        with precision(solved.bits):
            pairs = self._combine(self._rows(xs, zero_sign), solved)
            return [
                (to_ball(mu), to_ball(grad)) if tight(mu) and tight(grad) else None
                for mu, grad in pairs
            ]

    def _combine(self, rows: list[list[arb]], solved: _Solved) -> list[tuple[arb, arb]]:
        """(value, slope) per x from its k(x) and dk(x) rows (``rows``: m of each) and the
        solution: k(x) alpha and dk(x) alpha for the mean (one product with alpha, each
        widened by |row|_2 e where alpha is a +/- e in the 2-norm); for the variance
        k(x, x) - k(x) V k(x)^T and -2 dk(x) V k(x)^T, V = K^-1."""
        m = len(rows) // 2
        if not self._variance:
            values = arb_mat(rows) * solved.solution  # [2m, n] @ [n, 1]
            if solved.error is not None:
                spread = solved.error * arb(0, 1)
                return [
                    (
                        values[i, 0] + norm(rows[i]) * spread,
                        values[m + i, 0] + norm(rows[m + i]) * spread,
                    )
                    for i in range(m)
                ]
            return [(values[i, 0], values[m + i, 0]) for i in range(m)]
        weights = arb_mat(rows[:m])  # [m, n]
        columns = (solved.solution * weights.transpose()).tolist()  # [n, m], V k(x)^T
        prior = self._form().value(arb(0))  # k(x, x) = k(0)
        pairs = []
        for j in range(m):
            column = [columns[i][j] for i in range(len(columns))]
            pairs.append((prior - dot(rows[j], column), arb(-2) * dot(rows[m + j], column)))
        return pairs

    def evaluate_jitters(
        self,
        jitters: Sequence[float],
        x: float,
        on_reference: Callable[[float, Reference], None] = lambda jitter, reference: None,
        budget_s: float | None = None,
    ) -> dict[float, Reference]:
        """The reference at x of K + j I for every j, within ``budget_s`` (default: this
        solver's budget) for them all.

        Positive jitters go from the largest down (each starts at the precision that
        certified the one before: a smaller jitter never needs fewer bits), so the cheap
        ones come first; each reuses this solver's K per precision. Jitter 0 comes last,
        by certified solves raised until the value at x is fixed. Each result is passed
        to ``on_reference`` as it is found; one that does not fit the budget is
        undetermined.
        """
        if x in self._kinks:
            kink = Reference("undetermined", reason=f"not differentiable at x = {float(x)!r}")
            for jitter in jitters:
                on_reference(jitter, kink)
            return dict.fromkeys(jitters, kink)
        budget = Budget(self._budget_s if budget_s is None else budget_s)
        found: dict[float, Reference] = {}
        start = 0
        for jitter in sorted({j for j in jitters if j > 0}, reverse=True):
            reference, start = self._jittered(jitter, x, start, budget)
            found[jitter] = reference
            on_reference(jitter, reference)
        if 0 in jitters:
            ladder = _Ladder(0.0, budget)
            (fixed,) = self._fixed(ladder, [x])
            found[0.0] = (
                Reference("undetermined", reason=ladder.why_not(x))
                if fixed is None
                else Reference("exact", mu=fixed[1], grad=fixed[2], precision_bits=fixed[0])
            )
            on_reference(0.0, found[0.0])
        return {jitter: found[jitter] for jitter in jitters}

    def _jittered(
        self, jitter: float, x: float, start: int, budget: Budget
    ) -> tuple[Reference, int]:
        """(reference, index into PRECISIONS that certified it) for K + jitter I, jitter > 0."""
        label = f"K + {jitter:g} I"
        for index in range(start, len(PRECISIONS)):
            bits = PRECISIONS[index]
            measured = self._approx_s.get(bits)
            with budget.charged():
                need = self._predict(bits) if measured is None else MARGIN * measured
            refused = refusal(label, bits, need, budget)
            if refused is not None:
                return Reference("undetermined", reason=refused), index
            self._on_progress(f"reference: {bits} bits for {label}")
            with budget.charged():
                found = self._residual_balls(bits, jitter, x)
            if found is not None:
                mu, grad = found
                return Reference("exact", mu=mu, grad=grad, precision_bits=bits), index
        reason = f"{label}: the {PRECISIONS[-1]}-bit bound is wider than 2^-64 of the value"
        return Reference("undetermined", reason=reason), len(PRECISIONS) - 1

    def _residual_balls(self, bits: int, jitter: float, x: float) -> tuple[Ball, Ball] | None:
        """(value, slope) at x for K + jitter I, jitter > 0, from an approximate solve
        certified by its residual (:meth:`_residual_solve`, against k(x) for the
        variance); None when either enclosure is wider than TIGHT_RELATIVE of its value.

        With |s - a|_2 <= e, |dk(x) . s - dk(x) . a| <= |dk(x)|_2 e (the same with k(x));
        the value and the slope are k(x) . s and dk(x) . s (the mean), k(x, x) - k(x) . s
        and -2 dk(x) . s (the variance): an O(n^2) certificate after one O(n^3) solve.
        """
        with precision(bits):
            self._kernel_at(bits)
            start = time.process_time()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]
            rows = self._rows([x])  # [2, n]
            b = arb_mat([[v] for v in rows[0]]) if self._variance else None  # [n, 1]
            a, error = self._residual_solve(matrix, jitter, b)  # [n, 1], scalar
            values = arb_mat(rows) * a  # [2, 1]
            mu, grad = (values[i, 0] + norm(rows[i]) * error * arb(0, 1) for i in range(2))
            if self._variance:
                mu, grad = self._form().value(arb(0)) - mu, arb(-2) * grad
            self._approx_s[bits] = time.process_time() - start
            if not (tight(mu) and tight(grad)):
                return None
            return to_ball(mu), to_ball(grad)


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
    """The references at ``xs`` as arrays: each x's exact value, else its jitter limit's,
    else NaN (an x whose value no ball fixes is neither drawn nor counted against). The
    curve is the limit (``is_limit``, at the limit's jitter) when any x is. None when no x
    has a value (the problem and every limit jitter are undetermined)."""
    pairs = [mu_and_grad(reference) for reference in references]
    if all(pair is None for pair in pairs):
        return None
    unfixed = Ball(math.nan, math.nan)
    balls = [(unfixed, unfixed) if pair is None else pair for pair in pairs]
    limits = [reference.limit for reference in references if reference.limit is not None]
    return ReferenceCurve(
        problem=problem,
        x=np.asarray(xs, dtype=np.float64),
        mu=np.array([mu.mid for mu, _ in balls]),
        mu_radius=np.array([mu.radius for mu, _ in balls]),
        grad=np.array([grad.mid for _, grad in balls]),
        grad_radius=np.array([grad.radius for _, grad in balls]),
        jitter=limits[0].jitter if limits else problem.jitter,
        is_limit=bool(limits),
        complete=complete,
        from_limit=np.array([reference.limit is not None for reference in references]),
    )


# Either solver: both answer solve, evaluate, evaluate_many and evaluate_jitters.
BallSolver = ReferenceSolver | LmlReferenceSolver


def reference_solver(
    data: ProblemData,
    budget_s: float = DEFAULT_BUDGET_S,
    on_progress: Callable[[str], None] = lambda message: None,
) -> BallSolver:
    """The ball-arithmetic solver of ``data``'s quantity: :class:`ReferenceSolver` for the
    slopes in x, :class:`~gradviz.core.numerics.lml_reference.LmlReferenceSolver` along an
    LML quantity's theta. Both answer ``solve``, ``evaluate``, ``evaluate_many`` and
    ``evaluate_jitters`` with :class:`Reference` records (``mu`` the quantity's value)."""
    if data.problem.measured.is_lml:
        return LmlReferenceSolver(data, budget_s, on_progress)
    return ReferenceSolver(data, budget_s, on_progress)
