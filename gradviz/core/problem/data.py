"""Points, kernel matrix and the seed-faithful GP sample, in numpy float64.

For the grid problem everything here reproduces Stack Overflow 51006474 bit for bit
(with the rbf kernel; another kernel changes K and so the sample):

    p    = linspace(lo, hi, n)                              # [n]
    K_ij = k(p_i - p_j), rbf: exp(-(p_i - p_j)^2 / (2 l^2))  # [n, n]
    y    = RandomState(seed).multivariate_normal(mean * ones(n), K)   # [n]

``RandomState(seed)`` draws the same stream as the seed's global
``np.random.seed(seed)`` without touching global state. numpy draws the sample
through an SVD of K, so ``y`` depends on the machine's LAPACK: on another CPU
the same seed can give a slightly different ``y`` (and a different limit). A
problem that carries its y (a session's, or data from a file) draws nothing.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from gradviz.core.problem.kernels import kernel_matrix
from gradviz.core.problem.spec import Problem, ProblemError


@dataclass(frozen=True, eq=False)
class ProblemData:
    """The sampled data of one problem; arrays are read-only.

    Everything numeric downstream (paths, conditioning, reference) takes this record
    as an argument, so the sample a computation uses is the one it was handed.
    """

    problem: Problem
    grid: np.ndarray  # [n], the points: the grid, or the data's x (in file order)
    kernel: np.ndarray  # [n, n], without jitter
    y: np.ndarray  # [n]


CURVE_POINTS = 1000
# Along an LML quantity's theta every point is a new K and factorization (and, for the
# reference, an O(n^3) ball-arithmetic inverse and determinant): fewer points.
THETA_CURVE_POINTS = 100


def curve_grid(problem: Problem, points: int | None = None) -> np.ndarray:
    """The probes at which curves are drawn: ``points`` evenly spaced over the domain (for
    data, the range of its x; CURVE_POINTS by default), or along an LML quantity's theta
    evenly in log theta over its span (THETA_CURVE_POINTS). [points]"""
    lo, hi = problem.probe_domain
    if problem.measured.is_lml:
        return np.geomspace(lo, hi, THETA_CURVE_POINTS if points is None else points)
    return np.linspace(lo, hi, CURVE_POINTS if points is None else points)


def problem_points(problem: Problem) -> np.ndarray:
    """The points p: the data's x, or ``linspace(lo, hi, n)``. [n]"""
    if problem.points is not None:
        return problem.points.array
    return np.linspace(problem.domain[0], problem.domain[1], problem.n)


_Key = tuple[object, ...]


class _SampleCache:
    """The last few samples, keyed on the fields that change them (not jitter or solver).

    Purely an optimisation (drawing is an O(n^3) SVD, 2.8 s at n = 2000 here):
    without it :func:`problem_data` would draw again and return equal arrays.
    """

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._items: OrderedDict[_Key, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> np.ndarray | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: _Key, y: np.ndarray) -> None:
        with self._lock:
            self._items[key] = y
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_CACHE = _SampleCache()


def _key(problem: Problem) -> _Key:
    return (problem.n, problem.domain, problem.seed, problem.mean, problem.covariance)


def _grid_and_kernel(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    grid = problem_points(problem)  # [n]
    return grid, kernel_matrix(problem.covariance, grid, grid)  # [n], [n, n]


def _draw(problem: Problem, kernel: np.ndarray) -> np.ndarray:
    """The seed's sample. [n]"""
    # check_valid="ignore": K is numerically indefinite for most problems worth
    # studying; the check only warns and does not change the stream.
    return np.random.RandomState(problem.seed).multivariate_normal(
        problem.mean * np.ones(problem.n), kernel, check_valid="ignore"
    )


def _frozen(problem: Problem, grid: np.ndarray, kernel: np.ndarray, y: np.ndarray) -> ProblemData:
    """The record, on read-only arrays; y is copied so no caller can change it later."""
    y = np.array(y, dtype=np.float64)  # [n]
    for array in (grid, kernel, y):
        array.setflags(write=False)
    return ProblemData(problem=problem, grid=grid, kernel=kernel, y=y)


def probe_matrix(data: ProblemData, t: float) -> tuple[np.ndarray, float]:
    """(K, jitter) as the quantity uses them at the probe t: the problem's own for a slope
    in x; along an LML quantity's theta, K with that parameter at t (the jitter at t for
    lml-jitter). The data stay the problem's. ([n, n], jitter)"""
    theta = data.problem.measured.theta
    if theta is None:
        return data.kernel, data.problem.jitter
    if theta == "jitter":
        return data.kernel, t
    kernel = dataclasses.replace(data.problem.covariance, **{theta: t})
    return kernel_matrix(kernel, data.grid, data.grid), data.problem.jitter


def data_from_sample(problem: Problem, y: np.ndarray) -> ProblemData:
    """The data of ``problem`` with the sample ``y`` drawn elsewhere (by
    :func:`problem_data`, e.g. in another process): grid and kernel are rebuilt."""
    if y.shape != (problem.n,):
        raise ValueError(f"sample has shape {y.shape}, expected ({problem.n},)")
    return _frozen(problem, *_grid_and_kernel(problem), y)


def problem_data(problem: Problem) -> ProblemData:
    """The data of ``problem``: its own y, or the sample drawn from its seed."""
    grid, kernel = _grid_and_kernel(problem)
    if problem.y is not None:
        return _frozen(problem, grid, kernel, problem.y.array)
    y = _CACHE.get(_key(problem))
    if y is None:
        y = _draw(problem, kernel)
        _CACHE.put(_key(problem), y)
    return _frozen(problem, grid, kernel, y)


# Peak resident memory per entry of K across gradviz's processes (numpy sample and its
# SVD, TensorFlow's K, inverse, folded graph constants per dtype), measured here at
# n = 1000-2000 as 90-225 bytes; rounded up for safety.
BYTES_PER_ENTRY = 250


# Seconds per n^3 from a new problem to its first complete panel (the sample's SVD, both
# dtypes' factors, graphs and traces), measured here at n = 2000 and rounded up.
FIRST_PANEL_S_PER_N3 = 1.2e-9


def estimated_seconds(problem: Problem) -> float:
    """Roughly how long a new problem takes to its first complete panel, on this machine
    kind; the window says so before starting anything that takes long."""
    return FIRST_PANEL_S_PER_N3 * problem.n**3


def estimated_bytes(problem: Problem) -> int:
    """Memory a problem of this size needs, before anything is allocated."""
    return BYTES_PER_ENTRY * problem.n * problem.n


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux); None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_fits_memory(problem: Problem, available: int | None = None) -> None:
    """Refuse a problem that would not fit in memory, naming n and what fits here."""
    available = available_bytes() if available is None else available
    if available is None or estimated_bytes(problem) <= available:
        return
    largest = int((available / BYTES_PER_ENTRY) ** 0.5)
    need = f"n = {problem.n} needs about {estimated_bytes(problem) / 2**30:.1f} GiB"
    have = f"{available / 2**30:.1f} GiB is available"
    fits = f"at most {largest}" if largest >= 2 else "smaller, but no n fits"
    raise ProblemError("n", problem.n, f"{fits} on this machine ({need}, {have})")
