"""The sweeps against computations written out here: the ``function`` path itself, python-flint
ball arithmetic (tests/spec.py), numpy float64 eigenvalues and central differences."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from spec import DTYPES, contains, flint_reference

from gradviz.core.analysis.sweep import central_differences, jitter_sweep, step_sweep
from gradviz.core.numerics.paths import PathSet
from gradviz.core.numerics.reference import ReferenceSolver
from gradviz.core.numerics.sweep_paths import JitterFunction
from gradviz.core.problem.data import data_from_sample, problem_data
from gradviz.core.problem.spec import Problem

ILL = Problem(n=30)  # the seed's grid and kernel at n = 30: cond(K) ~ 1e17
WELL = Problem(n=24, length_scale=0.7, domain=(-2.0, 3.0), seed=7, jitter=1e-4)
X = 2.0
JITTERS = (0.0, 1e-12, 1e-8, 1e-4, 1e-1)


def spec_digits(value: float, truth: float, radius: float, dtype: str = "float64") -> float:
    """-log10 |value - truth| / |truth|, capped by what the reference's radius certifies,
    -log10 radius / |truth|, and clamped to 0 .. what a correctly rounded ``dtype`` value
    holds, -log10(eps / 2)."""
    error = abs(value - truth) / abs(truth)
    digits = math.inf if error == 0 else -math.log10(error)
    digits = min(digits, -math.log10(radius / abs(truth)))
    return min(max(digits, 0.0), -math.log10(float(np.finfo(dtype).eps) / 2))


def spec_predicted(dtype: str, kernel: np.ndarray, jitter: float) -> float:
    eigenvalues = np.linalg.eigvalsh(kernel)
    lmin, lmax = eigenvalues[0], eigenvalues[-1]
    cond = (lmax + jitter) / (lmin + jitter) if lmin + jitter > 0 else math.inf
    eps = float(np.finfo(dtype).eps)
    return 0.0 if cond * eps >= 1 else max(0.0, -math.log10(eps) - math.log10(cond))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["inverse", "solve", "cholesky"])
def test_one_trace_per_solver_gives_the_function_paths_numbers_bit_for_bit(solver, dtype) -> None:
    data = problem_data(ILL)
    function = JitterFunction(data, solver, dtype)
    for jitter in JITTERS:
        jittered = data_from_sample(ILL.replace(jitter=jitter, solver=solver), data.y)
        cell = PathSet(jittered, dtype).evaluate("function", X)
        found = function.gradient(jitter, X)
        assert (found.grad, found.failure_kind) == (cell.grad, cell.failure_kind), jitter


@pytest.mark.timeout(120)
def test_every_jittered_reference_encloses_independent_ball_arithmetic() -> None:
    data = problem_data(ILL)
    seen = []
    references = ReferenceSolver(data, 60).evaluate_jitters(
        JITTERS, X, lambda jitter, reference: seen.append(jitter)
    )
    assert seen == [1e-1, 1e-4, 1e-8, 1e-12, 0.0]  # largest (cheapest) first, 0 last
    for jitter, reference in references.items():
        assert reference.status == "exact", (jitter, reference.reason)
        _, grad = flint_reference(ILL, X, jitter, 1024)
        assert contains(reference.grad, grad), jitter
        assert reference.grad.radius <= 2**-50 * abs(reference.grad.mid)


@pytest.mark.timeout(120)
def test_rows_match_independent_digits_and_best_is_the_top_row() -> None:
    data = problem_data(ILL)
    sweep = jitter_sweep(data, X, jitters=JITTERS)
    truth = {j: float(flint_reference(ILL, X, j, 1024)[1].mid()) for j in JITTERS}
    radius = {j: reference.grad.radius for j, reference in sweep.references}
    assert sweep.bias_jitter == 0.0
    assert len(sweep.rows) == len(JITTERS) * 3 * 2
    for row in sweep.rows:
        assert row.predicted_digits == pytest.approx(
            spec_predicted(row.dtype, data.kernel, row.jitter), abs=1e-9
        )
        bias = spec_digits(truth[row.jitter], truth[0.0], radius[0.0])
        assert row.bias_digits == pytest.approx(bias, abs=1e-6)
        if row.failure_kind is not None:  # a failure, not zero digits
            assert (row.grad, row.rounding_digits, row.digits) == (None, None, None)
            continue
        rounding = spec_digits(row.grad, truth[row.jitter], radius[row.jitter], row.dtype)
        assert row.rounding_digits == pytest.approx(rounding, abs=1e-6)
        assert row.digits == pytest.approx(min(rounding, bias), abs=1e-6)
    failed = {(r.solver, r.dtype) for r in sweep.rows if r.failure_kind == "cholesky_not_pd"}
    assert ("cholesky", "float32") in failed
    for dtype in DTYPES:
        top = max(r.digits for r in sweep.rows if r.dtype == dtype and r.digits is not None)
        best = sweep.best[dtype]
        assert best is not None and best.digits == top
        assert any(
            (r.jitter, r.solver, r.digits) == (best.jitter, best.solver, top)
            for r in sweep.rows
            if r.dtype == dtype
        )
    # float64 keeps several digits at its best, more than float32 at its best
    assert sweep.best["float64"].digits >= 4 > sweep.best["float32"].digits


def closed_form_mu(problem: Problem, xs: np.ndarray) -> np.ndarray:
    """numpy float64 posterior mean, by a solve."""
    data = problem_data(problem)
    kernel = data.kernel + problem.jitter * np.eye(problem.n)
    alpha = np.linalg.solve(kernel, data.y)
    d = xs[:, None] - data.grid[None, :]
    return np.exp(-(d**2) / (2 * problem.length_scale**2)) @ alpha


def test_central_differences_round_in_the_dtype() -> None:
    steps = [1e-3, 1e-5]
    found = central_differences(np.sin, "float32", 1.0, steps)
    for h, value in zip(steps, found, strict=True):
        h32, x32 = np.float32(h), np.float32(1.0)
        mu_plus, mu_minus = np.float32(np.sin(x32 + h32)), np.float32(np.sin(x32 - h32))
        assert value == (mu_plus - mu_minus) / (np.float32(2) * h32)


@pytest.mark.timeout(120)
def test_step_sweep_against_ball_arithmetic_and_numpy() -> None:
    sweep = step_sweep(problem_data(WELL), X)
    _, grad = flint_reference(WELL, X, WELL.jitter, 512)
    truth = float(grad.mid())
    assert sweep.reference_jitter == WELL.jitter
    for dtype in DTYPES:
        eps = float(np.finfo(dtype).eps)
        assert sweep.default_h[dtype] == pytest.approx(eps ** (1 / 3) * max(1.0, abs(X)))
        rows = [r for r in sweep.rows if r.dtype == dtype]
        hs = [r.h for r in rows]
        assert hs[0] == pytest.approx(1e-12 * X) and hs[-1] == pytest.approx(1e-1 * X)
        for row in rows:
            assert row.abs_error == pytest.approx(abs(row.grad - truth), rel=1e-12)
    row = next(r for r in sweep.rows if r.dtype == "float64" and r.h == pytest.approx(2e-4))
    h = row.h
    mu = closed_form_mu(WELL, np.array([X - h, X + h]))
    assert row.grad == pytest.approx((mu[1] - mu[0]) / (2 * h), rel=1e-6)
    assert row.abs_error < 1e-5
    # the asymptotes: |mu^(3)(x)| / 6 (analytic, numpy) and eps |mu(x)| (ball arithmetic)
    data = problem_data(WELL)
    alpha = np.linalg.solve(data.kernel + WELL.jitter * np.eye(WELL.n), data.y)
    d, l2 = X - data.grid, WELL.length_scale**2
    third = np.sum((3 * d / l2**2 - d**3 / l2**3) * np.exp(-(d**2) / (2 * l2)) * alpha)
    mu, _ = flint_reference(WELL, X, WELL.jitter, 512)
    for dtype in DTYPES:
        assert sweep.truncation[dtype] == pytest.approx(abs(third) / 6, rel=1e-4)
        eps = float(np.finfo(dtype).eps)
        assert sweep.rounding[dtype] == pytest.approx(eps * abs(float(mu.mid())), rel=1e-12)


def test_partial_sweeps_arrive_after_the_gradients_and_after_each_reference() -> None:
    partials = []
    sweep = jitter_sweep(
        problem_data(WELL), X, solvers=("solve",), jitters=(1e-1, 1e-4), on_partial=partials.append
    )
    assert len(partials) == 3
    assert all(row.digits is None and row.grad is not None for row in partials[0].rows)
    assert partials[1].bias_jitter == 1e-1 and partials[2].bias_jitter == 1e-4
    assert partials[-1].rows == sweep.rows and partials[-1].best == sweep.best


def test_the_references_share_one_budget() -> None:
    data = problem_data(Problem(n=200))
    grid = (0.0, *(10.0**-k for k in range(16, -1, -1)))
    start = time.process_time()
    references = ReferenceSolver(data, 0.5).evaluate_jitters(grid, X)
    elapsed = time.process_time() - start
    late = [j for j, r in references.items() if r.status != "exact"]
    assert late and all("out of time" in references[j].reason for j in late if j > 0)
    assert elapsed < 2.0  # the CPU-time budget, plus at most one step's overrun


def test_a_sweep_whose_budget_resolves_nothing_says_so_in_words() -> None:
    """sweep jitter --budget 5e-324 printed "the reference at none resolved"."""
    from gradviz.core.analysis.sweep import JitterSweep, SweepRow
    from gradviz.core.io.sweep_export import jitter_table

    row = SweepRow(1e-6, "solve", "float64", -0.73, None, None, None, None, 6.0)
    sweep = JitterSweep(ILL, X, (row,), (), None, {"float32": None, "float64": None}, 0.0)
    table = jitter_table(sweep)
    assert "jitter-free answer: none: no jitter's reference was fixed within the budget" in table
    assert "none resolved" not in table and "best float64: no digits" in table
