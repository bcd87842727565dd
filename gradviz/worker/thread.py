"""The GUI's one long-lived worker thread: latest request wins.

The GUI thread only calls :meth:`ComputeWorker.submit` (store the newest
(problem, x), wake the thread) and :meth:`ComputeWorker.stop`; it never waits on
TensorFlow or python-flint. The thread samples the data (numpy), drives the
TensorFlow process and the reference process (see ``servers.py`` for why they are
processes), drops answers that are no longer wanted, and emits immutable records
as signals. Every failure becomes a ``failed`` signal or a cell/panel status; the
thread keeps running.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal

from gradviz.core.data import check_fits_memory
from gradviz.core.diagnosis import Conditioning, diagnose
from gradviz.core.problem import Problem, ProblemError
from gradviz.core.reference import DEFAULT_BUDGET_S
from gradviz.core.results import ProbeReport, ProbeResult, Reference
from gradviz.worker.children import ChildProcess
from gradviz.worker.servers import serve_paths, serve_problem

# A request for a problem nobody wants any more is abandoned (the process restarted)
# once it has run this long; shorter ones are cheaper to let finish.
ABANDON_AFTER_S = 2.0
MAX_CRASHES = 3
POLL_S = 0.25
REFERENCES_KEPT = 256


@dataclass(frozen=True)
class DataReady:
    """The sample of a problem, for the data plot."""

    problem: Problem
    grid: np.ndarray  # [n]
    y: np.ndarray  # [n]


@dataclass(frozen=True)
class Progress:
    """A background task's state in words; ``busy`` while it is still running."""

    task: str
    message: str
    busy: bool


@dataclass(frozen=True)
class _Request:
    problem: Problem
    x: float


@dataclass
class _Paths:
    """Bookkeeping of the TensorFlow process."""

    child: ChildProcess
    ready: bool = False
    data_for: Problem | None = None
    in_flight: tuple[str, Problem, float] | None = None  # kind, problem, time sent
    last_sent: str = ""
    crashes: int = 0


@dataclass
class _ReferenceState:
    """Bookkeeping of the current problem's process: its sample, cond(K), reference."""

    child: ChildProcess | None
    note: str
    solved: bool = False
    in_flight: float | None = None
    conditioning: Conditioning | None = None


class ComputeWorker(QThread):
    """Owns the compute processes; emits data, curves, probe reports and progress."""

    data_ready = pyqtSignal(object)  # DataReady
    curves_ready = pyqtSignal(object)  # Curves
    report_ready = pyqtSignal(object)  # ProbeReport
    progress = pyqtSignal(object)  # Progress
    failed = pyqtSignal(str)

    def __init__(
        self,
        reference_budget_s: float = DEFAULT_BUDGET_S,
        with_reference: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._budget_s = reference_budget_s
        self._with_reference = with_reference
        self._lock = threading.Lock()
        self._latest: _Request | None = None
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        # Owned by the worker thread from here on.
        self._problem: Problem | None = None
        self._problem_error: str | None = None
        self._y: np.ndarray | None = None
        self._paths: _Paths | None = None
        self._reference = _ReferenceState(child=None, note="")
        self._references: dict[float, Reference] = {}
        self._result: ProbeResult | None = None
        self._probed: tuple[Problem, float] | None = None
        self._curves_for: Problem | None = None

    # --- GUI thread --------------------------------------------------------------------

    def submit(self, problem: Problem, x: float) -> None:
        """Ask for ``problem`` at ``x``; replaces any request not yet started."""
        with self._lock:
            self._latest = _Request(problem, x)
        self._wake()

    def stop(self) -> None:
        """Ask the thread to end; it kills its processes. Follow with ``wait()``."""
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
        self._start_paths(crashes=0, why="")
        try:
            while not self._stopping.is_set():
                self._step()
        finally:
            for child in (self._paths and self._paths.child, self._reference.child):
                if child is not None:
                    child.close()
            with self._lock:
                os.close(self._wake_read)
                os.close(self._wake_write)
                self._wake_write = -1

    def _step(self) -> None:
        waitables: list = [self._wake_read]
        if self._paths is not None:
            waitables.append(self._paths.child.conn)
        if self._reference.child is not None:
            waitables.append(self._reference.child.conn)
        for ready in wait(waitables, timeout=POLL_S):
            if ready == self._wake_read:
                self._drain_wake()
            elif self._paths is not None and ready is self._paths.child.conn:
                self._on_paths_message(self._paths.child.receive())
            elif self._reference.child is not None and ready is self._reference.child.conn:
                self._on_reference_message(self._reference.child.receive())
        if self._stopping.is_set():
            return
        with self._lock:
            request = self._latest
        if request is None:
            return
        if request.problem != self._problem:
            self._switch_problem(request.problem)
        if self._problem_error is None and self._y is not None:
            if self._paths is not None:
                self._dispatch_paths(request)
            self._dispatch_reference(request)

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def _progress(self, task: str, message: str, busy: bool) -> None:
        self.progress.emit(Progress(task, message, busy))

    # --- problem changes ---------------------------------------------------------------

    def _switch_problem(self, problem: Problem) -> None:
        """Forget the old problem's results, kill its process, start the new one's."""
        self._problem = problem
        self._y = None
        self._result, self._probed, self._curves_for = None, None, None
        self._references.clear()
        if self._reference.child is not None:
            self._reference.child.close()
        self._reference = _ReferenceState(child=None, note="")
        try:
            check_fits_memory(problem)
        except ProblemError as error:
            self._fail_problem(str(error))
            return
        self._problem_error = None
        budget = self._budget_s if self._with_reference else None
        try:
            child = ChildProcess(serve_problem, problem, budget)
        except OSError as error:
            self._fail_problem(f"could not start a process for the problem: {error}")
            return
        note = "reference: starting…" if self._with_reference else "reference off"
        self._reference = _ReferenceState(child=child, note=note)
        self._progress("data", f"Sampling the data (n = {problem.n})…", busy=True)

    def _fail_problem(self, message: str) -> None:
        self._problem_error = message
        self._progress("data", "", busy=False)
        self.failed.emit(message)

    # --- TensorFlow process ------------------------------------------------------------

    def _dispatch_paths(self, request: _Request) -> None:
        paths = self._paths
        if paths.in_flight is not None:
            kind, problem, sent = paths.in_flight
            if problem != self._problem and time.monotonic() - sent > ABANDON_AFTER_S:
                self._restart_paths(f"abandoned a stale {kind} of {problem.summary()}")
            return
        if not paths.ready:
            return
        if paths.data_for != self._problem:
            paths.child.send(("data", self._problem, self._y))
            paths.data_for = self._problem
        probe_wanted = self._probed != (self._problem, request.x)
        curves_wanted = self._curves_for != self._problem
        if curves_wanted and (not probe_wanted or paths.last_sent == "probe"):
            self._curves_for = self._problem
            self._send_paths(("curves", self._problem))
            self._progress("curves", "Computing curves…", busy=True)
        elif probe_wanted:
            self._probed = (self._problem, request.x)
            self._send_paths(("probe", self._problem, request.x))

    def _send_paths(self, message: tuple) -> None:
        paths = self._paths
        paths.in_flight = (message[0], message[1], time.monotonic())
        paths.last_sent = message[0]
        if not paths.child.send(message):
            self._restart_paths("the TensorFlow process stopped")

    def _restart_paths(self, why: str) -> None:
        self._paths.child.close()
        self._probed, self._curves_for = None, None
        self._start_paths(self._paths.crashes, why)

    def _start_paths(self, crashes: int, why: str) -> None:
        """Start the TensorFlow process, unless it keeps dying: then say so and stop trying."""
        self._paths = None
        if crashes >= MAX_CRASHES:
            self.failed.emit(f"the TensorFlow process failed {crashes} times (last: {why})")
            return
        try:
            self._paths = _Paths(ChildProcess(serve_paths), crashes=crashes)
        except OSError as error:
            self.failed.emit(f"could not start the TensorFlow process: {error}")
            return
        message = f"Restarting TensorFlow ({why})…" if why else "Loading TensorFlow…"
        self._progress("tensorflow", message, busy=True)

    def _on_paths_message(self, message: tuple | None) -> None:
        paths = self._paths
        if message is None:
            code = paths.child.exit_code()
            paths.crashes += 1
            self.failed.emit(f"the TensorFlow process exited (code {code}); restarting it")
            self._restart_paths(f"exit code {code}")
            return
        kind = message[0]
        if kind == "ready":
            paths.ready = True
            self._progress("tensorflow", f"TensorFlow ready ({message[1]:.1f} s)", busy=False)
            return
        paths.in_flight = None
        if kind == "probe":
            paths.crashes = 0
            result: ProbeResult = message[1]
            if result.problem == self._problem:
                self._result = result
                self._emit_report()
        elif kind == "curves":
            self._progress("curves", "", busy=False)
            if message[1].problem == self._problem:
                self.curves_ready.emit(message[1])
        elif kind == "error":
            self._progress("curves", "", busy=False)
            self.failed.emit(f"{message[1][0]} failed: {message[2]}")

    # --- reference process -------------------------------------------------------------

    def _dispatch_reference(self, request: _Request) -> None:
        state = self._reference
        if state.child is None or not state.solved or state.in_flight is not None:
            return
        if request.x not in self._references:
            state.in_flight = request.x
            state.child.send(("eval", request.x))

    def _on_reference_message(self, message: tuple | None) -> None:
        state = self._reference
        if message is None:
            state.note = f"reference: process ended (code {state.child.exit_code()})"
            state.child.close()
            state.child = None
            self._progress("reference", "", busy=False)
            if self._y is None:
                self._fail_problem(f"the data process ended before sampling ({state.note})")
        elif message[0] == "sample":
            _, grid, self._y = message
            self._progress("data", "", busy=False)
            self.data_ready.emit(DataReady(self._problem, grid, self._y))
            if self._with_reference:
                self._progress("reference", "Reference: starting…", busy=True)
            return
        elif message[0] == "error" and message[1][0] == "sample":
            self._fail_problem(f"could not sample the data: {message[2]}")
            return
        elif message[0] == "conditioning":
            state.conditioning = message[1]
        elif message[0] == "progress":
            state.note = message[1]
            self._progress("reference", message[1], busy=True)
        elif message[0] == "solved":
            state.solved = True
            state.note = ""
            self._progress("reference", "", busy=False)
        elif message[0] == "reference":
            state.in_flight = None
            if len(self._references) >= REFERENCES_KEPT:
                self._references.clear()
            self._references[message[1]] = message[2]
        elif message[0] == "error":
            state.note = f"reference failed: {message[2]}"
            self._progress("reference", "", busy=False)
        self._emit_report()

    def _emit_report(self) -> None:
        result = self._result
        if result is None:
            return
        reference = self._references.get(result.x)
        state = self._reference
        note = "" if reference is not None else state.note or "reference: pending…"
        pending = reference is None and state.child is not None and self._with_reference
        diagnosis = diagnose(result, reference, state.conditioning)
        self.report_ready.emit(ProbeReport(result, reference, note, diagnosis, pending))
