"""The Sweeps tab's and the measured advice's worker: a thin driver of the
:class:`SweepScheduler`.

The GUI thread only calls :meth:`SweepWorker.submit`, :meth:`~SweepWorker.cancel`,
:meth:`~SweepWorker.retry`, :meth:`~SweepWorker.set_paused` and
:meth:`~SweepWorker.stop`; none of them blocks. The thread owns the sweep process
(``sweep_service.py``) and the clock; every decision (what is stale, when the silent or
dead process is restarted, when to back off) is the scheduler's. Records for the window
leave as typed signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

from PyQt6.QtCore import QObject, pyqtSignal

from gradviz.core.analysis.advice import Advice
from gradviz.core.analysis.sweep import StepSweep
from gradviz.core.problem.spec import SOLVERS, Problem, Solver
from gradviz.worker.driver import ProcessDriver
from gradviz.worker.messages import ChildReply, SweepNote, SweepReply, SweepResult
from gradviz.worker.sweep_scheduler import (
    SWEEP_SILENT_S,
    EmitSweep,
    SendSweep,
    StartSweeper,
    StopSweeper,
    SweepAction,
    SweepScheduler,
)
from gradviz.worker.sweep_service import serve_sweep

log = logging.getLogger(__name__)
ROLE = "sweep"


@dataclass(frozen=True)
class _Submit:
    problem: Problem
    x: float
    solvers: tuple[Solver, ...]
    full: bool


@dataclass(frozen=True)
class _Cancel:
    pass


class SweepWorker(ProcessDriver):
    """Runs sweeps one at a time; :meth:`submit` supersedes whatever runs or waits."""

    note = pyqtSignal(SweepNote)
    result = pyqtSignal(SweepResult)
    step_ready = pyqtSignal(StepSweep)
    advice = pyqtSignal(Advice)

    def __init__(
        self,
        silent_s: float = SWEEP_SILENT_S,
        parent: QObject | None = None,
        service: Callable[[Connection], None] = serve_sweep,
    ) -> None:
        """``service`` is what the sweep process runs (tests hand in a recorded one)."""
        super().__init__(parent)
        self._service = service
        self._scheduler = SweepScheduler(silent_s)
        self._inbox: list[_Submit | _Cancel] = []
        self._retry = threading.Event()
        self._paused = False
        self._paused_seen = False  # the worker thread's copy of _paused

    # --- GUI thread --------------------------------------------------------------------

    def submit(
        self,
        problem: Problem,
        x: float,
        solvers: Sequence[Solver] = SOLVERS,
        *,
        full: bool = True,
    ) -> None:
        """Sweep (problem, x), or without ``full`` only measure its advice, instead of
        anything running or waiting. Never blocks."""
        with self._lock:
            self._inbox.append(_Submit(problem, x, tuple(solvers), full))
        self._wake()

    def cancel(self) -> None:
        """End the running sweep (and forget a waiting one). Never blocks."""
        with self._lock:
            self._inbox.append(_Cancel())
        self._wake()

    def retry(self) -> None:
        """Start the sweep process now after repeated failures."""
        self._retry.set()
        self._wake()

    def set_paused(self, paused: bool) -> None:
        """Stop the sweep process while the user drags (True); continue it after (False)."""
        with self._lock:
            self._paused = paused
        if not paused:
            self._continue_stopped()
        self._wake()

    def stop(self) -> None:
        """End the sweep, the process and the thread, and wait for them."""
        super().stop()
        self.wait()

    # --- worker thread -----------------------------------------------------------------

    def _received(self, role: str, message: ChildReply, now: float) -> None:
        if isinstance(message, SweepReply):
            self._carry_out(self._scheduler.message(message, now))
        else:
            log.error("unexpected message from the sweep process: %r", message)

    def _exited(self, role: str, code: int | None, now: float) -> None:
        self._carry_out(self._scheduler.exited(code, now))

    def _poll(self, now: float) -> None:
        with self._lock:
            inbox, self._inbox = self._inbox, []
            paused = self._paused
        scheduler = self._scheduler
        for request in inbox:
            match request:
                case _Submit(problem=problem, x=x, solvers=solvers, full=full):
                    self._carry_out(scheduler.submit(problem, x, now, solvers, full=full))
                case _Cancel():
                    self._carry_out(scheduler.cancel(now))
        if paused != self._paused_seen:
            self._paused_seen = paused
            self._pause_child(ROLE, paused)
            self._carry_out(scheduler.pause(paused, now))
        if self._retry.is_set():
            self._retry.clear()
            self._carry_out(scheduler.retry(now))
        self._carry_out(scheduler.tick(now))

    def _deadline(self) -> float | None:
        return self._scheduler.next_deadline()

    def _carry_out(self, actions: list[SweepAction]) -> None:
        for action in actions:
            match action:
                case StartSweeper():
                    if not self._start_child(ROLE, self._service):
                        self._carry_out(self._scheduler.exited(None, time.monotonic()))
                case StopSweeper():
                    self._stop_child(ROLE)
                case SendSweep(request=request):
                    self._send(ROLE, request)
                case EmitSweep(record=SweepNote() as note):
                    self.note.emit(note)
                case EmitSweep(record=SweepResult() as result):
                    self.result.emit(result)
                case EmitSweep(record=StepSweep() as step):
                    self.step_ready.emit(step)
                case EmitSweep(record=Advice() as advice):
                    self.advice.emit(advice)
