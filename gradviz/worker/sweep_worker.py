"""The jitter sweep in the background: one thread, one spawned process per sweep.

A sweep holds the GIL for seconds (TensorFlow's import, python-flint's solves), so it
runs in a child process, which is also the only way to stop it mid-solve: Cancel, a
newer request or closing the window ends the process. The thread only drives the pipe;
the sweep so far, progress and errors leave as signals. Latest request wins.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from PyQt6.QtCore import QThread, pyqtSignal

from gradviz.core.problem import SOLVERS, Problem, Solver
from gradviz.worker.services import become_child

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")
POLL_S = 0.1
STOP_GRACE_S = 0.5
SWEEP_BUDGET_S = 30.0


@dataclass(frozen=True)
class SweepRequest:
    """What to sweep; immutable, so the thread never reads live GUI state."""

    problem: Problem
    x: float
    solvers: tuple[Solver, ...] = SOLVERS
    budget_s: float = SWEEP_BUDGET_S


@dataclass(frozen=True)
class SweepMessage:
    """From the child: progress text, the sweep so far, the final sweep or an error."""

    kind: str  # "progress", "partial", "done" or "failed"
    payload: object


def serve_sweep(conn: Connection, request: SweepRequest) -> None:
    """Child process: the sweep of ``request``, streamed over ``conn``."""
    become_child()
    from gradviz.core.data import problem_data
    from gradviz.core.sweep import jitter_sweep

    try:
        sweep = jitter_sweep(
            problem_data(request.problem),
            request.x,
            solvers=request.solvers,
            budget_s=request.budget_s,
            on_progress=lambda text: conn.send(SweepMessage("progress", text)),
            on_partial=lambda partial: conn.send(SweepMessage("partial", partial)),
        )
        conn.send(SweepMessage("done", sweep))
    except (BrokenPipeError, EOFError):
        return
    except Exception as error:  # a failure is a result to show
        conn.send(SweepMessage("failed", f"{type(error).__name__}: {error}"))


class SweepWorker(QThread):
    """Runs sweeps one at a time; :meth:`submit` replaces whatever is running."""

    progress = pyqtSignal(str)
    partial = pyqtSignal(object)  # the JitterSweep so far
    finished_sweep = pyqtSignal(object)  # the complete JitterSweep
    errored = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: SweepRequest | None = None
        self._cancel = False
        self._stopping = False

    def submit(self, problem: Problem, x: float, solvers: Sequence[Solver] = SOLVERS) -> None:
        """Sweep (problem, x), ending any sweep still running. Never blocks."""
        with self._lock:
            self._pending = SweepRequest(problem, x, tuple(solvers))
            self._cancel = False
        self._wake.set()

    def cancel(self) -> None:
        """End the running sweep (and forget a pending one). Never blocks."""
        with self._lock:
            self._pending = None
            self._cancel = True
        self._wake.set()

    def stop(self) -> None:
        """End the sweep and the thread, and wait for both."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        self.wait()

    def _take(self) -> tuple[SweepRequest | None, bool, bool]:
        with self._lock:
            request, cancel, stopping = self._pending, self._cancel, self._stopping
            self._pending, self._cancel = None, False
            self._wake.clear()
        return request, cancel, stopping

    def run(self) -> None:
        child: tuple[BaseProcess, Connection] | None = None
        try:
            while True:
                self._wake.wait(POLL_S if child else None)
                request, cancel, stopping = self._take()
                if stopping:
                    return
                if (cancel or request) and child:
                    _end(*child)
                    child = None
                    if cancel:
                        self.cancelled.emit()
                if request is not None:
                    child = _start(request)
                if child and not self._drain(child[1]):
                    child[0].join(STOP_GRACE_S)  # it is exiting: let it, then make sure
                    _end(*child)
                    child = None
        finally:
            if child:
                _end(*child)

    def _drain(self, conn: Connection) -> bool:
        """Forward every message waiting; False once the sweep is over (or its process)."""
        try:
            while conn.poll():
                message = conn.recv()
                if message.kind == "progress":
                    self.progress.emit(message.payload)
                elif message.kind == "partial":
                    self.partial.emit(message.payload)
                elif message.kind == "done":
                    self.finished_sweep.emit(message.payload)
                    return False
                else:
                    self.errored.emit(message.payload)
                    return False
        except (EOFError, OSError):
            self.errored.emit("the sweep process ended without a result")
            return False
        return True


def _start(request: SweepRequest) -> tuple[BaseProcess, Connection]:
    conn, child_end = _SPAWN.Pipe(duplex=False)
    process = _SPAWN.Process(
        target=serve_sweep, args=(child_end, request), name="gradviz sweep", daemon=True
    )
    process.start()
    child_end.close()
    return process, conn


def _end(process: BaseProcess, conn: Connection) -> None:
    """Terminate, then kill what does not go within the grace period."""
    process.terminate()
    process.join(STOP_GRACE_S)
    if process.is_alive():
        process.kill()
        process.join()
    conn.close()
