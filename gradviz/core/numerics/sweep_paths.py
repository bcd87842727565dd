"""The ``function`` path's derivative at one probe for many jitters, traced once per solver
and dtype.

``PathSet(data_of(problem with jitter j), dtype).evaluate("function", x)`` gives the same
number but traces two graphs per jitter (~0.1 s each at n = 300, 20 s for a sweep of 34
jitters, 3 solvers and 2 dtypes). Here the jitter is an input of the traced function that
prepares the quantity's program (:mod:`gradviz.core.numerics.programs`)::

    K_j = k(p - p^T) + j I                                    # [n, n], j a tensor
    the slopes in x: K_j's factor, then the value at x by a tape, as the path does
    an LML quantity: K_j(theta) at the probe theta, its LML and d LML/dtheta by a tape

with the path's own pieces, in the path's order of operations, and the same two-graph split
(prepare, then evaluate), so the numbers agree with the ``function`` path bit for bit
(tests/core/test_sweep.py checks it). The base kernel stays a graph constant, folded by
grappler as in the path; adding ``j I`` is exact in either place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradviz.core.numerics.paths import PathSet
from gradviz.core.numerics.programs import non_finite_failure, program
from gradviz.core.numerics.results import DType, FailureKind, JitterGradient
from gradviz.core.numerics.tf_ops import (
    TF_DTYPES,
    PathError,
    Tensor,
    const,
    path_error,
    pivots_checked,
    tf,
    tf_function,
    unrepresentable,
)
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.spec import Solver


class JitterFunction:
    """The ``function`` path of one problem (its jitter ignored), solver and dtype, with
    the jitter as an input: each jitter costs one preparation, no tracing. For
    lml-jitter the jitter is the quantity's own probe: there the probe is the jitter."""

    def __init__(self, data: ProblemData, solver: Solver, dtype: DType) -> None:
        self._problem = data.problem.replace(solver=solver)
        self._data = data
        self._dtype = dtype
        self._along_jitter = data.problem.measured.theta == "jitter"
        tf_dtype = TF_DTYPES[dtype]
        model = program(
            ProblemData(self._problem, data.grid, data.kernel, data.y), dtype, eager=False
        )

        @tf_function(input_signature=[tf.TensorSpec([], tf_dtype)])
        def prepare(jitter: Tensor) -> tuple[Tensor, ...]:
            return model.prepare(jitter)

        outputs = prepare.get_concrete_function().structured_outputs
        specs = [tf.TensorSpec(t.shape, t.dtype) for t in outputs]

        @tf_function(
            input_signature=[tf.TensorSpec([None] if model.batched else [], tf_dtype), *specs]
        )
        def gradient(ts: Tensor, *prepared: Tensor) -> Tensor:
            with tf.GradientTape() as tape:
                tape.watch(ts)
                value = model.values(prepared, ts)  # [m] or a scalar
            return tape.gradient(value, ts)

        self._model = model
        self._prepare = prepare
        self._gradient = gradient

    def gradient(self, jitter: float, x: float) -> JitterGradient:
        """The derivative at x for K + jitter I; a failed factor or a non-finite result is
        a failure."""
        tf_dtype = TF_DTYPES[self._dtype]
        problem = self._problem.replace(jitter=jitter)
        overflow = unrepresentable(self._data, self._dtype, jitter)
        if overflow is not None:
            return JitterGradient(jitter, None, FailureKind.NON_FINITE, overflow)
        probe = jitter if self._along_jitter else x
        try:
            with pivots_checked(problem.solver):
                prepared = self._prepare(const(jitter, tf_dtype))
            self._model.check(prepared)
            ts = const(np.array([probe]) if self._model.batched else probe, tf_dtype)
            grad = float(np.reshape(self._gradient(ts, *prepared).numpy(), -1)[0])
        except (PathError, tf.errors.OpError, ValueError) as error:
            failure = path_error(error)
            return JitterGradient(jitter, None, failure.kind, str(failure))
        if not math.isfinite(grad):
            known = non_finite_failure(problem, self._dtype)
            if known is not None:
                return JitterGradient(jitter, None, known.kind, str(known))
            slope = problem.measured.slope
            reason = f"non-finite result in {self._dtype} ({slope} = {grad})"
            return JitterGradient(jitter, None, FailureKind.NON_FINITE, reason)
        return JitterGradient(jitter, grad)

    def gradients(self, jitters: Sequence[float], x: float) -> list[JitterGradient]:
        return [self.gradient(jitter, x) for jitter in jitters]


def function_values(data: ProblemData, dtype: DType, ts: np.ndarray) -> np.ndarray:
    """The quantity's value by the ``function`` path at every probe, exact in ``dtype``
    (float64 holds every float32); NaN everywhere when the problem's factor fails. [m]"""
    path_set = PathSet(data, dtype)
    try:
        values, _ = path_set.curves(ts)
    except PathError:
        return np.full(ts.shape, np.nan)
    finally:
        path_set.close()
    return values
