"""The curves the window draws, as data: ``gradviz curves`` and File > Export data.

One document per problem: the probe grid ``x`` (x, or an LML quantity's theta), the
reference (or its jitter limit) of the quantity's value and derivative with the radius
of the derivative and the jitter of the problem it solves (``reference_jitter``: the
problem's own where the exact answer is fixed, the limit's where it is not), and per
dtype the value, the derivative (``grad``), its correct digits against that reference
and the spread's significant digits; the ``mu`` columns repeat the value for mean-slope
(the posterior mean) and are empty for the other quantities. JSON has no NaN, so every
value that
does not exist is ``null``; CSV leaves it empty. Pure formatting: nothing is computed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradviz.core.numerics.results import DTYPES, Curves, PrecisionCurves, Reference, ReferenceCurve

DTYPE_COLUMNS = ("value", "mu", "grad", "correct_digits", "spread_digits")
REFERENCE_COLUMNS = (
    "reference_value",
    "reference_mu",
    "reference_grad",
    "reference_grad_radius",
    "reference_jitter",
)


@dataclass(frozen=True, eq=False)
class CurvesExport:
    """What one export holds; ``reference`` is None when it was not computed."""

    curves: Curves
    reference: Reference | None  # the status and reason, from any x
    reference_curve: ReferenceCurve | None
    precision: PrecisionCurves | None


def _values(array: np.ndarray | None, size: int) -> list[float | None]:
    """Floats, with None for NaN, +-inf or a missing array."""
    if array is None:
        return [None] * size
    return [float(v) if math.isfinite(v) else None for v in np.asarray(array, dtype=float)]


def _reference_header(export: CurvesExport) -> dict[str, Any] | None:
    reference = export.reference
    if reference is None:
        return None
    jitter = export.curves.problem.jitter
    if reference.limit is not None:
        jitter = reference.limit.jitter
    return {"status": reference.status, "jitter": jitter, "reason": reference.reason}


def _reference_jitters(truth: ReferenceCurve, own: float) -> list[float | None]:
    """Per x, the jitter whose exact answer the reference columns hold: the problem's own,
    or the limit's where the exact answer is not fixed; None where no value is."""
    limit = truth.from_limit
    if limit is None:
        limit = np.full(len(truth.x), truth.is_limit)
    return [
        None if not math.isfinite(mid) else (truth.jitter if is_limit else own)
        for mid, is_limit in zip(truth.grad.tolist(), limit.tolist(), strict=True)
    ]


def columns(export: CurvesExport) -> dict[str, list[float | None]]:
    """Every column of the document, flattened: ``x``, the reference's, ``float32_value``..."""
    curves, truth, precision = export.curves, export.reference_curve, export.precision
    size = len(curves.x)
    if truth is not None and not np.array_equal(truth.x, curves.x):
        raise ValueError("the reference curve was evaluated on another grid of x")
    table: dict[str, list[float | None]] = {"x": _values(curves.x, size)}
    is_mean = curves.problem.quantity == "mean-slope"
    balls = (
        (None,) * 4
        if truth is None
        else (truth.mu, truth.mu if is_mean else None, truth.grad, truth.grad_radius)
    )
    for name, array in zip(REFERENCE_COLUMNS[:4], balls, strict=True):
        table[name] = _values(array, size)
    table["reference_jitter"] = (
        [None] * size if truth is None else _reference_jitters(truth, curves.problem.jitter)
    )
    for dtype in DTYPES:
        digits = None if precision is None else precision.digits[dtype]
        mu = curves.mu[dtype] if is_mean else None
        arrays = (curves.mu[dtype], mu, curves.grad[dtype], digits, curves.spread_digits.get(dtype))
        for name, array in zip(DTYPE_COLUMNS, arrays, strict=True):
            table[f"{dtype}_{name}"] = _values(array, size)
    return table


def to_json(export: CurvesExport) -> str:
    """The documented JSON object of ``gradviz curves --format json``."""
    table = columns(export)
    document: dict[str, Any] = {
        "config": export.curves.problem.config(),
        "reference": _reference_header(export),
        "x": table["x"],
        **{name: table[name] for name in REFERENCE_COLUMNS},
    }
    for dtype in DTYPES:
        document[dtype] = {name: table[f"{dtype}_{name}"] for name in DTYPE_COLUMNS}
    return json.dumps(document, indent=1, allow_nan=False)


def to_csv(export: CurvesExport) -> str:
    """One row per x, the JSON's columns flattened; empty where a value does not exist."""
    table = columns(export)
    names: Sequence[str] = list(table)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(table[name] for name in names), strict=True):
        writer.writerow(["" if value is None else repr(value) for value in row])
    return out.getvalue()
