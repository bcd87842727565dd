"""Problem: the seed's defaults, immutability, and validation that names field, value and range."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradviz.core.problem.spec import Problem, ProblemError, check_probe, check_x

NAN, INF = math.nan, math.inf

# Words that each field's message must contain to state its allowed range.
RANGE_WORDS: dict[str, tuple[str, ...]] = {
    "n": ("integer", "2", "5000"),
    "length_scale": ("finite", "1e-06", "1e+06"),
    # An element that is not finite or too large is quoted alone ("domain must be a finite
    # number with |domain| <= 1e+06"); an ordering or shape error quotes the whole domain.
    "domain": ("finite", "1e+06"),
    "seed": ("integer", "0", str(2**32 - 1)),
    "mean": ("finite",),
    "jitter": ("finite", ">= 0"),
    "solver": ("inverse", "solve", "cholesky"),
    "x": ("finite", "1e+06"),
}

# (field, value given, text of the value the message must show)
INVALID: list[tuple[str, object, str]] = [
    ("n", 0, "0"),
    ("n", 1, "1"),
    ("n", -5, "-5"),
    ("n", 2.5, "2.5"),
    ("n", "abc", "'abc'"),
    ("n", "", "''"),
    ("n", 1e9, "1000000000.0"),
    ("n", 5001, "5001"),
    ("n", True, "True"),
    ("length_scale", 0, "0"),
    ("length_scale", -1, "-1"),
    ("length_scale", NAN, "nan"),
    ("length_scale", INF, "inf"),
    ("length_scale", "x", "'x'"),
    ("domain", (1.0, 1.0), "(1.0, 1.0)"),
    ("domain", (2.0, 1.0), "(2.0, 1.0)"),
    ("domain", (NAN, 1.0), "nan"),
    ("domain", (0.0, NAN), "nan"),
    ("domain", (INF, 1.0), "inf"),
    ("domain", (-INF, 1.0), "-inf"),
    ("domain", (1e7, 2.0), "10000000.0"),
    ("domain", (-1e7, 2.0), "-10000000.0"),
    ("domain", (1.0,), "(1.0,)"),
    ("domain", (1.0, 2.0, 3.0), "(1.0, 2.0, 3.0)"),
    ("domain", 5.0, "5.0"),
    ("domain", "ab", "'ab'"),
    ("seed", -1, "-1"),
    ("seed", 2**32, str(2**32)),
    ("seed", 1.5, "1.5"),
    ("seed", "x", "'x'"),
    ("mean", NAN, "nan"),
    ("mean", INF, "inf"),
    ("mean", -INF, "-inf"),
    ("jitter", -1e-6, "-1e-06"),
    ("jitter", NAN, "nan"),
    ("jitter", INF, "inf"),
    ("solver", "foo", "'foo'"),
    ("solver", "Cholesky", "'Cholesky'"),
]


def _ids(row: tuple[str, object, str]) -> str:
    return f"{row[0]}={row[1]!r}"


def test_defaults_are_the_seeds() -> None:
    problem = Problem()
    assert (
        problem.n,
        problem.domain,
        problem.length_scale,
        problem.seed,
        problem.mean,
        problem.jitter,
        problem.solver,
    ) == (300, (-5.0, 5.0), 1.5, 100, 1.0, 0.0, "inverse")


def test_frozen() -> None:
    problem = Problem()
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.n = 20  # type: ignore[misc]
    assert problem.n == 300


def test_hashable_and_equal_by_value() -> None:
    a = Problem(n=20, jitter=1e-6, solver="cholesky")
    b = Problem(n=20, jitter=1e-6, solver="cholesky")
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Problem()}) == 2
    assert {a: "value"}[b] == "value"
    # Inputs are normalised: a list domain and ints give the same (hashable) problem.
    c = Problem(n=20, domain=[-5, 5], length_scale=1.5, jitter=1e-6, solver="cholesky")
    assert c == a and hash(c) == hash(a)
    assert isinstance(c.domain, tuple)
    assert a != Problem(n=21, jitter=1e-6, solver="cholesky")


def test_replace_returns_a_validated_copy() -> None:
    base = Problem()
    changed = base.replace(n=40, jitter=1e-3)
    assert (changed.n, changed.jitter) == (40, 1e-3)
    assert (base.n, base.jitter) == (300, 0.0)  # the original is untouched
    assert changed.replace(n=300, jitter=0.0) == base
    with pytest.raises(ProblemError) as info:
        base.replace(n=1)
    assert info.value.field == "n"
    with pytest.raises(ProblemError) as info:
        base.replace(solver="lu")
    assert info.value.field == "solver"


def _check_message(error: ProblemError, field: str, shown: str) -> None:
    message = str(error)
    assert error.field == field
    assert isinstance(error, ValueError)
    assert message.startswith(f"{field}: ")
    assert shown in message
    for word in RANGE_WORDS[field]:
        assert word in message, (word, message)
    assert "\n" not in message


@pytest.mark.parametrize(("field", "value", "shown"), INVALID, ids=map(_ids, INVALID))
def test_invalid_field_is_named_with_value_and_range(field: str, value: object, shown: str) -> None:
    with pytest.raises(ProblemError) as info:
        Problem(**{field: value})
    _check_message(info.value, field, shown)


@pytest.mark.parametrize(("field", "value", "shown"), INVALID, ids=map(_ids, INVALID))
def test_replace_rejects_like_the_constructor(field: str, value: object, shown: str) -> None:
    with pytest.raises(ProblemError) as info:
        Problem(n=20).replace(**{field: value})
    _check_message(info.value, field, shown)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(NAN, "nan"), (INF, "inf"), (-INF, "-inf"), ("x", "'x'"), (1e7, "10000000.0"), (None, "None")],
)
def test_check_x_rejects(value: object, shown: str) -> None:
    with pytest.raises(ProblemError) as info:
        check_x(value)
    _check_message(info.value, "x", shown)


@pytest.mark.parametrize("value", [2.0, -1e6, 1e6, 0, -7, 123.25])
def test_check_x_accepts_any_finite_x_within_1e6(value: float) -> None:
    result = check_x(value)
    assert result == value and isinstance(result, float)


@pytest.mark.parametrize(
    "changes",
    [
        {"n": 2},
        {"n": 5000},
        {"seed": 0},
        {"seed": 2**32 - 1},
        {"jitter": 0},
        {"jitter": 0.0},
        {"length_scale": 1e-6},
        {"length_scale": 1e6},
        {"domain": (-1e6, 1e6)},
        {"domain": (0, 1e-9)},
        {"mean": -1e300},
        {"solver": "solve"},
        {"solver": "cholesky"},
    ],
    ids=repr,
)
def test_boundary_values_are_accepted(changes: dict[str, object]) -> None:
    problem = Problem(**changes)
    for name, value in changes.items():
        got = getattr(problem, name)
        assert got == (tuple(map(float, value)) if name == "domain" else value)


def test_numbers_are_normalised() -> None:
    problem = Problem(n=20, domain=(0, 3), length_scale=2, seed=7, mean=-2, jitter=0)
    assert type(problem.n) is int and type(problem.seed) is int
    assert all(type(v) is float for v in problem.domain)
    for name in ("length_scale", "mean", "jitter"):
        assert type(getattr(problem, name)) is float


@pytest.mark.parametrize("field", ["mean", "length_scale", "jitter", "domain", "x"])
def test_huge_integers_raise_problem_error(field: str) -> None:
    value = (0, 10**400) if field == "domain" else 10**400
    with pytest.raises(ProblemError) as info:
        if field == "x":
            check_x(value)
        else:
            Problem(**{field: value})
    assert info.value.field == field


# Everything a form field, a JSON file or a careless caller could hand over, integers beyond
# the float range included.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**308, max_value=10**400),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10.0, max_value=10.0),
    st.text(max_size=8),
    st.sampled_from(["inverse", "solve", "cholesky", "300", "nan", ""]),
)
DOMAIN_VALUE = st.one_of(
    ANY_VALUE,
    st.tuples(ANY_VALUE, ANY_VALUE),
    st.lists(ANY_VALUE, max_size=3),
)
FIELDS = ("n", "domain", "length_scale", "seed", "mean", "jitter", "solver")


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={name: (DOMAIN_VALUE if name == "domain" else ANY_VALUE) for name in FIELDS},
    )
)
def test_any_input_constructs_or_raises_problem_error(changes: dict[str, object]) -> None:
    try:
        problem = Problem(**changes)
    except ProblemError as error:
        assert error.field in FIELDS
        assert str(error).startswith(f"{error.field}: ")
        return
    # Whatever was accepted is a usable, hashable problem inside every range.
    hash(problem)
    assert 2 <= problem.n <= 5000
    assert 0 <= problem.seed <= 2**32 - 1
    lo, hi = problem.domain
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    assert 1e-6 <= problem.length_scale <= 1e6
    assert math.isfinite(problem.mean)
    assert math.isfinite(problem.jitter) and problem.jitter >= 0
    assert problem.solver in ("inverse", "solve", "cholesky")


@settings(max_examples=200, deadline=None)
@given(ANY_VALUE)
def test_check_x_returns_a_float_or_raises_problem_error(value: object) -> None:
    try:
        x = check_x(value)
    except ProblemError as error:
        assert error.field == "x"
        return
    assert isinstance(x, float) and math.isfinite(x) and abs(x) <= 1e6


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem(), "n=300, l=1.5, jitter 0, inverse"),
        (Problem(n=20, jitter=1e-6, solver="cholesky"), "n=20, l=1.5, jitter 1e-06, cholesky"),
        (
            Problem(n=25, domain=(-2, 3), seed=7, jitter=1e-4),
            "n=25, [-2, 3], l=1.5, jitter 0.0001, inverse",
        ),
        (Problem(length_scale=0.8, solver="solve"), "n=300, l=0.8, jitter 0, solve"),
    ],
)
def test_summary(problem: Problem, text: str) -> None:
    assert problem.summary() == text


def test_to_dict_is_plain_data() -> None:
    problem = Problem(n=25, domain=(-2, 3), seed=7, jitter=1e-4)
    assert problem.to_dict() == {
        "n": 25,
        "domain": [-2.0, 3.0],
        "length_scale": 1.5,
        "seed": 7,
        "mean": 1.0,
        "jitter": 1e-4,
        "solver": "inverse",
        "kernel": "rbf",
        "signal_variance": 1.0,
        "alpha": None,
        "period": None,
        "quantity": "mean-slope",
    }
    assert Problem(**problem.to_dict()) == problem


# --- the quantity (issue 20) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"quantity": "slope"}, "one of mean-slope, variance-slope"),
        ({"quantity": None}, "one of mean-slope"),
        ({"quantity": "lml-alpha"}, "one the rbf kernel has: mean-slope"),
        ({"quantity": "lml-period", "kernel": "matern52"}, "matern52 kernel"),
        ({"quantity": "lml-jitter"}, "jitter 0 < jitter <= 1e+06"),
        ({"quantity": "lml-jitter", "jitter": 2e6}, "2e+06 here"),
    ],
)
def test_a_quantity_the_problem_cannot_have_is_named(
    changes: dict[str, object], words: str
) -> None:
    with pytest.raises(ProblemError) as info:
        Problem().replace(**changes)
    assert info.value.field == "quantity" and words in str(info.value)


def test_a_new_kernel_keeps_the_quantity_only_where_it_has_it() -> None:
    problem = Problem(kernel="rational-quadratic", alpha=0.5, quantity="lml-alpha")
    with pytest.raises(ProblemError, match="quantity"):
        problem.replace(kernel="rbf")
    assert problem.replace(kernel="rbf", quantity="lml-lengthscale").alpha is None


@pytest.mark.parametrize(
    ("problem", "default", "span"),
    [
        (Problem(), 2.0, (-5.0, 5.0)),
        (Problem(quantity="variance-slope"), 2.0, (-5.0, 5.0)),
        (Problem(quantity="lml-lengthscale"), 1.5, (0.015, 150.0)),
        (Problem(quantity="lml-signal-variance", signal_variance=1e-5), 1e-5, (1e-6, 1e-3)),
        (Problem(quantity="lml-jitter", jitter=1e-6), 1e-6, (1e-8, 1e-4)),
        (Problem(quantity="lml-jitter", jitter=1e5), 1e5, (1e3, 1e6)),
    ],
)
def test_the_probe_starts_at_theta_and_spans_two_decades(
    problem: Problem, default: float, span: tuple[float, float]
) -> None:
    assert problem.default_x == default
    lo, hi = problem.probe_domain
    assert lo == pytest.approx(span[0]) and hi == pytest.approx(span[1])
    assert check_probe(problem, default) == default


@pytest.mark.parametrize(
    ("quantity", "value"),
    [("lml-lengthscale", 0.0), ("lml-lengthscale", -1.5), ("lml-lengthscale", 2e6),
     ("lml-jitter", 0.0), ("lml-jitter", float("nan")), ("mean-slope", 2e6), ("lml-period", "x")],
)  # fmt: skip
def test_a_probe_off_the_quantitys_axis_is_refused(quantity: str, value: object) -> None:
    problem = Problem(jitter=1e-3, kernel="periodic", quantity=quantity)
    with pytest.raises(ProblemError) as info:
        check_probe(problem, value)
    assert info.value.field == "x"
