"""The thread that drives child processes for a scheduler: pipes, clock, pause, shutdown.

A :class:`ProcessDriver` owns the parent ends of its children's pipes and the clock. Its
thread waits on the pipes and a wake-up pipe (the GUI thread's requests), turns what it
sees into scheduler events (``_received``, ``_exited``, ``_poll``) and carries out the
actions that come back. Subclasses (the compute worker, the sweep worker) supply the
scheduler and their signals; every decision is the scheduler's.

Pausing: while the user drags the probe, background children are stopped (SIGSTOP) by
this thread. The GUI thread continues them itself (:meth:`_continue_stopped`) before it
asks the thread to resume: a child stopped half-way through sending a message would
otherwise leave this thread blocked in ``recv`` with no one to continue the child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait

from PyQt6.QtCore import QObject, QThread

from gradviz.worker.child import Child, signal_child
from gradviz.worker.messages import ChildReply, ChildRequest

log = logging.getLogger(__name__)

POLL_S = 0.25


class ProcessDriver(QThread):
    """Children by role, a wake-up pipe and the loop; see the module docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped_pids: set[int] = set()  # children this driver stopped (under _lock)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._children: dict[str, Child] = {}  # the worker thread's from here on
        self._adopted: dict[str, Child] = {}  # started before this driver (see adopt)

    # --- GUI thread --------------------------------------------------------------------

    def adopt(self, role: str, child: Child) -> None:
        """Use ``child``, started earlier (e.g. before the window was built, so that it
        loads while Qt does), the first time a child of ``role`` with its target and
        arguments is to start. Call before ``start()``."""
        self._adopted[role] = child

    def stop(self) -> None:
        """Ask the thread to end; it ends its processes. Follow with ``wait()``."""
        self._stopping.set()
        self._continue_stopped()
        self._wake()
        if not self.isRunning() and not self.isFinished():
            self._close_wake_pipe()  # never started: its run() will not close it
            self._close_adopted()

    def _close_adopted(self) -> None:
        for child in self._adopted.values():
            child.close()
        self._adopted.clear()

    def _close_wake_pipe(self) -> None:
        with self._lock:
            if self._wake_write >= 0:
                os.close(self._wake_read)
                os.close(self._wake_write)
                self._wake_write = -1

    def _wake(self) -> None:
        with self._lock:
            if self._wake_write < 0:
                return  # the thread has ended and closed the pipe
            with contextlib.suppress(BlockingIOError):  # full pipe: a wake-up is pending
                os.write(self._wake_write, b"w")

    def _continue_stopped(self) -> None:
        """Continue every child this driver stopped (any thread)."""
        with self._lock:
            for pid in self._stopped_pids:
                signal_child(pid, resume=True)
            self._stopped_pids.clear()

    # --- hooks for subclasses (worker thread) ----------------------------------------------

    def _begin(self, now: float) -> None:
        """The thread starts."""

    def _received(self, role: str, message: ChildReply, now: float) -> None:
        """A child of ``role`` sent ``message``."""

    def _exited(self, role: str, code: int | None, now: float) -> None:
        """A child of ``role`` is gone by itself (its pipe closed)."""

    def _poll(self, now: float) -> None:
        """Once per wake-up or POLL_S: read the GUI thread's requests, check deadlines."""

    def _deadline(self) -> float | None:
        """The monotonic time at which :meth:`_poll` must run again, if any."""
        return None

    # --- worker thread -----------------------------------------------------------------

    def run(self) -> None:
        try:
            self._begin(time.monotonic())
            while not self._stopping.is_set():
                self._step()
        finally:
            for role in list(self._children):
                self._stop_child(role)
            self._close_adopted()
            self._close_wake_pipe()

    def _step(self) -> None:
        deadline = self._deadline()
        timeout = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
        by_conn: dict[Connection, str] = {c.conn: r for r, c in self._children.items()}
        ready = wait([self._wake_read, *by_conn], timeout=max(0.0, timeout))
        if self._stopping.is_set():
            return
        for source in ready:
            role = by_conn.get(source) if isinstance(source, Connection) else None
            if role is None:
                self._drain_wake()
            elif role in self._children and self._children[role].conn is source:
                self._receive(role)
        self._poll(time.monotonic())

    def _receive(self, role: str) -> None:
        child = self._children[role]
        alive, message = child.receive()
        now = time.monotonic()
        if not alive:
            code = child.exit_code()
            self._stop_child(role)
            self._exited(role, code, now)
        elif message is not None:
            self._received(role, message, now)

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_read, 4096):
                pass

    def _start_child(self, role: str, target: Callable[..., None], *args: object) -> bool:
        """Start the child of ``role`` (ending the one before), or take the one adopted for
        it if it runs the same target; False when it cannot start."""
        self._stop_child(role)
        adopted = self._adopted.pop(role, None)
        if adopted is not None:
            if adopted.target is target and adopted.args == args and adopted.process.is_alive():
                self._children[role] = adopted
                return True
            adopted.close()
        try:
            self._children[role] = Child(f"gradviz {role}", target, *args)
        except OSError as error:
            log.error("could not start the %s process: %s", role, error)
            return False
        return True

    def _stop_child(self, role: str) -> None:
        child = self._children.pop(role, None)
        if child is None:
            return
        with self._lock:
            if child.pid is not None:
                self._stopped_pids.discard(child.pid)
        child.close()

    def _send(self, role: str, message: ChildRequest) -> None:
        child = self._children.get(role)
        if child is not None:
            child.send(message)  # a dead child is noticed on its pipe

    def _pause_child(self, role: str, paused: bool) -> None:
        """Stop or continue the child of ``role`` (no child: nothing to do)."""
        child = self._children.get(role)
        if child is None or child.pid is None:
            return
        with self._lock:
            if paused:
                self._stopped_pids.add(child.pid)
            else:
                self._stopped_pids.discard(child.pid)
            signal_child(child.pid, resume=not paused)
