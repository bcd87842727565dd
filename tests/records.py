"""Realistic result records built with numpy only, as the worker would send them.

The records imitate what the worker sends for a mildly ill-conditioned problem
(n = 40, jitter 1e-6, Cholesky): numpy float64 and float32 stand in for the
TensorFlow paths, so float32 really does differ from float64 and the plots get
curves and digit counts with realistic shapes, for every quantity (the mean's slope,
the variance's slope in x, an LML gradient over theta). No TensorFlow is imported. The window
tests' fake workers (``fake_workers.py``) and the fake paths process answer with these.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gradviz.core.analysis.diagnosis import conditioning, diagnose, precision_curves
from gradviz.core.analysis.sweep import (
    JitterSweep,
    StepRow,
    StepSweep,
    best_per_dtype,
    bias_jitter,
    default_step,
    jitter_grid,
    step_grid,
    sweep_rows,
)
from gradviz.core.numerics.results import (
    DTYPES,
    PATHS,
    Ball,
    Cell,
    Curves,
    FailureKind,
    JitterGradient,
    Limit,
    PrecisionCurves,
    ProbeReport,
    ProbeResult,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.data import ProblemData, curve_grid, problem_data
from gradviz.core.problem.spec import SOLVERS, Problem

PROBE_X = 2.0
CURVE_POINTS = 201
# Paths that reproduce the seed use the explicit inverse; the others solve.
INVERSE_PATHS = frozenset({"seed_optimizer", "seed_gradients"})


def _posterior(
    problem: Problem, x: np.ndarray, dtype: str, inverse: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The quantity and its derivative at the probes ``x`` in numpy ``dtype``: mu(x) and
    mu'(x) (the GP formulas of DESIGN.md section 1), var(x) and var'(x), or LML(theta) and
    its slope (central differences of the dtype's LML, with a float64 step). [m], [m]"""
    if problem.quantity == "variance-slope":
        return _variance(problem, x, dtype)
    if problem.measured.is_lml:
        values = np.array([_lml(problem, t, dtype) for t in x])
        steps = 1e-4 * np.asarray(x, dtype=float)
        ups = np.array([_lml(problem, t + h, dtype) for t, h in zip(x, steps, strict=True)])
        downs = np.array([_lml(problem, t - h, dtype) for t, h in zip(x, steps, strict=True)])
        return values, (ups - downs) / (2 * steps)
    data = sample(problem)
    grid = data.grid.astype(dtype)  # [n]
    y = data.y.astype(dtype)  # [n]
    scale = np.asarray(problem.length_scale, dtype=dtype)
    x = np.asarray(x, dtype=dtype)
    k = np.exp(-((x[:, None] - grid[None, :]) ** 2) / (2 * scale**2))  # [m, n]
    dk = -(x[:, None] - grid[None, :]) / scale**2 * k  # [m, n]
    factor = _factor(problem, dtype, inverse)
    if inverse:  # the seed's (k(x) @ K^-1) @ y
        mu, grad = (k @ factor) @ y, (dk @ factor) @ y
    else:  # factor = alpha = K^-1 y
        mu, grad = k @ factor, dk @ factor
    return mu.astype(float), grad.astype(float)


def _variance(problem: Problem, x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """var(x) = 1 - k(x) A^-1 k(x)^T and var'(x) = -2 dk(x) A^-1 k(x)^T (RBF, S = 1) in
    numpy ``dtype``, A^-1 explicit (so float32 can go below 0). [m], [m]"""
    data = sample(problem)
    grid = data.grid.astype(dtype)  # [n]
    scale = np.asarray(problem.length_scale, dtype=dtype)
    x = np.asarray(x, dtype=dtype)
    k = np.exp(-((x[:, None] - grid[None, :]) ** 2) / (2 * scale**2))  # [m, n]
    dk = -(x[:, None] - grid[None, :]) / scale**2 * k  # [m, n]
    inverse = _factor(problem, dtype, inverse=True)  # [n, n]
    var = 1 - np.sum((k @ inverse) * k, axis=1)
    return var.astype(float), (-2 * np.sum((dk @ inverse) * k, axis=1)).astype(float)


def posterior_variance(problem: Problem, x: np.ndarray) -> dict[str, np.ndarray]:
    """var(x) per dtype, as the worker sends it for the band around mu. [m] each"""
    return {dtype: _variance(problem, x, dtype)[0] for dtype in DTYPES}


def _lml(problem: Problem, theta: float, dtype: str) -> float:
    """LML at ``theta`` (the quantity's field set to it) in numpy ``dtype`` (RBF):
    -1/2 y^T A^-1 y - 1/2 log det A - n/2 log 2 pi."""
    field = problem.measured.theta
    assert field is not None
    data = sample(problem)
    values = {"length_scale": problem.length_scale, "signal_variance": problem.signal_variance}
    values["jitter"] = problem.jitter
    values[field] = theta
    d = data.grid[:, None] - data.grid[None, :]
    kernel = values["signal_variance"] * np.exp(-(d * d) / (2 * values["length_scale"] ** 2))
    matrix = (kernel + values["jitter"] * np.eye(problem.n)).astype(dtype)  # [n, n]
    y = data.y.astype(dtype)
    _, logdet = np.linalg.slogdet(matrix)
    quad = y @ np.linalg.solve(matrix, y)
    return float(-quad / 2 - logdet / 2 - problem.n / 2 * np.log(2 * np.pi))


@functools.lru_cache(maxsize=32)
def _factor(problem: Problem, dtype: str, inverse: bool) -> np.ndarray:
    """K^-1 [n, n] (``inverse``) or alpha = K^-1 y [n] in ``dtype``, once per problem."""
    data = sample(problem)
    kernel = (data.kernel + problem.jitter * np.eye(problem.n)).astype(dtype)  # [n, n]
    if inverse:
        return np.linalg.inv(kernel)
    return np.linalg.solve(kernel, data.y.astype(dtype))


def _cell(problem: Problem, path: str, dtype: str, x: float) -> Cell:
    """One path in one dtype at x; central differences use no derivative at all."""
    inverse = path in INVERSE_PATHS
    mu, grad = _posterior(problem, np.array([x]), dtype, inverse)
    if path == "central_difference":
        h = float(np.cbrt(np.finfo(dtype).eps)) * max(1.0, abs(x))
        ends, _ = _posterior(problem, np.array([x + h, x - h]), dtype, inverse)
        grad = np.array([(ends[0] - ends[1]) / (2 * h)])
    return Cell(path=path, dtype=dtype, mu=float(mu[0]), grad=float(grad[0]))


CHOLESKY_FAILED = "Cholesky failed in float32: K + jitter I is not positive definite"


@functools.lru_cache(maxsize=16)
def cholesky_fails(problem: Problem, dtype: str) -> bool:
    """Whether TensorFlow's Cholesky of K + jitter I in ``dtype`` gives NaN, as a rule of
    thumb: when the smallest eigenvalue falls below the unit roundoff times the largest
    (the GPflow default fails in float32 at n = 300, the n = 40 problem does not; numpy's
    own float32 Cholesky is more forgiving than TensorFlow's)."""
    if problem.solver != "cholesky":
        return False
    eigenvalues = np.linalg.eigvalsh(sample(problem).kernel)  # ascending
    unit_roundoff = float(np.finfo(dtype).eps) / 2
    return bool(eigenvalues[0] + problem.jitter <= unit_roundoff * eigenvalues[-1])


def make_curves(problem: Problem) -> Curves:
    """The ``function`` path over the probe's domain in both dtypes (NaN where the dtype's
    Cholesky fails, with the reason); for a slope in x the posterior variance too."""
    x = probe_grid(problem)
    mu, grad, errors = {}, {}, {}
    for dtype in DTYPES:
        mu[dtype], grad[dtype] = _posterior(problem, x, dtype, inverse=False)
        errors[dtype] = None
        if cholesky_fails(problem, dtype):
            mu[dtype] = grad[dtype] = np.full_like(x, np.nan)
            errors[dtype] = CHOLESKY_FAILED
    # Stand-in spread digits: a smooth shape between 0 and 15, as plots receive them.
    spread = {dtype: 7.5 + 7.5 * np.cos(x) for dtype in DTYPES}
    return Curves(
        problem=problem,
        x=x,
        mu=mu,
        grad=grad,
        errors=errors,
        spread_digits=spread,
        variance={} if problem.measured.is_lml else posterior_variance(problem, x),
    )


def probe_grid(problem: Problem) -> np.ndarray:
    """The curves' probes: CURVE_POINTS over x, fewer along an LML quantity's theta. [m]"""
    return curve_grid(problem, 41 if problem.measured.is_lml else CURVE_POINTS)


def exact_reference(problem: Problem, x: float) -> Reference:
    """An "exact" reference: the float64 closed form with a tight ball around it."""
    mu, grad = _posterior(problem, np.array([x]), "float64", inverse=False)
    return Reference(
        status="exact",
        mu=Ball(float(mu[0]), 1e-13),
        grad=Ball(float(grad[0]), 1e-13),
        precision_bits=256,
    )


def undetermined_reference(problem: Problem, x: float) -> Reference:
    """An "undetermined" reference whose jitter 1e-12 limit is the float64 closed form."""
    exact = exact_reference(problem, x)
    assert exact.mu is not None and exact.grad is not None
    return Reference(
        status="undetermined",
        precision_bits=256,
        reason="the ball solve could not certify K",
        limit=Limit(jitter=1e-12, mu=exact.mu, grad=exact.grad),
    )


def make_report(
    problem: Problem,
    x: float = PROBE_X,
    reference: Reference | str | None = "exact",
    errors: dict[tuple[str, str], tuple[FailureKind, str]] | None = None,
) -> ProbeReport:
    """Every path x dtype at x, a reference ("exact", "undetermined", a record or None),
    and the diagnosis from gradviz.core.analysis.diagnosis. ``errors`` marks failed cells
    (kind, reason)."""
    result = make_result(problem, x, errors)
    if reference == "exact":
        reference = exact_reference(problem, x)
    elif reference == "undetermined":
        reference = undetermined_reference(problem, x)
    assert reference is None or isinstance(reference, Reference)
    note = "reference off" if reference is None else "reference: 256 bits"
    diagnosis = diagnose(result, reference, conditioning(sample(problem)))
    return ProbeReport(result=result, reference=reference, reference_note=note, diagnosis=diagnosis)


@dataclass(frozen=True)
class Records:
    """A problem with its data, curves and report at x = 2, as the worker would send them."""

    problem: Problem
    data: ProblemData
    curves: Curves
    report: ProbeReport
    truth: ReferenceCurve
    precision: PrecisionCurves


def make_truth(problem: Problem, limit: bool = False) -> ReferenceCurve:
    """The reference over the curve grid: the float64 closed form, tight balls (or the
    same numbers labelled as the jitter 1e-12 limit)."""
    x = probe_grid(problem)
    mu, grad = _posterior(problem, x, "float64", inverse=False)
    radius = np.full_like(x, 1e-13)
    jitter = 1e-12 if limit else problem.jitter
    return ReferenceCurve(problem, x, mu, radius, grad, radius, jitter, limit, complete=True)


def make_records(problem: Problem | None = None) -> Records:
    problem = problem or Problem(n=40, jitter=1e-6, solver="cholesky")
    data, curves, truth = sample(problem), make_curves(problem), make_truth(problem)
    return Records(
        problem=problem,
        data=data,
        curves=curves,
        report=make_report(problem, problem.default_x if problem.measured.is_lml else PROBE_X),
        truth=truth,
        precision=precision_curves(curves, truth, conditioning(data)),
    )


@functools.lru_cache(maxsize=16)
def sample(problem: Problem) -> ProblemData:
    """The problem's data, drawn once per test session (an SVD: 0.5 s at n = 300)."""
    return problem_data(problem)


def make_result(
    problem: Problem, x: float, errors: dict[tuple[str, str], tuple[FailureKind, str]] | None = None
) -> ProbeResult:
    """Every path in every dtype at x, as the paths process answers a probe; a dtype whose
    Cholesky fails has a failed cell on every path."""
    errors = dict(errors or {})
    for dtype in DTYPES:
        if cholesky_fails(problem, dtype):
            for path in PATHS:
                errors[(path, dtype)] = (FailureKind.CHOLESKY_NOT_PD, CHOLESKY_FAILED)
    cells = tuple(
        Cell(path, dtype, None, None, errors[(path, dtype)][1], errors[(path, dtype)][0])
        if (path, dtype) in errors
        else _cell(problem, path, dtype, x)
        for path in PATHS
        for dtype in DTYPES
    )
    return ProbeResult(problem=problem, x=x, cells=cells)


def make_jitter_sweep(
    problem: Problem, x: float, references_from: float = 0.0, seconds: float = 1.0
) -> JitterSweep:
    """A jitter sweep as the sweep process streams it, made of plain formulas: the exact
    answer drifts with the jitter (bias) and each dtype's rounding shrinks as cond(K + jI)
    falls. With ``references_from`` > 0 only the references of jitters at least that large
    are in, as in a sweep still running (its jitter-free answer and best are provisional)."""
    grid = jitter_grid()
    exact = {j: -0.7 - 0.5 * j for j in grid}  # d mu/dx of K + jI
    eps = {"float32": 6e-8, "float64": 1e-16}
    gradients = {}
    for solver in SOLVERS:
        for dtype in DTYPES:
            cells = []
            for j in grid:
                if solver == "cholesky" and dtype == "float32" and j < 1e-6:
                    failure = FailureKind.CHOLESKY_NOT_PD
                    cells.append(JitterGradient(j, None, failure, "not positive definite"))
                    continue
                noise = eps[dtype] * 50 / (j + 1e-20) * (1 + SOLVERS.index(solver))
                cells.append(JitterGradient(j, exact[j] * (1 + noise)))
            gradients[(solver, dtype)] = cells
    references = {
        j: Reference("exact", mu=Ball(1.0, 1e-17), grad=Ball(exact[j], 1e-17))
        for j in grid
        if j >= references_from
    }
    rows = sweep_rows(gradients, references, (1e-12, 50.0))
    return JitterSweep(
        problem=problem,
        x=x,
        rows=rows,
        references=tuple(references.items()),
        bias_jitter=bias_jitter(references),
        best=best_per_dtype(rows),
        seconds=seconds,
    )


def make_step_sweep(problem: Problem, x: float) -> StepSweep:
    """The central difference's error against h as its asymptotes give it: c_t h^2 for a
    large h, eps |mu| / h for a small one, per dtype (no TensorFlow)."""
    reference = exact_reference(problem, x)
    assert reference.grad is not None and reference.mu is not None
    truncation = 0.05
    rounding = {dtype: float(np.finfo(dtype).eps) * abs(reference.mu.mid) for dtype in DTYPES}
    rows = []
    for dtype in DTYPES:
        for h in step_grid(x):
            error = truncation * h**2 + rounding[dtype] / h
            rows.append(StepRow(h, dtype, reference.grad.mid + error, error))
    return StepSweep(
        problem=problem,
        x=x,
        rows=tuple(rows),
        default_h={dtype: default_step(dtype, x) for dtype in DTYPES},
        reference=reference,
        reference_jitter=problem.jitter,
        truncation=dict.fromkeys(DTYPES, truncation),
        rounding=dict(rounding),
        seconds=0.1,
    )
