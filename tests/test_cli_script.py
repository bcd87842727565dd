"""``gradviz script`` against ``gradviz report``: the generated program, run with gradviz
unimportable, prints the report's seed cells bit for bit (also under another OpenBLAS core),
and its advised gradients hold the digits the report's advice claims. The seed's report
names the inverse as the cause, in the JSON and in the table."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from spec import DTYPES, gradviz_here

from gradviz.cli import main

# gradviz is importable in this environment (an editable install), so the programs are run
# with every gradviz module made unimportable: an import of it would raise ImportError. One
# process runs several programs one after the other (each builds its own graph and traced
# functions), so that TensorFlow is imported once per OpenBLAS core rather than per program;
# it prints one JSON object: each program's stdout by its path.
BLOCKED_RUNS = (
    "import contextlib, io, json, runpy, sys\n"
    "for name in ('gradviz', 'gradviz.core', 'gradviz.cli'):\n"
    "    sys.modules[name] = None\n"
    "printed = {}\n"
    "for path in sys.argv[1:]:\n"
    "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
    "        runpy.run_path(path, run_name='__main__')\n"
    "    printed[path] = out.getvalue()\n"
    "print(json.dumps(printed))\n"
)
SOLVE = ["--n", "40", "--seed", "11", "--solver", "cholesky", "--jitter", "1e-10", "--x", "0.7"]
# The user's own data (unsorted, one x twice) with another kernel and signal variance.
DATA_POINTS = [(0.3 * i - 2.0 + 0.01 * (i % 3), math.sin(i) + 0.1 * i) for i in range(24)]
DATA_POINTS += [(DATA_POINTS[5][0], DATA_POINTS[5][1] + 0.01)]
DATA = ["--kernel", "matern52", "--signal-variance", "2", "--length-scale", "0.9"]
DATA += ["--solver", "solve", "--jitter", "1e-9", "--x", "0.35"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The seed's report (JSON and table) and script, and two other problems', in one
    test process (``spec.gradviz_here``: TensorFlow is imported already); then the programs
    run as they are and under OPENBLAS_CORETYPE=Haswell: two processes, started together."""
    folder = tmp_path_factory.mktemp("scripts")
    seed_file, solve_file, data_file = folder / "seed.py", folder / "solve.py", folder / "data.py"
    table = folder / "points.csv"
    table.write_text("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in reversed(DATA_POINTS)))
    data = [*DATA, "--data", str(table)]
    commands = {
        "seed report": ["report", "--format", "json"],
        "seed table": ["report"],
        "seed script": ["script", "--output", str(seed_file)],
        "solve report": ["report", *SOLVE, "--format", "json"],
        "solve script": ["script", *SOLVE],
        "data report": ["report", *data, "--format", "json"],
        "data script": ["script", *data, "--output", str(data_file)],
    }
    done = gradviz_here(commands)
    for name, run in done.items():
        assert run.returncode == 0, (name, run.stderr)
    solve_file.write_text(done["solve script"].stdout)
    programs = {"seed": seed_file, "solve": solve_file, "data": data_file}
    started = {}
    for core in (None, "Haswell"):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        if core:
            env["OPENBLAS_CORETYPE"] = core
        started[core] = subprocess.Popen(
            [sys.executable, "-c", BLOCKED_RUNS, *map(str, programs.values())],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        printed = {}
        for core, process in started.items():
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, (core, err)
            by_path = json.loads(out.strip().splitlines()[-1])
            for name, path in programs.items():
                printed[(name, core)] = by_path[str(path)]
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
    yield {"done": done, "printed": printed, "programs": programs}


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def cells(report: dict) -> dict[tuple[str, str], float | None]:
    return {(row["dtype"], row["path"]): row["grad"] for row in report["results"]}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", ["seed", "solve", "data"])
def test_the_program_prints_the_reports_seed_cells_bit_for_bit(runs: dict, name: str) -> None:
    report = json.loads(runs["done"][f"{name} report"].stdout)
    expected = cells(report)
    for core in (None, "Haswell"):
        printed = last_json(runs["printed"][(name, core)])
        assert set(printed) == {"as_written", "advised"}
        for dtype in DTYPES:
            calls = printed["as_written"][dtype]
            for path in ("seed_gradients", "seed_optimizer"):
                found, wanted = calls[path], expected[(dtype, path)]
                assert found == wanted, (core, dtype, path, found, wanted)
                assert found is None or found.hex() == wanted.hex()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", ["seed", "solve", "data"])
def test_the_advised_gradients_hold_the_digits_the_advice_claims(runs: dict, name: str) -> None:
    report = json.loads(runs["done"][f"{name} report"].stdout)
    advice = report["advice"]
    printed = last_json(runs["printed"][(name, None)])
    for dtype in DTYPES:
        claimed, found = advice[dtype], printed["advised"][dtype]
        assert (found["solver"], found["jitter"]) == (claimed["solver"], claimed["jitter"])
        # The jitter-free answer the advice counted against, from the report's reference of
        # that jitter: the program's own embedded truth is checked to be the same number.
        source = runs["programs"][name].read_text()
        truth = float.fromhex(source.split('TRUTH = float.fromhex("')[1].split('"')[0])
        error = abs(found["gradient"] - truth) / abs(truth)
        digits = 17.0 if error == 0 else min(17.0, max(0.0, -math.log10(error)))
        assert digits == pytest.approx(claimed["digits"], abs=0.3)


@pytest.mark.timeout(900)
def test_the_program_imports_only_numpy_tensorflow_and_the_standard_library(runs: dict) -> None:
    for path in runs["programs"].values():
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [node])
            if isinstance(alias, ast.alias)
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert imported == {"json", "math", "os", "numpy", "tensorflow"}


@pytest.mark.timeout(900)
def test_the_seeds_answer_names_the_inverse_and_a_solve_and_no_bound(runs: dict) -> None:
    report = json.loads(runs["done"]["seed report"].stdout)
    advice = report["advice"]
    assert advice["cause"]["change"] == "solver"
    for dtype in DTYPES:
        assert advice["as_given"][dtype]["solver"] == "inverse"
        assert advice["as_given"][dtype]["jitter"] == 0.0
        assert advice[dtype]["solver"] in ("solve", "cholesky")
        assert advice[dtype]["digits"] > advice["as_given"][dtype]["digits"] + 2
    headline = report["headline"]
    assert "The culprit is the explicit inverse, not the dtype" in headline
    assert "solve at the same jitter keeps" in headline
    assert "jitter >=" not in headline and "add jitter" not in headline
    table = runs["done"]["seed table"].stdout
    assert "advice (measured here" in table and "cause: solver" in table
    assert "The culprit is the explicit" in table
    assert "jitter >=" not in table


def test_the_program_to_stdout_is_complete_python(runs: dict) -> None:
    source = runs["done"]["solve script"].stdout
    compile(source, "solve.py", "exec")
    assert "Save it (e.g. as gradviz_script.py)" in source
    assert source.count("0x") >= 40  # y, one float.hex per point, and the parameters


# --- bad input: exit 2, one line, nothing written -------------------------------------------


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--x", "abc"], "x"),
        (["--budget", "-1"], "budget"),
        (["--n", "0"], "n"),
        (["--solver", "qr"], "solver"),
        (["--bogus"], "--bogus"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["script", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err and "Traceback" not in err


def test_an_existing_output_needs_force_and_a_missing_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "kept.py"
    existing.write_text("kept")
    assert main(["script", "--output", str(existing)]) == 2
    assert "--force" in capsys.readouterr().err
    assert existing.read_text() == "kept"
    missing = tmp_path / "no such folder" / "out.py"
    assert main(["script", "--output", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such folder" in err
    assert not missing.parent.exists()
