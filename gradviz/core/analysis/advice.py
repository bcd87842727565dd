"""Measured advice: which (solver, jitter) keeps the most digits per dtype, here, at this x.

The advice is a measurement, never a bound. cond(K + jitter I) x eps is a worst case: on the
seed it predicts that nothing survives, while a ``solve`` instead of the explicit inverse
keeps 5-6 float64 digits at the same jitter. So the advice runs the jitter sweep's own
machinery (:class:`~gradviz.core.analysis.sweep.JitterMeasurements`: the ``function``
path's gradient in each dtype against ball arithmetic, digits about the jitter-free
answer) on a lighter grid:

1. the problem as given (its solver and jitter) and every solver, at 0 and one jitter a
   decade, 1e-16 .. 1;
2. around each dtype's best jitter, the half-decade neighbours of the full sweep's grid,
   so the digits reported at the advised point are those the Sweeps tab shows there.

The advice for a dtype is its best (solver, jitter), unless the problem as given is
within :data:`SAME_DIGITS` of it: then nothing is advised. The cause is the one change
that gains the most digits over the problem as given.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from gradviz.core.analysis.sweep import (
    JitterMeasurements,
    JitterSweep,
    SweepRow,
    log_grid,
)
from gradviz.core.numerics.reference import BallSolver
from gradviz.core.numerics.reference import reference_solver as solver_for
from gradviz.core.numerics.results import (
    DTYPES,
    FAILURE_WORDS,
    Ball,
    DType,
    FailureKind,
    Reference,
)
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.spec import SOLVERS, Problem, Solver

# Two measurements closer than this are the same: the digits of a cell move by about this
# much between neighbouring jitters and between equivalent programs.
SAME_DIGITS = 0.3
COARSE_DECADES = (-16, 0)
FINE_PER_DECADE = 2  # the full sweep's grid (gradviz.core.analysis.sweep.PER_DECADE)
Change = Literal["solver", "jitter", "dtype", "none"]
# When two changes gain the same (within SAME_DIGITS), the one that leaves the mathematical
# problem unchanged is named: a solver or a dtype changes only the arithmetic, a jitter
# changes the answer.
CAUSE_ORDER: tuple[Change, ...] = ("solver", "dtype", "jitter")


@dataclass(frozen=True)
class Measured:
    """The ``function`` path's digits about the jitter-free answer for one (solver, jitter)
    in one dtype; ``digits`` is None with a ``failure_kind`` where the factorisation or
    the path fails, and None without one where no reference could judge it."""

    solver: Solver
    jitter: float
    digits: float | None
    failure_kind: FailureKind | None = None


@dataclass(frozen=True)
class Cause:
    """The single change that gains the most digits over the problem as given, and its
    gain in digits (None for ``none``)."""

    change: Change
    gain: float | None
    text: str


@dataclass(frozen=True)
class Advice:
    """What was measured for one problem at one x.

    ``as_given``: the problem's own solver and jitter per dtype. ``same_jitter``: the
    best solver at the problem's own jitter. ``best``: the most digits measured.
    ``advised``: ``best``, or ``as_given`` where that is within SAME_DIGITS of it (None
    when nothing could be measured). ``truth_jitter`` is the jitter whose reference
    stands for the jitter-free answer (0 when ball arithmetic certifies K itself) and
    ``truth`` that answer's d mu/dx.
    """

    problem: Problem
    x: float
    as_given: Mapping[DType, Measured]
    same_jitter: Mapping[DType, Measured | None]
    best: Mapping[DType, Measured | None]
    advised: Mapping[DType, Measured | None]
    cause: Cause
    truth_jitter: float | None
    truth: Ball | None
    seconds: float

    def changes(self, dtype: DType) -> bool:
        """Whether the advice for ``dtype`` differs from the problem as given."""
        advised = self.advised[dtype]
        given = self.as_given[dtype]
        return advised is not None and (advised.solver, advised.jitter) != (
            given.solver,
            given.jitter,
        )


def coarse_jitters(own: float) -> tuple[float, ...]:
    """0, one jitter a decade 1e-16 .. 1, and the problem's own jitter."""
    return tuple(sorted({0.0, own, *log_grid(COARSE_DECADES, 1)}))


def neighbours(jitter: float) -> tuple[float, ...]:
    """The full sweep's grid points half a decade either side of ``jitter`` (none for 0)."""
    if jitter <= 0:
        return ()
    fine = log_grid((COARSE_DECADES[0] - 1, COARSE_DECADES[1] + 1), FINE_PER_DECADE)
    position = min(range(len(fine)), key=lambda i: abs(math.log10(fine[i] / jitter)))
    lo, hi = max(0, position - 1), min(len(fine) - 1, position + 1)
    return tuple(value for value in (fine[lo], fine[hi]) if value != jitter)


def _row(sweep: JitterSweep, dtype: DType, solver: Solver, jitter: float) -> SweepRow | None:
    for row in sweep.rows:
        if (row.dtype, row.solver, row.jitter) == (dtype, solver, jitter):
            return row
    return None


def _measured(row: SweepRow) -> Measured:
    return Measured(row.solver, row.jitter, row.digits, row.failure_kind)


def _score(measured: Measured | None) -> float:
    """Digits for comparing: a failure or an unmeasured cell keeps none."""
    return 0.0 if measured is None or measured.digits is None else measured.digits


def _best(rows: list[SweepRow]) -> Measured | None:
    """The row with the most digits; ties go to the smaller jitter, then SOLVERS order."""
    scored = [row for row in rows if row.digits is not None]
    top = min(
        scored,
        key=lambda row: (-(row.digits or 0.0), row.jitter, SOLVERS.index(row.solver)),
        default=None,
    )
    return None if top is None else _measured(top)


def digits_words(measured: Measured | None) -> str:
    """``"5.7 digits"``, or why there are none: ``"fails (not positive definite)"``."""
    if measured is None:
        return "not measured"
    if measured.digits is not None:
        return f"{measured.digits:.1f} digits"
    if measured.failure_kind is not None:
        return f"fails ({FAILURE_WORDS[measured.failure_kind]})"
    return "no reference to judge it"


def keeps(measured: Measured | None) -> str:
    """The verb phrase: ``"keeps 5.7 digits"``, ``"fails (not positive definite)"``."""
    words = digits_words(measured)
    return f"keeps {words}" if measured is not None and measured.digits is not None else words


def _same_solver(sweep: JitterSweep, given: Measured, dtype: DType) -> Measured | None:
    """The best other jitter with the solver as given, in ``dtype``."""
    rows = [
        row
        for row in sweep.rows
        if (row.dtype, row.solver) == (dtype, given.solver) and row.jitter != given.jitter
    ]
    return _best(rows)


def _cause(
    sweep: JitterSweep,
    as_given: Mapping[DType, Measured],
    best: Mapping[DType, Measured | None],
    same_jitter: Mapping[DType, Measured | None],
) -> Cause:
    """The one change that gains the most digits over the problem as given: a solver or a
    jitter change in float64; where float64 gains nothing by either, float64 instead of
    float32 (``dtype``) or the solver or jitter change that helps float32 most."""
    if sweep.bias_jitter is None or all(row.digits is None for row in sweep.rows):
        return Cause(
            "none",
            None,
            "What to change could not be measured: no digit could be counted (no "
            "jitter-free answer resolved within the budget, or it underflows).",
        )
    if all(_score(best[d]) - _score(as_given[d]) <= SAME_DIGITS for d in DTYPES):
        return Cause(
            "none",
            None,
            "The problem as given already keeps the most digits measured here (float64 "
            f"{digits_words(as_given['float64'])}, float32 "
            f"{digits_words(as_given['float32'])}): nothing to change.",
        )
    for dtype in ("float64", "float32"):
        given = as_given[dtype]
        fixes: dict[Change, Measured | None] = {
            "solver": same_jitter[dtype],
            "jitter": _same_solver(sweep, given, dtype),
        }
        gains: dict[Change, float] = {c: _score(fix) - _score(given) for c, fix in fixes.items()}
        if dtype == "float32" and _score(as_given["float64"]) - _score(given) > SAME_DIGITS:
            # float64 has nothing to gain by a change of its own, float32 as given keeps
            # fewer digits than float64 as given: the accepted answer's "use float64".
            gains["dtype"] = _score(as_given["float64"]) - _score(given)
        top = max(gains.values())
        if top > SAME_DIGITS or dtype == "float32":
            change = next(c for c in CAUSE_ORDER if c in gains and gains[c] >= top - SAME_DIGITS)
            text = _cause_text(change, dtype, as_given, same_jitter, fixes.get(change))
            solver = fixes["solver"]
            if change == "jitter" and gains["solver"] > 1.0 and solver is not None:
                text = text[:-1] + f" ({solver.solver} at the same jitter {keeps(solver)})."
            return Cause(change, gains[change], text)
    raise AssertionError("unreachable: float32 always returns")


def jitter_words(jitter: float) -> str:
    """A jitter as the sweep's grid writes it: ``0``, ``1e-13``, ``3.16e-4``."""
    if jitter == 0:
        return "0"
    mantissa, exponent = f"{jitter:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def point_words(measured: Measured) -> str:
    """``"solve, jitter 1e-13"``."""
    return f"{measured.solver}, jitter {jitter_words(measured.jitter)}"


def _cause_text(
    change: Change,
    dtype: DType,
    as_given: Mapping[DType, Measured],
    same_jitter: Mapping[DType, Measured | None],
    fix: Measured | None,
) -> str:
    given = as_given[dtype]
    if change == "dtype":
        return (
            f"Here the dtype is what matters: with {point_words(given)} float64 "
            f"{keeps(as_given['float64'])} where float32 {keeps(as_given['float32'])}."
        )
    assert fix is not None
    as_written = f"as given ({point_words(given)}) {dtype} {keeps(given)}"
    if change == "solver":
        what = "the explicit inverse" if given.solver == "inverse" else f"the {given.solver}"
        others = [
            f"{other} {digits_words(same)}"
            for other in DTYPES
            if other != dtype
            and (same := same_jitter[other]) is not None
            and same.solver == fix.solver
        ]
        also = f" and {others[0]}" if others else ""
        return (
            f"The culprit is {what}, not the dtype: {as_written}, while {fix.solver} at "
            f"the same jitter keeps {dtype} {digits_words(fix)}{also}."
        )
    return (
        f"Changing the jitter gains the most: {as_written}, while jitter "
        f"{jitter_words(fix.jitter)} with the same solver {keeps(fix)}."
    )


def _truth(sweep: JitterSweep) -> Ball | None:
    """d mu/dx of the jitter-free answer the digits were counted against."""
    references = dict(sweep.references)
    reference = None if sweep.bias_jitter is None else references.get(sweep.bias_jitter)
    return None if reference is None else reference.grad


def likelihood_sweep(sweep: JitterSweep, jitter: float) -> JitterSweep:
    """What an LML quantity's advice reads of a sweep: only its own ``jitter`` (the
    jitter is part of the likelihood), each row's digits against that jitter's own exact
    answer (its rounding digits), that jitter standing for the truth."""
    rows = tuple(
        dataclasses.replace(row, bias_digits=None, digits=row.rounding_digits)
        for row in sweep.rows
        if row.jitter == jitter
    )
    references = tuple((j, reference) for j, reference in sweep.references if j == jitter)
    exact = any(r.status == "exact" and r.grad is not None for _, r in references)
    truth = jitter if exact else None
    return dataclasses.replace(sweep, rows=rows, references=references, bias_jitter=truth)


def advice_from(sweep: JitterSweep, solver: Solver, jitter: float) -> Advice:
    """The advice for the problem as given (``solver``, ``jitter``) from what ``sweep``
    measured (it must hold every solver at ``jitter``). For an LML quantity only that
    jitter counts (:func:`likelihood_sweep`)."""
    if sweep.problem.measured.is_lml:
        sweep = likelihood_sweep(sweep, jitter)
    as_given: dict[DType, Measured] = {}
    same_jitter: dict[DType, Measured | None] = {}
    best: dict[DType, Measured | None] = {}
    advised: dict[DType, Measured | None] = {}
    for dtype in DTYPES:
        rows = [row for row in sweep.rows if row.dtype == dtype]
        given = _row(sweep, dtype, solver, jitter)
        as_given[dtype] = Measured(solver, jitter, None) if given is None else _measured(given)
        same_jitter[dtype] = _best([row for row in rows if row.jitter == jitter])
        best[dtype] = top = _best(rows)
        if top is None:
            advised[dtype] = None
        elif _score(top) - _score(as_given[dtype]) <= SAME_DIGITS:
            advised[dtype] = as_given[dtype]  # already the best: advise nothing
        else:
            advised[dtype] = top
    return Advice(
        problem=sweep.problem,
        x=sweep.x,
        as_given=as_given,
        same_jitter=same_jitter,
        best=best,
        advised=advised,
        cause=_cause(sweep, as_given, best, same_jitter),
        truth_jitter=sweep.bias_jitter,
        truth=_truth(sweep),
        seconds=sweep.seconds,
    )


def measure_advice(
    data: ProblemData,
    x: float,
    *,
    budget_s: float,
    reference_solver: BallSolver | None = None,
    known: Mapping[float, Reference] | None = None,
    on_progress: Callable[[str], None] = lambda text: None,
) -> Advice:
    """Measure the advice for ``data``'s problem at x: the coarse grid, then the
    neighbours of each dtype's best, the references of both within ``budget_s``.
    ``known`` passes references already solved (e.g. the report's at the problem's own
    jitter) and ``reference_solver`` one whose kernel matrices can be reused.

    For an LML quantity the jitter is part of the likelihood (the noise variance; for
    lml-jitter the probe itself): another jitter is another model, not a better
    computation of this one. So only the solvers and dtypes are compared, at the
    problem's own jitter (lml-jitter: the probe's), against that problem's exact answer."""
    problem = data.problem
    solver = reference_solver or solver_for(data, budget_s, on_progress)
    measurements = JitterMeasurements(data, x, solver, known=known)
    own = advised_jitter(problem, x)
    coarse = (own,) if problem.measured.is_lml else coarse_jitters(problem.jitter)
    measurements.gradients(coarse, on_progress)
    # The budget is the ball arithmetic's CPU time (as ReferenceSolver counts it), not
    # TensorFlow's nor the machine's load.
    start = time.process_time()
    measurements.references(coarse, budget_s)
    used = time.process_time() - start
    rough = measurements.sweep()
    finer = {near for best in rough.best.values() if best for near in neighbours(best.jitter)}
    if finer and not problem.measured.is_lml:
        measurements.gradients(sorted(finer), on_progress)
        measurements.references(sorted(finer), max(budget_s - used, 0.0))
    return advice_from(measurements.sweep(), problem.solver, own)


def advised_jitter(problem: Problem, x: float) -> float:
    """The jitter of the problem as given at the probe x: its own, or for lml-jitter the
    probe (the jitter is that quantity's axis)."""
    return x if problem.measured.theta == "jitter" else problem.jitter
