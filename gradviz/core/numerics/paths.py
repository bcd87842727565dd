"""The seven TensorFlow gradient paths, in one dtype, for one problem.

This is the only module that imports TensorFlow. Everything that does not
depend on x (K, its inverse or factor, the v1 graph and Session, the traced
``tf.function``) is built once per problem and dtype by :class:`PathSet`; a
probe only evaluates. Every path computes the seed's

    mu(x) = k(x) K^-1 y,   k_i(x) = k(x - p_i),   K <- K + jitter I

with the problem's kernel (:mod:`gradviz.core.problem.kernels`, its TensorFlow form
here; rbf ``exp(-(x - p_i)^2 / (2 l^2))`` with the seed's operations) and solver; with
``inverse`` the seed's order ``(k(x) @ K^-1) @ y`` is kept, because in float32
``k(x) @ (K^-1 @ y)`` gives a different number.
A failure (TensorFlow error, NaN from a non-positive-definite Cholesky, a
non-finite result) becomes that cell's :class:`~gradviz.core.numerics.results.FailureKind`,
set where it is detected, and TensorFlow's one-line detail; nothing raises out of
:meth:`PathSet.evaluate`. Each path of ``PATH_SPECS`` has its evaluator in
:data:`EVALUATORS`; :meth:`PathSet.probe` evaluates all seven in fewer framework calls,
every cell bit-identical to its path evaluated alone.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from gradviz.core.numerics.results import PATHS, Cell, DType, FailureKind, PathName, Spread
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import Array, FloatMath, Form, Number
from gradviz.core.problem.spec import Problem, Solver

VERBOSE_ENV = "GRADVIZ_VERBOSE"
SPREAD_COPIES = 16
SPREAD_SEED = 51006474  # fixed, so every run perturbs the same way
MAX_SPREAD_DIGITS = 17.0


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


def _import_tensorflow() -> Any:
    """Import TensorFlow and start its runtime, quietly unless $GRADVIZ_VERBOSE is set."""
    if os.environ.get(VERBOSE_ENV):
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced():
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


def _one_line(error: BaseException) -> str:
    """TensorFlow's reason in one line, without the graph-node trace it appends."""
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    for marker in ("Detected at node", "[[{{node"):
        text = text.split(marker, 1)[0]
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _const(value: float | list[float] | np.ndarray, dtype: TFDType) -> Tensor:
    """A Python float as a tensor of ``dtype`` without a detour through float32."""
    return tf.convert_to_tensor(value, dtype=dtype)


# --- the seed's expression, in pieces shared by every path ---------------------------


def _grid_column(problem: Problem, dtype: TFDType) -> Tensor:
    """The points as a column: the seed's ``tf.reshape(tf.linspace(lo, hi, n), (n, 1))``,
    or the data's x rounded once to ``dtype``. [n, 1]"""
    if problem.points is not None:
        return tf.reshape(_const(problem.points.array, dtype), (problem.n, 1))
    lo, hi = problem.domain
    return tf.reshape(tf.linspace(_const(lo, dtype), _const(hi, dtype), problem.n), (problem.n, 1))


class _TFMath:
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
        return value if self._dtype is None else _const(value, self._dtype)


def _kernel_form(problem: Problem, dtype: TFDType | None = None) -> Form:
    """The problem's kernel in TensorFlow: constants as tensors of ``dtype`` (eager code),
    or as Python numbers (graphs) when ``dtype`` is None."""
    return Form(problem.covariance, _TFMath(dtype), FloatMath())


def _kernel_matrix(point: Tensor, problem: Problem, form: Form) -> Tensor:
    """``k(p - p^T) + jitter I`` (rbf: the seed's operations). [n, n]"""
    kernel = form.value(point - tf.transpose(point))
    if problem.jitter:
        kernel += _const(problem.jitter, point.dtype) * tf.eye(problem.n, dtype=point.dtype)
    return kernel


def _kernel_vector(x: Tensor, row: Tensor, form: Form) -> Tensor:
    """``k(x)``: one row per x, ``k(x - p^T)`` (rbf: the seed's operations). [m, n]"""
    return form.value(x - row)


def _factor(kernel: Tensor, y: Tensor, solver: Solver) -> Tensor:
    """The x-independent part: K^-1 for ``inverse``, alpha = K^-1 y otherwise. [n, n] or [n, 1]"""
    if solver == "inverse":
        return tf.linalg.inv(kernel)
    if solver == "solve":
        return tf.linalg.solve(kernel, y)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(kernel), y)


def _apply(weights: Tensor, factor: Tensor, y: Tensor, solver: Solver) -> Tensor:
    """``(w @ K^-1) @ y`` (the seed's order) or ``w @ alpha``. [m, 1]"""
    if solver == "inverse":
        return tf.matmul(tf.matmul(weights, factor), y)
    return tf.matmul(weights, factor)


def _singular(solver: Solver) -> FailureKind:
    """What a K + jitter I that the solver cannot use is called."""
    return FailureKind.CHOLESKY_NOT_PD if solver == "cholesky" else FailureKind.SINGULAR_INVERSE


@contextlib.contextmanager
def _pivots_checked(solver: Solver) -> Iterator[None]:
    """``inv`` and ``solve`` raise only on an exact zero pivot: a singular K as well."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        raise PathError(_singular(solver), _one_line(error)) from error


def _check_factor(factor: np.ndarray | Tensor, problem: Problem, dtype: DType) -> None:
    """TensorFlow's CPU Cholesky returns NaN instead of raising, and ``inv`` returns
    finite garbage or Inf on a near-singular K: check, never rely on exceptions."""
    if np.all(np.isfinite(factor)):
        return
    if problem.solver == "cholesky":
        raise PathError(
            _singular(problem.solver),
            f"Cholesky failed in {dtype}: K + jitter I is not positive definite at this "
            "precision (NaN in the factor)",
        )
    what = "K^-1" if problem.solver == "inverse" else "alpha = K^-1 y"
    raise PathError(
        _singular(problem.solver),
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
        return PathError(FailureKind.OUT_OF_MEMORY, _one_line(error))
    return PathError(FailureKind.TENSORFLOW_ERROR, _one_line(error))


# --- path builders -------------------------------------------------------------------

PathValue = tuple[float, float, dict[str, float]]  # mu, d mu/dx, extra
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Eager:
    """K, its inverse or factor, computed once eagerly; shared by the eager paths."""

    row: Tensor  # [1, n]
    factor: Tensor  # [n, n] or [n, 1]
    y: Tensor  # [n, 1]
    form: Form
    solver: Solver

    def mu(self, xs: Tensor) -> Tensor:
        """mu at a scalar x or at a column of x. [m, 1]"""
        return _apply(_kernel_vector(xs, self.row, self.form), self.factor, self.y, self.solver)


def _build_eager(data: ProblemData, dtype: DType) -> _Eager:
    problem, tf_dtype = data.problem, TF_DTYPES[dtype]
    form = _kernel_form(problem, tf_dtype)
    point = _grid_column(problem, tf_dtype)  # [n, 1]
    y = _const(data.y, tf_dtype)[:, None]  # [n, 1]
    with _pivots_checked(problem.solver):
        factor = _factor(_kernel_matrix(point, problem, form), y, problem.solver)
    _check_factor(factor, problem, dtype)
    return _Eager(tf.transpose(point), factor, y, form, problem.solver)


class _SeedGraph:
    """The seed's program, generalised: one tf.compat.v1 graph and Session holding
    ``AdamOptimizer().compute_gradients(expectation(x))`` and
    ``tf.gradients(expectation(x), [x])``, each from its own call of expectation."""

    def __init__(self, data: ProblemData, dtype: DType) -> None:
        problem, tf_dtype = data.problem, TF_DTYPES[dtype]
        v1 = tf.compat.v1
        y_np = data.y
        form = _kernel_form(problem)
        factors = []
        self.graph = tf.Graph()
        with self.graph.as_default():

            def expectation(x: Tensor) -> Tensor:
                ref_point = tf.transpose(tf.convert_to_tensor(y_np, dtype=tf_dtype))
                point = _grid_column(problem, tf_dtype)
                kernel = _kernel_matrix(point, problem, form)
                ref_point = tf.expand_dims(ref_point, axis=1)
                factors.append(_factor(kernel, ref_point, problem.solver))
                weights = _kernel_vector(x, tf.transpose(point), form)
                return _apply(weights, factors[-1], ref_point, problem.solver)

            self.x = v1.Variable(2.0, dtype=tf_dtype, name="x")
            self.mu_optimizer = expectation(self.x)
            self.optimizer_grads = v1.train.AdamOptimizer().compute_gradients(
                self.mu_optimizer, var_list=[self.x]
            )
            self.mu_gradients = expectation(self.x)
            self.gradients = v1.gradients(self.mu_gradients, [self.x])
            self.x_in = v1.placeholder(tf_dtype, shape=())
            self.assign = self.x.assign(self.x_in)
            init = v1.global_variables_initializer()
        self.graph.finalize()
        self.session = v1.Session(graph=self.graph)
        self.session.run(init)
        with _pivots_checked(problem.solver):
            factor = self.session.run(factors[0])
        _check_factor(factor, problem, dtype)
        self._x_loaded: float | None = None

    def _load(self, x: float) -> None:
        """Assign x to the variable once per probe, shared by both seed paths."""
        if self._x_loaded != x:
            self._x_loaded = None
            self.session.run(self.assign, {self.x_in: x})
            self._x_loaded = x

    @staticmethod
    def _optimizer_value(fetched: Any) -> PathValue:
        [(grad, var)], mu = fetched
        return float(mu[0, 0]), float(grad), {"x": float(var)}

    @staticmethod
    def _gradients_value(fetched: Any) -> PathValue:
        [grad], mu = fetched
        return float(mu[0, 0]), float(grad), {}

    def optimizer(self, x: float) -> PathValue:
        self._load(x)
        return self._optimizer_value(self.session.run([self.optimizer_grads, self.mu_optimizer]))

    def gradients_path(self, x: float) -> PathValue:
        self._load(x)
        return self._gradients_value(self.session.run([self.gradients, self.mu_gradients]))

    def both(self, x: float) -> tuple[PathValue, PathValue]:
        """Both paths' fetches in one ``Session.run``: each evaluates the same nodes of the
        same graph as when fetched alone (one run less per probe)."""
        self._load(x)
        optimizer, gradients = self.session.run(
            [[self.optimizer_grads, self.mu_optimizer], [self.gradients, self.mu_gradients]]
        )
        return self._optimizer_value(optimizer), self._gradients_value(gradients)


class _Function:
    """The ``tf.function`` path: the factor computed in a graph (grappler on), then a
    batched evaluation traced once with the fixed signature ``[None]``."""

    def __init__(self, data: ProblemData, dtype: DType) -> None:
        problem, tf_dtype = data.problem, TF_DTYPES[dtype]
        y_np = data.y
        form = _kernel_form(problem)

        @tf.function
        def factor() -> tuple[Tensor, Tensor, Tensor]:
            point = _grid_column(problem, tf_dtype)  # [n, 1]
            y = tf.convert_to_tensor(y_np, dtype=tf_dtype)[:, None]  # [n, 1]
            weights = _factor(_kernel_matrix(point, problem, form), y, problem.solver)
            return tf.transpose(point), weights, y

        with _pivots_checked(problem.solver):
            row, weights, y = factor()
        _check_factor(weights, problem, dtype)

        def operations(xs: Tensor) -> tuple[Tensor, Tensor]:
            """The traced path's operations on a batch of x, in the graph being traced. [m]"""
            with tf.GradientTape() as tape:
                tape.watch(xs)
                mu = _apply(_kernel_vector(xs[:, None], row, form), weights, y, problem.solver)
                mu = mu[:, 0]  # [m]
            # mu_j depends on xs_j only, so the gradient of the sum is the per-x derivative.
            return mu, tape.gradient(mu, xs)

        self.operations = operations
        self.evaluate = tf.function(operations, input_signature=[tf.TensorSpec([None], tf_dtype)])


def _forward_operations(model: _Eager, x: Tensor) -> tuple[Tensor, Tensor]:
    """Forward mode: mu and its JVP along dx = 1 at a scalar x, in the graph being traced."""
    with tf.autodiff.ForwardAccumulator(x, tf.ones_like(x)) as accumulator:
        mu = model.mu(x)
    return mu[0, 0], accumulator.jvp(mu)[0, 0]


def _build_forward(model: _Eager, dtype: DType) -> TFFunction:
    """Forward mode over the eager model's cached factor, traced once: an eager
    ForwardAccumulator costs ~6 ms a call here, twice a whole probe's budget."""

    @tf.function(input_signature=[tf.TensorSpec([], TF_DTYPES[dtype])])
    def forward(x: Tensor) -> tuple[Tensor, Tensor]:
        return _forward_operations(model, x)

    return forward


@dataclass(frozen=True)
class _Traced:
    """The ``function`` and ``forward`` paths of one dtype in one traced call, for a probe.

    The graph holds each path's own operations on its own captured inputs side by side
    (the function path's grappler-made factor, the eager model's factor for forward mode),
    exactly as each path's own ``tf.function`` traces them; only their four results are
    stacked. Called through its concrete function: the ``tf.function`` dispatch (signature
    matching) costs as much again as the call itself."""

    function: TFFunction  # for its trace count
    call: TFFunction  # (xs [1], x []) -> [mu, grad of function, mu, grad of forward]


def _build_traced(function: _Function, model: _Eager, dtype: DType) -> _Traced:
    tf_dtype = TF_DTYPES[dtype]

    @tf.function(input_signature=[tf.TensorSpec([None], tf_dtype), tf.TensorSpec([], tf_dtype)])
    def traced(xs: Tensor, x: Tensor) -> Tensor:
        mu, grad = function.operations(xs)
        return tf.stack([mu[0], grad[0], *_forward_operations(model, x)])  # [4]

    return _Traced(traced, traced.get_concrete_function())


class _Spread:
    """What equivalent programs print: SPREAD_COPIES copies of the problem in one dtype,
    each entry of K + jitter I (symmetrically) and of y multiplied by ``1 + u r`` with u
    the dtype's unit roundoff and r uniform in [-1, 1] (fixed seed), each factored as the
    problem's solver does. That is the size of difference graph and eager code, another
    BLAS kernel or another CPU make (Monte Carlo arithmetic, as CADNA and verificarlo).
    Only each copy's alpha = K_c^-1 y_c is kept, so a probe is one product. [copies, n]"""

    def __init__(self, data: ProblemData, dtype: DType, copies: int) -> None:
        problem, tf_dtype = data.problem, TF_DTYPES[dtype]
        rng = np.random.default_rng(SPREAD_SEED)
        unit = float(np.finfo(dtype).eps) / 2
        kernel = data.kernel + problem.jitter * np.eye(problem.n)  # [n, n]
        alphas = []
        for _ in range(copies):
            noise = np.triu(rng.uniform(-1.0, 1.0, kernel.shape))  # [n, n]
            noise += np.triu(noise, 1).T  # symmetric like K
            # kernel * (1 + unit * noise), in place: the same IEEE operations, three
            # temporary n x n arrays fewer (time and peak memory at large n).
            noise *= unit
            noise += 1
            noise *= kernel
            k_copy = _const(noise.astype(dtype, copy=False), tf_dtype)  # [n, n]
            y_copy = data.y * (1 + unit * rng.uniform(-1.0, 1.0, problem.n))  # [n]
            y_column = _const(y_copy.astype(dtype), tf_dtype)[:, None]  # [n, 1]
            factor = _factor(k_copy, y_column, problem.solver)
            alpha = factor @ y_column if problem.solver == "inverse" else factor  # [n, 1]
            alphas.append(alpha[:, 0])
        self.alphas = tf.stack(alphas)  # [copies, n]
        self.points = _const(data.grid.astype(dtype), tf_dtype)  # [n]
        self.form = _kernel_form(problem, tf_dtype)

    def gradients(self, xs: Tensor) -> np.ndarray:
        """d mu/dx of every copy at every x, in one batched product. [copies, m]"""
        d = xs[None, :] - self.points[:, None]  # [n, m]
        slopes = self.form.slope(d, self.form.value(d))  # [n, m]
        return np.asarray((self.alphas @ slopes).numpy(), dtype=np.float64)


def spread_digits(gradients: np.ndarray) -> np.ndarray:
    """Significant digits ``-log10(std / |mean|)`` over the copies (axis 0) that produced a
    number, absolute where the mean is 0, clamped to 0..17; NaN with fewer than two. [m]"""
    finite = np.isfinite(gradients)  # [copies, m]
    count = finite.sum(axis=0)  # [m]
    values = np.where(finite, gradients, 0.0)
    mean = values.sum(axis=0) / np.maximum(count, 1)  # [m]
    squares = np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0)  # [m]
    std = np.sqrt(squares / np.maximum(count - 1, 1))  # [m]
    scale = np.where(mean == 0, 1.0, np.abs(mean))
    with np.errstate(divide="ignore"):
        digits = np.clip(-np.log10(std / scale), 0.0, MAX_SPREAD_DIGITS)  # +inf -> 17
    return np.where(count >= 2, digits, np.nan)


def spread_of(gradients: np.ndarray) -> Spread | None:
    """Range, standard deviation and :func:`spread_digits` of the copies' gradients at one
    x that produced a number; None with fewer than two. [copies] -> Spread"""
    finite = gradients[np.isfinite(gradients)]
    if finite.size < 2:
        return None
    return Spread(
        samples=int(finite.size),
        grad_min=float(finite.min()),
        grad_max=float(finite.max()),
        grad_mean=float(finite.mean()),
        grad_std=float(finite.std(ddof=1)),
        significant_digits=float(spread_digits(finite[:, None])[0]),
    )


class PathSet:
    """All seven paths of one problem in one dtype, built lazily and kept."""

    def __init__(self, data: ProblemData, dtype: DType) -> None:
        self.data = data
        self.dtype = dtype
        self._tf_dtype = TF_DTYPES[dtype]
        self._built: dict[str, Any] = {}
        self._failed: dict[str, PathError] = {}
        self._last_x: tuple[float, Tensor, Tensor] | None = None

    def _shared(self, key: str, build: Callable[[], _T]) -> _T:
        """Build each shared model once; remember a failure, raised again on every use."""
        if key in self._failed:
            raise self._failed[key]
        if key not in self._built:
            try:
                overflow = unrepresentable(self.data, self.dtype)
                if overflow is not None:
                    raise PathError(FailureKind.NON_FINITE, overflow)
                self._built[key] = build()
            except (PathError, tf.errors.OpError, ValueError) as error:
                self._failed[key] = path_error(error)
                raise self._failed[key] from error
        built: _T = self._built[key]
        return built

    def _eager(self) -> _Eager:
        return self._shared("eager", lambda: _build_eager(self.data, self.dtype))

    def _seed(self) -> _SeedGraph:
        return self._shared("seed", lambda: _SeedGraph(self.data, self.dtype))

    def _graph_function(self) -> _Function:
        return self._shared("function", lambda: _Function(self.data, self.dtype))

    def _forward_function(self) -> TFFunction:
        return self._shared("forward", lambda: _build_forward(self._eager(), self.dtype))

    def _traced(self) -> _Traced:
        return self._shared(
            "traced",
            lambda: _build_traced(self._graph_function(), self._eager(), self.dtype),
        )

    def prepare(self, on_stage: Callable[[str, float], None]) -> None:
        """Build every shared model now, in the order a probe needs them, and report each
        stage's wall seconds: ``eager`` (K and its factor, eagerly), ``function`` (the
        function path's factor: trace, grappler, run), ``seed`` (the v1 graph and Session,
        its first run), ``traced`` (the probe's traced call), ``spread`` (the copies'
        factors). A stage that fails is remembered as when a path builds it."""
        stages: dict[str, Callable[[], object]] = {
            "eager": self._eager,
            "function": self._graph_function,
            "seed": self._seed,
            "traced": self._traced,
            "spread": self._spread,
        }
        for name, build in stages.items():
            start = time.perf_counter()
            with contextlib.suppress(PathError):
                build()
            on_stage(name, time.perf_counter() - start)

    def _converted(self, x: float) -> tuple[float, Tensor, Tensor]:
        """x as a scalar tensor of this dtype and as a batch of one, converted once per
        probe, not once per path. ([], [1])"""
        if self._last_x is None or self._last_x[0] != x:
            self._last_x = (x, _const(x, self._tf_dtype), _const([x], self._tf_dtype))
        return self._last_x

    def _x(self, x: float) -> Tensor:
        return self._converted(x)[1]

    def _xs(self, x: float) -> Tensor:
        return self._converted(x)[2]

    def _seed_optimizer(self, x: float) -> PathValue:
        return self._seed().optimizer(x)

    def _seed_gradients(self, x: float) -> PathValue:
        return self._seed().gradients_path(x)

    def _tape(self, x: float) -> PathValue:
        model, xt = self._eager(), self._x(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            mu = model.mu(xt)
        # .numpy() then index: indexing a tensor is an eager op costing ~0.2 ms each.
        return float(mu.numpy()[0, 0]), float(tape.gradient(mu, xt).numpy()), {}

    def _function(self, x: float) -> PathValue:
        mu, grad = self._graph_function().evaluate(self._xs(x))
        return float(mu.numpy()[0]), float(grad.numpy()[0]), {}

    def _forward(self, x: float) -> PathValue:
        mu, grad = self._forward_function()(self._x(x))
        return float(mu), float(grad), {}

    def _closed_form(self, x: float) -> PathValue:
        """mu'(x) = sum_i dk_i(x)/dx alpha_i (rbf: -(x - p_i) / l^2 k_i(x)), in the solver's
        order."""
        model, xt = self._eager(), self._x(x)
        weights = _kernel_vector(xt, model.row, model.form)  # [1, n]
        slopes = model.form.slope(xt - model.row, weights)  # [1, n]
        both = _apply(tf.concat([weights, slopes], 0), model.factor, model.y, model.solver)
        values = both.numpy()  # [2, 1]
        return float(values[0, 0]), float(values[1, 0]), {}

    def _central_difference(self, x: float) -> PathValue:
        """(mu(x + h) - mu(x - h)) / 2h in this dtype, h = cbrt(eps) max(1, |x|).

        x +/- h and the difference quotient are IEEE operations in this dtype, done in
        numpy (same rounding as TensorFlow) to save eager dispatches; mu is TensorFlow's.
        """
        real = np.dtype(self.dtype).type
        h = real(math.cbrt(float(np.finfo(self.dtype).eps)) * max(1.0, abs(x)))
        at = real(x)
        column = np.array([[at - h], [at], [at + h]], dtype=self.dtype)  # [3, 1]
        mu = self._eager().mu(tf.convert_to_tensor(column)).numpy()[:, 0]  # [3]
        grad = (mu[2] - mu[0]) / (real(2) * h)
        return float(mu[1]), float(grad), {"h": float(h)}

    def _seed_pair(self, x: float) -> dict[PathName, PathValue]:
        optimizer, gradients = self._seed().both(x)
        return {"seed_optimizer": optimizer, "seed_gradients": gradients}

    def _traced_pair(self, x: float) -> dict[PathName, PathValue]:
        values = self._traced().call(self._xs(x), self._x(x)).numpy()  # [4]
        return {
            "function": (float(values[0]), float(values[1]), {}),
            "forward": (float(values[2]), float(values[3]), {}),
        }

    def probe(self, x: float) -> tuple[Cell, ...]:
        """Every path at x, in ``PATHS`` order, each cell the same bit for bit as
        :meth:`evaluate` gives for that path alone, in fewer framework calls: both seed
        paths in one ``Session.run``, ``function`` and ``forward`` in one traced call.
        A pair that fails is evaluated path by path, so each cell carries its own failure."""
        values: dict[PathName, PathValue] = {}
        for pair in (PathSet._seed_pair, PathSet._traced_pair):
            try:
                values.update(pair(self, x))
            except (PathError, tf.errors.OpError, ValueError):
                continue
        return tuple(self._cell(path, x, values) for path in PATHS)

    def evaluate(self, path: PathName, x: float) -> Cell:
        """mu and d mu/dx of ``path`` at x, or why it failed. Never raises but KeyError
        for a path that does not exist."""
        if path not in EVALUATORS:
            raise KeyError(path)
        return self._cell(path, x, {})

    def _cell(self, path: PathName, x: float, known: Mapping[PathName, PathValue]) -> Cell:
        """The cell of the value ``known`` holds for ``path``, or of evaluating the path
        alone, or of the reason it failed."""
        try:
            mu, grad, extra = known[path] if path in known else EVALUATORS[path](self, x)
        except (PathError, tf.errors.OpError, ValueError) as error:
            failure = path_error(error)
            return Cell(path, self.dtype, None, None, _one_line(failure), failure.kind)
        if not (math.isfinite(mu) and math.isfinite(grad)):
            reason = f"non-finite result in {self.dtype} (mu = {mu}, d mu/dx = {grad})"
            return Cell(path, self.dtype, None, None, reason, FailureKind.NON_FINITE, extra)
        return Cell(path, self.dtype, mu, grad, extra=extra)

    def curves(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """mu and d mu/dx of the ``function`` path (the curve path) at every x, in one
        batched call.
        Raises PathError when the path cannot be built."""
        mu, grad = self._graph_function().evaluate(_const(xs, self._tf_dtype))
        return mu.numpy().astype(np.float64), grad.numpy().astype(np.float64)

    def _spread(self) -> _Spread:
        return self._shared("spread", lambda: _Spread(self.data, self.dtype, SPREAD_COPIES))

    def spread(self, x: float) -> Spread | None:
        """The spread of d mu/dx over the perturbed copies at x; None when the copies
        cannot be built (a failed factor) or fewer than two give a number."""
        try:
            copies = self._spread()
        except PathError:
            return None
        return spread_of(copies.gradients(self._xs(x))[:, 0])

    def spread_curve(self, xs: np.ndarray) -> np.ndarray:
        """:func:`spread_digits` at every x; NaN where the copies cannot be built. [m]"""
        try:
            copies = self._spread()
        except PathError:
            return np.full(xs.shape, np.nan)
        return spread_digits(copies.gradients(_const(xs, self._tf_dtype)))

    def close(self) -> None:
        """Release the v1 Session; the set must not be used afterwards."""
        seed = self._built.get("seed")
        if isinstance(seed, _SeedGraph):
            seed.session.close()
        self._built.clear()

    def tracing_counts(self) -> dict[str, int]:
        """Traces of every tf.function traced so far, keyed by name: ``function`` (the
        path alone and the curves), ``forward`` (the path alone), ``traced`` (a probe)."""
        functions = {}
        if isinstance(self._built.get("function"), _Function):
            functions["function"] = self._built["function"].evaluate
        if "forward" in self._built:
            functions["forward"] = self._built["forward"]
        if isinstance(self._built.get("traced"), _Traced):
            functions["traced"] = self._built["traced"].function
        counts = {name: f.experimental_get_tracing_count() for name, f in functions.items()}
        return {name: count for name, count in counts.items() if count}


# How each path of PATH_SPECS is evaluated: the one place a spec meets TensorFlow.
EVALUATORS: Mapping[PathName, Callable[[PathSet, float], PathValue]] = {
    "seed_optimizer": PathSet._seed_optimizer,
    "seed_gradients": PathSet._seed_gradients,
    "tape": PathSet._tape,
    "function": PathSet._function,
    "forward": PathSet._forward,
    "closed_form": PathSet._closed_form,
    "central_difference": PathSet._central_difference,
}
if set(EVALUATORS) != set(PATHS):
    raise ImportError(f"paths without an evaluator or spec: {set(EVALUATORS) ^ set(PATHS)}")
