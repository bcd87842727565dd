"""Nothing on stderr but intended messages (issue 21.5): the commands on the seed and every
preset run with warnings turned into errors. PYTHONWARNINGS=error reaches the compute child
processes too, so a numpy RuntimeWarning anywhere fails the run.

By default: ``report`` on every preset, a plots SVG screenshot of the seed, and the values
a dtype cannot hold (``--jitter 1e308``, ``--mean 1e308``: numpy's overflow warnings once);
``pytest -m faults`` adds every command on every preset. The seed's report and screenshot
run as real processes (the report's stoppable child, the window's compute processes); the
other presets' reports and the hostile values run in one process that imports TensorFlow
once and computes in itself (``spec.gradviz_batch``), under the same warnings-as-errors.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from spec import gradviz_batch, gradviz_runs

from gradviz.core.io.presets import load_presets
from gradviz.core.problem.spec import Problem

PRESETS = {preset.name: preset.problem for preset in load_presets()}
SEED = next(name for name, problem in PRESETS.items() if problem == Problem())
COMMANDS = {
    "report": ["report"],
    "curves": ["curves", "--points", "200", "--output", "OUT.csv"],
    "sweep step": ["sweep", "step", "--output", "OUT.csv"],
    "sweep jitter": ["sweep", "jitter", "--output", "OUT.csv"],
    "window png": ["screenshot", "OUT.png"],
    "plots png": ["screenshot", "OUT.png", "--what", "plots"],
    "plots svg": ["screenshot", "OUT.svg", "--what", "plots"],
}
REAL = [(SEED, "report"), (SEED, "plots svg")]
BATCHED = [(name, "report") for name in PRESETS if name != SEED]
EVERYTHING = [(name, command) for name in PRESETS for command in COMMANDS]
BATCH = 4


def options(problem: Problem, folder: os.PathLike[str]) -> list[str]:
    """``problem`` as the command line's problem options (its data, if it has any, written
    to a CSV in ``folder``)."""
    lo, hi = problem.domain
    if problem.points is not None and problem.y is not None:
        path = Path(folder) / f"data-{problem.points.digest[:12]}.csv"
        rows = zip(problem.points.array.tolist(), problem.y.array.tolist(), strict=True)
        path.write_text("".join(f"{a!r},{b!r}\n" for a, b in rows), encoding="utf-8")
        source = ["--data", str(path)]
    else:
        source = [
            "--n",
            str(problem.n),
            "--domain",
            repr(lo),
            repr(hi),
            "--seed",
            str(problem.seed),
        ]
        source += ["--mean", repr(problem.mean)]
    kernel = [f"--{name.replace('_', '-')}" for name in problem.covariance.parameters]
    values = [repr(getattr(problem, name)) for name in problem.covariance.parameters]
    return [
        *source,
        *("--kernel", problem.kernel),
        *(part for pair in zip(kernel, values, strict=True) for part in pair),
        *("--jitter", repr(problem.jitter), "--solver", problem.solver),
    ]


HOSTILE = {
    "jitter 1e308": ["report", "--n", "20", "--jitter", "1e308"],
    "mean 1e308": ["curves", "--n", "20", "--mean", "1e308", "--points", "50"],
}


def strict_runs(
    pairs: list[tuple[str, str]],
    folder: os.PathLike[str],
    extra: dict[str, list[str]],
    in_one_process: bool = False,
) -> Iterator[str]:
    """Run every (preset, command), BATCH processes at a time (each holds TensorFlow:
    ~0.7 GB) or all in one process, with warnings as errors; yield a complaint per run that
    failed or wrote to stderr."""
    env = {**os.environ, "PYTHONWARNINGS": "error", "QT_QPA_PLATFORM": "offscreen"}
    runs = {}
    for index, (name, command) in enumerate(pairs):
        argv = [part.replace("OUT", f"{folder}/out{index}") for part in COMMANDS[command]]
        runs[f"{command} on {name}"] = [*argv, *options(PRESETS[name], folder)]
    runs |= extra
    if in_one_process:
        yield from complaints(gradviz_batch(runs, env, timeout=900))
        return
    labels = list(runs)
    for start in range(0, len(labels), BATCH):
        batch = {label: runs[label] for label in labels[start : start + BATCH]}
        with gradviz_runs(batch, env, timeout=900) as done:
            yield from complaints(done)


def complaints(done: dict[str, subprocess.CompletedProcess[str]]) -> Iterator[str]:
    for label, result in done.items():
        if result.returncode != 0 or result.stderr:
            yield f"{label}: {result.returncode}, stderr {result.stderr[-1500:]!r}"


@pytest.mark.timeout(900)
def test_the_seed_and_every_preset_print_no_warning(tmp_path: os.PathLike[str]) -> None:
    assert list(strict_runs(REAL, tmp_path, {})) == []
    assert list(strict_runs(BATCHED, tmp_path, HOSTILE, in_one_process=True)) == []


@pytest.mark.faults
@pytest.mark.timeout(3600)
def test_every_command_on_every_preset_prints_no_warning(tmp_path: os.PathLike[str]) -> None:
    assert list(strict_runs(EVERYTHING, tmp_path, {})) == []
