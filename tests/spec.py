"""What the issues specify, written out here rather than imported from gradviz, so that
tests check the code against the contract and not against itself; plus small helpers
shared by several test files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from flint import arb, arb_mat, ctx
from in_process import compute_in_process, run_commands

from gradviz.core.numerics.results import Ball
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

# The seven paths in their documented order, and the two dtypes.
PATH_NAMES = [
    "seed_optimizer",
    "seed_gradients",
    "tape",
    "function",
    "forward",
    "closed_form",
    "central_difference",
]
DTYPES = ["float32", "float64"]

# `gradviz report --format json`.
TOP_KEYS = {
    "config",
    "condition_number",
    "condition_number_is_lower_bound",
    "reference",
    "digits_against",
    "results",
    "verdicts",
    "diagnosis",
    "environment",
    "headline",
    "spread",
    "advice",
}
SPREAD_KEYS = {"samples", "grad_min", "grad_max", "grad_std", "significant_digits"}
CONFIG_KEYS = {
    *("n", "domain", "length_scale", "seed", "mean", "jitter", "solver", "x"),
    *("kernel", "signal_variance", "alpha", "period", "data", "quantity"),
}
DATA_KEYS = {"points", "x_sha256", "y_sha256"}  # config.data, null for a sample drawn here
REFERENCE_KEYS = {
    *("status", "mu", "grad", "mu_radius", "grad_radius", "reason", "limit", "one_sided"),
    *("value", "value_radius"),
}
ONE_SIDED_KEYS = {"left", "right", "left_radius", "right_radius"}
LIMIT_KEYS = {"jitter", "mu", "grad", "mu_radius", "grad_radius", "value", "value_radius"}
RESULT_KEYS = {
    "dtype",
    "path",
    "value",
    "mu",
    "grad",
    "correct_digits",
    "status",
    "error",
    "failure_kind",
    "extra",
}
FAILURE_KINDS = {
    "cholesky_not_pd",
    "singular_inverse",
    "non_finite",
    "out_of_memory",
    "tensorflow_error",
    "timeout",
}
DIAGNOSIS_KEYS = {
    "dtype",
    "digits_min",
    "digits_max",
    "reference_state",
    "condition_number",
    "condition_is_lower_bound",
    "digits_left",
    "underflows",
}
# `report --format json` "advice": per dtype {solver, jitter, digits, failure_kind}.
ADVICE_KEYS = {"as_given", "float32", "float64", "cause", "truth_jitter", "seconds"}
MEASURED_KEYS = {"solver", "jitter", "digits", "failure_kind"}
CAUSES = {"solver", "jitter", "dtype", "none"}
REFERENCE_STATES = {"no_reference", "pending", "undetermined", "exact"}
ENVIRONMENT_KEYS = {"gradviz", "python", "tensorflow", "numpy", "python-flint", "qt", "blas"}
BLAS_KEYS = {"name", "version", "configuration", "core", "openblas_coretype"}


@contextmanager
def gradviz_runs(
    runs: Mapping[str, Sequence[str]], env: Mapping[str, str] | None = None, timeout: float = 240
) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Start ``python -m gradviz <argv>`` for every run at once (each spends seconds
    importing TensorFlow), collect them all, and kill whatever is left on the way out."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "gradviz", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else dict(env),
        )
        for name, argv in runs.items()
    }
    try:
        done = {}
        for name, process in started.items():
            out, err = process.communicate(timeout=timeout)
            done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        yield done
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


# One process runs every command through gradviz.cli.main, computing in itself
# (in_process.run_commands).
_BATCH = """
import json, sys
sys.path.insert(0, sys.argv[1])
from in_process import compute_commands_in_process, run_commands
compute_commands_in_process()
results = run_commands(json.loads(sys.argv[2]))
sys.stdout.write(json.dumps(results))
"""


def gradviz_batch(
    runs: Mapping[str, Sequence[str]], env: Mapping[str, str] | None = None, timeout: float = 600
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Like :func:`gradviz_runs`, one after the other in one process that imports
    TensorFlow once: each run's exit status, stdout and stderr as its own process's. The
    commands compute in that process rather than in a stoppable child each."""
    tests = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", _BATCH, tests, json.dumps({k: list(v) for k, v in runs.items()})],
        capture_output=True,
        text=True,
        env=None if env is None else dict(env),
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr, done.stderr[-3000:]
    return _completed(runs, json.loads(done.stdout))


def gradviz_here(
    runs: Mapping[str, Sequence[str]],
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Like :func:`gradviz_batch`, in this test process, which has imported TensorFlow
    already (a batch process imports it again: ~5 s of CPU). For commands whose point is
    their output under the environment the tests run in."""
    from gradviz.worker import stoppable

    kept = stoppable.run_stoppable
    stoppable.run_stoppable = compute_in_process
    try:
        return _completed(runs, run_commands(runs))
    finally:
        stoppable.run_stoppable = kept


def _completed(
    runs: Mapping[str, Sequence[str]], results: Mapping[str, Sequence[Any]]
) -> dict[str, subprocess.CompletedProcess[str]]:
    return {
        name: subprocess.CompletedProcess(["gradviz", *runs[name]], status, out, err)
        for name, (status, out, err) in results.items()
    }


def legend_item(plot: pg.PlotItem, name: str) -> pg.GraphicsObject:
    """The item a plot's legend entry names: by the item's own name (a legend label may
    carry a note after it, such as how far a clipped curve goes) or the label's text."""
    for sample, label in plot.legend.items:
        item_name = sample.item.name() if hasattr(sample.item, "name") else None
        if name in (item_name, label.text):
            return sample.item
    for item in plot.items:  # named but kept out of the legend (markers at the probe)
        if hasattr(item, "name") and item.name() == name:
            return item
    raise KeyError(name)


def xy(item: pg.GraphicsObject) -> tuple[np.ndarray, np.ndarray]:
    """A curve's or scatter's data as arrays (empty when it has none)."""
    x, y = item.getData()
    return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))


# --- an independent ball-arithmetic reference, written out plainly --------------------


def flint_reference(problem: Problem, x: float, jitter: float, bits: int) -> tuple[arb, arb]:
    """(mu, mu') at ``bits`` by the plainest path: explicit K, one solve, summed loops."""
    data = problem_data(problem)
    saved = ctx.prec
    ctx.prec = bits
    try:
        p = [arb(v) for v in data.grid.tolist()]
        l2 = arb(problem.length_scale) ** 2
        rows = [[(-((a - b) ** 2) / (2 * l2)).exp() for b in p] for a in p]
        for i in range(problem.n):
            rows[i][i] += arb(jitter)
        alpha = arb_mat(rows).solve(arb_mat([[v] for v in data.y.tolist()]))
        mu, grad = arb(0), arb(0)
        for i, pi in enumerate(p):
            ki = (-((arb(x) - pi) ** 2) / (2 * l2)).exp()
            mu += ki * alpha[i, 0]
            grad += -(arb(x) - pi) / l2 * ki * alpha[i, 0]
        return mu, grad
    finally:
        ctx.prec = saved


def contains(ball: Ball, value: arb) -> bool:
    """[mid - radius, mid + radius] contains every point of ``value`` (exact endpoints)."""
    saved = ctx.prec
    ctx.prec = 2048
    try:
        lo, hi = arb(ball.mid) - arb(ball.radius), arb(ball.mid) + arb(ball.radius)
        return bool(lo <= value.lower() and value.upper() <= hi)
    finally:
        ctx.prec = saved


# --- every kernel, written out from the formulas (r = |d|) ------------------------------


def arb_kernel(problem: Problem, d: arb, params: Mapping[str, arb] | None = None) -> arb:
    """k(d) of ``problem``'s kernel at the current precision, from issue 19's formulas;
    ``params`` replaces parameters by balls (e.g. theta +/- 2^-90)."""
    given = dict(params or {})

    def parameter(name: str) -> arb:
        return given[name] if name in given else arb(getattr(problem, name))

    length, s = parameter("length_scale"), parameter("signal_variance")
    r = abs(d)
    if problem.kernel == "rbf":
        return s * (-(r * r) / (2 * length * length)).exp()
    if problem.kernel == "matern12":
        return s * (-r / length).exp()
    if problem.kernel == "matern32":
        u = arb(3).sqrt() * r / length
        return s * (1 + u) * (-u).exp()
    if problem.kernel == "matern52":
        u = arb(5).sqrt() * r / length
        return s * (1 + u + 5 * r * r / (3 * length * length)) * (-u).exp()
    if problem.kernel == "rational-quadratic":
        a = parameter("alpha")
        return s * (1 + r * r / (2 * a * length * length)) ** (-a)
    if problem.kernel == "periodic":
        sine = (arb.pi() * r / parameter("period")).sin()
        return s * (-2 * sine * sine / (length * length)).exp()
    raise KeyError(problem.kernel)


def flint_slopes(
    problem: Problem, points: Sequence[float], y: Sequence[float], x: float, bits: int = 256
) -> tuple[arb, arb, arb]:
    """(mu(x), left and right difference quotients of mu at x) for the data (points, y) and
    ``problem``'s kernel and jitter: explicit K, one certified solve, then mu at x and
    x -/+ 2^-90 (their quotients are mu'(x) to ~1e-27 where it exists, the one-sided slopes
    at a kink). Independent of gradviz's kernel forms."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        p = [arb(v) for v in points]
        rows = [[arb_kernel(problem, a - b) for b in p] for a in p]
        for i in range(len(p)):
            rows[i][i] += arb(problem.jitter)
        alpha = arb_mat(rows).solve(arb_mat([[v] for v in y]))

        def mu(at: arb) -> arb:
            return sum(
                (arb_kernel(problem, at - pi) * alpha[i, 0] for i, pi in enumerate(p)), arb(0)
            )

        h = arb(2) ** -90
        at = arb(x)
        middle = mu(at)
        return middle, (middle - mu(at - h)) / h, (mu(at + h) - middle) / h
    finally:
        ctx.prec = saved


# --- every quantity, written out from issue 20's formulas -----------------------------------

# An LML quantity's theta: the problem's field it moves (issue 20).
LML_THETA = {
    "lml-lengthscale": "length_scale",
    "lml-signal-variance": "signal_variance",
    "lml-jitter": "jitter",
    "lml-alpha": "alpha",
    "lml-period": "period",
}
QUANTITY_NAMES = ["mean-slope", "variance-slope", *LML_THETA]


def numpy_kernel(problem: Problem, d: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """k(d) in numpy float64 from issue 19's formulas, ``params`` replacing parameters."""

    def parameter(name: str) -> float:
        return float(params.get(name, getattr(problem, name)))

    length, s, r = parameter("length_scale"), parameter("signal_variance"), np.abs(d)
    if problem.kernel == "rbf":
        return s * np.exp(-(r * r) / (2 * length * length))
    if problem.kernel == "matern12":
        return s * np.exp(-r / length)
    if problem.kernel in ("matern32", "matern52"):
        root = np.sqrt(3.0 if problem.kernel == "matern32" else 5.0) * r / length
        extra = 0.0 if problem.kernel == "matern32" else 5 * r * r / (3 * length * length)
        return s * (1 + root + extra) * np.exp(-root)
    if problem.kernel == "rational-quadratic":
        a = parameter("alpha")
        return s * (1 + r * r / (2 * a * length * length)) ** (-a)
    if problem.kernel == "periodic":
        sine = np.sin(np.pi * r / parameter("period"))
        return s * np.exp(-2 * sine * sine / (length * length))
    raise KeyError(problem.kernel)


def numpy_quantity(problem: Problem, points: np.ndarray, y: np.ndarray, t: float) -> float:
    """The value of ``problem``'s quantity at the probe t in numpy float64: mu(x),
    var(x) = k(x, x) - k(x)^T A^-1 k(x), or LML(theta) = -1/2 y^T A^-1 y - 1/2 log det A
    - n/2 log 2 pi with A = K + jitter I (issue 20)."""
    name = LML_THETA.get(problem.quantity)
    params = {} if name is None else {name: t}
    jitter = params.pop("jitter", problem.jitter)
    matrix = numpy_kernel(problem, points[:, None] - points[None, :], params)
    matrix = matrix + jitter * np.eye(len(points))
    if name is not None:
        _, logdet = np.linalg.slogdet(matrix)
        quad = y @ np.linalg.solve(matrix, y)
        return float(-quad / 2 - logdet / 2 - len(points) / 2 * np.log(2 * np.pi))
    row = numpy_kernel(problem, t - points, {})
    if problem.quantity == "mean-slope":
        return float(row @ np.linalg.solve(matrix, y))
    prior = numpy_kernel(problem, np.zeros(1), {})[0]
    return float(prior - row @ np.linalg.solve(matrix, row))


def flint_quantity(
    problem: Problem, points: Sequence[float], y: Sequence[float], t: float, bits: int = 320
) -> tuple[arb, arb]:
    """(value, derivative) of ``problem``'s quantity at the probe t in ball arithmetic by
    the plainest route: explicit matrices, certified solves and determinants (no inverse,
    no trace), the derivative as the symmetric difference quotient with h = 2^-100 |t|
    (its error ~h^2, far below any float64 digit). Independent of gradviz's forms."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        p = [arb(v) for v in points]
        b = arb_mat([[v] for v in y])
        name = LML_THETA.get(problem.quantity)

        def value(at: arb) -> arb:
            params = {} if name is None else {name: at}
            jitter = params.pop("jitter", arb(problem.jitter))
            rows = [[arb_kernel(problem, a - c, params) for c in p] for a in p]
            for i in range(len(p)):
                rows[i][i] += jitter
            matrix = arb_mat(rows)
            if name is not None:
                quad = (b.transpose() * matrix.solve(b))[0, 0]
                n = len(p)
                return -quad / 2 - matrix.det().log() / 2 - arb(n) * (2 * arb.pi()).log() / 2
            k = arb_mat([[arb_kernel(problem, at - pi)] for pi in p])
            if problem.quantity == "mean-slope":
                return (k.transpose() * matrix.solve(b))[0, 0]
            return arb_kernel(problem, arb(0)) - (k.transpose() * matrix.solve(k))[0, 0]

        h = arb(2) ** -100 * max(abs(t), 1.0)
        at = arb(t)
        return value(at), (value(at + h) - value(at - h)) / (2 * h)
    finally:
        ctx.prec = saved
