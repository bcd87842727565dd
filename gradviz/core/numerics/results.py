"""Immutable result records shared by the core, the worker, the CLI and the GUI.

They carry plain Python floats (never numpy or TensorFlow scalars) so they
pickle across processes and serialise to JSON as they are. ``None`` means "does
not exist" (a failed cell has no gradient); it is never a stand-in for zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, get_args

import numpy as np

from gradviz.core.problem.spec import Problem

DType = Literal["float32", "float64"]
DTYPES: tuple[DType, ...] = get_args(DType)

PathName = Literal[
    "seed_optimizer",
    "seed_gradients",
    "tape",
    "function",
    "forward",
    "closed_form",
    "central_difference",
]


@dataclass(frozen=True)
class ExtraSpec:
    """A number a path returns beside mu and d mu/dx, kept in :attr:`Cell.extra` under ``key``.

    ``meaning`` is its tooltip text. With ``printed_with_grad`` the cell also shows
    ``(grad, value)`` as the seed prints it; otherwise ``meaning = value``.
    """

    key: str
    meaning: str
    printed_with_grad: bool = False


@dataclass(frozen=True)
class PathSpec:
    """One gradient path, declared once: every table, row and help text comes from here.

    How it is evaluated lives beside TensorFlow, in ``gradviz.core.numerics.paths.EVALUATORS``
    (one entry per spec, checked when that module is imported).
    """

    name: PathName
    label: str  # the row title in the panel and the CLI table
    help: str
    extras: tuple[ExtraSpec, ...] = ()
    curve: bool = False  # the path drawn over x in the plots (exactly one)


PATH_SPECS: tuple[PathSpec, ...] = (
    PathSpec(
        "seed_optimizer",
        "seed_optimizer",
        "The seed's AdamOptimizer().compute_gradients in a tf.compat.v1 graph and "
        "Session; it returns (gradient, x) as the seed prints it.",
        extras=(
            ExtraSpec(
                "x",
                "compute_gradients returns (gradient, x), printed as the seed does",
                printed_with_grad=True,
            ),
        ),
    ),
    PathSpec(
        "seed_gradients",
        "seed_gradients",
        "The seed's tf.gradients in the same v1 graph, from its own call of expectation(x).",
    ),
    PathSpec(
        "tape",
        "tape",
        "TF2 eager reverse mode: tf.GradientTape around k(x) and the cached solve.",
    ),
    PathSpec(
        "function",
        "function",
        "tf.function graph (grappler-optimised), traced once per problem and dtype.",
        curve=True,
    ),
    PathSpec(
        "forward",
        "forward",
        "Forward mode: tf.autodiff.ForwardAccumulator pushes dx = 1 through mu(x).",
    ),
    PathSpec(
        "closed_form",
        "closed_form",
        "The analytic derivative sum_i -(x - p_i) / l^2 k_i(x) alpha_i, evaluated in TensorFlow.",
    ),
    PathSpec(
        "central_difference",
        "central_difference",
        "(mu(x + h) - mu(x - h)) / 2h with h = cbrt(eps) max(1, |x|), no autodiff at all.",
        extras=(ExtraSpec("h", "step h"),),
    ),
)

PATHS: tuple[PathName, ...] = tuple(spec.name for spec in PATH_SPECS)
PATH_SPEC: Mapping[PathName, PathSpec] = {spec.name: spec for spec in PATH_SPECS}
(CURVE_PATH,) = (spec.name for spec in PATH_SPECS if spec.curve)
if set(PATHS) != set(get_args(PathName)) or len(PATHS) != len(PATH_SPEC):
    raise ImportError("PATH_SPECS must declare every PathName exactly once")


class FailureKind(StrEnum):
    """Why a cell has no number; the reason in words is the cell's ``error``."""

    CHOLESKY_NOT_PD = "cholesky_not_pd"  # K + jitter I is not positive definite at this dtype
    SINGULAR_INVERSE = "singular_inverse"  # the inverse or solve is singular or garbage
    NON_FINITE = "non_finite"  # the path returned NaN or Inf
    OUT_OF_MEMORY = "out_of_memory"
    TENSORFLOW_ERROR = "tensorflow_error"  # any other error TensorFlow raised
    TIMEOUT = "timeout"


# The kind in a few words, for the CLI table and the one-line answer.
FAILURE_WORDS: dict[FailureKind, str] = {
    FailureKind.CHOLESKY_NOT_PD: "not positive definite",
    FailureKind.SINGULAR_INVERSE: "singular K",
    FailureKind.NON_FINITE: "NaN or Inf",
    FailureKind.OUT_OF_MEMORY: "out of memory",
    FailureKind.TENSORFLOW_ERROR: "TensorFlow error",
    FailureKind.TIMEOUT: "timed out",
}


@dataclass(frozen=True)
class Cell:
    """One path in one dtype at one x: mu and d mu/dx, or why it failed.

    A failed cell has ``failure_kind`` and ``error`` (TensorFlow's one-line detail)
    and no numbers; a cell that worked has neither.
    """

    path: PathName
    dtype: DType
    mu: float | None
    grad: float | None
    error: str | None = None
    failure_kind: FailureKind | None = None
    extra: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.error is None) != (self.failure_kind is None):
            raise ValueError("a failed cell needs both error and failure_kind, a good one neither")

    @property
    def status(self) -> Literal["ok", "error"]:
        return "error" if self.error is not None else "ok"


# Above this n the spread's 16 extra solves per dtype cost more than everything else a new
# problem needs (16 inverses of 2000 x 2000 take ~8 s per dtype here): it is not computed.
SPREAD_MAX_N = 1000
# The spread's significant digits hold with this probability, at this confidence
# (significantdigits' Centered Normality Hypothesis over the copies).
SPREAD_PROBABILITY = 0.95
SPREAD_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Spread:
    """What equivalent programs print: d mu/dx over copies of the problem perturbed by one
    unit roundoff (``gradviz.core.numerics.paths``), as a range, a standard deviation and the
    significant digits that spread leaves (with probability SPREAD_PROBABILITY at
    confidence SPREAD_CONFIDENCE, by the significantdigits library), clamped to 0..17."""

    samples: int
    grad_min: float
    grad_max: float
    grad_mean: float
    grad_std: float
    significant_digits: float


@dataclass(frozen=True)
class ProbeResult:
    """Every path in every dtype at one probe x, and per dtype the spread of equivalent
    programs (None where it was not computed or every copy failed)."""

    problem: Problem
    x: float
    cells: tuple[Cell, ...]
    spread: Mapping[DType, Spread | None] = field(default_factory=dict)

    def cell(self, path: PathName, dtype: DType) -> Cell:
        for cell in self.cells:
            if cell.path == path and cell.dtype == dtype:
                return cell
        raise KeyError((path, dtype))


@dataclass(frozen=True)
class JitterGradient:
    """d mu/dx by the ``function`` path at one jitter, or why it failed (grad None)."""

    jitter: float
    grad: float | None
    failure_kind: FailureKind | None = None
    reason: str | None = None


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
    """Ball-arithmetic value of mu and mu' at x, or why it could not be certified.

    Where mu is not differentiable at x (a data point of the matern12 kernel) the status is
    undetermined, ``grad`` is None and ``one_sided`` holds the slopes from the left and from
    the right (``mu`` too, when K itself is certified).
    """

    status: Literal["exact", "undetermined"]
    mu: Ball | None = None
    grad: Ball | None = None
    precision_bits: int | None = None
    reason: str | None = None
    limit: Limit | None = None
    one_sided: tuple[Ball, Ball] | None = None


# What correct digits were counted against: the exact value, or (the exact answer being
# undetermined) its jitter limit.
DigitsAgainst = Literal["exact", "limit"]


class ReferenceState(StrEnum):
    """What a verdict could compare against."""

    NONE = "no_reference"  # off, or failed
    PENDING = "pending"  # still being computed
    UNDETERMINED = "undetermined"  # the exact problem has no certified answer
    NOT_DIFFERENTIABLE = "not_differentiable"  # mu has a kink at x: no slope exists
    EXACT = "exact"


@dataclass(frozen=True)
class Verdict:
    """What one dtype got right, as numbers; words are the reader's business
    (``gradviz.core.io.report.verdict_words``, the panel).

    ``digits_min``/``digits_max`` span the correct digits of the paths that produced a
    number (None when none could be checked). ``digits_left`` is the worst-case bound
    cond(K + jitter I) puts on the digits the dtype carries, ``max(0, carried - log10
    cond)``, exactly 0.0 when ``cond * eps >= 1``; None while cond is being computed. It
    is a bound, never advice: what to change is measured (``gradviz.core.analysis.advice``).
    """

    dtype: DType
    digits_min: float | None
    digits_max: float | None
    reference_state: ReferenceState
    condition_number: float | None
    condition_is_lower_bound: bool | None
    digits_left: float | None
    underflows: bool = False  # the true value is below the dtype's smallest number


@dataclass(frozen=True)
class Diagnosis:
    """What the numbers mean: conditioning, digits carried and digits correct.

    The condition number is None while it is still being computed. ``correct_digits``
    were counted against ``digits_against`` (None: nothing to count against); a cell is
    None where it has no number, nothing could be counted, or its dtype is in
    ``underflows`` (the true value is below the dtype's smallest number).
    """

    condition_number: float | None
    condition_saturated: bool | None
    carried_digits: Mapping[DType, float]
    correct_digits: Mapping[tuple[PathName, DType], float | None]
    verdicts: Mapping[DType, Verdict]
    digits_against: DigitsAgainst | None = None
    underflows: frozenset[DType] = frozenset()


@dataclass(frozen=True, eq=False)
class Curves:
    """The quantity's value (``mu``: mu(x), var(x) or LML(theta)) and derivative of the
    curve path (:data:`CURVE_PATH`) on a grid of probes, per dtype.

    ``errors[dtype]`` holds the reason when that dtype could not be evaluated;
    its arrays are then NaN so plots show a gap rather than a made-up line.
    """

    problem: Problem
    x: np.ndarray  # [m]
    mu: Mapping[DType, np.ndarray]  # dtype -> [m]
    grad: Mapping[DType, np.ndarray]  # dtype -> [m]
    errors: Mapping[DType, str | None]
    # dtype -> [m], the spread's significant digits over x (empty when not computed)
    spread_digits: Mapping[DType, np.ndarray] = field(default_factory=dict)
    # dtype -> [m], the posterior variance var(x) for the band around mu (the slopes in x
    # only; empty along an LML quantity's theta or when not computed); negative where
    # the dtype's arithmetic made it so
    variance: Mapping[DType, np.ndarray] = field(default_factory=dict)


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

    Where the exact problem is undetermined this is its jitter limit (``from_limit`` per
    x; ``is_limit`` when any x is, and ``jitter`` is then the limit's, otherwise the
    problem's own). NaN where no ball fixes the value. ``complete`` is False for the
    coarse first pass that precedes the full grid.
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
    from_limit: np.ndarray | None = None  # [m] bool; None: as is_limit at every x


@dataclass(frozen=True, eq=False)
class PrecisionCurves:
    """What the precision plot draws: correct digits of the curve path's d mu/dx over x
    per dtype against the reference curve (or its jitter limit), the digits each dtype
    carries, and what cond(K + jitter I) leaves of them (None while cond is unknown)."""

    problem: Problem
    x: np.ndarray  # [m]
    digits: Mapping[DType, np.ndarray]  # dtype -> [m], NaN where there is no value
    carried: Mapping[DType, float]
    left: Mapping[DType, float] | None
    reference_jitter: float
    is_limit: bool
