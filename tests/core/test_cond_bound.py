"""The certified lower bound on cond(K + jitter I) and the ladder steps it lets the
reference skip, checked against computations written here: K from the issue's kernel
formulas (spec.arb_kernel), its certified inverse at a high precision for an upper bound
on the true condition number, numpy's cond where float64 resolves it, and plain certified
solves at the skipped precisions."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from spec import arb_kernel

from gradviz.core.numerics.cond_bound import cond_lower_bound_bits
from gradviz.core.numerics.reference import PRECISIONS, SKIP_MARGIN_BITS, ReferenceSolver
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem
from gradviz.core.problem.vector import Vector


def plain_matrix(problem: Problem, bits: int) -> arb_mat:
    """K + jitter I at ``bits`` from the issue's formulas, every entry computed."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        p = [arb(v) for v in problem_data(problem).grid.tolist()]
        rows = [[arb_kernel(problem, a - b) for b in p] for a in p]
        for i in range(len(p)):
            rows[i][i] += arb(problem.jitter)
        return arb_mat(rows)
    finally:
        ctx.prec = saved


def plain_solve_certifies(problem: Problem, bits: int) -> bool:
    """Whether one certified solve of K + jitter I against y succeeds at ``bits``."""
    matrix = plain_matrix(problem, bits)
    saved = ctx.prec
    ctx.prec = bits
    try:
        matrix.solve(arb_mat([[v] for v in problem_data(problem).y.tolist()]))
    except ZeroDivisionError:
        return False
    finally:
        ctx.prec = saved
    return True


def cond_upper_bits(problem: Problem, bits: int) -> float:
    """log2 of ||A||_F ||A^-1||_F >= cond_2(A), from a certified inverse at ``bits``."""
    matrix = plain_matrix(problem, bits)
    saved = ctx.prec
    ctx.prec = bits
    try:
        inverse = matrix.inv()
        n = matrix.nrows()

        def frobenius(m: arb_mat) -> arb:
            return sum((m[i, j] ** 2 for i in range(n) for j in range(n)), arb(0)).sqrt()

        upper = (frobenius(matrix) * frobenius(inverse)).upper()
        return float((upper.log() / arb(2).log()).upper().mid())
    finally:
        ctx.prec = saved


def bound(problem: Problem, target: int) -> float:
    return cond_lower_bound_bits(
        problem_data(problem).grid.tolist(), problem.covariance, problem.jitter, target
    )


# cond from ~10 (numpy resolves it) to beyond 2^500 (the seed-like rows): every kernel.
BOUNDED = [
    Problem(n=12, domain=(0.0, 10.0), length_scale=0.7),
    Problem(n=20, domain=(-1.0, 1.0), kernel="matern52", length_scale=0.3),
    Problem(n=30, domain=(-2.0, 2.0), kernel="rational-quadratic", alpha=2.0),
    Problem(n=24, domain=(0.0, 3.0), kernel="periodic", period=7.0, length_scale=2.0),
    Problem(n=25, domain=(-1.0, 1.0), length_scale=0.7, jitter=1e-9),
    Problem(n=40, domain=(-3.15, -2.65), length_scale=1.5),
]


@pytest.mark.parametrize("problem", BOUNDED, ids=Problem.summary)
def test_bound_never_exceeds_the_true_condition_number(problem: Problem) -> None:
    found = bound(problem, 600)
    assert found > 0
    assert found <= cond_upper_bits(problem, 4096)
    data = problem_data(problem)
    matrix = data.kernel + problem.jitter * np.eye(problem.n)
    numpy_cond = float(np.linalg.cond(matrix))
    if numpy_cond < 1e10:  # float64 resolves it: the bound is below it, and not far
        assert 2.0**found <= numpy_cond * (1 + 1e-6)


def test_bound_of_the_seed_is_far_beyond_512_bits_and_cheap() -> None:
    """The seed's K: past 2^(512 + margin) from a window of ~128 of its 300 points."""
    grid = problem_data(Problem()).grid.tolist()
    start = time.process_time()
    found = cond_lower_bound_bits(grid, Problem().covariance, 0.0, 512 + SKIP_MARGIN_BITS)
    assert found >= 512 + SKIP_MARGIN_BITS
    assert time.process_time() - start < 1.0  # a 512-bit solve of this K takes ~2 s


def test_repeated_points_make_k_exactly_singular() -> None:
    x = [0.5, -1.0, 2.0, 0.5, 1.25]
    points = Vector.of(np.array(x))
    y = Vector.of(np.arange(5) * 0.1)
    assert bound(Problem(points=points, y=y), 128) == math.inf
    jittered = Problem(points=points, y=y, jitter=1e-6)
    # lambda_min(K + jI) = j exactly (v = e_i - e_j): cond >= (k(0) + j) / j ~ 2^19.9.
    assert bound(jittered, 128) == math.floor(math.log2((1 + 1e-6) / 1e-6))
    solver = ReferenceSolver(problem_data(Problem(points=points, y=y)))
    reference = solver.evaluate(0.0)
    assert reference.status == "undetermined"
    assert reference.reason is not None
    assert reference.reason.startswith("K is singular: a repeated point gives it two equal rows")
    assert reference.limit is not None  # K + 1e-12 I is fine
    exact = ReferenceSolver(problem_data(jittered)).evaluate(0.0)
    assert exact.status == "exact" and exact.precision_bits == 128


SKIPPING = [
    Problem(n=40, domain=(-3.15, -2.65), length_scale=1.5),
    Problem(n=40, domain=(-2.3, -1.3), kernel="rational-quadratic", length_scale=3.0),
    Problem(n=40, domain=(0.0, 0.5), kernel="periodic", period=10.0, length_scale=2.0),
]


@pytest.mark.parametrize("problem", SKIPPING, ids=Problem.summary)
def test_every_skipped_step_fails_when_tried(problem: Problem) -> None:
    messages: list[str] = []
    solver = ReferenceSolver(problem_data(problem), on_progress=messages.append)
    solver.solve()
    skipped = [bits for bits in PRECISIONS if any(f"beyond {bits} bits" in m for m in messages)]
    assert skipped, messages
    for bits in skipped:
        assert not plain_solve_certifies(problem, bits), bits


def random_problem(rng: random.Random) -> Problem:
    lo = rng.uniform(-5.0, 0.0)
    return Problem(
        n=rng.choice([10, 15, 20, 30, 40]),
        domain=(lo, lo + rng.choice([0.3, 0.5, 1.0, 2.0, 5.0])),
        length_scale=rng.choice([0.1, 0.3, 0.7, 1.5, 3.0]),
        kernel=rng.choice(["rbf", "matern32", "matern52", "rational-quadratic"]),
        seed=rng.randint(1, 1000),
    )


@pytest.mark.parametrize("seed", range(4))
def test_no_step_that_certifies_is_skipped(seed: int) -> None:
    """Random small problems: wherever a plain certified solve succeeds at p bits, the
    bound stays below p + SKIP_MARGIN_BITS (the reference would have tried it)."""
    rng = random.Random(seed)
    tried = 0
    for _ in range(12):
        problem = random_problem(rng)
        for bits in PRECISIONS[:3]:
            if plain_solve_certifies(problem, bits):
                assert bound(problem, bits + SKIP_MARGIN_BITS) < bits + SKIP_MARGIN_BITS
                tried += 1
                break
    assert tried >= 6  # most of them certify somewhere below 1024 bits
