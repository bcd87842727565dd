"""The worker's decisions, with no Qt, no pipes and no processes: events in, actions out.

The driver (``compute_worker.py``) owns the pipes and the clock. It tells the
:class:`Scheduler` what happened (a request from the window, a drag, a message or an
exit of a compute process, time passing) and carries out the actions it gets back
(``actions.py``). Everything the worker decides lives here and in the two process
records it coordinates (``paths_process.py``, ``problem_process.py``), so it is tested by
feeding events, without TensorFlow:

- **latest request wins**: only the newest (problem, x) is worked on; answers for
  anything else are dropped, and a request for an old problem that has already run
  ``ABANDON_AFTER_S`` is abandoned by restarting the paths process;
- **one request in flight per process**: after a probe, the curves of a new problem
  go next, so a drag cannot starve them once it ends;
- **the drag comes first**: while the user drags, only the probe's paths run; the
  curves wait and the problem process (reference and reference curve) is paused once
  the sample is in, so the drag has the CPU; both resume on release;
- **watchdog** and **crashes**: see the process records and ``restarts.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from gradviz.core.analysis.diagnosis import diagnose, precision_curves
from gradviz.core.numerics.results import (
    Curves,
    ProbeReport,
    ProbeResult,
    Reference,
    ReferenceCurve,
)
from gradviz.core.problem.data import check_fits_memory
from gradviz.core.problem.spec import Problem, ProblemError
from gradviz.worker.actions import Action, Emit, Role, Send, WindowRecord
from gradviz.worker.messages import (
    Conditioned,
    CurvesDone,
    CurvesRequest,
    DataReady,
    Failure,
    PathsFailed,
    PathsReady,
    PathsReply,
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
from gradviz.worker.paths_process import PathsProcess, kind
from gradviz.worker.problem_process import ProblemProcess
from gradviz.worker.restarts import Restarts, due

log = logging.getLogger(__name__)

ABANDON_AFTER_S = 2.0
REFERENCES_KEPT = 256


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
        self._x: float | None = None
        self._problem_error: str | None = None
        self._dragging = False
        self._paths = PathsProcess(self._actions)
        self._reference: ProblemProcess | None = None
        self._references: dict[float, Reference] = {}
        self._result: ProbeResult | None = None
        self._probed: tuple[Problem, float, bool] | None = None  # problem, x, spread
        self._curves_for: Problem | None = None
        self._curves: Curves | None = None
        self._reference_curve: ReferenceCurve | None = None

    @property
    def _problem(self) -> Problem | None:
        return None if self._reference is None else self._reference.problem

    # --- events ------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The worker starts: load TensorFlow while the window paints."""
        self._paths.start(now, why="")
        return self._flush(now)

    def request(self, problem: Problem, x: float, now: float) -> list[Action]:
        """The window wants ``problem`` at ``x``; replaces every earlier request."""
        if problem != self._problem:
            self._switch_problem(problem, now)
        self._x = x
        return self._flush(now)

    def drag(self, dragging: bool, now: float) -> list[Action]:
        """The user started (True) or ended a drag of the probe."""
        self._dragging = dragging
        if self._reference is not None:
            self._reference.set_paused(dragging, now)
        if not dragging:
            self._emit_report()  # the note said "after the drag"
        return self._flush(now)

    def paths_message(self, message: PathsReply, now: float) -> list[Action]:
        paths = self._paths
        match message:
            case PathsReady(import_s=seconds):
                paths.ready = True
                self._progress("tensorflow", f"TensorFlow ready ({seconds:.1f} s)")
            case ProbeDone(result=result):
                paths.answered(now)
                if result.problem == self._problem:
                    self._result = result
                    self._emit_report()
            case CurvesDone(curves=curves):
                paths.answered(now)
                self._progress("curves", "")
                if curves.problem == self._problem:
                    self._curves = curves
                    self._emit(curves)
                    self._emit_precision()
            case PathsFailed(request=request, detail=detail):
                paths.in_flight = None
                self._progress("curves", "")
                self._emit(Failure(f"{kind(request)} failed: {detail}"))
        return self._flush(now)

    def paths_exited(self, code: int | None, now: float) -> list[Action]:
        """The TensorFlow process is gone (crashed, killed, or its pipe broke)."""
        self._paths.restarts.crashes += 1
        self._emit(Failure(f"the TensorFlow process exited (code {code}); restarting it"))
        self._restart_paths(now, f"exit code {code}")
        return self._flush(now)

    def problem_message(self, message: ProblemReply, now: float) -> list[Action]:
        state = self._reference
        if state is None or message.problem != state.problem:
            return self._flush(now)  # sent before the problem changed
        state.last_heard = now
        match message:
            case Sampled(problem=problem, grid=grid, y=y):
                state.y = y
                self._progress("data", "")
                self._emit(DataReady(problem, grid, y))
                if self._budget_s is not None:
                    self._progress("reference", "Reference: starting…", busy=True)
                state.set_paused(self._dragging, now)
            case Conditioned(conditioning=conditioning):
                state.conditioning = conditioning
                self._emit_precision()
            case ReferenceProgress(text=text):
                state.note = text
                self._progress("reference", text, busy=True)
            case ReferenceSolved():
                state.solved, state.note, state.restarts = True, "", Restarts()
                self._progress("reference", "")
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
                state.stop(finished=True)
                self._fail_problem(f"could not sample the data: {detail}")
            case ProblemFailed(detail=detail):
                state.stop(finished=True)
                state.note = f"reference failed: {detail}"
                self._progress("reference", "")
        self._emit_report()
        return self._flush(now)

    def problem_exited(self, code: int | None, now: float) -> list[Action]:
        """The problem process is gone before it finished: start it again."""
        if self._reference is not None:
            self._emit(Failure(f"the problem process ended (code {code}); restarting it"))
            self._reference.crashed(now, f"process ended (code {code})")
        return self._flush(now)

    def tick(self, now: float) -> list[Action]:
        """Time passed: deadlines and back-offs are checked."""
        return self._flush(now)

    def retry(self, now: float) -> list[Action]:
        """The user asked to try again now: restart whatever is backing off."""
        paths, state = self._paths, self._reference
        if not paths.running:
            paths.restarts.try_now(now)
            paths.start(now, why="retry")
        if state is not None and not state.running and not self._done():
            state.restarts.try_now(now)
            state.start(now)
        return self._flush(now)

    def next_deadline(self) -> float | None:
        """The monotonic time at which :meth:`tick` has something to check, if any."""
        state = self._reference
        times = [self._paths.restarts.retry_at, self._paths.deadline()]
        if state is not None:
            times += [state.restarts.retry_at, state.deadline()]
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    # --- what to do next ---------------------------------------------------------------

    def _flush(self, now: float) -> list[Action]:
        self._check_processes(now)
        self._dispatch(now)
        actions = self._actions.copy()
        self._actions.clear()
        return actions

    def _check_processes(self, now: float) -> None:
        """Back-offs that ended, requests for an old problem, and silent processes."""
        paths, state = self._paths, self._reference
        if not paths.running and due(paths.restarts.retry_at, now):
            paths.start(now, why="retry")
        if state is not None and not self._done() and state.backoff_over(now):
            state.start(now)
        flight = paths.in_flight
        if flight is not None and flight.request.problem != self._problem:
            if now - flight.sent_at > ABANDON_AFTER_S:
                self._restart_paths(now, f"abandoned a stale {kind(flight.request)}")
        elif due(paths.deadline(), now):
            paths.restarts.crashes += 1
            limit = paths.limit()
            self._emit(Failure(f"TensorFlow did not answer within {limit:.0f} s; restarting it"))
            self._restart_paths(now, f"no answer within {limit:.0f} s")
        if state is not None and due(state.deadline(), now):
            limit = state.silent_limit()
            self._emit(Failure(f"the problem process was silent for {limit:.0f} s; restarting it"))
            state.stop(finished=False)
            state.crashed(now, f"silent for {limit:.0f} s")

    def _dispatch(self, now: float) -> None:
        state, x = self._reference, self._x
        if state is None or x is None or self._problem_error is not None:
            return
        if state.y is not None:
            self._dispatch_paths(state.problem, x, state.y, now)
        if state.may_evaluate() and x not in self._references:
            state.in_flight = x
            state.last_heard = now
            self._actions.append(Send(Role.PROBLEM, ReferenceRequest(x)))

    def _dispatch_paths(self, problem: Problem, x: float, y: np.ndarray, now: float) -> None:
        paths = self._paths
        if not paths.idle():
            return
        paths.load(problem, y)
        wanted = (problem, x, not self._dragging)  # the spread waits for the drag's end
        # A probe with its spread also answers one without it.
        probe_wanted = self._probed not in (wanted, (problem, x, True))
        curves_wanted = self._curves_for != problem and not self._dragging
        if curves_wanted and (not probe_wanted or paths.last_sent is ProbeRequest):
            self._curves_for = problem
            paths.send(CurvesRequest(problem), now)
            self._progress("curves", "Computing curves…", busy=True)
        elif probe_wanted:
            self._probed = wanted
            paths.send(ProbeRequest(problem, x, spread=wanted[2]), now)

    def _restart_paths(self, now: float, why: str) -> None:
        self._probed, self._curves_for = None, None
        self._paths.restart(now, why)

    # --- the problem ---------------------------------------------------------------------

    def _switch_problem(self, problem: Problem, now: float) -> None:
        """Forget the old problem's results, end its process, start the new one's."""
        if self._reference is not None:
            self._reference.stop(finished=False)
        self._reference = ProblemProcess(problem, self._budget_s, self._actions)
        self._result, self._probed, self._curves_for = None, None, None
        self._curves, self._reference_curve = None, None
        self._references.clear()
        self._problem_error = None
        self._progress("curves", "")
        try:
            self._fits_memory(problem)
        except ProblemError as error:
            self._progress("reference", "")
            self._fail_problem(str(error))
            return
        if not self._paths.running:  # a new problem is worth a new try at once
            self._paths.restarts.try_now(now)
            self._paths.start(now, why="new problem")
        self._reference.start(now)

    def _done(self) -> bool:
        """The current problem's process reported a failure, or the problem itself is
        refused: there is nothing to restart."""
        state = self._reference
        return self._problem_error is not None or (state is not None and state.done)

    def _fail_problem(self, message: str) -> None:
        self._problem_error = message
        self._progress("data", "")
        self._emit(Failure(message))

    # --- records for the window --------------------------------------------------------

    def _emit(self, record: WindowRecord) -> None:
        self._actions.append(Emit(record))

    def _progress(self, task: Task, message: str, busy: bool = False) -> None:
        self._emit(Progress(task, message, busy))

    def _emit_report(self) -> None:
        result, state = self._result, self._reference
        if result is None or state is None:
            return
        reference = self._references.get(result.x)
        note = "" if reference is not None else state.reference_note()
        pending = reference is None and state.running and self._budget_s is not None
        diagnosis = diagnose(result, reference, state.conditioning, reference_pending=pending)
        self._emit(ProbeReport(result, reference, note, diagnosis, pending))

    def _emit_precision(self) -> None:
        """Correct digits over x, once the curves and the reference curve are both in."""
        curves, reference, state = self._curves, self._reference_curve, self._reference
        if curves is None or reference is None or state is None:
            return
        self._emit(precision_curves(curves, reference, state.conditioning))
