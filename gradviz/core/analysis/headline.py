"""The one-paragraph answer to the Stack Overflow question, built from the records.

Why did the two calls disagree (or agree), can the number be trusted, what is the true
value, and what would fix it: short sentences from the probe's cells, its spread, the
reference and the measured advice (never from the cond(K) bound). Nothing here parses
text; the window and the CLI both print what :func:`headline` returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradviz.core.analysis.advice import Advice, digits_words, point_words
from gradviz.core.analysis.diagnosis import sci
from gradviz.core.numerics.results import (
    DTYPES,
    FAILURE_WORDS,
    Ball,
    Diagnosis,
    DType,
    PathName,
    ProbeResult,
    Reference,
)
from gradviz.core.problem.spec import Problem

SEED_PATHS: tuple[PathName, PathName] = ("seed_optimizer", "seed_gradients")
NOISE_DIGITS = 1.0  # below this not even the first digit holds


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _agreement(result: ProbeResult) -> str:
    """Whether the seed's two calls print the same number, per dtype."""
    same, different, failed = [], [], []
    for dtype in DTYPES:
        grads = [result.cell(path, dtype).grad for path in SEED_PATHS]
        if _no_number(result, dtype):
            failed.append(_no_number(result, dtype))
        elif None in grads:
            failed.append(dtype)
        elif grads[0] == grads[1]:
            same.append(dtype)
        else:
            different.append(f"{dtype} ({grads[0]:.6g} vs {grads[1]:.6g})")
    parts = []
    if same:
        parts.append(f"agree bit for bit in {_join(same)}")
    if different:
        parts.append(f"differ in {_join(different)}")
    if failed:
        parts.append(f"give no number in {_join(failed)}")
    return "The seed's two calls (compute_gradients and tf.gradients) " + "; ".join(parts)


def _seed_digits(result: ProbeResult, diagnosis: Diagnosis, dtype: DType) -> float | None:
    """Correct digits of the seed's calls (the worse of the two) against the reference."""
    digits = [diagnosis.correct_digits.get((path, dtype)) for path in SEED_PATHS]
    known = [d for d in digits if d is not None]
    return min(known) if known else None


def _no_number(result: ProbeResult, dtype: DType) -> str:
    """A dtype in which no path gave a number, with why (empty when some path did)."""
    cells = [cell for cell in result.cells if cell.dtype == dtype]
    if any(cell.grad is not None for cell in cells):
        return ""
    kinds = {cell.failure_kind for cell in cells if cell.failure_kind is not None}
    why = _join(sorted(FAILURE_WORDS[kind] for kind in kinds)) if kinds else "no result"
    return f"{dtype} (no path does: {why})"


def _trust(result: ProbeResult, diagnosis: Diagnosis) -> str:
    """Per dtype: noise (with what equivalent programs print), or how many digits hold:
    checked against the reference, else estimated from the spread."""
    noise, fine, below = [], [], []
    against = " (vs the jitter limit)" if diagnosis.digits_against == "limit" else ""
    for dtype in DTYPES:
        spread = result.spread.get(dtype)
        checked = _seed_digits(result, diagnosis, dtype)
        digits = checked
        if digits is None and spread is not None:
            digits = spread.significant_digits
        kind = f"correct{against}" if checked is not None else "significant (spread)"
        if dtype in diagnosis.underflows:
            below.append(dtype)
            continue
        if _no_number(result, dtype) or digits is None:
            continue
        elif digits < NOISE_DIGITS and spread is not None:
            noise.append(f"{dtype} anything from {spread.grad_min:.4g} to {spread.grad_max:.4g}")
        elif digits < NOISE_DIGITS:
            noise.append(f"{dtype} noise")
        else:
            count = math.floor(digits)
            fine.append(f"{dtype} has {count} {kind} digit{'' if count == 1 else 's'}")
    sentences = []
    if noise:
        sentences.append(
            "but the result is rounding noise: equivalent programs (one ulp apart, as graph "
            "and eager code or two CPUs are) print " + _join(noise)
        )
    if fine:
        sentences.append("here " + _join(fine))
    if below:
        sentences.append(
            f"the true value is below the smallest number {_join(below)} can hold "
            "(it underflows), so not one digit of it can be had there"
        )
    return "; ".join(sentences)


def _kink(result: ProbeResult, sides: tuple[Ball, Ball]) -> str:
    """At a data point of a kernel with a kink, there is no slope to be right about."""
    left, right = (side.mid for side in sides)
    return (
        f"{result.problem.measured.value} is not differentiable at x = {result.x:g}: x is "
        "a data point and the "
        f"{result.problem.kernel} kernel has a kink there (|x - p|), so no number is the "
        f"true slope; from the left it is {left:.6g}, from the right {right:.6g}, and "
        f"taking sign(0) = 0 at the kink, as TensorFlow's gradients do, gives their mean "
        f"{(left + right) / 2:.6g}."
    )


def _repeated(problem: Problem) -> str:
    """Repeated x make K exactly singular: jitter decides the answer."""
    if problem.points is None:
        return ""
    repeats = problem.n - len(np.unique(problem.points.array))
    if not repeats:
        return ""
    where = f"{repeats} x value{'s' if repeats > 1 else ''} repeat{'' if repeats > 1 else 's'}"
    if problem.jitter == 0:
        return (
            f"The data's {where}: K has identical rows and is singular without jitter, so "
            "the jitter (a noise variance) is what makes this problem well-posed."
        )
    return (
        f"The data's {where}: K alone is singular, so the answer depends on the jitter "
        f"({sci(problem.jitter)}) that makes K + jitter I invertible."
    )


def _truth(result: ProbeResult, reference: Reference | None) -> str:
    if reference is None:
        return "There is no reference to say what the true value is."
    if reference.one_sided is not None:
        return _kink(result, reference.one_sided)
    slope = result.problem.measured.slope
    if reference.status == "exact" and reference.grad is not None:
        grad = reference.grad
        if grad.mid == 0:
            return (
                f"The exact {slope} is within {sci(grad.radius)} of 0 (ball arithmetic), "
                "below float64's smallest number."
            )
        return f"The exact {slope} is {grad.mid:.6g} (ball arithmetic)."
    if reference.limit is not None:
        return (
            f"The exact problem has no certified answer; its limit as jitter -> 0 "
            f"(certified at jitter {sci(reference.limit.jitter)}) is "
            f"{reference.limit.grad.mid:.6g}."
        )
    return "The exact problem has no certified answer, and no jitter limit resolved."


def advice_sentences(advice: Advice | None, pending: bool = False) -> str:
    """What to change, as measured here: the cause, then per dtype the (solver, jitter)
    keeping the most digits where it beats the problem as given. Empty without advice."""
    if advice is None:
        return "What to change: measuring..." if pending else ""
    if advice.cause.change == "none":
        return advice.cause.text
    better = [
        f"{dtype} {digits_words(measured)} ({point_words(measured)})"
        for dtype in ("float64", "float32")
        if (measured := advice.advised[dtype]) is not None and advice.changes(dtype)
    ]
    most = f" Most digits measured here: {_join(better)}." if better else ""
    return advice.cause.text + most


def _graph_and_eager(result: ProbeResult) -> str:
    """Where eager (tape) and graph (function) code print different numbers that the
    spread covers: the gap is rounding, not a bug."""
    explained = []
    for dtype in DTYPES:
        spread = result.spread.get(dtype)
        eager, graph = (result.cell(path, dtype).grad for path in ("tape", "function"))
        if spread is None or eager is None or graph is None or eager == graph:
            continue
        if all(spread.grad_min <= v <= spread.grad_max for v in (eager, graph)):
            explained.append(dtype)
    if not explained:
        return ""
    return (
        f"Eager (tape) and graph (function) code differ in {_join(explained)} only because "
        "they round differently: the spread covers both."
    )


def headline(
    result: ProbeResult,
    reference: Reference | None,
    diagnosis: Diagnosis,
    advice: Advice | None = None,
    *,
    advice_pending: bool = False,
) -> str:
    """The answer in plain words (see the module docstring); the last sentences are the
    measured advice, or "measuring..." while it is ``advice_pending``."""
    first = _agreement(result)
    trust = _trust(result, diagnosis)
    if trust:
        first += (", " if trust.startswith("but") else "; ") + trust
    sentences = [
        first + ".",
        _graph_and_eager(result),
        _repeated(result.problem),
        _truth(result, reference),
        advice_sentences(advice, advice_pending),
    ]
    return " ".join(sentence for sentence in sentences if sentence)
