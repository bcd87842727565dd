"""Every message between the worker thread and its two compute processes, as types.

Two processes, each with one role (see ``services.py`` for why they are processes):

- the **paths** service holds TensorFlow and evaluates the seven gradient paths;
- the **problem** service draws one problem's sample, measures cond(K + jitter I) and
  solves the ball-arithmetic reference. It is started for one problem and ended when
  the problem changes.

The worker's own records for the window (``DataReady``, ``Progress``, ``Failure``) close
the file. Every reply names what it answers (its problem, its x), so the worker can drop a reply
that is no longer wanted. Both ends dispatch with ``match``; a message of another type
is logged as an error, never silently dropped. The records pickle across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradviz.core.analysis.diagnosis import Conditioning
from gradviz.core.numerics.results import Curves, ProbeResult, Reference, ReferenceCurve
from gradviz.core.problem.spec import Problem

# --- worker -> paths service ---------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LoadData:
    """The problem's sample, drawn by the problem service; later requests use it."""

    problem: Problem
    y: np.ndarray  # [n]


@dataclass(frozen=True)
class ProbeRequest:
    """Every path in both dtypes at one x."""

    problem: Problem
    x: float


@dataclass(frozen=True)
class CurvesRequest:
    """The curve path over the curve grid, both dtypes."""

    problem: Problem


PathsRequest = ProbeRequest | CurvesRequest

# --- paths service -> worker ---------------------------------------------------------


@dataclass(frozen=True)
class PathsReady:
    """TensorFlow is imported and warm."""

    import_s: float


@dataclass(frozen=True)
class ProbeDone:
    result: ProbeResult


@dataclass(frozen=True)
class CurvesDone:
    curves: Curves


@dataclass(frozen=True)
class PathsFailed:
    """A request raised instead of answering; ``detail`` is one line."""

    request: PathsRequest
    detail: str


PathsReply = PathsReady | ProbeDone | CurvesDone | PathsFailed

# --- worker -> problem service -------------------------------------------------------


@dataclass(frozen=True)
class ReferenceRequest:
    """The reference at one x, once the solve is done."""

    x: float


# --- problem service -> worker -------------------------------------------------------
# Each names its problem: one that arrives after the problem changed is dropped.


@dataclass(frozen=True, eq=False)
class Sampled:
    """The problem's grid and sample y."""

    problem: Problem
    grid: np.ndarray  # [n]
    y: np.ndarray  # [n]


@dataclass(frozen=True)
class Conditioned:
    problem: Problem
    conditioning: Conditioning


@dataclass(frozen=True)
class ReferenceProgress:
    """What the reference solve is doing, in words."""

    problem: Problem
    text: str


@dataclass(frozen=True)
class ReferenceSolved:
    """The solve is done; references at x can be asked for."""

    problem: Problem


@dataclass(frozen=True)
class ReferenceDone:
    problem: Problem
    x: float
    reference: Reference


ProblemStage = Literal["sample", "reference"]


@dataclass(frozen=True)
class ReferenceCurveDone:
    """The reference over the curve grid: a coarse pass first, then the full grid."""

    problem: Problem
    curve: ReferenceCurve


@dataclass(frozen=True)
class ProblemFailed:
    """A stage of the problem service raised; ``detail`` is one line."""

    problem: Problem
    stage: ProblemStage
    detail: str


ProblemReply = (
    Sampled
    | Conditioned
    | ReferenceProgress
    | ReferenceSolved
    | ReferenceDone
    | ReferenceCurveDone
    | ProblemFailed
)

# --- worker -> window ----------------------------------------------------------------

Task = Literal["tensorflow", "data", "curves", "reference"]


@dataclass(frozen=True, eq=False)
class DataReady:
    """The sample of a problem, for the data plot."""

    problem: Problem
    grid: np.ndarray  # [n]
    y: np.ndarray  # [n]


@dataclass(frozen=True)
class Progress:
    """A background task's state in words; ``busy`` while it runs. ``retry`` is true when
    the task is stopped after repeated failures and the window should offer Retry."""

    task: Task
    message: str
    busy: bool
    retry: bool = False


@dataclass(frozen=True)
class Failure:
    """Something the user should hear about once (a crash, a restart, a failed request)."""

    message: str
