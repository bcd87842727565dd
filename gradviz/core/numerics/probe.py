"""Run every path in both dtypes at one x, keeping the builds of recent problems.

A probe at a new x only evaluates: K, its factor, graphs, sessions and traced
functions live in :class:`~gradviz.core.numerics.paths.PathSet` objects cached per
problem. Importing this module imports TensorFlow.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from gradviz.core.numerics.paths import PathSet
from gradviz.core.numerics.results import DTYPES, Curves, DType, ProbeResult
from gradviz.core.numerics.tf_ops import PathError
from gradviz.core.problem.data import ProblemData, curve_grid
from gradviz.core.problem.spec import Problem


class ProbeEngine:
    """Evaluates problems, keeping the builds of the ``keep`` most recent ones.

    Builds are keyed by ``data.problem``: a problem's sample is drawn once, so the
    data handed in for one problem is always the same. Older builds are dropped
    (their Sessions closed) so that dragging through many problems does not
    accumulate graphs and matrices.
    """

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._sets: OrderedDict[Problem, dict[DType, PathSet]] = OrderedDict()

    def _path_sets(self, data: ProblemData) -> dict[DType, PathSet]:
        problem = data.problem
        if problem in self._sets:
            self._sets.move_to_end(problem)
        else:
            self._sets[problem] = {dtype: PathSet(data, dtype) for dtype in DTYPES}
            while len(self._sets) > self._keep:
                for path_set in self._sets.popitem(last=False)[1].values():
                    path_set.close()
        return self._sets[problem]

    def probe(self, data: ProblemData, x: float, spread: bool = True) -> ProbeResult:
        """mu and d mu/dx by every path in every dtype at x; failures are cells. With
        ``spread``, also the spread of perturbed copies per dtype (built once per problem)."""
        sets = self._path_sets(data)
        cells = tuple(cell for dtype in DTYPES for cell in sets[dtype].probe(x))
        spreads = {dtype: sets[dtype].spread(x) for dtype in DTYPES} if spread else {}
        return ProbeResult(problem=data.problem, x=x, cells=cells, spread=spreads)

    def curves(
        self,
        data: ProblemData,
        xs: np.ndarray | None = None,
        spread: bool = True,
        band: bool = True,
    ) -> Curves:
        """The curve path (``function``, see ``CURVE_PATH``) over ``xs`` (default: the curve
        grid), both dtypes; with ``band``, the posterior variance over x for the band
        around mu (slopes in x only)."""
        problem = data.problem
        xs = curve_grid(problem) if xs is None else xs
        mu: dict[DType, np.ndarray] = {}
        grad: dict[DType, np.ndarray] = {}
        errors: dict[DType, str | None] = {}
        spread_digits: dict[DType, np.ndarray] = {}
        variance: dict[DType, np.ndarray] = {}
        for dtype, path_set in self._path_sets(data).items():
            try:
                mu[dtype], grad[dtype] = path_set.curves(xs)
                errors[dtype] = None
            except PathError as error:
                mu[dtype] = grad[dtype] = np.full(xs.shape, np.nan)
                errors[dtype] = str(error)
            if spread:
                spread_digits[dtype] = path_set.spread_curve(xs)
            if band and not problem.measured.is_lml:
                try:
                    variance[dtype] = path_set.variance(xs)
                except PathError:
                    variance[dtype] = np.full(xs.shape, np.nan)
        return Curves(problem, xs, mu, grad, errors, spread_digits, variance)

    def tracing_counts(self) -> dict[str, int]:
        """Trace count of every tf.function alive, keyed ``"<dtype> <name> <problem>"``."""
        return {
            f"{dtype} {name} {problem.summary()}": count
            for problem, sets in self._sets.items()
            for dtype, path_set in sets.items()
            for name, count in path_set.tracing_counts().items()
        }
