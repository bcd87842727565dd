"""Every quantity of issue 20 against independent computations: scikit-learn's log marginal
likelihood gradient, central differences of the numpy float64 forms in tests/spec.py, and
ball arithmetic written out there (never values copied from gradviz)."""

from __future__ import annotations

import math

import pytest
from flint import arb
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    ExpSineSquared,
    Matern,
    RationalQuadratic,
    WhiteKernel,
)
from spec import LML_THETA, QUANTITY_NAMES, flint_quantity, numpy_quantity

from gradviz.core.analysis.advice import advice_from, measure_advice
from gradviz.core.analysis.diagnosis import correct_digits, diagnose, max_digits
from gradviz.core.analysis.sweep import jitter_sweep, jitter_sweep_refusal
from gradviz.core.numerics.paths import PathSet
from gradviz.core.numerics.probe import ProbeEngine
from gradviz.core.numerics.reference import reference_solver
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem, ProblemError

# A small, well-conditioned problem per kernel (jitter 0.05: a noise variance), each kernel's
# parameters away from their defaults.
WELL = {"n": 12, "domain": (-3.0, 3.0), "length_scale": 1.1, "jitter": 0.05, "seed": 7}
KERNEL_PARAMETERS = {
    "rbf": {},
    "matern12": {},
    "matern32": {},
    "matern52": {},
    "rational-quadratic": {"alpha": 0.8},
    "periodic": {"period": 2.7},
}


def sklearn_kernel(problem: Problem):  # type: ignore[no-untyped-def]
    """The same covariance in scikit-learn: S * k + jitter (its conventions are issue 19's)."""
    length = problem.length_scale
    base = {
        "rbf": lambda: RBF(length),
        "matern12": lambda: Matern(length, nu=0.5),
        "matern32": lambda: Matern(length, nu=1.5),
        "matern52": lambda: Matern(length, nu=2.5),
        "rational-quadratic": lambda: RationalQuadratic(length, alpha=problem.alpha),
        "periodic": lambda: ExpSineSquared(length, periodicity=problem.period),
    }[problem.kernel]()
    return ConstantKernel(problem.signal_variance) * base + WhiteKernel(problem.jitter)


# scikit-learn's hyperparameter names (``kernel_.hyperparameters``) for each of our thetas.
SKLEARN_NAME = {
    "signal_variance": "constant_value",
    "length_scale": "length_scale",
    "alpha": "alpha",
    "period": "periodicity",
    "jitter": "noise_level",
}


def closed_form(problem: Problem, t: float) -> tuple[float, float]:
    """(value, derivative) of gradviz's float64 closed form at the probe t."""
    cell = PathSet(problem_data(problem), "float64").evaluate("closed_form", t)
    assert cell.mu is not None and cell.grad is not None, cell.error
    return cell.mu, cell.grad


@pytest.mark.parametrize("kernel", list(KERNEL_PARAMETERS))
def test_float64_closed_form_matches_scikit_learn(kernel: str) -> None:
    """LML and d LML/dtheta for every theta the kernel has: scikit-learn differentiates in
    log theta, so its gradient is divided by theta."""
    base = Problem(**WELL, kernel=kernel, signal_variance=1.3, **KERNEL_PARAMETERS[kernel])
    data = problem_data(base)
    gpr = GaussianProcessRegressor(sklearn_kernel(base), alpha=0.0, optimizer=None)
    gpr.fit(data.grid[:, None], data.y)
    lml, gradient = gpr.log_marginal_likelihood(gpr.kernel_.theta, eval_gradient=True)
    names = [h.name.rsplit("__", 1)[-1] for h in gpr.kernel_.hyperparameters]
    compared = []
    for quantity, theta in LML_THETA.items():
        try:
            problem = base.replace(quantity=quantity)
        except ProblemError:
            assert theta in ("alpha", "period")  # only kernels without the parameter refuse
            continue
        assert problem.theta is not None
        value, grad = closed_form(problem, problem.theta)
        expected = gradient[names.index(SKLEARN_NAME[theta])] / problem.theta
        assert value == pytest.approx(lml, rel=1e-12)
        assert grad == pytest.approx(expected, rel=1e-9), (quantity, grad, expected)
        compared.append(theta)
    assert len(compared) == len(names)  # every hyperparameter scikit-learn has


def richardson(f, t: float, h: float) -> float:  # type: ignore[no-untyped-def]
    """The five-point central difference of f at t: error ~h^4."""
    return (f(t - 2 * h) - 8 * f(t - h) + 8 * f(t + h) - f(t + 2 * h)) / (12 * h)


CD_CASES = [
    (quantity, kernel)
    for quantity in QUANTITY_NAMES
    for kernel in KERNEL_PARAMETERS
    if quantity not in ("lml-alpha", "lml-period")
    or kernel == {"lml-alpha": "rational-quadratic", "lml-period": "periodic"}[quantity]
]


@pytest.mark.parametrize(("quantity", "kernel"), CD_CASES)
def test_every_quantity_against_central_differences_of_its_numpy_form(
    quantity: str, kernel: str
) -> None:
    problem = Problem(**WELL, kernel=kernel, quantity=quantity, **KERNEL_PARAMETERS[kernel])
    data = problem_data(problem)
    t = problem.default_x if problem.measured.is_lml else 0.4  # 0.4: no data point (kinks)
    value, grad = closed_form(problem, t)

    def numpy_value(at: float) -> float:
        return numpy_quantity(problem, data.grid, data.y, at)

    h = 1e-4 * (t if problem.measured.is_lml else 1.0)
    assert value == pytest.approx(numpy_value(t), rel=1e-10, abs=1e-13)
    assert grad == pytest.approx(richardson(numpy_value, t, h), rel=1e-6, abs=1e-9)


# --- Done when: problems no other test uses, against ball arithmetic written in tests/spec.py ---

# Moderately conditioned: 18 points 0.26 apart with length scale 0.7, jitter 1e-7 (cond ~1e7).
DONE = {
    "n": 18,
    "domain": (-2.0, 2.4),
    "length_scale": 0.7,
    "jitter": 1e-7,
    "solver": "cholesky",
    "seed": 20,
}
DONE_CASES = {
    "mean-slope": ("matern52", {}),
    "variance-slope": ("rbf", {}),
    "lml-lengthscale": ("rbf", {}),
    "lml-signal-variance": ("matern32", {"signal_variance": 0.6}),
    "lml-jitter": ("rbf", {}),
    "lml-alpha": ("rational-quadratic", {"alpha": 1.7}),
    "lml-period": ("periodic", {"period": 1.9}),
}
CHECKED_PATHS = ("function", "closed_form", "seed_gradients")


def test_every_quantity_is_checked() -> None:
    assert sorted(DONE_CASES) == sorted(QUANTITY_NAMES)


@pytest.mark.parametrize("quantity", QUANTITY_NAMES)
def test_float64_cells_agree_with_ball_arithmetic_and_their_digits_are_honest(
    quantity: str,
) -> None:
    kernel, parameters = DONE_CASES[quantity]
    problem = Problem(**DONE, kernel=kernel, quantity=quantity, **parameters)
    data = problem_data(problem)
    t = problem.default_x if problem.measured.is_lml else 0.33
    _, exact = flint_quantity(problem, data.grid.tolist(), data.y.tolist(), t)
    truth = float(exact.mid())
    assert exact.rad() < 1e-20 * abs(truth)
    result = ProbeEngine().probe(data, t, spread=False)
    reference = reference_solver(data, 30).evaluate(t)
    assert reference.status == "exact" and reference.grad is not None
    assert abs(reference.grad.mid - truth) <= reference.grad.radius + 1e-15 * abs(truth)
    diagnosis = diagnose(result, reference, None)
    for path in CHECKED_PATHS:
        grad = result.cell(path, "float64").grad
        assert grad is not None
        assert abs(grad - truth) <= 1e-6 * abs(truth), (path, grad, truth)
    for cell in result.cells:
        if cell.grad is None:
            continue
        error = abs(cell.grad - truth) / abs(truth)
        honest = (
            min(max(-math.log10(error), 0.0), max_digits(cell.dtype))
            if error
            else max_digits(cell.dtype)
        )
        shown = diagnosis.correct_digits[(cell.path, cell.dtype)]
        assert shown is not None and abs(shown - honest) <= 0.5, (
            cell.path,
            cell.dtype,
            shown,
            honest,
        )
        assert shown == correct_digits(cell.grad, reference.grad, cell.dtype)
    assert isinstance(exact, arb)


def test_the_jitter_sweep_and_the_advice_of_an_lml_quantity() -> None:
    """The sweep measures an LML gradient per jitter against each jitter's exact answer;
    the advice keeps the problem's own jitter (part of the likelihood) and compares the
    solvers there; lml-jitter has no jitter sweep (the jitter is its axis)."""
    problem = Problem(**DONE, kernel="rbf", quantity="lml-signal-variance")
    data = problem_data(problem)
    sweep = jitter_sweep(data, 1.0, solvers=("cholesky",), jitters=(1e-7, 1e-4), budget_s=20)
    assert {(row.solver, row.jitter) for row in sweep.rows} == {
        ("cholesky", 1e-7),
        ("cholesky", 1e-4),
    }
    assert all(
        row.rounding_digits is not None and row.rounding_digits > 6
        for row in sweep.rows
        if row.dtype == "float64"
    )
    advice = measure_advice(data, 1.0, budget_s=20)
    assert {m.jitter for m in advice.best.values() if m is not None} == {1e-7}
    assert advice.as_given["float64"].digits is not None
    # Read off a sweep over many jitters, the advice still keeps the problem's own one.
    from_sweep = advice_from(sweep, "cholesky", 1e-7)
    assert {m.jitter for m in from_sweep.best.values() if m is not None} == {1e-7}
    own = next(r for r in sweep.rows if (r.jitter, r.dtype) == (1e-7, "float64"))
    assert from_sweep.as_given["float64"].digits == own.rounding_digits
    along = problem.replace(quantity="lml-jitter")
    assert jitter_sweep_refusal(along) is not None
    with pytest.raises(ValueError, match="own axis"):
        jitter_sweep(problem_data(along), 1e-7)
