"""The jitter sweep in the background: one thread driving one long-lived child process.

A sweep holds the GIL for seconds (TensorFlow, python-flint's solves), so it runs in a
spawned child, which imports TensorFlow once and then sweeps request after request.
Each request gives the jitter sweep (streamed) and then the step sweep of the problem.
Latest request wins: the child looks for a newer request between the steps of a sweep
(each gradient set, each jitter's reference) and drops the stale one. Cancel and closing
the window end the child itself, the only way to stop a solve already running; the next
request starts a new one. The thread only drives the pipe: the sweep so far, progress and
errors leave as signals, and messages of a superseded request are dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

from PyQt6.QtCore import QThread, pyqtSignal

from gradviz.core.problem.spec import SOLVERS, Problem, Solver
from gradviz.worker.child import Child
from gradviz.worker.services import become_child

log = logging.getLogger(__name__)

POLL_S = 0.1
SWEEP_BUDGET_S = 30.0


@dataclass(frozen=True)
class SweepRequest:
    """What to sweep; immutable, so the thread never reads live GUI state."""

    serial: int
    problem: Problem
    x: float
    solvers: tuple[Solver, ...] = SOLVERS
    budget_s: float = SWEEP_BUDGET_S


@dataclass(frozen=True)
class SweepMessage:
    """From the child about request ``serial``: progress text, the jitter sweep so far, the
    step sweep, the final jitter sweep or an error."""

    serial: int
    kind: str  # "progress", "partial", "step", "done" or "failed"
    payload: object


class _SupersededError(Exception):
    """A newer request arrived while a sweep ran."""


def serve_sweep(conn: Connection) -> None:
    """Child process: sweep each request received, streaming over ``conn``, until the
    parent goes away."""
    become_child()
    from gradviz.core.analysis.sweep import jitter_sweep, step_sweep
    from gradviz.core.problem.data import problem_data

    request: SweepRequest | None = None
    try:
        while True:
            request = conn.recv() if request is None else request
            serial = request.serial

            def send(kind: str, payload: object, serial: int = serial) -> None:
                if conn.poll():
                    raise _SupersededError
                conn.send(SweepMessage(serial, kind, payload))

            try:
                data = problem_data(request.problem)
                sweep = jitter_sweep(
                    data,
                    request.x,
                    solvers=request.solvers,
                    budget_s=request.budget_s,
                    on_progress=lambda text: send("progress", text),
                    on_partial=lambda partial: send("partial", partial),
                )
                send("step", step_sweep(data, request.x, on_progress=lambda t: send("progress", t)))
                conn.send(SweepMessage(serial, "done", sweep))
            except _SupersededError:
                pass
            except Exception as error:  # a failure is a result to show
                conn.send(SweepMessage(serial, "failed", f"{type(error).__name__}: {error}"))
            request = None
            while conn.poll():  # only the newest of the requests waiting counts
                request = conn.recv()
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        return


class SweepWorker(QThread):
    """Runs sweeps one at a time; :meth:`submit` supersedes whatever is running."""

    progress = pyqtSignal(str)
    partial = pyqtSignal(object)  # the JitterSweep so far
    step_ready = pyqtSignal(object)  # the StepSweep, just before finished_sweep
    finished_sweep = pyqtSignal(object)  # the complete JitterSweep
    errored = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: SweepRequest | None = None
        self._serial = 0
        self._cancel = False
        self._stopping = False

    def submit(self, problem: Problem, x: float, solvers: Sequence[Solver] = SOLVERS) -> None:
        """Sweep (problem, x) instead of anything running or waiting. Never blocks."""
        with self._lock:
            self._serial += 1
            self._pending = SweepRequest(self._serial, problem, x, tuple(solvers))
            self._cancel = False
        self._wake.set()

    def cancel(self) -> None:
        """End the running sweep (and forget a waiting one). Never blocks."""
        with self._lock:
            self._serial += 1  # whatever the child still sends is stale
            self._pending = None
            self._cancel = True
        self._wake.set()

    def stop(self) -> None:
        """End the sweep, the child and the thread, and wait for them."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        self.wait()

    def _take(self) -> tuple[SweepRequest | None, bool, bool, int]:
        with self._lock:
            taken = (self._pending, self._cancel, self._stopping, self._serial)
            self._pending, self._cancel = None, False
            self._wake.clear()
        return taken

    def run(self) -> None:
        child: Child | None = None
        busy = False
        try:
            while True:
                self._wake.wait(POLL_S if busy else None)
                request, cancel, stopping, serial = self._take()
                if stopping:
                    return
                if cancel and child is not None and busy:
                    child.close()
                    child, busy = None, False
                if cancel:
                    self.cancelled.emit()
                if request is not None:
                    child = self._send(child, request)
                    busy = True
                if child is not None and busy:
                    state = self._drain(child.conn, serial)
                    busy = state == "running"
                    if state == "gone":
                        child.close()
                        child = None
        finally:
            if child is not None:
                child.close()

    @staticmethod
    def _send(child: Child | None, request: SweepRequest) -> Child:
        """Hand ``request`` to the child, starting one when there is none (or it died)."""
        if child is not None:
            try:
                child.conn.send(request)
                return child
            except OSError:  # BrokenPipeError included: it died between sweeps
                child.close()
        child = Child("gradviz sweep", serve_sweep)
        child.conn.send(request)
        return child

    def _drain(self, conn: Connection, serial: int) -> str:
        """Forward every message of request ``serial`` waiting: "running" while its sweep
        goes on, "idle" once it is over, "gone" when the child is."""
        try:
            while conn.poll():
                message = conn.recv()
                if message.serial != serial:
                    continue  # a superseded request's
                if message.kind == "progress":
                    self.progress.emit(message.payload)
                elif message.kind == "partial":
                    self.partial.emit(message.payload)
                elif message.kind == "step":
                    self.step_ready.emit(message.payload)
                elif message.kind == "done":
                    self.finished_sweep.emit(message.payload)
                    return "idle"
                else:
                    self.errored.emit(message.payload)
                    return "idle"
        except (EOFError, OSError):
            self.errored.emit("the sweep process ended without a result")
            return "gone"
        return "running"
