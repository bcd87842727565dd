"""The ``function`` path's gradient at one x for many jitters, traced once per solver and dtype.

``PathSet(data_of(problem with jitter j), dtype).evaluate("function", x)`` gives the same
number but traces two graphs per jitter (~0.1 s each at n = 300, 20 s for a sweep of 34
jitters, 3 solvers and 2 dtypes). Here the jitter is an input of one traced function:

    K_j   = k(p - p^T) + j I                                    # [n, n], j a tensor
    W     = K_j^-1 (inverse) or alpha = K_j^-1 y (solve, cholesky)
    mu(x) = (k(x) @ K_j^-1) @ y  or  k(x) @ alpha,  mu'(x) by a tape, as the path does

with the path's own pieces, in the path's order of operations, and the same two-graph split
(factor, then evaluation), so the numbers agree with the ``function`` path bit for bit
(tests/core/test_sweep.py checks it). The base kernel stays a graph constant, folded by
grappler as in the path; adding ``j I`` is exact in either place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradviz.core.numerics.paths import (
    TF_DTYPES,
    PathError,
    PathSet,
    Tensor,
    _apply,
    _check_factor,
    _const,
    _factor,
    _grid_column,
    _kernel_form,
    _kernel_matrix,
    _kernel_vector,
    _pivots_checked,
    path_error,
    tf,
    unrepresentable,
)
from gradviz.core.numerics.results import DType, FailureKind, JitterGradient
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.spec import Solver


class JitterFunction:
    """The ``function`` path of one problem (its jitter ignored), solver and dtype, with
    the jitter as an input: each jitter costs one factorisation, no tracing."""

    def __init__(self, data: ProblemData, solver: Solver, dtype: DType) -> None:
        self._problem = data.problem.replace(jitter=0.0, solver=solver)
        self._data = data
        self._dtype = dtype
        problem, tf_dtype = self._problem, TF_DTYPES[dtype]
        y_np = data.y
        form = _kernel_form(problem)

        @tf.function(input_signature=[tf.TensorSpec([], tf_dtype)])
        def factor(jitter: Tensor) -> tuple[Tensor, Tensor, Tensor]:
            point = _grid_column(problem, tf_dtype)  # [n, 1]
            y = tf.convert_to_tensor(y_np, dtype=tf_dtype)[:, None]  # [n, 1]
            kernel = _kernel_matrix(point, problem, form)  # [n, n], no jitter
            kernel += jitter * tf.eye(problem.n, dtype=tf_dtype)
            return tf.transpose(point), _factor(kernel, y, solver), y

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf_dtype),
                tf.TensorSpec([1, problem.n], tf_dtype),
                tf.TensorSpec([problem.n, problem.n if solver == "inverse" else 1], tf_dtype),
                tf.TensorSpec([problem.n, 1], tf_dtype),
            ]
        )
        def gradient(xs: Tensor, row: Tensor, weights: Tensor, y: Tensor) -> Tensor:
            with tf.GradientTape() as tape:
                tape.watch(xs)
                mu = _apply(_kernel_vector(xs[:, None], row, form), weights, y, solver)
                mu = mu[:, 0]  # [m]
            return tape.gradient(mu, xs)  # [m]

        self._factor = factor
        self._gradient = gradient

    def gradient(self, jitter: float, x: float) -> JitterGradient:
        """d mu/dx at x for K + jitter I; a failed factor or a non-finite result is a failure."""
        tf_dtype = TF_DTYPES[self._dtype]
        problem = self._problem.replace(jitter=jitter)
        overflow = unrepresentable(self._data, self._dtype, jitter)
        if overflow is not None:
            return JitterGradient(jitter, None, FailureKind.NON_FINITE, overflow)
        try:
            with _pivots_checked(problem.solver):
                row, weights, y = self._factor(_const(jitter, tf_dtype))
            _check_factor(weights, problem, self._dtype)
            grad = float(
                self._gradient(_const(np.array([x]), tf_dtype), row, weights, y).numpy()[0]
            )
        except (PathError, tf.errors.OpError, ValueError) as error:
            failure = path_error(error)
            return JitterGradient(jitter, None, failure.kind, str(failure))
        if not math.isfinite(grad):
            reason = f"non-finite result in {self._dtype} (d mu/dx = {grad})"
            return JitterGradient(jitter, None, FailureKind.NON_FINITE, reason)
        return JitterGradient(jitter, grad)

    def gradients(self, jitters: Sequence[float], x: float) -> list[JitterGradient]:
        return [self.gradient(jitter, x) for jitter in jitters]


def function_mu(data: ProblemData, dtype: DType, xs: np.ndarray) -> np.ndarray:
    """mu of the ``function`` path at every x in one batched call, exact in ``dtype``
    (float64 holds every float32); NaN everywhere when the problem's factor fails. [m]"""
    path_set = PathSet(data, dtype)
    try:
        mu, _ = path_set.curves(xs)
    except PathError:
        return np.full(xs.shape, np.nan)
    finally:
        path_set.close()
    return mu
