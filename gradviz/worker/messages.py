"""Every message between the worker thread and its two compute processes, as types.

Two processes, each with one role (see ``services.py`` for why they are processes):

- the **paths** service holds TensorFlow and evaluates the seven gradient paths;
- the **problem** service draws one problem's sample, measures cond(K + jitter I) and
  solves the ball-arithmetic reference. It is started for one problem and ended when
  the problem changes.

The jitter and step sweeps of the Sweeps tab run in a third process of their own
(``sweep_service.py``), answering ``SweepRequest``. The worker's own records for the window
(``DataReady``, ``Progress``, ``Failure``, ``SweepNote``, ``SweepResult``) close the file.
Every reply names what it answers (its problem and x, or its request's serial), so the
worker can drop a reply that is no longer wanted. Both ends dispatch with ``match`` over
these types; a message of another type is logged as an error, never silently dropped
(``child.Child.receive``). The records pickle across processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradviz.core.analysis.advice import Advice
from gradviz.core.analysis.diagnosis import Conditioning
from gradviz.core.analysis.sweep import JitterSweep, StepSweep
from gradviz.core.numerics.results import Curves, ProbeResult, Reference, ReferenceCurve
from gradviz.core.problem.spec import SOLVERS, Problem, Solver

# --- worker -> paths service ---------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LoadData:
    """The problem's sample, drawn by the problem service; later requests use it."""

    problem: Problem
    y: np.ndarray  # [n]


@dataclass(frozen=True)
class ProbeRequest:
    """Every path in both dtypes at one x; with ``spread``, also the spread of equivalent
    programs (left out while the probe is dragged: only the paths run then)."""

    problem: Problem
    x: float
    spread: bool = True


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

# --- sweep worker <-> sweep service -------------------------------------------------
# Every reply names the request (``serial``) it answers: a superseded request's are dropped.

SWEEP_BUDGET_S = 30.0


@dataclass(frozen=True)
class SweepRequest:
    """The jitter sweep of ``problem`` at ``x`` (its own jitter included), the measured
    advice read from it, then the step sweep; without ``full``, only the measured advice
    on its lighter grid (``gradviz.core.analysis.advice``), for the answer."""

    serial: int
    problem: Problem
    x: float
    solvers: tuple[Solver, ...] = SOLVERS
    budget_s: float = SWEEP_BUDGET_S
    full: bool = True


@dataclass(frozen=True)
class SweepProgress:
    """What the sweep is doing, in words."""

    serial: int
    text: str


@dataclass(frozen=True)
class SweepPartial:
    """The jitter sweep so far: provisional (see ``SweepDone``)."""

    serial: int
    sweep: JitterSweep


@dataclass(frozen=True)
class SweepStepDone:
    """The step sweep; it follows the jitter sweep's references."""

    serial: int
    sweep: StepSweep


@dataclass(frozen=True)
class SweepDone:
    """The complete jitter sweep: its digits are measured against the final jitter-free
    answer, so only these are final."""

    serial: int
    sweep: JitterSweep


@dataclass(frozen=True)
class AdviceDone:
    """The measured advice for the request's problem and x (final)."""

    serial: int
    advice: Advice


@dataclass(frozen=True)
class SweepFailed:
    """The sweep raised; ``detail`` is one line."""

    serial: int
    detail: str


SweepReply = SweepProgress | SweepPartial | SweepStepDone | SweepDone | AdviceDone | SweepFailed

# What a child process is sent, and what it may answer (``child.Child`` checks the type).
ChildRequest = LoadData | PathsRequest | ReferenceRequest | SweepRequest
ChildReply = PathsReply | ProblemReply | SweepReply

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


@dataclass(frozen=True)
class SweepResult:
    """The jitter sweep so far (``final`` False: provisional) or complete (``final``)."""

    sweep: JitterSweep
    final: bool


SweepPhase = Literal["running", "done", "failed", "cancelled", "waiting"]


@dataclass(frozen=True)
class SweepNote:
    """The sweep of ``problem`` at ``x`` in words: running (``text`` says what), failed,
    cancelled, or waiting to restart its process (``retry``: after repeated failures, until
    the user asks). ``restarted`` when its process was replaced and its partial results
    are gone. ``advice_only`` when the request measured only the advice (the Sweeps tab
    has nothing to show for it)."""

    problem: Problem
    x: float
    phase: SweepPhase
    text: str
    retry: bool = False
    restarted: bool = False
    advice_only: bool = False
