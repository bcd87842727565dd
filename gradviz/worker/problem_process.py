"""The current problem's process as the scheduler sees it: what it owes, its watchdog,
its restarts and its pause. No Qt, no pipes: it appends actions for the driver.

The process draws the sample (an SVD: ~3.5e-10 n^3 s here), measures cond(K + jitter I)
and, unless the reference is off, solves the reference and then answers one x at a time
while it draws the reference curve. While it owes something it must not stay silent
longer than :meth:`ProblemProcess.silent_limit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradviz.core.analysis.diagnosis import Conditioning
from gradviz.core.problem.spec import Problem
from gradviz.worker.actions import Action, Emit, Pause, Role, StartProblem, Stop
from gradviz.worker.messages import Progress
from gradviz.worker.restarts import WATCHDOG_FACTOR, Restarts, due

SILENT_FLOOR_S = 30.0
SAMPLE_S_PER_N3 = 3.5e-10
PAUSED_NOTE = "reference: after the drag"


@dataclass
class ProblemProcess:
    """One problem's process; ``actions`` is the scheduler's list, appended to."""

    problem: Problem
    budget_s: float | None
    actions: list[Action]
    restarts: Restarts = field(default_factory=Restarts)
    running: bool = False
    paused: bool = False
    note: str = ""
    last_heard: float = 0.0
    y: np.ndarray | None = None  # the sample, once drawn
    conditioning: Conditioning | None = None
    solved: bool = False
    done: bool = False  # it reported a failure and has nothing more to give
    in_flight: float | None = None  # the x being evaluated

    def start(self, now: float) -> None:
        """Start the process unless it keeps failing: then back off and offer Retry."""
        verdict = self.restarts.check(now)
        if verdict == "wait":
            crashes, wait = self.restarts.crashes, self.restarts.wait_s()
            self.note = f"reference: process failed {crashes} times"
            self._progress(
                f"The problem process failed {crashes} times in a row; retrying in {wait:.0f} s",
                retry=True,
            )
        if verdict != "start":
            return
        self.running, self.paused, self.last_heard = True, False, now
        self.solved, self.in_flight = False, None
        self.note = "reference: starting…" if self.budget_s is not None else "reference off"
        self.actions.append(StartProblem(self.problem, self.budget_s))
        if self.y is None:
            self._progress(f"Sampling the data (n = {self.problem.n})…", busy=True)

    def crashed(self, now: float, why: str) -> None:
        """The process died or was silent too long: start it again (or back off)."""
        self.running = False
        self.restarts.crashes += 1
        self.note = f"reference: restarting ({why})"
        self.start(now)

    def stop(self, finished: bool) -> None:
        """End the process; ``finished`` when it has nothing more to give."""
        if self.running:
            self.actions.append(Stop(Role.PROBLEM))
        self.running, self.paused, self.done = False, False, finished

    def backoff_over(self, now: float) -> bool:
        """It waits to be restarted after repeated failures, and the wait is over."""
        return not self.running and not self.done and due(self.restarts.retry_at, now)

    def set_paused(self, paused: bool, now: float) -> None:
        """Pause while the user drags, once the sample (which the probe needs) is in;
        silence while paused does not count."""
        paused = paused and self.running and self.y is not None
        if paused != self.paused:
            self.paused = paused
            self.last_heard = now
            self.actions.append(Pause(Role.PROBLEM, paused))

    def owes(self) -> bool:
        """Whether something is expected from it: a sample, cond, a solve, an x."""
        return self.running and (
            self.y is None
            or self.conditioning is None
            or (self.budget_s is not None and not self.solved)
            or self.in_flight is not None
        )

    def silent_limit(self) -> float:
        limits = [SILENT_FLOOR_S, WATCHDOG_FACTOR * SAMPLE_S_PER_N3 * self.problem.n**3]
        if self.budget_s is not None:
            limits.append(3 * self.budget_s)
        return max(limits)

    def deadline(self) -> float | None:
        if self.paused or not self.owes():
            return None
        return self.last_heard + self.silent_limit()

    def may_evaluate(self) -> bool:
        """Whether a reference at x can be asked for now."""
        return self.running and self.solved and not self.paused and self.in_flight is None

    def reference_note(self) -> str:
        return PAUSED_NOTE if self.paused else self.note or "reference: pending…"

    def _progress(self, message: str, busy: bool = False, retry: bool = False) -> None:
        self.actions.append(Emit(Progress("data", message, busy, retry)))
