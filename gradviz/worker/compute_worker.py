"""The window's one long-lived worker thread: a thin driver of the :class:`Scheduler`.

The GUI thread only calls :meth:`ComputeWorker.submit` (store the newest (problem, x),
wake the thread), :meth:`ComputeWorker.retry` and :meth:`ComputeWorker.stop`; it never
waits on TensorFlow or python-flint. The thread owns the pipes of the two compute
processes (``services.py``) and the clock: it turns what happens into scheduler events
and carries out the actions that come back. Records for the window leave as signals.
Every decision (what to send, what is stale, when to restart) is the scheduler's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from gradviz.core.numerics.reference import DEFAULT_BUDGET_S
from gradviz.core.numerics.results import Curves, PrecisionCurves, ProbeReport, ReferenceCurve
from gradviz.core.problem.spec import Problem
from gradviz.worker.child import Child
from gradviz.worker.messages import DataReady, Failure, Progress
from gradviz.worker.scheduler import (
    Action,
    Emit,
    Role,
    Scheduler,
    Send,
    StartPaths,
    StartProblem,
    Stop,
    WindowRecord,
)
from gradviz.worker.services import serve_paths, serve_problem

log = logging.getLogger(__name__)

POLL_S = 0.25


@dataclass(frozen=True)
class _Request:
    problem: Problem
    x: float


class ComputeWorker(QThread):
    """Owns the compute processes; emits data, curves, probe reports and progress."""

    data_ready = pyqtSignal(object)  # DataReady
    curves_ready = pyqtSignal(object)  # Curves
    report_ready = pyqtSignal(object)  # ProbeReport
    reference_curve_ready = pyqtSignal(object)  # ReferenceCurve
    precision_ready = pyqtSignal(object)  # PrecisionCurves
    progress = pyqtSignal(object)  # Progress
    failed = pyqtSignal(str)

    def __init__(
        self,
        reference_budget_s: float = DEFAULT_BUDGET_S,
        with_reference: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._budget_s = reference_budget_s if with_reference else None
        self._lock = threading.Lock()
        self._latest: _Request | None = None
        self._retry = threading.Event()
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        # Owned by the worker thread from here on.
        self._scheduler = Scheduler(self._budget_s)
        self._children: dict[Role, Child] = {}

    # --- GUI thread --------------------------------------------------------------------

    def submit(self, problem: Problem, x: float) -> None:
        """Ask for ``problem`` at ``x``; replaces any request not yet started."""
        with self._lock:
            self._latest = _Request(problem, x)
        self._wake()

    def retry(self) -> None:
        """Restart a compute process that is backing off after repeated failures."""
        self._retry.set()
        self._wake()

    def stop(self) -> None:
        """Ask the thread to end; it ends its processes. Follow with ``wait()``."""
        self._stopping.set()
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._wake_write < 0:
                return  # the thread has ended and closed the pipe
            with contextlib.suppress(BlockingIOError):  # full pipe: a wake-up is pending
                os.write(self._wake_write, b"w")

    # --- worker thread -----------------------------------------------------------------

    def run(self) -> None:
        try:
            self._carry_out(self._scheduler.start(time.monotonic()))
            while not self._stopping.is_set():
                self._step()
        finally:
            for child in self._children.values():
                child.close()
            self._children.clear()
            with self._lock:
                os.close(self._wake_read)
                os.close(self._wake_write)
                self._wake_write = -1

    def _step(self) -> None:
        scheduler = self._scheduler
        deadline = scheduler.next_deadline()
        timeout = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
        by_conn: dict[Connection, Role] = {c.conn: r for r, c in self._children.items()}
        ready = wait([self._wake_read, *by_conn], timeout=max(0.0, timeout))
        if self._stopping.is_set():
            return
        for source in ready:
            role = by_conn.get(source)  # type: ignore[call-overload]
            if role is None:
                self._drain_wake()
            elif role in self._children and self._children[role].conn is source:
                self._carry_out(self._receive(role))
        now = time.monotonic()
        if self._retry.is_set():
            self._retry.clear()
            self._carry_out(scheduler.retry(now))
        with self._lock:
            request = self._latest
        if request is not None:
            self._carry_out(scheduler.request(request.problem, request.x, now))
        else:
            self._carry_out(scheduler.tick(now))

    def _receive(self, role: Role) -> list[Action]:
        scheduler, child = self._scheduler, self._children[role]
        alive, message = child.receive()
        now = time.monotonic()
        if not alive:
            code = child.exit_code()
            child.close()
            del self._children[role]
            return self._exited(role, code)
        if role is Role.PATHS:
            return scheduler.paths_message(message, now)  # type: ignore[arg-type]
        return scheduler.problem_message(message, now)  # type: ignore[arg-type]

    def _exited(self, role: Role, code: int | None) -> list[Action]:
        now = time.monotonic()
        if role is Role.PATHS:
            return self._scheduler.paths_exited(code, now)
        return self._scheduler.problem_exited(code, now)

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case StartPaths():
                    self._start(Role.PATHS, serve_paths)
                case StartProblem(problem=problem, budget_s=budget):
                    self._start(Role.PROBLEM, serve_problem, problem, budget)
                case Stop(role=role):
                    child = self._children.pop(role, None)
                    if child is not None:
                        child.close()
                case Send(role=role, message=message):
                    child = self._children.get(role)
                    if child is not None:
                        child.send(message)  # a dead child is noticed on its pipe
                case Emit(record=record):
                    self._emit(record)
                case _:
                    log.error("unknown action from the scheduler: %r", action)

    def _start(self, role: Role, target: Callable[..., None], *args: Any) -> None:
        old = self._children.pop(role, None)
        if old is not None:
            old.close()
        try:
            self._children[role] = Child(f"gradviz {role}", target, *args)
        except OSError as error:
            self.failed.emit(f"could not start the {role} process: {error}")
            self._carry_out(self._exited(role, None))

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
            case Failure(message=message):
                self.failed.emit(message)
            case _:
                log.error("unknown record for the window: %r", record)
