"""Rigorous reference values of mu(x) and mu'(x) in ball arithmetic (python-flint).

    K_ij   = k(p_i - p_j) + jitter delta_ij                           # [n, n]
    alpha  = K^-1 y                                                   # [n]
    mu(x)  = sum_i k_i(x) alpha_i,  k_i(x) = k(x - p_i)
    mu'(x) = sum_i dk_i(x) alpha_i, dk_i(x) = dk/da (x - p_i)  (rbf: -(x - p_i) / l^2 k_i(x))

with the problem's kernel in its ball form (:mod:`gradviz.core.problem.kernels`, every
function rigorous in arb). Where x is a data point and the kernel's slope jumps there
(matern12), mu'(x) does not exist: the reference says so and gives the slopes from the
left and from the right instead of fixing a number.

Every input (points, y, parameters, jitter, x) is taken as the exact value of its float64,
so a result is the exact maths of the problem the float paths were given. The
solve is O(n^3) and runs once per precision, raising the precision until
``arb_mat.solve`` certifies K; each x then costs O(n).

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from flint import arb, arb_mat, ctx

from gradviz.core.numerics.results import Ball, Limit, Reference, ReferenceCurve
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import Form, Kernel, NotDifferentiableError
from gradviz.core.problem.spec import Problem

PRECISIONS: tuple[int, ...] = (128, 256, 512, 1024, 2048)
LIMIT_JITTERS: tuple[float, ...] = (1e-12, 1e-10, 1e-8, 1e-6)
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
def _precision(bits: int) -> Iterator[None]:
    """ctx.prec is process-global: set it for one block and always restore it."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


class _Budget:
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


def _kernel(points: Sequence[arb], form: Form) -> arb_mat:
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
    with _precision(PRECISIONS[0]):
        form, zero = ball_form(kernel), arb(0)
        try:
            form.slope(zero, form.value(zero))
        except NotDifferentiableError:
            return True
    return False


def _norm(values: Sequence[arb]) -> arb:
    """Euclidean norm of a vector of balls, enclosing that of every point in them."""
    total = arb(0)
    for value in values:
        bound = value.abs_upper()  # exact and >= 0, so the sum's square root exists
        total += bound * bound
    return total.sqrt()


def _tight(value: arb) -> bool:
    """The ball's radius is within TIGHT_RELATIVE of its midpoint's magnitude: it fixes the
    value to finer than any float64 error it judges (and so does not contain 0)."""
    return bool(value.rad() <= arb(TIGHT_RELATIVE) * abs(value.mid()))


def _to_ball(value: arb) -> Ball:
    """A float Ball that rigorously encloses the arb ``value``.

    float(value.mid()) rounds the arb midpoint to a double, so the radius must
    cover that rounding as well as the arb radius: we bound |value - mid|
    in ball arithmetic (abs_upper rounds up) and round the float conversion of
    that bound up by one ulp (float() may round down).
    """
    mid = float(value.mid())
    return Ball(mid, math.nextafter(float((value - arb(mid)).abs_upper()), math.inf))


def _refusal(label: str, bits: int, need: float, budget: _Budget) -> str | None:
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


@dataclass(frozen=True)
class _Solved:
    bits: int
    jitter: float
    alpha: arb_mat  # [n, 1]


@dataclass
class _Ladder:
    """The certified solves of K + jitter I so far, in rising precision, and how to go on:
    the next index into PRECISIONS, the last precision that could not certify the solve,
    and why no further step will be taken (None while one may)."""

    jitter: float
    budget: _Budget
    rungs: list[_Solved] = field(default_factory=list)
    next_index: int = 0
    singular_at: int | None = None
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
    """Solves (K + jitter I) alpha = y in ball arithmetic, raising the precision as the
    values need it; each x then costs O(n) per precision.

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
        # The x where mu is not differentiable: the data points, if the kernel has a kink.
        kinked = has_kink(self._problem.covariance)
        self._kinks = frozenset(data.grid.tolist() if kinked else ())
        self._y: list[float] = data.y.tolist()  # [n]
        self._kernels: dict[int, arb_mat] = {}  # bits -> K without jitter, reused per jitter
        self._build_s: dict[int, float] = {}  # bits -> measured CPU seconds to build K
        self._solve_s: dict[int, float] = {}  # bits -> measured CPU seconds of one solve
        self._approx_s: dict[int, float] = {}  # bits -> CPU seconds of a residual-certified step
        self._main = _Ladder(self._problem.jitter, _Budget(budget_s))
        # The limit gets a budget of its own: the failed precisions of an undetermined K
        # (4-5 s at n = 300) must not leave it too little.
        self._limit_budget = _Budget(budget_s)
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
            with ladder.budget.charged():
                need = self._predict(bits)
            ladder.stop = _refusal(ladder.label, bits, need, ladder.budget)
            if ladder.stop is not None:
                break
            ladder.next_index += 1
            self._on_progress(f"reference: {bits} bits for {ladder.label}{self._note(ladder)}")
            with ladder.budget.charged():
                alpha = self._try_solve(bits, ladder.jitter)
            if alpha is not None:
                self._on_progress(f"reference: {ladder.label} certified at {bits} bits")
                ladder.rungs.append(_Solved(bits, ladder.jitter, alpha))
                return ladder.rungs[-1]
            ladder.singular_at = bits
        return None

    @staticmethod
    def _note(ladder: _Ladder) -> str:
        """What the step before showed: a solve it could not certify, or balls too wide."""
        if ladder.rungs and ladder.rungs[-1].bits > (ladder.singular_at or 0):
            return f", {ladder.rungs[-1].bits} bits too wide"
        return f", not certified at {ladder.singular_at} bits" if ladder.singular_at else ""

    def _try_solve(self, bits: int, jitter: float) -> arb_mat | None:
        """One step: K at ``bits`` (cached), then the certified solve, timed for prediction."""
        with _precision(bits):
            self._kernel_at(bits)
            start = time.process_time()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]; + scalar adds to the diagonal
            try:
                return matrix.solve(arb_mat([[v] for v in self._y]))  # [n, 1]
            except ZeroDivisionError:  # flint's "cannot certify K is invertible"
                return None
            finally:
                self._solve_s[bits] = time.process_time() - start

    def _kernel_at(self, bits: int) -> None:
        """Build K without jitter at ``bits`` (the current precision) once, timed."""
        if bits not in self._kernels:
            start = time.process_time()
            self._kernels[bits] = _kernel(self._points, self._form())  # [n, n]
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
        with _precision(bits):
            start = time.process_time()
            kernel = _kernel(points, self._form()) + arb(1)  # [m, m], cond <= m + 1
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
        """(mu, mu') balls at each x, None where either is not tight: stack k(x) and dk(x)
        rows, one product with alpha."""
        m = len(xs)
        if m == 0:
            return []
        with _precision(solved.bits):
            values = arb_mat(self._rows(xs, zero_sign)) * solved.alpha  # [2m, n] @ [n, 1]
            pairs = [(values[i, 0], values[m + i, 0]) for i in range(m)]
            return [
                (_to_ball(mu), _to_ball(grad)) if _tight(mu) and _tight(grad) else None
                for mu, grad in pairs
            ]

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
        budget = _Budget(self._budget_s if budget_s is None else budget_s)
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
        self, jitter: float, x: float, start: int, budget: _Budget
    ) -> tuple[Reference, int]:
        """(reference, index into PRECISIONS that certified it) for K + jitter I, jitter > 0."""
        label = f"K + {jitter:g} I"
        for index in range(start, len(PRECISIONS)):
            bits = PRECISIONS[index]
            measured = self._approx_s.get(bits)
            with budget.charged():
                need = self._predict(bits) if measured is None else MARGIN * measured
            refused = _refusal(label, bits, need, budget)
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
        """(mu, mu') at x for K + jitter I, jitter > 0, from an approximate solve; None
        when either enclosure is wider than TIGHT_RELATIVE of its value.

        The exact K is the Gram matrix of a positive definite kernel, so
        ||(K + jI)^-1||_2 <= 1 / j. With any approximation a of alpha and the residual
        r = y - (K + jI) a enclosed in ball arithmetic, |alpha - a|_2 <= |r|_2 / j, so
        |mu'(x) - dk(x) . a| <= |dk(x)|_2 |r|_2 / j (and the same for mu with k(x)):
        an O(n^2) certificate after one uncertified O(n^3) solve.
        """
        with _precision(bits):
            self._kernel_at(bits)
            start = time.process_time()
            matrix = self._kernels[bits] + arb(jitter)  # [n, n]
            y = arb_mat([[v] for v in self._y])  # [n, 1]
            approx = matrix.solve(y, algorithm="approx")  # [n, 1], radii not tracked
            alpha = arb_mat([[arb(approx[i, 0].mid())] for i in range(approx.nrows())])
            residual = y - matrix * alpha  # [n, 1], a rigorous enclosure
            error = _norm([residual[i, 0] for i in range(residual.nrows())]) / arb(jitter)
            rows = self._rows([x])  # [2, n]
            values = arb_mat(rows) * alpha  # [2, 1]
            mu, grad = (values[i, 0] + _norm(rows[i]) * error * arb(0, 1) for i in range(2))
            self._approx_s[bits] = time.process_time() - start
            if not (_tight(mu) and _tight(grad)):
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
