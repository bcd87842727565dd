"""Every kernel through TensorFlow on the user's own data, against ball arithmetic written out
in tests/spec.py (not gradviz's kernel forms); the same data in three formats gives the same
report bit for bit; a session carries its sample to another BLAS core.

This is the one test module of issue 19 that imports TensorFlow: reports run in-process
through ``gradviz.cli.main`` and compute in this process too (in_process.py: no stoppable
child importing TensorFlow again for each); only the other BLAS core needs a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flint import arb
from spec import flint_slopes

from gradviz.cli import main
from gradviz.core.io.environment import openblas_core
from gradviz.core.io.session import Session, load_session, save_session
from gradviz.core.numerics.paths import PathSet
from gradviz.core.numerics.sweep_paths import JitterFunction
from gradviz.core.problem.data import data_from_sample, problem_data
from gradviz.core.problem.spec import Problem
from gradviz.core.problem.vector import Vector

N = 70
RNG_SEED = 1919
# Every kernel with parameters away from their defaults; jitter 1e-6 with Cholesky keeps
# cond(K + jitter I) <= ~1e7, so float64 keeps >= 8 digits and 1e-7 is a fair bar.
KERNEL_OPTIONS: dict[str, list[str]] = {
    "rbf": ["--length-scale", "0.9", "--signal-variance", "1.7"],
    "matern12": ["--length-scale", "0.8"],
    "matern32": ["--length-scale", "0.7", "--signal-variance", "0.6"],
    "matern52": ["--length-scale", "0.7"],
    "rational-quadratic": ["--length-scale", "0.6", "--alpha", "0.4"],
    "periodic": ["--length-scale", "1.3", "--period", "2.7", "--signal-variance", "2"],
}
COMMON = ["--jitter", "1e-6", "--solver", "cholesky", "--format", "json"]
pytestmark = pytest.mark.usefixtures("compute_here")


def uneven_points() -> tuple[np.ndarray, np.ndarray]:
    """70 unsorted points, denser on the left, with a smooth signal plus noise."""
    rng = np.random.default_rng(RNG_SEED)
    x = rng.permutation(np.concatenate([rng.uniform(-4, 0, 45), rng.uniform(0, 4, 25)]))
    return x, np.sin(1.3 * x) + 0.5 * np.cos(0.4 * x) + 0.05 * rng.normal(size=N)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    x, y = uneven_points()
    paths = {name: folder / f"points.{name}" for name in ("csv", "npy", "npz")}
    rows = "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    paths["csv"].write_text("x,y\n" + rows + "\n", encoding="utf-8")
    np.save(paths["npy"], np.column_stack([x, y]))
    np.savez(paths["npz"], x=x, y=y)
    return paths


def report(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", *argv]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def cell(document: dict[str, Any], path: str, dtype: str) -> dict[str, Any]:
    (row,) = (r for r in document["results"] if r["path"] == path and r["dtype"] == dtype)
    return row


def problem_of(document: dict[str, Any]) -> Problem:
    config = document["config"]
    fields = ("kernel", "length_scale", "signal_variance", "alpha", "period", "jitter")
    return Problem(**{name: config[name] for name in fields})


@pytest.mark.parametrize("kernel", list(KERNEL_OPTIONS))
def test_each_kernel_on_csv_data_agrees_with_independent_ball_arithmetic(
    kernel: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = uneven_points()
    probe = 0.37  # no data point: the slope exists for every kernel
    argv = ["--data", str(files["csv"]), "--kernel", kernel, *KERNEL_OPTIONS[kernel], *COMMON]
    document = json.loads(report([*argv, "--x", repr(probe)], capsys))
    assert document["config"]["kernel"] == kernel and document["config"]["n"] == N
    _, left, right = flint_slopes(problem_of(document), x.tolist(), y.tolist(), probe)
    truth = float((left + right) / 2)
    assert abs(float(left - right)) < 1e-20 * abs(truth)  # differentiable here
    grad = cell(document, "function", "float64")["grad"]
    assert abs(grad - truth) <= 1e-7 * abs(truth), (kernel, grad, truth)
    reference = document["reference"]
    assert reference["status"] == "exact" and reference["one_sided"] is None
    assert abs(reference["grad"] - truth) <= 1e-14 * abs(truth)
    assert reference["grad_radius"] < 1e-15 * abs(truth)
    # Every float64 path gives a number (float32's Cholesky may fail: periodic repeats x).
    assert all(r["status"] == "ok" for r in document["results"] if r["dtype"] == "float64")


def test_csv_npy_and_npz_give_bit_identical_reports(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    texts = {
        name: report(["--data", str(path), "--kernel", "matern52", *COMMON], capsys)
        for name, path in files.items()
    }
    # The advice says how long its measurement took: the one number that is not data.
    timed = [re.sub(r'"seconds": [0-9.e+-]+', '"seconds": T', text) for text in texts.values()]
    assert len(set(timed)) == 1
    assert timed[0].count('"seconds": T') == 1
    document = json.loads(texts["csv"])
    lo, hi = document["config"]["domain"]
    assert document["config"]["x"] == (lo + hi) / 2  # the probe starts in the middle
    assert set(document["config"]["data"]) == {"points", "x_sha256", "y_sha256"}


def test_matern12_at_a_data_point_is_not_differentiable(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = uneven_points()
    point = float(x[17])
    argv = ["--data", str(files["csv"]), "--kernel", "matern12", *KERNEL_OPTIONS["matern12"]]
    document = json.loads(report([*argv, *COMMON, "--x", repr(point)], capsys))
    _, left, right = flint_slopes(problem_of(document), x.tolist(), y.tolist(), point)
    reference = document["reference"]
    assert reference["status"] == "undetermined" and reference["grad"] is None
    assert reference["reason"].startswith(f"not differentiable at x = {point!r}")
    sides = reference["one_sided"]
    for found, truth in ((sides["left"], left), (sides["right"], right)):
        assert abs(found - float(truth)) <= 1e-12 * abs(float(truth))
    assert abs(float(left - right)) > 0.1  # a real jump
    mean = float((left + right) / 2)
    grad = cell(document, "function", "float64")["grad"]
    assert abs(grad - mean) <= 1e-7 * abs(mean)  # sign(0) = 0: the mean of the two sides
    assert all(row["correct_digits"] is None for row in document["results"])
    assert "not differentiable" in document["headline"]
    assert {v["reference_state"] for v in document["diagnosis"].values()} == {"not_differentiable"}


def test_curves_leave_the_slope_out_at_the_kinks_only(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["curves", "--data", str(files["npz"]), "--kernel", "matern12", "--jitter", "1e-6"]
    assert main([*argv, "--points", "9", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["reference"]["status"] == "exact"  # the problem's, not an end's kink
    grads = document["reference_grad"]
    assert grads[0] is None and grads[-1] is None  # the ends are data points
    assert all(isinstance(g, float) for g in grads[1:-1])


@pytest.mark.parametrize("kernel", ["matern52", "periodic"])
def test_the_jitter_sweep_traces_every_kernel_as_the_function_path(kernel: str) -> None:
    x, y = uneven_points()
    problem = Problem(kernel=kernel, length_scale=0.7).replace(
        points=Vector.of(x[:30]), y=Vector.of(y[:30])
    )
    data = problem_data(problem)
    function = JitterFunction(data, "solve", "float64")
    for jitter in (0.0, 1e-8):
        jittered = data_from_sample(problem.replace(jitter=jitter, solver="solve"), data.y)
        expected = PathSet(jittered, "float64").evaluate("function", 0.3).grad
        assert function.gradient(jitter, 0.3).grad == expected


def test_a_session_reopens_to_the_same_numbers_under_another_blas_core(tmp_path: Path) -> None:
    """The seed's sample drawn here, pinned in the session; another OpenBLAS core draws
    another y from the same seed, yet the session gives the same report bit for bit."""
    y = problem_data(Problem()).y
    path = tmp_path / "seed.json"
    save_session(path, Session(Problem().replace(y=Vector.of(y)), 2.0))
    assert load_session(path).problem.y == Vector.of(y)
    other = "Sandybridge" if openblas_core() == "Haswell" else "Haswell"
    argv = ["report", "--session", str(path), "--no-reference", "--format", "json"]
    script = (
        "import contextlib, io, json, sys\n"
        "from gradviz.cli import main\n"
        "from gradviz.core.io.environment import openblas_core\n"
        "from gradviz.core.problem.data import problem_data\n"
        "from gradviz.core.problem.spec import Problem\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    status = main({argv!r})\n"
        "print(json.dumps({'status': status, 'report': out.getvalue(), 'core': openblas_core(),"
        " 'drawn': problem_data(Problem()).y.tolist()}))\n"
    )
    env = {**os.environ, "OPENBLAS_CORETYPE": other}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    there = json.loads(done.stdout)
    assert there["status"] == 0 and there["core"] == other
    assert there["drawn"] != y.tolist()  # the core changes the seed's sample...
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    here = json.loads(out.getvalue())
    theirs = json.loads(there["report"])
    assert theirs["config"] == here["config"]  # ...but not the session's
    assert theirs["results"] == here["results"]
    assert theirs["spread"] == here["spread"]


def test_the_independent_slopes_see_a_kink_only_at_matern12() -> None:
    """flint_slopes itself can tell a jump from a smooth point (so the tests above can fail)."""
    x, y = uneven_points()
    for kernel, jumps in (("matern12", True), ("matern32", False)):
        problem = Problem(kernel=kernel, length_scale=0.8, jitter=1e-6)
        _, left, right = flint_slopes(problem, x[:20].tolist(), y[:20].tolist(), float(x[3]))
        assert (abs(left - right) > arb(1e-3)) == jumps
        assert math.isfinite(float(left))
