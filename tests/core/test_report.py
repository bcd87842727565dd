"""``gradviz report`` output: the JSON contract and the 80-column table.

Reports are built from a real probe of small problems (fast) plus hand-made References for
the cases a small problem does not produce (undetermined, non-finite numbers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pytest
from spec import (
    ADVICE_KEYS,
    BLAS_KEYS,
    CAUSES,
    CONFIG_KEYS,
    DIAGNOSIS_KEYS,
    DTYPES,
    ENVIRONMENT_KEYS,
    FAILURE_KINDS,
    LIMIT_KEYS,
    MEASURED_KEYS,
    PATH_NAMES,
    REFERENCE_KEYS,
    REFERENCE_STATES,
    RESULT_KEYS,
    SPREAD_KEYS,
    TOP_KEYS,
)

from gradviz.core.analysis.advice import Advice, Cause, Measured
from gradviz.core.analysis.diagnosis import conditioning, diagnose
from gradviz.core.io.report import Report, to_json, to_table
from gradviz.core.numerics.probe import ProbeEngine
from gradviz.core.numerics.reference import ReferenceSolver
from gradviz.core.numerics.results import (
    Ball,
    Cell,
    Diagnosis,
    FailureKind,
    Limit,
    ProbeResult,
    Reference,
    ReferenceState,
    Verdict,
)
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

GOOD = Problem(n=20, jitter=1e-6, solver="cholesky")
# All-ones K: every path fails in float32 and Cholesky fails in float64 too.
BROKEN = Problem(n=20, length_scale=1e6, solver="cholesky")
UNDETERMINED = Reference(
    "undetermined",
    reason="K is singular to 512-bit ball arithmetic (cannot certify the solve)",
    limit=Limit(1e-12, Ball(2.6110943, 6e-15), Ball(-0.72930058003192755, 5.2e-17)),
)


def _no_constants(name: str) -> float:
    raise AssertionError(f"JSON contains the non-standard token {name}")


def parse(text: str) -> dict:
    """Strict JSON: NaN, Infinity and -Infinity are rejected."""
    return json.loads(text, parse_constant=_no_constants)


@pytest.fixture(scope="module")
def engine() -> Iterator[ProbeEngine]:
    yield ProbeEngine()


@pytest.fixture(scope="module")
def good(engine: ProbeEngine) -> Report:
    result = engine.probe(problem_data(GOOD), 2.0)
    reference = ReferenceSolver(problem_data(GOOD)).evaluate(2.0)
    return Report(result, reference, diagnose(result, reference, conditioning(problem_data(GOOD))))


@pytest.fixture(scope="module")
def broken(engine: ProbeEngine) -> Report:
    result = engine.probe(problem_data(BROKEN), 2.0)
    return Report(
        result, UNDETERMINED, diagnose(result, UNDETERMINED, conditioning(problem_data(BROKEN)))
    )


def check_schema(document: dict) -> None:
    assert set(document) == TOP_KEYS
    assert set(document["config"]) == CONFIG_KEYS
    assert document["condition_number"] is None or isinstance(document["condition_number"], float)
    reference = document["reference"]
    if reference is not None:
        assert set(reference) >= REFERENCE_KEYS
        assert reference["status"] in ("exact", "undetermined")
        if reference["limit"] is not None:
            assert set(reference["limit"]) == LIMIT_KEYS
    results = document["results"]
    assert len(results) == 14
    assert [(r["dtype"], r["path"]) for r in results] == [
        (dtype, path) for dtype in DTYPES for path in PATH_NAMES
    ]
    for row in results:
        assert set(row) == RESULT_KEYS
        assert row["status"] in ("ok", "error")
        assert isinstance(row["extra"], dict)
        if row["status"] == "ok":
            assert isinstance(row["mu"], float) and isinstance(row["grad"], float)
            assert row["error"] is None and row["failure_kind"] is None
        else:
            assert row["mu"] is None and row["grad"] is None
            assert isinstance(row["error"], str) and row["error"]
            assert row["failure_kind"] in FAILURE_KINDS
        digits = row["correct_digits"]
        held = -math.log10(float(np.finfo(row["dtype"]).eps) / 2)
        assert digits is None or (isinstance(digits, (int, float)) and 0 <= digits <= held)
        assert digits is None or math.copysign(1.0, digits) == 1.0  # never -0.0
    assert document["digits_against"] in (None, "exact", "limit")
    assert set(document["verdicts"]) == set(DTYPES)
    assert all(isinstance(v, str) for v in document["verdicts"].values())
    assert isinstance(document["headline"], str) and document["headline"]
    assert set(document["spread"]) == set(DTYPES)
    for spread in document["spread"].values():
        assert set(spread) == SPREAD_KEYS
        if spread["samples"] is not None:
            assert spread["grad_min"] <= spread["grad_max"]
            assert 0 <= spread["significant_digits"] <= 17
    lower_bound = document["condition_number_is_lower_bound"]
    assert lower_bound is None or isinstance(lower_bound, bool)
    assert set(document["diagnosis"]) == set(DTYPES)
    for dtype, record in document["diagnosis"].items():
        assert set(record) == DIAGNOSIS_KEYS
        assert record["dtype"] == dtype
        assert record["reference_state"] in REFERENCE_STATES
        assert record["condition_is_lower_bound"] in (None, lower_bound)
        assert isinstance(record["underflows"], bool)
    assert set(document["environment"]) == ENVIRONMENT_KEYS
    assert set(document["environment"]["blas"]) == BLAS_KEYS
    advice = document["advice"]
    if advice is not None:
        assert set(advice) == ADVICE_KEYS
        assert advice["cause"]["change"] in CAUSES and advice["cause"]["text"]
        for record in (*advice["as_given"].values(), advice["float32"], advice["float64"]):
            assert record is None or set(record) == MEASURED_KEYS


def test_json_of_a_real_probe(good: Report) -> None:
    document = parse(to_json(good))
    check_schema(document)
    assert document["config"] == {
        "n": 20,
        "domain": [-5.0, 5.0],
        "length_scale": 1.5,
        "seed": 100,
        "mean": 1.0,
        "jitter": 1e-6,
        "solver": "cholesky",
        "kernel": "rbf",
        "signal_variance": 1.0,
        "alpha": None,
        "period": None,
        "data": None,
        "quantity": "mean-slope",
        "x": 2.0,
    }
    p = np.linspace(-5.0, 5.0, 20)
    kernel = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * 1.5**2)) + 1e-6 * np.eye(20)
    assert document["condition_number"] == pytest.approx(np.linalg.cond(kernel), rel=1e-6)
    assert document["condition_number_is_lower_bound"] is False
    for dtype, record in document["diagnosis"].items():
        assert record["reference_state"] == "exact"
        assert record["condition_number"] == pytest.approx(np.linalg.cond(kernel), rel=1e-6)
        digits = [r["correct_digits"] for r in document["results"] if r["dtype"] == dtype]
        assert record["digits_min"] == min(digits) and record["digits_max"] == max(digits)
        carried = -math.log10(float(np.finfo(dtype).eps))
        left = carried - math.log10(np.linalg.cond(kernel))
        assert record["digits_left"] == pytest.approx(left, abs=1e-6)

    reference = document["reference"]
    assert reference["status"] == "exact"
    assert document["digits_against"] == "exact"
    assert reference["reason"] is None and reference["limit"] is None
    assert reference["grad"] == good.reference.grad.mid
    assert reference["mu"] == good.reference.mu.mid
    assert reference["grad_radius"] == good.reference.grad.radius
    assert reference["mu_radius"] == good.reference.mu.radius

    for row in document["results"]:
        cell = good.result.cell(row["path"], row["dtype"])
        assert row["status"] == "ok"
        assert row["grad"] == cell.grad and row["mu"] == cell.mu  # floats round-trip in JSON
        # A well-conditioned problem: every path has digits, as many as its error says.
        error = abs(cell.grad - reference["grad"]) / abs(reference["grad"])
        held = -math.log10(float(np.finfo(row["dtype"]).eps) / 2)  # a correctly rounded value
        expected = held if error == 0 else min(held, max(0.0, -math.log10(error)))
        assert row["correct_digits"] == pytest.approx(expected, abs=0.05)
        assert row["correct_digits"] >= (8 if row["dtype"] == "float64" else 0)
    extras = {(r["dtype"], r["path"]): r["extra"] for r in document["results"]}
    assert extras["float32", "seed_optimizer"] == {"x": 2.0}
    assert set(extras["float64", "central_difference"]) == {"h"}
    assert extras["float64", "tape"] == {}


def test_json_of_failed_cells_and_an_undetermined_reference(broken: Report) -> None:
    document = parse(to_json(broken))
    check_schema(document)
    assert all(row["status"] == "error" for row in document["results"])
    # K is all ones: not positive definite in exact arithmetic, so every Cholesky fails.
    p = np.linspace(-5.0, 5.0, 20)
    ones = np.exp(-((p[:, None] - p[None, :]) ** 2) / (2 * 1e12))
    assert np.linalg.eigvalsh(ones)[-2] < 1e-6 * np.linalg.eigvalsh(ones)[-1]
    assert {row["failure_kind"] for row in document["results"]} == {"cholesky_not_pd"}
    for row in document["results"]:
        assert row["failure_kind"] == broken.result.cell(row["path"], row["dtype"]).failure_kind
    assert all(row["correct_digits"] is None for row in document["results"])
    assert document["digits_against"] == "limit"  # had any path given a number
    reference = document["reference"]
    assert reference["status"] == "undetermined"
    assert reference["mu"] is None and reference["grad"] is None
    assert reference["mu_radius"] is None and reference["grad_radius"] is None
    assert reference["reason"] == UNDETERMINED.reason
    assert reference["limit"] == {
        "jitter": 1e-12,
        "mu": 2.6110943,
        "grad": -0.72930058003192755,
        "mu_radius": 6e-15,
        "grad_radius": 5.2e-17,
        "value": 2.6110943,
        "value_radius": 6e-15,
    }


def test_json_without_reference(good: Report) -> None:
    result = good.result
    report = Report(result, None, diagnose(result, None, conditioning(problem_data(GOOD))))
    document = parse(to_json(report))
    check_schema(document)
    assert document["reference"] is None
    assert document["digits_against"] is None
    assert all(row["correct_digits"] is None for row in document["results"])
    assert all("no reference" in verdict for verdict in document["verdicts"].values())
    states = {record["reference_state"] for record in document["diagnosis"].values()}
    assert states == {"no_reference"}


def hand_made(
    grad: float | None,
    reference: Reference | None,
    condition: float | None,
    *,
    saturated: bool | None = False,
    problem: Problem = GOOD,
    x: float = 2.0,
) -> Report:
    cells = tuple(
        Cell(path, dtype, 1.0, grad)
        if grad is not None
        else Cell(path, dtype, None, None, "it failed", FailureKind.TENSORFLOW_ERROR)
        for dtype in DTYPES
        for path in PATH_NAMES
    )
    result = ProbeResult(problem=problem, x=x, cells=cells)
    diagnosis = Diagnosis(
        condition_number=condition,
        condition_saturated=saturated,
        carried_digits={"float32": 6.92, "float64": 15.65},
        correct_digits={(c.path, c.dtype): None for c in cells},
        verdicts={
            dtype: Verdict(dtype, None, None, ReferenceState.NONE, condition, saturated, None)
            for dtype in DTYPES
        },
    )
    return Report(result, reference, diagnosis)


def test_json_turns_non_finite_numbers_into_null() -> None:
    reference = Reference(
        "exact", mu=Ball(1.0, math.inf), grad=Ball(math.nan, 0.0), precision_bits=512
    )
    for condition in (math.inf, math.nan, None):
        document = parse(to_json(hand_made(math.inf, reference, condition, saturated=None)))
        assert document["condition_number"] is None
        assert document["reference"]["mu_radius"] is None
        assert document["reference"]["grad"] is None
        assert document["reference"]["mu"] == 1.0
        assert all(row["grad"] is None for row in document["results"])
    assert "NaN" not in to_json(hand_made(math.nan, reference, math.nan))
    assert "Infinity" not in to_json(hand_made(math.inf, reference, math.inf))


TABLE_CASES = {
    "real probe, exact reference": "good",
    "failed cells, undetermined reference": "broken",
    "no reference": "none",
    "tiny negative gradient": "tiny",
    "long summary": "long",
}


def table_report(kind: str, good: Report, broken: Report) -> Report:
    if kind == "good":
        return good
    if kind == "broken":
        return broken
    if kind == "none":
        return Report(
            good.result, None, diagnose(good.result, None, conditioning(problem_data(GOOD)))
        )
    if kind == "tiny":
        # Far outside the domain mu' is ~1e-9: 17 significant digits plus the exponent.
        grad = -1.2345678901234567e-09
        return hand_made(grad, Reference("exact", Ball(1.0, 1e-25), Ball(grad, 4e-25), 128), 7e6)
    problem = Problem(
        n=5000,
        domain=(-123456.789, 987654.321),
        length_scale=1.23456789e-6,
        jitter=1.23456789e-5,
        solver="cholesky",
    )
    return hand_made(None, None, 1.5e19, saturated=True, problem=problem, x=-765432.1)


@pytest.mark.parametrize("kind", TABLE_CASES.values(), ids=TABLE_CASES.keys())
def test_table_lines_fit_80_columns(kind: str, good: Report, broken: Report) -> None:
    text = to_table(table_report(kind, good, broken))
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert too_long == []


@pytest.mark.parametrize("kind", TABLE_CASES.values(), ids=TABLE_CASES.keys())
def test_table_rows_and_verdicts_fit_80_columns(kind: str, good: Report, broken: Report) -> None:
    """The parts to_table lays out itself (path rows, wrapped notes and verdicts)."""
    report = table_report(kind, good, broken)
    lines = to_table(report).splitlines()
    rows = path_rows(lines)
    after = lines[lines.index(rows[-1]) + 2 :]  # notes and verdicts, after the legend
    for line in [lines[lines.index(rows[0]) - 1], *rows, *after]:
        assert len(line) <= 80, line
    for dtype in report.diagnosis.verdicts:
        assert f"{dtype}:" in "\n".join(after)


def path_rows(lines: list[str]) -> list[str]:
    """The seven lines under the ``d mu/dx by path`` header, checked to be one per path."""
    header = next(i for i, line in enumerate(lines) if line.startswith("d mu/dx by path"))
    rows = lines[header + 1 : header + 8]
    assert [row.split()[0] for row in rows] == PATH_NAMES
    return rows


def test_table_prints_every_value_so_that_it_round_trips(good: Report) -> None:
    lines = to_table(good).splitlines()
    assert lines[0].startswith("gradviz report: ")
    assert GOOD.summary() in lines[0] and "x = 2" in lines[0]
    for path, row in zip(PATH_NAMES, path_rows(lines), strict=True):
        words = row.split()
        assert words[0] == path and len(words) == 5
        grad32, digits32, grad64, digits64 = words[1:]
        assert np.float32(grad32) == np.float32(good.result.cell(path, "float32").grad)
        assert float(grad64) == good.result.cell(path, "float64").grad
        assert int(digits64) == math.floor(good.diagnosis.correct_digits[path, "float64"])
        assert int(digits32) == math.floor(good.diagnosis.correct_digits[path, "float32"])
    assert any(line.startswith("reference d mu/dx = ") for line in lines)
    assert any("cond(K + jitter I)" in line for line in lines)


def test_table_marks_failures_and_explains_them(broken: Report) -> None:
    text = to_table(broken)
    for row in path_rows(text.splitlines()):
        assert row.split()[1:] == ["error", "-", "error", "-"]
    assert "Cholesky" in text
    assert "undetermined" in text and "1e-12" in text


# The seed's pattern, measured elsewhere (tests/core/test_advice.py measures real ones).
SEED_ADVICE = Advice(
    problem=Problem(),
    x=2.0,
    as_given={
        "float32": Measured("inverse", 0.0, 0.0),
        "float64": Measured("inverse", 0.0, 0.3),
    },
    same_jitter={"float32": Measured("solve", 0.0, 3.4), "float64": Measured("solve", 0.0, 5.7)},
    best={"float32": Measured("solve", 3.16e-4, 4.85), "float64": Measured("solve", 1e-13, 7.4)},
    advised={
        "float32": Measured("solve", 3.16e-4, 4.85),
        "float64": Measured("cholesky", 1e-12, None, FailureKind.CHOLESKY_NOT_PD),
    },
    cause=Cause("solver", 5.4, "The culprit is the explicit inverse, not the dtype."),
    truth_jitter=1e-16,
    truth=Ball(-0.7293006401, 1e-17),
    seconds=4.2,
)


def test_json_and_table_carry_the_measured_advice(broken: Report) -> None:
    report = Report(broken.result, broken.reference, broken.diagnosis, SEED_ADVICE)
    document = parse(to_json(report))
    check_schema(document)
    advice = document["advice"]
    assert advice["as_given"]["float64"] == {
        "solver": "inverse",
        "jitter": 0.0,
        "digits": 0.3,
        "failure_kind": None,
    }
    assert advice["float32"] == {
        "solver": "solve",
        "jitter": 3.16e-4,
        "digits": 4.85,
        "failure_kind": None,
    }
    assert advice["float64"]["digits"] is None
    assert advice["float64"]["failure_kind"] == "cholesky_not_pd"
    assert advice["cause"] == {
        "change": "solver",
        "text": "The culprit is the explicit inverse, not the dtype.",
    }
    assert advice["truth_jitter"] == 1e-16
    assert "The culprit is the explicit inverse" in document["headline"]
    assert "solve, jitter 3.16e-4 keeps 4.8 digits" in document["verdicts"]["float32"]
    table = to_table(report)
    assert all(len(line) <= 80 for line in table.splitlines())
    lines = table.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("advice (measured")))
    assert lines[start].index("advice") < lines.index(
        next(line for line in lines if line.startswith("cond(K"))
    )
    block = "\n".join(lines[start : start + 7])
    assert "as given  float64  inverse, jitter 0" in block and "0.3 digits" in block
    assert "advised   float32  solve, jitter 3.16e-4" in block and "4.8 digits" in block
    assert "fails (not positive definite)" in block
    assert "cause: solver" in block
    assert "add jitter" not in table
