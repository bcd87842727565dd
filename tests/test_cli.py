"""``gradviz`` on the command line: reports in a subprocess, bad input in-process and out.

Bad input must cost milliseconds (validated before TensorFlow is imported), exit with
status 2 and print one line naming the field. Successful reports run once per module, one
after the other in one fresh process that imports TensorFlow once (``spec.gradviz_batch``),
the first of them with TensorFlow's start-up in it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from spec import (
    BLAS_KEYS,
    CONFIG_KEYS,
    DTYPES,
    ENVIRONMENT_KEYS,
    PATH_NAMES,
    REFERENCE_KEYS,
    RESULT_KEYS,
    TOP_KEYS,
    gradviz_batch,
)

from gradviz.cli import main

SMALL = ["--n", "20", "--jitter", "1e-6", "--solver", "cholesky"]
# Length scale 1e6: K is the all-ones matrix, which no Cholesky factors.
ALL_ONES = ["--n", "20", "--length-scale", "1e6", "--solver", "cholesky"]

# (arguments after "report", the field the message must name, forms the value may be shown in)
# An empty tuple of forms: argparse rejects the line before gradviz sees a value.
BAD: list[tuple[list[str], str, tuple[str, ...]]] = [
    (["--n", "0"], "n", ("0",)),
    (["--n", "1"], "n", ("1",)),
    (["--n", "-5"], "n", ("-5",)),
    (["--n", "2.5"], "n", ("2.5",)),
    (["--n", "abc"], "n", ("abc",)),
    (["--n", ""], "n", ("''", '""')),
    (["--n", "1e9"], "n", ("1e9", "1000000000")),
    (["--n", "5001"], "n", ("5001",)),
    (["--length-scale", "0"], "length", ("0",)),
    (["--length-scale", "-1"], "length", ("-1",)),
    (["--length-scale", "nan"], "length", ("nan",)),
    (["--length-scale", "inf"], "length", ("inf",)),
    (["--length-scale", "x"], "length", ("x",)),
    (["--domain", "1", "1"], "domain", ("1, 1",)),
    (["--domain", "2", "1"], "domain", ("2, 1",)),
    (["--domain", "nan", "1"], "domain", ("nan",)),
    (["--domain", "inf", "1"], "domain", ("inf",)),
    (["--domain", "1e7", "2"], "domain", ("1e7", "10000000")),
    (["--domain", "1"], "domain", ()),
    (["--seed", "-1"], "seed", ("-1",)),
    (["--seed", "4294967296"], "seed", ("4294967296",)),
    (["--seed", "1.5"], "seed", ("1.5",)),
    (["--seed", "x"], "seed", ("x",)),
    (["--mean", "nan"], "mean", ("nan",)),
    (["--mean", "inf"], "mean", ("inf",)),
    (["--jitter", "-1e-6"], "jitter", ()),  # see test_negative_exponent_values_are_quoted
    (["--jitter=-1e-6"], "jitter", ("-1e-6", "-1e-06")),
    (["--jitter", "nan"], "jitter", ("nan",)),
    (["--jitter", "inf"], "jitter", ("inf",)),
    (["--solver", "foo"], "solver", ("foo",)),
    (["--x", "nan"], "x", ("nan",)),
    (["--x", "inf"], "x", ("inf",)),
    (["--x", "x"], "x", ("'x'",)),
    (["--x", "2e6"], "x", ("2e6", "2000000")),
    (["--format", "xml"], "format", ("xml",)),
    (["--budget", "0"], "budget", ("0",)),
    (["--budget", "soon"], "budget", ("soon",)),
    (["--bogus"], "--bogus", ()),
    (["--n"], "--n", ()),
]


def _id(row: tuple[list[str], str, tuple[str, ...]]) -> str:
    return " ".join(row[0]) or "''"


def one_line(stderr: str) -> str:
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    assert "Traceback" not in stderr
    return stderr.rstrip("\n")


@pytest.mark.parametrize(("argv", "field", "shown"), BAD, ids=map(_id, BAD))
def test_bad_argument_exits_2_with_one_line(
    argv: list[str], field: str, shown: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", *argv])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    line = one_line(err)
    assert line.startswith("gradviz: error: ")
    assert field in line
    if shown:
        assert any(form in line for form in shown), line
        assert "must be" in line  # the allowed range is stated


def test_bad_argument_to_the_default_gui_command(capsys: pytest.CaptureFixture[str]) -> None:
    # No command means "gui"; invalid values are rejected before Qt is touched.
    assert main(["--n", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "n: 0" in one_line(err)


@pytest.mark.parametrize(
    "argv", [["--jitter", "-1e-6"], ["--x", "-2e6"], ["--domain", "-1e7", "2"]], ids=" ".join
)
def test_negative_exponent_values_are_quoted(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *argv]) == 2
    line = one_line(capsys.readouterr().err)
    assert "must be" in line


HEAVY = ("tensorflow", "PyQt6", "pyqtgraph")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_bad_arguments_never_import_tensorflow_or_qt() -> None:
    rows = [["report", *argv] for argv, _, _ in BAD] + [["--n", "0"]]
    code = (
        "import contextlib, io, json, sys\n"
        "from gradviz.cli import main\n"
        f"rows = {rows!r}\n"
        "codes = []\n"
        "for row in rows:\n"
        "    with contextlib.redirect_stderr(io.StringIO()):\n"
        "        codes.append(main(row))\n"
        f"print(json.dumps([codes, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    start = time.perf_counter()
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    codes, loaded = json.loads(done.stdout)
    assert codes == [2] * len(rows)
    assert loaded == []
    assert time.perf_counter() - start < 20


def test_report_n_0_leaves_tensorflow_unloaded() -> None:
    done = run_python(
        "import sys\n"
        "from gradviz.cli import main\n"
        "status = main(['report', '--n', '0'])\n"
        "print(status, 'tensorflow' in sys.modules, 'PyQt6' in sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "False", "False"]
    assert one_line(done.stderr).startswith("gradviz: error: n: 0")


@pytest.mark.parametrize(
    "argv",
    [["report", "--n", "0"], ["report", "--bogus"], ["report", "--length-scale", "nan"]],
    ids=" ".join,
)
def test_bad_argument_in_a_real_process(argv: list[str]) -> None:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradviz", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.perf_counter() - start < 20
    assert done.returncode == 2
    assert done.stdout == ""
    assert one_line(done.stderr).startswith("gradviz: error: ")


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradviz")
    for command in ("gui", "report", "screenshot"):
        assert re.search(rf"^ {{4}}{command}\b", out, re.MULTILINE), command


def test_report_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--n",
        "--domain",
        "--length-scale",
        "--seed",
        "--mean",
        "--jitter",
        "--solver",
        "--x",
        "--no-reference",
        "--format",
        "--budget",
    ):
        assert option in out


def test_version_and_console_script() -> None:
    version = importlib.metadata.version("gradviz")
    done = subprocess.run(
        [sys.executable, "-m", "gradviz", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == f"gradviz {version}\n"
    script = Path(sys.executable).with_name("gradviz")
    if not script.exists():
        pytest.skip("no gradviz console script next to this interpreter")
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "report" in done.stdout


# --- real reports, run together ------------------------------------------------------------

RUNS = {
    "json": [*SMALL, "--format", "json"],
    "table": [*SMALL, "--no-reference"],
    "json-no-reference": [*SMALL, "--no-reference", "--format", "json", "--x", "0.5"],
    "json-all-ones": [*ALL_ONES, "--no-reference", "--format", "json"],
}


@pytest.fixture(scope="module")
def reports() -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Every report in one process; the first ("json") imports TensorFlow, without this
    suite's TF_CPP_MIN_LOG_LEVEL: gradviz silences its start-up chatter itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",)}
    yield gradviz_batch({name: ["report", *argv] for name, argv in RUNS.items()}, env)


def check_json(document: dict, x: float) -> None:
    assert set(document) == TOP_KEYS
    assert set(document["config"]) == CONFIG_KEYS
    assert document["condition_number_is_lower_bound"] is False
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
        "x": x,
    }
    assert isinstance(document["condition_number"], float)
    assert [(r["dtype"], r["path"]) for r in document["results"]] == [
        (d, p) for d in DTYPES for p in PATH_NAMES
    ]
    for row in document["results"]:
        assert set(row) == RESULT_KEYS
        assert row["status"] == "ok" and row["error"] is None
        assert isinstance(row["grad"], float) and isinstance(row["mu"], float)
    assert set(document["verdicts"]) == set(DTYPES)


def _strict(name: str) -> float:
    raise AssertionError(f"non-standard JSON token {name}")


def test_json_report(reports: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = reports["json"]
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # TensorFlow's start-up chatter is silenced
    document = json.loads(done.stdout, parse_constant=_strict)
    check_json(document, 2.0)
    reference = document["reference"]
    assert set(reference) >= REFERENCE_KEYS
    assert reference["status"] == "exact"
    for row in document["results"]:
        assert isinstance(row["correct_digits"], float)
        if row["dtype"] == "float64":
            assert row["correct_digits"] >= 6
            assert abs(row["grad"] - reference["grad"]) < 1e-6


def test_no_reference_gives_null(reports: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = reports["json-no-reference"]
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout, parse_constant=_strict)
    check_json(document, 0.5)
    assert document["reference"] is None
    assert all(row["correct_digits"] is None for row in document["results"])


def test_json_report_carries_failure_kinds_and_the_environment(
    reports: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = reports["json-all-ones"]
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout, parse_constant=_strict)
    assert set(document) == TOP_KEYS
    assert [row["failure_kind"] for row in document["results"]] == ["cholesky_not_pd"] * 14
    assert all(row["status"] == "error" and row["error"] for row in document["results"])
    environment = document["environment"]
    assert set(environment) == ENVIRONMENT_KEYS and set(environment["blas"]) == BLAS_KEYS
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["numpy"] == importlib.metadata.version("numpy")
    assert environment["tensorflow"] == importlib.metadata.version("tensorflow")
    assert environment["qt"] == importlib.metadata.version("PyQt6-Qt6")
    assert environment["blas"]["openblas_coretype"] == os.environ.get("OPENBLAS_CORETYPE")


def test_table_report(reports: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = reports["table"]
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "gradviz report: n=20, l=1.5, jitter 1e-06, cholesky, x = 2"
    header = next(i for i, line in enumerate(lines) if line.startswith("d mu/dx by path"))
    assert "float32" in lines[header] and "float64" in lines[header]
    rows = lines[header + 1 : header + 8]
    assert [row.split()[0] for row in rows] == PATH_NAMES
    for row in rows:
        _, grad32, digits32, grad64, digits64 = row.split()
        assert float(grad32) == pytest.approx(float(grad64), abs=1e-2)
        assert digits32 == digits64 == "-"  # no reference, no digits
    assert "not computed" in done.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)
