"""TensorFlow, imported once and quietly, and the operations every path shares.

This is the only module that imports TensorFlow; the paths
(:mod:`gradviz.core.numerics.paths`), the quantities' programs
(:mod:`gradviz.core.numerics.programs`) and the jitter sweep's function
(:mod:`gradviz.core.numerics.sweep_paths`) build on it. The pieces keep the seed's
operations and their order (``exp(-(x - p)^2 / (2 l^2))``, ``(k(x) @ K^-1) @ y``): in
float32 another order gives other numbers. A failure (TensorFlow error, NaN from a
non-positive-definite Cholesky, a non-finite result) becomes a :class:`PathError` of the
right :class:`~gradviz.core.numerics.results.FailureKind`, raised where it is detected.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradviz.core.numerics.results import DType, FailureKind
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import Array, Form, Kernel, Number
from gradviz.core.problem.spec import Problem, Solver

VERBOSE_ENV = "GRADVIZ_VERBOSE"


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: TensorFlow's start-up notices (CUDA stubs,
    oneDNN, CPU features) are written by C++ before its log level applies."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _keras_deferred() -> Iterator[None]:
    """Import TensorFlow without Keras: TensorFlow imports ``keras.src.optimizers``
    eagerly (for SavedModel registrations) and tolerates its absence; Keras in turn
    imports scikit-learn and scipy.stats where they are installed. No path here uses
    Keras (the seed's optimizer is ``tf.compat.v1.train``'s), and the import costs ~1 s
    of CPU on the cold start's critical path (measured: 3.7 -> 2.7 s for ``import
    tensorflow``). A None in ``sys.modules`` makes that one import fail; it is removed
    after, so ``tf.keras`` still loads Keras on first use."""
    if "keras" in sys.modules:
        yield
        return
    sys.modules["keras"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if "keras" in sys.modules and sys.modules["keras"] is None:
            del sys.modules["keras"]


def _import_tensorflow() -> Any:
    """Import TensorFlow (without Keras: :func:`_keras_deferred`) and start its runtime,
    quietly unless $GRADVIZ_VERBOSE is set."""
    if os.environ.get(VERBOSE_ENV):
        with _keras_deferred():
            import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced(), _keras_deferred():
        import tensorflow

        tensorflow.constant(0.0).numpy()  # runtime start-up notices happen here
    return tensorflow


# TensorFlow publishes no type information: its objects are Any at this boundary.
tf = _import_tensorflow()
Tensor = Any  # tf.Tensor or tf.Variable
TFDType = Any  # tf.DType
TFFunction = Any  # a traced tf.function
if not os.environ.get(VERBOSE_ENV):
    # One tf.function per problem is by design; TensorFlow's retracing warning is noise here.
    tf.get_logger().setLevel("ERROR")
TF_DTYPES = {"float32": tf.float32, "float64": tf.float64}


class PathError(Exception):
    """A path cannot produce a number: ``kind`` says why, the message in one line."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


MAX_REASON = 240


def tf_function(function: Any = None, **options: Any) -> Any:
    """``tf.function`` without AutoGraph, as a call or a decorator (with or without
    options). The traced code has no control flow on tensors (its branches are on the
    solver's name), so AutoGraph would only re-parse its Python source at every trace:
    ~0.5 s of CPU of the first probe here, and ~0.2 s of the first curves. The graphs,
    and so the numbers, are the same bit for bit (measured on the seed, its cholesky and
    solve variants, a variance and an LML quantity); code that did need AutoGraph would
    fail at its trace ("using a tf.Tensor as a Python bool"), not change silently."""
    return tf.function(function, autograph=False, **options)


def one_line(error: BaseException) -> str:
    """TensorFlow's reason in one line, without the graph-node trace it appends."""
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    for marker in ("Detected at node", "[[{{node"):
        text = text.split(marker, 1)[0]
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def const(value: float | list[float] | np.ndarray, dtype: TFDType) -> Tensor:
    """A Python float as a tensor of ``dtype`` without a detour through float32."""
    return tf.convert_to_tensor(value, dtype=dtype)


# --- the seed's expression, in pieces shared by every path ---------------------------


def grid_column(problem: Problem, dtype: TFDType) -> Tensor:
    """The points as a column: the seed's ``tf.reshape(tf.linspace(lo, hi, n), (n, 1))``,
    or the data's x rounded once to ``dtype``. [n, 1]"""
    if problem.points is not None:
        return tf.reshape(const(problem.points.array, dtype), (problem.n, 1))
    lo, hi = problem.domain
    return tf.reshape(tf.linspace(const(lo, dtype), const(hi, dtype), problem.n), (problem.n, 1))


class TFMath:
    """TensorFlow's elementwise functions, for the kernels' formulas.

    Without a dtype, the kernel's constants stay Python numbers, which graphs turn into
    Const nodes exactly as in the seed's program (grappler folds those; a captured tensor
    it would not). Eager code gets them as tensors made once: converting a Python number
    at every operation costs more than the arithmetic on a [1, 300] row.
    """

    exp = staticmethod(tf.exp)
    log = staticmethod(tf.math.log)
    sin = staticmethod(tf.sin)
    cos = staticmethod(tf.cos)
    abs = staticmethod(tf.abs)  # its gradient at 0 is sign(0) = 0
    sign = staticmethod(tf.sign)
    power = staticmethod(tf.pow)

    def __init__(self, dtype: TFDType | None) -> None:
        self._dtype = dtype

    def constant(self, value: Number) -> Array:
        return value if self._dtype is None else const(value, self._dtype)


class ParameterMath:
    """The kernels' constants from their parameters: float64 arithmetic on Python numbers
    (as :class:`~gradviz.core.problem.kernels.FloatMath`), TensorFlow's on a parameter
    that is a tensor (an LML quantity's theta, which gradients flow through)."""

    def number(self, value: Number) -> Number:
        return float(value) if isinstance(value, (int, float)) else value

    def sqrt(self, value: Number) -> Number:
        return math.sqrt(value) if isinstance(value, float) else tf.sqrt(value)

    def pi(self) -> float:
        return math.pi


def kernel_form(kernel: Kernel, dtype: TFDType | None = None) -> Form:
    """``kernel`` in TensorFlow: constants as tensors of ``dtype`` (eager code), or as
    Python numbers (graphs) when ``dtype`` is None; a parameter that is a tensor stays one."""
    return Form(kernel, TFMath(dtype), ParameterMath())


def kernel_matrix(
    point: Tensor, problem: Problem, form: Form, jitter: Tensor | None = None
) -> Tensor:
    """``k(p - p^T) + jitter I`` (rbf: the seed's operations), with the problem's jitter
    or, when given, the tensor ``jitter`` instead. [n, n]"""
    kernel = form.value(point - tf.transpose(point))
    eye = tf.eye(problem.n, dtype=point.dtype)
    if jitter is not None:
        kernel += jitter * eye
    elif problem.jitter:
        kernel += const(problem.jitter, point.dtype) * eye
    return kernel


def kernel_vector(x: Tensor, row: Tensor, form: Form) -> Tensor:
    """``k(x)``: one row per x, ``k(x - p^T)`` (rbf: the seed's operations). [m, n]"""
    return form.value(x - row)


def factorize(kernel: Tensor, y: Tensor, solver: Solver) -> Tensor:
    """The x-independent part: K^-1 for ``inverse``, alpha = K^-1 y otherwise. [n, n] or [n, 1]"""
    if solver == "inverse":
        return tf.linalg.inv(kernel)
    if solver == "solve":
        return tf.linalg.solve(kernel, y)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(kernel), y)


def apply_factor(weights: Tensor, factor: Tensor, y: Tensor, solver: Solver) -> Tensor:
    """``(w @ K^-1) @ y`` (the seed's order) or ``w @ alpha``. [m, 1]"""
    if solver == "inverse":
        return tf.matmul(tf.matmul(weights, factor), y)
    return tf.matmul(weights, factor)


def singular(solver: Solver) -> FailureKind:
    """What a K + jitter I that the solver cannot use is called."""
    return FailureKind.CHOLESKY_NOT_PD if solver == "cholesky" else FailureKind.SINGULAR_INVERSE


@contextlib.contextmanager
def pivots_checked(solver: Solver) -> Iterator[None]:
    """``inv`` and ``solve`` raise only on an exact zero pivot: a singular K as well."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        raise PathError(singular(solver), one_line(error)) from error


def check_factor(factor: np.ndarray | Tensor, problem: Problem, dtype: DType) -> None:
    """TensorFlow's CPU Cholesky returns NaN instead of raising, and ``inv`` returns
    finite garbage or Inf on a near-singular K: check, never rely on exceptions."""
    if np.all(np.isfinite(factor)):
        return
    if problem.solver == "cholesky":
        raise PathError(
            singular(problem.solver),
            f"Cholesky failed in {dtype}: K + jitter I is not positive definite at this "
            "precision (NaN in the factor)",
        )
    what = "K^-1" if problem.solver == "inverse" else "alpha = K^-1 y"
    raise PathError(
        singular(problem.solver),
        f"{what} has NaN or Inf in {dtype}: K + jitter I is singular at this precision",
    )


def unrepresentable(data: ProblemData, dtype: DType, jitter: float | None = None) -> str | None:
    """Why the problem cannot even be written in ``dtype`` (its jitter, default the
    problem's, or its sample y beyond the dtype's largest number, 3.4e38 for float32), or
    None. Converted, such a value is Inf (with numpy's overflow warning): nothing a solver
    could be blamed for."""
    largest = float(np.finfo(dtype).max)
    jitter = data.problem.jitter if jitter is None else jitter
    if jitter > largest:
        return f"jitter {jitter:g} overflows {dtype}, whose largest number is {largest:.3g}"
    peak = float(np.max(np.abs(data.y)))
    if peak > largest:
        return (
            f"the sample y (up to {peak:.3g}) overflows {dtype}, whose largest number is "
            f"{largest:.3g}"
        )
    return None


def path_error(error: Exception) -> PathError:
    """Any exception a path raises, as a PathError of the right kind."""
    if isinstance(error, PathError):
        return error
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return PathError(FailureKind.OUT_OF_MEMORY, one_line(error))
    return PathError(FailureKind.TENSORFLOW_ERROR, one_line(error))
