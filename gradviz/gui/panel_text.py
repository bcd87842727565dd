"""The panel's words and numbers as plain text: what a cell shows, the spread in words,
and the whole table as tab-separated text (Copy). No widgets here."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

from gradviz.core.analysis.advice import point_words
from gradviz.core.analysis.headline import headline
from gradviz.core.io.report import condition_words, format_value, reference_words, verdict_words
from gradviz.core.numerics.results import (
    DTYPES,
    PATH_SPECS,
    SPREAD_MAX_N,
    DType,
    FailureKind,
    ProbeReport,
    Spread,
)
from gradviz.core.problem.spec import Solver
from gradviz.gui.model import AdviceState, ProbeKey
from gradviz.gui.probe_axis import ProbeAxis

# Significant digits a cell shows: what float32 carries; for float64 two past the correct
# ones, 7..12. The tooltip and Copy keep every digit.
SHOWN_FLOAT32 = 7
SHOWN_AT_LEAST = 7
SHOWN_AT_MOST = 12
TSV_HEADER = (
    "path",
    "float32 grad",
    "float32 digits",
    "float64 grad",
    "float64 digits",
    "float32 mu",
    "float64 mu",
)
# A failed cell's few words; the full reason is its tooltip.
FAILURE_WORDS: dict[FailureKind, str] = {
    FailureKind.CHOLESKY_NOT_PD: "Cholesky failed",
    FailureKind.SINGULAR_INVERSE: "singular K",
    FailureKind.NON_FINITE: "NaN or Inf",
    FailureKind.OUT_OF_MEMORY: "out of memory",
    FailureKind.TENSORFLOW_ERROR: "TensorFlow error",
    FailureKind.TIMEOUT: "timed out",
}
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


def spread_text(spreads: Mapping[DType, Spread | None], dtype: DType, n: int) -> str:
    """One dtype's spread in the panel's words (``n``: the problem's points)."""
    if dtype not in spreads and n > SPREAD_MAX_N:
        return f"spread not computed (only up to n = {SPREAD_MAX_N}: 16 more solves per dtype)"
    if dtype not in spreads:
        return "spread: computed once the probe stops (not while it is dragged)"
    spread = spreads[dtype]
    if spread is None:
        return "no spread: its perturbed copies gave no number"
    if spread.grad_min == spread.grad_max:
        return f"all {spread.samples} perturbed copies print {spread.grad_min:.9g}"
    return (
        f"equivalent programs print anything from {spread.grad_min:.4g} to "
        f"{spread.grad_max:.4g} (about {math.floor(spread.significant_digits)} significant digits)"
    )


def seed_print(value: float, dtype: DType) -> str:
    """A number as the seed's ``print`` shows it: the shortest text of its own dtype."""
    return str(np.float32(value)) if dtype == "float32" else repr(float(value))


def shown_value(value: float | None, dtype: DType, digits: float | None) -> str:
    """A value with the significant digits that matter (see SHOWN_FLOAT32): a compact cell
    that never forces the panel wider than the plots."""
    if value is None:
        return format_value(value, dtype)
    if dtype == "float32":
        significant = SHOWN_FLOAT32
    elif digits is None:
        significant = SHOWN_AT_LEAST
    else:
        significant = min(SHOWN_AT_MOST, max(SHOWN_AT_LEAST, math.floor(digits) + 2))
    return f"{value:.{significant}g}"


def integer_width(text: str) -> int:
    """Characters before the decimal point (or exponent) so columns align on it."""
    for index, char in enumerate(text):
        if char in ".eE":
            return index
    return len(text)


def mono_numbers(text: str, family: str) -> str:
    """Rich text with every long number (6+ characters) set in the monospace font."""

    def mono(match: re.Match[str]) -> str:
        number = match.group(0)
        if len(number) < 6:
            return number
        return f"<span style='font-family:\"{family}\"'>{number}</span>"

    return _NUMBER.sub(mono, text)


def one_line(text: str) -> str:
    return " ".join(text.split())


def answer_text(report: ProbeReport | None, advice: AdviceState | None = None) -> str:
    """The answer paragraph: the advice's sentences when ``advice`` is for the report's
    (problem, x), "measuring..." while it is waited for, why when it failed."""
    if report is None:
        return ""
    measured, pending, failed = None, False, ""
    current = ProbeKey(report.result.problem, report.result.x)
    if advice is not None and advice.phase != "off" and advice.key == current:
        measured = advice.advice
        pending = advice.phase in ("waiting", "measuring")
        failed = (
            f" What to change: not measured ({advice.text})." if advice.phase == "failed" else ""
        )
    words = headline(
        report.result, report.reference, report.diagnosis, measured, advice_pending=pending
    )
    problem = report.result.problem
    if problem.quantity != "mean-slope":  # the seed's question needs no naming
        words = f"{ProbeAxis.of(problem).headline(report.result.x)}: {words}"
    return words + failed


def advised_points(advice: AdviceState | None) -> dict[str, tuple[Solver, float]]:
    """The advised configurations named in the answer, by the words that name them
    (``point_words``), for links that apply them."""
    if advice is None or advice.advice is None:
        return {}
    found = advice.advice
    return {
        point_words(measured): (measured.solver, measured.jitter)
        for dtype in DTYPES
        if (measured := found.advised[dtype]) is not None and found.changes(dtype)
    }


def carried_text(report: ProbeReport | None) -> str:
    if report is None:
        return ""
    carried = report.diagnosis.carried_digits
    return ", ".join(f"{dtype} {carried[dtype]:.1f}" for dtype in DTYPES if dtype in carried)


def against_words(report: ProbeReport) -> str:
    """What the correct digits of ``report`` are counted against, in words."""
    limit = None if report.reference is None else report.reference.limit
    if report.diagnosis.digits_against == "limit" and limit is not None:
        return f"the jitter {limit.jitter:g} limit (the exact answer is undetermined)"
    return "the reference"


def _digits_text(digits: float | None) -> str:
    return "" if digits is None else f"{digits:.1f}"


def table_text(report: ProbeReport | None, computing_x: float | None) -> str:
    """The table as tab-separated text: the header, a row per path, then the reference,
    the condition number, the digits carried, the spreads, the verdicts and the answer;
    ``computing_x`` marks the numbers stale (another x is being computed)."""
    rows = [list(TSV_HEADER)]
    for spec in PATH_SPECS:
        grads, digits, mus = [], [], []
        for dtype in DTYPES:
            if report is None:
                grads.append("")
                digits.append("")
                mus.append("")
                continue
            cell = report.result.cell(spec.name, dtype)
            if cell.error is not None:
                grads.append(f"error: {one_line(cell.error)}")
                mus.append("")
            else:
                grads.append(format_value(cell.grad, dtype))
                mus.append(format_value(cell.mu, dtype))
            digits.append(_digits_text(report.diagnosis.correct_digits.get((spec.name, dtype))))
        rows.append([spec.label, grads[0], digits[0], grads[1], digits[1], *mus])
    if report is not None:
        diagnosis = report.diagnosis
        if report.reference is None:
            rows.append(["reference", report.reference_note or "pending"])
        else:
            for line in reference_words(report.reference, report.result.problem.measured)[1]:
                rows.append(["reference", line])
        rows.append(["cond(K + jitter I)", condition_words(diagnosis)[1]])
        rows.append(["digits carried", carried_text(report)])
        rows.append(["digits against", against_words(report)])
        for dtype in DTYPES:
            n = report.result.problem.n
            rows.append([f"spread {dtype}", spread_text(report.result.spread, dtype, n)])
        for dtype, verdict in diagnosis.verdicts.items():
            rows.append([f"verdict {dtype}", verdict_words(verdict)])
        rows.append(["answer", answer_text(report)])
        rows.append(["x", repr(float(report.result.x))])
        rows.append(["problem", report.result.problem.description()])
        if computing_x is not None:
            rows.append(["stale", f"computing at x = {computing_x!r}"])
    return "\n".join("\t".join(one_line(field) for field in row) for row in rows) + "\n"
