"""The curves as data: JSON with null for what does not exist, CSV with empty cells."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from gradviz.core.io.curve_export import CurvesExport, to_csv, to_json
from gradviz.core.numerics.results import (
    Ball,
    Curves,
    Limit,
    PrecisionCurves,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.spec import Problem

PROBLEM = Problem(n=5)
X = np.array([-1.0, 0.0, 1.0])
DTYPE_KEYS = {"value", "mu", "grad", "correct_digits", "spread_digits"}


def export(with_reference: bool = True) -> CurvesExport:
    mu = {"float32": np.array([1.0, np.nan, 3.0]), "float64": np.array([1.0, 2.0, 3.0])}
    grad = {"float32": np.array([np.inf, 0.5, 0.25]), "float64": np.array([0.0, 0.5, 0.25])}
    spread = {"float32": np.array([1.0, 2.0, 3.0]), "float64": np.array([15.0, 15.0, 16.0])}
    curves = Curves(PROBLEM, X, mu, grad, dict.fromkeys(mu), spread_digits=spread)
    if not with_reference:
        return CurvesExport(curves, None, None, None)
    limit = Limit(1e-12, Ball(1.0, 1e-16), Ball(0.5, 1e-17))
    reference = Reference("undetermined", reason="singular", limit=limit)
    radius = np.full(3, 1e-17)
    truth = ReferenceCurve(PROBLEM, X, X + 1, radius, X / 2, radius, 1e-12, True, True)
    digits = {"float32": np.array([np.nan, 6.0, 7.0]), "float64": np.array([15.0, 16.0, 17.0])}
    carried = {"float32": 6.9, "float64": 15.7}
    precision = PrecisionCurves(PROBLEM, X, digits, carried, None, 1e-12, True)
    return CurvesExport(curves, reference, truth, precision)


def test_json_has_the_documented_keys_and_null_where_nothing_exists() -> None:
    document = json.loads(to_json(export()))
    assert set(document) == {
        "config", "reference", "x", "reference_value", "reference_mu", "reference_grad",
        "reference_grad_radius", "reference_jitter", "float32", "float64",
    }  # fmt: skip
    assert document["reference"] == {
        "status": "undetermined",
        "jitter": 1e-12,
        "reason": "singular",
    }
    assert document["x"] == [-1.0, 0.0, 1.0]
    assert document["reference_grad"] == [-0.5, 0.0, 0.5]
    assert document["reference_jitter"] == [1e-12] * 3  # the limit: the problem has jitter 0
    assert set(document["float32"]) == DTYPE_KEYS
    assert document["float32"]["mu"] == [1.0, None, 3.0]
    assert document["float32"]["grad"] == [None, 0.5, 0.25]
    assert document["float32"]["correct_digits"] == [None, 6.0, 7.0]
    assert document["float64"]["spread_digits"] == [15.0, 15.0, 16.0]
    assert document["config"]["n"] == 5


def test_without_a_reference_its_columns_are_null() -> None:
    document = json.loads(to_json(export(with_reference=False)))
    assert document["reference"] is None
    assert document["reference_grad"] == [None] * 3
    assert document["float64"]["correct_digits"] == [None] * 3


def test_csv_flattens_the_same_columns_one_row_per_x() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(export()))))
    assert len(rows) == 3
    assert list(rows[0]) == [
        "x", "reference_value", "reference_mu", "reference_grad", "reference_grad_radius",
        "reference_jitter",
        "float32_value", "float32_mu", "float32_grad", "float32_correct_digits",
        "float32_spread_digits",
        "float64_value", "float64_mu", "float64_grad", "float64_correct_digits",
        "float64_spread_digits",
    ]  # fmt: skip
    assert rows[1]["float32_mu"] == "" and float(rows[1]["float64_mu"]) == 2.0
    assert float(rows[2]["reference_grad"]) == 0.5
    assert rows[0]["float32_grad"] == ""


def test_a_reference_on_another_grid_is_refused() -> None:
    good = export()
    assert good.reference_curve is not None
    shifted = ReferenceCurve(PROBLEM, X + 0.1, X, X, X, X, 0.0, False, True)
    with pytest.raises(ValueError, match="another grid"):
        to_json(CurvesExport(good.curves, good.reference, shifted, None))


def test_the_csv_says_per_row_which_problem_its_reference_solves() -> None:
    """Exact where the ball fixes the value (the problem's jitter, 0), the jitter limit
    where it does not, empty where neither does."""
    good = export()
    radius = np.full(3, 1e-17)
    grad = np.array([-0.5, np.nan, 0.5])
    mixed = ReferenceCurve(
        PROBLEM, X, X + 1, radius, grad, radius, 1e-12, True, True,
        from_limit=np.array([False, False, True]),
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(to_csv(CurvesExport(good.curves, None, mixed, None)))))
    assert [row["reference_jitter"] for row in rows] == ["0.0", "", "1e-12"]
    assert [row["reference_grad"] for row in rows] == ["-0.5", "", "0.5"]
