"""The one-paragraph answer, from records made here: each sentence has its trigger."""

from __future__ import annotations

from spec import DTYPES, PATH_NAMES

from gradviz.core.analysis.diagnosis import Conditioning, diagnose
from gradviz.core.analysis.headline import headline
from gradviz.core.numerics.results import (
    Ball,
    Cell,
    FailureKind,
    Limit,
    ProbeResult,
    Reference,
    Spread,
)
from gradviz.core.problem.spec import Problem

PROBLEM = Problem()
ILL = Conditioning(value=1.3e20, saturated=True, lambda_max=100.0)
WELL = Conditioning(value=1e3, saturated=False, lambda_max=100.0)
LIMIT = Reference(
    "undetermined", reason="singular", limit=Limit(1e-12, Ball(2.7, 1e-16), Ball(-0.7293, 5e-17))
)


def result(grads: dict[tuple[str, str], float | None], spread: dict | None = None) -> ProbeResult:
    cells = []
    for dtype in DTYPES:
        for path in PATH_NAMES:
            grad = grads.get((path, dtype), grads.get(("*", dtype)))
            if grad is None:
                cells.append(
                    Cell(path, dtype, None, None, "NaN in the factor", FailureKind.CHOLESKY_NOT_PD)
                )
            else:
                cells.append(Cell(path, dtype, 1.0, grad))
    return ProbeResult(PROBLEM, 2.0, tuple(cells), spread or {})


def spread(low: float, high: float, digits: float) -> Spread:
    return Spread(16, low, high, (low + high) / 2, (high - low) / 4, digits)


def text(probe: ProbeResult, reference: Reference | None, cond: Conditioning) -> str:
    return headline(probe, reference, diagnose(probe, reference, cond))


def test_the_seed_agreeing_noise_names_the_range_and_the_limit_and_never_the_bound() -> None:
    probe = result(
        {("*", "float32"): 272.3, ("*", "float64"): -33.47, ("tape", "float64"): -21.86},
        {"float32": spread(-505.4, 101.9, 0.0), "float64": spread(-141.0, 595.0, 0.0)},
    )
    words = text(probe, LIMIT, ILL)
    assert "agree bit for bit in float32 and float64, but the result is rounding noise" in words
    assert "float32 anything from -505.4 to 101.9" in words
    assert "float64 anything from -141 to 595" in words
    assert "Eager (tape) and graph (function) code differ in float64 only" in words
    assert "limit as jitter -> 0 (certified at jitter 1e-12) is -0.7293" in words
    # cond(K) x eps is a worst-case bound: what to change comes from the measured advice,
    # which is pending here.
    assert "add jitter" not in words and "cholesky" not in words
    assert "measuring" not in words
    pending = headline(probe, LIMIT, diagnose(probe, LIMIT, ILL), advice_pending=True)
    assert pending.endswith("What to change: measuring...")


def test_disagreeing_calls_are_named_with_both_numbers() -> None:
    probe = result(
        {("*", "float32"): 1.0, ("seed_gradients", "float32"): 1.5, ("*", "float64"): 1.0}
    )
    exact = Reference("exact", mu=Ball(1.0, 0.0), grad=Ball(1.0, 1e-17), precision_bits=128)
    words = text(probe, exact, WELL)
    assert "differ in float32 (1 vs 1.5)" in words and "agree bit for bit in float64" in words
    assert "The exact d mu/dx is 1 (ball arithmetic)." in words
    assert "float64 has 15 correct digits" in words  # all float64 holds: -log10 2^-53


def test_a_dtype_without_numbers_says_why_and_a_trusted_one_says_its_digits() -> None:
    probe = result({("*", "float32"): None, ("*", "float64"): -0.7291080000001})
    exact = Reference("exact", mu=Ball(1.0, 0.0), grad=Ball(-0.729108, 1e-17), precision_bits=128)
    words = text(probe, exact, WELL)
    assert "give no number in float32 (no path does: not positive definite)" in words
    assert "float64 has 12 correct digits" in words
    assert "noise" not in words


def test_without_a_reference_the_spread_estimates_the_digits() -> None:
    probe = result(
        {("*", "float32"): 0.5, ("*", "float64"): 0.5}, {"float64": spread(0.4999, 0.5001, 3.4)}
    )
    words = text(probe, None, WELL)
    assert "float64 has 3 significant (spread) digits" in words
    assert "There is no reference" in words
