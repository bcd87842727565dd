"""Every kernel's numpy and ball forms against the issue's formulas, finite differences and
each other; the problem's kernel fields, its data and pinned sample (no TensorFlow)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from flint import arb, ctx
from spec import arb_kernel

from gradviz.core.numerics.reference import ball_form
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.kernels import (
    KERNELS,
    Kernel,
    NotDifferentiableError,
    kernel_matrix,
    numpy_form,
)
from gradviz.core.problem.spec import Problem, ProblemError
from gradviz.core.problem.vector import Vector

# Every kernel with parameters away from the defaults (S != 1 tests the scaling).
PROBLEMS = {
    "rbf": Problem(kernel="rbf", length_scale=0.7, signal_variance=2.5),
    "matern12": Problem(kernel="matern12", length_scale=0.7, signal_variance=2.5),
    "matern32": Problem(kernel="matern32", length_scale=0.7, signal_variance=2.5),
    "matern52": Problem(kernel="matern52", length_scale=0.7, signal_variance=2.5),
    "rational-quadratic": Problem(
        kernel="rational-quadratic", length_scale=0.7, signal_variance=2.5, alpha=0.6
    ),
    "periodic": Problem(kernel="periodic", length_scale=0.7, signal_variance=2.5, period=1.7),
}
# Differences d = a - b, both signs, none at the kink.
D = np.array([-3.1, -1.2, -0.45, -0.01, 0.003, 0.3, 0.9, 2.2, 4.7])
BITS = 200


def test_every_kernel_is_tested() -> None:
    assert tuple(PROBLEMS) == KERNELS


def at_bits(function, bits: int = BITS):  # type: ignore[no-untyped-def]
    saved = ctx.prec
    ctx.prec = bits
    try:
        return function()
    finally:
        ctx.prec = saved


def kernel(name: str) -> Kernel:
    return PROBLEMS[name].covariance


@pytest.mark.parametrize("name", KERNELS)
def test_numpy_values_match_the_issues_formulas(name: str) -> None:
    exact = at_bits(lambda: [float(arb_kernel(PROBLEMS[name], arb(d))) for d in D])
    np.testing.assert_allclose(numpy_form(kernel(name)).value(D), exact, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", KERNELS)
def test_ball_values_enclose_the_issues_formulas(name: str) -> None:
    def check() -> None:
        form = ball_form(kernel(name))
        for d in D:
            ball, truth = form.value(arb(d)), arb_kernel(PROBLEMS[name], arb(d))
            assert ball.overlaps(truth)
            assert ball.rad() < arb(2) ** -150 * abs(truth.mid())

    at_bits(check)


@pytest.mark.parametrize("name", KERNELS)
def test_numpy_slope_is_the_central_difference_of_the_numpy_value(name: str) -> None:
    form = numpy_form(kernel(name))
    h = 1e-6
    difference = (form.value(D + h) - form.value(D - h)) / (2 * h)
    np.testing.assert_allclose(form.slope(D, form.value(D)), difference, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", KERNELS)
def test_numpy_parameter_slopes_are_differences_in_the_parameter(name: str) -> None:
    base = kernel(name)
    form = numpy_form(base)
    for parameter in base.parameters:
        value = getattr(base, parameter)
        h = 1e-6 * value
        up = numpy_form(type(base)(**{**vars(base), parameter: value + h})).value(D)
        down = numpy_form(type(base)(**{**vars(base), parameter: value - h})).value(D)
        np.testing.assert_allclose(
            form.parameter_slope(D, form.value(D), parameter),
            (up - down) / (2 * h),
            rtol=1e-7,
            atol=1e-9,
            err_msg=parameter,
        )


@pytest.mark.parametrize("name", KERNELS)
def test_ball_slopes_are_high_precision_differences_of_the_formula(name: str) -> None:
    """dk/dd and dk/dtheta of the ball form against quotients with h = 2^-100 at 400 bits
    of the issue's formula: agreement to ~1e-30, far below any float64 use."""
    problem = PROBLEMS[name]

    def check() -> None:
        form = ball_form(problem.covariance)
        h = arb(2) ** -100
        for d in D:
            k = form.value(arb(d))
            quotient = (arb_kernel(problem, arb(d) + h) - arb_kernel(problem, arb(d) - h)) / (2 * h)
            assert abs(form.slope(arb(d), k) - quotient) < arb(10) ** -28
            for parameter in problem.covariance.parameters:
                value = getattr(problem, parameter)
                moved = [value * (1 + e) for e in (2.0**-40, -(2.0**-40))]  # exact floats
                up, down = (arb_kernel(problem.replace(**{parameter: v}), arb(d)) for v in moved)
                quotient = (up - down) / (arb(moved[0]) - arb(moved[1]))
                exact = form.parameter_slope(arb(d), k, parameter)
                assert abs(exact - quotient) < arb(10) ** -20 * (1 + abs(exact)), parameter

    at_bits(check, 400)


@pytest.mark.parametrize("name", KERNELS)
def test_numpy_and_ball_forms_agree(name: str) -> None:
    form = numpy_form(kernel(name))
    values, slopes = form.value(D), form.slope(D, form.value(D))

    def balls() -> list[tuple[float, float]]:
        ball = ball_form(kernel(name))
        pairs = []
        for d in D:
            k = ball.value(arb(d))
            pairs.append((float(k.mid()), float(ball.slope(arb(d), k).mid())))
        return pairs

    expected = np.array(at_bits(balls))
    np.testing.assert_allclose(values, expected[:, 0], rtol=1e-14)
    np.testing.assert_allclose(slopes, expected[:, 1], rtol=1e-12, atol=1e-15)


def test_matern12_has_a_kink_and_the_others_do_not() -> None:
    def check() -> None:
        for name in KERNELS:
            form = ball_form(kernel(name))
            zero = arb(0)
            if name == "matern12":
                with pytest.raises(NotDifferentiableError):
                    form.slope(zero, form.value(zero))
                with pytest.raises(NotDifferentiableError):
                    form.slope(arb(0, 1e-30), form.value(arb(0, 1e-30)))
                jump = arb(2.5) / arb(0.7)  # S / L
                left, right = (ball_form(kernel(name), side) for side in (-1, +1))
                assert left.slope(zero, left.value(zero)).overlaps(jump)
                assert right.slope(zero, right.value(zero)).overlaps(-jump)
            else:
                assert form.slope(zero, form.value(zero)).overlaps(arb(0))
        # Away from 0 the sign is certain and the slope exists.
        assert ball_form(kernel("matern12")).slope(arb(1e-300), arb(1)).mid() < 0

    at_bits(check)


def test_numpy_matern12_takes_sign_0_as_0_at_the_kink() -> None:
    form = numpy_form(kernel("matern12"))
    assert form.slope(np.array([0.0]), form.value(np.array([0.0])))[0] == 0.0


def test_rbf_kernel_matrix_is_the_seeds_expression_bit_for_bit() -> None:
    p = np.linspace(-5, 5, 300)
    seed = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * 1.5**2))
    assert np.array_equal(kernel_matrix(Problem().covariance, p, p), seed)
    assert np.array_equal(problem_data(Problem(n=300)).kernel, seed)


@pytest.mark.parametrize("name", ["matern32", "periodic"])
def test_the_grid_sample_is_drawn_from_the_chosen_kernel(name: str) -> None:
    """K is the kernel's (against the issue's formula) and y is the seed's draw from it."""
    problem = PROBLEMS[name].replace(n=30, seed=5, mean=0.5, jitter=0.0)
    p = np.linspace(-5, 5, 30)
    k = np.array([[float(arb_kernel(problem, arb(a) - arb(b))) for b in p] for a in p])
    data = problem_data(problem)
    # sin(pi d / P) rounds its argument (up to ~18 here) in float64: 1e-13, not 1e-16.
    np.testing.assert_allclose(data.kernel, k, rtol=1e-12, atol=1e-300)
    y = np.random.RandomState(5).multivariate_normal(
        0.5 * np.ones(30), data.kernel, check_valid="ignore"
    )
    assert np.array_equal(data.y, y)
    assert not np.array_equal(data.y, problem_data(problem.replace(kernel="rbf")).y)


# --- the problem's fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"kernel": "matern"}, "kernel", "one of rbf, matern12"),
        ({"kernel": "rbf", "alpha": 2.0}, "alpha", "only rational-quadratic"),
        ({"kernel": "matern32", "period": 2.0}, "period", "only periodic"),
        ({"signal_variance": 0.0}, "signal_variance", "from 1e-06 to 1e+06"),
        ({"signal_variance": float("nan")}, "signal_variance", "finite"),
        ({"kernel": "rational-quadratic", "alpha": -1.0}, "alpha", "from 1e-06"),
        ({"kernel": "periodic", "period": 2e6}, "period", "to 1e+06"),
        ({"kernel": "periodic", "period": "2"}, "period", "finite number"),
    ],
)
def test_kernel_fields_name_the_field_and_the_range(
    changes: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(ProblemError) as info:
        Problem(**changes)  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in str(info.value)


def test_a_kernel_gets_its_parameters_and_loses_the_others() -> None:
    assert Problem(kernel="rational-quadratic").alpha == 1.0
    assert Problem(kernel="periodic").period == 1.0
    rq = Problem(kernel="rational-quadratic", alpha=3.0)
    assert rq.replace(kernel="periodic").alpha is None
    assert rq.replace(kernel="periodic").period == 1.0
    assert rq.replace(jitter=1e-6).alpha == 3.0
    assert rq.covariance.parameters == ("length_scale", "signal_variance", "alpha")
    with pytest.raises(ProblemError, match="alpha"):
        rq.replace(kernel="rbf", alpha=3.0)


def test_summary_names_the_kernel_and_its_parameters() -> None:
    problem = Problem(kernel="rational-quadratic", alpha=0.5, signal_variance=2.0)
    assert problem.summary() == "n=300, rational-quadratic, l=1.5, S=2, A=0.5, jitter 0, inverse"


# --- data and pinned samples ------------------------------------------------------------------


def data_problem(n: int = 5) -> Problem:
    x = np.array([0.5, -1.0, 2.0, 0.5, 1.25])[:n]
    return Problem().replace(points=Vector.of(x), y=Vector.of(np.arange(n) * 0.1))


def test_vectors_compare_by_content_and_pickle() -> None:
    a, b = Vector.of([1.0, 2.5]), Vector.of(np.array([1.0, 2.5]))
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != Vector.of([1.0, 2.5000000000000004])
    assert pickle.loads(pickle.dumps(a)) == a
    assert not a.array.flags.writeable
    assert [float.fromhex(h) for h in a.hex()] == [1.0, 2.5]


def test_data_gives_n_and_domain_and_the_middle_as_probe() -> None:
    problem = data_problem()
    assert (problem.n, problem.domain) == (5, (-1.0, 2.0))
    assert problem.default_x == 0.5
    assert problem.from_file and problem.summary().startswith("5 data points")
    data = problem_data(problem)
    assert np.array_equal(data.grid, [0.5, -1.0, 2.0, 0.5, 1.25])  # file order, duplicates
    assert np.array_equal(data.y, np.arange(5) * 0.1)
    assert problem.config()["data"]["x_sha256"] == problem.points.digest  # type: ignore[union-attr]


@pytest.mark.parametrize("field", ["n", "seed", "mean", "domain"])
def test_grid_fields_cannot_change_on_data(field: str) -> None:
    value = {"n": 40, "seed": 3, "mean": 0.0, "domain": (-1, 1)}[field]
    with pytest.raises(ProblemError) as info:
        data_problem().replace(**{field: value})
    assert info.value.field == field and "data file" in str(info.value)
    back = data_problem().replace(points=None, y=None, **{field: value})
    assert not back.from_file


def test_a_pinned_sample_stays_for_jitter_and_goes_for_the_sample_fields() -> None:
    y = Vector.of(problem_data(Problem(n=20)).y)
    pinned = Problem(n=20, y=y)
    assert pinned.replace(jitter=1e-6, solver="cholesky").y == y
    assert pinned.replace(kernel="matern32").y is None
    assert pinned.replace(length_scale=0.5).y is None
    assert pinned.replace(seed=4).y is None
    with pytest.raises(ProblemError, match="y"):
        Problem(n=21, y=y)


@pytest.mark.parametrize(
    ("x", "field"),
    [([0.0, 0.0], "points"), ([0.0, 2e6], "points"), ([0.0], "points"), ([0.0, np.nan], "points")],
)
def test_bad_points_are_refused(x: list[float], field: str) -> None:
    with pytest.raises(ProblemError) as info:
        Problem(points=Vector.of(x), y=Vector.of(np.zeros(len(x))))
    assert info.value.field == field
