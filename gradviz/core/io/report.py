"""``gradviz report`` output: the JSON document and the 80-column table.

Pure formatting of results that already exist; nothing here computes.
Non-finite floats become ``null`` because JSON has no NaN or Infinity.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradviz.core.analysis.advice import Advice, Measured, digits_words, jitter_words, point_words
from gradviz.core.analysis.diagnosis import carried_digits, sci
from gradviz.core.analysis.headline import headline
from gradviz.core.io.environment import environment
from gradviz.core.numerics.results import (
    DTYPES,
    FAILURE_WORDS,
    PATH_SPECS,
    Ball,
    Diagnosis,
    DType,
    ProbeResult,
    Reference,
    ReferenceState,
    Spread,
    Verdict,
)
from gradviz.core.problem.quantity import QUANTITY, Quantity

WIDTH = 80


@dataclass(frozen=True)
class Report:
    """Everything one ``gradviz report`` run found; ``advice`` is None when it was not
    measured (no reference)."""

    result: ProbeResult
    reference: Reference | None
    diagnosis: Diagnosis
    advice: Advice | None = None


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def reference_json(reference: Reference | None, quantity: Quantity) -> dict[str, Any] | None:
    """The ``reference`` object of the JSON contract (None when not computed): ``value``
    and ``grad`` are the quantity's value and derivative; ``mu`` repeats the value for
    mean-slope (the posterior mean) and is null for the other quantities."""
    if reference is None:
        return None
    limit = reference.limit
    is_mean = quantity.name == "mean-slope"

    def mid(ball: Ball | None) -> float | None:
        return None if ball is None else _number(ball.mid)

    def radius(ball: Ball | None) -> float | None:
        return None if ball is None else _number(ball.radius)

    sides = reference.one_sided
    return {
        "status": reference.status,
        "value": mid(reference.mu),
        "grad": mid(reference.grad),
        "value_radius": radius(reference.mu),
        "grad_radius": radius(reference.grad),
        "mu": mid(reference.mu) if is_mean else None,
        "mu_radius": radius(reference.mu) if is_mean else None,
        "precision_bits": reference.precision_bits,
        "reason": reference.reason,
        "limit": None
        if limit is None
        else {
            "jitter": limit.jitter,
            "value": mid(limit.mu),
            "grad": mid(limit.grad),
            "value_radius": radius(limit.mu),
            "grad_radius": radius(limit.grad),
            "mu": mid(limit.mu) if is_mean else None,
            "mu_radius": radius(limit.mu) if is_mean else None,
        },
        "one_sided": None
        if sides is None
        else {
            "left": mid(sides[0]),
            "right": mid(sides[1]),
            "left_radius": radius(sides[0]),
            "right_radius": radius(sides[1]),
        },
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """A verdict record as JSON: its fields, non-finite numbers as null; ``digits_left``
    is the cond(K) worst-case bound."""
    return {
        "dtype": verdict.dtype,
        "digits_min": verdict.digits_min,
        "digits_max": verdict.digits_max,
        "reference_state": str(verdict.reference_state),
        "condition_number": _number(verdict.condition_number),
        "condition_is_lower_bound": verdict.condition_is_lower_bound,
        "digits_left": verdict.digits_left,
        "underflows": verdict.underflows,
    }


def _measured_json(measured: Measured | None) -> dict[str, Any] | None:
    if measured is None:
        return None
    kind = measured.failure_kind
    return {
        "solver": measured.solver,
        "jitter": measured.jitter,
        "digits": _number(measured.digits),
        "failure_kind": None if kind is None else str(kind),
    }


def advice_json(advice: Advice | None) -> dict[str, Any] | None:
    """The ``advice`` object: per dtype the problem as given and the advised (solver,
    jitter) with the digits measured there, and the cause. None when not measured."""
    if advice is None:
        return None
    return {
        "as_given": {dtype: _measured_json(advice.as_given[dtype]) for dtype in DTYPES},
        **{dtype: _measured_json(advice.advised[dtype]) for dtype in DTYPES},
        "cause": {"change": advice.cause.change, "text": advice.cause.text},
        "truth_jitter": advice.truth_jitter,
        "seconds": round(advice.seconds, 3),
    }


def spread_json(spread: Spread | None) -> dict[str, Any]:
    """One dtype's spread; every value null when it was not computed or every copy failed."""
    if spread is None:
        keys = ("samples", "grad_min", "grad_max", "grad_std", "significant_digits")
        return dict.fromkeys(keys)
    return {
        "samples": spread.samples,
        "grad_min": _number(spread.grad_min),
        "grad_max": _number(spread.grad_max),
        "grad_std": _number(spread.grad_std),
        "significant_digits": _number(spread.significant_digits),
    }


def spread_words(spread: Spread | None, dtype: DType) -> str:
    """A dtype's spread in a few words, for a table column or a panel line."""
    if spread is None:
        return "spread: none"
    low, high = format_value(spread.grad_min, dtype), format_value(spread.grad_max, dtype)
    if low == high:
        return f"spread: all {spread.samples} copies print {low}"
    return f"spread: {low} .. {high} (~{spread.significant_digits:.0f} digits)"


def to_json(report: Report) -> str:
    """The documented JSON object, indented for people and parseable by machines."""
    result, diagnosis = report.result, report.diagnosis
    quantity = result.problem.measured
    is_mean = quantity.name == "mean-slope"
    document = {
        "config": {**result.problem.config(), "x": result.x},
        "condition_number": _number(diagnosis.condition_number),
        "condition_number_is_lower_bound": diagnosis.condition_saturated,
        "reference": reference_json(report.reference, quantity),
        "digits_against": diagnosis.digits_against,
        "results": [
            {
                "dtype": cell.dtype,
                "path": cell.path,
                "value": _number(cell.mu),
                "grad": _number(cell.grad),
                "mu": _number(cell.mu) if is_mean else None,
                "correct_digits": diagnosis.correct_digits[(cell.path, cell.dtype)],
                "status": cell.status,
                "error": cell.error,
                "failure_kind": None if cell.failure_kind is None else str(cell.failure_kind),
                "extra": {key: _number(value) for key, value in cell.extra.items()},
            }
            for cell in result.cells
        ],
        "verdicts": {
            dtype: verdict_line(v, report.advice) for dtype, v in diagnosis.verdicts.items()
        },
        "diagnosis": {dtype: verdict_json(v) for dtype, v in diagnosis.verdicts.items()},
        "headline": headline(result, report.reference, diagnosis, report.advice),
        "advice": advice_json(report.advice),
        "spread": {dtype: spread_json(result.spread.get(dtype)) for dtype in DTYPES},
        "environment": environment(),
    }
    return json.dumps(document, indent=2, allow_nan=False)


def _digits_phrase(low: float, high: float) -> str:
    low_digits, high_digits = math.floor(low), math.floor(high)
    count = f"{low_digits}" if low_digits == high_digits else f"{low_digits} to {high_digits}"
    return f"{count} correct digit{'' if high_digits == 1 else 's'}"


_UNCHECKED: dict[ReferenceState, str] = {
    ReferenceState.NONE: "not checked (no reference)",
    ReferenceState.PENDING: "not checked yet (reference pending)",
    ReferenceState.UNDETERMINED: "not checkable (the exact problem has no certified answer)",
    ReferenceState.NOT_DIFFERENTIABLE: "not checkable (a kink at x: no slope exists)",
    ReferenceState.EXACT: "no path produced a number",
}


def measured_words(advice: Advice | None, dtype: DType) -> str:
    """What was measured for ``dtype``: the problem as given and, where it keeps more, the
    advised (solver, jitter); empty without advice."""
    if advice is None:
        return ""
    given, advised = advice.as_given[dtype], advice.advised[dtype]
    words = f"measured as given: {digits_words(given)}"
    if advised is not None and advice.changes(dtype):
        words += f"; {point_words(advised)} keeps {digits_words(advised)}"
    elif advised is not None:
        words += " (the most measured here)"
    return words


def verdict_words(verdict: Verdict, advice: Advice | None = None) -> str:
    """The verdict as one plain sentence, without the dtype: digits found, the cond(K)
    worst-case bound (named as such) and what was measured. The table and the panel
    both print it."""
    if verdict.underflows:
        found = (
            f"the true value is below {verdict.dtype}'s smallest number (it underflows): "
            "no digit of it can be held or counted"
        )
    elif verdict.digits_min is not None and verdict.digits_max is not None:
        found = _digits_phrase(verdict.digits_min, verdict.digits_max)
        if verdict.reference_state == ReferenceState.UNDETERMINED:
            found += " vs the jitter limit"
    else:
        found = _UNCHECKED[verdict.reference_state]
    measured = measured_words(advice, verdict.dtype)
    if verdict.condition_number is None or verdict.digits_left is None:
        parts = [found, "cond(K + jitter I) is still being computed", measured]
        return "; ".join(part for part in parts if part)
    dtype, cond = verdict.dtype, verdict.condition_number
    approx = ">=" if verdict.condition_is_lower_bound else "~"
    condition = f"cond(K + jitter I) {approx} {sci(cond)}"
    if verdict.digits_left == 0:
        condition += (
            f" exceeds 1/eps = {sci(1 / float(np.finfo(dtype).eps), 1)}: the worst-case "
            "bound leaves no digit"
        )
    else:
        condition += (
            f": the worst-case bound leaves {verdict.digits_left:.0f} of "
            f"{carried_digits(dtype):.0f} digits"
        )
    return "; ".join(part for part in (found, condition, measured) if part)


def verdict_line(verdict: Verdict, advice: Advice | None = None) -> str:
    """``"<dtype>: <verdict_words>"``, the line the table and the JSON ``verdicts`` carry."""
    return f"{verdict.dtype}: {verdict_words(verdict, advice)}"


def advice_lines(advice: Advice | None) -> list[str]:
    """The advice as the table prints it under the headline; empty when not measured."""
    if advice is None:
        return []
    truth = "none" if advice.truth_jitter is None else jitter_words(advice.truth_jitter)
    if advice.problem.measured.is_lml:
        about = (
            f"the exact answer at jitter {truth} (part of the likelihood: only solvers and "
            "dtypes are compared)"
        )
    else:
        about = f"the jitter-free answer, the reference at jitter {truth}"
    lines = [f"advice (measured here: the function path's digits about {about}):"]
    for label, records in (("as given", advice.as_given), ("advised", advice.advised)):
        for dtype in DTYPES:
            measured = records[dtype]
            point = "-" if measured is None else point_words(measured)
            lines.append(f"  {label:<9} {dtype}  {point:<28} {digits_words(measured)}")
    lines.append(f"  cause: {advice.cause.change}")
    return lines


def format_value(value: float | None, dtype: DType) -> str:
    """Shortest text that round-trips the dtype: 9 significant digits for float32, 17 for
    float64 (so two different doubles never print alike)."""
    if value is None:
        return "error"
    return f"{value:.9g}" if dtype == "float32" else f"{value:.17g}"


def format_ball(ball: Ball) -> str:
    """``mid +/- radius`` with the midpoint to 17 significant digits."""
    return f"{ball.mid:.17g} +/- {sci(ball.radius, 1)}"


def reference_words(
    reference: Reference | None, quantity: Quantity = QUANTITY["mean-slope"]
) -> tuple[str, list[str]]:
    """The reference of ``quantity``'s derivative in words: what joins them to the word
    "reference" (" " or ": ") and the lines that follow it."""
    if reference is None:
        return ": ", ["not computed (--no-reference)"]
    slope = quantity.slope
    if reference.status == "exact" and reference.grad is not None:
        bits = reference.precision_bits
        below = ", below float64's smallest number" if reference.grad.mid == 0 else ""
        line = f"{slope} = {format_ball(reference.grad)} ({bits}-bit ball arithmetic{below})"
        return " ", [line]
    lines = [f"undetermined: {reference.reason}"]
    if reference.limit is not None:
        lines.append(
            f"its jitter {sci(reference.limit.jitter)} limit: {slope} = "
            f"{format_ball(reference.limit.grad)}"
        )
    if reference.one_sided is not None:
        left, right = reference.one_sided
        lines.append(f"slope from the left {format_ball(left)}")
        lines.append(f"slope from the right {format_ball(right)}")
    return ": ", lines


def reference_lines(reference: Reference | None, quantity: Quantity) -> list[str]:
    """The reference in words, as the table prints it."""
    joint, (first, *rest) = reference_words(reference, quantity)
    return [f"reference{joint}{first}", *(f"  {line}" for line in rest)]


def condition_words(diagnosis: Diagnosis) -> tuple[str, str]:
    """cond(K + jitter I) in words, flagging the float64 rounding floor: what joins them
    to "cond(K + jitter I)" and the words."""
    if diagnosis.condition_number is None:
        return ": ", "computing"
    if diagnosis.condition_saturated:
        return " ", (
            f">= {sci(diagnosis.condition_number, 1)} "
            "(float64 rounding floor: the exact matrix is worse)"
        )
    return " ", f"~ {sci(diagnosis.condition_number, 1)}"


def condition_line(diagnosis: Diagnosis) -> str:
    """The condition number's line of the table and the panel."""
    joint, words = condition_words(diagnosis)
    return f"cond(K + jitter I){joint}{words}"


def _digits(value: float | None, underflow: bool) -> str:
    if underflow:
        return "uf"
    return "-" if value is None else f"{math.floor(value)}"


def _digits_legend(report: Report) -> str:
    """What the table's ``ok`` column counts against, and its marks."""
    diagnosis, reference = report.diagnosis, report.reference
    if diagnosis.digits_against == "limit" and reference is not None and reference.limit:
        against = (
            f"vs limit, the jitter {sci(reference.limit.jitter)} limit (the exact answer is "
            "undetermined)"
        )
    else:
        against = "vs the reference"
    legend = f"ok: correct digits {against}, - if none"
    if diagnosis.underflows:
        below = " and ".join(sorted(diagnosis.underflows))
        legend += f"; uf: the true value underflows {below} (is below the smallest number)"
    return legend


def _wrapped(lines: list[str]) -> list[str]:
    """Every line folded to WIDTH columns, continuations indented; blank lines kept."""
    folded = []
    for line in lines:
        folded += textwrap.wrap(line, WIDTH, subsequent_indent="    ") or [""]
    return folded


def to_table(report: Report) -> str:
    """An aligned, 80-column summary: one row per path, both dtypes side by side."""
    result, diagnosis = report.result, report.diagnosis
    quantity = result.problem.measured
    title = f"{quantity.slope} by path"
    header = f"{title:<19}{'float32':>15} {'ok':>3}  {'float64':>24} {'ok':>3}"
    rows, notes = [], []
    for spec in PATH_SPECS:
        row = f"{spec.label:<19}"
        for dtype, width in zip(DTYPES, (15, 24), strict=True):
            cell = result.cell(spec.name, dtype)
            row += f"{format_value(cell.grad, dtype):>{width}} "
            digits = diagnosis.correct_digits[(spec.name, dtype)]
            row += f"{_digits(digits, dtype in diagnosis.underflows):>3}  "
            if cell.failure_kind is not None:
                words = FAILURE_WORDS[cell.failure_kind]
                notes.append(f"{spec.label} {dtype} ({words}): {cell.error}")
        rows.append(row.rstrip())
    spreads = [spread_words(result.spread.get(dtype), dtype) for dtype in DTYPES]
    if result.spread:
        rows += [f"  {dtype} {words}" for dtype, words in zip(DTYPES, spreads, strict=True)]
    carried = ", ".join(f"{dtype} {diagnosis.carried_digits[dtype]:.1f}" for dtype in DTYPES)
    before = [
        f"gradviz report: {result.problem.summary()}, x = {result.x:g}",
        "",
        headline(result, report.reference, diagnosis, report.advice),
        "",
        *advice_lines(report.advice),
        *([""] if report.advice is not None else []),
        condition_line(diagnosis),
        *reference_lines(report.reference, quantity),
        "",
    ]
    after = [f"{_digits_legend(report)}; carried: {carried}", ""]
    verdicts = [verdict_line(v, report.advice) for v in diagnosis.verdicts.values()]
    return "\n".join(
        [
            *_wrapped(before),
            header,
            *rows,
            *_wrapped([*after, *notes, *verdicts]),
        ]
    )


def split_correct_digits(text: str, digits: float | None) -> tuple[str, str]:
    """Split a number printed by :func:`format_value` after its first ``floor(digits)``
    correct significant digits: ``("-0.729", "10845360340196")`` for 3 digits.

    Significant digits start at the first non-zero digit of the mantissa. The sign,
    leading zeros and the decimal point stay with the prefix when the scan reaches
    them before the first wrong digit. The exponent stays with the suffix unless every
    mantissa digit is correct. ``"".join`` of the two parts is always ``text``; None,
    NaN or fewer than one digit gives ``("", text)``.
    """
    if digits is None or math.isnan(digits) or digits < 1:
        return "", text
    wanted = math.inf if math.isinf(digits) else math.floor(digits)
    mantissa = _mantissa(text)
    seen = 0
    started = False
    for index, char in enumerate(mantissa):
        if not char.isdigit():
            continue
        started = started or char != "0"
        if started:
            if seen == wanted:
                return text[:index], text[index:]
            seen += 1
    return text, ""


def _mantissa(text: str) -> str:
    """``text`` without a trailing exponent such as ``e-07`` or ``E+20``."""
    for index in range(1, len(text)):
        if text[index] in "eE" and text[index - 1].isdigit():
            rest = text[index + 1 :].removeprefix("+").removeprefix("-")
            if rest.isdigit():
                return text[:index]
    return text
