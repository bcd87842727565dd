"""Shared GUI fixtures: realistic result records built with numpy only, and mouse settings.

The records imitate what the worker sends for a mildly ill-conditioned problem
(n = 40, jitter 1e-6, Cholesky): numpy float64 and float32 stand in for the
TensorFlow paths, so float32 really does differ from float64 and the plots get
curves and digit counts with realistic shapes. No TensorFlow is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import pytest

from gradviz.core.analysis.diagnosis import conditioning, diagnose, precision_curves
from gradviz.core.numerics.results import (
    DTYPES,
    PATHS,
    Ball,
    Cell,
    Curves,
    FailureKind,
    Limit,
    PrecisionCurves,
    ProbeReport,
    ProbeResult,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.data import ProblemData, problem_data
from gradviz.core.problem.spec import Problem
from gradviz.gui.plots import PlotStack

# Qt's offscreen platform plugin says this on every top-level show(); it is
# not a problem of gradviz, and qt_log_level_fail would fail every GUI test.
PROBE_X = 2.0
CURVE_POINTS = 201
# Paths that reproduce the seed use the explicit inverse; the others solve.
INVERSE_PATHS = frozenset({"seed_optimizer", "seed_gradients"})


def _posterior(
    problem: Problem, x: np.ndarray, dtype: str, inverse: bool
) -> tuple[np.ndarray, np.ndarray]:
    """mu(x) and mu'(x) in numpy ``dtype`` (the GP formulas of DESIGN.md section 1). [m], [m]"""
    data = problem_data(problem)
    grid = data.grid.astype(dtype)  # [n]
    kernel = (data.kernel + problem.jitter * np.eye(problem.n)).astype(dtype)  # [n, n]
    y = data.y.astype(dtype)  # [n]
    scale = np.asarray(problem.length_scale, dtype=dtype)
    x = np.asarray(x, dtype=dtype)
    k = np.exp(-((x[:, None] - grid[None, :]) ** 2) / (2 * scale**2))  # [m, n]
    if inverse:
        weights = k @ np.linalg.inv(kernel)  # [m, n], the seed's (k(x) @ K^-1) @ y
        mu = weights @ y
        dk = -(x[:, None] - grid[None, :]) / scale**2 * k  # [m, n]
        grad = (dk @ np.linalg.inv(kernel)) @ y
    else:
        alpha = np.linalg.solve(kernel, y)  # [n]
        mu = k @ alpha
        grad = (-(x[:, None] - grid[None, :]) / scale**2 * k) @ alpha
    return mu.astype(float), grad.astype(float)


def _cell(problem: Problem, path: str, dtype: str, x: float) -> Cell:
    """One path in one dtype at x; central differences use no derivative at all."""
    inverse = path in INVERSE_PATHS
    mu, grad = _posterior(problem, np.array([x]), dtype, inverse)
    if path == "central_difference":
        h = float(np.cbrt(np.finfo(dtype).eps)) * max(1.0, abs(x))
        ends, _ = _posterior(problem, np.array([x + h, x - h]), dtype, inverse)
        grad = np.array([(ends[0] - ends[1]) / (2 * h)])
    return Cell(path=path, dtype=dtype, mu=float(mu[0]), grad=float(grad[0]))


def make_curves(problem: Problem) -> Curves:
    """The ``function`` path over the domain in both dtypes."""
    x = np.linspace(*problem.domain, CURVE_POINTS)
    mu, grad = {}, {}
    for dtype in DTYPES:
        mu[dtype], grad[dtype] = _posterior(problem, x, dtype, inverse=False)
    # Stand-in spread digits: a smooth shape between 0 and 15, as plots receive them.
    spread = {dtype: 7.5 + 7.5 * np.cos(x) for dtype in DTYPES}
    return Curves(
        problem=problem,
        x=x,
        mu=mu,
        grad=grad,
        errors=dict.fromkeys(DTYPES),
        spread_digits=spread,
    )


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
    errors = errors or {}
    cells = tuple(
        Cell(path, dtype, None, None, errors[(path, dtype)][1], errors[(path, dtype)][0])
        if (path, dtype) in errors
        else _cell(problem, path, dtype, x)
        for path in PATHS
        for dtype in DTYPES
    )
    result = ProbeResult(problem=problem, x=x, cells=cells)
    if reference == "exact":
        reference = exact_reference(problem, x)
    elif reference == "undetermined":
        reference = undetermined_reference(problem, x)
    assert reference is None or isinstance(reference, Reference)
    note = "reference off" if reference is None else "reference: 256 bits"
    diagnosis = diagnose(result, reference, conditioning(problem_data(problem)))
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
    x = np.linspace(*problem.domain, CURVE_POINTS)
    mu, grad = _posterior(problem, x, "float64", inverse=False)
    radius = np.full_like(x, 1e-13)
    jitter = 1e-12 if limit else problem.jitter
    return ReferenceCurve(problem, x, mu, radius, grad, radius, jitter, limit, complete=True)


def make_records(problem: Problem | None = None) -> Records:
    problem = problem or Problem(n=40, jitter=1e-6, solver="cholesky")
    data, curves, truth = problem_data(problem), make_curves(problem), make_truth(problem)
    return Records(
        problem=problem,
        data=data,
        curves=curves,
        report=make_report(problem),
        truth=truth,
        precision=precision_curves(curves, truth, conditioning(data)),
    )


@pytest.fixture
def records() -> Records:
    """Realistic records for Problem(n=40, jitter=1e-6, solver="cholesky")."""
    return make_records()


@pytest.fixture
def report_factory() -> Callable[..., ProbeReport]:
    """:func:`make_report`, for tests that need another x, reference or failed cells."""
    return make_report


@pytest.fixture
def records_factory() -> Callable[..., Records]:
    """:func:`make_records`, for tests that need a second problem."""
    return make_records


@pytest.fixture
def no_mouse_rate_limit() -> Iterator[None]:
    """Deliver every synthetic mouse move: pyqtgraph drops moves closer than 10 ms."""
    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    yield
    pg.setConfigOption("mouseRateLimit", previous)


@pytest.fixture
def stack(qtbot, records: Records) -> PlotStack:
    """A shown PlotStack holding the problem, its data, curves and report at x = 2."""
    widget = PlotStack()
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    with qtbot.waitExposed(widget):
        widget.show()
    widget.set_problem(records.problem)
    widget.set_data(records.data.grid, records.data.y)
    widget.set_curves(records.curves)
    widget.set_report(records.report)
    widget.set_reference_curve(records.truth)
    widget.set_precision(records.precision)
    widget.set_marker_x(records.report.result.x)
    return widget
