"""A probe evaluates the seven paths in fewer framework calls (both seed fetches in one
``Session.run``, ``function`` and ``forward`` in one traced call): every cell must be the
same, bit for bit, as evaluating that path alone with ``PathSet.evaluate``, failures
included, and probing must not retrace.

Imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from spec import DTYPES, PATH_NAMES

from gradviz.core.numerics import paths
from gradviz.core.numerics.results import Cell
from gradviz.core.problem.data import problem_data
from gradviz.core.problem.spec import Problem

PROBLEMS = [
    Problem(),  # the seed: cond(K) ~ 5e19, where any change of operations shows
    Problem(jitter=1e-6, solver="cholesky"),  # float32: NaN Cholesky, every cell an error
    Problem(n=30, length_scale=0.8, jitter=1e-6, solver="solve"),
    Problem(n=50, length_scale=1e6, solver="inverse"),  # K all ones: singular
]


def bits(value: float | None) -> str | None:
    """A float's exact bits (``0.0`` and ``-0.0`` differ, NaN equals itself)."""
    return None if value is None else float(value).hex()


def exact(cell: Cell) -> tuple[object, ...]:
    extra = tuple((key, bits(value)) for key, value in sorted(cell.extra.items()))
    return (
        cell.path,
        cell.dtype,
        bits(cell.mu),
        bits(cell.grad),
        cell.error,
        cell.failure_kind,
        extra,
    )


Sets = tuple[Problem, paths.PathSet, paths.PathSet]


@pytest.fixture(
    scope="module",
    params=[(problem, dtype) for problem in PROBLEMS for dtype in DTYPES],
    ids=lambda case: f"{case[1]}: {case[0].summary()}",
)
def sets(request: pytest.FixtureRequest) -> Iterator[Sets]:
    """One PathSet that only probes and one that only evaluates path by path."""
    problem, dtype = request.param
    data = problem_data(problem)
    probing, alone = paths.PathSet(data, dtype), paths.PathSet(data, dtype)
    yield problem, probing, alone
    probing.close()
    alone.close()


def xs_for(problem: Problem) -> list[float]:
    rng = np.random.default_rng(12)
    lo, hi = problem.domain
    inside = rng.uniform(lo, hi, 12).tolist()
    return [2.0, *inside, 2.0, hi + 0.5, lo, -0.0]  # x again, outside, at an end, -0.0


def test_every_probed_cell_is_the_path_evaluated_alone(sets: Sets) -> None:
    problem, probing, alone = sets
    for x in xs_for(problem):
        cells = probing.probe(x)
        assert [cell.path for cell in cells] == PATH_NAMES
        expected = [alone.evaluate(path, x) for path in PATH_NAMES]
        assert [exact(cell) for cell in cells] == [exact(cell) for cell in expected], x
        assert cells == tuple(expected)


def test_probing_traces_once_and_evaluating_alone_never_uses_the_probe_trace(sets: Sets) -> None:
    _, probing, alone = sets
    for x in np.linspace(-6.0, 6.0, 25):
        probing.probe(float(x))
    assert set(probing.tracing_counts()) <= {"traced"}
    assert all(count == 1 for count in probing.tracing_counts().values())
    assert "traced" not in alone.tracing_counts()


@pytest.mark.parametrize(
    ("problem", "dtype", "status"),
    [(PROBLEMS[2], "float64", "ok"), (PROBLEMS[1], "float32", "error")],  # error: NaN Cholesky
)
def test_prepare_builds_every_stage_in_order_and_remembers_failures(
    problem: Problem, dtype: str, status: str
) -> None:
    path_set = paths.PathSet(problem_data(problem), dtype)
    stages: list[tuple[str, float]] = []
    path_set.prepare(lambda name, seconds: stages.append((name, seconds)))
    assert [name for name, _ in stages] == ["eager", "function", "seed", "traced", "spread"]
    assert all(seconds >= 0 for _, seconds in stages)
    assert {cell.status for cell in path_set.probe(2.0)} == {status}
    path_set.close()
