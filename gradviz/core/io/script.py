"""``gradviz script``: a standalone program that reproduces the problem, bit for bit.

The program imports numpy and TensorFlow only (never gradviz), so it can be run, read and
pasted into a bug report anywhere. It computes:

- ``as_written``: the seed's two calls, ``AdamOptimizer().compute_gradients`` and
  ``tf.gradients`` on one ``tf.compat.v1`` graph, with the problem's own solver and jitter
  (the seed's explicit inverse on the seed problem), in float32 and float64;
- ``advised``: per dtype, the ``function`` path at the (solver, jitter) that the measured
  advice found to keep the most digits.

Both are built with exactly the operations, in the order and with the graph options that
gradviz's own ``seed_*`` paths (``gradviz.core.numerics.paths._SeedGraph``) and the jitter
sweep (``gradviz.core.numerics.sweep_paths.JitterFunction``) use, so the numbers equal the
report's bit for bit: grappler folds the same constants the same way. The kernel's
formula is rendered from its one definition (:mod:`gradviz.core.io.kernel_source`). The
sample y (and a data file's x) is embedded as ``float.hex`` strings and never regenerated,
because numpy draws it through an SVD whose last bits depend on the CPU kernel OpenBLAS
picks; every other float is written the same way. The last line the program prints is one
JSON object.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradviz import __version__
from gradviz.core.analysis.advice import Advice, digits_words, point_words
from gradviz.core.io.kernel_source import constants_source, kernel_body_source
from gradviz.core.problem.spec import Problem

HEX_PER_LINE = 3  # float.hex strings of y per line of the program
WIDTH = 92  # the program's docstring lines
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
GRID_COLUMN = '''def grid_column(dtype):
    """The seed's tf.reshape(tf.linspace(lo, hi, n), (n, 1)). [N, 1]"""
    lo, hi = tf.convert_to_tensor(LO, dtype=dtype), tf.convert_to_tensor(HI, dtype=dtype)
    return tf.reshape(tf.linspace(lo, hi, N), (N, 1))'''
POINTS_COLUMN = '''def grid_column(dtype):
    """The data's x as a column, each rounded once to dtype. [N, 1]"""
    return tf.reshape(tf.convert_to_tensor(POINTS, dtype=dtype), (N, 1))'''
SAMPLE_WORDS = """The sample y is embedded bit for bit (float.hex): numpy draws it through an
SVD whose last bits depend on the CPU kernel OpenBLAS picks, so regenerating it on another
machine gives another problem."""
DATA_WORDS = """The data file's x and y are embedded bit for bit (float.hex), so the program needs
no file."""

TEMPLATE = '''\
#!/usr/bin/env python3
"""Stack Overflow 51006474 reproduced: why tf.gradients and compute_gradients print noise.

{header}

It computes the seed's two calls exactly as the seed writes them: one tf.compat.v1 graph,
AdamOptimizer().compute_gradients and tf.gradients, in float32 and float64
({solver_words}).
Then the configuration gradviz measured as keeping the most digits, per dtype:
{advice_words}
The jitter-free answer, from ball arithmetic (the reference at jitter {truth_jitter}):
{truth}.

{data_words} {run} (numpy and tensorflow needed).
Its last line is one JSON object:
{{"as_written": {{dtype: {{"seed_gradients", "seed_optimizer"}}}},
 "advised": {{dtype: {{"solver", "jitter", "gradient"}}}}}}
"""

import json
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
{onednn}
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

N = {n}
{points}
# The {kernel_name} kernel's constants, from its parameters in float64 ({parameters}).
{constants}
JITTER = float.fromhex("{jitter}")  # {jitter_value!r}
SOLVER = "{solver}"
X = float.fromhex("{x_hex}")  # {x!r}
ADVISED = {{
{advised}
}}
TRUTH = {truth_literal}
Y = {y}  # [N]
DTYPES = {{"float32": tf.float32, "float64": tf.float64}}


{grid_column}


def kernel(d):
    """k(d), d = a - b: {kernel_label}{kernel_note}."""
{kernel_body}


def kernel_matrix(point, jitter):
    """k(p - p^T) + jitter I. [N, N]"""
    matrix = kernel(point - tf.transpose(point))
    if jitter:
        matrix += tf.convert_to_tensor(jitter, dtype=point.dtype) * tf.eye(N, dtype=point.dtype)
    return matrix


def kernel_vector(x, row):
    """k(x): k(x - p^T). [m, N]"""
    return kernel(x - row)


def factor(matrix, y, solver):
    """K^-1 for the explicit inverse, alpha = K^-1 y otherwise."""
    if solver == "inverse":
        return tf.linalg.inv(matrix)
    if solver == "solve":
        return tf.linalg.solve(matrix, y)
    return tf.linalg.cholesky_solve(tf.linalg.cholesky(matrix), y)


def apply(weights, factor_, y, solver):
    """(k(x) @ K^-1) @ y, the seed's order, or k(x) @ alpha. [m, 1]"""
    if solver == "inverse":
        return tf.matmul(tf.matmul(weights, factor_), y)
    return tf.matmul(weights, factor_)


def number(value):
    """A finite float, or None (JSON null) for NaN and infinity."""
    value = float(value)
    return value if math.isfinite(value) else None


def as_written(name):
    """The seed's program: one v1 graph, each call from its own expectation(x)."""
    dtype, v1 = DTYPES[name], tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():

        def expectation(x):
            ref_point = tf.transpose(tf.convert_to_tensor(Y, dtype=dtype))
            point = grid_column(dtype)
            kernel_matrix_tf = kernel_matrix(point, JITTER)
            ref_point = tf.expand_dims(ref_point, axis=1)
            weights = factor(kernel_matrix_tf, ref_point, SOLVER)
            kernel_vector_tf = kernel_vector(x, tf.transpose(point))
            return apply(kernel_vector_tf, weights, ref_point, SOLVER)

        x = v1.Variable(2.0, dtype=dtype, name="x")
        mu_1 = expectation(x)
        gradients_1 = v1.train.AdamOptimizer().compute_gradients(mu_1, var_list=[x])
        mu_2 = expectation(x)
        gradients_2 = v1.gradients(mu_2, [x])
        x_in = v1.placeholder(dtype, shape=())
        assign = x.assign(x_in)
        init = v1.global_variables_initializer()
    graph.finalize()
    with v1.Session(graph=graph) as session:
        session.run(init)
        session.run(assign, {{x_in: X}})
        try:
            optimizer, gradients = session.run([[gradients_1, mu_1], [gradients_2, mu_2]])
        except tf.errors.InvalidArgumentError:  # an exactly singular K
            return {{"seed_gradients": None, "seed_optimizer": None}}
    [(grad_1, _)], _ = optimizer
    [grad_2], _ = gradients
    return {{"seed_gradients": number(grad_2), "seed_optimizer": number(grad_1)}}


def advised(name, solver, jitter):
    """The function path: the factor in one traced graph with the jitter as an input,
    then d mu/dx by a tape in a second traced graph."""
    dtype = DTYPES[name]
    factor_spec = [N, N if solver == "inverse" else 1]

    @tf.function(input_signature=[tf.TensorSpec([], dtype)])
    def factorised(jitter):
        point = grid_column(dtype)
        y = tf.convert_to_tensor(Y, dtype=dtype)[:, None]
        matrix = kernel_matrix(point, 0.0)
        matrix += jitter * tf.eye(N, dtype=dtype)
        return tf.transpose(point), factor(matrix, y, solver), y

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], dtype),
            tf.TensorSpec([1, N], dtype),
            tf.TensorSpec(factor_spec, dtype),
            tf.TensorSpec([N, 1], dtype),
        ]
    )
    def gradient(xs, row, weights, y):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            mu = apply(kernel_vector(xs[:, None], row), weights, y, solver)[:, 0]
        return tape.gradient(mu, xs)

    try:
        row, weights, y = factorised(tf.convert_to_tensor(jitter, dtype=dtype))
    except tf.errors.InvalidArgumentError:
        return None
    if not np.all(np.isfinite(weights)):  # a failed Cholesky gives NaN, not an error
        return None
    return number(gradient(tf.convert_to_tensor(np.array([X]), dtype=dtype), row, weights, y)[0])


def digits(value):
    """Correct digits of value against the jitter-free answer, 0..17."""
    if value is None or TRUTH is None:
        return "-"
    if value == TRUTH:
        return "17.0"
    error = abs(value - TRUTH) / (abs(TRUTH) or 1.0)
    return f"{{max(0.0, min(17.0, -math.log10(error))):.1f}}"


def main():
    found = {{"as_written": {{}}, "advised": {{}}}}
    for name in DTYPES:
        found["as_written"][name] = calls = as_written(name)
        print(
            f"as written ({{SOLVER}}, jitter {{JITTER:g}}) {{name}}: "
            f"compute_gradients {{calls['seed_optimizer']!r}}, "
            f"tf.gradients {{calls['seed_gradients']!r}} "
            f"({{digits(calls['seed_gradients'])}} correct digits)"
        )
    for name, point in ADVISED.items():
        if point is None:
            found["advised"][name] = None
            continue
        solver, jitter = point
        gradient = advised(name, solver, jitter)
        found["advised"][name] = {{"solver": solver, "jitter": jitter, "gradient": gradient}}
        print(
            f"advised ({{solver}}, jitter {{jitter:g}}) {{name}}: {{gradient!r}} "
            f"({{digits(gradient)}} correct digits)"
        )
    print(json.dumps(found))


if __name__ == "__main__":
    main()
'''


def script_unsupported(problem: Problem) -> str | None:
    """Why the program cannot reproduce ``problem`` (None when it can): it is written for
    the posterior mean's slope, the seed's question, with any kernel and data."""
    if problem.quantity != "mean-slope":
        return (
            f"--quantity {problem.quantity} is not written as a standalone program: it "
            "reproduces the seed's two calls for the posterior mean's slope (mean-slope) "
            "only; use report for the other quantities"
        )
    return None


def _onednn() -> str:
    """TensorFlow's oneDNN switch as this process has it: oneDNN kernels round differently,
    so the program pins the same setting (TensorFlow's default when unset here)."""
    value = os.environ.get(ONEDNN_ENV)
    if value is None:
        return ""
    return f"os.environ[{ONEDNN_ENV!r}] = {value!r}  # as when gradviz wrote this file\n"


def _array_source(values: np.ndarray) -> str:
    """numpy float64 values as source, bit for bit: float.hex strings, a few per line."""
    hexes = [_hex(value) for value in values.tolist()]
    lines = (" ".join(hexes[i : i + HEX_PER_LINE]) for i in range(0, len(hexes), HEX_PER_LINE))
    return 'np.array([float.fromhex(h) for h in """\n' + "\n".join(lines) + '\n""".split()])'


def _points_source(problem: Problem) -> str:
    """The data's points, or the grid's ends, as constants."""
    if problem.points is not None:
        return f"POINTS = {_array_source(problem.points.array)}  # [N], x of the data file"
    lo, hi = problem.domain
    return f'LO = float.fromhex("{_hex(lo)}")  # {lo!r}\nHI = float.fromhex("{_hex(hi)}")  # {hi!r}'


def _hex(value: float) -> str:
    return float(value).hex()


def _literal(value: float | None) -> str:
    """A float as Python source that round-trips bit for bit, or None."""
    return "None" if value is None else f'float.fromhex("{_hex(value)}")'


def _advised_literal(advice: Advice) -> str:
    """One ``"dtype": ("solver", jitter),`` line per dtype (None where nothing was measured)."""
    entries = []
    for dtype, measured in advice.advised.items():
        point = None if measured is None else (measured.solver, _literal(measured.jitter))
        value = "None" if point is None else f'("{point[0]}", {point[1]})'
        entries.append(f'    "{dtype}": {value},')
    return "\n".join(entries)


def _advice_words(advice: Advice) -> str:
    lines = []
    for dtype, measured in advice.advised.items():
        given = advice.as_given[dtype]
        if measured is None:
            lines.append(f"- {dtype}: nothing could be measured")
            continue
        note = "" if advice.changes(dtype) else " (the problem as given already keeps the most)"
        lines.append(
            f"- {dtype}: {point_words(measured)} keeps {digits_words(measured)}{note};\n"
            f"  as given ({point_words(given)}): {digits_words(given)}"
        )
    return "\n".join(lines)


def script_text(
    problem: Problem,
    y: np.ndarray,
    x: float,
    advice: Advice,
    *,
    environment: Mapping[str, Any],
    name: str | None = None,
) -> str:
    """The program for ``problem`` with its sample ``y`` [n] at x with the measured
    ``advice``; ``name`` is the file name its docstring tells the user to run (None:
    printed, not saved yet). Formatting only: the window calls it on its GUI thread."""
    kernel = problem.covariance
    blas = environment.get("blas") or {}
    header = textwrap.fill(
        f"Written by gradviz {__version__} on Python {environment.get('python')}, numpy "
        f"{environment.get('numpy')}, TensorFlow {environment.get('tensorflow')}, OpenBLAS "
        f"core {blas.get('core') or 'unknown'}. Problem: {problem.description()}; probe "
        f"x = {x!r}.",
        WIDTH,
    )
    truth = advice.truth
    solver_words = "the explicit matrix inverse" if problem.solver == "inverse" else problem.solver
    return TEMPLATE.format(
        header=header,
        onednn=_onednn(),
        x=x,
        x_hex=_hex(x),
        solver_words=f"{solver_words}, jitter {problem.jitter:g}",
        advice_words=_advice_words(advice),
        truth_jitter="none" if advice.truth_jitter is None else f"{advice.truth_jitter:g}",
        truth="not resolved" if truth is None else f"{truth.mid!r} +/- {truth.radius:.1e}",
        truth_literal=_literal(None if truth is None else truth.mid),
        run=f"Run it with `python {name}`"
        if name
        else "Save it (e.g. as gradviz_script.py) and run `python gradviz_script.py`",
        n=problem.n,
        points=_points_source(problem),
        grid_column=POINTS_COLUMN if problem.from_file else GRID_COLUMN,
        data_words=DATA_WORDS if problem.from_file else SAMPLE_WORDS,
        kernel_name=kernel.name,
        kernel_label=kernel.label,
        kernel_note=" (the seed's operations)" if kernel.name == "rbf" else "",
        kernel_body=kernel_body_source(kernel),
        parameters=", ".join(
            f"{name.replace('_', ' ')} {getattr(kernel, name)!r}" for name in kernel.parameters
        ),
        constants=constants_source(kernel),
        jitter=_hex(problem.jitter),
        jitter_value=problem.jitter,
        solver=problem.solver,
        advised=_advised_literal(advice),
        y=_array_source(y),
    )
