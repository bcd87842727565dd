"""What the compute scheduler asks its driver to do: start, stop, pause or message a
process, or hand a record to the window. Plain records, so the scheduler's decisions are
tested as lists of them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gradviz.core.numerics.results import Curves, PrecisionCurves, ProbeReport, ReferenceCurve
from gradviz.core.problem.spec import Problem
from gradviz.worker.messages import (
    DataReady,
    Failure,
    LoadData,
    PathsRequest,
    Progress,
    ReferenceRequest,
)


class Role(StrEnum):
    """The two compute processes."""

    PATHS = "paths"
    PROBLEM = "problem"


@dataclass(frozen=True)
class StartPaths:
    """Start the TensorFlow process (``services.serve_paths``)."""


@dataclass(frozen=True)
class StartProblem:
    """Start the process of ``problem`` (``services.serve_problem``); no reference when
    ``budget_s`` is None."""

    problem: Problem
    budget_s: float | None


@dataclass(frozen=True)
class Stop:
    role: Role


@dataclass(frozen=True)
class Pause:
    """Stop (``paused``) or continue a process: background work yields to a drag."""

    role: Role
    paused: bool


@dataclass(frozen=True)
class Send:
    role: Role
    message: LoadData | PathsRequest | ReferenceRequest


WindowRecord = (
    DataReady | Progress | Failure | ProbeReport | Curves | ReferenceCurve | PrecisionCurves
)


@dataclass(frozen=True)
class Emit:
    """A record for the window."""

    record: WindowRecord


Action = StartPaths | StartProblem | Stop | Pause | Send | Emit
