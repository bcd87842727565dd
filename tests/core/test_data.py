"""The sample data must be the seed's, bit for bit, without touching numpy's global RNG."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from gradviz.core.problem.data import data_from_sample, problem_data
from gradviz.core.problem.spec import Problem


@pytest.fixture
def global_rng() -> Iterator[None]:
    """Tests here seed numpy's global RNG as the seed does; leave it as it was found."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def seed_sample(
    n: int, domain: tuple[float, float], length_scale: float, seed: int, mean: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seed page's own code (Stack Overflow 51006474), generalised over its constants."""
    point = np.reshape(np.linspace(domain[0], domain[1], n), (n, 1))
    kernel_matrix_np = np.exp(-((point - np.transpose(point)) ** 2) / (2 * length_scale**2))
    covariance = kernel_matrix_np
    np.random.seed(seed)
    with warnings.catch_warnings():
        # The seed's K is numerically indefinite; numpy only warns, the stream is unchanged.
        warnings.simplefilter("ignore", RuntimeWarning)
        sampled_funcs = np.random.multivariate_normal(mean * np.ones(len(point)), covariance)
    return point[:, 0], kernel_matrix_np, sampled_funcs


def test_seed_sample_is_bit_for_bit(global_rng: None) -> None:
    point = np.reshape(np.linspace(-5.0, 5.0, 300), (300, 1))
    kernel_matrix_np = np.exp(-((point - np.transpose(point)) ** 2) / (2 * 1.5**2))
    np.random.seed(100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.random.multivariate_normal(np.ones(len(point)), kernel_matrix_np)
    data = problem_data(Problem())
    assert data.y.shape == (300,)
    assert np.array_equal(data.y, expected)
    assert np.array_equal(data.grid, point[:, 0])
    assert np.array_equal(data.kernel, kernel_matrix_np)


@pytest.mark.parametrize(
    "problem",
    [
        Problem(n=20, jitter=1e-6, solver="cholesky"),
        Problem(n=50, domain=(-2.0, 3.0), length_scale=0.7, seed=7, mean=-2.0),
        Problem(n=2, domain=(0.0, 1e-3), length_scale=1e6, seed=2**32 - 1, mean=0.0),
        Problem(n=120, domain=(10.0, 30.0), length_scale=0.3, seed=0, mean=5.5),
    ],
    ids=Problem.summary,
)
def test_other_problems_follow_the_seed_recipe(problem: Problem, global_rng: None) -> None:
    grid, kernel, y = seed_sample(
        problem.n, problem.domain, problem.length_scale, problem.seed, problem.mean
    )
    data = problem_data(problem)
    assert np.array_equal(data.grid, grid)
    assert np.array_equal(data.kernel, kernel)
    assert np.array_equal(data.y, y)
    assert data.grid.dtype == data.kernel.dtype == data.y.dtype == np.float64


def test_data_does_not_touch_the_global_rng(global_rng: None) -> None:
    np.random.seed(12345)
    before = np.random.get_state()
    # A problem no other test uses, so the sample is really drawn here, not taken from a cache.
    problem_data(Problem(n=37, seed=424242, length_scale=0.9, mean=3.25))
    after = np.random.get_state()
    assert before[0] == after[0]
    assert np.array_equal(before[1], after[1])
    assert before[2:] == after[2:]
    np.random.seed(12345)
    expected_next = np.random.random(3)
    np.random.set_state(after)
    assert np.array_equal(np.random.random(3), expected_next)


def test_arrays_are_read_only() -> None:
    data = problem_data(Problem(n=20))
    for array in (data.grid, data.kernel, data.y):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        data.kernel[1, 0] = 0.5
    assert data.kernel[1, 0] != 0.5


@pytest.mark.parametrize("problem", [Problem(), Problem(n=40, length_scale=0.4, seed=3)])
def test_kernel_is_symmetric_with_unit_diagonal(problem: Problem) -> None:
    kernel = problem_data(problem).kernel
    assert kernel.shape == (problem.n, problem.n)
    assert np.array_equal(kernel, kernel.T)
    assert np.array_equal(np.diag(kernel), np.ones(problem.n))
    assert np.all((kernel > 0) & (kernel <= 1))
    rng = np.random.default_rng(20240617)
    i, j = rng.integers(0, problem.n, size=2)
    p = np.linspace(*problem.domain, problem.n)
    assert kernel[i, j] == pytest.approx(
        np.exp(-((p[i] - p[j]) ** 2) / (2 * problem.length_scale**2)), rel=1e-15
    )


def test_jitter_and_solver_do_not_change_the_sample() -> None:
    base = Problem(n=30, seed=11)
    data = problem_data(base)
    assert data.problem == base
    for other in (base.replace(jitter=1e-3), base.replace(solver="cholesky", jitter=1e-6)):
        again = problem_data(other)
        assert again.problem == other
        np.testing.assert_array_equal(again.y, data.y)
        np.testing.assert_array_equal(again.kernel, data.kernel)


def test_data_from_sample_rebuilds_grid_and_kernel_around_the_given_y() -> None:
    problem = Problem(n=25, seed=5, length_scale=0.7, domain=(-2.0, 3.0))
    y = np.random.default_rng(8).normal(size=problem.n)
    data = data_from_sample(problem, y)
    assert data.problem == problem
    np.testing.assert_array_equal(data.y, y)
    grid = np.linspace(-2.0, 3.0, 25)
    np.testing.assert_array_equal(data.grid, grid)
    kernel = np.exp(-((grid[:, None] - grid[None, :]) ** 2) / (2 * 0.7**2))
    np.testing.assert_array_equal(data.kernel, kernel)
    y[0] += 1.0  # the record holds its own copy
    assert data.y[0] != y[0]
    assert not (data.y.flags.writeable or data.grid.flags.writeable or data.kernel.flags.writeable)


def test_data_from_sample_leaves_the_drawn_sample_alone(global_rng: None) -> None:
    problem = Problem(n=26, seed=6)
    data_from_sample(problem, np.zeros(problem.n))
    _, _, drawn = seed_sample(26, problem.domain, problem.length_scale, 6, problem.mean)
    np.testing.assert_array_equal(problem_data(problem).y, drawn)


@pytest.mark.parametrize("shape", [(24,), (25, 1), (1, 25), ()])
def test_data_from_sample_refuses_a_sample_of_another_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="expected"):
        data_from_sample(Problem(n=25), np.zeros(shape))


@pytest.mark.parametrize(
    "change",
    [{"n": 31}, {"seed": 12}, {"mean": 2.0}, {"length_scale": 1.0}, {"domain": (-4.0, 5.0)}],
    ids=repr,
)
def test_cache_separates_sample_fields(change: dict[str, object]) -> None:
    base = Problem(n=30, seed=11)
    data = problem_data(base)
    other = problem_data(base.replace(**change))
    assert other.y.shape != data.y.shape or not np.array_equal(other.y, data.y)
