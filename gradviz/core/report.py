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

from gradviz.core.diagnosis import sci
from gradviz.core.results import DTYPES, PATHS, Ball, Diagnosis, ProbeResult, Reference

WIDTH = 80


@dataclass(frozen=True)
class Report:
    """Everything one ``gradviz report`` run found."""

    result: ProbeResult
    reference: Reference | None
    diagnosis: Diagnosis


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def reference_json(reference: Reference | None) -> dict[str, Any] | None:
    """The ``reference`` object of the JSON contract (None when not computed)."""
    if reference is None:
        return None
    limit = reference.limit

    def mid(ball: Ball | None) -> float | None:
        return None if ball is None else _number(ball.mid)

    def radius(ball: Ball | None) -> float | None:
        return None if ball is None else _number(ball.radius)

    return {
        "status": reference.status,
        "mu": mid(reference.mu),
        "grad": mid(reference.grad),
        "mu_radius": radius(reference.mu),
        "grad_radius": radius(reference.grad),
        "precision_bits": reference.precision_bits,
        "reason": reference.reason,
        "limit": None
        if limit is None
        else {
            "jitter": limit.jitter,
            "mu": mid(limit.mu),
            "grad": mid(limit.grad),
            "mu_radius": radius(limit.mu),
            "grad_radius": radius(limit.grad),
        },
    }


def to_json(report: Report) -> str:
    """The documented JSON object, indented for people and parseable by machines."""
    result, diagnosis = report.result, report.diagnosis
    document = {
        "config": {**result.problem.to_dict(), "x": result.x},
        "condition_number": _number(diagnosis.condition_number),
        "reference": reference_json(report.reference),
        "results": [
            {
                "dtype": cell.dtype,
                "path": cell.path,
                "mu": _number(cell.mu),
                "grad": _number(cell.grad),
                "correct_digits": diagnosis.correct_digits[(cell.path, cell.dtype)],
                "status": cell.status,
                "error": cell.error,
                "extra": {key: _number(value) for key, value in cell.extra.items()},
            }
            for cell in result.cells
        ],
        "verdicts": dict(diagnosis.verdicts),
    }
    return json.dumps(document, indent=2, allow_nan=False)


def format_value(value: float | None, dtype: str) -> str:
    """Shortest text that round-trips the dtype: 9 significant digits for float32, 17 for
    float64 (so two different doubles never print alike)."""
    if value is None:
        return "error"
    return f"{value:.9g}" if dtype == "float32" else f"{value:.17g}"


def format_ball(ball: Ball) -> str:
    """``mid +/- radius`` with the midpoint to 17 significant digits."""
    return f"{ball.mid:.17g} +/- {sci(ball.radius, 1)}"


def reference_lines(reference: Reference | None) -> list[str]:
    """The reference in words, as the table and the GUI panel print it."""
    if reference is None:
        return ["reference: not computed (--no-reference)"]
    if reference.status == "exact" and reference.grad is not None:
        return [
            f"reference d mu/dx = {format_ball(reference.grad)} "
            f"({reference.precision_bits}-bit ball arithmetic)"
        ]
    lines = [f"reference: undetermined: {reference.reason}"]
    if reference.limit is not None:
        lines.append(
            f"  its jitter {sci(reference.limit.jitter)} limit: d mu/dx = "
            f"{format_ball(reference.limit.grad)}"
        )
    return lines


def condition_line(diagnosis: Diagnosis) -> str:
    """cond(K + jitter I) in words, flagging the float64 rounding floor."""
    if diagnosis.condition_number is None:
        return "cond(K + jitter I): computing"
    if diagnosis.condition_saturated:
        return (
            f"cond(K + jitter I) >= {sci(diagnosis.condition_number, 1)} "
            "(float64 rounding floor: the exact matrix is worse)"
        )
    return f"cond(K + jitter I) ~ {sci(diagnosis.condition_number, 1)}"


def _digits(value: float | None) -> str:
    return "-" if value is None else f"{math.floor(value)}"


def _wrapped(lines: list[str]) -> list[str]:
    """Every line folded to WIDTH columns, continuations indented; blank lines kept."""
    folded = []
    for line in lines:
        folded += textwrap.wrap(line, WIDTH, subsequent_indent="    ") or [""]
    return folded


def to_table(report: Report) -> str:
    """An aligned, 80-column summary: one row per path, both dtypes side by side."""
    result, diagnosis = report.result, report.diagnosis
    header = f"{'d mu/dx by path':<19}{'float32':>15} {'ok':>3}  {'float64':>24} {'ok':>3}"
    rows, notes = [], []
    for path in PATHS:
        row = f"{path:<19}"
        for dtype, width in zip(DTYPES, (15, 24), strict=True):
            cell = result.cell(path, dtype)
            row += f"{format_value(cell.grad, dtype):>{width}} "
            row += f"{_digits(diagnosis.correct_digits[(path, dtype)]):>3}  "
            if cell.error:
                notes.append(f"{path} {dtype}: {cell.error}")
        rows.append(row.rstrip())
    carried = ", ".join(f"{dtype} {diagnosis.carried_digits[dtype]:.1f}" for dtype in DTYPES)
    before = [
        f"gradviz report: {result.problem.summary()}, x = {result.x:g}",
        condition_line(diagnosis),
        *reference_lines(report.reference),
        "",
    ]
    after = [f"ok: correct digits vs the reference (- if none); carried: {carried}", ""]
    return "\n".join(
        [
            *_wrapped(before),
            header,
            *rows,
            *_wrapped([*after, *notes, *diagnosis.verdicts.values()]),
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
