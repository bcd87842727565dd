"""``gradviz sweep``: the documented JSON and CSV, ``best`` consistent with the rows, the
step rows against ball arithmetic, and the CLI's bad-input rules."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from spec import DTYPES, flint_reference

from gradviz.cli import main
from gradviz.core.problem.spec import Problem

SMALL = ["--n", "20", "--x", "1.5"]
# The commands compute in this process, which imports TensorFlow once (in_process.py).
pytestmark = pytest.mark.usefixtures("compute_here")
ROW_KEYS = {
    "jitter",
    "solver",
    "dtype",
    "grad",
    "failure_kind",
    "rounding_digits",
    "bias_digits",
    "digits",
    "predicted_digits",
}


@pytest.mark.timeout(120)
def test_jitter_json_is_the_documented_document_and_best_agrees_with_rows(capsys) -> None:
    argv = ["sweep", "jitter", *SMALL, "--solvers", "cholesky,solve", "--format", "json"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"config", "x", "rows", "best"}
    assert document["x"] == 1.5 and document["config"]["n"] == 20
    rows = document["rows"]
    jitters = sorted({row["jitter"] for row in rows})
    assert jitters[:2] == [0.0, 1e-16] and jitters[-1] == 1.0
    assert len(jitters) == 1 + 16 * 2 + 1
    assert {row["solver"] for row in rows} == {"solve", "cholesky"}
    assert len(rows) == len(jitters) * 2 * 2
    for row in rows:
        assert set(row) == ROW_KEYS
        if row["failure_kind"] is not None:
            assert row["grad"] is None and row["digits"] is None
        if row["digits"] is not None:
            assert row["digits"] == min(row["rounding_digits"], row["bias_digits"])
    for dtype in DTYPES:
        scored = [r for r in rows if r["dtype"] == dtype and r["digits"] is not None]
        top = max(r["digits"] for r in scored)
        best = document["best"][dtype]
        assert set(best) == {"jitter", "solver", "digits"} and best["digits"] == top
        assert best in [{k: r[k] for k in ("jitter", "solver", "digits")} for r in scored]


@pytest.mark.timeout(120)
def test_step_csv_to_a_file_against_ball_arithmetic(tmp_path: Path) -> None:
    out = tmp_path / "step.csv"
    argv = ["sweep", "step", *SMALL, "--jitter", "1e-3", "--format", "csv", "--output", str(out)]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["h", "dtype", "grad", "abs_error"]
    _, grad = flint_reference(Problem(n=20, jitter=1e-3), 1.5, 1e-3, 512)
    truth = float(grad.mid())
    assert {row["dtype"] for row in rows} == set(DTYPES)
    for row in rows:
        assert float(row["abs_error"]) == pytest.approx(abs(float(row["grad"]) - truth), rel=1e-9)
    assert main(argv) == 2
    assert main([*argv, "--force"]) == 0


@pytest.mark.timeout(120)
def test_step_json_has_default_h_per_dtype(capsys) -> None:
    assert main(["sweep", "step", *SMALL, "--jitter", "1e-3", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["default_h"]) == set(DTYPES)
    eps = 2.0**-52
    assert document["default_h"]["float64"] == pytest.approx(eps ** (1 / 3) * 1.5)
    assert set(document["rows"][0]) == {"h", "dtype", "grad", "abs_error"}


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["sweep", "diagonal"], "sweep: 'diagonal' is not allowed"),
        (["sweep", "jitter", "--solvers", "inverse,lu"], "solvers: 'inverse,lu'"),
        (["sweep", "jitter", "--solvers", "solve,solve"], "each at most once"),
        (["sweep", "jitter", "--format", "xml"], "format: 'xml'"),
        (["sweep", "jitter", "--x", "nan"], "x: nan"),
        (["sweep", "jitter", "--budget", "0"], "budget"),
        (["sweep", "step", "--solvers", "solve"], "--solvers"),
        (["sweep", "jitter", "--n", "1"], "n: 1"),
    ],
)
def test_bad_values_give_one_line_and_exit_2_before_any_work(argv, words, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_an_existing_output_needs_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "sweep.json"
    out.write_text("keep")
    assert main(["sweep", "jitter", "--output", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep"
