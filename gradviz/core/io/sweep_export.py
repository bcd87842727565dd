"""The sweeps as documents: ``gradviz sweep jitter|step --format table|json|csv``.

JSON has no NaN: a number that does not exist is ``null``; CSV leaves it empty. Pure
formatting: nothing is computed here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from gradviz.core.analysis.sweep import JitterSweep, StepSweep
from gradviz.core.numerics.results import DTYPES

JITTER_COLUMNS = (
    "jitter",
    "solver",
    "dtype",
    "grad",
    "failure_kind",
    "rounding_digits",
    "bias_digits",
    "digits",
    "predicted_digits",
)
STEP_COLUMNS = ("h", "dtype", "grad", "abs_error")


def _config(sweep: JitterSweep | StepSweep) -> dict[str, Any]:
    config = sweep.problem.config()
    if isinstance(sweep, JitterSweep):
        # The problem's own jitter and solver are swept over, not used.
        del config["jitter"], config["solver"]
        config["bias_jitter"] = sweep.bias_jitter
    else:
        config["reference_jitter"] = sweep.reference_jitter
    config["seconds"] = round(sweep.seconds, 3)
    return config


def jitter_records(sweep: JitterSweep) -> list[dict[str, Any]]:
    """One plain mapping per row, in JITTER_COLUMNS order."""
    return [
        {name: getattr(row, name) for name in JITTER_COLUMNS}
        | {"failure_kind": None if row.failure_kind is None else str(row.failure_kind)}
        for row in sweep.rows
    ]


def step_records(sweep: StepSweep) -> list[dict[str, Any]]:
    """One plain mapping per row, in STEP_COLUMNS order."""
    return [{name: getattr(row, name) for name in STEP_COLUMNS} for row in sweep.rows]


def jitter_json(sweep: JitterSweep) -> str:
    """``{"config", "x", "rows", "best": {dtype: {"jitter", "solver", "digits"} | null}}``."""
    best = {dtype: None if b is None else asdict(b) for dtype, b in sweep.best.items()}
    document = {"config": _config(sweep), "x": sweep.x, "rows": jitter_records(sweep)}
    return json.dumps(document | {"best": best}, indent=1, allow_nan=False)


def step_json(sweep: StepSweep) -> str:
    """``{"config", "x", "rows", "default_h": {dtype: h}, "asymptotes": {dtype: {...}}}``."""
    document = {
        "config": _config(sweep),
        "x": sweep.x,
        "rows": step_records(sweep),
        "default_h": dict(sweep.default_h),
        "asymptotes": {
            dtype: {"truncation": sweep.truncation[dtype], "rounding": sweep.rounding[dtype]}
            for dtype in DTYPES
        },
    }
    return json.dumps(document, indent=1, allow_nan=False)


def to_csv(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A header, then one line per record; empty where a value is None."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record[name] is None else record[name] for name in columns])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.4f}"
    return str(value)


def _table(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    cells = [[_cell(record[name]) for name in columns] for record in records]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(columns)]
    return [
        "  ".join(text.rjust(width) for text, width in zip(line, widths, strict=True))
        for line in [list(columns), *cells]
    ]


def jitter_table(sweep: JitterSweep) -> str:
    """The rows aligned, then the best (jitter, solver) per dtype."""
    if sweep.bias_jitter is None:
        base = "none: no jitter's reference was fixed within the budget, so no digits"
    else:
        base = f"the reference at jitter {sweep.bias_jitter:g}"
    lines = [
        f"jitter sweep at x = {sweep.x:g}: {sweep.problem.summary()}",
        f"jitter-free answer: {base}",
        *_table(jitter_records(sweep), JITTER_COLUMNS),
    ]
    for dtype, best in sweep.best.items():
        found = (
            "no digits"
            if best is None
            else (f"jitter {best.jitter:g}, {best.solver}: {best.digits:.1f} digits")
        )
        lines.append(f"best {dtype}: {found}")
    return "\n".join(lines) + "\n"


def step_table(sweep: StepSweep) -> str:
    """The rows aligned, then the default h and the fitted asymptotes per dtype."""
    lines = [
        f"step sweep at x = {sweep.x:g}: {sweep.problem.summary()}",
        *_table(step_records(sweep), STEP_COLUMNS),
    ]
    for dtype in DTYPES:
        lines.append(
            f"{dtype}: default h {sweep.default_h[dtype]:.3g}, error ~ "
            f"{_cell(sweep.truncation[dtype])} h^2 + {_cell(sweep.rounding[dtype])} / h"
        )
    return "\n".join(lines) + "\n"


def sweep_text(sweep: JitterSweep | StepSweep, form: str) -> str:
    """The document of ``sweep`` in ``form`` (table, json or csv)."""
    if isinstance(sweep, JitterSweep):
        if form == "json":
            return jitter_json(sweep) + "\n"
        if form == "csv":
            return to_csv(jitter_records(sweep), JITTER_COLUMNS)
        return jitter_table(sweep)
    if form == "json":
        return step_json(sweep) + "\n"
    if form == "csv":
        return to_csv(step_records(sweep), STEP_COLUMNS)
    return step_table(sweep)
