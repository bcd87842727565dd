"""Each quantity as a TensorFlow program of its probe t (x, or an LML quantity's theta).

With A = K + jitter I, k(x) the kernel row of x and alpha = A^-1 y::

    mean      mu(x)   = k(x) A^-1 y                 closed form  dk(x) alpha
    variance  var(x)  = k(x, x) - k(x) A^-1 k(x)^T  closed form  -2 dk(x) A^-1 k(x)^T
    LML       LML(theta) = -1/2 y^T A^-1 y - 1/2 log det A - n/2 log 2 pi
                     closed form 1/2 alpha^T (dA/dtheta) alpha - 1/2 tr(A^-1 dA/dtheta)

(k(x, x) is the kernel at distance 0, S for every stationary kernel, so var's slope has
no term of its own; dk is the kernel's slope in its first argument.) A program splits a
quantity into what does not depend on t (:meth:`Program.prepare`: the factor of A for the
slopes in x, only the data for an LML quantity, whose A changes with theta) and
:meth:`Program.value` at t, so every path (:mod:`gradviz.core.numerics.paths`) builds
the same operations in the same order: eagerly, in a ``tf.function`` or in the seed's v1
graph. The problem's solver decides how A is used:

- ``inverse``: A^-1 explicitly, the seed's ``(k(x) @ A^-1) @ y`` (and ``(y^T A^-1) y``),
  log det A from ``slogdet`` (an LU);
- ``solve``: ``tf.linalg.solve`` (an LU) for every product with A^-1, log det from
  ``slogdet``;
- ``cholesky``: A = L L^T, ``cholesky_solve`` and triangular solves, log det
  A = 2 sum log diag L.

The mean's program is the seed's expression exactly as gradviz has always computed it, so
its numbers are unchanged bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import ClassVar

from gradviz.core.numerics.results import DType
from gradviz.core.numerics.tf_ops import (
    TF_DTYPES,
    PathError,
    Tensor,
    TFDType,
    apply_factor,
    check_factor,
    const,
    factorize,
    grid_column,
    kernel_form,
    kernel_matrix,
    kernel_vector,
    singular,
    tf,
)
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import Form
from gradviz.core.problem.spec import Problem

Prepared = tuple[Tensor, ...]


class Program(ABC):
    """One quantity of one problem in one dtype, as TensorFlow operations.

    ``eager`` programs keep the kernel's constants as tensors made once (eager code);
    graph programs keep them as Python numbers, which graphs fold as the seed's do.
    ``batched``: :meth:`value` takes a column of probes, each row depending on its own
    probe only (so the gradient of the sum is every row's derivative); otherwise a
    scalar probe only.
    """

    batched: ClassVar[bool] = True

    def __init__(self, data: ProblemData, dtype: DType, eager: bool) -> None:
        self.data = data
        self.problem: Problem = data.problem
        self.dtype = dtype
        self.tf_dtype: TFDType = TF_DTYPES[dtype]
        # The dtype of the kernel's constants as tensors (eager), or None (Python numbers).
        self.constants: TFDType | None = self.tf_dtype if eager else None
        self.form = kernel_form(self.problem.covariance, self.constants)

    def y_column(self) -> Tensor:
        """The seed's y as a column: ``expand_dims(transpose(y), 1)``. [n, 1]"""
        return tf.expand_dims(tf.transpose(const(self.data.y, self.tf_dtype)), axis=1)

    @abstractmethod
    def prepare(self, jitter: Tensor | None = None) -> Prepared:
        """What does not depend on the probe, built in the current context; with
        ``jitter`` (a tensor) in place of the problem's."""

    @abstractmethod
    def check(self, prepared: Prepared) -> None:
        """Raise PathError when the prepared factor is unusable (NaN or Inf in it)."""

    @abstractmethod
    def value(self, prepared: Prepared, t: Tensor) -> Tensor:
        """The quantity at the probe t: a scalar t gives [1, 1], a column [m, 1] gives
        [m, 1] (batched programs only)."""

    @abstractmethod
    def closed_form(self, prepared: Prepared, t: Tensor) -> tuple[Tensor, Tensor]:
        """(value, its derivative in t) from the analytic formula, at a scalar t. [1, 1]"""

    def values(self, prepared: Prepared, ts: Tensor) -> Tensor:
        """:meth:`value` at the probes ``ts``: a batch [m] for a batched program (row j
        depends on ts_j only), else one scalar t, as a vector [m] or a scalar."""
        if self.batched:
            return self.value(prepared, ts[:, None])[:, 0]
        return self.value(prepared, ts)[0, 0]


class MeanProgram(Program):
    """mu(x) = k(x) A^-1 y, the seed's expression: ``(k(x) @ A^-1) @ y`` or k(x) @ alpha."""

    def prepare(self, jitter: Tensor | None = None) -> Prepared:
        y = self.y_column()  # [n, 1]
        point = grid_column(self.problem, self.tf_dtype)  # [n, 1]
        kernel = kernel_matrix(point, self.problem, self.form, jitter)  # [n, n]
        return tf.transpose(point), factorize(kernel, y, self.problem.solver), y

    def check(self, prepared: Prepared) -> None:
        check_factor(prepared[1], self.problem, self.dtype)

    def value(self, prepared: Prepared, t: Tensor) -> Tensor:
        row, factor, y = prepared
        return apply_factor(kernel_vector(t, row, self.form), factor, y, self.problem.solver)

    def closed_form(self, prepared: Prepared, t: Tensor) -> tuple[Tensor, Tensor]:
        """mu'(x) = sum_i dk_i(x) alpha_i (rbf: -(x - p_i) / l^2 k_i(x)), in the solver's
        order: the rows k(x) and dk(x) go through the factor together."""
        row, factor, y = prepared
        weights = kernel_vector(t, row, self.form)  # [1, n]
        slopes = self.form.slope(t - row, weights)  # [1, n]
        both = apply_factor(tf.concat([weights, slopes], 0), factor, y, self.problem.solver)
        return both[0:1], both[1:2]


class VarianceProgram(Program):
    """var(x) = k(x, x) - k(x) A^-1 k(x)^T, row by row for a column of x."""

    def prepare(self, jitter: Tensor | None = None) -> Prepared:
        """The row of points and A's factor: A^-1 (inverse), A itself (solve: an LU per
        evaluation, as ``tf.linalg.solve`` does) or its Cholesky factor L."""
        point = grid_column(self.problem, self.tf_dtype)  # [n, 1]
        kernel = kernel_matrix(point, self.problem, self.form, jitter)  # [n, n]
        solver = self.problem.solver
        if solver == "inverse":
            factor = tf.linalg.inv(kernel)
        elif solver == "cholesky":
            factor = tf.linalg.cholesky(kernel)
        else:
            factor = kernel
        return tf.transpose(point), factor

    def check(self, prepared: Prepared) -> None:
        check_factor(prepared[1], self.problem, self.dtype)

    def _inverse_times(self, factor: Tensor, rows: Tensor) -> Tensor:
        """A^-1 rows^T by the solver (for cholesky L^-1 rows^T: half of it). [n, m]"""
        solver = self.problem.solver
        if solver == "inverse":
            return tf.matmul(factor, rows, transpose_b=True)
        if solver == "solve":
            return tf.linalg.solve(factor, tf.transpose(rows))
        return tf.linalg.triangular_solve(factor, tf.transpose(rows), lower=True)

    def _quadratic(self, factor: Tensor, left: Tensor, right: Tensor) -> Tensor:
        """Row by row ``left_j A^-1 right_j^T``. [m, 1]"""
        if self.problem.solver == "cholesky":
            product = self._inverse_times(factor, left) * self._inverse_times(factor, right)
        else:
            product = tf.transpose(left) * self._inverse_times(factor, right)  # [n, m]
        return tf.transpose(tf.reduce_sum(product, axis=0, keepdims=True))

    def _prior(self, t: Tensor) -> Tensor:
        """k(x, x), the kernel at distance 0, shaped as the result. [m, 1]"""
        return tf.reshape(self.form.value(t - t), (-1, 1))

    def value(self, prepared: Prepared, t: Tensor) -> Tensor:
        row, factor = prepared
        weights = kernel_vector(t, row, self.form)  # [m, n]
        return self._prior(t) - self._quadratic(factor, weights, weights)

    def closed_form(self, prepared: Prepared, t: Tensor) -> tuple[Tensor, Tensor]:
        """var'(x) = -2 dk(x) A^-1 k(x)^T (k(x, x) is constant)."""
        row, factor = prepared
        weights = kernel_vector(t, row, self.form)  # [1, n]
        slopes = self.form.slope(t - row, weights)  # [1, n]
        value = self._prior(t) - self._quadratic(factor, weights, weights)
        return value, -2 * self._quadratic(factor, slopes, weights)


class LmlProgram(Program):
    """LML(theta) with every other field of the problem fixed: A = K(theta) + jitter I is
    built at each theta, so nothing but the data is prepared."""

    batched = False

    def __init__(self, data: ProblemData, dtype: DType, eager: bool) -> None:
        super().__init__(data, dtype, eager)
        theta = self.problem.measured.theta
        assert theta is not None
        self.theta = theta

    def prepare(self, jitter: Tensor | None = None) -> Prepared:
        point = grid_column(self.problem, self.tf_dtype)  # [n, 1]
        base = const(self.problem.jitter, self.tf_dtype) if jitter is None else jitter
        return point, self.y_column(), base

    def check(self, prepared: Prepared) -> None:
        """Nothing to check: A is factored at each theta, and :meth:`value` is NaN where
        that factor is unusable."""

    def _matrix(self, prepared: Prepared, t: Tensor) -> tuple[Tensor, Tensor]:
        """A(theta) and dA/dtheta. [n, n] each"""
        point, _, jitter = prepared
        d = point - tf.transpose(point)  # [n, n]
        eye = tf.eye(self.problem.n, dtype=self.tf_dtype)
        if self.theta == "jitter":
            kernel = self.form.value(d)
            return kernel + t * eye, eye
        if self.theta == "signal_variance":
            # S multiplies the kernel with S = 1: dK/dS = K / S, written as that kernel.
            unit = kernel_form(
                dataclasses.replace(self.problem.covariance, signal_variance=1.0),
                self.constants,
            ).value(d)
            return t * unit + jitter * eye, unit
        form = self._form_at(t)
        kernel = form.value(d)
        return kernel + jitter * eye, form.parameter_slope(d, kernel, self.theta)

    def _form_at(self, t: Tensor) -> Form:
        """The kernel with theta = t (a tensor gradients flow through)."""
        kernel = dataclasses.replace(self.problem.covariance, **{self.theta: t})
        return kernel_form(kernel, self.constants)

    def _pieces(self, matrix: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(y^T A^-1 y, log det A, the factor whose finiteness says A was usable)."""
        solver = self.problem.solver
        if solver == "cholesky":
            lower = tf.linalg.cholesky(matrix)
            v = tf.linalg.triangular_solve(lower, y, lower=True)  # [n, 1]
            logdet = 2 * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(lower)))
            return tf.reduce_sum(v * v), logdet, lower
        sign, logdet = tf.linalg.slogdet(matrix)
        # log det A exists only where det A > 0: elsewhere the LML is NaN, not a number.
        logdet = tf.where(sign > 0, logdet, self._nan())
        if solver == "inverse":
            inverse = tf.linalg.inv(matrix)
            quad = tf.matmul(tf.matmul(y, inverse, transpose_a=True), y)[0, 0]
            return quad, logdet, inverse
        alpha = tf.linalg.solve(matrix, y)
        return tf.matmul(y, alpha, transpose_a=True)[0, 0], logdet, alpha

    def _lml(self, quad: Tensor, logdet: Tensor) -> Tensor:
        n = self.problem.n
        constant = const(0.5 * n * math.log(2 * math.pi), self.tf_dtype)
        return tf.reshape(-0.5 * quad - 0.5 * logdet - constant, (1, 1))

    def value(self, prepared: Prepared, t: Tensor) -> Tensor:
        matrix, _ = self._matrix(prepared, t)
        quad, logdet, factor = self._pieces(matrix, prepared[1])
        lml = self._lml(quad, logdet)
        # A factor with NaN or Inf (a failed Cholesky, a singular inverse) makes the LML NaN.
        return tf.where(tf.reduce_all(tf.math.is_finite(factor)), lml, self._nan())

    def _nan(self) -> Tensor:
        return tf.constant(math.nan, dtype=self.tf_dtype)

    def closed_form(self, prepared: Prepared, t: Tensor) -> tuple[Tensor, Tensor]:
        matrix, slope = self._matrix(prepared, t)
        return self.gradient(matrix, slope, prepared[1])

    def gradient(self, matrix: Tensor, slope: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """(LML, d LML/dtheta) of A = ``matrix`` with dA/dtheta = ``slope``: the closed form
        1/2 alpha^T dA alpha - 1/2 tr(A^-1 dA), alpha and A^-1 by the solver. [1, 1] each"""
        quad, logdet, factor = self._pieces(matrix, y)
        eye = tf.eye(self.problem.n, dtype=self.tf_dtype)
        solver = self.problem.solver
        if solver == "cholesky":
            inverse, alpha = (tf.linalg.cholesky_solve(factor, b) for b in (eye, y))
        elif solver == "solve":
            inverse, alpha = tf.linalg.solve(matrix, eye), factor
        else:
            inverse, alpha = factor, tf.matmul(factor, y)  # [n, n], [n, 1]
        fit = tf.matmul(alpha, tf.matmul(slope, alpha), transpose_a=True)  # [1, 1]
        grad = 0.5 * fit - 0.5 * tf.reduce_sum(inverse * slope)
        usable = tf.reduce_all(tf.math.is_finite(factor))
        nan = self._nan()
        return tf.where(usable, self._lml(quad, logdet), nan), tf.where(usable, grad, nan)


def program(data: ProblemData, dtype: DType, eager: bool) -> Program:
    """The program of ``data``'s quantity."""
    quantity = data.problem.measured
    if quantity.theta is not None:
        return LmlProgram(data, dtype, eager)
    if quantity.name == "variance-slope":
        return VarianceProgram(data, dtype, eager)
    return MeanProgram(data, dtype, eager)


def non_finite_failure(problem: Problem, dtype: DType) -> PathError | None:
    """Why a quantity that came out NaN or Inf has no number, where more can be said than
    "non-finite": along an LML quantity's theta, A was not positive definite at the
    dtype's precision (the programs turn an unusable factor and det A <= 0 into NaN)."""
    if not problem.measured.is_lml:
        return None
    solver = problem.solver
    what = "NaN in its Cholesky factor" if solver == "cholesky" else "det A <= 0, or NaN"
    return PathError(
        singular(solver),
        f"K + jitter I at this theta is not positive definite in {dtype} ({what}): "
        "log det A, and so the LML, does not exist",
    )
