"""The worker's decisions, with no Qt, no pipes and no processes: events in, actions out.

The driver (``compute_worker.py``) owns the pipes and the clock. It tells the
:class:`Scheduler` what happened (a request from the window, a message or an exit of a
compute process, time passing) and carries out the actions it gets back: start or stop a
process, send it a message, or hand a record to the window. Everything the worker
decides lives here, so it is tested by feeding events, without TensorFlow:

- **latest request wins**: only the newest (problem, x) is worked on; answers for
  anything else are dropped, and a request for an old problem that has already run
  ``ABANDON_AFTER_S`` is abandoned by restarting the paths process;
- **one request in flight per process**: after a probe, the curves of a new problem
  go next, so a drag cannot starve them;
- **watchdog**: a process that stays silent past a deadline that scales with its work
  (ten times the last measured time of that kind of request, with a floor) is killed
  and restarted, and the window is told why;
- **crashes**: a process that dies at any stage is restarted for the current request;
  after ``MAX_CRASHES`` failures in a row the scheduler backs off (``backoff_s``) and
  offers Retry, and a new problem or a Retry starts it again at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from gradviz.core.analysis.diagnosis import Conditioning, diagnose, precision_curves
from gradviz.core.numerics.results import (
    Curves,
    PrecisionCurves,
    ProbeReport,
    ProbeResult,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.data import check_fits_memory
from gradviz.core.problem.spec import Problem, ProblemError
from gradviz.worker.messages import (
    Conditioned,
    CurvesDone,
    CurvesRequest,
    DataReady,
    Failure,
    LoadData,
    PathsFailed,
    PathsReady,
    PathsReply,
    PathsRequest,
    ProbeDone,
    ProbeRequest,
    ProblemFailed,
    ProblemReply,
    Progress,
    ReferenceCurveDone,
    ReferenceDone,
    ReferenceProgress,
    ReferenceRequest,
    ReferenceSolved,
    Sampled,
    Task,
)

log = logging.getLogger(__name__)

ABANDON_AFTER_S = 2.0
MAX_CRASHES = 3
REFERENCES_KEPT = 256
# Watchdog deadlines. A warm request (its problem already built) gets ten times the last
# measured time of its kind, at least WARM_FLOOR_S. The first request of a problem builds
# K, its factor, graphs and traces: COLD_FLOOR_S plus an O(n^3) allowance.
WARM_FLOOR_S = 5.0
COLD_FLOOR_S = 60.0
COLD_S_PER_N3 = 1e-8
# The problem process draws an SVD (~3.5e-10 n^3 s here), then eigenvalues, then a
# reference whose steps each stay within the budget: it may stay silent this long.
SILENT_FLOOR_S = 30.0
SAMPLE_S_PER_N3 = 3.5e-10
WATCHDOG_FACTOR = 10.0
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 60.0


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


Action = StartPaths | StartProblem | Stop | Send | Emit


def backoff_s(crashes: int) -> float:
    """Seconds to wait before restarting a process that failed ``crashes`` times in a row."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** max(0, crashes - MAX_CRASHES))


@dataclass(frozen=True)
class _InFlight:
    request: PathsRequest
    sent_at: float
    cold: bool


@dataclass
class _Restarts:
    """Consecutive failures of one process and, while backing off, when to try again."""

    crashes: int = 0
    retry_at: float | None = None


@dataclass
class _PathsState:
    running: bool = False
    ready: bool = False
    data_for: Problem | None = None
    in_flight: _InFlight | None = None
    last_sent: type | None = None
    restarts: _Restarts = field(default_factory=_Restarts)


@dataclass
class _ProblemState:
    """The current problem's process: its sample, cond(K), reference."""

    running: bool = False
    note: str = ""
    last_heard: float = 0.0
    solved: bool = False
    done: bool = False  # it reported a failure and has nothing more to give
    in_flight: float | None = None  # the x being evaluated
    conditioning: Conditioning | None = None
    restarts: _Restarts = field(default_factory=_Restarts)


class Scheduler:
    """What the worker does next, for one window. Not thread-safe: one driver calls it.

    Every public method takes the current monotonic time and returns the actions to
    carry out, in order.
    """

    def __init__(
        self,
        budget_s: float | None,
        fits_memory: Callable[[Problem], None] = check_fits_memory,
    ) -> None:
        self._budget_s = budget_s
        self._fits_memory = fits_memory
        self._actions: list[Action] = []
        self._problem: Problem | None = None
        self._x: float | None = None
        self._problem_error: str | None = None
        self._y: np.ndarray | None = None
        self._paths = _PathsState()
        self._reference = _ProblemState()
        self._references: dict[float, Reference] = {}
        self._result: ProbeResult | None = None
        self._probed: tuple[Problem, float] | None = None
        self._curves_for: Problem | None = None
        self._curves: Curves | None = None
        self._reference_curve: ReferenceCurve | None = None
        self._warm: set[Problem] = set()
        self._took: dict[type, float] = {}

    # --- events ------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The worker starts: load TensorFlow while the window paints."""
        self._start_paths(now, why="")
        return self._flush(now)

    def request(self, problem: Problem, x: float, now: float) -> list[Action]:
        """The window wants ``problem`` at ``x``; replaces every earlier request."""
        if problem != self._problem:
            self._switch_problem(problem, now)
        self._x = x
        return self._flush(now)

    def paths_message(self, message: PathsReply, now: float) -> list[Action]:
        paths = self._paths
        match message:
            case PathsReady(import_s=seconds):
                paths.ready = True
                self._progress("tensorflow", f"TensorFlow ready ({seconds:.1f} s)", busy=False)
            case ProbeDone(result=result):
                self._answered(now)
                if result.problem == self._problem:
                    self._result = result
                    self._emit_report()
            case CurvesDone(curves=curves):
                self._answered(now)
                self._progress("curves", "", busy=False)
                if curves.problem == self._problem:
                    self._curves = curves
                    self._emit(curves)
                    self._emit_precision()
            case PathsFailed(request=request, detail=detail):
                paths.in_flight = None
                self._progress("curves", "", busy=False)
                self._emit(Failure(f"{_kind(request)} failed: {detail}"))
            case _:
                log.error("unknown message from the paths process: %r", message)
        return self._flush(now)

    def paths_exited(self, code: int | None, now: float) -> list[Action]:
        """The TensorFlow process is gone (crashed, killed, or its pipe broke)."""
        self._paths.restarts.crashes += 1
        self._emit(Failure(f"the TensorFlow process exited (code {code}); restarting it"))
        self._restart_paths(now, f"exit code {code}")
        return self._flush(now)

    def problem_message(self, message: ProblemReply, now: float) -> list[Action]:
        state = self._reference
        if getattr(message, "problem", self._problem) != self._problem:
            return self._flush(now)  # sent before the problem changed
        state.last_heard = now
        match message:
            case Sampled(problem=problem, grid=grid, y=y):
                self._y = y
                self._progress("data", "", busy=False)
                self._emit(DataReady(problem, grid, y))
                if self._budget_s is not None:
                    self._progress("reference", "Reference: starting…", busy=True)
            case Conditioned(conditioning=conditioning):
                state.conditioning = conditioning
                self._emit_precision()
            case ReferenceProgress(text=text):
                state.note = text
                self._progress("reference", text, busy=True)
            case ReferenceSolved():
                state.solved = True
                state.note = ""
                state.restarts = _Restarts()
                self._progress("reference", "", busy=False)
            case ReferenceDone(x=x, reference=reference):
                state.in_flight = None
                if len(self._references) >= REFERENCES_KEPT:
                    self._references.clear()
                self._references[x] = reference
                if self._result is None or self._result.x != x:
                    # Usually the new x's reference, ahead of its probe: that probe's
                    # report will carry it. Re-sending the shown x's report would cost
                    # the window a repaint per drag step for nothing.
                    return self._flush(now)
            case ReferenceCurveDone(curve=curve):
                self._reference_curve = curve
                self._emit(curve)
                self._emit_precision()
                return self._flush(now)  # nothing in the probe's report changed
            case ProblemFailed(stage="sample", detail=detail):
                self._stop_problem_process(finished=True)
                self._fail_problem(f"could not sample the data: {detail}")
            case ProblemFailed(detail=detail):
                self._stop_problem_process(finished=True)
                state.note = f"reference failed: {detail}"
                self._progress("reference", "", busy=False)
            case _:
                log.error("unknown message from the problem process: %r", message)
        self._emit_report()
        return self._flush(now)

    def problem_exited(self, code: int | None, now: float) -> list[Action]:
        """The problem process is gone before it finished: start it again."""
        state = self._reference
        state.running = False
        state.restarts.crashes += 1
        why = f"process ended (code {code})"
        self._emit(Failure(f"the problem process ended (code {code}); restarting it"))
        self._restart_problem(now, why)
        return self._flush(now)

    def tick(self, now: float) -> list[Action]:
        """Time passed: deadlines and back-offs are checked."""
        return self._flush(now)

    def retry(self, now: float) -> list[Action]:
        """The user asked to try again now: restart whatever is backing off."""
        if not self._paths.running:
            self._paths.restarts.retry_at = now
            self._start_paths(now, why="retry")
        if self._problem is not None and not self._reference.running and not self._done():
            self._reference.restarts.retry_at = now
            self._start_problem(now)
        return self._flush(now)

    def next_deadline(self) -> float | None:
        """The monotonic time at which :meth:`tick` has something to check, if any."""
        times = [
            self._paths.restarts.retry_at,
            self._reference.restarts.retry_at,
            self._paths_deadline(),
            self._problem_deadline(),
        ]
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    # --- what to do next ---------------------------------------------------------------

    def _flush(self, now: float) -> list[Action]:
        self._check_processes(now)
        self._dispatch(now)
        actions, self._actions = self._actions, []
        return actions

    def _check_processes(self, now: float) -> None:
        """Back-offs that ended, requests for an old problem, and silent processes."""
        paths, state = self._paths, self._reference
        if not paths.running and _due(paths.restarts.retry_at, now):
            self._start_paths(now, why="retry")
        restart_problem = self._problem is not None and not state.running and not self._done()
        if restart_problem and _due(state.restarts.retry_at, now):
            self._start_problem(now)
        flight = paths.in_flight
        if flight is not None and flight.request.problem != self._problem:
            if now - flight.sent_at > ABANDON_AFTER_S:
                self._restart_paths(now, f"abandoned a stale {_kind(flight.request)}")
        elif _due(self._paths_deadline(), now):
            paths.restarts.crashes += 1
            limit = self._paths_limit()
            self._emit(Failure(f"TensorFlow did not answer within {limit:.0f} s; restarting it"))
            self._restart_paths(now, f"no answer within {limit:.0f} s")
        if _due(self._problem_deadline(), now):
            state.restarts.crashes += 1
            limit = self._silent_limit()
            self._emit(Failure(f"the problem process was silent for {limit:.0f} s; restarting it"))
            self._stop_problem_process(finished=False)
            self._restart_problem(now, f"silent for {limit:.0f} s")

    def _dispatch(self, now: float) -> None:
        if self._problem is None or self._x is None or self._problem_error is not None:
            return
        if self._y is not None:
            self._dispatch_paths(now)
        self._dispatch_reference(now)

    def _dispatch_paths(self, now: float) -> None:
        paths, problem, x = self._paths, self._problem, self._x
        if not paths.running or not paths.ready or paths.in_flight is not None:
            return
        assert problem is not None and x is not None and self._y is not None
        if paths.data_for != problem:
            self._actions.append(Send(Role.PATHS, LoadData(problem, self._y)))
            paths.data_for = problem
        probe_wanted = self._probed != (problem, x)
        curves_wanted = self._curves_for != problem
        if curves_wanted and (not probe_wanted or paths.last_sent is ProbeRequest):
            self._curves_for = problem
            self._send_paths(CurvesRequest(problem), now)
            self._progress("curves", "Computing curves…", busy=True)
        elif probe_wanted:
            self._probed = (problem, x)
            self._send_paths(ProbeRequest(problem, x), now)

    def _send_paths(self, request: PathsRequest, now: float) -> None:
        cold = request.problem not in self._warm
        self._paths.in_flight = _InFlight(request, now, cold)
        self._paths.last_sent = type(request)
        self._actions.append(Send(Role.PATHS, request))

    def _dispatch_reference(self, now: float) -> None:
        state, x = self._reference, self._x
        if not state.running or not state.solved or state.in_flight is not None or x is None:
            return
        if x not in self._references:
            state.in_flight = x
            state.last_heard = now
            self._actions.append(Send(Role.PROBLEM, ReferenceRequest(x)))

    # --- the paths process -------------------------------------------------------------

    def _answered(self, now: float) -> None:
        """A request came back: remember how long it took, and that its problem is built."""
        paths = self._paths
        flight = paths.in_flight
        paths.in_flight = None
        paths.restarts = _Restarts()
        if flight is None:
            return
        if not flight.cold:
            self._took[type(flight.request)] = now - flight.sent_at
        if len(self._warm) > 8:
            self._warm.clear()
        self._warm.add(flight.request.problem)

    def _paths_limit(self) -> float:
        flight = self._paths.in_flight
        if flight is None:
            return math.inf
        if flight.cold:
            return COLD_FLOOR_S + COLD_S_PER_N3 * flight.request.problem.n**3
        took = self._took.get(type(flight.request), 0.0)
        return max(WARM_FLOOR_S, WATCHDOG_FACTOR * took)

    def _paths_deadline(self) -> float | None:
        flight = self._paths.in_flight
        return None if flight is None else flight.sent_at + self._paths_limit()

    def _restart_paths(self, now: float, why: str) -> None:
        self._actions.append(Stop(Role.PATHS))
        self._probed, self._curves_for = None, None
        self._paths = _PathsState(restarts=self._paths.restarts)
        self._start_paths(now, why)

    def _start_paths(self, now: float, why: str) -> None:
        """Start TensorFlow unless it keeps failing: then back off and offer Retry."""
        restarts = self._paths.restarts
        if restarts.crashes >= MAX_CRASHES and not _due(restarts.retry_at, now):
            if restarts.retry_at is None:
                wait = backoff_s(restarts.crashes)
                restarts.retry_at = now + wait
                self._progress(
                    "tensorflow",
                    f"TensorFlow failed {restarts.crashes} times in a row (last: {why}); "
                    f"retrying in {wait:.0f} s",
                    busy=False,
                    retry=True,
                )
            return
        restarts.retry_at = None
        self._warm.clear()  # a new process has built nothing yet
        self._paths = _PathsState(running=True, restarts=restarts)
        self._actions.append(StartPaths())
        message = f"Restarting TensorFlow ({why})…" if why else "Loading TensorFlow…"
        self._progress("tensorflow", message, busy=True)

    # --- the problem process -----------------------------------------------------------

    def _switch_problem(self, problem: Problem, now: float) -> None:
        """Forget the old problem's results, end its process, start the new one's."""
        self._problem = problem
        self._y = None
        self._result, self._probed, self._curves_for = None, None, None
        self._curves, self._reference_curve = None, None
        self._references.clear()
        self._stop_problem_process(finished=False)
        self._reference = _ProblemState()
        self._problem_error = None
        self._progress("curves", "", busy=False)
        try:
            self._fits_memory(problem)
        except ProblemError as error:
            self._progress("reference", "", busy=False)
            self._fail_problem(str(error))
            return
        if not self._paths.running:  # a new problem is worth a new try at once
            self._paths.restarts.retry_at = now
            self._start_paths(now, why="new problem")
        self._start_problem(now)

    def _start_problem(self, now: float) -> None:
        state, problem = self._reference, self._problem
        assert problem is not None
        restarts = state.restarts
        if restarts.crashes >= MAX_CRASHES and not _due(restarts.retry_at, now):
            if restarts.retry_at is None:
                wait = backoff_s(restarts.crashes)
                restarts.retry_at = now + wait
                state.note = f"reference: process failed {restarts.crashes} times"
                self._progress(
                    "data",
                    f"The problem process failed {restarts.crashes} times in a row; "
                    f"retrying in {wait:.0f} s",
                    busy=False,
                    retry=True,
                )
            return
        restarts.retry_at = None
        state.running, state.last_heard = True, now
        state.solved, state.in_flight = False, None
        state.note = "reference: starting…" if self._budget_s is not None else "reference off"
        self._actions.append(StartProblem(problem, self._budget_s))
        if self._y is None:
            self._progress("data", f"Sampling the data (n = {problem.n})…", busy=True)

    def _restart_problem(self, now: float, why: str) -> None:
        self._reference.note = f"reference: restarting ({why})"
        self._start_problem(now)

    def _stop_problem_process(self, finished: bool) -> None:
        """End the problem process; ``finished`` when it has nothing more to give."""
        if self._reference.running:
            self._actions.append(Stop(Role.PROBLEM))
        self._reference.running = False
        self._reference.done = finished

    def _done(self) -> bool:
        """The current problem's process reported a failure, or the problem itself is
        refused: there is nothing to restart."""
        return self._problem_error is not None or self._reference.done

    def _silent_limit(self) -> float:
        n = 0 if self._problem is None else self._problem.n
        limits = [SILENT_FLOOR_S, WATCHDOG_FACTOR * SAMPLE_S_PER_N3 * n**3]
        if self._budget_s is not None:
            limits.append(3 * self._budget_s)
        return max(limits)

    def _problem_deadline(self) -> float | None:
        """While the problem process owes something (a sample, cond, a solve, an x)."""
        state = self._reference
        if not state.running:
            return None
        owes = (
            self._y is None
            or state.conditioning is None
            or (self._budget_s is not None and not state.solved)
            or state.in_flight is not None
        )
        return state.last_heard + self._silent_limit() if owes else None

    def _fail_problem(self, message: str) -> None:
        self._problem_error = message
        self._progress("data", "", busy=False)
        self._emit(Failure(message))

    # --- records for the window --------------------------------------------------------

    def _emit(self, record: WindowRecord) -> None:
        self._actions.append(Emit(record))

    def _progress(self, task: Task, message: str, busy: bool, retry: bool = False) -> None:
        self._emit(Progress(task, message, busy, retry))

    def _emit_report(self) -> None:
        result = self._result
        if result is None:
            return
        reference = self._references.get(result.x)
        state = self._reference
        note = "" if reference is not None else state.note or "reference: pending…"
        pending = reference is None and state.running and self._budget_s is not None
        diagnosis = diagnose(result, reference, state.conditioning, reference_pending=pending)
        self._emit(ProbeReport(result, reference, note, diagnosis, pending))

    def _emit_precision(self) -> None:
        """Correct digits over x, once the curves and the reference curve are both in."""
        curves, reference = self._curves, self._reference_curve
        if curves is None or reference is None:
            return
        self._emit(precision_curves(curves, reference, self._reference.conditioning))


def _due(at: float | None, now: float) -> bool:
    return at is not None and now >= at


def _kind(request: PathsRequest) -> str:
    return "probe" if isinstance(request, ProbeRequest) else "curves"
