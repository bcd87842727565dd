"""The TensorFlow process as the scheduler sees it: one request in flight, its watchdog
and its restarts. No Qt, no pipes: it appends actions for the driver.

A warm request (its problem already built) may take ten times the last measured time of
its kind, at least ``WARM_FLOOR_S``; the first request of a problem builds K, its factor,
graphs and traces: ``COLD_FLOOR_S`` plus an O(n^3) allowance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.problem.spec import Problem
from gradviz.worker.actions import Action, Emit, Role, Send, StartPaths, Stop
from gradviz.worker.messages import LoadData, PathsRequest, ProbeRequest, Progress
from gradviz.worker.restarts import WATCHDOG_FACTOR, Restarts

WARM_FLOOR_S = 5.0
COLD_FLOOR_S = 60.0
COLD_S_PER_N3 = 1e-8
WARM_KEPT = 8  # problems remembered as built (the process keeps the builds of two)


@dataclass(frozen=True)
class InFlight:
    request: PathsRequest
    sent_at: float
    cold: bool


def kind(request: PathsRequest) -> str:
    return "probe" if isinstance(request, ProbeRequest) else "curves"


@dataclass
class PathsProcess:
    """The TensorFlow process; ``actions`` is the scheduler's list, appended to."""

    actions: list[Action]
    restarts: Restarts = field(default_factory=Restarts)
    running: bool = False
    ready: bool = False
    data_for: Problem | None = None
    in_flight: InFlight | None = None
    last_sent: type | None = None
    warm: set[Problem] = field(default_factory=set)
    took: dict[type, float] = field(default_factory=dict)

    def start(self, now: float, why: str) -> bool:
        """Start TensorFlow unless it keeps failing: then back off and offer Retry.
        True when it started."""
        verdict = self.restarts.check(now)
        if verdict == "wait":
            crashes, wait = self.restarts.crashes, self.restarts.wait_s()
            self._progress(
                f"TensorFlow failed {crashes} times in a row (last: {why}); "
                f"retrying in {wait:.0f} s",
                retry=True,
            )
        if verdict != "start":
            return False
        self.warm.clear()  # a new process has built nothing yet
        self.running, self.ready, self.data_for = True, False, None
        self.in_flight, self.last_sent = None, None
        self.actions.append(StartPaths())
        self._progress(f"Restarting TensorFlow ({why})…" if why else "Loading TensorFlow…", True)
        return True

    def restart(self, now: float, why: str) -> None:
        self.actions.append(Stop(Role.PATHS))
        self.running = False
        self.start(now, why)

    def idle(self) -> bool:
        """Ready for a request."""
        return self.running and self.ready and self.in_flight is None

    def load(self, problem: Problem, y: np.ndarray) -> None:
        """Hand the problem's sample over, once per problem."""
        if self.data_for != problem:
            self.actions.append(Send(Role.PATHS, LoadData(problem, y)))
            self.data_for = problem

    def send(self, request: PathsRequest, now: float) -> None:
        self.in_flight = InFlight(request, now, cold=request.problem not in self.warm)
        self.last_sent = type(request)
        self.actions.append(Send(Role.PATHS, request))

    def answered(self, now: float) -> None:
        """A request came back: remember how long it took, and that its problem is built."""
        flight, self.in_flight = self.in_flight, None
        self.restarts = Restarts()
        if flight is None:
            return
        if not flight.cold:
            self.took[type(flight.request)] = now - flight.sent_at
        if len(self.warm) > WARM_KEPT:
            self.warm.clear()
        self.warm.add(flight.request.problem)

    def limit(self) -> float:
        flight = self.in_flight
        if flight is None:
            return math.inf
        if flight.cold:
            return COLD_FLOOR_S + COLD_S_PER_N3 * flight.request.problem.n**3
        return max(WARM_FLOOR_S, WATCHDOG_FACTOR * self.took.get(type(flight.request), 0.0))

    def deadline(self) -> float | None:
        flight = self.in_flight
        return None if flight is None else flight.sent_at + self.limit()

    def _progress(self, message: str, busy: bool = False, retry: bool = False) -> None:
        self.actions.append(Emit(Progress("tensorflow", message, busy, retry)))
