"""The window's one long-lived compute worker: a thin driver of the :class:`Scheduler`.

The GUI thread only calls :meth:`ComputeWorker.submit` (store the newest (problem, x),
wake the thread), :meth:`~ComputeWorker.set_dragging`, :meth:`~ComputeWorker.retry` and
:meth:`~ComputeWorker.stop`; it never waits on TensorFlow or python-flint. The thread
owns the pipes of the two compute processes (``services.py``) and the clock: it turns
what happens into scheduler events and carries out the actions that come back. Records
for the window leave as typed signals. Every decision (what to send, what is stale,
when to restart, what pauses during a drag) is the scheduler's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from PyQt6.QtCore import QObject, pyqtSignal

from gradviz.core.numerics.reference import DEFAULT_BUDGET_S
from gradviz.core.numerics.results import Curves, PrecisionCurves, ProbeReport, ReferenceCurve
from gradviz.core.problem.spec import Problem
from gradviz.worker.actions import (
    Action,
    Emit,
    Pause,
    Role,
    Send,
    StartPaths,
    StartProblem,
    Stop,
    WindowRecord,
)
from gradviz.worker.child import Child
from gradviz.worker.driver import ProcessDriver
from gradviz.worker.messages import (
    ChildReply,
    DataReady,
    Failure,
    PathsReply,
    ProblemReply,
    Progress,
)
from gradviz.worker.scheduler import Scheduler
from gradviz.worker.services import serve_paths, serve_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    problem: Problem
    x: float


class ComputeWorker(ProcessDriver):
    """Owns the compute processes; emits data, curves, probe reports and progress."""

    data_ready = pyqtSignal(DataReady)
    curves_ready = pyqtSignal(Curves)
    report_ready = pyqtSignal(ProbeReport)
    reference_curve_ready = pyqtSignal(ReferenceCurve)
    precision_ready = pyqtSignal(PrecisionCurves)
    progress = pyqtSignal(Progress)
    failed = pyqtSignal(Failure)

    def __init__(
        self,
        reference_budget_s: float = DEFAULT_BUDGET_S,
        with_reference: bool = True,
        parent: QObject | None = None,
        paths_service: Callable[[Connection], None] = serve_paths,
        paths: Child | None = None,
    ) -> None:
        """``paths_service`` is what the TensorFlow process runs (tests hand in one that
        answers with recorded numbers and never imports TensorFlow); ``paths``, one
        already started (``services.start_paths``), becomes the first of them."""
        super().__init__(parent)
        self._paths_service = paths_service
        if paths is not None:
            self.adopt(Role.PATHS, paths)
        self._scheduler = Scheduler(reference_budget_s if with_reference else None)
        self._latest: _Request | None = None
        self._dragging = False
        self._dragging_seen = False  # the worker thread's copy of _dragging
        self._retry = threading.Event()

    # --- GUI thread --------------------------------------------------------------------

    def submit(self, problem: Problem, x: float) -> None:
        """Ask for ``problem`` at ``x``; replaces any request not yet started."""
        with self._lock:
            self._latest = _Request(problem, x)
        self._wake()

    def set_dragging(self, dragging: bool) -> None:
        """The user drags the probe (True) or let go (False): background work pauses
        meanwhile (see ``Scheduler.drag``)."""
        with self._lock:
            self._dragging = dragging
        if not dragging:
            self._continue_stopped()
        self._wake()

    def retry(self) -> None:
        """Restart a compute process that is backing off after repeated failures."""
        self._retry.set()
        self._wake()

    # --- worker thread -----------------------------------------------------------------

    def _begin(self, now: float) -> None:
        self._carry_out(self._scheduler.start(now))

    def _received(self, role: str, message: ChildReply, now: float) -> None:
        scheduler = self._scheduler
        if role == Role.PATHS and isinstance(message, PathsReply):
            self._carry_out(scheduler.paths_message(message, now))
        elif role == Role.PROBLEM and isinstance(message, ProblemReply):
            self._carry_out(scheduler.problem_message(message, now))
        else:
            log.error("unexpected message from the %s process: %r", role, message)

    def _exited(self, role: str, code: int | None, now: float) -> None:
        if role == Role.PATHS:
            self._carry_out(self._scheduler.paths_exited(code, now))
        else:
            self._carry_out(self._scheduler.problem_exited(code, now))

    def _poll(self, now: float) -> None:
        scheduler = self._scheduler
        with self._lock:
            request, dragging = self._latest, self._dragging
        if dragging != self._dragging_seen:
            self._dragging_seen = dragging
            self._carry_out(scheduler.drag(dragging, now))
        if self._retry.is_set():
            self._retry.clear()
            self._carry_out(scheduler.retry(now))
        if request is not None:
            self._carry_out(scheduler.request(request.problem, request.x, now))
        else:
            self._carry_out(scheduler.tick(now))

    def _deadline(self) -> float | None:
        return self._scheduler.next_deadline()

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case StartPaths():
                    self._start(Role.PATHS)
                case StartProblem():
                    self._start(Role.PROBLEM, action)
                case Stop(role=role):
                    self._stop_child(role)
                case Send(role=role, message=message):
                    self._send(role, message)
                case Pause(role=role, paused=paused):
                    self._pause_child(role, paused)
                case Emit(record=record):
                    self._emit(record)

    def _start(self, role: Role, problem: StartProblem | None = None) -> None:
        if problem is None:
            started = self._start_child(role, self._paths_service)
        else:
            started = self._start_child(role, serve_problem, problem.problem, problem.budget_s)
        if not started:
            self.failed.emit(Failure(f"could not start the {role} process"))
            self._exited(role, None, time.monotonic())

    def _emit(self, record: WindowRecord) -> None:
        match record:
            case DataReady():
                self.data_ready.emit(record)
            case Curves():
                self.curves_ready.emit(record)
            case ProbeReport():
                self.report_ready.emit(record)
            case ReferenceCurve():
                self.reference_curve_ready.emit(record)
            case PrecisionCurves():
                self.precision_ready.emit(record)
            case Progress():
                self.progress.emit(record)
            case Failure():
                self.failed.emit(record)
