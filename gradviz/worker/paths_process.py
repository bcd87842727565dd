"""The TensorFlow process as the scheduler sees it: one request in flight, its watchdog
and its restarts. No Qt, no pipes: it appends actions for the driver.

A warm request (its work already done once for its problem) may take ten times the last
measured time of its work, at least ``WARM_FLOOR_S``; the first of a problem builds K, its
factor, graphs and traces: ``COLD_FLOOR_S`` plus an O(n^3) allowance. Work is per kind
*and* per what it traces: a probe with its spread traces 16 perturbed programs per dtype
that a dragged probe (paths only) never built, and curves trace their own batch, so the
first of each on a built problem is cold too (on a loaded machine the spread's first
traces took over 5 s and the watchdog restarted TensorFlow in a loop). The curves of an
LML quantity build a new K and factor at every theta of their grid (THETA_CURVE_POINTS),
so they get that O(n^3) allowance once per theta, cold or warm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gradviz.core.problem.data import THETA_CURVE_POINTS
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


def work(request: PathsRequest) -> str:
    """What the request computes and traces: its kind, for a probe its spread, and
    whether it runs along an LML quantity's theta (curves there take ~100 factors: one
    slow LML curve must not stretch the watchdog of the mean's)."""
    name = (
        "probe with spread"
        if isinstance(request, ProbeRequest) and request.spread
        else kind(request)
    )
    return f"{name} along theta" if request.problem.measured.is_lml else name


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
    warm: set[tuple[Problem, str]] = field(default_factory=set)  # (problem, work) done
    took: dict[str, float] = field(default_factory=dict)  # the last time of each work

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
        cold = (request.problem, work(request)) not in self.warm
        self.in_flight = InFlight(request, now, cold=cold)
        self.last_sent = type(request)
        self.actions.append(Send(Role.PATHS, request))

    def answered(self, now: float) -> None:
        """A request came back: remember how long it took, and that its problem is built."""
        flight, self.in_flight = self.in_flight, None
        self.restarts = Restarts()
        if flight is None:
            return
        if not flight.cold:
            self.took[work(flight.request)] = now - flight.sent_at
        if len(self.warm) > WARM_KEPT:
            self.warm.clear()
        self.warm.add((flight.request.problem, work(flight.request)))

    def limit(self) -> float:
        flight = self.in_flight
        if flight is None:
            return math.inf
        problem = flight.request.problem
        if flight.cold:
            limit = COLD_FLOOR_S + COLD_S_PER_N3 * problem.n**3
        else:
            limit = max(WARM_FLOOR_S, WATCHDOG_FACTOR * self.took.get(work(flight.request), 0.0))
        if kind(flight.request) == "curves" and problem.measured.is_lml:
            return max(limit, COLD_FLOOR_S + THETA_CURVE_POINTS * COLD_S_PER_N3 * problem.n**3)
        return limit

    def deadline(self) -> float | None:
        flight = self.in_flight
        return None if flight is None else flight.sent_at + self.limit()

    def _progress(self, message: str, busy: bool = False, retry: bool = False) -> None:
        self.actions.append(Emit(Progress("tensorflow", message, busy, retry)))
