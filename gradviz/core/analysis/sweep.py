"""Sweeps at the probe: which jitter and solver keep the most digits per dtype, and which
finite-difference step.

Jitter trades two errors. Rounding: the float answer to K + j I against that problem's
exact answer, which improves as cond(K + j I) = (lmax + j) / (lmin + j) falls. Bias: the
exact answer of K + j I against the jitter-free one, which worsens as j grows. The digits
about the jitter-free answer are the smaller of the two, and the best jitter is where they
meet. The jitter-free answer is the reference of jitter 0 when ball arithmetic certifies
it, else that of the smallest jitter that resolves (``bias_jitter``, labelled as such).

The step sweep is the central difference ``(mu(x + h) - mu(x - h)) / 2h`` in each dtype
over a log grid of h: error ~ |mu^(3)| h^2 / 6 (truncation) for large h and at least
eps |mu| / h (rounding in mu, which cond(K) amplifies) for small h.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from gradviz.core.analysis.diagnosis import Conditioning, correct_digits, digits_left
from gradviz.core.numerics.reference import (
    DEFAULT_BUDGET_S,
    BallSolver,
    mu_and_grad,
    reference_solver,
)
from gradviz.core.numerics.results import (
    DTYPES,
    Ball,
    DType,
    FailureKind,
    JitterGradient,
    Reference,
)
from gradviz.core.problem.data import ProblemData, probe_matrix
from gradviz.core.problem.quantity import QUANTITY, Quantity, central_step, step_scale
from gradviz.core.problem.spec import SOLVERS, Problem, Solver

PER_DECADE = 2
JITTER_DECADES = (-16, 0)
STEP_PER_DECADE = 4
STEP_DECADES = (-12, -1)
THIRD_DERIVATIVE_SPACING = 1e-3  # H of the references' second difference of mu'
# What libraries add to K's diagonal by default, for marking on the sweep.
LIBRARY_JITTERS: tuple[tuple[str, float], ...] = (
    ("seed", 0.0),
    ("scikit-learn", 1e-10),
    ("GPyTorch float64", 1e-8),
    ("GPflow", 1e-6),
    ("GPyTorch float32", 1e-4),
)


def log_grid(decades: tuple[int, int], per_decade: int) -> tuple[float, ...]:
    """10^(k / per_decade) from 10^lo to 10^hi, rounded to 3 significant digits. [m]"""
    lo, hi = decades
    return tuple(
        float(f"{10 ** (k / per_decade):.3g}") for k in range(lo * per_decade, hi * per_decade + 1)
    )


def jitter_grid(per_decade: int = PER_DECADE) -> tuple[float, ...]:
    """0, then 1e-16 ... 1e0 with ``per_decade`` points a decade."""
    return (0.0, *log_grid(JITTER_DECADES, per_decade))


@dataclass(frozen=True)
class SweepRow:
    """One cell of the jitter sweep; None where a number does not exist (a failed
    factor has no gradient, an undetermined reference no digits)."""

    jitter: float
    solver: Solver
    dtype: DType
    grad: float | None
    failure_kind: FailureKind | None
    rounding_digits: float | None  # grad against the exact answer of K + jitter I
    bias_digits: float | None  # that answer against the jitter-free one
    digits: float | None  # min of the two: grad against the jitter-free answer
    predicted_digits: float  # carried - log10 cond(K + jitter I), at least 0


@dataclass(frozen=True)
class Best:
    """The (jitter, solver) keeping the most digits about the jitter-free answer."""

    jitter: float
    solver: Solver
    digits: float


@dataclass(frozen=True)
class JitterSweep:
    problem: Problem
    x: float
    rows: tuple[SweepRow, ...]
    references: tuple[tuple[float, Reference], ...]  # (jitter, reference at x)
    bias_jitter: float | None  # whose reference stands for the jitter-free answer
    best: Mapping[DType, Best | None]
    seconds: float


@dataclass(frozen=True)
class StepRow:
    h: float
    dtype: DType
    grad: float | None
    abs_error: float | None  # |grad - reference|


@dataclass(frozen=True)
class StepSweep:
    problem: Problem
    x: float
    rows: tuple[StepRow, ...]
    default_h: Mapping[DType, float]  # cbrt(eps) max(1, |x|), the central_difference path's
    reference: Reference
    reference_jitter: float | None  # the problem's jitter, or its limit's; None: no reference
    truncation: Mapping[DType, float | None]  # c_t = |mu^(3)(x)| / 6: error ~ c_t h^2
    rounding: Mapping[DType, float | None]  # c_r = eps |mu(x)|: error >~ c_r / h
    seconds: float


def predicted_digits(dtype: DType, lmax: float, lmin: float, jitter: float) -> float:
    """What a solve leaves of ``dtype``'s digits with cond(K + jI) = (lmax + j) / (lmin + j),
    from K's float64 extreme eigenvalues; 0 when lmin + j <= 0 (singular to float64)."""
    cond = (lmax + jitter) / (lmin + jitter) if lmin + jitter > 0 else math.inf
    return digits_left(dtype, Conditioning(value=cond, saturated=False, lambda_max=lmax))


def _grad(reference: Reference | None) -> Ball | None:
    if reference is None or reference.status != "exact":
        return None
    return reference.grad


def bias_jitter(references: Mapping[float, Reference]) -> float | None:
    """The jitter whose reference stands for the jitter-free answer: 0 when certified, else
    the smallest jitter that is; None when none is."""
    resolved = [jitter for jitter, reference in references.items() if _grad(reference)]
    return min(resolved) if resolved else None


def sweep_rows(
    gradients: Mapping[tuple[Solver, DType], Sequence[JitterGradient]],
    references: Mapping[float, Reference],
    eigenvalues: tuple[float, float],
) -> tuple[SweepRow, ...]:
    """The rows for every (solver, dtype) and jitter, from the float gradients, the
    reference of each jitter and K's (lmin, lmax) in float64.

    A jitter below the jitter-free answer's own (0 on a K that ball arithmetic cannot
    certify) is measured against that answer directly: its bias is below what the
    answer resolves, so its digits are its rounding digits against it."""
    lmin, lmax = eigenvalues
    base = bias_jitter(references)
    truth = None if base is None else _grad(references[base])
    rows = []
    for (solver, dtype), cells in gradients.items():
        for cell in cells:
            exact = _grad(references.get(cell.jitter))
            if exact is None and base is not None and cell.jitter < base:
                exact = truth
            rounding = correct_digits(cell.grad, exact, dtype)
            bias = None if exact is None else correct_digits(exact.mid, truth, "float64")
            digits = None if rounding is None or bias is None else min(rounding, bias)
            rows.append(
                SweepRow(
                    jitter=cell.jitter,
                    solver=solver,
                    dtype=dtype,
                    grad=cell.grad,
                    failure_kind=cell.failure_kind,
                    rounding_digits=rounding,
                    bias_digits=bias,
                    digits=digits,
                    predicted_digits=predicted_digits(dtype, lmax, lmin, cell.jitter),
                )
            )
    return tuple(rows)


def best_per_dtype(rows: Sequence[SweepRow]) -> dict[DType, Best | None]:
    """Per dtype the row with the most digits; on a tie the smaller jitter, then the
    solver listed first. None for a dtype without digits."""
    best: dict[DType, Best | None] = {}
    for dtype in DTYPES:
        scored = [row for row in rows if row.dtype == dtype and row.digits is not None]
        top = min(
            scored,
            key=lambda row: (-(row.digits or 0.0), row.jitter, SOLVERS.index(row.solver)),
            default=None,
        )
        best[dtype] = None if top is None else Best(top.jitter, top.solver, top.digits or 0.0)
    return best


def extreme_eigenvalues(data: ProblemData, t: float) -> tuple[float, float]:
    """(lmin, lmax) of K without jitter as the quantity has it at the probe t (an LML
    quantity's K at theta = t), in float64 (O(n^3), once per sweep)."""
    eigenvalues = np.linalg.eigvalsh(probe_matrix(data, t)[0])  # ascending
    return float(eigenvalues[0]), float(eigenvalues[-1])


class JitterMeasurements:
    """The ``function`` path's gradient at x and the reference, for a growing set of
    jitters: what the jitter sweep and the measured advice (``advice.py``) both read, so
    that the two report the same digits for the same (solver, jitter, dtype).

    Each (solver, dtype) is traced once per :meth:`gradients` call that needs it
    (:class:`JitterFunction`); each jitter's reference is solved once, by one
    ball-arithmetic solver (:func:`reference_solver`; for the slopes in x its kernel
    matrices are reused at every precision).
    ``known`` holds references already found elsewhere (the report's own), so they are
    not solved twice. TensorFlow is imported on the first :meth:`gradients`.
    """

    def __init__(
        self,
        data: ProblemData,
        x: float,
        reference_solver: BallSolver,
        *,
        solvers: Sequence[Solver] = SOLVERS,
        known: Mapping[float, Reference] | None = None,
    ) -> None:
        self.data = data
        self.x = x
        self.solvers = tuple(solvers)
        self._reference_solver = reference_solver
        self._references: dict[float, Reference] = dict(known or {})
        self._gradients: dict[tuple[Solver, DType], dict[float, JitterGradient]] = {}
        self._eigenvalues: tuple[float, float] | None = None
        self._start = time.perf_counter()

    def gradients(
        self, jitters: Sequence[float], on_progress: Callable[[str], None] = lambda text: None
    ) -> None:
        """The gradient of every (solver, dtype) at each jitter not measured yet."""
        from gradviz.core.numerics.sweep_paths import JitterFunction

        if self._eigenvalues is None:
            self._eigenvalues = extreme_eigenvalues(self.data, self.x)
        for dtype in DTYPES:
            for solver in self.solvers:
                done = self._gradients.setdefault((solver, dtype), {})
                missing = [jitter for jitter in dict.fromkeys(jitters) if jitter not in done]
                if missing:
                    on_progress(f"{solver} in {dtype}")
                    function = JitterFunction(self.data, solver, dtype)
                    done.update(zip(missing, function.gradients(missing, self.x), strict=True))

    def references(
        self,
        jitters: Sequence[float],
        budget_s: float,
        on_reference: Callable[[], None] = lambda: None,
    ) -> None:
        """The reference at x of each jitter not solved yet, largest jitter first, within
        ``budget_s``; ``on_reference`` runs after each one arrives."""
        unsolved = [jitter for jitter in dict.fromkeys(jitters) if jitter not in self._references]

        def found(jitter: float, reference: Reference) -> None:
            self._references[jitter] = reference
            on_reference()

        if unsolved:
            self._reference_solver.evaluate_jitters(unsolved, self.x, found, budget_s=budget_s)

    def sweep(self) -> JitterSweep:
        """Every jitter measured so far, with the references found so far, as a sweep."""
        measured = sorted({jitter for cells in self._gradients.values() for jitter in cells})
        gradients = {
            key: [cells[jitter] for jitter in measured if jitter in cells]
            for key, cells in self._gradients.items()
        }
        references = {j: self._references[j] for j in measured if j in self._references}
        eigenvalues = self._eigenvalues or extreme_eigenvalues(self.data, self.x)
        rows = sweep_rows(gradients, references, eigenvalues)
        return JitterSweep(
            problem=self.data.problem,
            x=self.x,
            rows=rows,
            references=tuple(references.items()),
            bias_jitter=bias_jitter(references),
            best=best_per_dtype(rows),
            seconds=time.perf_counter() - self._start,
        )


def jitter_sweep_refusal(problem: Problem) -> str | None:
    """Why the jitter sweep does not apply to ``problem``'s quantity, or None."""
    if problem.measured.theta != "jitter":
        return None
    return (
        "the jitter sweep varies the jitter, which is lml-jitter's own axis (its probe): "
        "use sweep step, or report's advice to compare the solvers at this jitter"
    )


def jitter_sweep(
    data: ProblemData,
    x: float,
    *,
    solvers: Sequence[Solver] = SOLVERS,
    jitters: Sequence[float] | None = None,
    budget_s: float = 3 * DEFAULT_BUDGET_S,
    on_progress: Callable[[str], None] = lambda message: None,
    on_partial: Callable[[JitterSweep], None] = lambda sweep: None,
) -> JitterSweep:
    """The ``function`` path's gradient at x for every jitter, solver and dtype, each
    against the exact answer of its own problem and the jitter-free one. The problem's
    own jitter and solver are ignored. ``budget_s`` bounds the references together.

    ``on_partial`` gets the sweep so far: once the gradients are in (no digits yet), then
    after each reference (largest jitter first), the jitter-free answer being the best
    one found so far. Raises ValueError for a quantity whose axis is the jitter
    (:func:`jitter_sweep_refusal`)."""
    refusal = jitter_sweep_refusal(data.problem)
    if refusal is not None:
        raise ValueError(refusal)
    grid = jitter_grid() if jitters is None else tuple(jitters)
    solver = reference_solver(data, budget_s, on_progress)
    measurements = JitterMeasurements(data, x, solver, solvers=solvers)
    measurements.gradients(grid, on_progress)
    on_partial(measurements.sweep())
    measurements.references(grid, budget_s, lambda: on_partial(measurements.sweep()))
    return measurements.sweep()


def step_grid(x: float, quantity: Quantity = QUANTITY["mean-slope"]) -> tuple[float, ...]:
    """h from 1e-12 to 1e-1 times the probe's :func:`step_scale` (max(1, |x|) in x, theta
    along theta), STEP_PER_DECADE a decade. [m]"""
    scale = step_scale(quantity, x)
    return tuple(h * scale for h in log_grid(STEP_DECADES, STEP_PER_DECADE))


def default_step(dtype: DType, x: float, quantity: Quantity = QUANTITY["mean-slope"]) -> float:
    """The ``central_difference`` path's h (:func:`central_step`)."""
    return central_step(quantity, float(np.finfo(dtype).eps), x)


def central_differences(
    mu: Callable[[np.ndarray], np.ndarray], dtype: DType, x: float, steps: Sequence[float]
) -> np.ndarray:
    """(mu(x + h) - mu(x - h)) / 2h in ``dtype`` arithmetic for every h, with one call of
    ``mu`` (values exact in ``dtype``) at every x - h and x + h. [m]"""
    real = np.dtype(dtype).type
    h = np.asarray(steps, dtype=dtype)  # [m]
    at = real(x)
    points = np.concatenate([at - h, at + h])  # [2m], rounded in dtype
    values = np.asarray(mu(points.astype(np.float64)), dtype=dtype)  # [2m]
    m = len(h)
    result: np.ndarray = (values[m:] - values[:m]) / (real(2) * h)
    return result.astype(np.float64)


def asymptotes(
    references: Sequence[Reference], spacing: float
) -> tuple[float | None, float | None]:
    """(c_t, |mu(x)|) for the central difference's error ~ c_t h^2 + eps |mu(x)| / h, from
    the references at x - H, x, x + H (H = ``spacing``): c_t = |mu^(3)(x)| / 6 with
    mu^(3) ~ (mu'(x + H) - 2 mu'(x) + mu'(x - H)) / H^2. eps |mu(x)| / h is the error of
    a correctly rounded mu; a real program's sits above it by what cond(K) amplifies.
    (None, None) when a reference is missing."""
    balls = [mu_and_grad(reference) for reference in references]
    if len(balls) != 3 or balls[0] is None or balls[1] is None or balls[2] is None:
        return None, None
    (_, below), (mu, at), (_, above) = balls[0], balls[1], balls[2]
    third = (above.mid - 2 * at.mid + below.mid) / spacing**2
    return abs(third) / 6, abs(mu.mid)


def step_sweep(
    data: ProblemData,
    x: float,
    budget_s: float = DEFAULT_BUDGET_S,
    on_progress: Callable[[str], None] = lambda message: None,
) -> StepSweep:
    """The central difference of the ``function`` path's value at the probe x for every h
    on :func:`step_grid` and each dtype, against the reference of the problem (or its
    jitter limit). The references come first: they need no TensorFlow."""
    start = time.perf_counter()
    quantity = data.problem.measured
    steps = step_grid(x, quantity)
    spacing = THIRD_DERIVATIVE_SPACING * step_scale(quantity, x)
    solver = reference_solver(data, budget_s, on_progress)
    around = solver.evaluate_many([x - spacing, x, x + spacing])
    from gradviz.core.numerics.sweep_paths import function_values

    reference = around[1]
    truth, reference_jitter = _grad(reference), data.problem.jitter if _grad(reference) else None
    if reference.limit is not None:
        truth, reference_jitter = reference.limit.grad, reference.limit.jitter
    c_t, mu_scale = asymptotes(around, spacing)
    rows: list[StepRow] = []
    truncation: dict[DType, float | None] = {}
    rounding: dict[DType, float | None] = {}
    for dtype in DTYPES:
        on_progress(f"central differences in {dtype}")
        grads = central_differences(partial(function_values, data, dtype), dtype, x, steps)
        errors = np.abs(grads - truth.mid) if truth is not None else np.full(len(steps), np.nan)
        truncation[dtype] = c_t
        rounding[dtype] = None if mu_scale is None else mu_scale * float(np.finfo(dtype).eps)
        rows.extend(
            StepRow(
                h=h,
                dtype=dtype,
                grad=float(g) if math.isfinite(g) else None,
                abs_error=float(e) if math.isfinite(e) else None,
            )
            for h, g, e in zip(steps, grads, errors, strict=True)
        )
    return StepSweep(
        problem=data.problem,
        x=x,
        rows=tuple(rows),
        default_h={dtype: default_step(dtype, x, quantity) for dtype in DTYPES},
        reference=reference,
        reference_jitter=reference_jitter,
        truncation=truncation,
        rounding=rounding,
        seconds=time.perf_counter() - start,
    )
