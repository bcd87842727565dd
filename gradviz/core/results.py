"""Immutable result records shared by the core, the worker, the CLI and the GUI.

They carry plain Python floats (never numpy or TensorFlow scalars) so they
pickle across processes and serialise to JSON as they are. ``None`` means "does
not exist" (a failed cell has no gradient); it is never a stand-in for zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gradviz.core.problem import Problem

DTYPES: tuple[str, ...] = ("float32", "float64")

PATHS: tuple[str, ...] = (
    "seed_optimizer",
    "seed_gradients",
    "tape",
    "function",
    "forward",
    "closed_form",
    "central_difference",
)

PATH_HELP: dict[str, str] = {
    "seed_optimizer": "The seed's AdamOptimizer().compute_gradients in a tf.compat.v1 graph and "
    "Session; it returns (gradient, x) as the seed prints it.",
    "seed_gradients": "The seed's tf.gradients in the same v1 graph, from its own call of "
    "expectation(x).",
    "tape": "TF2 eager reverse mode: tf.GradientTape around k(x) and the cached solve.",
    "function": "tf.function graph (grappler-optimised), traced once per problem and dtype.",
    "forward": "Forward mode: tf.autodiff.ForwardAccumulator pushes dx = 1 through mu(x).",
    "closed_form": "The analytic derivative sum_i -(x - p_i) / l^2 k_i(x) alpha_i, "
    "evaluated in TensorFlow.",
    "central_difference": "(mu(x + h) - mu(x - h)) / 2h with h = cbrt(eps) max(1, |x|), "
    "no autodiff at all.",
}


@dataclass(frozen=True)
class Cell:
    """One path in one dtype at one x: mu and d mu/dx, or the reason it failed."""

    path: str
    dtype: str
    mu: float | None
    grad: float | None
    error: str | None = None
    extra: Mapping[str, float] = field(default_factory=dict)

    @property
    def status(self) -> Literal["ok", "error"]:
        return "error" if self.error is not None else "ok"


@dataclass(frozen=True)
class ProbeResult:
    """Every path in every dtype at one probe x."""

    problem: Problem
    x: float
    cells: tuple[Cell, ...]

    def cell(self, path: str, dtype: str) -> Cell:
        for cell in self.cells:
            if cell.path == path and cell.dtype == dtype:
                return cell
        raise KeyError((path, dtype))


@dataclass(frozen=True)
class Ball:
    """A rigorous enclosure ``[mid - radius, mid + radius]`` of a real number."""

    mid: float
    radius: float


@dataclass(frozen=True)
class Limit:
    """The reference of the same problem with a small jitter added (jitter -> 0 proxy)."""

    jitter: float
    mu: Ball
    grad: Ball


@dataclass(frozen=True)
class Reference:
    """Ball-arithmetic value of mu and mu' at x, or why it could not be certified."""

    status: Literal["exact", "undetermined"]
    mu: Ball | None = None
    grad: Ball | None = None
    precision_bits: int | None = None
    reason: str | None = None
    limit: Limit | None = None


@dataclass(frozen=True)
class Diagnosis:
    """What the numbers mean: conditioning, digits carried and digits correct.

    The condition number is None while it is still being computed.
    """

    condition_number: float | None
    condition_saturated: bool | None
    carried_digits: Mapping[str, float]
    correct_digits: Mapping[tuple[str, str], float | None]
    verdicts: Mapping[str, str]


@dataclass(frozen=True, eq=False)
class Curves:
    """mu and d mu/dx of the ``function`` path on a grid of x, per dtype.

    ``errors[dtype]`` holds the reason when that dtype could not be evaluated;
    its arrays are then NaN so plots show a gap rather than a made-up line.
    """

    problem: Problem
    x: np.ndarray  # [m]
    mu: Mapping[str, np.ndarray]  # dtype -> [m]
    grad: Mapping[str, np.ndarray]  # dtype -> [m]
    gap: np.ndarray  # [m], log10 |grad float32 - grad float64|; -inf where they agree exactly
    errors: Mapping[str, str | None]


@dataclass(frozen=True)
class ProbeReport:
    """What the panel shows for one x: every cell, the reference as far as it is
    known, and the diagnosis of the two together.

    ``reference`` is None while it is pending or when it is off or failed;
    ``reference_note`` says which, in words (e.g. "reference: 256 bits..." or
    "reference off"), and ``reference_pending`` is true while it may still come.
    """

    result: ProbeResult
    reference: Reference | None
    reference_note: str
    diagnosis: Diagnosis
    reference_pending: bool = False


@dataclass(frozen=True, eq=False)
class ReferenceCurve:
    """The reference over a grid of x: float64 midpoints of the balls and their radii.

    When the exact problem is undetermined this is its jitter limit (``is_limit``), and
    ``jitter`` is the limit's; otherwise ``jitter`` is the problem's own. ``complete``
    is False for the coarse first pass that precedes the full grid.
    """

    problem: Problem
    x: np.ndarray  # [m]
    mu: np.ndarray  # [m]
    mu_radius: np.ndarray  # [m]
    grad: np.ndarray  # [m]
    grad_radius: np.ndarray  # [m]
    jitter: float
    is_limit: bool
    complete: bool
