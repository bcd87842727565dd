"""Measured advice: its decisions on sweeps written out here, then on real problems, whose
digits are recounted against python-flint ball arithmetic written in tests/spec.py."""

from __future__ import annotations

import math

import pytest
from spec import DTYPES, flint_reference

from gradviz.core.analysis.advice import (
    SAME_DIGITS,
    advice_from,
    coarse_jitters,
    jitter_words,
    measure_advice,
    neighbours,
)
from gradviz.core.analysis.headline import advice_sentences
from gradviz.core.analysis.sweep import JitterSweep, SweepRow, jitter_sweep, log_grid
from gradviz.core.numerics.results import Ball, FailureKind, Reference
from gradviz.core.numerics.sweep_paths import JitterFunction
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

SOLVERS = ("inverse", "solve", "cholesky")
FAILED = FailureKind.CHOLESKY_NOT_PD


def sweep(digits: dict[tuple[str, str, float], float | None], truth: float | None = 1e-16):
    """A sweep whose rows carry the given digits (None: a failed Cholesky) at jitters
    0, 1e-13, 1e-9 and 1e-4 for every solver and dtype; unlisted cells keep 1 digit."""
    rows = []
    for dtype in DTYPES:
        for solver in SOLVERS:
            for jitter in (0.0, 1e-13, 1e-9, 1e-4):
                value = digits.get((dtype, solver, jitter), 1.0)
                rows.append(
                    SweepRow(
                        jitter=jitter,
                        solver=solver,
                        dtype=dtype,
                        grad=None if value is None else 1.0,
                        failure_kind=FAILED if value is None else None,
                        rounding_digits=value,
                        bias_digits=value,
                        digits=value,
                        predicted_digits=0.0,
                    )
                )
    references = () if truth is None else ((truth, Reference("exact", grad=Ball(-0.7, 1e-17))),)
    return JitterSweep(Problem(), 2.0, tuple(rows), references, truth, {}, 1.0)


def test_the_seed_pattern_names_the_inverse_and_advises_solve() -> None:
    """The issue's table: as written ~0 digits, solve at jitter 0 3.4 / 5.7, the most
    measured float32 solve 1e-4 (4.8) and float64 solve 1e-13 (7.4)."""
    measured = sweep(
        {
            ("float32", "inverse", 0.0): 0.0,
            ("float64", "inverse", 0.0): 0.3,
            ("float32", "solve", 0.0): 3.4,
            ("float64", "solve", 0.0): 5.7,
            ("float32", "solve", 1e-4): 4.8,
            ("float64", "solve", 1e-13): 7.4,
            ("float64", "inverse", 1e-9): 5.5,
        }
    )
    advice = advice_from(measured, "inverse", 0.0)
    assert advice.cause.change == "solver"
    assert advice.cause.gain == pytest.approx(5.4)
    assert advice.as_given["float64"].digits == 0.3
    assert (advice.advised["float64"].solver, advice.advised["float64"].jitter) == ("solve", 1e-13)
    assert (advice.advised["float32"].solver, advice.advised["float32"].jitter) == ("solve", 1e-4)
    assert advice.same_jitter["float64"].solver == "solve"
    words = advice_sentences(advice)
    assert "The culprit is the explicit inverse, not the dtype" in words
    assert "solve at the same jitter keeps float64 5.7 digits and float32 3.4 digits" in words
    assert "float64 7.4 digits (solve, jitter 1e-13)" in words
    assert "float32 4.8 digits (solve, jitter 1e-4)" in words
    assert "add jitter >=" not in words


def test_a_problem_already_at_its_best_gets_no_advice() -> None:
    measured = sweep(
        {
            ("float64", "solve", 1e-9): 7.0,
            ("float64", "cholesky", 1e-9): 7.2,  # better, but within SAME_DIGITS
            ("float32", "solve", 1e-9): 3.0,
        }
    )
    advice = advice_from(measured, "solve", 1e-9)
    assert advice.cause.change == "none" and advice.cause.gain is None
    for dtype in DTYPES:
        assert advice.advised[dtype] == advice.as_given[dtype]
        assert not advice.changes(dtype)
    assert "nothing to change" in advice_sentences(advice)


def test_only_a_jitter_helps() -> None:
    measured = sweep({("float64", "solve", 0.0): 2.0, ("float64", "solve", 1e-9): 7.0})
    advice = advice_from(measured, "solve", 0.0)
    assert advice.cause.change == "jitter" and advice.cause.gain == pytest.approx(5.0)
    assert advice.cause.text.startswith("Changing the jitter gains the most")
    assert "jitter 1e-9 with the same solver keeps 7.0 digits" in advice.cause.text


def test_a_failing_cholesky_as_given_is_reported_and_never_advised() -> None:
    failing = {(dtype, "cholesky", 0.0): None for dtype in DTYPES}
    measured = sweep(failing | {("float64", "solve", 0.0): 6.0, ("float32", "solve", 0.0): 3.0})
    advice = advice_from(measured, "cholesky", 0.0)
    for dtype in DTYPES:
        given = advice.as_given[dtype]
        assert given.digits is None and given.failure_kind == FAILED
        assert advice.advised[dtype].solver == "solve"
    assert advice.cause.change == "solver"
    assert "float64 fails (not positive definite)" in advice.cause.text


def test_float64_as_the_fix_is_named_when_only_the_dtype_helps() -> None:
    measured = sweep({("float64", "cholesky", 1e-9): 7.0, ("float32", "cholesky", 1e-9): None})
    advice = advice_from(measured, "cholesky", 1e-9)
    assert advice.cause.change == "dtype"
    assert "float64 keeps 7.0 digits where float32 fails" in advice.cause.text


def test_without_any_reference_nothing_is_claimed() -> None:
    advice = advice_from(sweep({}, truth=None), "inverse", 0.0)
    assert advice.cause.change == "none"
    assert "could not be measured" in advice.cause.text


def test_the_grid_is_one_jitter_a_decade_with_the_problems_own_and_half_decade_refinement():
    grid = coarse_jitters(3e-7)
    assert grid[0] == 0.0 and 3e-7 in grid and 1e-16 in grid and 1.0 in grid
    assert len(grid) == 1 + 17 + 1
    fine = set(log_grid((-17, 1), 2))
    assert set(neighbours(1e-4)) == {3.16e-5, 3.16e-4} <= fine
    assert neighbours(0.0) == ()
    assert jitter_words(3.16e-4) == "3.16e-4" and jitter_words(1e-13) == "1e-13"


# --- real problems: n = 40, TensorFlow and ball arithmetic -------------------------------

X = 0.7
PROBLEMS = {
    # the seed's kernel on 40 points, as the seed computes it: the inverse is the culprit
    "inverse": (Problem(n=40, seed=11), "solver"),
    # a solve without jitter: only a (tiny) jitter gains digits
    "jitter": (Problem(n=40, seed=3, solver="solve"), "jitter"),
    # Cholesky fails as given in both dtypes
    "cholesky fails": (Problem(n=40, seed=3, solver="cholesky"), None),
    # already configured as well as measured here
    "well configured": (Problem(n=40, seed=3, solver="solve", jitter=3.16e-13), "none"),
}


def spec_digits(value: float, truth: float) -> float:
    """-log10 |value - truth| / |truth|, clamped to 0..17 (written out, not imported)."""
    error = abs(value - truth) / abs(truth)
    return 17.0 if error == 0 else min(17.0, max(0.0, -math.log10(error)))


@pytest.fixture(scope="module")
def advices():
    return {
        name: measure_advice(problem_data(problem), X, budget_s=60)
        for name, (problem, _) in PROBLEMS.items()
    }


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", PROBLEMS)
def test_real_advice_is_measured_never_worse_than_as_given_and_honest(name, advices) -> None:
    problem, cause = PROBLEMS[name]
    advice = advices[name]
    if cause is not None:
        assert advice.cause.change == cause, advice.cause.text
    assert advice.truth_jitter is not None
    if problem.solver == "cholesky" and problem.jitter == 0:
        assert {advice.as_given[d].failure_kind for d in DTYPES} == {FAILED}
    truth = float(flint_reference(problem, X, advice.truth_jitter, 1024)[1].mid())
    for dtype in DTYPES:
        given, advised = advice.as_given[dtype], advice.advised[dtype]
        assert (given.solver, given.jitter) == (problem.solver, problem.jitter)
        assert advised is not None and advised.digits is not None
        assert advised.digits >= (given.digits or 0.0)
        if advice.changes(dtype):
            assert advised.digits > (given.digits or 0.0) + SAME_DIGITS
        # The claimed digits, recounted: the function path at the advised point against
        # independent 1024-bit ball arithmetic (bias and rounding together).
        function = JitterFunction(problem_data(problem), advised.solver, dtype)
        grad = function.gradient(advised.jitter, X).grad
        assert spec_digits(grad, truth) == pytest.approx(advised.digits, abs=0.3)


@pytest.mark.timeout(240)
def test_advice_digits_are_the_jitter_sweeps_at_the_same_point(advices) -> None:
    problem, _ = PROBLEMS["inverse"]
    full = jitter_sweep(problem_data(problem), X, budget_s=60)
    rows = {(row.dtype, row.solver, row.jitter): row.digits for row in full.rows}
    advice = advices["inverse"]
    assert advice.truth_jitter == full.bias_jitter
    for dtype in DTYPES:
        for measured in (advice.as_given[dtype], advice.advised[dtype]):
            assert rows[(dtype, measured.solver, measured.jitter)] == pytest.approx(
                measured.digits, abs=1e-12
            )
        best = full.best[dtype]
        assert advice.best[dtype].digits == pytest.approx(best.digits, abs=SAME_DIGITS)
