"""Digits carried, digits correct, conditioning and verdicts, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradviz.core.analysis.diagnosis import (
    Conditioning,
    carried_digits,
    conditioning,
    correct_digits,
    diagnose,
    digits_against,
    sci,
    underflows,
    verdict,
)
from gradviz.core.io.report import verdict_line
from gradviz.core.numerics.results import (
    PATHS,
    Ball,
    Cell,
    DType,
    FailureKind,
    Limit,
    ProbeResult,
    Reference,
    ReferenceState,
)
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

WELL = Problem(n=20, jitter=1e-2, solver="cholesky")


def kernel(problem: Problem) -> np.ndarray:
    """K + jitter I, written out here. [n, n]"""
    p = np.linspace(*problem.domain, problem.n)
    k = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * problem.length_scale**2))
    return k + problem.jitter * np.eye(problem.n)


@pytest.mark.parametrize(
    ("dtype", "expected", "near"), [("float32", 2.0**-23, 6.92), ("float64", 2.0**-52, 15.65)]
)
def test_carried_digits(dtype: str, expected: float, near: float) -> None:
    assert np.finfo(dtype).eps == expected
    assert carried_digits(dtype) == pytest.approx(-math.log10(expected), abs=1e-12)
    assert carried_digits(dtype) == pytest.approx(near, abs=0.005)


# A correctly rounded value is off by at most half an ulp: 2^-24 (float32), 2^-53 (float64).
DTYPE_MAX = {"float32": -math.log10(2.0**-24), "float64": -math.log10(2.0**-53)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mid", [1.0, -0.7289, 3.5e-7, -2.0e12])
def test_an_exact_value_is_capped_at_what_its_dtype_holds(mid: float, dtype: DType) -> None:
    assert correct_digits(mid, Ball(mid, 0.0), dtype) == pytest.approx(DTYPE_MAX[dtype])
    assert correct_digits(mid, Ball(mid, 0.0)) == pytest.approx(DTYPE_MAX["float64"])


@pytest.mark.parametrize("relative", [1e-5, 1e-9, 3e-3])
@pytest.mark.parametrize("mid", [1.0, -0.7289, 42.0])
def test_correct_digits_counts_the_relative_error(relative: float, mid: float) -> None:
    value = mid * (1 + relative)
    expected = -math.log10(abs(value - mid) / abs(mid))
    assert expected == pytest.approx(-math.log10(relative), abs=1e-5)
    assert correct_digits(value, Ball(mid, 0.0)) == pytest.approx(expected, abs=1e-9)


def test_correct_digits_one_relative_error_of_1e_5_is_5_digits() -> None:
    assert correct_digits(2.0 + 2e-5, Ball(2.0, 0.0)) == pytest.approx(5.0, abs=1e-9)
    assert correct_digits(-2.0 + 2e-5, Ball(-2.0, 0.0)) == pytest.approx(5.0, abs=1e-9)


def test_correct_digits_none_cases() -> None:
    assert correct_digits(None, Ball(1.0, 0.0)) is None
    assert correct_digits(1.0, None) is None
    assert correct_digits(None, None) is None
    # No relative digit exists of a value that is 0 or indistinguishable from it.
    assert correct_digits(1e-3, Ball(0.0, 0.0)) is None
    assert correct_digits(0.0, Ball(0.0, 5e-324)) is None


@pytest.mark.parametrize("value", [5.0, -1.0, 1e30, -364.3])
def test_correct_digits_clamps_wrong_answers_to_zero(value: float) -> None:
    assert correct_digits(value, Ball(1.0, 0.0)) == 0.0


def test_correct_digits_is_capped_by_the_reference_radius() -> None:
    # The reference only certifies 8 digits: a perfect value cannot claim more.
    assert correct_digits(1.0, Ball(1.0, 1e-8)) == pytest.approx(8.0, abs=1e-9)
    assert correct_digits(-4.0, Ball(-4.0, 4e-10)) == pytest.approx(10.0, abs=1e-9)
    # A worse value keeps its own (smaller) count.
    assert correct_digits(1.001, Ball(1.0, 1e-8)) == pytest.approx(3.0, abs=1e-6)


@pytest.mark.parametrize(
    "problem",
    [WELL, Problem(n=30, length_scale=0.8, jitter=1e-6), Problem(n=8, domain=(0, 20))],
    ids=Problem.summary,
)
def test_conditioning_matches_numpy_cond(problem: Problem) -> None:
    matrix = kernel(problem)
    result = conditioning(problem_data(problem))
    expected = np.linalg.cond(matrix)
    assert expected < 1e10  # well inside float64: both estimates are accurate here
    assert result.value == pytest.approx(expected, rel=1e-6)
    assert result.lambda_max == pytest.approx(np.linalg.norm(matrix, 2), rel=1e-12)
    assert result.saturated is False


def test_conditioning_of_the_seed_is_saturated() -> None:
    result = conditioning(problem_data(Problem()))
    # numpy's SVD agrees that K sits on the float64 rounding floor: cond * eps >~ 1.
    assert np.linalg.cond(kernel(Problem())) * np.finfo(np.float64).eps > 1
    assert result.saturated is True
    assert result.value * np.finfo(np.float64).eps > 1
    # Enough jitter moves it off the floor: cond(K + I) <= 1 + lambda_max.
    jittered = conditioning(problem_data(Problem(jitter=1.0)))
    assert jittered.saturated is False
    assert jittered.value <= 1 + jittered.lambda_max


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (5e19, 0, "5e19"),
        (5.2e19, 1, "5.2e19"),
        (4.5e15, 1, "4.5e15"),
        (1e-10, 0, "1e-10"),
        (8388608.0, 1, "8.4e6"),
        (123456.0, 2, "1.23e5"),
        (1.0, 0, "1e0"),
        (0.0, 0, "0e0"),
        (-2.5e-3, 1, "-2.5e-3"),
        (9.96e5, 1, "1.0e6"),
        (math.inf, 1, "inf"),
        (-math.inf, 0, "-inf"),
        (math.nan, 0, "nan"),
    ],
)
def test_sci(value: float, decimals: int, text: str) -> None:
    assert sci(value, decimals) == text


def cells(values: dict[tuple[str, str], float | None]) -> tuple[Cell, ...]:
    return tuple(
        Cell(path, dtype, 1.0, grad)
        if grad is not None
        else Cell(path, dtype, None, None, "failed", FailureKind.TENSORFLOW_ERROR)
        for (path, dtype), grad in values.items()
    )


def fake_result(problem: Problem, grads32: list[float | None], grads64: list[float | None]):
    values = {(p, "float32"): g for p, g in zip(PATHS, grads32, strict=True)}
    values |= {(p, "float64"): g for p, g in zip(PATHS, grads64, strict=True)}
    return ProbeResult(problem=problem, x=2.0, cells=cells(values))


def test_diagnose_counts_digits_per_cell_and_words_a_verdict() -> None:
    truth = -0.7291
    # Relative errors 10^-3.5, 10^-4.5, 10^-5.5 (float32) and 10^-11.5 (float64): digit counts
    # well away from integers, so the floors in the verdict are unambiguous.
    wanted32 = [3.5 + i % 3 for i in range(7)]
    grads32 = [truth * (1 + 10.0**-d) for d in wanted32]
    grads64 = [truth * (1 + 10.0**-11.5)] * 6 + [None]
    result = fake_result(WELL, grads32, grads64)
    reference = Reference("exact", mu=Ball(1.0, 1e-17), grad=Ball(truth, 1e-17), precision_bits=128)
    cond = conditioning(problem_data(WELL))
    diagnosis = diagnose(result, reference, cond)

    assert diagnosis.condition_number == cond.value
    assert diagnosis.condition_saturated is False
    assert diagnosis.carried_digits["float64"] == pytest.approx(15.65, abs=0.01)
    assert len(diagnosis.correct_digits) == 14
    for (path, dtype), digits in diagnosis.correct_digits.items():
        grad = result.cell(path, dtype).grad
        if grad is None:
            assert digits is None
        else:
            assert digits == pytest.approx(-math.log10(abs(grad - truth) / abs(truth)), abs=1e-6)
    record = diagnosis.verdicts["float32"]
    assert record.dtype == "float32"
    assert record.reference_state == ReferenceState.EXACT
    checked = [-math.log10(abs(g - truth) / abs(truth)) for g in grads32]
    assert record.digits_min == pytest.approx(min(checked), abs=1e-6)
    assert record.digits_max == pytest.approx(max(checked), abs=1e-6)
    numpy_cond = np.linalg.cond(kernel(WELL))
    for dtype, record in diagnosis.verdicts.items():
        assert record.condition_number == pytest.approx(numpy_cond, rel=1e-6)
        assert record.condition_is_lower_bound is False
        left = -math.log10(float(np.finfo(dtype).eps)) - math.log10(numpy_cond)
        assert record.digits_left == pytest.approx(left, abs=1e-6)
    v32, v64 = (verdict_line(diagnosis.verdicts[d]) for d in ("float32", "float64"))
    assert v32.startswith("float32: 3 to 5 correct digits; ")
    assert v64.startswith("float64: 11 correct digits; ")
    assert "cond(K + jitter I)" in v32 and "cond(K + jitter I)" in v64
    expected_cond = f"{np.linalg.cond(kernel(WELL)):.0e}".replace("e+0", "e").replace("e+", "e")
    assert expected_cond in v64
    # cond ~ 7e2 leaves about 16 - 2.8 digits of float64's and 6.9 - 2.8 of float32's.
    survive64 = round(carried_digits("float64") - math.log10(np.linalg.cond(kernel(WELL))))
    survive32 = round(carried_digits("float32") - math.log10(np.linalg.cond(kernel(WELL))))
    assert f"the worst-case bound leaves {survive64} of 16 digits" in v64
    assert f"the worst-case bound leaves {survive32} of 7 digits" in v32
    assert "add jitter" not in v64


def test_verdict_on_the_seed_names_the_bound_as_a_bound_and_advises_nothing_from_it() -> None:
    """cond(K) x eps >= 1 leaves no digit by the worst-case bound; what to change is for
    the measured advice, never derived from the bound."""
    seed = Problem()
    result = fake_result(seed, [-364.3] * 7, [1.828] * 7)
    reference = Reference(
        "undetermined",
        reason="K is singular to 512-bit ball arithmetic",
        limit=Limit(1e-12, Ball(2.6, 1e-15), Ball(-0.7293, 1e-15)),
    )
    diagnosis = diagnose(result, reference, conditioning(problem_data(seed)))
    # The exact answer is undetermined: the digits count against the jitter limit, marked.
    assert diagnosis.digits_against == "limit"
    assert set(diagnosis.correct_digits.values()) == {0.0}
    for dtype, record in diagnosis.verdicts.items():
        assert record.reference_state == ReferenceState.UNDETERMINED
        assert record.digits_min == 0.0 and record.digits_max == 0.0
        assert record.condition_is_lower_bound is True
        assert record.digits_left == 0.0  # cond * eps >= 1: the bound leaves nothing
        text = verdict_line(record)
        assert text.startswith(f"{dtype}: ")
        assert "0 correct digits vs the jitter limit" in text
        assert ">=" in text and "exceeds 1/eps" in text
        assert "worst-case bound leaves no digit" in text
        assert "add jitter" not in text and "cholesky" not in text
    assert sci(1 / float(np.finfo(np.float32).eps), 1) in verdict_line(
        diagnosis.verdicts["float32"]
    )


def test_without_a_limit_nothing_is_checkable() -> None:
    result = fake_result(Problem(), [-364.3] * 7, [1.828] * 7)
    bare = Reference("undetermined", reason="K is singular; no jitter limit: out of time")
    diagnosis = diagnose(result, bare, None)
    assert diagnosis.digits_against is None
    assert all(d is None for d in diagnosis.correct_digits.values())
    assert "not checkable" in verdict_line(diagnosis.verdicts["float64"])


def test_an_underflowing_truth_counts_nothing_and_advises_nothing() -> None:
    """report --x 1e6 --n 20 --jitter 1e-6: every path gives 0 and the truth, -0.0 +/-
    5e-324, is non-zero below float64's range: no digits, no fix."""
    seed = Problem()
    result = fake_result(seed, [0.0] * 7, [0.0] * 7)
    zero = Ball(-0.0, 5e-324)
    exact = Reference("exact", mu=zero, grad=zero, precision_bits=128)
    diagnosis = diagnose(result, exact, conditioning(problem_data(seed)))
    assert diagnosis.underflows == {"float32", "float64"}
    assert all(d is None for d in diagnosis.correct_digits.values())
    for record in diagnosis.verdicts.values():
        assert record.underflows
        assert "underflows" in verdict_line(record) and "add jitter" not in verdict_line(record)


def words(
    dtype: DType, digits: list[float], state: ReferenceState, cond: Conditioning | None
) -> str:
    """The sentence of a verdict on WELL."""
    return verdict_line(verdict(dtype, digits, state, cond))


def test_verdict_while_things_are_pending() -> None:
    cond = conditioning(problem_data(WELL))
    assert "no reference" in words("float64", [], ReferenceState.NONE, cond)
    assert "reference pending" in words("float64", [], ReferenceState.PENDING, cond)
    pending = verdict("float32", [5.5], ReferenceState.EXACT, None)
    assert pending.condition_number is None and pending.digits_left is None
    assert pending.digits_min == pending.digits_max == 5.5
    text = verdict_line(pending)
    assert text.startswith("float32: 5 correct digits")
    assert "still being computed" in text
    nothing = words("float64", [], ReferenceState.EXACT, cond)
    assert "no path produced a number" in nothing


def test_diagnose_knows_a_pending_reference_from_none() -> None:
    result = fake_result(WELL, [1.0] * 7, [1.0] * 7)
    for pending, state in ((True, ReferenceState.PENDING), (False, ReferenceState.NONE)):
        diagnosis = diagnose(result, None, None, reference_pending=pending)
        assert {v.reference_state for v in diagnosis.verdicts.values()} == {state}


def test_verdict_singular_digit() -> None:
    text = words("float32", [1.2, 1.9], ReferenceState.EXACT, None)
    assert text.startswith("float32: 1 correct digit;")


def test_digits_against_arrays_match_the_scalar_rule_and_mark_missing_values() -> None:
    rng = np.random.default_rng(11)
    mids = rng.normal(size=50) * 10.0 ** rng.integers(-5, 5, size=50)
    values = mids * (1 + rng.normal(size=50) * 10.0 ** -rng.integers(0, 16, size=50))
    radii = np.abs(mids) * 10.0 ** -rng.integers(3, 20, size=50)
    values[[3, 7]] = [np.nan, np.inf]
    got = digits_against(values, mids, radii)
    for value, mid, radius, digits in zip(values, mids, radii, got, strict=True):
        if not np.isfinite(value):
            assert np.isnan(digits)
            continue
        # Written out independently of gradviz: relative error, capped by the radius and
        # clamped to [0, what float64 holds].
        error = abs(value - mid) / abs(mid)
        expected = math.inf if error == 0 else -math.log10(error)
        expected = min(expected, -math.log10(radius / abs(mid)))
        assert digits == pytest.approx(min(max(expected, 0.0), DTYPE_MAX["float64"]))


def test_a_degenerate_problem_whose_values_all_underflow_counts_no_digit() -> None:
    """--domain -1e6 1e6 --n 50: every kernel entry off the diagonal underflows to 0, the
    paths give exactly 0 and the reference is 0 +/- 5e-324 (its true value, e^-(huge), is
    not 0): nothing can be counted, in either dtype."""
    assert np.isnan(digits_against(np.zeros(3), np.zeros(3), np.full(3, 5e-324))).all()
    for dtype in ("float32", "float64"):
        assert correct_digits(0.0, Ball(0.0, 5e-324), dtype) is None
        assert correct_digits(1e-300, Ball(-0.0, 5e-324), dtype) is None
        assert underflows(np.array([-0.0]), np.array([5e-324]), dtype)[0]


def test_a_value_float32_cannot_hold_underflows_in_float32_only() -> None:
    tiny = Ball(1e-50, 1e-67)  # fixed to 17 digits, far below float32's 1.4e-45
    assert correct_digits(0.0, tiny, "float32") is None
    assert underflows(np.array([tiny.mid]), np.array([tiny.radius]), "float32")[0]
    assert not underflows(np.array([tiny.mid]), np.array([tiny.radius]), "float64")[0]
    assert correct_digits(1e-50, tiny, "float64") == pytest.approx(DTYPE_MAX["float64"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_digits_are_never_negative_nor_minus_zero(dtype: DType) -> None:
    mids = np.array([1.0, -2.5, 3e-7, -4e12, 0.5])
    values = np.array([-1.0, 1e300, -1e-300, 4e12, 0.5 * (1 + 1e-9)])
    digits = digits_against(values, mids, np.zeros(5), dtype)
    assert np.all(digits >= 0) and np.all(digits <= DTYPE_MAX[dtype] + 1e-12)
    assert not np.any(np.signbit(digits))  # -0.0 has its sign bit set
    overflow = digits_against(np.array([1.7e308]), np.array([-1.7e308]), np.zeros(1), dtype)
    assert overflow.tolist() == [0.0] and not np.signbit(overflow[0])


def test_nothing_is_counted_against_a_ball_that_does_not_fix_its_value() -> None:
    """gradviz report --n 20 --domain -1 1 --x 0.5 once called -3.04e14 +/- 1.8e22 exact and
    counted -8 digits against it."""
    wide = Ball(-304290508621834.25, 1.8e22)
    assert correct_digits(0.59, wide) is None
    assert correct_digits(wide.mid, wide) is None
    # A ball fixing 3 digits (radius 1e-3 |mid|) is the least that is counted against.
    assert correct_digits(2.0, Ball(2.0, 2e-3)) == pytest.approx(3.0)
    assert correct_digits(2.0, Ball(2.0, 2.1e-3)) is None
