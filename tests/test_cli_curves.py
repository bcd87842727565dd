"""``gradviz curves``: the window's curves as data, checked against ball arithmetic written
out in the test, and held to the same bad-input rules as the rest of the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from spec import DTYPES, contains, flint_reference, gradviz_here

from gradviz.cli import main
from gradviz.core.numerics.results import Ball
from gradviz.core.problem.spec import Problem

WELL = Problem(n=30, length_scale=0.7, domain=(-2.0, 3.0), seed=7, jitter=1e-4)
WELL_ARGS = ["--n", "30", "--length-scale", "0.7", "--domain", "-2", "3", "--seed", "7"]
WELL_ARGS += ["--jitter", "1e-4"]
# The commands compute in this process, which imports TensorFlow once (in_process.py).
pytestmark = pytest.mark.usefixtures("compute_here")


@pytest.mark.timeout(240)
def test_json_matches_independent_ball_arithmetic_within_the_stated_radii(capsys) -> None:
    assert main(["curves", *WELL_ARGS, "--points", "6", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["config"]["n"] == 30
    assert document["reference"] == {"status": "exact", "jitter": 1e-4, "reason": None}
    xs = document["x"]
    assert xs == pytest.approx(np.linspace(-2.0, 3.0, 6).tolist(), abs=0)
    for i, x in enumerate(xs):
        mu, grad = flint_reference(WELL, x, WELL.jitter, 1024)
        radius = document["reference_grad_radius"][i]
        assert contains(Ball(document["reference_grad"][i], radius), grad)
        assert abs(document["reference_mu"][i] - float(mu.mid())) < 1e-12
    for dtype in DTYPES:
        curve = document[dtype]
        assert set(curve) == {"value", "mu", "grad", "correct_digits", "spread_digits"}
        assert curve["value"] == curve["mu"]  # mean-slope: the value is mu
        # float64 on a well-conditioned problem: many correct digits, estimated alike
        digits = curve["correct_digits"]
        assert all(d is not None and 0 <= d <= 17 for d in digits)
        if dtype == "float64":
            assert min(digits) > 8 and min(curve["spread_digits"]) > 8


@pytest.mark.timeout(240)
def test_csv_without_reference_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "curves.csv"
    assert (
        main(["curves", "--n", "20", "--points", "4", "--no-reference", "--output", str(out)]) == 0
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 4
    assert rows[0]["reference_grad"] == "" and rows[0]["float64_correct_digits"] == ""
    assert float(rows[-1]["x"]) == 5.0 and rows[-1]["float64_grad"] != ""
    assert [p.name for p in tmp_path.iterdir()] == ["curves.csv"]  # no temporary left


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--points", "1"], "points"),
        (["--points", "2.5"], "points"),
        (["--points", "100001"], "points"),
        (["--format", "xml"], "format"),
        (["--output", "/no/such/folder/c.csv"], "does not exist"),
        (["--budget", "0"], "budget"),
    ],
)
def test_bad_values_give_one_line_and_exit_2_before_any_work(argv, words, capsys) -> None:
    assert main(["curves", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_an_existing_output_needs_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.csv"
    out.write_text("keep")
    assert main(["curves", "--output", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text() == "keep"


@pytest.mark.timeout(240)
def test_outputs_go_through_a_device_and_a_pipe_and_a_full_disk_fails(tmp_path: Path) -> None:
    """As root, os.replace onto /dev/null made it a regular file and /dev/full took the CSV
    without a word. (Symlinks and the rest: tests/core/test_files.py.)"""
    device, pipe = tmp_path / "null", tmp_path / "pipe"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    small = ["curves", "--n", "5", "--points", "3", "--no-reference", "--output"]
    runs = {"device": [*small, str(device)], "pipe": [*small, str(pipe)]}
    done = gradviz_here(runs | {"full": [*small, "/dev/full"]})
    reader.join(10)
    assert [done[name].returncode for name in ("device", "pipe", "full")] == [0, 0, 1]
    full = "gradviz: error: Cannot save /dev/full: no space left on device.\n"
    assert done["full"].stderr == full
    assert stat.S_ISCHR(device.stat().st_mode) and stat.S_ISFIFO(pipe.stat().st_mode)
    rows = list(csv.DictReader(io.StringIO(received[0].decode())))
    assert [float(row["x"]) for row in rows] == [-5.0, 0.0, 5.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "pipe"]
