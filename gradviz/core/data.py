"""Grid, kernel matrix and the seed-faithful GP sample, in numpy float64.

Everything here reproduces Stack Overflow 51006474 bit for bit:

    p    = linspace(lo, hi, n)                              # [n]
    K_ij = exp(-(p_i - p_j)^2 / (2 l^2))                    # [n, n]
    y    = RandomState(seed).multivariate_normal(mean * ones(n), K)   # [n]

``RandomState(seed)`` draws the same stream as the seed's global
``np.random.seed(seed)`` without touching global state. numpy draws the sample
through an SVD of K, so ``y`` depends on the machine's LAPACK: on another CPU
the same seed can give a slightly different ``y`` (and a different limit).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gradviz.core.problem import Problem


@dataclass(frozen=True, eq=False)
class ProblemData:
    """The sampled data of one problem; arrays are read-only."""

    grid: np.ndarray  # [n]
    kernel: np.ndarray  # [n, n], without jitter
    y: np.ndarray  # [n]


def rbf(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
    """``exp(-(a_i - b_j)^2 / (2 l^2))`` with the seed's order of operations. [len(a), len(b)]"""
    return np.exp(-((a[:, None] - b[None, :]) ** 2) / (2 * length_scale**2))


@functools.lru_cache(maxsize=2)
def _sample(
    n: int, domain: tuple[float, float], length_scale: float, seed: int, mean: float
) -> ProblemData:
    grid = np.linspace(domain[0], domain[1], n)
    kernel = rbf(grid, grid, length_scale)
    # check_valid="ignore": K is numerically indefinite for most problems worth
    # studying; the check only warns and does not change the stream.
    y = np.random.RandomState(seed).multivariate_normal(
        mean * np.ones(n), kernel, check_valid="ignore"
    )
    for array in (grid, kernel, y):
        array.setflags(write=False)
    return ProblemData(grid=grid, kernel=kernel, y=y)


def problem_data(problem: Problem) -> ProblemData:
    """Data of ``problem``; cached on the fields that change it (not jitter or solver)."""
    return _sample(problem.n, problem.domain, problem.length_scale, problem.seed, problem.mean)
