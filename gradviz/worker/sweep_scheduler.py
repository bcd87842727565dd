"""The sweep worker's decisions, with no Qt, no pipes and no processes: events in, actions out.

Like :mod:`gradviz.worker.scheduler` for the compute processes, and with the same restart
policy (:mod:`gradviz.worker.restarts`):

- **latest request wins**: each request gets a serial; the process drops a superseded
  request between the steps of a sweep, and replies of another serial are dropped here;
- **watchdog**: a process that owes a sweep and stays silent past ``silent_s`` (a
  SIGSTOP, a hang) is killed and started again for the same request; one that dies is
  started again at once; after ``MAX_CRASHES`` failures in a row the scheduler waits
  and offers Retry;
- **pause**: while the user drags the probe the process is stopped by the driver and
  its silence does not count; nothing is started or sent until it resumes;
- results are provisional until the sweep is done; a restart says that the partial
  results are gone, so the tab never keeps a provisional mark of a sweep that died;
- a request that is not ``full`` measures only the advice (the answer's "what to
  change"); its notes say so, so that the Sweeps tab ignores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gradviz.core.analysis.advice import Advice
from gradviz.core.analysis.sweep import StepSweep
from gradviz.core.problem.spec import SOLVERS, Problem, Solver
from gradviz.worker.messages import (
    SWEEP_BUDGET_S,
    AdviceDone,
    SweepDone,
    SweepFailed,
    SweepNote,
    SweepPartial,
    SweepPhase,
    SweepProgress,
    SweepReply,
    SweepRequest,
    SweepResult,
    SweepStepDone,
)
from gradviz.worker.restarts import Restarts

# A sweep's process is silent while it imports TensorFlow (5-8 s here, more under load),
# traces a solver, or certifies one jitter's reference (bounded by the sweep's budget).
SWEEP_SILENT_S = SWEEP_BUDGET_S


@dataclass(frozen=True)
class StartSweeper:
    """Start the sweep process (``sweep_service.serve_sweep``)."""


@dataclass(frozen=True)
class StopSweeper:
    """End the sweep process now (the only way to stop a solve that runs)."""


@dataclass(frozen=True)
class SendSweep:
    request: SweepRequest


SweepRecord = SweepNote | SweepResult | StepSweep | Advice


@dataclass(frozen=True)
class EmitSweep:
    """A record for the window."""

    record: SweepRecord


SweepAction = StartSweeper | StopSweeper | SendSweep | EmitSweep


class SweepScheduler:
    """What the sweep worker does next. Not thread-safe: one driver calls it, with the
    current monotonic time, and carries out the actions returned, in order."""

    def __init__(self, silent_s: float = SWEEP_SILENT_S) -> None:
        self._silent_s = silent_s
        self._serial = 0
        self._wanted: SweepRequest | None = None  # None: nothing to sweep (done or cancelled)
        self._asked_at = 0.0  # when the wanted sweep was asked for: its wall clock starts
        self._sent: int | None = None  # serial of the request the process works on
        self._running = False
        self._last_heard = 0.0
        self._paused = False
        self._restarts = Restarts()
        self._actions: list[SweepAction] = []

    # --- events ------------------------------------------------------------------------

    def submit(
        self,
        problem: Problem,
        x: float,
        now: float,
        solvers: Sequence[Solver] = SOLVERS,
        *,
        full: bool = True,
    ) -> list[SweepAction]:
        """Sweep ``problem`` at ``x`` (or, without ``full``, measure only its advice)
        instead of anything earlier."""
        self._serial += 1
        self._wanted = SweepRequest(self._serial, problem, x, tuple(solvers), full=full)
        self._asked_at = now
        self._restarts.try_now(now)  # a new request is worth a fresh try
        self._note("running", "starting…")
        return self._flush(now)

    def cancel(self, now: float) -> list[SweepAction]:
        """Forget the request; a sweep that runs ends with its process."""
        wanted, self._wanted = self._wanted, None
        if self._sent is not None:
            self._stop()
        if wanted is not None:
            self._emit(
                SweepNote(
                    wanted.problem,
                    wanted.x,
                    "cancelled",
                    "cancelled",
                    advice_only=not wanted.full,
                )
            )
        return self._flush(now)

    def message(self, reply: SweepReply, now: float) -> list[SweepAction]:
        self._last_heard = now
        wanted = self._wanted
        if wanted is None or reply.serial != wanted.serial:
            return self._flush(now)  # a superseded or cancelled request's
        match reply:
            case SweepProgress(text=text):
                self._note("running", text)
            case SweepPartial(sweep=sweep):
                self._emit(SweepResult(sweep, final=False))
            case SweepStepDone(sweep=step):
                self._emit(step)
            case AdviceDone(advice=advice):
                self._emit(advice)
                if not wanted.full:
                    self._note("done", f"advice measured in {now - self._asked_at:.0f} s")
                    self._finished()
            case SweepDone(sweep=sweep):
                self._emit(SweepResult(sweep, final=True))
                self._note("done", f"done in {now - self._asked_at:.0f} s")
                self._finished()
            case SweepFailed(detail=detail):
                self._note("failed", f"sweep failed: {detail}")
                self._finished()
        return self._flush(now)

    def exited(self, code: int | None, now: float) -> list[SweepAction]:
        """The process is gone (killed, crashed, or ended by Cancel)."""
        self._running = False
        if self._sent is not None and self._wanted is not None:
            self._failed(now, f"the sweep process ended (code {code})")
        self._sent = None
        return self._flush(now)

    def tick(self, now: float) -> list[SweepAction]:
        """Time passed: the watchdog and the back-off are checked."""
        if self._overdue(now):
            self._stop()
            self._failed(now, f"the sweep process was silent for {self._silent_s:.0f} s")
        return self._flush(now)

    def pause(self, paused: bool, now: float) -> list[SweepAction]:
        """The driver stopped (True) or continued (False) the process; silence while
        stopped does not count."""
        self._paused = paused
        self._last_heard = now
        return self._flush(now)

    def retry(self, now: float) -> list[SweepAction]:
        """The user asked to try again now."""
        self._restarts.try_now(now)
        return self._flush(now)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` has something to check, if anything."""
        times = [self._restarts.retry_at]
        if self._owes() and not self._paused:
            times.append(self._last_heard + self._silent_s)
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    # --- internals ---------------------------------------------------------------------

    def _flush(self, now: float) -> list[SweepAction]:
        self._dispatch(now)
        actions, self._actions = self._actions, []
        return actions

    def _dispatch(self, now: float) -> None:
        wanted = self._wanted
        if wanted is None or self._paused or self._sent == wanted.serial:
            return
        if not self._running:
            verdict = self._restarts.check(now)
            if verdict == "wait":
                crashes, wait = self._restarts.crashes, self._restarts.wait_s()
                text = f"the sweep process failed {crashes} times in a row; "
                text += f"retrying in {wait:.0f} s"
                self._emit(
                    SweepNote(
                        wanted.problem,
                        wanted.x,
                        "waiting",
                        text,
                        retry=True,
                        advice_only=not wanted.full,
                    )
                )
            if verdict != "start":
                return
            self._running = True
            self._actions.append(StartSweeper())
        self._sent = wanted.serial
        self._last_heard = now
        self._actions.append(SendSweep(wanted))

    def _owes(self) -> bool:
        return self._running and self._sent is not None and self._wanted is not None

    def _overdue(self, now: float) -> bool:
        return self._owes() and not self._paused and now - self._last_heard > self._silent_s

    def _finished(self) -> None:
        self._wanted, self._sent = None, None
        self._restarts = Restarts()

    def _failed(self, now: float, why: str) -> None:
        """The process failed while it owed the wanted sweep: start over (or wait)."""
        self._restarts.crashes += 1
        self._sent = None
        wanted = self._wanted
        if wanted is not None:
            text = f"{why}; restarting it"
            self._emit(
                SweepNote(
                    wanted.problem,
                    wanted.x,
                    "running",
                    text,
                    restarted=True,
                    advice_only=not wanted.full,
                )
            )

    def _stop(self) -> None:
        if self._running:
            self._actions.append(StopSweeper())
        self._running, self._sent = False, None

    def _note(self, phase: SweepPhase, text: str) -> None:
        wanted = self._wanted
        if wanted is not None:
            self._emit(
                SweepNote(wanted.problem, wanted.x, phase, text, advice_only=not wanted.full)
            )

    def _emit(self, record: SweepRecord) -> None:
        self._actions.append(EmitSweep(record))
