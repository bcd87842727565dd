"""``--quantity`` on the command line: bad names and combinations in-process (exit 2, one
line, no TensorFlow), and real reports, curves and sweeps of the other quantities, one after
the other in the test process (``spec.gradviz_here``), which has imported TensorFlow."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from spec import (
    CONFIG_KEYS,
    DTYPES,
    LML_THETA,
    PATH_NAMES,
    QUANTITY_NAMES,
    REFERENCE_KEYS,
    RESULT_KEYS,
    TOP_KEYS,
    gradviz_here,
)

from gradviz.cli import main
from gradviz.core.io.session import Session, save_session
from gradviz.core.problem.spec import Problem

# (command line, words the one line must hold)
BAD: list[tuple[list[str], tuple[str, ...]]] = [
    (["report", "--quantity", "mean"], ("quantity", "'mean'", "mean-slope, variance-slope")),
    (["report", "--quantity", ""], ("quantity", "''")),
    (["report", "--quantity", "LML-LENGTHSCALE"], ("quantity", "LML-LENGTHSCALE")),
    (["report", "--quantity", "lml-alpha"], ("quantity", "lml-alpha", "rbf kernel")),
    (["curves", "--quantity", "lml-period", "--kernel", "matern32"], ("lml-period", "matern32")),
    (
        ["report", "--quantity", "lml-alpha", "--kernel", "periodic"],
        ("lml-alpha", "periodic kernel"),
    ),
    (["report", "--quantity", "lml-jitter"], ("quantity", "lml-jitter", "jitter")),
    (["sweep", "step", "--quantity", "lml-jitter", "--jitter", "0"], ("lml-jitter", "jitter")),
    (["report", "--quantity", "lml-lengthscale", "--x", "-1"], ("x", "-1", "theta")),
    (["report", "--quantity", "lml-lengthscale", "--x", "0"], ("x", "0", "length_scale")),
    (["report", "--quantity", "lml-jitter", "--jitter", "1e-3", "--x", "0"], ("x", "jitter")),
    (["report", "--quantity", "lml-signal-variance", "--x", "2e6"], ("x", "2000000", "<=")),
    (["gui", "--quantity", "slope"], ("quantity", "slope")),
    (["screenshot", "out.png", "--quantity", "nope"], ("quantity", "nope")),
    (["script", "--quantity", "variance-slope"], ("script", "variance-slope", "mean-slope")),
    (
        ["sweep", "jitter", "--quantity", "lml-jitter", "--jitter", "1e-3"],
        ("sweep jitter", "lml-jitter"),
    ),
]


@pytest.mark.parametrize(("argv", "words"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_quantity_exits_2_with_one_line(
    argv: list[str],
    words: tuple[str, ...],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("gradviz: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_session_on_another_axis_does_not_lend_its_x(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A session probed at x = -3.5 asked for lml-lengthscale: the probe is theta (the
    session's x is on another axis), and an x given on the command line is checked there."""
    path = tmp_path / "s.json"
    save_session(path, Session(Problem(n=20), -3.5))
    assert (
        main(["report", "--session", str(path), "--quantity", "lml-lengthscale", "--x", "-3.5"])
        == 2
    )
    assert "theta" in capsys.readouterr().err


# --- real runs, together --------------------------------------------------------------------

SMALL = ["--n", "14", "--domain", "-2", "2", "--length-scale", "0.6", "--jitter", "1e-5"]
RUNS = {
    "lml-period": [
        "report",
        *SMALL,
        "--kernel",
        "periodic",
        "--period",
        "1.7",
        "--solver",
        "cholesky",
        "--quantity",
        "lml-period",
        "--format",
        "json",
        "--budget",
        "20",
    ],
    "variance": [
        "report",
        *SMALL,
        "--solver",
        "solve",
        "--quantity",
        "variance-slope",
        "--x",
        "0.3",
        "--format",
        "json",
        "--budget",
        "20",
    ],
    "lml-curves": [
        "curves",
        *SMALL,
        "--quantity",
        "lml-jitter",
        "--points",
        "9",
        "--format",
        "json",
    ],
}


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    yield gradviz_here(RUNS)


def test_lml_report_json(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = runs["lml-period"]
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == TOP_KEYS
    config = document["config"]
    assert set(config) == CONFIG_KEYS
    assert config["quantity"] == "lml-period" and config["x"] == 1.7  # the problem's period
    assert [(r["dtype"], r["path"]) for r in document["results"]] == [
        (d, p) for d in DTYPES for p in PATH_NAMES
    ]
    reference = document["reference"]
    assert set(reference) >= REFERENCE_KEYS
    assert reference["status"] == "exact" and reference["mu"] is None
    for row in document["results"]:
        assert set(row) == RESULT_KEYS
        assert row["mu"] is None  # the posterior mean is not what is measured
        if row["dtype"] == "float64":
            assert row["value"] == pytest.approx(reference["value"], rel=1e-8)
            # cond(K) ~1e10 here: float64 keeps ~4 digits of the gradient, and says so
            assert row["grad"] == pytest.approx(reference["grad"], rel=1e-3)
            assert row["correct_digits"] is not None and row["correct_digits"] >= 3
    assert "d LML/dP" in document["headline"]


def test_variance_report_json(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = runs["variance"]
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["config"]["quantity"] == "variance-slope"
    assert document["config"]["x"] == 0.3
    reference = document["reference"]
    assert reference["status"] == "exact" and 0 < reference["value"] < 1
    closed = next(
        r for r in document["results"] if (r["path"], r["dtype"]) == ("closed_form", "float64")
    )
    assert closed["value"] == pytest.approx(reference["value"], rel=1e-6)
    assert closed["correct_digits"] >= 6


def test_lml_curves_run_along_log_theta(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = runs["lml-curves"]
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["config"]["quantity"] == "lml-jitter"
    thetas = document["x"]
    assert thetas[0] == pytest.approx(1e-7) and thetas[-1] == pytest.approx(1e-3)
    ratios = [b / a for a, b in itertools.pairwise(thetas)]
    assert max(ratios) == pytest.approx(min(ratios))  # evenly spaced in log theta
    assert all(v is None for v in document["float64"]["mu"])
    assert all(isinstance(v, float) for v in document["float64"]["value"])


def test_every_quantity_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "--quantity" in out
    assert set(LML_THETA) <= set(QUANTITY_NAMES)
