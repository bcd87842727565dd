"""What the numbers mean: conditioning, digits carried, digits correct, verdicts (as records;
:mod:`gradviz.core.io.report` and the panel put them in words).

The worst-case bound beside every verdict: a solve with K loses up to ``log10 cond(K)`` of
the ``-log10 eps`` decimal digits a dtype carries, and when ``cond(K) * eps >= 1`` the
bound leaves nothing. It is a bound, not a prediction: on the seed it leaves nothing while
a ``solve`` keeps 5-6 float64 digits. What to change is measured, never derived from it
(:mod:`gradviz.core.analysis.advice`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradviz.core.numerics.results import (
    DTYPES,
    Ball,
    Curves,
    Diagnosis,
    DigitsAgainst,
    DType,
    PrecisionCurves,
    ProbeResult,
    Reference,
    ReferenceCurve,
    ReferenceState,
    Verdict,
)
from gradviz.core.problem.data import ProblemData, probe_matrix

# A reference ball that does not fix this many digits of its value (radius > 1e-3 |mid|)
# is not counted against at all: its digits would be noise.
FIXED_DIGITS = 3.0


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


def conditioning(data: ProblemData, at: float | None = None) -> Conditioning:
    """Condition number of ``K + jitter I`` (O(n^3): call it once per problem), as the
    problem has it, or with ``at`` as its quantity has it at that probe (an LML quantity's
    K at theta = ``at``)."""
    problem = data.problem
    matrix, jitter = (data.kernel, problem.jitter) if at is None else probe_matrix(data, at)
    kernel = matrix + jitter * np.eye(problem.n)  # [n, n]
    eigenvalues = np.abs(np.linalg.eigvalsh(kernel))
    lambda_max, lambda_min = float(eigenvalues.max()), float(eigenvalues.min())
    floor = problem.n * float(np.finfo(np.float64).eps) * lambda_max
    value = lambda_max / lambda_min if lambda_min > 0 else math.inf
    return Conditioning(value=value, saturated=lambda_min <= floor, lambda_max=lambda_max)


def max_digits(dtype: DType) -> float:
    """The most correct digits a value of ``dtype`` is credited with, those of a correctly
    rounded value: ``-log10(eps / 2)``, 7.2 for float32 and 16.0 for float64. A value that
    happens to match the reference exactly holds no more than its dtype does."""
    return -math.log10(float(np.finfo(dtype).eps) / 2)


def underflows(mids: np.ndarray, radii: np.ndarray, dtype: DType) -> np.ndarray:
    """Where the reference ``mid +/- radius`` lies wholly within the smallest positive
    number of ``dtype`` of zero: the true value is below what the dtype (or, for float64,
    the reference itself) can tell from 0, so no digit of it can be counted. [m]"""
    tiny = float(np.finfo(dtype).smallest_subnormal)
    with np.errstate(invalid="ignore", over="ignore"):
        result: np.ndarray = (
            np.abs(np.asarray(mids, dtype=np.float64)) + np.asarray(radii, dtype=np.float64) <= tiny
        )
    return result


def digits_against(
    values: np.ndarray, mids: np.ndarray, radii: np.ndarray, dtype: DType = "float64"
) -> np.ndarray:
    """Correct digits of each ``dtype`` value against the ball ``mid +/- radius`` beside it:
    ``-log10(|value - mid| / |mid|)``, capped by what the radius certifies
    (``-log10(radius / |mid|)``) and clamped to ``[0, max_digits(dtype)]`` (never negative,
    never -0.0). NaN where the value or the reference does not exist, where the ball does
    not fix FIXED_DIGITS of its value (nothing can be counted against it: it is too wide or
    contains 0) and where the reference :func:`underflows` the dtype. [m]"""
    values, mids, radii = (np.asarray(a, dtype=np.float64) for a in (values, mids, radii))
    scale = np.abs(mids)  # [m]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        error = -np.log10(np.abs(values - mids) / scale)  # [m], +inf where exact
        certified = -np.log10(radii / scale)  # [m], +inf for a point, NaN or -inf for 0 / 0
    digits = np.clip(np.minimum(error, certified), 0.0, max_digits(dtype)) + 0.0  # no -0.0
    counted = (
        np.isfinite(values)
        & np.isfinite(mids)
        & (scale > 0)
        & (certified >= FIXED_DIGITS)
        & ~underflows(mids, radii, dtype)
    )
    return np.where(counted, digits, np.nan)


def correct_digits(
    value: float | None, reference: Ball | None, dtype: DType = "float64"
) -> float | None:
    """:func:`digits_against` for one value; None when either number does not exist or
    nothing can be counted (an unfixed or underflowing reference)."""
    if value is None or reference is None:
        return None
    digits = digits_against(
        np.array([value]), np.array([reference.mid]), np.array([reference.radius]), dtype
    )
    return None if math.isnan(digits[0]) else float(digits[0])


def digits_left(dtype: DType, cond: Conditioning) -> float:
    """The worst-case bound on what a solve with K leaves of the digits ``dtype`` carries:
    ``carried - log10 cond``, at least 0, and exactly 0 when ``cond * eps >= 1``."""
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
        digits[dtype] = digits_against(values, reference.grad, reference.grad_radius, dtype)
    return PrecisionCurves(
        problem=curves.problem,
        x=reference.x,
        digits=digits,
        carried={dtype: carried_digits(dtype) for dtype in DTYPES},
        left=None if cond is None else {dtype: digits_left(dtype, cond) for dtype in DTYPES},
        reference_jitter=reference.jitter,
        is_limit=reference.is_limit,
    )


def sci(value: float, decimals: int = 0) -> str:
    """Compact scientific notation for prose: ``5e19``, ``4.5e15``, ``1e-10``."""
    if not math.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _reference_state(reference: Reference | None, pending: bool) -> ReferenceState:
    if reference is not None and reference.one_sided is not None:
        return ReferenceState.NOT_DIFFERENTIABLE
    if reference is not None:
        return ReferenceState(reference.status)
    return ReferenceState.PENDING if pending else ReferenceState.NONE


def verdict(
    dtype: DType,
    digits: Sequence[float],
    reference_state: ReferenceState,
    cond: Conditioning | None,
    underflows: bool = False,
) -> Verdict:
    """What ``dtype`` got right (``digits`` of the paths that were checked) and the
    worst-case bound cond(K) puts on its digits."""
    return Verdict(
        dtype=dtype,
        digits_min=min(digits) if digits else None,
        digits_max=max(digits) if digits else None,
        reference_state=reference_state,
        condition_number=None if cond is None else cond.value,
        condition_is_lower_bound=None if cond is None else cond.saturated,
        digits_left=None if cond is None else digits_left(dtype, cond),
        underflows=underflows,
    )


def digits_target(reference: Reference | None) -> tuple[Ball | None, DigitsAgainst | None]:
    """What correct digits are counted against: the exact value, else (the exact answer
    being undetermined) its jitter limit, marked as such; (None, None) without either."""
    if reference is None:
        return None, None
    if reference.status == "exact" and reference.grad is not None:
        return reference.grad, "exact"
    if reference.limit is not None:
        return reference.limit.grad, "limit"
    return None, None


def diagnose(
    result: ProbeResult,
    reference: Reference | None,
    cond: Conditioning | None,
    *,
    reference_pending: bool = False,
) -> Diagnosis:
    """Digits and verdicts for one probe against its reference (either may be pending):
    against the exact value, or the jitter limit when the exact answer is undetermined.
    A dtype whose true value underflows gets no digits: nothing it could do would hold a
    digit of it."""
    target, against = digits_target(reference)
    correct = {
        (cell.path, cell.dtype): correct_digits(cell.grad, target, cell.dtype)
        for cell in result.cells
    }
    below = frozenset(
        dtype
        for dtype in DTYPES
        if target is not None
        and underflows(np.array([target.mid]), np.array([target.radius]), dtype)[0]
    )
    state = _reference_state(reference, reference_pending)
    verdicts = {
        dtype: verdict(
            dtype,
            [d for (_, dt), d in correct.items() if dt == dtype and d is not None],
            state,
            cond,
            underflows=dtype in below,
        )
        for dtype in DTYPES
    }
    return Diagnosis(
        condition_number=None if cond is None else cond.value,
        condition_saturated=None if cond is None else cond.saturated,
        carried_digits={dtype: carried_digits(dtype) for dtype in DTYPES},
        correct_digits=correct,
        verdicts=verdicts,
        digits_against=against,
        underflows=below,
    )
