"""What the numbers mean: conditioning, digits carried, digits correct, verdicts.

The rule of thumb behind every verdict: a solve with K loses about
``log10 cond(K)`` of the ``-log10 eps`` decimal digits a dtype carries. When
``cond(K) * eps >= 1`` nothing is left, whatever path computed the gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradviz.core.data import ProblemData
from gradviz.core.problem import Problem
from gradviz.core.results import DTYPES, Ball, Diagnosis, ProbeResult, Reference

MAX_DIGITS = 17.0
# Advice aims to keep this many of a dtype's digits: cond(K + jitter I) <= 10^-KEEP / eps.
KEEP_DIGITS = 3


@dataclass(frozen=True)
class Conditioning:
    """2-norm condition number of K + jitter I from its float64 eigenvalues.

    ``saturated`` is true when the smallest eigenvalue is at the float64
    rounding floor (|lambda_min| <= n eps lambda_max): the estimate is then
    only a lower bound and the true condition number is larger, possibly infinite.
    """

    value: float
    saturated: bool
    lambda_max: float


def carried_digits(dtype: str) -> float:
    """Decimal digits a dtype carries, ``-log10 eps``: 6.9 for float32, 15.7 for float64."""
    return -math.log10(float(np.finfo(dtype).eps))


def conditioning(data: ProblemData) -> Conditioning:
    """Condition number of ``K + jitter I`` (O(n^3): call it once per problem)."""
    problem = data.problem
    kernel = data.kernel + problem.jitter * np.eye(problem.n)  # [n, n]
    eigenvalues = np.abs(np.linalg.eigvalsh(kernel))
    lambda_max, lambda_min = float(eigenvalues.max()), float(eigenvalues.min())
    floor = problem.n * float(np.finfo(np.float64).eps) * lambda_max
    value = lambda_max / lambda_min if lambda_min > 0 else math.inf
    return Conditioning(value=value, saturated=lambda_min <= floor, lambda_max=lambda_max)


def correct_digits(value: float | None, reference: Ball | None) -> float | None:
    """``-log10 |value - ref| / |ref|``, clamped to 0..17 and to what the reference's
    own radius certifies; None when either number does not exist."""
    if value is None or reference is None:
        return None
    scale = abs(reference.mid)
    if scale == 0.0:
        return None
    certified = MAX_DIGITS if reference.radius == 0 else -math.log10(reference.radius / scale)
    error = abs(value - reference.mid)
    digits = MAX_DIGITS if error == 0 else -math.log10(error / scale)
    return min(max(digits, 0.0), certified, MAX_DIGITS)


def suggested_jitter(lambda_max: float, dtype: str) -> float:
    """Smallest power of ten keeping about KEEP_DIGITS digits in ``dtype``:
    cond(K + jI) <~ lambda_max / j <= 10^-KEEP / eps."""
    needed = lambda_max * float(np.finfo(dtype).eps) * 10**KEEP_DIGITS
    return 10.0 ** math.ceil(math.log10(needed))


def sci(value: float, decimals: int = 0) -> str:
    """Compact scientific notation for prose: ``5e19``, ``4.5e15``, ``1e-10``."""
    if not math.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _digits_phrase(digits: list[float]) -> str:
    low, high = math.floor(min(digits)), math.floor(max(digits))
    count = f"{low}" if low == high else f"{low} to {high}"
    return f"{count} correct digit{'' if high == 1 else 's'}"


def _conditioning_phrase(problem: Problem, dtype: str, cond: Conditioning) -> tuple[str, str]:
    """What cond(K) means for ``dtype``, and the advice (empty when none is needed)."""
    eps = float(np.finfo(dtype).eps)
    approx = ">=" if cond.saturated else "~"
    condition = f"cond(K + jitter I) {approx} {sci(cond.value)}"
    lost = cond.value * eps
    if lost >= 1:
        condition += f" exceeds 1/eps = {sci(1 / eps, 1)}"
    else:
        survive = max(0.0, carried_digits(dtype) - math.log10(cond.value))
        condition += f", so about {survive:.0f} of {carried_digits(dtype):.0f} digits survive"
    if lost < 10.0**-KEEP_DIGITS:
        return condition, ""
    advice = f"add jitter >= {sci(suggested_jitter(cond.lambda_max, dtype))}"
    if dtype != "float64":
        advice += f" (float64 needs only {sci(suggested_jitter(cond.lambda_max, 'float64'))})"
    if problem.solver != "cholesky":
        advice += " and use cholesky"
    return condition, advice


def verdict(
    problem: Problem,
    dtype: str,
    digits: list[float],
    reference: Reference | None,
    cond: Conditioning | None,
) -> str:
    """One plain sentence on what ``dtype`` got right and what would fix it."""
    if digits:
        found = _digits_phrase(digits)
    elif reference is None:
        found = "not checked (no reference)"
    elif reference.status == "undetermined":
        found = "not checkable (the exact problem has no certified answer)"
    else:
        found = "no path produced a number"
    if cond is None:
        return f"{dtype}: {found}; cond(K + jitter I) is still being computed"
    parts = [found, *_conditioning_phrase(problem, dtype, cond)]
    return f"{dtype}: " + "; ".join(part for part in parts if part)


def diagnose(
    result: ProbeResult, reference: Reference | None, cond: Conditioning | None
) -> Diagnosis:
    """Digits and verdicts for one probe against its reference (either may be pending)."""
    target = reference.grad if reference is not None and reference.status == "exact" else None
    correct = {(cell.path, cell.dtype): correct_digits(cell.grad, target) for cell in result.cells}
    verdicts = {
        dtype: verdict(
            result.problem,
            dtype,
            [d for (_, dt), d in correct.items() if dt == dtype and d is not None],
            reference,
            cond,
        )
        for dtype in DTYPES
    }
    return Diagnosis(
        condition_number=None if cond is None else cond.value,
        condition_saturated=None if cond is None else cond.saturated,
        carried_digits={dtype: carried_digits(dtype) for dtype in DTYPES},
        correct_digits=correct,
        verdicts=verdicts,
    )
