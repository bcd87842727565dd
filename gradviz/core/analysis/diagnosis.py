"""What the numbers mean: conditioning, digits carried, digits correct, verdicts (as records;
:mod:`gradviz.core.io.report` and the panel put them in words).

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

from gradviz.core.numerics.results import (
    DTYPES,
    Ball,
    Curves,
    Diagnosis,
    DType,
    PrecisionCurves,
    ProbeResult,
    Reference,
    ReferenceCurve,
    ReferenceState,
    Verdict,
)
from gradviz.core.problem.data import ProblemData
from gradviz.core.problem.spec import Problem

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


def digits_against(values: np.ndarray, mids: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Correct digits of each value against the ball ``mid +/- radius`` beside it:
    ``-log10 |value - mid| / |mid|``, or ``-log10 |value - mid|`` (absolute) where the
    reference is exactly 0, clamped to 0..17 and to what the radius certifies. NaN where
    the value or the reference does not exist. [m]"""
    values, mids, radii = (np.asarray(a, dtype=np.float64) for a in (values, mids, radii))
    scale = np.where(mids == 0.0, 1.0, np.abs(mids))  # [m]
    with np.errstate(divide="ignore", invalid="ignore"):
        error = -np.log10(np.abs(values - mids) / scale)  # [m], +inf where exact
        certified = np.where(radii > 0, -np.log10(radii / scale), MAX_DIGITS)  # [m]
    digits = np.minimum(np.clip(error, 0.0, MAX_DIGITS), certified)
    return np.where(np.isfinite(values) & np.isfinite(mids), digits, np.nan)


def correct_digits(value: float | None, reference: Ball | None) -> float | None:
    """:func:`digits_against` for one value; None when either number does not exist."""
    if value is None or reference is None:
        return None
    digits = digits_against(
        np.array([value]), np.array([reference.mid]), np.array([reference.radius])
    )
    return None if math.isnan(digits[0]) else float(digits[0])


def digits_left(dtype: DType, cond: Conditioning) -> float:
    """What a solve with K leaves of the digits ``dtype`` carries: ``carried - log10
    cond``, at least 0, and exactly 0 when ``cond * eps >= 1`` (nothing is left)."""
    if cond.value * float(np.finfo(dtype).eps) >= 1:
        return 0.0
    return max(0.0, carried_digits(dtype) - math.log10(cond.value))


def precision_curves(
    curves: Curves, reference: ReferenceCurve, cond: Conditioning | None
) -> PrecisionCurves:
    """Correct digits of the curve path's d mu/dx over the reference curve's x, per
    dtype; the reference's x are a subset of the curves' grid (NaN where one is not)."""
    index = np.clip(np.searchsorted(curves.x, reference.x), 0, len(curves.x) - 1)  # [m]
    matched = curves.x[index] == reference.x  # [m]
    digits = {}
    for dtype in DTYPES:
        values = np.where(matched, curves.grad[dtype][index], np.nan)  # [m]
        digits[dtype] = digits_against(values, reference.grad, reference.grad_radius)
    return PrecisionCurves(
        problem=curves.problem,
        x=reference.x,
        digits=digits,
        carried={dtype: carried_digits(dtype) for dtype in DTYPES},
        left=None if cond is None else {dtype: digits_left(dtype, cond) for dtype in DTYPES},
        reference_jitter=reference.jitter,
        is_limit=reference.is_limit,
    )


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
    left = digits_left(dtype, cond)
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
