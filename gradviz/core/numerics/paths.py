"""The seven TensorFlow gradient paths, in one dtype, for one problem and its quantity.

Everything that does not depend on the probe (K, its inverse or factor, the v1 graph and
Session, the traced ``tf.function``) is built once per problem and dtype by
:class:`PathSet`; a probe only evaluates. Every path differentiates the problem's
quantity (:mod:`gradviz.core.problem.quantity`) along its probe t, x or an LML
quantity's theta, as the quantity's program writes it
(:mod:`gradviz.core.numerics.programs`: for the posterior mean the seed's
``mu(x) = k(x) K^-1 y``, ``(k(x) @ K^-1) @ y`` with the explicit inverse): the seed's two
calls on a v1 graph, an eager tape, a ``tf.function``, forward mode, the closed form and
a central difference, all on the same operations.

A failure (TensorFlow error, NaN from a non-positive-definite Cholesky, a non-finite
result) becomes that cell's :class:`~gradviz.core.numerics.results.FailureKind`, set
where it is detected, and TensorFlow's one-line detail; nothing raises out of
:meth:`PathSet.evaluate`. Each path of ``PATH_SPECS`` has its evaluator in
:data:`EVALUATORS`; :meth:`PathSet.probe` evaluates all seven in fewer framework calls,
every cell bit-identical to its path evaluated alone.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from gradviz.core.numerics.programs import (
    LmlProgram,
    Prepared,
    Program,
    VarianceProgram,
    non_finite_failure,
    program,
)
from gradviz.core.numerics.results import (
    PATHS,
    SPREAD_CONFIDENCE,
    SPREAD_PROBABILITY,
    Cell,
    DType,
    FailureKind,
    PathName,
    Spread,
)
from gradviz.core.numerics.tf_ops import (
    TF_DTYPES,
    PathError,
    Tensor,
    TFFunction,
    const,
    factorize,
    kernel_form,
    one_line,
    path_error,
    pivots_checked,
    tf,
    tf_function,
    unrepresentable,
)
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.kernels import kernel_matrix, numpy_form
from gradviz.core.problem.quantity import central_step

SPREAD_COPIES = 16
SPREAD_SEED = 51006474  # fixed, so every run perturbs the same way
MAX_SPREAD_DIGITS = 17.0

PathValue = tuple[float, float, dict[str, float]]  # value, its derivative, extra
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Eager:
    """The program's probe-independent part computed once eagerly, shared by the eager
    paths (tape, forward, closed form, central difference)."""

    program: Program
    prepared: Prepared

    def value(self, t: Tensor) -> Tensor:
        """The quantity at a scalar t [1, 1], or at a column of t [m, 1] (batched)."""
        return self.program.value(self.prepared, t)


def _build_eager(data: ProblemData, dtype: DType) -> _Eager:
    model = program(data, dtype, eager=True)
    with pivots_checked(data.problem.solver):
        prepared = model.prepare()
    model.check(prepared)
    return _Eager(model, prepared)


class _SeedGraph:
    """The seed's program, generalised: one tf.compat.v1 graph and Session holding
    ``AdamOptimizer().compute_gradients(expectation(t))`` and
    ``tf.gradients(expectation(t), [t])``, each from its own call of expectation, which
    builds the quantity's program from scratch as the seed's function builds mu."""

    def __init__(self, data: ProblemData, dtype: DType) -> None:
        problem, tf_dtype = data.problem, TF_DTYPES[dtype]
        v1 = tf.compat.v1
        model = program(data, dtype, eager=False)
        prepared: list[Prepared] = []
        self.graph = tf.Graph()
        with self.graph.as_default():

            def expectation(t: Tensor) -> Tensor:
                prepared.append(model.prepare())
                return model.value(prepared[-1], t)

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
        with pivots_checked(problem.solver):
            model.check(self.session.run(prepared[0]))
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


def _probe_spec(model: Program) -> Any:
    """The traced signature of the function path's probes: a batch ``[None]`` where the
    program takes a column, else one scalar."""
    return tf.TensorSpec([None] if model.batched else [], model.tf_dtype)


class _Function:
    """The ``tf.function`` path: the program's probe-independent part computed in a graph
    (grappler on), then an evaluation traced once with a fixed signature (a batch of
    probes where the program allows it)."""

    def __init__(self, data: ProblemData, dtype: DType, model: Program | None = None) -> None:
        model = program(data, dtype, eager=False) if model is None else model

        @tf_function
        def prepare() -> Prepared:
            return model.prepare()

        with pivots_checked(data.problem.solver):
            prepared = prepare()
        model.check(prepared)

        def operations(ts: Tensor) -> tuple[Tensor, Tensor]:
            """The traced path's operations on a batch of probes [m] (or one scalar), in the
            graph being traced."""
            with tf.GradientTape() as tape:
                tape.watch(ts)
                value = model.values(prepared, ts)  # [m] or a scalar
            # value_j depends on ts_j only, so the gradient of the sum is the per-probe one.
            return value, tape.gradient(value, ts)

        self.program = model
        self.operations = operations
        self.evaluate = tf_function(operations, input_signature=[_probe_spec(model)])

    def many(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values and derivatives at every probe: one call for a batch, else one per probe.
        [m] each"""
        tf_dtype = self.program.tf_dtype
        if self.program.batched:
            values, grads = self.evaluate(const(ts, tf_dtype))
            return values.numpy().astype(np.float64), grads.numpy().astype(np.float64)
        pairs = [self.evaluate(const(t, tf_dtype)) for t in ts.tolist()]
        return (
            np.array([float(value) for value, _ in pairs]),
            np.array([float(grad) for _, grad in pairs]),
        )


def _forward_operations(model: _Eager, x: Tensor) -> tuple[Tensor, Tensor]:
    """Forward mode: the value and its JVP along dt = 1 at a scalar t, in the graph being
    traced."""
    with tf.autodiff.ForwardAccumulator(x, tf.ones_like(x)) as accumulator:
        value = model.value(x)
    return value[0, 0], accumulator.jvp(value)[0, 0]


def _build_forward(model: _Eager, dtype: DType) -> TFFunction:
    """Forward mode over the eager model's cached factor, traced once: an eager
    ForwardAccumulator costs ~6 ms a call here, twice a whole probe's budget."""

    @tf_function(input_signature=[tf.TensorSpec([], TF_DTYPES[dtype])])
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
    call: TFFunction  # (ts, t) -> [value, grad of function, value, grad of forward]


def _build_traced(function: _Function, model: _Eager, dtype: DType) -> _Traced:
    scalar = tf.TensorSpec([], TF_DTYPES[dtype])

    @tf_function(input_signature=[_probe_spec(function.program), scalar])
    def traced(ts: Tensor, t: Tensor) -> Tensor:
        value, grad = function.operations(ts)
        first = (value[0], grad[0]) if function.program.batched else (value, grad)
        return tf.stack([*first, *_forward_operations(model, t)])  # [4]

    return _Traced(traced, traced.get_concrete_function())


def _perturbed(
    matrix: np.ndarray, y: np.ndarray, dtype: DType, copies: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """SPREAD_COPIES copies of (A, y) in ``dtype``, every entry of A (symmetrically) and y
    multiplied by ``1 + u r``, u the dtype's unit roundoff and r uniform in [-1, 1] from
    the fixed seed: the same copies on every call."""
    rng = np.random.default_rng(SPREAD_SEED)
    unit = float(np.finfo(dtype).eps) / 2
    for _ in range(copies):
        noise = np.triu(rng.uniform(-1.0, 1.0, matrix.shape))  # [n, n]
        noise += np.triu(noise, 1).T  # symmetric like K
        # matrix * (1 + unit * noise), in place: the same IEEE operations, three
        # temporary n x n arrays fewer (time and peak memory at large n).
        noise *= unit
        noise += 1
        noise *= matrix
        y_copy = y * (1 + unit * rng.uniform(-1.0, 1.0, len(y)))  # [n]
        yield noise.astype(dtype, copy=False), y_copy.astype(dtype)


def _inverse(matrix: Tensor, solver: str) -> Tensor:
    """A^-1 as the solver gets it: ``inv``, ``solve(A, I)`` or ``cholesky_solve(L, I)``."""
    if solver == "inverse":
        return tf.linalg.inv(matrix)
    eye = tf.eye(matrix.shape[0], dtype=matrix.dtype)
    if solver == "solve":
        return tf.linalg.solve(matrix, eye)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(matrix), eye)


class _Spread:
    """What equivalent programs print: SPREAD_COPIES copies of the problem in one dtype,
    each entry of K + jitter I (symmetrically) and of y multiplied by ``1 + u r`` with u
    the dtype's unit roundoff and r uniform in [-1, 1] (fixed seed), each factored as the
    problem's solver does. That is the size of difference graph and eager code, another
    BLAS kernel or another CPU make (Monte Carlo arithmetic, as CADNA and verificarlo).

    The slopes in x keep per copy only what a probe needs (the mean alpha = K_c^-1 y_c,
    the variance K_c^-1), so a probe is one product; an LML quantity's A changes with
    theta, so each probe factors every copy at its theta (the closed form's operations).
    """

    def __init__(self, data: ProblemData, dtype: DType, copies: int) -> None:
        problem = data.problem
        self.data, self.dtype, self.copies = data, dtype, copies
        self.tf_dtype = TF_DTYPES[dtype]
        self.points = const(data.grid.astype(dtype), self.tf_dtype)  # [n]
        self.form = kernel_form(problem.covariance, self.tf_dtype)
        self.quantity = problem.measured
        if self.quantity.theta is not None:
            self.model = LmlProgram(data, dtype, eager=True)
            return
        kernel = data.kernel + problem.jitter * np.eye(problem.n)  # [n, n]
        factors = []
        for k_copy, y_copy in _perturbed(kernel, data.y, dtype, copies):
            k_tensor = const(k_copy, self.tf_dtype)  # [n, n]
            if self.quantity.name == "variance-slope":
                factors.append(_inverse(k_tensor, problem.solver))  # [n, n]
                continue
            y_column = const(y_copy, self.tf_dtype)[:, None]  # [n, 1]
            factor = factorize(k_tensor, y_column, problem.solver)
            alpha = factor @ y_column if problem.solver == "inverse" else factor  # [n, 1]
            factors.append(alpha[:, 0])
        self.factors = tf.stack(factors)  # [copies, n] or [copies, n, n]

    def gradients(self, ts: np.ndarray) -> np.ndarray:
        """Every copy's derivative at every probe. [copies, m]"""
        if self.quantity.theta is not None:
            return np.stack([self._lml_gradients(t) for t in ts.tolist()], axis=1)
        xs = const(ts, self.tf_dtype)
        d = xs[None, :] - self.points[:, None]  # [n, m]
        k = self.form.value(d)  # [n, m]
        slopes = self.form.slope(d, k)  # [n, m]
        if self.quantity.name == "variance-slope":
            # -2 dk(x)^T K_c^-1 k(x) per copy c and x
            products = tf.einsum("im,cij,jm->cm", slopes, self.factors, k)
            return np.asarray((-2 * products).numpy(), dtype=np.float64)
        return np.asarray((self.factors @ slopes).numpy(), dtype=np.float64)

    def _lml_gradients(self, theta: float) -> np.ndarray:
        """d LML/dtheta of every copy at theta, by the closed form. [copies]"""
        problem, model = self.data.problem, self.model
        name = self.quantity.theta
        assert name is not None
        at = problem.replace(**{name: theta}) if name != "jitter" else problem
        kernel = kernel_matrix(at.covariance, self.data.grid, self.data.grid)  # [n, n]
        jitter = theta if name == "jitter" else problem.jitter
        matrix = kernel + jitter * np.eye(problem.n)
        if name == "jitter":
            slope = np.eye(problem.n)
        else:
            d = self.data.grid[:, None] - self.data.grid[None, :]
            slope = numpy_form(at.covariance).parameter_slope(d, kernel, name)
        slope_tensor = const(slope.astype(self.dtype), self.tf_dtype)
        grads = []
        for a_copy, y_copy in _perturbed(matrix, self.data.y, self.dtype, self.copies):
            _, grad = model.gradient(
                const(a_copy, self.tf_dtype), slope_tensor, const(y_copy, self.tf_dtype)[:, None]
            )
            grads.append(float(grad[0, 0]))
        return np.array(grads)


def spread_digits(gradients: np.ndarray) -> np.ndarray:
    """Significant digits of the copies that produced a number (axis 0), with probability
    SPREAD_PROBABILITY at confidence SPREAD_CONFIDENCE, by the ``significantdigits``
    library (the stochastic-arithmetic estimate of Sohier et al. 2021 under its Centered
    Normality Hypothesis: -log10 of the relative spread about the copies' mean, less what
    so few samples cannot vouch for); absolute where the mean is 0; clamped to 0..17;
    NaN with fewer than two copies. [copies, m] -> [m]"""
    finite = np.isfinite(gradients)  # [copies, m]
    count = finite.sum(axis=0)  # [m]
    digits = np.full(gradients.shape[1], np.nan)  # [m]
    values = np.where(finite, gradients, 0.0)
    mean = values.sum(axis=0) / np.maximum(count, 1)  # [m]
    whole = (count == gradients.shape[0]) & (count >= 2) & (mean != 0)
    if whole.any():  # the usual case, every copy a number: one vectorised call
        digits[whole] = _significant(gradients[:, whole], mean[whole], "relative")
    for column in np.flatnonzero(~whole & (count >= 2)):
        kept = gradients[finite[:, column], column]
        error = "relative" if mean[column] != 0 else "absolute"
        digits[column] = _significant(kept[:, None], mean[column : column + 1], error)[0]
    clipped: np.ndarray = np.clip(digits, 0.0, MAX_SPREAD_DIGITS)
    return clipped


def _significant(copies: np.ndarray, mean: np.ndarray, error: str) -> np.ndarray:
    """significantdigits' decimal digits of ``copies`` about ``mean``. [k, m], [m] -> [m]"""
    import significantdigits  # scipy.stats: ~1 s to import, paid by the first spread

    return np.asarray(
        significantdigits.significant_digits(
            copies,
            reference=mean,
            axis=0,
            basis=10,
            error=error,
            method="CNH",
            probability=SPREAD_PROBABILITY,
            confidence=SPREAD_CONFIDENCE,
        ),
        dtype=float,
    )


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
            self._last_x = (x, const(x, self._tf_dtype), const([x], self._tf_dtype))
        return self._last_x

    def _x(self, x: float) -> Tensor:
        return self._converted(x)[1]

    def _xs(self, x: float) -> Tensor:
        return self._converted(x)[2]

    def _ts(self, x: float) -> Tensor:
        """x as the function path takes it: a batch of one, or the scalar."""
        return self._xs(x) if self._eager().program.batched else self._x(x)

    def _seed_optimizer(self, x: float) -> PathValue:
        return self._seed().optimizer(x)

    def _seed_gradients(self, x: float) -> PathValue:
        return self._seed().gradients_path(x)

    def _tape(self, x: float) -> PathValue:
        model, xt = self._eager(), self._x(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            value = model.value(xt)
        # .numpy() then index: indexing a tensor is an eager op costing ~0.2 ms each.
        return float(value.numpy()[0, 0]), float(tape.gradient(value, xt).numpy()), {}

    def _function(self, x: float) -> PathValue:
        value, grad = self._graph_function().evaluate(self._ts(x))
        return float(np.reshape(value, -1)[0]), float(np.reshape(grad, -1)[0]), {}

    def _forward(self, x: float) -> PathValue:
        mu, grad = self._forward_function()(self._x(x))
        return float(mu), float(grad), {}

    def _closed_form(self, x: float) -> PathValue:
        """The quantity's analytic derivative (the mean's sum_i dk_i(x)/dx alpha_i, ...),
        in the solver's order (:meth:`Program.closed_form`)."""
        model = self._eager()
        value, grad = model.program.closed_form(model.prepared, self._x(x))
        return float(value.numpy()[0, 0]), float(grad.numpy()[0, 0]), {}

    def _central_difference(self, x: float) -> PathValue:
        """(f(t + h) - f(t - h)) / 2h in this dtype, h = cbrt(eps) max(1, |x|) in x,
        cbrt(eps) theta along an LML quantity's theta (which must stay positive).

        t +/- h and the difference quotient are IEEE operations in this dtype, done in
        numpy (same rounding as TensorFlow) to save eager dispatches; f is TensorFlow's.
        """
        real = np.dtype(self.dtype).type
        eps = float(np.finfo(self.dtype).eps)
        h = real(central_step(self.data.problem.measured, eps, x))
        at = real(x)
        column = np.array([[at - h], [at], [at + h]], dtype=self.dtype)  # [3, 1]
        model = self._eager()
        if model.program.batched:
            values = model.value(tf.convert_to_tensor(column)).numpy()[:, 0]  # [3]
        else:
            values = np.array(
                [model.value(tf.convert_to_tensor(t[0])).numpy()[0, 0] for t in column]
            )
        grad = (values[2] - values[0]) / (real(2) * h)
        return float(values[1]), float(grad), {"h": float(h)}

    def _seed_pair(self, x: float) -> dict[PathName, PathValue]:
        optimizer, gradients = self._seed().both(x)
        return {"seed_optimizer": optimizer, "seed_gradients": gradients}

    def _traced_pair(self, x: float) -> dict[PathName, PathValue]:
        values = self._traced().call(self._ts(x), self._x(x)).numpy()  # [4]
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
        """The quantity's value and derivative by ``path`` at the probe x, or why it
        failed. Never raises but KeyError for a path that does not exist."""
        if path not in EVALUATORS:
            raise KeyError(path)
        return self._cell(path, x, {})

    def _cell(self, path: PathName, x: float, known: Mapping[PathName, PathValue]) -> Cell:
        """The cell of the value ``known`` holds for ``path``, or of evaluating the path
        alone, or of the reason it failed."""
        try:
            value, grad, extra = known[path] if path in known else EVALUATORS[path](self, x)
        except (PathError, tf.errors.OpError, ValueError) as error:
            failure = path_error(error)
            return Cell(path, self.dtype, None, None, one_line(failure), failure.kind)
        if not (math.isfinite(value) and math.isfinite(grad)):
            cause = non_finite_failure(self.data.problem, self.dtype)
            if cause is not None:
                return Cell(path, self.dtype, None, None, str(cause), cause.kind, extra)
            quantity = self.data.problem.measured
            reason = (
                f"non-finite result in {self.dtype} ({quantity.value} = {value}, "
                f"{quantity.slope} = {grad})"
            )
            return Cell(path, self.dtype, None, None, reason, FailureKind.NON_FINITE, extra)
        return Cell(path, self.dtype, value, grad, extra=extra)

    def curves(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The quantity and its derivative by the ``function`` path (the curve path) at
        every probe: one batched call in x, one call per theta (each its own A).
        Raises PathError when the path cannot be built."""
        return self._graph_function().many(xs)

    def variance(self, xs: np.ndarray) -> np.ndarray:
        """The posterior variance var(x) at every x by the ``function`` path (the band
        around mu the plots draw), whatever the quantity; NaN everywhere when its factor
        fails. [m]"""
        if self.data.problem.quantity == "variance-slope":
            model = self._graph_function()
        else:
            model = self._shared(
                "variance",
                lambda: _Function(
                    self.data, self.dtype, VarianceProgram(self.data, self.dtype, eager=False)
                ),
            )
        return model.many(xs)[0]

    def _spread(self) -> _Spread:
        return self._shared("spread", lambda: _Spread(self.data, self.dtype, SPREAD_COPIES))

    def spread(self, x: float) -> Spread | None:
        """The spread of the derivative over the perturbed copies at x; None when the
        copies cannot be built (a failed factor) or fewer than two give a number."""
        try:
            copies = self._spread()
        except PathError:
            return None
        return spread_of(copies.gradients(np.array([x]))[:, 0])

    def spread_curve(self, xs: np.ndarray) -> np.ndarray:
        """:func:`spread_digits` at every probe; NaN where the copies cannot be built. [m]"""
        try:
            copies = self._spread()
        except PathError:
            return np.full(xs.shape, np.nan)
        return spread_digits(copies.gradients(xs))

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
