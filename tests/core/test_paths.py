"""The seven TensorFlow paths against numpy, the rigorous reference and the seed's own code.

Imports TensorFlow. Every PathSet is built once per module (``path_sets`` fixture) and every
x evaluates only, so the whole module stays within a few seconds after TensorFlow's import.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from spec import DTYPES, PATH_NAMES

from gradviz.core.analysis.diagnosis import correct_digits
from gradviz.core.numerics import paths
from gradviz.core.numerics.probe import ProbeEngine
from gradviz.core.numerics.reference import ReferenceSolver
from gradviz.core.numerics.results import (
    CURVE_PATH,
    PATH_SPEC,
    PATH_SPECS,
    PATHS,
    Cell,
    FailureKind,
)
from gradviz.core.problem.data import data_from_sample, problem_data
from gradviz.core.problem.spec import Problem

tf = paths.tf  # TensorFlow, imported quietly by gradviz.core.numerics.paths
PathSet = paths.PathSet


# float64 problems: cond(K + jitter I) ~ 1e5..1e7, so cond * eps64 ~ 1e-9 << 1.
FLOAT64_PROBLEMS = [
    Problem(n=20, jitter=1e-6, solver="cholesky"),
    Problem(n=30, length_scale=0.8, jitter=1e-6, solver="solve"),
    Problem(n=25, domain=(-2, 3), seed=7, jitter=1e-4, solver="inverse"),
]
# float32 needs cond * eps32 << 1: the same problems with jitter 1e-2 (cond ~ 1e3, cond eps ~ 1e-4).
FLOAT32_PROBLEMS = [problem.replace(jitter=1e-2) for problem in FLOAT64_PROBLEMS]
CASES = [(p, "float64") for p in FLOAT64_PROBLEMS] + [(p, "float32") for p in FLOAT32_PROBLEMS]
SEED_JITTERED = Problem(jitter=1e-6, solver="cholesky")
# length scale 1e6: every K_ij = exp(-d^2 / 2e12) with d <= 10 is exactly 1.0 in float32
# (and within 5e-11 of it in float64): K is the all-ones matrix, singular.
FLAT = [Problem(n=50, length_scale=1e6, solver=s) for s in ("inverse", "solve", "cholesky")]

# max over t of |3t - t^3| exp(-t^2 / 2): bounds |d^3/dx^3 k_i(x)| * l^3 (it is ~1.3801).
_T = np.linspace(0.0, 8.0, 80001)
THIRD_DERIVATIVE_BOUND = 1.01 * float(np.max(np.abs(3 * _T - _T**3) * np.exp(-(_T**2) / 2)))
SAFETY = 10.0


def case_id(case: tuple[Problem, str]) -> str:
    return f"{case[1]}: {case[0].summary()}"


def probe_xs(problem: Problem) -> list[float]:
    """Both ends, two interior points and two points slightly outside the domain."""
    lo, hi = problem.domain
    return [lo, 0.3 * lo + 0.7 * hi, (lo + hi) / 2 + 0.01, hi, hi + 0.5, lo - 0.3]


@dataclass(frozen=True)
class Expected:
    mu: float
    grad: float
    tol_mu: float
    tol_grad: float
    tol_difference: float  # for central_difference's d mu/dx
    h: float


def expected(problem: Problem, x: float, dtype: str) -> Expected:
    """mu(x) and mu'(x) by numpy float64, written out here, with dtype-aware tolerances.

    Tolerances (absolute; SAFETY = 10 covers the constants of the bounds):
    - A backward-stable solve in a dtype with unit roundoff eps gives alpha with
      ||d alpha|| <~ cond(K) eps ||alpha|| (this includes rounding K, y, the grid and l to the
      dtype: a relative eps change of K's entries or of y moves alpha by at most that much).
      Then |k . d alpha| <= ||k|| ||d alpha||, and the same with dk for mu'. The explicit
      inverse (solver "inverse") is not backward stable in general; for these SPD K its errors
      stay far below this bound (measured: 1e-4 of it or less).
    - Rounding x, p_i and l inside k_i(x) = exp(-a_i), a_i = (x - p_i)^2 / 2l^2, changes k_i by
      ~eps (1 + 2 a_i) k_i <= 2 eps, and dk_i by ~2 eps / l: at most eps ||alpha||_1 (/ l).
    - central_difference: alpha's error is shared by mu(x + h) and mu(x - h), so it enters
      the quotient like it enters mu' (tol_grad); what is rounded independently in each
      evaluation (k(x +- h), the sums, x +- h itself) is ~eps (||alpha||_1 + (|x| + h)|mu'|)
      divided by h; truncation is h^2 / 6 max|mu'''| <= h^2 / 6 ||alpha||_1 1.38 / l^3.
      With h = cbrt(eps) max(1, |x|) this is ~eps^(2/3): 3.6e-11 (float64), 2.4e-5 (float32).
    """
    lo, hi = problem.domain
    n, length = problem.n, problem.length_scale
    p = np.linspace(lo, hi, n)  # [n]
    k0 = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * length**2))  # [n, n]
    y = np.random.RandomState(problem.seed).multivariate_normal(
        problem.mean * np.ones(n), k0, check_valid="ignore"
    )  # [n]
    matrix = k0 + problem.jitter * np.eye(n)  # [n, n]
    alpha = np.linalg.solve(matrix, y)  # [n]
    u = x - p  # [n]
    k = np.exp(-(u**2) / (2 * length**2))  # [n]
    dk = -u / length**2 * k  # [n]
    mu, grad = float(k @ alpha), float(dk @ alpha)

    eps = float(np.finfo(dtype).eps)
    cond = float(np.linalg.cond(matrix))
    a1, a2 = float(np.abs(alpha).sum()), float(np.linalg.norm(alpha))
    tol_mu = SAFETY * eps * (cond * float(np.linalg.norm(k)) * a2 + a1)
    tol_grad = SAFETY * eps * (cond * float(np.linalg.norm(dk)) * a2 + a1 / length)
    h = math.cbrt(eps) * max(1.0, abs(x))
    rounding = SAFETY * eps * (a1 + (abs(x) + h) * abs(grad)) / h
    truncation = h**2 / 6 * a1 * THIRD_DERIVATIVE_BOUND / length**3
    return Expected(mu, grad, tol_mu, tol_grad, tol_grad + rounding + truncation, h)


@pytest.fixture(scope="module")
def path_sets() -> Iterator[Callable[[Problem, str], PathSet]]:
    """One PathSet per (problem, dtype) for the whole module; Sessions closed at the end."""
    built: dict[tuple[Problem, str], PathSet] = {}

    def get(problem: Problem, dtype: str) -> PathSet:
        if (problem, dtype) not in built:
            built[problem, dtype] = PathSet(problem_data(problem), dtype)
        return built[problem, dtype]

    yield get
    for path_set in built.values():
        path_set.close()


def assert_ok(cell: Cell) -> tuple[float, float]:
    assert cell.status == "ok", cell.error
    assert cell.error is None
    assert isinstance(cell.mu, float) and isinstance(cell.grad, float)
    assert math.isfinite(cell.mu) and math.isfinite(cell.grad)
    return cell.mu, cell.grad


# --- agreement with numpy ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_tolerances_are_tight_enough_to_fail(case: tuple[Problem, str]) -> None:
    """Guard against a vacuous comparison: every tolerance is small next to the values
    (|mu| ~ 0.5..3, |mu'| up to ~1). float32 at cond ~ 1e3 honestly promises only ~3 digits."""
    problem, dtype = case
    limit = 1e-4 if dtype == "float64" else 5e-2
    for x in probe_xs(problem):
        e = expected(problem, x, dtype)
        assert e.tol_mu < limit and e.tol_grad < limit and e.tol_difference < 2 * limit, e


@pytest.mark.parametrize("path", PATH_NAMES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_path_agrees_with_numpy(
    case: tuple[Problem, str], path: str, path_sets: Callable[[Problem, str], PathSet]
) -> None:
    problem, dtype = case
    path_set = path_sets(problem, dtype)
    for x in probe_xs(problem):
        e = expected(problem, x, dtype)
        cell = path_set.evaluate(path, x)
        assert (cell.path, cell.dtype) == (path, dtype)
        mu, grad = assert_ok(cell)
        assert mu == pytest.approx(e.mu, rel=0, abs=e.tol_mu), x
        tol = e.tol_difference if path == "central_difference" else e.tol_grad
        assert grad == pytest.approx(e.grad, rel=0, abs=tol), x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x", [2.0, 0.1, -3.7, 6.3])
def test_seed_optimizer_returns_x_as_the_dtype_rounds_it(
    dtype: str, x: float, path_sets: Callable[[Problem, str], PathSet]
) -> None:
    cell = path_sets(FLOAT32_PROBLEMS[0], dtype).evaluate("seed_optimizer", x)
    assert_ok(cell)
    assert cell.extra["x"] == float(np.dtype(dtype).type(x))
    if dtype == "float32" and x == 0.1:
        assert cell.extra["x"] != 0.1  # the float32 rounding really is visible here


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x", [2.0, 0.3, -4.5, 0.0])
def test_central_difference_step(
    dtype: str, x: float, path_sets: Callable[[Problem, str], PathSet]
) -> None:
    cell = path_sets(FLOAT32_PROBLEMS[0], dtype).evaluate("central_difference", x)
    assert_ok(cell)
    eps = np.finfo(dtype).eps
    assert cell.extra["h"] == float(np.dtype(dtype).type(np.cbrt(float(eps)) * max(1.0, abs(x))))
    assert cell.extra["h"] == pytest.approx(expected(FLOAT32_PROBLEMS[0], x, dtype).h, rel=1e-6)


def test_other_paths_have_no_extra(path_sets: Callable[[Problem, str], PathSet]) -> None:
    path_set = path_sets(FLOAT64_PROBLEMS[0], "float64")
    for path in PATH_NAMES[1:6]:
        assert dict(path_set.evaluate(path, 1.0).extra) == {}


def test_unknown_path_is_a_key_error(path_sets: Callable[[Problem, str], PathSet]) -> None:
    with pytest.raises(KeyError):
        path_sets(FLOAT64_PROBLEMS[0], "float64").evaluate("adam", 1.0)


# --- the seed, bit for bit -------------------------------------------------------------------


@dataclass(frozen=True)
class SeedRun:
    optimizer: list[tuple[float, float]]  # the seed's "gradient one": [(grad, x)]
    gradients: list[float]  # the seed's "gradient two": [grad]
    mus: tuple[float, float]  # mu from each of the two expectation(x) calls


def run_seed_code(dtype_name: str) -> SeedRun:
    """Stack Overflow 51006474, as on the seed page: the question's float32 program, or the
    answer's float64 one (five64 and the other marked lines). Adapted only to run under TF2:
    a fresh tf.Graph, tf.compat.v1 for Variable / AdamOptimizer / gradients / Session,
    tf.linalg.inv for tf.matrix_inverse, and numpy's PSD warning silenced. The seed prints
    only gradients; mu of each expectation(x) call is fetched in two extra runs afterwards."""
    v1 = tf.compat.v1
    with tf.Graph().as_default():

        def expectation(x):
            point = np.reshape(np.linspace(-5.0, 5.0, 300), (300, 1))
            kernel_matrix_np = np.exp(-((point - np.transpose(point)) ** 2) / (2 * 1.5**2))

            def reference_point():
                covariance = kernel_matrix_np
                np.random.seed(100)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    sampled_funcs = np.random.multivariate_normal(np.ones(len(point)), covariance)
                return sampled_funcs

            if dtype_name == "float32":
                ref_point = tf.transpose(tf.convert_to_tensor(reference_point(), dtype=tf.float32))
                point = tf.reshape(tf.linspace(-5.0, 5.0, 300), (300, 1))
            else:
                ref_point = tf.transpose(tf.convert_to_tensor(reference_point(), dtype=tf.float64))
                five64 = tf.convert_to_tensor(5.0, dtype=tf.float64)
                point = tf.reshape(tf.linspace(-five64, 5.0, 300), (300, 1))
            kernel_matrix_tf = tf.exp(-((point - tf.transpose(point)) ** 2) / (2 * 1.5**2))
            inverse_kernel_matrix = tf.linalg.inv(kernel_matrix_tf)
            kernel_vector = tf.exp(-((x - tf.transpose(point)) ** 2) / (2 * 1.5**2))
            mu = tf.matmul(kernel_vector, inverse_kernel_matrix)
            ref_point = tf.expand_dims(ref_point, axis=1)
            mu = tf.matmul(mu, ref_point)
            return mu

        if dtype_name == "float32":
            x = v1.Variable(2.0, name="x")
        else:
            x = v1.Variable(2.0, dtype=tf.float64, name="x")
        mu_1 = expectation(x)
        gradients_1 = v1.train.AdamOptimizer().compute_gradients(mu_1, var_list=[x])
        mu_2 = expectation(x)
        graidents_2 = v1.gradients(mu_2, [x])

        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            one = sess.run(gradients_1)
            two = sess.run(graidents_2)
            mus = (float(sess.run(mu_1)[0, 0]), float(sess.run(mu_2)[0, 0]))
    return SeedRun([(float(g), float(v)) for g, v in one], [float(g) for g in two], mus)


@pytest.fixture(scope="module")
def seed_code_results() -> dict[str, SeedRun]:
    state = np.random.get_state()  # the seed's code seeds numpy's global RNG
    try:
        return {dtype: run_seed_code(dtype) for dtype in DTYPES}
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("dtype", DTYPES)
def test_seed_paths_equal_the_seed_code_bit_for_bit(
    dtype: str,
    seed_code_results: dict[str, SeedRun],
    path_sets: Callable[[Problem, str], PathSet],
) -> None:
    run = seed_code_results[dtype]
    [(grad_1, x_1)], [grad_2] = run.optimizer, run.gradients
    assert x_1 == 2.0
    path_set = path_sets(Problem(), dtype)
    optimizer = path_set.evaluate("seed_optimizer", 2.0)
    gradients = path_set.evaluate("seed_gradients", 2.0)
    assert_ok(optimizer)
    assert_ok(gradients)
    assert optimizer.grad == grad_1  # exact: the same program gives the same bits
    assert optimizer.extra["x"] == x_1
    assert gradients.grad == grad_2
    # The seed's order (k(x) @ K^-1) @ y shows in mu: k(x) @ (K^-1 @ y) gives other bits.
    assert (optimizer.mu, gradients.mu) == run.mus


# --- correctness against the rigorous reference --------------------------------------------

NINE_DIGIT_PROBLEMS = [FLOAT64_PROBLEMS[0], SEED_JITTERED]
DIGIT_XS = [-5.0, -1.3, 0.01, 2.0, 4.7, 5.5]


@pytest.fixture(scope="module")
def references() -> dict[Problem, list]:
    """Ball-arithmetic references (certified at 128 bits, ~0.6 s for n = 300)."""
    return {
        p: ReferenceSolver(problem_data(p)).evaluate_many(DIGIT_XS) for p in NINE_DIGIT_PROBLEMS
    }


@pytest.mark.parametrize("path", PATH_NAMES)
@pytest.mark.parametrize("problem", NINE_DIGIT_PROBLEMS, ids=Problem.summary)
def test_float64_paths_have_nine_correct_digits_with_jitter(
    problem: Problem,
    path: str,
    references: dict[Problem, list],
    path_sets: Callable[[Problem, str], PathSet],
) -> None:
    path_set = path_sets(problem, "float64")
    for x, reference in zip(DIGIT_XS, references[problem], strict=True):
        assert reference.status == "exact"
        _, grad = assert_ok(path_set.evaluate(path, x))
        digits = correct_digits(grad, reference.grad)
        assert digits is not None
        if path != "central_difference":
            assert digits >= 9, (x, grad, reference.grad)
        else:
            # A difference quotient cannot reach 9 digits everywhere: the ~1e-14 rounding of
            # mu(x +- h) divided by 2h ~ 1e-5 leaves ~1e-9 absolute, so where |mu'| is small
            # (0.024 at x = 0.01 for n = 20) only ~7 digits are left. Check it against its own
            # error bound (rounding / h + h^2 truncation) instead, and demand 6 digits.
            assert digits >= 6, (x, grad, reference.grad)
            bound = expected(problem, x, "float64").tol_difference
            assert abs(grad - reference.grad.mid) <= bound


# --- failures are results --------------------------------------------------------------------


def test_float32_cholesky_failure_is_an_error_cell_for_every_path(
    path_sets: Callable[[Problem, str], PathSet],
) -> None:
    path_set = path_sets(SEED_JITTERED, "float32")
    for x in (2.0, -1.0):
        for path in PATH_NAMES:
            cell = path_set.evaluate(path, x)
            assert cell.status == "error", (path, cell)
            assert cell.mu is None and cell.grad is None
            assert "Cholesky" in cell.error
            assert cell.failure_kind == FailureKind.CHOLESKY_NOT_PD
            assert "\n" not in cell.error
    # The same problem is fine in float64: the failure is float32's, not the problem's.
    assert path_sets(SEED_JITTERED, "float64").evaluate("tape", 2.0).status == "ok"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("problem", FLAT, ids=Problem.summary)
def test_singular_kernel_gives_errors_or_finite_numbers(
    problem: Problem, dtype: str, path_sets: Callable[[Problem, str], PathSet]
) -> None:
    path_set = path_sets(problem, dtype)
    for x in (2.0, 0.0):
        for path in PATH_NAMES:
            cell = path_set.evaluate(path, x)  # must not raise
            assert cell.path == path and cell.dtype == dtype
            if cell.status == "ok":
                assert math.isfinite(cell.mu) and math.isfinite(cell.grad)
            else:
                assert cell.mu is None and cell.grad is None
                assert isinstance(cell.error, str) and cell.error.strip()
                assert "\n" not in cell.error
            if dtype == "float32":
                # K is exactly the all-ones matrix in float32: no solver may return a number.
                assert cell.status == "error", cell
                singular = (
                    FailureKind.CHOLESKY_NOT_PD
                    if problem.solver == "cholesky"
                    else FailureKind.SINGULAR_INVERSE
                )
                assert cell.failure_kind in (singular, FailureKind.NON_FINITE), cell


# --- tracing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_function_and_forward_trace_once(
    dtype: str, path_sets: Callable[[Problem, str], PathSet]
) -> None:
    path_set = path_sets(FLOAT32_PROBLEMS[1], dtype)
    rng = np.random.default_rng(51006474)
    for x in rng.uniform(-7.0, 7.0, size=100):
        assert path_set.evaluate("function", float(x)).status == "ok"
        assert path_set.evaluate("forward", float(x)).status == "ok"
    mu, grad = path_set.curves(np.linspace(-5.0, 5.0, 1000))
    assert mu.shape == grad.shape == (1000,)
    path_set.curves(np.linspace(-6.0, 6.0, 37))
    assert path_set.tracing_counts() == {"function": 1, "forward": 1}
    path_set.probe(0.25)
    assert path_set.tracing_counts() == {"function": 1, "forward": 1, "traced": 1}


# --- ProbeEngine -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> ProbeEngine:
    return ProbeEngine()


def test_probe_returns_fourteen_cells_in_order(engine: ProbeEngine) -> None:
    problem = FLOAT32_PROBLEMS[0]
    result = engine.probe(problem_data(problem), 1.25)
    assert result.problem == problem and result.x == 1.25
    assert [(c.dtype, c.path) for c in result.cells] == [
        (dtype, path) for dtype in DTYPES for path in PATH_NAMES
    ]
    for cell in result.cells:
        e = expected(problem, 1.25, cell.dtype)
        mu, grad = assert_ok(cell)
        assert mu == pytest.approx(e.mu, rel=0, abs=e.tol_mu)
        tol = e.tol_difference if cell.path == "central_difference" else e.tol_grad
        assert grad == pytest.approx(e.grad, rel=0, abs=tol)
        assert result.cell(cell.path, cell.dtype) is cell
        # Every extra a path returns is declared in its spec, and every declared one comes.
        assert set(cell.extra) == {extra.key for extra in PATH_SPEC[cell.path].extras}


def test_curves_match_probes_of_the_function_path(engine: ProbeEngine) -> None:
    problem = FLOAT32_PROBLEMS[2]  # cond ~ 1e3: both dtypes are meaningful
    curves = engine.curves(problem_data(problem))
    assert curves.problem == problem
    assert np.array_equal(curves.x, np.linspace(*problem.domain, 1000))
    for dtype in DTYPES:
        assert curves.errors[dtype] is None
        assert curves.mu[dtype].shape == curves.grad[dtype].shape == (1000,)
        assert curves.mu[dtype].dtype == np.float64
    for index in (0, 137, 500, 999):
        x = float(curves.x[index])
        result = engine.probe(problem_data(problem), x)
        for dtype in DTYPES:
            e = expected(problem, x, dtype)
            cell = result.cell("function", dtype)
            assert curves.mu[dtype][index] == pytest.approx(cell.mu, rel=0, abs=e.tol_mu)
            assert curves.grad[dtype][index] == pytest.approx(cell.grad, rel=0, abs=e.tol_grad)
            assert curves.grad[dtype][index] == pytest.approx(e.grad, rel=0, abs=e.tol_grad)
    # cond ~ 1e3: float32 keeps ~3 digits of a gradient ~ 1
    assert np.all(np.abs(curves.grad["float32"] - curves.grad["float64"]) < 1e-2)
    xs = np.array([-1.0, 0.5])
    custom = engine.curves(problem_data(problem), xs)
    assert np.array_equal(custom.x, xs) and custom.mu["float64"].shape == (2,)


def test_curves_of_a_failing_dtype_are_nan_with_a_reason(engine: ProbeEngine) -> None:
    curves = engine.curves(problem_data(SEED_JITTERED), np.linspace(-5.0, 5.0, 50))
    assert curves.errors["float32"] is not None and "Cholesky" in curves.errors["float32"]
    assert np.all(np.isnan(curves.mu["float32"])) and np.all(np.isnan(curves.grad["float32"]))
    assert curves.errors["float64"] is None
    assert np.all(np.isfinite(curves.grad["float64"]))


def test_engine_keeps_the_builds_of_two_problems() -> None:
    engine = ProbeEngine()
    problems = [Problem(n=n, jitter=1e-2, solver="cholesky") for n in (11, 12, 13)]
    first = engine.probe(problem_data(problems[0]), 0.5)
    for problem in problems[1:]:
        engine.probe(problem_data(problem), 0.5)
    alive = engine.tracing_counts()
    assert alive  # probes build the traced functions
    assert all(count == 1 for count in alive.values())
    summaries = {problem.summary() for problem in problems}
    assert len(summaries) == 3
    assert not any(problems[0].summary() in key for key in alive)
    for problem in problems[1:]:
        assert {f"{d} traced {problem.summary()}" for d in DTYPES} <= set(alive)
    # An evicted problem is rebuilt on demand and gives the same numbers.
    again = engine.probe(problem_data(problems[0]), 0.5)
    assert again.cells == first.cells
    alive = engine.tracing_counts()
    assert not any(problems[1].summary() in key for key in alive)
    assert any(problems[0].summary() in key for key in alive)


def test_engine_probes_at_new_x_do_not_retrace(engine: ProbeEngine) -> None:
    problem = FLOAT32_PROBLEMS[1]
    for x in np.linspace(-4.0, 4.0, 9):
        engine.probe(problem_data(problem), float(x))
    counts = {k: v for k, v in engine.tracing_counts().items() if problem.summary() in k}
    assert set(counts) == {f"{d} traced {problem.summary()}" for d in DTYPES}
    assert all(count == 1 for count in counts.values())


def test_a_sample_handed_over_gives_bit_identical_probes() -> None:
    """The worker draws y in one process and hands it to the TensorFlow process: every cell
    must be the same bit for bit as when the sample is drawn where it is used."""
    problem = Problem()
    drawn = problem_data(problem)
    handed = data_from_sample(problem, np.array(drawn.y.tolist()))
    assert handed is not drawn
    here, there = ProbeEngine(), ProbeEngine()
    for x in (2.0, -0.37):
        assert there.probe(handed, x).cells == here.probe(drawn, x).cells


# --- failure kinds and the path registry ------------------------------------------------------


@pytest.mark.timeout(120)
def test_cholesky_without_jitter_is_not_positive_definite_in_float32(
    path_sets: Callable[[Problem, str], PathSet],
) -> None:
    problem = Problem(jitter=0, solver="cholesky")
    p = np.linspace(-5.0, 5.0, 300)
    kernel32 = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * 1.5**2)).astype(np.float32)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(kernel32)  # LAPACK agrees: K is not positive definite in float32
    path_set = path_sets(problem, "float32")
    for path in PATH_NAMES:
        cell = path_set.evaluate(path, 2.0)
        assert cell.failure_kind == FailureKind.CHOLESKY_NOT_PD, cell
        assert cell.status == "error" and cell.error


def test_tensorflow_errors_map_to_kinds() -> None:
    oom = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
    assert paths.path_error(oom).kind == FailureKind.OUT_OF_MEMORY
    other = tf.errors.InternalError(None, None, "something broke\n  [[{{node x}}]]")
    failure = paths.path_error(other)
    assert failure.kind == FailureKind.TENSORFLOW_ERROR
    assert str(failure) == "something broke"


def test_every_path_spec_has_an_evaluator_and_vice_versa() -> None:
    assert list(PATHS) == PATH_NAMES  # the documented order
    assert set(paths.EVALUATORS) == set(PATH_NAMES)
    assert [spec.name for spec in PATH_SPECS if spec.curve] == ["function"]
    assert CURVE_PATH == "function"
    for spec in PATH_SPECS:
        assert spec.label and spec.help
    extras = {spec.name: {e.key for e in spec.extras} for spec in PATH_SPECS}
    assert extras["seed_optimizer"] == {"x"} and extras["central_difference"] == {"h"}
