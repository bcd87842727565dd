"""What the numbers mean: conditioning, digits carried, digits correct, verdicts (as records;
:mod:`gradviz.core.report` and the panel put them in words).

The rule of thumb behind every verdict: a solve with K loses about
``log10 cond(K)`` of the ``-log10 eps`` decimal digits a dtype carries. When
``cond(K) * eps >= 1`` nothing is left, whatever path computed the gradient.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradviz.core.data import ProblemData
from gradviz.core.problem import Problem
from gradviz.core.results import (
    DTYPES,
    Ball,
    Diagnosis,
    DType,
    ProbeResult,
    Reference,
    ReferenceState,
    Verdict,
)

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


def carried_digits(dtype: DType) -> float:
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


def suggested_jitter(lambda_max: float, dtype: DType) -> float:
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


def _reference_state(reference: Reference | None, pending: bool) -> ReferenceState:
    if reference is not None:
        return ReferenceState(reference.status)
    return ReferenceState.PENDING if pending else ReferenceState.NONE


def verdict(
    problem: Problem,
    dtype: DType,
    digits: Sequence[float],
    reference_state: ReferenceState,
    cond: Conditioning | None,
) -> Verdict:
    """What ``dtype`` got right (``digits`` of the paths that were checked), what cond(K)
    leaves of its digits, and the jitter and solver that would keep KEEP_DIGITS."""
    found = Verdict(
        dtype=dtype,
        digits_min=min(digits) if digits else None,
        digits_max=max(digits) if digits else None,
        reference_state=reference_state,
        condition_number=None,
        condition_is_lower_bound=None,
        digits_left=None,
    )
    if cond is None:
        return found
    lost = cond.value * float(np.finfo(dtype).eps)
    left = 0.0 if lost >= 1 else max(0.0, carried_digits(dtype) - math.log10(cond.value))
    measured = dataclasses.replace(
        found,
        condition_number=cond.value,
        condition_is_lower_bound=cond.saturated,
        digits_left=left,
    )
    if lost < 10.0**-KEEP_DIGITS:
        return measured
    return dataclasses.replace(
        measured,
        suggested_jitter={d: suggested_jitter(cond.lambda_max, d) for d in (dtype, "float64")},
        suggested_solver=None if problem.solver == "cholesky" else "cholesky",
    )


def diagnose(
    result: ProbeResult,
    reference: Reference | None,
    cond: Conditioning | None,
    *,
    reference_pending: bool = False,
) -> Diagnosis:
    """Digits and verdicts for one probe against its reference (either may be pending)."""
    target = reference.grad if reference is not None and reference.status == "exact" else None
    correct = {(cell.path, cell.dtype): correct_digits(cell.grad, target) for cell in result.cells}
    state = _reference_state(reference, reference_pending)
    verdicts = {
        dtype: verdict(
            result.problem,
            dtype,
            [d for (_, dt), d in correct.items() if dt == dtype and d is not None],
            state,
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
